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
