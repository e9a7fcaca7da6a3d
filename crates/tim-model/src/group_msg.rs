//! Group messages: send_group_msg, send_group_system_notification, send_broadcast_msg, import_group_msg,
//! group_msg_recall and group_msg_get_simple (spec §3.4–3.7, §3.9 and the history API).

use crate::Extra;
use crate::api::{KeyField, TypedRequest};
use crate::body::MsgBody;
use crate::command::CommandId;
use crate::control::{ForbidCallback, GroupAtInfo, MAX_GROUP_AT, MsgPriority, SendMsgControl};
use crate::elem::MsgElement;
use crate::envelope::{EmptyResponse, Response};
use crate::error::{Problem, ValidationErrors};
use crate::group::{GroupType, GroupTypeRules, not_live};
use crate::ids::{GroupId, UserId};
use crate::push::OfflinePushInfo;
use crate::validate::{Checker, Sendable, Validate, check_content_size, check_elements, check_push, check_switch};
use serde::{Deserialize, Serialize};

/// The most receivers of a targeted group message (`To_Account` of send_group_msg).
pub const MAX_TARGETED_RECEIVERS: usize = 50;
/// The most recipients of a group system notification.
pub const MAX_NOTIFICATION_RECIPIENTS: usize = 500;
/// The most messages import_group_msg takes in one call.
pub const MAX_IMPORT_GROUP_MSGS: usize = 7;
/// The most sequence numbers group_msg_recall takes in one call.
pub const MAX_RECALL_SEQS: usize = 10;
/// The longest recall `Reason`, in bytes.
pub const MAX_RECALL_REASON_BYTES: usize = 100;
/// The most messages group_msg_get_simple returns in one call.
pub const MAX_GROUP_HISTORY_PAGE: u32 = 20;

/// `group_open_http_svc/send_group_msg`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendGroupMsgRequest {
    /// The group.
    #[serde(rename = "GroupId")]
    pub group_id: GroupId,
    /// Deduplication key: the same content with the same `Random` within 5 minutes is dropped. Required on the
    /// wire; the transport pins one when absent.
    #[serde(rename = "Random", default, skip_serializing_if = "Option::is_none")]
    pub random: Option<u32>,
    /// `High`, `Normal` (default) or `Low`.
    #[serde(rename = "MsgPriority", default, skip_serializing_if = "Option::is_none")]
    pub msg_priority: Option<MsgPriority>,
    /// The message.
    #[serde(rename = "MsgBody")]
    pub msg_body: MsgBody,
    /// Sender (must exist); absent means the admin.
    #[serde(rename = "From_Account", default, skip_serializing_if = "Option::is_none")]
    pub from_account: Option<UserId>,
    /// Offline-push settings.
    #[serde(rename = "OfflinePushInfo", default, skip_serializing_if = "Option::is_none")]
    pub offline_push_info: Option<OfflinePushInfo>,
    /// Webhooks this message does not trigger.
    #[serde(rename = "ForbidCallbackControl", default, skip_serializing_if = "Option::is_none")]
    pub forbid_callback_control: Option<Vec<ForbidCallback>>,
    /// `1`: online members only, nothing stored; not for live groups.
    #[serde(rename = "OnlineOnlyFlag", default, skip_serializing_if = "Option::is_none")]
    pub online_only_flag: Option<u32>,
    /// Delivery controls (`NoLastMsg`, `NoUnread`); not with `OnlineOnlyFlag` 1.
    #[serde(rename = "SendMsgControl", default, skip_serializing_if = "Option::is_none")]
    pub send_msg_control: Option<Vec<SendMsgControl>>,
    /// Custom data.
    #[serde(rename = "CloudCustomData", default, skip_serializing_if = "Option::is_none")]
    pub cloud_custom_data: Option<String>,
    /// `1` allows message extensions.
    #[serde(rename = "SupportMessageExtension", default, skip_serializing_if = "Option::is_none")]
    pub support_message_extension: Option<u32>,
    /// Targeted receivers (at most 50; Work, Public and Meeting groups).
    #[serde(rename = "To_Account", default, skip_serializing_if = "Option::is_none")]
    pub to_account: Option<Vec<UserId>>,
    /// Topic of a community with topics.
    #[serde(rename = "TopicId", default, skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<String>,
    /// @mentions, at most 30.
    #[serde(rename = "GroupAtInfo", default, skip_serializing_if = "Option::is_none")]
    pub group_at_info: Option<Vec<GroupAtInfo>>,
    /// `1` asks for group read receipts.
    #[serde(rename = "NeedReadReceipt", default, skip_serializing_if = "Option::is_none")]
    pub need_read_receipt: Option<u32>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SendGroupMsgRequest {
    /// A message to `group` with every optional field absent.
    pub fn new(group: GroupId, body: MsgBody) -> Self {
        Self {
            group_id: group,
            random: None,
            msg_priority: None,
            msg_body: body,
            from_account: None,
            offline_push_info: None,
            forbid_callback_control: None,
            online_only_flag: None,
            send_msg_control: None,
            cloud_custom_data: None,
            support_message_extension: None,
            to_account: None,
            topic_id: None,
            group_at_info: None,
            need_read_receipt: None,
            extra: Extra::new(),
        }
    }

    fn has_control(&self, control: &SendMsgControl) -> bool {
        self.send_msg_control.as_ref().is_some_and(|controls| controls.contains(control))
    }
}

impl Validate for SendGroupMsgRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        c.required("Random", &self.random);
        check_switch(&mut c, "OnlineOnlyFlag", self.online_only_flag);
        check_push(&mut c, self.offline_push_info.as_ref());
        check_switch(&mut c, "SupportMessageExtension", self.support_message_extension);
        check_switch(&mut c, "NeedReadReceipt", self.need_read_receipt);
        if self.online_only_flag == Some(1)
            && (self.has_control(&SendMsgControl::NoUnread) || self.has_control(&SendMsgControl::NoLastMsg))
        {
            c.fail("SendMsgControl", Problem::Rule("cannot hold NoUnread or NoLastMsg when OnlineOnlyFlag is 1"));
        }
        if let Some(to) = &self.to_account {
            c.count("To_Account", to.len(), 1, MAX_TARGETED_RECEIVERS);
        }
        if let Some(at) = &self.group_at_info {
            c.count("GroupAtInfo", at.len(), 0, MAX_GROUP_AT);
            c.at("GroupAtInfo", |c| {
                for (i, entry) in at.iter().enumerate() {
                    c.one_of(&format!("[{i}].GroupAtAllFlag"), Some(entry.group_at_all_flag), &[0, 1], "0 or 1");
                    if entry.group_at_all_flag == 0 && entry.group_at_account.as_deref().is_none_or(str::is_empty) {
                        c.fail(&format!("[{i}].GroupAt_Account"), Problem::Missing);
                    }
                }
            });
        }
        check_elements(&mut c, "MsgBody", self.msg_body.elements(), Sendable::All);
        check_content_size(&mut c, &self.msg_body, self.cloud_custom_data.as_deref());
        c.finish()
    }
}

impl GroupTypeRules for SendGroupMsgRequest {
    fn validate_for_group(&self, group_type: &GroupType) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        if group_type.is_live() {
            if self.online_only_flag == Some(1) {
                c.fail("OnlineOnlyFlag", Problem::Rule("is not supported for a live group (AVChatRoom)"));
            }
            if self.has_control(&SendMsgControl::NoUnread) {
                c.fail("SendMsgControl", Problem::Rule("cannot hold NoUnread for a live group (AVChatRoom)"));
            }
            if self.group_at_info.as_ref().is_some_and(|at| at.iter().any(|entry| entry.group_at_all_flag == 1)) {
                c.fail("GroupAtInfo", Problem::Rule("cannot mention @all in a live group (AVChatRoom)"));
            }
        }
        if self.to_account.is_some() && !group_type.is_work_public_or_meeting() {
            c.fail_value(
                "To_Account",
                Problem::Rule("targeted messages are only for Work, Public and Meeting groups"),
                group_type.as_str(),
            );
        }
        if self.topic_id.is_some() && *group_type != GroupType::Community {
            c.fail("TopicId", Problem::Rule("is only for a Community with topics"));
        }
        c.finish()
    }
}

/// What send_group_msg answers besides the envelope. `ErrorCode` 0 with `MsgDropReason` `MsgFreqCtrl` means the
/// message was accepted but dropped by frequency control.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SendGroupMsgResult {
    /// Server time, UNIX seconds.
    #[serde(rename = "MsgTime", default, skip_serializing_if = "Option::is_none")]
    pub msg_time: Option<i64>,
    /// Sequence number in the group (the recall key), increasing from 1.
    #[serde(rename = "MsgSeq", default, skip_serializing_if = "Option::is_none")]
    pub msg_seq: Option<u64>,
    /// Empty, or why the message was dropped (`MsgFreqCtrl`).
    #[serde(rename = "MsgDropReason", default, skip_serializing_if = "Option::is_none")]
    pub msg_drop_reason: Option<String>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for SendGroupMsgRequest {
    const COMMAND: CommandId = CommandId::SendGroupMsg;
    type Response = Response<SendGroupMsgResult>;
    fn key_fields(&mut self) -> Vec<(&'static str, KeyField<'_>)> {
        vec![("Random", KeyField::Drawn(&mut self.random))]
    }

    fn dedupe_key(&self) -> Option<u32> {
        self.random
    }
}

/// `group_open_http_svc/send_group_system_notification`: not idempotent (no documented deduplication).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendGroupSystemNotificationRequest {
    /// The group.
    #[serde(rename = "GroupId")]
    pub group_id: GroupId,
    /// Recipients, at most 500; absent or empty means every member (the only choice for live groups).
    #[serde(rename = "ToMembers_Account", default, skip_serializing_if = "Option::is_none")]
    pub to_members_account: Option<Vec<UserId>>,
    /// The notification (a plain string, not a message body).
    #[serde(rename = "Content")]
    pub content: String,
    /// Topic of a community with topics.
    #[serde(rename = "TopicId", default, skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<String>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Validate for SendGroupSystemNotificationRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        if self.content.is_empty() {
            c.fail("Content", Problem::Empty);
        }
        if let Some(to) = &self.to_members_account {
            c.count("ToMembers_Account", to.len(), 0, MAX_NOTIFICATION_RECIPIENTS);
        }
        c.max_bytes("Content", Some(&self.content), crate::validate::MAX_MSG_BYTES);
        c.finish()
    }
}

impl GroupTypeRules for SendGroupSystemNotificationRequest {
    fn validate_for_group(&self, group_type: &GroupType) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        if group_type.is_live() && self.to_members_account.as_ref().is_some_and(|to| !to.is_empty()) {
            c.fail(
                "ToMembers_Account",
                Problem::Rule("must be absent for a live group (AVChatRoom): notifications go to all members"),
            );
        }
        if self.topic_id.is_some() && *group_type != GroupType::Community {
            c.fail("TopicId", Problem::Rule("is only for a Community with topics"));
        }
        c.finish()
    }
}

impl TypedRequest for SendGroupSystemNotificationRequest {
    const COMMAND: CommandId = CommandId::SendGroupSystemNotification;
    type Response = EmptyResponse;
}

/// `group_open_http_svc/send_broadcast_msg`: one message to every live group of the app (1 call a second).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendBroadcastMsgRequest {
    /// Sender (must exist).
    #[serde(rename = "From_Account", default, skip_serializing_if = "Option::is_none")]
    pub from_account: Option<UserId>,
    /// Deduplication key (5 minutes); the transport pins one when absent.
    #[serde(rename = "Random", default, skip_serializing_if = "Option::is_none")]
    pub random: Option<u32>,
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

impl Validate for SendBroadcastMsgRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        c.required("Random", &self.random);
        check_elements(&mut c, "MsgBody", self.msg_body.elements(), Sendable::All);
        check_content_size(&mut c, &self.msg_body, self.cloud_custom_data.as_deref());
        c.finish()
    }
}

/// What send_broadcast_msg answers besides the envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SendBroadcastMsgResult {
    /// Sequence number of the broadcast.
    #[serde(rename = "MsgSeq", default, skip_serializing_if = "Option::is_none")]
    pub msg_seq: Option<u64>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for SendBroadcastMsgRequest {
    const COMMAND: CommandId = CommandId::SendBroadcastMsg;
    type Response = Response<SendBroadcastMsgResult>;
    fn key_fields(&mut self) -> Vec<(&'static str, KeyField<'_>)> {
        vec![("Random", KeyField::Drawn(&mut self.random))]
    }

    fn dedupe_key(&self) -> Option<u32> {
        self.random
    }
}

/// One message of import_group_msg.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportGroupMsgItem {
    /// Sender.
    #[serde(rename = "From_Account")]
    pub from_account: UserId,
    /// Send time, UNIX seconds: ascending, after the group's creation and its latest message, before now.
    #[serde(rename = "SendTime")]
    pub send_time: i64,
    /// Deduplication key (5 minutes); the transport pins one when absent.
    #[serde(rename = "Random", default, skip_serializing_if = "Option::is_none")]
    pub random: Option<u32>,
    /// The message: Text, Face, Location and Custom elements only.
    #[serde(rename = "MsgBody")]
    pub msg_body: MsgBody,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `group_open_http_svc/import_group_msg`: 1..=7 past messages into a group; not for live groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportGroupMsgRequest {
    /// The group.
    #[serde(rename = "GroupId")]
    pub group_id: GroupId,
    /// `1` updates the members' conversation lists (not for live groups or communities).
    #[serde(rename = "RecentContactFlag", default, skip_serializing_if = "Option::is_none")]
    pub recent_contact_flag: Option<u32>,
    /// The messages, in ascending `SendTime`.
    #[serde(rename = "MsgList")]
    pub msg_list: Vec<ImportGroupMsgItem>,
    /// Topic of a community with topics.
    #[serde(rename = "TopicId", default, skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<String>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Validate for ImportGroupMsgRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        check_switch(&mut c, "RecentContactFlag", self.recent_contact_flag);
        c.count("MsgList", self.msg_list.len(), 1, MAX_IMPORT_GROUP_MSGS);
        c.at("MsgList", |c| {
            let mut previous: Option<i64> = None;
            for (i, item) in self.msg_list.iter().enumerate() {
                c.at(&format!("[{i}]"), |c| {
                    if previous.is_some_and(|p| item.send_time < p) {
                        c.fail_value(
                            "SendTime",
                            Problem::Rule("must not be earlier than the previous message's"),
                            &item.send_time.to_string(),
                        );
                    }
                    check_elements(c, "MsgBody", item.msg_body.elements(), Sendable::Basic);
                    check_content_size(c, &item.msg_body, None);
                });
                previous = Some(item.send_time);
            }
        });
        c.finish()
    }
}

impl GroupTypeRules for ImportGroupMsgRequest {
    fn validate_for_group(&self, group_type: &GroupType) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        not_live(&mut c, group_type, "is a live group, which has no history to import into");
        if self.recent_contact_flag == Some(1) && *group_type == GroupType::Community {
            c.fail("RecentContactFlag", Problem::Rule("is not supported for a Community"));
        }
        c.finish()
    }
}

/// The outcome for one imported message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportMsgResult {
    /// Sequence number given to the message.
    #[serde(rename = "MsgSeq")]
    pub msg_seq: u64,
    /// Its time.
    #[serde(rename = "MsgTime")]
    pub msg_time: i64,
    /// `0` imported, `10004` invalid send time, `80002` too long.
    #[serde(rename = "Result")]
    pub result: i64,
}

/// What import_group_msg answers besides the envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportGroupMsgResult {
    /// One outcome per message.
    #[serde(rename = "ImportMsgResult", default, skip_serializing_if = "Option::is_none")]
    pub import_msg_result: Option<Vec<ImportMsgResult>>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for ImportGroupMsgRequest {
    const COMMAND: CommandId = CommandId::ImportGroupMsg;
    type Response = Response<ImportGroupMsgResult>;
    fn key_fields(&mut self) -> Vec<(&'static str, KeyField<'_>)> {
        self.msg_list.iter_mut().map(|item| ("MsgList[].Random", KeyField::Drawn(&mut item.random))).collect()
    }
}

/// One sequence number to recall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MsgSeqItem {
    /// The message's sequence number in the group.
    #[serde(rename = "MsgSeq")]
    pub msg_seq: u64,
}

/// `group_open_http_svc/group_msg_recall`: 1..=10 messages; not for live groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMsgRecallRequest {
    /// The group.
    #[serde(rename = "GroupId")]
    pub group_id: GroupId,
    /// The messages.
    #[serde(rename = "MsgSeqList")]
    pub msg_seq_list: Vec<MsgSeqItem>,
    /// Topic of a community with topics.
    #[serde(rename = "TopicId", default, skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<String>,
    /// Reason, at most 100 bytes.
    #[serde(rename = "Reason", default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Validate for GroupMsgRecallRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        c.count("MsgSeqList", self.msg_seq_list.len(), 1, MAX_RECALL_SEQS);
        c.max_bytes("Reason", self.reason.as_deref(), MAX_RECALL_REASON_BYTES);
        c.finish()
    }
}

impl GroupTypeRules for GroupMsgRecallRequest {
    fn validate_for_group(&self, group_type: &GroupType) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        not_live(&mut c, group_type, "is a live group, whose messages cannot be recalled");
        c.finish()
    }
}

/// The outcome for one recalled sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallRet {
    /// The sequence number.
    #[serde(rename = "MsgSeq")]
    pub msg_seq: u64,
    /// `0` recalled; otherwise a code such as 10030 (not found).
    #[serde(rename = "RetCode")]
    pub ret_code: i64,
}

/// What group_msg_recall answers besides the envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupMsgRecallResult {
    /// One outcome per sequence number.
    #[serde(rename = "RecallRetList", default, skip_serializing_if = "Option::is_none")]
    pub recall_ret_list: Option<Vec<RecallRet>>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for GroupMsgRecallRequest {
    const COMMAND: CommandId = CommandId::GroupMsgRecall;
    type Response = Response<GroupMsgRecallResult>;
}

/// `group_open_http_svc/group_msg_get_simple`: group history, newest first, at most 20 a call; not for live
/// groups. Leave `ReqMsgSeq` out for the newest; then ask from the smallest returned `MsgSeq` minus one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMsgGetSimpleRequest {
    /// The group.
    #[serde(rename = "GroupId")]
    pub group_id: GroupId,
    /// How many messages, 1..=20.
    #[serde(rename = "ReqMsgNumber")]
    pub req_msg_number: u32,
    /// Return messages with sequence numbers up to this one.
    #[serde(rename = "ReqMsgSeq", default, skip_serializing_if = "Option::is_none")]
    pub req_msg_seq: Option<u64>,
    /// `1` includes recalled messages.
    #[serde(rename = "WithRecalledMsg", default, skip_serializing_if = "Option::is_none")]
    pub with_recalled_msg: Option<u32>,
    /// Topic of a community with topics.
    #[serde(rename = "TopicId", default, skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<String>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Validate for GroupMsgGetSimpleRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        c.range("ReqMsgNumber", Some(i128::from(self.req_msg_number)), 1, i128::from(MAX_GROUP_HISTORY_PAGE));
        check_switch(&mut c, "WithRecalledMsg", self.with_recalled_msg);
        c.finish()
    }
}

impl GroupTypeRules for GroupMsgGetSimpleRequest {
    fn validate_for_group(&self, group_type: &GroupType) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        not_live(&mut c, group_type, "is a live group, which keeps no history");
        c.finish()
    }
}

/// One message of a group history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupHistoryMsg {
    /// Sender.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `0` normal, `1` deleted or expired (empty body), `2` recalled.
    #[serde(rename = "IsPlaceMsg", default, skip_serializing_if = "Option::is_none")]
    pub is_place_msg: Option<u32>,
    /// The message. Some messages (group system messages among them) come with `MsgBody` as one element object
    /// instead of an array; it is read as a one-element body rather than failing the whole answer.
    #[serde(rename = "MsgBody", default, deserialize_with = "one_or_many")]
    pub msg_body: Vec<MsgElement>,
    /// Priority, 1 (high) to 4 (lowest).
    #[serde(rename = "MsgPriority", default, skip_serializing_if = "Option::is_none")]
    pub msg_priority: Option<u32>,
    /// Random of the message.
    #[serde(rename = "MsgRandom")]
    pub msg_random: u32,
    /// Sequence number.
    #[serde(rename = "MsgSeq")]
    pub msg_seq: u64,
    /// Time, UNIX seconds.
    #[serde(rename = "MsgTimeStamp")]
    pub msg_time_stamp: i64,
    /// `1` for a system message.
    #[serde(rename = "IsSystemMsg", default, skip_serializing_if = "Option::is_none")]
    pub is_system_msg: Option<u32>,
    /// Custom data.
    #[serde(rename = "CloudCustomData", default, skip_serializing_if = "Option::is_none")]
    pub cloud_custom_data: Option<String>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What group_msg_get_simple answers besides the envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupMsgGetSimpleResult {
    /// The group.
    #[serde(rename = "GroupId", default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// `1` the whole range was returned; `0` cut off; `2` cut off and the rest expired.
    #[serde(rename = "IsFinished", default, skip_serializing_if = "Option::is_none")]
    pub is_finished: Option<u32>,
    /// The messages, newest first.
    #[serde(rename = "RspMsgList", default, skip_serializing_if = "Option::is_none")]
    pub rsp_msg_list: Option<Vec<GroupHistoryMsg>>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for GroupMsgGetSimpleRequest {
    const COMMAND: CommandId = CommandId::GroupMsgGetSimple;
    type Response = Response<GroupMsgGetSimpleResult>;
}

/// An element array, or one element object on its own.
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<MsgElement>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<MsgElement>),
        One(Box<MsgElement>),
        Nothing(()),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::Many(elements) => elements,
        OneOrMany::One(element) => vec![*element],
        OneOrMany::Nothing(()) => Vec::new(),
    })
}

#[cfg(test)]
mod body_shapes {
    use super::*;

    #[test]
    fn a_history_message_whose_body_is_one_object_decodes_as_one_element() {
        let text = r#"{"MsgType":"TIMTextElem","MsgContent":{"Text":"joined"}}"#;
        let page = format!(
            r#"{{"ActionStatus":"OK","ErrorCode":0,"GroupId":"@TGS#1","IsFinished":1,"RspMsgList":[
                {{"From_Account":"a","MsgSeq":1,"MsgRandom":2,"MsgTimeStamp":3,"MsgBody":{text}}},
                {{"From_Account":"b","MsgSeq":2,"MsgRandom":3,"MsgTimeStamp":4,"MsgBody":[{text},{text}]}},
                {{"From_Account":"c","MsgSeq":3,"MsgRandom":4,"MsgTimeStamp":5}}]}}"#
        );
        let answer: Response<GroupMsgGetSimpleResult> = crate::api::decode(page.as_bytes()).unwrap();
        let bodies: Vec<usize> = answer.body.rsp_msg_list.unwrap().iter().map(|m| m.msg_body.len()).collect();
        assert_eq!(bodies, [1, 2, 0]);
    }
}
