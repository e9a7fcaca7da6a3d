//! The HTTPS transport to Tencent Cloud Chat's REST API.
//!
//! This crate owns the one pooled client (hyper and rustls), region endpoints, timeouts, retries that never
//! duplicate a message, per-command quota pacing, and the batch fan-out engine. It is the only crate that opens
//! sockets to Tencent. It builds on `tim-model` and `tim-sig` and knows nothing about gRPC.
//!
//! Entry points: [`Client`] (typed and generic calls) and [`fanout`] (one message to any number of users).

mod client;
pub mod config;
mod departure;
pub mod error;
pub mod fanout;
mod http;
pub mod pacing;
pub mod retry;

pub use client::{Client, FAILOVER_COOLDOWN, UserSigProvider};
pub use config::{ClientConfig, Endpoint, Region, SharedQuotaConfig};
pub use departure::Fence;
pub use error::{BuildError, Error};
pub use fanout::{CancelHandle, Fanout, FanoutOptions, FanoutProgress, FanoutReport};
pub use retry::TransportStats;
