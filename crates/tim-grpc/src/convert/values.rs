//! The conversions of the shared value types that requests hold (`crates/tim-model/commands/values.toml`): each
//! takes the proto form of one field and records what is broken under `at`.

use super::Collector;
use crate::pb;
use tim_model::MsgBody;
use tim_model::control::{ForbidCallback, GroupAtInfo, MsgPriority, SendMsgControl};
use tim_model::push::OfflinePushInfo;

/// `MsgBody`: every element converts, the body is not empty and holds at most one custom element.
pub(super) fn msg_body(c: &mut Collector, at: &str, elements: Vec<pb::MsgElement>) -> Option<MsgBody> {
    c.body(at, elements)
}

/// `OfflinePushInfo` (nothing in it can be malformed in its proto form).
pub(super) fn offline_push_info(_c: &mut Collector, _at: &str, info: pb::OfflinePushInfo) -> Option<OfflinePushInfo> {
    Some(super::common::offline_push_info(info))
}

/// `ForbidCallbackControl`: names this version does not know are kept as they are.
pub(super) fn forbid_callbacks(_c: &mut Collector, _at: &str, names: Vec<String>) -> Option<Vec<ForbidCallback>> {
    Some(names.iter().map(|name| ForbidCallback::parse(name)).collect())
}

/// `SendMsgControl`: names this version does not know are kept as they are.
pub(super) fn send_msg_controls(_c: &mut Collector, _at: &str, names: Vec<String>) -> Option<Vec<SendMsgControl>> {
    Some(names.iter().map(|name| SendMsgControl::parse(name)).collect())
}

/// `MsgPriority`: a name this version does not know is kept as it is.
pub(super) fn msg_priority(_c: &mut Collector, _at: &str, name: String) -> Option<MsgPriority> {
    Some(MsgPriority::parse(&name))
}

/// `GroupAtInfo`: the @mentions.
pub(super) fn group_at_info(_c: &mut Collector, _at: &str, entries: Vec<pb::GroupAtInfo>) -> Option<Vec<GroupAtInfo>> {
    Some(
        entries
            .into_iter()
            .map(|entry| GroupAtInfo {
                group_at_all_flag: entry.group_at_all_flag,
                group_at_account: entry.group_at_account,
            })
            .collect(),
    )
}
