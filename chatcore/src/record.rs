//! Durable facts. With [`Config::emit_records`](crate::Config::emit_records)
//! on, every change worth keeping is emitted, in order, as
//! [`Output::Persist`](crate::Output::Persist); an engine is rebuilt from
//! stored records with [`Engine::restore`](crate::Engine::restore). The
//! engine itself never touches a disk.
//!
//! [`Record`] is exhaustive on purpose: a store that forgets a new kind of
//! record must fail to compile, not acknowledge it as durable unwritten.

use crate::account::PasswordHash;
use crate::token::{TokenHash, TokenId};

/// One durable fact for the embedder's store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A room was created.
    RoomCreated {
        /// Its name as created.
        room: Box<str>,
        /// When.
        unix_ms: u64,
        /// The account that created it, which may drop it; `None` for a
        /// room a guest created.
        owner: Option<Box<str>>,
    },
    /// The last member left a room: its idle time, after which it expires
    /// (see `Config::room_idle_expiry`), counts from here.
    RoomVacated {
        /// The room.
        room: Box<str>,
        /// When.
        unix_ms: u64,
    },
    /// A room's topic was set (`topic: None`: cleared).
    TopicSet {
        /// The room.
        room: Box<str>,
        /// The new topic, if any.
        topic: Option<Box<str>>,
        /// Who set it.
        by: Box<str>,
        /// When.
        unix_ms: u64,
    },
    /// A room's modes, bans or remembered operators changed: this is now
    /// all of them (see [`StoredModes`]). A room with no such record has
    /// the modes a new room starts with.
    RoomModesSet {
        /// The room.
        room: Box<str>,
        /// Its modes now.
        modes: StoredModes,
    },
    /// A room was removed, by its owner or because it stayed empty too
    /// long, with all its history: forget it and its messages. A room of
    /// the same name may be created again later, numbering from 1.
    RoomDropped {
        /// The room.
        room: Box<str>,
    },
    /// A room message was deleted: the store erases its text, keeping
    /// its row as a tombstone (its number, sender and time, who deleted it
    /// and when: [`MessageKind::Deleted`]), and keeps the deletion itself
    /// as the room's next numbered entry, `event` (a row of kind
    /// [`MessageKind::Deletion`], sent by `from`, at `unix_ms`, with no
    /// text), so that a reader who resumes after a number it saw learns of
    /// deletions since.
    MessageDeleted {
        /// The room's name as created.
        room: Box<str>,
        /// The number of the message deleted.
        seq: u64,
        /// Who said it (its sender's nickname then).
        from: Box<str>,
        /// Who deleted it.
        by: Box<str>,
        /// When.
        unix_ms: u64,
        /// The deletion's own number in the room: the room's next, as a
        /// message would have had.
        event: u64,
    },
    /// A message was said in a room.
    Message {
        /// The room's name as created.
        room: Box<str>,
        /// The message, numbered within the room: 1, 2, 3, ... with no gaps.
        message: StoredMessage,
    },
    /// An account was registered.
    AccountCreated {
        /// Its name.
        name: Box<str>,
        /// Its password hash (never log it).
        hash: PasswordHash,
        /// When.
        unix_ms: u64,
    },
    /// An account logged in from a source it had not logged in from before
    /// (kept: at most `Config::max_known_sources` per account, the newest).
    /// Logins from a known source are exempt from the per-account throttle.
    KnownSource {
        /// The account.
        account: Box<str>,
        /// The source, as [`SourceKey`](crate::SourceKey)'s text form.
        source: crate::SourceKey,
    },
    /// An account was last online at this time (written at login and at
    /// disconnect).
    LastSeen {
        /// The account.
        account: Box<str>,
        /// When.
        unix_ms: u64,
    },
    /// A whisper between two accounts, kept as part of their conversation
    /// (see `Config::conversation_history_len`). Whispers are numbered
    /// across the whole server, 1, 2, 3, ...: within one conversation the
    /// numbers increase but skip those of others. A store keeps the newest
    /// `conversation_history_len` of each conversation and may forget older
    /// ones; the newest of all must stay, because numbering carries on from
    /// it after a restart.
    Whisper {
        /// The receiving account, as registered.
        to: Box<str>,
        /// The whisper; `from` is the sending account, as registered.
        message: StoredMessage,
    },
    /// A whisper was kept for an offline account.
    OfflineKept {
        /// The recipient account.
        to: Box<str>,
        /// The sender's nickname.
        from: Box<str>,
        /// The message.
        text: Box<str>,
        /// When it was sent.
        unix_ms: u64,
        /// Its number in the conversation, when a [`Record::Whisper`]
        /// with that number kept it there too (the sender is always an
        /// account, so it is unless the engine keeps no conversations).
        seq: Option<u64>,
    },
    /// Everything kept for the account was delivered.
    OfflineDelivered {
        /// The recipient account.
        to: Box<str>,
    },
    /// An account blocked a name.
    Blocked {
        /// The account that blocks.
        account: Box<str>,
        /// The blocked name as typed.
        name: Box<str>,
    },
    /// An account unblocked a name.
    Unblocked {
        /// The account.
        account: Box<str>,
        /// The unblocked name.
        name: Box<str>,
    },
    /// An account's password was changed (`/password`); every session
    /// token of the account is revoked by a [`Record::TokensRevoked`] that
    /// follows.
    PasswordChanged {
        /// The account.
        account: Box<str>,
        /// Its new password hash (never log it).
        hash: PasswordHash,
    },
    /// A session token was issued to an account. Only its hash is kept:
    /// the token itself was shown once, to the client that asked.
    TokenIssued {
        /// The account it logs in to.
        account: Box<str>,
        /// Its id, which a presented token names.
        id: TokenId,
        /// The hash a presented token must match.
        hash: TokenHash,
        /// When it was issued (wall clock).
        created_ms: u64,
        /// When it stops working (wall clock). A store may delete it from then on.
        expires_ms: u64,
    },
    /// A session token was revoked (`/revoke`, or dropped as its account's
    /// oldest over `Config::max_session_tokens`): delete it.
    TokenRevoked {
        /// The account it belonged to.
        account: Box<str>,
        /// Which token.
        id: TokenId,
    },
    /// Every session token of an account was revoked (`/logout-all`, a
    /// password change): delete them all.
    TokensRevoked {
        /// The account.
        account: Box<str>,
    },
    /// An account was made a server operator (chatd: `chatd op grant`),
    /// besides those [`Config::operators`](crate::Config::operators) names.
    /// The engine never emits it: grants are made while the server is
    /// stopped, and restored. The account need not exist yet.
    OperatorGranted {
        /// The account, as typed; compared without regard to ASCII case.
        account: Box<str>,
    },
    /// A grant was taken back (chatd: `chatd op revoke`). An account the
    /// config names stays an operator.
    OperatorRevoked {
        /// The account.
        account: Box<str>,
    },
    /// An account turned always-on on or off: whether it stays in its
    /// rooms while none of its connections is.
    AlwaysOn {
        /// The account, as registered.
        account: Box<str>,
        /// Whether it is on.
        on: bool,
    },
    /// An always-on account joined a room (`joined`), or left it: what
    /// puts it back in its rooms after a restart.
    AccountRoom {
        /// The account, as registered.
        account: Box<str>,
        /// The room, as created.
        room: Box<str>,
        /// Joined (true) or left (false).
        joined: bool,
    },
    /// An account's read marker moved forward: it has read `target` up to
    /// message `seq` (a room's number, or a whisper's number among all
    /// whispers). A store keeps one per account and target, the one with
    /// the greatest `seq` (an upsert that never moves back), and forgets a
    /// room's markers with the room ([`Record::RoomDropped`]).
    ReadMarker {
        /// The account, as registered.
        account: Box<str>,
        /// The room or conversation read.
        target: ReadTarget,
        /// The number of the newest message read.
        seq: u64,
        /// That message's time, as far as the engine knew it (what IRC's
        /// `draft/read-marker` shows the marker as).
        unix_ms: u64,
    },
}

/// What a read marker ([`Record::ReadMarker`]) is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReadTarget {
    /// A room, by its name as created.
    Room(Box<str>),
    /// The account's whispers with another account, by its name as
    /// registered.
    Conversation(Box<str>),
}

impl ReadTarget {
    /// The name the target goes by: the room's or the other account's.
    pub fn name(&self) -> &str {
        match self {
            ReadTarget::Room(name) | ReadTarget::Conversation(name) => name,
        }
    }
}

/// A room message or a whisper between accounts: what a room keeps in
/// memory for replay, what [`Record::Message`] and [`Record::Whisper`]
/// carry to the store, and what the store returns for an
/// [`Output::FetchHistory`](crate::Output::FetchHistory) request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Its number: within the room, or among all whispers.
    pub seq: u64,
    /// The sender's nickname then.
    pub from: Box<str>,
    /// The message.
    pub text: Box<str>,
    /// When.
    pub unix_ms: u64,
    /// Said, deleted since, or a deletion (room messages only; a whisper
    /// is always [`MessageKind::Said`]).
    pub kind: MessageKind,
}

/// What a numbered entry of a room's history is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MessageKind {
    /// A message as it was said.
    #[default]
    Said,
    /// A message that was deleted: its `text` is erased (empty); `by`
    /// deleted it at `unix_ms`. Pages show it as a tombstone.
    Deleted {
        /// Who deleted it.
        by: Box<str>,
        /// When.
        unix_ms: u64,
    },
    /// Not a message: the deletion of message `of`, which the entry's
    /// `from` had said, by `by`, at the entry's `unix_ms`; its `text` is
    /// empty. It takes a number of the room's so that a reader resuming
    /// after a number learns of the deletions since.
    Deletion {
        /// The number of the message deleted.
        of: u64,
        /// Who deleted it.
        by: Box<str>,
    },
}

/// What a room keeps of its modes across restarts: its flags, key, limit,
/// bans, and the accounts it makes operators on entry (besides its owner).
/// Invitations, voices and a guest's operator status are not kept: they
/// belong to the people in the room, and a restart ends every session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredModes {
    /// `+i`: joining needs an invitation.
    pub invite_only: bool,
    /// `+m`: only operators and voiced members speak.
    pub moderated: bool,
    /// `+s`: left out of `/list` and WHOIS for non-members.
    pub secret: bool,
    /// `+t`: only operators set the topic.
    pub topic_locked: bool,
    /// `-n`: non-members may send to the room.
    pub external_messages: bool,
    /// `+k`: the key joining needs.
    pub key: Option<Box<str>>,
    /// `+l`: the most members.
    pub limit: Option<u32>,
    /// `+b`: ban masks (`nick!user@host`), oldest first.
    pub bans: Vec<Box<str>>,
    /// Accounts made operators whenever they join (`+o` given to a member
    /// logged in to one), as registered, oldest first.
    pub operators: Vec<Box<str>>,
}

/// A record that cannot be restored. The store is inconsistent, or records
/// came in the wrong order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// The configuration given to [`Engine::restore`](crate::Engine::restore)
    /// is refused.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The record names a room that was not restored first.
    #[error("record for room {0}, which was never created")]
    UnknownRoom(Box<str>),
    /// The record names an account that was not restored first.
    #[error("record for account {0}, which was never created")]
    UnknownAccount(Box<str>),
    /// A room or account name breaks the naming rules.
    #[error("{name} is not a valid name: {reason}")]
    InvalidName {
        /// The name.
        name: Box<str>,
        /// Which rule it breaks.
        reason: crate::names::NameError,
    },
    /// A room or account is created twice.
    #[error("{0} is created twice")]
    Duplicate(Box<str>),
    /// Messages of a room must come in increasing `seq` order.
    #[error("message {seq} of room {room} is not newer than the last one restored")]
    OutOfOrder {
        /// The room.
        room: Box<str>,
        /// The offending number.
        seq: u64,
    },
    /// Whispers must come in increasing `seq` order.
    #[error("whisper {seq} is not newer than the last one restored")]
    WhisperOutOfOrder {
        /// The offending number.
        seq: u64,
    },
}
