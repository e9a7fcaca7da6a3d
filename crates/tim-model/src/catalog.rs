//! The error-code catalog: every code of spec §1.5 and §3, what it means, and what a client should do about it.
//!
//! This is the one place that decides how an `ErrorCode` is retried. Each row is one code; its meaning is the
//! comment. A code that is not listed is treated as permanent: retrying an unknown failure could send a message
//! twice, and the caller still sees the code and the service's `ErrorInfo`.

/// What a client should do after a failure with a given code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryClass {
    /// Transient: retry with backoff (the request's dedupe keys unchanged).
    Transient,
    /// The request was refused for its rate: back off longer, then retry.
    RateLimited,
    /// The UserSig was refused: regenerate it, then retry once; if refused again the failure is permanent.
    RefreshUserSig,
    /// Permanent: fix the request or the configuration; a retry gets the same answer.
    Permanent,
    /// Not a failure for the caller's purpose (for example "already recalled" on a recall).
    AlreadyDone,
}

/// One documented error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCodeInfo {
    /// The `ErrorCode` value.
    pub code: i64,
    /// What it means.
    pub meaning: &'static str,
    /// What to do about it.
    pub retry: RetryClass,
}

use RetryClass::{AlreadyDone, Permanent, RateLimited, RefreshUserSig, Transient};

macro_rules! catalog {
    ($($code:literal => $class:ident, $meaning:literal;)+) => {
        /// Every documented code, in ascending order.
        pub static ERROR_CODES: &[ErrorCodeInfo] = &[
            $(ErrorCodeInfo { code: $code, meaning: $meaning, retry: $class },)+
        ];
    };
}

catalog! {
    // Group and message codes used by the sending APIs.
    10002 => Transient, "internal server error";
    10003 => Permanent, "invalid command";
    10004 => Permanent, "invalid parameter";
    10006 => RateLimited, "operation frequency limit exceeded";
    10007 => Permanent, "no permission for this operation (or the group type does not support it)";
    10010 => Permanent, "group does not exist or has been dismissed";
    10015 => Permanent, "invalid group id";
    10016 => Permanent, "rejected by the before-send webhook";
    10017 => Permanent, "sender is muted";
    10018 => Permanent, "response packet exceeds 1 MB";
    10020 => Permanent, "message content exceeds 12 KB";
    10023 => RateLimited, "message frequency limit exceeded";
    10030 => Permanent, "message to recall not found";
    10031 => Permanent, "message is out of the recall time range";
    10032 => Permanent, "message cannot be recalled";
    10033 => Permanent, "group type does not support recall";
    10041 => Permanent, "the app is configured to disallow recall";
    10053 => Permanent, "more than 30 @ targets";
    10059 => Permanent, "feature needs the Ultimate edition";
    11000 => Permanent, "community feature not enabled";
    // One-to-one message codes.
    20001 => Permanent, "invalid request";
    20002 => RefreshUserSig, "UserSig or A2 expired";
    20003 => Permanent, "sender or recipient UserID invalid or does not exist";
    20004 => Transient, "network error";
    20005 => Transient, "internal server error";
    20006 => Permanent, "rejected by the before-send webhook";
    20022 => Permanent, "message to recall not found";
    20023 => AlreadyDone, "message already recalled";
    // Public codes, spec §1.5.
    60002 => Permanent, "HTTP request parse error (bad URL format)";
    60003 => Permanent, "request JSON parse error";
    60004 => RefreshUserSig, "account or UserSig wrong in the URL or body";
    60005 => RefreshUserSig, "account or UserSig wrong in the URL or body";
    60006 => Permanent, "invalid SDKAppID";
    60007 => RateLimited, "REST API call frequency limit exceeded";
    60008 => Transient, "service request timeout or malformed HTTP request";
    60009 => Permanent, "request resource error (bad URL path)";
    60010 => Permanent, "the identifier is not an App admin";
    60011 => RateLimited, "SDKAppID request frequency limit exceeded";
    60012 => Permanent, "sdkappid missing from the URL";
    60013 => Transient, "JSON parse error of the response packet (internal)";
    60014 => Transient, "account switching timeout";
    60015 => Permanent, "account field of the wrong type in the body (must be a string)";
    60016 => Permanent, "SDKAppID disabled";
    60017 => Permanent, "request disabled";
    60018 => RateLimited, "too many requests, retry later";
    60019 => RateLimited, "too many requests, retry later";
    60020 => Permanent, "Pro edition expired or disabled";
    60021 => Permanent, "source IP of the REST call not allowed";
    70001 => RefreshUserSig, "UserSig expired";
    70002 => Permanent, "UserSig is empty";
    70003 => RefreshUserSig, "UserSig invalid";
    70005 => RefreshUserSig, "UserSig invalid";
    70009 => Permanent, "UserSig verification failed: wrong key or another app's key";
    70013 => Permanent, "identifier differs from the UserID inside the UserSig";
    70014 => Permanent, "SDKAppID differs from the SDKAppID inside the UserSig";
    70016 => Permanent, "verification key does not exist";
    70020 => Permanent, "SDKAppID not found";
    70050 => RateLimited, "too many UserSig verification failures; retry after a minute";
    70051 => Permanent, "account blocklisted";
    70107 => Permanent, "UserID does not exist";
    70114 => RateLimited, "login restricted for security; reduce the frequency";
    70169 => Transient, "server timeout";
    70202 => Transient, "server timeout";
    70206 => Permanent, "invalid batch quantity";
    70398 => Permanent, "account count limit of the free edition reached";
    70402 => Permanent, "invalid parameter";
    70403 => Permanent, "the identifier is not an App admin";
    70500 => Transient, "internal server error";
    71000 => Permanent, "account deletion not allowed (Pro edition)";
    72000 => Permanent, "trial edition DAU quota exceeded";
    72001 => Permanent, "user-status feature not enabled";
    // Group message codes beyond the public range.
    80001 => Permanent, "text contains sensitive words";
    80002 => Permanent, "message content exceeds 12 KB";
    80003 => Transient, "before-send webhook failed or timed out and the console blocks on failure";
    80004 => Permanent, "image contains sensitive content";
    // Sending-API codes, spec §3.
    90001 => Permanent, "JSON parse error";
    90002 => Permanent, "MsgBody is not in the documented format or is not an array";
    90003 => Permanent, "To_Account missing or not a string";
    90004 => Permanent, "MsgSeq invalid";
    90005 => Permanent, "MsgRandom missing or not an integer";
    90006 => Permanent, "MsgTimeStamp missing or not an integer";
    90007 => Permanent, "MsgBody is not an array";
    90008 => Permanent, "From_Account missing, empty or does not exist";
    90009 => Permanent, "the request needs an App admin";
    90010 => Permanent, "message format invalid";
    90011 => Permanent, "more than 500 recipients in a batch";
    90012 => Permanent, "To_Account not registered or does not exist";
    90020 => Permanent, "tag longer than 50 bytes";
    90022 => Permanent, "the same tag in both TagsOr and TagsAnd";
    90024 => RateLimited, "push interval shorter than one second";
    90026 => Permanent, "MsgLifeTime out of range (more than 7 days)";
    90030 => Permanent, "SyncFromOldSystem invalid";
    90031 => Permanent, "SyncOtherMachine not an integer";
    90032 => Permanent, "more than 10 tags";
    90033 => Permanent, "invalid attribute";
    90039 => Permanent, "tag and attribute conditions both set";
    90040 => Permanent, "empty tag";
    90044 => Permanent, "MsgLifeTime not an integer";
    90045 => Permanent, "all-member push not enabled";
    90047 => Permanent, "daily all-member push quota exceeded";
    90048 => Permanent, "account does not exist";
    90054 => Permanent, "invalid MsgKey";
    90055 => Permanent, "batch packet too long";
    90992 => Transient, "internal server error, or the webhook server is broken";
    90994 => Transient, "internal server error";
    90995 => Transient, "internal server error";
    91000 => Transient, "internal server error";
    93000 => Permanent, "message content exceeds 12 KB";
}

/// The catalog entry of a code, if the code is documented.
pub fn lookup(code: i64) -> Option<&'static ErrorCodeInfo> {
    ERROR_CODES.binary_search_by_key(&code, |info| info.code).ok().map(|i| &ERROR_CODES[i])
}

/// How to treat a failure with `code`; undocumented codes are [`RetryClass::Permanent`] (see the module docs).
pub fn retry_class(code: i64) -> RetryClass {
    lookup(code).map_or(Permanent, |info| info.retry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_sorted_and_unique_so_lookup_finds_every_code() {
        for pair in ERROR_CODES.windows(2) {
            assert!(pair[0].code < pair[1].code, "{} then {}", pair[0].code, pair[1].code);
        }
        for info in ERROR_CODES {
            assert_eq!(lookup(info.code), Some(info));
        }
    }

    #[test]
    fn classes_match_the_spec() {
        assert_eq!(retry_class(70001), RetryClass::RefreshUserSig);
        assert_eq!(retry_class(70107), RetryClass::Permanent);
        assert_eq!(retry_class(70169), RetryClass::Transient);
        assert_eq!(retry_class(91000), RetryClass::Transient);
        assert_eq!(retry_class(60007), RetryClass::RateLimited);
        assert_eq!(retry_class(20023), RetryClass::AlreadyDone);
        assert_eq!(retry_class(93000), RetryClass::Permanent);
        assert_eq!(retry_class(123_456), RetryClass::Permanent);
        assert_eq!(lookup(123_456), None);
    }
}
