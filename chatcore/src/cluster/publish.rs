//! A room message on its way through the store: published with a ticket,
//! and answered by the message coming back numbered or by the store
//! failing.

use crate::codec::{Codec, ReplyTag};
use crate::command::Verb;
use crate::error::{Error, Rejection};
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::{ClientId, Output};
use crate::turn::Turn;
use crate::world::World;

use super::{Cluster, ClusterRequest};

/// Names one [`Publication`] until the embedder answers it. Issued by the
/// engine, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublishTicket(pub(crate) u64);

impl PublishTicket {
    /// The ticket as a number, to carry in what the embedder stores or
    /// notifies.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// The ticket a number from [`as_u64`](Self::as_u64) stood for, read
    /// back from the store or the notifier.
    pub fn from_u64(number: u64) -> Self {
        Self(number)
    }
}

/// A room message a local client said, for the store to number: what
/// [`ClusterRequest::Publish`] carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// Pass back with the message, on this node, or to
    /// [`Engine::handle_publish_failed`](crate::Engine::handle_publish_failed).
    pub ticket: PublishTicket,
    /// The room's name as this engine knows it (compare names without
    /// regard to ASCII case).
    pub room: Box<str>,
    /// The sender's nickname.
    pub from: Box<str>,
    /// The sender's host, as IRC prefixes show it (see
    /// [`Hosts`](crate::Hosts)).
    pub host: Box<str>,
    /// The message.
    pub text: Box<str>,
    /// When it was said.
    pub unix_ms: u64,
    /// Whether it is a notice (IRC's NOTICE), which nobody answers.
    pub notice: bool,
}

impl Publication {
    /// The message as the store numbered it, `seq`, to feed back on this
    /// node with its ticket.
    ///
    /// ```
    /// use chatcore::{Publication, PublishTicket};
    /// let publication = Publication {
    ///     ticket: PublishTicket::from_u64(1),
    ///     room: "rust".into(),
    ///     from: "alice".into(),
    ///     host: "chatd".into(),
    ///     text: "hi".into(),
    ///     unix_ms: 0,
    ///     notice: false,
    /// };
    /// let message = publication.numbered(7);
    /// assert_eq!((message.seq, message.ticket), (7, Some(PublishTicket::from_u64(1))));
    /// ```
    pub fn numbered(&self, seq: u64) -> RoomMessage {
        RoomMessage {
            room: self.room.clone(),
            seq,
            from: self.from.clone(),
            host: self.host.clone(),
            text: self.text.clone(),
            unix_ms: self.unix_ms,
            notice: self.notice,
            ticket: Some(self.ticket),
        }
    }
}

/// A stored room message, for
/// [`Engine::handle_room_message`](crate::Engine::handle_room_message):
/// what a [`Publication`] carried, with the number the store gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMessage {
    /// The room's name (compared without regard to ASCII case).
    pub room: Box<str>,
    /// Its number in the room, from the store: 1, 2, 3, ...
    pub seq: u64,
    /// The sender's nickname.
    pub from: Box<str>,
    /// The sender's host.
    pub host: Box<str>,
    /// The message.
    pub text: Box<str>,
    /// When it was said.
    pub unix_ms: u64,
    /// Whether it is a notice.
    pub notice: bool,
    /// The publication's ticket, on the node that published it only (see
    /// the [`cluster`](crate::cluster) docs); `None` everywhere else.
    pub ticket: Option<PublishTicket>,
}

/// A publication waiting for its answer: who said it, and what ties the
/// answer to the request that said it.
#[derive(Debug)]
pub(crate) struct PendingPublish {
    pub(crate) client: ClientId,
    pub(crate) room: NameKey,
    /// The request's JSON `id` or IRC `label`, if it had one.
    pub(crate) reply: Option<ReplyTag>,
    pub(crate) notice: bool,
}

impl Cluster {
    /// Files a publication, under a fresh ticket.
    fn start(&mut self, pending: PendingPublish) -> PublishTicket {
        self.next_ticket += 1;
        let ticket = PublishTicket(self.next_ticket);
        self.publishes.insert(ticket, pending);
        ticket
    }

    /// Takes `ticket` off file if it is outstanding for the room `key`.
    pub(super) fn answer(&mut self, ticket: PublishTicket, key: &NameKey) -> Option<PendingPublish> {
        let pending = self.publishes.get(&ticket)?;
        if pending.room != *key {
            return None;
        }
        self.publishes.remove(&ticket)
    }
}

impl Turn<'_> {
    /// Asks the embedder to store a message the client may say in the room
    /// `key`, instead of numbering and delivering it here. What its
    /// request was told so far goes out now; its echo or acknowledgement
    /// comes with the numbered message.
    pub(crate) fn publish(&mut self, key: NameKey, text: &str, notice: bool) {
        let (world, id, now) = (&mut *self.world, self.id, self.now);
        let (Some(sender), Some(room)) = (world.clients.get(&id), world.rooms.get(&key)) else {
            return;
        };
        let reply = self.out.defer_reply(id);
        let ticket = world.cluster.start(PendingPublish { client: id, room: key, reply, notice });
        let publication = Publication {
            ticket,
            room: room.name.clone(),
            from: sender.nick.clone(),
            host: sender.host.clone(),
            text: text.into(),
            unix_ms: now.unix_ms,
            notice,
        };
        self.out.push(Output::Cluster(ClusterRequest::Publish(Box::new(publication))));
    }
}

impl World {
    /// The store could not keep a publication: its sender is refused as a
    /// failing store refuses it on a single node. `Err` if the ticket is
    /// not outstanding.
    pub(crate) fn publish_failed(&mut self, out: &mut Outbox, ticket: PublishTicket) -> Result<(), Error> {
        let pending = self.cluster.publishes.remove(&ticket).ok_or(Error::UnknownTicket(ticket))?;
        let Some(client) = self.clients.get(&pending.client) else { return Ok(()) };
        // IRC never answers a NOTICE with an error.
        let silent = pending.notice && client.codec() == Codec::Irc;
        if let Some(tag) = pending.reply {
            out.begin_reply(pending.client, tag);
        }
        if !silent {
            let verb = if pending.notice { Verb::Notice } else { Verb::Say };
            self.reject_command(out, pending.client, Some(verb), Rejection::StorageUnavailable);
        }
        out.end_reply(true);
        Ok(())
    }

    /// The sender's request is over without an echo from this node (its
    /// message was delivered without its ticket, or the room is not
    /// followed here): a tagged request still gets its acknowledgement.
    pub(super) fn acknowledge(&self, out: &mut Outbox, pending: PendingPublish) {
        if let Some(tag) = pending.reply
            && self.clients.contains_key(&pending.client)
        {
            out.begin_reply(pending.client, tag);
            out.end_reply(true);
        }
    }
}
