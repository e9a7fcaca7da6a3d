//! Contract tests of the `group_open_http_svc` service beyond each command's documented sample (those are in
//! `contracts.rs`, generated from the command declarations).

mod common;

use tim_model::group_msg::*;

#[tokio::test]
async fn a_message_dropped_by_frequency_control_is_reported_as_the_service_said() {
    common::contract::<SendGroupMsgRequest>("group_open_http_svc/send_group_msg", "request", "response_dropped").await;
}
