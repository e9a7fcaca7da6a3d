//! The emulator's memory: accounts with their inboxes, the C2C message table, groups with their members and
//! messages, broadcasts, pushes and notifications, and the deduplication windows.
//!
//! One `Mutex<State>` guards it all. Handlers decode and validate a request before taking the lock and hold it
//! only to look up and append, so a 500-recipient batch keeps it for a few microseconds. A C2C message is stored
//! once in the message table with its recipients' 4-byte account numbers, which is all a recipient costs; an
//! account's number indexes its name and its delivery counters, kept apart from the table that finds it by name.

use crate::hash::{FxHashMap, FxHashSet};
use crate::messages::{C2cMessage, C2cOrigin, GroupMessage, Push, SystemNotification};
use crate::rng::SplitMix;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use tim_model::group::{GroupType, KeyValue};
use tim_model::{MAX_USER_ID_BYTES, MsgBody, UserId};

/// An index into the C2C message table.
pub(crate) type MsgIndex = u32;

/// An account's number: its place in the table of names. A deleted account's number is never reused, so the
/// messages it received do not reappear in a later account of the same name.
pub(crate) type AccountIndex = u32;

/// A UserID held inline as little-endian words (the model caps UserIDs at 32 bytes), so that a lookup hashes and
/// compares a few words inside the hash table instead of following a pointer per recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UserKey {
    len: u8,
    words: [u64; MAX_USER_ID_BYTES / 8],
}

impl UserKey {
    /// The key of `id`; `None` for an id too long to be an account.
    pub(crate) fn new(id: &str) -> Option<Self> {
        let bytes = id.as_bytes();
        if bytes.len() > MAX_USER_ID_BYTES {
            return None;
        }
        let mut words = [0_u64; MAX_USER_ID_BYTES / 8];
        let mut chunks = bytes.chunks_exact(8);
        for (word, chunk) in words.iter_mut().zip(&mut chunks) {
            let mut le = [0_u8; 8];
            le.copy_from_slice(chunk);
            *word = u64::from_le_bytes(le);
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            // Byte by byte: a variable-length copy would be a call to memcpy, per recipient.
            let word = tail.iter().rev().fold(0_u64, |word, &b| (word << 8) | u64::from(b));
            words[bytes.len() / 8] = word;
        }
        Some(Self { len: bytes.len() as u8, words })
    }
}

impl UserKey {
    /// A key from words already read (and zero beyond `len` bytes), as the fast path scans them; `len` at most
    /// 32.
    pub(crate) fn from_words(len: usize, words: [u64; MAX_USER_ID_BYTES / 8]) -> Self {
        Self { len: len as u8, words }
    }
}

/// A recipient as a delivery needs it: its id, and its key built once (by the fast path, while scanning).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recipient<'a> {
    pub(crate) id: &'a str,
    /// `None` for an id too long to be an account.
    pub(crate) key: Option<UserKey>,
}

impl<'a> Recipient<'a> {
    pub(crate) fn new(id: &'a str) -> Self {
        Self { id, key: UserKey::new(id) }
    }
}

impl Hash for UserKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Only the words the id fills: a typical 12-byte UserID is two words, not four.
        for word in &self.words[..usize::from(self.len).div_ceil(8)] {
            state.write_u64(*word);
        }
        state.write_u8(self.len);
    }
}

/// What a delivery changes in an account, kept apart from the table of names: the name table is only read while
/// delivering, so its entries stay in every core's cache, and the 8 bytes a delivery writes share a cache line
/// with seven other accounts' instead of moving a whole table entry between cores.
#[derive(Debug, Clone, Copy)]
struct Deliveries {
    /// The last message delivered to it (catches a recipient named twice in one batch).
    last_message: MsgIndex,
    /// How many C2C messages it received.
    received: u32,
}

impl Deliveries {
    const NONE: Self = Self { last_message: MsgIndex::MAX, received: 0 };
}

/// One stored C2C message and, in the order delivered, the accounts that received it.
#[derive(Debug)]
pub(crate) struct StoredC2c {
    pub(crate) message: Arc<C2cMessage>,
    pub(crate) recipients: AccountRuns,
}

/// Accounts in order, as runs of consecutive numbers. Accounts get numbers in the order they are created, so the
/// recipients of a fan-out to users imported (or created on first use) together are a few runs: a 500-recipient
/// batch costs 8 bytes instead of 2 KB, and no allocation beyond the message's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AccountRuns {
    /// `(first, count)` of each run.
    runs: Box<[(AccountIndex, u32)]>,
}

impl AccountRuns {
    /// Appends `account` to runs being built.
    fn extend(runs: &mut Vec<(AccountIndex, u32)>, account: AccountIndex) {
        match runs.last_mut() {
            Some((first, count)) if first.wrapping_add(*count) == account => *count += 1,
            _ => runs.push((account, 1)),
        }
    }

    /// The runs built, stored at their size.
    fn new(runs: &[(AccountIndex, u32)]) -> Self {
        Self { runs: runs.into() }
    }

    pub(crate) fn contains(&self, account: AccountIndex) -> bool {
        self.runs.iter().any(|&(first, count)| account.wrapping_sub(first) < count)
    }

    #[cfg(test)]
    fn to_vec(&self) -> Vec<AccountIndex> {
        self.runs.iter().flat_map(|&(first, count)| (0..count).map(move |k| first.wrapping_add(k))).collect()
    }
}

/// An account's profile fields, from account_import and portrait_set.
#[derive(Debug, Default)]
pub(crate) struct Profile {
    /// Each field that was set, by tag (account_import's `Nick` and `FaceUrl` are `Tag_Profile_IM_Nick` and
    /// `Tag_Profile_IM_Image`).
    pub(crate) tags: std::collections::BTreeMap<String, tim_model::TextOrNumber>,
}

/// A member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Admin => "Admin",
            Self::Member => "Member",
        }
    }
}

/// One member of a group.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) account: Arc<str>,
    pub(crate) role: Role,
    pub(crate) join_time: u64,
}

/// One group.
#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) group_type: GroupType,
    pub(crate) name: String,
    pub(crate) owner: Option<Arc<str>>,
    pub(crate) introduction: Option<String>,
    pub(crate) notification: Option<String>,
    pub(crate) face_url: Option<String>,
    pub(crate) max_member_count: Option<u32>,
    pub(crate) apply_join_option: Option<String>,
    pub(crate) app_defined_data: Option<Vec<KeyValue>>,
    pub(crate) created: u64,
    pub(crate) members: Vec<Member>,
    /// Messages by sequence number: `messages[seq - 1]`.
    pub(crate) messages: Vec<GroupMessage>,
    pub(crate) notifications: Vec<SystemNotification>,
    /// Recent `Random` values: sequence number and arrival time, for the deduplication window.
    pub(crate) randoms: FxHashMap<u32, Vec<(u64, u64)>>,
}

impl Group {
    pub(crate) fn member_position(&self, account: &str) -> Option<usize> {
        self.members.iter().position(|member| &*member.account == account)
    }

    /// The time of the newest message, or the creation time.
    pub(crate) fn last_msg_time(&self) -> Option<i64> {
        self.messages.last().map(|message| message.msg_time)
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.messages.len() as u64 + 1
    }

    /// A message with the same `Random`, sender and content that arrived within `window` seconds of `now`.
    pub(crate) fn repeat_of(
        &self,
        random: u32,
        from: &str,
        body: &MsgBody,
        cloud_custom_data: Option<&str>,
        now: u64,
        window: u64,
    ) -> Option<&GroupMessage> {
        self.randoms.get(&random)?.iter().rev().filter(|(_, at)| now.saturating_sub(*at) < window).find_map(
            |(seq, _)| {
                let message = self.messages.get(usize::try_from(*seq).ok()?.checked_sub(1)?)?;
                (&*message.from_account == from
                    && message.msg_body == *body
                    && message.cloud_custom_data.as_deref() == cloud_custom_data)
                    .then_some(message)
            },
        )
    }

    /// Appends a message, giving it the next sequence number.
    pub(crate) fn push_message(&mut self, mut message: GroupMessage, now: u64, window: u64) -> (u64, i64) {
        let seq = self.next_seq();
        message.msg_seq = seq;
        let time = message.msg_time;
        let recent = self.randoms.entry(message.msg_random).or_default();
        recent.retain(|(_, at)| now.saturating_sub(*at) < window);
        recent.push((seq, now));
        self.messages.push(message);
        (seq, time)
    }
}

/// Keys seen within a sliding window of `window` seconds, each with values and their arrival time. Two
/// generations of `window` seconds each keep it exact without a scan: a key older than two windows is gone.
#[derive(Debug)]
pub(crate) struct RecentKeys<K, V> {
    window: u64,
    generation: u64,
    current: FxHashMap<K, Vec<(V, u64)>>,
    previous: FxHashMap<K, Vec<(V, u64)>>,
}

impl<K: Hash + Eq, V: Copy> RecentKeys<K, V> {
    pub(crate) fn new(window: u64) -> Self {
        Self { window: window.max(1), generation: 0, current: FxHashMap::default(), previous: FxHashMap::default() }
    }

    /// Moves the generations along to `now`.
    pub(crate) fn roll(&mut self, now: u64) {
        let generation = now / self.window;
        if generation == self.generation {
            return;
        }
        if generation == self.generation + 1 {
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.clear();
        } else {
            self.current.clear();
            self.previous.clear();
        }
        self.generation = generation;
    }

    /// The values stored under `key` within the window before `now` (call [`Self::roll`] first).
    pub(crate) fn recent(&self, key: &K, now: u64) -> Vec<V> {
        let window = self.window;
        [&self.current, &self.previous]
            .into_iter()
            .filter_map(|map| map.get(key))
            .flatten()
            .filter(|(_, at)| now.saturating_sub(*at) < window)
            .map(|(value, _)| *value)
            .collect()
    }

    pub(crate) fn insert(&mut self, key: K, value: V, now: u64) {
        self.current.entry(key).or_default().push((value, now));
    }
}

/// The C2C deduplication key: sender, `MsgSeq` and `MsgRandom`; the recipient is the inbox the message is looked
/// for in. A request without `MsgSeq` gets a random one first, as the service does, so a repeat that leaves it out
/// is a new message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct C2cKey {
    pub(crate) from: Arc<str>,
    pub(crate) seq: u32,
    pub(crate) random: u32,
}

/// The importmsg deduplication key: the two parties in either order, and the triple.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ImportKey {
    pub(crate) parties: (Arc<str>, Arc<str>),
    pub(crate) seq: u32,
    pub(crate) random: u32,
    pub(crate) time: i64,
}

impl ImportKey {
    pub(crate) fn new(a: Arc<str>, b: Arc<str>, seq: u32, random: u32, time: i64) -> Self {
        let parties = if a <= b { (a, b) } else { (b, a) };
        Self { parties, seq, random, time }
    }
}

/// A C2C message about to be stored.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) from: Arc<str>,
    pub(crate) seq: Option<u32>,
    pub(crate) random: u32,
    pub(crate) time: Option<i64>,
    pub(crate) body: MsgBody,
    pub(crate) cloud_custom_data: Option<String>,
    pub(crate) origin: C2cOrigin,
    pub(crate) delivery: tim_model::c2c::C2cDelivery,
}

/// What a C2C send did.
#[derive(Debug)]
pub(crate) struct SendReport {
    pub(crate) msg_key: String,
    pub(crate) msg_time: i64,
    pub(crate) stored: u64,
    pub(crate) duplicates: u64,
    /// Recipients that do not exist.
    pub(crate) missing: Vec<String>,
}

/// The message table is full (more than 4 billion messages).
#[derive(Debug)]
pub(crate) struct TableFull;

/// One friend in an account's list (the account's side of the friendship).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Friend {
    pub(crate) remark: Option<String>,
    pub(crate) groups: Vec<String>,
    pub(crate) add_source: String,
    pub(crate) add_wording: Option<String>,
    pub(crate) add_time: i64,
    pub(crate) custom: std::collections::BTreeMap<String, tim_model::TextOrNumber>,
}

/// An account's relationships: its friend list, its blocklist (with when each was blocked, in the order blocked)
/// and the friend requests it sent that wait for the other's confirmation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Relations {
    pub(crate) friends: std::collections::BTreeMap<AccountIndex, Friend>,
    pub(crate) blocked: Vec<(AccountIndex, i64)>,
    pub(crate) pending: std::collections::BTreeSet<AccountIndex>,
    /// Changes of the blocklist (black_list_get's `CurruentSequence`).
    pub(crate) blocklist_sequence: u64,
    /// Changes of the standard and the custom friend data (friend_get's `StandardSequence`, `CustomSequence`).
    pub(crate) standard_sequence: u64,
    pub(crate) custom_sequence: u64,
    /// The account's friend lists, in the order created (group_add, or a friend put in a list), and their
    /// sequence (group_add's `CurrentSequence`).
    pub(crate) lists: Vec<String>,
    pub(crate) lists_sequence: u64,
    /// The accounts it follows and those that follow it, with when each follow began.
    pub(crate) following: std::collections::BTreeMap<AccountIndex, i64>,
    pub(crate) followers: std::collections::BTreeMap<AccountIndex, i64>,
}

impl Relations {
    pub(crate) fn has_friend(&self, other: AccountIndex) -> bool {
        self.friends.contains_key(&other)
    }

    pub(crate) fn blocks(&self, other: AccountIndex) -> bool {
        self.blocked.iter().any(|(account, _)| *account == other)
    }

    /// Creates the lists among `names` that do not exist yet.
    pub(crate) fn ensure_lists<'a>(&mut self, names: impl IntoIterator<Item = &'a String>) {
        for name in names {
            if !self.lists.contains(name) {
                self.lists.push(name.clone());
                self.lists_sequence += 1;
            }
        }
    }
}

/// When one kind of an account's messages stops being muted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum MuteEnd {
    /// Not muted.
    #[default]
    None,
    /// Muted until this time (UNIX seconds, the emulator's clock).
    At(u64),
    /// Muted for ever (4294967295 seconds).
    Never,
}

impl MuteEnd {
    /// The mute set by a `NospeakingTime` of `seconds` at `now`: 0 unmutes, `u32::MAX` never ends.
    pub(crate) fn from_seconds(seconds: u32, now: u64) -> Self {
        match seconds {
            0 => Self::None,
            u32::MAX => Self::Never,
            seconds => Self::At(now + u64::from(seconds)),
        }
    }

    /// The seconds left at `now`, as getnospeaking answers them: 0 not muted, `u32::MAX` for ever.
    pub(crate) fn remaining(self, now: u64) -> u32 {
        match self {
            Self::None => 0,
            Self::Never => u32::MAX,
            // A finite mute set with at most u32::MAX - 1 seconds has fewer left.
            Self::At(end) => u32::try_from(end.saturating_sub(now)).unwrap_or(u32::MAX - 1),
        }
    }
}

/// An account's global mute (setnospeaking): one-to-one and group messages apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct GlobalMute {
    pub(crate) c2c: MuteEnd,
    pub(crate) group: MuteEnd,
}

/// Everything the emulator keeps.
#[derive(Debug)]
pub(crate) struct State {
    /// Live accounts by name.
    accounts: FxHashMap<UserKey, AccountIndex>,
    /// Every account's name by number, deleted ones included.
    names: Vec<Arc<str>>,
    /// Every account's deliveries by number, beside `names`.
    deliveries: Vec<Deliveries>,
    pub(crate) profiles: FxHashMap<AccountIndex, Profile>,
    /// Friends, blocklists and pending friend requests by account.
    pub(crate) relations: FxHashMap<AccountIndex, Relations>,
    /// Global mutes by account (setnospeaking).
    pub(crate) mutes: FxHashMap<AccountIndex, GlobalMute>,
    /// (recipient, message) pairs that admin_msgwithdraw recalled.
    recalled: FxHashSet<(AccountIndex, MsgIndex)>,
    pub(crate) messages: Vec<StoredC2c>,
    /// The runs of a batch's recipients while it is stored (kept to be reused).
    runs: Vec<(AccountIndex, u32)>,
    pub(crate) c2c_recent: RecentKeys<C2cKey, MsgIndex>,
    pub(crate) imported: FxHashSet<ImportKey>,
    pub(crate) groups: FxHashMap<Arc<str>, Group>,
    pub(crate) broadcasts: Vec<GroupMessage>,
    pub(crate) broadcast_recent: RecentKeys<u32, usize>,
    pub(crate) pushes: Vec<Push>,
    pub(crate) push_recent: RecentKeys<u32, usize>,
    pub(crate) rng: SplitMix,
    pub(crate) groups_created: u64,
}

impl State {
    pub(crate) fn new(seed: u64, c2c_window: u64, broadcast_window: u64, push_window: u64) -> Self {
        Self {
            accounts: FxHashMap::default(),
            names: Vec::new(),
            deliveries: Vec::new(),
            profiles: FxHashMap::default(),
            mutes: FxHashMap::default(),
            relations: FxHashMap::default(),
            recalled: FxHashSet::default(),
            messages: Vec::new(),
            runs: Vec::new(),
            c2c_recent: RecentKeys::new(c2c_window),
            imported: FxHashSet::default(),
            groups: FxHashMap::default(),
            broadcasts: Vec::new(),
            broadcast_recent: RecentKeys::new(broadcast_window),
            pushes: Vec::new(),
            push_recent: RecentKeys::new(push_window),
            // A stream of its own, apart from the fault draws.
            rng: SplitMix::new(seed ^ 0x05EE_D0F5_7A7E),
            groups_created: 0,
        }
    }

    /// The number of account `id`, when it exists.
    pub(crate) fn account_index(&self, id: &str) -> Option<AccountIndex> {
        self.accounts.get(&UserKey::new(id)?).copied()
    }

    /// The number of account `key` (named `id`), creating the account when `create` allows.
    fn find_or_create(&mut self, key: UserKey, id: &str, create: bool) -> Option<AccountIndex> {
        if let Some(&account) = self.accounts.get(&key) {
            return Some(account);
        }
        if !create {
            return None;
        }
        let account = self.names.len() as AccountIndex;
        self.names.push(Arc::from(id));
        self.deliveries.push(Deliveries::NONE);
        self.accounts.insert(key, account);
        Some(account)
    }

    /// The shared name of account `id`, creating the account when `create` allows; `None` when it does not exist.
    pub(crate) fn account_key(&mut self, id: &str, create: bool) -> Option<Arc<str>> {
        let account = self.find_or_create(UserKey::new(id)?, id, create)?;
        Some(self.names[account as usize].clone())
    }

    /// The name of account number `account`.
    pub(crate) fn name_of(&self, account: AccountIndex) -> &str {
        &self.names[account as usize]
    }

    pub(crate) fn account_exists(&self, id: &str) -> bool {
        self.account_index(id).is_some()
    }

    pub(crate) fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// Deletes an account with its inbox; `false` when it did not exist.
    pub(crate) fn delete_account(&mut self, id: &str) -> bool {
        let Some(account) = UserKey::new(id).and_then(|key| self.accounts.remove(&key)) else { return false };
        self.profiles.remove(&account);
        self.mutes.remove(&account);
        // Its friendships, blocks and requests end, on its side and on everyone else's.
        self.relations.remove(&account);
        for relations in self.relations.values_mut() {
            relations.friends.remove(&account);
            relations.blocked.retain(|(blocked, _)| *blocked != account);
            relations.pending.remove(&account);
            relations.following.remove(&account);
            relations.followers.remove(&account);
        }
        true
    }

    /// Whether account `id` is muted for group messages (setnospeaking) at `now`.
    pub(crate) fn group_muted(&self, id: &str, now: u64) -> bool {
        self.account_index(id)
            .and_then(|account| self.mutes.get(&account))
            .is_some_and(|mute| mute.group.remaining(now) > 0)
    }

    /// The sender of a request: `From_Account`, or the calling admin when absent (admins always exist).
    pub(crate) fn sender(&mut self, from: Option<&UserId>, admin: &str, create: bool) -> Option<Arc<str>> {
        match from {
            None => self.account_key(admin, true),
            Some(id) => self.account_key(id.as_str(), create),
        }
    }

    /// How many C2C messages account `id` received; `None` when it does not exist.
    pub(crate) fn inbox_len(&self, id: &str) -> Option<usize> {
        self.account_index(id).map(|account| self.deliveries[account as usize].received as usize)
    }

    /// The messages account `id` received, oldest first, each with whether it was recalled for it.
    pub(crate) fn inbox(&self, id: &str) -> Option<Vec<(&StoredC2c, MsgIndex, bool)>> {
        let account = self.account_index(id)?;
        let received = self.deliveries[account as usize].received as usize;
        let mut found = Vec::with_capacity(received);
        // Newest first until all are found: recent recipients are found without a full scan.
        for (index, stored) in self.messages.iter().enumerate().rev() {
            if found.len() == received {
                break;
            }
            if stored.recipients.contains(account) {
                let index = index as MsgIndex;
                found.push((stored, index, self.recalled.contains(&(account, index))));
            }
        }
        found.reverse();
        Some(found)
    }

    /// Marks a message recalled for one recipient; `false` when it already was.
    pub(crate) fn recall(&mut self, account: AccountIndex, message: MsgIndex) -> bool {
        self.recalled.insert((account, message))
    }

    /// Stores one message for one existing recipient (importmsg, which deduplicates by its own rule).
    pub(crate) fn store_one(&mut self, message: C2cMessage, to: &str) -> Result<bool, TableFull> {
        let index = MsgIndex::try_from(self.messages.len()).map_err(|_| TableFull)?;
        let Some(account) = self.account_index(to) else { return Ok(false) };
        let deliveries = &mut self.deliveries[account as usize];
        deliveries.received += 1;
        deliveries.last_message = index;
        self.messages.push(StoredC2c { message: Arc::new(message), recipients: AccountRuns::new(&[(account, 1)]) });
        Ok(true)
    }

    /// Stores one C2C message for `recipients`, skipping repeats within the deduplication window and recipients
    /// that do not exist (or creating them, when `create` allows).
    pub(crate) fn send_c2c<'r>(
        &mut self,
        outgoing: Outgoing,
        recipients: impl ExactSizeIterator<Item = Recipient<'r>>,
        now: u64,
        create: bool,
    ) -> Result<SendReport, TableFull> {
        self.c2c_recent.roll(now);
        let seq = outgoing.seq.unwrap_or_else(|| self.rng.next_u32());
        let key = C2cKey { from: outgoing.from.clone(), seq, random: outgoing.random };
        let earlier = self.c2c_recent.recent(&key, now);
        // A repeat keeps the first message's time, so its MsgKey is the same.
        let time = match earlier.first() {
            Some(&index) => self.messages[index as usize].message.msg_time,
            None => outgoing.time.unwrap_or(now as i64),
        };
        let index = MsgIndex::try_from(self.messages.len()).map_err(|_| TableFull)?;
        let mut report = SendReport {
            msg_key: format!("{seq}_{}_{time}", outgoing.random),
            msg_time: time,
            stored: 0,
            duplicates: 0,
            missing: Vec::new(),
        };
        let mut delivered = std::mem::take(&mut self.runs);
        delivered.clear();
        for Recipient { id, key } in recipients {
            // After the first batch to these users, every recipient exists: the lookup only reads.
            let Some(account) = key.and_then(|key| self.find_or_create(key, id, create)) else {
                report.missing.push(id.to_owned());
                continue;
            };
            let deliveries = &mut self.deliveries[account as usize];
            // Named twice in this batch, or reached by an earlier copy within the window: a repeat.
            let repeat = deliveries.last_message == index
                || earlier.iter().any(|first| self.messages[*first as usize].recipients.contains(account));
            if repeat {
                report.duplicates += 1;
            } else {
                deliveries.last_message = index;
                deliveries.received += 1;
                report.stored += 1;
                AccountRuns::extend(&mut delivered, account);
            }
        }
        if report.stored > 0 {
            let message = C2cMessage {
                from_account: outgoing.from,
                msg_seq: seq,
                msg_random: outgoing.random,
                msg_time: time,
                msg_body: outgoing.body,
                cloud_custom_data: outgoing.cloud_custom_data,
                origin: outgoing.origin,
                delivery: outgoing.delivery,
            };
            self.messages.push(StoredC2c { message: Arc::new(message), recipients: AccountRuns::new(&delivered) });
            self.c2c_recent.insert(key, index, now);
        }
        self.runs = delivered;
        Ok(report)
    }

    /// A group id that is not taken: `@TGS#` (`@TGS#_` for a community) and ten letters drawn from the seed.
    pub(crate) fn new_group_id(&mut self, community: bool) -> Arc<str> {
        const LETTERS: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        loop {
            let mut bits = self.rng.next_u64();
            let mut id = String::from(if community { "@TGS#_@TGS#" } else { "@TGS#2" });
            for _ in 0..10 {
                id.push(char::from(LETTERS[(bits & 31) as usize]));
                bits >>= 5;
            }
            if !self.groups.contains_key(id.as_str()) {
                return Arc::from(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &str) -> MsgBody {
        MsgBody::text(body)
    }

    fn outgoing(from: &Arc<str>, random: u32) -> Outgoing {
        Outgoing {
            from: from.clone(),
            seq: Some(1),
            random,
            time: None,
            body: text("hi"),
            cloud_custom_data: None,
            origin: C2cOrigin::BatchSendMsg,
            delivery: tim_model::c2c::BatchSendMsgRequest::new(Vec::new(), text("hi")).delivery(),
        }
    }

    fn ids<'a>(names: &[&'a str]) -> impl ExactSizeIterator<Item = Recipient<'a>> {
        names.iter().map(|name| Recipient::new(name))
    }

    #[test]
    fn recipients_are_kept_as_runs_of_consecutive_accounts() {
        let mut runs = Vec::new();
        for account in [4, 5, 6, 9, 3, 4, u32::MAX] {
            AccountRuns::extend(&mut runs, account);
        }
        assert_eq!(runs, [(4, 3), (9, 1), (3, 2), (u32::MAX, 1)]);
        let stored = AccountRuns::new(&runs);
        assert_eq!(stored.to_vec().len(), 7);
        for account in [3, 4, 5, 6, 9, u32::MAX] {
            assert!(stored.contains(account), "{account}");
        }
        for account in [0, 2, 7, 8, 10, u32::MAX - 1] {
            assert!(!stored.contains(account), "{account}");
        }
        // Out of creation order: every recipient still finds the message in its inbox.
        let mut state = State::new(1, 1, 300, 604_800);
        let from = state.account_key("admin", true).unwrap();
        state.send_c2c(outgoing(&from, 1), ids(&["a", "b", "c", "d"]), 100, true).unwrap();
        state.send_c2c(outgoing(&from, 2), ids(&["d", "b", "c", "a"]), 100, true).unwrap();
        assert_eq!(state.messages[1].recipients.to_vec(), [4, 2, 3, 1]);
        for id in ["a", "b", "c", "d"] {
            assert_eq!(state.inbox(id).map(|inbox| inbox.len()), Some(2), "{id}");
        }
    }

    #[test]
    fn a_batch_is_stored_once_and_indexed_per_recipient() {
        let mut state = State::new(1, 1, 300, 604_800);
        let from = state.account_key("admin", true).unwrap();
        let report = state.send_c2c(outgoing(&from, 7), ids(&["a", "b", "a"]), 100, true).unwrap();
        assert_eq!((report.stored, report.duplicates), (2, 1), "a recipient named twice gets one copy");
        assert_eq!(state.messages.len(), 1);
        assert_eq!(state.messages[0].recipients.to_vec(), [1, 2], "admin is account 0");
        assert_eq!(state.inbox_len("a"), Some(1));
        assert_eq!(report.msg_key, "1_7_100");
    }

    #[test]
    fn repeats_are_recognised_within_the_window_only_and_per_recipient() {
        let mut state = State::new(1, 1, 300, 604_800);
        let from = state.account_key("admin", true).unwrap();
        state.send_c2c(outgoing(&from, 7), ids(&["a"]), 100, true).unwrap();
        let again = state.send_c2c(outgoing(&from, 7), ids(&["a", "b"]), 100, true).unwrap();
        assert_eq!((again.stored, again.duplicates), (1, 1), "b is new, a already has it");
        assert_eq!(again.msg_key, "1_7_100");
        let later = state.send_c2c(outgoing(&from, 7), ids(&["a"]), 101, true).unwrap();
        assert_eq!((later.stored, later.duplicates), (1, 0), "the next second is outside a 1 s window");
        let inbox: Vec<MsgIndex> = state.inbox("a").unwrap().iter().map(|(_, index, _)| *index).collect();
        assert_eq!(inbox, [0, 2]);
    }

    #[test]
    fn deleted_accounts_take_their_inbox_with_them() {
        let mut state = State::new(1, 1, 300, 604_800);
        let from = state.account_key("admin", true).unwrap();
        state.send_c2c(outgoing(&from, 7), ids(&["a"]), 100, true).unwrap();
        assert!(state.delete_account("a"));
        assert_eq!(state.inbox_len("a"), None);
        state.account_key("a", true);
        assert_eq!(state.inbox("a").unwrap().len(), 0, "a new account of the same name starts empty");
        assert!(!state.delete_account("b"));
        assert_eq!(UserKey::new(&"x".repeat(33)), None);
    }

    #[test]
    fn recent_keys_slide_over_two_generations() {
        let mut keys = RecentKeys::<u32, u32>::new(300);
        keys.roll(1000);
        keys.insert(1, 10, 1000);
        keys.roll(1250);
        assert_eq!(keys.recent(&1, 1250), vec![10]);
        keys.roll(1299);
        assert_eq!(keys.recent(&1, 1299), vec![10]);
        keys.roll(1300);
        assert_eq!(keys.recent(&1, 1300), Vec::<u32>::new());
        keys.roll(5000);
        assert_eq!(keys.recent(&1, 5000), Vec::<u32>::new());
    }

    #[test]
    fn import_keys_ignore_direction() {
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
        assert_eq!(ImportKey::new(a.clone(), b.clone(), 1, 2, 3), ImportKey::new(b, a, 1, 2, 3));
    }
}
