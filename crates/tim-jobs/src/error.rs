//! The jobs crate's error.

/// Why a job store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Another process has the store open (a fan-out of it is running).
    #[error("the job store {dir} is in use by another process (a fan-out is running from it)")]
    InUse {
        /// The store's directory.
        dir: String,
    },
    /// The database could not be read or written.
    #[error("the job store cannot be used: {0}")]
    Store(String),
    /// A record in the store cannot be read back.
    #[error("the job store holds an unreadable record: {0}")]
    Corrupt(String),
    /// No such job.
    #[error("there is no job {0}")]
    NoSuchJob(u64),
    /// The operation does not apply to the job in its state.
    #[error("job {job} is {state}: {what}")]
    State {
        /// The job.
        job: u64,
        /// Its state.
        state: String,
        /// What cannot be done.
        what: String,
    },
    /// Another replica claimed the job: this one may record nothing more of it (nor send anything).
    #[error("job {0} was taken over by another replica (this replica's lease on it ended)")]
    LeaseLost(u64),
    /// The journal's writer stopped after a failed write: nothing more is recorded (or sent).
    #[error("the journal stopped recording: {0}")]
    Stopped(String),
}

pub(crate) fn store(error: impl std::fmt::Display) -> Error {
    Error::Store(error.to_string())
}
