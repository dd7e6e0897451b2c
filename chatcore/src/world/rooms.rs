//! The room table: every room by its folded name, how many rooms each
//! source and account created lately, and when empty rooms are next
//! checked for expiry. Rooms are a bounded resource
//! (`Config::max_rooms`), so guests must not be able to fill it for
//! good: creations are counted here, and an empty room is renewed or
//! expires here.

use std::collections::BTreeMap;
use std::collections::btree_map;
use std::ops::Index;
use std::time::{Duration, Instant};

use crate::Config;
use crate::error::Rejection;
use crate::lockout::{Creator, RoomCreations};
use crate::modes::RoomModes;
use crate::names::{NameKey, from_name};
use crate::outbox::Outbox;
use crate::read_marker::Marker;
use crate::record::Record;
use crate::room::Room;
use crate::time::Now;

/// Empty rooms are checked at least this often while any may expire.
const MAX_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Every room, and what limits their creation and expiry.
#[derive(Debug, Default)]
pub(crate) struct Rooms {
    table: BTreeMap<NameKey, Room>,
    /// Rooms created, per source and per account.
    creations: RoomCreations,
    /// When empty rooms are next checked for expiry, while any may expire.
    next_sweep: Option<Instant>,
    /// Each room's read markers by account (see `markers.rs`), beside the
    /// table rather than in each room, so that a room nobody marked costs
    /// nothing. They go with their room wherever it is removed or renewed:
    /// a room created again under the name numbers from 1, and an old
    /// marker would hide its messages.
    markers: BTreeMap<NameKey, BTreeMap<NameKey, Marker>>,
}

impl Rooms {
    pub(crate) fn get(&self, key: &NameKey) -> Option<&Room> {
        self.table.get(key)
    }

    pub(crate) fn get_mut(&mut self, key: &NameKey) -> Option<&mut Room> {
        self.table.get_mut(key)
    }

    /// The room and the table's own key for it, which a member's copy shares.
    pub(crate) fn get_key_value(&self, key: &NameKey) -> Option<(&NameKey, &Room)> {
        self.table.get_key_value(key)
    }

    pub(crate) fn contains_key(&self, key: &NameKey) -> bool {
        self.table.contains_key(key)
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Adds a room under its folded name.
    pub(crate) fn insert(&mut self, key: NameKey, room: Room) {
        debug_assert!(key == NameKey::of(&room.name), "a room is kept under its folded name");
        self.table.insert(key, room);
    }

    pub(crate) fn remove(&mut self, key: &NameKey) -> Option<Room> {
        self.markers.remove(key);
        self.table.remove(key)
    }

    /// `account`'s read marker in the room at `key`, if it has one.
    pub(crate) fn marker(&self, key: &NameKey, account: &NameKey) -> Option<Marker> {
        self.markers.get(key)?.get(account).copied()
    }

    /// Sets `account`'s read marker in the room at `key`, if the room
    /// exists (the caller moves markers only forward).
    pub(crate) fn set_marker(&mut self, key: &NameKey, account: &NameKey, marker: Marker) {
        if self.table.contains_key(key) {
            self.markers.entry(key.clone()).or_default().insert(account.clone(), marker);
        }
    }

    /// Every room's markers: the room and each account with a marker in it.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn markers(&self) -> impl Iterator<Item = (&NameKey, &NameKey)> {
        self.markers.iter().flat_map(|(room, accounts)| accounts.keys().map(move |account| (room, account)))
    }

    pub(crate) fn values(&self) -> btree_map::Values<'_, NameKey, Room> {
        self.table.values()
    }

    /// The rooms in name order, from the name `from` on (all of them
    /// without it): O(log n) to find the start.
    pub(crate) fn from(&self, from: Option<&str>) -> impl Iterator<Item = &Room> + '_ {
        from_name(&self.table, from).map(|(_, room)| room)
    }

    /// Counts one room creation against each of `creators`, or refuses it
    /// while any has used up its allowance.
    pub(crate) fn take_creation(&mut self, creators: &[Creator], now: Now, config: &Config) -> Result<(), Rejection> {
        let (cap, max, window) =
            (config.max_tracked_sources, config.max_rooms_created_per_source, config.room_creation_window);
        // Check every creator before counting, so a refusal costs nothing.
        for creator in creators {
            if let Some((count, until)) = self.creations.window(creator, now.instant)
                && count >= max
            {
                let retry_after_secs = crate::time::secs_until(now.instant, until);
                return Err(Rejection::TooManyRoomsCreated { retry_after_secs });
            }
        }
        for creator in creators {
            // Cannot fail: checked just above, and nothing ran in between.
            let _ = self.creations.take(creator, now.instant, cap, max, window);
        }
        Ok(())
    }

    /// If the room at `key` has just lost its last member, its idle time
    /// starts now: recorded, and expiry checks are scheduled.
    pub(crate) fn note_if_vacated(&mut self, out: &mut Outbox, now: Now, key: &NameKey, config: &Config) {
        let Some(room) = self.table.get_mut(key) else { return };
        if room.occupied() || room.empty_since_ms.is_some() {
            return;
        }
        room.empty_since_ms = Some(now.unix_ms);
        let name = room.name.clone();
        if !self.renew_guest_room(out, now, key) {
            out.persist(Record::RoomVacated { room: name, unix_ms: now.unix_ms });
        }
        self.schedule_sweep(now, config);
    }

    /// Nobody is left to operate an empty guest's room, and whoever joins
    /// it next does: so it starts again as new (no history, topic, modes,
    /// numbering from 1), as an IRC channel would, and nobody inherits what
    /// a previous group said. On record as dropped and created again,
    /// empty since then. An account's room is left alone, and so is a
    /// guest's room with members or nothing to forget. Whether it renewed
    /// the room.
    pub(crate) fn renew_guest_room(&mut self, out: &mut Outbox, now: Now, key: &NameKey) -> bool {
        let Some(room) = self.table.get_mut(key) else { return false };
        let pristine = room.next_seq == 1 && room.topic.is_none() && room.modes == RoomModes::new(false);
        if room.owner.is_some() || room.member_count() > 0 || pristine {
            return false;
        }
        let name = room.name.clone();
        *room = Room::new(&name, None, Some(now.unix_ms));
        self.markers.remove(key);
        out.persist(Record::RoomDropped { room: name.clone() });
        out.persist(Record::RoomCreated { room: name.clone(), unix_ms: now.unix_ms, owner: None });
        out.persist(Record::RoomVacated { room: name, unix_ms: now.unix_ms });
        true
    }

    /// When empty rooms are next checked for expiry, if any may expire.
    pub(crate) fn next_sweep(&self) -> Option<Instant> {
        self.next_sweep
    }

    /// Makes sure expiry is checked soon while some room may expire.
    pub(crate) fn schedule_sweep(&mut self, now: Now, config: &Config) {
        if self.next_sweep.is_some() {
            return;
        }
        if let Some(interval) = self.sweep_interval(config) {
            self.next_sweep = Some(now.instant + interval);
        }
    }

    /// How often empty rooms are checked: a quarter of the shorter expiry
    /// (at most a minute late in all), or `None` if no room may expire.
    fn sweep_interval(&self, config: &Config) -> Option<Duration> {
        let expiries = [config.room_idle_expiry, config.guest_room_idle_expiry];
        let shortest = expiries.into_iter().filter(|d| !d.is_zero()).min()?;
        let any_empty = self.table.values().any(|r| r.empty_since_ms.is_some());
        any_empty.then(|| (shortest / 4).clamp(Duration::from_millis(100), MAX_SWEEP_INTERVAL))
    }

    /// Removes every room that has been empty longer than its expiry, if
    /// the check is due.
    pub(crate) fn expire_due(&mut self, out: &mut Outbox, now: Now, config: &Config) {
        if self.next_sweep.is_none_or(|at| at > now.instant) {
            return;
        }
        self.next_sweep = None;
        let markers = &mut self.markers;
        self.table.retain(|key, room| {
            let expiry = room.idle_expiry(config);
            let since = room.empty_since_ms;
            let expired = !expiry.is_zero()
                && since.is_some_and(|since| now.unix_ms.saturating_sub(since) >= expiry.as_millis() as u64);
            if expired {
                out.persist(Record::RoomDropped { room: room.name.clone() });
                markers.remove(key);
            }
            !expired
        });
        self.schedule_sweep(now, config);
    }

    /// What holds for each room on its own: kept under its folded name,
    /// its history in order and within `history_len`, its lists within
    /// their bounds.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn check(&self, history_len: usize) -> Result<(), crate::invariant_violation::InvariantViolation> {
        use crate::invariant_violation::InvariantViolation as V;
        for (key, room) in &self.table {
            let name = || key.to_string();
            if *key != NameKey::of(&room.name) {
                return Err(V::RoomKeyMismatch { name: room.name.to_string(), key: name() });
            }
            let mut next = 0;
            for entry in room.history.iter() {
                if entry.seq < next || entry.seq >= room.next_seq {
                    return Err(V::HistoryOrder { room: name() });
                }
                next = entry.seq + 1;
            }
            if room.history.len() > history_len {
                return Err(V::HistoryOverCap { room: name(), len: room.history.len(), max: history_len });
            }
            let operators = room.modes.operators();
            let repeated = operators.iter().enumerate().any(|(i, op)| operators[..i].contains(op));
            if room.modes.bans().len() > crate::modes::MAX_BANS
                || room.modes.invited().len() > crate::modes::MAX_INVITED
                || operators.len() > crate::modes::MAX_OPERATORS
                || repeated
            {
                return Err(V::RoomListsOverCap { room: name() });
            }
        }
        Ok(())
    }

    /// Files `room` under `key` whatever its name, as a broken engine
    /// might, for the tests that show the checks catch it.
    #[cfg(test)]
    pub(crate) fn insert_unchecked(&mut self, key: NameKey, room: Room) {
        self.table.insert(key, room);
    }
}

impl Index<&NameKey> for Rooms {
    type Output = Room;

    fn index(&self, key: &NameKey) -> &Room {
        &self.table[key]
    }
}

impl<'a> IntoIterator for &'a Rooms {
    type Item = (&'a NameKey, &'a Room);
    type IntoIter = btree_map::Iter<'a, NameKey, Room>;

    fn into_iter(self) -> Self::IntoIter {
        self.table.iter()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Output;
    use crate::source::SourceKey;

    #[test]
    fn a_creator_over_its_allowance_is_refused_and_nothing_is_counted() {
        let config = Config::default().with_max_rooms_created_per_source(1);
        let now = Now::new(Instant::now(), 0);
        let mut rooms = Rooms::default();
        let source = Creator::Source(SourceKey::UNKNOWN);
        let account = Creator::Account(NameKey::of("alice"));
        assert_eq!(rooms.take_creation(std::slice::from_ref(&source), now, &config), Ok(()));
        let refused = rooms.take_creation(&[account.clone(), source], now, &config);
        assert!(matches!(refused, Err(Rejection::TooManyRoomsCreated { .. })), "{refused:?}");
        assert_eq!(rooms.take_creation(&[account], now, &config), Ok(()), "the refusal took nothing");
    }

    #[test]
    fn an_empty_room_expires_after_its_idle_time_and_is_dropped_on_record() {
        let config = Config::default().with_guest_room_idle_expiry(Duration::from_secs(60));
        let start = Now::new(Instant::now(), 1_000);
        let mut rooms = Rooms::default();
        let mut out = Outbox::new(true);
        rooms.insert(NameKey::of("r"), Room::new("r", None, None));
        rooms.note_if_vacated(&mut out, start, &NameKey::of("r"), &config);
        let at = rooms.next_sweep().expect("an empty room may expire");
        rooms.expire_due(&mut out, start, &config);
        assert!(rooms.contains_key(&NameKey::of("r")), "not due yet");
        let later = start.advance(Duration::from_secs(60));
        assert!(at <= later.instant);
        rooms.expire_due(&mut out, later, &config);
        assert_eq!(rooms.len(), 0);
        assert_eq!(rooms.next_sweep(), None, "no room left to expire");
        let mut records = std::iter::from_fn(|| out.pop()).filter_map(|o| match o {
            Output::Persist(record) => Some(*record),
            _ => None,
        });
        assert!(matches!(records.next(), Some(Record::RoomVacated { unix_ms: 1_000, .. })));
        assert!(matches!(records.next(), Some(Record::RoomDropped { .. })));
    }
}
