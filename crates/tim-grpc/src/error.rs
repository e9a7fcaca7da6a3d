//! The one place where failures become gRPC statuses.
//!
//! | failure | code |
//! |---|---|
//! | the request breaks a documented rule (before anything is sent) | `INVALID_ARGUMENT`, each field named |
//! | Tencent refused for the rate (60007, 10023, ...) after the retries allowed | `RESOURCE_EXHAUSTED` |
//! | Tencent did not answer in time | `DEADLINE_EXCEEDED` |
//! | no connection, broken connection, HTTP 5xx, a transient code after the retries allowed | `UNAVAILABLE` |
//! | Tencent refused: no such account / group / message | `NOT_FOUND` |
//! | Tencent refused: already exists | `ALREADY_EXISTS` |
//! | Tencent refused: not allowed | `PERMISSION_DENIED` |
//! | Tencent refused the request's content | `INVALID_ARGUMENT` |
//! | Tencent refused for another reason (configuration, edition, the gateway's key) | `FAILED_PRECONDITION` |
//! | an unreadable answer | `INTERNAL` |
//!
//! Every status carries the command, Tencent's `ErrorCode` and `ErrorInfo`, and whether the outcome is unknown, in
//! two forms: the trailers `tim-command`, `tim-error-code`, `tim-error-info` (percent-encoded UTF-8) and
//! `tim-outcome-unknown`, and `grpc-status-details-bin` holding a `google.rpc.Status` whose details hold one
//! `tim.v1.ErrorDetail`. The same `google.rpc.Status` also holds the standard details that Go's
//! `status.FromError(err).Details()`, Java's `StatusProto.fromThrowable` and Python's `grpc_status` decode
//! with no tim stubs: a `google.rpc.ErrorInfo` (domain [`ERROR_DOMAIN`], a `reason` below, and the same facts in
//! its metadata: `command`, `errorCode`, `errorInfo`, `outcomeUnknown`, `requestRandom`) and, for an invalid
//! request, a `google.rpc.BadRequest` with one field violation per broken rule.
//!
//! | `reason` | when |
//! |---|---|
//! | `INVALID_REQUEST` | the request breaks a documented rule; nothing was sent |
//! | `OUTCOME_UNKNOWN` | the call may have acted and no answer said so: check before sending it again |
//! | `TENCENT_REFUSED` | Tencent answered with an `ErrorCode` (in the metadata) |
//! | `TENCENT_TIMED_OUT` | Tencent did not answer in time |
//! | `TENCENT_UNREACHABLE` | no connection to Tencent, or it broke, or HTTP 5xx |
//! | `TENCENT_ANSWER_UNREADABLE` | an answer that is not the documented one |
//! | `NOT_SENT` | the gateway could not send the call (its configuration, credentials or request) |
//!
//! A call whose outcome is unknown keeps the code of what happened to it
//! (`DEADLINE_EXCEEDED` or `UNAVAILABLE`) and says so in both forms and in the message.

use crate::pb::{ErrorDetail, FieldViolation};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use prost::Message;
use tim_model::ValidationErrors;
use tim_model::catalog::RetryClass;
use tim_transport::Error as TransportError;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Status};

/// Why the gateway could not start or serve.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The server failed while serving.
    #[error("serving: {0}")]
    Serve(String),
}

/// `google.rpc.Status`, the standard envelope of `grpc-status-details-bin`.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
struct Any {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// The type URL of [`ErrorDetail`] inside `google.rpc.Status.details`.
pub const ERROR_DETAIL_TYPE_URL: &str = "type.googleapis.com/tim.v1.ErrorDetail";
/// The type URL of the standard `google.rpc.ErrorInfo`.
const ERROR_INFO_TYPE_URL: &str = "type.googleapis.com/google.rpc.ErrorInfo";
/// The type URL of the standard `google.rpc.BadRequest`.
const BAD_REQUEST_TYPE_URL: &str = "type.googleapis.com/google.rpc.BadRequest";
/// The `domain` of every `google.rpc.ErrorInfo` the gateway sends.
pub const ERROR_DOMAIN: &str = "tim.v1";

/// The `reason` of the `google.rpc.ErrorInfo` of a status (see the module documentation).
fn reason(code: Code, detail: &ErrorDetail) -> &'static str {
    if !detail.violations.is_empty() {
        "INVALID_REQUEST"
    } else if detail.outcome_unknown {
        "OUTCOME_UNKNOWN"
    } else if detail.error_code != 0 {
        "TENCENT_REFUSED"
    } else {
        match code {
            Code::DeadlineExceeded => "TENCENT_TIMED_OUT",
            Code::Unavailable => "TENCENT_UNREACHABLE",
            Code::Internal => "TENCENT_ANSWER_UNREADABLE",
            _ => "NOT_SENT",
        }
    }
}

/// The standard details of a status: `google.rpc.ErrorInfo`, then `google.rpc.BadRequest` for broken rules.
fn standard_details(code: Code, detail: &ErrorDetail) -> Vec<Any> {
    let mut metadata = std::collections::HashMap::new();
    if !detail.command.is_empty() {
        metadata.insert("command".to_owned(), detail.command.clone());
    }
    if detail.error_code != 0 {
        metadata.insert("errorCode".to_owned(), detail.error_code.to_string());
        metadata.insert("errorInfo".to_owned(), detail.error_info.clone());
    }
    metadata.insert("outcomeUnknown".to_owned(), detail.outcome_unknown.to_string());
    if detail.request_random != 0 {
        metadata.insert("requestRandom".to_owned(), detail.request_random.to_string());
    }
    let info = tonic_types::pb::ErrorInfo {
        reason: reason(code, detail).to_owned(),
        domain: ERROR_DOMAIN.to_owned(),
        metadata,
    };
    let mut details = vec![Any { type_url: ERROR_INFO_TYPE_URL.to_owned(), value: info.encode_to_vec() }];
    if !detail.violations.is_empty() {
        let bad_request = tonic_types::pb::BadRequest {
            field_violations: detail
                .violations
                .iter()
                .map(|violation| tonic_types::pb::bad_request::FieldViolation {
                    field: violation.field.clone(),
                    description: violation.description.clone(),
                    ..Default::default()
                })
                .collect(),
        };
        details.push(Any { type_url: BAD_REQUEST_TYPE_URL.to_owned(), value: bad_request.encode_to_vec() });
    }
    details
}

/// Builds a status with its detail in both forms.
pub(crate) fn status(code: Code, message: String, detail: ErrorDetail) -> Status {
    let mut details = vec![Any { type_url: ERROR_DETAIL_TYPE_URL.to_owned(), value: detail.encode_to_vec() }];
    details.extend(standard_details(code, &detail));
    let envelope = RpcStatus { code: code as i32, message: message.clone(), details };
    let mut metadata = MetadataMap::new();
    if !detail.command.is_empty()
        && let Ok(value) = MetadataValue::try_from(detail.command.as_str())
    {
        metadata.insert("tim-command", value);
    }
    if detail.error_code != 0 {
        metadata.insert("tim-error-code", MetadataValue::from(detail.error_code));
        if let Ok(value) = MetadataValue::try_from(percent_encode(&detail.error_info)) {
            metadata.insert("tim-error-info", value);
        }
    }
    if detail.outcome_unknown {
        metadata.insert("tim-outcome-unknown", MetadataValue::from_static("true"));
    }
    Status::with_details_and_metadata(code, message, envelope.encode_to_vec().into(), metadata)
}

/// Reads the [`ErrorDetail`] back out of a status made here (for clients and tests).
pub fn error_detail(status: &Status) -> Option<ErrorDetail> {
    let envelope = RpcStatus::decode(status.details()).ok()?;
    let any = envelope.details.into_iter().find(|any| any.type_url == ERROR_DETAIL_TYPE_URL)?;
    ErrorDetail::decode(any.value.as_slice()).ok()
}

/// `INVALID_ARGUMENT` for broken rules, naming each field by this API's path (`proto_path` maps a REST JSON path).
pub(crate) fn invalid(command: &str, errors: &ValidationErrors, proto_path: &dyn Fn(&str) -> String) -> Status {
    let violations: Vec<FieldViolation> = errors
        .errors()
        .iter()
        .map(|error| {
            let field = if error.field().is_empty() { String::new() } else { proto_path(error.field()) };
            FieldViolation { field, rest_field: error.field().to_owned(), description: error.detail() }
        })
        .collect();
    let listed: Vec<String> = violations
        .iter()
        .map(|v| {
            if v.field.is_empty() {
                format!("request {}", v.description)
            } else {
                format!("{} {}", v.field, v.description)
            }
        })
        .collect();
    let message = format!("invalid request: {}", listed.join("; "));
    status(
        Code::InvalidArgument,
        message,
        ErrorDetail { command: command.to_owned(), violations, ..ErrorDetail::default() },
    )
}

/// `INVALID_ARGUMENT` for a request the gateway cannot use at all (no command, no body), naming the field.
pub(crate) fn bad_field(field: &str, description: impl Into<String>) -> Status {
    let description = description.into();
    let violation =
        FieldViolation { field: field.to_owned(), rest_field: String::new(), description: description.clone() };
    status(
        Code::InvalidArgument,
        format!("invalid request: {field} {description}"),
        ErrorDetail { violations: vec![violation], ..ErrorDetail::default() },
    )
}

/// The status of a failed transport call. `proto_path` names fields of invalid requests.
pub(crate) fn from_transport(error: &TransportError, proto_path: &dyn Fn(&str) -> String) -> Status {
    let command = error.command().to_owned();
    if let TransportError::Invalid { command, errors } = error {
        return invalid(command, errors, proto_path);
    }
    let outcome_unknown = error.is_outcome_unknown();
    let cause = match error {
        TransportError::OutcomeUnknown { last, .. } => last.as_ref(),
        other => other,
    };
    let (code, error_code, error_info) = match cause {
        TransportError::Refused { code, info, class, .. } => (refused_code(*code, *class), *code, info.clone()),
        TransportError::TimedOut { .. } => (Code::DeadlineExceeded, 0, String::new()),
        TransportError::Connect { .. } | TransportError::NoResponse { .. } => (Code::Unavailable, 0, String::new()),
        TransportError::Unreadable { .. } => (Code::Internal, 0, String::new()),
        TransportError::NotSent { .. } | TransportError::Invalid { .. } | TransportError::OutcomeUnknown { .. } => {
            (Code::FailedPrecondition, 0, String::new())
        }
        _ => (Code::Unknown, 0, String::new()),
    };
    // The transport's messages name the command and never hold a URL, a UserSig or a key.
    let message = error.to_string();
    let request_random = error.request_random().unwrap_or(0);
    let detail =
        ErrorDetail { command, error_code, error_info, outcome_unknown, violations: Vec::new(), request_random };
    status(code, message, detail)
}

/// The code of a refusal by Tencent that the retries could not overcome.
fn refused_code(code: i64, class: RetryClass) -> Code {
    match class {
        RetryClass::RateLimited => return Code::ResourceExhausted,
        RetryClass::Transient => return Code::Unavailable,
        RetryClass::RefreshUserSig => return Code::FailedPrecondition,
        RetryClass::Permanent | RetryClass::AlreadyDone => {}
    }
    match code {
        // No such account, recipient, sender, group or message.
        70107 | 90008 | 90012 | 20003 | 10010 | 10019 | 10030 | 20022 => Code::NotFound,
        // The group id is taken.
        10021 => Code::AlreadyExists,
        // Not allowed for this sender, group type or member.
        10007 | 10017 | 90009 => Code::PermissionDenied,
        // The service refused the request's content.
        10003
        | 10004
        | 10015
        | 10020
        | 10053
        | 20001
        | 60003
        | 60015
        | 80001
        | 80002
        | 80004
        | 90001..=90007
        | 90010
        | 90011
        | 90020
        | 90022
        | 90026
        | 93000 => Code::InvalidArgument,
        _ => Code::FailedPrecondition,
    }
}

/// Bytes a metadata value cannot carry as they are: controls, and `%` itself (non-ASCII is always encoded).
const METADATA_VALUE: &AsciiSet = &CONTROLS.add(b'%');

/// Percent-encodes an `ErrorInfo` so that a metadata value can carry any text.
fn percent_encode(text: &str) -> String {
    utf8_percent_encode(text, METADATA_VALUE).to_string()
}

#[cfg(test)]
mod tests;
