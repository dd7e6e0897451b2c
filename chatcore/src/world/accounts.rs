//! The account table and what is counted across it: the offline accounts
//! in the order they were last seen (for `/since`), the whispers kept in
//! every mailbox (bounded by `Config::max_offline_total`), and the number
//! the next whisper kept in a conversation gets. An account's last-seen
//! time and its mailbox change only here, so the index and the total
//! follow them by construction.

use std::cmp::Reverse;
use std::collections::btree_map;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Index;

use crate::account::PasswordHash;
use crate::names::NameKey;
use crate::source::SourceKey;

/// A whisper kept for an account that was offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OfflineMessage {
    pub(crate) from: Box<str>,
    pub(crate) text: Box<str>,
    pub(crate) unix_ms: u64,
    /// Its number in the conversation it is also kept in, if it is.
    pub(crate) seq: Option<u64>,
}

/// One registered account.
#[derive(Debug)]
pub(crate) struct Account {
    /// The name as registered; it is also the user's nickname when logged in.
    pub(crate) name: Box<str>,
    pub(crate) hash: PasswordHash,
    /// When the account was last online (wall clock), if ever: changed
    /// only by [`Accounts`], which indexes it.
    last_seen_ms: Option<u64>,
    /// Whispers kept while it was offline: changed only by [`Accounts`],
    /// which counts them.
    mailbox: VecDeque<OfflineMessage>,
    /// Names this account blocks, as spelled when blocked; kept across visits.
    pub(crate) blocks: BTreeMap<NameKey, Box<str>>,
    /// Sources it logged in from, oldest first, at most
    /// `Config::max_known_sources`: exempt from the per-account throttle.
    pub(crate) known_sources: VecDeque<SourceKey>,
    /// How far it has read its rooms and conversations (see `markers.rs`).
    pub(crate) markers: crate::read_marker::AccountMarkers,
    /// The user's choice to stay in its rooms while none of its
    /// connections is (`Config::always_on` may override it).
    pub(crate) always_on: bool,
    /// Rooms it stays in with no connection (each lists it in
    /// `Room::absent`); one that expired meanwhile is forgotten at the
    /// next login. At most the rooms it was in when it left.
    pub(crate) away_rooms: BTreeSet<NameKey>,
}

impl Account {
    pub(crate) fn new(name: &str, hash: PasswordHash) -> Self {
        Self {
            name: name.into(),
            hash,
            last_seen_ms: None,
            mailbox: VecDeque::new(),
            blocks: BTreeMap::new(),
            known_sources: VecDeque::new(),
            markers: crate::read_marker::AccountMarkers::default(),
            always_on: false,
            away_rooms: BTreeSet::new(),
        }
    }

    /// When the account was last online (wall clock), if ever.
    pub(crate) fn last_seen_ms(&self) -> Option<u64> {
        self.last_seen_ms
    }

    /// The whispers kept for it while it was offline, oldest first.
    pub(crate) fn mailbox(&self) -> &VecDeque<OfflineMessage> {
        &self.mailbox
    }

    /// Remembers `source` as known, forgetting the oldest beyond `max`;
    /// `true` if it was new.
    pub(crate) fn remember_source(&mut self, source: SourceKey, max: usize) -> bool {
        if self.known_sources.contains(&source) {
            return false;
        }
        self.known_sources.push_back(source);
        while self.known_sources.len() > max {
            self.known_sources.pop_front();
        }
        true
    }
}

/// Every account, with the indexes and counts kept across them.
#[derive(Debug)]
pub(crate) struct Accounts {
    table: BTreeMap<NameKey, Account>,
    /// Accounts not logged in that have been seen, most recently seen
    /// first, for `/since`.
    offline_seen: BTreeSet<(Reverse<u64>, NameKey)>,
    /// Offline messages kept across all mailboxes.
    offline_total: usize,
    /// The number the next whisper kept in a conversation gets; whispers
    /// are numbered across the server (see `conversation.rs`).
    next_whisper_seq: u64,
}

impl Default for Accounts {
    fn default() -> Self {
        Self { table: BTreeMap::new(), offline_seen: BTreeSet::new(), offline_total: 0, next_whisper_seq: 1 }
    }
}

impl Accounts {
    pub(crate) fn get(&self, key: &NameKey) -> Option<&Account> {
        self.table.get(key)
    }

    /// An account to change its blocks or known sources; its last-seen
    /// time and mailbox change through the methods here.
    pub(crate) fn get_mut(&mut self, key: &NameKey) -> Option<&mut Account> {
        self.table.get_mut(key)
    }

    pub(crate) fn contains_key(&self, key: &NameKey) -> bool {
        self.table.contains_key(key)
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Adds a new account (never seen, nothing kept) under `key`.
    pub(crate) fn insert(&mut self, key: NameKey, account: Account) {
        debug_assert!(account.last_seen_ms.is_none() && account.mailbox.is_empty(), "a new account");
        self.table.insert(key, account);
    }

    /// Notes that an account was last seen at `unix_ms` and is offline.
    pub(crate) fn note_offline(&mut self, key: &NameKey, unix_ms: u64) {
        if let Some(account) = self.table.get_mut(key) {
            if let Some(before) = account.last_seen_ms.replace(unix_ms) {
                self.offline_seen.remove(&(Reverse(before), key.clone()));
            }
            self.offline_seen.insert((Reverse(unix_ms), key.clone()));
        }
    }

    /// Notes that an account logged in at `unix_ms`: it is online.
    pub(crate) fn note_online(&mut self, key: &NameKey, unix_ms: u64) {
        if let Some(account) = self.table.get_mut(key)
            && let Some(before) = account.last_seen_ms.replace(unix_ms)
        {
            self.offline_seen.remove(&(Reverse(before), key.clone()));
        }
    }

    /// The offline accounts, most recently seen first, from the account
    /// `from` on (if it is offline and was seen), with when each was seen.
    pub(crate) fn seen_from(&self, from: Option<&NameKey>) -> impl Iterator<Item = (u64, &Account)> + '_ {
        let start = from.and_then(|key| Some((Reverse(self.table.get(key)?.last_seen_ms?), key.clone())));
        let range = match start {
            Some(start) => self.offline_seen.range(start..),
            None => self.offline_seen.range(..),
        };
        range.filter_map(|(Reverse(at), key)| Some((*at, self.table.get(key)?)))
    }

    /// How many offline accounts were seen at or after `cutoff_ms`.
    pub(crate) fn seen_since(&self, cutoff_ms: u64) -> usize {
        self.offline_seen.iter().take_while(|(Reverse(at), _)| *at >= cutoff_ms).count()
    }

    /// Whether `key`'s mailbox, or all of them together, is full.
    pub(crate) fn mailbox_full(&self, key: &NameKey, max_per_account: usize, max_total: usize) -> bool {
        self.offline_total >= max_total || self.table.get(key).is_some_and(|a| a.mailbox.len() >= max_per_account)
    }

    /// Keeps a whisper in `key`'s mailbox if it and all of them together
    /// have room; whether it did.
    pub(crate) fn keep_offline(
        &mut self,
        key: &NameKey,
        message: OfflineMessage,
        max_per_account: usize,
        max_total: usize,
    ) -> bool {
        if self.mailbox_full(key, max_per_account, max_total) {
            return false;
        }
        let Some(account) = self.table.get_mut(key) else { return false };
        account.mailbox.push_back(message);
        self.offline_total += 1;
        true
    }

    /// Empties `key`'s mailbox, returning what it held.
    pub(crate) fn take_mailbox(&mut self, key: &NameKey) -> VecDeque<OfflineMessage> {
        let Some(account) = self.table.get_mut(key) else { return VecDeque::new() };
        let mailbox = std::mem::take(&mut account.mailbox);
        self.offline_total -= mailbox.len();
        mailbox
    }

    /// The number the next whisper kept in a conversation will get.
    pub(crate) fn next_whisper_seq(&self) -> u64 {
        self.next_whisper_seq
    }

    /// Numbers a whisper kept in a conversation.
    pub(crate) fn number_whisper(&mut self) -> u64 {
        let seq = self.next_whisper_seq;
        self.next_whisper_seq += 1;
        seq
    }

    /// A whisper numbered `seq` is on record: the next gets a higher number.
    pub(crate) fn whisper_numbered(&mut self, seq: u64) {
        self.next_whisper_seq = self.next_whisper_seq.max(seq.saturating_add(1));
    }

    /// What holds across the accounts on their own: at most
    /// `max_accounts`; the total kept equals what the mailboxes hold, each
    /// within its limit and all within theirs; no kept whisper numbered at
    /// or past the next number; the last-seen index lists each account
    /// under its own time. Whether an indexed account is offline is for
    /// the world to check: it knows who is logged in.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn check(&self, config: &crate::Config) -> Result<(), crate::invariant_violation::InvariantViolation> {
        use crate::invariant_violation::InvariantViolation as V;
        if self.table.len() > config.max_accounts {
            return Err(V::TooManyAccounts { count: self.table.len(), max: config.max_accounts });
        }
        let kept: usize = self.table.values().map(|a| a.mailbox.len()).sum();
        let over = self.table.values().any(|a| a.mailbox.len() > config.max_offline_messages);
        if kept != self.offline_total || over || kept > config.max_offline_total {
            return Err(V::OfflineCount { total: self.offline_total, kept });
        }
        let next = self.next_whisper_seq;
        if let Some(seq) = self.table.values().flat_map(|a| &a.mailbox).filter_map(|m| m.seq).find(|&s| s >= next) {
            return Err(V::WhisperNumbering { seq, next });
        }
        for (Reverse(at), key) in &self.offline_seen {
            if self.table.get(key).is_none_or(|a| a.last_seen_ms != Some(*at)) {
                return Err(V::SeenIndex { account: key.to_string() });
            }
        }
        Ok(())
    }

    /// Whether the last-seen index lists `key`, under its account's time.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn seen_indexed(&self, key: &NameKey) -> bool {
        let at = self.table.get(key).and_then(|a| a.last_seen_ms);
        at.is_some_and(|at| self.offline_seen.contains(&(Reverse(at), key.clone())))
    }

    /// The accounts the last-seen index lists.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn seen_keys(&self) -> impl Iterator<Item = &NameKey> {
        self.offline_seen.iter().map(|(_, key)| key)
    }

    /// The number of offline whispers kept, as counted.
    #[cfg(test)]
    pub(crate) fn offline_total(&self) -> usize {
        self.offline_total
    }
}

impl Index<&NameKey> for Accounts {
    type Output = Account;

    fn index(&self, key: &NameKey) -> &Account {
        &self.table[key]
    }
}

impl<'a> IntoIterator for &'a Accounts {
    type Item = (&'a NameKey, &'a Account);
    type IntoIter = btree_map::Iter<'a, NameKey, Account>;

    fn into_iter(self) -> Self::IntoIter {
        self.table.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_alice() -> (Accounts, NameKey) {
        let mut accounts = Accounts::default();
        let key = NameKey::of("alice");
        accounts.insert(key.clone(), Account::new("alice", PasswordHash::new("h")));
        (accounts, key)
    }

    fn kept(seq: u64) -> OfflineMessage {
        OfflineMessage { from: "bob".into(), text: "hi".into(), unix_ms: 1, seq: Some(seq) }
    }

    #[test]
    fn mailboxes_keep_within_both_limits_and_the_total_follows_them() {
        let (mut accounts, alice) = with_alice();
        assert!(accounts.keep_offline(&alice, kept(1), 2, 3));
        assert!(accounts.keep_offline(&alice, kept(2), 2, 3));
        assert!(!accounts.keep_offline(&alice, kept(3), 2, 3), "alice's mailbox is full");
        assert!(!accounts.keep_offline(&NameKey::of("nobody"), kept(4), 2, 3));
        accounts.whisper_numbered(2);
        assert_eq!(accounts.check(&crate::Config::default()), Ok(()));
        assert_eq!(accounts.take_mailbox(&alice).len(), 2);
        assert_eq!((accounts.offline_total(), accounts.next_whisper_seq()), (0, 3));
    }

    #[test]
    fn the_seen_index_follows_logins_and_logouts() {
        let (mut accounts, alice) = with_alice();
        accounts.note_offline(&alice, 5);
        accounts.note_offline(&alice, 9);
        assert_eq!(accounts.seen_from(None).map(|(at, a)| (at, &*a.name)).collect::<Vec<_>>(), [(9, "alice")]);
        assert_eq!(accounts.seen_since(10), 0);
        accounts.note_online(&alice, 12);
        assert!(!accounts.seen_indexed(&alice));
        assert_eq!(accounts[&alice].last_seen_ms(), Some(12));
        assert_eq!(accounts.check(&crate::Config::default()), Ok(()));
    }
}
