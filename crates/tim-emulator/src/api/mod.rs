//! The `/v4` commands the emulator carries out, one module per service, and the answers they give.
//!
//! Routing reads the command table (`tim_model::command::find`) and `routes.rs`, generated from the command
//! declarations (`crates/tim-model/commands/`); no path is spelled here. The emulated commands
//! are exactly those `tim-model` has typed requests for (`tim_model::registry::TYPED_COMMANDS`); every other command
//! of the table is answered `ErrorCode` 60009 with an `ErrorInfo` naming it. Bodies are decoded and validated by
//! `tim-model` before the state lock is taken.

mod account;
mod c2c;
mod global_mute;
mod group;
mod group_msg;
mod profile;
mod push_all;
mod relationship;
mod routes;

use crate::Inner;
use crate::codes;
use crate::state::{State, TableFull};
use crate::stats;
use bytes::Bytes;
use serde::Serialize;
use std::sync::MutexGuard;
use tim_model::api::{TypedRequest, decode_request};
use tim_model::command::{Command, CommandId};
use tim_model::envelope::{ActionStatus, EmptyResponse, Response};
use tim_model::registry::{Checked, check_request_json};

/// What a handler answers: the JSON body (HTTP 200 either way).
pub(crate) type Answer = Result<Bytes, Bytes>;

/// One authenticated call.
pub(crate) struct Ctx<'a> {
    pub(crate) inner: &'a Inner,
    /// The clock's reading for this request.
    pub(crate) now: u64,
    /// The admin identifier of the URL (the default sender).
    pub(crate) identifier: &'a str,
}

impl Ctx<'_> {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock is a bug in the emulator; the state it left is still the best there is.
        self.inner.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn auto_create(&self) -> bool {
        self.inner.auto_create_accounts
    }

    /// Decodes and validates a body with `tim-model`, answering the documented code on failure.
    pub(crate) fn decode<T: TypedRequest>(&self, body: &[u8]) -> Result<T, Bytes> {
        decode_request::<T>(body).map_err(|errors| {
            let (code, info) = codes::for_validation(T::COMMAND, &errors, body);
            fail(code, info)
        })
    }

    /// The deduplication window of `command`, from the command table.
    pub(crate) fn window(command: CommandId) -> u64 {
        crate::dedupe_window(command)
    }

    /// Counts `recipients` against `command`'s recipients-per-minute quota.
    pub(crate) fn admit_recipients(&self, command: CommandId, recipients: usize) -> Result<(), Bytes> {
        self.inner.limiter.admit_recipients(command, recipients, self.now).map_err(|limit| {
            stats::add(&self.inner.counters.rate_limited, 1);
            let (code, info) = limit.answer(command);
            fail(code, info)
        })
    }

    pub(crate) fn stored(&self, counter: &std::sync::atomic::AtomicU64, n: u64) {
        stats::add(counter, n);
    }

    pub(crate) fn duplicates(&self, n: u64) {
        stats::add(&self.inner.counters.duplicates, n);
    }
}

/// Carries out one call of `command` (already authenticated and admitted by the quotas).
pub(crate) fn dispatch(ctx: &Ctx<'_>, command: &'static Command, body: &[u8]) -> Bytes {
    let answer = routes::route(ctx, command.id, body).unwrap_or_else(|| Err(unsupported(ctx, command, body)));
    answer.unwrap_or_else(|refusal| refusal)
}

/// A command of the table without emulated behaviour: the body is still checked like any body (a JSON object),
/// then the call is refused, naming the command.
fn unsupported(ctx: &Ctx<'_>, command: &'static Command, body: &[u8]) -> Bytes {
    stats::add(&ctx.inner.counters.unsupported_commands, 1);
    match check_request_json(command.id, body, None) {
        Ok(Checked::Untyped | Checked::Typed) => fail(
            60009,
            format!(
                "{} ({}) is a command of the REST API that tim-emulator does not emulate",
                command.path, command.name
            ),
        ),
        Err(errors) => fail(60003, format!("request JSON parse error: {errors}")),
    }
}

/// Serializes a response. Our own types always serialize; should one ever fail, the caller gets a transient code.
pub(crate) fn to_bytes<T: Serialize>(response: &Response<T>) -> Bytes {
    match serde_json::to_vec(response) {
        Ok(bytes) => Bytes::from(bytes),
        Err(_) => Bytes::from_static(
            br#"{"ActionStatus":"FAIL","ErrorCode":91000,"ErrorInfo":"tim-emulator could not encode its answer"}"#,
        ),
    }
}

/// `ActionStatus` OK with the API's fields.
pub(crate) fn ok<T: Serialize>(body: T) -> Bytes {
    to_bytes(&Response { action_status: ActionStatus::Ok, error_code: 0, error_info: Some(String::new()), body })
}

/// `ActionStatus` FAIL with `code` and `info`.
pub(crate) fn fail(code: i64, info: impl Into<String>) -> Bytes {
    to_bytes(&EmptyResponse::fail(code, info))
}

/// The message table cannot grow: an internal error, as the service would call it.
pub(crate) fn table_full(_: TableFull) -> Bytes {
    fail(91000, "tim-emulator's message table is full")
}
