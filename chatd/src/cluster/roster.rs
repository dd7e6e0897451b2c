//! Who is in which room, as a node must know it to speak for its users
//! and for the users of a node that died: its own users' whole presence
//! (the engine only says what changed, but a presence payload states the
//! whole), and each other node's users, so that when a node's lease lapses
//! its users can be announced as gone.

use std::collections::{BTreeSet, HashMap};

use chatcore::{NameKey, PresenceChange};

use super::wire::UserState;

/// One user's rooms and how it is shown.
#[derive(Debug, Clone, Default)]
struct Entry {
    nick: String,
    host: String,
    /// Room keys to the rooms' names as joined.
    rooms: HashMap<String, String>,
}

impl Entry {
    fn state(&self) -> UserState {
        let rooms: BTreeSet<&String> = self.rooms.values().collect();
        UserState { nick: self.nick.clone(), host: self.host.clone(), rooms: rooms.into_iter().cloned().collect() }
    }
}

fn key(name: &str) -> String {
    NameKey::of(name).as_str().to_owned()
}

/// The users of one node, by name key.
#[derive(Debug, Default)]
pub(crate) struct Roster {
    users: HashMap<String, Entry>,
}

/// What a change did to a roster: the user it is about now, with its
/// whole state, and for a rename the name it gave up.
#[derive(Debug)]
pub(crate) struct Applied {
    /// The user's key (its name now) and state; no rooms left means the
    /// user is gone from the roster.
    pub(crate) key: String,
    pub(crate) state: UserState,
    /// The key the user had before a rename.
    pub(crate) renamed_from: Option<String>,
}

impl Roster {
    /// Applies `change`; `None` when it is about a user this roster does
    /// not have (a part or quit of someone never seen in a room).
    pub(crate) fn apply(&mut self, change: &PresenceChange) -> Option<Applied> {
        match change {
            PresenceChange::Joined { room, nick, host } => {
                let entry = self.users.entry(key(nick)).or_default();
                entry.nick = nick.to_string();
                entry.host = host.to_string();
                entry.rooms.insert(key(room), room.to_string());
                Some(self.settle(key(nick), None))
            }
            PresenceChange::Left { room, nick, .. } => {
                self.users.get_mut(&key(nick))?.rooms.remove(&key(room));
                Some(self.settle(key(nick), None))
            }
            PresenceChange::Quit { nick, .. } => {
                self.users.get_mut(&key(nick))?.rooms.clear();
                Some(self.settle(key(nick), None))
            }
            PresenceChange::Renamed { old, new } => {
                let mut entry = self.users.remove(&key(old))?;
                entry.nick = new.to_string();
                self.users.insert(key(new), entry);
                Some(self.settle(key(new), Some(key(old))))
            }
        }
    }

    /// The applied change's outcome; a user left in no room is dropped.
    fn settle(&mut self, key: String, renamed_from: Option<String>) -> Applied {
        let state = self.users.get(&key).map(Entry::state).unwrap_or_default();
        if state.rooms.is_empty() {
            self.users.remove(&key);
        }
        Applied { key, state, renamed_from }
    }

    /// Sets a user's whole state, as a snapshot or a bulletin states it;
    /// the changes a node that had another view must apply to match it.
    pub(crate) fn replace(&mut self, state: &UserState) -> Vec<PresenceChange> {
        let user = key(&state.nick);
        let before = self.users.remove(&user).unwrap_or_default();
        let mut changes = Vec::new();
        let now: HashMap<String, String> = state.rooms.iter().map(|room| (key(room), room.clone())).collect();
        for (room_key, room) in &before.rooms {
            if !now.contains_key(room_key) {
                changes.push(PresenceChange::Left {
                    room: room.as_str().into(),
                    nick: state.nick.as_str().into(),
                    reason: None,
                });
            }
        }
        for (room_key, room) in &now {
            if !before.rooms.contains_key(room_key) {
                changes.push(PresenceChange::Joined {
                    room: room.as_str().into(),
                    nick: state.nick.as_str().into(),
                    host: state.host.as_str().into(),
                });
            }
        }
        if !now.is_empty() {
            self.users.insert(user, Entry { nick: state.nick.clone(), host: state.host.clone(), rooms: now });
        }
        changes
    }

    /// Every user's state, to announce them all again (after Redis lost them).
    pub(crate) fn states(&self) -> impl Iterator<Item = (&str, UserState)> {
        self.users.iter().map(|(key, entry)| (key.as_str(), entry.state()))
    }

    /// Empties the roster; the nicknames that were in it.
    pub(crate) fn clear(&mut self) -> Vec<String> {
        self.users.drain().map(|(_, entry)| entry.nick).collect()
    }

    /// Whether a user of this name is here.
    pub(crate) fn has(&self, nick: &str) -> bool {
        self.users.contains_key(&key(nick))
    }
}

/// Every other node's roster.
#[derive(Debug, Default)]
pub(crate) struct Remote {
    nodes: HashMap<String, Roster>,
}

impl Remote {
    pub(crate) fn node(&mut self, node: &str) -> &mut Roster {
        self.nodes.entry(node.to_owned()).or_default()
    }

    /// Forgets a node; the nicknames its users had.
    pub(crate) fn forget(&mut self, node: &str) -> Vec<String> {
        self.nodes.remove(node).map(|mut roster| roster.clear()).unwrap_or_default()
    }

    /// The node a user of another node is on.
    pub(crate) fn node_of(&self, nick: &str) -> Option<&str> {
        self.nodes.iter().find(|(_, roster)| roster.has(nick)).map(|(node, _)| node.as_str())
    }
}

#[cfg(test)]
mod tests {
    use chatcore::{DisconnectReason, PresenceChange};

    use super::{Remote, Roster};
    use crate::cluster::wire::UserState;

    fn joined(room: &str, nick: &str) -> PresenceChange {
        PresenceChange::Joined { room: room.into(), nick: nick.into(), host: "h".into() }
    }

    #[test]
    fn a_roster_states_each_users_whole_presence_after_each_change() {
        let mut roster = Roster::default();
        roster.apply(&joined("Rust", "alice"));
        let applied = roster.apply(&joined("go", "Alice")).unwrap();
        assert_eq!(applied.state.rooms, ["Rust", "go"]);
        let renamed = roster.apply(&PresenceChange::Renamed { old: "alice".into(), new: "al".into() }).unwrap();
        assert_eq!((renamed.key.as_str(), renamed.renamed_from.as_deref()), ("al", Some("alice")));
        assert_eq!(renamed.state.nick, "al");
        let left = roster.apply(&PresenceChange::Left { room: "RUST".into(), nick: "al".into(), reason: None });
        assert_eq!(left.unwrap().state.rooms, ["go"]);
        let quit = roster.apply(&PresenceChange::Quit { nick: "al".into(), reason: DisconnectReason::IdleTimeout });
        assert!(quit.unwrap().state.rooms.is_empty());
        assert!(!roster.has("al"));
        assert!(
            roster.apply(&PresenceChange::Quit { nick: "bob".into(), reason: DisconnectReason::IdleTimeout }).is_none()
        );
    }

    #[test]
    fn replacing_a_state_yields_the_changes_that_reach_it_and_a_gone_node_its_users() {
        let mut remote = Remote::default();
        let state = |rooms: &[&str]| UserState {
            nick: "bob".into(),
            host: "h".into(),
            rooms: rooms.iter().map(|room| (*room).to_owned()).collect(),
        };
        assert_eq!(remote.node("n2").replace(&state(&["a", "b"])).len(), 2);
        let changes = remote.node("n2").replace(&state(&["b", "c"]));
        assert!(changes.contains(&PresenceChange::Left { room: "a".into(), nick: "bob".into(), reason: None }));
        assert!(changes.contains(&joined("c", "bob")));
        assert_eq!(changes.len(), 2);
        assert_eq!(remote.node_of("BOB"), Some("n2"));
        assert_eq!(remote.forget("n2"), ["bob"]);
        assert_eq!(remote.node_of("bob"), None);
    }
}
