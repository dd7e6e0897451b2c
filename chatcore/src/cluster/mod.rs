//! Running one chat on several nodes, each with an engine of its own for
//! its own connections ([`Config::cluster`](crate::Config::cluster)).
//!
//! The engine stays sans-IO: whatever needs the other nodes is a
//! **request** it emits as [`Output::Cluster`](crate::Output::Cluster),
//! carrying a [`ClusterRequest`], which the embedder carries out and, where
//! it asks for an answer, answers with a later input, as it answers a
//! password check. With cluster mode off, no request is ever made and no
//! answer is expected.
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
//!   taken, as for one taken locally; a guest at connect tries the next
//!   guest number instead, and after [`MAX_GUEST_ATTEMPTS`] refusals is
//!   closed with [`DisconnectReason::NameUnavailable`](crate::DisconnectReason::NameUnavailable).
//! * While a client's claim is pending, its further lines wait, in order,
//!   and are acted on once the answer came (at most `flood_burst` lines
//!   wait; one more is refused as a flood). A client that connected as a
//!   guest is welcomed once its guest name is granted.
//! * When the node stops using a name (a nickname changed, a client gone,
//!   a claim granted for a client that left meanwhile), the engine emits
//!   [`ClusterRequest::ReleaseName`]: the registry frees it. A name passed
//!   from one local client to another (an account taking its name back
//!   from a guest, a second login of an account) stays claimed.
//!
//! A claim id the engine never issued, or one answered already, is
//! misuse: [`Error::UnknownClaim`](crate::Error::UnknownClaim). An answer
//! for a client that left meanwhile is not: granted, its name is released
//! again at once.
//!
//! Across nodes, an account's second login does not close the first
//! session on the other node: the claim of the account's name is refused
//! there. A guest holding an account's name on another node keeps it.
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
//! * A change about a room this node does not have, or that contradicts
//!   what it knows (a part of a user not in the room, a rename to a name
//!   another remote user holds), is ignored and counted in
//!   [`Stats::remote_presence_ignored`](crate::Stats::remote_presence_ignored).
//! * Remote state is bounded by the node's own limits: at most
//!   `max_clients` remote users, each in at most `max_rooms_per_client`
//!   rooms; changes beyond them are ignored and counted.
//!
//! A room's life (creation, expiry, `/drop`) is each node's own: a room
//! with remote members is not empty, so it does not expire while they stay.
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
//! Whispers across nodes are not kept in the accounts' conversations, and
//! a whisper to a user of another node in no room is answered as one to
//! an unknown nick (or kept, for an account offline everywhere).

// Only the types that travel between the engine and its embedder are
// here, so that the output and error types may name them; what the engine
// does with them is in `name_claims.rs`, `remote_presence.rs`,
// `remote_whisper.rs` and the world's parts `Claims` and `Remote`.
mod presence;
mod whisper;

pub use presence::PresenceChange;
pub use whisper::RemoteWhisper;

use std::fmt;

/// Refusals a guest's name may meet at connect, each trying the next guest
/// number, before the guest is closed: guest numbers are counted per node,
/// so a few may be taken elsewhere, but many means something is wrong.
pub const MAX_GUEST_ATTEMPTS: u32 = 8;

/// Something only the other nodes can settle, asked of the embedder with
/// [`Output::Cluster`](crate::Output::Cluster). See the module docs for
/// what each asks and which input answers it.
///
/// Exhaustive: each variant is something the embedder must carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterRequest {
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
    /// Nothing answers it here: its sender was told it was sent.
    Whisper(RemoteWhisper),
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
