//! Durable changes another node of a cluster made and stored, applied
//! here live: the state as [`World::apply_stored`] applies it for a
//! restore, and local clients told as of the same change made here.

use crate::cloak::HIDDEN_HOST;
use crate::lifecycle::topic_changed;
use crate::moderation::modes_changed;
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::record::Record;
use crate::restore::Applied;
use crate::time::Now;
use crate::turn::Turn;
use crate::world::World;

impl World {
    /// Applies another node's stored `record`; what does not apply here
    /// (a room or account this node does not have, one it has already, a
    /// room message, a table at its limit) is ignored and counted. Emits
    /// no record of the change itself: it is stored already.
    pub(crate) fn remote_record(&mut self, out: &mut Outbox, now: Now, record: Record) {
        // A deletion comes numbered, in the room's order, by its own input;
        // its record erases the message from the ring at once, so that a
        // room this node does not follow (whose ring a newcomer's replay
        // shows before the backfill) forgets the text too.
        if let Record::MessageDeleted { room, seq, by, unix_ms, .. } = &record {
            let erased = self.rooms.get_mut(&NameKey::of(room)).is_some_and(|r| r.erase_message(*seq, by, *unix_ms));
            if !erased {
                self.counts.remote_records_ignored += 1;
            }
            return;
        }
        let at_limit = match &record {
            // Room messages come numbered, by their own input.
            Record::Message { .. } => true,
            // The other node counted against the same limit; a race past it stops here.
            Record::RoomCreated { .. } => self.rooms.len() >= self.config.max_rooms,
            Record::AccountCreated { .. } => self.accounts.len() >= self.config.max_accounts,
            _ => false,
        };
        let applied = if at_limit { None } else { self.apply_stored(record).ok() };
        let Some(applied) = applied else {
            self.counts.remote_records_ignored += 1;
            return;
        };
        match applied {
            Applied::RoomIdle => self.rooms.schedule_sweep(now, &self.config),
            Applied::Topic { room, by, unix_ms } => {
                // Who set a topic is kept by name only.
                topic_changed(out, &self.rooms[&room], &by, HIDDEN_HOST, unix_ms);
            }
            Applied::Modes(key, before) => {
                let room = &self.rooms[&key];
                let changes = room.modes.changes_from(&before);
                if !changes.is_empty() {
                    // The record does not say who: the server speaks for the operator elsewhere.
                    modes_changed(out, room, &self.config.server_name, HIDDEN_HOST, &changes);
                }
            }
            Applied::Dropped(key, room) => {
                let owner =
                    room.owner.as_ref().map(|owner| self.accounts.get(owner).map_or(owner.as_str(), |a| &a.name));
                let by: Box<str> = owner.unwrap_or(&self.config.server_name).into();
                self.room_gone(out, &key, &room, &by, None);
            }
            Applied::Kept(account) => self.deliver_kept_now(out, now, &account),
            // Revoking every token logs the account out everywhere but where it was asked.
            Applied::LoggedOut(account) => self.log_out_sessions(out, now, &account, None),
            // Set on another node: this node's connections of the account follow.
            Applied::Marker(account, target) => self.tell_marker(out, &account, &target, None),
            Applied::Quietly => {}
        }
    }

    /// A whisper was kept for `account`: if a client of this node is
    /// logged in to it and welcomed, it gets its mailbox now, as at login.
    fn deliver_kept_now(&mut self, out: &mut Outbox, now: Now, account: &NameKey) {
        if !self.logged_in_here(account) {
            return;
        }
        let Some(id) = self.names.holder(account) else { return };
        // An IRC client logged in before its welcome gets its mailbox with the welcome.
        let welcomed = self.clients.get(&id).is_some_and(|c| c.irc.as_ref().is_none_or(|session| session.registered));
        if welcomed {
            Turn::new(self, out, now, id).deliver_mailbox();
        }
    }
}
