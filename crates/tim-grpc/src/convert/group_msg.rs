//! Group messages: send_group_msg, send_group_system_notification, send_broadcast_msg, import_group_msg,
//! group_msg_recall and group_msg_get_simple.

use super::common::{group_at_info, offline_push_info};
use super::elem::elements_to_pb;
use super::path::{self, Field, body};
use super::{Collector, FromModel, IntoModel, non_empty, parse_all};
use crate::pb;
use tim_model::control::{ForbidCallback, MsgPriority, SendMsgControl};
use tim_model::envelope::{EmptyResponse, Response};
use tim_model::group_msg::{
    GroupMsgGetSimpleRequest, GroupMsgGetSimpleResult, GroupMsgRecallRequest, GroupMsgRecallResult, ImportGroupMsgItem,
    ImportGroupMsgRequest, ImportGroupMsgResult, MsgSeqItem, SendBroadcastMsgRequest, SendBroadcastMsgResult,
    SendGroupMsgRequest, SendGroupMsgResult, SendGroupSystemNotificationRequest,
};
use tim_model::{Extra, ValidationErrors};

impl IntoModel for pb::SendGroupMsgRequest {
    type Model = SendGroupMsgRequest;

    fn into_model(self) -> Result<SendGroupMsgRequest, ValidationErrors> {
        let mut c = Collector::default();
        let group_id = c.group("GroupId", self.group_id);
        let msg_body = c.body("MsgBody", self.msg_body);
        let from_account = c.optional_user("From_Account", self.from_account);
        let to_account = c.users("To_Account", self.to_account);
        c.finish(|| {
            Some(SendGroupMsgRequest {
                group_id: group_id?,
                random: self.random,
                msg_priority: self.msg_priority.as_deref().map(MsgPriority::parse),
                msg_body: msg_body?,
                from_account: from_account?,
                offline_push_info: self.offline_push_info.map(offline_push_info),
                forbid_callback_control: parse_all(self.forbid_callback_control, ForbidCallback::parse),
                online_only_flag: self.online_only_flag,
                send_msg_control: parse_all(self.send_msg_control, SendMsgControl::parse),
                cloud_custom_data: self.cloud_custom_data,
                support_message_extension: self.support_message_extension,
                to_account: non_empty(to_account?),
                topic_id: self.topic_id,
                group_at_info: group_at_info(self.group_at_info),
                need_read_receipt: self.need_read_receipt,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::map(rest_path, &[body(&self.msg_body)])
    }
}

impl FromModel<SendGroupMsgRequest> for pb::SendGroupMsgResponse {
    fn from_model(response: Response<SendGroupMsgResult>, dedupe_key: Option<u32>) -> Self {
        Self {
            msg_time: response.body.msg_time,
            msg_seq: response.body.msg_seq,
            msg_drop_reason: response.body.msg_drop_reason,
            random: dedupe_key.unwrap_or(0),
        }
    }
}

impl IntoModel for pb::SendGroupSystemNotificationRequest {
    type Model = SendGroupSystemNotificationRequest;

    fn into_model(self) -> Result<SendGroupSystemNotificationRequest, ValidationErrors> {
        let mut c = Collector::default();
        let group_id = c.group("GroupId", self.group_id);
        let to_members_account = c.users("ToMembers_Account", self.to_members_account);
        c.finish(|| {
            Some(SendGroupSystemNotificationRequest {
                group_id: group_id?,
                to_members_account: non_empty(to_members_account?),
                content: self.content,
                topic_id: self.topic_id,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::plain(rest_path)
    }
}

impl FromModel<SendGroupSystemNotificationRequest> for pb::SendGroupSystemNotificationResponse {
    fn from_model(_response: EmptyResponse, _dedupe_key: Option<u32>) -> Self {
        Self {}
    }
}

impl IntoModel for pb::SendBroadcastMsgRequest {
    type Model = SendBroadcastMsgRequest;

    fn into_model(self) -> Result<SendBroadcastMsgRequest, ValidationErrors> {
        let mut c = Collector::default();
        let from_account = c.optional_user("From_Account", self.from_account);
        let msg_body = c.body("MsgBody", self.msg_body);
        c.finish(|| {
            Some(SendBroadcastMsgRequest {
                from_account: from_account?,
                random: self.random,
                msg_body: msg_body?,
                cloud_custom_data: self.cloud_custom_data,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::map(rest_path, &[body(&self.msg_body)])
    }
}

impl FromModel<SendBroadcastMsgRequest> for pb::SendBroadcastMsgResponse {
    fn from_model(response: Response<SendBroadcastMsgResult>, dedupe_key: Option<u32>) -> Self {
        Self { msg_seq: response.body.msg_seq, random: dedupe_key.unwrap_or(0) }
    }
}

impl IntoModel for pb::ImportGroupMsgRequest {
    type Model = ImportGroupMsgRequest;

    fn into_model(self) -> Result<ImportGroupMsgRequest, ValidationErrors> {
        let mut c = Collector::default();
        let group_id = c.group("GroupId", self.group_id);
        let msg_list: Vec<Option<ImportGroupMsgItem>> = self
            .msg_list
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let from_account = c.user(&format!("MsgList[{i}].From_Account"), item.from_account);
                let msg_body = c.body(&format!("MsgList[{i}].MsgBody"), item.msg_body);
                Some(ImportGroupMsgItem {
                    from_account: from_account?,
                    send_time: item.send_time,
                    random: item.random,
                    msg_body: msg_body?,
                    extra: Extra::new(),
                })
            })
            .collect();
        c.finish(|| {
            Some(ImportGroupMsgRequest {
                group_id: group_id?,
                recent_contact_flag: self.recent_contact_flag,
                msg_list: msg_list.into_iter().collect::<Option<Vec<_>>>()?,
                topic_id: self.topic_id,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        let bodies = self.msg_list.iter().map(|item| item.msg_body.as_slice()).collect();
        path::map(rest_path, &[Field::Items { rest: "MsgList", proto: "msg_list", bodies }])
    }
}

impl FromModel<ImportGroupMsgRequest> for pb::ImportGroupMsgResponse {
    fn from_model(response: Response<ImportGroupMsgResult>, _dedupe_key: Option<u32>) -> Self {
        Self {
            import_msg_result: response
                .body
                .import_msg_result
                .unwrap_or_default()
                .into_iter()
                .map(|result| pb::ImportMsgResult {
                    msg_seq: result.msg_seq,
                    msg_time: result.msg_time,
                    result: result.result,
                })
                .collect(),
        }
    }
}

impl IntoModel for pb::GroupMsgRecallRequest {
    type Model = GroupMsgRecallRequest;

    fn into_model(self) -> Result<GroupMsgRecallRequest, ValidationErrors> {
        let mut c = Collector::default();
        let group_id = c.group("GroupId", self.group_id);
        c.finish(|| {
            Some(GroupMsgRecallRequest {
                group_id: group_id?,
                msg_seq_list: self.msg_seq_list.into_iter().map(|msg_seq| MsgSeqItem { msg_seq }).collect(),
                topic_id: self.topic_id,
                reason: self.reason,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::map(rest_path, &[Field::Flat { rest: "MsgSeqList", inner: "MsgSeq", proto: "msg_seq_list" }])
    }
}

impl FromModel<GroupMsgRecallRequest> for pb::GroupMsgRecallResponse {
    fn from_model(response: Response<GroupMsgRecallResult>, _dedupe_key: Option<u32>) -> Self {
        Self {
            recall_ret_list: response
                .body
                .recall_ret_list
                .unwrap_or_default()
                .into_iter()
                .map(|ret| pb::RecallRet { msg_seq: ret.msg_seq, ret_code: ret.ret_code })
                .collect(),
        }
    }
}

impl IntoModel for pb::GroupMsgGetSimpleRequest {
    type Model = GroupMsgGetSimpleRequest;

    fn into_model(self) -> Result<GroupMsgGetSimpleRequest, ValidationErrors> {
        let mut c = Collector::default();
        let group_id = c.group("GroupId", self.group_id);
        c.finish(|| {
            Some(GroupMsgGetSimpleRequest {
                group_id: group_id?,
                req_msg_number: self.req_msg_number,
                req_msg_seq: self.req_msg_seq,
                with_recalled_msg: self.with_recalled_msg,
                topic_id: self.topic_id,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::plain(rest_path)
    }
}

impl FromModel<GroupMsgGetSimpleRequest> for pb::GroupMsgGetSimpleResponse {
    fn from_model(response: Response<GroupMsgGetSimpleResult>, _dedupe_key: Option<u32>) -> Self {
        let body = response.body;
        Self {
            group_id: body.group_id,
            is_finished: body.is_finished,
            rsp_msg_list: body
                .rsp_msg_list
                .unwrap_or_default()
                .into_iter()
                .map(|message| pb::GroupHistoryMsg {
                    from_account: message.from_account,
                    is_place_msg: message.is_place_msg,
                    msg_body: elements_to_pb(message.msg_body),
                    msg_priority: message.msg_priority,
                    msg_random: message.msg_random,
                    msg_seq: message.msg_seq,
                    msg_time_stamp: message.msg_time_stamp,
                    is_system_msg: message.is_system_msg,
                    cloud_custom_data: message.cloud_custom_data,
                })
                .collect(),
        }
    }
}
