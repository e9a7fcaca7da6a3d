//! Tencent Cloud Chat's REST JSON, as types: message elements, requests and responses, validation of the
//! documented limits with field-level errors, the error-code catalog, and the command table that declares every
//! REST command once.
//!
//! This crate is pure data and rules. It knows nothing about HTTP, sockets, async runtimes, TLS or protobuf, and
//! it never reads the clock or the environment: the transport, the emulator and the gateway build on it.
//!
//! ```
//! use tim_model::c2c::BatchSendMsgRequest;
//! use tim_model::validate::Validate;
//! use tim_model::{MsgBody, UserId};
//!
//! let recipients = (0..501).map(|i| UserId::new(format!("user{i}"))).collect::<Result<Vec<_>, _>>()?;
//! let mut request = BatchSendMsgRequest::new(recipients, MsgBody::text("hello"));
//! request.msg_random = Some(7);
//! let errors = request.validate().unwrap_err();
//! assert_eq!(errors.first().to_string(), "To_Account has 501 entries, at most 500 allowed");
//! # Ok::<(), tim_model::ValidationError>(())
//! ```
//!
//! Where to start: [`command`] (the table of all 143 REST commands: path, quota, idempotency), the typed
//! requests of [`c2c`], [`group_msg`], [`push_all`], [`account`] and [`group`] (each implements
//! [`api::TypedRequest`]), [`validate::Validate`] and [`catalog`] (every documented error code and its retry
//! class).
//!
//! # Feature flags
//!
//! None.
//!
//! # Stability
//!
//! The wire names are Tencent's and do not change. The typed requests and responses keep the fields this version
//! does not know in `extra`, so new fields from Tencent pass through; fields will be added to the structs while
//! the crate is 0.x, so build requests with their constructors (`new`) where they have one. The error types are `#[non_exhaustive]`. Validation messages are
//! for people, not a stable format: match on [`ValidationError::field`] and [`ValidationError::problem`].

pub mod account;
pub mod api;
mod body;
pub mod c2c;
pub mod callback;
pub mod catalog;
pub mod command;
pub mod control;
pub mod elem;
pub mod envelope;
pub mod error;
pub mod global_mute;
pub mod group;
pub mod group_msg;
mod ids;
pub mod profile;
pub mod push;
pub mod push_all;
pub mod registry;
pub mod relationship;
pub mod validate;
mod value;

pub use body::MsgBody;
pub use elem::MsgElement;
pub use error::{Problem, ValidationError, ValidationErrors};
pub use ids::{GroupId, MAX_GROUP_ID_BYTES, MAX_USER_ID_BYTES, UserId};
pub use value::{SnsValue, TextOrNumber};

/// JSON fields a type does not know, kept in the order-independent form `serde_json` gives them.
pub type Extra = serde_json::Map<String, serde_json::Value>;
