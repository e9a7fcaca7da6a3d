//! Contract tests of the `im_open_login_svc` service (accounts).

mod common;

use tim_model::account::*;

contracts! {
    account_import => AccountImportRequest, "im_open_login_svc/account_import";
    multiaccount_import => MultiAccountImportRequest, "im_open_login_svc/multiaccount_import";
    account_check => AccountCheckRequest, "im_open_login_svc/account_check";
    account_delete => AccountDeleteRequest, "im_open_login_svc/account_delete";
}

#[tokio::test]
async fn multiaccount_import_with_profiles() {
    common::contract::<MultiAccountImportRequest>(
        "im_open_login_svc/multiaccount_import",
        "request_account_list",
        "response",
    )
    .await;
}
