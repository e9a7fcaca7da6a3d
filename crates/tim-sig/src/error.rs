//! The one error type of `tim-sig`.
//!
//! Each way a UserSig, a PrivateMapKey or a webhook signature can be refused has its own variant, so callers (and
//! the `tim sig verify` command) can say exactly which check failed. Messages are lower case and carry the value
//! that was wrong, but never a secret: no key, no token, no UserSig, and never the signature that would have been
//! correct.

/// Why generating or verifying a signature failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A secret key or webhook token was empty.
    #[error("the {what} is empty")]
    EmptySecret {
        /// Which secret: "secret key" or "webhook token".
        what: &'static str,
    },

    /// A UserSig is longer than [`MAX_USERSIG_LEN`](crate::MAX_USERSIG_LEN): refused before any decoding when
    /// verifying, and refused when generating (identifier or userbuf too large), so every UserSig this crate makes
    /// can also be verified by it.
    #[error("usersig of {len} characters exceeds the limit of {max}")]
    UserSigTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },

    /// Step 1 of verification: the UserSig is not base64 in Tencent's alphabet (`+/=` written as `*-_`),
    /// canonically padded.
    #[error("usersig is not base64 in tencent's alphabet: {detail}")]
    Base64 {
        /// What was wrong and where (a character and its offset, never the whole UserSig).
        detail: String,
    },

    /// Step 2: the decoded bytes are not exactly one well-formed zlib stream.
    #[error("usersig does not inflate: {detail}")]
    Inflate {
        /// What the inflater reported.
        detail: String,
    },

    /// Step 2: the zlib stream inflates to more than [`MAX_DOCUMENT_LEN`](crate::MAX_DOCUMENT_LEN) bytes
    /// (a zlib bomb, or not a UserSig at all). Inflation stops at the limit.
    #[error("usersig inflates to more than {max} bytes")]
    InflatedTooLarge {
        /// The limit.
        max: usize,
    },

    /// Step 3: the inflated document is not the JSON object of spec §4.1 (not JSON, a field missing or of the
    /// wrong type, a duplicated field, or `TLS.sig` / `TLS.userbuf` not standard base64).
    #[error("usersig document is invalid: {detail}")]
    Document {
        /// What the parser reported.
        detail: String,
    },

    /// Step 4: the UserSig was issued for another SDKAppID.
    #[error("usersig is for sdkappid {found}, expected {expected}")]
    SdkAppIdMismatch {
        /// The verifier's SDKAppID.
        expected: u64,
        /// The UserSig's `TLS.sdkappid`.
        found: u64,
    },

    /// Step 5: the UserSig was issued for another identifier (compared byte for byte).
    #[error("usersig is for identifier {found:?}, expected {expected:?}")]
    IdentifierMismatch {
        /// The identifier the caller expected.
        expected: String,
        /// The UserSig's `TLS.identifier`.
        found: String,
    },

    /// Step 6: `now > TLS.time + TLS.expire`.
    #[error("usersig expired at {expired_at} (now {now})")]
    Expired {
        /// `TLS.time + TLS.expire`, in UNIX seconds: the last second the UserSig is valid.
        expired_at: u64,
        /// The time the caller verified at.
        now: u64,
    },

    /// Step 7: a userbuf was expected, but the UserSig has none.
    #[error("usersig has no userbuf, but one was expected")]
    UserBufMissing,

    /// Step 7: the UserSig carries a userbuf, but none was expected.
    #[error("usersig has a userbuf ({found_b64:?} in base64), but none was expected")]
    UserBufUnexpected {
        /// The UserSig's `TLS.userbuf`, in standard base64.
        found_b64: String,
    },

    /// Step 7: the UserSig's userbuf differs from the expected one.
    #[error("usersig userbuf {found_b64:?} differs from the expected {expected_b64:?} (base64)")]
    UserBufMismatch {
        /// The expected userbuf, in standard base64.
        expected_b64: String,
        /// The UserSig's `TLS.userbuf`, in standard base64.
        found_b64: String,
    },

    /// Step 8: the HMAC does not match: the UserSig was made with another key, or its fields were altered.
    #[error("usersig signature does not match (wrong secret key, or altered fields)")]
    SigMismatch,

    /// A PrivateMapKey field is longer than its 16-bit length prefix allows (spec §4.4).
    #[error("private map key {field} of {len} bytes exceeds 65535")]
    PrivateMapKeyFieldTooLong {
        /// "account" or "room id".
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },

    /// A PrivateMapKey's absolute expiry does not fit its 32-bit field (spec §4.4).
    #[error("private map key expiry {expires_at} does not fit in 32 bits")]
    PrivateMapKeyExpiry {
        /// `issued_at + expire_secs`.
        expires_at: u64,
    },

    /// The admin UserSig cache was configured with a refresh margin that is not shorter than the lifetime.
    #[error("refresh margin of {margin_secs} s must be shorter than the usersig lifetime of {lifetime_secs} s")]
    RefreshMarginTooLarge {
        /// The configured margin.
        margin_secs: u64,
        /// The configured lifetime.
        lifetime_secs: u64,
    },

    /// A webhook's `RequestTime` is not a plain decimal UNIX time.
    #[error("webhook request time {value:?} is not a decimal unix time")]
    WebhookRequestTime {
        /// The `RequestTime` query parameter as received.
        value: String,
    },

    /// A webhook's `RequestTime` is `window_secs` or more away from now (a replay, or a skewed clock).
    #[error("webhook request time {request_time} is {window_secs} s or more away from now ({now})")]
    WebhookStale {
        /// The `RequestTime` query parameter.
        request_time: u64,
        /// The time the caller verified at.
        now: u64,
        /// The accepted distance, exclusive.
        window_secs: u64,
    },

    /// A webhook's `Sign` is not `hex(sha256(token + RequestTime))`.
    #[error("webhook sign does not match the token and request time {request_time}")]
    WebhookSignMismatch {
        /// The `RequestTime` query parameter.
        request_time: u64,
    },
}
