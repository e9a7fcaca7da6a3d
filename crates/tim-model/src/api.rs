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
}
