//! Contract tests of the `group_open_http_svc` service: exact path, query and JSON body of every typed command,
//! and the decoding of its answers.

mod common;

use tim_model::group::*;
use tim_model::group_msg::*;

contracts! {
    send_group_msg => SendGroupMsgRequest, "group_open_http_svc/send_group_msg";
    send_group_system_notification => SendGroupSystemNotificationRequest, "group_open_http_svc/send_group_system_notification";
    send_broadcast_msg => SendBroadcastMsgRequest, "group_open_http_svc/send_broadcast_msg";
    import_group_msg => ImportGroupMsgRequest, "group_open_http_svc/import_group_msg";
    group_msg_recall => GroupMsgRecallRequest, "group_open_http_svc/group_msg_recall";
    group_msg_get_simple => GroupMsgGetSimpleRequest, "group_open_http_svc/group_msg_get_simple";
    create_group => CreateGroupRequest, "group_open_http_svc/create_group";
    destroy_group => DestroyGroupRequest, "group_open_http_svc/destroy_group";
    add_group_member => AddGroupMemberRequest, "group_open_http_svc/add_group_member";
    delete_group_member => DeleteGroupMemberRequest, "group_open_http_svc/delete_group_member";
    get_group_info => GetGroupInfoRequest, "group_open_http_svc/get_group_info";
    get_group_member_info => GetGroupMemberInfoRequest, "group_open_http_svc/get_group_member_info";
}

#[tokio::test]
async fn a_message_dropped_by_frequency_control_is_reported_as_the_service_said() {
    common::contract::<SendGroupMsgRequest>("group_open_http_svc/send_group_msg", "request", "response_dropped").await;
}
