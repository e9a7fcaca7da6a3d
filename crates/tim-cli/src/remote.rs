//! `tim call` and `tim fanout`: talking to Tencent Cloud Chat (or any base URL, such as the emulator) through
//! `tim-transport`.
//!
//! The connection flags are shared: `--sdkappid`, `--admin`, `--key` and one of `--region` / `--base-url`, each also
//! read from the environment (`TIM_SDKAPPID`, `TIM_ADMIN`, `TIM_SECRET_KEY`, `TIM_REGION`, `TIM_BASE_URL`).

use crate::{Failure, print_line};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal as _, Read as _};
use std::path::PathBuf;
use std::time::Duration;
use tim_model::c2c::BatchSendMsgRequest;
use tim_model::{MsgBody, UserId};
use tim_sig::SecretKey;
use tim_transport::{Client, ClientConfig, Endpoint, Fanout, FanoutOptions, Region};
use tokio::io::AsyncBufReadExt as _;

/// Who is calling and where.
#[derive(Debug, Args)]
pub(crate) struct ConnectionArgs {
    /// The SDKAppID.
    #[arg(long, value_name = "N", env = "TIM_SDKAPPID")]
    sdkappid: u64,
    /// The app admin account the calls are made as.
    #[arg(long, value_name = "NAME", env = "TIM_ADMIN")]
    admin: String,
    /// The SDKAppID's secret key (prefer the environment variable, which keeps it out of shell history).
    #[arg(long, value_name = "KEY", env = "TIM_SECRET_KEY", hide_env_values = true)]
    key: String,
    /// The data-center region: cn, sgp, kr, ger, ind, usa or idn.
    #[arg(
        long,
        value_name = "R",
        env = "TIM_REGION",
        conflicts_with = "base_url",
        required_unless_present = "base_url"
    )]
    region: Option<String>,
    /// An explicit base URL instead of a region (for example the emulator's, http://127.0.0.1:PORT).
    #[arg(long, value_name = "URL", env = "TIM_BASE_URL")]
    base_url: Option<String>,
}

impl ConnectionArgs {
    fn client(&self, configure: impl FnOnce(&mut ClientConfig)) -> Result<Client, Failure> {
        let endpoint = match (&self.base_url, &self.region) {
            (Some(url), _) => Endpoint::BaseUrl(url.clone()),
            (None, Some(name)) => Endpoint::Region {
                region: Region::parse(name).ok_or_else(|| {
                    Failure(format!("unknown region {name:?}: use one of cn, sgp, kr, ger, ind, usa, idn"))
                })?,
                standby: false,
            },
            (None, None) => return Err(Failure("give --region or --base-url".to_owned())),
        };
        let mut config = ClientConfig::new(endpoint);
        configure(&mut config);
        Ok(Client::new(self.sdkappid, &self.admin, SecretKey::new(self.key.as_str())?, config)?)
    }
}

/// Arguments of `tim call`.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
    /// The command, for example `openim/sendmsg` (`tim commands` lists all 143).
    command: String,
    /// The JSON body, or `-` to read it from standard input [default: `{}`].
    body: Option<String>,
}

/// Arguments of `tim fanout`.
#[derive(Debug, Args)]
pub(crate) struct FanoutArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
    /// File with one UserID a line (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    recipients: PathBuf,
    /// The text to send.
    #[arg(long)]
    text: String,
    /// The sender account [default: the admin].
    #[arg(long, value_name = "ACCOUNT")]
    from: Option<String>,
    /// Where to write the JSON report.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// batchsendmsg calls in flight at once.
    #[arg(long, default_value_t = tim_transport::fanout::DEFAULT_FANOUT_CONCURRENCY)]
    concurrency: usize,
    /// Do not pace calls to the quotas (when the app's quota is paced elsewhere).
    #[arg(long)]
    no_pacing: bool,
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| Failure(format!("cannot start: {e}")))
}

/// Sends one command and prints the answer's JSON.
pub(crate) fn call(args: &CallArgs) -> Result<(), Failure> {
    let body = match args.body.as_deref() {
        None => "{}".to_owned(),
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure(format!("cannot read standard input: {e}")))?;
            text
        }
        Some(text) => text.to_owned(),
    };
    let body: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| Failure(format!("the body is not JSON: {e}")))?;
    let answer = runtime()?.block_on(async {
        let client = args.connection.client(|_| {})?;
        client.call_json(&args.command, body).await.map_err(Failure::from)
    })?;
    print_line(&serde_json::to_string_pretty(&answer).unwrap_or_default())
}

/// Sends one text to every recipient of a file, with a progress bar on a terminal and a JSON report at the end.
pub(crate) fn fanout(args: &FanoutArgs) -> Result<(), Failure> {
    let mut message = BatchSendMsgRequest::new(Vec::new(), MsgBody::text(args.text.as_str()));
    if let Some(from) = &args.from {
        message.from_account = Some(UserId::new(from.as_str()).map_err(|e| Failure(format!("--from {e}")))?);
    }
    let report = runtime()?.block_on(async {
        let client = args.connection.client(|config| config.pacing = !args.no_pacing)?;
        let options = FanoutOptions { concurrency: args.concurrency.max(1), ..FanoutOptions::default() };
        let fanout = Fanout::new(client, &message, options)?;
        let cancel = fanout.cancel_handle();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        });
        let bar = progress_bar(fanout.progress());
        let report = if args.recipients.as_os_str() == "-" {
            let lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
            fanout.run(lines_stream(lines)).await
        } else {
            let file = tokio::fs::File::open(&args.recipients)
                .await
                .map_err(|e| Failure(format!("cannot open {}: {e}", args.recipients.display())))?;
            fanout.run(lines_stream(tokio::io::BufReader::new(file).lines())).await
        };
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        Ok::<_, Failure>(report)
    })?;
    let json = serde_json::to_string_pretty(&report).unwrap_or_default();
    if let Some(path) = &args.report {
        std::fs::write(path, json.as_bytes()).map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
    }
    let failed: u64 = report.failed_by_code.values().sum();
    print_line(&format!(
        "delivered {} of {} recipients; {failed} failed {:?}; {} duplicate lines{}",
        report.delivered,
        report.read,
        report.failed_by_code,
        report.duplicates.len(),
        if report.cancelled { "; cancelled" } else { "" }
    ))?;
    if args.report.is_none() {
        print_line(&json)?;
    }
    if failed > 0 || report.cancelled {
        return Err(Failure(format!("{failed} recipients were not delivered")));
    }
    Ok(())
}

/// Lines of a reader as a stream; a read error ends the input (and is logged).
fn lines_stream<R: tokio::io::AsyncBufRead + Unpin>(
    lines: tokio::io::Lines<R>,
) -> impl futures_util::Stream<Item = String> + Unpin {
    Box::pin(futures_util::stream::unfold(lines, |mut lines| async move {
        match lines.next_line().await {
            Ok(Some(line)) => Some((line, lines)),
            Ok(None) => None,
            Err(error) => {
                tracing::error!(%error, "cannot read the recipients; stopping the input there");
                None
            }
        }
    }))
}

/// A progress bar fed by the fan-out's counters, on a terminal only.
fn progress_bar(mut progress: tokio::sync::watch::Receiver<tim_transport::FanoutProgress>) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let shown = bar.clone();
    tokio::spawn(async move {
        while progress.changed().await.is_ok() {
            let now = progress.borrow().clone();
            let failed: u64 = now.failed_by_code.values().sum();
            shown.set_message(format!(
                "read {} · delivered {} · failed {failed} · pending {} · duplicates {}",
                now.read, now.delivered, now.pending, now.duplicates
            ));
        }
    });
    Some(bar)
}
