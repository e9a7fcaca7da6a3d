//! `sns` and `follow`: friends, friend lists, blocklists and follows (friend_add, friend_import, friend_update, friend_delete, friend_delete_all,
//! friend_check, friend_get, friend_get_list, black_list_add, black_list_delete, black_list_get,
//! black_list_check, group_add, group_delete, group_get; follow_add, follow_delete, follow_check, follow_get,
//! follow_get_info). Following and unfollowing are idempotent (the pages do not say what a repeat answers); an
//! account follows at most 5000 accounts (32100); follow_get's cursor is the position of the next entry.
//!
//! Each account has a friend list (a friendship is one-way when only one side lists the other), a blocklist and the
//! friend requests it sent that wait for confirmation. friend_add follows the added account's
//! `Tag_Profile_IM_AllowType` unless `ForceAddFlags` is 1: `AllowType_Type_AllowAny` adds, `AllowType_Type_DenyAny`
//! refuses (30516), and `AllowType_Type_NeedConfirm`, which is also what an account without the field gets, records
//! a pending request (30539); no client can confirm it here. Blocking ends a friendship both ways; while either
//! account blocks the other, adding answers 30515 (the blocker adds) or 30525 (the blocked adds). An account has at
//! most 3000 friends (30010, or 30014 for the other side) and blocks at most 1000 accounts (30013). Deleting an
//! account ends all of this (see `State::delete_account`).

use super::{Answer, Ctx, fail, ok};
use crate::state::{AccountIndex, Friend, Relations, State};
use tim_model::envelope::NoFields;
use tim_model::profile::{self, ALLOW_TYPE_ALLOW_ANY, ALLOW_TYPE_DENY_ANY, ALLOW_TYPE_TAG};
use tim_model::relationship::{
    ADD_SOURCE_TAG, ADD_TIME_TAG, ADD_WORDING_TAG, FRIEND_PAGE, FriendData, FriendFields, FriendGetListRequest,
    FriendGetListResult, FriendGetRequest, FriendGetResult, FriendUpdateRequest, GROUP_TAG, REMARK_TAG, SnsItem,
};
use tim_model::relationship::{
    ADD_TYPE_SINGLE, BlackListAddRequest, BlackListCheckRequest, BlackListCheckResult, BlackListDeleteRequest,
    BlackListGetRequest, BlackListGetResult, BlockedAccount, DELETE_TYPE_BOTH, FriendAddRequest, FriendCheckRequest,
    FriendCheckResult, FriendDeleteAllRequest, FriendDeleteRequest, FriendImportRequest, FriendResultItem,
    FriendResults, MAX_BLOCKED, MAX_FRIENDS, Relation, RelationItem,
};
use tim_model::relationship::{
    FollowAddRequest, FollowCheckItem, FollowCheckRequest, FollowCheckResult, FollowCounts, FollowDeleteRequest,
    FollowEntry, FollowGetInfoRequest, FollowGetInfoResult, FollowGetRequest, FollowGetResult, MAX_FOLLOWING,
};
use tim_model::relationship::{
    FriendGroupAddRequest, FriendGroupAddResult, FriendGroupDeleteRequest, FriendGroupGetRequest, FriendGroupGetResult,
    FriendList, FriendListsSequence, MAX_FRIEND_GROUPS, NEED_FRIEND,
};
use tim_model::{Extra, SnsValue, UserId};

/// The requested account does not exist.
const NO_SUCH_ACCOUNT: i64 = 30003;
/// Incorrect parameters: already done, not there, or the account itself.
const INVALID: i64 = 30001;
const OWN_FRIENDS_FULL: i64 = 30010;
const BLOCKLIST_FULL: i64 = 30013;
const PEER_FRIENDS_FULL: i64 = 30014;
const PEER_IN_MY_BLOCKLIST: i64 = 30515;
const PEER_DENIES_ANY: i64 = 30516;
const IN_PEER_BLOCKLIST: i64 = 30525;
const PEER_NEEDS_CONFIRM: i64 = 30539;
/// friend_delete: the account is not a friend.
const NOT_A_FRIEND: i64 = 31704;

/// One account's outcome.
type Outcome = Result<(), (i64, &'static str)>;

/// The answer of a call with one outcome per account.
fn results(outcomes: Vec<(String, Outcome)>) -> FriendResults {
    let mut failed = Vec::new();
    let items = outcomes
        .into_iter()
        .map(|(account, outcome)| {
            let (code, info) = outcome.err().unwrap_or((0, ""));
            if code != 0 {
                failed.push(account.clone());
            }
            FriendResultItem { to_account: account, result_code: code, result_info: info.to_owned() }
        })
        .collect();
    FriendResults {
        result_item: Some(items),
        fail_account: (!failed.is_empty()).then_some(failed),
        error_display: Some(String::new()),
        extra: Extra::new(),
    }
}

fn no_from(id: &UserId) -> Answer {
    Err(fail(NO_SUCH_ACCOUNT, format!("account {:?} does not exist", id.as_str())))
}

/// Adds `to` to `from`'s list with `friend`, unless it is there already.
fn befriend(state: &mut State, from: AccountIndex, to: AccountIndex, friend: Friend) {
    let relations = state.relations.entry(from).or_default();
    relations.pending.remove(&to);
    relations.ensure_lists(&friend.groups);
    relations.friends.entry(to).or_insert(friend);
    relations.standard_sequence += 1;
}

fn relations(state: &State, account: AccountIndex) -> Option<&Relations> {
    state.relations.get(&account)
}

fn friend_count(state: &State, account: AccountIndex) -> usize {
    relations(state, account).map_or(0, |r| r.friends.len())
}

pub(super) fn friend_add(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FriendAddRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let both = request.add_type.as_deref() != Some(ADD_TYPE_SINGLE);
    let forced = request.force_add_flags == Some(1);
    let mut outcomes = Vec::new();
    for item in request.add_friend_item {
        let outcome = (|| -> Outcome {
            let to = state
                .account_index(item.to_account.as_str())
                .ok_or((NO_SUCH_ACCOUNT, "Err_SNS_FriendAdd_Account_Not_Exist"))?;
            let mine = relations(&state, from);
            if to == from || mine.is_some_and(|r| r.has_friend(to)) {
                return Err((INVALID, "Err_SNS_FriendAdd_Friend_Exist"));
            }
            if mine.is_some_and(|r| r.blocks(to)) {
                return Err((PEER_IN_MY_BLOCKLIST, "Err_SNS_FriendAdd_Peer_In_My_BlackList"));
            }
            if relations(&state, to).is_some_and(|r| r.blocks(from)) {
                return Err((IN_PEER_BLOCKLIST, "Err_SNS_FriendAdd_I_In_Peer_BlackList"));
            }
            if friend_count(&state, from) >= MAX_FRIENDS {
                return Err((OWN_FRIENDS_FULL, "Err_SNS_FriendAdd_My_Friend_Num_Exceed_Threshold"));
            }
            if both
                && friend_count(&state, to) >= MAX_FRIENDS
                && !relations(&state, to).is_some_and(|r| r.has_friend(from))
            {
                return Err((PEER_FRIENDS_FULL, "Err_SNS_FriendAdd_Peer_Friend_Num_Exceed_Threshold"));
            }
            if !forced {
                let allow = state.profiles.get(&to).and_then(|p| p.tags.get(ALLOW_TYPE_TAG)).and_then(|v| v.as_text());
                match allow {
                    Some(ALLOW_TYPE_ALLOW_ANY) => {}
                    Some(ALLOW_TYPE_DENY_ANY) => return Err((PEER_DENIES_ANY, "Err_SNS_FriendAdd_Peer_Deny_Any")),
                    _ => {
                        state.relations.entry(from).or_default().pending.insert(to);
                        return Err((PEER_NEEDS_CONFIRM, "Err_SNS_FriendAdd_Need_Confirm"));
                    }
                }
            }
            let friend = Friend {
                remark: item.remark.clone(),
                groups: item.group_name.clone().into_iter().collect(),
                add_source: item.add_source.clone(),
                add_wording: item.add_wording.clone(),
                add_time: ctx.now as i64,
                custom: Default::default(),
            };
            befriend(&mut state, from, to, friend);
            if both {
                let back =
                    Friend { add_source: item.add_source.clone(), add_time: ctx.now as i64, ..Friend::default() };
                befriend(&mut state, to, from, back);
            }
            Ok(())
        })();
        outcomes.push((item.to_account.to_string(), outcome));
    }
    Ok(ok(results(outcomes)))
}

pub(super) fn friend_import(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FriendImportRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let mut outcomes = Vec::new();
    for item in request.add_friend_item {
        let outcome = (|| -> Outcome {
            let to = state
                .account_index(item.to_account.as_str())
                .ok_or((NO_SUCH_ACCOUNT, "Err_SNS_FriendImport_Account_Not_Exist"))?;
            if to == from {
                return Err((INVALID, "Err_SNS_FriendImport_Self"));
            }
            let known = relations(&state, from).is_some_and(|r| r.has_friend(to));
            if !known && friend_count(&state, from) >= MAX_FRIENDS {
                return Err((OWN_FRIENDS_FULL, "Err_SNS_FriendImport_My_Friend_Num_Exceed_Threshold"));
            }
            let friend = Friend {
                remark: item.remark.clone(),
                groups: item.group_name.clone().unwrap_or_default(),
                add_source: item.add_source.clone(),
                add_wording: item.add_wording.clone(),
                add_time: item.add_time.unwrap_or(ctx.now as i64),
                custom: item.custom_item.iter().flatten().map(|c| (c.tag.clone(), c.value.clone())).collect(),
            };
            // An import writes the friend's data, replacing what an earlier import or add wrote.
            let relations = state.relations.entry(from).or_default();
            relations.pending.remove(&to);
            if !friend.custom.is_empty() {
                relations.custom_sequence += 1;
            }
            relations.ensure_lists(&friend.groups);
            relations.friends.insert(to, friend);
            relations.standard_sequence += 1;
            Ok(())
        })();
        outcomes.push((item.to_account.to_string(), outcome));
    }
    Ok(ok(results(outcomes)))
}

/// Removes `to` from `from`'s list; also `from` from `to`'s when `both`. Whether `to` was in `from`'s list.
fn unfriend(state: &mut State, from: AccountIndex, to: AccountIndex, both: bool) -> bool {
    let removed = |relations: &mut Relations, other: AccountIndex| {
        let was = relations.friends.remove(&other).is_some();
        if was {
            relations.standard_sequence += 1;
        }
        was
    };
    let was = state.relations.get_mut(&from).is_some_and(|r| removed(r, to));
    if both && let Some(theirs) = state.relations.get_mut(&to) {
        removed(theirs, from);
    }
    was
}

pub(super) fn friend_delete(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FriendDeleteRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let both = request.delete_type.as_deref() == Some(DELETE_TYPE_BOTH);
    let outcomes = request
        .to_account
        .iter()
        .map(|id| {
            let outcome = match state.account_index(id.as_str()) {
                None => Err((NO_SUCH_ACCOUNT, "Err_SNS_FriendDelete_Account_Not_Exist")),
                Some(to) if unfriend(&mut state, from, to, both) => Ok(()),
                Some(_) => Err((NOT_A_FRIEND, "Err_SNS_FriendDelete_Not_Friend")),
            };
            (id.to_string(), outcome)
        })
        .collect();
    Ok(ok(results(outcomes)))
}

pub(super) fn friend_delete_all(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FriendDeleteAllRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let both = request.delete_type.as_deref() == Some(DELETE_TYPE_BOTH);
    let friends: Vec<AccountIndex> =
        relations(&state, from).map(|r| r.friends.keys().copied().collect()).unwrap_or_default();
    for to in friends {
        unfriend(&mut state, from, to, both);
    }
    Ok(ok(NoFields::default()))
}

/// One relation per account: whether B is in A's list (`has`) and, for two-way checks, A in B's.
fn check(
    state: &State,
    from: AccountIndex,
    accounts: &[UserId],
    both: bool,
    has: impl Fn(&Relations, AccountIndex) -> bool,
    name: impl Fn(Relation) -> &'static str,
) -> (Vec<RelationItem>, Option<Vec<String>>) {
    let mut failed = Vec::new();
    let items = accounts
        .iter()
        .map(|id| {
            let lists = |a: AccountIndex, b: AccountIndex| relations(state, a).is_some_and(|r| has(r, b));
            let (relation, code, info) = match state.account_index(id.as_str()) {
                Some(to) => {
                    let relation = Relation::of(lists(from, to), both.then(|| lists(to, from)));
                    (relation, 0, "")
                }
                None => {
                    failed.push(id.to_string());
                    (Relation::None, NO_SUCH_ACCOUNT, "Err_SNS_Check_Account_Not_Exist")
                }
            };
            RelationItem {
                to_account: id.to_string(),
                relation: name(relation).to_owned(),
                result_code: code,
                result_info: info.to_owned(),
            }
        })
        .collect();
    (items, (!failed.is_empty()).then_some(failed))
}

pub(super) fn friend_check(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FriendCheckRequest = ctx.decode(body)?;
    let state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let (items, failed) =
        check(&state, from, &request.to_account, request.both_ways(), Relations::has_friend, Relation::friend_name);
    let result = FriendCheckResult {
        info_item: Some(items),
        fail_account: failed,
        error_display: Some(String::new()),
        extra: Extra::new(),
    };
    Ok(ok(result))
}

pub(super) fn black_list_add(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: BlackListAddRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let mut outcomes = Vec::new();
    for id in &request.to_account {
        let outcome = (|| -> Outcome {
            let to =
                state.account_index(id.as_str()).ok_or((NO_SUCH_ACCOUNT, "Err_SNS_BlackListAdd_Account_Not_Exist"))?;
            let mine = state.relations.entry(from).or_default();
            if to == from || mine.blocks(to) {
                return Err((INVALID, "Err_SNS_BlackListAdd_Already_Exist"));
            }
            if mine.blocked.len() >= MAX_BLOCKED {
                return Err((BLOCKLIST_FULL, "Err_SNS_BlackListAdd_Num_Exceed_Threshold"));
            }
            mine.blocked.push((to, ctx.now as i64));
            mine.blocklist_sequence += 1;
            mine.pending.remove(&to);
            // Blocking ends the friendship both ways.
            unfriend(&mut state, from, to, true);
            if let Some(theirs) = state.relations.get_mut(&to) {
                theirs.pending.remove(&from);
            }
            Ok(())
        })();
        outcomes.push((id.to_string(), outcome));
    }
    Ok(ok(results(outcomes)))
}

pub(super) fn black_list_delete(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: BlackListDeleteRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let mut outcomes = Vec::new();
    for id in &request.to_account {
        let outcome = match state.account_index(id.as_str()) {
            None => Err((NO_SUCH_ACCOUNT, "Err_SNS_BlackListDelete_Account_Not_Exist")),
            Some(to) => {
                let mine = state.relations.entry(from).or_default();
                let before = mine.blocked.len();
                mine.blocked.retain(|(blocked, _)| *blocked != to);
                if mine.blocked.len() < before {
                    mine.blocklist_sequence += 1;
                    Ok(())
                } else {
                    Err((INVALID, "Err_SNS_BlackListDelete_Not_Exist"))
                }
            }
        };
        outcomes.push((id.to_string(), outcome));
    }
    Ok(ok(results(outcomes)))
}

pub(super) fn black_list_get(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: BlackListGetRequest = ctx.decode(body)?;
    let state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let empty = Relations::default();
    let mine = relations(&state, from).unwrap_or(&empty);
    let start = request.start_index as usize;
    let page: Vec<BlockedAccount> = mine
        .blocked
        .iter()
        .skip(start)
        .take(request.max_limited as usize)
        .map(|(account, at)| BlockedAccount {
            to_account: state.name_of(*account).to_owned(),
            add_black_time_stamp: *at,
        })
        .collect();
    let next = start + page.len();
    let result = BlackListGetResult {
        black_list_item: Some(page),
        // 0 once the whole list has been read.
        start_index: Some(if next >= mine.blocked.len() { 0 } else { u32::try_from(next).unwrap_or(u32::MAX) }),
        current_sequence: Some(mine.blocklist_sequence),
        error_display: Some(String::new()),
        extra: Extra::new(),
    };
    Ok(ok(result))
}

pub(super) fn black_list_check(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: BlackListCheckRequest = ctx.decode(body)?;
    let state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let (items, failed) =
        check(&state, from, &request.to_account, request.both_ways(), Relations::blocks, Relation::blocklist_name);
    let result = BlackListCheckResult {
        black_list_check_item: Some(items),
        fail_account: failed,
        error_display: Some(String::new()),
        extra: Extra::new(),
    };
    Ok(ok(result))
}

pub(super) fn friend_update(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FriendUpdateRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let mut outcomes = Vec::new();
    for item in request.update_item {
        let to = state.account_index(item.to_account.as_str());
        let relations = state.relations.entry(from).or_default();
        let mut new_lists = Vec::new();
        let outcome = match to.and_then(|to| relations.friends.get_mut(&to)) {
            None if to.is_none() => Err((NO_SUCH_ACCOUNT, "Err_SNS_FriendUpdate_Account_Not_Exist")),
            None => Err((INVALID, "Err_SNS_FriendUpdate_Friend_Not_Exist")),
            Some(friend) => {
                let (mut standard, mut custom) = (false, false);
                for field in item.sns_item {
                    match (field.tag.as_str(), field.value) {
                        (REMARK_TAG, SnsValue::Text(text)) => {
                            friend.remark = Some(text);
                            standard = true;
                        }
                        (GROUP_TAG, SnsValue::List(names)) => {
                            new_lists.extend(names.iter().cloned());
                            friend.groups = names;
                            standard = true;
                        }
                        (_, SnsValue::Text(text)) => {
                            friend.custom.insert(field.tag, tim_model::TextOrNumber::Text(text));
                            custom = true;
                        }
                        (_, SnsValue::Number(number)) => {
                            friend.custom.insert(field.tag, tim_model::TextOrNumber::Number(number));
                            custom = true;
                        }
                        // The model refuses lists for other tags.
                        (_, SnsValue::List(_)) => {}
                    }
                }
                relations.standard_sequence += u64::from(standard);
                relations.custom_sequence += u64::from(custom);
                Ok(())
            }
        };
        relations.ensure_lists(&new_lists);
        outcomes.push((item.to_account.to_string(), outcome));
    }
    Ok(ok(results(outcomes)))
}

/// A friend's standard fields that are set, in the order friend_get's page lists them.
fn standard_fields(friend: &Friend) -> Vec<SnsItem> {
    let mut fields = vec![SnsItem { tag: ADD_SOURCE_TAG.to_owned(), value: SnsValue::Text(friend.add_source.clone()) }];
    if let Some(remark) = &friend.remark {
        fields.push(SnsItem { tag: REMARK_TAG.to_owned(), value: SnsValue::Text(remark.clone()) });
    }
    if !friend.groups.is_empty() {
        fields.push(SnsItem { tag: GROUP_TAG.to_owned(), value: SnsValue::List(friend.groups.clone()) });
    }
    if let Some(wording) = &friend.add_wording {
        fields.push(SnsItem { tag: ADD_WORDING_TAG.to_owned(), value: SnsValue::Text(wording.clone()) });
    }
    fields.push(SnsItem { tag: ADD_TIME_TAG.to_owned(), value: SnsValue::Number(friend.add_time.max(0) as u64) });
    fields
}

fn custom_fields(friend: &Friend) -> impl Iterator<Item = SnsItem> + '_ {
    friend.custom.iter().map(|(tag, value)| SnsItem { tag: tag.clone(), value: SnsValue::from(value.clone()) })
}

pub(super) fn friend_get(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FriendGetRequest = ctx.decode(body)?;
    let state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let empty = Relations::default();
    let mine = relations(&state, from).unwrap_or(&empty);
    // A sequence the caller already has leaves that kind of data out.
    let standard = request.standard_sequence != Some(mine.standard_sequence);
    let custom = request.custom_sequence != Some(mine.custom_sequence);
    let start = request.start_index as usize;
    let page: Vec<FriendData> = mine
        .friends
        .iter()
        .skip(start)
        .take(FRIEND_PAGE)
        .map(|(account, friend)| {
            let mut fields = if standard { standard_fields(friend) } else { Vec::new() };
            if custom {
                fields.extend(custom_fields(friend));
            }
            FriendData { to_account: state.name_of(*account).to_owned(), value_item: Some(fields) }
        })
        .collect();
    let next = start + page.len();
    let done = next >= mine.friends.len();
    let result = FriendGetResult {
        user_data_item: Some(page),
        standard_sequence: Some(mine.standard_sequence),
        custom_sequence: Some(mine.custom_sequence),
        friend_num: Some(mine.friends.len() as u64),
        complete_flag: Some(u32::from(done)),
        next_start_index: Some(if done { 0 } else { u32::try_from(next).unwrap_or(u32::MAX) }),
        error_display: Some(String::new()),
        extra: Extra::new(),
    };
    Ok(ok(result))
}

pub(super) fn friend_get_list(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FriendGetListRequest = ctx.decode(body)?;
    let state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let mut failed = Vec::new();
    let items = request
        .to_account
        .iter()
        .map(|id| {
            let to = state.account_index(id.as_str());
            let friend = to.and_then(|to| relations(&state, from).and_then(|r| r.friends.get(&to)));
            let (Some(to), Some(friend)) = (to, friend) else {
                failed.push(id.to_string());
                let (code, info) = if to.is_none() {
                    (NO_SUCH_ACCOUNT, "Err_SNS_FriendGetList_Account_Not_Exist")
                } else {
                    (INVALID, "Err_SNS_FriendGetList_Friend_Not_Exist")
                };
                return FriendFields {
                    to_account: id.to_string(),
                    sns_profile_item: None,
                    result_code: code,
                    result_info: info.to_owned(),
                };
            };
            let standard = standard_fields(friend);
            let profile = state.profiles.get(&to);
            let fields = request
                .tag_list
                .iter()
                .filter_map(|tag| {
                    let value = if tag.starts_with(profile::TAG_PREFIX) {
                        profile.and_then(|p| p.tags.get(tag)).cloned().map(SnsValue::from)
                    } else if let Some(value) = friend.custom.get(tag) {
                        Some(SnsValue::from(value.clone()))
                    } else {
                        standard.iter().find(|field| field.tag == *tag).map(|field| field.value.clone())
                    };
                    value.map(|value| SnsItem { tag: tag.clone(), value })
                })
                .collect();
            FriendFields {
                to_account: id.to_string(),
                sns_profile_item: Some(fields),
                result_code: 0,
                result_info: String::new(),
            }
        })
        .collect();
    let result = FriendGetListResult {
        info_item: Some(items),
        fail_account: (!failed.is_empty()).then_some(failed),
        error_display: Some(String::new()),
        extra: Extra::new(),
    };
    Ok(ok(result))
}

/// group_add: the account is not a friend.
const NOT_A_FRIEND_FOR_LIST: i64 = 32216;
const TOO_MANY_LISTS: i64 = 30011;

pub(super) fn group_add(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FriendGroupAddRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let to: Vec<(String, Option<AccountIndex>)> =
        request.to_account.iter().flatten().map(|id| (id.to_string(), state.account_index(id.as_str()))).collect();
    let relations = state.relations.entry(from).or_default();
    let new = request.group_name.iter().filter(|name| !relations.lists.contains(name)).count();
    if relations.lists.len() + new > MAX_FRIEND_GROUPS {
        return Err(fail(TOO_MANY_LISTS, format!("an account has at most {MAX_FRIEND_GROUPS} friend lists")));
    }
    relations.ensure_lists(&request.group_name);
    let mut outcomes = Vec::new();
    for (id, account) in to {
        let outcome = match account.and_then(|account| relations.friends.get_mut(&account)) {
            None if account.is_none() => Err((NO_SUCH_ACCOUNT, "Err_SNS_GroupAdd_Account_Not_Exist")),
            None => Err((NOT_A_FRIEND_FOR_LIST, "Err_SNS_GroupAdd_ToTinyId_Not_Friend")),
            Some(friend) => {
                for name in &request.group_name {
                    if !friend.groups.contains(name) {
                        friend.groups.push(name.clone());
                    }
                }
                relations.standard_sequence += 1;
                Ok(())
            }
        };
        outcomes.push((id, outcome));
    }
    let sequence = relations.lists_sequence;
    let (result_item, fail_account) = if request.to_account.is_some() {
        let results = results(outcomes);
        (results.result_item, results.fail_account)
    } else {
        (None, None)
    };
    let result = FriendGroupAddResult {
        result_item,
        fail_account,
        current_sequence: Some(sequence),
        error_display: Some(String::new()),
        extra: Extra::new(),
    };
    Ok(ok(result))
}

pub(super) fn group_delete(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FriendGroupDeleteRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let relations = state.relations.entry(from).or_default();
    let before = relations.lists.len();
    relations.lists.retain(|name| !request.group_name.contains(name));
    if relations.lists.len() < before {
        relations.lists_sequence += 1;
        for friend in relations.friends.values_mut() {
            friend.groups.retain(|name| !request.group_name.contains(name));
        }
        relations.standard_sequence += 1;
    }
    let result = FriendListsSequence {
        current_sequence: Some(relations.lists_sequence),
        error_display: Some(String::new()),
        extra: Extra::new(),
    };
    Ok(ok(result))
}

pub(super) fn group_get(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FriendGroupGetRequest = ctx.decode(body)?;
    let state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let empty = Relations::default();
    let mine = relations(&state, from).unwrap_or(&empty);
    let members = request.need_friend.as_deref() == Some(NEED_FRIEND);
    let lists = mine
        .lists
        .iter()
        .filter(|name| request.group_name.as_ref().is_none_or(|asked| asked.contains(name)))
        .map(|name| {
            let friends: Vec<String> = mine
                .friends
                .iter()
                .filter(|(_, friend)| friend.groups.contains(name))
                .map(|(account, _)| state.name_of(*account).to_owned())
                .collect();
            FriendList {
                group_name: name.clone(),
                friend_number: friends.len() as u64,
                to_account: members.then_some(friends),
            }
        })
        .collect();
    let result = FriendGroupGetResult {
        result_item: Some(lists),
        current_sequence: Some(mine.lists_sequence),
        error_display: Some(String::new()),
        extra: Extra::new(),
    };
    Ok(ok(result))
}

/// follow_add: `From_Account` follows as many accounts as it may.
const FOLLOWING_FULL: i64 = 32100;

/// Followers (`1`), followed accounts (`2`) or mutual follows (`3`) of `account`, in account order, with when
/// each follow began (for mutual follows: when `account` followed).
fn follows(state: &State, account: AccountIndex, kind: u32) -> Vec<(AccountIndex, i64)> {
    let empty = Relations::default();
    let mine = relations(state, account).unwrap_or(&empty);
    match kind {
        1 => mine.followers.iter().map(|(a, t)| (*a, *t)).collect(),
        2 => mine.following.iter().map(|(a, t)| (*a, *t)).collect(),
        _ => mine.following.iter().filter(|(a, _)| mine.followers.contains_key(a)).map(|(a, t)| (*a, *t)).collect(),
    }
}

pub(super) fn follow_add(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FollowAddRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let mut outcomes = Vec::new();
    for item in &request.follow_item {
        let outcome = (|| -> Outcome {
            let to = state
                .account_index(item.to_account.as_str())
                .ok_or((NO_SUCH_ACCOUNT, "Err_SNS_FollowAdd_Account_Not_Exist"))?;
            if to == from {
                return Err((INVALID, "Err_SNS_FollowAdd_Self"));
            }
            let mine = state.relations.entry(from).or_default();
            if mine.following.contains_key(&to) {
                // Following again changes nothing (a retry is safe).
                return Ok(());
            }
            if mine.following.len() >= MAX_FOLLOWING {
                return Err((FOLLOWING_FULL, "Err_SNS_FollowAdd_Following_Num_Exceed_Threshold"));
            }
            mine.following.insert(to, ctx.now as i64);
            state.relations.entry(to).or_default().followers.insert(from, ctx.now as i64);
            Ok(())
        })();
        outcomes.push((item.to_account.to_string(), outcome));
    }
    Ok(ok(results(outcomes)))
}

pub(super) fn follow_delete(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FollowDeleteRequest = ctx.decode(body)?;
    let mut state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let mut outcomes = Vec::new();
    for id in &request.to_account {
        let outcome = match state.account_index(id.as_str()) {
            None => Err((NO_SUCH_ACCOUNT, "Err_SNS_FollowDelete_Account_Not_Exist")),
            Some(to) => {
                // Unfollowing an account not followed changes nothing (a retry is safe).
                if let Some(mine) = state.relations.get_mut(&from) {
                    mine.following.remove(&to);
                }
                if let Some(theirs) = state.relations.get_mut(&to) {
                    theirs.followers.remove(&from);
                }
                Ok(())
            }
        };
        outcomes.push((id.to_string(), outcome));
    }
    Ok(ok(results(outcomes)))
}

pub(super) fn follow_check(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FollowCheckRequest = ctx.decode(body)?;
    let state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    let following =
        |a: AccountIndex, b: AccountIndex| relations(&state, a).is_some_and(|r| r.following.contains_key(&b));
    let items = request
        .to_account
        .iter()
        .map(|id| match state.account_index(id.as_str()) {
            Some(to) => FollowCheckItem {
                to_account: id.to_string(),
                result_code: 0,
                result_info: String::new(),
                follow_type: 2 * u32::from(following(from, to)) + u32::from(following(to, from)),
            },
            None => FollowCheckItem {
                to_account: id.to_string(),
                result_code: NO_SUCH_ACCOUNT,
                result_info: "Err_SNS_FollowCheck_Account_Not_Exist".to_owned(),
                follow_type: 0,
            },
        })
        .collect();
    Ok(ok(FollowCheckResult { result_item: Some(items), error_display: Some(String::new()), extra: Extra::new() }))
}

pub(super) fn follow_get(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FollowGetRequest = ctx.decode(body)?;
    let state = ctx.state();
    let Some(from) = state.account_index(request.from_account.as_str()) else { return no_from(&request.from_account) };
    // The cursor is the position of the page's first entry (empty: the start).
    let Ok(start) = (if request.start_cursor.is_empty() { Ok(0) } else { request.start_cursor.parse::<usize>() })
    else {
        return Err(fail(INVALID, format!("StartCursor {:?} is not a cursor this service gave", request.start_cursor)));
    };
    let all = follows(&state, from, request.follow_type);
    let page: Vec<FollowEntry> = all
        .iter()
        .skip(start)
        .take(request.want_num as usize)
        .map(|(account, time)| FollowEntry {
            to_account: state.name_of(*account).to_owned(),
            follow_time: *time,
            extra: Extra::new(),
        })
        .collect();
    let next = start + page.len();
    let result = FollowGetResult {
        follow_item: Some(page),
        next_cursor: Some(if next >= all.len() { String::new() } else { next.to_string() }),
        error_display: Some(String::new()),
        extra: Extra::new(),
    };
    Ok(ok(result))
}

pub(super) fn follow_get_info(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: FollowGetInfoRequest = ctx.decode(body)?;
    let state = ctx.state();
    if state.account_index(request.from_account.as_str()).is_none() {
        return no_from(&request.from_account);
    }
    let items = request
        .to_account
        .iter()
        .map(|id| match state.account_index(id.as_str()) {
            Some(account) => FollowCounts {
                to_account: id.to_string(),
                result_code: 0,
                result_info: String::new(),
                follower_count: relations(&state, account).map_or(0, |r| r.followers.len() as u64),
                following_count: relations(&state, account).map_or(0, |r| r.following.len() as u64),
                mutual_following_count: relations(&state, account)
                    .map_or(0, |r| r.following.keys().filter(|other| r.followers.contains_key(other)).count() as u64),
            },
            None => FollowCounts {
                to_account: id.to_string(),
                result_code: NO_SUCH_ACCOUNT,
                result_info: "Err_SNS_FollowGetInfo_Account_Not_Exist".to_owned(),
                follower_count: 0,
                following_count: 0,
                mutual_following_count: 0,
            },
        })
        .collect();
    Ok(ok(FollowGetInfoResult { follow_info: Some(items), error_display: Some(String::new()), extra: Extra::new() }))
}
