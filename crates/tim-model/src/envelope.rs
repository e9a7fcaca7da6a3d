//! The response envelope every REST answer carries, spec §1.3.
//!
//! Tencent answers HTTP 200 with `ActionStatus`, `ErrorCode` and `ErrorInfo` plus the API's own fields.
//! Success is decided by `ErrorCode == 0`, not by `ActionStatus`: batchsendmsg answers `SomeError` with code 0
//! when only some recipients failed.

use crate::Extra;
use crate::control::open_string_enum;
use serde::{Deserialize, Serialize};

open_string_enum!(
    /// `ActionStatus`: open, because the service has more values than its documentation.
    ActionStatus {
        /// Everything succeeded.
        Ok = "OK",
        /// The call failed.
        Fail = "FAIL",
        /// Partial failure (batchsendmsg): some entries failed, listed in the response.
        SomeError = "SomeError",
    }
);

impl ActionStatus {
    /// The value of an answer that has no `ActionStatus` (its `ErrorCode` says how the call went).
    pub fn absent() -> Self {
        Self::Other(String::new())
    }

    /// Whether the answer had no `ActionStatus`.
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Other(value) if value.is_empty())
    }
}

/// Only the fields of an answer that say whether it succeeded: what a client reads before deciding to retry, without
/// decoding the rest of the body.
///
/// ```
/// use tim_model::envelope::Outcome;
/// let outcome: Outcome = serde_json::from_str(r#"{"ActionStatus":"FAIL","ErrorCode":70107,"ErrorInfo":"no such user","MsgTime":1}"#)?;
/// assert_eq!((outcome.error_code, outcome.error_info.as_str()), (70107, "no such user"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Outcome {
    /// `0` on success; otherwise see [`crate::catalog`].
    #[serde(rename = "ErrorCode", default)]
    pub error_code: i64,
    /// The service's human-readable cause (empty when absent).
    #[serde(rename = "ErrorInfo", default)]
    pub error_info: String,
}

/// A response: the envelope fields and the API's own fields `T` (unknown fields are kept by `T`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response<T> {
    /// `OK`, `FAIL`, `SomeError`, or another value the service sends. A few APIs (the global mute ones) answer
    /// without it: it is then [`ActionStatus::absent`], and stays absent when the answer is written again.
    #[serde(
        rename = "ActionStatus",
        default = "ActionStatus::absent",
        skip_serializing_if = "ActionStatus::is_absent"
    )]
    pub action_status: ActionStatus,
    /// `0` on success; otherwise see [`crate::catalog`].
    #[serde(rename = "ErrorCode", default)]
    pub error_code: i64,
    /// The service's human-readable cause (may be empty or, in some answers, absent).
    #[serde(rename = "ErrorInfo", default, skip_serializing_if = "Option::is_none")]
    pub error_info: Option<String>,
    /// The API's own fields.
    #[serde(flatten)]
    pub body: T,
}

impl<T> Response<T> {
    /// Whether the call succeeded (possibly partially): `ErrorCode` is 0.
    pub fn is_success(&self) -> bool {
        self.error_code == 0
    }

    /// The service's cause, empty when it gave none.
    pub fn error_info_str(&self) -> &str {
        self.error_info.as_deref().unwrap_or_default()
    }
}

impl<T: Default> Response<T> {
    /// A successful response with the given body.
    pub fn ok(body: T) -> Self {
        Self { action_status: ActionStatus::Ok, error_code: 0, error_info: Some(String::new()), body }
    }

    /// A failed response with the given code and cause and a default body.
    pub fn fail(error_code: i64, error_info: impl Into<String>) -> Self {
        Self { action_status: ActionStatus::Fail, error_code, error_info: Some(error_info.into()), body: T::default() }
    }
}

/// The body of a response that has no fields of its own beyond the envelope (unknown ones are kept).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NoFields {
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A response that carries only the envelope.
pub type EmptyResponse = Response<NoFields>;
