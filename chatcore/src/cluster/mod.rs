//! Several engines, one chat: what an embedder does to run chatcore as
//! one node of a cluster, with [`Config::cluster`](crate::Config::cluster)
//! on.
//!
//! Each node runs its own [`Engine`](crate::Engine) for its own
//! connections. A store all nodes share (chatd: PostgreSQL) is the one
//! source of truth; a notifier (chatd: a Redis Stream per room) tells the
//! nodes of what was stored quickly, but may lose, repeat or reorder what
//! it carries. The engine stays sans-IO: what needs the cluster comes out
//! as an [`Output::Cluster`](crate::Output::Cluster) with a
//! [`ClusterRequest`], and the embedder answers with a later input, as it
//! answers a password check.
//!
//! # Room messages
//!
//! A room's messages are numbered by the store, 1, 2, 3, ... per room, in
//! the transaction that stores each one.
//!
//! 1. When a local client says something in a room and every check passes,
//!    the engine numbers nothing and delivers nothing: it emits
//!    [`ClusterRequest::Publish`] with a [`Publication`] and a
//!    [`PublishTicket`]. Store it in a transaction that gives it the room's
//!    next number, then tell every node of it (this one too).
//!    If storing fails, answer
//!    [`Engine::handle_publish_failed`](crate::Engine::handle_publish_failed)
//!    with the ticket: the sender is refused as a failing store refuses it
//!    on a single node (`storage_unavailable`). Answer every publication,
//!    one way or the other: the engine keeps each until it is answered.
//! 2. Every node feeds every stored message of a room it follows to
//!    [`Engine::handle_room_message`](crate::Engine::handle_room_message) as
//!    a [`RoomMessage`], with the number the store gave it, in any order,
//!    any number of times. On the node that published it, give the
//!    message its ticket on whichever copy reaches the engine first: put
//!    the node's identity and the ticket in what you store or notify, and
//!    pass the ticket back when the identity is this node's. That copy is
//!    the sender's echo (JSON always, IRC with `echo-message`, tagged with
//!    its request's `id` or `label`); without it, a sender that does not
//!    echo would hear its own message. Every other node, and every other
//!    copy, passes no ticket. A sender who left meanwhile is no error.
//! 3. A room delivers its messages to its local members strictly in order.
//!    A number already delivered is dropped (counted in
//!    [`Stats::cluster_duplicates`](crate::Stats::cluster_duplicates)).
//!    A number after a missing one is held, up to
//!    [`Config::cluster_max_held`](crate::Config::cluster_max_held) per room
//!    (past it the room drops what it holds); if the gap is still open
//!    after [`Config::cluster_gap_wait`](crate::Config::cluster_gap_wait),
//!    the engine emits [`ClusterRequest::Backfill`] (through
//!    [`Engine::poll_timeout`](crate::Engine::poll_timeout) and
//!    [`Engine::handle_timeout`](crate::Engine::handle_timeout)), and again
//!    after each further wait while the gap stays open. Answer it by
//!    reading the messages it names from the store and feeding them to
//!    `handle_room_message`; what arrived meanwhile is dropped as a
//!    duplicate. Only a later number shows a gap: a notifier that may
//!    lose a room's last message also tells the engine, now and then,
//!    the newest number the store gave the room
//!    ([`Engine::handle_room_head`](crate::Engine::handle_room_head)),
//!    which opens a gap if messages before it are missing.
//! 4. A node follows only the rooms it has local members in: the engine
//!    emits [`ClusterRequest::Follow`] when a room gains its first local
//!    member and [`ClusterRequest::Unfollow`] when it loses its last. On
//!    `Follow`, start reading the room's notifications and feed every
//!    stored message numbered after its `after` (a backfill from there); on
//!    `Unfollow`, stop. A message for a room with no local members, or for
//!    a room the engine does not know, is ignored and counted
//!    ([`Stats::cluster_ignored`](crate::Stats::cluster_ignored)): a
//!    notification and an `Unfollow` race.
//!
//! The engine then guarantees every local member of a room hears the
//! room's stored messages in the store's order, each once, and never
//! after a gap: a member who stays in a room hears every message
//! numbered from its joining on, each as soon as it and all before it
//! have arrived (a missing one is asked for until it comes).
//!
//! A room this node did not follow for a while has a stale ring of
//! history: a newcomer gets the ring's replay as it stands, then the
//! messages it missed arrive, in order, as the backfill from `Follow`
//! feeds them (each live, not as history), then the new ones.
//!
//! # What the embedder stores
//!
//! With `cluster` on, a room message never comes as
//! [`Output::Persist`](crate::Output::Persist) with a
//! [`Record::Message`](crate::Record::Message): the embedder stores it
//! itself, from the `Publish`, under the number its store gives it. Every
//! other durable change (rooms, topics, modes, accounts, whispers, blocks,
//! last-seen times) still comes as `Output::Persist`, with
//! [`Config::emit_records`](crate::Config::emit_records), as on a single
//! node; and older history is still fetched with
//! [`Output::FetchHistory`](crate::Output::FetchHistory). A node starting
//! is restored ([`Engine::restore`](crate::Engine::restore)) as a single
//! node is, each room's last stored messages given as `Record::Message`
//! under the store's numbers: the room's frontier follows the last.
//!
//! A room dropped ([`Record::RoomDropped`](crate::Record::RoomDropped),
//! which is also how a guest's room that empties starts anew) forgets its
//! messages, and its numbering starts again: the store numbers its next
//! message 1, and the engine follows it from 0. Which rooms exist is each
//! node's own, from its records: a room must exist on a node for its
//! clients to join it there.
//!
//! # Misuse
//!
//! A ticket is answered once: by `handle_publish_failed`, or by the first
//! copy of its message that is new to the engine. Answering a ticket that
//! was never issued or was answered already is
//! [`Error::UnknownTicket`](crate::Error::UnknownTicket), and changes
//! nothing; a repeated copy of a message that carries its ticket again is
//! not misuse (repeats are harmless).

mod publish;

pub use publish::{Publication, PublishTicket, RoomMessage};

/// What the engine asks of the cluster, as
/// [`Output::Cluster`](crate::Output::Cluster). Never emitted unless
/// [`Config::cluster`](crate::Config::cluster) is on. See the module docs
/// for what to do with each and which input answers it.
///
/// Exhaustive like [`Output`](crate::Output): each is work the embedder
/// must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterRequest {
    /// Store this room message under the room's next number, then tell
    /// every node of it; answer
    /// [`Engine::handle_publish_failed`](crate::Engine::handle_publish_failed)
    /// if it cannot be stored. Boxed: it is the largest request, and a
    /// small [`Output`](crate::Output) keeps a broadcast cheap.
    Publish(Box<Publication>),
    /// Feed the room's stored messages numbered `after + 1` to `upto`
    /// (both included) to
    /// [`Engine::handle_room_message`](crate::Engine::handle_room_message):
    /// some of them have not arrived.
    Backfill {
        /// The room's name as this engine knows it (compare names without
        /// regard to ASCII case).
        room: Box<str>,
        /// The last number delivered here.
        after: u64,
        /// The highest number heard of.
        upto: u64,
    },
    /// The room gained its first local member: start feeding its stored
    /// messages, from those numbered after `after`, to
    /// [`Engine::handle_room_message`](crate::Engine::handle_room_message).
    Follow {
        /// The room's name as this engine knows it.
        room: Box<str>,
        /// The last number this engine delivered or restored (0: none).
        after: u64,
    },
    /// The room lost its last local member: stop feeding its messages.
    Unfollow {
        /// The room's name as this engine knows it.
        room: Box<str>,
    },
}
