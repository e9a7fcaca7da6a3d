//! Accounts: account_import, multiaccount_import, account_check and account_delete.

use crate::Extra;
use crate::api::TypedRequest;
use crate::command::CommandId;
use crate::envelope::{EmptyResponse, Response};
use crate::error::{Problem, ValidationErrors};
use crate::ids::UserId;
use crate::validate::{Checker, Validate};
use serde::{Deserialize, Serialize};

/// The most accounts one multiaccount_import, account_check or account_delete takes.
pub const MAX_ACCOUNTS_PER_CALL: usize = 100;

/// `im_open_login_svc/account_import`: import (create) one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountImportRequest {
    /// The account.
    #[serde(rename = "UserID")]
    pub user_id: UserId,
    /// Nickname.
    #[serde(rename = "Nick", default, skip_serializing_if = "Option::is_none")]
    pub nick: Option<String>,
    /// Avatar URL.
    #[serde(rename = "FaceUrl", default, skip_serializing_if = "Option::is_none")]
    pub face_url: Option<String>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The longest nickname or avatar URL, in bytes (error 40601 beyond).
pub const MAX_PROFILE_VALUE_BYTES: usize = 500;

impl Validate for AccountImportRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        c.max_bytes("Nick", self.nick.as_deref(), MAX_PROFILE_VALUE_BYTES);
        c.max_bytes("FaceUrl", self.face_url.as_deref(), MAX_PROFILE_VALUE_BYTES);
        c.finish()
    }
}

impl TypedRequest for AccountImportRequest {
    const COMMAND: CommandId = CommandId::AccountImport;
    type Response = EmptyResponse;
}

/// One account of the newer multiaccount_import form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountItem {
    /// The account.
    #[serde(rename = "UserID")]
    pub user_id: UserId,
    /// Nickname.
    #[serde(rename = "Nick", default, skip_serializing_if = "Option::is_none")]
    pub nick: Option<String>,
    /// Avatar URL.
    #[serde(rename = "FaceUrl", default, skip_serializing_if = "Option::is_none")]
    pub face_url: Option<String>,
}

/// `im_open_login_svc/multiaccount_import`: up to 100 accounts, either as plain ids (`Accounts`) or, in the
/// newer form, with nicknames and avatars (`AccountList`, which also updates existing accounts). Exactly one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiAccountImportRequest {
    /// The accounts, as ids.
    #[serde(rename = "Accounts", default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<UserId>>,
    /// The accounts, with profile fields.
    #[serde(rename = "AccountList", default, skip_serializing_if = "Option::is_none")]
    pub account_list: Option<Vec<AccountItem>>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Validate for MultiAccountImportRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        match (&self.accounts, &self.account_list) {
            (Some(_), Some(_)) => {
                c.fail("AccountList", Problem::Rule("cannot be combined with Accounts: send one form"))
            }
            (None, None) => c.fail("Accounts", Problem::Missing),
            (Some(ids), None) => c.count("Accounts", ids.len(), 1, MAX_ACCOUNTS_PER_CALL),
            (None, Some(items)) => c.count("AccountList", items.len(), 1, MAX_ACCOUNTS_PER_CALL),
        }
        c.finish()
    }
}

/// What multiaccount_import answers besides the envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MultiAccountImportResult {
    /// The accounts that failed to import.
    #[serde(rename = "FailAccounts", default, skip_serializing_if = "Option::is_none")]
    pub fail_accounts: Option<Vec<String>>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for MultiAccountImportRequest {
    const COMMAND: CommandId = CommandId::MultiAccountImport;
    type Response = Response<MultiAccountImportResult>;
}

/// One account to check or delete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserIdItem {
    /// The account.
    #[serde(rename = "UserID")]
    pub user_id: UserId,
}

/// `im_open_login_svc/account_check`: whether up to 100 accounts exist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountCheckRequest {
    /// The accounts, 1..=100.
    #[serde(rename = "CheckItem")]
    pub check_item: Vec<UserIdItem>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Validate for AccountCheckRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        c.count("CheckItem", self.check_item.len(), 1, MAX_ACCOUNTS_PER_CALL);
        c.finish()
    }
}

/// The outcome for one account of account_check or account_delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountResult {
    /// The account.
    #[serde(rename = "UserID")]
    pub user_id: String,
    /// `0` on success, otherwise an error code (70107: does not exist).
    #[serde(rename = "ResultCode")]
    pub result_code: i64,
    /// Error text.
    #[serde(rename = "ResultInfo", default)]
    pub result_info: String,
    /// account_check only: `Imported` or `NotImported`.
    #[serde(rename = "AccountStatus", default, skip_serializing_if = "Option::is_none")]
    pub account_status: Option<String>,
}

/// What account_check and account_delete answer besides the envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountResults {
    /// One outcome per account.
    #[serde(rename = "ResultItem", default, skip_serializing_if = "Option::is_none")]
    pub result_item: Option<Vec<AccountResult>>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TypedRequest for AccountCheckRequest {
    const COMMAND: CommandId = CommandId::AccountCheck;
    type Response = Response<AccountResults>;
}

/// `im_open_login_svc/account_delete`: delete up to 100 accounts (trial-edition apps only; others get 71000).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountDeleteRequest {
    /// The accounts, 1..=100.
    #[serde(rename = "DeleteItem")]
    pub delete_item: Vec<UserIdItem>,
    /// Fields this version of tim does not know, sent as they are.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Validate for AccountDeleteRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::default();
        c.count("DeleteItem", self.delete_item.len(), 1, MAX_ACCOUNTS_PER_CALL);
        c.finish()
    }
}

impl TypedRequest for AccountDeleteRequest {
    const COMMAND: CommandId = CommandId::AccountDelete;
    type Response = Response<AccountResults>;
}
