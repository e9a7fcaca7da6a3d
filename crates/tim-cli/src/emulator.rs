//! `tim emulator`: a local Tencent Cloud Chat on a loopback port, for development, demos and tests.
//!
//! It runs `tim-emulator` until Ctrl-C or SIGTERM, after printing one line on stdout that says where it listens
//! (`tim emulator listening on http://127.0.0.1:PORT (sdkappid N, admin NAME)`), so scripts can wait for it and
//! read the port when `--listen` asked for port 0. The secret key comes from `--key` or `TIM_SECRET_KEY` and is
//! never printed; the emulator's clock is the system clock, read here.
//!
//! Faults are given as `--faults SPEC`, a comma-separated list of `KIND=RATE` entries, each `RATE` a probability:
//! `502=0.01` (HTTP 502), `delay=0.01:5s` (no answer for 5 s, then 60008; nothing stored), `code70169=0.02` (that
//! `ErrorCode`), `drop=0.01` (connection closed without an answer), `lost=0.01` (carried out and stored, then the
//! answer lost: `lost=RATE:drop` or `:502` to choose how). `--seed N` makes the faults reproducible.

use clap::Args;
use std::future::Future;
use std::net::SocketAddr;
use tim_emulator::{DEFAULT_ADMIN, DEFAULT_SEED, Emulator, FaultConfig, QuotaConfig};
use tim_sig::SecretKey;

use crate::{Failure, now_unix, print_line};

#[derive(Debug, Args)]
pub(crate) struct EmulatorArgs {
    /// Where to listen, for example 127.0.0.1:8080 (port 0: any free port, printed at start-up).
    #[arg(long, value_name = "ADDR")]
    listen: SocketAddr,
    /// The SDKAppID it serves.
    #[arg(long, value_name = "N")]
    sdkappid: u64,
    /// The SDKAppID's secret key, which UserSigs are verified with (as text, not hex-decoded).
    #[arg(long, value_name = "KEY", env = "TIM_SECRET_KEY", hide_env_values = true)]
    key: String,
    /// An admin identifier (repeat for several).
    #[arg(long = "admin", value_name = "NAME", default_value = DEFAULT_ADMIN)]
    admins: Vec<String>,
    /// Create every UserID a request addresses on first use, instead of refusing unknown accounts.
    #[arg(long)]
    auto_create_accounts: bool,
    /// Faults to inject, for example 502=0.01,delay=0.01:5s,code70169=0.02,drop=0.01,lost=0.01.
    #[arg(long, value_name = "SPEC")]
    faults: Option<FaultConfig>,
    /// Seed of the fault draws and of the values the emulator picks (same seed, same request order: same faults).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Turn quotas off (calls per second, per day, recipients per minute).
    #[arg(long, conflicts_with_all = ["quotas", "recipients_per_minute"])]
    no_quotas: bool,
    /// Override a command's call rate: PATH=N/s or PATH=N/day (repeatable), e.g. openim/sendmsg=500/s.
    #[arg(long = "quota", value_name = "PATH=RATE")]
    quotas: Vec<String>,
    /// batchsendmsg's recipients per minute (default 12000).
    #[arg(long, value_name = "N")]
    recipients_per_minute: Option<u32>,
    /// Act as an app whose broadcast messages are off: send_broadcast_msg answers 10007.
    #[arg(long)]
    no_broadcast: bool,
}

impl EmulatorArgs {
    fn emulator(&self) -> Result<Emulator, Failure> {
        let mut quotas = if self.no_quotas { QuotaConfig::disabled() } else { QuotaConfig::default() };
        for spec in &self.quotas {
            quotas = quotas.with_spec(spec)?;
        }
        if let Some(recipients) = self.recipients_per_minute {
            quotas = quotas.with_recipients_per_minute(recipients);
        }
        // The one place the emulator's time comes from: the system clock (0 if it is before 1970).
        let clock = || now_unix().unwrap_or(0);
        let emulator = Emulator::builder(self.sdkappid, SecretKey::new(self.key.as_str())?, clock)
            .admins(self.admins.iter().cloned())
            .auto_create_accounts(self.auto_create_accounts)
            .faults(self.faults.clone().unwrap_or_default())
            .seed(self.seed)
            .quotas(quotas)
            .broadcast(!self.no_broadcast)
            .build()?;
        Ok(emulator)
    }

    /// The start-up line, with the settings that differ from the defaults.
    fn banner(&self, base_url: &str) -> String {
        let mut settings = vec![format!("sdkappid {}", self.sdkappid), format!("admin {}", self.admins.join(", "))];
        if self.auto_create_accounts {
            settings.push("auto-create accounts".to_owned());
        }
        if self.no_quotas {
            settings.push("quotas off".to_owned());
        }
        if self.no_broadcast {
            settings.push("broadcast off".to_owned());
        }
        if let Some(faults) = self.faults.as_ref().filter(|faults| !faults.is_none()) {
            settings.push(format!("faults {faults}, seed {}", self.seed));
        }
        format!("tim emulator listening on {base_url} ({})", settings.join(", "))
    }
}

/// Runs the emulator until Ctrl-C or SIGTERM.
pub(crate) fn run(args: &EmulatorArgs) -> Result<(), Failure> {
    let emulator = args.emulator()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure(format!("cannot start the async runtime: {error}")))?;
    runtime.block_on(serve_until(args, emulator, shutdown_signal(), print_line))
}

/// Serves until `stop` resolves (or fails), reporting the start-up line through `announce`.
async fn serve_until(
    args: &EmulatorArgs,
    emulator: Emulator,
    stop: impl Future<Output = Result<(), Failure>>,
    announce: impl FnOnce(&str) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|error| Failure(format!("cannot listen on {}: {error}", args.listen)))?;
    let running = emulator.serve(listener)?;
    announce(&args.banner(&running.base_url()))?;
    let stopped = stop.await;
    running.shutdown().await;
    stopped
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
pub(crate) async fn shutdown_signal() -> Result<(), Failure> {
    let interrupted =
        async { tokio::signal::ctrl_c().await.map_err(|error| Failure(format!("cannot listen for Ctrl-C: {error}"))) };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate =
            signal(SignalKind::terminate()).map_err(|error| Failure(format!("cannot listen for SIGTERM: {error}")))?;
        tokio::select! {
            outcome = interrupted => outcome,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        interrupted.await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cli, Command};
    use clap::Parser;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn parse(extra: &[&str]) -> Result<EmulatorArgs, clap::Error> {
        let base = ["tim", "emulator", "--listen", "127.0.0.1:0", "--sdkappid", "1400000000", "--key", "secret"];
        let cli = Cli::try_parse_from(base.iter().chain(extra))?;
        match cli.command {
            Command::Emulator(args) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn parses_settings_and_refuses_bad_ones() {
        let args =
            parse(&["--faults", "502=0.5,lost=0.1:drop", "--seed", "7", "--admin", "ops", "--admin", "bot"]).unwrap();
        assert_eq!(args.admins, ["ops", "bot"]);
        assert_eq!(args.seed, 7);
        assert!(args.emulator().is_ok());
        assert_eq!(
            args.banner("http://127.0.0.1:9"),
            "tim emulator listening on http://127.0.0.1:9 (sdkappid 1400000000, admin ops, bot, faults 502=0.5,lost=0.1:drop, seed 7)"
        );
        let defaults = parse(&[]).unwrap();
        assert_eq!(defaults.admins, [DEFAULT_ADMIN]);
        assert_eq!(
            defaults.banner("http://127.0.0.1:9"),
            "tim emulator listening on http://127.0.0.1:9 (sdkappid 1400000000, admin administrator)"
        );
        let no_broadcast = parse(&["--no-broadcast"]).unwrap();
        assert!(no_broadcast.banner("http://127.0.0.1:9").ends_with("admin administrator, broadcast off)"));
        let error = parse(&["--faults", "502=2"]).unwrap_err();
        assert!(error.to_string().contains("outside 0..=1"), "{error}");
        assert!(parse(&["--no-quotas", "--quota", "openim/sendmsg=1/s"]).is_err());
        let bad_quota = parse(&["--quota", "openim/nothing=1/s"]).unwrap();
        assert!(bad_quota.emulator().unwrap_err().0.contains("no such command"));
        let bad_admin = parse(&["--admin", &"x".repeat(33)]).unwrap();
        assert!(bad_admin.emulator().unwrap_err().0.contains("user id"));
    }

    #[tokio::test]
    async fn serves_until_stopped_and_announces_its_address() {
        let args = parse(&["--auto-create-accounts"]).unwrap();
        let emulator = args.emulator().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (announced, line) = tokio::sync::oneshot::channel::<String>();
        let server = async {
            let stop = async { stopped.await.map_err(|_| Failure("stop sender gone".to_owned())) };
            serve_until(&args, emulator, stop, |banner| {
                announced.send(banner.to_owned()).map_err(|_| Failure("nobody listens".to_owned()))
            })
            .await
        };
        let client = async {
            let banner = line.await.unwrap();
            let url = banner.split_whitespace().nth(4).unwrap();
            assert!(banner.starts_with("tim emulator listening on http://127.0.0.1:"), "{banner}");
            let addr = url.trim_start_matches("http://");
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.write_all(b"GET /emulator/stats HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.unwrap();
            stop.send(()).unwrap();
            answer
        };
        let (served, answer) = tokio::join!(server, client);
        assert!(served.is_ok());
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("\"messages_stored\":0"), "{answer}");
    }
}
