//! The gateway's configuration: a TOML file, then environment overrides, resolved into what `tim serve` runs.
//!
//! This module reads neither files nor the environment itself: `tim serve` passes the file's text and a lookup
//! for environment variables, so the rules are testable.
//!
//! ```toml
//! listen = "127.0.0.1:50051"           # TIM_LISTEN
//! metrics_listen = "127.0.0.1:9464"    # TIM_METRICS_LISTEN
//! data_dir = "/var/lib/tim"            # TIM_DATA_DIR: durable jobs (JobService); without it jobs are refused
//!
//! [tencent]                            # leave out to run on the embedded emulator
//! sdkappid = 1400000000                # TIM_SDKAPPID
//! admin = "administrator"              # TIM_ADMIN
//! secret_key_file = "/run/secrets/tim" # or secret_key = "..." (TIM_SECRET_KEY)
//! region = "sgp"                       # TIM_REGION: cn, sgp, kr, ger, ind, usa, idn, jpn, ksa; or base_url (TIM_BASE_URL)
//!
//! [[callers]]                          # TIM_CALLER_TOKENS="name=token,name2=token2" adds callers
//! name = "billing"
//! token_sha256 = "9f86d08..."          # sha256 of the token, hex: `printf %s TOKEN | sha256sum`
//!
//! [tls]                                # leave out for plaintext
//! cert = "server.pem"
//! key = "server.key"
//! client_ca = "callers-ca.pem"         # optional: mutual TLS
//!
//! [limits]
//! max_request_bytes = 4194304
//! max_concurrent_per_caller = 256
//! shutdown_grace_secs = 30
//! fanout_concurrency = 16
//!
//! [quotas]                             # Tencent's defaults unless overridden (apps buy more)
//! pacing = true
//! "openim/sendmsg" = "500/s"
//! batchsendmsg_recipients_per_minute = 60000
//!
//! [cluster]                            # several replicas of the gateway for one app
//! redis_url = "redis://10.0.0.5:6379"  # TIM_REDIS_URL: one quota shared by every replica
//! replicas = 3                         # TIM_REPLICAS: each replica's share while Redis cannot be reached
//! postgres_url = "postgresql://tim:pw@10.0.0.6/tim"  # TIM_POSTGRES_URL: jobs shared by every replica
//! job_lease_secs = 15                  # TIM_JOB_LEASE_SECS: how soon a dead replica's jobs are taken over
//! postgres_ca_file = "/etc/tim/pg-ca.pem"  # TIM_POSTGRES_CA_FILE: with ?sslmode=require, a private CA
//!
//! [emulator]                           # used only without [tencent]
//! listen = "127.0.0.1:0"               # the emulator's own HTTP port (/emulator/stats, /emulator/inbox/USER)
//! sdkappid = 1400000000
//! auto_create_accounts = true
//! quotas = false                       # true: the emulator enforces Tencent's default quotas
//! faults = "502=0.01,lost=0.01"
//! seed = 0
//! ```

use crate::auth::Caller;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tim_model::command::{CommandId, Quota};

/// Where the gateway listens unless configured.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// Where the metrics are served unless configured.
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9464";
/// The token of the caller the gateway accepts when it runs on the embedded emulator and no caller is configured.
/// It guards nothing but the emulator; with Tencent credentials callers must be configured.
pub const DEV_TOKEN: &str = "dev-token";
/// The SDKAppID of the embedded emulator unless configured.
pub const DEFAULT_EMULATOR_SDKAPPID: u64 = 1_400_000_000;
/// The admin identifier used when none is configured (Tencent's default admin account).
pub const DEFAULT_ADMIN: &str = "administrator";

/// The file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The gRPC listener.
    pub listen: Option<SocketAddr>,
    /// The metrics listener.
    pub metrics_listen: Option<SocketAddr>,
    /// Where durable jobs live.
    pub data_dir: Option<PathBuf>,
    /// Tencent credentials and endpoint.
    pub tencent: Option<TencentSection>,
    /// Callers.
    #[serde(default)]
    pub callers: Vec<CallerSection>,
    /// TLS on the gRPC listener.
    pub tls: Option<TlsSection>,
    /// Limits.
    #[serde(default)]
    pub limits: LimitsSection,
    /// Quota pacing.
    #[serde(default)]
    pub quotas: QuotasSection,
    /// Several replicas.
    #[serde(default)]
    pub cluster: ClusterSection,
    /// The embedded emulator.
    #[serde(default)]
    pub emulator: EmulatorSection,
}

/// `[tencent]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TencentSection {
    /// The app's SDKAppID.
    pub sdkappid: Option<u64>,
    /// The admin identifier.
    pub admin: Option<String>,
    /// The secret key (prefer `secret_key_file` or `TIM_SECRET_KEY`).
    pub secret_key: Option<String>,
    /// A file holding the secret key (trailing whitespace ignored).
    pub secret_key_file: Option<PathBuf>,
    /// The region's short name.
    pub region: Option<String>,
    /// Use the region's standby domain.
    #[serde(default)]
    pub standby: bool,
    /// An explicit base URL instead of a region.
    pub base_url: Option<String>,
    /// Extra CA certificates (PEM files) trusted for the REST endpoint.
    #[serde(default)]
    pub ca_files: Vec<PathBuf>,
}

/// `[[callers]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallerSection {
    /// The caller's name (logs, metrics).
    pub name: String,
    /// SHA-256 of the caller's token, hex.
    pub token_sha256: String,
}

/// `[tls]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// The certificate chain, PEM.
    pub cert: PathBuf,
    /// The private key, PEM.
    pub key: PathBuf,
    /// CA certificates callers' certificates must chain to (mutual TLS), PEM.
    pub client_ca: Option<PathBuf>,
}

/// `[limits]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Largest request message, bytes.
    pub max_request_bytes: Option<usize>,
    /// Calls in progress per caller.
    pub max_concurrent_per_caller: Option<usize>,
    /// Seconds running fan-outs may go on after a shutdown begins.
    pub shutdown_grace_secs: Option<u64>,
    /// Chunks in flight per fan-out.
    pub fanout_concurrency: Option<usize>,
}

/// `[quotas]`: `pacing`, `batchsendmsg_recipients_per_minute`, and `"service/command" = "N/s"` or `"N/day"`.
#[derive(Debug, Default, Deserialize)]
pub struct QuotasSection {
    /// Pace calls to the quotas (default true).
    pub pacing: Option<bool>,
    /// batchsendmsg's recipients per minute.
    pub batchsendmsg_recipients_per_minute: Option<u32>,
    /// Per-command call rates.
    #[serde(flatten)]
    pub rates: BTreeMap<String, String>,
}

/// `[cluster]`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSection {
    /// Redis, where every replica paces against one quota.
    pub redis_url: Option<String>,
    /// How many replicas share the quota.
    pub replicas: Option<u32>,
    /// PostgreSQL, where every replica finds the jobs.
    pub postgres_url: Option<String>,
    /// How long a replica's lease on a job lasts without renewal, in seconds.
    pub job_lease_secs: Option<f64>,
    /// CA certificates (PEM) for PostgreSQL's certificate, with `sslmode=require`.
    pub postgres_ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for ClusterSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |url: &Option<String>| url.as_deref().map(tim_transport::config::redact_url);
        f.debug_struct("ClusterSection")
            .field("redis_url", &redact(&self.redis_url))
            .field("replicas", &self.replicas)
            .field("postgres_url", &redact(&self.postgres_url))
            .field("job_lease_secs", &self.job_lease_secs)
            .field("postgres_ca_file", &self.postgres_ca_file)
            .finish()
    }
}

/// `[emulator]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmulatorSection {
    /// The emulator's HTTP listener.
    pub listen: Option<SocketAddr>,
    /// Its SDKAppID.
    pub sdkappid: Option<u64>,
    /// Create accounts on first use (default true).
    pub auto_create_accounts: Option<bool>,
    /// Enforce Tencent's default quotas (default false).
    pub quotas: Option<bool>,
    /// Faults to inject (`tim emulator --faults` syntax).
    pub faults: Option<String>,
    /// Seed of the fault draws.
    pub seed: Option<u64>,
}

/// Where calls go once resolved.
#[derive(Debug)]
pub enum Backend {
    /// Tencent Cloud Chat.
    Tencent {
        /// SDKAppID.
        sdkappid: u64,
        /// Admin identifier.
        admin: String,
        /// Where the key comes from.
        key: KeySource,
        /// Region name or base URL.
        endpoint: EndpointChoice,
        /// Extra CA files.
        ca_files: Vec<PathBuf>,
    },
    /// The embedded emulator.
    Emulator {
        /// Its HTTP listener.
        listen: SocketAddr,
        /// Its SDKAppID.
        sdkappid: u64,
        /// Create accounts on first use.
        auto_create_accounts: bool,
        /// Enforce Tencent's default quotas.
        quotas: bool,
        /// Faults to inject.
        faults: Option<String>,
        /// Seed of the fault draws.
        seed: u64,
    },
}

/// Where the secret key comes from.
pub enum KeySource {
    /// Given inline (file or environment).
    Inline(String),
    /// Read from this file.
    File(PathBuf),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Inline(_) => f.write_str("Inline(<redacted>)"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// A region (with or without its standby domain) or a base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointChoice {
    /// A region's short name.
    Region {
        /// Name.
        name: String,
        /// Standby domain.
        standby: bool,
    },
    /// A base URL.
    BaseUrl(String),
}

/// Everything `tim serve` needs, resolved.
#[derive(Debug)]
pub struct ServeConfig {
    /// gRPC listener.
    pub listen: SocketAddr,
    /// Metrics listener.
    pub metrics_listen: SocketAddr,
    /// Where durable jobs live (none: `JobService` refuses every call).
    pub data_dir: Option<PathBuf>,
    /// Where calls go.
    pub backend: Backend,
    /// Callers; `dev_token` says whether the only one is the development token.
    pub callers: Vec<Caller>,
    /// The only caller is [`DEV_TOKEN`] (emulator without configured callers).
    pub dev_token: bool,
    /// TLS files.
    pub tls: Option<TlsSection>,
    /// Largest request message.
    pub max_request_bytes: usize,
    /// Calls in progress per caller.
    pub max_concurrent_per_caller: usize,
    /// Fan-out grace at shutdown.
    pub shutdown_grace: Duration,
    /// Chunks in flight per fan-out.
    pub fanout_concurrency: usize,
    /// Pace calls to quotas.
    pub pacing: bool,
    /// Quota overrides.
    pub quota_overrides: HashMap<CommandId, Quota>,
    /// One quota shared with the other replicas through Redis.
    pub shared_quota: Option<tim_transport::SharedQuotaConfig>,
    /// Jobs shared with the other replicas in PostgreSQL.
    pub postgres: Option<crate::PostgresJobs>,
}

impl FileConfig {
    /// Parses a TOML file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| format!("configuration file: {e}"))
    }

    /// Applies environment overrides (`lookup` returns a variable's value) and resolves the configuration.
    pub fn resolve(mut self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<ServeConfig, String> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let listen = match var("TIM_LISTEN") {
            Some(text) => parse_addr("TIM_LISTEN", &text)?,
            None => self.listen.unwrap_or_else(|| default_addr(DEFAULT_LISTEN)),
        };
        let metrics_listen = match var("TIM_METRICS_LISTEN") {
            Some(text) => parse_addr("TIM_METRICS_LISTEN", &text)?,
            None => self.metrics_listen.unwrap_or_else(|| default_addr(DEFAULT_METRICS_LISTEN)),
        };

        let mut tencent = self.tencent.take().unwrap_or_default();
        if let Some(text) = var("TIM_SDKAPPID") {
            tencent.sdkappid = Some(text.trim().parse().map_err(|_| "TIM_SDKAPPID is not a number".to_owned())?);
        }
        if let Some(admin) = var("TIM_ADMIN") {
            tencent.admin = Some(admin);
        }
        if let Some(key) = lookup("TIM_SECRET_KEY").filter(|k| !k.is_empty()) {
            tencent.secret_key = Some(key);
            tencent.secret_key_file = None;
        }
        if let Some(region) = var("TIM_REGION") {
            tencent.region = Some(region);
            tencent.base_url = None;
        }
        if let Some(url) = var("TIM_BASE_URL") {
            tencent.base_url = Some(url);
            tencent.region = None;
        }
        let backend = resolve_backend(tencent, &self.emulator)?;

        let mut callers = Vec::new();
        for section in &self.callers {
            callers.push(Caller::with_digest_hex(&section.name, &section.token_sha256)?);
        }
        if let Some(list) = var("TIM_CALLER_TOKENS") {
            for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let (name, token) = entry
                    .split_once('=')
                    .ok_or_else(|| "TIM_CALLER_TOKENS: each entry must be NAME=TOKEN".to_owned())?;
                if name.trim().is_empty() || token.trim().is_empty() {
                    return Err("TIM_CALLER_TOKENS: each entry must be NAME=TOKEN".to_owned());
                }
                callers.push(Caller::with_token(name.trim(), token.trim()));
            }
        }
        let dev_token = callers.is_empty();
        if dev_token {
            if matches!(backend, Backend::Tencent { .. }) {
                return Err("no callers are configured: add [[callers]] to the configuration file or set \
                            TIM_CALLER_TOKENS=name=token (the gateway holds the app's secret key)"
                    .to_owned());
            }
            callers.push(Caller::with_token("dev", DEV_TOKEN));
        }

        let rates = self.quotas.rates.iter().map(|(path, rate)| (path.as_str(), rate.as_str()));
        let quota_overrides =
            tim_transport::config::quota_overrides(rates, self.quotas.batchsendmsg_recipients_per_minute)
                .map_err(|reason| format!("[quotas] {reason}"))?;
        let shared_quota = resolve_cluster(&self.cluster, &var)?;
        let postgres = resolve_postgres(&self.cluster, &var)?;
        let limits = &self.limits;
        Ok(ServeConfig {
            listen,
            metrics_listen,
            data_dir: var("TIM_DATA_DIR").map(PathBuf::from).or(self.data_dir.take()),
            backend,
            callers,
            dev_token,
            tls: self.tls,
            max_request_bytes: limits.max_request_bytes.unwrap_or(crate::DEFAULT_MAX_REQUEST_BYTES),
            max_concurrent_per_caller: limits
                .max_concurrent_per_caller
                .unwrap_or(crate::DEFAULT_MAX_CONCURRENT_PER_CALLER),
            shutdown_grace: limits.shutdown_grace_secs.map_or(crate::DEFAULT_SHUTDOWN_GRACE, Duration::from_secs),
            fanout_concurrency: limits.fanout_concurrency.unwrap_or(crate::fanout::DEFAULT_CONCURRENCY).max(1),
            pacing: self.quotas.pacing.unwrap_or(true),
            quota_overrides,
            shared_quota,
            postgres,
        })
    }
}

/// `[cluster] postgres_url` and `job_lease_secs` with `TIM_POSTGRES_URL` and `TIM_JOB_LEASE_SECS`.
fn resolve_postgres(
    cluster: &ClusterSection,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<crate::PostgresJobs>, String> {
    let lease = match var("TIM_JOB_LEASE_SECS") {
        Some(text) => Some(text.trim().parse::<f64>().map_err(|_| "TIM_JOB_LEASE_SECS is not a number")?),
        None => cluster.job_lease_secs,
    };
    let lease = match lease {
        // Renewed every quarter of it: shorter than a second would renew faster than a busy database answers.
        Some(secs) if !(1.0..=3600.0).contains(&secs) => {
            return Err(format!("[cluster] job_lease_secs must be between 1 and 3600 seconds, not {secs}"));
        }
        Some(secs) => Duration::from_secs_f64(secs),
        None => crate::DEFAULT_JOB_LEASE,
    };
    let Some(url) = var("TIM_POSTGRES_URL").or_else(|| cluster.postgres_url.clone()) else {
        return Ok(None);
    };
    if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return Err("[cluster] postgres_url must be a postgresql:// URL".to_owned());
    }
    let ca_file = var("TIM_POSTGRES_CA_FILE").map(PathBuf::from).or_else(|| cluster.postgres_ca_file.clone());
    Ok(Some(crate::PostgresJobs { url, lease, ca_file }))
}

/// `[cluster]` with `TIM_REDIS_URL` and `TIM_REPLICAS`: the shared quota, if any.
fn resolve_cluster(
    cluster: &ClusterSection,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<tim_transport::SharedQuotaConfig>, String> {
    let replicas = match var("TIM_REPLICAS") {
        Some(text) => {
            Some(text.trim().parse::<u32>().ok().filter(|&n| n > 0).ok_or("TIM_REPLICAS is not a positive number")?)
        }
        None => cluster.replicas,
    };
    if replicas == Some(0) {
        return Err("[cluster] replicas must be at least 1".to_owned());
    }
    let Some(url) = var("TIM_REDIS_URL").or_else(|| cluster.redis_url.clone()) else {
        return match replicas {
            Some(n) if n > 1 => Err(format!(
                "[cluster] replicas = {n} without redis_url: {n} replicas pacing alone would send {n} times the quota; \
                 set redis_url (TIM_REDIS_URL) so they share it"
            )),
            _ => Ok(None),
        };
    };
    let replicas = replicas.ok_or(
        "[cluster] redis_url needs replicas (TIM_REPLICAS): each replica's share of \
                                   the quota while Redis cannot be reached",
    )?;
    Ok(Some(tim_transport::SharedQuotaConfig::new(url, replicas)))
}

fn resolve_backend(tencent: TencentSection, emulator: &EmulatorSection) -> Result<Backend, String> {
    let key = match (tencent.secret_key, tencent.secret_key_file) {
        (Some(key), _) => Some(KeySource::Inline(key)),
        (None, Some(path)) => Some(KeySource::File(path)),
        (None, None) => None,
    };
    let endpoint = match (tencent.base_url, tencent.region) {
        (Some(url), _) => Some(EndpointChoice::BaseUrl(url)),
        (None, Some(name)) => Some(EndpointChoice::Region { name, standby: tencent.standby }),
        (None, None) => None,
    };
    match (tencent.sdkappid, key, endpoint) {
        (None, None, None) => Ok(Backend::Emulator {
            listen: emulator.listen.unwrap_or_else(|| default_addr("127.0.0.1:0")),
            sdkappid: emulator.sdkappid.unwrap_or(DEFAULT_EMULATOR_SDKAPPID),
            auto_create_accounts: emulator.auto_create_accounts.unwrap_or(true),
            quotas: emulator.quotas.unwrap_or(false),
            faults: emulator.faults.clone(),
            seed: emulator.seed.unwrap_or(0),
        }),
        (Some(sdkappid), Some(key), Some(endpoint)) => Ok(Backend::Tencent {
            sdkappid,
            admin: tencent.admin.unwrap_or_else(|| DEFAULT_ADMIN.to_owned()),
            key,
            endpoint,
            ca_files: tencent.ca_files,
        }),
        (sdkappid, key, endpoint) => {
            let mut missing = Vec::new();
            if sdkappid.is_none() {
                missing.push("the SDKAppID (TIM_SDKAPPID or [tencent] sdkappid)");
            }
            if key.is_none() {
                missing.push("the secret key (TIM_SECRET_KEY, [tencent] secret_key or secret_key_file)");
            }
            if endpoint.is_none() {
                missing.push("the region or base URL (TIM_REGION, TIM_BASE_URL, [tencent] region or base_url)");
            }
            Err(format!(
                "Tencent credentials are incomplete: missing {}; give all of them, or none to run on the embedded \
                 emulator",
                missing.join(", ")
            ))
        }
    }
}

fn parse_addr(name: &str, text: &str) -> Result<SocketAddr, String> {
    text.trim().parse().map_err(|_| format!("{name}: {text:?} is not an address like 127.0.0.1:50051"))
}

fn default_addr(text: &str) -> SocketAddr {
    text.parse().unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)))
}

#[cfg(test)]
mod tests;
