//! The job store: jobs and their journals in one redb database in a data directory.

use crate::error::{Error, store};
use crate::journal::JobJournal;
use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tim_model::c2c::BatchSendMsgRequest;
use tim_transport::fanout::{Failure, Resume, Settled, StoredChunk};

/// A job's number within its store, from 1.
pub type JobId = u64;

/// Every job's record (JSON [`JobInfo`]).
pub(crate) const JOBS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("jobs");
/// Each chunk sent, by (job, chunk): its keys, rounds and body.
pub(crate) const CHUNKS: TableDefinition<'_, (u64, u64), &[u8]> = TableDefinition::new("chunks");
/// Chunks sent and not settled, by (job, chunk): when they were sent (UNIX ms).
pub(crate) const IN_FLIGHT: TableDefinition<'_, (u64, u64), i64> = TableDefinition::new("in_flight");
/// Input lines settled without a chunk, by (job, line): JSON [`Failure`].
pub(crate) const ENTRIES: TableDefinition<'_, (u64, u64), &[u8]> = TableDefinition::new("entries");
/// The failures of each settled chunk, by (job, chunk): a JSON array of [`Failure`].
pub(crate) const FAILURES: TableDefinition<'_, (u64, u64), &[u8]> = TableDefinition::new("failures");
/// Every line settled without being delivered, in the order it was settled, by (job, sequence): JSON [`Failure`]
/// (what a watcher reads as it happens).
pub(crate) const SETTLED: TableDefinition<'_, (u64, u64), &[u8]> = TableDefinition::new("settled");
/// Recipients waiting for another round, by (job, UserID): the round.
pub(crate) const REQUEUED: TableDefinition<'_, (u64, &str), u8> = TableDefinition::new("requeued");

/// Where a job's recipients come from: a file, known by its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The file's path when the job was created.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// The SHA-256 of its content, in hex.
    pub sha256: String,
}

impl Source {
    /// Reads `path` whole to fingerprint it.
    pub fn of_file(path: &Path) -> std::io::Result<Self> {
        use sha2::Digest as _;
        use std::io::Read as _;
        let mut file = std::fs::File::open(path)?;
        let mut hasher = sha2::Sha256::new();
        let mut buffer = vec![0; 1 << 16];
        let mut bytes = 0u64;
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            bytes += read as u64;
            hasher.update(&buffer[..read]);
        }
        let digest = hasher.finalize();
        let sha256 = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned()).display().to_string();
        Ok(Self { path, bytes, sha256 })
    }
}

/// What a job sends, and to whom: what makes two jobs the same job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    /// The batchsendmsg message, without `To_Account`, `MsgSeq` and `MsgRandom` (each chunk has its own).
    pub message: serde_json::Value,
    /// The recipients.
    pub source: Source,
}

impl JobSpec {
    /// The job of `message` (its `To_Account`, `MsgSeq` and `MsgRandom` are left out: each chunk has its own) to
    /// the recipients of `source`.
    pub fn new(message: &BatchSendMsgRequest, source: Source) -> Self {
        Self { message: serde_json::to_value(message.without_recipients()).unwrap_or_default(), source }
    }

    /// The message again, as the fan-out engine takes it (no recipients).
    pub fn batch_message(&self) -> Result<BatchSendMsgRequest, Error> {
        serde_json::from_value(self.message.clone()).map_err(|e| Error::Corrupt(format!("the job's message: {e}")))
    }

    /// Whether `other` sends the same message to the same recipients (the file may have moved).
    pub fn same_job(&self, other: &Self) -> bool {
        self.message == other.message
            && self.source.sha256 == other.source.sha256
            && self.source.bytes == other.source.bytes
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Created or under way (or waiting for its start time): running it again resumes it.
    Running,
    /// Paused: nothing is sent until it is resumed.
    Paused,
    /// Cancelled: nothing more is sent.
    Cancelled,
    /// Every line is settled.
    Finished,
    /// Its last run failed before it finished (its input could not be read, its journal could not be written):
    /// [`JobInfo::error`] says why. Nothing is sent until it is resumed, which runs it again.
    Stopped,
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Cancelled => "cancelled",
            Self::Finished => "finished",
            Self::Stopped => "stopped",
        })
    }
}

/// A job's counts over all its runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Recipients the service accepted (directly or found in the history).
    pub delivered: u64,
    /// Recipients whose unknown outcome the history settled as delivered (in `delivered` too).
    pub resolved: u64,
    /// Recipients that failed for good.
    pub failed: u64,
    /// Recipients whose outcome stays unknown.
    pub outcome_unknown: u64,
    /// Lines that are not UserIDs.
    pub invalid: u64,
    /// Lines that repeat an earlier recipient.
    pub duplicates: u64,
    /// The failed recipients by service code (`0`: never sent).
    pub failed_by_code: BTreeMap<i64, u64>,
    /// batchsendmsg chunks sent.
    pub chunks: u64,
    /// Chunks sent and not settled.
    pub in_flight: u64,
    /// Recipients waiting for another round.
    pub requeued: u64,
}

/// One job: what it sends, where it stands, and its counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobInfo {
    /// Its number.
    pub id: JobId,
    /// What it sends to whom.
    pub spec: JobSpec,
    /// Where it stands.
    pub state: JobState,
    /// Its counts.
    pub counters: Counters,
    /// Input lines accounted for (by chunks sent and entries), from the first.
    pub covered: u64,
    /// The input's line count, once it was read to its end.
    pub lines: Option<u64>,
    /// The id the next chunk gets.
    pub next_chunk: u64,
    /// When it was created, UNIX milliseconds.
    pub created_ms: i64,
    /// When it was last changed, UNIX milliseconds.
    pub updated_ms: i64,
    /// When it may start sending, UNIX milliseconds (none: at once).
    #[serde(default)]
    pub start_at_ms: Option<i64>,
    /// Chunks in flight at once (none: the runner's default).
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// Lines settled without being delivered so far, in the order they were settled (see
    /// [`JobStore::settled_since`]).
    #[serde(default)]
    pub settled: u64,
    /// Why its last run failed, while it is [`JobState::Stopped`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How a job changes: the same rules whichever store keeps it.
impl JobInfo {
    /// A new job, running (waiting for `start_at_ms` when given).
    pub(crate) fn new(
        id: JobId,
        spec: JobSpec,
        now_ms: i64,
        start_at_ms: Option<i64>,
        concurrency: Option<u32>,
    ) -> Self {
        Self {
            id,
            spec,
            state: JobState::Running,
            counters: Counters::default(),
            covered: 0,
            lines: None,
            next_chunk: 0,
            created_ms: now_ms,
            updated_ms: now_ms,
            start_at_ms,
            concurrency,
            settled: 0,
            error: None,
        }
    }

    /// Cancelled: nothing more is sent. A finished job has nothing left to cancel.
    pub(crate) fn cancel(&mut self, now_ms: i64) -> Result<(), Error> {
        if self.state == JobState::Finished {
            return Err(self.refused("there is nothing left to cancel"));
        }
        self.state = JobState::Cancelled;
        self.updated_ms = now_ms;
        Ok(())
    }

    /// Paused, when running.
    pub(crate) fn pause(&mut self, now_ms: i64) -> Result<(), Error> {
        if self.state != JobState::Running {
            return Err(self.refused("only a running job can be paused"));
        }
        self.state = JobState::Paused;
        self.updated_ms = now_ms;
        Ok(())
    }

    /// Running again, when paused or stopped.
    pub(crate) fn unpause(&mut self, now_ms: i64) -> Result<(), Error> {
        if !matches!(self.state, JobState::Paused | JobState::Stopped) {
            return Err(self.refused("only a paused or stopped job can be resumed"));
        }
        self.state = JobState::Running;
        self.error = None;
        self.updated_ms = now_ms;
        Ok(())
    }

    /// Stopped with `error`, when running (a job paused or cancelled meanwhile keeps its state).
    pub(crate) fn stop_with(&mut self, now_ms: i64, error: &str) {
        if self.state == JobState::Running {
            self.state = JobState::Stopped;
            self.error = Some(error.to_owned());
            self.updated_ms = now_ms;
        }
    }

    /// Finished, when running and every line is settled.
    pub(crate) fn finish_if_complete(&mut self, now_ms: i64) {
        if self.state == JobState::Running && self.is_complete() {
            self.state = JobState::Finished;
            self.updated_ms = now_ms;
        }
    }

    fn refused(&self, what: &str) -> Error {
        Error::State { job: self.id, state: self.state.to_string(), what: what.to_owned() }
    }

    /// Whether every line of the input is settled.
    pub fn is_complete(&self) -> bool {
        self.lines == Some(self.covered) && self.counters.in_flight == 0 && self.counters.requeued == 0
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(bytes).map_err(|e| Error::Corrupt(format!("job record: {e}")))
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A data directory of jobs. Only one process at a time has it open.
#[derive(Debug, Clone)]
pub struct JobStore {
    db: Arc<Database>,
    dir: PathBuf,
}

/// The database's file in the data directory.
const FILE: &str = "jobs.redb";

impl JobStore {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::Store(format!("cannot create {}: {e}", dir.display())))?;
        let db = match Database::create(dir.join(FILE)) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(Error::InUse { dir: dir.display().to_string() });
            }
            Err(error) => return Err(store(error)),
        };
        let tx = db.begin_write().map_err(store)?;
        {
            tx.open_table(JOBS).map_err(store)?;
            tx.open_table(CHUNKS).map_err(store)?;
            tx.open_table(IN_FLIGHT).map_err(store)?;
            tx.open_table(ENTRIES).map_err(store)?;
            tx.open_table(FAILURES).map_err(store)?;
            tx.open_table(REQUEUED).map_err(store)?;
            tx.open_table(SETTLED).map_err(store)?;
        }
        tx.commit().map_err(store)?;
        Ok(Self { db: Arc::new(db), dir: dir.to_owned() })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records a new job, at `now_ms`.
    pub fn create(&self, spec: JobSpec, now_ms: i64) -> Result<JobInfo, Error> {
        self.create_with(spec, now_ms, None, None)
    }

    /// Records a new job that starts no earlier than `start_at_ms`, with `concurrency` chunks in flight.
    pub fn create_with(
        &self,
        spec: JobSpec,
        now_ms: i64,
        start_at_ms: Option<i64>,
        concurrency: Option<u32>,
    ) -> Result<JobInfo, Error> {
        let tx = self.db.begin_write().map_err(store)?;
        let info = {
            let mut jobs = tx.open_table(JOBS).map_err(store)?;
            let id = jobs.last().map_err(store)?.map_or(1, |(key, _)| key.value() + 1);
            let info = JobInfo::new(id, spec, now_ms, start_at_ms, concurrency);
            jobs.insert(id, info.encode().as_slice()).map_err(store)?;
            info
        };
        tx.commit().map_err(store)?;
        Ok(info)
    }

    /// Every job, oldest first.
    pub fn jobs(&self) -> Result<Vec<JobInfo>, Error> {
        let tx = self.db.begin_read().map_err(store)?;
        let jobs = tx.open_table(JOBS).map_err(store)?;
        let mut all = Vec::new();
        for row in jobs.iter().map_err(store)? {
            let (_, value) = row.map_err(store)?;
            all.push(JobInfo::decode(value.value())?);
        }
        Ok(all)
    }

    /// One job.
    pub fn job(&self, id: JobId) -> Result<JobInfo, Error> {
        let tx = self.db.begin_read().map_err(store)?;
        let jobs = tx.open_table(JOBS).map_err(store)?;
        let value = jobs.get(id).map_err(store)?.ok_or(Error::NoSuchJob(id))?;
        JobInfo::decode(value.value())
    }

    /// Where the job's next run starts: chunks in flight to resolve, recipients waiting for another round, and the
    /// lines already accounted for.
    pub fn resume(&self, id: JobId) -> Result<Resume, Error> {
        let info = self.job(id)?;
        let tx = self.db.begin_read().map_err(store)?;
        let chunks = tx.open_table(CHUNKS).map_err(store)?;
        let in_flight_table = tx.open_table(IN_FLIGHT).map_err(store)?;
        let mut in_flight = Vec::new();
        for row in in_flight_table.range((id, 0)..(id + 1, 0)).map_err(store)? {
            let (key, sent_ms) = row.map_err(store)?;
            let (_, chunk) = key.value();
            let body = chunks.get((id, chunk)).map_err(store)?.ok_or_else(|| {
                Error::Corrupt(format!("chunk {chunk} of job {id} is in flight but was not recorded"))
            })?;
            in_flight.push((decode_chunk(chunk, body.value())?, sent_ms.value()));
        }
        let requeued_table = tx.open_table(REQUEUED).map_err(store)?;
        let mut requeued = Vec::new();
        for row in requeued_table.range((id, "")..(id + 1, "")).map_err(store)? {
            let (key, round) = row.map_err(store)?;
            requeued.push((key.value().1.to_owned(), round.value()));
        }
        Ok(Resume { covered: info.covered, next_chunk: info.next_chunk, in_flight, requeued })
    }

    /// The job's journal, written by a thread of its own until the returned journal is closed.
    pub fn journal(&self, id: JobId) -> Result<JobJournal, Error> {
        let info = self.job(id)?;
        if info.state != JobState::Running {
            return Err(Error::State { job: id, state: info.state.to_string(), what: "it cannot run".to_owned() });
        }
        let db = Arc::clone(&self.db);
        JobJournal::on_thread(id, move |events, progress| crate::journal::write_redb(&db, id, events, progress))
    }

    /// Cancels the job: nothing more is sent; recipients waiting and lines not read are reported as not sent.
    pub fn cancel(&self, id: JobId, now_ms: i64) -> Result<JobInfo, Error> {
        self.update(id, |info| info.cancel(now_ms))
    }

    /// Pauses a running job (its runner stops sending; chunks in flight finish).
    pub fn pause(&self, id: JobId, now_ms: i64) -> Result<JobInfo, Error> {
        self.update(id, |info| info.pause(now_ms))
    }

    /// Lets a paused job, or one whose run failed, run again.
    pub fn unpause(&self, id: JobId, now_ms: i64) -> Result<JobInfo, Error> {
        self.update(id, |info| info.unpause(now_ms))
    }

    /// A run of the running job failed with `error`: it stops (nothing is sent until it is resumed) and says why.
    /// A job no longer running (paused or cancelled meanwhile) keeps its state.
    pub fn stop_with(&self, id: JobId, now_ms: i64, error: &str) -> Result<JobInfo, Error> {
        self.update(id, |info| {
            info.stop_with(now_ms, error);
            Ok(())
        })
    }

    /// Marks the job finished when every line is settled; the job as it is then.
    pub fn finish_if_complete(&self, id: JobId, now_ms: i64) -> Result<JobInfo, Error> {
        self.update(id, |info| {
            info.finish_if_complete(now_ms);
            Ok(())
        })
    }

    fn update(&self, id: JobId, change: impl FnOnce(&mut JobInfo) -> Result<(), Error>) -> Result<JobInfo, Error> {
        let tx = self.db.begin_write().map_err(store)?;
        let info = {
            let mut jobs = tx.open_table(JOBS).map_err(store)?;
            let mut info = {
                let value = jobs.get(id).map_err(store)?.ok_or(Error::NoSuchJob(id))?;
                JobInfo::decode(value.value())?
            };
            change(&mut info)?;
            jobs.insert(id, info.encode().as_slice()).map_err(store)?;
            info
        };
        tx.commit().map_err(store)?;
        Ok(info)
    }

    /// Up to `max` lines settled without being delivered, from the `from`-th (counting from 0) in the order they
    /// were settled, and the position after them.
    pub fn settled_since(&self, id: JobId, from: u64, max: usize) -> Result<(Vec<Failure>, u64), Error> {
        let tx = self.db.begin_read().map_err(store)?;
        let settled = tx.open_table(SETTLED).map_err(store)?;
        let mut found = Vec::new();
        let mut next = from;
        for row in settled.range((id, from)..(id + 1, 0)).map_err(store)?.take(max) {
            let (key, value) = row.map_err(store)?;
            found.push(decode_failure(value.value())?);
            next = key.value().1 + 1;
        }
        Ok((found, next))
    }

    /// Every settled entry of the job that was not delivered, in order: the input's invalid and duplicate lines
    /// by line number, then each chunk's failures by chunk; then what is not settled: recipients waiting for
    /// another round (not sent yet) and chunks in flight (outcome unknown until resolved).
    pub fn for_each_failure(&self, id: JobId, mut each: impl FnMut(&Failure)) -> Result<(), Error> {
        let info = self.job(id)?;
        let tx = self.db.begin_read().map_err(store)?;
        let entries = tx.open_table(ENTRIES).map_err(store)?;
        for row in entries.range((id, 0)..(id + 1, 0)).map_err(store)? {
            let (_, value) = row.map_err(store)?;
            each(&decode_failure(value.value())?);
        }
        let failures = tx.open_table(FAILURES).map_err(store)?;
        for row in failures.range((id, 0)..(id + 1, 0)).map_err(store)? {
            let (_, value) = row.map_err(store)?;
            let list: Vec<Failure> =
                serde_json::from_slice(value.value()).map_err(|e| Error::Corrupt(format!("failures: {e}")))?;
            list.iter().for_each(&mut each);
        }
        drop(tx);
        self.for_each_pending(&info, each)
    }

    /// What of the job is not settled, as report entries: recipients waiting for another round (not sent yet)
    /// and the recipients of chunks in flight (outcome unknown until they are resolved). Nothing once finished.
    pub fn for_each_pending(&self, info: &JobInfo, each: impl FnMut(&Failure)) -> Result<(), Error> {
        let id = info.id;
        let tx = self.db.begin_read().map_err(store)?;
        let requeued_table = tx.open_table(REQUEUED).map_err(store)?;
        let mut requeued = Vec::new();
        for row in requeued_table.range((id, "")..(id + 1, "")).map_err(store)? {
            let (key, _) = row.map_err(store)?;
            requeued.push(key.value().1.to_owned());
        }
        drop(tx);
        let in_flight = self.resume(id)?.in_flight.into_iter().map(|(chunk, _)| chunk);
        pending_entries(info, requeued, in_flight, each);
        Ok(())
    }
}

/// What of a job is not settled, as report entries: the recipients waiting for another round (not sent yet), then
/// those of the chunks in flight (outcome unknown until they are resolved).
pub(crate) fn pending_entries(
    info: &JobInfo,
    requeued: impl IntoIterator<Item = String>,
    in_flight: impl IntoIterator<Item = StoredChunk>,
    mut each: impl FnMut(&Failure),
) {
    let pending = |user_id: String, outcome_unknown: bool, reason: String| Failure {
        user_id,
        line: None,
        status: if outcome_unknown { Settled::OutcomeUnknown } else { Settled::Failed },
        code: None,
        reason,
        outcome_unknown,
    };
    let waiting = if info.state == JobState::Cancelled { "the job was cancelled" } else { "the job was stopped" };
    for user_id in requeued {
        each(&pending(user_id, false, format!("not sent: {waiting}; it waits for another round")));
    }
    for chunk in in_flight {
        for (user_id, _) in chunk.recipients().unwrap_or_default() {
            let reason = format!("outcome unknown: {waiting} while it was being sent, before it was looked up");
            each(&pending(user_id, true, reason));
        }
    }
}

pub(crate) fn decode_failure(bytes: &[u8]) -> Result<Failure, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Corrupt(format!("entry: {e}")))
}

/// A chunk as the store keeps it: the key count, each key (u32 LE), the round count (u32 LE), each round, then
/// the body.
pub(crate) fn encode_chunk(chunk: &StoredChunk) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(1 + 4 * chunk.keys.len() + 4 + chunk.rounds.len() + chunk.body.len());
    bytes.push(chunk.keys.len() as u8);
    for key in &chunk.keys {
        bytes.extend_from_slice(&key.to_le_bytes());
    }
    bytes.extend_from_slice(&(chunk.rounds.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&chunk.rounds);
    bytes.extend_from_slice(&chunk.body);
    bytes
}

pub(crate) fn decode_chunk(id: u64, bytes: &[u8]) -> Result<StoredChunk, Error> {
    let corrupt = || Error::Corrupt(format!("chunk {id}"));
    let (&count, mut rest) = bytes.split_first().ok_or_else(corrupt)?;
    let mut keys = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let (key, after) = rest.split_at_checked(4).ok_or_else(corrupt)?;
        keys.push(u32::from_le_bytes(key.try_into().map_err(|_| corrupt())?));
        rest = after;
    }
    let (count, after) = rest.split_at_checked(4).ok_or_else(corrupt)?;
    let count = u32::from_le_bytes(count.try_into().map_err(|_| corrupt())?) as usize;
    let (rounds, body) = after.split_at_checked(count).ok_or_else(corrupt)?;
    Ok(StoredChunk { id, body: bytes::Bytes::copy_from_slice(body), rounds: rounds.to_vec(), keys })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_read_back_as_written() {
        let chunk = StoredChunk {
            id: 9,
            body: bytes::Bytes::from_static(br#"{"To_Account":["a","b"],"MsgSeq":1,"MsgRandom":2}"#),
            rounds: vec![1, 2],
            keys: vec![1, 2],
        };
        assert_eq!(decode_chunk(9, &encode_chunk(&chunk)).unwrap(), chunk);
        assert!(decode_chunk(9, &encode_chunk(&chunk)[..3]).is_err());
    }
}
