//! `im_open_login_svc`: account_import, multiaccount_import, account_check, account_delete and kick; and
//! `openim/query_online_status`.
//!
//! No client logs in to the emulator, so a kick has no session to end: it checks that the account exists and is
//! counted in `/emulator/stats` (`logins_invalidated`).
//!
//! Deleting accounts is allowed (the service allows it only for trial-edition apps, answering 71000 otherwise);
//! a deleted account loses its inbox.

use super::{Answer, Ctx, fail, ok};
use crate::state::State;
use tim_model::Extra;
use tim_model::account::{
    AccountCheckRequest, AccountDeleteRequest, AccountImportRequest, AccountResult, AccountResults, KickRequest,
    MultiAccountImportRequest, MultiAccountImportResult, OnlineStatus, OnlineStatusError, QueryOnlineStatusResult,
};
use tim_model::envelope::NoFields;
use tim_model::profile::{IMAGE_TAG, NICK_TAG};
use tim_model::{TextOrNumber, account::QueryOnlineStatusRequest};

/// The account does not exist.
const NO_SUCH_ACCOUNT: i64 = 70107;

/// Sets the profile fields that were sent, keeping the others.
fn update_profile(state: &mut State, id: &str, nick: Option<String>, face_url: Option<String>) {
    if nick.is_none() && face_url.is_none() {
        return;
    }
    let Some(account) = state.account_index(id) else { return };
    let profile = state.profiles.entry(account).or_default();
    for (tag, value) in [(NICK_TAG, nick), (IMAGE_TAG, face_url)] {
        if let Some(value) = value {
            profile.tags.insert(tag.to_owned(), TextOrNumber::Text(value));
        }
    }
}

pub(super) fn account_import(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: AccountImportRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    // Importing an existing account succeeds and updates its profile.
    state.account_key(request.user_id.as_str(), true);
    update_profile(&mut state, request.user_id.as_str(), request.nick, request.face_url);
    Ok(ok(NoFields::default()))
}

pub(super) fn multiaccount_import(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: MultiAccountImportRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    for id in request.accounts.iter().flatten() {
        state.account_key(id.as_str(), true);
    }
    for item in request.account_list.into_iter().flatten() {
        state.account_key(item.user_id.as_str(), true);
        update_profile(&mut state, item.user_id.as_str(), item.nick, item.face_url);
    }
    Ok(ok(MultiAccountImportResult { fail_accounts: Some(Vec::new()), extra: Extra::new() }))
}

pub(super) fn account_check(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: AccountCheckRequest = ctx.decode(body)?;
    let state = ctx.state();
    let items = request
        .check_item
        .iter()
        .map(|item| {
            let imported = state.account_exists(item.user_id.as_str());
            AccountResult {
                user_id: item.user_id.to_string(),
                result_code: 0,
                result_info: String::new(),
                account_status: Some(if imported { "Imported" } else { "NotImported" }.to_owned()),
            }
        })
        .collect();
    Ok(ok(AccountResults { result_item: Some(items), extra: Extra::new() }))
}

pub(super) fn account_delete(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: AccountDeleteRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    let items = request
        .delete_item
        .iter()
        .map(|item| {
            let deleted = state.delete_account(item.user_id.as_str());
            // 70107: the account does not exist.
            let (result_code, result_info) = if deleted {
                (0, String::new())
            } else {
                (NO_SUCH_ACCOUNT, "Err_TLS_PT_Open_Login_Account_Not_Exist".to_owned())
            };
            AccountResult { user_id: item.user_id.to_string(), result_code, result_info, account_status: None }
        })
        .collect();
    Ok(ok(AccountResults { result_item: Some(items), extra: Extra::new() }))
}

/// No client logs in to the emulator (it has no client connections), so every existing account is `Offline`;
/// an account that does not exist is listed in `ErrorList` with 70107. The call fails only when every account does.
pub(super) fn query_online_status(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: QueryOnlineStatusRequest = ctx.decode(body)?;
    let state = ctx.state();
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for id in &request.to_account {
        if state.account_exists(id.as_str()) {
            found.push(OnlineStatus { to_account: id.to_string(), status: "Offline".to_owned(), detail: None });
        } else {
            errors.push(OnlineStatusError { to_account: id.to_string(), error_code: NO_SUCH_ACCOUNT });
        }
    }
    if found.is_empty() {
        return Err(fail(NO_SUCH_ACCOUNT, "none of the accounts exists"));
    }
    let error_list = (!errors.is_empty()).then_some(errors);
    Ok(ok(QueryOnlineStatusResult { query_result: Some(found), error_list, extra: Extra::new() }))
}

pub(super) fn kick(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: KickRequest = ctx.decode(body)?;
    if !ctx.state().account_exists(request.user_id.as_str()) {
        return Err(fail(NO_SUCH_ACCOUNT, format!("account {:?} does not exist", request.user_id.as_str())));
    }
    crate::stats::add(&ctx.inner.counters.logins_invalidated, 1);
    Ok(ok(NoFields::default()))
}
