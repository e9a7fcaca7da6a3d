//! Accounts: account_import, multiaccount_import, account_check and account_delete.

use super::path::{self, Field};
use super::{Collector, FromModel, IntoModel, non_empty};
use crate::pb;
use tim_model::account::{
    AccountCheckRequest, AccountDeleteRequest, AccountImportRequest, AccountItem, AccountResult, AccountResults,
    MultiAccountImportRequest, MultiAccountImportResult, UserIdItem,
};
use tim_model::envelope::{EmptyResponse, Response};
use tim_model::{Extra, ValidationErrors};

impl IntoModel for pb::AccountImportRequest {
    type Model = AccountImportRequest;

    fn into_model(self) -> Result<AccountImportRequest, ValidationErrors> {
        let mut c = Collector::default();
        let user_id = c.user("UserID", self.user_id);
        c.finish(|| {
            Some(AccountImportRequest {
                user_id: user_id?,
                nick: self.nick,
                face_url: self.face_url,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::plain(rest_path)
    }
}

impl FromModel<AccountImportRequest> for pb::AccountImportResponse {
    fn from_model(_response: EmptyResponse, _dedupe_key: Option<u32>) -> Self {
        Self {}
    }
}

impl IntoModel for pb::MultiAccountImportRequest {
    type Model = MultiAccountImportRequest;

    fn into_model(self) -> Result<MultiAccountImportRequest, ValidationErrors> {
        let mut c = Collector::default();
        let accounts = c.users("Accounts", self.accounts);
        let account_list: Vec<Option<AccountItem>> = self
            .account_list
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                Some(AccountItem {
                    user_id: c.user(&format!("AccountList[{i}].UserID"), item.user_id)?,
                    nick: item.nick,
                    face_url: item.face_url,
                })
            })
            .collect();
        c.finish(|| {
            Some(MultiAccountImportRequest {
                accounts: non_empty(accounts?),
                account_list: non_empty(account_list.into_iter().collect::<Option<Vec<_>>>()?),
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::plain(rest_path)
    }
}

impl FromModel<MultiAccountImportRequest> for pb::MultiAccountImportResponse {
    fn from_model(response: Response<MultiAccountImportResult>, _dedupe_key: Option<u32>) -> Self {
        Self { fail_accounts: response.body.fail_accounts.unwrap_or_default() }
    }
}

/// Wraps each UserID of a list at `field` (`CheckItem`, `DeleteItem`) in its `{"UserID": ...}` object.
fn user_id_items(c: &mut Collector, field: &str, user_ids: Vec<String>) -> Vec<Option<UserIdItem>> {
    user_ids
        .into_iter()
        .enumerate()
        .map(|(i, user_id)| Some(UserIdItem { user_id: c.user(&format!("{field}[{i}].UserID"), user_id)? }))
        .collect()
}

impl IntoModel for pb::AccountCheckRequest {
    type Model = AccountCheckRequest;

    fn into_model(self) -> Result<AccountCheckRequest, ValidationErrors> {
        let mut c = Collector::default();
        let check_item = user_id_items(&mut c, "CheckItem", self.user_ids);
        c.finish(|| {
            Some(AccountCheckRequest {
                check_item: check_item.into_iter().collect::<Option<_>>()?,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::map(rest_path, &[Field::Flat { rest: "CheckItem", inner: "UserID", proto: "user_ids" }])
    }
}

/// The per-account outcomes of account_check and account_delete.
fn account_results(results: AccountResults) -> Vec<pb::AccountResult> {
    results
        .result_item
        .unwrap_or_default()
        .into_iter()
        .map(|AccountResult { user_id, result_code, result_info, account_status }| pb::AccountResult {
            user_id,
            result_code,
            result_info,
            account_status,
        })
        .collect()
}

impl FromModel<AccountCheckRequest> for pb::AccountCheckResponse {
    fn from_model(response: Response<AccountResults>, _dedupe_key: Option<u32>) -> Self {
        Self { result_item: account_results(response.body) }
    }
}

impl IntoModel for pb::AccountDeleteRequest {
    type Model = AccountDeleteRequest;

    fn into_model(self) -> Result<AccountDeleteRequest, ValidationErrors> {
        let mut c = Collector::default();
        let delete_item = user_id_items(&mut c, "DeleteItem", self.user_ids);
        c.finish(|| {
            Some(AccountDeleteRequest {
                delete_item: delete_item.into_iter().collect::<Option<_>>()?,
                extra: Extra::new(),
            })
        })
    }

    fn proto_path(&self, rest_path: &str) -> String {
        path::map(rest_path, &[Field::Flat { rest: "DeleteItem", inner: "UserID", proto: "user_ids" }])
    }
}

impl FromModel<AccountDeleteRequest> for pb::AccountDeleteResponse {
    fn from_model(response: Response<AccountResults>, _dedupe_key: Option<u32>) -> Self {
        Self { result_item: account_results(response.body) }
    }
}
