//! The gRPC gateway: tim's power served to Go, Java and any other gRPC caller.
//!
//! This crate will own the tonic server, the protobuf types generated from `proto/`, the conversions between them
//! and `tim-model`, caller authentication, health and reflection. It is the only crate that knows `tonic::Status`.
//!
//! Not built yet: this crate holds only its charter.
