//! The client: one pooled connection set, the admin UserSig, quota pacing and retries, shared by every call.
//!
//! [`Client`] is cheap to clone and `Send + Sync`. Typed calls ([`Client::call`]) validate the request, pin its
//! deduplication keys once, serialize it once and send those same bytes on every attempt. The generic call
//! ([`Client::call_json`]) does the same for any of the 143 commands with a JSON body.

use crate::config::{ClientConfig, WallClock};
use crate::departure::Fence;
use crate::error::{BuildError, Error};
use crate::fanout::CancelHandle;
use crate::http::HttpClient;
use crate::pacing::Pacer;
use crate::retry::{Counters, Operation, RetryBudget, RetryPolicy, TransportStats, execute};
use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use std::fmt;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;
use tim_model::api::TypedRequest;
use tim_model::command::{self, Command};
use tim_model::registry::check_request_json;
use tim_sig::{AdminSigCache, AdminSigConfig, SecretKey, Signer, UserSig};
use tokio::time::Instant;

/// Where the admin UserSig comes from. [`AdminSigCache`] is the usual one; apps that sign elsewhere implement
/// this. Errors are plain text that must not contain the key or a UserSig.
pub trait UserSigProvider: Send + Sync + 'static {
    /// The UserSig for a request sent at `now` (UNIX seconds). Must be cheap: it is on every request's path.
    fn usersig(&self, now: u64) -> Result<Arc<UserSig>, String>;
    /// A newly generated UserSig, after the service refused the current one.
    fn force_refresh(&self, now: u64) -> Result<Arc<UserSig>, String>;
    /// When the current UserSig should be replaced ahead of expiry, if the provider wants a timer to do it.
    fn refresh_at(&self) -> Option<u64> {
        None
    }
    /// Replaces the UserSig if it is due; called by the client's timer at [`Self::refresh_at`].
    fn refresh_if_due(&self, now: u64) -> Result<(), String> {
        let _ = now;
        Ok(())
    }
}

impl UserSigProvider for AdminSigCache {
    fn usersig(&self, now: u64) -> Result<Arc<UserSig>, String> {
        self.get(now).map_err(|e| e.to_string())
    }
    fn force_refresh(&self, now: u64) -> Result<Arc<UserSig>, String> {
        AdminSigCache::force_refresh(self, now).map_err(|e| e.to_string())
    }
    fn refresh_at(&self) -> Option<u64> {
        Some(AdminSigCache::refresh_at(self))
    }
    fn refresh_if_due(&self, now: u64) -> Result<(), String> {
        AdminSigCache::refresh_if_due(self, now).map(|_| ()).map_err(|e| e.to_string())
    }
}

/// How long calls go to the standby domain after the main one could not be connected to, before the main one is
/// tried again.
pub const FAILOVER_COOLDOWN: Duration = Duration::from_secs(300);

/// A Tencent Cloud Chat REST client. Clone it freely: clones share the pool, the UserSig, the quotas and the
/// retry budget.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    base_url: String,
    /// Where calls fail over to while `base_url` cannot be connected to.
    standby_url: Option<String>,
    /// Until when (UNIX ms by the wall clock) calls go to the standby; 0: the main base URL.
    standby_until_ms: std::sync::atomic::AtomicU64,
    sdkappid: u64,
    identifier: String,
    identifier_query: String,
    sigs: Arc<dyn UserSigProvider>,
    pacer: Pacer,
    policy: RetryPolicy,
    budget: RetryBudget,
    operation_timeout: Duration,
    refresher: OnceLock<()>,
    stats: Counters,
    wall: WallClock,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The UserSig and the key are deliberately absent.
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("sdkappid", &self.inner.sdkappid)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the app `sdkappid`, calling as the admin `identifier`, signing its own admin UserSig with `key`.
    pub fn new(sdkappid: u64, identifier: &str, key: SecretKey, config: ClientConfig) -> Result<Self, BuildError> {
        let signer = Signer::new(sdkappid, key);
        let sig_config = AdminSigConfig::new(identifier).lifetime_secs(config.admin_sig_lifetime_secs);
        let now = (config.wall_clock)() / 1000;
        let cache = AdminSigCache::new(signer, sig_config, now).map_err(|e| BuildError(e.to_string()))?;
        Self::with_provider(sdkappid, identifier, Arc::new(cache), config)
    }

    /// A client whose admin UserSigs come from `provider`.
    pub fn with_provider(
        sdkappid: u64,
        identifier: &str,
        provider: Arc<dyn UserSigProvider>,
        config: ClientConfig,
    ) -> Result<Self, BuildError> {
        if identifier.is_empty() {
            return Err(BuildError("the admin identifier is empty".to_owned()));
        }
        let base_url = config.endpoint.base_url().map_err(BuildError)?;
        let standby_url = config.endpoint.standby_url().map_err(BuildError)?;
        let http = HttpClient::new(&config).map_err(BuildError)?;
        let pacer = match (&config.shared_quota, config.pacing) {
            (_, false) => Pacer::unlimited(),
            (None, true) => Pacer::new(&config.quota_overrides),
            #[cfg(feature = "shared-quota")]
            (Some(shared), true) => Pacer::shared(&config.quota_overrides, shared, sdkappid).map_err(BuildError)?,
            #[cfg(not(feature = "shared-quota"))]
            (Some(_), true) => {
                return Err(BuildError("a shared quota needs tim-transport's `shared-quota` feature".to_owned()));
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url,
                standby_url,
                standby_until_ms: std::sync::atomic::AtomicU64::new(0),
                sdkappid,
                identifier: identifier.to_owned(),
                identifier_query: percent_encode(identifier),
                sigs: provider,
                pacer,
                budget: RetryBudget::new(&config.retry),
                policy: config.retry,
                operation_timeout: config.operation_timeout,
                refresher: OnceLock::new(),
                stats: Counters::default(),
                wall: config.wall_clock,
            }),
        })
    }

    /// The admin identifier this client calls as (the sender of messages that name none).
    pub fn identifier(&self) -> &str {
        &self.inner.identifier
    }

    /// The current UNIX time in milliseconds by the client's wall clock.
    pub fn wall_clock_ms(&self) -> i64 {
        i64::try_from((self.inner.wall)()).unwrap_or(i64::MAX)
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// What this client's calls did so far: attempts, retries, quota waits.
    pub fn stats(&self) -> TransportStats {
        let mut stats = self.inner.stats.snapshot();
        if let Some(shared) = self.inner.pacer.shared_stats() {
            stats.shared_quota_reservations = shared.reservations;
            stats.shared_quota_fallbacks = shared.fallbacks;
            stats.shared_quota_unreachable = shared.unreachable;
        }
        stats
    }

    /// The pacer shared by this client's calls.
    pub fn pacer(&self) -> &Pacer {
        &self.inner.pacer
    }

    /// Sends a typed request: validates it, fixes its deduplication keys (drawing absent ones from the operating
    /// system's CSPRNG), serializes it once and sends the same bytes on every attempt.
    ///
    /// Success is `ErrorCode` 0 (which includes batchsendmsg's partial `SomeError`: read its `ErrorList`) or a code
    /// meaning the work was already done (20023 "already recalled").
    ///
    /// A request that breaks a documented rule is refused before anything is sent, with every broken rule and its
    /// field (see the crate's example for a call that goes through):
    ///
    /// ```
    /// use tim_model::c2c::SendMsgRequest;
    /// use tim_model::{MsgBody, UserId};
    /// use tim_sig::SecretKey;
    /// use tim_transport::{Client, ClientConfig, Endpoint, Error};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = ClientConfig::new(Endpoint::BaseUrl("http://127.0.0.1:9".into()));
    /// let client = Client::new(1_400_000_000, "administrator", SecretKey::new("console-secret")?, config)?;
    ///
    /// let mut request = SendMsgRequest::new(UserId::new("bob")?, MsgBody::text("x".repeat(13_000)));
    /// request.msg_life_time = Some(700_000); // more than the 7 days allowed
    /// let Err(Error::Invalid { errors, .. }) = client.call(request).await else { panic!("sent") };
    /// assert!(errors.concerns("MsgLifeTime") && errors.concerns("MsgBody"));
    /// assert_eq!(errors.errors().len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn call<R: TypedRequest>(&self, mut request: R) -> Result<R::Response, Error> {
        let command = R::command();
        request.pin_dedupe_keys(&mut rand::random::<u32>);
        request.validate().map_err(|errors| Error::Invalid { command: command.path, errors })?;
        let recipients = request.recipients();
        let body = serde_json::to_vec(&request)
            .map_err(|e| Error::NotSent { command: command.path, reason: format!("cannot encode the request: {e}") })?;
        let answer = self.send_bytes(command, Bytes::from(body), recipients).await?;
        serde_json::from_slice(&answer).map_err(|e| Error::Unreadable {
            command: command.path,
            status: 200,
            detail: format!("the answer does not match the documented response: {e}"),
            raw: answer,
        })
    }

    /// Sends any of the 143 commands (`openim/sendmsg`, `v4/openim/sendmsg` or `/v4/openim/sendmsg`) with a JSON
    /// object body, with the same pacing, retries and errors as [`Client::call`]. Deduplication keys the command
    /// table pins (`MsgRandom`, `Random`, `MsgSeq`, `MsgList[].Random`) are filled in when absent; bodies of
    /// commands with typed models are validated.
    ///
    /// ```
    /// use serde_json::json;
    /// use tim_sig::SecretKey;
    /// use tim_transport::{Client, ClientConfig, Endpoint};
    /// # use tim_emulator::Emulator;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let clock = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    /// # let emulator = Emulator::builder(1_400_000_000, SecretKey::new("console-secret")?, clock).build()?;
    /// # let emulator = emulator.serve(tokio::net::TcpListener::bind("127.0.0.1:0").await?)?;
    /// # let config = ClientConfig::new(Endpoint::BaseUrl(emulator.base_url()));
    /// # let client = Client::new(1_400_000_000, "administrator", SecretKey::new("console-secret")?, config)?;
    /// let answer = client.call_json("im_open_login_svc/account_check", json!({"CheckItem": [{"UserID": "carol"}]})).await?;
    /// assert_eq!(answer["ResultItem"][0]["AccountStatus"], "NotImported");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn call_json(&self, command: &str, mut body: Value) -> Result<Value, Error> {
        let command = command::find(command).ok_or_else(|| Error::NotSent {
            command: "unknown",
            reason: format!("{command:?} is not a REST command (form: openim/sendmsg)"),
        })?;
        tim_model::api::pin_json_dedupe_keys(command, &mut body, &mut rand::random::<u32>);
        let bytes = serde_json::to_vec(&body)
            .map_err(|e| Error::NotSent { command: command.path, reason: format!("cannot encode the body: {e}") })?;
        check_request_json(command.id, &bytes, None)
            .map_err(|errors| Error::Invalid { command: command.path, errors })?;
        let recipients = tim_model::api::json_recipients(command.id, &body);
        let answer = self.send_bytes(command, Bytes::from(bytes), recipients).await?;
        serde_json::from_slice(&answer).map_err(|e| Error::Unreadable {
            command: command.path,
            status: 200,
            detail: e.to_string(),
            raw: answer,
        })
    }

    /// Sends a body that is already final (validated, with its deduplication keys pinned) for `command`, with
    /// pacing (counting `recipients` for quotas counted in recipients) and retries; returns the answer's body when
    /// its `ErrorCode` is 0. For callers that serialize themselves, like the fan-out engine.
    pub async fn send_bytes(&self, command: &'static Command, body: Bytes, recipients: u32) -> Result<Bytes, Error> {
        self.send(command, body, recipients, None, None).await
    }

    /// [`Client::send_bytes`], stopped by `cancel` while it waits for its quota or a backoff: before anything
    /// left it ends in [`Error::NotSent`]; after an attempt that may have acted, in [`Error::OutcomeUnknown`].
    /// An attempt already on its way is never interrupted.
    pub async fn send_bytes_unless_cancelled(
        &self,
        command: &'static Command,
        body: Bytes,
        recipients: u32,
        cancel: &CancelHandle,
    ) -> Result<Bytes, Error> {
        self.send(command, body, recipients, Some(cancel), None).await
    }

    /// [`Client::send_bytes_unless_cancelled`], and every attempt leaves only while `fence` is open (checked as
    /// its bytes are about to leave): an attempt the fence keeps back never left, so the call ends in
    /// [`Error::NotSent`] when no earlier attempt may have acted.
    pub async fn send_bytes_fenced(
        &self,
        command: &'static Command,
        body: Bytes,
        recipients: u32,
        cancel: &CancelHandle,
        fence: &Fence,
    ) -> Result<Bytes, Error> {
        self.send(command, body, recipients, Some(cancel), Some(fence)).await
    }

    async fn send(
        &self,
        command: &'static Command,
        body: Bytes,
        recipients: u32,
        cancel: Option<&CancelHandle>,
        fence: Option<&Fence>,
    ) -> Result<Bytes, Error> {
        self.ensure_refresher();
        let inner = &*self.inner;
        let operation = Operation {
            command,
            policy: &inner.policy,
            budget: &inner.budget,
            pacer: &inner.pacer,
            recipients,
            deadline: Instant::now() + inner.operation_timeout,
            stats: &inner.stats,
            wall: &inner.wall,
            cancel,
            fence,
        };
        // The URL's `random` of the latest attempt, for the error (Tencent support asks for it) and the logs.
        let latest = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let result = execute(operation, |refresh_sig, departure| {
            let body = body.clone();
            let latest = Arc::clone(&latest);
            async move {
                let now = inner.now_unix();
                let sig = if refresh_sig { inner.sigs.force_refresh(now) } else { inner.sigs.usersig(now) };
                let sig = match sig {
                    Ok(sig) => sig,
                    Err(reason) => return crate::http::Attempt::ConnectFailed(format!("no admin UserSig: {reason}")),
                };
                let (base, on_standby) = inner.current_base();
                let random = rand::random::<u32>();
                latest.store(random, std::sync::atomic::Ordering::Relaxed);
                tracing::debug!(command = command.path, random, standby = on_standby, "sending an attempt");
                let url = inner.url(base, command, &sig, random);
                let attempt = inner.http.post(&url, body, departure).await;
                if let crate::http::Attempt::ConnectFailed(detail) = &attempt
                    && !on_standby
                {
                    inner.fail_over(detail);
                }
                attempt
            }
        })
        .await;
        result.map_err(|mut error| {
            error.set_request_random(latest.load(std::sync::atomic::Ordering::Relaxed));
            error
        })
    }

    /// Starts, once, the timer that replaces the admin UserSig ahead of expiry. It holds only a weak reference
    /// and ends when the last clone of the client is dropped.
    fn ensure_refresher(&self) {
        if self.inner.sigs.refresh_at().is_none() {
            return;
        }
        self.inner.refresher.get_or_init(|| {
            let weak = Arc::downgrade(&self.inner);
            tokio::spawn(refresh_loop(weak));
        });
    }
}

async fn refresh_loop(inner: Weak<Inner>) {
    const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);
    loop {
        let wait = {
            let Some(inner) = inner.upgrade() else { return };
            let Some(at) = inner.sigs.refresh_at() else { return };
            Duration::from_secs(at.saturating_sub(inner.now_unix()).max(1))
        };
        // Wake at least once a minute so a dropped client ends its timer soon.
        tokio::time::sleep(wait.min(Duration::from_secs(60))).await;
        let Some(inner) = inner.upgrade() else { return };
        if let Err(reason) = inner.sigs.refresh_if_due(inner.now_unix()) {
            tracing::warn!(%reason, "cannot refresh the admin UserSig; will try again");
            drop(inner);
            tokio::time::sleep(RETRY_AFTER_FAILURE).await;
        }
    }
}

impl Inner {
    /// The current UNIX time in seconds by the client's wall clock (the UserSig's clock).
    fn now_unix(&self) -> u64 {
        (self.wall)() / 1000
    }

    /// Where calls go now, and whether that is the standby.
    fn current_base(&self) -> (&str, bool) {
        match &self.standby_url {
            Some(standby) if self.standby_until_ms.load(std::sync::atomic::Ordering::Relaxed) > (self.wall)() => {
                (standby, true)
            }
            _ => (&self.base_url, false),
        }
    }

    /// The main base URL cannot be connected to: calls go to the standby for [`FAILOVER_COOLDOWN`], then try the
    /// main one again.
    fn fail_over(&self, detail: &str) {
        if self.standby_url.is_none() {
            return;
        }
        let until = (self.wall)() + FAILOVER_COOLDOWN.as_millis() as u64;
        let before = self.standby_until_ms.swap(until, std::sync::atomic::Ordering::Relaxed);
        if before <= (self.wall)() {
            tracing::warn!(%detail, cooldown = ?FAILOVER_COOLDOWN, "cannot connect to the main domain: calls go to the standby domain");
        }
    }

    fn url(&self, base: &str, command: &Command, sig: &UserSig, random: u32) -> String {
        format!(
            "{}/{}?sdkappid={}&identifier={}&usersig={}&random={}&contenttype=json",
            base,
            command.path,
            self.sdkappid,
            self.identifier_query,
            sig.expose(),
            random
        )
    }
}

/// Bytes kept as they are in a query value: the unreserved characters of RFC 3986.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes a query value (the admin identifier may hold any character).
fn percent_encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_percent_encoded() {
        assert_eq!(percent_encode("admin"), "admin");
        assert_eq!(percent_encode("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(percent_encode("管"), "%E7%AE%A1");
    }
}
