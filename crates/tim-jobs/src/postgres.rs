//! Jobs in PostgreSQL, shared by several gateway replicas.
//!
//! The same logical tables as the embedded store (a job's record, its chunks, chunks in flight, entries, failures,
//! lines settled, recipients waiting), the same rules for how events change them (`journal::apply`), plus what
//! several processes need:
//!
//! - **the input**: a job's recipients are stored in the database itself, in blocks of [`INPUT_BLOCK`] bytes,
//!   before the job exists ([`PgJobStore::upload`]), so any replica can read them;
//! - **a lease per job**: a replica runs a job only while it holds the job's lease ([`PgJobStore::claim`], with
//!   `FOR UPDATE SKIP LOCKED`, so replicas claiming at once never wait for each other nor take the same job). The
//!   holder renews it ([`PgJobStore::renew`]); a replica that dies stops renewing, its lease ends, and another
//!   replica claims the job and resumes it exactly as after a crash: chunks in flight are looked up in the
//!   history, never sent blindly again.
//!
//! # Why a replica that lost its lease can never send twice
//! Every claim raises the job's `lease_epoch`. Every journal commit first locks the job's row *for the holder's
//! owner and epoch*; once another replica has claimed the job, the old holder's commits fail, its journal stops,
//! and a chunk is never sent without its commit. What it had already recorded can still leave only while its
//! [`tim_transport::Fence`] is open: the holder opens the fence, at each renewal, until a deadline earlier than the
//! lease's end in the database (measured from before the renewal was asked), and the fence is asked when a request's
//! bytes are about to leave. A replica that takes a job over resolves the chunks in flight as if they had been sent
//! when the old lease ended (or later), so its history lookups wait the resolve delay after the last moment the
//! old holder could have sent anything.
//!
//! Clocks: lease ends are the database's `now()`; fences are each replica's monotonic clock; the time a chunk was
//! sent is the sending replica's wall clock. Replicas whose wall clocks disagree with the database's by more than
//! the resolve delay's margin weaken the last guarantee (run NTP, as for any cluster).
//!
//! Migrations are SQL files in this crate's `migrations/` folder, applied in order under an advisory lock by
//! [`PgJobStore::connect`] and recorded in `tim_schema_migrations`.

use crate::error::Error;
use crate::journal::{Event, JobJournal, Progress, Tables, apply, next_group};
use crate::store::{JobId, JobInfo, JobSpec, JobState, Source, decode_chunk, decode_failure, encode_chunk};
use bytes::Bytes;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Transaction};
use std::time::Duration;
use tim_transport::fanout::{Failure, Resume, StoredChunk};
use tokio::sync::mpsc;

/// Bytes per stored block of a job's input.
pub const INPUT_BLOCK: usize = 1 << 20;

/// The schema's versions, in order: each is applied once, in one transaction.
const MIGRATIONS: &[(i32, &str)] = &[(1, include_str!("../migrations/0001_jobs.sql"))];

/// The advisory lock key under which migrations run (any replica may start first).
const MIGRATION_LOCK: i64 = 0x7469_6d5f_6a6f_6273; // "tim_jobs"

/// The error with its causes (the driver's own says only "db error"; the server's message is its source).
fn pg(error: impl std::error::Error) -> Error {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Store(format!("PostgreSQL: {text}"))
}

fn key(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// Jobs in one PostgreSQL database, shared by every replica that connects to it.
///
/// A replica claims a job with a lease, renews it while it runs the job, and journals it through the lease: a
/// replica whose lease another took over can record nothing more (`Error::LeaseLost`). The gateway does all of
/// this (`[cluster] postgres_url`); a program of one's own would run a job like this:
///
/// ```no_run
/// use std::time::Duration;
/// use tim_jobs::PgJobStore;
///
/// # async fn run() -> Result<(), tim_jobs::Error> {
/// let store = PgJobStore::connect("postgresql://tim:secret@10.0.0.6/tim?sslmode=require", 8, &[]).await?;
/// let lease_term = Duration::from_secs(15);
/// if let Some(lease) = store.claim("replica-1", lease_term).await? {
///     let resume = store.resume(&lease).await?; // where the journal stands, in-flight chunks included
///     let journal = store.journal(&lease); // hand both to `Fanout::journal`; the recipients: `store.input(lease.job)`
///     // ... run the fan-out, calling `store.renew(&lease, lease_term)` every quarter of the term ...
///     # drop((resume, journal));
///     store.release(&lease).await?;
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PgJobStore {
    pool: Pool,
}

impl std::fmt::Debug for PgJobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never shown.
        f.debug_struct("PgJobStore").field("connections", &self.pool.status().size).finish()
    }
}

/// A replica's hold on one job: the job runs there while it lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The job.
    pub job: JobId,
    /// Who holds it (a name unique to the replica's process).
    pub owner: String,
    /// The claim's number: a later claim of the job by anyone has a higher one.
    pub epoch: i64,
    /// When the previous holder's lease ended (UNIX milliseconds, the database's clock), when there was one: the
    /// last moment it could have sent anything.
    pub previous_end_ms: Option<i64>,
    /// Whether the previous holder still held it when it ended (it died or stalled, instead of releasing it).
    pub taken_over: bool,
}

/// A job's recipients being stored, block by block ([`PgJobStore::upload`]).
#[derive(Debug)]
pub struct InputWriter {
    pool: Pool,
    id: i64,
    block: i32,
    buffer: Vec<u8>,
    bytes: u64,
    hasher: sha2::Sha256,
}

impl InputWriter {
    /// Appends `data` to the input (stored as each block fills).
    pub async fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        use sha2::Digest as _;
        self.hasher.update(data);
        self.bytes += data.len() as u64;
        self.buffer.extend_from_slice(data);
        while self.buffer.len() >= INPUT_BLOCK {
            let rest = self.buffer.split_off(INPUT_BLOCK);
            let block = std::mem::replace(&mut self.buffer, rest);
            self.store_block(block).await?;
        }
        Ok(())
    }

    async fn store_block(&mut self, block: Vec<u8>) -> Result<(), Error> {
        let client = self.pool.get().await.map_err(pg)?;
        client
            .execute(
                "INSERT INTO tim_job_input_blocks (input_id, block, data) VALUES ($1, $2, $3)",
                &[&self.id, &self.block, &block],
            )
            .await
            .map_err(pg)?;
        self.block += 1;
        Ok(())
    }

    /// Stores what is left and closes the input; where the job's recipients come from.
    pub async fn finish(mut self) -> Result<(i64, Source), Error> {
        use sha2::Digest as _;
        if !self.buffer.is_empty() {
            let block = std::mem::take(&mut self.buffer);
            self.store_block(block).await?;
        }
        let digest = std::mem::take(&mut self.hasher).finalize();
        let sha256: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        let client = self.pool.get().await.map_err(pg)?;
        client
            .execute(
                "UPDATE tim_job_inputs SET bytes = $2, sha256 = $3 WHERE id = $1",
                &[&self.id, &key(self.bytes), &sha256],
            )
            .await
            .map_err(pg)?;
        Ok((self.id, Source { path: format!("postgresql:tim_job_inputs/{}", self.id), bytes: self.bytes, sha256 }))
    }

    /// Forgets the input (its upload failed).
    pub async fn abandon(self) {
        if let Ok(client) = self.pool.get().await {
            let _ = client.execute("DELETE FROM tim_job_inputs WHERE id = $1", &[&self.id]).await;
        }
    }
}

impl PgJobStore {
    /// Connects to the database at `url` (`postgresql://user:password@host:port/database`) with up to
    /// `connections` connections, and brings its schema up to date. With `sslmode=require` in the URL the
    /// connection is TLS, the server's certificate verified (name included) against the web PKI's roots and the PEM
    /// certificates of `extra_ca_pem`; otherwise it is plaintext (`prefer` is taken as `disable`: a connection
    /// that may or may not be encrypted is never what a deployment means).
    pub async fn connect(url: &str, connections: usize, extra_ca_pem: &[Vec<u8>]) -> Result<Self, Error> {
        let config: tokio_postgres::Config =
            url.parse().map_err(|e| Error::Store(format!("the PostgreSQL URL is not valid: {e}")))?;
        let recycling = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let manager = if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
            let tls = tim_transport::config::tls_client_config(extra_ca_pem)
                .map_err(|e| Error::Store(format!("PostgreSQL TLS: {e}")))?;
            Manager::from_config(config, tokio_postgres_rustls::MakeRustlsConnect::new(tls), recycling)
        } else {
            let mut config = config;
            config.ssl_mode(tokio_postgres::config::SslMode::Disable);
            Manager::from_config(config, tokio_postgres::NoTls, recycling)
        };
        let pool = Pool::builder(manager)
            .max_size(connections.max(2))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(Duration::from_secs(10)))
            .wait_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(pg)?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations not applied yet, under an advisory lock so replicas starting together take turns.
    async fn migrate(&self) -> Result<(), Error> {
        let mut client = self.pool.get().await.map_err(pg)?;
        client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await.map_err(pg)?;
        let result = async {
            client
                .batch_execute(
                    "CREATE TABLE IF NOT EXISTS tim_schema_migrations (
                        version INTEGER PRIMARY KEY,
                        applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                )
                .await
                .map_err(pg)?;
            for (version, sql) in MIGRATIONS {
                let tx = client.transaction().await.map_err(pg)?;
                let applied = tx
                    .query_opt("SELECT 1 FROM tim_schema_migrations WHERE version = $1", &[version])
                    .await
                    .map_err(pg)?
                    .is_some();
                if !applied {
                    tx.batch_execute(sql)
                        .await
                        .map_err(|e| Error::Store(format!("migration {version}: {:?}", pg(e))))?;
                    tx.execute("INSERT INTO tim_schema_migrations (version) VALUES ($1)", &[version])
                        .await
                        .map_err(pg)?;
                    tracing::info!(version, "applied a job-store migration");
                }
                tx.commit().await.map_err(pg)?;
            }
            Ok(())
        }
        .await;
        client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await.map_err(pg)?;
        result
    }

    /// Deletes the inputs that no job refers to and that were started more than `older_than` ago: the recipients
    /// of a submission whose replica died before the job was created (a submission that fails otherwise removes
    /// its own, [`InputWriter::abandon`]). Returns how many were deleted. Safe to run from several replicas at
    /// once; `older_than` must exceed the longest upload, or an upload under way could lose its input (its job's
    /// creation would then fail, never refer to a missing input).
    pub async fn sweep_inputs(&self, older_than: Duration) -> Result<u64, Error> {
        let client = self.pool.get().await.map_err(pg)?;
        let seconds = older_than.as_secs_f64();
        client
            .execute(
                "DELETE FROM tim_job_inputs AS i \
                 WHERE i.created_at < now() - make_interval(secs => $1) \
                 AND NOT EXISTS (SELECT 1 FROM tim_jobs AS j WHERE j.input_id = i.id)",
                &[&seconds],
            )
            .await
            .map_err(pg)
    }

    /// Starts storing a job's recipients.
    pub async fn upload(&self) -> Result<InputWriter, Error> {
        let client = self.pool.get().await.map_err(pg)?;
        let row = client.query_one("INSERT INTO tim_job_inputs DEFAULT VALUES RETURNING id", &[]).await.map_err(pg)?;
        Ok(InputWriter {
            pool: self.pool.clone(),
            id: row.get(0),
            block: 0,
            buffer: Vec::with_capacity(INPUT_BLOCK),
            bytes: 0,
            hasher: sha2::Digest::new(),
        })
    }

    /// Deletes a stored input no job refers to (its job could not be created).
    pub async fn forget_input(&self, input: i64) {
        if let Ok(client) = self.pool.get().await {
            let sql = "DELETE FROM tim_job_inputs i WHERE id = $1 AND NOT EXISTS \
                       (SELECT 1 FROM tim_jobs j WHERE j.input_id = i.id)";
            let _ = client.execute(sql, &[&input]).await;
        }
    }

    /// The job's recipients as stored, read block by block.
    pub fn input(&self, id: JobId) -> impl tokio::io::AsyncRead + Send + Unpin + 'static {
        let pool = self.pool.clone();
        let blocks =
            futures_util::stream::unfold((pool, key(id), 0i32, false), |(pool, job, block, done)| async move {
                if done {
                    return None;
                }
                let read = async {
                    let client = pool.get().await.map_err(std::io::Error::other)?;
                    client
                        .query_opt(
                            "SELECT b.data FROM tim_jobs j JOIN tim_job_input_blocks b ON b.input_id = j.input_id
                         WHERE j.id = $1 AND b.block = $2",
                            &[&job, &block],
                        )
                        .await
                        .map_err(std::io::Error::other)
                };
                match read.await {
                    Ok(Some(row)) => Some((Ok(Bytes::from(row.get::<_, Vec<u8>>(0))), (pool, job, block + 1, false))),
                    Ok(None) => None,
                    Err(error) => Some((Err(error), (pool, job, block, true))),
                }
            });
        tokio_util::io::StreamReader::new(Box::pin(blocks))
    }

    /// Records a new job of the stored `input` that starts no earlier than `start_at_ms`, with `concurrency`
    /// chunks in flight.
    pub async fn create_with(
        &self,
        spec: JobSpec,
        input: i64,
        now_ms: i64,
        start_at_ms: Option<i64>,
        concurrency: Option<u32>,
    ) -> Result<JobInfo, Error> {
        let mut client = self.pool.get().await.map_err(pg)?;
        let tx = client.transaction().await.map_err(pg)?;
        let row = tx
            .query_one(
                "INSERT INTO tim_jobs (info, state, input_id) VALUES ('', 'running', $1) RETURNING id",
                &[&input],
            )
            .await
            .map_err(pg)?;
        let id: i64 = row.get(0);
        let info = JobInfo::new(id as u64, spec, now_ms, start_at_ms, concurrency);
        tx.execute("UPDATE tim_jobs SET info = $2 WHERE id = $1", &[&id, &info.encode()]).await.map_err(pg)?;
        tx.commit().await.map_err(pg)?;
        Ok(info)
    }

    /// Every job, oldest first.
    pub async fn jobs(&self) -> Result<Vec<JobInfo>, Error> {
        let client = self.pool.get().await.map_err(pg)?;
        let rows = client.query("SELECT info FROM tim_jobs ORDER BY id", &[]).await.map_err(pg)?;
        rows.iter().map(|row| JobInfo::decode(row.get(0))).collect()
    }

    /// One job.
    pub async fn job(&self, id: JobId) -> Result<JobInfo, Error> {
        let client = self.pool.get().await.map_err(pg)?;
        let row = client
            .query_opt("SELECT info FROM tim_jobs WHERE id = $1", &[&key(id)])
            .await
            .map_err(pg)?
            .ok_or(Error::NoSuchJob(id))?;
        JobInfo::decode(row.get(0))
    }

    async fn update(
        &self,
        id: JobId,
        change: impl FnOnce(&mut JobInfo) -> Result<(), Error>,
    ) -> Result<JobInfo, Error> {
        let mut client = self.pool.get().await.map_err(pg)?;
        let tx = client.transaction().await.map_err(pg)?;
        let row = tx
            .query_opt("SELECT info FROM tim_jobs WHERE id = $1 FOR UPDATE", &[&key(id)])
            .await
            .map_err(pg)?
            .ok_or(Error::NoSuchJob(id))?;
        let mut info = JobInfo::decode(row.get(0))?;
        change(&mut info)?;
        tx.execute(
            "UPDATE tim_jobs SET info = $2, state = $3 WHERE id = $1",
            &[&key(id), &info.encode(), &info.state.to_string()],
        )
        .await
        .map_err(pg)?;
        tx.commit().await.map_err(pg)?;
        Ok(info)
    }

    /// Cancels the job (its runner, on whichever replica, stops at its next renewal).
    pub async fn cancel(&self, id: JobId, now_ms: i64) -> Result<JobInfo, Error> {
        self.update(id, |info| info.cancel(now_ms)).await
    }

    /// Pauses a running job.
    pub async fn pause(&self, id: JobId, now_ms: i64) -> Result<JobInfo, Error> {
        self.update(id, |info| info.pause(now_ms)).await
    }

    /// Lets a paused job, or one whose run failed, run again (any replica may claim it).
    pub async fn unpause(&self, id: JobId, now_ms: i64) -> Result<JobInfo, Error> {
        self.update(id, |info| info.unpause(now_ms)).await
    }

    /// A run of the running job failed with `error`: it stops and says why.
    pub async fn stop_with(&self, id: JobId, now_ms: i64, error: &str) -> Result<JobInfo, Error> {
        self.update(id, |info| {
            info.stop_with(now_ms, error);
            Ok(())
        })
        .await
    }

    /// Marks the job finished when every line is settled; the job as it is then.
    pub async fn finish_if_complete(&self, id: JobId, now_ms: i64) -> Result<JobInfo, Error> {
        self.update(id, |info| {
            info.finish_if_complete(now_ms);
            Ok(())
        })
        .await
    }

    /// Claims a running job that no replica holds (or whose holder's lease ended) for `owner`, for `ttl`.
    pub async fn claim(&self, owner: &str, ttl: Duration) -> Result<Option<Lease>, Error> {
        let client = self.pool.get().await.map_err(pg)?;
        let row = client
            .query_opt(
                "WITH next AS (
                    SELECT id, lease_until AS before, lease_owner IS NOT NULL AS held FROM tim_jobs
                    WHERE state = 'running' AND (lease_owner IS NULL OR lease_until < now())
                    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                 UPDATE tim_jobs AS j
                 SET lease_owner = $1, lease_epoch = j.lease_epoch + 1,
                     lease_until = now() + make_interval(secs => $2)
                 FROM next WHERE j.id = next.id
                 RETURNING j.id, j.lease_epoch, (EXTRACT(EPOCH FROM next.before) * 1000)::BIGINT, next.held",
                &[&owner, &ttl.as_secs_f64()],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|row| Lease {
            job: row.get::<_, i64>(0) as u64,
            owner: owner.to_owned(),
            epoch: row.get(1),
            previous_end_ms: row.get(2),
            taken_over: row.get(3),
        }))
    }

    /// Extends the lease by `ttl` from now; the job's state, or `None` when the lease is no longer held (another
    /// replica claimed the job).
    pub async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<Option<JobState>, Error> {
        let client = self.pool.get().await.map_err(pg)?;
        let row = client
            .query_opt(
                "UPDATE tim_jobs SET lease_until = now() + make_interval(secs => $4)
                 WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3 RETURNING info",
                &[&key(lease.job), &lease.owner, &lease.epoch, &ttl.as_secs_f64()],
            )
            .await
            .map_err(pg)?;
        row.map(|row| JobInfo::decode(row.get(0)).map(|info| info.state)).transpose()
    }

    /// Gives the lease up (the run is over): another replica may claim the job at once if it is running.
    pub async fn release(&self, lease: &Lease) -> Result<(), Error> {
        let client = self.pool.get().await.map_err(pg)?;
        client
            .execute(
                "UPDATE tim_jobs SET lease_owner = NULL, lease_until = LEAST(lease_until, now())
                 WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3",
                &[&key(lease.job), &lease.owner, &lease.epoch],
            )
            .await
            .map_err(pg)?;
        Ok(())
    }

    /// Whether some replica holds the job's lease now (it is being run).
    pub async fn is_leased(&self, id: JobId) -> Result<bool, Error> {
        let client = self.pool.get().await.map_err(pg)?;
        let row = client
            .query_opt(
                "SELECT lease_owner IS NOT NULL AND lease_until > now() FROM tim_jobs WHERE id = $1",
                &[&key(id)],
            )
            .await
            .map_err(pg)?
            .ok_or(Error::NoSuchJob(id))?;
        Ok(row.get(0))
    }

    /// Where the leased job's next run starts. Chunks in flight count as sent no earlier than the end of the
    /// previous holder's lease: a replica that lost the job may have sent them up to then.
    pub async fn resume(&self, lease: &Lease) -> Result<Resume, Error> {
        let info = self.job(lease.job).await?;
        let client = self.pool.get().await.map_err(pg)?;
        let job = key(lease.job);
        let rows = client
            .query(
                "SELECT f.chunk, f.sent_ms, c.data FROM tim_job_in_flight f
                 LEFT JOIN tim_job_chunks c ON c.job_id = f.job_id AND c.chunk = f.chunk
                 WHERE f.job_id = $1 ORDER BY f.chunk",
                &[&job],
            )
            .await
            .map_err(pg)?;
        let mut in_flight = Vec::with_capacity(rows.len());
        for row in rows {
            let chunk = row.get::<_, i64>(0) as u64;
            let sent_ms: i64 = row.get(1);
            let body: Option<&[u8]> = row.get(2);
            let body = body.ok_or_else(|| {
                Error::Corrupt(format!("chunk {chunk} of job {} is in flight but was not recorded", lease.job))
            })?;
            in_flight.push((decode_chunk(chunk, body)?, sent_ms.max(lease.previous_end_ms.unwrap_or(i64::MIN))));
        }
        let requeued = self.requeued(job).await?;
        Ok(Resume { covered: info.covered, next_chunk: info.next_chunk, in_flight, requeued })
    }

    async fn requeued(&self, job: i64) -> Result<Vec<(String, u8)>, Error> {
        let client = self.pool.get().await.map_err(pg)?;
        let rows = client
            .query("SELECT user_id, round FROM tim_job_requeued WHERE job_id = $1 ORDER BY user_id", &[&job])
            .await
            .map_err(pg)?;
        Ok(rows.iter().map(|row| (row.get(0), u8::try_from(row.get::<_, i16>(1)).unwrap_or(u8::MAX))).collect())
    }

    /// The leased job's journal: a task that commits what the engine says, while the lease is held.
    pub fn journal(&self, lease: &Lease) -> JobJournal {
        let (pool, lease) = (self.pool.clone(), lease.clone());
        JobJournal::on_task(move |events, progress| write(pool, lease, events, progress))
    }

    /// Up to `max` lines settled without being delivered, from the `from`-th, and the position after them.
    pub async fn settled_since(&self, id: JobId, from: u64, max: usize) -> Result<(Vec<Failure>, u64), Error> {
        let client = self.pool.get().await.map_err(pg)?;
        let rows = client
            .query(
                "SELECT seq, data FROM tim_job_settled WHERE job_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
                &[&key(id), &key(from), &(max as i64)],
            )
            .await
            .map_err(pg)?;
        let mut found = Vec::with_capacity(rows.len());
        let mut next = from;
        for row in rows {
            found.push(decode_failure(row.get(1))?);
            next = row.get::<_, i64>(0) as u64 + 1;
        }
        Ok((found, next))
    }

    /// What of the job is not settled, as report entries (see `JobStore::for_each_pending`).
    pub async fn pending(&self, info: &JobInfo) -> Result<Vec<Failure>, Error> {
        let job = key(info.id);
        let requeued = self.requeued(job).await?.into_iter().map(|(user, _)| user);
        let client = self.pool.get().await.map_err(pg)?;
        let rows = client
            .query(
                "SELECT c.chunk, c.data FROM tim_job_in_flight f
                 JOIN tim_job_chunks c ON c.job_id = f.job_id AND c.chunk = f.chunk
                 WHERE f.job_id = $1 ORDER BY f.chunk",
                &[&job],
            )
            .await
            .map_err(pg)?;
        let mut chunks = Vec::with_capacity(rows.len());
        for row in rows {
            chunks.push(decode_chunk(row.get::<_, i64>(0) as u64, row.get(1))?);
        }
        let mut pending = Vec::new();
        crate::store::pending_entries(info, requeued, chunks, |failure| pending.push(failure.clone()));
        Ok(pending)
    }
}

/// The journal's writer: one transaction per group of events, each first locking the job's row for the lease.
async fn write(pool: Pool, lease: Lease, mut events: mpsc::UnboundedReceiver<Event>, mut progress: Progress) {
    while let Some(group) = next_group(&mut events).await {
        match commit(&pool, &lease, &group).await {
            Ok(()) => progress.committed(group.len()),
            Err(error) => return progress.stopped(lease.job, &error),
        }
    }
}

async fn commit(pool: &Pool, lease: &Lease, group: &[Event]) -> Result<(), Error> {
    let mut client = pool.get().await.map_err(pg)?;
    let tx = client.transaction().await.map_err(pg)?;
    let job = key(lease.job);
    let row = tx
        .query_opt(
            "SELECT info FROM tim_jobs WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3 FOR UPDATE",
            &[&job, &lease.owner, &lease.epoch],
        )
        .await
        .map_err(pg)?
        .ok_or(Error::LeaseLost(lease.job))?;
    let mut info = JobInfo::decode(row.get(0))?;
    apply(&mut PgTables { tx: &tx, job }, &mut info, group).await?;
    tx.execute("UPDATE tim_jobs SET info = $2 WHERE id = $1", &[&job, &info.encode()]).await.map_err(pg)?;
    tx.commit().await.map_err(pg)
}

/// The job's tables inside one transaction.
struct PgTables<'a, 'tx> {
    tx: &'a Transaction<'tx>,
    job: i64,
}

impl PgTables<'_, '_> {
    /// Runs `sql` (prepared once per connection) and returns the first column of its one row.
    async fn inserted(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> Result<bool, Error> {
        let statement = self.tx.prepare_cached(sql).await.map_err(pg)?;
        Ok(self.tx.query_one(&statement, params).await.map_err(pg)?.get(0))
    }

    async fn run(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> Result<u64, Error> {
        let statement = self.tx.prepare_cached(sql).await.map_err(pg)?;
        self.tx.execute(&statement, params).await.map_err(pg)
    }
}

// `xmax = 0` is true for a row this statement inserted, false for one it updated: whether it was new.
impl Tables for PgTables<'_, '_> {
    async fn put_chunk(&mut self, chunk: &StoredChunk) -> Result<(), Error> {
        let sql = "INSERT INTO tim_job_chunks (job_id, chunk, data) VALUES ($1, $2, $3)
                   ON CONFLICT (job_id, chunk) DO UPDATE SET data = EXCLUDED.data";
        self.run(sql, &[&self.job, &key(chunk.id), &encode_chunk(chunk)]).await.map(drop)
    }

    async fn add_in_flight(&mut self, chunk: u64, at_ms: i64) -> Result<bool, Error> {
        let sql = "INSERT INTO tim_job_in_flight (job_id, chunk, sent_ms) VALUES ($1, $2, $3)
                   ON CONFLICT (job_id, chunk) DO UPDATE SET sent_ms = EXCLUDED.sent_ms RETURNING xmax = 0";
        self.inserted(sql, &[&self.job, &key(chunk), &at_ms]).await
    }

    async fn remove_in_flight(&mut self, chunk: u64) -> Result<bool, Error> {
        let sql = "DELETE FROM tim_job_in_flight WHERE job_id = $1 AND chunk = $2";
        Ok(self.run(sql, &[&self.job, &key(chunk)]).await? > 0)
    }

    async fn put_entry(&mut self, line: u64, encoded: &[u8]) -> Result<bool, Error> {
        let sql = "INSERT INTO tim_job_entries (job_id, line, data) VALUES ($1, $2, $3)
                   ON CONFLICT (job_id, line) DO UPDATE SET data = EXCLUDED.data RETURNING xmax = 0";
        self.inserted(sql, &[&self.job, &key(line), &encoded]).await
    }

    async fn log_settled(&mut self, seq: u64, encoded: &[u8]) -> Result<(), Error> {
        let sql = "INSERT INTO tim_job_settled (job_id, seq, data) VALUES ($1, $2, $3)
                   ON CONFLICT (job_id, seq) DO UPDATE SET data = EXCLUDED.data";
        self.run(sql, &[&self.job, &key(seq), &encoded]).await.map(drop)
    }

    async fn put_failures(&mut self, chunk: u64, encoded: &[u8]) -> Result<(), Error> {
        let sql = "INSERT INTO tim_job_failures (job_id, chunk, data) VALUES ($1, $2, $3)
                   ON CONFLICT (job_id, chunk) DO UPDATE SET data = EXCLUDED.data";
        self.run(sql, &[&self.job, &key(chunk), &encoded]).await.map(drop)
    }

    async fn add_requeued(&mut self, user: &str, round: u8) -> Result<bool, Error> {
        let sql = "INSERT INTO tim_job_requeued (job_id, user_id, round) VALUES ($1, $2, $3)
                   ON CONFLICT (job_id, user_id) DO UPDATE SET round = EXCLUDED.round RETURNING xmax = 0";
        self.inserted(sql, &[&self.job, &user, &i16::from(round)]).await
    }

    async fn remove_requeued(&mut self, users: &[String]) -> Result<u64, Error> {
        let sql = "DELETE FROM tim_job_requeued WHERE job_id = $1 AND user_id = ANY($2)";
        self.run(sql, &[&self.job, &users]).await
    }
}
