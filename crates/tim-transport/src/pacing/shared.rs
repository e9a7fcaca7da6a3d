//! One schedule per command shared by every process of the app, in Redis.
//!
//! Each command's limits are the local pacer's GCRA limits, kept in one Redis hash per command
//! (`{prefix}:{sdkappid}:{command path}`: `nb`, the end of the latest back-off, and `t1`…`t3`, each limit's
//! theoretical arrival time in microseconds of Redis's own clock). A call reserves its start with one script,
//! which Redis runs atomically, so reservations from every process form one schedule: the sum of their rates
//! stays within the quota whatever the number of processes. The script answers how long to wait; the caller
//! sleeps that long on its own clock. No clock but Redis's is compared, so the processes' clocks may differ.
//!
//! Unlike the local schedule, the shared one allows no burst: calls are spaced by their cost from the first one
//! on (200/s: one every 5 ms), so no second of the service's, aligned to the clock or not, sees more than the
//! quota. A full bucket at once lets the first second see up to twice the quota; measured with three replicas
//! at sendmsg's 200/s against an emulator counting calendar seconds, that was 48 refusals in 6 s and 90% of the
//! quota used (`cargo xtask bench cluster`).
//!
//! Within a process the local pacer still orders the calls (first come, first served) and sends retries ahead of
//! its own queue; the shared schedule is reserved after that. A retry that must leave inside its dedupe window
//! is reserved with one call's cost of tolerance, as locally, but the other processes' queued calls are not
//! moved back for it: when the shared schedule is booked further ahead than the window, the retry is not sent and
//! its outcome is reported as unknown (the fan-out then looks it up in the history). A rate-limit answer moves the
//! command's shared schedule back for every process; calls that already reserved keep their times.
//!
//! When Redis cannot be reached (connecting or a script call takes longer than the configured timeout, or fails),
//! the process paces alone at its share of the quota, `1 / replicas`, says so once in its log and in
//! [`crate::TransportStats::shared_quota_unreachable`], and tries Redis again after `retry_after`. It never sends
//! at the whole quota alone. A reservation whose answer was lost is charged twice (in Redis and locally): that
//! only slows the process down.

use super::{LIMITS, Limit, Pacer, Slot, TooLate};

/// A command's limits, as its slot holds them.
type Limits = [Option<Limit>; LIMITS];
use crate::config::SharedQuotaConfig;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tim_model::command::{COMMANDS, CommandId, Quota, Rate};
use tokio::time::Instant;

/// The reservation script. KEYS[1] is the command's hash. ARGV: the mode (`take`, `ahead` or `back_off`), the
/// number of limits `n`, then for each limit its window (µs), capacity and this call's cost, then for `ahead` the
/// longest wait accepted (µs) and for `back_off` the back-off (µs). Answers the wait in µs, or -1 when `ahead`
/// cannot start in time (nothing is then reserved).
const SCRIPT: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local mode = ARGV[1]
local n = tonumber(ARGV[2])
local extra = tonumber(ARGV[3 * n + 3])
local fields = {'nb'}
for i = 1, n do fields[i + 1] = 't' .. i end
local state = redis.call('HMGET', KEYS[1], unpack(fields))
local not_before = tonumber(state[1]) or 0
local tats = {}
for i = 1, n do tats[i] = tonumber(state[i + 1]) or 0 end
local function save(nb)
  local horizon = math.max(nb, now)
  local values = {'nb', string.format('%.0f', nb)}
  for i = 1, n do
    values[#values + 1] = 't' .. i
    values[#values + 1] = string.format('%.0f', tats[i])
    horizon = math.max(horizon, tats[i])
  end
  redis.call('HSET', KEYS[1], unpack(values))
  redis.call('PEXPIRE', KEYS[1], math.ceil((horizon - now) / 1000) + 60000)
end
if mode == 'back_off' then
  local ends = now + extra
  local base = math.max(not_before, now)
  if ends > base then
    for i = 1, n do tats[i] = math.max(tats[i], base) + (ends - base) end
    save(ends)
  end
  return 0
end
local start = math.max(now, not_before)
for i = 1, n do
  local window, capacity, cost = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1]), tonumber(ARGV[3 * i + 2])
  if cost > 0 then
    -- No burst: a call starts once the calls before it have used up their time. A retry ahead of the queue may
    -- borrow its own cost from the future.
    local tat = tats[i]
    if mode == 'ahead' then tat = tat - math.min(cost, capacity) * window / capacity end
    start = math.max(start, tat)
  end
end
start = math.ceil(start)
if mode == 'ahead' and start - now > extra then return -1 end
for i = 1, n do
  local window, capacity, cost = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1]), tonumber(ARGV[3 * i + 2])
  if cost > 0 then tats[i] = math.ceil(math.max(tats[i], start) + cost * window / capacity) end
end
save(not_before)
return start - now
";

/// What one reservation asks for.
#[derive(Debug, Clone, Copy)]
enum Mode {
    Take,
    /// A retry ahead of the queue that must start within this many microseconds.
    Ahead(u64),
    /// Move the schedule back by this many microseconds.
    BackOff(u64),
}

/// The shared side of a [`Pacer`].
pub(super) struct SharedQuota {
    client: redis::Client,
    /// The connection in use; dropped after a failure, so the next attempt connects anew.
    connection: Mutex<Option<ConnectionManager>>,
    /// Held while connecting, so that calls arriving together open one connection.
    connecting: tokio::sync::Mutex<()>,
    script: redis::Script,
    /// The Redis key of each command, indexed by `CommandId as usize`.
    keys: Box<[String]>,
    /// This process's share of every quota, for when Redis cannot be reached.
    fallback: Pacer,
    timeout: Duration,
    retry_after: Duration,
    /// Until when (nanoseconds after `epoch`) Redis is not tried again.
    down_until: AtomicU64,
    epoch: Instant,
    unreachable: AtomicBool,
    url: String,
    pub(super) counters: SharedCounters,
}

impl std::fmt::Debug for SharedQuota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the client: its connection details hold the password.
        f.debug_struct("SharedQuota")
            .field("url", &self.url)
            .field("unreachable", &self.is_unreachable())
            .finish_non_exhaustive()
    }
}

/// What the shared pacing did.
#[derive(Debug, Default)]
pub(super) struct SharedCounters {
    pub(super) reservations: AtomicU64,
    pub(super) fallbacks: AtomicU64,
}

impl SharedQuota {
    pub(super) fn new(
        config: &SharedQuotaConfig,
        sdkappid: u64,
        overrides: &HashMap<CommandId, Quota>,
    ) -> Result<Self, String> {
        let client = redis::Client::open(config.url.as_str())
            .map_err(|error| format!("shared quota: {} is not a Redis URL: {error}", config.redacted_url()))?;
        let keys =
            COMMANDS.iter().map(|command| format!("{}:{sdkappid}:{}", config.key_prefix, command.path)).collect();
        let shares: HashMap<CommandId, Quota> = COMMANDS
            .iter()
            .map(|command| {
                let quota = overrides.get(&command.id).copied().unwrap_or(command.quota);
                (command.id, share(quota, config.replicas))
            })
            .collect();
        Ok(Self {
            client,
            connection: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            script: redis::Script::new(SCRIPT),
            keys,
            fallback: Pacer::new(&shares),
            timeout: config.timeout,
            retry_after: config.retry_after,
            down_until: AtomicU64::new(0),
            epoch: Instant::now(),
            unreachable: AtomicBool::new(false),
            url: config.redacted_url(),
            counters: SharedCounters::default(),
        })
    }

    /// Whether the last attempt to reach Redis failed (this process then paces at its share).
    pub(super) fn is_unreachable(&self) -> bool {
        self.unreachable.load(Ordering::Relaxed)
    }

    /// Waits for the shared schedule to admit one call of `command` costing `recipients` on its recipients limit;
    /// whether it had to wait.
    pub(super) async fn take(&self, command: CommandId, limits: &Limits, recipients: u32) -> bool {
        match self.reserve(command, limits, recipients, Mode::Take).await {
            Reserved::Wait(wait) if wait.is_zero() => false,
            Reserved::Wait(wait) => {
                tokio::time::sleep(wait).await;
                true
            }
            // Only a retry ahead of the queue can be too late.
            Reserved::TooLate => false,
            Reserved::Unreachable => {
                self.counters.fallbacks.fetch_add(1, Ordering::Relaxed);
                self.fallback.acquire_alone(command, recipients).await
            }
        }
    }

    /// Waits for the shared schedule to admit a retry ahead of the queue that must start by `latest`.
    pub(super) async fn take_ahead(
        &self,
        command: CommandId,
        limits: &Limits,
        recipients: u32,
        latest: Instant,
    ) -> Result<(), TooLate> {
        let budget = latest.saturating_duration_since(Instant::now());
        let budget_us = u64::try_from(budget.as_micros()).unwrap_or(u64::MAX);
        match self.reserve(command, limits, recipients, Mode::Ahead(budget_us)).await {
            Reserved::TooLate => Err(TooLate),
            // The answer took time to come back: the start must still be inside the window on this clock.
            Reserved::Wait(wait) if Instant::now() + wait > latest => Err(TooLate),
            Reserved::Wait(wait) => {
                tokio::time::sleep(wait).await;
                Ok(())
            }
            Reserved::Unreachable => {
                self.counters.fallbacks.fetch_add(1, Ordering::Relaxed);
                self.fallback.acquire_ahead_alone(command, recipients, latest).await
            }
        }
    }

    /// Moves `command`'s shared schedule back by `backoff`, in the background (and this process's share too).
    pub(super) fn back_off(self: &std::sync::Arc<Self>, command: CommandId, limits: &Limits, backoff: Duration) {
        self.fallback.back_off(command, backoff);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (this, limits) = (std::sync::Arc::clone(self), *limits);
        let micros = u64::try_from(backoff.as_micros()).unwrap_or(u64::MAX);
        runtime.spawn(async move {
            this.reserve(command, &limits, 0, Mode::BackOff(micros)).await;
        });
    }

    /// Runs the script: the wait it answers, too late, or unreachable (a failure
    /// that also keeps Redis untried for `retry_after`).
    async fn reserve(&self, command: CommandId, limits: &Limits, recipients: u32, mode: Mode) -> Reserved {
        let now = self.nanos();
        if now < self.down_until.load(Ordering::Relaxed) {
            return Reserved::Unreachable;
        }
        let outcome = tokio::time::timeout(self.timeout, self.run(command, limits, recipients, mode)).await;
        let failure = match outcome {
            Ok(Ok(wait)) => {
                if self.unreachable.swap(false, Ordering::Relaxed) {
                    tracing::info!(redis = %self.url, "the shared quota is reachable again: pacing with the other replicas");
                }
                if wait < 0 {
                    return Reserved::TooLate;
                }
                self.counters.reservations.fetch_add(1, Ordering::Relaxed);
                return Reserved::Wait(Duration::from_micros(wait.unsigned_abs()));
            }
            Ok(Err(error)) => error.to_string(),
            Err(_) => format!("no answer within {:?}", self.timeout),
        };
        // The next attempt connects anew rather than wait for this connection to mend itself.
        *self.connection.lock().unwrap_or_else(PoisonError::into_inner) = None;
        let retry_at = self.nanos().saturating_add(u64::try_from(self.retry_after.as_nanos()).unwrap_or(u64::MAX));
        self.down_until.store(retry_at, Ordering::Relaxed);
        if !self.unreachable.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                redis = %self.url,
                %failure,
                "the shared quota cannot be reached: pacing alone at this replica's share of every quota"
            );
        }
        Reserved::Unreachable
    }

    async fn run(&self, command: CommandId, limits: &Limits, recipients: u32, mode: Mode) -> redis::RedisResult<i64> {
        let mut connection = self.connection().await?;
        let costs = Slot::costs(recipients);
        let mut invocation = self.script.key(&self.keys[command as usize]);
        let (name, extra) = match mode {
            Mode::Take => ("take", 0),
            Mode::Ahead(budget) => ("ahead", budget),
            Mode::BackOff(micros) => ("back_off", micros),
        };
        invocation.arg(name).arg(LIMITS);
        for (limit, cost) in limits.iter().zip(costs) {
            // A limit the quota lacks: one that never binds (no cost on it).
            let (window, capacity) = limit.map_or((1, 1), |limit| (limit.window / 1_000, limit.capacity));
            let cost = if limit.is_some() && !matches!(mode, Mode::BackOff(_)) { cost } else { 0 };
            invocation.arg(u64::try_from(window).unwrap_or(u64::MAX));
            invocation.arg(u64::try_from(capacity).unwrap_or(u64::MAX));
            invocation.arg(u64::try_from(cost).unwrap_or(u64::MAX));
        }
        invocation.arg(extra);
        invocation.invoke_async(&mut connection).await
    }

    /// The connection in use, or a new one.
    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        let current = || self.connection.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(connection) = current() {
            return Ok(connection);
        }
        let _connecting = self.connecting.lock().await;
        if let Some(connection) = current() {
            return Ok(connection);
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_with_config(self.client.clone(), config).await?;
        *self.connection.lock().unwrap_or_else(PoisonError::into_inner) = Some(connection.clone());
        Ok(connection)
    }

    fn nanos(&self) -> u64 {
        u64::try_from(Instant::now().saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }
}

/// What a reservation on the shared schedule came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reserved {
    /// Reserved: start after this wait.
    Wait(Duration),
    /// A retry ahead of the queue that cannot start in time; nothing was reserved.
    TooLate,
    /// Redis could not be reached; nothing is known to be reserved.
    Unreachable,
}

/// `quota` divided among `replicas` processes: each rate by `replicas` (at least one per window), each shortest
/// interval multiplied by it.
pub(super) fn share(quota: Quota, replicas: u32) -> Quota {
    let replicas = replicas.max(1);
    let divide = |n: u32| (n / replicas).max(1);
    Quota {
        calls: match quota.calls {
            Rate::PerSecond(n) => Rate::PerSecond(divide(n)),
            Rate::PerDay(n) => Rate::PerDay(divide(n)),
        },
        recipients_per_minute: quota.recipients_per_minute.map(divide),
        min_interval_ms: quota.min_interval_ms.map(|ms| ms.saturating_mul(replicas)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tim_model::command::per_second;

    #[test]
    fn a_replica_alone_paces_at_its_share_of_each_limit() {
        let quota =
            Quota { calls: Rate::PerSecond(200), recipients_per_minute: Some(60_000), min_interval_ms: Some(1_000) };
        let third = share(quota, 3);
        assert_eq!(third.calls, Rate::PerSecond(66));
        assert_eq!(third.recipients_per_minute, Some(20_000));
        assert_eq!(third.min_interval_ms, Some(3_000));
        assert_eq!(share(per_second(2), 5).calls, Rate::PerSecond(1), "never zero");
        assert_eq!(share(Quota { calls: Rate::PerDay(100), ..quota }, 4).calls, Rate::PerDay(25));
        assert_eq!(share(quota, 0), quota, "no replicas reads as one");
    }
}
