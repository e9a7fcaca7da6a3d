//! Contract tests of the `im_open_login_svc` service (accounts).

mod common;

use tim_model::account::*;

#[tokio::test]
async fn multiaccount_import_with_profiles() {
    common::contract::<MultiAccountImportRequest>(
        "im_open_login_svc/multiaccount_import",
        "request_account_list",
        "response",
    )
    .await;
}
