//! portrait_get, portrait_set and query_online_status: what is written is read back, with the documented codes
//! for the documented mistakes.

mod common;

use common::*;
use serde_json::{Value, json};

const GET: &str = "profile/portrait_get";
const SET: &str = "profile/portrait_set";
const ONLINE: &str = "openim/query_online_status";

async fn start_with_custom() -> Harness {
    start(|builder| builder.custom_profile_fields(["Tag_Profile_Custom_Test"])).await
}

fn items(answer: &Value, account: usize) -> Value {
    answer["UserProfileItem"][account]["ProfileItem"].clone()
}

#[tokio::test]
async fn portrait_set_is_read_back_by_portrait_get_with_account_import_s_nick() {
    let h = start_with_custom().await;
    let answer = h.call("im_open_login_svc/account_import", json!({ "UserID": "id1", "Nick": "Imported" })).await;
    assert_code(&answer, 0);
    let answer = h
        .call(
            SET,
            json!({ "From_Account": "id1", "ProfileItem": [
                { "Tag": "Tag_Profile_IM_AllowType", "Value": "AllowType_Type_DenyAny" },
                { "Tag": "Tag_Profile_IM_Level", "Value": 7 },
                { "Tag": "Tag_Profile_Custom_Test", "Value": "custom" },
            ]}),
        )
        .await;
    assert_code(&answer, 0);
    let tags = ["Tag_Profile_IM_Nick", "Tag_Profile_IM_Level", "Tag_Profile_Custom_Test", "Tag_Profile_IM_Gender"];
    let answer = h.call(GET, json!({ "To_Account": ["id1"], "TagList": tags })).await;
    assert_code(&answer, 0);
    // The fields asked for that are set, in the order asked; the unset Gender is left out.
    assert_eq!(
        items(&answer, 0),
        json!([
            { "Tag": "Tag_Profile_IM_Nick", "Value": "Imported" },
            { "Tag": "Tag_Profile_IM_Level", "Value": 7 },
            { "Tag": "Tag_Profile_Custom_Test", "Value": "custom" },
        ])
    );
    assert_eq!(answer["UserProfileItem"][0]["ResultCode"], 0);
    assert!(answer.get("Fail_Account").is_none(), "{answer}");

    // A later set replaces the value; a re-import updates the nickname.
    let answer = h
        .call(SET, json!({ "From_Account": "id1", "ProfileItem": [{ "Tag": "Tag_Profile_IM_Level", "Value": 8 }] }))
        .await;
    assert_code(&answer, 0);
    h.call("im_open_login_svc/account_import", json!({ "UserID": "id1", "Nick": "Renamed" })).await;
    let answer =
        h.call(GET, json!({ "To_Account": ["id1"], "TagList": ["Tag_Profile_IM_Nick", "Tag_Profile_IM_Level"] })).await;
    assert_eq!(
        items(&answer, 0),
        json!([{ "Tag": "Tag_Profile_IM_Nick", "Value": "Renamed" }, { "Tag": "Tag_Profile_IM_Level", "Value": 8 }])
    );
}

#[tokio::test]
async fn portrait_get_of_an_unknown_account_fails_for_that_account_only() {
    let h = start_with_custom().await;
    h.import(&["id1"]).await;
    let answer = h.call(GET, json!({ "To_Account": ["id1", "ghost"], "TagList": ["Tag_Profile_IM_Nick"] })).await;
    assert_code(&answer, 0);
    assert_eq!(answer["UserProfileItem"][0]["ResultCode"], 0);
    assert_eq!(answer["UserProfileItem"][0]["ProfileItem"], json!([]));
    assert_eq!(answer["UserProfileItem"][1]["To_Account"], "ghost");
    assert_eq!(answer["UserProfileItem"][1]["ResultCode"], 40003);
    assert!(answer["UserProfileItem"][1].get("ProfileItem").is_none());
    assert_eq!(answer["Fail_Account"], json!(["ghost"]));
}

#[tokio::test]
async fn a_deleted_account_loses_its_profile() {
    let h = start_with_custom().await;
    h.import(&["id1"]).await;
    h.call(SET, json!({ "From_Account": "id1", "ProfileItem": [{ "Tag": "Tag_Profile_IM_Nick", "Value": "n" }] }))
        .await;
    assert_code(&h.call("im_open_login_svc/account_delete", json!({ "DeleteItem": [{ "UserID": "id1" }] })).await, 0);
    h.import(&["id1"]).await;
    let answer = h.call(GET, json!({ "To_Account": ["id1"], "TagList": ["Tag_Profile_IM_Nick"] })).await;
    assert_eq!(items(&answer, 0), json!([]));
}

#[tokio::test]
async fn profile_mistakes_have_their_documented_codes() {
    let h = start_with_custom().await;
    h.import(&["id1"]).await;
    let set =
        |tag: &str, value: Value| json!({ "From_Account": "id1", "ProfileItem": [{ "Tag": tag, "Value": value }] });
    let long = "x".repeat(501);
    let cases: Vec<(&str, Value, i64, &str)> = vec![
        (GET, json!({ "TagList": ["Tag_Profile_IM_Nick"] }), 40002, "To_Account missing"),
        (GET, json!({ "To_Account": [], "TagList": ["Tag_Profile_IM_Nick"] }), 40002, "To_Account empty"),
        (GET, json!({ "To_Account": ["id1"], "TagList": ["Tag_Profile_IM_Nickname"] }), 40009, "no such tag"),
        (GET, json!({ "To_Account": ["id1"], "TagList": ["Tag_Profile_Custom_Other"] }), 40009, "undeclared custom"),
        (SET, set("Tag_Profile_Custom_Other", json!("x")), 40009, "undeclared custom field"),
        (SET, set("Tag_Profile_IM_Gender", json!("Male")), 40605, "not one of Gender's values"),
        (SET, set("Tag_Profile_IM_Nick", json!(long)), 40601, "nickname over 500 bytes"),
        (SET, set("Tag_Profile_IM_Location", json!("seventeen bytes!!")), 40601, "location over 16 bytes"),
        (SET, set("Tag_Profile_IM_Level", json!("7")), 40610, "a string for an integer tag"),
        (SET, set("Tag_Profile_IM_Nick", json!(7)), 40610, "a number for a string tag"),
        (SET, set("Tag_Profile_IM_Level", json!(4_294_967_296_u64)), 40610, "over u32"),
        (
            SET,
            json!({ "From_Account": "ghost", "ProfileItem": [{ "Tag": "Tag_Profile_IM_Nick", "Value": "n" }] }),
            40003,
            "no such account",
        ),
        (SET, json!({ "From_Account": "id1" }), 40001, "ProfileItem missing"),
    ];
    for (path, body, code, case) in cases {
        let answer = h.call(path, body).await;
        assert_eq!(answer["ErrorCode"], code, "{case}: {answer}");
    }
    // Nothing of a refused set was stored.
    let answer = h
        .call(GET, json!({ "To_Account": ["id1"], "TagList": ["Tag_Profile_IM_Gender", "Tag_Profile_IM_Level"] }))
        .await;
    assert_eq!(items(&answer, 0), json!([]));
}

#[tokio::test]
async fn query_online_status_answers_offline_for_accounts_and_70107_for_others() {
    let h = start(|builder| builder).await;
    h.import(&["id1", "id2"]).await;
    let answer = h.call(ONLINE, json!({ "To_Account": ["id1", "id2", "id4"], "IsNeedDetail": 1 })).await;
    assert_code(&answer, 0);
    assert_eq!(
        answer["QueryResult"],
        json!([{ "To_Account": "id1", "Status": "Offline" }, { "To_Account": "id2", "Status": "Offline" }])
    );
    assert_eq!(answer["ErrorList"], json!([{ "To_Account": "id4", "ErrorCode": 70107 }]));
    // Only when every account fails does the call fail.
    assert_code(&h.call(ONLINE, json!({ "To_Account": ["ghost"] })).await, 70107);
    let many: Vec<String> = (0..501).map(|i| format!("u{i}")).collect();
    assert_code(&h.call(ONLINE, json!({ "To_Account": many })).await, 90011);
    assert_code(&h.call(ONLINE, json!({ "To_Account": [] })).await, 90001);
    assert_code(&h.call(ONLINE, json!({ "To_Account": [1] })).await, 90003);
}

#[tokio::test]
async fn custom_profile_fields_must_be_well_formed() {
    let clock = tim_emulator::ManualClock::new(T0);
    let builder = tim_emulator::Emulator::builder(SDKAPPID, tim_sig::SecretKey::new(KEY).unwrap(), clock);
    let error = builder.custom_profile_fields(["Tag_Profile_Custom_TooLongName"]).build().unwrap_err();
    assert!(error.to_string().contains("Tag_Profile_Custom_TooLongName"), "{error}");
}
