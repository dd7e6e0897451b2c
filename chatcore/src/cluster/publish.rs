//! A room message on its way through the store: what the engine
//! publishes with a ticket, and what comes back numbered. A deletion
//! travels the same way: it is a numbered room entry too.

use crate::record::MessageKind;

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
/// [`ClusterRequest::Publish`](super::ClusterRequest::Publish) carries.
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
    /// What the entry is: [`MessageKind::Said`] for a message, or
    /// [`MessageKind::Deletion`] of message `of` by `by`. A deletion's
    /// `from` is the deleted message's sender, `host` the deleter's, and
    /// `text` the deleter's reason (empty: none), which is told but not
    /// stored. Store a deletion, in the same transaction that numbers it,
    /// only if message `of` is stored as said: erase its text and mark it
    /// deleted by `by` at `unix_ms` (a tombstone,
    /// [`MessageKind::Deleted`]); otherwise (another node deleted it
    /// first, or the room was dropped) store nothing and answer
    /// [`Engine::handle_publish_failed`](crate::Engine::handle_publish_failed).
    /// The engine never publishes a tombstone.
    pub kind: MessageKind,
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
    ///     kind: chatcore::MessageKind::Said,
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
            kind: self.kind.clone(),
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
    /// What the entry is, as the store holds it now: a message said, a
    /// deletion, or a message deleted since (a tombstone: its `text` is
    /// gone), which a node that reads it late keeps in its history
    /// without telling anyone (the deletion that follows it tells).
    pub kind: MessageKind,
    /// The publication's ticket, on the node that published it only (see
    /// the [`cluster`](crate::cluster) docs); `None` everywhere else.
    pub ticket: Option<PublishTicket>,
}
