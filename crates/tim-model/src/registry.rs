//! The registry of typed commands: which commands have typed request and response types, and the checks that
//! dispatch a JSON body to its type by command (`check_request_json`). The trait every typed request implements is
//! [`crate::api::TypedRequest`]; this module is the one list of the types that implement it.

#[cfg(test)]
use crate::api::KeyField;
use crate::api::{TypedRequest, decode, decode_request};
use crate::command::CommandId;
use crate::error::{Problem, ValidationError, ValidationErrors};
/// What [`check_request_json`] could check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// The command has typed request types: the body decoded and passed every documented rule.
    Typed,
    /// The command has no typed request types yet: the body is a JSON object, which is all that can be said.
    Untyped,
}

macro_rules! typed_requests {
    (plain: $($plain:ty),+ $(,)?; group: $($grouped:ty),+ $(,)?) => {
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

use crate::group::{GroupType, GroupTypeRules};

include!("registry/typed.rs");

/// Whether `id` has typed request and response types (the command table's `typed` column).
pub(crate) const fn is_typed(id: CommandId) -> bool {
    let mut i = 0;
    while i < TYPED_COMMANDS.len() {
        if TYPED_COMMANDS[i] as usize == id as usize {
            return true;
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn no_command_has_two_typed_requests() {
        let listed: BTreeSet<CommandId> = TYPED_COMMANDS.iter().copied().collect();
        assert_eq!(listed.len(), TYPED_COMMANDS.len(), "a command is listed twice");
        let marked = crate::command::COMMANDS.iter().filter(|c| c.typed).count();
        assert_eq!(marked, TYPED_COMMANDS.len());
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
        // An untyped command: any JSON object passes, anything else does not.
        assert_eq!(
            check_request_json(CommandId::GetAppInfo, br#"{"RequestField":["ChainIncrease"]}"#, None),
            Ok(Checked::Untyped)
        );
        assert!(check_request_json(CommandId::GetAppInfo, b"", None).is_err());
        assert!(check_request_json(CommandId::GetAppInfo, b"[]", None).is_err());
        // A typed one is checked against its model.
        assert_eq!(check_request_json(CommandId::Kick, br#"{"Identifier":"x"}"#, None), Ok(Checked::Typed));
        assert!(check_request_json(CommandId::Kick, br#"{"UserID":""}"#, None).is_err());

        let notice = br#"{"GroupId":"g","ToMembers_Account":["a"],"Content":"hi"}"#;
        let live = GroupType::AvChatRoom;
        assert_eq!(check_request_json(CommandId::SendGroupSystemNotification, notice, None), Ok(Checked::Typed));
        let errors = check_request_json(CommandId::SendGroupSystemNotification, notice, Some(&live)).unwrap_err();
        assert_eq!(errors.first().field(), "ToMembers_Account");
    }
}
