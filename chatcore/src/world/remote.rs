//! Other nodes' users who are in a room, as their nodes told: each by
//! name, with its host and its rooms. A room keeps the names of its remote
//! members itself (`Room::remote`), so that its counts and lists read one
//! place; this table is what a quit or a rename walks, and what a local
//! `/nick` is checked against. A user may be in a room this node does
//! not have yet (its creation is on its way): the room takes it as a
//! member once it is created.

use std::collections::BTreeMap;

use crate::names::{NameKey, from_name};

/// One remote user: how it is shown and the rooms it is in here.
#[derive(Debug)]
pub(crate) struct RemoteUser {
    pub(crate) nick: Box<str>,
    pub(crate) host: Box<str>,
    /// Rooms it is in, in the order it joined them; at most
    /// `max_rooms_per_client`.
    pub(crate) rooms: Vec<NameKey>,
}

/// Every remote user in a room, by name: at most `max_clients`.
#[derive(Debug, Default)]
pub(crate) struct Remote {
    users: BTreeMap<NameKey, RemoteUser>,
}

/// Why a remote join was not taken.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JoinRefused {
    /// It is in the room already.
    Already,
    /// Taking it would pass `max_clients` users or `max_rooms_per_client` rooms.
    Full,
}

impl Remote {
    pub(crate) fn get(&self, key: &NameKey) -> Option<&RemoteUser> {
        self.users.get(key)
    }

    /// Whether a remote user holds the name `key`.
    pub(crate) fn holds(&self, key: &NameKey) -> bool {
        self.users.contains_key(key)
    }

    /// Remote users known.
    pub(crate) fn len(&self) -> usize {
        self.users.len()
    }

    /// Every remote user in name order, from the name `from` on.
    pub(crate) fn from(&self, from: Option<&str>) -> impl Iterator<Item = &RemoteUser> + '_ {
        from_name(&self.users, from).map(|(_, user)| user)
    }

    /// `nick` (known as `key`) is in `room` now, within the bounds.
    pub(crate) fn join(
        &mut self,
        key: NameKey,
        nick: &str,
        host: &str,
        room: &NameKey,
        max_users: usize,
        max_rooms: usize,
    ) -> Result<(), JoinRefused> {
        let known = self.users.len();
        let user = match self.users.entry(key) {
            std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::btree_map::Entry::Vacant(_) if known >= max_users => return Err(JoinRefused::Full),
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(RemoteUser { nick: nick.into(), host: host.into(), rooms: Vec::new() })
            }
        };
        if user.rooms.contains(room) {
            return Err(JoinRefused::Already);
        }
        if user.rooms.len() >= max_rooms.max(1) {
            return Err(JoinRefused::Full);
        }
        user.host = host.into();
        user.rooms.push(room.clone());
        Ok(())
    }

    /// `key` left `room`; whether it was in it. A user in no room is
    /// forgotten.
    pub(crate) fn leave(&mut self, key: &NameKey, room: &NameKey) -> bool {
        let Some(user) = self.users.get_mut(key) else { return false };
        let Some(at) = user.rooms.iter().position(|r| r == room) else { return false };
        user.rooms.remove(at);
        if user.rooms.is_empty() {
            self.users.remove(key);
        }
        true
    }

    /// `key` left the server: the user, if known.
    pub(crate) fn remove(&mut self, key: &NameKey) -> Option<RemoteUser> {
        self.users.remove(key)
    }

    /// The user `old` is named `new` now (a name no one else holds).
    pub(crate) fn rename(&mut self, old: &NameKey, new: NameKey, nick: &str) -> Option<&RemoteUser> {
        let mut user = self.users.remove(old)?;
        user.nick = nick.into();
        Some(self.users.entry(new).or_insert(user))
    }

    /// The remote users in `room`: for a room created here after they
    /// joined it elsewhere. A walk of every remote user, as rooms are
    /// created seldom.
    pub(crate) fn in_room<'a>(&'a self, room: &'a NameKey) -> impl Iterator<Item = NameKey> + 'a {
        self.users.iter().filter(|(_, user)| user.rooms.contains(room)).map(|(key, _)| key.clone())
    }

    /// Every remote user and the rooms it is in.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&NameKey, &RemoteUser)> {
        self.users.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> NameKey {
        NameKey::of(name)
    }

    #[test]
    fn a_remote_user_is_known_while_in_a_room_and_within_the_bounds() {
        let mut remote = Remote::default();
        assert_eq!(remote.join(key("ann"), "Ann", "h", &key("r1"), 1, 2), Ok(()));
        assert_eq!(remote.join(key("ann"), "Ann", "h", &key("r1"), 1, 2), Err(JoinRefused::Already));
        assert_eq!(remote.join(key("bob"), "bob", "h", &key("r1"), 1, 2), Err(JoinRefused::Full), "one user at most");
        assert_eq!(remote.join(key("ann"), "Ann", "h", &key("r2"), 1, 2), Ok(()));
        assert_eq!(remote.join(key("ann"), "Ann", "h", &key("r3"), 1, 2), Err(JoinRefused::Full), "two rooms at most");
        assert!(remote.leave(&key("ann"), &key("r1")));
        assert!(!remote.leave(&key("ann"), &key("r1")), "not in it any more");
        assert!(remote.holds(&key("ANN")));
        assert!(remote.leave(&key("ann"), &key("r2")));
        assert!(!remote.holds(&key("ann")), "in no room, it is forgotten");
    }

    #[test]
    fn a_rename_keeps_the_rooms_under_the_new_name() {
        let mut remote = Remote::default();
        remote.join(key("ann"), "ann", "h", &key("r1"), 9, 9).unwrap();
        let renamed = remote.rename(&key("ann"), key("bea"), "Bea").map(|u| (u.nick.clone(), u.rooms.clone()));
        assert_eq!(renamed, Some(("Bea".into(), vec![key("r1")])));
        assert!(!remote.holds(&key("ann")));
        assert_eq!(remote.from(Some("b")).map(|u| &*u.nick).collect::<Vec<_>>(), ["Bea"]);
    }
}
