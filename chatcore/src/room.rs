//! A room: its name, its members and its history.

use std::collections::BTreeSet;

use crate::ClientId;
use crate::codec::Wire;
use crate::history::History;
use crate::modes::RoomModes;
use crate::names::NameKey;

/// A member's standing in a room: an operator (`+o`) may change its modes
/// and kick; a voiced member (`+v`) may speak when it is moderated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Status {
    pub(crate) operator: bool,
    pub(crate) voice: bool,
}

/// A room's members with the wire each speaks and its status, sorted by
/// id so that a broadcast walks one contiguous array and renders once per
/// wire.
///
/// An account logged in on several connections ("devices") has each of
/// them here, so that a broadcast reaches every one; the first of them to
/// enter is its presence, the others are `extras`, which lists, counts and
/// the room's limit leave out: the account is shown once.
#[derive(Debug, Default)]
pub(crate) struct Members {
    sorted: Vec<(ClientId, Wire, Status)>,
    /// Extras and absent accounts, in the few rooms that have any.
    sparse: Option<Box<Sparse>>,
}

/// What only some rooms have, kept behind one pointer so that an empty
/// room pays for a pointer: an account's further connections, and the
/// always-on accounts absent from it.
#[derive(Debug, Default)]
struct Sparse {
    /// Members that are a further connection of an account present
    /// through another member.
    extras: BTreeSet<ClientId>,
    /// Always-on accounts in the room with no connection here, by account
    /// key (`always_on.rs`): shown as members, away, and sent nothing.
    absent: BTreeSet<NameKey>,
}

impl Members {
    /// Adds `id`; returns false if it was already a member.
    pub(crate) fn insert(&mut self, id: ClientId, wire: Wire) -> bool {
        match self.sorted.binary_search_by_key(&id, |m| m.0) {
            Ok(_) => false,
            Err(at) => {
                self.sorted.insert(at, (id, wire, Status::default()));
                true
            }
        }
    }

    /// A member's status; a non-member has none.
    pub(crate) fn status(&self, id: ClientId) -> Status {
        self.sorted.binary_search_by_key(&id, |m| m.0).map_or(Status::default(), |at| self.sorted[at].2)
    }

    pub(crate) fn set_status(&mut self, id: ClientId, status: Status) {
        if let Ok(at) = self.sorted.binary_search_by_key(&id, |m| m.0) {
            self.sorted[at].2 = status;
        }
    }

    /// Adds `id` as a further connection of an account already present
    /// through another member; returns false if it was already a member.
    pub(crate) fn insert_extra(&mut self, id: ClientId, wire: Wire) -> bool {
        if !self.insert(id, wire) {
            return false;
        }
        self.sparse.get_or_insert_with(Box::default).extras.insert(id);
        true
    }

    /// Whether `id` is a further connection of an account present through
    /// another member.
    pub(crate) fn is_extra(&self, id: ClientId) -> bool {
        self.sparse.as_ref().is_some_and(|s| s.extras.contains(&id))
    }

    /// Makes the extra `id` its account's presence: the member that was
    /// left.
    pub(crate) fn promote(&mut self, id: ClientId) {
        self.change_sparse(|s| s.extras.remove(&id));
    }

    /// Removes `id`; returns false if it was not a member.
    pub(crate) fn remove(&mut self, id: ClientId) -> bool {
        match self.sorted.binary_search_by_key(&id, |m| m.0) {
            Ok(at) => {
                self.sorted.remove(at);
                self.promote(id);
                true
            }
            Err(_) => false,
        }
    }

    /// How many users it has here: its members, each account once.
    pub(crate) fn people(&self) -> usize {
        self.sorted.len() - self.sparse.as_ref().map_or(0, |s| s.extras.len())
    }

    /// Changes the sparse part, and lets it go when it is empty again.
    fn change_sparse(&mut self, change: impl FnOnce(&mut Sparse) -> bool) -> bool {
        let Some(sparse) = &mut self.sparse else { return false };
        let changed = change(sparse);
        if sparse.extras.is_empty() && sparse.absent.is_empty() {
            self.sparse = None;
        }
        changed
    }

    /// Notes that the always-on account `key` is in the room with no connection.
    pub(crate) fn add_absent(&mut self, key: NameKey) {
        self.sparse.get_or_insert_with(Box::default).absent.insert(key);
    }

    /// The account `key` is no longer absent from the room.
    pub(crate) fn remove_absent(&mut self, key: &NameKey) {
        self.change_sparse(|s| s.absent.remove(key));
    }

    /// Whether the always-on account `key` is in the room with no connection.
    pub(crate) fn is_absent(&self, key: &NameKey) -> bool {
        self.sparse.as_ref().is_some_and(|s| s.absent.contains(key))
    }

    /// The always-on accounts in the room with no connection, by key.
    pub(crate) fn absent(&self) -> impl Iterator<Item = &NameKey> {
        self.sparse.iter().flat_map(|s| s.absent.iter())
    }

    /// How many always-on accounts are in the room with no connection.
    pub(crate) fn absent_len(&self) -> usize {
        self.sparse.as_ref().map_or(0, |s| s.absent.len())
    }

    /// Its members, each account once (by its presence), as lists show them.
    pub(crate) fn present(&self) -> impl Iterator<Item = (ClientId, Wire)> + '_ {
        self.iter().filter(|(id, _)| !self.is_extra(*id))
    }

    /// Updates the wire of a member whose IRC tags changed.
    pub(crate) fn set_wire(&mut self, id: ClientId, wire: Wire) {
        if let Ok(at) = self.sorted.binary_search_by_key(&id, |m| m.0) {
            self.sorted[at].1 = wire;
        }
    }

    pub(crate) fn contains(&self, id: ClientId) -> bool {
        self.sorted.binary_search_by_key(&id, |m| m.0).is_ok()
    }

    pub(crate) fn len(&self) -> usize {
        self.sorted.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (ClientId, Wire)> + '_ {
        self.sorted.iter().map(|&(id, wire, _)| (id, wire))
    }

    /// The members' ids but `except`'s, sorted: copied as two runs, the
    /// members before it and those after.
    pub(crate) fn ids_except(&self, except: Option<ClientId>) -> Vec<ClientId> {
        let at = except.and_then(|id| self.sorted.binary_search_by_key(&id, |m| m.0).ok());
        let (before, after) = match at {
            Some(at) => (&self.sorted[..at], &self.sorted[at + 1..]),
            None => (&self.sorted[..], &[][..]),
        };
        let mut ids = Vec::with_capacity(before.len() + after.len());
        ids.extend(before.iter().map(|&(id, _, _)| id));
        ids.extend(after.iter().map(|&(id, _, _)| id));
        ids
    }

    /// The wire every member speaks, if they all speak one (most rooms);
    /// `None` for an empty room.
    pub(crate) fn one_wire(&self) -> Option<Wire> {
        let ((_, wire, _), rest) = self.sorted.split_first()?;
        // A fold, not `all`: without an early exit the compiler checks
        // several members per instruction.
        rest.iter().fold(true, |same, m| same & (m.1 == *wire)).then_some(*wire)
    }
}

/// One chat room.
#[derive(Debug)]
pub(crate) struct Room {
    /// The name as its creator spelled it.
    pub(crate) name: Box<str>,
    pub(crate) members: Members,
    pub(crate) history: History,
    /// The number the next message will get; messages are numbered 1, 2, ...
    pub(crate) next_seq: u64,
    /// The account that created it, which may drop it; `None`: a guest's.
    pub(crate) owner: Option<NameKey>,
    /// While it has no members: since when (wall clock), for expiry.
    pub(crate) empty_since_ms: Option<u64>,
    /// What the room is about, shown to everyone who joins.
    pub(crate) topic: Option<Topic>,
    pub(crate) modes: RoomModes,
    /// Other nodes' users in it, by name (cluster mode only; see `cluster`).
    pub(crate) remote: BTreeSet<NameKey>,
}

/// A room's topic, who set it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Topic {
    pub(crate) text: Box<str>,
    pub(crate) set_by: Box<str>,
    pub(crate) unix_ms: u64,
}

impl Room {
    pub(crate) fn new(name: &str, owner: Option<NameKey>, empty_since_ms: Option<u64>) -> Self {
        let owner_is_some = owner.is_some();
        Self {
            name: name.into(),
            members: Members::default(),
            history: History::default(),
            next_seq: 1,
            owner,
            empty_since_ms,
            topic: None,
            modes: RoomModes::new(owner_is_some),
            remote: BTreeSet::new(),
        }
    }

    /// Its members, local and (in cluster mode) on other nodes.
    pub(crate) fn member_count(&self) -> usize {
        self.members.people() + self.remote.len() + self.members.absent_len()
    }

    /// Whether anyone connected is in it, here or on another node: an
    /// always-on account with no connection does not keep a room from
    /// going idle and expiring.
    pub(crate) fn occupied(&self) -> bool {
        self.members.len() + self.remote.len() > 0
    }

    /// How long it may stay empty before it expires.
    pub(crate) fn idle_expiry(&self, config: &crate::Config) -> std::time::Duration {
        if self.owner.is_some() { config.room_idle_expiry } else { config.guest_room_idle_expiry }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_stay_sorted_and_unique() {
        let mut m = Members::default();
        assert!(m.insert(ClientId(3), Wire::Text));
        assert!(m.insert(ClientId(1), Wire::Text));
        assert!(!m.insert(ClientId(3), Wire::Text));
        assert!(m.insert(ClientId(2), Wire::Text));
        let ids: Vec<u64> = m.iter().map(|(id, _)| id.0).collect();
        assert_eq!(ids, [1, 2, 3]);
        assert!(m.remove(ClientId(2)));
        assert!(!m.remove(ClientId(2)));
        assert!(!m.contains(ClientId(2)));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn ids_leave_out_only_the_member_named() {
        let mut m = Members::default();
        for id in [4, 1, 3, 2] {
            m.insert(ClientId(id), Wire::Text);
        }
        let ids =
            |except: Option<u64>| -> Vec<u64> { m.ids_except(except.map(ClientId)).iter().map(|id| id.0).collect() };
        assert_eq!(ids(None), [1, 2, 3, 4]);
        assert_eq!(ids(Some(1)), [2, 3, 4]);
        assert_eq!(ids(Some(3)), [1, 2, 4]);
        assert_eq!(ids(Some(4)), [1, 2, 3]);
        assert_eq!(ids(Some(9)), [1, 2, 3, 4]);
    }

    #[test]
    fn one_wire_only_while_every_member_speaks_it() {
        let mut m = Members::default();
        assert_eq!(m.one_wire(), None);
        m.insert(ClientId(1), Wire::Text);
        m.insert(ClientId(2), Wire::Text);
        assert_eq!(m.one_wire(), Some(Wire::Text));
        let tagged = Wire::Irc(crate::codec::irc::render::Tagging { time: true, msgid: false });
        m.insert(ClientId(3), tagged);
        assert_eq!(m.one_wire(), None);
        m.set_wire(ClientId(3), Wire::Irc(crate::codec::irc::render::Tagging::NONE));
        assert_eq!(m.one_wire(), None, "IRC without tags is still not text");
        m.set_wire(ClientId(3), Wire::Text);
        assert_eq!(m.one_wire(), Some(Wire::Text));
        m.set_wire(ClientId(1), tagged);
        m.set_wire(ClientId(2), tagged);
        m.set_wire(ClientId(3), Wire::Irc(crate::codec::irc::render::Tagging { time: false, msgid: true }));
        assert_eq!(m.one_wire(), None, "IRC clients with different tags are on different wires");
        m.remove(ClientId(3));
        assert_eq!(m.one_wire(), Some(tagged));
    }
}
