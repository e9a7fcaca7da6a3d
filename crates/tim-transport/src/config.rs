//! Where the client sends its requests and how: regions, endpoints, timeouts, the connection pool, retries and
//! quota overrides. Every knob has a named default; nothing here reads the environment.

use crate::retry::RetryPolicy;
use std::collections::HashMap;
use std::time::Duration;
use tim_model::command::{CommandId, Quota};

/// A data-center region of Tencent Cloud Chat (spec §1.2). The SDKAppID's region decides which one to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Region {
    /// Chinese mainland.
    ChineseMainland,
    /// Singapore.
    Singapore,
    /// Seoul.
    Seoul,
    /// Frankfurt.
    Frankfurt,
    /// Mumbai.
    Mumbai,
    /// Silicon Valley.
    SiliconValley,
    /// Jakarta.
    Jakarta,
    /// Tokyo.
    Tokyo,
    /// Riyadh.
    Riyadh,
}

impl Region {
    /// Every region, in the order of the documentation.
    pub const ALL: [Region; 9] = [
        Self::ChineseMainland,
        Self::Singapore,
        Self::Seoul,
        Self::Frankfurt,
        Self::Mumbai,
        Self::SiliconValley,
        Self::Jakarta,
        Self::Tokyo,
        Self::Riyadh,
    ];

    /// Every short name, for messages: `cn, sgp, kr, ger, ind, usa, idn, jpn, ksa`.
    pub const NAMES: &'static str = "cn, sgp, kr, ger, ind, usa, idn, jpn, ksa";

    /// The short name used in configuration: `cn`, `sgp`, `kr`, `ger`, `ind`, `usa`, `idn`, `jpn`, `ksa`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ChineseMainland => "cn",
            Self::Singapore => "sgp",
            Self::Seoul => "kr",
            Self::Frankfurt => "ger",
            Self::Mumbai => "ind",
            Self::SiliconValley => "usa",
            Self::Jakarta => "idn",
            Self::Tokyo => "jpn",
            Self::Riyadh => "ksa",
        }
    }

    /// Parses a short name (see [`Region::name`]), case-insensitively.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|region| region.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The region's API domain.
    pub fn domain(self) -> &'static str {
        match self {
            Self::ChineseMainland => "console.tim.qq.com",
            Self::Singapore => "adminapisgp.im.qcloud.com",
            Self::Seoul => "adminapikr.im.qcloud.com",
            Self::Frankfurt => "adminapiger.im.qcloud.com",
            Self::Mumbai => "adminapiind.im.qcloud.com",
            Self::SiliconValley => "adminapiusa.im.qcloud.com",
            Self::Jakarta => "adminapiidn.im.qcloud.com",
            Self::Tokyo => "adminapijpn.im.qcloud.com",
            Self::Riyadh => "adminapiksa.im.qcloud.com",
        }
    }

    /// The standby domain, for use when the main one is unreachable or its DNS is hijacked (none where our sources
    /// document none).
    pub fn standby_domain(self) -> Option<&'static str> {
        match self {
            Self::ChineseMainland => Some("adminapi.my-imcloud.com"),
            Self::Singapore => Some("adminapisgp.my-imcloud.com"),
            Self::Seoul => Some("adminapikr.my-imcloud.com"),
            Self::Frankfurt => Some("adminapiger.my-imcloud.com"),
            Self::Mumbai => Some("adminapiind.my-imcloud.com"),
            Self::SiliconValley => Some("adminapiusa.my-imcloud.com"),
            Self::Jakarta | Self::Tokyo | Self::Riyadh => None,
        }
    }
}

/// Where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A region's domain over HTTPS. Unless `standby`, calls go to the main domain and fail over to the standby
    /// domain (when the region has one) while the main one cannot be connected to; `standby` uses only the standby
    /// domain.
    Region {
        /// The region.
        region: Region,
        /// Use the standby domain only.
        standby: bool,
    },
    /// Two base URLs: calls go to `primary` and fail over to `standby` while `primary` cannot be connected to.
    Failover {
        /// Where calls go.
        primary: String,
        /// Where they go while `primary` cannot be connected to.
        standby: String,
    },
    /// An explicit base URL such as `https://example.com` or `http://127.0.0.1:8080` (plain HTTP is allowed for
    /// loopback tests and the emulator).
    BaseUrl(String),
}

impl Endpoint {
    /// The standby base URL to fail over to, if any.
    pub fn standby_url(&self) -> Result<Option<String>, String> {
        match self {
            Self::Region { region, standby: false } => {
                Ok(region.standby_domain().map(|domain| format!("https://{domain}")))
            }
            Self::Failover { standby, .. } => Self::BaseUrl(standby.clone()).base_url().map(Some),
            Self::Region { standby: true, .. } | Self::BaseUrl(_) => Ok(None),
        }
    }

    /// The base URL without a trailing slash.
    pub fn base_url(&self) -> Result<String, String> {
        match self {
            Self::Failover { primary, .. } => Self::BaseUrl(primary.clone()).base_url(),
            Self::Region { region, standby: false } => Ok(format!("https://{}", region.domain())),
            Self::Region { region, standby: true } => region
                .standby_domain()
                .map(|domain| format!("https://{domain}"))
                .ok_or_else(|| format!("region {} has no standby domain", region.name())),
            Self::BaseUrl(url) => {
                let trimmed = url.trim_end_matches('/');
                let rest = trimmed
                    .strip_prefix("https://")
                    .or_else(|| trimmed.strip_prefix("http://"))
                    .ok_or_else(|| format!("base URL {url:?} must start with http:// or https://"))?;
                if rest.is_empty() || rest.contains(['?', '#']) {
                    return Err(format!("base URL {url:?} must be a scheme and a host, with an optional path"));
                }
                Ok(trimmed.to_owned())
            }
        }
    }
}

/// Connect timeout used unless configured.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Per-attempt timeout used unless configured: above Tencent's 3 s server-side timeout, as the docs ask.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Whole-operation timeout (all attempts and waits) used unless configured.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle connections kept per host unless configured.
pub const DEFAULT_POOL_MAX_IDLE_PER_HOST: usize = 256;
/// How long an idle pooled connection is kept unless configured.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// Quota overrides as configuration writes them: `(command, rate)` pairs (`"openim/sendmsg"`, `"500/s"` or
/// `"N/day"`) replacing those commands' call rates, and batchsendmsg's recipients per minute. The one parser of
/// quota settings: `tim serve`'s `[quotas]` and the `--quota` flags of `tim call` and `tim fanout` both use it.
/// The error names the setting that is wrong.
pub fn quota_overrides<'a>(
    rates: impl IntoIterator<Item = (&'a str, &'a str)>,
    batchsendmsg_recipients_per_minute: Option<u32>,
) -> Result<HashMap<CommandId, Quota>, String> {
    let mut overrides = HashMap::new();
    for (path, rate) in rates {
        let command = tim_model::command::find(path).ok_or_else(|| format!("{path:?} is not a REST command"))?;
        let mut quota = command.quota;
        quota.calls = tim_model::command::Rate::parse(rate).map_err(|reason| format!("{path}: {rate:?}: {reason}"))?;
        overrides.insert(command.id, quota);
    }
    if let Some(per_minute) = batchsendmsg_recipients_per_minute {
        let id = CommandId::BatchSendMsg;
        let mut quota = overrides.get(&id).copied().unwrap_or(id.command().quota);
        quota.recipients_per_minute = Some(per_minute);
        overrides.insert(id, quota);
    }
    Ok(overrides)
}

/// The wall clock, in UNIX milliseconds: what the client signs UserSigs with and measures the calendar-second
/// dedupe windows by. [`system_wall_clock`] unless a test injects its own.
pub type WallClock = std::sync::Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system's wall clock in UNIX milliseconds (0 before 1970).
pub fn system_wall_clock() -> WallClock {
    std::sync::Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
    })
}

/// Everything about the client except the credentials.
#[derive(Clone)]
pub struct ClientConfig {
    /// Where requests go.
    pub endpoint: Endpoint,
    /// TCP (and TLS) connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of one attempt, from sending to the whole response read.
    pub attempt_timeout: Duration,
    /// Timeout of one operation: every attempt, backoff and quota wait.
    pub operation_timeout: Duration,
    /// Idle connections kept per host.
    pub pool_max_idle_per_host: usize,
    /// How long an idle connection is kept.
    pub pool_idle_timeout: Duration,
    /// Extra trusted CA certificates, PEM, added to the public web roots.
    pub extra_ca_pem: Vec<Vec<u8>>,
    /// Retry schedule and budget.
    pub retry: RetryPolicy,
    /// Whether calls are paced to the quotas (on by default; off for benchmarks or when pacing happens elsewhere).
    pub pacing: bool,
    /// Quotas that replace the command table's defaults, for apps that bought more.
    pub quota_overrides: HashMap<CommandId, Quota>,
    /// One quota shared with the app's other processes through Redis (needs the `shared-quota` feature); `None`:
    /// this process paces alone.
    pub shared_quota: Option<SharedQuotaConfig>,
    /// Lifetime of the admin UserSig the client generates, in seconds.
    pub admin_sig_lifetime_secs: u64,
    /// The wall clock (UserSig times and the calendar-second dedupe windows); the system's by default. Tests that
    /// pause tokio's clock give one that follows it.
    pub wall_clock: WallClock,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("endpoint", &self.endpoint)
            .field("connect_timeout", &self.connect_timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("operation_timeout", &self.operation_timeout)
            .field("pool_max_idle_per_host", &self.pool_max_idle_per_host)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("extra_ca_pem", &self.extra_ca_pem.len())
            .field("retry", &self.retry)
            .field("pacing", &self.pacing)
            .field("quota_overrides", &self.quota_overrides)
            .field("shared_quota", &self.shared_quota)
            .field("admin_sig_lifetime_secs", &self.admin_sig_lifetime_secs)
            .finish_non_exhaustive()
    }
}

/// Pacing shared by the processes that call for one app (several gateway replicas): every command's schedule
/// lives in Redis, so the sum of their rates stays within the app's quota (see [`crate::pacing`]).
#[derive(Clone)]
pub struct SharedQuotaConfig {
    /// The Redis server: `redis://[:password@]host:port[/db]` or `redis+unix:///path`.
    pub url: String,
    /// How many processes share the quota. While Redis cannot be reached, each paces alone at this share of it
    /// (never at the whole quota).
    pub replicas: u32,
    /// The keys' prefix: each command's schedule is `{prefix}:{sdkappid}:{command path}`.
    pub key_prefix: String,
    /// How long connecting to Redis or one script call may take before this process paces at its share.
    pub timeout: Duration,
    /// How long this process paces at its share after Redis failed, before it tries Redis again.
    pub retry_after: Duration,
}

impl SharedQuotaConfig {
    /// Redis at `url`, shared by `replicas` processes, with the default prefix and timeouts.
    pub fn new(url: impl Into<String>, replicas: u32) -> Self {
        Self {
            url: url.into(),
            replicas: replicas.max(1),
            key_prefix: "tim:quota".to_owned(),
            timeout: Duration::from_millis(250),
            retry_after: Duration::from_secs(1),
        }
    }

    /// The URL with any password hidden, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

/// `url` with its credentials (whatever stands before `@`) hidden, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://<redacted>{}", &url[at..]),
        _ => url.to_owned(),
    }
}

impl std::fmt::Debug for SharedQuotaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedQuotaConfig")
            .field("url", &self.redacted_url())
            .field("replicas", &self.replicas)
            .field("key_prefix", &self.key_prefix)
            .field("timeout", &self.timeout)
            .field("retry_after", &self.retry_after)
            .finish()
    }
}

impl ClientConfig {
    /// The defaults, sending to `endpoint`.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            pool_max_idle_per_host: DEFAULT_POOL_MAX_IDLE_PER_HOST,
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            extra_ca_pem: Vec::new(),
            retry: RetryPolicy::default(),
            pacing: true,
            quota_overrides: HashMap::new(),
            shared_quota: None,
            admin_sig_lifetime_secs: tim_sig::DEFAULT_ADMIN_LIFETIME_SECS,
            wall_clock: system_wall_clock(),
        }
    }
}

/// The TLS client settings every connection of tim makes (to Tencent, to PostgreSQL): the web PKI's roots plus the
/// PEM certificates of `extra_ca_pem` (a private CA), ring as the one crypto provider, TLS 1.2 and 1.3, server
/// names verified. Fails when an extra certificate cannot be read.
pub fn tls_client_config(extra_ca_pem: &[Vec<u8>]) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for (i, pem) in extra_ca_pem.iter().enumerate() {
        let mut reader = std::io::BufReader::new(pem.as_slice());
        let mut found = 0;
        for certificate in rustls_pemfile::certs(&mut reader) {
            let certificate = certificate.map_err(|e| format!("extra CA certificate {i} is not valid PEM: {e}"))?;
            roots.add(certificate).map_err(|e| format!("extra CA certificate {i} is refused: {e}"))?;
            found += 1;
        }
        if found == 0 {
            return Err(format!("extra CA certificate {i} holds no PEM certificate"));
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_parse_by_name_and_have_https_urls() {
        for region in Region::ALL {
            assert_eq!(Region::parse(region.name()), Some(region));
            let url = Endpoint::Region { region, standby: false }.base_url().unwrap();
            assert_eq!(url, format!("https://{}", region.domain()));
        }
        assert_eq!(Region::parse("SGP"), Some(Region::Singapore));
        assert_eq!(Region::parse("mars"), None);
        assert!(Endpoint::Region { region: Region::Jakarta, standby: true }.base_url().is_err());
        assert_eq!(
            Endpoint::Region { region: Region::Frankfurt, standby: true }.base_url().unwrap(),
            "https://adminapiger.my-imcloud.com"
        );
    }

    #[test]
    fn a_shared_quota_url_never_shows_its_password() {
        let config = SharedQuotaConfig::new("redis://:s3cret@10.0.0.5:6379/2", 3);
        assert_eq!(config.redacted_url(), "redis://<redacted>@10.0.0.5:6379/2");
        assert!(!format!("{config:?}").contains("s3cret"));
        assert_eq!(SharedQuotaConfig::new("redis://127.0.0.1:6379", 0).replicas, 1);
        assert_eq!(SharedQuotaConfig::new("redis://127.0.0.1:6379", 2).redacted_url(), "redis://127.0.0.1:6379");
    }

    #[test]
    fn base_urls_are_checked_and_trimmed() {
        assert_eq!(Endpoint::BaseUrl("http://127.0.0.1:8080/".into()).base_url().unwrap(), "http://127.0.0.1:8080");
        assert!(Endpoint::BaseUrl("ftp://x".into()).base_url().is_err());
        assert!(Endpoint::BaseUrl("https://".into()).base_url().is_err());
        assert!(Endpoint::BaseUrl("https://x/?a=1".into()).base_url().is_err());
    }
}
