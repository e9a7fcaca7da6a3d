//! One-to-one messages: sendmsg, batchsendmsg, importmsg, admin_msgwithdraw and admin_getroammsg.

use super::common::offline_push_info;
use super::elem::elements_to_pb;
use super::path::{self, body};
use super::{Collector, FromModel, IntoModel, parse_all};
use crate::pb;
use tim_model::c2c::{
    AdminGetRoamMsgRequest, AdminGetRoamMsgResult, AdminMsgWithdrawRequest, BatchSendMsgRequest, BatchSendMsgResult,
    ImportMsgRequest, SendMsgRequest, SendMsgResult,
};
use tim_model::control::{ForbidCallback, SendMsgControl};
use tim_model::envelope::{EmptyResponse, Response};
use tim_model::{Extra, ValidationErrors};

impl IntoModel for pb::SendMsgRequest {
    type Model = SendMsgRequest;

    fn into_model(self) -> Result<SendMsgRequest, ValidationErrors> {
        let mut c = Collector::default();
        let from_account = c.optional_user("From_Account", self.from_account);
        let to_account = c.user("To_Account", self.to_account);
        let msg_body = c.body("MsgBody", self.msg_body);
        c.finish(|| {
            Some(SendMsgRequest {
                sync_other_machine: self.sync_other_machine,
                from_account: from_account?,
                to_account: to_account?,
                msg_life_time: self.msg_life_time,
                msg_seq: self.msg_seq,
                msg_random: self.msg_random,
                msg_time_stamp: self.msg_time_stamp,
                online_only_flag: self.online_only_flag,
                forbid_callback_control: parse_all(self.forbid_callback_control, ForbidCallback::parse),
                send_msg_control: parse_all(self.send_msg_control, SendMsgControl::parse),
                msg_body: msg_body?,
                cloud_custom_data: self.cloud_custom_data,
                support_message_extension: self.support_message_extension,
                offline_push_info: self.offline_push_info.map(offline_push_info),
                is_need_read_receipt: self.is_need_read_receipt,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::map(rest_path, &[body(&self.msg_body)])
    }
}

impl FromModel<SendMsgRequest> for pb::SendMsgResponse {
    fn from_model(response: Response<SendMsgResult>, dedupe_key: Option<u32>) -> Self {
        Self {
            msg_time: response.body.msg_time,
            msg_key: response.body.msg_key,
            msg_random: dedupe_key.unwrap_or(0),
            msg_id: response.body.msg_id,
        }
    }
}

impl IntoModel for pb::BatchSendMsgRequest {
    type Model = BatchSendMsgRequest;

    fn into_model(self) -> Result<BatchSendMsgRequest, ValidationErrors> {
        let mut c = Collector::default();
        let from_account = c.optional_user("From_Account", self.from_account);
        let to_account = c.users("To_Account", self.to_account);
        let msg_body = c.body("MsgBody", self.msg_body);
        c.finish(|| {
            Some(BatchSendMsgRequest {
                sync_other_machine: self.sync_other_machine,
                from_account: from_account?,
                to_account: to_account?,
                msg_seq: self.msg_seq,
                msg_random: self.msg_random,
                msg_body: msg_body?,
                msg_life_time: self.msg_life_time,
                online_only_flag: self.online_only_flag,
                cloud_custom_data: self.cloud_custom_data,
                send_msg_control: parse_all(self.send_msg_control, SendMsgControl::parse),
                offline_push_info: self.offline_push_info.map(offline_push_info),
                is_need_read_receipt: self.is_need_read_receipt,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::map(rest_path, &[body(&self.msg_body)])
    }
}

impl FromModel<BatchSendMsgRequest> for pb::BatchSendMsgResponse {
    fn from_model(response: Response<BatchSendMsgResult>, dedupe_key: Option<u32>) -> Self {
        Self {
            msg_key: response.body.msg_key,
            msg_id: response.body.msg_id,
            error_list: response
                .body
                .error_list
                .unwrap_or_default()
                .into_iter()
                .map(|error| pb::RecipientError { to_account: error.to_account, error_code: error.error_code })
                .collect(),
            msg_random: dedupe_key.unwrap_or(0),
        }
    }
}

impl IntoModel for pb::ImportMsgRequest {
    type Model = ImportMsgRequest;

    fn into_model(self) -> Result<ImportMsgRequest, ValidationErrors> {
        let mut c = Collector::default();
        let from_account = c.user("From_Account", self.from_account);
        let to_account = c.user("To_Account", self.to_account);
        let msg_body = c.body("MsgBody", self.msg_body);
        c.finish(|| {
            Some(ImportMsgRequest {
                sync_from_old_system: self.sync_from_old_system,
                from_account: from_account?,
                to_account: to_account?,
                msg_seq: self.msg_seq,
                msg_random: self.msg_random,
                msg_time_stamp: self.msg_time_stamp,
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

impl FromModel<ImportMsgRequest> for pb::ImportMsgResponse {
    fn from_model(_response: EmptyResponse, _dedupe_key: Option<u32>) -> Self {
        Self {}
    }
}

impl IntoModel for pb::AdminMsgWithdrawRequest {
    type Model = AdminMsgWithdrawRequest;

    fn into_model(self) -> Result<AdminMsgWithdrawRequest, ValidationErrors> {
        let mut c = Collector::default();
        let from_account = c.user("From_Account", self.from_account);
        let to_account = c.user("To_Account", self.to_account);
        c.finish(|| {
            Some(AdminMsgWithdrawRequest {
                from_account: from_account?,
                to_account: to_account?,
                msg_key: self.msg_key,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::plain(rest_path)
    }
}

impl FromModel<AdminMsgWithdrawRequest> for pb::AdminMsgWithdrawResponse {
    fn from_model(_response: EmptyResponse, _dedupe_key: Option<u32>) -> Self {
        Self {}
    }
}

impl IntoModel for pb::AdminGetRoamMsgRequest {
    type Model = AdminGetRoamMsgRequest;

    fn into_model(self) -> Result<AdminGetRoamMsgRequest, ValidationErrors> {
        let mut c = Collector::default();
        let operator_account = c.user("Operator_Account", self.operator_account);
        let peer_account = c.user("Peer_Account", self.peer_account);
        c.finish(|| {
            Some(AdminGetRoamMsgRequest {
                operator_account: operator_account?,
                peer_account: peer_account?,
                max_cnt: self.max_cnt,
                min_time: self.min_time,
                max_time: self.max_time,
                last_msg_key: self.last_msg_key,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::plain(rest_path)
    }
}

impl FromModel<AdminGetRoamMsgRequest> for pb::AdminGetRoamMsgResponse {
    fn from_model(response: Response<AdminGetRoamMsgResult>, _dedupe_key: Option<u32>) -> Self {
        let body = response.body;
        Self {
            complete: body.complete,
            msg_cnt: body.msg_cnt,
            last_msg_time: body.last_msg_time,
            last_msg_key: body.last_msg_key,
            msg_list: body
                .msg_list
                .unwrap_or_default()
                .into_iter()
                .map(|message| pb::RoamMsg {
                    from_account: message.from_account,
                    to_account: message.to_account,
                    msg_seq: message.msg_seq,
                    msg_random: message.msg_random,
                    msg_time_stamp: message.msg_time_stamp,
                    msg_flag_bits: message.msg_flag_bits,
                    is_peer_read: message.is_peer_read,
                    msg_key: message.msg_key,
                    msg_body: elements_to_pb(message.msg_body),
                    cloud_custom_data: message.cloud_custom_data,
                })
                .collect(),
        }
    }
}
