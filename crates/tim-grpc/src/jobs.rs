//! The job service: durable fan-outs in the gateway's data directory (`tim-jobs`), run by the gateway itself.
//!
//! A submitted job's recipients are written to a file in the data directory and synced before the job is
//! created, so from the answer on the job depends on nothing in memory. Each job runs in a task of its own
//! (`Runner`): it waits for its start time, then runs the fan-out engine with the job's journal over the file,
//! resuming where an earlier run stopped. A run that fails leaves the job stopped with its reason (resuming runs it
//! again). When the gateway starts, every job that was running resumes. Pausing or
//! cancelling stops the engine (batches on their way finish); a job has at most one runner at a time, so two
//! engines never send one job.

use crate::convert;
use crate::error;
use crate::pb;
use crate::service::Shared;
use std::collections::HashMap;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tim_jobs::{JobId, JobInfo, JobSpec, JobState, JobStore, Source};
use tim_transport::fanout::Failure;
use tim_transport::{CancelHandle, Fanout, FanoutOptions};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request, Response, Status, Streaming};

/// Failed lines per `FailureBatch` of `WatchJob`.
const FAILURES_PER_EVENT: usize = tim_transport::fanout::SETTLED_BATCH;

/// The jobs of one data directory and their runners.
#[derive(Debug)]
pub(crate) struct Runner {
    store: JobStore,
    shared: Shared,
    dir: PathBuf,
    concurrency: usize,
    /// The runner of each job that has one: how to stop its current run.
    running: Mutex<HashMap<JobId, CancelHandle>>,
    stopping: AtomicBool,
    idle: tokio::sync::Notify,
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

fn store_status(error: &tim_jobs::Error) -> Status {
    let code = match error {
        tim_jobs::Error::NoSuchJob(_) => Code::NotFound,
        tim_jobs::Error::State { .. } => Code::FailedPrecondition,
        _ => Code::Internal,
    };
    error::status(code, error.to_string(), pb::ErrorDetail::default())
}

impl Runner {
    /// Opens the store in `dir` (its `jobs/` folder) and resumes every running job.
    pub(crate) fn start(dir: PathBuf, shared: Shared, concurrency: usize) -> Result<Arc<Self>, crate::Error> {
        let store = JobStore::open(&dir.join("jobs")).map_err(|e| crate::Error::Config(e.to_string()))?;
        std::fs::create_dir_all(dir.join("recipients"))
            .map_err(|e| crate::Error::Config(format!("cannot create {}: {e}", dir.join("recipients").display())))?;
        let runner = Arc::new(Self {
            store,
            shared,
            dir,
            concurrency,
            running: Mutex::new(HashMap::new()),
            stopping: AtomicBool::new(false),
            idle: tokio::sync::Notify::new(),
        });
        let jobs = runner.store.jobs().map_err(|e| crate::Error::Config(e.to_string()))?;
        for job in jobs.into_iter().filter(|job| job.state == JobState::Running) {
            tracing::info!(job = job.id, covered = job.covered, "resuming a job");
            runner.spawn(job.id);
        }
        Ok(runner)
    }

    /// Starts a runner for the job unless it has one.
    fn spawn(self: &Arc<Self>, id: JobId) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if self.stopping.load(Ordering::SeqCst) || running.contains_key(&id) {
            return;
        }
        let cancel = CancelHandle::default();
        running.insert(id, cancel.clone());
        drop(running);
        let runner = Arc::clone(self);
        tokio::spawn(async move { runner.run(id, cancel).await });
    }

    /// Runs the job until it is finished, paused, cancelled or the gateway stops.
    async fn run(self: Arc<Self>, id: JobId, mut cancel: CancelHandle) {
        loop {
            if let Err(why) = self.run_once(id, &cancel).await {
                // Said in the job itself, so that its callers see it and a watch ends; resuming runs it again.
                tracing::error!(job = id, "the job stopped: {why}");
                if let Err(error) = self.store.stop_with(id, now_ms(), &why) {
                    tracing::error!(job = id, %error, "the job's failure could not be recorded");
                }
            }
            // Decide under the lock, so a resume in between either sees this runner or starts the next one.
            let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
            let again = !self.stopping.load(Ordering::SeqCst)
                && cancel.is_cancelled()
                && self.store.job(id).is_ok_and(|job| job.state == JobState::Running && !job.is_complete());
            if again {
                // Paused and resumed while this run was stopping: run again.
                cancel = CancelHandle::default();
                running.insert(id, cancel.clone());
                continue;
            }
            running.remove(&id);
            if running.is_empty() {
                self.idle.notify_waiters();
            }
            return;
        }
    }

    async fn run_once(&self, id: JobId, cancel: &CancelHandle) -> Result<(), String> {
        let job = self.store.job(id).map_err(|e| e.to_string())?;
        if job.state != JobState::Running {
            return Ok(());
        }
        if let Some(at) = job.start_at_ms {
            let wait = Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0));
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = cancel.cancelled() => return Ok(()),
            }
        }
        let message = job.spec.batch_message().map_err(|e| e.to_string())?;
        let concurrency = job.concurrency.map_or(self.concurrency, |n| n as usize);
        let options = FanoutOptions { concurrency, ..FanoutOptions::default() };
        let mut fanout = Fanout::new(self.shared.client.clone(), &message, options).map_err(|e| e.to_string())?;
        let resume = self.store.resume(id).map_err(|e| e.to_string())?;
        let journal = self.store.journal(id).map_err(|e| e.to_string())?;
        fanout.journal(Arc::new(journal.clone()), resume);
        // This run stops when the job's cancel handle is used.
        let engine = fanout.cancel_handle();
        let relay = {
            let cancel = cancel.clone();
            tokio::spawn(async move {
                cancel.cancelled().await;
                engine.cancel();
            })
        };
        let mut settled = fanout.stream_settled(4);
        tokio::spawn(async move { while settled.recv().await.is_some() {} });
        let path = PathBuf::from(&job.spec.source.path);
        let result = match tokio::fs::File::open(&path).await {
            Ok(file) => {
                let read_error = tim_jobs::input::ReadError::default();
                let lines = tim_jobs::input::lines(file, path.display().to_string(), read_error.clone());
                let report = fanout.run(lines).await;
                tracing::info!(job = id, delivered = report.delivered, cancelled = report.cancelled, "job run ended");
                match read_error.lock().unwrap_or_else(PoisonError::into_inner).take() {
                    Some(error) => Err(error),
                    None => Ok(()),
                }
            }
            Err(error) => Err(format!("cannot open {}: {error}", path.display())),
        };
        relay.abort();
        journal.close().map_err(|e| e.to_string())?;
        self.store.finish_if_complete(id, now_ms()).map_err(|e| e.to_string())?;
        result
    }

    /// Stops every run (the jobs stay running in the store and resume at the next start) and waits for them to
    /// have written their journals, at most `deadline`.
    pub(crate) async fn stop(&self, deadline: Duration) {
        self.stopping.store(true, Ordering::SeqCst);
        let handles: Vec<CancelHandle> =
            self.running.lock().unwrap_or_else(PoisonError::into_inner).values().cloned().collect();
        for handle in &handles {
            handle.cancel();
        }
        let idle = async {
            loop {
                let notified = self.idle.notified();
                if self.running.lock().unwrap_or_else(PoisonError::into_inner).is_empty() {
                    return;
                }
                notified.await;
            }
        };
        if tokio::time::timeout(deadline, idle).await.is_err() {
            tracing::warn!("job runs did not stop in time; their journals hold what they did");
        }
    }

    fn handle(&self, id: JobId) -> Option<CancelHandle> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner).get(&id).cloned()
    }
}

/// The job service; without a data directory every call is refused.
#[derive(Debug, Clone)]
pub(crate) struct JobRpc {
    pub(crate) runner: Option<Arc<Runner>>,
}

impl JobRpc {
    fn runner(&self) -> Result<&Arc<Runner>, Status> {
        self.runner.as_ref().ok_or_else(|| {
            error::status(
                Code::FailedPrecondition,
                "jobs need a data directory: set data_dir in the gateway's configuration (or TIM_DATA_DIR)".to_owned(),
                pb::ErrorDetail::default(),
            )
        })
    }
}

/// A job as this API shows it.
fn job_message(job: &JobInfo) -> pb::Job {
    let c = &job.counters;
    pb::Job {
        id: job.id,
        state: match job.state {
            JobState::Running => pb::JobState::Running,
            JobState::Paused => pb::JobState::Paused,
            JobState::Cancelled => pb::JobState::Cancelled,
            JobState::Finished => pb::JobState::Finished,
            JobState::Stopped => pb::JobState::Stopped,
        } as i32,
        lines: job.lines.unwrap_or(0),
        covered: job.covered,
        delivered: c.delivered,
        resolved: c.resolved,
        failed: c.failed,
        outcome_unknown: c.outcome_unknown,
        invalid: c.invalid,
        duplicates: c.duplicates,
        failed_by_code: c.failed_by_code.iter().map(|(code, count)| (*code, *count)).collect(),
        chunks: c.chunks,
        in_flight: c.in_flight,
        waiting: c.requeued,
        created_unix_ms: job.created_ms,
        start_at_unix_ms: job.start_at_ms.unwrap_or(0),
        error: job.error.clone().unwrap_or_default(),
    }
}

type JobEvents = Pin<Box<dyn futures_util::Stream<Item = Result<pb::JobEvent, Status>> + Send>>;

#[tonic::async_trait]
impl pb::job_service_server::JobService for JobRpc {
    type WatchJobStream = JobEvents;

    async fn submit_job(&self, request: Request<Streaming<pb::SubmitJobRequest>>) -> Result<Response<pb::Job>, Status> {
        use pb::submit_job_request::Kind;
        let runner = self.runner()?;
        let mut inbound = request.into_inner();
        let Some(pb::SubmitJobRequest { kind: Some(Kind::Start(start)) }) = inbound.message().await? else {
            return Err(error::bad_field("start", "must be the first message of the stream"));
        };
        // The message must be sendable before anything is stored.
        let (model, _) = crate::fanout::prepare_fanout(&runner.shared.client, start.message, FanoutOptions::default())?;
        let spool = runner.dir.join("recipients").join(format!("{}-{:08x}.txt", now_ms(), rand::random::<u32>()));
        let written = spool_recipients(&spool, &start.recipients_path, &mut inbound).await;
        if let Err(status) = written {
            let _ = tokio::fs::remove_file(&spool).await;
            return Err(status);
        }
        let source = {
            let spool = spool.clone();
            tokio::task::spawn_blocking(move || Source::of_file(&spool))
                .await
                .map_err(|e| Status::internal(e.to_string()))?
                .map_err(|e| Status::internal(format!("cannot read the recipients back: {e}")))?
        };
        let start_at = (start.start_at_unix_ms > 0).then_some(start.start_at_unix_ms);
        let concurrency = (start.concurrency > 0).then_some(start.concurrency.min(256));
        let job = runner
            .store
            .create_with(JobSpec::new(&model, source), now_ms(), start_at, concurrency)
            .map_err(|e| store_status(&e))?;
        tracing::info!(job = job.id, "job submitted");
        runner.spawn(job.id);
        Ok(Response::new(job_message(&job)))
    }

    async fn get_job(&self, request: Request<pb::JobRef>) -> Result<Response<pb::Job>, Status> {
        let job = self.runner()?.store.job(request.into_inner().id).map_err(|e| store_status(&e))?;
        Ok(Response::new(job_message(&job)))
    }

    async fn list_jobs(&self, _: Request<pb::ListJobsRequest>) -> Result<Response<pb::ListJobsResponse>, Status> {
        let jobs = self.runner()?.store.jobs().map_err(|e| store_status(&e))?;
        Ok(Response::new(pb::ListJobsResponse { jobs: jobs.iter().map(job_message).collect() }))
    }

    async fn watch_job(&self, request: Request<pb::WatchJobRequest>) -> Result<Response<JobEvents>, Status> {
        let runner = Arc::clone(self.runner()?);
        let request = request.into_inner();
        let id = request.id;
        runner.store.job(id).map_err(|e| store_status(&e))?;
        let interval = Duration::from_secs(u64::from(request.interval_secs.max(1)));
        let (events, receiver) = mpsc::channel(16);
        tokio::spawn(async move {
            let event = |job: &JobInfo| Ok(pb::JobEvent { kind: Some(pb::job_event::Kind::Job(job_message(job))) });
            let batch = |failures: Vec<Failure>| {
                Ok(pb::JobEvent { kind: Some(pb::job_event::Kind::Failures(convert::failures(failures))) })
            };
            // Lines settled without being delivered, streamed as the journal records them.
            let mut cursor = 0;
            loop {
                let job = match runner.store.job(id) {
                    Ok(job) => job,
                    Err(error) => {
                        let _ = events.send(Err(store_status(&error))).await;
                        return;
                    }
                };
                let over = job.state != JobState::Running && runner.handle(id).is_none();
                loop {
                    match runner.store.settled_since(id, cursor, FAILURES_PER_EVENT) {
                        Ok((found, _)) if found.is_empty() => break,
                        Ok((found, next)) => {
                            cursor = next;
                            if events.send(batch(found)).await.is_err() {
                                return;
                            }
                        }
                        Err(error) => {
                            let _ = events.send(Err(store_status(&error))).await;
                            return;
                        }
                    }
                }
                if over || job.state == JobState::Finished {
                    // What is not settled (a stopped or cancelled job), then the job one last time.
                    let mut pending: Vec<Failure> = Vec::new();
                    if let Err(error) = runner.store.for_each_pending(&job, |failure| pending.push(failure.clone())) {
                        let _ = events.send(Err(store_status(&error))).await;
                        return;
                    }
                    for part in pending.chunks(FAILURES_PER_EVENT) {
                        if events.send(batch(part.to_vec())).await.is_err() {
                            return;
                        }
                    }
                    let _ = events.send(event(&job)).await;
                    return;
                }
                if events.send(event(&job)).await.is_err() {
                    return;
                }
                tokio::time::sleep(interval).await;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }

    async fn cancel_job(&self, request: Request<pb::JobRef>) -> Result<Response<pb::Job>, Status> {
        let runner = self.runner()?;
        let id = request.into_inner().id;
        let job = runner.store.cancel(id, now_ms()).map_err(|e| store_status(&e))?;
        if let Some(handle) = runner.handle(id) {
            handle.cancel();
        }
        Ok(Response::new(job_message(&job)))
    }

    async fn pause_job(&self, request: Request<pb::JobRef>) -> Result<Response<pb::Job>, Status> {
        let runner = self.runner()?;
        let id = request.into_inner().id;
        let job = runner.store.pause(id, now_ms()).map_err(|e| store_status(&e))?;
        if let Some(handle) = runner.handle(id) {
            handle.cancel();
        }
        Ok(Response::new(job_message(&job)))
    }

    async fn resume_job(&self, request: Request<pb::JobRef>) -> Result<Response<pb::Job>, Status> {
        let runner = self.runner()?;
        let id = request.into_inner().id;
        let job = {
            // Under the runners' lock: a runner still stopping either sees the job running again (and runs it) or
            // has gone (and `spawn` starts the next).
            let _running = runner.running.lock().unwrap_or_else(PoisonError::into_inner);
            runner.store.unpause(id, now_ms()).map_err(|e| store_status(&e))?
        };
        runner.spawn(id);
        Ok(Response::new(job_message(&job)))
    }
}

/// Writes the job's recipients to `spool` and syncs them: a copy of `path` when given, else the stream's batches.
async fn spool_recipients(
    spool: &std::path::Path,
    path: &str,
    inbound: &mut Streaming<pb::SubmitJobRequest>,
) -> Result<(), Status> {
    use pb::submit_job_request::Kind;
    let cannot = |e: std::io::Error| Status::internal(format!("cannot store the recipients: {e}"));
    if !path.is_empty() {
        tokio::fs::copy(path, spool)
            .await
            .map_err(|e| error::bad_field("start.recipients_path", format!("cannot be copied: {e}")))?;
        return tokio::fs::File::open(spool).await.map_err(cannot)?.sync_all().await.map_err(cannot);
    }
    let file = tokio::fs::File::create(spool).await.map_err(cannot)?;
    let mut out = tokio::io::BufWriter::new(file);
    while let Some(next) = inbound.message().await? {
        let Some(Kind::Recipients(batch)) = next.kind else {
            return Err(error::bad_field("recipients", "every message after the first must carry recipients"));
        };
        if !batch.lines.is_empty() {
            out.write_all(batch.lines.as_bytes()).await.map_err(cannot)?;
            if !batch.lines.ends_with('\n') {
                out.write_all(b"\n").await.map_err(cannot)?;
            }
        }
        for id in batch.user_ids {
            out.write_all(id.as_bytes()).await.map_err(cannot)?;
            out.write_all(b"\n").await.map_err(cannot)?;
        }
    }
    out.flush().await.map_err(cannot)?;
    out.into_inner().sync_all().await.map_err(cannot)
}
