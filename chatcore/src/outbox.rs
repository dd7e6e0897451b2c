//! The engine's outbox: the ordered queue of [`Output`]s the embedder
//! drains, and the one place that turns an event into sends, a broadcast
//! into per-codec recipient lists, and a durable change into a record.
//!
//! It is a field of its own beside the world (clients, rooms, accounts), so
//! a handler can walk a room's members while it queues what they are told.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::codec::{Codec, ReplyTag, WIRE_COUNT, Wire};
use crate::event::Event;
use crate::output::{ClientId, Output};
use crate::record::Record;
use crate::room::Members;

/// Outputs waiting for [`Engine::poll_output`](crate::Engine::poll_output).
#[derive(Debug)]
pub(crate) struct Outbox {
    queue: VecDeque<Output>,
    /// Whether durable changes come out as [`Output::Persist`].
    emit_records: bool,
    /// Lines queued for clients so far, a broadcast once per recipient.
    deliveries: u64,
    /// The tagged request being handled, and what its sender was told so
    /// far: held until the request is done, then written tagged.
    reply: Option<OpenReply>,
}

/// A request whose replies are tied to it (a JSON `id`, an IRC `label`).
#[derive(Debug)]
struct OpenReply {
    client: ClientId,
    tag: ReplyTag,
    held: Vec<Bytes>,
}

impl Outbox {
    pub(crate) fn new(emit_records: bool) -> Self {
        Self { queue: VecDeque::new(), emit_records, deliveries: 0, reply: None }
    }

    pub(crate) fn pop(&mut self) -> Option<Output> {
        self.queue.pop_front()
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Lines queued for clients since the engine was made.
    pub(crate) fn deliveries(&self) -> u64 {
        self.deliveries
    }

    /// Whether records are emitted, so that older history is in the
    /// embedder's store.
    pub(crate) fn emits_records(&self) -> bool {
        self.emit_records
    }

    /// Queues any output as it is; a client's goodbye first ends the
    /// request it was handling, so what it was told goes out before it is
    /// closed.
    pub(crate) fn push(&mut self, output: Output) {
        if let Output::Close { client, .. } = &output
            && self.reply.as_ref().is_some_and(|open| open.client == *client)
        {
            self.end_reply(false);
        }
        self.queue.push_back(output);
    }

    /// Queues bytes for one client; nothing, if there are none (an event
    /// some codec has no line for, such as IRC's for a room just created,
    /// whose JOIN says it). Held instead, if it is the sender of the tagged
    /// request being handled.
    pub(crate) fn send(&mut self, to: ClientId, data: Bytes) {
        if data.is_empty() {
            return;
        }
        match &mut self.reply {
            Some(open) if open.client == to => open.held.push(data),
            _ => self.queue_send(to, data),
        }
    }

    /// Queues bytes for one client as a recipient, never as part of the
    /// answer to its own tagged request: a message it sent itself arrives
    /// as any message would, and only its echo answers the request (IRCv3
    /// `labeled-response`).
    pub(crate) fn deliver(&mut self, to: ClientId, data: Bytes) {
        self.queue_send(to, data);
    }

    fn queue_send(&mut self, to: ClientId, data: Bytes) {
        if !data.is_empty() {
            self.deliveries += 1;
            self.queue.push_back(Output::Send { to, data });
        }
    }

    /// `client` sent a request tagged `tag`: until [`end_reply`](Self::end_reply),
    /// what it is told is held, to be written tagged. A request still open
    /// (which would be a bug) is ended first.
    pub(crate) fn begin_reply(&mut self, client: ClientId, tag: ReplyTag) {
        if self.reply.is_some() {
            self.end_reply(true);
        }
        self.reply = Some(OpenReply { client, tag, held: Vec::new() });
    }

    /// The tagged request is done: what its sender was told goes out tagged,
    /// or, if nothing and `acknowledge`, an acknowledgement (JSON `ok`, IRC
    /// `ACK`).
    pub(crate) fn end_reply(&mut self, acknowledge: bool) {
        if let Some(open) = self.reply.take() {
            let data = open.tag.write(&open.held, acknowledge);
            // Written as one send, but each held line counts as a delivery.
            if !data.is_empty() {
                self.deliveries += (open.held.len() as u64).saturating_sub(1);
            }
            self.queue_send(open.client, data);
        }
    }

    /// The request's answer comes later (a password check, a page read from
    /// the store): what was held goes out now, and the tag is handed back
    /// to be given to [`begin_reply`](Self::begin_reply) with the answer.
    /// `None` if the request being handled carries no tag.
    pub(crate) fn defer_reply(&mut self, client: ClientId) -> Option<ReplyTag> {
        if self.reply.as_ref().is_none_or(|open| open.client != client) {
            return None;
        }
        let tag = self.reply.as_ref().map(|open| open.tag.clone());
        self.end_reply(false);
        tag
    }

    /// Renders `event` in `codec` and queues it for one client.
    pub(crate) fn tell(&mut self, to: ClientId, codec: Codec, event: &Event<'_>) {
        self.send(to, codec.render(event));
    }

    /// Emits a durable fact, if the embedder stores them.
    pub(crate) fn persist(&mut self, record: Record) {
        if self.emit_records {
            self.queue.push_back(Output::Persist(Box::new(record)));
        }
    }

    /// Sends one event to many clients: rendered once per wire in use, and
    /// queued as one [`Output::Broadcast`] per wire (or a plain
    /// [`Output::Send`] when a wire has a single recipient), so the cost per
    /// recipient is one id in a list.
    pub(crate) fn fanout(&mut self, recipients: impl IntoIterator<Item = (ClientId, Wire)>, event: &Event<'_>) {
        let mut by_wire: [Vec<ClientId>; WIRE_COUNT] = Default::default();
        let recipients = recipients.into_iter();
        // A filtered member list knows its upper bound: at most one spare slot per filtered-out member.
        let expected = recipients.size_hint().1.unwrap_or(0);
        // The sender of a tagged request gets its copy tagged, apart.
        let sender = self.reply.as_ref().map(|open| open.client);
        let mut sender_wire = None;
        for (to, wire) in recipients {
            if Some(to) == sender {
                sender_wire = Some(wire);
                continue;
            }
            let list = &mut by_wire[wire.index()];
            if list.capacity() == 0 {
                // Most rooms speak one wire: size the first list for all of them.
                list.reserve(expected.max(1));
            }
            list.push(to);
        }
        if let (Some(to), Some(wire)) = (sender, sender_wire) {
            self.send(to, wire.render(event));
        }
        for (index, mut to) in by_wire.into_iter().enumerate() {
            // `Broadcast` promises its ids sorted and unique; most callers
            // walk an index by id already, but not all (the Lobby is kept
            // by nickname, for its paged lists).
            if !to.is_sorted_by(|a, b| a < b) {
                to.sort_unstable();
                to.dedup();
            }
            self.broadcast(Wire::at(index), to, event);
        }
    }

    /// [`fanout`](Self::fanout) to the members of a room but `skip`. When
    /// they all speak one wire (most rooms), their ids are copied as the
    /// room keeps them, sorted and unique, instead of gathered one by one:
    /// a delivery then costs little more than copying its id.
    pub(crate) fn fanout_room(&mut self, members: &Members, skip: Option<ClientId>, event: &Event<'_>) {
        let Some(wire) = members.one_wire() else {
            return self.fanout(members.iter().filter(|&(to, _)| Some(to) != skip), event);
        };
        let mut to = members.ids_except(skip);
        // The sender of a tagged request gets its copy tagged, apart.
        if let Some(sender) = self.reply.as_ref().map(|open| open.client)
            && remove_sorted(&mut to, sender)
        {
            self.send(sender, wire.render(event));
        }
        self.broadcast(wire, to, event);
    }

    /// Queues `event` rendered for `wire` to `to` (sorted and unique): one
    /// [`Output::Broadcast`], or a plain [`Output::Send`] for a single
    /// recipient.
    fn broadcast(&mut self, wire: Wire, to: Vec<ClientId>, event: &Event<'_>) {
        match to.len() {
            0 => {}
            1 => self.queue_send(to[0], wire.render(event)),
            _ => {
                let data = wire.render(event);
                if !data.is_empty() {
                    self.deliveries += to.len() as u64;
                    self.queue.push_back(Output::Broadcast { to, data });
                }
            }
        }
    }
}

/// Takes `id` out of the sorted `ids`; whether it was there.
fn remove_sorted(ids: &mut Vec<ClientId>, id: ClientId) -> bool {
    ids.binary_search(&id).map(|at| ids.remove(at)).is_ok()
}
