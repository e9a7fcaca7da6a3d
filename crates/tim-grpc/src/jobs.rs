//! The job service: durable fan-outs, run by the gateway itself, kept in the gateway's data directory (`tim-jobs`'s
//! embedded store) or, for several replicas, in PostgreSQL.
//!
//! A submitted job's recipients are stored before the job is created (a synced file in the data directory, or
//! blocks in PostgreSQL), so from the answer on the job depends on nothing in memory. Each job runs in a task of
//! its own: it waits for its start time, then runs the fan-out engine with the job's journal over its input,
//! resuming where an earlier run stopped. A run that fails leaves the job stopped with its reason (resuming runs it
//! again), except a run on PostgreSQL broken off because the database could not be used: the job stays running
//! and is claimed again. A job has at most one runner at a time, so two engines never send one job:
//!
//! - on the embedded store, the store's file lock keeps other processes out, and this process starts one runner
//!   per job; every job that was running resumes when the gateway starts;
//! - on PostgreSQL, a replica runs a job only while it holds the job's lease (`tim_jobs::PgJobStore::claim`). Each
//!   replica claims running jobs nobody holds, renews its leases, and stops a run when its renewal finds the job
//!   paused or cancelled (by a call to any replica) or the lease lost; a [`Fence`] opened to a deadline inside the
//!   lease keeps every request of a run from leaving once the lease may have ended. A replica that dies stops
//!   renewing; when its leases end another replica claims its jobs and resumes them as after a crash.
//!
//! Pausing or cancelling stops the engine (batches on their way finish).

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
use tim_jobs::{JobId, JobInfo, JobJournal, JobSpec, JobState, JobStore, Lease, PgJobStore, Source};
use tim_transport::fanout::{Failure, Resume};
use tim_transport::{CancelHandle, Fanout, FanoutOptions, Fence};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request, Response, Status, Streaming};

/// Failed lines per `FailureBatch` of `WatchJob`.
const FAILURES_PER_EVENT: usize = tim_transport::fanout::SETTLED_BATCH;

/// How long a replica's lease on a job lasts unless configured: how long a job of a replica that died waits
/// before another replica takes it over.
pub const DEFAULT_JOB_LEASE: Duration = Duration::from_secs(15);

/// Jobs one replica runs at once from PostgreSQL.
const JOBS_PER_REPLICA: usize = 16;

/// Connections to PostgreSQL per replica.
const POSTGRES_CONNECTIONS: usize = 8;

/// How often a replica deletes stored recipients that no job refers to.
const INPUT_SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// How old stored recipients that no job refers to must be to be deleted: far longer than any upload takes.
const ORPHAN_INPUT_AGE: Duration = Duration::from_secs(24 * 3600);

/// Jobs in PostgreSQL, shared by several replicas of the gateway.
#[derive(Clone)]
pub struct PostgresJobs {
    /// `postgresql://user:password@host:port/database`.
    pub url: String,
    /// How long a lease lasts without renewal.
    pub lease: Duration,
    /// A PEM file of CA certificates the database's certificate may chain to (with `sslmode=require`), besides
    /// the web PKI's roots.
    pub ca_file: Option<PathBuf>,
}

impl PostgresJobs {
    /// Jobs in the database at `url`, with the default lease.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), lease: DEFAULT_JOB_LEASE, ca_file: None }
    }

    /// The URL without its password, for logs.
    pub fn redacted_url(&self) -> String {
        tim_transport::config::redact_url(&self.url)
    }
}

impl std::fmt::Debug for PostgresJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresJobs")
            .field("url", &self.redacted_url())
            .field("lease", &self.lease)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// Where the jobs are.
#[derive(Debug)]
enum Store {
    /// The embedded store in the data directory; recipients spooled to files beside it.
    Local { store: JobStore, dir: PathBuf },
    /// PostgreSQL, shared with other replicas; this replica holds leases as `owner`.
    Postgres { store: PgJobStore, owner: String, lease: Duration },
}

/// The jobs and their runners.
#[derive(Debug)]
pub(crate) struct Runner {
    store: Store,
    shared: Shared,
    concurrency: usize,
    /// The runner of each job that has one here: how to stop its current run.
    running: Mutex<HashMap<JobId, CancelHandle>>,
    stopping: AtomicBool,
    idle: tokio::sync::Notify,
    /// Wakes the claim loop (PostgreSQL): a job was submitted or resumed here, or a run ended.
    claim_now: tokio::sync::Notify,
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

/// How a run ended, for what follows it.
enum Ended {
    /// Over for now (finished, paused, cancelled, stopped, or the gateway is stopping).
    Done,
    /// Another replica holds the job now: this one records nothing more of it.
    TakenOver,
}

/// Why a run ended before its job did.
enum RunError {
    /// The job itself cannot go on (its input cannot be read, its journal cannot be written to the local disk):
    /// it stops with this reason until it is resumed.
    Stop(String),
    /// PostgreSQL could not be used: the job stays running, for a later claim.
    Unavailable(String),
}

/// A name for this process among the replicas: host, process and a random part.
fn owner_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "tim".to_owned());
    format!("{host}:{}:{:08x}", std::process::id(), rand::random::<u32>())
}

impl Runner {
    /// Opens the store in `dir` (its `jobs/` folder) and resumes every running job.
    pub(crate) fn start(dir: PathBuf, shared: Shared, concurrency: usize) -> Result<Arc<Self>, crate::Error> {
        let store = JobStore::open(&dir.join("jobs")).map_err(|e| crate::Error::Config(e.to_string()))?;
        std::fs::create_dir_all(dir.join("recipients"))
            .map_err(|e| crate::Error::Config(format!("cannot create {}: {e}", dir.join("recipients").display())))?;
        let jobs = store.jobs().map_err(|e| crate::Error::Config(e.to_string()))?;
        sweep_local_inputs(&dir.join("recipients"), &jobs);
        let runner = Self::new(Store::Local { store, dir }, shared, concurrency);
        for job in jobs.into_iter().filter(|job| job.state == JobState::Running) {
            tracing::info!(job = job.id, covered = job.covered, "resuming a job");
            runner.spawn(job.id, None);
        }
        Ok(runner)
    }

    /// Connects to the jobs in PostgreSQL (bringing the schema up to date) and starts claiming jobs.
    pub(crate) async fn start_postgres(
        config: &PostgresJobs,
        shared: Shared,
        concurrency: usize,
    ) -> Result<Arc<Self>, crate::Error> {
        let ca = match &config.ca_file {
            Some(path) => vec![tokio::fs::read(path).await.map_err(|e| {
                crate::Error::Config(format!("cannot read the PostgreSQL CA file {}: {e}", path.display()))
            })?],
            None => Vec::new(),
        };
        let store = PgJobStore::connect(&config.url, POSTGRES_CONNECTIONS, &ca).await.map_err(|e| {
            crate::Error::Config(format!("the job queue in PostgreSQL at {}: {e}", config.redacted_url()))
        })?;
        let owner = owner_name();
        tracing::info!(owner, url = config.redacted_url(), lease = ?config.lease, "jobs are in PostgreSQL");
        let runner = Self::new(Store::Postgres { store, owner, lease: config.lease }, shared, concurrency);
        tokio::spawn(Arc::clone(&runner).claim_loop());
        tokio::spawn(Self::sweep_loop(Arc::downgrade(&runner)));
        Ok(runner)
    }

    fn new(store: Store, shared: Shared, concurrency: usize) -> Arc<Self> {
        Arc::new(Self {
            store,
            shared,
            concurrency,
            running: Mutex::new(HashMap::new()),
            stopping: AtomicBool::new(false),
            idle: tokio::sync::Notify::new(),
            claim_now: tokio::sync::Notify::new(),
        })
    }

    /// Claims running jobs that no replica holds, while this replica runs fewer than its share; looks again
    /// every fraction of a lease, or at once when told.
    async fn claim_loop(self: Arc<Self>) {
        let Store::Postgres { store, owner, lease } = &self.store else { return };
        let every = (*lease / 5).clamp(Duration::from_millis(100), Duration::from_secs(2));
        while !self.stopping.load(Ordering::SeqCst) {
            let notified = self.claim_now.notified();
            while self.running.lock().unwrap_or_else(PoisonError::into_inner).len() < JOBS_PER_REPLICA
                && !self.stopping.load(Ordering::SeqCst)
            {
                let asked = Instant::now();
                match store.claim(owner, *lease).await {
                    Ok(Some(claimed)) => {
                        self.shared.metrics.lease_taken(claimed.taken_over);
                        if claimed.taken_over {
                            tracing::info!(job = claimed.job, epoch = claimed.epoch, "took over a job");
                        } else {
                            tracing::info!(job = claimed.job, epoch = claimed.epoch, "claimed a job");
                        }
                        let fence = Fence::closed();
                        fence.open_until(fence_deadline(asked, *lease));
                        self.spawn(claimed.job, Some((claimed, fence)));
                    }
                    Ok(None) => break,
                    Err(error) => {
                        tracing::warn!(%error, "cannot claim jobs; trying again");
                        break;
                    }
                }
            }
            let _ = tokio::time::timeout(every, notified).await;
        }
    }

    /// Deletes, at start and then every [`INPUT_SWEEP_EVERY`], the stored recipients that no job refers to and
    /// that are older than [`ORPHAN_INPUT_AGE`]: those of submissions whose replica died before creating the job.
    /// It holds the runner only while it sweeps, so a gateway that stopped is not kept alive by it.
    async fn sweep_loop(runner: std::sync::Weak<Self>) {
        let mut every = tokio::time::interval(INPUT_SWEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let Some(runner) = runner.upgrade() else { return };
            let Store::Postgres { store, .. } = &runner.store else { return };
            if runner.stopping.load(Ordering::SeqCst) {
                return;
            }
            match store.sweep_inputs(ORPHAN_INPUT_AGE).await {
                Ok(0) => {}
                Ok(swept) => tracing::info!(swept, "deleted the recipients of submissions that never became jobs"),
                Err(error) => tracing::warn!(%error, "cannot sweep the recipients no job refers to; trying later"),
            }
        }
    }

    /// Starts a runner for the job unless it has one here (with its lease, on PostgreSQL).
    fn spawn(self: &Arc<Self>, id: JobId, lease: Option<(Lease, Fence)>) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if self.stopping.load(Ordering::SeqCst) || running.contains_key(&id) {
            if let (Some((lease, _)), Store::Postgres { store, .. }) = (lease, &self.store) {
                let store = store.clone();
                tokio::spawn(async move { store.release(&lease).await });
            }
            return;
        }
        let cancel = CancelHandle::default();
        running.insert(id, cancel.clone());
        drop(running);
        let runner = Arc::clone(self);
        tokio::spawn(async move { runner.run(id, cancel, lease).await });
    }

    /// A job of this replica's may have to run (submitted, resumed): start it here or let a replica claim it.
    fn wake(self: &Arc<Self>, id: JobId) {
        match self.store {
            Store::Local { .. } => self.spawn(id, None),
            Store::Postgres { .. } => self.claim_now.notify_one(),
        }
    }

    /// Runs the job until it is finished, paused, cancelled, taken over or the gateway stops.
    async fn run(self: Arc<Self>, id: JobId, mut cancel: CancelHandle, lease: Option<(Lease, Fence)>) {
        self.shared.metrics.job_running(true);
        // Set by the renewal that finds the lease gone: the run is then over here, whatever it ended with.
        let lost = Arc::new(AtomicBool::new(false));
        let renewing = lease
            .as_ref()
            .map(|(lease, fence)| self.renew_loop(lease.clone(), fence.clone(), &cancel, Arc::clone(&lost)));
        loop {
            let ended = self.run_once(id, &cancel, lease.as_ref(), &lost).await;
            let ended = match ended {
                _ if lost.load(Ordering::SeqCst) => Ended::TakenOver,
                Ok(ended) => ended,
                Err(RunError::Unavailable(why)) => {
                    // The database failed, not the job: the lease is given up after a pause (so that a failure
                    // that lasts does not turn into a loop of claims), and whichever replica claims it next runs it.
                    tracing::warn!(job = id, "the job's run broke off while its store could not be used: {why}");
                    self.shared.metrics.store_interrupted();
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        () = cancel.cancelled() => {}
                    }
                    Ended::Done
                }
                Err(RunError::Stop(why)) => {
                    // Said in the job itself, so that its callers see it and a watch ends; resuming runs it again.
                    tracing::error!(job = id, "the job stopped: {why}");
                    if let Err(error) = self.stop_with(id, &why).await {
                        tracing::error!(job = id, %error, "the job's failure could not be recorded");
                    }
                    Ended::Done
                }
            };
            if matches!(ended, Ended::TakenOver) {
                tracing::warn!(job = id, "another replica took the job over; this replica stopped running it");
                self.shared.metrics.lease_lost();
            }
            if let Store::Local { store, .. } = &self.store {
                // Decide under the lock, so a resume in between either sees this runner or starts the next one.
                let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
                let again = !self.stopping.load(Ordering::SeqCst)
                    && cancel.is_cancelled()
                    && store.job(id).is_ok_and(|job| job.state == JobState::Running && !job.is_complete());
                if again {
                    // Paused and resumed while this run was stopping: run again.
                    cancel = CancelHandle::default();
                    running.insert(id, cancel.clone());
                    continue;
                }
            }
            break;
        }
        if let Some(renewing) = renewing {
            renewing.abort();
        }
        if let (Some((lease, fence)), Store::Postgres { store, .. }) = (&lease, &self.store) {
            fence.close();
            if let Err(error) = store.release(lease).await {
                tracing::warn!(job = id, %error, "cannot release the job's lease; it ends by itself");
            }
        }
        self.shared.metrics.job_running(false);
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.remove(&id);
        if running.is_empty() {
            self.idle.notify_waiters();
        }
        drop(running);
        // A job resumed meanwhile (or any other) may be claimed now.
        self.claim_now.notify_one();
    }

    /// Keeps the lease while the run goes on: renews it every quarter of its length and opens the fence to the
    /// next deadline; stops the run when the job was paused or cancelled (from any replica) or the lease lost.
    fn renew_loop(
        &self,
        lease: Lease,
        fence: Fence,
        cancel: &CancelHandle,
        lost: Arc<AtomicBool>,
    ) -> tokio::task::JoinHandle<()> {
        let Store::Postgres { store, lease: length, .. } = &self.store else {
            return tokio::spawn(async {});
        };
        let (store, length, cancel) = (store.clone(), *length, cancel.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(length / 4).await;
                let asked = Instant::now();
                match store.renew(&lease, length).await {
                    Ok(Some(JobState::Running)) => fence.open_until(fence_deadline(asked, length)),
                    Ok(Some(state)) => {
                        // Paused or cancelled by a call to some replica: stop sending (chunks on their way end).
                        tracing::info!(job = lease.job, %state, "the job is no longer running: stopping its run");
                        fence.open_until(fence_deadline(asked, length));
                        cancel.cancel();
                    }
                    Ok(None) => {
                        fence.close();
                        lost.store(true, Ordering::SeqCst);
                        cancel.cancel();
                        return;
                    }
                    Err(error) => {
                        // The fence stays at its deadline: without a renewal it closes by itself.
                        tracing::warn!(job = lease.job, %error, "cannot renew the job's lease; trying again");
                        if !fence.is_open() {
                            cancel.cancel();
                        }
                    }
                }
            }
        })
    }

    async fn run_once(
        &self,
        id: JobId,
        cancel: &CancelHandle,
        lease: Option<&(Lease, Fence)>,
        lost: &AtomicBool,
    ) -> Result<Ended, RunError> {
        let job = self.job(id).await.map_err(|e| self.failure(e))?;
        if job.state != JobState::Running {
            return Ok(Ended::Done);
        }
        if let Some(at) = job.start_at_ms {
            let wait = Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0));
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = cancel.cancelled() => return Ok(Ended::Done),
            }
        }
        let message = job.spec.batch_message().map_err(|e| RunError::Stop(e.to_string()))?;
        let concurrency = job.concurrency.map_or(self.concurrency, |n| n as usize);
        let options = FanoutOptions { concurrency, ..FanoutOptions::default() };
        let mut fanout =
            Fanout::new(self.shared.client.clone(), &message, options).map_err(|e| RunError::Stop(e.to_string()))?;
        let (resume, journal, input): (Resume, JobJournal, Input) = match (&self.store, lease) {
            (Store::Local { store, .. }, _) => {
                let resume = store.resume(id).map_err(|e| self.failure(e))?;
                let journal = store.journal(id).map_err(|e| self.failure(e))?;
                let path = PathBuf::from(&job.spec.source.path);
                let file = tokio::fs::File::open(&path)
                    .await
                    .map_err(|error| RunError::Stop(format!("cannot open {}: {error}", path.display())));
                (resume, journal, file.map(|file| Box::new(file) as Input)?)
            }
            (Store::Postgres { store, .. }, Some((lease, fence))) => {
                let resume = store.resume(lease).await.map_err(|e| self.failure(e))?;
                fanout.fence(fence.clone());
                (resume, store.journal(lease), Box::new(store.input(id)) as Input)
            }
            (Store::Postgres { .. }, None) => {
                return Err(RunError::Stop("a job in PostgreSQL runs only under a lease".to_owned()));
            }
        };
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
        let read_error = tim_jobs::input::ReadError::default();
        let lines = tim_jobs::input::lines(input, job.spec.source.path.clone(), read_error.clone());
        let report = fanout.run(lines).await;
        tracing::info!(job = id, delivered = report.delivered, cancelled = report.cancelled, "job run ended");
        let result = match read_error.lock().unwrap_or_else(PoisonError::into_inner).take() {
            // Stored input fails to read only when the database does.
            Some(error) if lease.is_some() => Err(RunError::Unavailable(error)),
            Some(error) => Err(RunError::Stop(error)),
            None => Ok(()),
        };
        relay.abort();
        match journal.finish().await {
            Err(tim_jobs::Error::LeaseLost(_)) => return Ok(Ended::TakenOver),
            _ if lost.load(Ordering::SeqCst) => return Ok(Ended::TakenOver),
            other => other.map_err(|e| self.failure(e))?,
        }
        self.finish_if_complete(id).await.map_err(|e| self.failure(e))?;
        result.map(|()| Ended::Done)
    }

    /// Stops every run (the jobs stay running in the store and resume at the next start, or on another replica)
    /// and waits for them to have written their journals, at most `deadline`.
    pub(crate) async fn stop(&self, deadline: Duration) {
        self.stopping.store(true, Ordering::SeqCst);
        self.claim_now.notify_one();
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

    /// What a store error means for the run: the database failing does not stop a job in PostgreSQL.
    fn failure(&self, error: tim_jobs::Error) -> RunError {
        match (&self.store, &error) {
            (Store::Postgres { .. }, tim_jobs::Error::Store(_) | tim_jobs::Error::Stopped(_)) => {
                RunError::Unavailable(error.to_string())
            }
            _ => RunError::Stop(error.to_string()),
        }
    }

    fn handle(&self, id: JobId) -> Option<CancelHandle> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner).get(&id).cloned()
    }

    /// Whether the job is being run (here, or by any replica holding its lease).
    async fn has_runner(&self, id: JobId) -> Result<bool, tim_jobs::Error> {
        match &self.store {
            Store::Local { .. } => Ok(self.handle(id).is_some()),
            Store::Postgres { store, .. } => Ok(self.handle(id).is_some() || store.is_leased(id).await?),
        }
    }

    async fn job(&self, id: JobId) -> Result<JobInfo, tim_jobs::Error> {
        match &self.store {
            Store::Local { store, .. } => store.job(id),
            Store::Postgres { store, .. } => store.job(id).await,
        }
    }

    async fn jobs(&self) -> Result<Vec<JobInfo>, tim_jobs::Error> {
        match &self.store {
            Store::Local { store, .. } => store.jobs(),
            Store::Postgres { store, .. } => store.jobs().await,
        }
    }

    async fn cancel(&self, id: JobId) -> Result<JobInfo, tim_jobs::Error> {
        match &self.store {
            Store::Local { store, .. } => store.cancel(id, now_ms()),
            Store::Postgres { store, .. } => store.cancel(id, now_ms()).await,
        }
    }

    async fn pause(&self, id: JobId) -> Result<JobInfo, tim_jobs::Error> {
        match &self.store {
            Store::Local { store, .. } => store.pause(id, now_ms()),
            Store::Postgres { store, .. } => store.pause(id, now_ms()).await,
        }
    }

    async fn unpause(&self, id: JobId) -> Result<JobInfo, tim_jobs::Error> {
        match &self.store {
            Store::Local { store, .. } => store.unpause(id, now_ms()),
            Store::Postgres { store, .. } => store.unpause(id, now_ms()).await,
        }
    }

    async fn stop_with(&self, id: JobId, why: &str) -> Result<JobInfo, tim_jobs::Error> {
        match &self.store {
            Store::Local { store, .. } => store.stop_with(id, now_ms(), why),
            Store::Postgres { store, .. } => store.stop_with(id, now_ms(), why).await,
        }
    }

    async fn finish_if_complete(&self, id: JobId) -> Result<JobInfo, tim_jobs::Error> {
        match &self.store {
            Store::Local { store, .. } => store.finish_if_complete(id, now_ms()),
            Store::Postgres { store, .. } => store.finish_if_complete(id, now_ms()).await,
        }
    }

    async fn settled_since(&self, id: JobId, from: u64) -> Result<(Vec<Failure>, u64), tim_jobs::Error> {
        match &self.store {
            Store::Local { store, .. } => store.settled_since(id, from, FAILURES_PER_EVENT),
            Store::Postgres { store, .. } => store.settled_since(id, from, FAILURES_PER_EVENT).await,
        }
    }

    async fn pending(&self, job: &JobInfo) -> Result<Vec<Failure>, tim_jobs::Error> {
        match &self.store {
            Store::Local { store, .. } => {
                let mut pending = Vec::new();
                store.for_each_pending(job, |failure| pending.push(failure.clone()))?;
                Ok(pending)
            }
            Store::Postgres { store, .. } => store.pending(job).await,
        }
    }

    /// Stores the recipients of a job being submitted and creates the job.
    async fn create(
        &self,
        spec: impl FnOnce(Source) -> JobSpec,
        path: &str,
        inbound: &mut Streaming<pb::SubmitJobRequest>,
        start_at: Option<i64>,
        concurrency: Option<u32>,
    ) -> Result<JobInfo, Status> {
        match &self.store {
            Store::Local { store, dir } => {
                let spool = dir.join("recipients").join(format!("{}-{:08x}.txt", now_ms(), rand::random::<u32>()));
                let written = async {
                    let mut file = FileSpool::create(&spool).await?;
                    spool_recipients(&mut file, path, inbound).await?;
                    file.finish().await
                };
                if let Err(status) = written.await {
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
                let created = store.create_with(spec(source), now_ms(), start_at, concurrency);
                if created.is_err() {
                    // No job refers to these recipients: they would only take room.
                    let _ = tokio::fs::remove_file(&spool).await;
                }
                created.map_err(|e| store_status(&e))
            }
            Store::Postgres { store, .. } => {
                let mut upload = store.upload().await.map_err(|e| store_status(&e))?;
                if let Err(status) = spool_recipients(&mut upload, path, inbound).await {
                    upload.abandon().await;
                    return Err(status);
                }
                let (input, source) = upload.finish().await.map_err(|e| store_status(&e))?;
                let created = store.create_with(spec(source), input, now_ms(), start_at, concurrency).await;
                if created.is_err() {
                    // No job refers to these recipients: they would only take room.
                    store.forget_input(input).await;
                }
                created.map_err(|e| store_status(&e))
            }
        }
    }
}

/// Deletes the files of `recipients` (a data directory's spool) that no job of `jobs` reads: those of submissions
/// whose gateway stopped between storing the recipients and creating the job. Run at start, while this process
/// holds the store's lock, so no submission is under way. Files are matched by name (each is unique), so a data
/// directory reached through another path keeps its jobs' files.
fn sweep_local_inputs(recipients: &std::path::Path, jobs: &[JobInfo]) {
    let referenced: std::collections::HashSet<std::ffi::OsString> = jobs
        .iter()
        .filter_map(|job| std::path::Path::new(&job.spec.source.path).file_name().map(ToOwned::to_owned))
        .collect();
    let Ok(entries) = std::fs::read_dir(recipients) else { return };
    let mut swept = 0_u64;
    for entry in entries.flatten() {
        let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
        if is_file && !referenced.contains(&entry.file_name()) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => swept += 1,
                Err(error) => {
                    tracing::warn!(file = %entry.path().display(), %error, "cannot delete recipients no job reads")
                }
            }
        }
    }
    if swept > 0 {
        tracing::info!(swept, dir = %recipients.display(), "deleted the recipients of submissions that never became jobs");
    }
}

/// A job's input as the engine reads it.
type Input = Box<dyn tokio::io::AsyncRead + Send + Unpin>;

/// Until when a fence may stay open after a renewal asked at `asked`: three quarters of the lease, so a request
/// never leaves after the lease (which the database counts from later) may have ended.
fn fence_deadline(asked: Instant, lease: Duration) -> Instant {
    asked + lease * 3 / 4
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
                "jobs need a store: set data_dir (TIM_DATA_DIR) in the gateway's configuration, or [cluster] \
                 postgres_url (TIM_POSTGRES_URL) for jobs shared by several replicas"
                    .to_owned(),
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
        let start_at = (start.start_at_unix_ms > 0).then_some(start.start_at_unix_ms);
        let concurrency = (start.concurrency > 0).then_some(start.concurrency.min(256));
        let spec = |source| JobSpec::new(&model, source);
        let job = runner.create(spec, &start.recipients_path, &mut inbound, start_at, concurrency).await?;
        tracing::info!(job = job.id, "job submitted");
        runner.wake(job.id);
        Ok(Response::new(job_message(&job)))
    }

    async fn get_job(&self, request: Request<pb::JobRef>) -> Result<Response<pb::Job>, Status> {
        let job = self.runner()?.job(request.into_inner().id).await.map_err(|e| store_status(&e))?;
        Ok(Response::new(job_message(&job)))
    }

    async fn list_jobs(&self, _: Request<pb::ListJobsRequest>) -> Result<Response<pb::ListJobsResponse>, Status> {
        let jobs = self.runner()?.jobs().await.map_err(|e| store_status(&e))?;
        Ok(Response::new(pb::ListJobsResponse { jobs: jobs.iter().map(job_message).collect() }))
    }

    async fn watch_job(&self, request: Request<pb::WatchJobRequest>) -> Result<Response<JobEvents>, Status> {
        let runner = Arc::clone(self.runner()?);
        let request = request.into_inner();
        let id = request.id;
        runner.job(id).await.map_err(|e| store_status(&e))?;
        let interval = Duration::from_secs(u64::from(request.interval_secs.max(1)));
        let (events, receiver) = mpsc::channel(16);
        tokio::spawn(async move {
            let event = |job: &JobInfo| Ok(pb::JobEvent { kind: Some(pb::job_event::Kind::Job(job_message(job))) });
            let batch = |failures: Vec<Failure>| {
                Ok(pb::JobEvent { kind: Some(pb::job_event::Kind::Failures(convert::failures(failures))) })
            };
            let fail = |error: tim_jobs::Error| Err(store_status(&error));
            // Lines settled without being delivered, streamed as the journal records them.
            let mut cursor = 0;
            loop {
                let job = match runner.job(id).await {
                    Ok(job) => job,
                    Err(error) => {
                        let _ = events.send(fail(error)).await;
                        return;
                    }
                };
                let over = job.state != JobState::Running
                    && match runner.has_runner(id).await {
                        Ok(has) => !has,
                        Err(error) => {
                            let _ = events.send(fail(error)).await;
                            return;
                        }
                    };
                loop {
                    match runner.settled_since(id, cursor).await {
                        Ok((found, _)) if found.is_empty() => break,
                        Ok((found, next)) => {
                            cursor = next;
                            if events.send(batch(found)).await.is_err() {
                                return;
                            }
                        }
                        Err(error) => {
                            let _ = events.send(fail(error)).await;
                            return;
                        }
                    }
                }
                if over || job.state == JobState::Finished {
                    // What is not settled (a stopped or cancelled job), then the job one last time.
                    let pending = match runner.pending(&job).await {
                        Ok(pending) => pending,
                        Err(error) => {
                            let _ = events.send(fail(error)).await;
                            return;
                        }
                    };
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
        let job = runner.cancel(id).await.map_err(|e| store_status(&e))?;
        // Its runner here stops at once; one on another replica at its next lease renewal.
        if let Some(handle) = runner.handle(id) {
            handle.cancel();
        }
        Ok(Response::new(job_message(&job)))
    }

    async fn pause_job(&self, request: Request<pb::JobRef>) -> Result<Response<pb::Job>, Status> {
        let runner = self.runner()?;
        let id = request.into_inner().id;
        let job = runner.pause(id).await.map_err(|e| store_status(&e))?;
        if let Some(handle) = runner.handle(id) {
            handle.cancel();
        }
        Ok(Response::new(job_message(&job)))
    }

    async fn resume_job(&self, request: Request<pb::JobRef>) -> Result<Response<pb::Job>, Status> {
        let runner = self.runner()?;
        let id = request.into_inner().id;
        let job = match &runner.store {
            Store::Local { store, .. } => {
                // Under the runners' lock: a runner still stopping either sees the job running again (and runs
                // it) or has gone (and `spawn` starts the next).
                let _running = runner.running.lock().unwrap_or_else(PoisonError::into_inner);
                store.unpause(id, now_ms())
            }
            // Any replica claims it; one still ending its run releases the lease, then looks for jobs again.
            Store::Postgres { .. } => runner.unpause(id).await,
        }
        .map_err(|e| store_status(&e))?;
        runner.wake(id);
        Ok(Response::new(job_message(&job)))
    }
}

/// Where a job's recipients are written while it is submitted.
trait Spool {
    async fn write(&mut self, data: &[u8]) -> Result<(), Status>;
}

/// A file in the data directory, synced when done.
struct FileSpool(tokio::io::BufWriter<tokio::fs::File>);

impl FileSpool {
    async fn create(path: &std::path::Path) -> Result<Self, Status> {
        let file = tokio::fs::File::create(path).await.map_err(cannot_store)?;
        Ok(Self(tokio::io::BufWriter::new(file)))
    }

    /// Flushes and syncs the file: the job may be created only once its recipients are on disk.
    async fn finish(mut self) -> Result<(), Status> {
        self.0.flush().await.map_err(cannot_store)?;
        self.0.into_inner().sync_all().await.map_err(cannot_store)
    }
}

fn cannot_store(error: impl std::fmt::Display) -> Status {
    Status::internal(format!("cannot store the recipients: {error}"))
}

impl Spool for FileSpool {
    async fn write(&mut self, data: &[u8]) -> Result<(), Status> {
        self.0.write_all(data).await.map_err(cannot_store)
    }
}

impl Spool for tim_jobs::postgres::InputWriter {
    async fn write(&mut self, data: &[u8]) -> Result<(), Status> {
        tim_jobs::postgres::InputWriter::write(self, data).await.map_err(cannot_store)
    }
}

/// Writes the job's recipients to `spool`: the content of `path` when given (a file the gateway can read), else
/// the stream's batches. A file spool is flushed and synced.
async fn spool_recipients(
    spool: &mut impl Spool,
    path: &str,
    inbound: &mut Streaming<pb::SubmitJobRequest>,
) -> Result<(), Status> {
    use pb::submit_job_request::Kind;
    if !path.is_empty() {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| error::bad_field("start.recipients_path", format!("cannot be read: {e}")))?;
        let mut reader = tokio::io::BufReader::with_capacity(1 << 16, file);
        loop {
            let data = tokio::io::AsyncBufReadExt::fill_buf(&mut reader)
                .await
                .map_err(|e| error::bad_field("start.recipients_path", format!("cannot be read: {e}")))?;
            if data.is_empty() {
                break;
            }
            let read = data.len();
            spool.write(data).await?;
            tokio::io::AsyncBufReadExt::consume(&mut reader, read);
        }
    } else {
        while let Some(next) = inbound.message().await? {
            let Some(Kind::Recipients(batch)) = next.kind else {
                return Err(error::bad_field("recipients", "every message after the first must carry recipients"));
            };
            if !batch.lines.is_empty() {
                spool.write(batch.lines.as_bytes()).await?;
                if !batch.lines.ends_with('\n') {
                    spool.write(b"\n").await?;
                }
            }
            for id in batch.user_ids {
                spool.write(id.as_bytes()).await?;
                spool.write(b"\n").await?;
            }
        }
    }
    Ok(())
}
