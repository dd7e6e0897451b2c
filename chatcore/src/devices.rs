//! One account, several connections ("devices").
//!
//! A user logged in to an account may be connected several times at once
//! (`Config::max_sessions_per_account`), on any codec. Each connection is
//! a client of its own; what makes them one user:
//!
//! * The nickname index names the oldest connection (the account's first
//!   in `World::sessions_of`); when it leaves, the name passes to the next.
//! * A room has every connection of the account as a member, so that a
//!   broadcast reaches each, but the first to enter is the account's
//!   presence there and the others are extras (`Members::insert_extra`):
//!   lists, counts and limits show the account once, and its status
//!   (`+o`, `+v`) is the same on each.
//! * A join or a part by one connection is the account's: the others
//!   follow quietly (each is told, as a joiner is; the room hears of the
//!   account once), and a connection that logs in follows the account
//!   into its rooms. A connection that leaves while others stay is not
//!   announced.
//!
//! Guests have one connection each, as before.

use crate::client::Clients;
use crate::codec::Codec;
use crate::event::Event;
use crate::names::NameKey;
use crate::output::ClientId;
use crate::turn::Turn;
use crate::world::{Sessions, World};

/// The connections that reach the user of `id`: every connection of its
/// account, oldest first, or `id` alone for a guest. A free function so
/// that it can be called while a room is borrowed from the world.
pub(crate) fn connections(clients: &Clients, sessions: &Sessions, id: ClientId) -> Vec<ClientId> {
    match clients.get(&id).and_then(|c| c.account.as_ref()) {
        Some(account) if !sessions.of(account).is_empty() => sessions.of(account).to_vec(),
        _ => vec![id],
    }
}

impl World {
    /// The connections that reach the user of `id` (see [`connections`]).
    pub(crate) fn connections_of(&self, id: ClientId) -> Vec<ClientId> {
        connections(&self.clients, &self.sessions, id)
    }

    /// The other connections of `id`'s account, oldest first.
    pub(crate) fn other_devices(&self, id: ClientId) -> Vec<ClientId> {
        let Some(account) = self.clients.get(&id).and_then(|c| c.account.as_ref()) else { return Vec::new() };
        self.sessions_of(account).iter().copied().filter(|&d| d != id).collect()
    }

    /// The other connections of `id`'s account that are members of room `key`.
    pub(crate) fn devices_in(&self, id: ClientId, key: &NameKey) -> Vec<ClientId> {
        let Some(room) = self.rooms.get(key) else { return Vec::new() };
        self.other_devices(id).into_iter().filter(|&d| room.members.contains(d)).collect()
    }

    /// The rooms the account of `id` is in through its other connections,
    /// oldest connection's first, each once, then those it waits in with
    /// no connection (always-on): where a connection that logs in follows it.
    pub(crate) fn account_rooms(&mut self, id: ClientId) -> Vec<NameKey> {
        let mut rooms: Vec<NameKey> = Vec::new();
        for device in self.other_devices(id) {
            for key in self.clients.get(&device).map_or(&[][..], |c| &c.rooms) {
                if !rooms.contains(key) {
                    rooms.push(key.clone());
                }
            }
        }
        if let Some(account) = self.clients.get(&id).and_then(|c| c.account.clone()) {
            for key in self.absent_rooms(&account) {
                if !rooms.contains(&key) {
                    rooms.push(key);
                }
            }
        }
        rooms
    }

    /// A connection holding the name `key` left: `next`, the account's
    /// next connection if one remains, holds the name now.
    pub(crate) fn pass_name(&mut self, key: &NameKey, next: Option<ClientId>) {
        let Some(next) = next else { return };
        if self.names.is_taken(key) {
            return;
        }
        self.names.arrive(key.clone(), next);
        if self.clients.get(&next).is_some_and(|c| !c.rooms.is_empty()) {
            self.names.leave_lobby(key, next);
        }
    }
}

impl Turn<'_> {
    /// The client, just logged in to an account already connected
    /// elsewhere, takes the account's name without holding it in the
    /// name index (the oldest connection does): its guest name is free,
    /// and only it is told.
    pub(crate) fn become_device(&mut self, name: &str) {
        let (world, id) = (&mut *self.world, self.id);
        let Some(client) = world.clients.get_mut(&id) else { return };
        let old = std::mem::replace(&mut client.nick, name.into());
        let old_key = std::mem::replace(&mut client.nick_key, NameKey::of(name));
        let host = client.host.clone();
        world.names.depart(&old_key, id);
        world.blocks.carry(id, &old_key);
        self.tell(Event::NickChanged { old: &old, new: name, host: &host, you: true });
        self.world.release_if_unused(self.out, &old);
    }

    /// The client follows its account into room `key`, where another of
    /// its connections just went: it is told as a joiner is (the replay
    /// too), and nobody else hears of it. A text client, in one room at
    /// a time, steps out of the one it was in.
    pub(crate) fn follow_into(&mut self, key: &NameKey) {
        let id = self.id;
        let Some(client) = self.world.clients.get(&id) else { return };
        if client.is_in(key) {
            return;
        }
        if client.codec() == Codec::Text {
            for old in client.rooms.clone() {
                self.step_out(&old);
            }
        } else if client.rooms.len() >= self.world.config.max_rooms_per_client {
            // It cannot be in more rooms; the account still is, through the others.
            return;
        }
        let world = &mut *self.world;
        // An always-on account waiting in the room with no connection is
        // there again.
        if let Some(account) = world.clients.get(&id).and_then(|c| c.account.clone()) {
            world.clear_absent(&account, key);
        }
        let present = world.devices_in(id, key).first().copied();
        let Some((key, room)) = world.rooms.get_key_value(key) else { return };
        let key = key.clone();
        let status = present.map(|p| room.members.status(p)).unwrap_or_default();
        let (Some(client), Some(room)) = (world.clients.get(&id), world.rooms.get_mut(&key)) else { return };
        if present.is_some() {
            room.members.insert_extra(id, client.wire());
        } else {
            room.members.insert(id, client.wire());
        }
        room.members.set_status(id, status);
        room.empty_since_ms = None;
        let members = room.member_count();
        let joined = Event::Joined { room: &room.name, nick: &client.nick, host: &client.host, members, you: true };
        let welcome = client.render(&joined);
        world.add_membership(id, key.clone());
        self.replay_on_join(key, welcome);
    }

    /// The client leaves room `key` as one connection: quietly if another
    /// connection of its account stays in it, as a part otherwise.
    pub(crate) fn step_out(&mut self, key: &NameKey) {
        if self.world.devices_in(self.id, key).is_empty() {
            self.exit(key, None);
        } else {
            self.leave_quietly(key);
        }
    }

    /// The client leaves room `key`, told as a leaver is; nobody else is.
    pub(crate) fn leave_quietly(&mut self, key: &NameKey) {
        let (world, id) = (&*self.world, self.id);
        if let (Some(client), Some(room)) = (world.clients.get(&id), world.rooms.get(key)) {
            let left =
                Event::Left { room: &room.name, nick: &client.nick, host: &client.host, you: true, reason: None };
            self.out.send(id, client.render(&left));
        }
        self.remove_member(key, None);
    }

    /// A connection that just logged in to an account already connected
    /// elsewhere joins the account's rooms (quietly for the rooms).
    pub(crate) fn follow_account(&mut self) {
        let rooms = self.world.account_rooms(self.id);
        let text = self.world.clients.get(&self.id).is_some_and(|c| c.codec() == Codec::Text);
        // A text client is in one room: the current one of the oldest connection.
        let first = self.world.other_devices(self.id).first().and_then(|d| self.world.clients.get(d));
        let rooms = match (text, first.and_then(|c| c.current_room())) {
            (true, Some(current)) => vec![current.clone()],
            // The room it waited in (always-on), if any: the last one.
            (true, None) => rooms.last().cloned().into_iter().collect(),
            (false, _) => rooms,
        };
        for key in rooms {
            self.follow_into(&key);
        }
    }
}
