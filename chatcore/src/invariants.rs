//! What must hold between any two inputs, checked by
//! [`Engine::check_invariants`]. Available with the `testing` cargo feature
//! (off by default) for tests, fuzzers and benches.

use std::collections::BTreeSet;

use crate::ClientId;
#[cfg(doc)]
use crate::Engine;
use crate::codec::Codec;
use crate::names::NameKey;
use crate::world::World;

/// A broken invariant: a bug in the engine, never the peer's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvariantViolation {
    /// More clients are connected than `Config::max_clients`.
    #[error("{count} clients connected, over max_clients {max}")]
    TooManyClients {
        /// Clients connected.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// More rooms exist than `Config::max_rooms`.
    #[error("{count} rooms exist, over max_rooms {max}")]
    TooManyRoomsExist {
        /// Rooms that exist.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A client's stored nickname key is not its nickname case-folded.
    #[error("{client} has nick {nick:?} but key {key:?}")]
    NickKeyMismatch {
        /// The client.
        client: ClientId,
        /// Its nickname.
        nick: String,
        /// The key stored with it.
        key: String,
    },
    /// The nickname index does not map a client's nickname to that client
    /// (another client holds the same case-folded nickname, or it is missing).
    #[error("nick {nick:?} of {client} is indexed to {indexed:?}")]
    NickNotIndexed {
        /// The client.
        client: ClientId,
        /// Its nickname.
        nick: String,
        /// Whom the index maps the nickname to.
        indexed: Option<ClientId>,
    },
    /// The nickname index holds an entry for no connected client with that
    /// nickname.
    #[error("nick index entry {key:?} -> {client} matches no client")]
    StaleNick {
        /// The folded nickname.
        key: String,
        /// The client it maps to.
        client: ClientId,
    },
    /// A room's key is not its name case-folded.
    #[error("room {name:?} is stored under key {key:?}")]
    RoomKeyMismatch {
        /// The room's name.
        name: String,
        /// The key it is stored under.
        key: String,
    },
    /// A client lists a membership in a room that does not exist.
    #[error("{client} is in room {room:?}, which does not exist")]
    MissingRoom {
        /// The client.
        client: ClientId,
        /// The folded room name.
        room: String,
    },
    /// A client lists the same room twice.
    #[error("{client} lists room {room:?} twice")]
    DuplicateMembership {
        /// The client.
        client: ClientId,
        /// The folded room name.
        room: String,
    },
    /// A client lists a room whose member set lacks it.
    #[error("{client} lists room {room:?}, whose members lack it")]
    NotAMember {
        /// The client.
        client: ClientId,
        /// The folded room name.
        room: String,
    },
    /// A room's member set holds a client that is not connected or does
    /// not list the room.
    #[error("room {room:?} has member {client}, which does not list it")]
    UnlistedMember {
        /// The folded room name.
        room: String,
        /// The member.
        client: ClientId,
    },
    /// A room records a member's codec other than the one it speaks.
    #[error("room {room:?} records the wrong codec for {client}")]
    CodecMismatch {
        /// The folded room name.
        room: String,
        /// The member.
        client: ClientId,
    },
    /// A room keeps more history than `Config::history_len`.
    #[error("room {room:?} keeps {len} messages, over history_len {max}")]
    HistoryOverCap {
        /// The folded room name.
        room: String,
        /// Messages kept.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A room's history is not numbered in increasing order below the
    /// room's next message number.
    #[error("room {room:?} keeps history out of order")]
    HistoryOrder {
        /// The folded room name.
        room: String,
    },
    /// A room holds more bans, invitations or operator accounts than it
    /// may, or an operator account twice.
    #[error("room {room:?} holds lists over their bounds, or an operator twice")]
    RoomListsOverCap {
        /// The folded room name.
        room: String,
    },
    /// A text client is in more than one room.
    #[error("text client {client} is in {rooms} rooms")]
    TextInSeveralRooms {
        /// The client.
        client: ClientId,
        /// Its room count.
        rooms: usize,
    },
    /// A JSON client is in more than `Config::max_rooms_per_client` rooms.
    #[error("{client} is in {rooms} rooms, over max_rooms_per_client {max}")]
    TooManyRooms {
        /// The client.
        client: ClientId,
        /// Its room count.
        rooms: usize,
        /// The limit.
        max: usize,
    },
    /// A client's timer and the engine's timer set disagree, or the timer
    /// would fire after the client's real next deadline, or a client that
    /// has spoken (with login not required) still has a registration
    /// deadline.
    #[error("deadlines of {client} are inconsistent")]
    DeadlineMismatch {
        /// The client.
        client: ClientId,
    },
    /// The timer set holds entries for clients that do not own them.
    #[error("{armed} timers armed for {owned} clients with a timer")]
    StaleTimers {
        /// Entries in the timer set.
        armed: usize,
        /// Clients that record an armed timer.
        owned: usize,
    },
    /// A logged-in client's account is missing, or its nickname is not the
    /// account's name.
    #[error("{client} is logged in to {account:?} inconsistently")]
    AccountMismatch {
        /// The client.
        client: ClientId,
        /// The folded account name.
        account: String,
    },
    /// More accounts exist than `Config::max_accounts`.
    #[error("{count} accounts exist, over max_accounts {max}")]
    TooManyAccounts {
        /// Accounts that exist.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The index of who blocks whom disagrees with the clients' block
    /// lists, or a block list is over `Config::max_blocks`.
    #[error("block index inconsistent for {client} and {name:?}")]
    BlockIndex {
        /// The client.
        client: ClientId,
        /// The folded blocked name.
        name: String,
    },
    /// A block carried across renames is kept for a client that has gone
    /// (it should have gone with it).
    #[error("blocks carried for {client}, who is not connected")]
    CarriedBlocks {
        /// The departed client.
        client: ClientId,
    },
    /// Kept offline whispers disagree with the total, or a mailbox is over
    /// its limit.
    #[error("offline messages: {total} counted, {kept} kept")]
    OfflineCount {
        /// The engine's running total.
        total: usize,
        /// Messages in every mailbox.
        kept: usize,
    },
    /// The running count of clients speaking a codec, which
    /// `Engine::stats` reports, differs from the clients that speak it.
    #[error("{kept} clients counted as speaking {codec}, yet {speaking} do")]
    CodecCount {
        /// The codec, by name.
        codec: &'static str,
        /// The engine's running count.
        kept: usize,
        /// Connected clients speaking it.
        speaking: usize,
    },
    /// A kept whisper is numbered at or above the number the next whisper
    /// gets, which a new one would then reuse.
    #[error("a kept whisper is numbered {seq}, yet the next whisper gets {next}")]
    WhisperNumbering {
        /// The kept whisper's number.
        seq: u64,
        /// The number the next whisper gets.
        next: u64,
    },
    /// A client's outstanding hash or verify request is not the one the
    /// engine has on file for it.
    #[error("auth request of {client} is inconsistent")]
    AuthMismatch {
        /// The client.
        client: ClientId,
    },
    /// The Lobby's index disagrees with the clients in no room.
    #[error("{client} is in the Lobby index inconsistently")]
    LobbyIndex {
        /// The client.
        client: ClientId,
    },
    /// The index of offline accounts by last-seen time disagrees with the
    /// accounts.
    #[error("account {account:?} is in the last-seen index inconsistently")]
    SeenIndex {
        /// The folded account name.
        account: String,
    },
    /// More sources are tracked for login failures or registrations than
    /// `Config::max_tracked_sources`.
    #[error("{count} sources tracked, over max_tracked_sources {max}")]
    TooManySources {
        /// Entries in the larger table.
        count: usize,
        /// The limit.
        max: usize,
    },
}

impl World {
    /// See [`Engine::check_invariants`](crate::Engine::check_invariants).
    pub(crate) fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.check_limits()?;
        self.check_clients()?;
        self.check_indexes()?;
        self.check_rooms()
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
        let counts = &self.counts;
        for (codec, name, kept) in [
            (Codec::Text, "text", counts.text_clients),
            #[cfg(feature = "json")]
            (Codec::Json, "JSON", counts.json_clients),
            (Codec::Irc, "IRC", counts.irc_clients),
        ] {
            let speaking = self.clients.values().filter(|c| c.codec == codec).count();
            if kept != speaking {
                return Err(V::CodecCount { codec: name, kept, speaking });
            }
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
            if indexed != Some(id) {
                return Err(V::NickNotIndexed { client: id, nick: nick(), indexed });
            }
            if let Some(key) = &client.account
                && (*key != client.nick_key || self.accounts.get(key).is_none_or(|a| *a.name != *client.nick))
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
            if client.codec == Codec::Text && client.rooms.len() > 1 {
                return Err(V::TextInSeveralRooms { client: id, rooms: client.rooms.len() });
            }
            if client.codec != Codec::Text && client.rooms.len() > config.max_rooms_per_client {
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
            let registered = client.irc.as_ref().map_or(client.codec_chosen, |session| session.registered);
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

    /// The maps that index clients: nicknames, timers, blockers.
    fn check_indexes(&self) -> Result<(), InvariantViolation> {
        use InvariantViolation as V;
        self.names.check()?;
        for (key, id) in self.names.entries() {
            if self.clients.get(&id).is_none_or(|c| c.nick_key != *key) {
                return Err(V::StaleNick { key: key.to_string(), client: id });
            }
        }
        for (&id, client) in &self.clients {
            if self.names.in_lobby(&client.nick_key, id) != client.rooms.is_empty() {
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
            }
        }
        Ok(())
    }
}
