//! Friends and blocklists: what is added is read back by the checks, verification follows the added account's
//! AllowType, blocking ends friendships and stops adds, deleting an account ends its relationships, and the pages'
//! codes answer the documented mistakes.

mod common;

use common::*;
use serde_json::{Value, json};

const ADD: &str = "sns/friend_add";
const CHECK: &str = "sns/friend_check";
const BLOCK: &str = "sns/black_list_add";

fn item(to: &str) -> Value {
    json!({ "To_Account": to, "AddSource": "AddSource_Type_Test" })
}

/// friend_add of `to` by `from` with `fields` added to the body; the one result's code.
async fn add(h: &Harness, from: &str, to: &str, fields: Value) -> i64 {
    let mut body = json!({ "From_Account": from, "AddFriendItem": [item(to)] });
    for (key, value) in fields.as_object().unwrap() {
        body[key] = value.clone();
    }
    let answer = h.call(ADD, body).await;
    assert_code(&answer, 0);
    answer["ResultItem"][0]["ResultCode"].as_i64().unwrap()
}

/// The relations friend_check (or black_list_check) answers for `from` and `to`, two-way.
async fn relations(h: &Harness, path: &str, check_type: &str, from: &str, to: &[&str]) -> Vec<String> {
    let answer = h.call(path, json!({ "From_Account": from, "To_Account": to, "CheckType": check_type })).await;
    assert_code(&answer, 0);
    let items = answer.get("InfoItem").or_else(|| answer.get("BlackListCheckItem")).unwrap();
    items.as_array().unwrap().iter().map(|item| item["Relation"].as_str().unwrap().to_owned()).collect()
}

async fn friends_of(h: &Harness, from: &str, to: &[&str]) -> Vec<String> {
    relations(h, CHECK, "CheckResult_Type_Both", from, to).await
}

async fn allow(h: &Harness, account: &str, allow_type: &str) {
    let item = json!({ "Tag": "Tag_Profile_IM_AllowType", "Value": allow_type });
    assert_code(&h.call("profile/portrait_set", json!({ "From_Account": account, "ProfileItem": [item] })).await, 0);
}

#[tokio::test]
async fn adds_follow_the_added_account_s_allow_type_unless_forced() {
    let h = start(|b| b).await;
    h.import(&["a", "open", "closed", "asks"]).await;
    allow(&h, "open", "AllowType_Type_AllowAny").await;
    allow(&h, "closed", "AllowType_Type_DenyAny").await;
    allow(&h, "asks", "AllowType_Type_NeedConfirm").await;
    assert_eq!(add(&h, "a", "open", json!({})).await, 0);
    assert_eq!(add(&h, "a", "closed", json!({})).await, 30516);
    assert_eq!(add(&h, "a", "asks", json!({})).await, 30539, "a pending request, not a friendship");
    assert_eq!(
        friends_of(&h, "a", &["open", "closed", "asks"]).await,
        ["CheckResult_Type_BothWay", "CheckResult_Type_NoRelation", "CheckResult_Type_NoRelation"]
    );
    // The admin forces the adds; adding again is a mistake (30001).
    assert_eq!(add(&h, "a", "closed", json!({ "ForceAddFlags": 1 })).await, 0);
    assert_eq!(add(&h, "a", "closed", json!({ "ForceAddFlags": 1 })).await, 30001);
    // A one-way add: a has b, b does not have a.
    h.import(&["b"]).await;
    assert_eq!(add(&h, "a", "b", json!({ "ForceAddFlags": 1, "AddType": "Add_Type_Single" })).await, 0);
    assert_eq!(friends_of(&h, "a", &["b"]).await, ["CheckResult_Type_AWithB"]);
    assert_eq!(friends_of(&h, "b", &["a"]).await, ["CheckResult_Type_BWithA"]);
    assert_eq!(relations(&h, CHECK, "CheckResult_Type_Single", "b", &["a"]).await, ["CheckResult_Type_NoRelation"]);
    // An account without AllowType asks for confirmation, as NeedConfirm does.
    assert_eq!(add(&h, "b", "a", json!({})).await, 30539);
}

#[tokio::test]
async fn blocking_ends_friendships_and_stops_adds_until_unblocked() {
    let h = start(|b| b).await;
    h.import(&["a", "b", "c"]).await;
    assert_eq!(add(&h, "a", "b", json!({ "ForceAddFlags": 1 })).await, 0);
    let answer = h.call(BLOCK, json!({ "From_Account": "a", "To_Account": ["b", "c", "nobody"] })).await;
    assert_code(&answer, 0);
    let codes: Vec<i64> =
        answer["ResultItem"].as_array().unwrap().iter().map(|i| i["ResultCode"].as_i64().unwrap()).collect();
    assert_eq!(codes, [0, 0, 30003]);
    assert_eq!(answer["Fail_Account"], json!(["nobody"]));
    assert_eq!(friends_of(&h, "a", &["b"]).await, ["CheckResult_Type_NoRelation"], "the friendship ended both ways");
    assert_eq!(friends_of(&h, "b", &["a"]).await, ["CheckResult_Type_NoRelation"]);
    assert_eq!(add(&h, "b", "a", json!({ "ForceAddFlags": 1 })).await, 30525, "the blocked cannot add the blocker");
    assert_eq!(add(&h, "a", "b", json!({ "ForceAddFlags": 1 })).await, 30515, "nor the blocker the blocked");
    let blocked = relations(&h, "sns/black_list_check", "BlackCheckResult_Type_Both", "b", &["a", "c"]).await;
    assert_eq!(blocked, ["BlackCheckResult_Type_BWithA", "BlackCheckResult_Type_NO"]);
    // Blocking again is a mistake.
    let again = h.call(BLOCK, json!({ "From_Account": "a", "To_Account": ["b"] })).await;
    assert_eq!(again["ResultItem"][0]["ResultCode"], 30001);

    // The blocklist reads back a page at a time, in the order blocked.
    let page = h
        .call("sns/black_list_get", json!({ "From_Account": "a", "StartIndex": 0, "MaxLimited": 1, "LastSequence": 0 }))
        .await;
    assert_code(&page, 0);
    assert_eq!(page["BlackListItem"][0]["To_Account"], "b");
    assert_eq!(page["BlackListItem"][0]["AddBlackTimeStamp"], T0);
    assert_eq!(page["StartIndex"], 1);
    let rest = h
        .call("sns/black_list_get", json!({ "From_Account": "a", "StartIndex": 1, "MaxLimited": 5, "LastSequence": 0 }))
        .await;
    assert_eq!(rest["BlackListItem"], json!([{ "To_Account": "c", "AddBlackTimeStamp": T0 }]));
    assert_eq!(rest["StartIndex"], 0, "0: the whole list has been read");

    let unblocked = h.call("sns/black_list_delete", json!({ "From_Account": "a", "To_Account": ["b", "b"] })).await;
    let codes: Vec<i64> =
        unblocked["ResultItem"].as_array().unwrap().iter().map(|i| i["ResultCode"].as_i64().unwrap()).collect();
    assert_eq!(codes, [0, 30001], "unblocking one that is not blocked is a mistake");
    assert_eq!(add(&h, "b", "a", json!({ "ForceAddFlags": 1 })).await, 0);
}

#[tokio::test]
async fn deletes_imports_and_deleted_accounts() {
    let h = start(|b| b).await;
    h.import(&["a", "b", "c", "d"]).await;
    for to in ["b", "c"] {
        assert_eq!(add(&h, "a", to, json!({ "ForceAddFlags": 1 })).await, 0);
    }
    // One-way delete: a drops b, b keeps a.
    let answer = h.call("sns/friend_delete", json!({ "From_Account": "a", "To_Account": ["b", "d", "nobody"] })).await;
    let codes: Vec<i64> =
        answer["ResultItem"].as_array().unwrap().iter().map(|i| i["ResultCode"].as_i64().unwrap()).collect();
    assert_eq!(codes, [0, 31704, 30003]);
    assert_eq!(friends_of(&h, "a", &["b"]).await, ["CheckResult_Type_BWithA"]);
    // Two-way delete of everything.
    assert_code(
        &h.call("sns/friend_delete_all", json!({ "From_Account": "a", "DeleteType": "Delete_Type_Both" })).await,
        0,
    );
    assert_eq!(friends_of(&h, "a", &["b", "c"]).await, ["CheckResult_Type_BWithA", "CheckResult_Type_NoRelation"]);

    // An import is one-way and needs no verification.
    allow(&h, "d", "AllowType_Type_DenyAny").await;
    let import = json!({ "From_Account": "a", "AddFriendItem": [item("d")] });
    let answer = h.call("sns/friend_import", import).await;
    assert_eq!(answer["ResultItem"][0]["ResultCode"], 0, "{answer}");
    assert_eq!(friends_of(&h, "a", &["d"]).await, ["CheckResult_Type_AWithB"]);

    // Deleting an account ends its friendships on every side.
    assert_eq!(add(&h, "c", "b", json!({ "ForceAddFlags": 1 })).await, 0);
    let deleted = h.call("im_open_login_svc/account_delete", json!({ "DeleteItem": [{ "UserID": "b" }] })).await;
    assert_code(&deleted, 0);
    h.import(&["b"]).await;
    assert_eq!(friends_of(&h, "c", &["b"]).await, ["CheckResult_Type_NoRelation"]);
}

#[tokio::test]
async fn mistakes_get_the_pages_codes() {
    let h = start(|b| b).await;
    h.import(&["a"]).await;
    assert_code(&h.call(ADD, json!({ "From_Account": "nobody", "AddFriendItem": [item("a")] })).await, 30003);
    assert_code(&h.call(ADD, json!({ "From_Account": "a", "AddFriendItem": [] })).await, 30001);
    let bad_source = json!({ "From_Account": "a", "AddFriendItem": [{ "To_Account": "b", "AddSource": "Android" }] });
    assert_code(&h.call(ADD, bad_source).await, 30001);
    assert_code(
        &h.call(ADD, json!({ "From_Account": "a", "AddFriendItem": [item("b")], "AddType": "Both" })).await,
        30001,
    );
    assert_code(&h.call_bytes(ADD, b"{".to_vec()).await.json(), 30001);
    assert_code(&h.call(CHECK, json!({ "From_Account": "a", "To_Account": ["b"], "CheckType": "Both" })).await, 30001);
    let too_many: Vec<String> = (0..1001).map(|i| format!("u{i}")).collect();
    assert_code(&h.call(BLOCK, json!({ "From_Account": "a", "To_Account": too_many })).await, 30001);
    let page = json!({ "From_Account": "a", "StartIndex": 0, "MaxLimited": 0, "LastSequence": 0 });
    assert_code(&h.call("sns/black_list_get", page).await, 30001);
}

#[tokio::test]
async fn friend_data_is_read_back_by_friend_get_and_friend_get_list() {
    let h = start(|b| b).await;
    h.import(&["a", "b", "c"]).await;
    let add = json!({ "From_Account": "a", "ForceAddFlags": 1, "AddType": "Add_Type_Single", "AddFriendItem": [
        { "To_Account": "b", "AddSource": "AddSource_Type_Android", "Remark": "bee", "GroupName": "Work" }] });
    assert_eq!(h.call(ADD, add).await["ResultItem"][0]["ResultCode"], 0);
    let update = json!({ "From_Account": "a", "UpdateItem": [
        { "To_Account": "b", "SnsItem": [
            { "Tag": "Tag_SNS_IM_Remark", "Value": "Bee" },
            { "Tag": "Tag_SNS_IM_Group", "Value": ["Work", "Chess"] },
            { "Tag": "Tag_SNS_Custom_Level", "Value": 3 }] },
        { "To_Account": "c", "SnsItem": [{ "Tag": "Tag_SNS_IM_Remark", "Value": "sea" }] }] });
    let answer = h.call("sns/friend_update", update).await;
    assert_eq!(answer["ResultItem"][0]["ResultCode"], 0, "{answer}");
    assert_eq!(answer["ResultItem"][1]["ResultCode"], 30001, "c is not a friend of a");

    let page = h.call("sns/friend_get", json!({ "From_Account": "a", "StartIndex": 0 })).await;
    assert_code(&page, 0);
    assert_eq!(
        page["UserDataItem"],
        json!([{ "To_Account": "b", "ValueItem": [
            { "Tag": "Tag_SNS_IM_AddSource", "Value": "AddSource_Type_Android" },
            { "Tag": "Tag_SNS_IM_Remark", "Value": "Bee" },
            { "Tag": "Tag_SNS_IM_Group", "Value": ["Work", "Chess"] },
            { "Tag": "Tag_SNS_IM_AddTime", "Value": T0 },
            { "Tag": "Tag_SNS_Custom_Level", "Value": 3 }] }])
    );
    assert_eq!((page["FriendNum"].clone(), page["CompleteFlag"].clone()), (json!(1), json!(1)));
    // With the sequences it already has, the caller gets the friends without their data.
    let again = json!({ "From_Account": "a", "StartIndex": 0,
        "StandardSequence": page["StandardSequence"], "CustomSequence": page["CustomSequence"] });
    assert_eq!(h.call("sns/friend_get", again).await["UserDataItem"], json!([{ "To_Account": "b", "ValueItem": [] }]));

    let nick = json!({ "Tag": "Tag_Profile_IM_Nick", "Value": "Bea" });
    assert_code(&h.call("profile/portrait_set", json!({ "From_Account": "b", "ProfileItem": [nick] })).await, 0);
    let list = json!({ "From_Account": "a", "To_Account": ["b", "c"],
        "TagList": ["Tag_Profile_IM_Nick", "Tag_SNS_IM_Remark", "Tag_SNS_Custom_Level", "Tag_SNS_IM_AddWording"] });
    let answer = h.call("sns/friend_get_list", list).await;
    assert_eq!(
        answer["InfoItem"][0]["SnsProfileItem"],
        json!([
            { "Tag": "Tag_Profile_IM_Nick", "Value": "Bea" },
            { "Tag": "Tag_SNS_IM_Remark", "Value": "Bee" },
            { "Tag": "Tag_SNS_Custom_Level", "Value": 3 }
        ]),
        "fields without a value are left out"
    );
    assert_eq!(answer["InfoItem"][1]["ResultCode"], 30001);
    assert_eq!(answer["Fail_Account"], json!(["c"]));

    // Only the remark, the friend lists and custom fields can change.
    let wording = json!({ "From_Account": "a", "UpdateItem": [
        { "To_Account": "b", "SnsItem": [{ "Tag": "Tag_SNS_IM_AddWording", "Value": "hi" }] }] });
    assert_code(&h.call("sns/friend_update", wording).await, 30001);
}

#[tokio::test]
async fn friend_lists_hold_friends_and_are_read_back() {
    let h = start(|b| b).await;
    h.import(&["a", "b", "c"]).await;
    let add = json!({ "From_Account": "a", "ForceAddFlags": 1, "AddFriendItem": [
        { "To_Account": "b", "AddSource": "AddSource_Type_Test", "GroupName": "Work" }, item("c")] });
    assert_code(&h.call(ADD, add).await, 0);
    let created = h
        .call(
            "sns/group_add",
            json!({ "From_Account": "a", "GroupName": ["Chess"], "To_Account": ["c", "nobody", "a"] }),
        )
        .await;
    assert_code(&created, 0);
    let codes: Vec<i64> =
        created["ResultItem"].as_array().unwrap().iter().map(|i| i["ResultCode"].as_i64().unwrap()).collect();
    assert_eq!(codes, [0, 30003, 32216], "a is not its own friend");
    let lists = h.call("sns/group_get", json!({ "From_Account": "a", "NeedFriend": "Need_Friend_Type_Yes" })).await;
    assert_eq!(
        lists["ResultItem"],
        json!([
            { "GroupName": "Work", "FriendNumber": 1, "To_Account": ["b"] },
            { "GroupName": "Chess", "FriendNumber": 1, "To_Account": ["c"] }
        ])
    );
    let sequence = lists["CurrentSequence"].as_u64().unwrap();
    let deleted = h.call("sns/group_delete", json!({ "From_Account": "a", "GroupName": ["Work"] })).await;
    assert_code(&deleted, 0);
    assert!(deleted["CurrentSequence"].as_u64().unwrap() > sequence);
    let lists = h.call("sns/group_get", json!({ "From_Account": "a" })).await;
    assert_eq!(lists["ResultItem"], json!([{ "GroupName": "Chess", "FriendNumber": 1 }]));
    assert_eq!(friends_of(&h, "a", &["b"]).await, ["CheckResult_Type_BothWay"], "b is still a friend");
    // At most 32 lists.
    let many: Vec<String> = (0..32).map(|i| format!("list{i}")).collect();
    assert_code(&h.call("sns/group_add", json!({ "From_Account": "a", "GroupName": many })).await, 30011);
}

#[tokio::test]
async fn follows_are_counted_checked_and_paged() {
    let h = start(|b| b).await;
    h.import(&["a", "b", "c"]).await;
    let follow = |from: &str, to: &[&str]| {
        let items: Vec<Value> = to.iter().map(|to| json!({ "To_Account": to })).collect();
        json!({ "From_Account": from, "FollowItem": items })
    };
    let answer = h.call("follow/follow_add", follow("a", &["b", "c", "nobody", "a"])).await;
    let codes: Vec<i64> =
        answer["ResultItem"].as_array().unwrap().iter().map(|i| i["ResultCode"].as_i64().unwrap()).collect();
    assert_eq!(codes, [0, 0, 30003, 30001], "nobody does not exist; a cannot follow itself");
    assert_eq!(
        h.call("follow/follow_add", follow("a", &["b"])).await["ResultItem"][0]["ResultCode"],
        0,
        "again: no change"
    );
    assert_code(&h.call("follow/follow_add", follow("b", &["a"])).await, 0);

    let check = h.call("follow/follow_check", json!({ "From_Account": "a", "To_Account": ["b", "c"] })).await;
    let types: Vec<u64> =
        check["ResultItem"].as_array().unwrap().iter().map(|i| i["FollowType"].as_u64().unwrap()).collect();
    assert_eq!(types, [3, 2], "a and b follow each other; a follows c");
    let check = h.call("follow/follow_check", json!({ "From_Account": "c", "To_Account": ["a"] })).await;
    assert_eq!(check["ResultItem"][0]["FollowType"], 1, "a follows c");

    let info = h.call("follow/follow_get_info", json!({ "From_Account": "a", "To_Account": ["a", "c"] })).await;
    assert_eq!(
        info["FollowInfo"],
        json!([
            { "To_Account": "a", "ResultCode": 0, "ResultInfo": "", "FollowerCount": 1, "FollowingCount": 2, "MutualFollowingCount": 1 },
            { "To_Account": "c", "ResultCode": 0, "ResultInfo": "", "FollowerCount": 1, "FollowingCount": 0, "MutualFollowingCount": 0 }
        ])
    );

    // a's followed accounts, one a page.
    let page = |cursor: &str| json!({ "From_Account": "a", "FollowType": 2, "StartCursor": cursor, "WantNum": 1 });
    let first = h.call("follow/follow_get", page("")).await;
    assert_eq!(first["FollowItem"], json!([{ "To_Account": "b", "FollowTime": T0 }]));
    let cursor = first["NextCursor"].as_str().unwrap().to_owned();
    assert!(!cursor.is_empty());
    let second = h.call("follow/follow_get", page(&cursor)).await;
    assert_eq!(second["FollowItem"][0]["To_Account"], "c");
    assert_eq!(second["NextCursor"], "", "empty: everything has been read");
    let mutual = h
        .call("follow/follow_get", json!({ "From_Account": "a", "FollowType": 3, "StartCursor": "", "WantNum": 10 }))
        .await;
    assert_eq!(mutual["FollowItem"], json!([{ "To_Account": "b", "FollowTime": T0 }]));

    // Unfollowing, even twice, and deleting an account end follows.
    for _ in 0..2 {
        let answer = h.call("follow/follow_delete", json!({ "From_Account": "a", "To_Account": ["c"] })).await;
        assert_eq!(answer["ResultItem"][0]["ResultCode"], 0);
    }
    assert_code(&h.call("im_open_login_svc/account_delete", json!({ "DeleteItem": [{ "UserID": "b" }] })).await, 0);
    let info = h.call("follow/follow_get_info", json!({ "From_Account": "a", "To_Account": ["a"] })).await;
    assert_eq!(info["FollowInfo"][0]["FollowingCount"], 0);
    assert_eq!(info["FollowInfo"][0]["FollowerCount"], 0);
    // More than 20 accounts, or a page of 0, are broken parameters.
    let many: Vec<String> = (0..21).map(|i| format!("u{i}")).collect();
    assert_code(&h.call("follow/follow_delete", json!({ "From_Account": "a", "To_Account": many })).await, 30001);
    assert_code(
        &h.call("follow/follow_get", json!({ "From_Account": "a", "FollowType": 1, "StartCursor": "", "WantNum": 0 }))
            .await,
        30001,
    );
}
