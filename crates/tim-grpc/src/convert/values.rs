//! The conversions of the shared value types that requests hold (`crates/tim-model/commands/values.toml`): each
//! takes the proto form of one field and records what is broken under `at`.

use super::Collector;
use crate::pb;
use tim_model::control::{ForbidCallback, GroupAtInfo, MsgPriority, SendMsgControl};
use tim_model::group::{GroupType, KeyValue};
use tim_model::push::OfflinePushInfo;
use tim_model::{MsgBody, Problem, SnsValue};

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

/// A group type: required (an empty string is a missing type); a name this version does not know is kept.
pub(super) fn group_type(c: &mut Collector, at: &str, name: String) -> Option<GroupType> {
    if name.is_empty() {
        c.fail(at, Problem::Missing);
        return None;
    }
    Some(GroupType::parse(&name))
}

/// A group type as this API carries it.
pub(super) fn group_type_to_pb(group_type: GroupType) -> String {
    group_type.as_str().to_owned()
}

/// Custom key/value pairs.
pub(super) fn key_values(_c: &mut Collector, _at: &str, pairs: Vec<pb::KeyValue>) -> Option<Vec<KeyValue>> {
    Some(pairs.into_iter().map(|pair| KeyValue { key: pair.key, value: pair.value }).collect())
}

/// Custom key/value pairs as this API carries them.
pub(super) fn key_values_to_pb(pairs: Vec<KeyValue>) -> Vec<pb::KeyValue> {
    pairs.into_iter().map(|pair| pb::KeyValue { key: pair.key, value: pair.value }).collect()
}

/// A relationship field's value: one of its kinds must be set.
pub(super) fn sns_value(c: &mut Collector, at: &str, value: pb::SnsValue) -> Option<SnsValue> {
    match value.kind {
        Some(pb::sns_value::Kind::Text(text)) => Some(SnsValue::Text(text)),
        Some(pb::sns_value::Kind::Number(number)) => Some(SnsValue::Number(number)),
        Some(pb::sns_value::Kind::List(list)) => Some(SnsValue::List(list.values)),
        None => {
            c.fail(at, Problem::Missing);
            None
        }
    }
}

/// A relationship field's value as this API carries it.
pub(super) fn sns_value_to_pb(value: SnsValue) -> pb::SnsValue {
    let kind = match value {
        SnsValue::Text(text) => pb::sns_value::Kind::Text(text),
        SnsValue::Number(number) => pb::sns_value::Kind::Number(number),
        SnsValue::List(values) => pb::sns_value::Kind::List(pb::StringList { values }),
    };
    pb::SnsValue { kind: Some(kind) }
}
