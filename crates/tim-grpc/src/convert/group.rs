//! Groups: create_group, destroy_group, add_group_member, delete_group_member, get_group_info and
//! get_group_member_info.

use super::common::{key_values_from_pb, key_values_to_pb};
use super::path::{self, Field};
use super::{Collector, FromModel, IntoModel, non_empty};
use crate::pb;
use tim_model::envelope::{EmptyResponse, Response};
use tim_model::group::{
    AddGroupMemberRequest, AddGroupMemberResult, CreateGroupRequest, CreateGroupResult, DeleteGroupMemberRequest,
    DestroyGroupRequest, GetGroupInfoRequest, GetGroupInfoResult, GetGroupMemberInfoRequest, GetGroupMemberInfoResult,
    GroupType, MemberAccount, MemberInfo, NewMember, ResponseFilter,
};
use tim_model::{Extra, Problem, ValidationErrors};

impl IntoModel for pb::CreateGroupRequest {
    type Model = CreateGroupRequest;

    fn into_model(self) -> Result<CreateGroupRequest, ValidationErrors> {
        let mut c = Collector::default();
        let owner_account = c.optional_user("Owner_Account", self.owner_account);
        // A proto3 string cannot be left out, and the service has no group type named "".
        if self.r#type.is_empty() {
            c.fail("Type", Problem::Missing);
        }
        let group_id = c.optional_group("GroupId", self.group_id);
        let member_list: Vec<Option<NewMember>> = self
            .member_list
            .into_iter()
            .enumerate()
            .map(|(i, member)| {
                Some(NewMember {
                    member_account: c.user(&format!("MemberList[{i}].Member_Account"), member.member_account)?,
                    role: member.role,
                    app_member_defined_data: key_values_from_pb(member.app_member_defined_data),
                })
            })
            .collect();
        c.finish(|| {
            Some(CreateGroupRequest {
                owner_account: owner_account?,
                group_type: GroupType::parse(&self.r#type),
                group_id: group_id?,
                name: self.name,
                introduction: self.introduction,
                notification: self.notification,
                face_url: self.face_url,
                max_member_count: self.max_member_count,
                apply_join_option: self.apply_join_option,
                invite_join_option: self.invite_join_option,
                app_defined_data: key_values_from_pb(self.app_defined_data),
                member_list: non_empty(member_list.into_iter().collect::<Option<Vec<_>>>()?),
                support_topic: self.support_topic,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::plain(rest_path)
    }
}

impl FromModel<CreateGroupRequest> for pb::CreateGroupResponse {
    fn from_model(response: Response<CreateGroupResult>, _dedupe_key: Option<u32>) -> Self {
        Self { group_id: response.body.group_id }
    }
}

impl IntoModel for pb::DestroyGroupRequest {
    type Model = DestroyGroupRequest;

    fn into_model(self) -> Result<DestroyGroupRequest, ValidationErrors> {
        let mut c = Collector::default();
        let group_id = c.group("GroupId", self.group_id);
        c.finish(|| Some(DestroyGroupRequest { group_id: group_id?, extra: Extra::new() }))
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::plain(rest_path)
    }
}

impl FromModel<DestroyGroupRequest> for pb::DestroyGroupResponse {
    fn from_model(_response: EmptyResponse, _dedupe_key: Option<u32>) -> Self {
        Self {}
    }
}

impl IntoModel for pb::AddGroupMemberRequest {
    type Model = AddGroupMemberRequest;

    fn into_model(self) -> Result<AddGroupMemberRequest, ValidationErrors> {
        let mut c = Collector::default();
        let group_id = c.group("GroupId", self.group_id);
        let member_list: Vec<Option<MemberAccount>> = self
            .member_accounts
            .into_iter()
            .enumerate()
            .map(|(i, account)| {
                Some(MemberAccount { member_account: c.user(&format!("MemberList[{i}].Member_Account"), account)? })
            })
            .collect();
        c.finish(|| {
            Some(AddGroupMemberRequest {
                group_id: group_id?,
                silence: self.silence,
                member_list: member_list.into_iter().collect::<Option<_>>()?,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::map(rest_path, &[Field::Flat { rest: "MemberList", inner: "Member_Account", proto: "member_accounts" }])
    }
}

impl FromModel<AddGroupMemberRequest> for pb::AddGroupMemberResponse {
    fn from_model(response: Response<AddGroupMemberResult>, _dedupe_key: Option<u32>) -> Self {
        Self {
            member_list: response
                .body
                .member_list
                .unwrap_or_default()
                .into_iter()
                .map(|member| pb::MemberResult { member_account: member.member_account, result: member.result })
                .collect(),
        }
    }
}

impl IntoModel for pb::DeleteGroupMemberRequest {
    type Model = DeleteGroupMemberRequest;

    fn into_model(self) -> Result<DeleteGroupMemberRequest, ValidationErrors> {
        let mut c = Collector::default();
        let group_id = c.group("GroupId", self.group_id);
        let member_to_del_account = c.users("MemberToDel_Account", self.member_to_del_account);
        c.finish(|| {
            Some(DeleteGroupMemberRequest {
                group_id: group_id?,
                silence: self.silence,
                reason: self.reason,
                member_to_del_account: member_to_del_account?,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::plain(rest_path)
    }
}

impl FromModel<DeleteGroupMemberRequest> for pb::DeleteGroupMemberResponse {
    fn from_model(_response: EmptyResponse, _dedupe_key: Option<u32>) -> Self {
        Self {}
    }
}

impl IntoModel for pb::GetGroupInfoRequest {
    type Model = GetGroupInfoRequest;

    fn into_model(self) -> Result<GetGroupInfoRequest, ValidationErrors> {
        let mut c = Collector::default();
        let group_id_list = c.groups("GroupIdList", self.group_id_list);
        c.finish(|| {
            Some(GetGroupInfoRequest {
                group_id_list: group_id_list?,
                response_filter: self.response_filter.map(|filter| ResponseFilter {
                    group_base_info_filter: non_empty(filter.group_base_info_filter),
                    member_info_filter: non_empty(filter.member_info_filter),
                    app_defined_data_filter_group: non_empty(filter.app_defined_data_filter_group),
                    app_defined_data_filter_group_member: non_empty(filter.app_defined_data_filter_group_member),
                    extra: Extra::new(),
                }),
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::plain(rest_path)
    }
}

/// A member of a get_group_info or get_group_member_info answer.
fn member_info(member: MemberInfo) -> pb::MemberInfo {
    pb::MemberInfo {
        member_account: member.member_account,
        role: member.role,
        join_time: member.join_time,
        msg_seq: member.msg_seq,
        msg_flag: member.msg_flag,
        last_send_msg_time: member.last_send_msg_time,
        mute_until: member.mute_until,
        name_card: member.name_card,
        app_member_defined_data: key_values_to_pb(member.app_member_defined_data),
    }
}

impl FromModel<GetGroupInfoRequest> for pb::GetGroupInfoResponse {
    fn from_model(response: Response<GetGroupInfoResult>, _dedupe_key: Option<u32>) -> Self {
        Self {
            group_info: response
                .body
                .group_info
                .unwrap_or_default()
                .into_iter()
                .map(|group| pb::GroupInfo {
                    group_id: group.group_id,
                    error_code: group.error_code,
                    error_info: group.error_info,
                    r#type: group.group_type.map(|group_type| group_type.as_str().to_owned()),
                    name: group.name,
                    appid: group.appid,
                    introduction: group.introduction,
                    notification: group.notification,
                    face_url: group.face_url,
                    owner_account: group.owner_account,
                    create_time: group.create_time,
                    last_info_time: group.last_info_time,
                    last_msg_time: group.last_msg_time,
                    next_msg_seq: group.next_msg_seq,
                    member_num: group.member_num,
                    max_member_num: group.max_member_num,
                    apply_join_option: group.apply_join_option,
                    mute_all_member: group.mute_all_member,
                    app_defined_data: key_values_to_pb(group.app_defined_data),
                    member_list: group.member_list.unwrap_or_default().into_iter().map(member_info).collect(),
                })
                .collect(),
        }
    }
}

impl IntoModel for pb::GetGroupMemberInfoRequest {
    type Model = GetGroupMemberInfoRequest;

    fn into_model(self) -> Result<GetGroupMemberInfoRequest, ValidationErrors> {
        let mut c = Collector::default();
        let group_id = c.group("GroupId", self.group_id);
        c.finish(|| {
            Some(GetGroupMemberInfoRequest {
                group_id: group_id?,
                member_info_filter: non_empty(self.member_info_filter),
                member_role_filter: non_empty(self.member_role_filter),
                app_defined_data_filter_group_member: non_empty(self.app_defined_data_filter_group_member),
                limit: self.limit,
                offset: self.offset,
                next: self.next,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::plain(rest_path)
    }
}

impl FromModel<GetGroupMemberInfoRequest> for pb::GetGroupMemberInfoResponse {
    fn from_model(response: Response<GetGroupMemberInfoResult>, _dedupe_key: Option<u32>) -> Self {
        let body = response.body;
        Self {
            member_num: body.member_num,
            member_list: body.member_list.unwrap_or_default().into_iter().map(member_info).collect(),
            next: body.next,
        }
    }
}
