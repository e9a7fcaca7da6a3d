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

    /// Fixes the deduplication keys the command table pins (`MsgRandom`, `Random`, ...) before the first attempt:
    /// keys the caller left out are drawn from `random`; keys already set are kept. Calling it again changes
    /// nothing, so every retry carries the same keys.
    fn pin_dedupe_keys(&mut self, random: &mut dyn FnMut() -> u32) {
        let _ = random;
    }

    /// The request's own deduplication key (`MsgRandom` or `Random`), once set or pinned; `None` for commands
    /// without one, or whose keys belong to items (`MsgList[].Random`).
    fn dedupe_key(&self) -> Option<u32> {
        None
    }
}

/// Fills an absent dedupe key from `random`.
pub(crate) fn pin(slot: &mut Option<u32>, random: &mut dyn FnMut() -> u32) {
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
