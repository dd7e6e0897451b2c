//! A cluster's room messages, delivered in the store's order: each room's
//! `next_seq` is its frontier; a message numbered after a missing one
//! waits, bounded, until the gap fills or a backfill is asked for; and a
//! room is followed while it has local members.

use crate::cluster::{ClusterRequest, RoomMessage};
use crate::deletion::Deletion;
use crate::delivery::{Said, deliver};
use crate::error::Error;
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::Output;
use crate::record::{MessageKind, StoredMessage};
use crate::room::Room;
use crate::time::Now;
use crate::world::{Held, PendingPublish, World, unsafe_text};

/// What becomes of an arriving message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// The room is unknown here or has no local members.
    Ignored,
    /// Delivered already (below the frontier) or held already.
    Duplicate,
    /// The frontier: delivered now.
    Next,
    /// After a gap: held.
    Later,
}

/// Tells the embedder to follow a room that has just gained its first
/// local member, from the last message it delivered or restored.
pub(crate) fn follow(out: &mut Outbox, room: &Room) {
    let after = room.next_seq - 1;
    out.push(Output::Cluster(ClusterRequest::Follow { room: room.name.clone(), after }));
}

impl World {
    /// A stored message of a room, from the embedder: delivered if it is
    /// the room's next, held if it comes after a gap, dropped if it came
    /// before. `Err` (and nothing changes) if it is new here and carries a
    /// ticket that is not outstanding.
    pub(crate) fn room_message(&mut self, out: &mut Outbox, now: Now, message: RoomMessage) -> Result<(), Error> {
        let key = NameKey::of(&message.room);
        let seq = message.seq;
        let fate = self.fate(&key, seq);
        let pending = match message.ticket {
            None => None,
            Some(ticket) => match self.cluster.answer(ticket, Some(&key)) {
                Some(pending) => Some(pending),
                None if matches!(fate, Fate::Next | Fate::Later) => return Err(Error::UnknownTicket(ticket)),
                // A repeated copy may carry its ticket again.
                None => None,
            },
        };
        match fate {
            Fate::Ignored => {
                self.counts.cluster_ignored += 1;
                if let Some(pending) = pending {
                    self.acknowledge(out, pending);
                }
                return Ok(());
            }
            Fate::Duplicate => {
                self.counts.cluster_duplicates += 1;
                let below = self.rooms.get(&key).is_some_and(|room| seq < room.next_seq);
                match pending {
                    // Heard already: the sender heard it without its ticket.
                    Some(pending) if below => self.acknowledge(out, pending),
                    // Held without its ticket: the sender waits with it.
                    Some(pending) => {
                        if let Some(twice) = self.cluster.wait_with(key, seq, pending) {
                            self.acknowledge(out, twice);
                        }
                    }
                    None => {}
                }
                return Ok(());
            }
            Fate::Next | Fate::Later => {}
        }
        if let Some(pending) = pending {
            self.cluster.wait_with(key.clone(), seq, pending);
        }
        let RoomMessage { from, host, text, unix_ms, notice, kind, .. } = message;
        let held = Held { message: StoredMessage { seq, from, text, unix_ms, kind }, host, notice };
        if fate == Fate::Later {
            self.hold(now, key, held);
            return Ok(());
        }
        self.deliver_numbered(out, &key, held);
        self.deliver_held(out, now, &key);
        Ok(())
    }

    fn fate(&self, key: &NameKey, seq: u64) -> Fate {
        let Some(room) = self.rooms.get(key) else { return Fate::Ignored };
        if room.members.len() == 0 {
            Fate::Ignored
        } else if seq < room.next_seq {
            Fate::Duplicate
        } else if seq == room.next_seq {
            Fate::Next
        } else if self.cluster.holds(key, seq) {
            Fate::Duplicate
        } else {
            Fate::Later
        }
    }

    /// Delivers the room's next entry: a message through the one fan-out
    /// path, as its sender's echo if the sender is here; a deletion as
    /// one made here is made (`deletion.rs`), told to every member (its
    /// deleter too); a message deleted before it arrived (read late from
    /// the store) is kept as the tombstone it is, told by the deletion
    /// that follows it. An entry whose text or names could rewrite a
    /// reader's terminal (the engine never publishes one, but a damaged
    /// store could return it) is passed over unshown.
    fn deliver_numbered(&mut self, out: &mut Outbox, key: &NameKey, held: Held) {
        let Held { message, host, notice } = held;
        let pending = self.cluster.sender_of(key, message.seq);
        let sender = pending.as_ref().and_then(|p| self.clients.get(&p.client).map(|c| (p.client, c.echoes())));
        let cap = self.config.history_len;
        let Some(room) = self.rooms.get_mut(key) else { return };
        // The sender's request is answered with its echo, or acknowledged.
        if let Some(PendingPublish { client, reply: Some(tag), .. }) = pending
            && sender.is_some()
        {
            out.begin_reply(client, tag);
        }
        let by = match &message.kind {
            MessageKind::Said => None,
            MessageKind::Deleted { by, .. } | MessageKind::Deletion { by, .. } => Some(by),
        };
        let names = [&message.from, &message.text, &host].into_iter().chain(by);
        let shown = names.into_iter().all(|t| unsafe_text(t).is_none());
        match message.kind {
            MessageKind::Said if shown => {
                let from_key = NameKey::of(&message.from);
                let said = Said { message, host: &host, notice, from_key: &from_key, sender, record: false };
                deliver(out, room, &self.blocks, &mut self.counts, cap, said);
            }
            MessageKind::Deletion { of, by } if shown => {
                let StoredMessage { seq: event, from, text, unix_ms, .. } = message;
                let reason = (!text.is_empty()).then_some(&*text);
                let deletion = Deletion { seq: of, from, by, unix_ms, event };
                self.make_deletion(out, key, deletion, &host, reason);
            }
            MessageKind::Deleted { .. } if shown => {
                room.next_seq = message.seq + 1;
                room.history.push(cap, message);
            }
            _ => room.next_seq = message.seq + 1,
        }
        out.end_reply(true);
    }

    /// Delivers what the room held that now follows its frontier; then
    /// closes the gap, or counts its wait again from now if one remains.
    fn deliver_held(&mut self, out: &mut Outbox, now: Now, key: &NameKey) {
        while let Some(next) = self.rooms.get(key).map(|room| room.next_seq)
            && let Some(held) = self.cluster.take_next(key, next)
        {
            self.deliver_numbered(out, key, held);
        }
        let next = self.rooms.get(key).map_or(0, |room| room.next_seq);
        self.cluster.progressed(now.instant, self.config.cluster_gap_wait, key, next);
    }

    /// The store has numbered the room's messages up to `seq`: if that is
    /// past what was delivered here, the gap is waited for and
    /// backfilled as any other. Ignored for a room with no local members.
    pub(crate) fn room_head(&mut self, now: Now, room: &str, seq: u64) {
        let key = NameKey::of(room);
        if self.rooms.get(&key).is_some_and(|room| room.members.len() > 0 && seq >= room.next_seq) {
            self.cluster.gap(now.instant, self.config.cluster_gap_wait, key, seq);
        }
    }

    /// Holds a message after a gap; past the bound, the room drops all it
    /// holds, and the backfill brings it again.
    fn hold(&mut self, now: Now, key: NameKey, held: Held) {
        let (wait, max_held) = (self.config.cluster_gap_wait, self.config.cluster_max_held);
        self.counts.cluster_held_dropped += self.cluster.hold(now.instant, wait, max_held, key, held);
    }

    /// Asks for every gap whose wait is over, and waits again for each.
    pub(crate) fn backfill_due(&mut self, out: &mut Outbox, now: Now) {
        while let Some((key, upto)) = self.cluster.backfill_due(now.instant, self.config.cluster_gap_wait) {
            if let Some(room) = self.rooms.get(&key) {
                let (room, after) = (room.name.clone(), room.next_seq - 1);
                out.push(Output::Cluster(ClusterRequest::Backfill { room, after, upto }));
                self.counts.cluster_backfills += 1;
            }
        }
    }

    /// The room `key` (named `name`) has lost its last local member, or
    /// is gone: the embedder stops following it, what it held is
    /// dropped, and senders waiting for their messages there are
    /// answered, since those messages are not delivered here now.
    pub(crate) fn unfollow(&mut self, out: &mut Outbox, key: &NameKey, name: Box<str>) {
        out.push(Output::Cluster(ClusterRequest::Unfollow { room: name }));
        for pending in self.cluster.forget(key) {
            self.acknowledge(out, pending);
        }
    }

    /// A local member has just left the room `key`: if nobody is left in
    /// it, here or on other nodes, its idle time starts; and in a cluster,
    /// once no local member is left, this node no longer follows it (other
    /// nodes' users in it are told of by presence, not by its messages).
    pub(crate) fn vacated(&mut self, out: &mut Outbox, now: Now, key: &NameKey) {
        self.rooms.note_if_vacated(out, now, key, &self.config);
        if self.config.cluster
            && let Some(room) = self.rooms.get(key)
            && room.members.len() == 0
        {
            let name = room.name.clone();
            self.unfollow(out, key, name);
        }
    }

    /// What holds for the rooms that wait for a missing message: each is
    /// a room with local members, holds only messages after its frontier
    /// and within the bound, and has exactly one backfill due.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn check_gaps(&self) -> Result<(), crate::InvariantViolation> {
        let room = |key: &NameKey| self.rooms.get(key).map(|room| (room.next_seq, room.members.len() > 0));
        self.cluster.check(self.config.cluster_max_held, room)
    }
}
