//! Push to all users, by tag or by attribute: im_push (spec §3.10).

use crate::Extra;
use crate::api::{KeyField, TypedRequest};
use crate::body::MsgBody;
use crate::command::CommandId;
use crate::envelope::Response;
use crate::error::{Problem, ValidationErrors};
use crate::ids::UserId;
use crate::push::OfflinePushInfo;
use crate::validate::{Checker, Sendable, Validate, check_content_size, check_elements, check_life_time, check_push};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most tags in `TagsOr` or in `TagsAnd`.
pub const MAX_TAGS: usize = 10;
/// The longest tag, in bytes.
pub const MAX_TAG_BYTES: usize = 50;

/// Who receives an im_push: by tags or by attributes (not both); absent means every user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PushCondition {
    /// Users having any of these attribute values.
    #[serde(rename = "AttrsOr", default, skip_serializing_if = "Option::is_none")]
    pub attrs_or: Option<BTreeMap<String, String>>,
    /// Users having all of these attribute values.
    #[serde(rename = "AttrsAnd", default, skip_serializing_if = "Option::is_none")]
    pub attrs_and: Option<BTreeMap<String, String>>,
    /// Users having any of these tags (at most 10).
    #[serde(rename = "TagsOr", default, skip_serializing_if = "Option::is_none")]
    pub tags_or: Option<Vec<String>>,
    /// Users having all of these tags (at most 10).
    #[serde(rename = "TagsAnd", default, skip_serializing_if = "Option::is_none")]
    pub tags_and: Option<Vec<String>>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `all_member_push/im_push`. `MsgRandom` identifies the push task for 7 days: a retry with the same value is
/// safe. Default quota: 100 a day, more than a second apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImPushRequest {
    /// Sender shown; absent means the admin.
    #[serde(rename = "From_Account", default, skip_serializing_if = "Option::is_none")]
    pub from_account: Option<UserId>,
    /// Task identity, unique for 7 days (the transport pins one when absent).
    #[serde(rename = "MsgRandom", default, skip_serializing_if = "Option::is_none")]
    pub msg_random: Option<u32>,
    /// The message.
    #[serde(rename = "MsgBody")]
    pub msg_body: MsgBody,
    /// Seconds kept for offline users, 0..=604800; default 0 (online users only).
    #[serde(rename = "MsgLifeTime", default, skip_serializing_if = "Option::is_none")]
    pub msg_life_time: Option<u32>,
    /// Offline-push settings.
    #[serde(rename = "OfflinePushInfo", default, skip_serializing_if = "Option::is_none")]
    pub offline_push_info: Option<OfflinePushInfo>,
    /// Who receives it; absent means every user.
    #[serde(rename = "Condition", default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<PushCondition>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Validate for ImPushRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        c.required("MsgRandom", &self.msg_random);
        check_life_time(&mut c, self.msg_life_time);
        check_push(&mut c, self.offline_push_info.as_ref());
        check_elements(&mut c, "MsgBody", self.msg_body.elements(), Sendable::All);
        check_content_size(&mut c, &self.msg_body, None);
        if let Some(condition) = &self.condition {
            c.at("Condition", |c| check_condition(c, condition));
        }
        c.finish()
    }
}

fn check_condition(c: &mut Checker, condition: &PushCondition) {
    let has_tags = condition.tags_or.is_some() || condition.tags_and.is_some();
    let has_attrs = condition.attrs_or.is_some() || condition.attrs_and.is_some();
    if has_tags && has_attrs {
        c.fail("", Problem::Rule("cannot hold both tag and attribute conditions"));
    }
    for (field, tags) in [("TagsOr", &condition.tags_or), ("TagsAnd", &condition.tags_and)] {
        let Some(tags) = tags else { continue };
        c.count(field, tags.len(), 0, MAX_TAGS);
        c.at(field, |c| {
            for (i, tag) in tags.iter().enumerate() {
                if tag.is_empty() {
                    c.fail(&format!("[{i}]"), Problem::Empty);
                }
                c.max_bytes(&format!("[{i}]"), Some(tag), MAX_TAG_BYTES);
            }
        });
    }
    if let (Some(or), Some(and)) = (&condition.tags_or, &condition.tags_and)
        && let Some(shared) = or.iter().find(|tag| and.contains(tag))
    {
        c.fail_value("TagsAnd", Problem::Rule("repeats a tag of TagsOr"), shared);
    }
}

/// What im_push answers besides the envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImPushResult {
    /// The push task's id.
    #[serde(rename = "TaskId", default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for ImPushRequest {
    const COMMAND: CommandId = CommandId::ImPush;
    type Response = Response<ImPushResult>;
    fn key_fields(&mut self) -> Vec<(&'static str, KeyField<'_>)> {
        vec![("MsgRandom", KeyField::Drawn(&mut self.msg_random))]
    }

    fn dedupe_key(&self) -> Option<u32> {
        self.msg_random
    }
}
