//! The command table: every REST command of Tencent Cloud Chat, declared once.
//!
//! Each row gives the command's path, its documentation group and name, its default quota, its idempotency class
//! and whether `tim-model` has typed request and response types for it. URL building, quota pacing, retries, the
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
    ($($variant:ident => $path:literal, $group:literal, $name:literal, $quota:expr, $idempotency:expr, $typed:literal;)+) => {
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
                typed: $typed,
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
    AccountCheck => "v4/im_open_login_svc/account_check", "Accounts", "Check (query) accounts exist", per_second(100), Idempotency::Read, true;
    AccountDelete => "v4/im_open_login_svc/account_delete", "Accounts", "Delete accounts", per_second(100), Idempotency::Idempotent, true;
    AccountImport => "v4/im_open_login_svc/account_import", "Accounts", "Import a single account", DEFAULT_QUOTA, Idempotency::Idempotent, true;
    Kick => "v4/im_open_login_svc/kick", "Accounts", "Invalidate login state (kick)", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    MultiAccountImport => "v4/im_open_login_svc/multiaccount_import", "Accounts", "Import multiple accounts (≤100; new form with nick/face)", per_second(100), Idempotency::Idempotent, true;
    QueryOnlineStatus => "v4/openim/query_online_status", "Accounts", "Query online status", DEFAULT_QUOTA, Idempotency::Read, false;
    AdminGetRoamMsg => "v4/openim/admin_getroammsg", "C2C messages", "Query one-to-one message history", DEFAULT_QUOTA, Idempotency::Read, true;
    AdminMsgWithdraw => "v4/openim/admin_msgwithdraw", "C2C messages", "Recall one-to-one message", DEFAULT_QUOTA, Idempotency::Idempotent, true;
    AdminSetMsgRead => "v4/openim/admin_set_msg_read", "C2C messages", "Mark one-to-one messages read", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    BatchSendMsg => "v4/openim/batchsendmsg", "C2C messages", "Batch send one-to-one message (≤500 recipients)", Quota { calls: Rate::PerSecond(200), recipients_per_minute: Some(12_000), min_interval_ms: None }, Idempotency::Dedupe { pinned: &["MsgSeq", "MsgRandom"], window_secs: Some(1) }, true;
    C2cMsgReadReceipt => "v4/openim/c2c_msg_read_receipt", "C2C messages", "Send one-to-one read receipt", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    DeleteC2cMsgRamble => "v4/openim/delete_c2c_msg_ramble", "C2C messages", "One-way delete one-to-one history", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    GetC2cUnreadMsgNum => "v4/openim/get_c2c_unread_msg_num", "C2C messages", "Query one-to-one unread count", DEFAULT_QUOTA, Idempotency::Read, false;
    ImportMsg => "v4/openim/importmsg", "C2C messages", "Import one-to-one message", DEFAULT_QUOTA, Idempotency::Dedupe { pinned: &["MsgSeq", "MsgRandom", "MsgTimeStamp"], window_secs: None }, true;
    ModifyC2cMsg => "v4/openim/modify_c2c_msg", "C2C messages", "Modify one-to-one history message", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    SendMsg => "v4/openim/sendmsg", "C2C messages", "Send one-to-one message", DEFAULT_QUOTA, Idempotency::Dedupe { pinned: &["MsgSeq", "MsgRandom"], window_secs: Some(1) }, true;
    GetKeyValues => "v4/openim_msg_ext_http_svc/get_key_values", "C2C messages", "Get one-to-one message extension (KV)", DEFAULT_QUOTA, Idempotency::Read, false;
    SetKeyValues => "v4/openim_msg_ext_http_svc/set_key_values", "C2C messages", "Set one-to-one message extension (KV)", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    AddGroupMember => "v4/group_open_http_svc/add_group_member", "Groups", "Add group members", DEFAULT_QUOTA, Idempotency::Idempotent, true;
    BanGroupMember => "v4/group_open_http_svc/ban_group_member", "Groups", "Ban members", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    ChangeGroupOwner => "v4/group_open_http_svc/change_group_owner", "Groups", "Transfer group owner", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    CreateGroup => "v4/group_open_http_svc/create_group", "Groups", "Create group", DEFAULT_QUOTA, Idempotency::Unsafe { why: "without a GroupId a repeat creates a second group" }, true;
    DeleteGroupMember => "v4/group_open_http_svc/delete_group_member", "Groups", "Delete group members", DEFAULT_QUOTA, Idempotency::Idempotent, true;
    DestroyGroup => "v4/group_open_http_svc/destroy_group", "Groups", "Disband group", DEFAULT_QUOTA, Idempotency::Idempotent, true;
    ForbidSendMsg => "v4/group_open_http_svc/forbid_send_msg", "Groups", "Mute / unmute members", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    GetAppidGroupList => "v4/group_open_http_svc/get_appid_group_list", "Groups", "List all groups in app", per_second(1), Idempotency::Read, false;
    GetGroupBanMember => "v4/group_open_http_svc/get_group_ban_member", "Groups", "List banned members", DEFAULT_QUOTA, Idempotency::Read, false;
    GetGroupInfo => "v4/group_open_http_svc/get_group_info", "Groups", "Get group profile", DEFAULT_QUOTA, Idempotency::Read, true;
    GetGroupMemberInfo => "v4/group_open_http_svc/get_group_member_info", "Groups", "Get group member profiles", DEFAULT_QUOTA, Idempotency::Read, true;
    GetGroupMutedAccount => "v4/group_open_http_svc/get_group_muted_account", "Groups", "List muted members", DEFAULT_QUOTA, Idempotency::Read, false;
    GetJoinedGroupList => "v4/group_open_http_svc/get_joined_group_list", "Groups", "Get groups a user joined", DEFAULT_QUOTA, Idempotency::Read, false;
    GetRoleInGroup => "v4/group_open_http_svc/get_role_in_group", "Groups", "Query user roles in group", DEFAULT_QUOTA, Idempotency::Read, false;
    GetSpecifiedGroupMemberInfo => "v4/group_open_http_svc/get_specified_group_member_info", "Groups", "Get specified group members' profiles", DEFAULT_QUOTA, Idempotency::Read, false;
    ImportGroup => "v4/group_open_http_svc/import_group", "Groups", "Import group base info", DEFAULT_QUOTA, Idempotency::Unsafe { why: "without a GroupId a repeat imports a second group" }, false;
    ImportGroupMember => "v4/group_open_http_svc/import_group_member", "Groups", "Import group members", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    ModifyGroupBaseInfo => "v4/group_open_http_svc/modify_group_base_info", "Groups", "Modify group base info", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    ModifyGroupMemberInfo => "v4/group_open_http_svc/modify_group_member_info", "Groups", "Modify group member info", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    SetUnreadMsgNum => "v4/group_open_http_svc/set_unread_msg_num", "Groups", "Set member unread count", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    UnbanGroupMember => "v4/group_open_http_svc/unban_group_member", "Groups", "Unban members", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    ClearGroupMsg => "v4/group_open_http_svc/clear_group_msg", "Group messages", "Clear group history", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    DeleteGroupMsgBySender => "v4/group_open_http_svc/delete_group_msg_by_sender", "Group messages", "Delete messages by sender", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    GetGroupMsgReceipt => "v4/group_open_http_svc/get_group_msg_receipt", "Group messages", "Get group read-receipt counts", DEFAULT_QUOTA, Idempotency::Read, false;
    GetGroupMsgReceiptDetail => "v4/group_open_http_svc/get_group_msg_receipt_detail", "Group messages", "Get group read-receipt detail", DEFAULT_QUOTA, Idempotency::Read, false;
    GroupMsgGetSimple => "v4/group_open_http_svc/group_msg_get_simple", "Group messages", "Pull group history", DEFAULT_QUOTA, Idempotency::Read, true;
    GroupMsgRecall => "v4/group_open_http_svc/group_msg_recall", "Group messages", "Recall group messages", DEFAULT_QUOTA, Idempotency::Idempotent, true;
    GroupMsgReceipt => "v4/group_open_http_svc/group_msg_receipt", "Group messages", "Send group read receipt", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    ImportGroupMsg => "v4/group_open_http_svc/import_group_msg", "Group messages", "Import group messages", DEFAULT_QUOTA, Idempotency::Dedupe { pinned: &["MsgList[].Random"], window_secs: Some(300) }, true;
    SendBroadcastMsg => "v4/group_open_http_svc/send_broadcast_msg", "Group messages", "Broadcast to all live (AVChatRoom) groups", per_second(1), Idempotency::Dedupe { pinned: &["Random"], window_secs: Some(300) }, true;
    SendGroupMsg => "v4/group_open_http_svc/send_group_msg", "Group messages", "Send group message", DEFAULT_QUOTA, Idempotency::Dedupe { pinned: &["Random"], window_secs: Some(300) }, true;
    SendGroupSystemNotification => "v4/group_open_http_svc/send_group_system_notification", "Group messages", "Send group system notification", DEFAULT_QUOTA, Idempotency::Unsafe { why: "no documented deduplication: a repeat notifies twice" }, true;
    ModifyGroupMsg => "v4/openim/modify_group_msg", "Group messages", "Modify group history message", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    GroupGetKeyValues => "v4/openim_msg_ext_http_svc/group_get_key_values", "Group messages", "Get group message extension (KV)", DEFAULT_QUOTA, Idempotency::Read, false;
    GroupSetKeyValues => "v4/openim_msg_ext_http_svc/group_set_key_values", "Group messages", "Set group message extension (KV)", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    CheckMembers => "v4/group_open_avchatroom_http_svc/check_members", "Live groups (AVChatRoom)", "Check whether users are in live group", DEFAULT_QUOTA, Idempotency::Read, false;
    GetAdminList => "v4/group_open_avchatroom_http_svc/get_admin_list", "Live groups (AVChatRoom)", "List live-group admins", DEFAULT_QUOTA, Idempotency::Read, false;
    GetMembers => "v4/group_open_avchatroom_http_svc/get_members", "Live groups (AVChatRoom)", "List online members", DEFAULT_QUOTA, Idempotency::Read, false;
    ModifyAdmin => "v4/group_open_avchatroom_http_svc/modify_admin", "Live groups (AVChatRoom)", "Set / unset live-group admins", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    ModifyUserInfo => "v4/group_open_avchatroom_http_svc/modify_user_info", "Live groups (AVChatRoom)", "Set member marks", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    GetOnlineMemberNum => "v4/group_open_http_svc/get_online_member_num", "Live groups (AVChatRoom)", "Get online member count", DEFAULT_QUOTA, Idempotency::Read, false;
    GetGroupAttr => "v4/group_open_attr_http_svc/get_group_attr", "Group attributes & counters", "Get group custom attributes", DEFAULT_QUOTA, Idempotency::Read, false;
    ClearGroupAttr => "v4/group_open_http_svc/clear_group_attr", "Group attributes & counters", "Clear group custom attributes", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    DeleteGroupCounter => "v4/group_open_http_svc/delete_group_counter", "Group attributes & counters", "Delete group counters", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    GetGroupCounter => "v4/group_open_http_svc/get_group_counter", "Group attributes & counters", "Get group counters", DEFAULT_QUOTA, Idempotency::Read, false;
    ModifyGroupAttr => "v4/group_open_http_svc/modify_group_attr", "Group attributes & counters", "Modify group custom attributes", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    SetGroupAttr => "v4/group_open_http_svc/set_group_attr", "Group attributes & counters", "Reset group custom attributes", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    UpdateGroupCounter => "v4/group_open_http_svc/update_group_counter", "Group attributes & counters", "Update group counters", DEFAULT_QUOTA, Idempotency::Unsafe { why: "increase and decrease modes add again on a repeat" }, false;
    ImportTopic => "v4/group_open_http_svc/import_topic", "Community topics", "Import topic base info — CN doc now lists `v4/million_group_open_http_svc/import_topic`; intl doc and doocs use this path; verify", DEFAULT_QUOTA, Idempotency::Unsafe { why: "without a TopicId a repeat imports a second topic" }, false;
    CreateTopic => "v4/million_group_open_http_svc/create_topic", "Community topics", "Create topic", DEFAULT_QUOTA, Idempotency::Unsafe { why: "without a TopicId a repeat creates a second topic" }, false;
    DestroyTopic => "v4/million_group_open_http_svc/destroy_topic", "Community topics", "Disband topic", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    GetTopic => "v4/million_group_open_http_svc/get_topic", "Community topics", "Get topic profile", DEFAULT_QUOTA, Idempotency::Read, false;
    ModifyTopic => "v4/million_group_open_http_svc/modify_topic", "Community topics", "Modify topic profile", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    ImAddTag => "v4/all_member_push/im_add_tag", "Push to all / tags", "Add user tags", per_second(100), Idempotency::Idempotent, false;
    ImGetAttr => "v4/all_member_push/im_get_attr", "Push to all / tags", "Get user attributes", per_second(100), Idempotency::Read, false;
    ImGetAttrName => "v4/all_member_push/im_get_attr_name", "Push to all / tags", "Get app attribute names", per_second(100), Idempotency::Read, false;
    ImGetTag => "v4/all_member_push/im_get_tag", "Push to all / tags", "Get user tags", per_second(100), Idempotency::Read, false;
    ImPush => "v4/all_member_push/im_push", "Push to all / tags", "Push to all users (legacy all_member_push)", Quota { calls: Rate::PerDay(100), recipients_per_minute: None, min_interval_ms: Some(1_000) }, Idempotency::Dedupe { pinned: &["MsgRandom"], window_secs: Some(604_800) }, true;
    ImRemoveAllTags => "v4/all_member_push/im_remove_all_tags", "Push to all / tags", "Remove all tags of users", per_second(100), Idempotency::Idempotent, false;
    ImRemoveAttr => "v4/all_member_push/im_remove_attr", "Push to all / tags", "Remove user attributes", per_second(100), Idempotency::Idempotent, false;
    ImRemoveTag => "v4/all_member_push/im_remove_tag", "Push to all / tags", "Remove user tags", per_second(100), Idempotency::Idempotent, false;
    ImSetAttr => "v4/all_member_push/im_set_attr", "Push to all / tags", "Set user attributes", per_second(100), Idempotency::Idempotent, false;
    ImSetAttrName => "v4/all_member_push/im_set_attr_name", "Push to all / tags", "Set app attribute names", per_second(100), Idempotency::Idempotent, false;
    PortraitGet => "v4/profile/portrait_get", "Profiles", "Get profiles", DEFAULT_QUOTA, Idempotency::Read, false;
    PortraitSet => "v4/profile/portrait_set", "Profiles", "Set profile", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    FollowAdd => "v4/follow/follow_add", "Relationship (friends / blocklist / follow)", "Follow users", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    FollowCheck => "v4/follow/follow_check", "Relationship (friends / blocklist / follow)", "Check follow relationship", DEFAULT_QUOTA, Idempotency::Read, false;
    FollowDelete => "v4/follow/follow_delete", "Relationship (friends / blocklist / follow)", "Unfollow users", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    FollowGet => "v4/follow/follow_get", "Relationship (friends / blocklist / follow)", "Pull following / followers / mutual", DEFAULT_QUOTA, Idempotency::Read, false;
    FollowGetInfo => "v4/follow/follow_get_info", "Relationship (friends / blocklist / follow)", "Get follow counts", DEFAULT_QUOTA, Idempotency::Read, false;
    BlackListAdd => "v4/sns/black_list_add", "Relationship (friends / blocklist / follow)", "Add to blocklist", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    BlackListCheck => "v4/sns/black_list_check", "Relationship (friends / blocklist / follow)", "Check blocklist", DEFAULT_QUOTA, Idempotency::Read, false;
    BlackListDelete => "v4/sns/black_list_delete", "Relationship (friends / blocklist / follow)", "Remove from blocklist", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    BlackListGet => "v4/sns/black_list_get", "Relationship (friends / blocklist / follow)", "Pull blocklist", DEFAULT_QUOTA, Idempotency::Read, false;
    FriendAdd => "v4/sns/friend_add", "Relationship (friends / blocklist / follow)", "Add friends", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    FriendCheck => "v4/sns/friend_check", "Relationship (friends / blocklist / follow)", "Check friendship", DEFAULT_QUOTA, Idempotency::Read, false;
    FriendDelete => "v4/sns/friend_delete", "Relationship (friends / blocklist / follow)", "Delete friends", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    FriendDeleteAll => "v4/sns/friend_delete_all", "Relationship (friends / blocklist / follow)", "Delete all friends", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    FriendGet => "v4/sns/friend_get", "Relationship (friends / blocklist / follow)", "Pull friends (paged)", DEFAULT_QUOTA, Idempotency::Read, false;
    FriendGetList => "v4/sns/friend_get_list", "Relationship (friends / blocklist / follow)", "Pull specified friends", DEFAULT_QUOTA, Idempotency::Read, false;
    FriendImport => "v4/sns/friend_import", "Relationship (friends / blocklist / follow)", "Import friends", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    FriendUpdate => "v4/sns/friend_update", "Relationship (friends / blocklist / follow)", "Update friends", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    FriendGroupAdd => "v4/sns/group_add", "Relationship (friends / blocklist / follow)", "Add friend lists (groups)", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    FriendGroupDelete => "v4/sns/group_delete", "Relationship (friends / blocklist / follow)", "Delete friend lists", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    FriendGroupGet => "v4/sns/group_get", "Relationship (friends / blocklist / follow)", "Get friend lists", DEFAULT_QUOTA, Idempotency::Read, false;
    CreateContactGroup => "v4/recentcontact/create_contact_group", "Sessions (recent contacts)", "Create conversation group", DEFAULT_QUOTA, Idempotency::Unsafe { why: "no documented deduplication" }, false;
    DelContactGroup => "v4/recentcontact/del_contact_group", "Sessions (recent contacts)", "Delete conversation group", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    RecentContactDelete => "v4/recentcontact/delete", "Sessions (recent contacts)", "Delete a conversation", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    GetContactGroup => "v4/recentcontact/get_contact_group", "Sessions (recent contacts)", "Pull conversation group marks", DEFAULT_QUOTA, Idempotency::Read, false;
    RecentContactGetList => "v4/recentcontact/get_list", "Sessions (recent contacts)", "Pull conversation list", DEFAULT_QUOTA, Idempotency::Read, false;
    MarkContact => "v4/recentcontact/mark_contact", "Sessions (recent contacts)", "Create / update conversation marks", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    SearchContactGroup => "v4/recentcontact/search_contact_group", "Sessions (recent contacts)", "Search conversation group marks", DEFAULT_QUOTA, Idempotency::Read, false;
    UpdateContactGroup => "v4/recentcontact/update_contact_group", "Sessions (recent contacts)", "Update conversation group", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    GetNoSpeaking => "v4/openconfigsvr/getnospeaking", "Global mute", "Query global mute", DEFAULT_QUOTA, Idempotency::Read, false;
    SetNoSpeaking => "v4/openconfigsvr/setnospeaking", "Global mute", "Set global mute", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    GetIpList => "v4/ConfigSvc/GetIPList", "Operations", "Get server IP list", DEFAULT_QUOTA, Idempotency::Read, false;
    AllowBannedObject => "v4/im_cos_msg/allow_banned_object", "Operations", "Unban chat file", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    ForbidIllegalObject => "v4/im_cos_msg/forbid_illegal_object", "Operations", "Ban chat file (COS object)", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    GetCosSig => "v4/im_cos_msg/get_cos_sig", "Operations", "Get chat-file signed URL", DEFAULT_QUOTA, Idempotency::Read, false;
    GetHistory => "v4/open_msg_svc/get_history", "Operations", "Download message history files", per_second(10), Idempotency::Read, false;
    GetAppInfo => "v4/openconfigsvr/getappinfo", "Operations", "Pull operations data", DEFAULT_QUOTA, Idempotency::Read, false;
    CreateRobot => "v4/openim_robot_http_svc/create_robot", "Bots", "Create bot", DEFAULT_QUOTA, Idempotency::Unsafe { why: "no documented deduplication" }, false;
    DeleteRobot => "v4/openim_robot_http_svc/delete_robot", "Bots", "Delete bot", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    GetAllRobots => "v4/openim_robot_http_svc/get_all_robots", "Bots", "List all bots", DEFAULT_QUOTA, Idempotency::Read, false;
    BatchContentModeration => "v4/im_msg_audit/batch_content_moderation", "Content moderation", "Moderate content (batch)", DEFAULT_QUOTA, Idempotency::Read, false;
    ContentModeration => "v4/im_msg_audit/content_moderation", "Content moderation", "Moderate content (single)", DEFAULT_QUOTA, Idempotency::Read, false;
    AddCloudAuditKeywords => "v4/im_msg_audit_mgr/add_cloud_audit_keywords", "Content moderation", "Cloud audit: add keywords", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    AddLocalAuditKeywords => "v4/im_msg_audit_mgr/add_local_audit_keywords", "Content moderation", "Local audit: add keywords", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    DeleteCloudAuditKeywords => "v4/im_msg_audit_mgr/delete_cloud_audit_keywords", "Content moderation", "Cloud audit: delete keywords", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    DeleteLocalAuditKeywords => "v4/im_msg_audit_mgr/delete_local_audit_keywords", "Content moderation", "Local audit: delete keywords", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    GetCloudAuditKeywords => "v4/im_msg_audit_mgr/get_cloud_audit_keywords", "Content moderation", "Cloud audit: get keywords", DEFAULT_QUOTA, Idempotency::Read, false;
    GetCloudAuditKeywordsIds => "v4/im_msg_audit_mgr/get_cloud_audit_keywords_ids", "Content moderation", "Cloud audit: list keyword libraries", DEFAULT_QUOTA, Idempotency::Read, false;
    GetLocalAuditKeywords => "v4/im_msg_audit_mgr/get_local_audit_keywords", "Content moderation", "Local audit: get keywords", DEFAULT_QUOTA, Idempotency::Read, false;
    AddSubscriber => "v4/official_account_open_http_svc/add_subscriber", "Official accounts", "Add subscribers", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    CreateOfficialAccount => "v4/official_account_open_http_svc/create_official_account", "Official accounts", "Create official account", DEFAULT_QUOTA, Idempotency::Unsafe { why: "no documented deduplication" }, false;
    DeleteSubscriber => "v4/official_account_open_http_svc/delete_subscriber", "Official accounts", "Delete subscribers", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    DestroyOfficialAccount => "v4/official_account_open_http_svc/destroy_official_account", "Official accounts", "Destroy official account", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    GetOfficialAccountInfo => "v4/official_account_open_http_svc/get_official_account_info", "Official accounts", "Get official account info", DEFAULT_QUOTA, Idempotency::Read, false;
    GetSubscribedOfficialAccountList => "v4/official_account_open_http_svc/get_subscribed_official_account_list", "Official accounts", "List a user's subscribed accounts", DEFAULT_QUOTA, Idempotency::Read, false;
    GetSubscriberInfo => "v4/official_account_open_http_svc/get_subscriber_info", "Official accounts", "List subscribers", DEFAULT_QUOTA, Idempotency::Read, false;
    ModifyOfficialAccountBaseInfo => "v4/official_account_open_http_svc/modify_official_account_base_info", "Official accounts", "Modify official account info", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    ModifySubscriberInfo => "v4/official_account_open_http_svc/modify_subscriber_info", "Official accounts", "Modify subscriber info", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    OfficialAccountMsgGetSimple => "v4/official_account_open_http_svc/official_account_msg_get_simple", "Official accounts", "Pull official-account history", DEFAULT_QUOTA, Idempotency::Read, false;
    OfficialAccountMsgRecall => "v4/official_account_open_http_svc/official_account_msg_recall", "Official accounts", "Recall official-account message", DEFAULT_QUOTA, Idempotency::Idempotent, false;
    SendOfficialAccountMsg => "v4/official_account_open_http_svc/send_official_account_msg", "Official accounts", "Send official-account broadcast", DEFAULT_QUOTA, Idempotency::Unsafe { why: "no documented deduplication: a repeat sends twice" }, false;
}

#[cfg(test)]
mod tests;
