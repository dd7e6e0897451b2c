//! Deleting a room message: its author, or an operator of the room, takes
//! it back. The message keeps its place and number as a tombstone (its
//! text erased, who deleted it and when), and the deletion is itself the
//! room's next numbered entry, so that a reader who resumes after the
//! last number it saw (`history ... after N`) learns of deletions since,
//! from memory or from the store alike. Only messages the room still
//! keeps in memory (its last `Config::history_len`) can be deleted: the
//! engine judges who may delete a message by its entry there. Whispers
//! cannot be deleted.
//!
//! On a cluster node the store numbers a room's entries: a deletion the
//! engine allows is published like a message (`cluster_node/publish.rs`),
//! and made, here as on every node, when it comes back numbered in the
//! room's order (`cluster_node/sequence.rs`), by [`World::make_deletion`]
//! as a deletion made here is.

use crate::error::Rejection;
use crate::event::Event;
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::ClientId;
use crate::record::{MessageKind, Record, StoredMessage};
use crate::room::{Room, Status};
use crate::turn::Turn;
use crate::world::{World, unsafe_text};

impl Room {
    /// Marks message `seq`, if kept, deleted by `by` at `unix_ms` (its text
    /// erased), and keeps the deletion as entry `event` said by `from`,
    /// the message's sender: the room numbers on from there. The one way a
    /// deletion changes a room, for a command here and a stored record.
    pub(crate) fn delete_message(&mut self, cap: usize, deletion: Deletion) {
        let Deletion { seq, from, by, unix_ms, event } = deletion;
        self.erase_message(seq, &by, unix_ms);
        self.next_seq = event + 1;
        let kind = MessageKind::Deletion { of: seq, by };
        self.history.push(cap, StoredMessage { seq: event, from, text: "".into(), unix_ms, kind });
    }
}

impl Room {
    /// Erases message `seq`, if kept and said, as deleted by `by` at
    /// `unix_ms`: its text gone, its tombstone in its place. Whether it
    /// was. Alone (without the deletion's entry) for a cluster node that
    /// hears of a deletion by the change feed before, or without, its
    /// numbered entry.
    pub(crate) fn erase_message(&mut self, seq: u64, by: &str, unix_ms: u64) -> bool {
        let Some(entry) = self.history.get_mut(seq).filter(|entry| entry.kind == MessageKind::Said) else {
            return false;
        };
        entry.text = "".into();
        entry.kind = MessageKind::Deleted { by: by.into(), unix_ms };
        true
    }
}

/// A deletion, as [`Record::MessageDeleted`] holds it.
#[derive(Debug, Clone)]
pub(crate) struct Deletion {
    pub(crate) seq: u64,
    pub(crate) from: Box<str>,
    pub(crate) by: Box<str>,
    pub(crate) unix_ms: u64,
    pub(crate) event: u64,
}

/// Whether client `id`, whose standing in the room is `status`, may delete
/// a message `author` said there: the one check of who may delete. Its
/// author may (by nickname: a guest's name is its own while it holds it,
/// an account's only its owner's), and so may the room's operators and
/// the server's.
fn may_delete(world: &World, id: ClientId, status: Status, author: &str) -> bool {
    let is_author = world.clients.get(&id).is_some_and(|c| c.nick_key == NameKey::of(author));
    is_author || status.operator || world.is_server_operator(id)
}

impl Turn<'_> {
    /// `/delete [ROOM [SEQ]]`: deletes message `seq` of the room, or the
    /// client's own newest there; every member is told, IRC clients that
    /// negotiated `draft/message-redaction` with REDACT.
    pub(crate) fn delete_message(
        &mut self,
        named: Option<&str>,
        seq: Option<u64>,
        reason: Option<&str>,
    ) -> Result<(), Rejection> {
        let (world, id, now) = (&mut *self.world, self.id, self.now);
        if let Some(rejection) = reason.and_then(unsafe_text) {
            return Err(rejection);
        }
        let key = world.target_room(id, named)?;
        let (cap, client) = (world.config.history_len, &world.clients[&id]);
        let Some(room) = world.rooms.get(&key) else { return Ok(()) };
        let seq = match seq {
            Some(seq) => seq,
            None => room
                .history
                .newest_said_by(client.nick_key.as_str())
                .ok_or_else(|| Rejection::NothingToDelete(room.name.clone()))?,
        };
        let Some(entry) = room.history.get(seq) else {
            return Err(Rejection::UnknownMessage { room: room.name.clone(), seq, kept: cap });
        };
        if entry.kind != MessageKind::Said {
            return Err(Rejection::AlreadyDeleted { room: room.name.clone(), seq });
        }
        if !may_delete(world, id, room.members.status(id), &entry.from) {
            return Err(Rejection::DeleteForbidden(room.name.clone()));
        }
        let from = entry.from.clone();
        // A cluster's store numbers room entries: the deletion is
        // published as a message is, and made when it comes back numbered.
        if world.config.cluster {
            self.publish_deletion(key, seq, from, reason);
            return Ok(());
        }
        let (by, host, event) = (client.nick.clone(), client.host.clone(), room.next_seq);
        let record = Record::MessageDeleted {
            room: room.name.clone(),
            seq,
            from: from.clone(),
            by: by.clone(),
            unix_ms: now.unix_ms,
            event,
        };
        self.out.persist(record);
        let deletion = Deletion { seq, from, by, unix_ms: now.unix_ms, event };
        world.make_deletion(self.out, &key, deletion, &host, reason);
        Ok(())
    }
}

impl World {
    /// Makes `deletion` in the room `key` and tells its members: the one
    /// way a deletion reaches them, made on this node or, in a cluster,
    /// arriving numbered from the store. `host` is the deleter's, as IRC
    /// prefixes show it; `reason` is told, not kept.
    pub(crate) fn make_deletion(
        &mut self,
        out: &mut Outbox,
        key: &NameKey,
        deletion: Deletion,
        host: &str,
        reason: Option<&str>,
    ) {
        let cap = self.config.history_len;
        let Some(room) = self.rooms.get_mut(key) else { return };
        room.delete_message(cap, deletion.clone());
        let Deletion { seq, from, by, unix_ms, event } = deletion;
        let (world, room) = (&*self, &self.rooms[key]);
        let told = |redact| Event::Deleted {
            room: &room.name,
            seq,
            from: &from,
            by: &by,
            host,
            unix_ms,
            event,
            reason,
            history: false,
            redact,
        };
        let redacts = |to: ClientId| world.clients.get(&to).and_then(|c| c.irc.as_ref()).is_some_and(|s| s.redacts());
        // Members who block the sender never heard the message, and hear
        // nothing of its deletion either, as pages leave it out for them.
        let blockers = world.blocks.blockers_of(&NameKey::of(&from));
        let told_of = |redact: bool| {
            room.members
                .iter()
                .filter(move |&(to, _)| redacts(to) == redact && blockers.is_none_or(|b| !b.contains(&to)))
        };
        out.fanout(told_of(true), &told(true));
        out.fanout(told_of(false), &told(false));
    }
}
