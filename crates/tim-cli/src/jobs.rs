//! Durable fan-outs: `tim fanout --journal DIR` (create or resume the job of this message and recipients file)
//! and `tim jobs list|show|cancel|pause|resume` on a journal directory (`--journal DIR`, `tim-jobs`' embedded
//! store) or on the jobs the gateway's replicas share in PostgreSQL (`--postgres URL`).

use crate::remote::{FanoutArgs, ReportSink, progress_bar, runtime, stop_on_signals};
use crate::{Failure, print_line, say};
use clap::{Args, Subcommand};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tim_jobs::{JobId, JobInfo, JobSpec, JobState, JobStore, Source};
use tim_model::c2c::BatchSendMsgRequest;
use tim_transport::Fanout;

/// `tim jobs`.
#[derive(Debug, Subcommand)]
pub(crate) enum JobsCommand {
    /// One line per job: its number, state and counts.
    List(StoreArgs),
    /// One job in full, as JSON.
    Show(JobArgs),
    /// Cancel a job that is not running: nothing more is sent, and running its fan-out again only reports.
    Cancel(JobArgs),
    /// Pause a job that is not running: running its fan-out again only reports until it is resumed.
    Pause(JobArgs),
    /// Let a paused job run again.
    Resume(JobArgs),
}

/// Where the jobs are: a journal directory, or the PostgreSQL database of the gateway's replicas.
#[derive(Debug, Args)]
#[group(skip)]
#[command(group(clap::ArgGroup::new("store").args(["journal", "postgres"]).required(true)))]
pub(crate) struct StoreArgs {
    /// The journal directory given to `tim fanout --journal`.
    #[arg(long, value_name = "DIR")]
    journal: Option<PathBuf>,
    /// The jobs of `tim serve` replicas in PostgreSQL (their `[cluster] postgres_url`); `?sslmode=require` for TLS.
    /// Pausing or cancelling a job that a replica runs stops it at the replica's next lease renewal.
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// With `--postgres`: a PEM file of a private CA that signed the database server's certificate.
    #[arg(long, value_name = "FILE", requires = "postgres")]
    postgres_ca_file: Option<PathBuf>,
}

/// What `tim jobs` asks of a store.
enum Ask {
    List,
    Show(JobId),
    Cancel(JobId),
    Pause(JobId),
    Resume(JobId),
}

impl StoreArgs {
    /// Carries out `ask` on the store and returns the jobs it concerns.
    fn apply(&self, ask: &Ask) -> Result<Vec<JobInfo>, Failure> {
        if let Some(dir) = &self.journal {
            let store = JobStore::open(dir)?;
            return Ok(match *ask {
                Ask::List => store.jobs()?,
                Ask::Show(id) => vec![store.job(id)?],
                Ask::Cancel(id) => vec![store.cancel(id, now_ms())?],
                Ask::Pause(id) => vec![store.pause(id, now_ms())?],
                Ask::Resume(id) => vec![store.unpause(id, now_ms())?],
            });
        }
        let url = self.postgres.as_deref().ok_or_else(|| Failure("give --journal DIR or --postgres URL".into()))?;
        let ca = match &self.postgres_ca_file {
            Some(path) => {
                vec![std::fs::read(path).map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))?]
            }
            None => Vec::new(),
        };
        runtime()?.block_on(async {
            let store = tim_jobs::PgJobStore::connect(url, 1, &ca).await.map_err(|e| {
                Failure(format!("the jobs in PostgreSQL at {}: {e}", tim_transport::config::redact_url(url)))
            })?;
            Ok(match *ask {
                Ask::List => store.jobs().await?,
                Ask::Show(id) => vec![store.job(id).await?],
                Ask::Cancel(id) => vec![store.cancel(id, now_ms()).await?],
                Ask::Pause(id) => vec![store.pause(id, now_ms()).await?],
                Ask::Resume(id) => vec![store.unpause(id, now_ms()).await?],
            })
        })
    }
}

/// One job of a store.
#[derive(Debug, Args)]
pub(crate) struct JobArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The job's number (`tim jobs list` shows them).
    job: JobId,
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

pub(crate) fn run(command: &JobsCommand) -> Result<(), Failure> {
    let (store, ask) = match command {
        JobsCommand::List(store) => (store, Ask::List),
        JobsCommand::Show(args) => (&args.store, Ask::Show(args.job)),
        JobsCommand::Cancel(args) => (&args.store, Ask::Cancel(args.job)),
        JobsCommand::Pause(args) => (&args.store, Ask::Pause(args.job)),
        JobsCommand::Resume(args) => (&args.store, Ask::Resume(args.job)),
    };
    for job in store.apply(&ask)? {
        if matches!(ask, Ask::Show(_)) {
            print_line(&serde_json::to_string_pretty(&job).unwrap_or_default())?;
        } else {
            print_line(&list_line(&job))?;
        }
    }
    Ok(())
}

fn list_line(job: &JobInfo) -> String {
    let c = &job.counters;
    let lines = job.lines.map_or_else(|| format!("{}+", job.covered), |lines| lines.to_string());
    format!(
        "{}\t{}\t{lines} lines\tdelivered {}\tfailed {}\tunknown {}\tinvalid {}\tduplicate {}\tin flight {}\t{}",
        job.id,
        job.state,
        c.delivered,
        c.failed,
        c.outcome_unknown,
        c.invalid,
        c.duplicates,
        c.in_flight,
        job.spec.source.path
    )
}

/// `tim fanout --journal DIR`: the job of this message and file, created, resumed or (when over) reported.
pub(crate) fn journaled_fanout(
    args: &FanoutArgs,
    message: &BatchSendMsgRequest,
    dir: &Path,
    mut sink: ReportSink,
) -> Result<(), Failure> {
    if args.recipients.as_os_str() == "-" {
        return Err(Failure("--journal needs a recipients file: standard input cannot be read again".to_owned()));
    }
    let source = Source::of_file(&args.recipients)
        .map_err(|e| Failure(format!("cannot read {}: {e}", args.recipients.display())))?;
    let spec = JobSpec::new(message, source);
    let store = JobStore::open(dir)?;
    let jobs = store.jobs()?;
    let job = match jobs.iter().find(|job| job.spec.same_job(&spec)) {
        Some(job) => job.clone(),
        None => {
            if let Some(other) = jobs.iter().find(|job| job.state == JobState::Running) {
                return Err(Failure(format!(
                    "{} holds job {}, an unfinished fan-out of another message or recipients file ({}): run its \
                     command again to finish it, cancel it with `tim jobs cancel --journal {} {}`, or use another \
                     directory",
                    dir.display(),
                    other.id,
                    other.spec.source.path,
                    dir.display(),
                    other.id
                )));
            }
            let job = store.create(spec, now_ms())?;
            say(&format!("job {} created in {}", job.id, dir.display()));
            job
        }
    };
    let job = if job.state == JobState::Running { run_job(args, message, &store, &job)? } else { job };
    if job.state == JobState::Finished && job.counters.in_flight == 0 {
        say(&format!("job {} is finished", job.id));
    }
    // The report: every settled line of the job, from every run, then the summary.
    let mut written = Ok(());
    store.for_each_failure(job.id, |failure| {
        if written.is_ok() {
            written = serde_json::to_writer(&mut sink, failure)
                .map_err(std::io::Error::from)
                .and_then(|()| sink.write_all(b"\n"));
        }
    })?;
    let not_read_from_line = (job.state != JobState::Finished).then_some(job.covered + 1);
    let summary = serde_json::json!({ "summary": {
        "job": job.id,
        "state": job.state,
        "lines": job.lines,
        "covered": job.covered,
        "delivered": job.counters.delivered,
        "resolved": job.counters.resolved,
        "failed": job.counters.failed,
        "failed_by_code": job.counters.failed_by_code,
        "outcome_unknown": job.counters.outcome_unknown,
        "invalid": job.counters.invalid,
        "duplicate_lines": job.counters.duplicates,
        "in_flight": job.counters.in_flight,
        "waiting": job.counters.requeued,
        "chunks": job.counters.chunks,
        "not_read_from_line": not_read_from_line,
    }});
    written
        .and_then(|()| writeln!(sink, "{summary}"))
        .and_then(|()| sink.flush())
        .map_err(|e| Failure(format!("cannot write the report: {e}")))?;
    drop(sink);
    let c = &job.counters;
    let text = format!(
        "job {} {}: delivered {} ({} found in the history after an unknown outcome); {} failed {:?}; {} outcome \
         unknown; {} invalid; {} duplicate; {} lines accounted for{}",
        job.id,
        job.state,
        c.delivered,
        c.resolved,
        c.failed,
        c.failed_by_code,
        c.outcome_unknown,
        c.invalid,
        c.duplicates,
        job.covered,
        job.lines.map(|lines| format!(" of {lines}")).unwrap_or_default()
    );
    if args.report.is_some() {
        print_line(&text)?
    } else {
        say(&text)
    }
    match job.state {
        JobState::Finished => {
            let undelivered = c.failed + c.outcome_unknown + c.invalid;
            if undelivered > 0 {
                return Err(Failure(format!("{undelivered} recipients were not delivered")));
            }
            Ok(())
        }
        JobState::Cancelled => Err(Failure(format!("job {} was cancelled", job.id))),
        JobState::Paused => Err(Failure(format!(
            "job {} is paused: `tim jobs resume --journal {} {}` lets it run again",
            job.id,
            dir.display(),
            job.id
        ))),
        JobState::Stopped => Err(Failure(format!(
            "job {} stopped: {}; `tim jobs resume --journal {} {}` lets it run again",
            job.id,
            job.error.as_deref().unwrap_or("its last run failed"),
            dir.display(),
            job.id
        ))),
        JobState::Running => {
            Err(Failure(format!("job {} stopped before it finished: run the same command again to resume it", job.id)))
        }
    }
}

/// Runs (or resumes) the job until its input is settled or it is stopped; the job as it then stands.
fn run_job(
    args: &FanoutArgs,
    message: &BatchSendMsgRequest,
    store: &JobStore,
    job: &JobInfo,
) -> Result<JobInfo, Failure> {
    let resume = store.resume(job.id)?;
    if resume.covered > 0 || !resume.in_flight.is_empty() || !resume.requeued.is_empty() {
        say(&format!(
            "resuming job {}: {} lines accounted for; {} batches were on their way (looked up in the history before \
             anything is sent again); {} recipients wait for another round",
            job.id,
            resume.covered,
            resume.in_flight.len(),
            resume.requeued.len()
        ));
    }
    let journal = store.journal(job.id)?;
    let runtime = runtime()?;
    let report = runtime.block_on(async {
        let client = args.connection.client(&args.pacing)?;
        let mut fanout = Fanout::new(client, message, args.options())?;
        fanout.journal(Arc::new(journal.clone()), resume);
        stop_on_signals(fanout.cancel_handle())?;
        // The journal keeps every settled entry: the engine's own copies are not needed.
        let mut settled = fanout.stream_settled(4);
        tokio::spawn(async move { while settled.recv().await.is_some() {} });
        let file = tokio::fs::File::open(&args.recipients)
            .await
            .map_err(|e| Failure(format!("cannot open {}: {e}", args.recipients.display())))?;
        let bar = progress_bar(fanout.progress());
        let read_error = tim_jobs::input::ReadError::default();
        let lines = tim_jobs::input::lines(Box::new(file), args.recipients.display().to_string(), read_error.clone());
        let report = fanout.run(lines).await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if let Some(error) = read_error.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            say(&format!("{error}; the job stops there"));
        }
        Ok::<_, Failure>(report)
    });
    // Whatever happened, what was journaled is committed before the job is read back.
    let closed = journal.close();
    let report = report?;
    closed?;
    if report.cancelled {
        say("stopped: run the same command again to resume");
    }
    Ok(store.finish_if_complete(job.id, now_ms())?)
}
