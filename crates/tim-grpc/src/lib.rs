//! The gRPC gateway: tim's power for Go, Java and other callers.
//!
//! [`Gateway`] serves the `tim.v1` API (`proto/tim/v1`): typed RPCs for the sending, recall, account and group
//! APIs, the streaming fan-out, and a generic call for any of the 143 REST commands, all through one
//! `tim-transport` [`Client`](tim_transport::Client) (so pacing, retries and validation are the library's). Callers
//! authenticate with bearer tokens (`auth`); gRPC health and reflection are served beside; failures become gRPC
//! statuses in one place (`error`); protobuf and `tim-model` meet in one module (`convert`).
//! This is the only crate that knows `tonic::Status`.

pub mod auth;
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
