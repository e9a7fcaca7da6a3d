//! `group_open_http_svc`: the group message APIs (send_group_msg, send_group_system_notification,
//! send_broadcast_msg, import_group_msg, group_msg_recall, group_msg_get_simple; spec §3.4–3.7, §3.9).
//!
//! Rules that depend on the addressed group's type (live groups, communities) are checked with `tim-model`'s
//! `GroupTypeRules` once the group is found.

use super::group::{checked_group, group_mut, no_account};
use super::{Answer, Ctx, fail, ok};
use crate::messages::{GroupMessage, GroupOrigin, SystemNotification};
use crate::state::Group;
use tim_model::command::CommandId;
use tim_model::control::MsgPriority;
use tim_model::envelope::NoFields;
use tim_model::group_msg::{
    GroupHistoryMsg, GroupMsgGetSimpleRequest, GroupMsgGetSimpleResult, GroupMsgRecallRequest, GroupMsgRecallResult,
    ImportGroupMsgRequest, ImportGroupMsgResult, ImportMsgResult, RecallRet, SendBroadcastMsgRequest,
    SendBroadcastMsgResult, SendGroupMsgRequest, SendGroupMsgResult, SendGroupSystemNotificationRequest,
};
use tim_model::{Extra, UserId};

/// Whether `from` may send to `group`: an admin may send anywhere; anyone else must be a member, except in live
/// groups, which have no member list.
fn may_send(ctx: &Ctx<'_>, group: &Group, from: &str) -> bool {
    group.group_type.is_live() || ctx.inner.auth.is_admin(from) || group.member_position(from).is_some()
}

pub(super) fn send_group_msg(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: SendGroupMsgRequest = ctx.decode(body)?;
    let Some(random) = request.random else { return Err(fail(10004, "Random is required")) };
    let create = ctx.auto_create();
    let window = Ctx::window(CommandId::SendGroupMsg);
    let mut state = ctx.state();
    checked_group(&state, &request.group_id, &request, CommandId::SendGroupMsg)?;
    let from = state
        .sender(request.from_account.as_ref(), ctx.identifier, create)
        .ok_or_else(|| no_account(request.from_account.as_ref().map_or("", UserId::as_str)))?;
    // A sender muted for group messages (setnospeaking) cannot send them until the mute ends.
    if state.group_muted(&from, ctx.now) {
        return Err(fail(10017, format!("{:?} is muted for group messages", &*from)));
    }
    let group = group_mut(&mut state, &request.group_id)?;
    if !may_send(ctx, group, &from) {
        return Err(fail(10007, format!("{:?} is not a member of group {:?}", &*from, request.group_id.as_str())));
    }
    // The same Random and content within the window: answered with the first message, not stored again.
    if let Some(first) =
        group.repeat_of(random, &from, &request.msg_body, request.cloud_custom_data.as_deref(), ctx.now, window)
    {
        let result = SendGroupMsgResult {
            msg_time: Some(first.msg_time),
            msg_seq: Some(first.msg_seq),
            msg_drop_reason: Some(String::new()),
            extra: Extra::new(),
        };
        drop(state);
        ctx.duplicates(1);
        return Ok(ok(result));
    }
    let message = GroupMessage {
        from_account: from,
        msg_seq: 0,
        msg_random: random,
        msg_time: ctx.now as i64,
        msg_body: request.msg_body,
        cloud_custom_data: request.cloud_custom_data,
        msg_priority: request.msg_priority,
        origin: GroupOrigin::SendGroupMsg,
        recalled: false,
        online_only: request.online_only_flag == Some(1),
    };
    let (seq, time) = group.push_message(message, ctx.now, window);
    drop(state);
    ctx.stored(&ctx.inner.counters.group, 1);
    Ok(ok(SendGroupMsgResult {
        msg_time: Some(time),
        msg_seq: Some(seq),
        msg_drop_reason: Some(String::new()),
        extra: Extra::new(),
    }))
}

pub(super) fn send_group_system_notification(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: SendGroupSystemNotificationRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    checked_group(&state, &request.group_id, &request, CommandId::SendGroupSystemNotification)?;
    let group = group_mut(&mut state, &request.group_id)?;
    // Absent or empty: every member. Otherwise the listed accounts that are members.
    let recipients = match request.to_members_account.as_deref() {
        None | Some([]) => group.members.iter().map(|member| member.account.clone()).collect(),
        Some(listed) => listed
            .iter()
            .filter_map(|id| group.member_position(id.as_str()).map(|i| group.members[i].account.clone()))
            .collect(),
    };
    group.notifications.push(SystemNotification { content: request.content, recipients, time: ctx.now });
    drop(state);
    ctx.stored(&ctx.inner.counters.system_notification, 1);
    Ok(ok(NoFields::default()))
}

pub(super) fn send_broadcast_msg(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    if !ctx.inner.broadcast {
        return Err(fail(10007, "broadcast messages are not enabled for this app (enable them in the console)"));
    }
    let request: SendBroadcastMsgRequest = ctx.decode(body)?;
    let Some(random) = request.random else { return Err(fail(10004, "Random is required")) };
    let create = ctx.auto_create();
    let window = Ctx::window(CommandId::SendBroadcastMsg);
    let mut state = ctx.state();
    let from = state
        .sender(request.from_account.as_ref(), ctx.identifier, create)
        .ok_or_else(|| no_account(request.from_account.as_ref().map_or("", UserId::as_str)))?;
    state.broadcast_recent.roll(ctx.now);
    let repeat = state.broadcast_recent.recent(&random, ctx.now).into_iter().find_map(|index| {
        let first = &state.broadcasts[index];
        (first.from_account == from
            && first.msg_body == request.msg_body
            && first.cloud_custom_data == request.cloud_custom_data)
            .then_some(first.msg_seq)
    });
    if let Some(seq) = repeat {
        drop(state);
        ctx.duplicates(1);
        return Ok(ok(SendBroadcastMsgResult { msg_seq: Some(seq), extra: Extra::new() }));
    }
    let index = state.broadcasts.len();
    let message = GroupMessage {
        from_account: from,
        msg_seq: index as u64 + 1,
        msg_random: random,
        msg_time: ctx.now as i64,
        msg_body: request.msg_body,
        cloud_custom_data: request.cloud_custom_data,
        msg_priority: None,
        origin: GroupOrigin::Broadcast,
        recalled: false,
        online_only: false,
    };
    // Every live group receives it, with a sequence number of its own.
    for group in state.groups.values_mut().filter(|group| group.group_type.is_live()) {
        group.push_message(message.clone(), ctx.now, window);
    }
    let seq = message.msg_seq;
    state.broadcasts.push(message);
    state.broadcast_recent.insert(random, index, ctx.now);
    drop(state);
    ctx.stored(&ctx.inner.counters.broadcast, 1);
    Ok(ok(SendBroadcastMsgResult { msg_seq: Some(seq), extra: Extra::new() }))
}

pub(super) fn import_group_msg(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: ImportGroupMsgRequest = ctx.decode(body)?;
    let create = ctx.auto_create();
    let window = Ctx::window(CommandId::ImportGroupMsg);
    let mut state = ctx.state();
    checked_group(&state, &request.group_id, &request, CommandId::ImportGroupMsg)?;
    let mut senders = Vec::with_capacity(request.msg_list.len());
    for item in &request.msg_list {
        let id = item.from_account.as_str();
        senders.push(state.account_key(id, create).ok_or_else(|| no_account(id))?);
    }
    let randoms: Vec<u32> =
        request.msg_list.iter().map(|item| item.random.unwrap_or_else(|| state.rng.next_u32())).collect();
    let group = group_mut(&mut state, &request.group_id)?;
    let mut results = Vec::with_capacity(request.msg_list.len());
    let (mut stored, mut duplicates) = (0, 0);
    for ((item, from), random) in request.msg_list.into_iter().zip(senders).zip(randoms) {
        if let Some(first) = group.repeat_of(random, &from, &item.msg_body, None, ctx.now, window) {
            results.push(ImportMsgResult { msg_seq: first.msg_seq, msg_time: first.msg_time, result: 0 });
            duplicates += 1;
            continue;
        }
        // Each SendTime lies between the group's creation and now, and does not go back before the newest message.
        let latest = group.last_msg_time().unwrap_or(i64::MIN);
        if item.send_time > ctx.now as i64 || item.send_time < group.created as i64 || item.send_time < latest {
            results.push(ImportMsgResult { msg_seq: 0, msg_time: item.send_time, result: 10004 });
            continue;
        }
        let message = GroupMessage {
            from_account: from,
            msg_seq: 0,
            msg_random: random,
            msg_time: item.send_time,
            msg_body: item.msg_body,
            cloud_custom_data: None,
            msg_priority: None,
            origin: GroupOrigin::ImportGroupMsg,
            recalled: false,
            online_only: false,
        };
        let (seq, time) = group.push_message(message, ctx.now, window);
        results.push(ImportMsgResult { msg_seq: seq, msg_time: time, result: 0 });
        stored += 1;
    }
    drop(state);
    ctx.stored(&ctx.inner.counters.group, stored);
    ctx.duplicates(duplicates);
    Ok(ok(ImportGroupMsgResult { import_msg_result: Some(results), extra: Extra::new() }))
}

pub(super) fn group_msg_recall(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: GroupMsgRecallRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    checked_group(&state, &request.group_id, &request, CommandId::GroupMsgRecall)?;
    let group = group_mut(&mut state, &request.group_id)?;
    let results = request
        .msg_seq_list
        .iter()
        .map(|item| {
            let message = usize::try_from(item.msg_seq)
                .ok()
                .and_then(|seq| seq.checked_sub(1))
                .and_then(|index| group.messages.get_mut(index));
            // 10030: no such message. Recalling a recalled message again succeeds.
            let ret_code = match message {
                Some(message) => {
                    message.recalled = true;
                    0
                }
                None => 10030,
            };
            RecallRet { msg_seq: item.msg_seq, ret_code }
        })
        .collect();
    Ok(ok(GroupMsgRecallResult { recall_ret_list: Some(results), extra: Extra::new() }))
}

/// `MsgPriority` as history reports it: 1 high, 2 normal, 3 low.
fn priority_number(priority: Option<&MsgPriority>) -> u32 {
    match priority {
        Some(MsgPriority::High) => 1,
        Some(MsgPriority::Low) => 3,
        _ => 2,
    }
}

pub(super) fn group_msg_get_simple(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: GroupMsgGetSimpleRequest = ctx.decode(body)?;
    let state = ctx.state();
    let group = checked_group(&state, &request.group_id, &request, CommandId::GroupMsgGetSimple)?;
    let with_recalled = request.with_recalled_msg == Some(1);
    let top = request.req_msg_seq.unwrap_or(u64::MAX).min(group.messages.len() as u64) as usize;
    // Newest first, up to ReqMsgNumber; online-only messages are not history.
    let mut eligible = group.messages[..top]
        .iter()
        .rev()
        .filter(|message| !message.online_only && (with_recalled || !message.recalled));
    let page: Vec<GroupHistoryMsg> = eligible
        .by_ref()
        .take(request.req_msg_number as usize)
        .map(|message| GroupHistoryMsg {
            from_account: message.from_account.to_string(),
            is_place_msg: Some(if message.recalled { 2 } else { 0 }),
            msg_body: if message.recalled { Vec::new() } else { message.msg_body.elements().to_vec() },
            msg_priority: Some(priority_number(message.msg_priority.as_ref())),
            msg_random: message.msg_random,
            msg_seq: message.msg_seq,
            msg_time_stamp: message.msg_time,
            is_system_msg: Some(0),
            cloud_custom_data: message.cloud_custom_data.clone(),
            extra: Extra::new(),
        })
        .collect();
    let finished = eligible.next().is_none();
    Ok(ok(GroupMsgGetSimpleResult {
        group_id: Some(request.group_id.to_string()),
        is_finished: Some(u32::from(finished)),
        rsp_msg_list: Some(page),
        extra: Extra::new(),
    }))
}
