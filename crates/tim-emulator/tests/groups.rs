//! Groups of every type and their members: create_group, destroy_group, add_group_member, delete_group_member,
//! get_group_info and get_group_member_info.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn every_group_type_can_be_created_and_described() {
    let h = start(|b| b).await;
    h.import(&["leckie", "peter"]).await;
    for group_type in ["Private", "Work", "Public", "ChatRoom", "Meeting", "AVChatRoom", "Community"] {
        let mut body = json!({ "Owner_Account": "leckie", "Type": group_type, "Name": format!("{group_type} group") });
        if group_type != "AVChatRoom" {
            body["MemberList"] = json!([{ "Member_Account": "peter", "Role": "Admin" }]);
        }
        let answer = h.call("group_open_http_svc/create_group", body).await;
        assert_code(&answer, 0);
        let id = answer["GroupId"].as_str().unwrap().to_owned();
        assert!(id.starts_with(if group_type == "Community" { "@TGS#_" } else { "@TGS#" }), "{id}");
        let info = h.call("group_open_http_svc/get_group_info", json!({ "GroupIdList": [id] })).await;
        assert_code(&info, 0);
        let group = &info["GroupInfo"][0];
        assert_eq!(group["ErrorCode"], 0);
        assert_eq!(group["Type"], group_type);
        assert_eq!(group["Owner_Account"], "leckie");
        assert_eq!(group["Appid"], SDKAPPID);
        let expected_members = if group_type == "AVChatRoom" { 1 } else { 2 };
        assert_eq!(group["MemberNum"], expected_members, "{group_type}");
    }
}

#[tokio::test]
async fn create_group_refusals() {
    let h = start(|b| b).await;
    h.import(&["leckie"]).await;
    h.create_group("Public", "team", &["leckie"]).await;
    let answer = h
        .call("group_open_http_svc/create_group", json!({ "Type": "Public", "GroupId": "team", "Name": "again" }))
        .await;
    assert_code(&answer, 10021);
    let answer = h
        .call("group_open_http_svc/create_group", json!({ "Type": "Public", "Owner_Account": "ghost", "Name": "x" }))
        .await;
    assert_code(&answer, 10019);
    let answer = h.call("group_open_http_svc/create_group", json!({ "Type": "Public", "Name": "" })).await;
    assert_code(&answer, 10004);
    let answer = h
        .call("group_open_http_svc/create_group", json!({ "Type": "Community", "GroupId": "plain", "Name": "c" }))
        .await;
    assert_code(&answer, 10004);
    let live_members = json!({ "Type": "AVChatRoom", "Name": "live", "MemberList": [{ "Member_Account": "leckie" }] });
    assert_code(&h.call("group_open_http_svc/create_group", live_members).await, 10004);
    let long_id = json!({ "Type": "Public", "GroupId": "g".repeat(49), "Name": "x" });
    assert_code(&h.call("group_open_http_svc/create_group", long_id).await, 10015);
}

#[tokio::test]
async fn members_are_added_listed_and_removed() {
    let h = start(|b| b).await;
    h.import(&["owner", "a", "b", "c"]).await;
    let answer = h
        .call(
            "group_open_http_svc/create_group",
            json!({ "Type": "Work", "GroupId": "w", "Name": "w", "Owner_Account": "owner" }),
        )
        .await;
    assert_code(&answer, 0);
    let add = json!({ "GroupId": "w", "MemberList": [{ "Member_Account": "a" }, { "Member_Account": "owner" }, { "Member_Account": "ghost" }, { "Member_Account": "b" }] });
    let answer = h.call("group_open_http_svc/add_group_member", add).await;
    assert_code(&answer, 0);
    let results: Vec<(String, i64)> = answer["MemberList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["Member_Account"].as_str().unwrap().to_owned(), m["Result"].as_i64().unwrap()))
        .collect();
    assert_eq!(results, [("a".into(), 1), ("owner".into(), 2), ("ghost".into(), 0), ("b".into(), 1)]);
    assert_eq!(h.emulator().group_members("w").unwrap(), ["owner", "a", "b"]);

    let page =
        h.call("group_open_http_svc/get_group_member_info", json!({ "GroupId": "w", "Limit": 2, "Offset": 1 })).await;
    assert_code(&page, 0);
    assert_eq!(page["MemberNum"], 3);
    let names: Vec<&str> =
        page["MemberList"].as_array().unwrap().iter().map(|m| m["Member_Account"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b"]);
    let owners = h
        .call("group_open_http_svc/get_group_member_info", json!({ "GroupId": "w", "MemberRoleFilter": ["Owner"] }))
        .await;
    assert_eq!(owners["MemberList"].as_array().unwrap().len(), 1);
    assert_eq!(owners["MemberList"][0]["Role"], "Owner");

    let delete = json!({ "GroupId": "w", "MemberToDel_Account": ["a", "c"] });
    assert_code(&h.call("group_open_http_svc/delete_group_member", delete).await, 0);
    assert_eq!(h.emulator().group_members("w").unwrap(), ["owner", "b"]);

    assert_code(
        &h.call("group_open_http_svc/add_group_member", json!({ "GroupId": "w", "MemberList": [] })).await,
        10004,
    );
    let missing = json!({ "GroupId": "nope", "MemberList": [{ "Member_Account": "a" }] });
    assert_code(&h.call("group_open_http_svc/add_group_member", missing).await, 10010);
    assert_code(
        &h.call("group_open_http_svc/delete_group_member", json!({ "GroupId": "nope", "MemberToDel_Account": ["a"] }))
            .await,
        10010,
    );
    assert_code(&h.call("group_open_http_svc/get_group_member_info", json!({ "GroupId": "nope" })).await, 10010);
}

#[tokio::test]
async fn live_groups_have_no_member_list_operations() {
    let h = start(|b| b).await;
    h.import(&["a"]).await;
    h.create_group("AVChatRoom", "live", &[]).await;
    let add = json!({ "GroupId": "live", "MemberList": [{ "Member_Account": "a" }] });
    assert_code(&h.call("group_open_http_svc/add_group_member", add).await, 10007);
    assert_code(&h.call("group_open_http_svc/get_group_member_info", json!({ "GroupId": "live" })).await, 10007);
}

#[tokio::test]
async fn communities_page_members_with_next() {
    let h = start(|b| b).await;
    h.import(&["a", "b", "c"]).await;
    h.create_group("Community", "@TGS#_club", &["a", "b", "c"]).await;
    let first = h
        .call("group_open_http_svc/get_group_member_info", json!({ "GroupId": "@TGS#_club", "Limit": 2, "Next": "" }))
        .await;
    assert_code(&first, 0);
    assert_eq!(first["MemberList"].as_array().unwrap().len(), 2);
    let next = first["Next"].as_str().unwrap().to_owned();
    assert!(!next.is_empty());
    let second = h
        .call("group_open_http_svc/get_group_member_info", json!({ "GroupId": "@TGS#_club", "Limit": 2, "Next": next }))
        .await;
    assert_eq!(second["MemberList"].as_array().unwrap().len(), 1);
    assert_eq!(second["Next"], "");
    let offset = json!({ "GroupId": "@TGS#_club", "Offset": 1 });
    assert_code(&h.call("group_open_http_svc/get_group_member_info", offset).await, 10004);
}

#[tokio::test]
async fn destroyed_groups_are_gone() {
    let h = start(|b| b).await;
    h.create_group("Public", "p", &[]).await;
    assert_code(&h.call("group_open_http_svc/destroy_group", json!({ "GroupId": "p" })).await, 0);
    assert_code(&h.call("group_open_http_svc/destroy_group", json!({ "GroupId": "p" })).await, 10010);
    let info = h.call("group_open_http_svc/get_group_info", json!({ "GroupIdList": ["p"] })).await;
    assert_code(&info, 0);
    assert_eq!(info["GroupInfo"][0]["ErrorCode"], 10010);
    assert_code(&h.call("group_open_http_svc/get_group_info", json!({ "GroupIdList": [] })).await, 10004);
}

#[tokio::test]
async fn accounts_are_imported_checked_and_deleted() {
    let h = start(|b| b).await;
    assert_code(&h.call("im_open_login_svc/account_import", json!({ "UserID": "UserID_1", "Nick": "one" })).await, 0);
    let list = json!({ "AccountList": [{ "UserID": "test3", "Nick": "three" }] });
    let answer = h.call("im_open_login_svc/multiaccount_import", list).await;
    assert_code(&answer, 0);
    assert_eq!(answer["FailAccounts"], json!([]));
    let check = json!({ "CheckItem": [{ "UserID": "UserID_1" }, { "UserID": "UserID_2" }, { "UserID": "test3" }] });
    let answer = h.call("im_open_login_svc/account_check", check).await;
    let statuses: Vec<&str> =
        answer["ResultItem"].as_array().unwrap().iter().map(|r| r["AccountStatus"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["Imported", "NotImported", "Imported"]);
    let delete = json!({ "DeleteItem": [{ "UserID": "UserID_1" }, { "UserID": "UserID_2" }] });
    let answer = h.call("im_open_login_svc/account_delete", delete).await;
    assert_code(&answer, 0);
    assert_eq!(answer["ResultItem"][0]["ResultCode"], 0);
    assert_eq!(answer["ResultItem"][1]["ResultCode"], 70107);
    assert!(!h.emulator().account_exists("UserID_1"));

    let too_many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    assert_code(&h.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": too_many })).await, 70206);
    assert_code(&h.call("im_open_login_svc/account_import", json!({ "UserID": "x".repeat(33) })).await, 70402);
    assert_code(&h.call("im_open_login_svc/account_check", json!({ "CheckItem": [] })).await, 70402);
    assert_code(&h.call_bytes("im_open_login_svc/account_import", b"{".to_vec()).await.json(), 60003);
}
