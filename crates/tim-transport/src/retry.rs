//! Retries that never duplicate a message.
//!
//! One operation is a series of attempts with the same body. Each attempt waits for the quota, is sent, and its
//! outcome decides what follows:
//!
//! - no connection could be made: nothing left, so a retry is always safe;
//! - the service answered with `ErrorCode` 0 (or a code meaning "already done"): success;
//! - a rate-limit code: the request was refused before it acted, so after backing the whole command off (or, with
//!   pacing off, waiting the back-off out), retry;
//! - a refresh-the-UserSig code: regenerate the UserSig and retry once;
//! - a permanent code: fail with the code;
//! - a timeout, a broken connection, an HTTP 5xx or a transient code: the request may have acted. It is retried
//!   only while the command's idempotency class says a repeat is harmless at that moment (the dedupe window of the
//!   pinned keys is still open, or the command is idempotent); otherwise the caller gets [`Error::OutcomeUnknown`].
//!
//! "At that moment" is the moment the retry's bytes leave, quota wait included. Once an attempt may have acted,
//! each retry inside a window is reserved ahead of the command's queue ([`Pacer::acquire_ahead`]): if the quota
//! cannot let it start before the window's last safe moment it is not sent. Its body then checks the window again
//! as the connection takes its bytes (`departure.rs`) and stays unsent if the window closed meanwhile. The window
//! starts when the first attempt that may have acted actually left. And once any attempt may have acted, no later
//! failure (a permanent code, a rate-limit answer, running out of attempts) can prove that nothing happened: the
//! call ends in [`Error::OutcomeUnknown`] unless a retry succeeds.
//!
//! Backoff is capped exponential with optional equal jitter. A retry budget (tokens earned by successes, spent by
//! retries) keeps a failing service from being hammered.

use crate::config::WallClock;
use crate::departure::{Departure, Left};
use crate::error::Error;
use crate::fanout::CancelHandle;
use crate::http::Attempt;
use crate::pacing::Pacer;
use bytes::Bytes;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tim_model::catalog::{RetryClass, retry_class};
use tim_model::command::{Command, RetryWindow};
use tim_model::envelope::Outcome;
use tokio::time::Instant;

/// How retries are scheduled and limited.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per operation, the first included.
    pub max_attempts: u32,
    /// Backoff before the first retry.
    pub initial_backoff: Duration,
    /// Largest backoff.
    pub max_backoff: Duration,
    /// How long a command is held back after the service answered with a rate-limit code.
    pub rate_limited_backoff: Duration,
    /// Equal jitter: wait between half and all of the backoff, at random. Off makes schedules exact.
    pub jitter: bool,
    /// Retry tokens earned by each success (a retry spends one).
    pub budget_per_success: f64,
    /// Most retry tokens held, and the number held at start.
    pub budget_max: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            rate_limited_backoff: Duration::from_secs(1),
            jitter: true,
            budget_per_success: 0.2,
            budget_max: 100.0,
        }
    }
}

impl RetryPolicy {
    /// The backoff before retry number `retry` (1 for the first retry), before jitter: `initial * 2^(retry-1)`,
    /// capped at `max_backoff`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1_u32.checked_shl(retry.saturating_sub(1)).unwrap_or(u32::MAX);
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }

    fn jittered(&self, backoff: Duration) -> Duration {
        if !self.jitter || backoff.is_zero() {
            return backoff;
        }
        let half = backoff / 2;
        half + half.mul_f64(rand::random::<f64>())
    }
}

/// Retry tokens shared by all operations of one client.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    tokens: Mutex<f64>,
    per_success: f64,
    max: f64,
}

impl RetryBudget {
    pub(crate) fn new(policy: &RetryPolicy) -> Self {
        Self { tokens: Mutex::new(policy.budget_max), per_success: policy.budget_per_success, max: policy.budget_max }
    }

    fn earn(&self) {
        let mut tokens = self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *tokens = (*tokens + self.per_success).min(self.max);
    }

    fn spend(&self) -> bool {
        let mut tokens = self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What one operation needs besides its attempts.
pub(crate) struct Operation<'a> {
    pub(crate) command: &'static Command,
    pub(crate) policy: &'a RetryPolicy,
    pub(crate) budget: &'a RetryBudget,
    pub(crate) pacer: &'a Pacer,
    /// Recipients carried by the body, for quotas counted in recipients.
    pub(crate) recipients: u32,
    /// When the whole operation must be over.
    pub(crate) deadline: Instant,
    /// Where attempts, retries and quota waits are counted.
    pub(crate) stats: &'a Counters,
    /// The wall clock in UNIX milliseconds, for the calendar-second dedupe windows.
    pub(crate) wall: &'a WallClock,
    /// Stops the operation while it waits (for its quota or a backoff), never during an attempt.
    pub(crate) cancel: Option<&'a CancelHandle>,
    /// Lets attempts leave only while it is open (a job's lease held), first attempts included.
    pub(crate) fence: Option<&'a crate::departure::Fence>,
}

/// Runs `wait` unless `cancel` is asked first (`None` then).
async fn unless_cancelled<F: Future>(cancel: Option<&CancelHandle>, wait: F) -> Option<F::Output> {
    match cancel {
        None => Some(wait.await),
        Some(cancel) if cancel.is_cancelled() => None,
        Some(cancel) => tokio::select! {
            output = wait => Some(output),
            () = cancel.cancelled() => None,
        },
    }
}

/// What a client's calls did, counted since it was built (shared by its clones).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    attempts: AtomicU64,
    retries: AtomicU64,
    quota_waits: AtomicU64,
    quota_wait_nanos: AtomicU64,
}

impl Counters {
    /// A snapshot.
    pub(crate) fn snapshot(&self) -> TransportStats {
        TransportStats {
            attempts: self.attempts.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            quota_waits: self.quota_waits.load(Ordering::Relaxed),
            quota_wait: Duration::from_nanos(self.quota_wait_nanos.load(Ordering::Relaxed)),
            ..TransportStats::default()
        }
    }

    fn waited(&self, wait: Duration) {
        if !wait.is_zero() {
            self.quota_waits.fetch_add(1, Ordering::Relaxed);
            let nanos = u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX);
            self.quota_wait_nanos.fetch_add(nanos, Ordering::Relaxed);
        }
    }
}

/// What a client's calls did since it was built: for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportStats {
    /// HTTP attempts made (first attempts and retries).
    pub attempts: u64,
    /// Attempts that were retries of an earlier one.
    pub retries: u64,
    /// Calls that waited for their quota.
    pub quota_waits: u64,
    /// Time spent waiting for quotas, summed over calls.
    pub quota_wait: Duration,
    /// Calls whose start the shared quota in Redis reserved (0 without one).
    pub shared_quota_reservations: u64,
    /// Calls paced at this process's share because the shared quota could not be reached.
    pub shared_quota_fallbacks: u64,
    /// Whether the last attempt to reach the shared quota failed.
    pub shared_quota_unreachable: bool,
}

/// What the next step is after an attempt.
enum Step {
    Done(Result<Bytes, Error>),
    /// Retry after `wait`. `last` is what to report if no retry happens; `maybe_applied` says the attempt may
    /// have acted, so a retry must be safe for the command at the moment it leaves.
    Retry {
        wait: Duration,
        last: Error,
        maybe_applied: bool,
        refresh_sig: bool,
    },
}

/// Runs attempts until one decides the outcome. `send(refresh_sig, departure)` sends the same body once, through
/// `departure` (which records when it left and may keep a late retry from leaving); `refresh_sig` asks it to
/// regenerate the UserSig first.
pub(crate) async fn execute<F, Fut>(op: Operation<'_>, mut send: F) -> Result<Bytes, Error>
where
    F: FnMut(bool, Departure) -> Fut,
    Fut: Future<Output = Attempt>,
{
    let mut attempts = 0_u32;
    let mut refreshed = false;
    let mut refresh_sig = false;
    let idempotency = op.command.idempotency;
    let command = op.command.path;
    // Set once an attempt may have acted: when it left, and what the latest attempt ended with. From then on only
    // a retry inside the window may leave, and the call cannot end in a plain failure.
    let mut acted: Option<Acted> = None;
    let unknown = |last: Error, why: &'static str| Error::OutcomeUnknown { command, why, last: Box::new(last) };
    // Stops before anything more leaves: unknown if an attempt may have acted, else nothing was done.
    let stop = |acted: Option<Acted>, why: &'static str| match acted {
        Some(acted) => unknown(acted.last, why),
        None => Error::NotSent { command, reason: format!("not sent: {why}") },
    };
    loop {
        let departure = match acted.as_ref().map(|acted| (acted.left, idempotency.retry_window(acted.left.wall_ms))) {
            Some((left, window @ RetryWindow::Within { until_unix_ms, .. })) => {
                let now_wall = (op.wall)();
                let latest = Instant::now() + Duration::from_millis(until_unix_ms.saturating_sub(now_wall));
                match unless_cancelled(op.cancel, op.pacer.acquire_ahead(op.command.id, op.recipients, latest)).await {
                    Some(Ok(wait)) => op.stats.waited(wait),
                    Some(Err(_)) => {
                        return Err(stop(acted, "the quota could not let the retry leave inside the dedupe window"));
                    }
                    None => return Err(stop(acted, "cancelled before the retry could leave")),
                }
                Departure::within(window, idempotency, left.at, op.wall.clone(), op.fence.cloned())
            }
            Some((_, RetryWindow::Never)) => return Err(stop(acted, "a repeat could act twice")),
            None | Some((_, RetryWindow::Always)) => {
                let Some(waited) = unless_cancelled(op.cancel, op.pacer.acquire(op.command.id, op.recipients)).await
                else {
                    return Err(stop(acted, "the operation was cancelled"));
                };
                op.stats.waited(waited);
                Departure::open(op.wall.clone(), op.fence.cloned())
            }
        };
        op.stats.attempts.fetch_add(1, Ordering::Relaxed);
        if attempts > 0 {
            op.stats.retries.fetch_add(1, Ordering::Relaxed);
        }
        attempts += 1;
        let before = Left { at: Instant::now(), wall_ms: (op.wall)() };
        let attempt = send(refresh_sig, departure.clone()).await;
        if departure.refused() {
            // This attempt never left; an earlier attempt that may have acted decides.
            let why = if acted.is_none() {
                "the job's lease was lost before it could leave"
            } else {
                "the dedupe window closed (or the job's lease was lost) before the retry could leave"
            };
            return Err(stop(acted, why));
        }
        let (wait, last, maybe_applied) = match judge(&op, attempt, attempts, &mut refreshed) {
            Step::Done(Ok(body)) => {
                op.budget.earn();
                return Ok(body);
            }
            Step::Done(Err(error)) if acted.is_some() => {
                return Err(unknown(error, "an earlier attempt may have acted"));
            }
            Step::Done(Err(error)) => return Err(error),
            Step::Retry { wait, last, maybe_applied, refresh_sig: refresh } => {
                refresh_sig = refresh;
                (wait, last, maybe_applied)
            }
        };
        // `last` stays here only while no attempt may have acted; otherwise `acted` keeps it.
        let last = match acted.as_mut() {
            Some(acted) => {
                acted.last = last;
                None
            }
            // For commands whose repeats are harmless, having maybe acted changes nothing. The window counts from
            // when the bytes left (an attempt that may have acted without being polled is dated by its start).
            None if maybe_applied && !idempotency.repeats_are_harmless() => {
                acted = Some(Acted { left: departure.left().unwrap_or(before), last });
                None
            }
            None => Some(last),
        };
        let resume = Instant::now() + wait;
        if attempts >= op.policy.max_attempts || resume >= op.deadline || !op.budget.spend() {
            return Err(last.unwrap_or_else(|| stop(acted, "out of retries")));
        }
        if unless_cancelled(op.cancel, tokio::time::sleep_until(resume)).await.is_none() {
            return Err(stop(acted, "the operation was cancelled"));
        }
        if let Some(left) = acted.as_ref().map(|acted| acted.left) {
            // Cheap early answer; the reservation and the body check the window again as the retry leaves.
            let elapsed = Instant::now().saturating_duration_since(left.at).as_secs_f64();
            if !idempotency.retry_safe_after(elapsed) || !idempotency.retry_safe_at(left.wall_ms, (op.wall)()) {
                return Err(stop(acted, "the dedupe window closed before the retry"));
            }
        }
    }
}

/// An attempt that may have acted: when it left, and what the latest attempt since ended with.
struct Acted {
    left: Left,
    last: Error,
}

/// Decides what one attempt means.
fn judge(op: &Operation<'_>, attempt: Attempt, attempts: u32, refreshed: &mut bool) -> Step {
    let command = op.command.path;
    let backoff = op.policy.jittered(op.policy.backoff(attempts));
    let retry =
        |last: Error, maybe_applied: bool| Step::Retry { wait: backoff, last, maybe_applied, refresh_sig: false };
    match attempt {
        Attempt::ConnectFailed(detail) => retry(Error::Connect { command, attempts, detail }, false),
        Attempt::TimedOut => retry(Error::TimedOut { command, attempts }, true),
        Attempt::Broken(detail) => retry(Error::NoResponse { command, attempts, detail }, true),
        Attempt::Answered { status, .. } if status >= 500 => {
            retry(Error::NoResponse { command, attempts, detail: format!("HTTP {status}") }, true)
        }
        Attempt::Answered { status, body } if status != 200 => Step::Done(Err(Error::Unreadable {
            command,
            status,
            detail: format!("HTTP {status} instead of the service's JSON"),
            raw: body,
        })),
        Attempt::Answered { status, body } => {
            // The envelope fields that decide the answer's fate; the rest of the body is skipped.
            let envelope: Outcome = match serde_json::from_slice(&body) {
                Ok(envelope) => envelope,
                Err(error) => {
                    return Step::Done(Err(Error::Unreadable {
                        command,
                        status,
                        detail: error.to_string(),
                        raw: body,
                    }));
                }
            };
            if envelope.error_code == 0 {
                return Step::Done(Ok(body));
            }
            let class = retry_class(envelope.error_code);
            if class == RetryClass::AlreadyDone {
                return Step::Done(Ok(body));
            }
            let refused = Error::Refused {
                command,
                code: envelope.error_code,
                info: envelope.error_info,
                class,
                raw: body,
                random: 0,
            };
            match class {
                RetryClass::RefreshUserSig if !*refreshed => {
                    *refreshed = true;
                    Step::Retry { wait: Duration::ZERO, last: refused, maybe_applied: false, refresh_sig: true }
                }
                RetryClass::RateLimited => {
                    // Refused before it acted: hold the whole command back, then try again. Without pacing there is
                    // no schedule to move back, so this call waits out the back-off itself.
                    let backoff = op.policy.rate_limited_backoff;
                    let wait = if op.pacer.is_unlimited() { backoff } else { Duration::ZERO };
                    op.pacer.back_off(op.command.id, backoff);
                    Step::Retry { wait, last: refused, maybe_applied: false, refresh_sig: false }
                }
                RetryClass::Transient => retry(refused, true),
                RetryClass::RefreshUserSig | RetryClass::Permanent | RetryClass::AlreadyDone => {
                    Step::Done(Err(refused))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
