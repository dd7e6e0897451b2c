//! What a read marker is, apart from what the engine does with it
//! (`markers.rs`), so that the room table and an account can hold markers
//! without importing the code that moves them.

use std::collections::{BTreeMap, BTreeSet};

use crate::names::NameKey;

/// How far an account has read a room or conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Marker {
    /// The newest message read.
    pub(crate) seq: u64,
    /// Its time, as far as the engine knew it.
    pub(crate) unix_ms: u64,
}

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
