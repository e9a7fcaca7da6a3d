//! Message-level control values shared by the sending APIs, spec §2.5.
//!
//! The string-valued ones are open enums: a value Tencent adds later decodes as `Other` and is sent back as it was.

use serde::{Deserialize, Serialize};

macro_rules! open_string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A value this version of tim does not know, kept as it came.
            Other(String),
        }

        impl $name {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(other) => other,
                }
            }

            /// Parses a wire value; unknown values become `Other`.
            pub fn parse(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::parse(&value))
            }
        }
    };
}
pub(crate) use open_string_enum;

open_string_enum!(
    /// One entry of `SendMsgControl`.
    SendMsgControl {
        /// The message does not count as unread.
        NoUnread = "NoUnread",
        /// The conversation list is not updated.
        NoLastMsg = "NoLastMsg",
        /// One-to-one only: honour the receiver's mute setting.
        WithMuteNotifications = "WithMuteNotifications",
        /// Skip cloud moderation.
        NoMsgCheck = "NoMsgCheck",
    }
);

open_string_enum!(
    /// One entry of `ForbidCallbackControl`: which webhooks this message does not trigger.
    ForbidCallback {
        /// No before-send webhook.
        ForbidBeforeSendMsgCallback = "ForbidBeforeSendMsgCallback",
        /// No after-send webhook.
        ForbidAfterSendMsgCallback = "ForbidAfterSendMsgCallback",
    }
);

open_string_enum!(
    /// `MsgPriority` of a group message (case-sensitive on the wire).
    MsgPriority {
        /// High priority.
        High = "High",
        /// Normal priority (the default).
        Normal = "Normal",
        /// Low priority.
        Low = "Low",
    }
);

/// One `GroupAtInfo` entry: an @mention, in the order the mentions appear in the text. At most 30 per message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAtInfo {
    /// `1` @all, `0` one member.
    #[serde(rename = "GroupAtAllFlag")]
    pub group_at_all_flag: u32,
    /// The member mentioned (when `GroupAtAllFlag` is 0).
    #[serde(rename = "GroupAt_Account", default, skip_serializing_if = "Option::is_none")]
    pub group_at_account: Option<String>,
}

/// The most `GroupAtInfo` entries a group message may carry (error 10053 beyond).
pub const MAX_GROUP_AT: usize = 30;

/// The longest `MsgLifeTime`, in seconds: seven days.
pub const MAX_MSG_LIFE_TIME: u32 = 604_800;
