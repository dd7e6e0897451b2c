//! Rebuilding an engine from stored [`Record`]s, and what to do while the
//! store cannot write.

use crate::names::{NameKey, validate_nick, validate_room};
use crate::record::{Record, RestoreError};
use crate::room::Room;
use crate::world::{Account, OfflineMessage, World};

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

impl World {
    /// Applies one stored record, in the order they were emitted, to an
    /// engine no client has connected to yet. For history, feeding only the
    /// last `history_len` messages of each room is enough (and faster), but
    /// at least its last one even when `history_len` is 0: numbering
    /// continues from the last message fed. Of whispers, only the newest
    /// is needed, for the same reason.
    pub(crate) fn restore(&mut self, record: Record) -> Result<(), RestoreError> {
        match record {
            Record::RoomCreated { room, unix_ms, owner } => {
                let key = NameKey::of(&room);
                if let Err(reason) = validate_room(&room, usize::MAX) {
                    return Err(RestoreError::InvalidName { name: room, reason });
                }
                if self.rooms.contains_key(&key) {
                    return Err(RestoreError::Duplicate(room));
                }
                // Restored rooms are empty: their idle time runs from their last sign of life.
                self.rooms.insert(key, Room::new(&room, owner.as_deref().map(NameKey::of), Some(unix_ms)));
            }
            Record::Message { room, message } => {
                let cap = self.config.history_len;
                let target =
                    self.rooms.get_mut(&NameKey::of(&room)).ok_or_else(|| RestoreError::UnknownRoom(room.clone()))?;
                if message.seq < target.next_seq {
                    return Err(RestoreError::OutOfOrder { room, seq: message.seq });
                }
                target.next_seq = message.seq + 1;
                target.empty_since_ms = target.empty_since_ms.max(Some(message.unix_ms));
                target.history.push(cap, message);
            }
            Record::RoomVacated { room, unix_ms } => {
                let target =
                    self.rooms.get_mut(&NameKey::of(&room)).ok_or_else(|| RestoreError::UnknownRoom(room.clone()))?;
                target.empty_since_ms = target.empty_since_ms.max(Some(unix_ms));
            }
            Record::TopicSet { room, topic, by, unix_ms } => {
                let target =
                    self.rooms.get_mut(&NameKey::of(&room)).ok_or_else(|| RestoreError::UnknownRoom(room.clone()))?;
                target.topic = topic.map(|text| crate::room::Topic { text, set_by: by, unix_ms });
            }
            Record::RoomModesSet { room, modes } => {
                let target =
                    self.rooms.get_mut(&NameKey::of(&room)).ok_or_else(|| RestoreError::UnknownRoom(room.clone()))?;
                target.modes = crate::modes::RoomModes::from_stored(modes);
            }
            Record::RoomDropped { room } => {
                self.rooms.remove(&NameKey::of(&room)).ok_or(RestoreError::UnknownRoom(room))?;
            }
            Record::KnownSource { account, source } => {
                let max = self.config.max_known_sources;
                self.account_mut(&account)?.remember_source(source, max);
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
            }
            // Nobody is online while the store is read.
            Record::LastSeen { account, unix_ms } => {
                let key = NameKey::of(&self.account_mut(&account)?.name);
                self.accounts.note_offline(&key, unix_ms);
            }
            Record::Whisper { message, .. } => {
                // Only its number matters here: conversations live in the store.
                if message.seq < self.accounts.next_whisper_seq() {
                    return Err(RestoreError::WhisperOutOfOrder { seq: message.seq });
                }
                self.accounts.whisper_numbered(message.seq);
            }
            Record::OfflineKept { to, from, text, unix_ms, seq } => {
                let key = NameKey::of(&self.account_mut(&to)?.name);
                let (max, max_total) = (self.config.max_offline_messages, self.config.max_offline_total);
                // The store may hold more than today's limits allow; keep within them.
                let _ = self.accounts.keep_offline(&key, OfflineMessage { from, text, unix_ms, seq }, max, max_total);
                // A store that lost the conversation's record must not make the next whisper reuse its number.
                if let Some(seq) = seq {
                    self.accounts.whisper_numbered(seq);
                }
            }
            Record::OfflineDelivered { to } => {
                let key = NameKey::of(&self.account_mut(&to)?.name);
                self.accounts.take_mailbox(&key);
            }
            Record::Blocked { account, name } => {
                let max = self.config.max_blocks;
                let blocks = &mut self.account_mut(&account)?.blocks;
                if blocks.len() < max {
                    blocks.insert(NameKey::of(&name), name);
                }
            }
            Record::Unblocked { account, name } => {
                self.account_mut(&account)?.blocks.remove(&NameKey::of(&name));
            }
        }
        Ok(())
    }

    fn account_mut(&mut self, name: &str) -> Result<&mut Account, RestoreError> {
        self.accounts.get_mut(&NameKey::of(name)).ok_or_else(|| RestoreError::UnknownAccount(name.into()))
    }
}
