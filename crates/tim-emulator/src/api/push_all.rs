//! `all_member_push/im_push` (spec §3.10): a push to every account, recorded with its task id.
//!
//! `MsgRandom` identifies the task for the command table's window (7 days): a repeat answers the first task's id
//! and pushes nothing. Tags and attributes are not emulated, so a push with a `Condition` reaches no one.

use super::{Answer, Ctx, fail, ok};
use crate::messages::Push;
use tim_model::Extra;
use tim_model::push_all::{ImPushRequest, ImPushResult};

pub(super) fn im_push(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: ImPushRequest = ctx.decode(body)?;
    let Some(random) = request.msg_random else { return Err(fail(90005, "MsgRandom is required")) };
    let create = ctx.auto_create();
    let mut state = ctx.state();
    let from = state.sender(request.from_account.as_ref(), ctx.identifier, create).ok_or_else(|| {
        fail(90008, format!("From_Account {:?} does not exist", request.from_account.as_ref().map(|id| id.as_str())))
    })?;
    state.push_recent.roll(ctx.now);
    if let Some(index) = state.push_recent.recent(&random, ctx.now).first() {
        let task_id = state.pushes[*index].task_id.clone();
        drop(state);
        ctx.duplicates(1);
        return Ok(ok(ImPushResult { task_id: Some(task_id), extra: Extra::new() }));
    }
    let index = state.pushes.len();
    let task_id = format!("{}_{}_{}_{}", ctx.inner.sdkappid, index + 1, random, ctx.now);
    let recipients = if request.condition.is_some() { 0 } else { state.account_count() as u64 };
    state.pushes.push(Push {
        task_id: task_id.clone(),
        from_account: from,
        msg_random: random,
        msg_body: request.msg_body,
        recipients,
        time: ctx.now,
    });
    state.push_recent.insert(random, index, ctx.now);
    drop(state);
    ctx.stored(&ctx.inner.counters.push, 1);
    Ok(ok(ImPushResult { task_id: Some(task_id), extra: Extra::new() }))
}
