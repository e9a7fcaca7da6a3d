//! The command table: every REST command of Tencent Cloud Chat, declared once.
//!
//! Each row gives the command's path, its documentation group and name, its default quota, its idempotency class
//! and whether `tim-model` has typed request and response types for it (that column follows from the declarations
//! in `crates/tim-model/commands/`, through [`crate::registry::TYPED_COMMANDS`]). URL building, quota pacing, retries, the
//! emulator's routing, the gRPC generic call and the contract tests all read this table; no other code spells a
//! command path.
//!
//! ```
//! use tim_model::command::{self, CommandId};
//! let send = CommandId::SendMsg.command();
//! assert_eq!(send.path, "v4/openim/sendmsg");
//! assert_eq!(send.short_path(), "openim/sendmsg");
//! assert_eq!(command::find("openim/sendmsg").map(|c| c.id), Some(CommandId::SendMsg));
//! assert_eq!(command::find("/v4/openim/sendmsg").map(|c| c.id), Some(CommandId::SendMsg));
//! ```

use std::sync::OnceLock;

/// How often a command may be called by default. Apps that buy more quota override these in configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rate {
    /// Calls per second.
    PerSecond(u32),
    /// Calls per day.
    PerDay(u32),
}

impl Rate {
    /// Reads a rate as configuration writes it: `N/s` or `N/day`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let (count, unit) = text.trim().split_once('/').ok_or("expected N/s or N/day")?;
        let count: u32 = count.trim().parse().map_err(|_| "the count is not a whole number")?;
        match unit.trim() {
            "s" => Ok(Self::PerSecond(count)),
            "day" => Ok(Self::PerDay(count)),
            _ => Err("the unit must be s or day"),
        }
    }
}

/// A command's documented default quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    /// How many calls.
    pub calls: Rate,
    /// For commands that address many recipients at once (batchsendmsg): recipients per minute, over all calls.
    pub recipients_per_minute: Option<u32>,
    /// The shortest documented interval between two calls, in milliseconds (im_push: more than one second).
    pub min_interval_ms: Option<u32>,
}

/// Tencent's documented default for commands without a limit of their own: 200 calls per second.
pub const DEFAULT_QUOTA: Quota = per_second(200);

/// A quota of `n` calls per second and nothing else.
pub const fn per_second(n: u32) -> Quota {
    Quota { calls: Rate::PerSecond(n), recipients_per_minute: None, min_interval_ms: None }
}

/// What happens when a call is repeated, which decides whether a retry after an unknown outcome is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Idempotency {
    /// The command only reads: a retry is always safe.
    Read,
    /// Repeating the call leaves the same state (set, delete, add-if-absent, recall): a retry is safe.
    Idempotent,
    /// The service drops a repeat that carries the same values in the `pinned` fields (paths in the request JSON,
    /// `[]` meaning every entry of a list) within `window_secs` of the first; `None` means for ever.
    /// Those fields must be fixed before the first attempt and never regenerated; a retry is safe only inside
    /// the window.
    Dedupe {
        /// The fields that form the deduplication key.
        pinned: &'static [&'static str],
        /// How long, in seconds, a repeat is recognised; `None` for ever.
        window_secs: Option<u32>,
    },
    /// Nothing stops a repeat from acting twice: after an unknown outcome the call must not be retried.
    Unsafe {
        /// Why a repeat is unsafe.
        why: &'static str,
    },
}

/// For the one-second windows ("deduplicated within the same second"), how early in a second, by the client's
/// clock, a retry must leave to count as the same second on the service's clock: the margin covers the network
/// delay and clock skew. A retry is safe only if it leaves in the same UNIX second as the first attempt and at most
/// `1000 - SAME_SECOND_MARGIN_MS` milliseconds into it; for longer windows, only if it leaves this margin before
/// the window ends.
pub const SAME_SECOND_MARGIN_MS: u64 = 100;

/// When a call whose outcome is unknown may be sent again, by the client's wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryWindow {
    /// At any time: the command only reads, is idempotent, or is deduplicated for ever.
    Always,
    /// From `from_unix_ms` (inclusive) to `until_unix_ms` (exclusive), UNIX milliseconds; the margin of
    /// [`SAME_SECOND_MARGIN_MS`] is already taken off the end.
    Within {
        /// The earliest moment (the start of the first attempt's calendar second for one-second windows).
        from_unix_ms: u64,
        /// The first moment at which a repeat would no longer be recognised as one.
        until_unix_ms: u64,
    },
    /// Never: a repeat could act twice.
    Never,
}

impl RetryWindow {
    /// Whether a repeat leaving at `now_unix_ms` is inside the window.
    pub fn contains(&self, now_unix_ms: u64) -> bool {
        match *self {
            Self::Always => true,
            Self::Within { from_unix_ms, until_unix_ms } => (from_unix_ms..until_unix_ms).contains(&now_unix_ms),
            Self::Never => false,
        }
    }
}

impl Idempotency {
    /// Whether a repeat can never act twice, whenever it is sent: the command only reads, is idempotent, or is
    /// deduplicated for ever. A call of such a command that may have acted is simply retried.
    pub fn repeats_are_harmless(&self) -> bool {
        matches!(self, Self::Read | Self::Idempotent | Self::Dedupe { window_secs: None, .. })
    }

    /// The fields the command table pins for this command (paths in the request JSON; empty unless `Dedupe`).
    pub fn pinned(&self) -> &'static [&'static str] {
        match self {
            Self::Dedupe { pinned, .. } => pinned,
            Self::Read | Self::Idempotent | Self::Unsafe { .. } => &[],
        }
    }

    /// When a call whose first attempt left at `first_sent_unix_ms` (UNIX milliseconds by the client's clock),
    /// with an unknown outcome, may be sent again.
    ///
    /// A one-second window means "within the same second" (a calendar second, not any 1,000 ms): a retry 10 ms
    /// after a first attempt at 12:00:00.995 would be a new message for the service. See [`SAME_SECOND_MARGIN_MS`].
    pub fn retry_window(&self, first_sent_unix_ms: u64) -> RetryWindow {
        match self {
            Self::Read | Self::Idempotent | Self::Dedupe { window_secs: None, .. } => RetryWindow::Always,
            Self::Dedupe { window_secs: Some(1), .. } => {
                let second = first_sent_unix_ms - first_sent_unix_ms % 1000;
                RetryWindow::Within { from_unix_ms: second, until_unix_ms: second + 1000 - SAME_SECOND_MARGIN_MS }
            }
            Self::Dedupe { window_secs: Some(window), .. } => RetryWindow::Within {
                from_unix_ms: 0,
                until_unix_ms: (first_sent_unix_ms + u64::from(*window) * 1000).saturating_sub(SAME_SECOND_MARGIN_MS),
            },
            Self::Unsafe { .. } => RetryWindow::Never,
        }
    }

    /// Whether the call may be sent again at `now_unix_ms` when its first attempt left at `first_sent_unix_ms`
    /// (both UNIX milliseconds by the client's clock) and that attempt's outcome is unknown: whether `now_unix_ms`
    /// is inside [`Idempotency::retry_window`].
    pub fn retry_safe_at(&self, first_sent_unix_ms: u64, now_unix_ms: u64) -> bool {
        self.retry_window(first_sent_unix_ms).contains(now_unix_ms)
    }

    /// Whether the call may be sent again `elapsed_secs` after its first attempt, when the first attempt's
    /// outcome is unknown (it may have been applied). A necessary condition measured on a monotonic clock;
    /// [`Idempotency::retry_safe_at`] adds the wall-clock rule of the one-second windows.
    pub fn retry_safe_after(&self, elapsed_secs: f64) -> bool {
        match self {
            Self::Read | Self::Idempotent => true,
            Self::Dedupe { window_secs: None, .. } => true,
            Self::Dedupe { window_secs: Some(window), .. } => elapsed_secs < f64::from(*window),
            Self::Unsafe { .. } => false,
        }
    }
}

/// One row of the command table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Command {
    /// The command's identity.
    pub id: CommandId,
    /// The path after the host, without a leading slash: `v4/{service}/{command}`.
    pub path: &'static str,
    /// The documentation group, for example `C2C messages`.
    pub group: &'static str,
    /// What the command does, in a few words.
    pub name: &'static str,
    /// Default quota.
    pub quota: Quota,
    /// Idempotency class.
    pub idempotency: Idempotency,
    /// Whether `tim-model` has typed request and response types for it (see [`crate::api::TypedRequest`]).
    pub typed: bool,
}

impl Command {
    /// The path without the `v4/` prefix: `openim/sendmsg`, the form users type.
    pub fn short_path(&self) -> &'static str {
        &self.path[VERSION_PREFIX.len()..]
    }

    /// The service segment: `openim` for `v4/openim/sendmsg`.
    pub fn service(&self) -> &'static str {
        self.short_path().split_once('/').map_or("", |(service, _)| service)
    }

    /// The command segment: `sendmsg` for `v4/openim/sendmsg`.
    pub fn command_name(&self) -> &'static str {
        self.short_path().split_once('/').map_or("", |(_, command)| command)
    }
}

const VERSION_PREFIX: &str = "v4/";

/// Finds a command by path, in any of the forms `v4/openim/sendmsg`, `/v4/openim/sendmsg` or `openim/sendmsg`.
/// Matching is exact and case-sensitive, like the service's.
pub fn find(path: &str) -> Option<&'static Command> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = path.strip_prefix(VERSION_PREFIX).unwrap_or(path);
    let index = sorted_index();
    index.binary_search_by(|&i| COMMANDS[i].short_path().cmp(path)).ok().map(|position| &COMMANDS[index[position]])
}

/// Indices into [`COMMANDS`], sorted by short path, built once.
fn sorted_index() -> &'static [usize] {
    static INDEX: OnceLock<Vec<usize>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index: Vec<usize> = (0..COMMANDS.len()).collect();
        index.sort_by_key(|&i| COMMANDS[i].short_path());
        index
    })
}

macro_rules! command_table {
    ($($variant:ident => $path:literal, $group:literal, $name:literal, $quota:expr, $idempotency:expr;)+) => {
        /// The identity of a REST command; `COMMANDS[id as usize]` is its row.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[allow(missing_docs)] // Each variant is documented by its row's `name`.
        pub enum CommandId { $($variant,)+ }

        /// Every REST command, in the order of the endpoint list (`../shared/spec/endpoints.tsv`).
        pub static COMMANDS: &[Command] = &[
            $(Command {
                id: CommandId::$variant,
                path: $path,
                group: $group,
                name: $name,
                quota: $quota,
                idempotency: $idempotency,
                typed: crate::registry::is_typed(CommandId::$variant),
            },)+
        ];
    };
}

impl CommandId {
    /// This command's row of the table.
    pub fn command(self) -> &'static Command {
        &COMMANDS[self as usize]
    }
}

command_table! {
    AccountCheck => "v4/im_open_login_svc/account_check", "Accounts", "Check (query) accounts exist", per_second(100), Idempotency::Read;
    AccountDelete => "v4/im_open_login_svc/account_delete", "Accounts", "Delete accounts", per_second(100), Idempotency::Idempotent;
    AccountImport => "v4/im_open_login_svc/account_import", "Accounts", "Import a single account", DEFAULT_QUOTA, Idempotency::Idempotent;
    Kick => "v4/im_open_login_svc/kick", "Accounts", "Invalidate login state (kick)", DEFAULT_QUOTA, Idempotency::Idempotent;
    MultiAccountImport => "v4/im_open_login_svc/multiaccount_import", "Accounts", "Import multiple accounts (≤100; new form with nick/face)", per_second(100), Idempotency::Idempotent;
    QueryOnlineStatus => "v4/openim/query_online_status", "Accounts", "Query online status", DEFAULT_QUOTA, Idempotency::Read;
    AdminGetRoamMsg => "v4/openim/admin_getroammsg", "C2C messages", "Query one-to-one message history", DEFAULT_QUOTA, Idempotency::Read;
    AdminMsgWithdraw => "v4/openim/admin_msgwithdraw", "C2C messages", "Recall one-to-one message", DEFAULT_QUOTA, Idempotency::Idempotent;
    AdminSetMsgRead => "v4/openim/admin_set_msg_read", "C2C messages", "Mark one-to-one messages read", DEFAULT_QUOTA, Idempotency::Idempotent;
    BatchSendMsg => "v4/openim/batchsendmsg", "C2C messages", "Batch send one-to-one message (≤500 recipients)", Quota { calls: Rate::PerSecond(200), recipients_per_minute: Some(12_000), min_interval_ms: None }, Idempotency::Dedupe { pinned: &["MsgSeq", "MsgRandom"], window_secs: Some(1) };
    C2cMsgReadReceipt => "v4/openim/c2c_msg_read_receipt", "C2C messages", "Send one-to-one read receipt", DEFAULT_QUOTA, Idempotency::Idempotent;
    DeleteC2cMsgRamble => "v4/openim/delete_c2c_msg_ramble", "C2C messages", "One-way delete one-to-one history", DEFAULT_QUOTA, Idempotency::Idempotent;
    GetC2cUnreadMsgNum => "v4/openim/get_c2c_unread_msg_num", "C2C messages", "Query one-to-one unread count", DEFAULT_QUOTA, Idempotency::Read;
    ImportMsg => "v4/openim/importmsg", "C2C messages", "Import one-to-one message", DEFAULT_QUOTA, Idempotency::Dedupe { pinned: &["MsgSeq", "MsgRandom", "MsgTimeStamp"], window_secs: None };
    ModifyC2cMsg => "v4/openim/modify_c2c_msg", "C2C messages", "Modify one-to-one history message", DEFAULT_QUOTA, Idempotency::Idempotent;
    SendMsg => "v4/openim/sendmsg", "C2C messages", "Send one-to-one message", DEFAULT_QUOTA, Idempotency::Dedupe { pinned: &["MsgSeq", "MsgRandom"], window_secs: Some(1) };
    GetKeyValues => "v4/openim_msg_ext_http_svc/get_key_values", "C2C messages", "Get one-to-one message extension (KV)", DEFAULT_QUOTA, Idempotency::Read;
    SetKeyValues => "v4/openim_msg_ext_http_svc/set_key_values", "C2C messages", "Set one-to-one message extension (KV)", DEFAULT_QUOTA, Idempotency::Idempotent;
    AddGroupMember => "v4/group_open_http_svc/add_group_member", "Groups", "Add group members", DEFAULT_QUOTA, Idempotency::Idempotent;
    BanGroupMember => "v4/group_open_http_svc/ban_group_member", "Groups", "Ban members", DEFAULT_QUOTA, Idempotency::Idempotent;
    ChangeGroupOwner => "v4/group_open_http_svc/change_group_owner", "Groups", "Transfer group owner", DEFAULT_QUOTA, Idempotency::Idempotent;
    CreateGroup => "v4/group_open_http_svc/create_group", "Groups", "Create group", DEFAULT_QUOTA, Idempotency::Unsafe { why: "without a GroupId a repeat creates a second group" };
    DeleteGroupMember => "v4/group_open_http_svc/delete_group_member", "Groups", "Delete group members", DEFAULT_QUOTA, Idempotency::Idempotent;
    DestroyGroup => "v4/group_open_http_svc/destroy_group", "Groups", "Disband group", DEFAULT_QUOTA, Idempotency::Idempotent;
    ForbidSendMsg => "v4/group_open_http_svc/forbid_send_msg", "Groups", "Mute / unmute members", DEFAULT_QUOTA, Idempotency::Idempotent;
    GetAppidGroupList => "v4/group_open_http_svc/get_appid_group_list", "Groups", "List all groups in app", per_second(1), Idempotency::Read;
    GetGroupBanMember => "v4/group_open_http_svc/get_group_ban_member", "Groups", "List banned members", DEFAULT_QUOTA, Idempotency::Read;
    GetGroupInfo => "v4/group_open_http_svc/get_group_info", "Groups", "Get group profile", DEFAULT_QUOTA, Idempotency::Read;
    GetGroupMemberInfo => "v4/group_open_http_svc/get_group_member_info", "Groups", "Get group member profiles", DEFAULT_QUOTA, Idempotency::Read;
    GetGroupMutedAccount => "v4/group_open_http_svc/get_group_muted_account", "Groups", "List muted members", DEFAULT_QUOTA, Idempotency::Read;
    GetJoinedGroupList => "v4/group_open_http_svc/get_joined_group_list", "Groups", "Get groups a user joined", DEFAULT_QUOTA, Idempotency::Read;
    GetRoleInGroup => "v4/group_open_http_svc/get_role_in_group", "Groups", "Query user roles in group", DEFAULT_QUOTA, Idempotency::Read;
    GetSpecifiedGroupMemberInfo => "v4/group_open_http_svc/get_specified_group_member_info", "Groups", "Get specified group members' profiles", DEFAULT_QUOTA, Idempotency::Read;
    ImportGroup => "v4/group_open_http_svc/import_group", "Groups", "Import group base info", DEFAULT_QUOTA, Idempotency::Unsafe { why: "without a GroupId a repeat imports a second group" };
    ImportGroupMember => "v4/group_open_http_svc/import_group_member", "Groups", "Import group members", DEFAULT_QUOTA, Idempotency::Idempotent;
    ModifyGroupBaseInfo => "v4/group_open_http_svc/modify_group_base_info", "Groups", "Modify group base info", DEFAULT_QUOTA, Idempotency::Idempotent;
    ModifyGroupMemberInfo => "v4/group_open_http_svc/modify_group_member_info", "Groups", "Modify group member info", DEFAULT_QUOTA, Idempotency::Idempotent;
    SetUnreadMsgNum => "v4/group_open_http_svc/set_unread_msg_num", "Groups", "Set member unread count", DEFAULT_QUOTA, Idempotency::Idempotent;
    UnbanGroupMember => "v4/group_open_http_svc/unban_group_member", "Groups", "Unban members", DEFAULT_QUOTA, Idempotency::Idempotent;
    ClearGroupMsg => "v4/group_open_http_svc/clear_group_msg", "Group messages", "Clear group history", DEFAULT_QUOTA, Idempotency::Idempotent;
    DeleteGroupMsgBySender => "v4/group_open_http_svc/delete_group_msg_by_sender", "Group messages", "Delete messages by sender", DEFAULT_QUOTA, Idempotency::Idempotent;
    GetGroupMsgReceipt => "v4/group_open_http_svc/get_group_msg_receipt", "Group messages", "Get group read-receipt counts", DEFAULT_QUOTA, Idempotency::Read;
    GetGroupMsgReceiptDetail => "v4/group_open_http_svc/get_group_msg_receipt_detail", "Group messages", "Get group read-receipt detail", DEFAULT_QUOTA, Idempotency::Read;
    GroupMsgGetSimple => "v4/group_open_http_svc/group_msg_get_simple", "Group messages", "Pull group history", DEFAULT_QUOTA, Idempotency::Read;
    GroupMsgRecall => "v4/group_open_http_svc/group_msg_recall", "Group messages", "Recall group messages", DEFAULT_QUOTA, Idempotency::Idempotent;
    GroupMsgReceipt => "v4/group_open_http_svc/group_msg_receipt", "Group messages", "Send group read receipt", DEFAULT_QUOTA, Idempotency::Idempotent;
    ImportGroupMsg => "v4/group_open_http_svc/import_group_msg", "Group messages", "Import group messages", DEFAULT_QUOTA, Idempotency::Dedupe { pinned: &["MsgList[].Random"], window_secs: Some(300) };
    SendBroadcastMsg => "v4/group_open_http_svc/send_broadcast_msg", "Group messages", "Broadcast to all live (AVChatRoom) groups", per_second(1), Idempotency::Dedupe { pinned: &["Random"], window_secs: Some(300) };
    SendGroupMsg => "v4/group_open_http_svc/send_group_msg", "Group messages", "Send group message", DEFAULT_QUOTA, Idempotency::Dedupe { pinned: &["Random"], window_secs: Some(300) };
    SendGroupSystemNotification => "v4/group_open_http_svc/send_group_system_notification", "Group messages", "Send group system notification", DEFAULT_QUOTA, Idempotency::Unsafe { why: "no documented deduplication: a repeat notifies twice" };
    ModifyGroupMsg => "v4/openim/modify_group_msg", "Group messages", "Modify group history message", DEFAULT_QUOTA, Idempotency::Idempotent;
    GroupGetKeyValues => "v4/openim_msg_ext_http_svc/group_get_key_values", "Group messages", "Get group message extension (KV)", DEFAULT_QUOTA, Idempotency::Read;
    GroupSetKeyValues => "v4/openim_msg_ext_http_svc/group_set_key_values", "Group messages", "Set group message extension (KV)", DEFAULT_QUOTA, Idempotency::Idempotent;
    CheckMembers => "v4/group_open_avchatroom_http_svc/check_members", "Live groups (AVChatRoom)", "Check whether users are in live group", DEFAULT_QUOTA, Idempotency::Read;
    GetAdminList => "v4/group_open_avchatroom_http_svc/get_admin_list", "Live groups (AVChatRoom)", "List live-group admins", DEFAULT_QUOTA, Idempotency::Read;
    GetMembers => "v4/group_open_avchatroom_http_svc/get_members", "Live groups (AVChatRoom)", "List online members", DEFAULT_QUOTA, Idempotency::Read;
    ModifyAdmin => "v4/group_open_avchatroom_http_svc/modify_admin", "Live groups (AVChatRoom)", "Set / unset live-group admins", DEFAULT_QUOTA, Idempotency::Idempotent;
    ModifyUserInfo => "v4/group_open_avchatroom_http_svc/modify_user_info", "Live groups (AVChatRoom)", "Set member marks", DEFAULT_QUOTA, Idempotency::Idempotent;
    GetOnlineMemberNum => "v4/group_open_http_svc/get_online_member_num", "Live groups (AVChatRoom)", "Get online member count", DEFAULT_QUOTA, Idempotency::Read;
    GetGroupAttr => "v4/group_open_attr_http_svc/get_group_attr", "Group attributes & counters", "Get group custom attributes", DEFAULT_QUOTA, Idempotency::Read;
    ClearGroupAttr => "v4/group_open_http_svc/clear_group_attr", "Group attributes & counters", "Clear group custom attributes", DEFAULT_QUOTA, Idempotency::Idempotent;
    DeleteGroupCounter => "v4/group_open_http_svc/delete_group_counter", "Group attributes & counters", "Delete group counters", DEFAULT_QUOTA, Idempotency::Idempotent;
    GetGroupCounter => "v4/group_open_http_svc/get_group_counter", "Group attributes & counters", "Get group counters", DEFAULT_QUOTA, Idempotency::Read;
    ModifyGroupAttr => "v4/group_open_http_svc/modify_group_attr", "Group attributes & counters", "Modify group custom attributes", DEFAULT_QUOTA, Idempotency::Idempotent;
    SetGroupAttr => "v4/group_open_http_svc/set_group_attr", "Group attributes & counters", "Reset group custom attributes", DEFAULT_QUOTA, Idempotency::Idempotent;
    UpdateGroupCounter => "v4/group_open_http_svc/update_group_counter", "Group attributes & counters", "Update group counters", DEFAULT_QUOTA, Idempotency::Unsafe { why: "increase and decrease modes add again on a repeat" };
    ImportTopic => "v4/group_open_http_svc/import_topic", "Community topics", "Import topic base info — CN doc now lists `v4/million_group_open_http_svc/import_topic`; intl doc and doocs use this path; verify", DEFAULT_QUOTA, Idempotency::Unsafe { why: "without a TopicId a repeat imports a second topic" };
    CreateTopic => "v4/million_group_open_http_svc/create_topic", "Community topics", "Create topic", DEFAULT_QUOTA, Idempotency::Unsafe { why: "without a TopicId a repeat creates a second topic" };
    DestroyTopic => "v4/million_group_open_http_svc/destroy_topic", "Community topics", "Disband topic", DEFAULT_QUOTA, Idempotency::Idempotent;
    GetTopic => "v4/million_group_open_http_svc/get_topic", "Community topics", "Get topic profile", DEFAULT_QUOTA, Idempotency::Read;
    ModifyTopic => "v4/million_group_open_http_svc/modify_topic", "Community topics", "Modify topic profile", DEFAULT_QUOTA, Idempotency::Idempotent;
    ImAddTag => "v4/all_member_push/im_add_tag", "Push to all / tags", "Add user tags", per_second(100), Idempotency::Idempotent;
    ImGetAttr => "v4/all_member_push/im_get_attr", "Push to all / tags", "Get user attributes", per_second(100), Idempotency::Read;
    ImGetAttrName => "v4/all_member_push/im_get_attr_name", "Push to all / tags", "Get app attribute names", per_second(100), Idempotency::Read;
    ImGetTag => "v4/all_member_push/im_get_tag", "Push to all / tags", "Get user tags", per_second(100), Idempotency::Read;
    ImPush => "v4/all_member_push/im_push", "Push to all / tags", "Push to all users (legacy all_member_push)", Quota { calls: Rate::PerDay(100), recipients_per_minute: None, min_interval_ms: Some(1_000) }, Idempotency::Dedupe { pinned: &["MsgRandom"], window_secs: Some(604_800) };
    ImRemoveAllTags => "v4/all_member_push/im_remove_all_tags", "Push to all / tags", "Remove all tags of users", per_second(100), Idempotency::Idempotent;
    ImRemoveAttr => "v4/all_member_push/im_remove_attr", "Push to all / tags", "Remove user attributes", per_second(100), Idempotency::Idempotent;
    ImRemoveTag => "v4/all_member_push/im_remove_tag", "Push to all / tags", "Remove user tags", per_second(100), Idempotency::Idempotent;
    ImSetAttr => "v4/all_member_push/im_set_attr", "Push to all / tags", "Set user attributes", per_second(100), Idempotency::Idempotent;
    ImSetAttrName => "v4/all_member_push/im_set_attr_name", "Push to all / tags", "Set app attribute names", per_second(100), Idempotency::Idempotent;
    PortraitGet => "v4/profile/portrait_get", "Profiles", "Get profiles", DEFAULT_QUOTA, Idempotency::Read;
    PortraitSet => "v4/profile/portrait_set", "Profiles", "Set profile", DEFAULT_QUOTA, Idempotency::Idempotent;
    FollowAdd => "v4/follow/follow_add", "Relationship (friends / blocklist / follow)", "Follow users", DEFAULT_QUOTA, Idempotency::Idempotent;
    FollowCheck => "v4/follow/follow_check", "Relationship (friends / blocklist / follow)", "Check follow relationship", DEFAULT_QUOTA, Idempotency::Read;
    FollowDelete => "v4/follow/follow_delete", "Relationship (friends / blocklist / follow)", "Unfollow users", DEFAULT_QUOTA, Idempotency::Idempotent;
    FollowGet => "v4/follow/follow_get", "Relationship (friends / blocklist / follow)", "Pull following / followers / mutual", DEFAULT_QUOTA, Idempotency::Read;
    FollowGetInfo => "v4/follow/follow_get_info", "Relationship (friends / blocklist / follow)", "Get follow counts", DEFAULT_QUOTA, Idempotency::Read;
    BlackListAdd => "v4/sns/black_list_add", "Relationship (friends / blocklist / follow)", "Add to blocklist", DEFAULT_QUOTA, Idempotency::Idempotent;
    BlackListCheck => "v4/sns/black_list_check", "Relationship (friends / blocklist / follow)", "Check blocklist", DEFAULT_QUOTA, Idempotency::Read;
    BlackListDelete => "v4/sns/black_list_delete", "Relationship (friends / blocklist / follow)", "Remove from blocklist", DEFAULT_QUOTA, Idempotency::Idempotent;
    BlackListGet => "v4/sns/black_list_get", "Relationship (friends / blocklist / follow)", "Pull blocklist", DEFAULT_QUOTA, Idempotency::Read;
    FriendAdd => "v4/sns/friend_add", "Relationship (friends / blocklist / follow)", "Add friends", DEFAULT_QUOTA, Idempotency::Idempotent;
    FriendCheck => "v4/sns/friend_check", "Relationship (friends / blocklist / follow)", "Check friendship", DEFAULT_QUOTA, Idempotency::Read;
    FriendDelete => "v4/sns/friend_delete", "Relationship (friends / blocklist / follow)", "Delete friends", DEFAULT_QUOTA, Idempotency::Idempotent;
    FriendDeleteAll => "v4/sns/friend_delete_all", "Relationship (friends / blocklist / follow)", "Delete all friends", DEFAULT_QUOTA, Idempotency::Idempotent;
    FriendGet => "v4/sns/friend_get", "Relationship (friends / blocklist / follow)", "Pull friends (paged)", DEFAULT_QUOTA, Idempotency::Read;
    FriendGetList => "v4/sns/friend_get_list", "Relationship (friends / blocklist / follow)", "Pull specified friends", DEFAULT_QUOTA, Idempotency::Read;
    FriendImport => "v4/sns/friend_import", "Relationship (friends / blocklist / follow)", "Import friends", DEFAULT_QUOTA, Idempotency::Idempotent;
    FriendUpdate => "v4/sns/friend_update", "Relationship (friends / blocklist / follow)", "Update friends", DEFAULT_QUOTA, Idempotency::Idempotent;
    FriendGroupAdd => "v4/sns/group_add", "Relationship (friends / blocklist / follow)", "Add friend lists (groups)", DEFAULT_QUOTA, Idempotency::Idempotent;
    FriendGroupDelete => "v4/sns/group_delete", "Relationship (friends / blocklist / follow)", "Delete friend lists", DEFAULT_QUOTA, Idempotency::Idempotent;
    FriendGroupGet => "v4/sns/group_get", "Relationship (friends / blocklist / follow)", "Get friend lists", DEFAULT_QUOTA, Idempotency::Read;
    CreateContactGroup => "v4/recentcontact/create_contact_group", "Sessions (recent contacts)", "Create conversation group", DEFAULT_QUOTA, Idempotency::Unsafe { why: "no documented deduplication" };
    DelContactGroup => "v4/recentcontact/del_contact_group", "Sessions (recent contacts)", "Delete conversation group", DEFAULT_QUOTA, Idempotency::Idempotent;
    RecentContactDelete => "v4/recentcontact/delete", "Sessions (recent contacts)", "Delete a conversation", DEFAULT_QUOTA, Idempotency::Idempotent;
    GetContactGroup => "v4/recentcontact/get_contact_group", "Sessions (recent contacts)", "Pull conversation group marks", DEFAULT_QUOTA, Idempotency::Read;
    RecentContactGetList => "v4/recentcontact/get_list", "Sessions (recent contacts)", "Pull conversation list", DEFAULT_QUOTA, Idempotency::Read;
    MarkContact => "v4/recentcontact/mark_contact", "Sessions (recent contacts)", "Create / update conversation marks", DEFAULT_QUOTA, Idempotency::Idempotent;
    SearchContactGroup => "v4/recentcontact/search_contact_group", "Sessions (recent contacts)", "Search conversation group marks", DEFAULT_QUOTA, Idempotency::Read;
    UpdateContactGroup => "v4/recentcontact/update_contact_group", "Sessions (recent contacts)", "Update conversation group", DEFAULT_QUOTA, Idempotency::Idempotent;
    GetNoSpeaking => "v4/openconfigsvr/getnospeaking", "Global mute", "Query global mute", DEFAULT_QUOTA, Idempotency::Read;
    SetNoSpeaking => "v4/openconfigsvr/setnospeaking", "Global mute", "Set global mute", DEFAULT_QUOTA, Idempotency::Idempotent;
    GetIpList => "v4/ConfigSvc/GetIPList", "Operations", "Get server IP list", DEFAULT_QUOTA, Idempotency::Read;
    AllowBannedObject => "v4/im_cos_msg/allow_banned_object", "Operations", "Unban chat file", DEFAULT_QUOTA, Idempotency::Idempotent;
    ForbidIllegalObject => "v4/im_cos_msg/forbid_illegal_object", "Operations", "Ban chat file (COS object)", DEFAULT_QUOTA, Idempotency::Idempotent;
    GetCosSig => "v4/im_cos_msg/get_cos_sig", "Operations", "Get chat-file signed URL", DEFAULT_QUOTA, Idempotency::Read;
    GetHistory => "v4/open_msg_svc/get_history", "Operations", "Download message history files", per_second(10), Idempotency::Read;
    GetAppInfo => "v4/openconfigsvr/getappinfo", "Operations", "Pull operations data", DEFAULT_QUOTA, Idempotency::Read;
    CreateRobot => "v4/openim_robot_http_svc/create_robot", "Bots", "Create bot", DEFAULT_QUOTA, Idempotency::Unsafe { why: "no documented deduplication" };
    DeleteRobot => "v4/openim_robot_http_svc/delete_robot", "Bots", "Delete bot", DEFAULT_QUOTA, Idempotency::Idempotent;
    GetAllRobots => "v4/openim_robot_http_svc/get_all_robots", "Bots", "List all bots", DEFAULT_QUOTA, Idempotency::Read;
    BatchContentModeration => "v4/im_msg_audit/batch_content_moderation", "Content moderation", "Moderate content (batch)", DEFAULT_QUOTA, Idempotency::Read;
    ContentModeration => "v4/im_msg_audit/content_moderation", "Content moderation", "Moderate content (single)", DEFAULT_QUOTA, Idempotency::Read;
    AddCloudAuditKeywords => "v4/im_msg_audit_mgr/add_cloud_audit_keywords", "Content moderation", "Cloud audit: add keywords", DEFAULT_QUOTA, Idempotency::Idempotent;
    AddLocalAuditKeywords => "v4/im_msg_audit_mgr/add_local_audit_keywords", "Content moderation", "Local audit: add keywords", DEFAULT_QUOTA, Idempotency::Idempotent;
    DeleteCloudAuditKeywords => "v4/im_msg_audit_mgr/delete_cloud_audit_keywords", "Content moderation", "Cloud audit: delete keywords", DEFAULT_QUOTA, Idempotency::Idempotent;
    DeleteLocalAuditKeywords => "v4/im_msg_audit_mgr/delete_local_audit_keywords", "Content moderation", "Local audit: delete keywords", DEFAULT_QUOTA, Idempotency::Idempotent;
    GetCloudAuditKeywords => "v4/im_msg_audit_mgr/get_cloud_audit_keywords", "Content moderation", "Cloud audit: get keywords", DEFAULT_QUOTA, Idempotency::Read;
    GetCloudAuditKeywordsIds => "v4/im_msg_audit_mgr/get_cloud_audit_keywords_ids", "Content moderation", "Cloud audit: list keyword libraries", DEFAULT_QUOTA, Idempotency::Read;
    GetLocalAuditKeywords => "v4/im_msg_audit_mgr/get_local_audit_keywords", "Content moderation", "Local audit: get keywords", DEFAULT_QUOTA, Idempotency::Read;
    AddSubscriber => "v4/official_account_open_http_svc/add_subscriber", "Official accounts", "Add subscribers", DEFAULT_QUOTA, Idempotency::Idempotent;
    CreateOfficialAccount => "v4/official_account_open_http_svc/create_official_account", "Official accounts", "Create official account", DEFAULT_QUOTA, Idempotency::Unsafe { why: "no documented deduplication" };
    DeleteSubscriber => "v4/official_account_open_http_svc/delete_subscriber", "Official accounts", "Delete subscribers", DEFAULT_QUOTA, Idempotency::Idempotent;
    DestroyOfficialAccount => "v4/official_account_open_http_svc/destroy_official_account", "Official accounts", "Destroy official account", DEFAULT_QUOTA, Idempotency::Idempotent;
    GetOfficialAccountInfo => "v4/official_account_open_http_svc/get_official_account_info", "Official accounts", "Get official account info", DEFAULT_QUOTA, Idempotency::Read;
    GetSubscribedOfficialAccountList => "v4/official_account_open_http_svc/get_subscribed_official_account_list", "Official accounts", "List a user's subscribed accounts", DEFAULT_QUOTA, Idempotency::Read;
    GetSubscriberInfo => "v4/official_account_open_http_svc/get_subscriber_info", "Official accounts", "List subscribers", DEFAULT_QUOTA, Idempotency::Read;
    ModifyOfficialAccountBaseInfo => "v4/official_account_open_http_svc/modify_official_account_base_info", "Official accounts", "Modify official account info", DEFAULT_QUOTA, Idempotency::Idempotent;
    ModifySubscriberInfo => "v4/official_account_open_http_svc/modify_subscriber_info", "Official accounts", "Modify subscriber info", DEFAULT_QUOTA, Idempotency::Idempotent;
    OfficialAccountMsgGetSimple => "v4/official_account_open_http_svc/official_account_msg_get_simple", "Official accounts", "Pull official-account history", DEFAULT_QUOTA, Idempotency::Read;
    OfficialAccountMsgRecall => "v4/official_account_open_http_svc/official_account_msg_recall", "Official accounts", "Recall official-account message", DEFAULT_QUOTA, Idempotency::Idempotent;
    SendOfficialAccountMsg => "v4/official_account_open_http_svc/send_official_account_msg", "Official accounts", "Send official-account broadcast", DEFAULT_QUOTA, Idempotency::Unsafe { why: "no documented deduplication: a repeat sends twice" };
}

#[cfg(test)]
mod tests;
