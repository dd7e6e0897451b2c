//! A room message, or a deletion of one, on its way through the store:
//! published with a ticket, and answered by the entry coming back
//! numbered (see `sequence.rs`) or by the store failing or declining it.

use crate::cluster::{ClusterRequest, Publication, PublishTicket};
use crate::codec::Codec;
use crate::command::Verb;
use crate::error::{Error, Rejection};
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::Output;
use crate::record::MessageKind;
use crate::turn::Turn;
use crate::world::{PendingPublish, World};

impl Turn<'_> {
    /// Asks the embedder to store a message the client may say in the room
    /// `key`, instead of numbering and delivering it here. What its
    /// request was told so far goes out now; its echo or acknowledgement
    /// comes with the numbered message.
    pub(crate) fn publish(&mut self, key: NameKey, text: &str, notice: bool) {
        let Some(from) = self.world.clients.get(&self.id).map(|c| c.nick.clone()) else { return };
        self.publish_entry(key, from, text, notice, MessageKind::Said);
    }

    /// Asks the embedder to store the client's deletion of message `of`
    /// of the room `key`, which `from` said, instead of making it here:
    /// the store numbers it as the room's next entry, and every node
    /// (this one too) makes it as it arrives in order. The `reason`
    /// travels as the entry's text.
    pub(crate) fn publish_deletion(&mut self, key: NameKey, of: u64, from: Box<str>, reason: Option<&str>) {
        let Some(by) = self.world.clients.get(&self.id).map(|c| c.nick.clone()) else { return };
        self.publish_entry(key, from, reason.unwrap_or(""), false, MessageKind::Deletion { of, by });
    }

    fn publish_entry(&mut self, key: NameKey, from: Box<str>, text: &str, notice: bool, kind: MessageKind) {
        let (world, id, now) = (&mut *self.world, self.id, self.now);
        let (Some(sender), Some(room)) = (world.clients.get(&id), world.rooms.get(&key)) else {
            return;
        };
        let reply = self.out.defer_reply(id);
        let deletes = match kind {
            MessageKind::Deletion { of, .. } => Some(of),
            _ => None,
        };
        let ticket = world.cluster.start(PendingPublish { client: id, room: key, reply, notice, deletes });
        let publication = Publication {
            ticket,
            room: room.name.clone(),
            from,
            host: sender.host.clone(),
            text: text.into(),
            unix_ms: now.unix_ms,
            notice,
            kind,
        };
        self.out.push(Output::Cluster(ClusterRequest::Publish(Box::new(publication))));
    }
}

impl World {
    /// The store could not keep a publication: its sender is refused as a
    /// failing store refuses it on a single node; a deletion the store
    /// declined (its message deleted first from another node, or gone)
    /// as one of a deleted message. `Err` if the ticket is not
    /// outstanding.
    pub(crate) fn publish_failed(&mut self, out: &mut Outbox, ticket: PublishTicket) -> Result<(), Error> {
        let pending = self.cluster.answer(ticket, None).ok_or(Error::UnknownTicket(ticket))?;
        let Some(client) = self.clients.get(&pending.client) else { return Ok(()) };
        // IRC never answers a NOTICE with an error.
        let silent = pending.notice && client.codec() == Codec::Irc;
        if let Some(tag) = pending.reply {
            out.begin_reply(pending.client, tag);
        }
        if let Some(seq) = pending.deletes {
            let room = self.rooms.get(&pending.room).map_or_else(|| pending.room.as_str().into(), |r| r.name.clone());
            self.reject_command(out, pending.client, Some(Verb::Delete), Rejection::AlreadyDeleted { room, seq });
        } else if !silent {
            let verb = if pending.notice { Verb::Notice } else { Verb::Say };
            self.reject_command(out, pending.client, Some(verb), Rejection::StorageUnavailable);
        }
        out.end_reply(true);
        Ok(())
    }

    /// The sender's request is over without an echo from this node (its
    /// message was delivered without its ticket, or the room is not
    /// followed here): a tagged request still gets its acknowledgement.
    pub(crate) fn acknowledge(&self, out: &mut Outbox, pending: PendingPublish) {
        if let Some(tag) = pending.reply
            && self.clients.contains_key(&pending.client)
        {
            out.begin_reply(pending.client, tag);
            out.end_reply(true);
        }
    }
}
