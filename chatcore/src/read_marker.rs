//! What a read marker is, apart from what the engine does with it
//! (`markers.rs`), so that the room table and an account can hold markers
//! without importing the code that moves them.

use std::collections::{BTreeMap, BTreeSet};

use crate::names::NameKey;

/// How far an account (or a guest's connection) has read a room or
/// conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Marker {
    /// The newest message read; 0 for none (a time older than every
    /// message the room holds).
    pub(crate) seq: u64,
    /// The time read up to: the message's own time when marked by number,
    /// the time given when marked by time (IRC's `draft/read-marker`,
    /// which wants that exact time back).
    pub(crate) unix_ms: u64,
}

impl Marker {
    /// Whether moving to `self` from `current` is forward: markers only
    /// move forward, by number first and then by time. Marking by time
    /// maps a later time to the same or a later number, so for IRC this
    /// is ordering by time; marking by number never goes back a message.
    pub(crate) fn is_after(self, current: Option<Marker>) -> bool {
        current.is_none_or(|c| (self.seq, self.unix_ms) > (c.seq, c.unix_ms))
    }
}

/// What a guest's marker is about: a room or a conversation, by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum GuestTarget {
    /// A room, by name: a room dropped and created again keeps it.
    Room(NameKey),
    /// The conversation with a nickname.
    Conversation(NameKey),
}

/// A guest connection's markers: held in memory for that connection only,
/// never stored, gone when it disconnects. At most
/// `Config::max_read_markers`, as an account's.
pub(crate) type GuestMarkers = BTreeMap<GuestTarget, Marker>;

/// What an account keeps of its markers: the rooms it marked (the markers
/// themselves are the room table's), and its conversations' markers. At most
/// `Config::max_read_markers` in all.
#[derive(Debug, Default)]
pub(crate) struct AccountMarkers {
    /// Rooms it has a marker in; may still name a room since dropped,
    /// until it is found gone.
    pub(crate) rooms: BTreeSet<NameKey>,
    /// Its marker in its whispers with each other account.
    pub(crate) conversations: BTreeMap<NameKey, Marker>,
}

impl AccountMarkers {
    /// How many markers it counts against `Config::max_read_markers`.
    pub(crate) fn len(&self) -> usize {
        self.rooms.len() + self.conversations.len()
    }
}
