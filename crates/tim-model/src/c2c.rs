//! One-to-one messages: sendmsg, batchsendmsg, importmsg, admin_msgwithdraw and admin_getroammsg (spec §3.1–3.3,
//! §3.8 and the history API).

mod generated;

pub use generated::*;

use crate::Extra;
use crate::api::TypedRequest;
use crate::body::MsgBody;
use crate::control::SendMsgControl;
use crate::error::Problem;
use crate::ids::UserId;
use crate::validate::{Checker, MAX_MSG_BYTES, Sendable, check_elements, check_message, json_len};

impl SendMsgRequest {
    /// A message to `to` with every optional field absent.
    pub fn new(to: UserId, body: MsgBody) -> Self {
        Self {
            sync_other_machine: None,
            from_account: None,
            to_account: to,
            msg_life_time: None,
            msg_seq: None,
            msg_random: None,
            msg_time_stamp: None,
            online_only_flag: None,
            forbid_callback_control: None,
            send_msg_control: None,
            msg_body: body,
            cloud_custom_data: None,
            support_message_extension: None,
            offline_push_info: None,
            is_need_read_receipt: None,
            extra: Extra::new(),
        }
    }

    /// What the service does with the message for its recipient and its sender.
    pub fn delivery(&self) -> C2cDelivery {
        let online_only = self.online_only_flag == Some(1);
        let offline = online_only || self.msg_life_time == Some(0);
        C2cDelivery::new(online_only, offline, self.sync_other_machine, self.send_msg_control.as_deref())
    }
}

/// What the service does with a one-to-one message besides delivering it to online devices, from its storage
/// fields as sendmsg's and batchsendmsg's pages document them. The one place these rules are written: the
/// emulator stores by it and the fan-out decides by it whether an unknown outcome can be looked up.
///
/// - `OnlineOnlyFlag` 1: online devices only; kept neither offline nor in the history, not counted unread, the
///   conversation list not updated.
/// - `MsgLifeTime` 0: online users only, nothing kept offline. For batchsendmsg, also not in the history and not
///   counted unread ("no unread count, no chat record, faster"); sendmsg's page says only "not kept offline".
/// - `SendMsgControl`: `NoUnread` not counted unread, `NoLastMsg` the conversation list not updated,
///   `WithMuteNotifications` the recipient's mute setting applies (it does not by default).
/// - `SyncOtherMachine`: `2` keeps the message out of the sender's own history; `1` also syncs it to the sender's
///   online devices; absent, the sender's history only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct C2cDelivery {
    /// Kept for offline recipients (delivered when they come online).
    pub offline: bool,
    /// Kept in the recipient's roaming history.
    pub history: bool,
    /// Counted in the recipient's unread count.
    pub unread: bool,
    /// Updates the recipient's conversation list (its last message).
    pub conversation: bool,
    /// Kept in the sender's own roaming history of the conversation.
    pub sender_history: bool,
    /// Synced to the sender's online devices.
    pub sender_devices: bool,
    /// The recipient's mute setting applies.
    pub honours_mute: bool,
}

impl C2cDelivery {
    fn new(online_only: bool, no_offline: bool, sync: Option<u32>, controls: Option<&[SendMsgControl]>) -> Self {
        let has = |control: SendMsgControl| controls.is_some_and(|controls| controls.contains(&control));
        let history = !online_only;
        Self {
            offline: !no_offline,
            history,
            unread: !online_only && !has(SendMsgControl::NoUnread),
            conversation: !online_only && !has(SendMsgControl::NoLastMsg),
            sender_history: history && sync != Some(2),
            sender_devices: sync == Some(1),
            honours_mute: has(SendMsgControl::WithMuteNotifications),
        }
    }
}

impl SendMsgRequest {
    /// The rules beyond each field's own: the body's elements and its size with `CloudCustomData`.
    fn rules(&self, c: &mut Checker) {
        check_message(c, &self.msg_body, Sendable::All, self.cloud_custom_data.as_deref());
    }
}

impl BatchSendMsgRequest {
    /// A batch to `to` with every optional field absent.
    pub fn new(to: Vec<UserId>, body: MsgBody) -> Self {
        Self {
            sync_other_machine: None,
            from_account: None,
            to_account: to,
            msg_seq: None,
            msg_random: None,
            msg_body: body,
            msg_life_time: None,
            online_only_flag: None,
            cloud_custom_data: None,
            send_msg_control: None,
            offline_push_info: None,
            is_need_read_receipt: None,
            extra: Extra::new(),
        }
    }

    /// What the service does with the message for its recipients and its sender.
    pub fn delivery(&self) -> C2cDelivery {
        let online_only = self.online_only_flag == Some(1) || self.msg_life_time == Some(0);
        C2cDelivery::new(online_only, online_only, self.sync_other_machine, self.send_msg_control.as_deref())
    }

    /// Whether the service keeps the message in the recipients' roaming history (so `admin_getroammsg` can find
    /// it): not with `MsgLifeTime` 0 nor `OnlineOnlyFlag` 1.
    pub fn kept_in_history(&self) -> bool {
        self.delivery().history
    }

    /// The message without what each chunk of a fan-out sets itself: no recipients, no `MsgSeq`, no `MsgRandom`.
    pub fn without_recipients(&self) -> Self {
        Self { to_account: Vec::new(), msg_seq: None, msg_random: None, ..self.clone() }
    }
}

impl BatchSendMsgRequest {
    /// The rules beyond each field's own: the body's elements, and the whole packet's size (error 93000 counts
    /// it for batchsendmsg, recipients included).
    fn rules(&self, c: &mut Checker) {
        check_elements(c, "MsgBody", self.msg_body.elements(), Sendable::All);
        let packet = json_len(self);
        if packet > MAX_MSG_BYTES {
            c.fail("", Problem::TooLong { max: MAX_MSG_BYTES, actual: packet });
        }
    }
}

/// The one spelling of the field of a batchsendmsg body that lists its recipients, for the constants below.
macro_rules! batch_recipients_field {
    () => {
        "To_Account"
    };
}

/// The field of a batchsendmsg body that lists its recipients.
pub const BATCH_RECIPIENTS_FIELD: &str = batch_recipients_field!();

/// The start of every batchsendmsg body a fan-out writes, up to its first recipient: `{"To_Account":[`.
pub const BATCH_HEAD: &[u8] = concat!("{\"", batch_recipients_field!(), "\":[").as_bytes();

/// A batchsendmsg body cut where a fan-out writes each chunk's own parts (see
/// [`BatchSendMsgRequest::batch_template`]): [`BATCH_HEAD`], the chunk's quoted recipients separated by commas,
/// `]`, then for each pinned key its prefix and the chunk's value, then `tail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchTemplate {
    /// The JSON of each deduplication key the command table pins, in the table's order, up to its value:
    /// `,"MsgSeq":`, `,"MsgRandom":`.
    pub key_prefixes: Vec<Box<[u8]>>,
    /// Where `MsgSeq` and `MsgRandom` sit among the keys, when both are pinned.
    pub seq_and_random: Option<(usize, usize)>,
    /// The message's other fields and the closing brace: `,"MsgBody":[...],...}`, or `}`.
    pub tail: Vec<u8>,
}

impl BatchSendMsgRequest {
    /// The template of the bodies that send this message to chunks of recipients, each with its own pinned keys
    /// (its `To_Account`, `MsgSeq` and `MsgRandom` are left out). Fails when the table pins a nested key, which
    /// cannot be written per chunk.
    pub fn batch_template(&self) -> Result<BatchTemplate, String> {
        let pinned = Self::COMMAND.command().idempotency.pinned();
        if let Some(nested) = pinned.iter().find(|path| path.contains('[') || path.contains('.')) {
            return Err(format!("cannot pin the nested key {nested} per chunk"));
        }
        let mut value = serde_json::to_value(self).map_err(|e| format!("cannot encode the message: {e}"))?;
        let fields = value.as_object_mut().ok_or("the message is not a JSON object")?;
        fields.remove(BATCH_RECIPIENTS_FIELD);
        for key in pinned {
            fields.remove(*key);
        }
        let rest = serde_json::to_vec(&value).map_err(|e| format!("cannot encode the message: {e}"))?;
        // `{...}` becomes `,...}` (or `}` for an empty object) after the recipients and the keys.
        let tail = if rest.len() > 2 { [b",".as_slice(), &rest[1..]].concat() } else { b"}".to_vec() };
        let key_prefixes = pinned.iter().map(|key| format!(",\"{key}\":").into_bytes().into_boxed_slice()).collect();
        let position = |name: &str| pinned.iter().position(|key| *key == name);
        Ok(BatchTemplate { key_prefixes, seq_and_random: position("MsgSeq").zip(position("MsgRandom")), tail })
    }
}

impl ImportMsgRequest {
    /// What the service does with an imported message: kept in both parties' history and conversation lists,
    /// counted unread only when imported as real time (`SyncFromOldSystem` 5).
    pub fn delivery(&self) -> C2cDelivery {
        C2cDelivery {
            offline: true,
            history: true,
            unread: self.sync_from_old_system == 5,
            conversation: true,
            sender_history: true,
            sender_devices: false,
            honours_mute: false,
        }
    }
}

impl ImportMsgRequest {
    /// The rules beyond each field's own: the body's elements and its size with `CloudCustomData`.
    fn rules(&self, c: &mut Checker) {
        check_message(c, &self.msg_body, Sendable::All, self.cloud_custom_data.as_deref());
    }
}

impl AdminGetRoamMsgRequest {
    /// The rules beyond each field's own: at least one message asked for, and a time range in order.
    fn rules(&self, c: &mut Checker) {
        if self.max_cnt == 0 {
            c.fail("MaxCnt", Problem::Rule("must be at least 1"));
        }
        if self.min_time > self.max_time {
            c.fail_value("MinTime", Problem::Rule("must not be after MaxTime"), &self.min_time.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Validate;

    fn batch(fields: serde_json::Value) -> BatchSendMsgRequest {
        let mut body = serde_json::json!({"To_Account": ["bob"], "MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]});
        for (field, value) in fields.as_object().unwrap() {
            body[field] = value.clone();
        }
        serde_json::from_value(body).unwrap()
    }

    fn single(fields: serde_json::Value) -> SendMsgRequest {
        let mut body = serde_json::to_value(batch(fields)).unwrap();
        body["To_Account"] = serde_json::json!("bob");
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn the_storage_fields_decide_what_is_kept_as_the_pages_say() {
        use serde_json::json;
        // (fields, offline, history, unread, conversation, sender_history) for batchsendmsg, then sendmsg.
        let cases = [
            (json!({}), [true, true, true, true, true], [true, true, true, true, true]),
            (json!({"MsgLifeTime": 0}), [false, false, false, false, false], [false, true, true, true, true]),
            (json!({"OnlineOnlyFlag": 1}), [false, false, false, false, false], [false, false, false, false, false]),
            (json!({"SendMsgControl": ["NoUnread"]}), [true, true, false, true, true], [true, true, false, true, true]),
            (
                json!({"SendMsgControl": ["NoLastMsg"]}),
                [true, true, true, false, true],
                [true, true, true, false, true],
            ),
            (json!({"SyncOtherMachine": 2}), [true, true, true, true, false], [true, true, true, true, false]),
        ];
        let flags = |d: C2cDelivery| [d.offline, d.history, d.unread, d.conversation, d.sender_history];
        for (fields, batch_flags, single_flags) in cases {
            assert_eq!(flags(batch(fields.clone()).delivery()), batch_flags, "batchsendmsg {fields}");
            assert_eq!(flags(single(fields.clone()).delivery()), single_flags, "sendmsg {fields}");
        }
        assert!(batch(json!({"SyncOtherMachine": 1})).delivery().sender_devices);
        assert!(batch(json!({"SendMsgControl": ["WithMuteNotifications"]})).delivery().honours_mute);
        assert!(!batch(json!({"OnlineOnlyFlag": 1})).kept_in_history());
        assert!(batch(json!({"OnlineOnlyFlag": 0, "MsgLifeTime": 60})).kept_in_history());
    }

    #[test]
    fn a_batch_online_only_flag_is_a_switch() {
        let errors = batch(serde_json::json!({"OnlineOnlyFlag": 2})).validate().unwrap_err();
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field()).collect();
        assert_eq!(fields, ["OnlineOnlyFlag"]);
    }
}
