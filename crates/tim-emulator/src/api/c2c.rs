//! `openim`: sendmsg, batchsendmsg, importmsg, admin_msgwithdraw and admin_getroammsg (spec §3.1–3.3, §3.8).

use super::{Answer, Ctx, fail, ok, table_full, to_bytes};
use crate::fast;
use crate::messages::C2cOrigin;
use crate::state::{ImportKey, MsgIndex, Outgoing, Recipient, State};
use std::sync::Arc;
use tim_model::Extra;
use tim_model::UserId;
use tim_model::c2c::{
    AdminGetRoamMsgRequest, AdminGetRoamMsgResult, AdminMsgWithdrawRequest, BatchSendMsgRequest, BatchSendMsgResult,
    ImportMsgRequest, RecipientError, RoamMsg, SendMsgRequest, SendMsgResult,
};
use tim_model::command::CommandId;
use tim_model::envelope::{ActionStatus, NoFields, Response};

/// A required field the model's validation already checked; should it be absent anyway, the documented code.
fn required<T>(value: Option<T>, code: i64, field: &str) -> Result<T, bytes::Bytes> {
    value.ok_or_else(|| fail(code, format!("{field} is required")))
}

/// The sender's account: `From_Account`, or the admin when it is absent; 90008 when it does not exist.
fn sender(ctx: &Ctx<'_>, state: &mut State, from: Option<&UserId>, create: bool) -> Result<Arc<str>, bytes::Bytes> {
    state
        .sender(from, ctx.identifier, create)
        .ok_or_else(|| fail(90008, format!("From_Account {:?} does not exist", from.map(|id| id.as_str()))))
}

pub(super) fn sendmsg(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: SendMsgRequest = ctx.decode(body)?;
    let random = required(request.msg_random, 90005, "MsgRandom")?;
    let create = ctx.auto_create();
    let mut state = ctx.state();
    let from = sender(ctx, &mut state, request.from_account.as_ref(), create)?;
    let sender_name = std::sync::Arc::clone(&from);
    let delivery = request.delivery();
    let outgoing = Outgoing {
        from,
        seq: request.msg_seq,
        random,
        time: request.msg_time_stamp,
        body: request.msg_body,
        cloud_custom_data: request.cloud_custom_data,
        origin: C2cOrigin::SendMsg,
        delivery,
    };
    let to = std::iter::once(Recipient::new(request.to_account.as_str()));
    let report = state.send_c2c(outgoing, to, ctx.now, create).map_err(table_full)?;
    drop(state);
    if !report.missing.is_empty() {
        return Err(fail(90012, format!("To_Account {:?} is not registered", request.to_account.as_str())));
    }
    ctx.stored(&ctx.inner.counters.c2c, report.stored);
    ctx.duplicates(report.duplicates);
    let msg_id = Some(msg_id(&sender_name, report.msg_time, random));
    Ok(ok(SendMsgResult {
        msg_time: Some(report.msg_time),
        msg_key: Some(report.msg_key),
        msg_id,
        extra: Extra::new(),
    }))
}

pub(super) fn batchsendmsg(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    // The hot path of every fan-out: recipients borrowed from the body when the fast path can vouch for them,
    // else the whole body decoded by the model (which then also names any error).
    match fast::batch(body) {
        Some(batch) => {
            let (request, recipients) = batch.into_parts();
            store_batch(ctx, request, recipients.iter())
        }
        None => {
            let mut request: BatchSendMsgRequest = ctx.decode(body)?;
            let ids = std::mem::take(&mut request.to_account);
            store_batch(ctx, request, ids.iter().map(|id| Recipient::new(id.as_str())))
        }
    }
}

/// Stores a validated batch whose recipients were taken out of `request`.
fn store_batch<'r>(
    ctx: &Ctx<'_>,
    request: BatchSendMsgRequest,
    recipients: impl ExactSizeIterator<Item = Recipient<'r>>,
) -> Answer {
    let count = recipients.len();
    let random = required(request.msg_random, 90005, "MsgRandom")?;
    ctx.admit_recipients(CommandId::BatchSendMsg, count)?;
    let create = ctx.auto_create();
    let mut state = ctx.state();
    let from = sender(ctx, &mut state, request.from_account.as_ref(), create)?;
    let sender_name = std::sync::Arc::clone(&from);
    let delivery = request.delivery();
    let outgoing = Outgoing {
        from,
        seq: request.msg_seq,
        random,
        time: None,
        body: request.msg_body,
        cloud_custom_data: request.cloud_custom_data,
        origin: C2cOrigin::BatchSendMsg,
        delivery,
    };
    let report = state.send_c2c(outgoing, recipients, ctx.now, create).map_err(table_full)?;
    drop(state);
    ctx.stored(&ctx.inner.counters.c2c, report.stored);
    ctx.duplicates(report.duplicates);
    let failed = report.missing.len();
    let error_list = (failed > 0).then(|| {
        report
            .missing
            .into_iter()
            .map(|to_account| RecipientError { to_account, error_code: 70107 })
            .collect::<Vec<_>>()
    });
    let (action_status, error_code, error_info, msg_key) = if failed == 0 {
        (ActionStatus::Ok, 0, String::new(), Some(report.msg_key))
    } else if failed < count {
        // Partial failure: SomeError with code 0, the failed recipients listed.
        (ActionStatus::SomeError, 0, String::new(), Some(report.msg_key))
    } else {
        (ActionStatus::Fail, 90012, "no To_Account is registered".to_owned(), None)
    };
    let msg_id = msg_key.is_some().then(|| msg_id(&sender_name, report.msg_time, random));
    let body = BatchSendMsgResult { msg_key, msg_id, error_list, extra: Extra::new() };
    Ok(to_bytes(&Response { action_status, error_code, error_info: Some(error_info), body }))
}

pub(super) fn importmsg(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: ImportMsgRequest = ctx.decode(body)?;
    let random = required(request.msg_random, 90005, "MsgRandom")?;
    let create = ctx.auto_create();
    let mut state = ctx.state();
    let from = state
        .account_key(request.from_account.as_str(), create)
        .ok_or_else(|| fail(90008, format!("From_Account {:?} does not exist", request.from_account.as_str())))?;
    let to = state
        .account_key(request.to_account.as_str(), create)
        .ok_or_else(|| fail(90012, format!("To_Account {:?} is not registered", request.to_account.as_str())))?;
    let seq = request.msg_seq.unwrap_or_else(|| state.rng.next_u32());
    // Deduplicated for ever on the triple, in either direction; the first import wins.
    let key = ImportKey::new(from.clone(), to.clone(), seq, random, request.msg_time_stamp);
    if state.imported.contains(&key) {
        drop(state);
        ctx.duplicates(1);
        return Ok(ok(NoFields::default()));
    }
    let delivery = request.delivery();
    let message = crate::messages::C2cMessage {
        from_account: from,
        msg_seq: seq,
        msg_random: random,
        msg_time: request.msg_time_stamp,
        msg_body: request.msg_body,
        cloud_custom_data: request.cloud_custom_data,
        origin: C2cOrigin::ImportMsg,
        delivery,
    };
    state.store_one(message, &to).map_err(table_full)?;
    state.imported.insert(key);
    drop(state);
    ctx.stored(&ctx.inner.counters.c2c, 1);
    Ok(ok(NoFields::default()))
}

/// A message's client identifier as the service writes it, `{sender number}-{MsgTime}-{MsgRandom}`: the sender's
/// number is a stable hash of its UserID here, in the range the service's numbers fall in.
fn msg_id(sender: &str, msg_time: i64, random: u32) -> String {
    let hash = sender
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3));
    format!("{}-{msg_time}-{random}", 144_115_188_075_855_872_u64 + hash % 1_000_000_000_000)
}

/// `{MsgSeq}_{MsgRandom}_{MsgTime}`.
fn parse_msg_key(key: &str) -> Option<(u32, u32, i64)> {
    let mut parts = key.split('_');
    let seq = parts.next()?.parse().ok()?;
    let random = parts.next()?.parse().ok()?;
    let time = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((seq, random, time))
}

pub(super) fn admin_msgwithdraw(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: AdminMsgWithdrawRequest = ctx.decode(body)?;
    let (seq, random, time) = parse_msg_key(&request.msg_key)
        .ok_or_else(|| fail(90054, format!("MsgKey {:?} is not a valid message key", request.msg_key)))?;
    let mut state = ctx.state();
    let from = state
        .account_key(request.from_account.as_str(), false)
        .ok_or_else(|| fail(90008, format!("From_Account {:?} does not exist", request.from_account.as_str())))?;
    let not_found = || {
        fail(20022, format!("no message {} from {:?} to {:?}", request.msg_key, &*from, request.to_account.as_str()))
    };
    let to = state.account_index(request.to_account.as_str()).ok_or_else(not_found)?;
    let index = state
        .messages
        .iter()
        .enumerate()
        .rev()
        .find(|(_, stored)| {
            let message = &stored.message;
            message.from_account == from
                && message.msg_seq == seq
                && message.msg_random == random
                && message.msg_time == time
                && stored.recipients.contains(to)
        })
        .map(|(index, _)| index as MsgIndex)
        .ok_or_else(not_found)?;
    if !state.recall(to, index) {
        // A repeat: the service answers 20023, which callers treat as done.
        return Err(fail(20023, "msg has been withdrawed"));
    }
    Ok(ok(NoFields::default()))
}

pub(super) fn admin_getroammsg(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: AdminGetRoamMsgRequest = ctx.decode(body)?;
    let operator = request.operator_account.as_str();
    let peer = request.peer_account.as_str();
    let state = ctx.state();
    // The operator's copy of the conversation: the peer's messages to the operator kept in the history, and the
    // operator's own messages to the peer kept in the sender's history (not with SyncOtherMachine 2).
    let mut found: Vec<(MsgIndex, &str, bool)> = Vec::new();
    let directions: &[(&str, &str, bool)] = if operator == peer {
        &[(operator, operator, false)]
    } else {
        &[(operator, peer, false), (peer, operator, true)]
    };
    for &(owner, sender, own) in directions {
        for (_, index, recalled) in state.inbox(owner).into_iter().flatten() {
            let message = &state.messages[index as usize].message;
            let kept = if own { message.delivery.sender_history } else { message.delivery.history };
            if &*message.from_account == sender
                && kept
                && (request.min_time..=request.max_time).contains(&message.msg_time)
            {
                found.push((index, owner, recalled));
            }
        }
    }
    // Newest first; the next page asks with MaxTime = LastMsgTime and LastMsgKey.
    found.sort_by(|a, b| {
        let (x, y) = (&state.messages[a.0 as usize].message, &state.messages[b.0 as usize].message);
        (y.msg_time, b.0).cmp(&(x.msg_time, a.0))
    });
    let start = request
        .last_msg_key
        .as_deref()
        .and_then(|last| {
            found.iter().position(|(index, _, _)| state.messages[*index as usize].message.msg_key() == last)
        })
        .map_or(0, |position| position + 1);
    let page: Vec<RoamMsg> = found
        .iter()
        .skip(start)
        .take(request.max_cnt as usize)
        .map(|&(index, to, recalled)| {
            let message = &state.messages[index as usize].message;
            RoamMsg {
                from_account: message.from_account.to_string(),
                to_account: to.to_owned(),
                msg_seq: message.msg_seq,
                msg_random: message.msg_random,
                msg_time_stamp: message.msg_time,
                msg_flag_bits: Some(if recalled { 8 } else { 0 }),
                is_peer_read: Some(0),
                msg_key: message.msg_key(),
                msg_body: if recalled { Vec::new() } else { message.msg_body.elements().to_vec() },
                cloud_custom_data: message.cloud_custom_data.clone(),
                extra: Extra::new(),
            }
        })
        .collect();
    let complete = start + page.len() >= found.len();
    let last = page.last();
    let result = AdminGetRoamMsgResult {
        complete: Some(u32::from(complete)),
        msg_cnt: Some(page.len() as u32),
        last_msg_time: last.map(|message| message.msg_time_stamp),
        last_msg_key: last.map(|message| message.msg_key.clone()),
        msg_list: Some(page),
        extra: Extra::new(),
    };
    Ok(ok(result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msg_keys_parse_only_in_their_documented_form() {
        assert_eq!(parse_msg_key("48374_2837546_1557481126"), Some((48374, 2_837_546, 1_557_481_126)));
        for bad in ["", "1_2", "1_2_3_4", "a_2_3", "1__3", "99999999999_1_1"] {
            assert_eq!(parse_msg_key(bad), None, "{bad}");
        }
    }
}
