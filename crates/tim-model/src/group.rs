//! Groups: the group types and their rules, and the group APIs that sending depends on (create_group,
//! destroy_group, add_group_member, delete_group_member, get_group_info, get_group_member_info).

mod generated;

pub use generated::*;

use crate::Extra;
use crate::control::open_string_enum;
use crate::error::{Problem, ValidationErrors};
use crate::validate::Checker;
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

impl CreateGroupRequest {
    /// The rules that depend on the group's type, which the request carries, and the join options' names.
    fn rules(&self, c: &mut Checker) {
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
        if self.group_type.is_live() && self.member_list.as_ref().is_some_and(|members| !members.is_empty()) {
            c.fail("MemberList", Problem::Rule("must be empty for a live group (AVChatRoom)"));
        }
        if self.support_topic == Some(1) && self.group_type != GroupType::Community {
            c.fail("SupportTopic", Problem::Rule("is only for a Community"));
        }
    }
}

impl NewMember {
    /// Only `Admin` may be given as an initial member's role.
    fn rules(&self, c: &mut Checker) {
        if let Some(role) = self.role.as_deref().filter(|r| *r != "Admin") {
            c.fail_value("Role", Problem::NotAllowed { allowed: "Admin" }, role);
        }
    }
}

impl GroupTypeRules for AddGroupMemberRequest {
    fn validate_for_group(&self, group_type: &GroupType) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        not_live(&mut c, group_type, "is a live group, which has no member list to add to");
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

impl GetGroupMemberInfoRequest {
    /// `Offset` pages other groups and `Next` pages communities: not both.
    fn rules(&self, c: &mut Checker) {
        if self.offset.is_some() && self.next.is_some() {
            c.fail(
                "Next",
                Problem::Rule("cannot be combined with Offset: Offset pages other groups, Next pages communities"),
            );
        }
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
