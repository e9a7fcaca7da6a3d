//! The HTTPS transport to Tencent Cloud Chat's REST API.
//!
//! This crate will own the one pooled client (hyper and rustls), region endpoints, timeouts, retries that never
//! duplicate a message, per-command quota pacing, and the batch fan-out engine. It is the only crate that opens
//! sockets to Tencent. It builds on `tim-model` and `tim-sig` and knows nothing about gRPC.
//!
//! Not built yet: this crate holds only its charter.
