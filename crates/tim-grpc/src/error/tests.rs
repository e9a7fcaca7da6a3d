use super::*;
use bytes::Bytes;
use tim_model::{Problem, ValidationError};
use tim_transport::Error;

fn no_names(rest: &str) -> String {
    format!("proto:{rest}")
}

/// A batchsendmsg that breaks two rules.
fn two_broken_rules() -> ValidationErrors {
    ValidationErrors::from_vec(vec![
        ValidationError::new("To_Account[2]", Problem::Rule("is empty")),
        ValidationError::new("MsgBody", Problem::Rule("must not be empty")),
    ])
    .unwrap()
}

#[test]
fn invalid_requests_name_every_field_in_both_forms() {
    let errors = two_broken_rules();
    let error = Error::Invalid { command: "v4/openim/batchsendmsg", errors };
    let status = from_transport(&error, &no_names);
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("proto:To_Account[2] is empty"), "{}", status.message());
    assert!(status.message().contains("proto:MsgBody must not be empty"), "{}", status.message());
    let detail = error_detail(&status).expect("detail");
    assert_eq!(detail.command, "v4/openim/batchsendmsg");
    let fields: Vec<(&str, &str)> =
        detail.violations.iter().map(|v| (v.field.as_str(), v.rest_field.as_str())).collect();
    assert_eq!(fields, [("proto:To_Account[2]", "To_Account[2]"), ("proto:MsgBody", "MsgBody")]);
}

fn refused(code: i64, class: RetryClass) -> Error {
    let info = "Fail. ünïcode".to_owned();
    Error::Refused { command: "v4/openim/sendmsg", code, info, class, raw: Bytes::new(), random: 4_026_038_328 }
}

#[test]
fn refusals_map_to_codes_and_carry_tencent_code_and_info() {
    let cases = [
        (refused(60007, RetryClass::RateLimited), Code::ResourceExhausted),
        (refused(70169, RetryClass::Transient), Code::Unavailable),
        (refused(70107, RetryClass::Permanent), Code::NotFound),
        (refused(10010, RetryClass::Permanent), Code::NotFound),
        (refused(10021, RetryClass::Permanent), Code::AlreadyExists),
        (refused(10007, RetryClass::Permanent), Code::PermissionDenied),
        (refused(90011, RetryClass::Permanent), Code::InvalidArgument),
        (refused(70009, RetryClass::Permanent), Code::FailedPrecondition),
        (refused(70001, RetryClass::RefreshUserSig), Code::FailedPrecondition),
    ];
    for (error, expected) in cases {
        let status = from_transport(&error, &no_names);
        assert_eq!(status.code(), expected, "{error}");
        let detail = error_detail(&status).unwrap();
        assert_eq!(detail.error_code, error.service_code().unwrap());
        assert_eq!(detail.error_info, "Fail. ünïcode");
        assert!(!detail.outcome_unknown);
        assert_eq!(detail.request_random, 4_026_038_328, "the request's random, for Tencent support");
        let trailer = status.metadata().get("tim-error-code").unwrap().to_str().unwrap();
        assert_eq!(trailer, error.service_code().unwrap().to_string());
        let info = status.metadata().get("tim-error-info").unwrap().to_str().unwrap();
        assert_eq!(info, "Fail. %C3%BCn%C3%AFcode");
        assert_eq!(status.metadata().get("tim-command").unwrap(), "v4/openim/sendmsg");
    }
}

#[test]
fn timeouts_and_lost_connections_and_unknown_outcomes() {
    let timed_out = Error::TimedOut { command: "v4/openim/sendmsg", attempts: 3 };
    assert_eq!(from_transport(&timed_out, &no_names).code(), Code::DeadlineExceeded);
    let connect = Error::Connect { command: "v4/openim/sendmsg", attempts: 3, detail: "refused".into() };
    assert_eq!(from_transport(&connect, &no_names).code(), Code::Unavailable);
    let unknown =
        Error::OutcomeUnknown { command: "v4/openim/sendmsg", why: "out of retries", last: Box::new(timed_out) };
    let status = from_transport(&unknown, &no_names);
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert!(status.message().contains("outcome unknown"), "{}", status.message());
    assert!(error_detail(&status).unwrap().outcome_unknown);
    assert_eq!(status.metadata().get("tim-outcome-unknown").unwrap(), "true");
    let broken = Error::OutcomeUnknown {
        command: "v4/openim/sendmsg",
        why: "a repeat could act twice",
        last: Box::new(Error::NoResponse { command: "v4/openim/sendmsg", attempts: 1, detail: "HTTP 502".into() }),
    };
    assert_eq!(from_transport(&broken, &no_names).code(), Code::Unavailable);
}

#[test]
fn bad_fields_are_invalid_arguments() {
    let status = bad_field("command", "is not a REST command");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "invalid request: command is not a REST command");
    assert_eq!(error_detail(&status).unwrap().violations[0].field, "command");
}

/// The standard details of a status as a client without tim's stubs decodes them: the `ErrorInfo`'s reason and
/// metadata, and the `BadRequest`'s (field, description) pairs.
fn standard(status: &Status) -> (String, std::collections::HashMap<String, String>, Vec<(String, String)>) {
    use tonic_types::StatusExt;
    let details = status.get_error_details();
    let info = details.error_info().expect("every status carries a google.rpc.ErrorInfo");
    assert_eq!(info.domain, ERROR_DOMAIN);
    let violations = details
        .bad_request()
        .map(|bad| bad.field_violations.iter().map(|v| (v.field.clone(), v.description.clone())).collect())
        .unwrap_or_default();
    (info.reason.clone(), info.metadata.clone(), violations)
}

#[test]
fn every_status_carries_the_standard_details_that_go_and_java_clients_decode() {
    let errors = two_broken_rules();
    let invalid = from_transport(&Error::Invalid { command: "v4/openim/batchsendmsg", errors }, &no_names);
    let (reason, metadata, violations) = standard(&invalid);
    assert_eq!(reason, "INVALID_REQUEST");
    assert_eq!(metadata["command"], "v4/openim/batchsendmsg");
    assert_eq!(
        violations,
        [
            ("proto:To_Account[2]".to_owned(), "is empty".to_owned()),
            ("proto:MsgBody".to_owned(), "must not be empty".to_owned())
        ]
    );
    assert!(error_detail(&invalid).is_some(), "tim.v1.ErrorDetail is still there beside them");

    let (reason, metadata, violations) = standard(&from_transport(&refused(70107, RetryClass::Permanent), &no_names));
    assert_eq!(reason, "TENCENT_REFUSED");
    assert_eq!(
        (metadata["errorCode"].as_str(), metadata["errorInfo"].as_str(), metadata["requestRandom"].as_str()),
        ("70107", "Fail. ünïcode", "4026038328")
    );
    assert_eq!(metadata["outcomeUnknown"], "false");
    assert!(violations.is_empty());

    let timed_out = Error::TimedOut { command: "v4/openim/sendmsg", attempts: 3 };
    assert_eq!(standard(&from_transport(&timed_out, &no_names)).0, "TENCENT_TIMED_OUT");
    let unknown =
        Error::OutcomeUnknown { command: "v4/openim/sendmsg", why: "out of retries", last: Box::new(timed_out) };
    let (reason, metadata, _) = standard(&from_transport(&unknown, &no_names));
    assert_eq!((reason.as_str(), metadata["outcomeUnknown"].as_str()), ("OUTCOME_UNKNOWN", "true"));
    let connect = Error::Connect { command: "v4/openim/sendmsg", attempts: 3, detail: "refused".into() };
    assert_eq!(standard(&from_transport(&connect, &no_names)).0, "TENCENT_UNREACHABLE");
    let (reason, _, violations) = standard(&bad_field("command", "is not a REST command"));
    assert_eq!((reason.as_str(), violations.len()), ("INVALID_REQUEST", 1));
}
