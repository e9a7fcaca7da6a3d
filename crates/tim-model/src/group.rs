//! Groups: the group types and their rules, and the group APIs that sending depends on (create_group,
//! destroy_group, add_group_member, delete_group_member, get_group_info, get_group_member_info).

use crate::Extra;
use crate::api::TypedRequest;
use crate::command::CommandId;
use crate::control::open_string_enum;
use crate::envelope::{EmptyResponse, Response};
use crate::error::{Problem, ValidationErrors};
use crate::ids::{GroupId, UserId};
use crate::validate::{Checker, Validate, check_switch};
use serde::{Deserialize, Serialize};

open_string_enum!(
    /// A group type. The service knows the legacy names (`Private`, `ChatRoom`) and the new ones (`Work`,
    /// `Meeting`) for the same types; both are kept as sent.
    GroupType {
        /// Work group (legacy name).
        Private = "Private",
        /// Work group.
        Work = "Work",
        /// Public group.
        Public = "Public",
        /// Meeting group (legacy name).
        ChatRoom = "ChatRoom",
        /// Meeting group.
        Meeting = "Meeting",
        /// Live (audio-video) group.
        AvChatRoom = "AVChatRoom",
        /// Broadcast live group.
        BChatRoom = "BChatRoom",
        /// Community.
        Community = "Community",
    }
);

impl GroupType {
    /// A live group (`AVChatRoom`, `BChatRoom`): no history, no members list operations, no offline storage.
    pub fn is_live(&self) -> bool {
        matches!(self, Self::AvChatRoom | Self::BChatRoom)
    }

    /// A Work, Public or Meeting group under either name.
    pub fn is_work_public_or_meeting(&self) -> bool {
        matches!(self, Self::Private | Self::Work | Self::Public | Self::ChatRoom | Self::Meeting)
    }
}

/// Rules that depend on the type of the group a request addresses, which the request itself does not carry.
/// A caller that knows the group's type (the emulator, or an app that created the group) checks them here.
pub trait GroupTypeRules {
    /// Every rule the request breaks for a group of type `group_type`.
    fn validate_for_group(&self, group_type: &GroupType) -> Result<(), ValidationErrors>;
}

/// Rejects live groups for requests that do not support them.
pub(crate) fn not_live(c: &mut Checker, group_type: &GroupType, what: &'static str) {
    if group_type.is_live() {
        c.fail_value("GroupId", Problem::Rule(what), group_type.as_str());
    }
}

/// A custom key/value pair (`AppDefinedData`, `AppMemberDefinedData`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    /// The key.
    #[serde(rename = "Key")]
    pub key: String,
    /// The value (may hold any characters).
    #[serde(rename = "Value")]
    pub value: String,
}

/// The most members create_group may add.
pub const MAX_CREATE_MEMBERS: usize = 100;
/// The most members add_group_member may add in one call.
pub const MAX_ADD_MEMBERS: usize = 300;
/// The most members delete_group_member may remove in one call.
pub const MAX_DELETE_MEMBERS: usize = 100;
/// The most groups get_group_info may ask about in one call.
pub const MAX_GROUP_INFO_GROUPS: usize = 50;

/// One initial member of create_group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMember {
    /// The member.
    #[serde(rename = "Member_Account")]
    pub member_account: UserId,
    /// Only `Admin` may be set.
    #[serde(rename = "Role", default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Member custom fields.
    #[serde(rename = "AppMemberDefinedData", default, skip_serializing_if = "Option::is_none")]
    pub app_member_defined_data: Option<Vec<KeyValue>>,
}

/// `group_open_http_svc/create_group`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateGroupRequest {
    /// Owner (must exist); absent means no owner.
    #[serde(rename = "Owner_Account", default, skip_serializing_if = "Option::is_none")]
    pub owner_account: Option<UserId>,
    /// Group type.
    #[serde(rename = "Type")]
    pub group_type: GroupType,
    /// Custom group id; absent means the service picks one. Communities use the prefix `@TGS#_`.
    #[serde(rename = "GroupId", default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<GroupId>,
    /// Name, at most 30 bytes.
    #[serde(rename = "Name")]
    pub name: String,
    /// Introduction, at most 240 bytes.
    #[serde(rename = "Introduction", default, skip_serializing_if = "Option::is_none")]
    pub introduction: Option<String>,
    /// Notification, at most 300 bytes.
    #[serde(rename = "Notification", default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
    /// Avatar URL, at most 100 bytes.
    #[serde(rename = "FaceUrl", default, skip_serializing_if = "Option::is_none")]
    pub face_url: Option<String>,
    /// Member limit; absent means the edition's limit.
    #[serde(rename = "MaxMemberCount", default, skip_serializing_if = "Option::is_none")]
    pub max_member_count: Option<u32>,
    /// `FreeAccess`, `NeedPermission` (default) or `DisableApply`; not for communities.
    #[serde(rename = "ApplyJoinOption", default, skip_serializing_if = "Option::is_none")]
    pub apply_join_option: Option<String>,
    /// `FreeAccess`, `NeedPermission` or `DisableInvite`; not for live groups.
    #[serde(rename = "InviteJoinOption", default, skip_serializing_if = "Option::is_none")]
    pub invite_join_option: Option<String>,
    /// Group custom fields.
    #[serde(rename = "AppDefinedData", default, skip_serializing_if = "Option::is_none")]
    pub app_defined_data: Option<Vec<KeyValue>>,
    /// Initial members, at most 100; not for live groups.
    #[serde(rename = "MemberList", default, skip_serializing_if = "Option::is_none")]
    pub member_list: Option<Vec<NewMember>>,
    /// `1` for a community with topics (communities only).
    #[serde(rename = "SupportTopic", default, skip_serializing_if = "Option::is_none")]
    pub support_topic: Option<u32>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CreateGroupRequest {
    /// A group of `group_type` named `name`, every optional field absent.
    pub fn new(group_type: GroupType, name: impl Into<String>) -> Self {
        Self {
            owner_account: None,
            group_type,
            group_id: None,
            name: name.into(),
            introduction: None,
            notification: None,
            face_url: None,
            max_member_count: None,
            apply_join_option: None,
            invite_join_option: None,
            app_defined_data: None,
            member_list: None,
            support_topic: None,
            extra: Extra::new(),
        }
    }
}

impl Validate for CreateGroupRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        if self.name.is_empty() {
            c.fail("Name", Problem::Empty);
        }
        c.max_bytes("Name", Some(&self.name), 30);
        c.max_bytes("Introduction", self.introduction.as_deref(), 240);
        c.max_bytes("Notification", self.notification.as_deref(), 300);
        c.max_bytes("FaceUrl", self.face_url.as_deref(), 100);
        if let Some(option) = &self.apply_join_option {
            if !["FreeAccess", "NeedPermission", "DisableApply"].contains(&option.as_str()) {
                c.fail_value(
                    "ApplyJoinOption",
                    Problem::NotAllowed { allowed: "FreeAccess, NeedPermission or DisableApply" },
                    option,
                );
            }
            if self.group_type == GroupType::Community {
                c.fail("ApplyJoinOption", Problem::Rule("is not supported for a Community"));
            }
        }
        if let Some(members) = &self.member_list {
            c.count("MemberList", members.len(), 0, MAX_CREATE_MEMBERS);
            if self.group_type.is_live() && !members.is_empty() {
                c.fail("MemberList", Problem::Rule("must be empty for a live group (AVChatRoom)"));
            }
            c.at("MemberList", |c| {
                for (i, member) in members.iter().enumerate() {
                    if let Some(role) = member.role.as_deref().filter(|r| *r != "Admin") {
                        c.fail_value(&format!("[{i}].Role"), Problem::NotAllowed { allowed: "Admin" }, role);
                    }
                }
            });
        }
        check_switch(&mut c, "SupportTopic", self.support_topic);
        if self.support_topic == Some(1) && self.group_type != GroupType::Community {
            c.fail("SupportTopic", Problem::Rule("is only for a Community"));
        }
        c.finish()
    }
}

/// What create_group answers besides the envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateGroupResult {
    /// The new group's id.
    #[serde(rename = "GroupId", default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for CreateGroupRequest {
    const COMMAND: CommandId = CommandId::CreateGroup;
    type Response = Response<CreateGroupResult>;
}

/// `group_open_http_svc/destroy_group`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DestroyGroupRequest {
    /// The group.
    #[serde(rename = "GroupId")]
    pub group_id: GroupId,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Validate for DestroyGroupRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}

impl TypedRequest for DestroyGroupRequest {
    const COMMAND: CommandId = CommandId::DestroyGroup;
    type Response = EmptyResponse;
}

/// One member to add.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberAccount {
    /// The member.
    #[serde(rename = "Member_Account")]
    pub member_account: UserId,
}

/// `group_open_http_svc/add_group_member`: at most 300 members a call; not for live groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddGroupMemberRequest {
    /// The group.
    #[serde(rename = "GroupId")]
    pub group_id: GroupId,
    /// `1`: no notification to the group.
    #[serde(rename = "Silence", default, skip_serializing_if = "Option::is_none")]
    pub silence: Option<u32>,
    /// The members to add, 1..=300.
    #[serde(rename = "MemberList")]
    pub member_list: Vec<MemberAccount>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Validate for AddGroupMemberRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        check_switch(&mut c, "Silence", self.silence);
        c.count("MemberList", self.member_list.len(), 1, MAX_ADD_MEMBERS);
        c.finish()
    }
}

impl GroupTypeRules for AddGroupMemberRequest {
    fn validate_for_group(&self, group_type: &GroupType) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        not_live(&mut c, group_type, "is a live group, which has no member list to add to");
        c.finish()
    }
}

/// The outcome for one member of add_group_member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberResult {
    /// The member.
    #[serde(rename = "Member_Account")]
    pub member_account: String,
    /// `0` failed, `1` added, `2` already a member, `3` waiting for the invitee's approval.
    #[serde(rename = "Result")]
    pub result: i64,
}

/// What add_group_member answers besides the envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddGroupMemberResult {
    /// One outcome per member.
    #[serde(rename = "MemberList", default, skip_serializing_if = "Option::is_none")]
    pub member_list: Option<Vec<MemberResult>>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for AddGroupMemberRequest {
    const COMMAND: CommandId = CommandId::AddGroupMember;
    type Response = Response<AddGroupMemberResult>;
}

/// `group_open_http_svc/delete_group_member`: at most 100 members a call; succeeds for non-members too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeleteGroupMemberRequest {
    /// The group.
    #[serde(rename = "GroupId")]
    pub group_id: GroupId,
    /// `1`: no notification to the group.
    #[serde(rename = "Silence", default, skip_serializing_if = "Option::is_none")]
    pub silence: Option<u32>,
    /// Reason shown to the removed members.
    #[serde(rename = "Reason", default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The members to remove, 1..=100.
    #[serde(rename = "MemberToDel_Account")]
    pub member_to_del_account: Vec<UserId>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Validate for DeleteGroupMemberRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        check_switch(&mut c, "Silence", self.silence);
        c.count("MemberToDel_Account", self.member_to_del_account.len(), 1, MAX_DELETE_MEMBERS);
        c.finish()
    }
}

impl GroupTypeRules for DeleteGroupMemberRequest {
    fn validate_for_group(&self, group_type: &GroupType) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        not_live(&mut c, group_type, "is a live group, which has no member list to remove from");
        c.finish()
    }
}

impl TypedRequest for DeleteGroupMemberRequest {
    const COMMAND: CommandId = CommandId::DeleteGroupMember;
    type Response = EmptyResponse;
}

/// Which fields get_group_info returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseFilter {
    /// Base fields, for example `Type`, `Name`, `MemberNum`.
    #[serde(rename = "GroupBaseInfoFilter", default, skip_serializing_if = "Option::is_none")]
    pub group_base_info_filter: Option<Vec<String>>,
    /// Member fields, for example `Account`, `Role`.
    #[serde(rename = "MemberInfoFilter", default, skip_serializing_if = "Option::is_none")]
    pub member_info_filter: Option<Vec<String>>,
    /// Group custom-field keys.
    #[serde(rename = "AppDefinedDataFilter_Group", default, skip_serializing_if = "Option::is_none")]
    pub app_defined_data_filter_group: Option<Vec<String>>,
    /// Member custom-field keys.
    #[serde(rename = "AppDefinedDataFilter_GroupMember", default, skip_serializing_if = "Option::is_none")]
    pub app_defined_data_filter_group_member: Option<Vec<String>>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `group_open_http_svc/get_group_info`: at most 50 groups a call. Check each item's own `ErrorCode`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetGroupInfoRequest {
    /// The groups, 1..=50.
    #[serde(rename = "GroupIdList")]
    pub group_id_list: Vec<GroupId>,
    /// Which fields to return; absent means all.
    #[serde(rename = "ResponseFilter", default, skip_serializing_if = "Option::is_none")]
    pub response_filter: Option<ResponseFilter>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Validate for GetGroupInfoRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        c.count("GroupIdList", self.group_id_list.len(), 1, MAX_GROUP_INFO_GROUPS);
        c.finish()
    }
}

/// A group member as get_group_info and get_group_member_info describe it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemberInfo {
    /// The member.
    #[serde(rename = "Member_Account")]
    pub member_account: String,
    /// `Owner`, `Admin` or `Member`.
    #[serde(rename = "Role", default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Join time, UNIX seconds.
    #[serde(rename = "JoinTime", default, skip_serializing_if = "Option::is_none")]
    pub join_time: Option<i64>,
    /// The member's read sequence.
    #[serde(rename = "MsgSeq", default, skip_serializing_if = "Option::is_none")]
    pub msg_seq: Option<u64>,
    /// Message receiving option, for example `AcceptAndNotify`.
    #[serde(rename = "MsgFlag", default, skip_serializing_if = "Option::is_none")]
    pub msg_flag: Option<String>,
    /// Time of the member's last message, UNIX seconds.
    #[serde(rename = "LastSendMsgTime", default, skip_serializing_if = "Option::is_none")]
    pub last_send_msg_time: Option<i64>,
    /// Muted until (UNIX seconds); 0 when not muted.
    #[serde(rename = "MuteUntil", default, skip_serializing_if = "Option::is_none")]
    pub mute_until: Option<i64>,
    /// Name card in the group.
    #[serde(rename = "NameCard", default, skip_serializing_if = "Option::is_none")]
    pub name_card: Option<String>,
    /// Member custom fields.
    #[serde(rename = "AppMemberDefinedData", default, skip_serializing_if = "Option::is_none")]
    pub app_member_defined_data: Option<Vec<KeyValue>>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One group of a get_group_info answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupInfo {
    /// The group.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// This group's own result code (the envelope's is not meaningful here).
    #[serde(rename = "ErrorCode", default)]
    pub error_code: i64,
    /// This group's own result text.
    #[serde(rename = "ErrorInfo", default, skip_serializing_if = "Option::is_none")]
    pub error_info: Option<String>,
    /// Group type.
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub group_type: Option<GroupType>,
    /// Name.
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The SDKAppID.
    #[serde(rename = "Appid", default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<u64>,
    /// Introduction.
    #[serde(rename = "Introduction", default, skip_serializing_if = "Option::is_none")]
    pub introduction: Option<String>,
    /// Notification.
    #[serde(rename = "Notification", default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
    /// Avatar URL.
    #[serde(rename = "FaceUrl", default, skip_serializing_if = "Option::is_none")]
    pub face_url: Option<String>,
    /// Owner.
    #[serde(rename = "Owner_Account", default, skip_serializing_if = "Option::is_none")]
    pub owner_account: Option<String>,
    /// Creation time, UNIX seconds.
    #[serde(rename = "CreateTime", default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<i64>,
    /// Last change of the group's information, UNIX seconds.
    #[serde(rename = "LastInfoTime", default, skip_serializing_if = "Option::is_none")]
    pub last_info_time: Option<i64>,
    /// Time of the last message, UNIX seconds.
    #[serde(rename = "LastMsgTime", default, skip_serializing_if = "Option::is_none")]
    pub last_msg_time: Option<i64>,
    /// Sequence number the next message will get.
    #[serde(rename = "NextMsgSeq", default, skip_serializing_if = "Option::is_none")]
    pub next_msg_seq: Option<u64>,
    /// Current members.
    #[serde(rename = "MemberNum", default, skip_serializing_if = "Option::is_none")]
    pub member_num: Option<u64>,
    /// Member limit.
    #[serde(rename = "MaxMemberNum", default, skip_serializing_if = "Option::is_none")]
    pub max_member_num: Option<u64>,
    /// Join option.
    #[serde(rename = "ApplyJoinOption", default, skip_serializing_if = "Option::is_none")]
    pub apply_join_option: Option<String>,
    /// `On` or `Off`.
    #[serde(rename = "MuteAllMember", default, skip_serializing_if = "Option::is_none")]
    pub mute_all_member: Option<String>,
    /// Group custom fields.
    #[serde(rename = "AppDefinedData", default, skip_serializing_if = "Option::is_none")]
    pub app_defined_data: Option<Vec<KeyValue>>,
    /// Members (as filtered).
    #[serde(rename = "MemberList", default, skip_serializing_if = "Option::is_none")]
    pub member_list: Option<Vec<MemberInfo>>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What get_group_info answers besides the envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetGroupInfoResult {
    /// One entry per group asked about.
    #[serde(rename = "GroupInfo", default, skip_serializing_if = "Option::is_none")]
    pub group_info: Option<Vec<GroupInfo>>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for GetGroupInfoRequest {
    const COMMAND: CommandId = CommandId::GetGroupInfo;
    type Response = Response<GetGroupInfoResult>;
}

/// `group_open_http_svc/get_group_member_info`: page with `Offset` (non-community groups) or `Next`
/// (communities). Not for live groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetGroupMemberInfoRequest {
    /// The group.
    #[serde(rename = "GroupId")]
    pub group_id: GroupId,
    /// Member fields to return (`Member_Account` always is).
    #[serde(rename = "MemberInfoFilter", default, skip_serializing_if = "Option::is_none")]
    pub member_info_filter: Option<Vec<String>>,
    /// Roles to return: `Owner`, `Admin`, `Member`.
    #[serde(rename = "MemberRoleFilter", default, skip_serializing_if = "Option::is_none")]
    pub member_role_filter: Option<Vec<String>>,
    /// Member custom-field keys to return.
    #[serde(rename = "AppDefinedDataFilter_GroupMember", default, skip_serializing_if = "Option::is_none")]
    pub app_defined_data_filter_group_member: Option<Vec<String>>,
    /// Page size (send at most 100).
    #[serde(rename = "Limit", default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Page start (not for communities).
    #[serde(rename = "Offset", default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Page cursor (communities only; empty on the first call).
    #[serde(rename = "Next", default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The most members one get_group_member_info page should ask for.
pub const MAX_MEMBER_PAGE: u32 = 100;

impl Validate for GetGroupMemberInfoRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        c.range("Limit", self.limit.map(i128::from), 1, i128::from(MAX_MEMBER_PAGE));
        if self.offset.is_some() && self.next.is_some() {
            c.fail(
                "Next",
                Problem::Rule("cannot be combined with Offset: Offset pages other groups, Next pages communities"),
            );
        }
        c.finish()
    }
}

impl GroupTypeRules for GetGroupMemberInfoRequest {
    fn validate_for_group(&self, group_type: &GroupType) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        not_live(&mut c, group_type, "is a live group, whose members are listed by another API");
        if *group_type == GroupType::Community && self.offset.is_some() {
            c.fail("Offset", Problem::Rule("is not supported for a Community: page with Next"));
        }
        if *group_type != GroupType::Community && self.next.is_some() {
            c.fail("Next", Problem::Rule("is only for a Community: page with Offset"));
        }
        c.finish()
    }
}

/// What get_group_member_info answers besides the envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetGroupMemberInfoResult {
    /// Total members of the group.
    #[serde(rename = "MemberNum", default, skip_serializing_if = "Option::is_none")]
    pub member_num: Option<u64>,
    /// This page's members.
    #[serde(rename = "MemberList", default, skip_serializing_if = "Option::is_none")]
    pub member_list: Option<Vec<MemberInfo>>,
    /// Cursor of the next page (communities); empty when done.
    #[serde(rename = "Next", default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for GetGroupMemberInfoRequest {
    const COMMAND: CommandId = CommandId::GetGroupMemberInfo;
    type Response = Response<GetGroupMemberInfoResult>;
}
