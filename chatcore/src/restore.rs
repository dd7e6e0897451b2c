//! Rebuilding an engine from stored [`Record`]s, and what to do while the
//! store cannot write. How a stored change applies to the rooms and
//! accounts is here once ([`World::apply_stored`]), for a restore and for
//! the changes other nodes of a cluster store (`remote_records.rs`).

use crate::modes::RoomModes;
use crate::names::{NameKey, validate_nick, validate_room};
use crate::record::{Record, RestoreError};
use crate::room::Room;
use crate::world::{Account, OfflineMessage, Token, World};

/// Whether the embedder's store is writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageStatus {
    /// Writes succeed.
    Healthy,
    /// Writes fail (a full disk, say). Until `Healthy` again, the engine
    /// refuses whatever would need a new record (messages, rooms, mode
    /// changes, registrations, offline whispers, blocks) with a `storage_unavailable`
    /// error to the sender, so that nothing is accepted and then lost.
    Failing,
}

/// What [`World::apply_stored`] changed that a live caller may have to
/// tell of.
#[derive(Debug)]
pub(crate) enum Applied {
    /// A room was created, or its idle time moved: it may expire.
    RoomIdle,
    /// The room's topic was set (or cleared) by `by` at `unix_ms`.
    Topic { room: NameKey, by: Box<str>, unix_ms: u64 },
    /// The room's modes were replaced; these were its modes before.
    Modes(NameKey, RoomModes),
    /// A whisper was kept in the account's mailbox.
    Kept(NameKey),
    /// The account's read marker in the target moved: its connections are told.
    Marker(NameKey, crate::record::ReadTarget),
    /// The room was removed; here it is, with its members, to tell them.
    Dropped(NameKey, Box<Room>),
    /// Every session token of the account was revoked: its sessions end.
    LoggedOut(NameKey),
    /// Nothing anyone needs telling of.
    Quietly,
}

impl World {
    /// Applies one stored record, in the order they were emitted, to an
    /// engine no client has connected to yet. For history, feeding only the
    /// last `history_len` messages of each room is enough (and faster), but
    /// at least its last one even when `history_len` is 0: numbering
    /// continues from the last message fed. Of whispers, only the newest
    /// is needed, for the same reason.
    pub(crate) fn restore(&mut self, record: Record) -> Result<(), RestoreError> {
        // Live, a whisper numbered from another node's view may come late;
        // in a store's own order it may not.
        if let Record::Whisper { message, .. } = &record
            && message.seq < self.accounts.next_whisper_seq()
        {
            return Err(RestoreError::WhisperOutOfOrder { seq: message.seq });
        }
        self.apply_stored(record).map(drop)
    }

    /// Applies a stored change to the rooms and accounts as it was made:
    /// the one way a restore and a cluster node (for the changes of the
    /// others) take each. Creating what exists, or changing a room or
    /// account that does not, is an error that changes nothing; a restore
    /// stops on it, a live node ignores it. Whatever a room keeps of its
    /// members' sessions (their statuses, invitations) stays, and so does
    /// anything about an account logged in here that the store would
    /// only say again (its last-seen time).
    ///
    /// A room message fills the room's history, in order (a live node
    /// takes room messages by their own input instead); a dropped room is
    /// handed back for a live caller to tell its members.
    pub(crate) fn apply_stored(&mut self, record: Record) -> Result<Applied, RestoreError> {
        let applied = match record {
            Record::Message { room, message } => {
                let cap = self.config.history_len;
                let target = self.room_mut(&room)?;
                if message.seq < target.next_seq {
                    return Err(RestoreError::OutOfOrder { room, seq: message.seq });
                }
                target.next_seq = message.seq + 1;
                target.empty_since_ms = target.empty_since_ms.max(Some(message.unix_ms));
                target.history.push(cap, message);
                Applied::Quietly
            }
            Record::MessageDeleted { room, seq, from, by, unix_ms, event } => {
                let cap = self.config.history_len;
                let target = self.room_mut(&room)?;
                if event < target.next_seq {
                    return Err(RestoreError::OutOfOrder { room, seq: event });
                }
                target.empty_since_ms = target.empty_since_ms.max(Some(unix_ms));
                target.delete_message(cap, crate::deletion::Deletion { seq, from, by, unix_ms, event });
                Applied::Quietly
            }
            Record::RoomDropped { room } => {
                let key = NameKey::of(&room);
                let gone = self.rooms.remove(&key).ok_or(RestoreError::UnknownRoom(room))?;
                Applied::Dropped(key, Box::new(gone))
            }
            Record::RoomCreated { room, unix_ms, owner } => {
                let key = NameKey::of(&room);
                if let Err(reason) = validate_room(&room, usize::MAX) {
                    return Err(RestoreError::InvalidName { name: room, reason });
                }
                if self.rooms.contains_key(&key) {
                    return Err(RestoreError::Duplicate(room));
                }
                // Stored rooms start empty: their idle time runs from their last sign of life.
                self.insert_room(key, Room::new(&room, owner.as_deref().map(NameKey::of), Some(unix_ms)));
                Applied::RoomIdle
            }
            Record::RoomVacated { room, unix_ms } => {
                let target = self.room_mut(&room)?;
                // A node that has members for it knows it is not idle.
                if target.occupied() {
                    return Ok(Applied::Quietly);
                }
                target.empty_since_ms = target.empty_since_ms.max(Some(unix_ms));
                Applied::RoomIdle
            }
            Record::TopicSet { room, topic, by, unix_ms } => {
                let target = self.room_mut(&room)?;
                let topic = topic.map(|text| crate::room::Topic { text, set_by: by.clone(), unix_ms });
                // A record fed twice changes nothing the second time.
                if target.topic == topic {
                    return Ok(Applied::Quietly);
                }
                target.topic = topic;
                Applied::Topic { room: NameKey::of(&room), by, unix_ms }
            }
            Record::RoomModesSet { room, modes } => {
                let target = self.room_mut(&room)?;
                let mut modes = RoomModes::from_stored(modes);
                // Invitations are the members' sessions', not the store's.
                if !target.modes.invited().is_empty() {
                    *modes.invited_mut() = target.modes.invited().to_vec();
                }
                let before = std::mem::replace(&mut target.modes, modes);
                Applied::Modes(NameKey::of(&room), before)
            }
            Record::KnownSource { account, source } => {
                let max = self.config.max_known_sources;
                self.account_mut(&account)?.remember_source(source, max);
                Applied::Quietly
            }
            Record::AccountCreated { name, hash, .. } => {
                if let Err(reason) = validate_nick(&name, usize::MAX) {
                    return Err(RestoreError::InvalidName { name, reason });
                }
                let key = NameKey::of(&name);
                if self.accounts.contains_key(&key) {
                    return Err(RestoreError::Duplicate(name));
                }
                self.accounts.insert(key, Account::new(&name, hash));
                Applied::Quietly
            }
            Record::LastSeen { account, unix_ms } => {
                let key = NameKey::of(&self.account_mut(&account)?.name);
                // Online here, it is seen now; its time is written when it leaves.
                if !self.logged_in_here(&key) {
                    self.accounts.note_offline(&key, unix_ms);
                }
                Applied::Quietly
            }
            Record::Whisper { message, .. } => {
                // Only its number matters here: conversations live in the store.
                self.accounts.whisper_numbered(message.seq);
                Applied::Quietly
            }
            Record::OfflineKept { to, from, text, unix_ms, seq } => {
                let account = self.account_mut(&to)?;
                let (key, kept) = (NameKey::of(&account.name), OfflineMessage { from, text, unix_ms, seq });
                // A record fed twice is kept once.
                if account.mailbox().contains(&kept) {
                    return Ok(Applied::Quietly);
                }
                let (max, max_total) = (self.config.max_offline_messages, self.config.max_offline_total);
                // The store may hold more than today's limits allow; keep within them.
                let _ = self.accounts.keep_offline(&key, kept, max, max_total);
                // A store that lost the conversation's record must not make the next whisper reuse its number.
                if let Some(seq) = seq {
                    self.accounts.whisper_numbered(seq);
                }
                Applied::Kept(key)
            }
            Record::OfflineDelivered { to } => {
                let key = NameKey::of(&self.account_mut(&to)?.name);
                self.accounts.take_mailbox(&key);
                Applied::Quietly
            }
            Record::Blocked { account, name } => {
                let max = self.config.max_blocks;
                let blocks = &mut self.account_mut(&account)?.blocks;
                if blocks.len() < max {
                    blocks.insert(NameKey::of(&name), name);
                }
                Applied::Quietly
            }
            Record::Unblocked { account, name } => {
                self.account_mut(&account)?.blocks.remove(&NameKey::of(&name));
                Applied::Quietly
            }
            Record::PasswordChanged { account, hash } => {
                self.account_mut(&account)?.hash = hash;
                Applied::Quietly
            }
            Record::TokenIssued { account, id, hash, created_ms, expires_ms } => {
                let account = NameKey::of(&self.account_mut(&account)?.name);
                self.tokens.insert(id, Token { account, hash, created_ms, expires_ms });
                Applied::Quietly
            }
            Record::TokenRevoked { id, .. } => {
                self.tokens.remove(id);
                Applied::Quietly
            }
            Record::TokensRevoked { account } => {
                let key = NameKey::of(&self.account_mut(&account)?.name);
                self.tokens.remove_all(&key);
                Applied::LoggedOut(key)
            }
            // A name no account can have makes nobody an operator: no reason to refuse to start.
            Record::OperatorGranted { account } => {
                self.operators.grant(NameKey::of(&account));
                Applied::Quietly
            }
            Record::OperatorRevoked { account } => {
                self.operators.revoke(&NameKey::of(&account));
                Applied::Quietly
            }
            Record::ReadMarker { account, target, seq, unix_ms } => {
                let key = NameKey::of(&account);
                // A marker that is behind, or beyond today's limit, changes nothing.
                match self.move_marker(&key, &target, crate::read_marker::Marker { seq, unix_ms })? {
                    true => Applied::Marker(key, target),
                    false => Applied::Quietly,
                }
            }
            Record::AlwaysOn { account, on } => {
                self.account_mut(&account)?.always_on = on;
                Applied::Quietly
            }
            Record::AccountRoom { account, room, joined } => {
                self.restore_account_room(&account, &room, joined);
                Applied::Quietly
            }
        };
        Ok(applied)
    }

    /// Whether a client of this node is logged in to the account `key`.
    pub(crate) fn logged_in_here(&self, key: &NameKey) -> bool {
        let holder = self.names.holder(key).and_then(|id| self.clients.get(&id));
        holder.is_some_and(|c| c.account.as_ref() == Some(key))
    }

    fn room_mut(&mut self, name: &str) -> Result<&mut Room, RestoreError> {
        self.rooms.get_mut(&NameKey::of(name)).ok_or_else(|| RestoreError::UnknownRoom(name.into()))
    }

    fn account_mut(&mut self, name: &str) -> Result<&mut Account, RestoreError> {
        self.accounts.get_mut(&NameKey::of(name)).ok_or_else(|| RestoreError::UnknownAccount(name.into()))
    }
}
