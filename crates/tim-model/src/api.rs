//! Typed commands: the link between a request type, its response type and its row of the command table, and
//! decoding with field-level errors.

use crate::command::{Command, CommandId};
use crate::error::{Problem, ValidationError, ValidationErrors};
use crate::validate::Validate;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A request type with its command and response type.
pub trait TypedRequest: Serialize + DeserializeOwned + Validate + Clone + Send + Sync + 'static {
    /// The command this request is sent to.
    const COMMAND: CommandId;

    /// What the service answers.
    type Response: Serialize + DeserializeOwned + Clone + Send + Sync + 'static;

    /// This request's row of the command table.
    fn command() -> &'static Command {
        Self::COMMAND.command()
    }

    /// Where this request keeps the deduplication keys its row of the command table pins, each under the path the
    /// table writes (`MsgRandom`, `MsgSeq`, `MsgList[].Random` once per item, ...). The table says what is pinned;
    /// this only says where those fields are, and a test checks that the two name the same fields for every typed
    /// command.
    fn key_fields(&mut self) -> Vec<(&'static str, KeyField<'_>)> {
        Vec::new()
    }

    /// Fixes the deduplication keys the command table pins (`MsgRandom`, `MsgSeq`, `Random`, ...) before the first
    /// attempt: keys the caller left out are drawn from `random`; keys already set are kept. Calling it again
    /// changes nothing, so every retry carries the same keys.
    fn pin_dedupe_keys(&mut self, random: &mut dyn FnMut() -> u32) {
        let pinned = Self::COMMAND.command().idempotency.pinned();
        for (path, field) in self.key_fields() {
            if let KeyField::Drawn(slot) = field
                && pinned.contains(&path)
            {
                pin(slot, random);
            }
        }
    }

    /// The request's own deduplication key (`MsgRandom` or `Random`), once set or pinned; `None` for commands
    /// without one, or whose keys belong to items (`MsgList[].Random`).
    fn dedupe_key(&self) -> Option<u32> {
        None
    }

    /// How many recipients the request addresses, for quotas counted in recipients (batchsendmsg's recipients
    /// per minute); 0 for commands without such a quota.
    fn recipients(&self) -> u32 {
        0
    }
}

/// How many recipients a JSON body for `command` addresses, for quotas counted in recipients (the body's
/// `To_Account` list for batchsendmsg); 0 for other commands and for bodies without the list.
///
/// ```
/// use tim_model::api::json_recipients;
/// use tim_model::command::CommandId;
/// let body = serde_json::json!({"To_Account": ["a", "b"], "MsgBody": []});
/// assert_eq!(json_recipients(CommandId::BatchSendMsg, &body), 2);
/// assert_eq!(json_recipients(CommandId::SendMsg, &body), 0);
/// ```
pub fn json_recipients(command: CommandId, body: &serde_json::Value) -> u32 {
    if command != CommandId::BatchSendMsg {
        return 0;
    }
    let listed = body.get(crate::c2c::BATCH_RECIPIENTS_FIELD).and_then(serde_json::Value::as_array);
    listed.map_or(0, |to| u32::try_from(to.len()).unwrap_or(u32::MAX))
}

/// Fills the deduplication keys that `command`'s row of the command table pins and that a JSON body leaves out,
/// from `random`, so that every retry of a generic call carries the same keys: top-level keys (`MsgRandom`,
/// `Random`, `MsgSeq`) and the keys of list items (`MsgList[].Random`). Keys already set are kept; keys the caller
/// must choose (`MsgTimeStamp`) are left alone. A body that is not an object is left as it is.
///
/// ```
/// use tim_model::api::pin_json_dedupe_keys;
/// use tim_model::command::CommandId;
/// let mut body = serde_json::json!({"To_Account": "bob", "MsgRandom": 7});
/// pin_json_dedupe_keys(CommandId::SendMsg.command(), &mut body, &mut || 42);
/// assert_eq!((body["MsgRandom"].as_u64(), body["MsgSeq"].as_u64()), (Some(7), Some(42)));
/// ```
pub fn pin_json_dedupe_keys(command: &Command, body: &mut serde_json::Value, random: &mut dyn FnMut() -> u32) {
    let Some(object) = body.as_object_mut() else { return };
    for path in command.idempotency.pinned() {
        match path.split_once("[].") {
            Some((list, key)) if DRAWN_KEYS.contains(&key) => {
                let items = object.get_mut(list).and_then(serde_json::Value::as_array_mut).into_iter().flatten();
                for item in items.filter_map(serde_json::Value::as_object_mut) {
                    item.entry(key).or_insert_with(|| serde_json::Value::from(random()));
                }
            }
            None if DRAWN_KEYS.contains(path) => {
                object.entry(*path).or_insert_with(|| serde_json::Value::from(random()));
            }
            _ => {}
        }
    }
}

/// The pinned keys a client draws at random when the caller leaves them out (a `u32` each); the others
/// (`MsgTimeStamp`) are the caller's to choose.
const DRAWN_KEYS: &[&str] = &["MsgSeq", "MsgRandom", "Random"];

/// Where a request keeps one deduplication key (see [`TypedRequest::key_fields`]).
#[derive(Debug)]
pub enum KeyField<'a> {
    /// A key the client draws at random when the caller left it out.
    Drawn(&'a mut Option<u32>),
    /// A key the caller must give, fixed by being required (importmsg's `MsgTimeStamp`).
    Given,
}

/// Fills an absent dedupe key from `random`.
fn pin(slot: &mut Option<u32>, random: &mut dyn FnMut() -> u32) {
    if slot.is_none() {
        *slot = Some(random());
    }
}

/// Decodes JSON into `T`, naming the field that does not decode.
///
/// ```
/// use tim_model::api::decode;
/// use tim_model::c2c::SendMsgRequest;
/// let error = decode::<SendMsgRequest>(br#"{"To_Account": "", "MsgBody": []}"#).unwrap_err();
/// assert_eq!(error.field(), "To_Account");
/// ```
pub fn decode<T: DeserializeOwned>(json: &[u8]) -> Result<T, ValidationError> {
    // Most bodies decode: do it without tracking where the decoder is, and only when it fails decode again to
    // name the field (tracking the path costs about as much as the decoding itself).
    if let Ok(value) = serde_json::from_slice(json) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(malformed)?;
    deserializer.end().map_err(|e| ValidationError::new("", Problem::Malformed(without_position(&e))))?;
    Ok(value)
}

/// Decodes a request and checks every documented rule: what a server (or the emulator) does with a body.
pub fn decode_request<T: TypedRequest>(json: &[u8]) -> Result<T, ValidationErrors> {
    let request: T = decode(json)?;
    request.validate()?;
    Ok(request)
}

fn malformed(error: serde_path_to_error::Error<serde_json::Error>) -> ValidationError {
    let path = error.path().to_string();
    let field = if path == "." { String::new() } else { path };
    ValidationError::new(field, Problem::Malformed(without_position(error.inner())))
}

/// serde_json's message without its " at line L column C" suffix (the field path says where).
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => text,
    }
}

/// What [`check_request_json`] could check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// The command has typed request types: the body decoded and passed every documented rule.
    Typed,
    /// The command has no typed request types yet: the body is a JSON object, which is all that can be said.
    Untyped,
}

macro_rules! typed_requests {
    (plain: $($plain:ty),+; group: $($grouped:ty),+ $(,)?) => {
        /// Every command that has typed request and response types.
        pub const TYPED_COMMANDS: &[CommandId] = &[$(<$plain>::COMMAND,)+ $(<$grouped>::COMMAND,)+];

        /// Decodes and validates a request body for the command `id`, as the service would receive it. When the
        /// addressed group's type is known, the rules that depend on it are checked too.
        pub fn check_request_json(
            id: CommandId,
            json: &[u8],
            group_type: Option<&GroupType>,
        ) -> Result<Checked, ValidationErrors> {
            $(if id == <$plain>::COMMAND {
                decode_request::<$plain>(json)?;
                return Ok(Checked::Typed);
            })+
            $(if id == <$grouped>::COMMAND {
                let request = decode_request::<$grouped>(json)?;
                if let Some(group_type) = group_type {
                    request.validate_for_group(group_type)?;
                }
                return Ok(Checked::Typed);
            })+
            // The service rejects an empty body; every command takes a JSON object (`{}` when it has no fields).
            match decode::<serde_json::Value>(json)? {
                serde_json::Value::Object(_) => Ok(Checked::Untyped),
                _ => Err(ValidationError::new("", Problem::Rule("must be a JSON object")).into()),
            }
        }

        /// For the tests: decodes `json` as the typed request of `id`, pins its keys from `random`, and returns the
        /// paths its `key_fields` names (each with whether the client draws it) and the pinned request as JSON.
        #[cfg(test)]
        fn pin_as_typed(
            id: CommandId,
            json: &[u8],
            random: &mut dyn FnMut() -> u32,
        ) -> Option<(Vec<(&'static str, bool)>, serde_json::Value)> {
            fn pinned<R: TypedRequest>(
                json: &[u8],
                random: &mut dyn FnMut() -> u32,
            ) -> (Vec<(&'static str, bool)>, serde_json::Value) {
                let mut request: R = decode(json).expect("the request decodes");
                let paths = request
                    .key_fields()
                    .into_iter()
                    .map(|(path, field)| (path, matches!(field, KeyField::Drawn(_))))
                    .collect();
                request.pin_dedupe_keys(random);
                (paths, serde_json::to_value(&request).expect("the request encodes"))
            }
            $(if id == <$plain>::COMMAND {
                return Some(pinned::<$plain>(json, random));
            })+
            $(if id == <$grouped>::COMMAND {
                return Some(pinned::<$grouped>(json, random));
            })+
            None
        }
    };
}

use crate::account::{AccountCheckRequest, AccountDeleteRequest, AccountImportRequest, MultiAccountImportRequest};
use crate::c2c::{
    AdminGetRoamMsgRequest, AdminMsgWithdrawRequest, BatchSendMsgRequest, ImportMsgRequest, SendMsgRequest,
};
use crate::group::{
    AddGroupMemberRequest, CreateGroupRequest, DeleteGroupMemberRequest, DestroyGroupRequest, GetGroupInfoRequest,
    GetGroupMemberInfoRequest, GroupType, GroupTypeRules,
};
use crate::group_msg::{
    GroupMsgGetSimpleRequest, GroupMsgRecallRequest, ImportGroupMsgRequest, SendBroadcastMsgRequest,
    SendGroupMsgRequest, SendGroupSystemNotificationRequest,
};
use crate::push_all::ImPushRequest;

typed_requests!(
    plain: SendMsgRequest, BatchSendMsgRequest, ImportMsgRequest, AdminMsgWithdrawRequest, AdminGetRoamMsgRequest,
        SendBroadcastMsgRequest, ImPushRequest, AccountImportRequest, MultiAccountImportRequest, AccountCheckRequest,
        AccountDeleteRequest, CreateGroupRequest, DestroyGroupRequest, GetGroupInfoRequest;
    group: SendGroupMsgRequest, SendGroupSystemNotificationRequest, ImportGroupMsgRequest, GroupMsgRecallRequest,
        GroupMsgGetSimpleRequest, AddGroupMemberRequest, DeleteGroupMemberRequest, GetGroupMemberInfoRequest,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_get_the_keys_the_table_pins_and_keep_the_given_ones() {
        let mut draws = 100..;
        let mut random = || draws.next().unwrap();
        let mut body = serde_json::json!({"To_Account": "a", "MsgRandom": 7});
        pin_json_dedupe_keys(CommandId::SendMsg.command(), &mut body, &mut random);
        assert_eq!(body, serde_json::json!({"To_Account": "a", "MsgRandom": 7, "MsgSeq": 100}));
        let mut body = serde_json::json!({"MsgList": [{"Random": 1}, {}]});
        pin_json_dedupe_keys(CommandId::ImportGroupMsg.command(), &mut body, &mut random);
        assert_eq!(body, serde_json::json!({"MsgList": [{"Random": 1}, {"Random": 101}]}));
        // MsgTimeStamp is the caller's to choose: it is never drawn.
        let mut body = serde_json::json!({"MsgSeq": 1});
        pin_json_dedupe_keys(CommandId::ImportMsg.command(), &mut body, &mut random);
        assert_eq!(body, serde_json::json!({"MsgSeq": 1, "MsgRandom": 102}));
        let mut body = serde_json::json!({});
        pin_json_dedupe_keys(CommandId::FriendGet.command(), &mut body, &mut random);
        assert_eq!(body, serde_json::json!({}));
    }
    use std::collections::BTreeSet;

    #[test]
    fn typed_commands_are_exactly_those_the_table_marks_typed() {
        let listed: BTreeSet<CommandId> = TYPED_COMMANDS.iter().copied().collect();
        assert_eq!(listed.len(), TYPED_COMMANDS.len(), "a type is listed twice");
        let marked: BTreeSet<CommandId> = crate::command::COMMANDS.iter().filter(|c| c.typed).map(|c| c.id).collect();
        assert_eq!(listed, marked);
    }

    #[test]
    fn the_dedupe_key_is_the_pinned_one_or_the_callers() {
        use crate::c2c::{BatchSendMsgRequest, SendMsgRequest};
        use crate::group_msg::ImportGroupMsgRequest;
        let to = vec![crate::UserId::new("a").unwrap()];
        let mut batch = BatchSendMsgRequest::new(to, crate::MsgBody::text("x"));
        assert_eq!(batch.dedupe_key(), None);
        batch.pin_dedupe_keys(&mut || 7);
        assert_eq!(batch.dedupe_key(), Some(7));
        let mut send: SendMsgRequest = decode(
            br#"{"To_Account":"a","MsgRandom":9,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#,
        )
        .unwrap();
        send.pin_dedupe_keys(&mut || 7);
        assert_eq!(send.dedupe_key(), Some(9), "a key the caller set is kept");
        let import: ImportGroupMsgRequest = decode(br#"{"GroupId":"g","MsgList":[]}"#).unwrap();
        assert_eq!(import.dedupe_key(), None, "its keys belong to the items");
    }

    /// The values at a table path (`MsgRandom`, `MsgList[].Random`) of a request's JSON: one per list item.
    fn at_path<'v>(json: &'v serde_json::Value, path: &str) -> Vec<Option<&'v serde_json::Value>> {
        match path.split_once("[].") {
            Some((list, field)) => json[list].as_array().into_iter().flatten().map(|item| item.get(field)).collect(),
            None => vec![json.get(path)],
        }
    }

    fn remove_path(json: &mut serde_json::Value, path: &str) {
        match path.split_once("[].") {
            Some((list, field)) => {
                for item in json[list].as_array_mut().into_iter().flatten() {
                    item.as_object_mut().map(|item| item.remove(field));
                }
            }
            None => {
                json.as_object_mut().map(|object| object.remove(path));
            }
        }
    }

    /// For every typed command: the fields the request type names as key fields are exactly those its row of the
    /// command table pins; a request whose caller left every drawn key out comes out of `pin_dedupe_keys` with each
    /// of them set (and nothing else changed), and pinning again changes nothing.
    #[test]
    fn typed_requests_pin_exactly_the_fields_of_the_command_table() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for &id in TYPED_COMMANDS {
            let command = id.command();
            let file = fixtures.join(command.short_path()).join("request.json");
            let original: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())))
                    .unwrap();
            let pinned = command.idempotency.pinned();
            let (paths, _) = pin_as_typed(id, &serde_json::to_vec(&original).unwrap(), &mut || 1).unwrap();
            let named: BTreeSet<&str> = paths.iter().map(|(path, _)| *path).collect();
            assert_eq!(named, pinned.iter().copied().collect(), "{}: key fields against the table", command.path);
            assert!(pinned.is_empty() || !paths.is_empty(), "{}: the fixture has no key field to check", command.path);

            // Leave out every key the client draws (the caller-given ones, like MsgTimeStamp, are required).
            let mut bare = original.clone();
            let drawn: BTreeSet<&str> = paths.iter().filter(|(_, drawn)| *drawn).map(|(path, _)| *path).collect();
            for path in &drawn {
                remove_path(&mut bare, path);
            }
            let mut next = 1_000_u32;
            let mut random = || {
                next += 1;
                next
            };
            let (_, once) = pin_as_typed(id, &serde_json::to_vec(&bare).unwrap(), &mut random).unwrap();
            for path in &drawn {
                for value in at_path(&once, path) {
                    assert!(
                        value.is_some_and(|v| v.as_u64().is_some_and(|n| n > 1_000)),
                        "{}: {path} not pinned",
                        command.path
                    );
                }
            }
            let mut without_keys = once.clone();
            for path in &drawn {
                remove_path(&mut without_keys, path);
            }
            let (_, bare_again) = pin_as_typed(id, &serde_json::to_vec(&bare).unwrap(), &mut || 0).unwrap();
            let mut bare_again = bare_again;
            for path in &drawn {
                remove_path(&mut bare_again, path);
            }
            assert_eq!(without_keys, bare_again, "{}: pinning changed more than the keys", command.path);
            let (_, twice) = pin_as_typed(id, &serde_json::to_vec(&once).unwrap(), &mut || 7).unwrap();
            assert_eq!(once, twice, "{}: pinning again changed the keys", command.path);
        }
    }

    #[test]
    fn check_request_json_validates_typed_and_untyped_commands() {
        let ok = br#"{"To_Account":"a","MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#;
        assert_eq!(check_request_json(CommandId::SendMsg, ok, None), Ok(Checked::Typed));
        let errors = check_request_json(CommandId::SendMsg, br#"{"To_Account":"a","MsgBody":[]}"#, None).unwrap_err();
        assert_eq!(errors.first().field(), "MsgBody");
        assert_eq!(check_request_json(CommandId::Kick, br#"{"Identifier":"x"}"#, None), Ok(Checked::Untyped));
        assert!(check_request_json(CommandId::Kick, b"", None).is_err());
        assert!(check_request_json(CommandId::Kick, b"[]", None).is_err());

        let notice = br#"{"GroupId":"g","ToMembers_Account":["a"],"Content":"hi"}"#;
        let live = GroupType::AvChatRoom;
        assert_eq!(check_request_json(CommandId::SendGroupSystemNotification, notice, None), Ok(Checked::Typed));
        let errors = check_request_json(CommandId::SendGroupSystemNotification, notice, Some(&live)).unwrap_err();
        assert_eq!(errors.first().field(), "ToMembers_Account");
    }
}
