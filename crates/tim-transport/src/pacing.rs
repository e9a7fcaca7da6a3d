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
//! # Retries go ahead of the queue
//!
//! A retry of a call that may already have acted is safe only inside its dedupe window (for sendmsg and
//! batchsendmsg, the rest of the first attempt's calendar second), so it cannot wait its turn behind calls queued
//! for seconds. [`Pacer::acquire_ahead`] reserves it ahead of every queued call: its earliest start is computed from
//! the buckets as they would be without the queued calls, with one call's own cost of tolerance (a retry may borrow
//! its cost from the future, and only one at a time: the next retry sees the first one's charge). If that start
//! is later than the retry's last safe moment, nothing is reserved and the caller reports the outcome as unknown.
//! Otherwise the retry is charged in full and every queued call moves back by the retry's cost, so over time the
//! rate still holds: at any moment the quota is exceeded by at most one call's cost, and only by a retry whose
//! repeat the service deduplicates or refuses.
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

#[cfg(feature = "shared-quota")]
mod shared;

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
    /// The schedule shared with the app's other processes, reserved after this process's own.
    #[cfg(feature = "shared-quota")]
    shared: Option<std::sync::Arc<shared::SharedQuota>>,
}

/// What the shared quota did, for [`crate::TransportStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SharedStats {
    pub(crate) reservations: u64,
    pub(crate) fallbacks: u64,
    pub(crate) unreachable: bool,
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
    /// The sum of every shift of the queue (back-offs and retries sent ahead of it); a queued sleeper that sees it
    /// grow wakes later by the difference.
    shifted: u128,
    /// The sum of the back-offs' shifts alone: what moves a retry reserved ahead of the queue.
    backed_off: u128,
    /// The calls that reserved a start still in the future, in order: their start and the buckets as they were
    /// before they reserved. (A call whose future was dropped stays until its start passes: its slot is lost, not
    /// given back.) The first one's `before` is the buckets without the queue, where a retry goes ahead of it.
    queued: std::collections::VecDeque<Queued>,
}

/// A call waiting for its start.
#[derive(Debug, Clone, Copy)]
struct Queued {
    start: u128,
    before: [u128; LIMITS],
}

impl State {
    /// Forgets the queued calls whose start has come.
    fn prune(&mut self, now: u128) {
        while self.queued.front().is_some_and(|queued| queued.start <= now) {
            self.queued.pop_front();
        }
    }

    /// Moves every queued call back by `delta` from `base` on: their starts, and the buckets they saw (all but
    /// the first one's when `keep_first`, which a retry ahead of the queue charges itself).
    fn shift_queue(&mut self, limits: &[Option<Limit>; LIMITS], base: u128, delta: u128, keep_first: bool) {
        for (position, queued) in self.queued.iter_mut().enumerate() {
            queued.start = queued.start.saturating_add(delta);
            if keep_first && position == 0 {
                continue;
            }
            for (limit, before) in limits.iter().zip(&mut queued.before) {
                if let Some(limit) = limit {
                    *before = limit.shift(*before, base, delta);
                }
            }
        }
        self.shifted = self.shifted.saturating_add(delta);
    }
}

/// A retry could not be reserved before its last safe moment (see [`Pacer::acquire_ahead`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLate;

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

    /// What one call carrying `recipients` recipients costs on each limit.
    fn costs(recipients: u32) -> [u128; LIMITS] {
        let mut costs = [1; LIMITS];
        costs[RECIPIENTS] = u128::from(recipients);
        costs
    }

    /// The limits a call costing `costs` is charged on, with their index and the call's cost there. A limit the
    /// call costs nothing on (no recipients) neither delays it nor is charged.
    fn charged(&self, costs: [u128; LIMITS]) -> impl Iterator<Item = (usize, Limit, u128)> + '_ {
        self.limits.iter().enumerate().filter_map(move |(index, limit)| {
            limit.filter(|_| costs[index] > 0).map(|limit| (index, limit, costs[index]))
        })
    }

    /// The earliest start every limit allows a call costing `costs`, given `tats`; with `borrow`, the call may
    /// borrow its own cost from the future (a retry ahead of the queue).
    fn earliest(&self, tats: &[u128; LIMITS], costs: [u128; LIMITS], borrow: bool) -> u128 {
        self.charged(costs)
            .map(|(index, limit, cost)| {
                let borrowed = if borrow { cost.min(limit.capacity) * limit.window } else { 0 };
                limit.earliest(tats[index].saturating_sub(borrowed), cost)
            })
            .max()
            .unwrap_or(0)
    }

    /// Charges a call costing `costs` that starts at `start` to `tats`.
    fn charge(&self, tats: &mut [u128; LIMITS], start: u128, costs: [u128; LIMITS]) {
        for (index, limit, cost) in self.charged(costs) {
            tats[index] = limit.advance(tats[index], start, cost);
        }
    }

    /// Reserves one call carrying `recipients` recipients, arriving at `now`, on every limit at once. Returns the
    /// call's start and the shift it was scheduled under.
    fn reserve(&self, now: u128, recipients: u32) -> (u128, u128) {
        let costs = Self::costs(recipients);
        let mut state = self.lock();
        state.prune(now);
        let before = state.tats;
        let start = now.max(state.not_before).max(self.earliest(&state.tats, costs, false));
        self.charge(&mut state.tats, start, costs);
        if start > now {
            state.queued.push_back(Queued { start, before });
        }
        (start, state.shifted)
    }

    /// Reserves a retry ahead of the queue (see the module documentation), arriving at `now`, if it can start by
    /// `latest`. Returns its start and the back-off shift it was scheduled under; reserves nothing when too late.
    fn reserve_ahead(&self, now: u128, recipients: u32, latest: u128) -> Option<(u128, u128)> {
        let costs = Self::costs(recipients);
        let mut state = self.lock();
        state.prune(now);
        // The buckets without the queue: as the first queued call found them.
        let ahead = state.queued.front().map_or(state.tats, |first| first.before);
        let start = now.max(state.not_before).max(self.earliest(&ahead, costs, true));
        if start > latest {
            return None;
        }
        match state.queued.front_mut() {
            None => self.charge(&mut state.tats, start, costs),
            Some(first) => {
                // The retry goes first: the first queued call sees it charged, and the whole queue, with the
                // buckets after it, moves back by the retry's cost on its slowest limit.
                self.charge(&mut first.before, start, costs);
                let delta = self
                    .charged(costs)
                    .map(|(_, limit, cost)| (cost * limit.window).div_ceil(limit.capacity))
                    .max()
                    .unwrap_or(0);
                for (limit, tat) in self.limits.iter().zip(&mut state.tats) {
                    if let Some(limit) = limit {
                        *tat = limit.shift(*tat, start, delta);
                    }
                }
                state.shift_queue(&self.limits, start, delta, true);
            }
        }
        Some((start, state.backed_off))
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
        Self {
            epoch: Instant::now(),
            slots: Some(slots),
            #[cfg(feature = "shared-quota")]
            shared: None,
        }
    }

    /// A pacer whose schedules are shared through Redis with the app's other processes (see [`shared`](self)):
    /// the quotas of the table with `overrides`, for the app `sdkappid`. Every process must configure the same
    /// quotas. Nothing connects yet: the first call does, and falls back to this process's share if it cannot.
    #[cfg(feature = "shared-quota")]
    pub fn shared(
        overrides: &HashMap<CommandId, Quota>,
        config: &crate::config::SharedQuotaConfig,
        sdkappid: u64,
    ) -> Result<Self, String> {
        let shared = shared::SharedQuota::new(config, sdkappid, overrides)?;
        Ok(Self { shared: Some(std::sync::Arc::new(shared)), ..Self::new(overrides) })
    }

    /// A pacer that never waits (benchmarks, and users who pace themselves). [`Pacer::quota`] reports
    /// [`UNLIMITED_QUOTA`] for every command, and [`Pacer::back_off`] does nothing.
    pub fn unlimited() -> Self {
        Self {
            epoch: Instant::now(),
            slots: None,
            #[cfg(feature = "shared-quota")]
            shared: None,
        }
    }

    /// Whether this pacer shares its schedules with other processes.
    pub fn is_shared(&self) -> bool {
        self.shared_stats().is_some()
    }

    /// What the shared quota did; `None` when this pacer paces alone.
    pub(crate) fn shared_stats(&self) -> Option<SharedStats> {
        #[cfg(feature = "shared-quota")]
        if let Some(shared) = &self.shared {
            use std::sync::atomic::Ordering::Relaxed;
            return Some(SharedStats {
                reservations: shared.counters.reservations.load(Relaxed),
                fallbacks: shared.counters.fallbacks.load(Relaxed),
                unreachable: shared.is_unreachable(),
            });
        }
        None
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
        #[allow(unused_mut)]
        let mut waited = self.wait_local(slot, called, recipients).await;
        #[cfg(feature = "shared-quota")]
        if let Some(shared) = &self.shared {
            waited |= shared.take(command, &slot.limits, recipients).await;
        }
        if waited { Instant::now().saturating_duration_since(called) } else { Duration::ZERO }
    }

    /// [`Pacer::acquire`] on this process's schedule alone (a shared pacer's fallback).
    #[cfg(feature = "shared-quota")]
    async fn acquire_alone(&self, command: CommandId, recipients: u32) -> bool {
        match &self.slots {
            Some(slots) => self.wait_local(&slots[command as usize], Instant::now(), recipients).await,
            None => false,
        }
    }

    /// [`Pacer::acquire_ahead`] on this process's schedule alone (a shared pacer's fallback).
    #[cfg(feature = "shared-quota")]
    async fn acquire_ahead_alone(&self, command: CommandId, recipients: u32, latest: Instant) -> Result<(), TooLate> {
        match &self.slots {
            Some(slots) => self.wait_local_ahead(&slots[command as usize], Instant::now(), recipients, latest).await,
            None => Ok(()),
        }
    }

    /// Waits for this process's own schedule of `slot`; whether it had to.
    async fn wait_local(&self, slot: &Slot, called: Instant, recipients: u32) -> bool {
        let (mut start, mut seen_shift) = slot.reserve(self.nanos(called), recipients);
        if start <= self.nanos(called) {
            return false;
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
        true
    }

    /// Waits until a retry of `command` carrying `recipients` recipients may start ahead of every queued call, if it
    /// can start by `latest`; returns how long it waited. [`TooLate`] when it cannot (nothing is then reserved), or
    /// when a back-off that arrived while it waited moved it past `latest` (its slot is then lost).
    ///
    /// For retries of calls that may already have acted, whose repeat is safe only until `latest`: see the module
    /// documentation for how they relate to the quota. An [`Pacer::unlimited`] pacer admits them at once.
    pub async fn acquire_ahead(
        &self,
        command: CommandId,
        recipients: u32,
        latest: Instant,
    ) -> Result<Duration, TooLate> {
        let Some(slots) = &self.slots else {
            return if Instant::now() <= latest { Ok(Duration::ZERO) } else { Err(TooLate) };
        };
        let slot = &slots[command as usize];
        let called = Instant::now();
        self.wait_local_ahead(slot, called, recipients, latest).await?;
        #[cfg(feature = "shared-quota")]
        if let Some(shared) = &self.shared {
            shared.take_ahead(command, &slot.limits, recipients, latest).await?;
        }
        Ok(Instant::now().saturating_duration_since(called))
    }

    /// Waits for this process's own schedule of `slot` to let a retry go ahead of its queue by `latest`.
    async fn wait_local_ahead(
        &self,
        slot: &Slot,
        called: Instant,
        recipients: u32,
        latest: Instant,
    ) -> Result<(), TooLate> {
        let latest = self.nanos(latest);
        let (mut start, mut seen_shift) = slot.reserve_ahead(self.nanos(called), recipients, latest).ok_or(TooLate)?;
        while start > self.nanos(Instant::now()) {
            tokio::time::sleep_until(self.instant(start)).await;
            let state = slot.lock();
            if state.backed_off == seen_shift {
                break;
            }
            start = start.saturating_add(state.backed_off - seen_shift).max(state.not_before);
            seen_shift = state.backed_off;
            if start > latest {
                return Err(TooLate);
            }
        }
        Ok(())
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
        state.shift_queue(&slot.limits, base, delta, false);
        state.backed_off = state.backed_off.saturating_add(delta);
        drop(state);
        #[cfg(feature = "shared-quota")]
        if let Some(shared) = &self.shared {
            shared.back_off(command, &slot.limits, backoff);
        }
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
