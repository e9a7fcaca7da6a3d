//! Group messages: send_group_msg, send_group_system_notification, send_broadcast_msg, import_group_msg,
//! group_msg_recall and group_msg_get_simple (spec §3.4–3.7, §3.9 and the history API).

mod generated;

pub use generated::*;

use crate::Extra;
use crate::body::MsgBody;
use crate::control::{MAX_GROUP_AT, SendMsgControl};
use crate::elem::MsgElement;
use crate::error::{Problem, ValidationErrors};
use crate::group::{GroupType, GroupTypeRules, not_live};
use crate::ids::GroupId;
use crate::validate::{Checker, Sendable, check_message};
use serde::Deserialize;

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

impl SendGroupMsgRequest {
    /// The rules beyond each field's own: controls that `OnlineOnlyFlag` excludes, the @mentions, the body's
    /// elements and its size with `CloudCustomData`.
    fn rules(&self, c: &mut Checker) {
        if self.online_only_flag == Some(1)
            && (self.has_control(&SendMsgControl::NoUnread) || self.has_control(&SendMsgControl::NoLastMsg))
        {
            c.fail("SendMsgControl", Problem::Rule("cannot hold NoUnread or NoLastMsg when OnlineOnlyFlag is 1"));
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
        check_message(c, &self.msg_body, Sendable::All, self.cloud_custom_data.as_deref());
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

impl SendBroadcastMsgRequest {
    /// The rules beyond each field's own: the body's elements and its size with `CloudCustomData`.
    fn rules(&self, c: &mut Checker) {
        check_message(c, &self.msg_body, Sendable::All, self.cloud_custom_data.as_deref());
    }
}

impl ImportGroupMsgRequest {
    /// The rules beyond each field's own: send times in ascending order, and each body's elements (basic kinds
    /// only) and size.
    fn rules(&self, c: &mut Checker) {
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
                    check_message(c, &item.msg_body, Sendable::Basic, None);
                });
                previous = Some(item.send_time);
            }
        });
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

impl GroupTypeRules for GroupMsgRecallRequest {
    fn validate_for_group(&self, group_type: &GroupType) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        not_live(&mut c, group_type, "is a live group, whose messages cannot be recalled");
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
    use crate::envelope::Response;

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
