//! Time as a parameter: the emulator asks a [`Clock`] for the current UNIX second and never reads the system
//! clock itself, so tests drive deduplication windows, quotas and UserSig expiry exactly with a [`ManualClock`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where the emulator reads the time: UNIX seconds. Any `Fn() -> u64` closure is a clock (the `tim` binary passes
/// one that reads the system clock).
pub trait Clock: Send + Sync + 'static {
    /// The current time, in UNIX seconds.
    fn now_unix(&self) -> u64;
}

impl<F: Fn() -> u64 + Send + Sync + 'static> Clock for F {
    fn now_unix(&self) -> u64 {
        self()
    }
}

/// A clock that stands still until told otherwise; clones share the same time.
///
/// ```
/// use tim_emulator::{Clock, ManualClock};
/// let clock = ManualClock::new(1_700_000_000);
/// let shared = clock.clone();
/// clock.advance(5);
/// assert_eq!(shared.now_unix(), 1_700_000_005);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock showing `start` (UNIX seconds).
    pub fn new(start: u64) -> Self {
        Self(Arc::new(AtomicU64::new(start)))
    }

    /// Sets the time.
    pub fn set(&self, now: u64) {
        self.0.store(now, Ordering::SeqCst);
    }

    /// Moves the time forward by `secs`.
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}
