//! The gRPC gateway: tim's power for Go, Java and other callers.
//!
//! [`Gateway`] serves the `tim.v1` API (`proto/tim/v1`): typed RPCs for the sending, recall, account and group
//! APIs, the streaming fan-out, and a generic call for any of the 143 REST commands, all through one
//! `tim-transport` [`Client`](tim_transport::Client) (so pacing, retries and validation are the library's). Callers
//! authenticate with bearer tokens ([`Caller`]); gRPC health and reflection are served beside; failures become gRPC
//! statuses in one place (`error`); protobuf and `tim-model` meet in one module (`convert`).
//! This is the only crate that knows `tonic::Status`.
//!
//! Two ways to run it: [`Gateway::serve`] on a listener of its own (health, reflection and TLS included, as
//! `tim serve` does), or [`Gateway::embed`] to add its services to a tonic server of one's own:
//!
//! ```
//! use tim_grpc::{Caller, Gateway, GatewayOptions};
//! use tim_sig::SecretKey;
//! use tim_transport::{Client, ClientConfig, Endpoint};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ClientConfig::new(Endpoint::BaseUrl("http://127.0.0.1:8080".into()));
//! let client = Client::new(1_400_000_000, "administrator", SecretKey::new("console-secret")?, config)?;
//! let mut options = GatewayOptions::new(vec![Caller::with_token("billing", "a-long-random-token")]);
//! options.max_concurrent_per_caller = 64;
//! let embedded = Gateway::new(client, options)?.embed().await?;
//! let router = tonic::transport::Server::builder().add_routes(embedded.routes());
//! # drop(router);
//! # embedded.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! `examples/embedded_gateway.rs` runs it end to end, with a client calling through it.
//!
//! # Feature flags
//!
//! None of its own; jobs in PostgreSQL come with `tim-jobs`' default `postgres` feature.
//!
//! # Stability
//!
//! The gRPC API (`proto/tim/v1`) is the stable surface: field numbers and names of existing messages do not
//! change. In Rust, [`Gateway`], [`EmbeddedGateway`], [`GatewayOptions`], [`Caller`], [`Metrics`] and
//! [`config`] are the crate's API; [`pb`] is generated from the protos and follows them; [`Error`] is
//! `#[non_exhaustive]`.

mod auth;
pub mod config;
mod convert;
pub mod error;
mod fanout;
mod gateway;
mod jobs;
pub mod metrics;
mod service;

pub use auth::Caller;
pub use error::Error;
pub use gateway::{
    DEFAULT_MAX_CONCURRENT_PER_CALLER, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_SHUTDOWN_GRACE, EmbeddedGateway, Gateway,
    GatewayOptions, ShutdownReport, TlsPem,
};
pub use jobs::{DEFAULT_JOB_LEASE, PostgresJobs};
pub use metrics::{METRICS_HEADER_TIMEOUT, Metrics, serve_metrics};

/// The generated protobuf types and tonic services of `tim.v1` (`proto/tim/v1`).
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod pb {
    tonic::include_proto!("tim.v1");

    /// The encoded `FileDescriptorSet` of `tim.v1`, served by reflection and shipped by `cargo xtask release`.
    pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tim_v1_descriptor.bin"));

    impl MsgElement {
        /// A text element (`TIMTextElem`), the most common message.
        pub fn text(text: impl Into<String>) -> Self {
            Self { elem: Some(msg_element::Elem::Text(TextElem { text: text.into() })) }
        }
    }
}
