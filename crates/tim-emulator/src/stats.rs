//! Counters of what the emulator did, kept in atomics (no lock on the request path), and their snapshot
//! [`Stats`], served as JSON at `GET /emulator/stats`.

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use tim_model::command::{COMMANDS, CommandId};

/// A snapshot of an emulator's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Authenticated calls per command (short path, `openim/sendmsg`), including refused ones; commands never
    /// called are left out.
    pub calls: BTreeMap<String, u64>,
    /// Everything stored: C2C messages (one per recipient), group messages, broadcasts, pushes and group system
    /// notifications.
    pub messages_stored: u64,
    /// `messages_stored`, by kind.
    pub stored: StoredCounts,
    /// Repeats recognised by a deduplication window: answered as success, not stored again (C2C: one per
    /// recipient).
    pub duplicates_dropped: u64,
    /// Calls refused by a quota.
    pub rate_limited: u64,
    /// Requests refused by authentication (SDKAppID, UserSig, admin).
    pub auth_refused: u64,
    /// Requests to a path that is no command of the table.
    pub unknown_commands: u64,
    /// Calls of a command the emulator does not emulate.
    pub unsupported_commands: u64,
    /// Accounts whose login state a kick invalidated.
    pub logins_invalidated: u64,
    /// Injected faults by kind: `502`, `delay`, `drop`, `lost` and `codeNNNNN`.
    pub faults: BTreeMap<String, u64>,
}

/// Stored items by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StoredCounts {
    /// C2C messages, one per recipient (sendmsg, batchsendmsg, importmsg).
    pub c2c: u64,
    /// Group messages (send_group_msg, import_group_msg).
    pub group: u64,
    /// Broadcasts (send_broadcast_msg), one per broadcast.
    pub broadcast: u64,
    /// All-member pushes (im_push).
    pub push: u64,
    /// Group system notifications.
    pub system_notification: u64,
}

/// The live counters.
#[derive(Debug)]
pub(crate) struct Counters {
    calls: Vec<AtomicU64>,
    pub(crate) c2c: AtomicU64,
    pub(crate) group: AtomicU64,
    pub(crate) broadcast: AtomicU64,
    pub(crate) push: AtomicU64,
    pub(crate) system_notification: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) auth_refused: AtomicU64,
    pub(crate) unknown_commands: AtomicU64,
    pub(crate) unsupported_commands: AtomicU64,
    pub(crate) logins_invalidated: AtomicU64,
    fault_names: Vec<String>,
    faults: Vec<AtomicU64>,
}

/// Adds `n` to a counter (relaxed: counters are read only for reports).
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    if n > 0 {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

impl Counters {
    pub(crate) fn new(fault_names: Vec<String>) -> Self {
        Self {
            calls: COMMANDS.iter().map(|_| AtomicU64::new(0)).collect(),
            c2c: AtomicU64::new(0),
            group: AtomicU64::new(0),
            broadcast: AtomicU64::new(0),
            push: AtomicU64::new(0),
            system_notification: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            auth_refused: AtomicU64::new(0),
            unknown_commands: AtomicU64::new(0),
            unsupported_commands: AtomicU64::new(0),
            logins_invalidated: AtomicU64::new(0),
            faults: fault_names.iter().map(|_| AtomicU64::new(0)).collect(),
            fault_names,
        }
    }

    pub(crate) fn call(&self, command: CommandId) {
        add(&self.calls[command as usize], 1);
    }

    pub(crate) fn fault(&self, slot: usize) {
        if let Some(counter) = self.faults.get(slot) {
            add(counter, 1);
        }
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let calls = COMMANDS
            .iter()
            .zip(&self.calls)
            .filter(|(_, count)| load(count) > 0)
            .map(|(command, count)| (command.short_path().to_owned(), load(count)))
            .collect();
        let stored = StoredCounts {
            c2c: load(&self.c2c),
            group: load(&self.group),
            broadcast: load(&self.broadcast),
            push: load(&self.push),
            system_notification: load(&self.system_notification),
        };
        Stats {
            calls,
            messages_stored: stored.c2c + stored.group + stored.broadcast + stored.push + stored.system_notification,
            stored,
            duplicates_dropped: load(&self.duplicates),
            rate_limited: load(&self.rate_limited),
            auth_refused: load(&self.auth_refused),
            unknown_commands: load(&self.unknown_commands),
            unsupported_commands: load(&self.unsupported_commands),
            logins_invalidated: load(&self.logins_invalidated),
            faults: self.fault_names.iter().cloned().zip(self.faults.iter().map(load)).collect(),
        }
    }
}
