//! A numbered room message reaching the room's members: the one path every
//! room message takes, numbered here on a single node (`say`) or by the
//! store in a cluster (`handle_room_message`). Blocks, the sender's echo,
//! the record, the ring of history and the counts are kept here, once.

use crate::event::Event;
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::ClientId;
use crate::record::{Record, StoredMessage};
use crate::room::Room;
use crate::stats::Counters;
use crate::world::Blocks;

/// A message to deliver, with what its fan-out needs beyond the stored form.
pub(crate) struct Said<'a> {
    /// The message, numbered: the room's numbering moves past it.
    pub(crate) message: StoredMessage,
    /// The sender's host, shown in IRC prefixes.
    pub(crate) host: &'a str,
    pub(crate) notice: bool,
    /// The sender's name folded, which blocks name.
    pub(crate) from_key: &'a NameKey,
    /// The sender, if it is this engine's client, and whether it hears its
    /// own message back (see `Client::echoes`).
    pub(crate) sender: Option<(ClientId, bool)>,
    /// Whether it comes out as a [`Record::Message`]: on a single node; in
    /// a cluster the embedder stored it with its publication.
    pub(crate) record: bool,
}

/// Delivers `said` to the room's members but those who block its sender,
/// and the sender unless it echoes; records it (if asked), keeps it in
/// the room's ring and moves the room's numbering past it.
pub(crate) fn deliver(
    out: &mut Outbox,
    room: &mut Room,
    blocks: &Blocks,
    counts: &mut Counters,
    history_len: usize,
    said: Said<'_>,
) {
    let Said { message, host, notice, from_key, sender, record } = said;
    let event = Event::Message {
        room: &room.name,
        seq: message.seq,
        from: &message.from,
        host,
        text: &message.text,
        unix_ms: message.unix_ms,
        history: false,
        notice,
        deleted: None,
    };
    let blockers = blocks.blockers_of(from_key);
    let carried = sender.and_then(|(id, _)| blocks.carried_by(id));
    // The sender sees its message as others do, with the seq it was
    // stored under: JSON always, IRC with echo-message (see `echoes`).
    // It is one of the recipients then, so its copy is the same buffer.
    let skip = sender.and_then(|(id, echoes)| (!echoes).then_some(id));
    // Without blocks in play (most messages) nobody but the sender is
    // left out, and the room's member list serves as it stands.
    if blockers.is_none() && carried.is_none() {
        out.fanout_room(&room.members, skip, &event);
    } else {
        let recipients = room.members.iter().filter(|&(to, _)| {
            Some(to) != skip
                && blockers.is_none_or(|b| !b.contains(&to))
                && carried.is_none_or(|c| !c.iter().any(|(b, _)| *b == to))
        });
        out.fanout(recipients, &event);
    }
    if record && out.emits_records() {
        out.persist(Record::Message { room: room.name.clone(), message: message.clone() });
    }
    room.next_seq = message.seq + 1;
    room.history.push(history_len, message);
    counts.messages += 1;
}
