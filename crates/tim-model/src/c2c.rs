//! One-to-one messages: sendmsg, batchsendmsg, importmsg, admin_msgwithdraw and admin_getroammsg (spec §3.1–3.3,
//! §3.8 and the history API).

use crate::Extra;
use crate::api::{KeyField, TypedRequest};
use crate::body::MsgBody;
use crate::command::CommandId;
use crate::control::{ForbidCallback, SendMsgControl};
use crate::elem::MsgElement;
use crate::envelope::{EmptyResponse, Response};
use crate::error::{Problem, ValidationErrors};
use crate::ids::UserId;
use crate::push::OfflinePushInfo;
use crate::validate::{
    Checker, MAX_BATCH_RECIPIENTS, MAX_MSG_BYTES, Sendable, Validate, check_content_size, check_elements,
    check_life_time, check_push, check_switch, json_len,
};
use serde::{Deserialize, Serialize};

/// The longest `MsgKey`, in bytes.
pub const MAX_MSG_KEY_BYTES: usize = 50;

/// `openim/sendmsg`: send one one-to-one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendMsgRequest {
    /// `1` sync to the sender's online devices and roaming; `2` do not; absent: sender roaming only.
    #[serde(rename = "SyncOtherMachine", default, skip_serializing_if = "Option::is_none")]
    pub sync_other_machine: Option<u32>,
    /// Sender; absent means the admin identifier of the call.
    #[serde(rename = "From_Account", default, skip_serializing_if = "Option::is_none")]
    pub from_account: Option<UserId>,
    /// Recipient.
    #[serde(rename = "To_Account")]
    pub to_account: UserId,
    /// Seconds the message is kept for offline delivery, 0..=604800; absent means 7 days, 0 online only.
    #[serde(rename = "MsgLifeTime", default, skip_serializing_if = "Option::is_none")]
    pub msg_life_time: Option<u32>,
    /// Caller-chosen sequence number (dedupe and same-second ordering); absent means random.
    #[serde(rename = "MsgSeq", default, skip_serializing_if = "Option::is_none")]
    pub msg_seq: Option<u32>,
    /// Random deduplication key (required on the wire; the transport pins one when absent).
    #[serde(rename = "MsgRandom", default, skip_serializing_if = "Option::is_none")]
    pub msg_random: Option<u32>,
    /// Message time, UNIX seconds.
    #[serde(rename = "MsgTimeStamp", default, skip_serializing_if = "Option::is_none")]
    pub msg_time_stamp: Option<i64>,
    /// `1`: deliver to online devices only, store nothing.
    #[serde(rename = "OnlineOnlyFlag", default, skip_serializing_if = "Option::is_none")]
    pub online_only_flag: Option<u32>,
    /// Webhooks this message does not trigger.
    #[serde(rename = "ForbidCallbackControl", default, skip_serializing_if = "Option::is_none")]
    pub forbid_callback_control: Option<Vec<ForbidCallback>>,
    /// Delivery controls.
    #[serde(rename = "SendMsgControl", default, skip_serializing_if = "Option::is_none")]
    pub send_msg_control: Option<Vec<SendMsgControl>>,
    /// The message.
    #[serde(rename = "MsgBody")]
    pub msg_body: MsgBody,
    /// Custom data stored and delivered with the message.
    #[serde(rename = "CloudCustomData", default, skip_serializing_if = "Option::is_none")]
    pub cloud_custom_data: Option<String>,
    /// `1` allows message extensions.
    #[serde(rename = "SupportMessageExtension", default, skip_serializing_if = "Option::is_none")]
    pub support_message_extension: Option<u32>,
    /// Offline-push settings.
    #[serde(rename = "OfflinePushInfo", default, skip_serializing_if = "Option::is_none")]
    pub offline_push_info: Option<OfflinePushInfo>,
    /// `1` asks for a read receipt.
    #[serde(rename = "IsNeedReadReceipt", default, skip_serializing_if = "Option::is_none")]
    pub is_need_read_receipt: Option<u32>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

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

impl Validate for SendMsgRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        c.one_of("SyncOtherMachine", self.sync_other_machine, &[1, 2], "1 or 2");
        check_life_time(&mut c, self.msg_life_time);
        check_push(&mut c, self.offline_push_info.as_ref());
        c.required("MsgRandom", &self.msg_random);
        check_switch(&mut c, "OnlineOnlyFlag", self.online_only_flag);
        check_switch(&mut c, "SupportMessageExtension", self.support_message_extension);
        check_switch(&mut c, "IsNeedReadReceipt", self.is_need_read_receipt);
        check_elements(&mut c, "MsgBody", self.msg_body.elements(), Sendable::All);
        check_content_size(&mut c, &self.msg_body, self.cloud_custom_data.as_deref());
        c.finish()
    }
}

/// What sendmsg answers besides the envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SendMsgResult {
    /// Server time of the message, UNIX seconds.
    #[serde(rename = "MsgTime", default, skip_serializing_if = "Option::is_none")]
    pub msg_time: Option<i64>,
    /// Key of the message, needed to recall it (opaque, at most 50 bytes).
    #[serde(rename = "MsgKey", default, skip_serializing_if = "Option::is_none")]
    pub msg_key: Option<String>,
    /// The message's identifier on the clients (the SDKs' `msgID`, for example
    /// `144115233406643804-1727580296-4026038328`).
    #[serde(rename = "MsgId", default, skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<String>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for SendMsgRequest {
    const COMMAND: CommandId = CommandId::SendMsg;
    type Response = Response<SendMsgResult>;
    fn key_fields(&mut self) -> Vec<(&'static str, KeyField<'_>)> {
        vec![("MsgSeq", KeyField::Drawn(&mut self.msg_seq)), ("MsgRandom", KeyField::Drawn(&mut self.msg_random))]
    }

    fn dedupe_key(&self) -> Option<u32> {
        self.msg_random
    }
}

/// `openim/batchsendmsg`: the same message to 1..=500 recipients. Does not trigger webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSendMsgRequest {
    /// `1` sync to the sender's online devices and roaming; `2` do not.
    #[serde(rename = "SyncOtherMachine", default, skip_serializing_if = "Option::is_none")]
    pub sync_other_machine: Option<u32>,
    /// Sender; when set it must exist.
    #[serde(rename = "From_Account", default, skip_serializing_if = "Option::is_none")]
    pub from_account: Option<UserId>,
    /// Recipients, 1..=500.
    #[serde(rename = "To_Account")]
    pub to_account: Vec<UserId>,
    /// Caller-chosen sequence number.
    #[serde(rename = "MsgSeq", default, skip_serializing_if = "Option::is_none")]
    pub msg_seq: Option<u32>,
    /// Random deduplication key (required on the wire; the transport pins one when absent).
    #[serde(rename = "MsgRandom", default, skip_serializing_if = "Option::is_none")]
    pub msg_random: Option<u32>,
    /// The message.
    #[serde(rename = "MsgBody")]
    pub msg_body: MsgBody,
    /// Seconds kept for offline delivery, 0..=604800; absent means 7 days. `0`: online users only, kept neither
    /// offline nor in the history, not counted unread (the batch page's faster mode).
    #[serde(rename = "MsgLifeTime", default, skip_serializing_if = "Option::is_none")]
    pub msg_life_time: Option<u32>,
    /// `1`: deliver to online devices only, store nothing, count nothing unread (as for sendmsg).
    #[serde(rename = "OnlineOnlyFlag", default, skip_serializing_if = "Option::is_none")]
    pub online_only_flag: Option<u32>,
    /// Custom data stored and delivered with the message.
    #[serde(rename = "CloudCustomData", default, skip_serializing_if = "Option::is_none")]
    pub cloud_custom_data: Option<String>,
    /// Delivery controls.
    #[serde(rename = "SendMsgControl", default, skip_serializing_if = "Option::is_none")]
    pub send_msg_control: Option<Vec<SendMsgControl>>,
    /// Offline-push settings.
    #[serde(rename = "OfflinePushInfo", default, skip_serializing_if = "Option::is_none")]
    pub offline_push_info: Option<OfflinePushInfo>,
    /// `1` asks for read receipts.
    #[serde(rename = "IsNeedReadReceipt", default, skip_serializing_if = "Option::is_none")]
    pub is_need_read_receipt: Option<u32>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
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

impl Validate for BatchSendMsgRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        c.one_of("SyncOtherMachine", self.sync_other_machine, &[1, 2], "1 or 2");
        c.count("To_Account", self.to_account.len(), 1, MAX_BATCH_RECIPIENTS);
        c.required("MsgRandom", &self.msg_random);
        check_life_time(&mut c, self.msg_life_time);
        check_switch(&mut c, "OnlineOnlyFlag", self.online_only_flag);
        check_push(&mut c, self.offline_push_info.as_ref());
        check_switch(&mut c, "IsNeedReadReceipt", self.is_need_read_receipt);
        check_elements(&mut c, "MsgBody", self.msg_body.elements(), Sendable::All);
        // Error 93000 counts the whole packet for batchsendmsg, recipients included.
        let packet = json_len(self);
        if packet > MAX_MSG_BYTES {
            c.fail("", Problem::TooLong { max: MAX_MSG_BYTES, actual: packet });
        }
        c.finish()
    }
}

/// One failed recipient of a batchsendmsg.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientError {
    /// The recipient.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// Why it failed (70107: the account does not exist).
    #[serde(rename = "ErrorCode")]
    pub error_code: i64,
}

/// What batchsendmsg answers besides the envelope. `ActionStatus` is `SomeError` (with `ErrorCode` 0) when some
/// recipients failed; they are listed in `ErrorList`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchSendMsgResult {
    /// One key for the whole batch.
    #[serde(rename = "MsgKey", default, skip_serializing_if = "Option::is_none")]
    pub msg_key: Option<String>,
    /// The message's identifier on the clients (one for the whole batch).
    #[serde(rename = "MsgId", default, skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<String>,
    /// The recipients that failed; absent or empty when all succeeded.
    #[serde(rename = "ErrorList", default, skip_serializing_if = "Option::is_none")]
    pub error_list: Option<Vec<RecipientError>>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for BatchSendMsgRequest {
    const COMMAND: CommandId = CommandId::BatchSendMsg;
    type Response = Response<BatchSendMsgResult>;
    fn key_fields(&mut self) -> Vec<(&'static str, KeyField<'_>)> {
        vec![("MsgSeq", KeyField::Drawn(&mut self.msg_seq)), ("MsgRandom", KeyField::Drawn(&mut self.msg_random))]
    }

    fn dedupe_key(&self) -> Option<u32> {
        self.msg_random
    }

    fn recipients(&self) -> u32 {
        u32::try_from(self.to_account.len()).unwrap_or(u32::MAX)
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

/// `openim/importmsg`: import one one-to-one message. Deduplicated for ever on (`MsgSeq`, `MsgRandom`,
/// `MsgTimeStamp`), so a retry with the same three is safe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportMsgRequest {
    /// `2` history (read, not pushed) or `5` real time (unread, pushed).
    #[serde(rename = "SyncFromOldSystem")]
    pub sync_from_old_system: u32,
    /// Sender.
    #[serde(rename = "From_Account")]
    pub from_account: UserId,
    /// Recipient.
    #[serde(rename = "To_Account")]
    pub to_account: UserId,
    /// Sequence number; absent means random (the transport pins one, as it is part of the dedupe key).
    #[serde(rename = "MsgSeq", default, skip_serializing_if = "Option::is_none")]
    pub msg_seq: Option<u32>,
    /// Random (required on the wire; the transport pins one when absent).
    #[serde(rename = "MsgRandom", default, skip_serializing_if = "Option::is_none")]
    pub msg_random: Option<u32>,
    /// Time of the message, UNIX seconds.
    #[serde(rename = "MsgTimeStamp")]
    pub msg_time_stamp: i64,
    /// The message.
    #[serde(rename = "MsgBody")]
    pub msg_body: MsgBody,
    /// Custom data.
    #[serde(rename = "CloudCustomData", default, skip_serializing_if = "Option::is_none")]
    pub cloud_custom_data: Option<String>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
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

impl Validate for ImportMsgRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        c.one_of("SyncFromOldSystem", Some(self.sync_from_old_system), &[2, 5], "2 (history) or 5 (real time)");
        c.required("MsgRandom", &self.msg_random);
        c.range("MsgTimeStamp", Some(i128::from(self.msg_time_stamp)), 0, i128::from(u32::MAX));
        check_elements(&mut c, "MsgBody", self.msg_body.elements(), Sendable::All);
        check_content_size(&mut c, &self.msg_body, self.cloud_custom_data.as_deref());
        c.finish()
    }
}

impl TypedRequest for ImportMsgRequest {
    const COMMAND: CommandId = CommandId::ImportMsg;
    type Response = EmptyResponse;
    fn key_fields(&mut self) -> Vec<(&'static str, KeyField<'_>)> {
        vec![
            ("MsgSeq", KeyField::Drawn(&mut self.msg_seq)),
            ("MsgRandom", KeyField::Drawn(&mut self.msg_random)),
            ("MsgTimeStamp", KeyField::Given),
        ]
    }

    fn dedupe_key(&self) -> Option<u32> {
        self.msg_random
    }
}

/// `openim/admin_msgwithdraw`: recall a one-to-one message. A repeat answers 20023 "already recalled".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminMsgWithdrawRequest {
    /// The original sender.
    #[serde(rename = "From_Account")]
    pub from_account: UserId,
    /// The original recipient.
    #[serde(rename = "To_Account")]
    pub to_account: UserId,
    /// The message's key (from sendmsg, batchsendmsg, webhooks or history).
    #[serde(rename = "MsgKey")]
    pub msg_key: String,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Validate for AdminMsgWithdrawRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        if self.msg_key.is_empty() {
            c.fail("MsgKey", Problem::Empty);
        }
        c.max_bytes("MsgKey", Some(&self.msg_key), MAX_MSG_KEY_BYTES);
        c.finish()
    }
}

impl TypedRequest for AdminMsgWithdrawRequest {
    const COMMAND: CommandId = CommandId::AdminMsgWithdraw;
    type Response = EmptyResponse;
}

/// `openim/admin_getroammsg`: one-to-one history between two users, seen from `Operator_Account`.
/// Page with `LastMsgKey` and `MaxTime = LastMsgTime` while the answer's `Complete` is 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminGetRoamMsgRequest {
    /// Whose view of the conversation.
    #[serde(rename = "Operator_Account")]
    pub operator_account: UserId,
    /// The other party.
    #[serde(rename = "Peer_Account")]
    pub peer_account: UserId,
    /// The most messages to return.
    #[serde(rename = "MaxCnt")]
    pub max_cnt: u32,
    /// Earliest message time, UNIX seconds.
    #[serde(rename = "MinTime")]
    pub min_time: i64,
    /// Latest message time, UNIX seconds.
    #[serde(rename = "MaxTime")]
    pub max_time: i64,
    /// Continue after this message (from the previous page).
    #[serde(rename = "LastMsgKey", default, skip_serializing_if = "Option::is_none")]
    pub last_msg_key: Option<String>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Validate for AdminGetRoamMsgRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        if self.max_cnt == 0 {
            c.fail("MaxCnt", Problem::Rule("must be at least 1"));
        }
        if self.min_time > self.max_time {
            c.fail_value("MinTime", Problem::Rule("must not be after MaxTime"), &self.min_time.to_string());
        }
        c.max_bytes("LastMsgKey", self.last_msg_key.as_deref(), MAX_MSG_KEY_BYTES);
        c.finish()
    }
}

/// One message of a one-to-one history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoamMsg {
    /// Sender.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// Recipient.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// Sequence number.
    #[serde(rename = "MsgSeq")]
    pub msg_seq: u32,
    /// Random of the message.
    #[serde(rename = "MsgRandom")]
    pub msg_random: u32,
    /// Time, UNIX seconds.
    #[serde(rename = "MsgTimeStamp")]
    pub msg_time_stamp: i64,
    /// `0` normal, `8` recalled.
    #[serde(rename = "MsgFlagBits", default, skip_serializing_if = "Option::is_none")]
    pub msg_flag_bits: Option<u32>,
    /// `1` when the peer has read it.
    #[serde(rename = "IsPeerRead", default, skip_serializing_if = "Option::is_none")]
    pub is_peer_read: Option<u32>,
    /// Key of the message.
    #[serde(rename = "MsgKey")]
    pub msg_key: String,
    /// The message (may be empty for a recalled one).
    #[serde(rename = "MsgBody", default)]
    pub msg_body: Vec<MsgElement>,
    /// Custom data.
    #[serde(rename = "CloudCustomData", default, skip_serializing_if = "Option::is_none")]
    pub cloud_custom_data: Option<String>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What admin_getroammsg answers besides the envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdminGetRoamMsgResult {
    /// `1` everything in the range was returned, `0` ask again for the next page.
    #[serde(rename = "Complete", default, skip_serializing_if = "Option::is_none")]
    pub complete: Option<u32>,
    /// Messages in this page.
    #[serde(rename = "MsgCnt", default, skip_serializing_if = "Option::is_none")]
    pub msg_cnt: Option<u32>,
    /// Time of the last message of the page (the next page's `MaxTime`).
    #[serde(rename = "LastMsgTime", default, skip_serializing_if = "Option::is_none")]
    pub last_msg_time: Option<i64>,
    /// Key of the last message of the page (the next page's `LastMsgKey`).
    #[serde(rename = "LastMsgKey", default, skip_serializing_if = "Option::is_none")]
    pub last_msg_key: Option<String>,
    /// The messages.
    #[serde(rename = "MsgList", default, skip_serializing_if = "Option::is_none")]
    pub msg_list: Option<Vec<RoamMsg>>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for AdminGetRoamMsgRequest {
    const COMMAND: CommandId = CommandId::AdminGetRoamMsg;
    type Response = Response<AdminGetRoamMsgResult>;
}

#[cfg(test)]
mod tests {
    use super::*;

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
