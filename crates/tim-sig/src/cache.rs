//! The admin UserSig cache: one UserSig for the app admin, shared by every REST request.
//!
//! Requests read it without locks ([`AdminSigCache::get`] is an atomic load and a reference-count increment).
//! It is replaced ahead of expiry by whoever owns the cache's timer (the transport), which calls
//! [`AdminSigCache::refresh_if_due`] at [`AdminSigCache::refresh_at`]; a request never regenerates a UserSig
//! that is still valid. Only if the refresher fell behind and the UserSig has expired does `get` regenerate it,
//! once, under a lock, while other readers wait for that one result.
//! Time is a parameter everywhere: the cache never reads the clock.

use arc_swap::ArcSwap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::Error;
use crate::secret::UserSig;
use crate::usersig::{Signer, Validity};

/// The admin UserSig's default lifetime: one day.
pub const DEFAULT_ADMIN_LIFETIME_SECS: u64 = 86_400;

/// By default the UserSig is refreshed when this percentage of its lifetime remains.
pub const DEFAULT_REFRESH_MARGIN_PERCENT: u64 = 10;

/// How the admin UserSig is made: the identifier (required), its lifetime and the refresh margin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminSigConfig {
    identifier: String,
    lifetime_secs: u64,
    refresh_margin_secs: Option<u64>,
}

impl AdminSigConfig {
    /// UserSigs for `identifier` (the app admin account), valid [`DEFAULT_ADMIN_LIFETIME_SECS`] and refreshed
    /// with [`DEFAULT_REFRESH_MARGIN_PERCENT`] of that lifetime left.
    pub fn new(identifier: impl Into<String>) -> Self {
        Self { identifier: identifier.into(), lifetime_secs: DEFAULT_ADMIN_LIFETIME_SECS, refresh_margin_secs: None }
    }

    /// Sets the lifetime of each UserSig (`TLS.expire`).
    pub fn lifetime_secs(mut self, secs: u64) -> Self {
        self.lifetime_secs = secs;
        self
    }

    /// Sets how long before expiry the UserSig becomes due for refresh. Must be shorter than the lifetime.
    pub fn refresh_margin_secs(mut self, secs: u64) -> Self {
        self.refresh_margin_secs = Some(secs);
        self
    }

    /// The identifier.
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// The margin in effect: the configured one, else [`DEFAULT_REFRESH_MARGIN_PERCENT`] of the lifetime.
    pub fn effective_refresh_margin_secs(&self) -> u64 {
        // In 128 bits the product cannot overflow, and the quotient is at most the lifetime, so it fits again.
        let default = u128::from(self.lifetime_secs) * u128::from(DEFAULT_REFRESH_MARGIN_PERCENT) / 100;
        self.refresh_margin_secs.unwrap_or(default as u64)
    }
}

/// One generated UserSig with its schedule.
#[derive(Debug)]
struct Entry {
    usersig: Arc<UserSig>,
    validity: Validity,
    refresh_at: u64,
}

/// The shared admin UserSig. See the module documentation for who refreshes it and when.
///
/// ```
/// use tim_sig::{AdminSigCache, AdminSigConfig, SecretKey, Signer};
///
/// let signer = Signer::new(1_400_000_000, SecretKey::new("console-secret")?);
/// let now = 1_700_000_000;
/// let cache = AdminSigCache::new(signer, AdminSigConfig::new("administrator").lifetime_secs(86_400), now)?;
///
/// let first = cache.get(now)?; // lock-free: the same UserSig for every request
/// assert!(!cache.refresh_if_due(now + 3_600)?); // not due an hour later
/// assert!(cache.refresh_if_due(cache.refresh_at())?); // due before it expires: replaced
/// assert_ne!(cache.get(cache.refresh_at())?.expose(), first.expose());
/// # Ok::<(), tim_sig::Error>(())
/// ```
#[derive(Debug)]
pub struct AdminSigCache {
    signer: Signer,
    identifier: String,
    lifetime_secs: u64,
    refresh_margin_secs: u64,
    current: ArcSwap<Entry>,
    /// Held while regenerating, so that concurrent callers generate once.
    regenerating: Mutex<()>,
}

impl AdminSigCache {
    /// Generates the first UserSig, issued at `now` (UNIX seconds).
    pub fn new(signer: Signer, config: AdminSigConfig, now: u64) -> Result<Self, Error> {
        let refresh_margin_secs = config.effective_refresh_margin_secs();
        if refresh_margin_secs >= config.lifetime_secs {
            return Err(Error::RefreshMarginTooLarge {
                margin_secs: refresh_margin_secs,
                lifetime_secs: config.lifetime_secs,
            });
        }
        let first = make_entry(&signer, &config.identifier, config.lifetime_secs, refresh_margin_secs, now)?;
        Ok(Self {
            signer,
            identifier: config.identifier,
            lifetime_secs: config.lifetime_secs,
            refresh_margin_secs,
            current: ArcSwap::from_pointee(first),
            regenerating: Mutex::new(()),
        })
    }

    /// The admin UserSig to use for a request sent at `now`. Lock-free while the cached UserSig is valid at `now`
    /// (even when it is due for refresh: refreshing is [`refresh_if_due`](Self::refresh_if_due)'s job); it
    /// regenerates only an expired one.
    pub fn get(&self, now: u64) -> Result<Arc<UserSig>, Error> {
        {
            let entry = self.current.load();
            if now <= entry.validity.expires_at() {
                return Ok(Arc::clone(&entry.usersig));
            }
        }
        self.regenerate(now, |entry| now > entry.validity.expires_at()).map(|(usersig, _)| usersig)
    }

    /// The UNIX second from which the cached UserSig is due for refresh: its expiry minus the margin.
    pub fn refresh_at(&self) -> u64 {
        self.current.load().refresh_at
    }

    /// The cached UserSig's validity.
    pub fn validity(&self) -> Validity {
        self.current.load().validity
    }

    /// Replaces the cached UserSig with one issued at `now` if it is due (`now >= refresh_at`). Returns whether
    /// it did. Readers keep getting the old UserSig until the new one is stored, never a missing one.
    pub fn refresh_if_due(&self, now: u64) -> Result<bool, Error> {
        if now < self.current.load().refresh_at {
            return Ok(false);
        }
        self.regenerate(now, |entry| now >= entry.refresh_at).map(|(_, regenerated)| regenerated)
    }

    /// Replaces the cached UserSig with one issued at `now`, due or not (for example after Tencent refused it).
    pub fn force_refresh(&self, now: u64) -> Result<Arc<UserSig>, Error> {
        self.regenerate(now, |_| true).map(|(usersig, _)| usersig)
    }

    /// Regenerates under the lock if `needed` still holds once the lock is held: another caller may have
    /// regenerated in the meantime. Returns the UserSig now cached and whether this call made it.
    fn regenerate(&self, now: u64, needed: impl Fn(&Entry) -> bool) -> Result<(Arc<UserSig>, bool), Error> {
        let _lock = self.regenerating.lock().unwrap_or_else(PoisonError::into_inner);
        let current = self.current.load_full();
        if !needed(&current) {
            return Ok((Arc::clone(&current.usersig), false));
        }
        let entry = make_entry(&self.signer, &self.identifier, self.lifetime_secs, self.refresh_margin_secs, now)?;
        let usersig = Arc::clone(&entry.usersig);
        self.current.store(Arc::new(entry));
        Ok((usersig, true))
    }
}

fn make_entry(
    signer: &Signer,
    identifier: &str,
    lifetime_secs: u64,
    refresh_margin_secs: u64,
    now: u64,
) -> Result<Entry, Error> {
    let validity = Validity { issued_at: now, expire_secs: lifetime_secs };
    let usersig = Arc::new(signer.generate(identifier, validity)?);
    let refresh_at = validity.expires_at().saturating_sub(refresh_margin_secs);
    Ok(Entry { usersig, validity, refresh_at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    const T0: u64 = 1_700_000_000;

    fn signer() -> Signer {
        Signer::new(1_400_000_000, SecretKey::new("test-key").unwrap())
    }

    fn cache(config: AdminSigConfig) -> AdminSigCache {
        AdminSigCache::new(signer(), config, T0).unwrap()
    }

    #[test]
    fn default_margin_is_ten_percent_of_the_lifetime() {
        assert_eq!(AdminSigConfig::new("admin").effective_refresh_margin_secs(), 8_640);
        assert_eq!(AdminSigConfig::new("admin").lifetime_secs(1_000).effective_refresh_margin_secs(), 100);
        assert_eq!(AdminSigConfig::new("admin").lifetime_secs(55).effective_refresh_margin_secs(), 5);
        assert_eq!(AdminSigConfig::new("admin").lifetime_secs(u64::MAX).effective_refresh_margin_secs(), u64::MAX / 10);
        let cache = cache(AdminSigConfig::new("admin"));
        assert_eq!(cache.refresh_at(), T0 + 86_400 - 8_640);
        assert_eq!(cache.validity(), Validity { issued_at: T0, expire_secs: 86_400 });
    }

    #[test]
    fn get_returns_the_same_usersig_while_it_is_valid() {
        let cache = cache(AdminSigConfig::new("admin").lifetime_secs(1_000).refresh_margin_secs(100));
        let first = cache.get(T0).unwrap();
        // Before the refresh point, at it, and up to the last valid second: the very same allocation.
        for now in [T0, T0 + 899, T0 + 900, T0 + 1_000] {
            assert!(Arc::ptr_eq(&first, &cache.get(now).unwrap()), "now = T0 + {}", now - T0);
        }
        signer().verify(first.expose(), "admin", T0 + 1_000).unwrap();
    }

    #[test]
    fn refresh_happens_at_the_margin_and_only_once() {
        let cache = cache(AdminSigConfig::new("admin").lifetime_secs(1_000).refresh_margin_secs(100));
        let first = cache.get(T0).unwrap();
        assert!(!cache.refresh_if_due(T0 + 899).unwrap());
        assert!(Arc::ptr_eq(&first, &cache.get(T0 + 899).unwrap()));
        assert!(cache.refresh_if_due(T0 + 900).unwrap());
        assert!(!cache.refresh_if_due(T0 + 900).unwrap());
        let second = cache.get(T0 + 900).unwrap();
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(cache.validity(), Validity { issued_at: T0 + 900, expire_secs: 1_000 });
        assert_eq!(cache.refresh_at(), T0 + 1_800);
        signer().verify(second.expose(), "admin", T0 + 1_900).unwrap();
    }

    #[test]
    fn an_expired_usersig_is_regenerated_by_get() {
        let cache = cache(AdminSigConfig::new("admin").lifetime_secs(1_000));
        let first = cache.get(T0).unwrap();
        let late = T0 + 1_001;
        assert!(matches!(signer().verify(first.expose(), "admin", late), Err(Error::Expired { .. })));
        let fresh = cache.get(late).unwrap();
        assert!(!Arc::ptr_eq(&first, &fresh));
        signer().verify(fresh.expose(), "admin", late).unwrap();
        assert!(Arc::ptr_eq(&fresh, &cache.get(late).unwrap()));
    }

    #[test]
    fn force_refresh_always_replaces() {
        let cache = cache(AdminSigConfig::new("admin"));
        let first = cache.get(T0).unwrap();
        let forced = cache.force_refresh(T0 + 1).unwrap();
        assert!(!Arc::ptr_eq(&first, &forced));
        assert!(Arc::ptr_eq(&forced, &cache.get(T0 + 1).unwrap()));
    }

    #[test]
    fn concurrent_readers_of_an_expired_usersig_share_one_regeneration() {
        let cache = cache(AdminSigConfig::new("admin").lifetime_secs(10));
        let late = T0 + 11;
        let got: Vec<Arc<UserSig>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8).map(|_| scope.spawn(|| cache.get(late).unwrap())).collect();
            handles.into_iter().map(|handle| handle.join().unwrap()).collect()
        });
        assert!(got.iter().all(|usersig| Arc::ptr_eq(usersig, &got[0])));
    }

    #[test]
    fn a_margin_not_shorter_than_the_lifetime_is_refused() {
        for (lifetime, margin) in [(100, 100), (100, 101), (0, 0)] {
            let config = AdminSigConfig::new("admin").lifetime_secs(lifetime).refresh_margin_secs(margin);
            assert_eq!(
                AdminSigCache::new(signer(), config, T0).unwrap_err(),
                Error::RefreshMarginTooLarge { margin_secs: margin, lifetime_secs: lifetime }
            );
        }
        // A lifetime of 0 with the default margin (0) is refused too: it would always be due.
        let config = AdminSigConfig::new("admin").lifetime_secs(0);
        assert!(matches!(AdminSigCache::new(signer(), config, T0), Err(Error::RefreshMarginTooLarge { .. })));
    }
}
