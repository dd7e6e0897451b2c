//! The name table: every client by nickname, and the Lobby (the clients
//! in no room) by nickname too, both in name order so that `/users` and
//! the Lobby's `/who` read a range instead of sorting everyone. The two
//! move together: a client is named once when it connects, renamed in
//! both at once, and leaves both when it goes, so the Lobby never names a
//! client the nickname table does not.

use std::collections::BTreeMap;

use crate::names::{NameKey, from_name};
use crate::output::ClientId;

/// Every connected client by nickname, and the Lobby's clients likewise.
#[derive(Debug)]
pub(crate) struct Names {
    /// Every client by nickname.
    nicks: BTreeMap<NameKey, ClientId>,
    /// The clients in no room, by nickname: a subset of `nicks`.
    lobby: BTreeMap<NameKey, ClientId>,
    /// The number the next guest name is tried with.
    next_guest: u64,
}

impl Default for Names {
    fn default() -> Self {
        Self { nicks: BTreeMap::new(), lobby: BTreeMap::new(), next_guest: 1 }
    }
}

impl Names {
    /// A `Guest<N>` name nobody holds, nor is `also_taken` (in a cluster:
    /// claimed or held elsewhere), numbered on from the last one given.
    pub(crate) fn fresh_guest_name(&mut self, also_taken: impl Fn(&NameKey) -> bool) -> Box<str> {
        loop {
            let name = format!("Guest{}", self.next_guest);
            self.next_guest += 1;
            let key = NameKey::of(&name);
            if !self.is_taken(&key) && !also_taken(&key) {
                return name.into();
            }
        }
    }

    /// Moves guest numbering well past the number just refused by the
    /// cluster: another node has been numbering its guests from 1 too, so
    /// the numbers right after a refused one are most likely taken as
    /// well. Quadrupling finds free numbers within
    /// [`MAX_GUEST_ATTEMPTS`](crate::cluster::MAX_GUEST_ATTEMPTS) tries
    /// even when other nodes hold thousands of guests.
    pub(crate) fn skip_guests_after_refusal(&mut self) {
        self.next_guest = self.next_guest.saturating_mul(4);
    }

    /// Who holds the nickname `key`, if anyone.
    pub(crate) fn holder(&self, key: &NameKey) -> Option<ClientId> {
        self.nicks.get(key).copied()
    }

    /// Whether someone holds the nickname `key`.
    pub(crate) fn is_taken(&self, key: &NameKey) -> bool {
        self.nicks.contains_key(key)
    }

    /// How many clients are named: every connected client.
    pub(crate) fn len(&self) -> usize {
        self.nicks.len()
    }

    /// How many clients are in the Lobby.
    pub(crate) fn lobby_len(&self) -> usize {
        self.lobby.len()
    }

    /// The Lobby's clients in name order.
    pub(crate) fn lobby(&self) -> impl Iterator<Item = ClientId> + '_ {
        self.lobby.values().copied()
    }

    /// Every client in name order, from the name `from` on.
    pub(crate) fn from(&self, from: Option<&str>) -> impl Iterator<Item = ClientId> + '_ {
        name_range(&self.nicks, from)
    }

    /// The Lobby's clients in name order, from the name `from` on.
    pub(crate) fn lobby_from(&self, from: Option<&str>) -> impl Iterator<Item = ClientId> + '_ {
        name_range(&self.lobby, from)
    }

    /// A new client named `key`: in no room yet, so in the Lobby.
    pub(crate) fn arrive(&mut self, key: NameKey, id: ClientId) {
        self.nicks.insert(key.clone(), id);
        self.lobby.insert(key, id);
    }

    /// A client named `key` is gone: its name is free.
    pub(crate) fn depart(&mut self, key: &NameKey, id: ClientId) {
        remove_if_held(&mut self.nicks, key, id);
        remove_if_held(&mut self.lobby, key, id);
    }

    /// A client's name changes from `old` to `new`, in the Lobby too if
    /// it is there.
    pub(crate) fn rename(&mut self, id: ClientId, old: &NameKey, new: NameKey) {
        remove_if_held(&mut self.nicks, old, id);
        if remove_if_held(&mut self.lobby, old, id) {
            self.lobby.insert(new.clone(), id);
        }
        self.nicks.insert(new, id);
    }

    /// The client named `key` went into its first room.
    pub(crate) fn leave_lobby(&mut self, key: &NameKey, id: ClientId) {
        remove_if_held(&mut self.lobby, key, id);
    }

    /// The client named `key` left its last room. It must hold the name.
    pub(crate) fn enter_lobby(&mut self, key: &NameKey, id: ClientId) {
        if self.nicks.get(key) == Some(&id) {
            self.lobby.insert(key.clone(), id);
        }
    }

    /// Whether the client named `key` is in the Lobby.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn in_lobby(&self, key: &NameKey, id: ClientId) -> bool {
        self.lobby.get(key) == Some(&id)
    }

    /// Every name and its holder, in name order.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&NameKey, ClientId)> {
        self.nicks.iter().map(|(key, id)| (key, *id))
    }

    /// The Lobby's names and their holders, in name order.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn lobby_entries(&self) -> impl Iterator<Item = (&NameKey, ClientId)> {
        self.lobby.iter().map(|(key, id)| (key, *id))
    }

    /// The table's own rule: the Lobby names only clients the nickname
    /// table names, under the same name.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn check(&self) -> Result<(), crate::invariant_violation::InvariantViolation> {
        match self.lobby.iter().find(|(key, id)| self.nicks.get(*key) != Some(*id)) {
            Some((_, &client)) => Err(crate::invariant_violation::InvariantViolation::LobbyIndex { client }),
            None => Ok(()),
        }
    }

    /// Names `key` as `id`'s without the Lobby, as a broken engine might,
    /// for the tests that show the checks catch it.
    #[cfg(test)]
    pub(crate) fn insert_unchecked(&mut self, key: NameKey, id: ClientId) {
        self.nicks.insert(key, id);
    }
}

/// Removes `key` from `map` if `id` holds it; whether it did.
fn remove_if_held(map: &mut BTreeMap<NameKey, ClientId>, key: &NameKey, id: ClientId) -> bool {
    let held = map.get(key) == Some(&id);
    if held {
        map.remove(key);
    }
    held
}

/// The values of `map` from the name `from` on, in name order.
fn name_range<'a>(map: &'a BTreeMap<NameKey, ClientId>, from: Option<&str>) -> impl Iterator<Item = ClientId> + 'a {
    from_name(map, from).map(|(_, id)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> NameKey {
        NameKey::of(name)
    }

    #[test]
    fn a_rename_moves_the_lobby_entry_with_the_name() {
        let mut names = Names::default();
        names.arrive(key("alice"), ClientId(1));
        names.arrive(key("bob"), ClientId(2));
        names.leave_lobby(&key("bob"), ClientId(2));
        names.rename(ClientId(1), &key("alice"), key("carol"));
        names.rename(ClientId(2), &key("bob"), key("dave"));
        assert_eq!(names.holder(&key("alice")), None);
        assert_eq!(names.holder(&key("carol")), Some(ClientId(1)));
        assert_eq!(names.lobby_entries().collect::<Vec<_>>(), [(&key("carol"), ClientId(1))]);
        assert_eq!(names.from(Some("d")).collect::<Vec<_>>(), [ClientId(2)]);
        assert_eq!(names.check(), Ok(()));
    }

    #[test]
    fn a_departure_frees_the_name_in_both_tables_and_nobody_elses() {
        let mut names = Names::default();
        names.arrive(key("alice"), ClientId(1));
        names.depart(&key("alice"), ClientId(2));
        assert_eq!(names.holder(&key("alice")), Some(ClientId(1)));
        names.depart(&key("alice"), ClientId(1));
        assert_eq!((names.len(), names.lobby_len()), (0, 0));
        names.enter_lobby(&key("alice"), ClientId(1));
        assert_eq!(names.lobby_len(), 0, "a name nobody holds is not in the Lobby");
    }

    #[test]
    fn a_guest_name_is_never_one_someone_holds() {
        let mut names = Names::default();
        names.arrive(key("guest2"), ClientId(1));
        assert_eq!(&*names.fresh_guest_name(|_| false), "Guest1");
        assert_eq!(&*names.fresh_guest_name(|key| *key == NameKey::of("guest3")), "Guest4");
    }

    #[test]
    fn the_check_catches_a_lobby_entry_the_nick_table_lacks() {
        let mut names = Names::default();
        names.lobby.insert(key("ghost"), ClientId(7));
        assert_eq!(
            names.check(),
            Err(crate::invariant_violation::InvariantViolation::LobbyIndex { client: ClientId(7) })
        );
    }
}
