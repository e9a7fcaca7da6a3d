//! Fan-outs: the message a `FanoutStart` carries, and the engine's progress and report as stream events.

use super::IntoModel;
use crate::pb;
use crate::pb::fanout_event::Kind;
use tim_model::ValidationErrors;
use tim_model::c2c::BatchSendMsgRequest;
use tim_transport::fanout::{Failure, Settled};
use tim_transport::{FanoutProgress, FanoutReport};

/// The message of a fan-out: `message` (of `FanoutStart`) with its `to_account` ignored, as a model request with
/// no recipients (the engine gives each chunk its own). Errors name fields by their REST path; map them with
/// [`fanout_message_path`].
pub(crate) fn message_for_fanout(
    mut message: pb::BatchSendMsgRequest,
) -> Result<BatchSendMsgRequest, ValidationErrors> {
    message.to_account.clear();
    message.into_model()
}

/// This API's path of a REST path of a fan-out's message: `MsgBody[0].MsgContent.Text` →
/// `start.message.msg_body[0].text.text`; the whole message (the empty path) is `start.message`.
pub(crate) fn fanout_message_path(message: &pb::BatchSendMsgRequest, rest_path: &str) -> String {
    let path = message.proto_path(rest_path);
    if path.is_empty() { "start.message".to_owned() } else { format!("start.message.{path}") }
}

/// Counters while a fan-out runs, as an event. (Failures by code are only in the final report.)
pub(crate) fn fanout_progress(progress: &FanoutProgress) -> pb::FanoutEvent {
    pb::FanoutEvent {
        kind: Some(Kind::Progress(pb::FanoutProgress {
            read: progress.read,
            delivered: progress.delivered,
            failed: progress.failed,
            duplicates: progress.duplicates,
            pending: progress.pending,
            outcome_unknown: progress.outcome_unknown,
            invalid: progress.invalid,
            resolved: progress.resolved,
        })),
    }
}

/// Settled entries as one `FailureBatch` event: duplicates by their line, the others as recipient failures.
pub(crate) fn failure_batch(settled: Vec<Failure>) -> pb::FanoutEvent {
    pb::FanoutEvent { kind: Some(Kind::Failures(failures(settled))) }
}

/// Settled entries as one `FailureBatch`.
pub(crate) fn failures(settled: Vec<Failure>) -> pb::FailureBatch {
    let mut batch = pb::FailureBatch::default();
    for failure in settled {
        push_failure(&mut batch, failure);
    }
    batch
}

fn push_failure(batch: &mut pb::FailureBatch, failure: Failure) {
    if failure.status == Settled::Duplicate {
        batch.duplicates.push(failure.user_id);
        return;
    }
    batch.failures.push(pb::RecipientFailure {
        user_id: failure.user_id,
        error_code: failure.code.unwrap_or(0),
        reason: failure.reason,
        outcome_unknown: failure.outcome_unknown,
        line: if failure.status == Settled::Invalid { failure.line.unwrap_or(0) } else { 0 },
    });
}

/// The end of a fan-out as events: the failed recipients, then the duplicate lines, in `FailureBatch`es of at
/// most `batch` entries each (1 when 0), then one `FanoutReport`, always last.
pub(crate) fn fanout_report_events(report: FanoutReport, batch: usize) -> Vec<pb::FanoutEvent> {
    let batch = batch.max(1);
    let entries = report.failures.len() + report.duplicates.len();
    let mut events = Vec::with_capacity(entries.div_ceil(batch) + 1);
    let mut current = pb::FailureBatch::default();
    let mut flush = |current: &mut pb::FailureBatch, force: bool| {
        let size = current.failures.len() + current.duplicates.len();
        if size >= batch || (force && size > 0) {
            events.push(pb::FanoutEvent { kind: Some(Kind::Failures(std::mem::take(current))) });
        }
    };
    for failure in report.failures {
        push_failure(&mut current, failure);
        flush(&mut current, false);
    }
    for duplicate in report.duplicates {
        current.duplicates.push(duplicate);
        flush(&mut current, false);
    }
    flush(&mut current, true);
    events.push(pb::FanoutEvent {
        kind: Some(Kind::Report(pb::FanoutReport {
            read: report.read,
            delivered: report.delivered,
            failed: report.failed,
            duplicates: report.duplicate_lines,
            failed_by_code: report.failed_by_code.into_iter().collect(),
            chunks: report.chunks,
            cancelled: report.cancelled,
            outcome_unknown: report.outcome_unknown,
            invalid: report.invalid,
            resolved: report.resolved,
        })),
    });
    events
}
