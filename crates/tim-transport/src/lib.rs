//! The HTTPS transport to Tencent Cloud Chat's REST API.
//!
//! This crate owns the one pooled client (hyper and rustls), region endpoints, timeouts, retries that never
//! duplicate a message, per-command quota pacing, and the batch fan-out engine. It is the only crate that opens
//! sockets to Tencent. It builds on `tim-model` and `tim-sig` and knows nothing about gRPC.
//!
//! Entry points: [`Client`] (typed calls with [`Client::call`], any command with [`Client::call_json`]) and
//! [`Fanout`] (one message to any number of users, accounting for every one).
//!
//! ```
//! use tim_model::c2c::SendMsgRequest;
//! use tim_model::{MsgBody, UserId};
//! use tim_sig::SecretKey;
//! use tim_transport::{Client, ClientConfig, Endpoint};
//! # use tim_emulator::Emulator;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let clock = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
//! # let emulator = Emulator::builder(1_400_000_000, SecretKey::new("console-secret")?, clock)
//! #     .auto_create_accounts(true)
//! #     .build()?
//! #     .serve(tokio::net::TcpListener::bind("127.0.0.1:0").await?)?;
//! // Against Tencent: Endpoint::Region { region: Region::Singapore, standby: false }. Here, a local emulator.
//! let config = ClientConfig::new(Endpoint::BaseUrl(emulator.base_url()));
//! let client = Client::new(1_400_000_000, "administrator", SecretKey::new("console-secret")?, config)?;
//!
//! let answer = client.call(SendMsgRequest::new(UserId::new("bob")?, MsgBody::text("hello"))).await?;
//! assert!(answer.body.msg_key.is_some());
//! # Ok(())
//! # }
//! ```
//!
//! # Feature flags
//!
//! - `shared-quota` (default): pacing shared by several processes through Redis
//!   ([`ClientConfig::shared_quota`], [`SharedQuotaConfig`]). Without it (`default-features = false`) the crate
//!   builds without a Redis client and every process paces alone.
//!
//! # Stability
//!
//! The items exported at the root are the crate's API: [`Client`], [`ClientConfig`], [`Endpoint`], [`Region`],
//! [`Fanout`] with its options, progress and report, and the errors. [`Error`] is `#[non_exhaustive]`: match it
//! with a catch-all arm. The modules [`pacing`] and [`retry`] expose the policies' knobs and counters; their
//! details ([`pacing::Pacer`]'s methods, the fan-out's [`fanout::Journal`] trait, which `tim-jobs` implements)
//! may change between minor versions while the crate is 0.x. [`Client::send_bytes`] and its variants are for the
//! fan-out and the gateway: they send a body that is already final.

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
