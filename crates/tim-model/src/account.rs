//! Accounts: account_import, multiaccount_import, account_check and account_delete.
//!
//! The types, limits and checks are declared in `crates/tim-model/commands/account.toml` and generated into
//! `account/generated.rs` (`cargo xtask codegen`).

mod generated;

pub use generated::*;
