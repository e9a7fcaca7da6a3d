//! Contract tests of the `openim` service beyond each command's documented sample (those are in `contracts.rs`,
//! generated from the command declarations), including batchsendmsg's partial failure.

mod common;

use tim_model::c2c::*;
use tim_model::envelope::ActionStatus;
use tim_transport::Error;

#[tokio::test]
async fn sendmsg_with_every_element_kind() {
    common::contract::<SendMsgRequest>("openim/sendmsg", "request_all_elements", "response").await;
}

#[tokio::test]
async fn batchsendmsg_partial_failure_is_success_with_the_failed_recipients() {
    common::contract::<BatchSendMsgRequest>("openim/batchsendmsg", "request", "response_some_error").await;
    let request: BatchSendMsgRequest =
        tim_model::api::decode(&common::fixture("openim/batchsendmsg", "request")).unwrap();
    let server = common::service(
        "openim/batchsendmsg",
        serde_json::to_value(&request).unwrap(),
        common::fixture("openim/batchsendmsg", "response_some_error"),
    )
    .await;
    let response = common::client(&server).call(request).await.unwrap();
    assert_eq!(response.action_status, ActionStatus::SomeError);
    let failed: Vec<&str> = response.body.error_list.iter().flatten().map(|e| e.to_account.as_str()).collect();
    assert_eq!(failed, ["rong", "ghost"]);
}

#[tokio::test]
async fn a_permanent_refusal_keeps_the_code_the_info_and_the_command() {
    let request: BatchSendMsgRequest =
        tim_model::api::decode(&common::fixture("openim/batchsendmsg", "request")).unwrap();
    let server = common::service(
        "openim/batchsendmsg",
        serde_json::to_value(&request).unwrap(),
        common::fixture("openim/batchsendmsg", "response_fail"),
    )
    .await;
    let error = common::client(&server).call(request).await.unwrap_err();
    match error {
        Error::Refused { command, code, info, .. } => {
            assert_eq!(
                (command, code, info.as_str()),
                ("v4/openim/batchsendmsg", 90011, "To_Account count exceeds 500")
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn recalling_an_already_recalled_message_is_success() {
    common::contract::<AdminMsgWithdrawRequest>("openim/admin_msgwithdraw", "request", "response_already").await;
}

#[tokio::test]
async fn an_invalid_request_is_refused_before_anything_is_sent() {
    let server = common::service_expecting_nothing().await;
    let mut request: SendMsgRequest = tim_model::api::decode(&common::fixture("openim/sendmsg", "request")).unwrap();
    request.msg_life_time = Some(700_000);
    let error = common::client(&server).call(request).await.unwrap_err();
    assert!(matches!(&error, Error::Invalid { errors, .. } if errors.concerns("MsgLifeTime")), "{error}");
    server.verify().await;
}

#[tokio::test]
async fn the_generic_call_reaches_any_command_with_the_same_url_rules() {
    let body = serde_json::json!({"To_Account": ["a", "b"], "IsNeedDetail": 1});
    let answer = br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","QueryResult":[]}"#.to_vec();
    let server = common::service("openim/query_online_status", body.clone(), answer).await;
    let response = common::client(&server).call_json("openim/query_online_status", body).await.unwrap();
    assert_eq!(response["QueryResult"], serde_json::json!([]));
    server.verify().await;
}
