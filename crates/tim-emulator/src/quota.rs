//! Quotas like the service's: calls per second (or per day) per command, the shortest interval between two calls
//! (im_push), and recipients per minute (batchsendmsg), with the defaults of the command table.
//!
//! Windows are aligned to the clock: a per-second quota counts the calls within one UNIX second, a per-day quota
//! within one UTC day, and the recipients of batchsendmsg within one minute. A refused call changes nothing and
//! does not count. Every limit can be overridden, and quotas can be switched off (the emulator's own benchmarks
//! run without them).

use crate::error::Error;
use std::sync::Mutex;
use tim_model::command::{self, COMMANDS, CommandId, Quota, Rate};

/// Quota settings: on by default with the command table's documented defaults.
///
/// ```
/// use tim_emulator::QuotaConfig;
/// use tim_model::command::{CommandId, Rate};
/// let quotas = QuotaConfig::default().with_spec("openim/sendmsg=500/s")?;
/// assert_eq!(quotas.quota(CommandId::SendMsg).calls, Rate::PerSecond(500));
/// assert!(!QuotaConfig::disabled().is_enabled());
/// # Ok::<(), tim_emulator::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaConfig {
    enabled: bool,
    overrides: Vec<(CommandId, Quota)>,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        Self { enabled: true, overrides: Vec::new() }
    }
}

impl QuotaConfig {
    /// No quotas at all.
    pub fn disabled() -> Self {
        Self { enabled: false, overrides: Vec::new() }
    }

    /// Whether quotas are checked.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Replaces the quota of `command`.
    pub fn with(mut self, command: CommandId, quota: Quota) -> Self {
        self.overrides.retain(|(id, _)| *id != command);
        self.overrides.push((command, quota));
        self
    }

    /// Overrides a command's call rate from `PATH=N/s` or `PATH=N/day` (`PATH` as `command::find` reads it).
    pub fn with_spec(self, spec: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::QuotaSpec { spec: spec.to_owned(), reason: reason.to_owned() };
        let (path, rate) = spec.split_once('=').ok_or_else(|| invalid("expected PATH=N/s or PATH=N/day"))?;
        let command = command::find(path.trim()).ok_or_else(|| invalid("no such command"))?;
        let calls = Rate::parse(rate).map_err(invalid)?;
        let quota = Quota { calls, ..self.quota(command.id) };
        Ok(self.with(command.id, quota))
    }

    /// Sets batchsendmsg's recipients per minute.
    pub fn with_recipients_per_minute(self, recipients: u32) -> Self {
        let quota = Quota { recipients_per_minute: Some(recipients), ..self.quota(CommandId::BatchSendMsg) };
        self.with(CommandId::BatchSendMsg, quota)
    }

    /// The quota in force for `command`: its override, else the command table's default.
    pub fn quota(&self, command: CommandId) -> Quota {
        self.overrides.iter().find(|(id, _)| *id == command).map_or(command.command().quota, |(_, quota)| *quota)
    }
}

/// Which limit refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// Too many calls in the window.
    Calls(Rate),
    /// Too soon after the previous call.
    Interval {
        /// The shortest interval, in seconds.
        secs: u64,
    },
    /// Too many recipients this minute.
    Recipients {
        /// The limit per minute.
        per_minute: u32,
    },
}

impl Limit {
    /// The code the service answers, and why. im_push and send_broadcast_msg have codes of their own; every other
    /// limit is 60007.
    pub(crate) fn answer(self, command: CommandId) -> (i64, String) {
        let path = command.command().short_path();
        match (command, self) {
            (CommandId::ImPush, Limit::Calls(Rate::PerDay(n))) => {
                (90047, format!("daily all-member push quota of {n} exceeded"))
            }
            (CommandId::ImPush, Limit::Interval { secs }) => {
                (90024, format!("push interval shorter than {secs} s after the previous push"))
            }
            // The broadcast page documents its own code for its once-a-second frequency.
            (CommandId::SendBroadcastMsg, Limit::Calls(Rate::PerSecond(n))) => {
                (10023, format!("message frequency limit exceeded: send_broadcast_msg allows {n} call(s) per second"))
            }
            (_, Limit::Calls(Rate::PerSecond(n))) => {
                (60007, format!("REST API call frequency limit exceeded: {path} allows {n} calls per second"))
            }
            (_, Limit::Calls(Rate::PerDay(n))) => {
                (60007, format!("REST API call frequency limit exceeded: {path} allows {n} calls per day"))
            }
            (_, Limit::Interval { secs }) => {
                (60007, format!("REST API call frequency limit exceeded: {path} needs {secs} s between calls"))
            }
            (_, Limit::Recipients { per_minute }) => (
                60007,
                format!("REST API call frequency limit exceeded: {path} allows {per_minute} recipients per minute"),
            ),
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Window {
    period: u64,
    count: u64,
    last_call: Option<u64>,
}

#[derive(Debug, Default)]
struct Counters {
    calls: Vec<Window>,
    recipients_minute: u64,
    recipients: u64,
}

/// The quota counters of one emulator.
#[derive(Debug)]
pub(crate) struct Limiter {
    config: QuotaConfig,
    counters: Mutex<Counters>,
}

const SECONDS_PER_DAY: u64 = 86_400;

impl Limiter {
    pub(crate) fn new(config: QuotaConfig) -> Self {
        let counters = Counters { calls: vec![Window::default(); COMMANDS.len()], ..Counters::default() };
        Self { config, counters: Mutex::new(counters) }
    }

    /// Counts one call of `command` at `now`, or says which limit refuses it.
    pub(crate) fn admit_call(&self, command: CommandId, now: u64) -> Result<(), Limit> {
        if !self.config.enabled {
            return Ok(());
        }
        let quota = self.config.quota(command);
        let (period, max) = match quota.calls {
            Rate::PerSecond(n) => (now, n),
            Rate::PerDay(n) => (now / SECONDS_PER_DAY, n),
        };
        let mut counters = self.counters.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let window = &mut counters.calls[command as usize];
        if window.period != period {
            window.period = period;
            window.count = 0;
        }
        if window.count >= u64::from(max) {
            return Err(Limit::Calls(quota.calls));
        }
        if let (Some(ms), Some(last)) = (quota.min_interval_ms, window.last_call) {
            let secs = u64::from(ms).div_ceil(1000);
            if now < last.saturating_add(secs) {
                return Err(Limit::Interval { secs });
            }
        }
        window.count += 1;
        window.last_call = Some(now);
        Ok(())
    }

    /// Counts `recipients` against `command`'s recipients-per-minute quota, or refuses them all.
    pub(crate) fn admit_recipients(&self, command: CommandId, recipients: usize, now: u64) -> Result<(), Limit> {
        if !self.config.enabled {
            return Ok(());
        }
        let Some(per_minute) = self.config.quota(command).recipients_per_minute else {
            return Ok(());
        };
        let mut counters = self.counters.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let minute = now / 60;
        if counters.recipients_minute != minute {
            counters.recipients_minute = minute;
            counters.recipients = 0;
        }
        let after = counters.recipients + recipients as u64;
        if after > u64::from(per_minute) {
            return Err(Limit::Recipients { per_minute });
        }
        counters.recipients = after;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_second_windows_reset_with_the_clock() {
        let limiter = Limiter::new(QuotaConfig::default().with_spec("openim/sendmsg=2/s").unwrap());
        assert_eq!(limiter.admit_call(CommandId::SendMsg, 100), Ok(()));
        assert_eq!(limiter.admit_call(CommandId::SendMsg, 100), Ok(()));
        assert_eq!(limiter.admit_call(CommandId::SendMsg, 100), Err(Limit::Calls(Rate::PerSecond(2))));
        assert_eq!(limiter.admit_call(CommandId::BatchSendMsg, 100), Ok(()), "commands are counted apart");
        assert_eq!(limiter.admit_call(CommandId::SendMsg, 101), Ok(()));
    }

    #[test]
    fn im_push_has_an_interval_and_a_daily_quota() {
        let limiter = Limiter::new(QuotaConfig::default());
        let day = 20_000 * SECONDS_PER_DAY;
        assert_eq!(limiter.admit_call(CommandId::ImPush, day), Ok(()));
        assert_eq!(limiter.admit_call(CommandId::ImPush, day), Err(Limit::Interval { secs: 1 }));
        for i in 1..100 {
            assert_eq!(limiter.admit_call(CommandId::ImPush, day + i), Ok(()), "push {i}");
        }
        assert_eq!(limiter.admit_call(CommandId::ImPush, day + 200), Err(Limit::Calls(Rate::PerDay(100))));
        assert_eq!(Limit::Calls(Rate::PerDay(100)).answer(CommandId::ImPush).0, 90047);
        assert_eq!(Limit::Interval { secs: 1 }.answer(CommandId::ImPush).0, 90024);
        assert_eq!(limiter.admit_call(CommandId::ImPush, day + SECONDS_PER_DAY), Ok(()));
    }

    #[test]
    fn recipients_are_counted_per_minute_and_a_refused_batch_counts_nothing() {
        let limiter = Limiter::new(QuotaConfig::default().with_recipients_per_minute(1000));
        assert_eq!(limiter.admit_recipients(CommandId::BatchSendMsg, 500, 600), Ok(()));
        assert_eq!(
            limiter.admit_recipients(CommandId::BatchSendMsg, 501, 630),
            Err(Limit::Recipients { per_minute: 1000 })
        );
        assert_eq!(limiter.admit_recipients(CommandId::BatchSendMsg, 500, 659), Ok(()));
        assert_eq!(limiter.admit_recipients(CommandId::BatchSendMsg, 500, 660), Ok(()));
        assert_eq!(limiter.admit_recipients(CommandId::SendMsg, 10_000, 660), Ok(()), "sendmsg has no such quota");
    }

    #[test]
    fn disabled_quotas_admit_everything() {
        let limiter = Limiter::new(QuotaConfig::disabled());
        for _ in 0..1000 {
            assert_eq!(limiter.admit_call(CommandId::SendBroadcastMsg, 1), Ok(()));
        }
    }

    #[test]
    fn quota_specs_are_checked() {
        for bad in ["openim/sendmsg", "openim/nothing=1/s", "openim/sendmsg=x/s", "openim/sendmsg=5/min"] {
            assert!(QuotaConfig::default().with_spec(bad).is_err(), "{bad}");
        }
        let quotas = QuotaConfig::default().with_spec("all_member_push/im_push=5/day").unwrap();
        let quota = quotas.quota(CommandId::ImPush);
        assert_eq!(quota.calls, Rate::PerDay(5));
        assert_eq!(quota.min_interval_ms, Some(1000), "the rest of the quota is kept");
    }
}
