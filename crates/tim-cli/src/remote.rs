//! `tim call` and `tim fanout`: talking to Tencent Cloud Chat (or any base URL, such as the emulator) through
//! `tim-transport`.
//!
//! The connection flags are shared: `--sdkappid`, `--admin`, `--key` and one of `--region` / `--base-url`, each also
//! read from the environment (`TIM_SDKAPPID`, `TIM_ADMIN`, `TIM_SECRET_KEY`, `TIM_REGION`, `TIM_BASE_URL`).

use crate::{Failure, print_line, say};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::PathBuf;
use std::time::Duration;
use tim_jobs::input::{self as recipients, ReadError};
use tim_model::api::TypedRequest as _;
use tim_model::c2c::BatchSendMsgRequest;
use tim_model::command::{CommandId, Rate};
use tim_model::{MsgBody, UserId};
use tim_sig::SecretKey;
use tim_transport::fanout::Failure as Settled;
use tim_transport::{Client, ClientConfig, Endpoint, Fanout, FanoutOptions, FanoutReport, Region};

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
    /// The data-center region: cn, sgp, kr, ger, ind, usa, idn, jpn or ksa (calls fail over to its standby domain
    /// while the main one cannot be connected to).
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
    /// Use only the region's standby domain (for networks where the main one is blocked or its DNS hijacked).
    #[arg(long, requires = "region")]
    standby: bool,
}

impl ConnectionArgs {
    pub(crate) fn client(&self, pacing: &PacingArgs) -> Result<Client, Failure> {
        let endpoint = match (&self.base_url, &self.region) {
            (Some(url), _) => Endpoint::BaseUrl(url.clone()),
            (None, Some(name)) => Endpoint::Region {
                region: Region::parse(name)
                    .ok_or_else(|| Failure(format!("unknown region {name:?}: use one of {}", Region::NAMES)))?,
                standby: self.standby,
            },
            (None, None) => return Err(Failure("give --region or --base-url".to_owned())),
        };
        let mut config = ClientConfig::new(endpoint);
        pacing.apply(&mut config)?;
        Ok(Client::new(self.sdkappid, &self.admin, SecretKey::new(self.key.as_str())?, config)?)
    }
}

/// How calls are paced: the same quota settings as `tim serve`'s `[quotas]`.
#[derive(Debug, Args)]
pub(crate) struct PacingArgs {
    /// A command's call rate, for apps that bought more quota than Tencent's default: `COMMAND=N/s` or
    /// `COMMAND=N/day` (for example `openim/batchsendmsg=500/s`); repeat for several commands.
    #[arg(long = "quota", value_name = "COMMAND=RATE")]
    quotas: Vec<String>,
    /// batchsendmsg's recipients per minute [default: Tencent's 12,000].
    #[arg(long, value_name = "N")]
    recipients_per_minute: Option<u32>,
    /// Do not pace calls to the quotas (when the app's quota is paced elsewhere).
    #[arg(long, conflicts_with_all = ["quotas", "recipients_per_minute"])]
    no_pacing: bool,
}

impl PacingArgs {
    fn apply(&self, config: &mut ClientConfig) -> Result<(), Failure> {
        let mut rates = Vec::with_capacity(self.quotas.len());
        for entry in &self.quotas {
            let (command, rate) = entry.split_once('=').ok_or_else(|| {
                Failure(format!("--quota {entry:?}: expected COMMAND=RATE, like openim/sendmsg=500/s"))
            })?;
            rates.push((command.trim(), rate.trim()));
        }
        config.quota_overrides = tim_transport::config::quota_overrides(rates, self.recipients_per_minute)
            .map_err(|reason| Failure(format!("--quota: {reason}")))?;
        config.pacing = !self.no_pacing;
        Ok(())
    }
}

/// Arguments of `tim call`.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(flatten)]
    pacing: PacingArgs,
    /// The command, for example `openim/sendmsg` (`tim commands` lists all 143).
    command: String,
    /// The JSON body, or `-` to read it from standard input [default: `{}`].
    body: Option<String>,
}

/// Arguments of `tim fanout`.
#[derive(Debug, Args)]
pub(crate) struct FanoutArgs {
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
    /// File with one UserID a line (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub(crate) recipients: PathBuf,
    /// The text to send.
    #[arg(long)]
    text: String,
    /// The sender account [default: the admin].
    #[arg(long, value_name = "ACCOUNT")]
    from: Option<String>,
    /// Where to write the report, as JSON Lines: one line per recipient that was not delivered (failed, of unknown
    /// outcome, invalid or duplicate), written as each is settled, then a summary line [default: standard output].
    #[arg(long, value_name = "FILE")]
    pub(crate) report: Option<PathBuf>,
    /// batchsendmsg calls in flight at once.
    #[arg(long, default_value_t = tim_transport::fanout::DEFAULT_FANOUT_CONCURRENCY)]
    pub(crate) concurrency: usize,
    /// Make the fan-out a durable job in this directory: every batch is written down before it is sent, and
    /// running the same command again with the same directory resumes it (after Ctrl-C, kill -9 or a crash)
    /// without sending anyone the message twice; the report then accounts for every line of the job.
    #[arg(long, value_name = "DIR")]
    pub(crate) journal: Option<PathBuf>,
    /// Leave unknown outcomes (a lost answer, a timeout) unknown instead of looking each recipient up in the
    /// history (admin_getroammsg) and sending the message again to those it never reached.
    #[arg(long)]
    pub(crate) no_resolve: bool,
    /// How long after a batch of unknown outcome was sent its history is looked up, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = tim_transport::fanout::DEFAULT_RESOLVE_DELAY.as_millis() as u64)]
    pub(crate) resolve_delay_ms: u64,
    #[command(flatten)]
    pub(crate) pacing: PacingArgs,
}

impl FanoutArgs {
    /// The engine's options from the flags.
    pub(crate) fn options(&self) -> FanoutOptions {
        FanoutOptions {
            concurrency: self.concurrency.max(1),
            resolve_unknown: !self.no_resolve,
            resolve_delay: Duration::from_millis(self.resolve_delay_ms),
            ..FanoutOptions::default()
        }
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
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
        let client = args.connection.client(&args.pacing)?;
        client.call_json(&args.command, body).await.map_err(Failure::from)
    })?;
    print_line(&serde_json::to_string_pretty(&answer).unwrap_or_default())
}

/// The summary line of a report: the counts of every kind of line, and what was not read.
#[derive(Debug, serde::Serialize)]
struct Summary<'a> {
    #[serde(flatten)]
    report: &'a FanoutReport,
    /// The first line not read, after a cancellation (the lines from there on were never sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    not_read_from_line: Option<u64>,
    /// Why the input ended early, when it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    read_error: Option<String>,
}

/// Where the report goes: a file or standard output.
pub(crate) type ReportSink = Box<dyn std::io::Write + Send>;

/// Sends one text to every recipient of a file, with a progress bar on a terminal and a JSON Lines report written
/// as recipients are settled.
pub(crate) fn fanout(args: &FanoutArgs) -> Result<(), Failure> {
    let mut message = BatchSendMsgRequest::new(Vec::new(), MsgBody::text(args.text.as_str()));
    if let Some(from) = &args.from {
        message.from_account = Some(UserId::new(from.as_str()).map_err(|e| Failure(format!("--from {e}")))?);
    }
    let sink: ReportSink = match &args.report {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    if let Some(dir) = &args.journal {
        return crate::jobs::journaled_fanout(args, &message, dir, sink);
    }
    let read_error = ReadError::default();
    let (report, mut sink) = runtime()?.block_on(run_fanout(args, &message, sink, &read_error))?;
    let read_error = read_error.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    let not_read_from_line = report.cancelled.then_some(report.read + 1);
    let summary = Summary { report: &report, not_read_from_line, read_error: read_error.clone() };
    let line = serde_json::json!({ "summary": summary });
    writeln!(sink, "{line}")
        .and_then(|()| sink.flush())
        .map_err(|e| Failure(format!("cannot write the report: {e}")))?;
    drop(sink);
    let summary_text = summary_line(&report, not_read_from_line);
    if args.report.is_some() {
        print_line(&summary_text)?;
    } else {
        say(&summary_text);
    }
    if let Some(error) = read_error {
        return Err(Failure(format!("{error}; the lines after it were not read")));
    }
    let undelivered = report.failed + report.outcome_unknown + report.invalid;
    if undelivered > 0 || report.cancelled {
        let cancelled = if report.cancelled { "; the fan-out was cancelled" } else { "" };
        return Err(Failure(format!("{undelivered} recipients were not delivered{cancelled}")));
    }
    Ok(())
}

async fn run_fanout(
    args: &FanoutArgs,
    message: &BatchSendMsgRequest,
    mut sink: ReportSink,
    read_error: &ReadError,
) -> Result<(FanoutReport, ReportSink), Failure> {
    let client = args.connection.client(&args.pacing)?;
    let options = args.options();
    let quota = client.pacer().quota(CommandId::BatchSendMsg);
    let paced = !client.pacer().is_unlimited();
    let mut fanout = Fanout::new(client, message, options)?;
    stop_on_signals(fanout.cancel_handle())?;
    let stdin = args.recipients.as_os_str() == "-";
    let input: Box<dyn tokio::io::AsyncRead + Unpin + Send> = if stdin {
        Box::new(tokio::io::stdin())
    } else {
        Box::new(
            tokio::fs::File::open(&args.recipients)
                .await
                .map_err(|e| Failure(format!("cannot open {}: {e}", args.recipients.display())))?,
        )
    };
    let bar = progress_bar(fanout.progress());
    // The line count (for the estimate and the bar's total) is a second read of the file: it runs beside the
    // fan-out, which does not wait for it.
    let counted = (!stdin).then(|| args.recipients.clone());
    let shown = bar.clone();
    let counting = tokio::spawn(async move {
        let total = match counted {
            Some(path) => recipients::count_lines(&path).await.ok(),
            None => None,
        };
        if paced {
            let estimate = pace_estimate(quota, total);
            match &shown {
                Some(bar) => bar.println(estimate),
                None => say(&estimate),
            }
        }
        if let (Some(bar), Some(total)) = (shown, total) {
            bar.set_length(total);
            bar.set_style(bar_style(true));
        }
    });
    // Settled recipients go to the report as they happen, so nothing is held until the end.
    let mut settled = fanout.stream_settled(4);
    let writer = tokio::task::spawn_blocking(move || {
        let mut result = Ok(());
        while let Some(batch) = settled.blocking_recv() {
            if result.is_ok() {
                result = write_settled(&mut sink, &batch);
            }
        }
        (sink, result)
    });
    let name = if stdin { "standard input".to_owned() } else { args.recipients.display().to_string() };
    let report = fanout.run(recipients::lines(input, name, read_error.clone())).await;
    // A short run may end before the count: the estimate is still said.
    let _ = counting.await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let (sink, written) = writer.await.map_err(|e| Failure(format!("the report writer failed: {e}")))?;
    written.map_err(|e| Failure(format!("cannot write the report: {e}")))?;
    Ok((report, sink))
}

/// One line a person reads: every kind of line counted.
fn summary_line(report: &FanoutReport, not_read_from_line: Option<u64>) -> String {
    let mut text = format!(
        "delivered {} of {} lines ({} found in the history after an unknown outcome); {} failed {:?}; {} outcome \
         unknown (check before sending again); {} invalid; {} duplicate",
        report.delivered,
        report.read,
        report.resolved,
        report.failed,
        report.failed_by_code,
        report.outcome_unknown,
        report.invalid,
        report.duplicate_lines
    );
    if let Some(line) = not_read_from_line {
        text.push_str(&format!("; cancelled: lines from {line} on were not read"));
    }
    text
}

/// Writes settled recipients as JSON Lines and flushes, so a crash loses at most the batch being written.
fn write_settled(sink: &mut ReportSink, batch: &[Settled]) -> std::io::Result<()> {
    for failure in batch {
        serde_json::to_writer(&mut *sink, failure)?;
        sink.write_all(b"\n")?;
    }
    sink.flush()
}

/// Ctrl-C and SIGTERM stop the fan-out the same way: no new batch, the report written with `cancelled`. The
/// handlers are in place when this returns, so a signal from then on is never the default exit.
pub(crate) fn stop_on_signals(cancel: tim_transport::CancelHandle) -> Result<(), Failure> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let cannot = |e: std::io::Error| Failure(format!("cannot handle signals: {e}"));
        let mut terminate = signal(SignalKind::terminate()).map_err(cannot)?;
        let mut interrupt = signal(SignalKind::interrupt()).map_err(cannot)?;
        tokio::spawn(async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
            say("stopping: no new batch is sent; the report is being written");
            cancel.cancel();
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            say("stopping: no new batch is sent; the report is being written");
            cancel.cancel();
        }
    });
    Ok(())
}

/// How long a run takes at batchsendmsg's quota, said at the start of a paced fan-out.
fn pace_estimate(quota: tim_model::command::Quota, total: Option<u64>) -> String {
    let batch = tim_model::validate::MAX_BATCH_RECIPIENTS as u64;
    let per_minute_by_calls = match quota.calls {
        Rate::PerSecond(n) => u64::from(n) * 60 * batch,
        Rate::PerDay(n) => u64::from(n) * batch / 1_440,
    };
    let per_minute = quota.recipients_per_minute.map_or(per_minute_by_calls, u64::from).min(per_minute_by_calls).max(1);
    let command = BatchSendMsgRequest::command().short_path();
    match total {
        // A full bucket lets a minute's worth go at once; the rest follows at the quota's pace.
        Some(total) => format!(
            "paced to {command}'s quota of {per_minute} recipients a minute: {total} lines take about {} \
             (--recipients-per-minute and --quota set the quota your app bought)",
            human_duration(total.saturating_sub(per_minute).saturating_mul(60) / per_minute)
        ),
        None => format!("paced to {command}'s quota of {per_minute} recipients a minute"),
    }
}

fn human_duration(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3_600 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ => format!("{} h {} min", seconds / 3_600, seconds % 3_600 / 60),
    }
}

/// The bar's look: once the file's line count is known, with the rate and the time left.
fn bar_style(counted: bool) -> ProgressStyle {
    let template = if counted {
        "{bar:30} {pos}/{len} lines · {per_sec} · ETA {eta} · {elapsed_precise} · {msg}"
    } else {
        "{spinner} {elapsed_precise} {msg}"
    };
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// A progress bar fed by the fan-out's counters, on a terminal only; its total is set once the file is counted.
pub(crate) fn progress_bar(
    mut progress: tokio::sync::watch::Receiver<tim_transport::FanoutProgress>,
) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(bar_style(false));
    bar.enable_steady_tick(Duration::from_millis(200));
    let shown = bar.clone();
    tokio::spawn(async move {
        while progress.changed().await.is_ok() {
            let now = progress.borrow().clone();
            // Settled lines count as done: delivered, failed, unknown, invalid or duplicate.
            shown.set_position(now.read - now.pending);
            shown.set_message(format!(
                "delivered {} · failed {} · unknown {} · invalid {} · duplicates {} · pending {}",
                now.delivered, now.failed, now.outcome_unknown, now.invalid, now.duplicates, now.pending
            ));
        }
    });
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn call_args(extra: &[&str]) -> Result<CallArgs, clap::Error> {
        let base = ["tim", "call", "--sdkappid", "1", "--admin", "a", "--key", "k", "--base-url", "http://127.0.0.1:1"];
        let cli = crate::Cli::try_parse_from(base.iter().chain(extra).chain(&["openim/sendmsg"]))?;
        match cli.command {
            crate::Command::Call(args) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn quota_flags_become_the_clients_overrides() {
        let args = call_args(&["--quota", "openim/sendmsg=500/s", "--recipients-per-minute", "60000"]).unwrap();
        let mut config = ClientConfig::new(Endpoint::BaseUrl("http://127.0.0.1:1".to_owned()));
        args.pacing.apply(&mut config).unwrap();
        assert!(config.pacing);
        assert_eq!(config.quota_overrides[&CommandId::SendMsg].calls, Rate::PerSecond(500));
        assert_eq!(config.quota_overrides[&CommandId::BatchSendMsg].recipients_per_minute, Some(60_000));

        for (flag, expected) in [("openim/sendmsg", "COMMAND=RATE"), ("openim/nothing=1/s", "not a REST command")] {
            let args = call_args(&["--quota", flag]).unwrap();
            let error = args.pacing.apply(&mut config).unwrap_err();
            assert!(error.0.contains(expected), "{}", error.0);
        }
        assert!(call_args(&["--no-pacing", "--recipients-per-minute", "1"]).is_err(), "contradictory flags");
        let args = call_args(&["--no-pacing"]).unwrap();
        args.pacing.apply(&mut config).unwrap();
        assert!(!config.pacing);
    }
}
