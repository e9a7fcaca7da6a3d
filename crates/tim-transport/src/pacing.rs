//! Per-command quota pacing: callers wait for their turn instead of being refused by the service.
//!
//! Every command has its own quota (the command table's default, or an override for apps that bought more), made
//! of up to three limits: calls per second or per day, recipients per minute (batchsendmsg), and a shortest
//! interval between calls (im_push). Each limit is a token bucket written as GCRA, the "virtual scheduling"
//! algorithm: a limit of `capacity` units per `window` has an emission interval `T = window / capacity` and keeps
//! one number, the theoretical arrival time `tat`, the time at which its bucket will be full again. A call costing
//! `c` units (1 for calls and for the interval, the recipient count for recipients) conforms from
//! `tat - (capacity - c) * T` on, and advances `tat` to `max(tat, start) + c * T`. So a fresh bucket admits a
//! burst of `capacity` units at once and then one unit every `T`. A call costing more than the capacity is not
//! refused: it waits for a full bucket, then puts the bucket in debt for the excess, so the long-run rate still
//! holds. A shortest interval is a limit of capacity 1 whose window is the interval.
//!
//! A call reserves its start on every limit of its command at once, under a short lock that is never held
//! across an await: `start` is the latest of each limit's earliest time, and every limit then advances from
//! `start`. The caller sleeps until `start` afterwards, so callers of one command are admitted in the order they
//! reserved (first come, first served), and a small call never overtakes a large one queued before it.
//! Reserving is the commitment: a caller whose future is dropped while it sleeps loses its slot, and the calls
//! queued behind it keep their times.
//!
//! When the service answers with a rate-limit code, [`Pacer::back_off`] moves the command's whole schedule back:
//! no call may start before the back-off ends, callers still asleep keep their spacing but wake that much later,
//! and the buckets are shifted by the same amount, so the queue does not come out in one burst. Calls that already
//! returned from [`Pacer::acquire`] are not recalled.
//!
//! Times are [`tokio::time::Instant`]s, so a test that pauses tokio's clock sees exact schedules. State is a fixed
//! array indexed by [`CommandId`], built up front: acquiring neither allocates nor looks anything up in a map.
//! Commands that share a quota at Tencent are not modelled together: each command has buckets of its own.
//!
//! ```
//! use std::collections::HashMap;
//! use tim_model::command::{CommandId, per_second};
//! use tim_transport::pacing::Pacer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let pacer = Pacer::new(&HashMap::from([(CommandId::SendMsg, per_second(1_000))]));
//! assert_eq!(pacer.quota(CommandId::SendMsg), per_second(1_000));
//! let waited = pacer.acquire(CommandId::BatchSendMsg, 500).await;
//! assert!(waited.is_zero());
//! # }
//! ```

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tim_model::command::{COMMANDS, CommandId, Quota, Rate};
use tokio::time::Instant;

/// What [`Pacer::quota`] reports for every command of an [`Pacer::unlimited`] pacer.
pub const UNLIMITED_QUOTA: Quota =
    Quota { calls: Rate::PerSecond(u32::MAX), recipients_per_minute: None, min_interval_ms: None };

const NANOS_PER_MILLI: u128 = 1_000_000;
const SECOND: u128 = 1_000 * NANOS_PER_MILLI;
const MINUTE: u128 = 60 * SECOND;
const DAY: u128 = 86_400 * SECOND;

/// Where a sleep that cannot be represented ends, as tokio does for its own "never": about 30 years away.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// Index of the calls limit in a command's limits.
const CALLS: usize = 0;
/// Index of the recipients limit.
const RECIPIENTS: usize = 1;
/// Index of the shortest-interval limit.
const INTERVAL: usize = 2;
/// How many limits a quota can have.
const LIMITS: usize = 3;

/// Paces calls to the REST API so that every command stays within its quota.
///
/// Cheap to share: put it in an `Arc`. All methods take `&self`; each command has its own short lock.
#[derive(Debug)]
pub struct Pacer {
    /// Time zero of every schedule, in nanoseconds.
    epoch: Instant,
    /// One slot per row of [`COMMANDS`], indexed by `CommandId as usize`; `None` when unlimited.
    slots: Option<Box<[Slot]>>,
}

/// One command's quota and schedule.
#[derive(Debug)]
struct Slot {
    quota: Quota,
    /// The limits of `quota`, at [`CALLS`], [`RECIPIENTS`] and [`INTERVAL`]; `None` where it has none.
    limits: [Option<Limit>; LIMITS],
    state: Mutex<State>,
}

/// The mutable part of a slot. Times are nanoseconds since the pacer's epoch.
#[derive(Debug, Default)]
struct State {
    /// Each limit's theoretical arrival time, multiplied by the limit's capacity so that `T` never rounds.
    tats: [u128; LIMITS],
    /// No call starts before this (the end of the latest back-off).
    not_before: u128,
    /// The sum of every back-off's shift; a sleeper that sees it grow wakes later by the difference.
    shifted: u128,
}

/// One GCRA limit: `capacity` units per `window` nanoseconds, so `T = window / capacity`.
///
/// Theoretical arrival times are kept scaled by `capacity` (in units of `1 / capacity` nanoseconds), which makes
/// `T` the integer `window` and keeps schedules such as 3 calls per second exact.
#[derive(Debug, Clone, Copy)]
struct Limit {
    window: u128,
    capacity: u128,
}

impl Limit {
    /// A limit of `per_window` units per `window` nanoseconds. A rate of zero is read as one: the pacer waits,
    /// it never refuses a call nor waits for ever.
    fn new(window: u128, per_window: u32) -> Self {
        Self { window, capacity: u128::from(per_window.max(1)) }
    }

    /// The earliest time a call costing `cost` conforms, given the scaled `tat`. A cost above the capacity is
    /// charged as the capacity here (it waits for a full bucket) and in full by [`Limit::advance`].
    fn earliest(self, tat: u128, cost: u128) -> u128 {
        let slack = (self.capacity - cost.min(self.capacity)) * self.window;
        tat.saturating_sub(slack).div_ceil(self.capacity)
    }

    /// The scaled `tat` after admitting a call costing `cost` at `start`.
    fn advance(self, tat: u128, start: u128, cost: u128) -> u128 {
        tat.max(start.saturating_mul(self.capacity)).saturating_add(cost.saturating_mul(self.window))
    }

    /// The scaled `tat` after every call from `base` on has been moved back by `delta`.
    fn shift(self, tat: u128, base: u128, delta: u128) -> u128 {
        tat.max(base.saturating_mul(self.capacity)).saturating_add(delta.saturating_mul(self.capacity))
    }
}

impl Slot {
    fn new(quota: Quota) -> Self {
        let calls = match quota.calls {
            Rate::PerSecond(n) => Limit::new(SECOND, n),
            Rate::PerDay(n) => Limit::new(DAY, n),
        };
        let recipients = quota.recipients_per_minute.map(|n| Limit::new(MINUTE, n));
        // An interval of zero constrains nothing.
        let interval = quota
            .min_interval_ms
            .filter(|&ms| ms > 0)
            .map(|ms| Limit { window: u128::from(ms) * NANOS_PER_MILLI, capacity: 1 });
        let mut limits = [None; LIMITS];
        limits[CALLS] = Some(calls);
        limits[RECIPIENTS] = recipients;
        limits[INTERVAL] = interval;
        Self { quota, limits, state: Mutex::new(State::default()) }
    }

    /// The lock is only ever held for arithmetic, which cannot leave the state half-written, so a poisoned lock
    /// is still good.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reserves one call carrying `recipients` recipients, arriving at `now`, on every limit at once. Returns the
    /// call's start and the back-off shift it was scheduled under.
    fn reserve(&self, now: u128, recipients: u32) -> (u128, u128) {
        let mut costs = [1; LIMITS];
        costs[RECIPIENTS] = u128::from(recipients);
        let mut state = self.lock();
        let mut start = now.max(state.not_before);
        for ((limit, &tat), &cost) in self.limits.iter().zip(&state.tats).zip(&costs) {
            // A limit the call costs nothing on (no recipients) neither delays it nor is charged.
            if let Some(limit) = limit
                && cost > 0
            {
                start = start.max(limit.earliest(tat, cost));
            }
        }
        for ((limit, tat), &cost) in self.limits.iter().zip(&mut state.tats).zip(&costs) {
            if let Some(limit) = limit
                && cost > 0
            {
                *tat = limit.advance(*tat, start, cost);
            }
        }
        (start, state.shifted)
    }
}

impl Pacer {
    /// Paces every command by its table quota, with `overrides` replacing the quota of the commands they name.
    ///
    /// A rate of zero in an override is read as one per window, and a shortest interval of zero as none.
    pub fn new(overrides: &HashMap<CommandId, Quota>) -> Self {
        let slots = COMMANDS
            .iter()
            .map(|command| Slot::new(overrides.get(&command.id).copied().unwrap_or(command.quota)))
            .collect();
        Self { epoch: Instant::now(), slots: Some(slots) }
    }

    /// A pacer that never waits (benchmarks, and users who pace themselves). [`Pacer::quota`] reports
    /// [`UNLIMITED_QUOTA`] for every command, and [`Pacer::back_off`] does nothing.
    pub fn unlimited() -> Self {
        Self { epoch: Instant::now(), slots: None }
    }

    /// Whether this pacer was made by [`Pacer::unlimited`].
    pub fn is_unlimited(&self) -> bool {
        self.slots.is_none()
    }

    /// Waits until one call of `command` carrying `recipients` recipients (0 for commands that have no
    /// recipients limit) conforms to every limit of its quota, then returns how long it waited.
    ///
    /// The wait returned is measured, so it includes tokio's timer rounding (it wakes on whole milliseconds) and
    /// any delay in polling; a call admitted at once returns zero.
    ///
    /// Waiting, never failing; first come, first served between concurrent callers of the same command. A call
    /// larger than a limit's capacity (more recipients than a minute allows) waits for that limit's bucket to be
    /// full, then delays later calls by its excess. Cancel safety: the call's slot is reserved on the first poll;
    /// if the future is dropped before it completes, the slot is lost (later callers are not moved forward).
    pub async fn acquire(&self, command: CommandId, recipients: u32) -> Duration {
        let Some(slots) = &self.slots else {
            return Duration::ZERO;
        };
        let slot = &slots[command as usize];
        let called = Instant::now();
        let (mut start, mut seen_shift) = slot.reserve(self.nanos(called), recipients);
        if start <= self.nanos(called) {
            return Duration::ZERO;
        }
        loop {
            tokio::time::sleep_until(self.instant(start)).await;
            let state = slot.lock();
            if state.shifted == seen_shift {
                break;
            }
            // A back-off arrived while this caller slept: the whole queue moved back.
            start = start.saturating_add(state.shifted - seen_shift).max(state.not_before);
            seen_shift = state.shifted;
        }
        Instant::now().saturating_duration_since(called)
    }

    /// The service answered with a rate-limit code: no call of `command` may start before `now + backoff`
    /// (calls already admitted are not recalled). Later `acquire`s wait for it.
    ///
    /// Callers still waiting in [`Pacer::acquire`] move back by the time this adds to any back-off already in
    /// force, keeping their order and spacing, and the command's buckets move with them. A back-off that ends
    /// before the one in force changes nothing.
    pub fn back_off(&self, command: CommandId, backoff: Duration) {
        let Some(slots) = &self.slots else {
            return;
        };
        let slot = &slots[command as usize];
        let now = self.nanos(Instant::now());
        let until = now.saturating_add(backoff.as_nanos());
        let mut state = slot.lock();
        let base = state.not_before.max(now);
        if until <= base {
            return;
        }
        let delta = until - base;
        for (limit, tat) in slot.limits.iter().zip(&mut state.tats) {
            if let Some(limit) = limit {
                *tat = limit.shift(*tat, base, delta);
            }
        }
        state.not_before = until;
        state.shifted = state.shifted.saturating_add(delta);
    }

    /// The quota in effect for `command`.
    pub fn quota(&self, command: CommandId) -> Quota {
        self.slots.as_ref().map_or(UNLIMITED_QUOTA, |slots| slots[command as usize].quota)
    }

    /// Nanoseconds from the epoch to `instant` (zero before it).
    fn nanos(&self, instant: Instant) -> u128 {
        instant.saturating_duration_since(self.epoch).as_nanos()
    }

    /// The instant `nanos` nanoseconds after the epoch, or about 30 years away when that is not representable.
    fn instant(&self, nanos: u128) -> Instant {
        let offset = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self.epoch.checked_add(offset).unwrap_or_else(|| Instant::now() + FAR_FUTURE)
    }
}

impl Default for Pacer {
    /// Paces every command by its table quota.
    fn default() -> Self {
        Self::new(&HashMap::new())
    }
}
