//! `openconfigsvr`: setnospeaking and getnospeaking, the global mute of an account on the emulator's clock.
//!
//! Times are seconds from the call: 0 unmutes, 4294967295 mutes for ever, and getnospeaking answers the seconds
//! left. A group-muted account's send_group_msg is refused with 10017. One-to-one sends are not refused: the REST
//! sendmsg and batchsendmsg pages say they do not check whether the sender is muted (the 20012 of a muted sender
//! applies to the sends of the clients, which do not reach the emulator). Like the service, these two APIs answer
//! without `ActionStatus`.

use super::{Ctx, to_bytes};
use crate::codes;
use crate::state::{GlobalMute, MuteEnd};
use bytes::Bytes;
use tim_model::api::{TypedRequest, decode_request};
use tim_model::envelope::{ActionStatus, Response};
use tim_model::global_mute::{GetNoSpeakingRequest, GetNoSpeakingResult, SetNoSpeakingRequest};
use tim_model::{Extra, UserId};

/// The field named an account that does not exist (the pages call it invalid).
const SET_ACCOUNT_INVALID: i64 = 130005;
const GET_ACCOUNT_INVALID: i64 = 130003;

type Answer = Result<Bytes, Bytes>;

/// An answer of these APIs: the envelope without `ActionStatus`.
fn answer<T: serde::Serialize>(code: i64, info: impl Into<String>, body: T) -> Bytes {
    to_bytes(&Response { action_status: ActionStatus::absent(), error_code: code, error_info: Some(info.into()), body })
}

fn refuse(code: i64, info: impl Into<String>) -> Bytes {
    answer(code, info, tim_model::envelope::NoFields::default())
}

fn decode<T: TypedRequest>(body: &[u8]) -> Result<T, Bytes> {
    decode_request::<T>(body).map_err(|errors| {
        let (code, info) = codes::for_validation(T::COMMAND, &errors, body);
        refuse(code, info)
    })
}

fn no_account(code: i64, id: &UserId) -> Bytes {
    refuse(code, format!("account {:?} does not exist", id.as_str()))
}

pub(super) fn setnospeaking(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: SetNoSpeakingRequest = decode(body)?;
    let mut state = ctx.state();
    let account = state
        .account_index(request.set_account.as_str())
        .ok_or_else(|| no_account(SET_ACCOUNT_INVALID, &request.set_account))?;
    let mute = state.mutes.entry(account).or_default();
    if let Some(seconds) = request.c2c_msg_nospeaking_time {
        mute.c2c = MuteEnd::from_seconds(seconds, ctx.now);
    }
    if let Some(seconds) = request.group_msg_nospeaking_time {
        mute.group = MuteEnd::from_seconds(seconds, ctx.now);
    }
    if *mute == GlobalMute::default() {
        state.mutes.remove(&account);
    }
    Ok(answer(0, "", tim_model::envelope::NoFields::default()))
}

pub(super) fn getnospeaking(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: GetNoSpeakingRequest = decode(body)?;
    let state = ctx.state();
    let account = state
        .account_index(request.get_account.as_str())
        .ok_or_else(|| no_account(GET_ACCOUNT_INVALID, &request.get_account))?;
    let mute = state.mutes.get(&account).copied().unwrap_or_default();
    let result = GetNoSpeakingResult {
        c2c_msg_nospeaking_time: Some(mute.c2c.remaining(ctx.now)),
        group_msg_nospeaking_time: Some(mute.group.remaining(ctx.now)),
        extra: Extra::new(),
    };
    Ok(answer(0, "", result))
}
