//! What Tencent puts in the query string of every callback (webhook) it POSTs to the app's backend:
//! `?SdkAppid=…&CallbackCommand=…&contenttype=json&ClientIP=…&OptPlatform=…[&Sign=…&RequestTime=…]`.
//!
//! ```
//! use tim_model::callback::CallbackQuery;
//! let query: CallbackQuery = serde_json::from_value(serde_json::json!({
//!     "SdkAppid": "1400000000", "CallbackCommand": "C2C.CallbackAfterSendMsg", "contenttype": "json",
//!     "ClientIP": "127.0.0.1", "OptPlatform": "RESTAPI", "RequestTime": "1700000000", "Sign": "e78a…",
//! }))?;
//! assert!(query.is_for(1_400_000_000));
//! assert!(!query.is_for(1_400_000_001));
//! assert_eq!(query.request_time.as_deref(), Some("1700000000"));
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::{Deserialize, Serialize};

/// The query parameters of a callback. Every one is optional here: a receiver decides what a missing one means
/// (a callback without `SdkAppid` is for no app; without `Sign`, webhook authentication is off in the console).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackQuery {
    /// The app the callback is for: a receiver must check that it is its own.
    #[serde(rename = "SdkAppid", default, skip_serializing_if = "Option::is_none")]
    pub sdkappid: Option<String>,
    /// The event, for example `C2C.CallbackBeforeSendMsg` (the body repeats it).
    #[serde(rename = "CallbackCommand", default, skip_serializing_if = "Option::is_none")]
    pub callback_command: Option<String>,
    /// `json` (some pages write `JSON`).
    #[serde(rename = "contenttype", default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The address of the client that caused the event.
    #[serde(rename = "ClientIP", default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    /// The platform of that client (`RESTAPI`, `Web`, `Android`, `iOS`, ...; the case varies).
    #[serde(rename = "OptPlatform", default, skip_serializing_if = "Option::is_none")]
    pub opt_platform: Option<String>,
    /// The decimal UNIX time the `Sign` covers, when webhook authentication is on.
    #[serde(rename = "RequestTime", default, skip_serializing_if = "Option::is_none")]
    pub request_time: Option<String>,
    /// The lowercase hex SHA-256 of the console's token and `RequestTime`, when webhook authentication is on.
    #[serde(rename = "Sign", default, skip_serializing_if = "Option::is_none")]
    pub sign: Option<String>,
}

impl CallbackQuery {
    /// Whether the callback is for the app `sdkappid` (its `SdkAppid` is that number, written plainly).
    pub fn is_for(&self, sdkappid: u64) -> bool {
        self.sdkappid.as_deref() == Some(sdkappid.to_string().as_str())
    }
}
