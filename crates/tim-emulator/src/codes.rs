//! Which `ErrorCode` the service answers for a body that does not decode or breaks a documented rule.
//!
//! `tim-model` names the failing field and the problem; this module turns the first broken rule into the code of
//! the command's documentation page (spec §3), with the model's message as `ErrorInfo`. The codes of the group
//! service that spec §3 does not list (10011, 10019, 10021) come from Tencent's group error-code page.

use tim_model::command::CommandId;
use tim_model::{Problem, ValidationError, ValidationErrors};

/// Group service: the request JSON does not parse.
pub(crate) const GROUP_JSON_PARSE: i64 = 10011;
/// Group service: a UserID the request names does not exist.
pub(crate) const GROUP_NO_SUCH_ACCOUNT: i64 = 10019;
/// Group service: the custom GroupId is already used.
pub(crate) const GROUP_ID_TAKEN: i64 = 10021;

/// The code and `ErrorInfo` for a body of `command` that `tim-model` refused.
pub(crate) fn for_validation(command: CommandId, errors: &ValidationErrors, body: &[u8]) -> (i64, String) {
    // Only on this error path: was the body JSON at all? (The model's decoder reports syntax and type errors alike.)
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
        let code = match service(command) {
            Service::C2c | Service::Push => 90001,
            Service::Group => GROUP_JSON_PARSE,
            Service::Account => 60003,
            Service::Profile => 40001,
            Service::Config => 130001,
            Service::Sns => 30001,
        };
        return (code, format!("request body is not JSON: {errors}"));
    }
    let first = errors.first();
    let (field, missing) = field_of(first);
    let top = field.split(['.', '[']).next().unwrap_or_default();
    let code = match service(command) {
        Service::C2c => c2c_code(command, top, &field, first.problem(), missing),
        Service::Push => push_code(top, &field, first.problem()),
        Service::Group => group_code(command, top, first.problem()),
        Service::Account => account_code(first.problem()),
        Service::Profile => profile_code(top, &field, first.problem(), missing),
        Service::Config => config_code(top, first.problem(), missing),
        // The relationship pages have one code for every broken parameter.
        Service::Sns => 30001,
    };
    (code, errors.to_string())
}

/// The code for a request that breaks a rule of the addressed group's type (`GroupTypeRules`).
pub(crate) fn for_group_type(command: CommandId, errors: &ValidationErrors) -> (i64, String) {
    let code = match (command, errors.first().field()) {
        // The group type does not support recall.
        (CommandId::GroupMsgRecall, "GroupId") => 10033,
        // The operation is not allowed for this group type (live groups have no history or member list).
        (_, "GroupId") => 10007,
        // A parameter this group type does not accept.
        _ => 10004,
    };
    (code, errors.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    C2c,
    Push,
    Group,
    Account,
    Profile,
    /// `openconfigsvr` (global mute).
    Config,
    /// `sns` (friends and blocklists).
    Sns,
}

fn service(command: CommandId) -> Service {
    match command.command().service() {
        "openim" => Service::C2c,
        "all_member_push" => Service::Push,
        "im_open_login_svc" => Service::Account,
        "profile" => Service::Profile,
        "openconfigsvr" => Service::Config,
        "sns" | "follow" => Service::Sns,
        _ => Service::Group,
    }
}

/// The failing field, reading serde's "missing field `X`" (reported at the parent) as field `X`.
fn field_of(error: &ValidationError) -> (String, bool) {
    if let Problem::Malformed(message) = error.problem()
        && let Some(rest) = message.strip_prefix("missing field `")
        && let Some((name, _)) = rest.split_once('`')
    {
        let parent = error.field();
        let field = if parent.is_empty() { name.to_owned() } else { format!("{parent}.{name}") };
        return (field, true);
    }
    (error.field().to_owned(), matches!(error.problem(), Problem::Missing))
}

fn c2c_code(command: CommandId, top: &str, field: &str, problem: &Problem, missing: bool) -> i64 {
    let malformed = matches!(problem, Problem::Malformed(_));
    match top {
        // More than 500 recipients.
        "To_Account" if matches!(problem, Problem::TooMany { .. }) => 90011,
        // query_online_status: an empty list is a request that does not parse.
        "To_Account" if command == CommandId::QueryOnlineStatus && matches!(problem, Problem::Empty) => 90001,
        // To_Account missing, empty or not a string.
        "To_Account" => 90003,
        // From_Account missing, empty or not a valid UserID.
        "From_Account" => 90008,
        // MsgRandom missing or not an integer.
        "MsgRandom" => 90005,
        // MsgSeq not a u32.
        "MsgSeq" => 90004,
        // MsgTimeStamp missing or not an integer.
        "MsgTimeStamp" => 90006,
        // MsgLifeTime not an integer / out of range.
        "MsgLifeTime" if malformed => 90044,
        "MsgLifeTime" => 90026,
        "SyncOtherMachine" => 90031,
        "SyncFromOldSystem" => 90030,
        // The message content (MsgBody plus CloudCustomData) is over 12 KB.
        "MsgBody" if matches!(problem, Problem::TooLong { .. }) => 93000,
        // MsgBody missing or not an array.
        "MsgBody" if field == "MsgBody" && (missing || is_type_error(problem)) => 90007,
        // MsgBody in the wrong format (an element broken, empty, two custom elements).
        "MsgBody" => 90002,
        // batchsendmsg: the whole packet is over 12 KB.
        "" if matches!(problem, Problem::TooLong { .. }) => 93000,
        // The body is JSON but not an object of the request's shape.
        "" => 90001,
        "MsgKey" if command == CommandId::AdminMsgWithdraw => 90054,
        // admin_getroammsg's own fields: an invalid parameter.
        _ if command == CommandId::AdminGetRoamMsg => 70402,
        // Anything else about the message.
        _ => 90010,
    }
}

/// portrait_get and portrait_set (the profile service's codes, 40001 to 40610).
fn profile_code(top: &str, field: &str, problem: &Problem, missing: bool) -> i64 {
    let on_value = field.ends_with(".Value");
    match problem {
        // To_Account missing or empty.
        _ if top == "To_Account" && (missing || matches!(problem, Problem::Empty)) => 40002,
        // A tag that cannot exist.
        Problem::Rule(rule) if *rule == tim_model::profile::UNKNOWN_TAG => 40009,
        // A value of the wrong type for its tag, or an integer out of range.
        Problem::Rule(rule) if *rule == tim_model::profile::WRONG_VALUE_TYPE => 40610,
        Problem::OutOfRange { .. } if on_value => 40610,
        // A value that is not one of a standard tag's values.
        Problem::NotAllowed { .. } if on_value => 40605,
        // A value over its length.
        Problem::TooLong { .. } if on_value => 40601,
        // Anything else: the request's parameters are wrong.
        _ => 40001,
    }
}

fn push_code(top: &str, field: &str, problem: &Problem) -> i64 {
    match (top, problem) {
        ("MsgRandom", _) => 90005,
        ("MsgLifeTime", _) => 90026,
        ("MsgBody", _) if field == "MsgBody" && is_type_error(problem) => 90007,
        ("MsgBody", _) => 90002,
        // Tag and attribute conditions both set.
        ("Condition", Problem::Rule(rule)) if rule.contains("both tag and attribute") => 90039,
        // The same tag in TagsOr and TagsAnd.
        ("Condition", Problem::Rule(rule)) if rule.contains("repeats a tag") => 90022,
        // More than 10 tags.
        ("Condition", Problem::TooMany { .. }) => 90032,
        // A tag over 50 bytes.
        ("Condition", Problem::TooLong { .. }) => 90020,
        // An empty tag.
        ("Condition", Problem::Empty) => 90040,
        // An attribute condition that does not decode.
        ("Condition", _) if field.contains("Attrs") => 90033,
        ("", _) => 90001,
        _ => 90010,
    }
}

fn group_code(command: CommandId, top: &str, problem: &Problem) -> i64 {
    match (top, problem) {
        // The group id is not a valid GroupId.
        ("GroupId", _) => 10015,
        // More than 30 @ targets.
        ("GroupAtInfo", Problem::TooMany { .. }) => 10053,
        // Message content over 12 KB: import_group_msg has its own code.
        ("MsgList", Problem::TooLong { .. }) => 10020,
        ("MsgBody", Problem::TooLong { .. }) if command != CommandId::SendGroupSystemNotification => 80002,
        _ => 10004,
    }
}

/// setnospeaking and getnospeaking (130001 to 130014).
fn config_code(top: &str, problem: &Problem, missing: bool) -> i64 {
    match top {
        "Set_Account" if missing => 130004,
        "Set_Account" => 130005,
        "Get_Account" if missing => 130002,
        "Get_Account" => 130003,
        // Neither mute time given.
        "C2CmsgNospeakingTime" if matches!(problem, Problem::Rule(_)) => 130008,
        // Anything else: the JSON is not what the API takes.
        _ => 130001,
    }
}

fn account_code(problem: &Problem) -> i64 {
    match problem {
        // More accounts than one call takes.
        Problem::TooMany { .. } => 70206,
        _ => 70402,
    }
}

fn is_type_error(problem: &Problem) -> bool {
    matches!(problem, Problem::Malformed(message) if message.starts_with("invalid type"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tim_model::api::decode_request;
    use tim_model::c2c::{BatchSendMsgRequest, SendMsgRequest};

    fn sendmsg_code(body: &str) -> i64 {
        let errors = decode_request::<SendMsgRequest>(body.as_bytes()).unwrap_err();
        for_validation(CommandId::SendMsg, &errors, body.as_bytes()).0
    }

    const TEXT: &str = r#"[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]"#;

    #[test]
    fn sendmsg_fields_map_to_their_documented_codes() {
        assert_eq!(sendmsg_code("{"), 90001);
        assert_eq!(sendmsg_code("[]"), 90001);
        assert_eq!(sendmsg_code(&format!(r#"{{"MsgRandom":1,"MsgBody":{TEXT}}}"#)), 90003);
        assert_eq!(sendmsg_code(&format!(r#"{{"To_Account":"b","MsgBody":{TEXT}}}"#)), 90005);
        assert_eq!(sendmsg_code(&format!(r#"{{"To_Account":"b","MsgRandom":"x","MsgBody":{TEXT}}}"#)), 90005);
        assert_eq!(sendmsg_code(r#"{"To_Account":"b","MsgRandom":1}"#), 90007);
        assert_eq!(sendmsg_code(r#"{"To_Account":"b","MsgRandom":1,"MsgBody":{}}"#), 90007);
        assert_eq!(sendmsg_code(r#"{"To_Account":"b","MsgRandom":1,"MsgBody":[]}"#), 90002);
        let big = format!(
            r#"{{"To_Account":"b","MsgRandom":1,"MsgBody":[{{"MsgType":"TIMTextElem","MsgContent":{{"Text":"{}"}}}}]}}"#,
            "x".repeat(12_001)
        );
        assert_eq!(sendmsg_code(&big), 93000);
        assert_eq!(
            sendmsg_code(&format!(r#"{{"To_Account":"b","MsgRandom":1,"MsgLifeTime":604801,"MsgBody":{TEXT}}}"#)),
            90026
        );
        assert_eq!(
            sendmsg_code(&format!(r#"{{"From_Account":"","To_Account":"b","MsgRandom":1,"MsgBody":{TEXT}}}"#)),
            90008
        );
    }

    #[test]
    fn batch_over_500_recipients_is_90011() {
        let ids: Vec<String> = (0..501).map(|i| format!("\"u{i}\"")).collect();
        let body = format!(r#"{{"To_Account":[{}],"MsgRandom":1,"MsgBody":{TEXT}}}"#, ids.join(","));
        let errors = decode_request::<BatchSendMsgRequest>(body.as_bytes()).unwrap_err();
        assert_eq!(for_validation(CommandId::BatchSendMsg, &errors, body.as_bytes()).0, 90011);
    }
}
