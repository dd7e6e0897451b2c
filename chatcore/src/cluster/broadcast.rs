//! A server operator's broadcast, as it travels to the other nodes.

/// A broadcast by a server operator of one node, for every user of the
/// others: emitted in
/// [`ClusterRequest::Broadcast`](super::ClusterRequest::Broadcast) by the
/// operator's node (whose own users have it already), taken with
/// [`Engine::handle_remote_broadcast`](crate::Engine::handle_remote_broadcast)
/// by every other node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteBroadcast {
    /// The operator's nickname.
    pub from: Box<str>,
    /// The operator's host, as shown to others.
    pub host: Box<str>,
    /// What it says.
    pub text: Box<str>,
    /// When it was said (wall clock, ms since the Unix epoch).
    pub unix_ms: u64,
}
