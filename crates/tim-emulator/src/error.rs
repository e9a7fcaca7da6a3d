//! The one error type of `tim-emulator`: what can go wrong while configuring or starting an emulator.
//!
//! Requests the emulator refuses are not errors of this crate: they are answered on the wire, with Tencent's
//! codes. Messages are lower case, name the value that was wrong, and never contain the secret key or a UserSig.

/// Why an emulator could not be configured or started.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// One entry of a `--faults` spec does not parse (see [`FaultConfig`](crate::FaultConfig) for the syntax).
    #[error("fault spec entry {entry:?} is invalid: {reason}")]
    FaultSpec {
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The fault rates add up to more than 1: every request can suffer at most one fault.
    #[error("fault rates add up to {total}, at most 1 allowed")]
    FaultRatesTooHigh {
        /// The sum of the rates.
        total: f64,
    },

    /// A quota override does not parse (`PATH=N/s` or `PATH=N/day`).
    #[error("quota {spec:?} is invalid: {reason}")]
    QuotaSpec {
        /// The override as written.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A declared custom profile field is not `Tag_Profile_Custom_` and 1 to 8 letters.
    #[error("custom profile field {tag:?} must be Tag_Profile_Custom_ and 1 to 8 letters")]
    CustomProfileField {
        /// The tag as given.
        tag: String,
    },

    /// A UserID given to the emulator (an admin, or an account to create) breaks the UserID rules.
    #[error("user id {user_id:?} is invalid: {reason}")]
    InvalidUserId {
        /// The identifier as given.
        user_id: String,
        /// Which rule it breaks.
        reason: String,
    },

    /// The emulator was configured without any admin identifier.
    #[error("at least one admin identifier is required")]
    NoAdmin,

    /// The listener handed to [`Emulator::serve`](crate::Emulator::serve) cannot say its address.
    #[error("cannot read the listener's local address: {detail}")]
    Listener {
        /// What the operating system reported.
        detail: String,
    },
}
