//! `tim serve`: the gRPC gateway.
//!
//! Configuration comes from `--config FILE` (TOML, see `tim_grpc::config`) and the environment (`TIM_LISTEN`,
//! `TIM_METRICS_LISTEN`, `TIM_SDKAPPID`, `TIM_ADMIN`, `TIM_SECRET_KEY`, `TIM_REGION` or `TIM_BASE_URL`,
//! `TIM_CALLER_TOKENS`), flags last. Without Tencent credentials the gateway starts the embedded emulator, says so,
//! and accepts the development token unless callers are configured.
//!
//! Stdout gets the start-up lines, the first always
//! `tim serve: gRPC on ADDR (plaintext|TLS|mutual TLS), metrics on http://ADDR/metrics`, so scripts can wait for it
//! and read ports chosen by the system (port 0). Logs go to stderr (`RUST_LOG` filters, `--log-format json` for
//! JSON lines). Ctrl-C or SIGTERM starts a graceful shutdown: no new calls, running fan-outs get the grace period
//! to finish, then are cancelled; what was not sent is logged and printed.

use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tim_emulator::{Emulator, FaultConfig, QuotaConfig};
use tim_grpc::config::{Backend, DEV_TOKEN, EndpointChoice, FileConfig, KeySource, ServeConfig};
use tim_grpc::{Gateway, GatewayOptions, TlsPem};
use tim_sig::SecretKey;
use tim_transport::{Client, ClientConfig, Endpoint, Region};

use crate::{Failure, now_unix, print_line};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// A TOML configuration file (see the README); the environment overrides it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where the gRPC listener binds (overrides TIM_LISTEN and the file; default 127.0.0.1:50051).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Where the metrics are served (overrides TIM_METRICS_LISTEN and the file; default 127.0.0.1:9464).
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable lines with key=value fields.
    Text,
    /// One JSON object per line.
    Json,
}

/// Runs the gateway until Ctrl-C or SIGTERM.
pub(crate) fn run(args: &ServeArgs) -> Result<(), Failure> {
    init_logs(args.log_format);
    let config = load(args, &|name| std::env::var(name).ok())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure(format!("cannot start the async runtime: {error}")))?;
    runtime.block_on(serve(config, crate::emulator::shutdown_signal(), print_line))
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colours);
    // A second initialisation (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The configuration: file, then environment, then flags.
fn load(args: &ServeArgs, lookup: &dyn Fn(&str) -> Option<String>) -> Result<ServeConfig, Failure> {
    let file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure(format!("cannot read the configuration file {}: {e}", path.display())))?;
            FileConfig::parse(&text).map_err(Failure)?
        }
        None => FileConfig::default(),
    };
    let mut config = file.resolve(lookup).map_err(Failure)?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(listen) = args.metrics_listen {
        config.metrics_listen = listen;
    }
    Ok(config)
}

/// What the gateway sends through: Tencent, or an emulator started here.
struct Upstream {
    client: Client,
    emulator: Option<tim_emulator::RunningEmulator>,
    lines: Vec<String>,
}

async fn upstream(config: &ServeConfig) -> Result<Upstream, Failure> {
    let client_config = |endpoint: Endpoint| {
        let mut settings = ClientConfig::new(endpoint);
        settings.pacing = config.pacing;
        settings.quota_overrides = config.quota_overrides.clone();
        settings.shared_quota = config.shared_quota.clone();
        settings
    };
    match &config.backend {
        Backend::Tencent { sdkappid, admin, key, endpoint, ca_files } => {
            let key = match key {
                KeySource::Inline(key) => key.clone(),
                KeySource::File(path) => std::fs::read_to_string(path)
                    .map_err(|e| Failure(format!("cannot read the secret key file {}: {e}", path.display())))?
                    .trim_end()
                    .to_owned(),
            };
            let endpoint = match endpoint {
                EndpointChoice::BaseUrl(url) => Endpoint::BaseUrl(url.clone()),
                EndpointChoice::Region { name, standby } => Endpoint::Region {
                    region: Region::parse(name).ok_or_else(|| {
                        Failure(format!("unknown region {name:?} ({})", tim_transport::Region::NAMES))
                    })?,
                    standby: *standby,
                },
            };
            let mut settings = client_config(endpoint);
            for path in ca_files {
                let pem = std::fs::read(path)
                    .map_err(|e| Failure(format!("cannot read the CA file {}: {e}", path.display())))?;
                settings.extra_ca_pem.push(pem);
            }
            let client = Client::new(*sdkappid, admin, SecretKey::new(key)?, settings)?;
            let line =
                format!("sending to Tencent Cloud Chat at {} (sdkappid {sdkappid}, admin {admin})", client.base_url());
            let mut lines = vec![line];
            lines.extend(cluster_line(config));
            Ok(Upstream { client, emulator: None, lines })
        }
        Backend::Emulator { listen, sdkappid, auto_create_accounts, quotas, faults, seed } => {
            // The emulator's key never leaves this process: a fresh random one each start.
            let key = format!("{:032x}", rand::random::<u128>());
            let faults: FaultConfig = match faults {
                Some(spec) => {
                    spec.parse().map_err(|e: tim_emulator::Error| Failure(format!("[emulator] faults: {e}")))?
                }
                None => FaultConfig::default(),
            };
            let clock = || now_unix().unwrap_or(0);
            let emulator = Emulator::builder(*sdkappid, SecretKey::new(key.as_str())?, clock)
                .auto_create_accounts(*auto_create_accounts)
                .faults(faults)
                .seed(*seed)
                .quotas(if *quotas { QuotaConfig::default() } else { QuotaConfig::disabled() })
                .build()?;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| Failure(format!("cannot listen on {listen} for the embedded emulator: {e}")))?;
            let running = emulator.serve(listener)?;
            let mut settings = client_config(Endpoint::BaseUrl(running.base_url()));
            // An emulator without quotas needs no pacing, unless quotas were configured: those are honoured, as
            // they would be against Tencent, so a run on the emulator shows the real pace.
            if !*quotas && config.quota_overrides.is_empty() {
                settings.pacing = false;
            }
            let pacing = match (settings.pacing, config.quota_overrides.is_empty()) {
                (false, _) => "pacing off",
                (true, true) => "paced to Tencent's default quotas",
                (true, false) => "paced to the configured quotas",
            };
            let client = Client::new(*sdkappid, tim_emulator::DEFAULT_ADMIN, SecretKey::new(key)?, settings)?;
            let mut lines = vec![
                format!(
                    "no Tencent credentials given: running on the embedded emulator at {} (sdkappid {sdkappid}, \
                     admin {}, {}accounts created on first use, quotas {}, {pacing}); \
                     set TIM_SDKAPPID, TIM_SECRET_KEY and TIM_REGION to use Tencent Cloud Chat",
                    running.base_url(),
                    tim_emulator::DEFAULT_ADMIN,
                    if *auto_create_accounts { "" } else { "no " },
                    if *quotas { "on" } else { "off" },
                ),
                format!(
                    "what it stored: {}/emulator/stats and {}/emulator/inbox/USERID",
                    running.base_url(),
                    running.base_url()
                ),
            ];
            lines.extend(cluster_line(config));
            Ok(Upstream { client, emulator: Some(running), lines })
        }
    }
}

/// What the start-up says about sharing the quota and the jobs with other replicas.
fn cluster_line(config: &ServeConfig) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(shared) = &config.shared_quota {
        lines.push(format!(
            "quota shared through Redis at {} by {} replicas (each paces at 1/{} of it while Redis cannot be reached)",
            shared.redacted_url(),
            shared.replicas,
            shared.replicas
        ));
    }
    if let Some(jobs) = &config.postgres {
        lines.push(format!(
            "jobs shared through PostgreSQL at {} (a replica's lease on a job lasts {:?}: a job of a replica that \
             died is taken over that long after)",
            jobs.redacted_url(),
            jobs.lease
        ));
    }
    lines
}

/// Serves until `stop` resolves, announcing through `announce`.
async fn serve(
    config: ServeConfig,
    stop: impl std::future::Future<Output = Result<(), Failure>> + Send,
    announce: impl Fn(&str) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let upstream = upstream(&config).await?;
    let tls = match &config.tls {
        Some(files) => {
            let read = |path: &PathBuf| {
                std::fs::read(path).map_err(|e| Failure(format!("cannot read TLS file {}: {e}", path.display())))
            };
            Some(TlsPem {
                cert: read(&files.cert)?,
                key: read(&files.key)?,
                client_ca: files.client_ca.as_ref().map(read).transpose()?,
            })
        }
        None => None,
    };
    let security = match &tls {
        None => "plaintext",
        Some(TlsPem { client_ca: None, .. }) => "TLS",
        Some(_) => "mutual TLS",
    };
    let options = GatewayOptions {
        callers: config.callers.clone(),
        max_concurrent_per_caller: config.max_concurrent_per_caller,
        max_request_bytes: config.max_request_bytes,
        tls,
        shutdown_grace: config.shutdown_grace,
        fanout_concurrency: config.fanout_concurrency,
        data_dir: config.data_dir.clone(),
        postgres: config.postgres.clone(),
    };
    let gateway = Gateway::new(upstream.client, options)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| Failure(format!("cannot listen on {}: {e}", config.listen)))?;
    let metrics_listener = tokio::net::TcpListener::bind(config.metrics_listen)
        .await
        .map_err(|e| Failure(format!("cannot listen on {} for metrics: {e}", config.metrics_listen)))?;
    let grpc_addr = listener.local_addr().map_err(|e| Failure(e.to_string()))?;
    let metrics_addr = metrics_listener.local_addr().map_err(|e| Failure(e.to_string()))?;
    let (metrics_stop, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics_task = tokio::spawn(tim_grpc::serve_metrics(metrics_listener, Arc::clone(&gateway.metrics()), async {
        let _ = metrics_stopped.await;
    }));

    announce(&format!("tim serve: gRPC on {grpc_addr} ({security}), metrics on http://{metrics_addr}/metrics"))?;
    for line in &upstream.lines {
        announce(line)?;
    }
    if config.dev_token {
        announce(&format!(
            "no callers configured: accepting the development token (metadata `authorization: Bearer {DEV_TOKEN}`); \
             configure [[callers]] or TIM_CALLER_TOKENS for anything else"
        ))?;
    }
    let scheme_flag = if security == "plaintext" { "-plaintext " } else { "" };
    let bearer = if config.dev_token { DEV_TOKEN } else { "YOUR_TOKEN" };
    announce(&format!(
        "first call: grpcurl {scheme_flag}-H 'authorization: Bearer {bearer}' -d '{{\"to_account\":\"alice\",\
         \"msg_body\":[{{\"text\":{{\"text\":\"hello\"}}}}]}}' {grpc_addr} tim.v1.MessageService/SendMsg"
    ))?;
    let jobs = match (&config.postgres, &config.data_dir) {
        (Some(jobs), _) => jobs.redacted_url(),
        (None, Some(dir)) => dir.display().to_string(),
        (None, None) => "off (no data_dir)".to_owned(),
    };
    tracing::info!(listen = %grpc_addr, metrics = %metrics_addr, security, jobs, "gateway serving");

    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<Result<(), Failure>>();
    let report = gateway
        .serve(listener, async move {
            let outcome = stop.await;
            let _ = stopped_tx.send(outcome);
        })
        .await?;
    let _ = metrics_stop.send(());
    let _ = metrics_task.await;
    if let Some(emulator) = upstream.emulator {
        emulator.shutdown().await;
    }
    if report.fanouts_cancelled > 0 || report.fanouts_abandoned > 0 {
        announce(&format!(
            "tim serve stopped: {} fan-out(s) cancelled at the shutdown deadline with {} recipient(s) read and not \
             delivered (their callers got reports); {} fan-out(s) abandoned",
            report.fanouts_cancelled, report.recipients_not_delivered, report.fanouts_abandoned
        ))?;
    } else {
        announce("tim serve stopped: every call finished")?;
    }
    stopped_rx.await.unwrap_or(Ok(()))
}

#[cfg(test)]
mod tests;
