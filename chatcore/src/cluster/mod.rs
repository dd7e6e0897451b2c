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
//! answers a password check. With cluster mode off, no request is ever
//! made and no answer is expected.
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
//! ## Deletions
//!
//! A deletion is a numbered room entry too (see
//! [`MessageKind`](crate::MessageKind)): when a local client deletes a
//! message, the engine judges it as a single node does (the message is
//! in the room's ring, said and not deleted, and the client may delete
//! it), then publishes it as a [`Publication`] whose `kind` is
//! [`MessageKind::Deletion`](crate::MessageKind::Deletion). The store
//! numbers it as it numbers a message, in a transaction that also erases
//! the deleted message's text and marks it deleted (see
//! [`Publication::kind`]), or declines it if that message is not stored
//! as said any more (another node deleted it first): answer
//! `handle_publish_failed` then, and the deleter hears `already_deleted`.
//! Feed it back, and read it in backfills, as any stored message, with
//! its `kind`; a message deleted since it was stored is read back as its
//! tombstone ([`MessageKind::Deleted`](crate::MessageKind::Deleted)).
//! Each node makes the deletion when its number comes, as a single node
//! makes one: the ring keeps the tombstone and the deletion, and every
//! local member is told (the deleter too, with its request's `id` or
//! `label`). A tombstone that arrives (a message deleted before this
//! node read it) is kept untold: the deletion after it tells.
//!
//! # What the embedder stores
//!
//! With `cluster` on, a room message never comes as
//! [`Output::Persist`](crate::Output::Persist) with a
//! [`Record::Message`](crate::Record::Message), nor a deletion with a
//! [`Record::MessageDeleted`](crate::Record::MessageDeleted): the
//! embedder stores each itself, from the `Publish`, under the number its
//! store gives it. Every
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
//! message 1, and the engine follows it from 0. Which rooms exist is
//! each node's records and the other nodes' (see below): a room must
//! exist on a node for its clients to join it there.
//!
//! # Durable changes of other nodes
//!
//! Each node stores its own records; the embedder carries every record
//! one node stores to every other node (chatd: a change feed in its
//! store), which feeds it to
//! [`Engine::handle_remote_record`](crate::Engine::handle_remote_record).
//! There it applies as it would in a restore, and the node's clients
//! see what they would had the change been made on their node:
//!
//! * A room created elsewhere is created here (with its owner), and may
//!   be joined here; a topic or modes set elsewhere are set here, and the
//!   room's local members are told (a mode change as made by the server,
//!   since the record does not say who made it); a ban set elsewhere
//!   refuses a join here. Invitations and members' statuses stay: they
//!   belong to this node's sessions.
//! * A room dropped elsewhere (by its owner, by expiry, or started anew
//!   as an emptied guest's room is) is dropped here: its local members
//!   are told as of a `/drop`, their presence changes and the
//!   [`ClusterRequest::Unfollow`] are emitted as for one, and its history
//!   is gone. A room's idle time moves only while it has no members here,
//!   local or remote.
//! * Accounts registered elsewhere may log in here; their blocks, known
//!   sources and last-seen times (but for an account logged in here)
//!   follow. A whisper kept elsewhere for an account waits in its mailbox
//!   here, or is delivered at once to its session here, as at login: the
//!   [`Record::OfflineDelivered`](crate::Record::OfflineDelivered) this
//!   emits is this node's own. Whispers' numbers move on past each one
//!   stored elsewhere.
//! * A deletion stored elsewhere
//!   ([`Record::MessageDeleted`](crate::Record::MessageDeleted), which
//!   the embedder may add to what it carries when its store numbers a
//!   deletion) erases the message from this node's memory at once, and
//!   nothing more: a room this node does not follow keeps a ring of
//!   history a newcomer's replay shows, and it must not show the text
//!   until the deletion's numbered entry arrives. That entry still comes
//!   as a [`RoomMessage`], and tells the room's members.
//! * Nothing applied emits a record again ([`Output::Persist`](crate::Output::Persist)):
//!   it is stored already. A record this node cannot apply (a room or
//!   account it does not have, a creation of one it has, a table at its
//!   limit, or a [`Record::Message`](crate::Record::Message), which comes
//!   as a [`RoomMessage`]) is ignored and counted in
//!   [`Stats::remote_records_ignored`](crate::Stats::remote_records_ignored).
//!
//! Feed each node's records in the order it stored them, each once. A
//! repeat in its place changes nothing more (a topic is not told again,
//! a kept whisper not kept twice, a creation is counted as ignored); one
//! out of its place acts again (a drop repeated after the room was
//! created again drops it). Records of different nodes may interleave,
//! and so may records and presence changes: a join to a room whose
//! record has not come yet is kept (see Presence), a part from a room
//! dropped here already is ignored and counted. A room's life (creation,
//! expiry, `/drop`, a guest's room started anew) is decided by the node
//! where it happens and follows elsewhere by these records; a room two
//! nodes create before either hears of the other is one room, and each
//! keeps the owner it gave it.
//!
//! # Misuse of tickets
//!
//! A ticket is answered once: by `handle_publish_failed`, or by the first
//! copy of its message that is new to the engine. Answering a ticket that
//! was never issued or was answered already is
//! [`Error::UnknownTicket`](crate::Error::UnknownTicket), and changes
//! nothing; a repeated copy of a message that carries its ticket again is
//! not misuse (repeats are harmless).

//!
//! # Names: claims and releases
//!
//! A nickname is unique across the whole cluster, compared without regard
//! to ASCII case. Before a local client takes a name that no client of
//! this node holds (a guest's `Guest<N>` at connect, `/nick`, IRC's `NICK`
//! before and after its welcome, an account's name as it logs in or
//! registers), the engine checks it locally as a single node does, then
//! emits [`ClusterRequest::ClaimName`] and waits:
//!
//! * The embedder asks its registry whether another node holds the name
//!   and answers [`Engine::handle_name_claim`](crate::Engine::handle_name_claim)
//!   with the claim's [`ClaimId`] and [`ClaimAnswer::Granted`] or
//!   [`ClaimAnswer::Refused`]. Answers may come in any order.
//! * The registry holds each granted name for this node as a lease the
//!   node renews while it lives; a dead node's leases lapse. That is the
//!   embedder's business: the engine never renews anything.
//! * Granted, the change completes exactly as on a single node (the same
//!   events and records). Refused, the client hears that the nickname is
//!   taken, as for one taken locally; a guest at connect tries a guest
//!   number four times further on instead (the other nodes number their
//!   guests from 1 too, so the next few are likely taken as well), and
//!   after [`MAX_GUEST_ATTEMPTS`] refusals is
//!   closed with [`DisconnectReason::NameUnavailable`](crate::DisconnectReason::NameUnavailable).
//! * While a client's claim is pending, its further lines wait, in order,
//!   and are acted on once the answer came (at most `flood_burst` lines
//!   wait; one more is refused as a flood). A client that connected as a
//!   guest is welcomed once its guest name is granted.
//! * When the node stops using a name (a nickname changed, a client gone,
//!   a claim granted for a client that left meanwhile), the engine emits
//!   [`ClusterRequest::ReleaseName`]: the registry frees it. A name passed
//!   from one local client to another (an account taking its name back
//!   from a guest, an account's oldest connection leaving while another
//!   stays) stays claimed.
//!
//! A claim id the engine never issued, or one answered already, is
//! misuse: [`Error::UnknownClaim`](crate::Error::UnknownClaim). An answer
//! for a client that left meanwhile is not: granted, its name is released
//! again at once.
//!
//! An account's further logins on the node that holds its name add
//! connections to it, as on a single node; one on another node is
//! refused, as the claim of the account's name is refused there. A guest
//! holding an account's name on another node keeps it. Always-on is off
//! in a cluster.
//!
//! # Presence
//!
//! Each node tells the others who is in which room, and shows its own
//! clients the other nodes' users as if they were local:
//!
//! * The engine emits [`ClusterRequest::Presence`] with a
//!   [`PresenceChange`] whenever a local client joins a room, leaves one
//!   (parting, kicked, the room dropped), quits while in a room, or is
//!   renamed while in a room. The embedder delivers each to every other
//!   node, which feeds it to
//!   [`Engine::handle_remote_presence`](crate::Engine::handle_remote_presence).
//! * Delivery must be in one order for every node, consistent with the
//!   order each node emitted its changes (one stream all nodes append to
//!   and read serves), and a node's presence change must be published
//!   before that node's later [`ClusterRequest::ReleaseName`] is carried
//!   out, so that no node sees a name's next holder before its last one
//!   is gone. A node's own clients act on its grants at once, so for a
//!   moment a remote user may show under the name a local client has just
//!   taken, until the change that gave it up arrives.
//! * A node that receives the changes in that order sees each room's
//!   members as they are: local clients hear of remote joins, parts,
//!   quits and renames as of local ones; `/who`, IRC's NAMES and WHO and
//!   `/list` count and list remote members; `/users` lists remote users
//!   who are in a room; a `/nick` to a name a remote user holds is
//!   refused at once.
//! * A remote user in no room is not known to other nodes (its name is
//!   still claimed): only room presence travels. IRC's WHOIS and WHO of a
//!   nickname, and `/since`, answer of this node's users only.
//! * When a node dies, the embedder feeds every other node a
//!   [`PresenceChange::Quit`] for each of its users in a room, which it
//!   knows from the changes that node published.
//! * A join to a room this node does not have yet is kept: the room's
//!   creation may still be on its way (records and presence travel
//!   apart), and the room takes its remote members when it comes. A
//!   change that contradicts what the node knows (a part of a user not in
//!   the room, a rename to a name another remote user holds, a join to a
//!   room no name could be) is ignored and counted in
//!   [`Stats::remote_presence_ignored`](crate::Stats::remote_presence_ignored).
//! * Remote state is bounded by the node's own limits: at most
//!   `max_clients` remote users, each in at most `max_rooms_per_client`
//!   rooms; changes beyond them are ignored and counted.
//!
//! A room with remote members is not empty, so it does not expire while
//! they stay (a room's life travels as records, see above).
//!
//! # Whispers
//!
//! A whisper to a name no local client holds but a remote user in a room
//! here does is echoed to its sender as sent and emitted as
//! [`ClusterRequest::Whisper`]; the embedder carries it to the node that
//! holds the name (its registry knows which), which feeds it to
//! [`Engine::handle_remote_whisper`](crate::Engine::handle_remote_whisper).
//! There the recipient gets it as a whisper from a local user. If nobody
//! there holds the name any more, or the recipient blocks the sender's
//! name, it is dropped and counted in
//! [`Stats::remote_whispers_dropped`](crate::Stats::remote_whispers_dropped):
//! the sender is not told (a block is not revealed, as it is on one node).
//! A server operator's broadcast reaches its own node's users at once and
//! is emitted as [`ClusterRequest::Broadcast`] for the others, which feed
//! it to [`Engine::handle_remote_broadcast`](crate::Engine::handle_remote_broadcast).
//!
//! Whispers across nodes are not kept in the accounts' conversations, and
//! a whisper to a user of another node in no room is answered as one to
//! an unknown nick (or kept, for an account offline everywhere).

// Only the types that travel between the engine and its embedder are
// here, so that the output and error types may name them; what the engine
// does with them is in `cluster_node/`, `name_claims.rs`,
// `remote_presence.rs`, `remote_whisper.rs`, `remote_records.rs` and the world's parts
// `ClusterNode`, `Claims` and `Remote`.
mod broadcast;
mod presence;
mod publish;
mod whisper;

pub use broadcast::RemoteBroadcast;
pub use presence::PresenceChange;
pub use publish::{Publication, PublishTicket, RoomMessage};
pub use whisper::RemoteWhisper;

use std::fmt;

/// Refusals a guest's name may meet at connect, each trying a guest
/// number four times further on, before the guest is closed: guest
/// numbers are counted per node, so some may be taken elsewhere, but
/// eight refusals (past number 38,000 or so) means something is wrong.
pub const MAX_GUEST_ATTEMPTS: u32 = 8;

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
    /// Claim `name` for this node (compared without regard to ASCII case),
    /// then call [`Engine::handle_name_claim`](crate::Engine::handle_name_claim)
    /// with `claim` and whether the name is now this node's.
    ClaimName {
        /// Pass back with the answer.
        claim: ClaimId,
        /// The name as the client spelled it.
        name: Box<str>,
    },
    /// This node no longer uses `name`, which it had claimed: free it.
    /// Nothing answers it.
    ReleaseName {
        /// The name as it was claimed or last spelled.
        name: Box<str>,
    },
    /// Tell every other node of this change of a local user's presence,
    /// each feeding it to
    /// [`Engine::handle_remote_presence`](crate::Engine::handle_remote_presence),
    /// in the order the module docs require. Nothing answers it here.
    Presence(PresenceChange),
    /// Deliver this whisper to the node the recipient (`to`) is connected
    /// to, which feeds it to
    /// [`Engine::handle_remote_whisper`](crate::Engine::handle_remote_whisper).
    /// Nothing answers it here: its sender was told it was sent. Boxed,
    /// as `Publish` is, so that a single node's broadcasts stay cheap.
    Whisper(Box<RemoteWhisper>),
    /// Tell every other node of this server operator's broadcast, each
    /// feeding it to
    /// [`Engine::handle_remote_broadcast`](crate::Engine::handle_remote_broadcast);
    /// this node's own users have it already. Nothing answers it here: a
    /// node that misses it (Redis down) leaves its users without it.
    /// Boxed, as `Whisper` is.
    Broadcast(Box<RemoteBroadcast>),
}

/// Identifies one [`ClusterRequest::ClaimName`] until it is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClaimId(pub(crate) u64);

impl ClaimId {
    /// The id as a number, for logs and maps in the embedder.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "claim#{}", self.0)
    }
}

/// The registry's answer to a [`ClusterRequest::ClaimName`].
///
/// Exhaustive: the engine acts on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimAnswer {
    /// The name is now this node's, until it releases it.
    Granted,
    /// Another node holds the name.
    Refused,
}
