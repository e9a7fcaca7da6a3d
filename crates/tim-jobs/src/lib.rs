//! Durable fan-out jobs: one message, its recipients and everything done about them, written down before it is
//! done, so that a fan-out killed at any moment (kill -9, a power cut, a crash) resumes without sending anyone the
//! message twice and ends with a report that accounts for every line of its input.
//!
//! A [`JobStore`] is a data directory holding an embedded database (redb: pure Rust, ACID, copy-on-write B-trees
//! with a checksummed commit, one file, no server). It holds jobs ([`JobInfo`]: the message, where the recipients
//! come from and their fingerprint, the job's state and counters) and, for each job, the journal the fan-out engine
//! writes through [`JobJournal`] (`tim_transport::fanout::Journal`):
//!
//! - each chunk just before it is sent: its body (recipients, pinned `MsgSeq`/`MsgRandom`, message), with the
//!   time; the chunk waits until that commit is on disk;
//! - each input line settled without a chunk (invalid, a duplicate), keyed by its line number;
//! - what became of each chunk: delivered count, failures, recipients waiting for another round;
//! - how far the input is accounted for (`covered`) and, at its end, how many lines it has.
//!
//! Events are committed in groups by one writer thread: whatever arrived while the previous commit was being
//! written goes into the next, so a fan-out pays about one fsync per group, not per chunk.
//!
//! # What a crash can lose, and why it never sends twice
//! A commit is durable when `commit` returns (redb writes the data, fsyncs, then flips the commit slot and fsyncs
//! again). A chunk is sent only after the commit that records it, so after any crash a chunk either is in the
//! journal, with its keys, or was never sent. What a crash loses is only what was not committed yet: settlements
//! (the chunk then counts as in flight and is resolved from the history: found recipients are delivered, absent
//! ones are sent again), entries (their lines are read again and give the same entries), chunks built but not
//! recorded (never sent: their lines are read again and chunked anew). A second process cannot open the same
//! store while one has it open (the database file is locked), so two runs never work on one job at once.
//!
//! # Example
//!
//! A journaled fan-out from a file. Run it again after any crash, with the same store and file: it resumes
//! where the journal stands, and the job's report covers every line from every run.
//!
//! ```
//! use std::sync::Arc;
//! use tim_jobs::{JobSpec, JobState, JobStore, Source, input};
//! use tim_model::MsgBody;
//! use tim_model::c2c::BatchSendMsgRequest;
//! use tim_transport::{Client, ClientConfig, Endpoint, Fanout, FanoutOptions};
//! # use tim_emulator::Emulator;
//! # use tim_sig::SecretKey;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let clock = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
//! # let emulator = Emulator::builder(1_400_000_000, SecretKey::new("console-secret")?, clock)
//! #     .auto_create_accounts(true)
//! #     .build()?
//! #     .serve(tokio::net::TcpListener::bind("127.0.0.1:0").await?)?;
//! # let config = ClientConfig::new(Endpoint::BaseUrl(emulator.base_url()));
//! # let client = Client::new(1_400_000_000, "administrator", SecretKey::new("console-secret")?, config)?;
//! # let dir = std::env::temp_dir().join(format!("tim-jobs-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let now_ms = 1_700_000_000_000;
//! let recipients = dir.join("recipients.txt");
//! std::fs::write(&recipients, (0..1_000).map(|i| format!("user{i}\n")).collect::<String>())?;
//! let message = BatchSendMsgRequest::new(Vec::new(), MsgBody::text("Our summer sale starts today"));
//!
//! // The job: its message and the fingerprint of its recipients file, written down before anything is sent.
//! let store = JobStore::open(&dir.join("jobs"))?;
//! let job = store.create(JobSpec::new(&message, Source::of_file(&recipients)?), now_ms)?;
//!
//! // Each chunk is committed to the journal before it leaves, and what became of it after.
//! let mut fanout = Fanout::new(client, &message, FanoutOptions::default())?;
//! let journal = store.journal(job.id)?;
//! fanout.journal(Arc::new(journal.clone()), store.resume(job.id)?);
//! let error = input::ReadError::default();
//! let lines = input::lines(tokio::fs::File::open(&recipients).await?, "recipients.txt".into(), error);
//! fanout.run(lines).await;
//! journal.close()?;
//!
//! let job = store.finish_if_complete(job.id, now_ms + 1_000)?;
//! assert_eq!((job.state, job.counters.delivered, job.lines), (JobState::Finished, 1_000, Some(1_000)));
//! # drop(store);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! # Feature flags
//!
//! - `postgres` (default): jobs in PostgreSQL ([`PgJobStore`]), shared by several gateway replicas, with leases
//!   so that one replica at a time runs a job. Without it (`default-features = false`) the crate has the embedded
//!   store only and no PostgreSQL driver.
//!
//! # Stability
//!
//! [`JobStore`], [`JobJournal`], [`JobInfo`], [`JobSpec`], [`JobState`], [`Source`], the [`input`] reader and
//! [`Error`] (`#[non_exhaustive]`) are the crate's API; [`PgJobStore`] and [`Lease`] are the gateway's and may
//! change while the crate is 0.x. The embedded store's tables carry no format version yet: finish or cancel a
//! job with the version of tim that started it (the PostgreSQL schema is versioned by its migrations).

mod error;
pub mod input;
mod journal;
#[cfg(feature = "postgres")]
pub mod postgres;
mod store;

pub use error::Error;
pub use journal::JobJournal;
#[cfg(feature = "postgres")]
pub use postgres::{Lease, PgJobStore};
pub use store::{Counters, JobId, JobInfo, JobSpec, JobState, JobStore, Source};
