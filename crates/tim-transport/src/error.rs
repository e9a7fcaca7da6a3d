//! The transport's error: where a call failed, and whether it may have taken effect.
//!
//! Every variant keeps the command path. None of them holds the UserSig or the secret key: URLs are never kept.

use bytes::Bytes;
use tim_model::ValidationErrors;
use tim_model::catalog::RetryClass;

/// Why a call did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request was refused before anything was sent: it breaks a documented rule.
    #[error("{command}: not sent, the request is invalid: {errors}")]
    Invalid {
        /// The command path, for example `v4/openim/sendmsg`.
        command: &'static str,
        /// Every broken rule.
        errors: ValidationErrors,
    },
    /// Nothing was sent: the configuration, the credentials or the request body is unusable.
    #[error("{command}: not sent: {reason}")]
    NotSent {
        /// The command path.
        command: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// No connection could be made (the request never left), after every allowed attempt.
    #[error("{command}: could not connect after {attempts} attempt(s): {detail}")]
    Connect {
        /// The command path.
        command: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last connection error.
        detail: String,
    },
    /// The service did not answer in time, after every allowed attempt.
    #[error("{command}: timed out after {attempts} attempt(s)")]
    TimedOut {
        /// The command path.
        command: &'static str,
        /// Attempts made.
        attempts: u32,
    },
    /// The connection broke or the gateway answered with an HTTP error instead of the service's JSON.
    #[error("{command}: no response after {attempts} attempt(s): {detail}")]
    NoResponse {
        /// The command path.
        command: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last failure (for example `HTTP 502`).
        detail: String,
    },
    /// An answer came but could not be read as the service's JSON; its raw body is kept.
    #[error("{command}: unreadable response (HTTP {status}): {detail}")]
    Unreadable {
        /// The command path.
        command: &'static str,
        /// The HTTP status.
        status: u16,
        /// Why it could not be read.
        detail: String,
        /// The body as received.
        raw: Bytes,
    },
    /// The service answered with a non-zero `ErrorCode`.
    #[error("{command}: the service refused with {code}: {info} (request random {random})")]
    Refused {
        /// The command path.
        command: &'static str,
        /// `ErrorCode`.
        code: i64,
        /// `ErrorInfo`.
        info: String,
        /// How the catalog classifies the code.
        class: RetryClass,
        /// The whole answer, for its other fields.
        raw: Bytes,
        /// The URL's `random` of the request that got this answer: Tencent support asks for it.
        random: u32,
    },
    /// The call may or may not have taken effect (it was sent, no answer said which), and retrying it could act
    /// twice, so it was not retried. Distinct from a failure: check before sending again.
    #[error("{command}: outcome unknown ({why}): {last}")]
    OutcomeUnknown {
        /// The command path.
        command: &'static str,
        /// Why it was not (or no longer) retried.
        why: &'static str,
        /// What happened to the last attempt.
        last: Box<Error>,
    },
}

impl Error {
    /// The service's `ErrorCode`, when the service answered with one.
    pub fn service_code(&self) -> Option<i64> {
        match self {
            Self::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The URL's `random` of the request the service refused (Tencent support asks for it), when it answered.
    pub fn request_random(&self) -> Option<u32> {
        match self {
            Self::Refused { random, .. } => Some(*random),
            Self::OutcomeUnknown { last, .. } => last.request_random(),
            _ => None,
        }
    }

    /// Records the `random` of the request that got the answer.
    pub(crate) fn set_request_random(&mut self, value: u32) {
        match self {
            Self::Refused { random, .. } => *random = value,
            Self::OutcomeUnknown { last, .. } => last.set_request_random(value),
            _ => {}
        }
    }

    /// Whether the call may have taken effect although it did not succeed.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Self::OutcomeUnknown { .. })
    }

    /// The command path the error concerns.
    pub fn command(&self) -> &'static str {
        match self {
            Self::Invalid { command, .. }
            | Self::NotSent { command, .. }
            | Self::Connect { command, .. }
            | Self::TimedOut { command, .. }
            | Self::NoResponse { command, .. }
            | Self::Unreadable { command, .. }
            | Self::Refused { command, .. }
            | Self::OutcomeUnknown { command, .. } => command,
        }
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the client: {0}")]
pub struct BuildError(pub(crate) String);
