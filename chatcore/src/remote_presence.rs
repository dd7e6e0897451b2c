//! Presence across nodes: a local client's changes told to the other
//! nodes, and theirs told to local roommates as of a local user.

use std::collections::BTreeMap;

use crate::cluster::{ClusterRequest, PresenceChange};
use crate::event::Event;
use crate::names::{NameKey, validate_room};
use crate::outbox::Outbox;
use crate::output::{DisconnectReason, Output};
use crate::time::Now;
use crate::world::World;

impl World {
    /// Tells the other nodes of a local client's change, in cluster mode.
    pub(crate) fn announce(&self, out: &mut Outbox, change: impl FnOnce() -> PresenceChange) {
        if self.config.cluster {
            out.push(Output::Cluster(ClusterRequest::Presence(change())));
        }
    }

    /// Another node's user changed its presence: local roommates are told
    /// as of a local one's. What this node cannot apply is counted and
    /// ignored.
    pub(crate) fn remote_presence(&mut self, out: &mut Outbox, now: Now, change: PresenceChange) {
        let applied = match change {
            PresenceChange::Joined { room, nick, host } => self.remote_joined(out, &room, &nick, &host),
            PresenceChange::Left { room, nick, reason } => self.remote_left(out, now, &room, &nick, reason.as_deref()),
            PresenceChange::Quit { nick, reason } => self.remote_quit(out, now, &nick, &reason),
            PresenceChange::Renamed { old, new } => self.remote_renamed(out, &old, &new),
        };
        if !applied {
            self.counts.remote_presence_ignored += 1;
        }
    }

    fn remote_joined(&mut self, out: &mut Outbox, room: &str, nick: &str, host: &str) -> bool {
        // A local client may hold the name too, for a moment: the remote
        // user gave it up, this node was granted it and acted at once, and
        // the news of the giving up is still on its way here.
        let (room_key, key) = (NameKey::of(room), NameKey::of(nick));
        // A room not known here yet may be one whose creation is still on
        // its way (see `remote_records.rs`): its remote members wait for it.
        if !self.rooms.contains_key(&room_key) && validate_room(room, usize::MAX).is_err() {
            return false;
        }
        let (max_users, max_rooms) = (self.config.max_clients, self.config.max_rooms_per_client);
        if self.remote.join(key.clone(), nick, host, &room_key, max_users, max_rooms).is_err() {
            return false;
        }
        let Some(room) = self.rooms.get_mut(&room_key) else { return true };
        room.remote.insert(key);
        room.empty_since_ms = None;
        let members = room.member_count();
        let joined = Event::Joined { room: &room.name, nick, host, members, you: false };
        out.fanout(room.members.iter(), &joined);
        true
    }

    fn remote_left(&mut self, out: &mut Outbox, now: Now, room: &str, nick: &str, reason: Option<&str>) -> bool {
        let (room_key, key) = (NameKey::of(room), NameKey::of(nick));
        let host = match self.remote.get(&key) {
            Some(user) => user.host.clone(),
            None => return false,
        };
        if !self.remote.leave(&key, &room_key) {
            return false;
        }
        if let Some(room) = self.rooms.get_mut(&room_key) {
            room.remote.remove(&key);
            let left = Event::Left { room: &room.name, nick, host: &host, you: false, reason };
            out.fanout(room.members.iter(), &left);
        }
        self.rooms.note_if_vacated(out, now, &room_key, &self.config);
        true
    }

    fn remote_quit(&mut self, out: &mut Outbox, now: Now, nick: &str, reason: &DisconnectReason) -> bool {
        let Some(user) = self.remote.remove(&NameKey::of(nick)) else { return false };
        let key = NameKey::of(nick);
        let mut mates = BTreeMap::new();
        for room_key in &user.rooms {
            if let Some(room) = self.rooms.get_mut(room_key) {
                room.remote.remove(&key);
                mates.extend(room.members.iter());
            }
            self.rooms.note_if_vacated(out, now, room_key, &self.config);
        }
        out.fanout(mates, &Event::Disconnected { nick: &user.nick, host: &user.host, reason });
        true
    }

    fn remote_renamed(&mut self, out: &mut Outbox, old: &str, new: &str) -> bool {
        let (old_key, new_key) = (NameKey::of(old), NameKey::of(new));
        let held_remotely = new_key != old_key && self.remote.holds(&new_key);
        if held_remotely || !self.remote.holds(&old_key) {
            return false;
        }
        let Some(user) = self.remote.rename(&old_key, new_key.clone(), new) else { return false };
        let mut mates = BTreeMap::new();
        for room_key in &user.rooms {
            if let Some(room) = self.rooms.get_mut(room_key) {
                room.remote.remove(&old_key);
                room.remote.insert(new_key.clone());
                mates.extend(room.members.iter());
            }
        }
        out.fanout(mates, &Event::NickChanged { old, new, host: &user.host, you: false });
        true
    }
}
