//! Seeded fault injection: what the network and Tencent's front end do to a client now and then.
//!
//! Each `/v4` request draws one number from the seeded SplitMix64 stream, by its arrival index, and suffers at
//! most one fault, each kind at its own rate:
//!
//! | Kind | Spec entry | What the client sees | Stored? |
//! |---|---|---|---|
//! | bad gateway | `502=RATE` | HTTP 502 with an HTML body | no |
//! | delay | `delay=RATE:DURATION` | nothing for `DURATION` (past its timeout), then `ErrorCode` 60008 | no |
//! | transient code | `codeNNNNN=RATE` | HTTP 200, `ActionStatus` FAIL, `ErrorCode` NNNNN | no |
//! | dropped connection | `drop=RATE` | the connection closes without an answer | no |
//! | lost response | `lost=RATE[:drop\|:502]` | the request is carried out (the message stored), then the connection closes or HTTP 502 | **yes** |
//!
//! A spec is a comma-separated list of entries, for example `502=0.01,delay=0.01:5s,code70169=0.02,drop=0.01,lost=0.01`;
//! `RATE` is a probability in `0..=1` (the rates add up to at most 1), `DURATION` is whole `ms` or `s`, and `lost`
//! picks drop or 502 by the seeded draw unless told. Apart from `lost`, a fault never happens after the request was
//! carried out: a faulted request changed nothing, so a client may retry it blindly. With the same seed and the same
//! order of requests the same requests suffer the same faults.

use crate::error::Error;
use crate::rng;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How a `lost` fault loses the response after the request was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostAs {
    /// Close the connection without answering.
    Drop,
    /// Answer HTTP 502.
    BadGateway,
}

/// The fault rates of an emulator. The default injects nothing.
///
/// ```
/// use tim_emulator::FaultConfig;
/// let faults: FaultConfig = "502=0.01,delay=0.01:5s,code70169=0.02,drop=0.01,lost=0.01".parse()?;
/// assert_eq!(faults.to_string(), "502=0.01,delay=0.01:5s,code70169=0.02,drop=0.01,lost=0.01");
/// assert!("502=1.5".parse::<FaultConfig>().is_err());
/// # Ok::<(), tim_emulator::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultConfig {
    bad_gateway: f64,
    delay: f64,
    delay_for: Duration,
    codes: Vec<(i64, f64)>,
    drop: f64,
    lost: f64,
    lost_as: Option<LostAs>,
}

/// The delay a `delay=RATE` entry without a duration gets: longer than any sensible client timeout for a service
/// whose own processing timeout is 3 s.
pub const DEFAULT_DELAY: Duration = Duration::from_secs(5);

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    BadGateway,
    Delay(Duration),
    Code(i64),
    Drop,
    Lost(LostAs),
}

/// Counter slots of the fixed kinds; transient codes follow from [`FIRST_CODE_SLOT`].
pub(crate) const SLOT_502: usize = 0;
pub(crate) const SLOT_DELAY: usize = 1;
pub(crate) const SLOT_DROP: usize = 2;
pub(crate) const SLOT_LOST: usize = 3;
pub(crate) const FIRST_CODE_SLOT: usize = 4;

impl FaultConfig {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// Answers HTTP 502 at `rate`.
    pub fn with_bad_gateway(mut self, rate: f64) -> Self {
        self.bad_gateway = rate;
        self
    }

    /// Holds the answer back for `duration` at `rate`, then answers 60008 without carrying out the request.
    pub fn with_delay(mut self, rate: f64, duration: Duration) -> Self {
        self.delay = rate;
        self.delay_for = duration;
        self
    }

    /// Answers `ErrorCode` `code` (meant for transient codes such as 10002, 70169 or 91000) at `rate`.
    pub fn with_code(mut self, code: i64, rate: f64) -> Self {
        self.codes.retain(|(c, _)| *c != code);
        self.codes.push((code, rate));
        self
    }

    /// Closes the connection without answering at `rate`.
    pub fn with_drop(mut self, rate: f64) -> Self {
        self.drop = rate;
        self
    }

    /// Carries the request out, then loses the answer at `rate`; `how` fixes the way, `None` lets the draw pick.
    pub fn with_lost(mut self, rate: f64, how: Option<LostAs>) -> Self {
        self.lost = rate;
        self.lost_as = how;
        self
    }

    /// Whether no fault can happen.
    pub fn is_none(&self) -> bool {
        self.total() == 0.0
    }

    /// Parses a spec (see the module documentation); the empty string and `none` mean no faults.
    pub fn parse(spec: &str) -> Result<Self, Error> {
        let mut config = Self::default();
        let mut seen: Vec<String> = Vec::new();
        let spec = spec.trim();
        if spec.is_empty() || spec == "none" {
            return Ok(config);
        }
        for entry in spec.split(',').map(str::trim) {
            let invalid = |reason: &str| Error::FaultSpec { entry: entry.to_owned(), reason: reason.to_owned() };
            let (kind, value) = entry.split_once('=').ok_or_else(|| invalid("expected KIND=RATE"))?;
            if seen.iter().any(|k| k == kind) {
                return Err(invalid("this kind is already given"));
            }
            seen.push(kind.to_owned());
            let (rate, argument) = match value.split_once(':') {
                Some((rate, argument)) => (rate, Some(argument)),
                None => (value, None),
            };
            let rate = parse_rate(rate).map_err(|reason| invalid(&reason))?;
            let no_argument = |argument: Option<&str>| match argument {
                Some(_) => Err(invalid("this kind takes no ':' argument")),
                None => Ok(()),
            };
            match kind {
                "502" => {
                    no_argument(argument)?;
                    config.bad_gateway = rate;
                }
                "delay" => {
                    config.delay = rate;
                    config.delay_for = match argument {
                        Some(text) => parse_duration(text).map_err(|reason| invalid(&reason))?,
                        None => DEFAULT_DELAY,
                    };
                }
                "drop" => {
                    no_argument(argument)?;
                    config.drop = rate;
                }
                "lost" => {
                    config.lost = rate;
                    config.lost_as = match argument {
                        None => None,
                        Some("drop") => Some(LostAs::Drop),
                        Some("502") => Some(LostAs::BadGateway),
                        Some(_) => return Err(invalid("lost takes ':drop' or ':502'")),
                    };
                }
                code if code.starts_with("code") => {
                    no_argument(argument)?;
                    let digits = &code["code".len()..];
                    let number = digits
                        .parse::<i64>()
                        .ok()
                        .filter(|n| *n > 0 && digits.bytes().all(|b| b.is_ascii_digit()))
                        .ok_or_else(|| invalid("expected codeNNNNN with a positive error code"))?;
                    config.codes.push((number, rate));
                }
                _ => return Err(invalid("unknown kind: expected 502, delay, codeNNNNN, drop or lost")),
            }
        }
        config.check()?;
        Ok(config)
    }

    /// Checks every rate is a probability and that they add up to at most 1.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let rates = [("502", self.bad_gateway), ("delay", self.delay), ("drop", self.drop), ("lost", self.lost)];
        let codes = self.codes.iter().map(|(code, rate)| (format!("code{code}"), *rate));
        for (kind, rate) in rates.iter().map(|(k, r)| ((*k).to_owned(), *r)).chain(codes) {
            if !(0.0..=1.0).contains(&rate) {
                return Err(Error::FaultSpec {
                    entry: format!("{kind}={rate}"),
                    reason: "a rate must be a number in 0..=1".to_owned(),
                });
            }
        }
        let total = self.total();
        // A little slack for decimal fractions that add up to exactly 1 on paper.
        if total > 1.0 + 1e-9 {
            return Err(Error::FaultRatesTooHigh { total });
        }
        Ok(())
    }

    fn total(&self) -> f64 {
        self.bad_gateway + self.delay + self.drop + self.lost + self.codes.iter().map(|(_, r)| r).sum::<f64>()
    }

    /// The names of the counter slots, in slot order: `502`, `delay`, `drop`, `lost`, then `codeNNNNN`.
    pub(crate) fn slot_names(&self) -> Vec<String> {
        let fixed = ["502", "delay", "drop", "lost"].map(str::to_owned);
        fixed.into_iter().chain(self.codes.iter().map(|(code, _)| format!("code{code}"))).collect()
    }

    /// The fault, if any, of the `n`-th request (from 0) for `seed`, with its counter slot.
    pub(crate) fn decide(&self, seed: u64, n: u64) -> Option<(usize, Fault)> {
        if self.is_none() {
            return None;
        }
        let bits = rng::nth(seed, n);
        let draw = rng::unit_interval(bits);
        let mut bound = 0.0;
        let mut hit = |rate: f64| {
            bound += rate;
            draw < bound
        };
        if hit(self.bad_gateway) {
            return Some((SLOT_502, Fault::BadGateway));
        }
        if hit(self.delay) {
            return Some((SLOT_DELAY, Fault::Delay(self.delay_for)));
        }
        for (i, (code, rate)) in self.codes.iter().enumerate() {
            if hit(*rate) {
                return Some((FIRST_CODE_SLOT + i, Fault::Code(*code)));
            }
        }
        if hit(self.drop) {
            return Some((SLOT_DROP, Fault::Drop));
        }
        if hit(self.lost) {
            // The lowest bit is not used by the draw above (it keeps the top 53 bits).
            let how = self.lost_as.unwrap_or(if bits & 1 == 0 { LostAs::Drop } else { LostAs::BadGateway });
            return Some((SLOT_LOST, Fault::Lost(how)));
        }
        None
    }
}

impl FromStr for FaultConfig {
    type Err = Error;
    fn from_str(spec: &str) -> Result<Self, Error> {
        Self::parse(spec)
    }
}

/// The spec form, which [`FaultConfig::parse`] reads back; `none` when there are no faults.
impl fmt::Display for FaultConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut entries = Vec::new();
        if self.bad_gateway > 0.0 {
            entries.push(format!("502={}", self.bad_gateway));
        }
        if self.delay > 0.0 {
            entries.push(format!("delay={}:{}", self.delay, format_duration(self.delay_for)));
        }
        for (code, rate) in self.codes.iter().filter(|(_, rate)| *rate > 0.0) {
            entries.push(format!("code{code}={rate}"));
        }
        if self.drop > 0.0 {
            entries.push(format!("drop={}", self.drop));
        }
        if self.lost > 0.0 {
            let how = match self.lost_as {
                None => "",
                Some(LostAs::Drop) => ":drop",
                Some(LostAs::BadGateway) => ":502",
            };
            entries.push(format!("lost={}{how}", self.lost));
        }
        if entries.is_empty() { f.write_str("none") } else { f.write_str(&entries.join(",")) }
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text.parse().map_err(|_| format!("rate {text:?} is not a number"))?;
    if !(0.0..=1.0).contains(&rate) {
        return Err(format!("rate {text} is outside 0..=1"));
    }
    Ok(rate)
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("duration {text:?} is not whole milliseconds (250ms) or seconds (5s)");
    let (digits, unit) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1000)
    } else {
        return Err(invalid());
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let value: u64 = digits.parse().map_err(|_| invalid())?;
    Ok(Duration::from_millis(value.checked_mul(unit).ok_or_else(invalid)?))
}

fn format_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_and_prints_it_back() {
        let spec = "502=0.01,delay=0.02:250ms,code70169=0.02,code10002=0.01,drop=0.01,lost=0.03:502";
        let config = FaultConfig::parse(spec).unwrap();
        assert_eq!(config.delay_for, Duration::from_millis(250));
        assert_eq!(config.codes, vec![(70169, 0.02), (10002, 0.01)]);
        assert_eq!(config.lost_as, Some(LostAs::BadGateway));
        assert_eq!(config.to_string(), spec);
        assert_eq!(FaultConfig::parse(&config.to_string()).unwrap(), config);
        assert_eq!(FaultConfig::parse("delay=0.5").unwrap().delay_for, DEFAULT_DELAY);
        assert!(FaultConfig::parse("").unwrap().is_none());
        assert_eq!(FaultConfig::none().to_string(), "none");
    }

    #[test]
    fn refuses_bad_entries_naming_them() {
        for (spec, needle) in [
            ("502", "expected KIND=RATE"),
            ("502=x", "not a number"),
            ("502=1.5", "outside 0..=1"),
            ("502=-0.1", "outside 0..=1"),
            ("delay=0.1:5", "duration"),
            ("delay=0.1:s", "duration"),
            ("code=0.1", "codeNNNNN"),
            ("codeabc=0.1", "codeNNNNN"),
            ("lost=0.1:later", "lost takes"),
            ("drop=0.1:5s", "no ':' argument"),
            ("teleport=0.1", "unknown kind"),
            ("drop=0.1,drop=0.2", "already given"),
        ] {
            let error = FaultConfig::parse(spec).unwrap_err();
            assert!(error.to_string().contains(needle), "{spec}: {error}");
        }
        assert_eq!(FaultConfig::parse("502=0.6,drop=0.6").unwrap_err(), Error::FaultRatesTooHigh { total: 1.2 });
        assert!(FaultConfig::parse("502=0.5,drop=0.5").is_ok());
    }

    #[test]
    fn rates_are_honoured_and_the_same_seed_gives_the_same_faults() {
        let config = FaultConfig::parse("502=0.1,code70169=0.2,drop=0.1,lost=0.1").unwrap();
        let draws: Vec<_> = (0..20_000).map(|n| config.decide(42, n)).collect();
        let count = |slot: usize| draws.iter().filter(|d| d.is_some_and(|(s, _)| s == slot)).count();
        for (slot, expected) in [(SLOT_502, 2000), (FIRST_CODE_SLOT, 4000), (SLOT_DROP, 2000), (SLOT_LOST, 2000)] {
            let actual = count(slot);
            assert!(actual.abs_diff(expected) < expected / 10, "slot {slot}: {actual} not near {expected}");
        }
        let again: Vec<_> = (0..20_000).map(|n| config.decide(42, n)).collect();
        assert_eq!(draws, again);
        let other: Vec<_> = (0..20_000).map(|n| config.decide(43, n)).collect();
        assert_ne!(draws, other);
        let lost: Vec<_> = draws.iter().filter_map(|d| d.filter(|(s, _)| *s == SLOT_LOST)).collect();
        assert!(lost.iter().any(|(_, f)| *f == Fault::Lost(LostAs::Drop)));
        assert!(lost.iter().any(|(_, f)| *f == Fault::Lost(LostAs::BadGateway)));
        assert_eq!(FaultConfig::none().decide(42, 0), None);
    }
}
