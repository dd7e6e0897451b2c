//! A change of one user's presence, as its node tells the others.

use crate::DisconnectReason;

/// One user's presence changed on the node it is connected to: emitted
/// in [`ClusterRequest::Presence`](super::ClusterRequest::Presence) for a
/// local client, taken with
/// [`Engine::handle_remote_presence`](crate::Engine::handle_remote_presence)
/// for another node's. Names are compared without regard to ASCII case.
///
/// Exhaustive: a node must apply every kind of change, or its view of the
/// rooms drifts from the others'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresenceChange {
    /// `nick` joined `room`; `host` is how it is shown (`Config::hosts`).
    Joined {
        /// The room, as named.
        room: Box<str>,
        /// The user's nickname.
        nick: Box<str>,
        /// Its host, as shown to others.
        host: Box<str>,
    },
    /// `nick` left `room`: it parted (with its reason, if it gave one),
    /// was kicked (the kick's reason) or the room was dropped.
    Left {
        /// The room, as named.
        room: Box<str>,
        /// The user's nickname.
        nick: Box<str>,
        /// Why, if said.
        reason: Option<Box<str>>,
    },
    /// `nick` left the server: it is out of every room.
    Quit {
        /// The user's nickname.
        nick: Box<str>,
        /// Why, as its roommates are told.
        reason: DisconnectReason,
    },
    /// The user named `old` is now named `new`.
    Renamed {
        /// Its nickname before.
        old: Box<str>,
        /// Its nickname now.
        new: Box<str>,
    },
}
