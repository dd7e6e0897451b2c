//! What must hold between any two inputs, checked by
//! [`Engine::check_invariants`]. Available with the `testing` cargo feature
//! (off by default) for tests, fuzzers and benches. Each of the world's
//! parts checks its own rules (`check` in `world/*.rs`); what is checked
//! here spans parts: the clients against the name table, the rooms, the
//! block index, the timers and the password checks under way.

use std::collections::BTreeSet;

#[cfg(doc)]
use crate::Engine;
use crate::codec::Codec;
use crate::invariant_violation::InvariantViolation;
use crate::names::NameKey;
use crate::world::World;

impl World {
    /// See [`Engine::check_invariants`](crate::Engine::check_invariants).
    pub(crate) fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.check_limits()?;
        self.check_clients()?;
        self.check_indexes()?;
        self.check_rooms()?;
        self.check_cluster()?;
        self.check_markers()?;
        self.check_gaps()
    }

    fn check_limits(&self) -> Result<(), InvariantViolation> {
        use InvariantViolation as V;
        let config = &self.config;
        if self.clients.len() > config.max_clients {
            return Err(V::TooManyClients { count: self.clients.len(), max: config.max_clients });
        }
        if self.rooms.len() > config.max_rooms {
            return Err(V::TooManyRoomsExist { count: self.rooms.len(), max: config.max_rooms });
        }
        self.accounts.check(config)?;
        self.logins.check(config)?;
        self.tokens.check()?;
        self.check_visitors()?;
        self.clients.check()
    }

    /// LUSERS's counts against the clients connected: every client is a
    /// user but an IRC client not yet welcomed, which is registering.
    fn check_visitors(&self) -> Result<(), InvariantViolation> {
        let visitors = &self.visitors;
        visitors.check()?;
        let unwelcomed = self.clients.values().filter(|c| c.irc.as_ref().is_some_and(|s| !s.registered)).count();
        let connected = self.clients.len();
        if visitors.registering() != unwelcomed || visitors.users() + visitors.registering() != connected {
            let (users, registering) = (visitors.users(), visitors.registering());
            return Err(InvariantViolation::VisitorCount { users, registering, connected, unwelcomed });
        }
        Ok(())
    }

    /// Each client on its own: nickname, account, rooms, deadlines, auth.
    fn check_clients(&self) -> Result<(), InvariantViolation> {
        use InvariantViolation as V;
        let config = &self.config;
        for (&id, client) in &self.clients {
            let nick = || client.nick.to_string();
            if client.nick_key != NameKey::of(&client.nick) {
                return Err(V::NickKeyMismatch { client: id, nick: nick(), key: client.nick_key.to_string() });
            }
            let indexed = self.names.holder(&client.nick_key);
            // An account's name is held by its oldest connection; the
            // others share it.
            let holder = match &client.account {
                Some(key) => self.sessions.of(key).first().copied(),
                None => Some(id),
            };
            if indexed.is_none() || indexed != holder {
                return Err(V::NickNotIndexed { client: id, nick: nick(), indexed });
            }
            if let Some(key) = &client.account
                && (*key != client.nick_key || self.accounts.get(key).is_none_or(|a| *a.name != *client.nick))
            {
                return Err(V::AccountMismatch { client: id, account: key.to_string() });
            }
            if let Some(key) = &client.account
                && !self.sessions.of(key).contains(&id)
            {
                return Err(V::AccountMismatch { client: id, account: key.to_string() });
            }
            let mut seen = BTreeSet::new();
            for key in &client.rooms {
                let room = || key.to_string();
                if !seen.insert(key) {
                    return Err(V::DuplicateMembership { client: id, room: room() });
                }
                let Some(r) = self.rooms.get(key) else {
                    return Err(V::MissingRoom { client: id, room: room() });
                };
                if !r.members.contains(id) {
                    return Err(V::NotAMember { client: id, room: room() });
                }
            }
            if client.codec() == Codec::Text && client.rooms.len() > 1 {
                return Err(V::TextInSeveralRooms { client: id, rooms: client.rooms.len() });
            }
            if client.codec() != Codec::Text && client.rooms.len() > config.max_rooms_per_client {
                return Err(V::TooManyRooms {
                    client: id,
                    rooms: client.rooms.len(),
                    max: config.max_rooms_per_client,
                });
            }
            // The armed timer may fire early (it then re-arms), never late.
            let timer_ok = match (client.timer, client.next_deadline(config)) {
                (Some(at), due) => self.timers.is_armed(at, id) && due.is_none_or(|(due, _)| at <= due),
                (None, due) => due.is_none(),
            };
            // An IRC client registers with its welcome, not with its first line.
            let registered = client.irc.as_ref().map_or(client.codec_chosen(), |session| session.registered);
            let spoke = !config.require_login && registered && client.registration_deadline.is_some();
            if !timer_ok || spoke {
                return Err(V::DeadlineMismatch { client: id });
            }
            let auth_ok =
                client.auth_pending.is_none_or(|request| self.logins.pending(request).is_some_and(|p| p.client == id));
            if !auth_ok {
                return Err(V::AuthMismatch { client: id });
            }
            if client.blocks.len() > config.max_blocks {
                let name = client.blocks.keys().last().map(ToString::to_string).unwrap_or_default();
                return Err(V::BlockIndex { client: id, name });
            }
        }
        Ok(())
    }

    /// The maps that index clients: nicknames, sessions, timers, blockers.
    fn check_indexes(&self) -> Result<(), InvariantViolation> {
        use InvariantViolation as V;
        self.names.check()?;
        // Every account with a session has a client logged in to it (each
        // client's own session was checked with the client).
        let logged_in: BTreeSet<&NameKey> = self.clients.values().filter_map(|c| c.account.as_ref()).collect();
        if logged_in.len() != self.sessions.accounts() {
            return Err(V::SessionIndex { indexed: self.sessions.accounts(), logged_in: logged_in.len() });
        }
        for (key, id) in self.names.entries() {
            if self.clients.get(&id).is_none_or(|c| c.nick_key != *key) {
                return Err(V::StaleNick { key: key.to_string(), client: id });
            }
        }
        for (&id, client) in &self.clients {
            // Only the holder of a name is in the Lobby, an account's other connections never.
            let holder = self.names.holder(&client.nick_key) == Some(id);
            if self.names.in_lobby(&client.nick_key, id) != (holder && client.rooms.is_empty()) {
                return Err(V::LobbyIndex { client: id });
            }
        }
        for (key, id) in self.names.lobby_entries() {
            if self.clients.get(&id).is_none_or(|c| c.nick_key != *key || !c.rooms.is_empty()) {
                return Err(V::LobbyIndex { client: id });
            }
        }
        self.check_seen_index()?;
        let owned = self.clients.values().filter(|c| c.timer.is_some()).count();
        if self.timers.len() != owned {
            return Err(V::StaleTimers { armed: self.timers.len(), owned });
        }
        for (&id, client) in &self.clients {
            for key in client.blocks.keys() {
                if self.blocks.blockers_of(key).is_none_or(|set| !set.contains(&id)) {
                    return Err(V::BlockIndex { client: id, name: key.to_string() });
                }
            }
        }
        self.blocks.check()?;
        for (key, set) in self.blocks.blockers() {
            let stale = set.iter().find(|id| self.clients.get(id).is_none_or(|c| !c.blocks.contains_key(key)));
            if let Some(&id) = stale {
                return Err(V::BlockIndex { client: id, name: key.to_string() });
            }
        }
        // A blocker that has gone may stay listed (ids are never reused);
        // the renamed client itself may not.
        if let Some(client) = self.blocks.renamed().find(|id| !self.clients.contains_key(id)) {
            return Err(V::CarriedBlocks { client });
        }
        Ok(())
    }

    /// The offline accounts by last-seen time: exactly the accounts seen
    /// and not logged in now, each under its own time.
    fn check_seen_index(&self) -> Result<(), InvariantViolation> {
        use InvariantViolation as V;
        let online = |key: &NameKey| {
            self.names.holder(key).and_then(|id| self.clients.get(&id)).is_some_and(|c| c.account.as_ref() == Some(key))
        };
        // The accounts' own check found each entry under its account's time.
        if let Some(key) = self.accounts.seen_keys().find(|key| online(key)) {
            return Err(V::SeenIndex { account: key.to_string() });
        }
        for (key, account) in &self.accounts {
            let indexed = self.accounts.seen_indexed(key);
            if indexed != (account.last_seen_ms().is_some() && !online(key)) {
                return Err(V::SeenIndex { account: key.to_string() });
            }
        }
        Ok(())
    }

    /// Each room: members both ways, and what the room table checks of
    /// each room on its own.
    fn check_rooms(&self) -> Result<(), InvariantViolation> {
        use InvariantViolation as V;
        self.rooms.check(self.config.history_len)?;
        for (key, room) in &self.rooms {
            let name = || key.to_string();
            for (member, wire) in room.members.iter() {
                let Some(client) = self.clients.get(&member).filter(|c| c.is_in(key)) else {
                    return Err(V::UnlistedMember { room: name(), client: member });
                };
                if client.wire() != wire {
                    return Err(V::CodecMismatch { room: name(), client: member });
                }
                // Each user is present once: a guest by itself, an account
                // by exactly one of its connections in the room.
                let presences = self
                    .connections_of(member)
                    .into_iter()
                    .filter(|d| room.members.contains(*d) && !room.members.is_extra(*d))
                    .count();
                if presences != 1 {
                    return Err(V::PresenceMismatch { room: name(), client: member });
                }
            }
            for account in room.members.absent() {
                let knows = self.accounts.get(account).is_some_and(|a| a.away_rooms.contains(key));
                let connected = self.sessions.of(account).iter().any(|&d| room.members.contains(d));
                if !knows || connected || !self.always_on(account) {
                    return Err(V::AbsentMismatch { room: name(), account: account.to_string() });
                }
            }
        }
        Ok(())
    }
}
