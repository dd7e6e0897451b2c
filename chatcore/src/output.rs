//! What the engine asks its embedder to do.

use std::fmt;

use bytes::Bytes;

use crate::account::{AuthRequestId, PasswordHash};
use crate::cluster::ClusterRequest;
use crate::credentials::Password;
use crate::error::code_table;
use crate::record::Record;

/// Identifies one connection for its whole life. Issued by
/// [`Engine::handle_connect`](crate::Engine::handle_connect) and never
/// reused, so a stale id is always detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(pub(crate) u64);

impl ClientId {
    /// The id as a number, for logs and maps in the embedder.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client#{}", self.0)
    }
}

/// Why a client is leaving. Shown to those who shared a room with it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client said `/quit`, maybe with a reason of its own.
    Quit(Option<Box<str>>),
    /// The peer closed the connection.
    ConnectionClosed,
    /// The connection failed (reset, timed out, ...).
    ConnectionError,
    /// The client did not read fast enough and its send queue filled up.
    SendQueueExceeded,
    /// The server already had `Config::max_clients` clients.
    ServerFull,
    /// The client sent no complete line within `Config::registration_timeout`.
    RegistrationTimeout,
    /// The server is shutting down; the client may reconnect at once (to
    /// another server sharing the address, or to this one once restarted).
    ServerShutdown,
    /// The client was silent for `Config::idle_timeout`.
    IdleTimeout,
    /// The same account logged in on another connection.
    LoggedInElsewhere,
    /// An IRC client registered without the server password of its port
    /// ([`ConnectInfo::irc_password`](crate::ConnectInfo::irc_password)).
    WrongServerPassword,
    /// The account's owner revoked every session token (`/logout-all`, or
    /// a password change) from another connection, which ends this one.
    LoggedOut,
    /// In a cluster, the other nodes refused every guest name it was
    /// offered ([`MAX_GUEST_ATTEMPTS`](crate::cluster::MAX_GUEST_ATTEMPTS)).
    NameUnavailable,
    /// A server operator closed the connection (`/kill`, IRC `KILL`).
    Killed {
        /// The operator's nickname.
        by: Box<str>,
        /// The reason it gave, if any.
        reason: Option<Box<str>>,
    },
}

impl DisconnectReason {
    /// A stable, machine-readable code for it, which JSON's `bye` carries
    /// (the reason's text may change; this does not). [`BYE_CODES`] lists
    /// them all.
    ///
    /// ```
    /// use chatcore::DisconnectReason;
    /// assert_eq!(DisconnectReason::ServerShutdown.code(), "shutdown");
    /// assert_eq!(DisconnectReason::Quit(Some("bye".into())).code(), "quit");
    /// ```
    pub fn code(&self) -> &'static str {
        self.row().0
    }

    /// Whether the client is asked to reconnect at once: the server is
    /// going away, not refusing this client. JSON's `bye` says so with
    /// `"reconnect":true`, and the reason's words end in `reconnect`.
    ///
    /// ```
    /// use chatcore::DisconnectReason;
    /// assert!(DisconnectReason::ServerShutdown.invites_reconnect());
    /// assert!(!DisconnectReason::IdleTimeout.invites_reconnect());
    /// ```
    pub fn invites_reconnect(&self) -> bool {
        matches!(self, DisconnectReason::ServerShutdown)
    }
}

code_table! {
    /// Every stable code of a JSON `bye` (a [`DisconnectReason`]), each
    /// once, in no promised order. Written from the same table as
    /// [`DisconnectReason::code`], so no reason has a code missing from it.
    ///
    /// ```
    /// use chatcore::BYE_CODES;
    /// assert!(BYE_CODES.iter().any(|bye| bye.code == "logged_in_elsewhere"));
    /// ```
    pub const BYE_CODES: &[ByeCode];
    impl DisconnectReason {
        /// Each reason's stable code and its words for people (a quit's
        /// own reason follows them): the one place both are chosen.
        fn row(&self) -> (&'static str, &'static str) {
            match self {
                DisconnectReason::Quit(_) => ("quit", "quit"),
                DisconnectReason::ConnectionClosed => ("connection_closed", "connection closed"),
                DisconnectReason::ConnectionError => ("connection_error", "connection error"),
                DisconnectReason::SendQueueExceeded => ("send_queue_full", "send queue exceeded"),
                DisconnectReason::ServerFull => ("server_full", "server is full; try again later"),
                DisconnectReason::RegistrationTimeout => ("registration_timeout", "no input received in time"),
                DisconnectReason::ServerShutdown => ("shutdown", "server is shutting down; reconnect"),
                DisconnectReason::IdleTimeout => ("idle", "idle for too long"),
                DisconnectReason::LoggedInElsewhere => ("logged_in_elsewhere", "logged in from elsewhere"),
                DisconnectReason::WrongServerPassword => ("wrong_server_password", "wrong server password"),
                DisconnectReason::LoggedOut => ("logged_out", "logged out by the account's owner"),
                DisconnectReason::NameUnavailable => ("name_unavailable", "no guest name is free; try again later"),
                DisconnectReason::Killed { .. } => ("killed", "disconnected by a server operator"),
            }
        }
    }
}

/// A stable code of a JSON `bye`, as [`BYE_CODES`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ByeCode {
    /// The code, as the `bye` object's `code` carries it: lowercase ASCII
    /// letters, digits and underscores.
    pub code: &'static str,
}

impl ByeCode {
    const fn new(code: &'static str) -> Self {
        Self { code }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.row().1)?;
        match self {
            DisconnectReason::Quit(Some(reason)) => write!(f, ": {reason}"),
            DisconnectReason::Killed { by, reason: Some(reason) } => write!(f, " {by}: {reason}"),
            DisconnectReason::Killed { by, reason: None } => write!(f, " {by}"),
            _ => Ok(()),
        }
    }
}

/// One instruction to the embedder, drained with
/// [`Engine::poll_output`](crate::Engine::poll_output) in order.
///
/// Exhaustive on purpose: every variant is something the embedder must
/// carry out, so a `match` that forgets one (after an upgrade adds it)
/// fails to compile instead of silently dropping work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Write `data` (one or more complete lines) to the client.
    Send {
        /// The recipient.
        to: ClientId,
        /// The encoded lines.
        data: Bytes,
    },
    /// Write the same `data` to every client in `to`, as if it were one
    /// [`Output::Send`] per recipient in this place of the order. One
    /// buffer and one list per broadcast (per codec in use), however many
    /// recipients: the embedder iterates the ids.
    Broadcast {
        /// The recipients, each once, sorted by id.
        to: Vec<ClientId>,
        /// The encoded lines, the same for all of them.
        data: Bytes,
    },
    /// Flush what was sent to the client so far, then close its connection.
    /// The engine has already forgotten the client: later input or a
    /// disconnect for it is ignored.
    Close {
        /// The client to close.
        client: ClientId,
        /// Why, for logs.
        reason: DisconnectReason,
    },
    /// Hash `password` (chatd: argon2id) off the engine's thread, then call
    /// [`Engine::handle_password_hashed`](crate::Engine::handle_password_hashed).
    HashPassword {
        /// Pass back with the answer.
        request: AuthRequestId,
        /// The password to hash. Never log it.
        password: Password,
    },
    /// Check `password` against `hash` off the engine's thread, then call
    /// [`Engine::handle_password_verified`](crate::Engine::handle_password_verified).
    /// `hash` is `None` when no account has that name: do the same work
    /// against a stand-in hash of your own and answer `false`, so that a
    /// login to a missing account takes as long as a wrong password and
    /// names cannot be probed by timing.
    VerifyPassword {
        /// Pass back with the answer.
        request: AuthRequestId,
        /// The password to check. Never log it.
        password: Password,
        /// The account's stored hash, or `None` for a name with no account.
        hash: Option<PasswordHash>,
    },
    /// Draw 32 bytes from a cryptographically secure random source (the
    /// operating system's: `getrandom`), then call
    /// [`Engine::handle_token_secret`](crate::Engine::handle_token_secret):
    /// a client asked for a session token, and the engine has no
    /// randomness of its own. Cheap: answer at once, or when convenient.
    NewToken {
        /// Pass back with the answer.
        request: AuthRequestId,
    },
    /// Store this durable fact (only with `Config::emit_records`). Records
    /// come in the order the changes happened; an embedder that promises
    /// durability stores the records of a batch of inputs before it
    /// delivers that batch's [`Output::Send`]s.
    ///
    /// Boxed: records are rare next to sends, and a small `Output` keeps
    /// the per-recipient cost of a broadcast down.
    Persist(Box<Record>),
    /// Read up to `limit` messages of `target` from the store, the page
    /// `range` names (the newest below a number, or the oldest above one),
    /// then call
    /// [`Engine::handle_history_page`](crate::Engine::handle_history_page)
    /// with the same `target` (only with `Config::emit_records`).
    ///
    /// Since 0.4 the page is a [`HistoryRange`] (it was `before: u64`):
    /// clients that reconnect page forward from the last message they saw.
    FetchHistory {
        /// Who asked.
        client: ClientId,
        /// Which history: a room's messages or a conversation's whispers.
        target: HistoryTarget,
        /// Which page: the messages just below a number, or just above it.
        range: HistoryRange,
        /// At most this many: the newest of them for
        /// [`HistoryRange::Before`], the oldest for [`HistoryRange::After`].
        limit: usize,
    },
    /// Work only the cluster this engine is a node of can do: publish a
    /// room message, backfill a gap, follow or unfollow a room, claim or
    /// release a name, tell the other nodes of a presence change or a
    /// whisper. Never emitted unless
    /// [`Config::cluster`](crate::Config::cluster) is on; the
    /// [`cluster`](crate::cluster) module docs say what to do with each.
    Cluster(ClusterRequest),
    /// A server operator did something only operators may (a broadcast,
    /// a kill, dropping a room it does not own, OPER): log it with who
    /// did it. Nothing else to carry out: the engine has done it already.
    /// Boxed, as it is rare.
    OperatorAction(Box<OperatorAction>),
}

/// What a server operator did, as [`Output::OperatorAction`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperatorAction {
    /// The operator's connection.
    pub client: ClientId,
    /// The operator account it is logged in to, as registered.
    pub account: Box<str>,
    /// What it did.
    pub action: OperatorActionKind,
}

/// The kinds of [`OperatorAction`]. Informational, so `#[non_exhaustive]`:
/// a new kind is only a new log line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OperatorActionKind {
    /// IRC's OPER was accepted.
    Oper,
    /// A broadcast to every user online.
    Broadcast {
        /// What it said.
        text: Box<str>,
    },
    /// A user's connection was closed.
    Kill {
        /// The nickname it had.
        nick: Box<str>,
        /// The reason given, if any.
        reason: Option<Box<str>>,
    },
    /// A room was dropped, by an operator that does not own it.
    DropRoom {
        /// The room.
        room: Box<str>,
    },
}

impl OperatorActionKind {
    /// A short name for logs: `oper`, `broadcast`, `kill` or `drop`.
    ///
    /// ```
    /// use chatcore::OperatorActionKind;
    /// assert_eq!(OperatorActionKind::Oper.name(), "oper");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            OperatorActionKind::Oper => "oper",
            OperatorActionKind::Broadcast { .. } => "broadcast",
            OperatorActionKind::Kill { .. } => "kill",
            OperatorActionKind::DropRoom { .. } => "drop",
        }
    }

    /// What it was done to, for logs: the nickname killed, the room
    /// dropped, the text broadcast; empty for OPER.
    ///
    /// ```
    /// use chatcore::OperatorActionKind;
    /// assert_eq!(OperatorActionKind::DropRoom { room: "rust".into() }.target(), "rust");
    /// ```
    pub fn target(&self) -> &str {
        match self {
            OperatorActionKind::Oper => "",
            OperatorActionKind::Broadcast { text } => text,
            OperatorActionKind::Kill { nick, .. } => nick,
            OperatorActionKind::DropRoom { room } => room,
        }
    }
}

/// The history an [`Output::FetchHistory`] asks for, and its answer is about.
///
/// Exhaustive like [`Output`]: each kind is read from a different place in
/// the store, and one a store forgets must fail to compile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HistoryTarget {
    /// A room's messages, as [`Record::Message`] stored them, by the room's
    /// name (compare names without regard to ASCII case).
    Room(Box<str>),
    /// The whispers between two accounts, as
    /// [`Record::Whisper`](crate::Record::Whisper) stored them, whichever of
    /// the two sent each. Names as registered; compare them without regard
    /// to ASCII case.
    Conversation {
        /// The account that asked.
        account: Box<str>,
        /// The other account.
        with: Box<str>,
    },
}

/// Which page of a history an [`Output::FetchHistory`] asks for, by
/// message number (`seq`, per room; per server for whispers).
///
/// Exhaustive: a store that reads only one direction must fail to compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryRange {
    /// The newest messages numbered below this one: a page back.
    Before(u64),
    /// The oldest messages numbered above this one: a page forward, as a
    /// client that reconnects asks for everything after the last message
    /// it saw.
    After(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every output pays for the largest variant: a cluster request must
    /// not make a single node's broadcasts dearer.
    #[test]
    fn a_cluster_request_makes_no_output_larger_than_a_broadcast() {
        let broadcast = size_of::<(Vec<ClientId>, bytes::Bytes)>();
        assert!(size_of::<ClusterRequest>() <= broadcast, "{} > {broadcast}", size_of::<ClusterRequest>());
    }
}
