//! Contract tests of the `all_member_push` service.

mod common;

use tim_model::push_all::ImPushRequest;

#[tokio::test]
async fn im_push_by_attributes() {
    common::contract::<ImPushRequest>("all_member_push/im_push", "request_attrs", "response").await;
}
