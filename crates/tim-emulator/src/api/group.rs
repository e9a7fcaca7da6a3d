//! `group_open_http_svc`: the group APIs that sending depends on (create_group, destroy_group, add_group_member,
//! delete_group_member, get_group_info, get_group_member_info). The group message APIs are in `group_msg.rs`.
//!
//! Rules that depend on the addressed group's type (live groups, communities) are checked with `tim-model`'s
//! `GroupTypeRules` once the group is found.

use super::{Answer, Ctx, fail, ok};
use crate::codes::{self, GROUP_ID_TAKEN, GROUP_NO_SUCH_ACCOUNT};
use crate::state::{Group, Member, Role, State};
use bytes::Bytes;
use std::sync::Arc;
use tim_model::command::CommandId;
use tim_model::envelope::NoFields;
use tim_model::group::{
    AddGroupMemberRequest, AddGroupMemberResult, CreateGroupRequest, CreateGroupResult, DeleteGroupMemberRequest,
    DestroyGroupRequest, GetGroupInfoRequest, GetGroupInfoResult, GetGroupMemberInfoRequest, GetGroupMemberInfoResult,
    GroupInfo, GroupType, GroupTypeRules, MemberInfo, MemberResult,
};
use tim_model::{Extra, GroupId, UserId};

/// 10010: the group does not exist (or was destroyed).
pub(super) fn no_group(id: &GroupId) -> Bytes {
    fail(10010, format!("group {:?} does not exist", id.as_str()))
}

pub(super) fn no_account(id: &str) -> Bytes {
    fail(GROUP_NO_SUCH_ACCOUNT, format!("account {id:?} does not exist"))
}

/// The group `id` after checking the rules of its type, or the answer refusing the call.
pub(super) fn checked_group<'s, R: GroupTypeRules>(
    state: &'s State,
    id: &GroupId,
    request: &R,
    command: CommandId,
) -> Result<&'s Group, Bytes> {
    let group = state.groups.get(id.as_str()).ok_or_else(|| no_group(id))?;
    request.validate_for_group(&group.group_type).map_err(|errors| {
        let (code, info) = codes::for_group_type(command, &errors);
        fail(code, info)
    })?;
    Ok(group)
}

pub(super) fn group_mut<'s>(state: &'s mut State, id: &GroupId) -> Result<&'s mut Group, Bytes> {
    state.groups.get_mut(id.as_str()).ok_or_else(|| no_group(id))
}

pub(super) fn create_group(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: CreateGroupRequest = ctx.decode(body)?;
    let create = ctx.auto_create();
    let community = request.group_type == GroupType::Community;
    let mut state = ctx.state();
    let mut members: Vec<Member> = Vec::new();
    let owner = match &request.owner_account {
        None => None,
        Some(id) => Some(state.account_key(id.as_str(), create).ok_or_else(|| no_account(id.as_str()))?),
    };
    if let Some(owner) = &owner {
        members.push(Member { account: owner.clone(), role: Role::Owner, join_time: ctx.now });
    }
    for member in request.member_list.iter().flatten() {
        let id = member.member_account.as_str();
        let account = state.account_key(id, create).ok_or_else(|| no_account(id))?;
        if members.iter().all(|m| m.account != account) {
            let role = if member.role.as_deref() == Some("Admin") { Role::Admin } else { Role::Member };
            members.push(Member { account, role, join_time: ctx.now });
        }
    }
    let id: Arc<str> = match &request.group_id {
        Some(id) => {
            let id = id.as_str();
            if community && !id.starts_with("@TGS#_") {
                return Err(fail(10004, format!("a Community's custom GroupId must start with @TGS#_, not {id:?}")));
            }
            if !community && id.starts_with("@TGS#") {
                return Err(fail(10004, format!("custom GroupId {id:?} must not start with @TGS#, which is reserved")));
            }
            if state.groups.contains_key(id) {
                return Err(fail(GROUP_ID_TAKEN, format!("GroupId {id:?} is already used")));
            }
            Arc::from(id)
        }
        None => state.new_group_id(community),
    };
    state.groups_created += 1;
    state.groups.insert(
        id.clone(),
        Group {
            group_type: request.group_type,
            name: request.name,
            owner,
            introduction: request.introduction,
            notification: request.notification,
            face_url: request.face_url,
            max_member_count: request.max_member_count,
            apply_join_option: request.apply_join_option,
            app_defined_data: request.app_defined_data,
            created: ctx.now,
            members,
            messages: Vec::new(),
            notifications: Vec::new(),
            randoms: Default::default(),
        },
    );
    Ok(ok(CreateGroupResult { group_id: Some(id.to_string()), extra: Extra::new() }))
}

pub(super) fn destroy_group(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: DestroyGroupRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    state.groups.remove(request.group_id.as_str()).ok_or_else(|| no_group(&request.group_id))?;
    Ok(ok(NoFields::default()))
}

pub(super) fn add_group_member(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: AddGroupMemberRequest = ctx.decode(body)?;
    let create = ctx.auto_create();
    let mut state = ctx.state();
    checked_group(&state, &request.group_id, &request, CommandId::AddGroupMember)?;
    let accounts: Vec<(&UserId, Option<Arc<str>>)> = request
        .member_list
        .iter()
        .map(|member| (&member.member_account, state.account_key(member.member_account.as_str(), create)))
        .collect();
    let group = group_mut(&mut state, &request.group_id)?;
    let results = accounts
        .into_iter()
        .map(|(id, account)| {
            // 0 failed (no such account), 1 added, 2 already a member.
            let result = match account {
                None => 0,
                Some(account) if group.member_position(&account).is_some() => 2,
                Some(account) => {
                    group.members.push(Member { account, role: Role::Member, join_time: ctx.now });
                    1
                }
            };
            MemberResult { member_account: id.to_string(), result }
        })
        .collect();
    Ok(ok(AddGroupMemberResult { member_list: Some(results), extra: Extra::new() }))
}

pub(super) fn delete_group_member(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: DeleteGroupMemberRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    checked_group(&state, &request.group_id, &request, CommandId::DeleteGroupMember)?;
    let group = group_mut(&mut state, &request.group_id)?;
    // Removing someone who is not a member succeeds too.
    group.members.retain(|member| !request.member_to_del_account.iter().any(|id| *id == *member.account));
    Ok(ok(NoFields::default()))
}

fn member_info(member: &Member) -> MemberInfo {
    MemberInfo {
        member_account: member.account.to_string(),
        role: Some(member.role.as_str().to_owned()),
        join_time: Some(member.join_time as i64),
        msg_seq: Some(0),
        msg_flag: Some("AcceptAndNotify".to_owned()),
        last_send_msg_time: Some(0),
        mute_until: Some(0),
        name_card: Some(String::new()),
        ..MemberInfo::default()
    }
}

pub(super) fn get_group_info(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: GetGroupInfoRequest = ctx.decode(body)?;
    let state = ctx.state();
    let infos = request
        .group_id_list
        .iter()
        .map(|id| match state.groups.get(id.as_str()) {
            // Each group has its own result code; the envelope stays OK.
            None => GroupInfo {
                group_id: id.to_string(),
                error_code: 10010,
                error_info: Some("this group does not exist".to_owned()),
                ..GroupInfo::default()
            },
            Some(group) => GroupInfo {
                group_id: id.to_string(),
                error_code: 0,
                error_info: Some(String::new()),
                group_type: Some(group.group_type.clone()),
                name: Some(group.name.clone()),
                appid: Some(ctx.inner.sdkappid),
                introduction: Some(group.introduction.clone().unwrap_or_default()),
                notification: Some(group.notification.clone().unwrap_or_default()),
                face_url: Some(group.face_url.clone().unwrap_or_default()),
                owner_account: Some(group.owner.as_deref().unwrap_or_default().to_owned()),
                create_time: Some(group.created as i64),
                last_info_time: Some(group.created as i64),
                last_msg_time: Some(group.last_msg_time().unwrap_or(0)),
                next_msg_seq: Some(group.next_seq()),
                member_num: Some(group.members.len() as u64),
                max_member_num: group.max_member_count.map(u64::from),
                apply_join_option: group.apply_join_option.clone(),
                mute_all_member: Some("Off".to_owned()),
                app_defined_data: group.app_defined_data.clone(),
                member_list: Some(group.members.iter().map(member_info).collect()),
                extra: Extra::new(),
            },
        })
        .collect();
    Ok(ok(GetGroupInfoResult { group_info: Some(infos), extra: Extra::new() }))
}

pub(super) fn get_group_member_info(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: GetGroupMemberInfoRequest = ctx.decode(body)?;
    let state = ctx.state();
    let group = checked_group(&state, &request.group_id, &request, CommandId::GetGroupMemberInfo)?;
    let selected: Vec<&Member> = group
        .members
        .iter()
        .filter(|member| {
            request.member_role_filter.as_ref().is_none_or(|roles| roles.iter().any(|r| r == member.role.as_str()))
        })
        .collect();
    // Communities page with an opaque `Next` cursor (here: the offset as text), other groups with `Offset`.
    let community = group.group_type == GroupType::Community;
    let start = if community {
        match request.next.as_deref().filter(|next| !next.is_empty()) {
            None => 0,
            Some(next) => next
                .parse::<usize>()
                .map_err(|_| fail(10004, format!("Next {next:?} is not a cursor this emulator gave")))?,
        }
    } else {
        request.offset.unwrap_or(0) as usize
    };
    let limit = request.limit.map_or(usize::MAX, |limit| limit as usize);
    let page: Vec<MemberInfo> = selected.iter().skip(start).take(limit).map(|member| member_info(member)).collect();
    let end = start.saturating_add(page.len());
    let next = community.then(|| if end < selected.len() { end.to_string() } else { String::new() });
    Ok(ok(GetGroupMemberInfoResult {
        member_num: Some(group.members.len() as u64),
        member_list: Some(page),
        next,
        extra: Extra::new(),
    }))
}
