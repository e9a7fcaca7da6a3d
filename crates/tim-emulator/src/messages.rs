//! What the emulator stored, as Rust values: the C2C messages a user received and the messages of a group.
//!
//! These are read through [`Emulator::inbox`](crate::Emulator::inbox) and
//! [`Emulator::group_messages`](crate::Emulator::group_messages), without HTTP. A C2C message sent to many users
//! is stored once and shared: each recipient's inbox holds only its index.

use serde::Serialize;
use std::sync::Arc;
use tim_model::MsgBody;
use tim_model::c2c::C2cDelivery;
use tim_model::control::MsgPriority;

/// Which API stored a C2C message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum C2cOrigin {
    /// `openim/sendmsg`.
    SendMsg,
    /// `openim/batchsendmsg`.
    BatchSendMsg,
    /// `openim/importmsg`.
    ImportMsg,
}

/// One stored C2C message, shared by all its recipients.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct C2cMessage {
    /// The sender.
    pub from_account: Arc<str>,
    /// `MsgSeq`: the caller's, or one the emulator drew when absent.
    pub msg_seq: u32,
    /// `MsgRandom`.
    pub msg_random: u32,
    /// The message time, UNIX seconds.
    pub msg_time: i64,
    /// The message.
    pub msg_body: MsgBody,
    /// `CloudCustomData`, when sent.
    pub cloud_custom_data: Option<String>,
    /// The API that stored it.
    pub origin: C2cOrigin,
    /// What the service does with it besides delivering it to online devices, as the model derives it from the
    /// request (history, unread, conversation list, the sender's own copy). Every message appears in its
    /// recipients' inboxes, kept in the history or not: the emulator treats every user as online.
    pub delivery: C2cDelivery,
}

impl C2cMessage {
    /// `MsgKey`: `{MsgSeq}_{MsgRandom}_{MsgTime}`, as the service writes it.
    pub fn msg_key(&self) -> String {
        format!("{}_{}_{}", self.msg_seq, self.msg_random, self.msg_time)
    }
}

/// One message of a user's inbox.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Delivered {
    /// The message (shared with its other recipients).
    pub message: Arc<C2cMessage>,
    /// Whether `admin_msgwithdraw` recalled it for this recipient.
    pub recalled: bool,
}

/// One entry of a user's conversation list: the peer and the last message that updated it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Conversation {
    /// The other party.
    pub peer: Arc<str>,
    /// The newest message from the peer that updates the conversation list (not `NoLastMsg`, not online only).
    pub last: Arc<C2cMessage>,
}

/// Which API stored a group message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum GroupOrigin {
    /// `send_group_msg`.
    SendGroupMsg,
    /// `import_group_msg`.
    ImportGroupMsg,
    /// `send_broadcast_msg` (live groups).
    Broadcast,
}

/// One message of a group.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GroupMessage {
    /// The sender.
    pub from_account: Arc<str>,
    /// The group's sequence number, from 1.
    pub msg_seq: u64,
    /// `Random` of the request.
    pub msg_random: u32,
    /// The message time, UNIX seconds.
    pub msg_time: i64,
    /// The message.
    pub msg_body: MsgBody,
    /// `CloudCustomData`, when sent.
    pub cloud_custom_data: Option<String>,
    /// `MsgPriority`, when sent.
    pub msg_priority: Option<MsgPriority>,
    /// The API that stored it.
    pub origin: GroupOrigin,
    /// Whether `group_msg_recall` recalled it.
    pub recalled: bool,
    /// `OnlineOnlyFlag` 1: delivered to online members, absent from history.
    pub online_only: bool,
}

/// One group system notification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SystemNotification {
    /// The notification text.
    pub content: String,
    /// The members it went to.
    pub recipients: Vec<Arc<str>>,
    /// When, UNIX seconds.
    pub time: u64,
}

/// One all-member push (`im_push`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Push {
    /// The task id answered to the caller.
    pub task_id: String,
    /// The sender shown.
    pub from_account: Arc<str>,
    /// `MsgRandom`, the task's identity for 7 days.
    pub msg_random: u32,
    /// The message.
    pub msg_body: MsgBody,
    /// How many accounts it reached (all accounts without a condition; tags and attributes are not emulated, so
    /// none with one).
    pub recipients: u64,
    /// When, UNIX seconds.
    pub time: u64,
}
