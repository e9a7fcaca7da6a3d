//! Push to all users: im_push.

use super::common::offline_push_info;
use super::path::{self, body};
use super::{Collector, FromModel, IntoModel, non_empty};
use crate::pb;
use std::collections::{BTreeMap, HashMap};
use tim_model::envelope::Response;
use tim_model::push_all::{ImPushRequest, ImPushResult, PushCondition};
use tim_model::{Extra, ValidationErrors};

impl IntoModel for pb::ImPushRequest {
    type Model = ImPushRequest;

    fn into_model(self) -> Result<ImPushRequest, ValidationErrors> {
        let mut c = Collector::default();
        let from_account = c.optional_user("From_Account", self.from_account);
        let msg_body = c.body("MsgBody", self.msg_body);
        c.finish(|| {
            Some(ImPushRequest {
                from_account: from_account?,
                msg_random: self.msg_random,
                msg_body: msg_body?,
                msg_life_time: self.msg_life_time,
                offline_push_info: self.offline_push_info.map(offline_push_info),
                condition: self.condition.map(condition),
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::map(rest_path, &[body(&self.msg_body)])
    }
}

/// `Condition`: empty maps and lists are absent.
fn condition(condition: pb::PushCondition) -> PushCondition {
    PushCondition {
        attrs_or: attributes(condition.attrs_or),
        attrs_and: attributes(condition.attrs_and),
        tags_or: non_empty(condition.tags_or),
        tags_and: non_empty(condition.tags_and),
        extra: Extra::new(),
    }
}

/// An attribute map; empty means absent.
fn attributes(map: HashMap<String, String>) -> Option<BTreeMap<String, String>> {
    if map.is_empty() { None } else { Some(map.into_iter().collect()) }
}

impl FromModel<ImPushRequest> for pb::ImPushResponse {
    fn from_model(response: Response<ImPushResult>, dedupe_key: Option<u32>) -> Self {
        Self { task_id: response.body.task_id, msg_random: dedupe_key.unwrap_or(0) }
    }
}
