//! A whisper to a user of another node, as it travels between nodes.

/// A whisper from a user of one node to a user of another: emitted in
/// [`ClusterRequest::Whisper`](super::ClusterRequest::Whisper) by the sender's node, taken with
/// [`Engine::handle_remote_whisper`](crate::Engine::handle_remote_whisper)
/// by the node the recipient is connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteWhisper {
    /// The sender's nickname.
    pub from: Box<str>,
    /// The sender's host, as shown to others.
    pub host: Box<str>,
    /// The recipient's nickname (compared without regard to ASCII case).
    pub to: Box<str>,
    /// What it says.
    pub text: Box<str>,
    /// When it was said (wall clock, ms since the Unix epoch).
    pub unix_ms: u64,
}
