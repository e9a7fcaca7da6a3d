//! A local emulator of Tencent Cloud Chat's REST service, for development, demos and tests.
//!
//! It speaks the service's protocol (`POST /v4/{service}/{command}?sdkappid&identifier&usersig&random&contenttype=json`,
//! JSON bodies, HTTP 200 with the error envelope), authenticates like the service (the UserSig verified with
//! `tim-sig`, the identifier an app admin, the documented codes on failure), keeps accounts, groups and messages in
//! memory, applies the documented validation, deduplication windows and quotas, injects seeded faults, and shows
//! what it stored: over HTTP (`GET /emulator/stats`, `GET /emulator/inbox/{UserID}`) and from Rust
//! ([`Emulator::inbox`], [`Emulator::stats`], ...). The `tim emulator` command runs it; tests of other crates
//! start it in-process with [`Emulator::serve`].
//!
//! It builds on `tim-model` (the command table routes every request; the typed requests decode and validate every
//! body) and `tim-sig`, and never on `tim-transport`, so it can judge the transport independently. It never reads
//! the system clock or the environment: time comes from a [`Clock`], the key and the settings from the builder.
//!
//! ```
//! use tim_emulator::{Emulator, ManualClock};
//! use tim_sig::SecretKey;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let clock = ManualClock::new(1_700_000_000);
//! let emulator = Emulator::builder(1_400_000_000, SecretKey::new("console-secret")?, clock.clone())
//!     .admin("administrator")
//!     .auto_create_accounts(true)
//!     .build()?;
//! let running = emulator.serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())?;
//! assert!(running.base_url().starts_with("http://127.0.0.1:"));
//! // ... point a client at running.base_url(), then look at what arrived:
//! assert_eq!(running.emulator().inbox_len("alice"), None);
//! assert_eq!(running.stats().messages_stored, 0);
//! running.shutdown().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # What is emulated
//!
//! The commands `tim-model` has typed requests for, which are the ones the sending APIs depend on:
//!
//! | Service | Commands |
//! |---|---|
//! | accounts | `account_import`, `multiaccount_import`, `account_check`, `account_delete`, `query_online_status` (every existing account `Offline`: no client logs in here), `kick` (70107 for an unknown account; counted in the stats, as there is no session to end) |
//! | global mute | `setnospeaking`, `getnospeaking` (seconds left on the emulator's clock; a group-muted sender's `send_group_msg` answers 10017; REST one-to-one sends are not mute-checked, as their pages say) |
//! | relationships | `friend_add` (the added account's `Tag_Profile_IM_AllowType` decides unless forced: NeedConfirm, also the default, leaves a pending request, 30539), `friend_import`, `friend_update`, `friend_get` (pages of 100), `friend_get_list`, `group_add`, `group_delete`, `group_get` (at most 32 lists), `friend_delete`, `friend_delete_all`, `friend_check`, `black_list_add` (ends friendships both ways; 30515/30525 on adds while blocked), `black_list_delete`, `black_list_get`, `black_list_check`; `follow_add`, `follow_delete` (both idempotent), `follow_check`, `follow_get`, `follow_get_info`; deleting an account ends its relationships |
//! | profiles | `portrait_get`, `portrait_set` (standard fields, and custom ones declared with [`EmulatorBuilder::custom_profile_fields`]) |
//! | groups | `create_group` (every type), `destroy_group`, `add_group_member`, `delete_group_member`, `get_group_info`, `get_group_member_info` |
//! | C2C | `sendmsg`, `batchsendmsg`, `importmsg`, `admin_msgwithdraw`, `admin_getroammsg` |
//! | group messages | `send_group_msg`, `send_group_system_notification`, `send_broadcast_msg`, `import_group_msg`, `group_msg_recall`, `group_msg_get_simple` |
//! | push | `im_push` |
//!
//! Every other command of the table is answered `ErrorCode` 60009 with an `ErrorInfo` that names it ("... is a
//! command of the REST API that tim-emulator does not emulate"); a path that is no command at all gets 60009
//! "request resource error". C2C storage follows the model's `C2cDelivery` (from `OnlineOnlyFlag`, `MsgLifeTime`,
//! `SendMsgControl`, `SyncOtherMachine`, `SyncFromOldSystem`): what `admin_getroammsg` returns of each party's copy,
//! what [`Emulator::unread`] counts and what [`Emulator::conversations`] lists. Known simplifications: every user
//! counts as online (an inbox holds online-only messages too, which the history leaves out); nothing marks a
//! message read; no user mutes anyone, so `WithMuteNotifications` changes nothing; response filters of the group APIs are ignored; tags and
//! attributes are not emulated, so an `im_push` with a `Condition` reaches no one; account deletion is allowed
//! (the service allows it for trial-edition apps only); features that need an edition or a console switch
//! (broadcasts, all-member push, targeted group messages) are on.
//!
//! # Codes
//!
//! Authentication: 60012 `sdkappid` missing, 60006 another SDKAppID, 60004 `identifier` or `usersig` missing,
//! 70002 empty UserSig, 60002 `random` or `contenttype=json` missing, 70003 not a UserSig, 70014 / 70013 a
//! UserSig of another SDKAppID / identifier, 70001 expired, 70009 made with another key, 60010 not an admin.
//! Bodies: the model's field errors become each page's codes (90001 JSON, 90003 / 90005 / 90007 missing fields,
//! 90011 over 500 recipients, 93000 / 80002 over 12 KB, 10004 invalid group parameter, 10015 invalid group id,
//! ...; see `codes.rs`). State: 90008 / 90012 unknown C2C sender / recipient (70107 per recipient of a
//! batchsendmsg, which answers `SomeError` with code 0, or `FAIL` 90012 when no recipient exists), 10010 unknown
//! group, 10007 not allowed for the group type or a non-member sender, 10019 unknown account in the group
//! service, 10021 GroupId taken, 20022 / 20023 recall of a missing / recalled message. Quotas: 60007 (im_push:
//! 90024 interval, 90047 daily quota; send_broadcast_msg: 10023, and 10007 when broadcast is off for the app).
//!
//! # Deduplication
//!
//! The windows of the command table: sendmsg and batchsendmsg drop a repeat of sender, `MsgRandom` and `MsgSeq`
//! for the same recipient within the same second (a request without `MsgSeq` gets a random one, as the service
//! does, so a repeat that leaves it out is a new message); send_group_msg, send_broadcast_msg and import_group_msg the
//! same `Random`, sender and content within 5 minutes; importmsg the same (`MsgSeq`, `MsgRandom`,
//! `MsgTimeStamp`) between the same two users for ever; im_push the same `MsgRandom` within 7 days. A repeat is
//! answered as a success carrying the first message's `MsgKey`, `MsgSeq` or `TaskId`, and is not stored again.
//!
//! # Faults and quotas
//!
//! See [`FaultConfig`] for the fault kinds and the `--faults` spec syntax, and [`QuotaConfig`] for quotas.
//!
//! # Feature flags and stability
//!
//! No feature flags. The emulator is for development and tests: its builder and inspection methods are its API,
//! and what it emulates grows with the typed commands (a command it does not emulate answers 60009 naming itself).

mod api;
mod auth;
mod clock;
mod codes;
pub mod error;
mod fast;
mod fault;
mod hash;
mod messages;
mod quota;
mod rng;
mod server;
mod state;
mod stats;

pub use clock::{Clock, ManualClock};
pub use error::Error;
pub use fault::{DEFAULT_DELAY, FaultConfig, LostAs};
pub use messages::{
    C2cMessage, C2cOrigin, Conversation, Delivered, GroupMessage, GroupOrigin, Push, SystemNotification,
};
pub use quota::QuotaConfig;
pub use server::{HEADER_TIMEOUT, RunningEmulator};
pub use stats::{Stats, StoredCounts};

use crate::auth::Authenticator;
use crate::quota::Limiter;
use crate::state::State;
use crate::stats::Counters;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use tim_model::UserId;
use tim_model::command::{CommandId, Idempotency};
use tim_sig::{SecretKey, Signer};
use tokio::net::TcpListener;

/// The admin identifier an emulator accepts unless told otherwise.
pub const DEFAULT_ADMIN: &str = "administrator";

/// The seed of the fault draws and of the values the emulator picks (sequence numbers, group ids) unless told
/// otherwise.
pub const DEFAULT_SEED: u64 = 0;

/// Everything a running emulator shares between its connections.
pub(crate) struct Inner {
    pub(crate) sdkappid: u64,
    pub(crate) admins: Vec<String>,
    pub(crate) auth: Authenticator,
    pub(crate) auto_create_accounts: bool,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) faults: FaultConfig,
    pub(crate) seed: u64,
    /// Whether the app has broadcast messages enabled (send_broadcast_msg answers 10007 when not).
    pub(crate) broadcast: bool,
    /// The custom profile fields the app declared (`Tag_Profile_Custom_*`).
    pub(crate) custom_profile_fields: Vec<String>,
    pub(crate) limiter: Limiter,
    pub(crate) state: Mutex<State>,
    pub(crate) counters: Counters,
    /// How many `/v4` requests arrived: the index of each one's fault draw.
    pub(crate) arrivals: AtomicU64,
}

/// The deduplication window of `command` in seconds, from the command table (`u64::MAX` for ever, 0 for none).
pub(crate) fn dedupe_window(command: CommandId) -> u64 {
    match command.command().idempotency {
        Idempotency::Dedupe { window_secs: Some(secs), .. } => u64::from(secs),
        Idempotency::Dedupe { window_secs: None, .. } => u64::MAX,
        _ => 0,
    }
}

/// Settings of an emulator; see [`Emulator::builder`].
#[derive(Clone)]
pub struct EmulatorBuilder {
    sdkappid: u64,
    key: SecretKey,
    clock: Arc<dyn Clock>,
    admins: Vec<String>,
    auto_create_accounts: bool,
    faults: FaultConfig,
    seed: u64,
    quotas: QuotaConfig,
    broadcast: bool,
    custom_profile_fields: Vec<String>,
}

impl std::fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field("sdkappid", &self.sdkappid)
            .field("key", &self.key)
            .field("admins", &self.admins)
            .field("auto_create_accounts", &self.auto_create_accounts)
            .field("faults", &self.faults)
            .field("seed", &self.seed)
            .field("quotas", &self.quotas)
            .field("broadcast", &self.broadcast)
            .field("custom_profile_fields", &self.custom_profile_fields)
            .finish_non_exhaustive()
    }
}

impl EmulatorBuilder {
    /// The only admin identifier (replacing [`DEFAULT_ADMIN`]).
    pub fn admin(self, name: impl Into<String>) -> Self {
        self.admins([name])
    }

    /// The admin identifiers (replacing [`DEFAULT_ADMIN`]); an app may have several.
    pub fn admins<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.admins = names.into_iter().map(Into::into).collect();
        self
    }

    /// Whether any UserID a request addresses (sender, recipient, member, owner) is created on first use
    /// (default: no, unknown accounts are refused as the service refuses them).
    pub fn auto_create_accounts(mut self, on: bool) -> Self {
        self.auto_create_accounts = on;
        self
    }

    /// The faults to inject (default: none).
    pub fn faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }

    /// Whether the app has broadcast messages (send_broadcast_msg) enabled, as the console's setting; when not,
    /// send_broadcast_msg answers 10007 (default: enabled).
    pub fn broadcast(mut self, enabled: bool) -> Self {
        self.broadcast = enabled;
        self
    }

    /// The custom profile fields the app declared in the console, with their whole tag
    /// (`Tag_Profile_Custom_Level`); portrait_get and portrait_set answer 40009 for any other custom tag (default:
    /// none). A tag that is not `Tag_Profile_Custom_` and 1 to 8 letters is refused.
    pub fn custom_profile_fields<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        self.custom_profile_fields = tags.into_iter().map(Into::into).collect();
        self
    }

    /// The seed of the fault draws and of the values the emulator picks (default [`DEFAULT_SEED`]).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The quotas (default: on, with the command table's defaults).
    pub fn quotas(mut self, quotas: QuotaConfig) -> Self {
        self.quotas = quotas;
        self
    }

    /// Checks the settings and builds the emulator, with the admins' accounts created.
    pub fn build(self) -> Result<Emulator, Error> {
        if self.admins.is_empty() {
            return Err(Error::NoAdmin);
        }
        for admin in &self.admins {
            check_user_id(admin)?;
        }
        self.faults.check()?;
        for tag in &self.custom_profile_fields {
            if !tag.starts_with(tim_model::profile::CUSTOM_TAG_PREFIX) || tim_model::profile::tag_kind(tag).is_none() {
                return Err(Error::CustomProfileField { tag: tag.clone() });
            }
        }
        let mut state = State::new(
            self.seed,
            dedupe_window(CommandId::SendMsg),
            dedupe_window(CommandId::SendBroadcastMsg),
            dedupe_window(CommandId::ImPush),
        );
        for admin in &self.admins {
            state.account_key(admin, true);
        }
        let inner = Inner {
            sdkappid: self.sdkappid,
            auth: Authenticator::new(Signer::new(self.sdkappid, self.key), &self.admins),
            admins: self.admins,
            auto_create_accounts: self.auto_create_accounts,
            clock: self.clock,
            counters: Counters::new(self.faults.slot_names()),
            faults: self.faults,
            seed: self.seed,
            broadcast: self.broadcast,
            custom_profile_fields: self.custom_profile_fields,
            limiter: Limiter::new(self.quotas),
            state: Mutex::new(state),
            arrivals: AtomicU64::new(0),
        };
        Ok(Emulator { inner: Arc::new(inner) })
    }
}

fn check_user_id(id: &str) -> Result<(), Error> {
    UserId::check(id).map_err(|error| Error::InvalidUserId { user_id: id.to_owned(), reason: error.detail() })
}

/// A local Tencent Cloud Chat: build it with [`Emulator::builder`], serve it with [`Emulator::serve`], inspect it
/// with the methods below. Clones share the same state.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("sdkappid", &self.inner.sdkappid)
            .field("admins", &self.inner.admins)
            .field("auto_create_accounts", &self.inner.auto_create_accounts)
            .field("faults", &self.inner.faults.to_string())
            .field("seed", &self.inner.seed)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// An emulator for `sdkappid` and its secret `key`, reading the time from `clock` (a [`ManualClock`] in
    /// tests, a closure reading the system clock in a binary).
    pub fn builder(sdkappid: u64, key: SecretKey, clock: impl Clock) -> EmulatorBuilder {
        EmulatorBuilder {
            sdkappid,
            key,
            clock: Arc::new(clock),
            admins: vec![DEFAULT_ADMIN.to_owned()],
            auto_create_accounts: false,
            faults: FaultConfig::none(),
            seed: DEFAULT_SEED,
            quotas: QuotaConfig::default(),
            broadcast: true,
            custom_profile_fields: Vec::new(),
        }
    }

    /// Serves HTTP on `listener` (bind `127.0.0.1:0` for a free port) in a task of the current tokio runtime.
    pub fn serve(&self, listener: TcpListener) -> Result<RunningEmulator, Error> {
        server::serve(self, listener)
    }

    /// The SDKAppID it serves.
    pub fn sdkappid(&self) -> u64 {
        self.inner.sdkappid
    }

    /// Its admin identifiers.
    pub fn admins(&self) -> &[String] {
        &self.inner.admins
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Creates accounts, as account_import would (existing ones are kept).
    pub fn create_accounts<I: IntoIterator<Item = S>, S: AsRef<str>>(&self, ids: I) -> Result<(), Error> {
        let ids: Vec<S> = ids.into_iter().collect();
        for id in &ids {
            check_user_id(id.as_ref())?;
        }
        let mut state = self.state();
        for id in &ids {
            state.account_key(id.as_ref(), true);
        }
        Ok(())
    }

    /// Whether the account exists.
    pub fn account_exists(&self, user: &str) -> bool {
        self.state().account_exists(user)
    }

    /// How many accounts exist (the admins included).
    pub fn account_count(&self) -> usize {
        self.state().account_count()
    }

    /// The C2C messages `user` received, in the order stored; `None` when the account does not exist.
    pub fn inbox(&self, user: &str) -> Option<Vec<Delivered>> {
        let state = self.state();
        let inbox = state.inbox(user)?;
        Some(
            inbox
                .into_iter()
                .map(|(stored, _, recalled)| Delivered { message: stored.message.clone(), recalled })
                .collect(),
        )
    }

    /// How many C2C messages `user` received (recalled ones included); `None` when the account does not exist.
    /// Cheap: a counter, not a scan.
    pub fn inbox_len(&self, user: &str) -> Option<usize> {
        self.state().inbox_len(user)
    }

    /// How many of the C2C messages `user` received count as unread (the model's [`C2cDelivery`] decides: not
    /// `NoUnread`, not online only); `None` when the account does not exist. Nothing marks messages read yet.
    ///
    /// [`C2cDelivery`]: tim_model::c2c::C2cDelivery
    pub fn unread(&self, user: &str) -> Option<u64> {
        let state = self.state();
        let inbox = state.inbox(user)?;
        Some(inbox.iter().filter(|(stored, _, _)| stored.message.delivery.unread).count() as u64)
    }

    /// `user`'s one-to-one conversation list as its received messages left it: each peer with the newest message
    /// that updated it (`NoLastMsg` and online-only messages do not), newest first; `None` when the account does
    /// not exist.
    pub fn conversations(&self, user: &str) -> Option<Vec<Conversation>> {
        let state = self.state();
        let inbox = state.inbox(user)?;
        let mut latest: HashMap<Arc<str>, Arc<C2cMessage>> = HashMap::new();
        for (stored, _, _) in inbox {
            let message = &stored.message;
            if !message.delivery.conversation {
                continue;
            }
            let entry = latest.entry(message.from_account.clone()).or_insert_with(|| message.clone());
            if (message.msg_time, message.msg_seq) >= (entry.msg_time, entry.msg_seq) {
                *entry = message.clone();
            }
        }
        let mut list: Vec<Conversation> = latest.into_iter().map(|(peer, last)| Conversation { peer, last }).collect();
        list.sort_by(|a, b| {
            (b.last.msg_time, b.last.msg_seq, &b.peer).cmp(&(a.last.msg_time, a.last.msg_seq, &a.peer))
        });
        Some(list)
    }

    /// The messages of a group, by sequence number; `None` when the group does not exist.
    pub fn group_messages(&self, group_id: &str) -> Option<Vec<GroupMessage>> {
        self.state().groups.get(group_id).map(|group| group.messages.clone())
    }

    /// The members of a group, in the order they joined; `None` when the group does not exist.
    pub fn group_members(&self, group_id: &str) -> Option<Vec<String>> {
        self.state().groups.get(group_id).map(|group| group.members.iter().map(|m| m.account.to_string()).collect())
    }

    /// The system notifications sent to a group; `None` when the group does not exist.
    pub fn system_notifications(&self, group_id: &str) -> Option<Vec<SystemNotification>> {
        self.state().groups.get(group_id).map(|group| group.notifications.clone())
    }

    /// Every broadcast (send_broadcast_msg), oldest first.
    pub fn broadcasts(&self) -> Vec<GroupMessage> {
        self.state().broadcasts.clone()
    }

    /// Every all-member push (im_push), oldest first.
    pub fn pushes(&self) -> Vec<Push> {
        self.state().pushes.clone()
    }
}
