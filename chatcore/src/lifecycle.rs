//! A room's life: who created it (an account owns its rooms and may drop
//! them), how fast rooms may be created, and when an empty room expires.
//! Rooms are a bounded resource (`Config::max_rooms`), so guests must not
//! be able to fill it for good.

use std::time::Duration;

use crate::client::HistoryKey;
use crate::cloak::HIDDEN_HOST;
use crate::error::Rejection;
use crate::event::Event;
use crate::lockout::Creator;
use crate::modes::RoomModes;
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::ClientId;
use crate::record::Record;
use crate::room::{Room, Topic};
use crate::source::SourceKey;
use crate::time::Now;
use crate::world::World;

/// Empty rooms are checked at least this often while any may expire.
const MAX_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

impl World {
    /// Counts one room creation against the client's source and account,
    /// or refuses it while either has used up its allowance.
    pub(crate) fn take_room_allowance(&mut self, now: Now, id: ClientId) -> Result<(), Rejection> {
        let Some(client) = self.clients.get(&id) else { return Ok(()) };
        let mut creators = vec![Creator::Source(client.source.unwrap_or(SourceKey::UNKNOWN))];
        creators.extend(client.account.clone().map(Creator::Account));
        let (cap, max, window) = (
            self.config.max_tracked_sources,
            self.config.max_rooms_created_per_source,
            self.config.room_creation_window,
        );
        // Check every creator before counting, so a refusal costs nothing.
        for creator in &creators {
            if let Some((count, until)) = self.room_creations.window(creator, now.instant)
                && count >= max
            {
                let retry_after_secs = crate::time::secs_until(now.instant, until);
                return Err(Rejection::TooManyRoomsCreated { retry_after_secs });
            }
        }
        for creator in &creators {
            // Cannot fail: checked just above, and nothing ran in between.
            let _ = self.room_creations.take(creator, now.instant, cap, max, window);
        }
        Ok(())
    }

    /// If the room at `key` has just lost its last member, its idle time
    /// starts now: recorded, and expiry checks are scheduled.
    pub(crate) fn note_if_vacated(&mut self, out: &mut Outbox, now: Now, key: &NameKey) {
        let Some(room) = self.rooms.get_mut(key) else { return };
        if room.members.len() > 0 || room.empty_since_ms.is_some() {
            return;
        }
        room.empty_since_ms = Some(now.unix_ms);
        let name = room.name.clone();
        if !self.renew_guest_room(out, now, key) {
            out.persist(Record::RoomVacated { room: name, unix_ms: now.unix_ms });
        }
        self.schedule_sweep(now);
    }

    /// Nobody is left to operate an empty guest's room, and whoever joins
    /// it next does: so it starts again as new (no history, topic, modes,
    /// numbering from 1), as an IRC channel would, and nobody inherits what
    /// a previous group said. On record as dropped and created again,
    /// empty since then. An account's room is left alone, and so is a
    /// guest's room with members or nothing to forget. Whether it renewed
    /// the room.
    pub(crate) fn renew_guest_room(&mut self, out: &mut Outbox, now: Now, key: &NameKey) -> bool {
        let Some(room) = self.rooms.get_mut(key) else { return false };
        let pristine = room.next_seq == 1 && room.topic.is_none() && room.modes == RoomModes::new(false);
        if room.owner.is_some() || room.members.len() > 0 || pristine {
            return false;
        }
        let name = room.name.clone();
        *room = Room::new(&name, None, Some(now.unix_ms));
        out.persist(Record::RoomDropped { room: name.clone() });
        out.persist(Record::RoomCreated { room: name.clone(), unix_ms: now.unix_ms, owner: None });
        out.persist(Record::RoomVacated { room: name, unix_ms: now.unix_ms });
        true
    }

    /// Makes sure expiry is checked soon while some room may expire.
    pub(crate) fn schedule_sweep(&mut self, now: Now) {
        if self.next_sweep.is_some() {
            return;
        }
        if let Some(interval) = self.sweep_interval() {
            self.next_sweep = Some(now.instant + interval);
        }
    }

    /// How often empty rooms are checked: a quarter of the shorter expiry
    /// (at most a minute late in all), or `None` if no room may expire.
    fn sweep_interval(&self) -> Option<Duration> {
        let expiries = [self.config.room_idle_expiry, self.config.guest_room_idle_expiry];
        let shortest = expiries.into_iter().filter(|d| !d.is_zero()).min()?;
        let any_empty = self.rooms.values().any(|r| r.empty_since_ms.is_some());
        any_empty.then(|| (shortest / 4).clamp(Duration::from_millis(100), MAX_SWEEP_INTERVAL))
    }

    /// Removes every room that has been empty longer than its expiry.
    pub(crate) fn expire_rooms(&mut self, out: &mut Outbox, now: Now) {
        self.next_sweep = None;
        let expired: Vec<NameKey> = self
            .rooms
            .iter()
            .filter(|(_, room)| {
                let expiry = room.idle_expiry(&self.config);
                let since = room.empty_since_ms;
                !expiry.is_zero()
                    && since.is_some_and(|since| now.unix_ms.saturating_sub(since) >= expiry.as_millis() as u64)
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in expired {
            if let Some(room) = self.rooms.remove(&key) {
                out.persist(Record::RoomDropped { room: room.name });
            }
        }
        self.schedule_sweep(now);
    }

    /// `/drop ROOM`: its owner removes it and its history; members are
    /// told and sent back to the Lobby (or out of it, for JSON clients).
    pub(crate) fn drop_room(&mut self, out: &mut Outbox, id: ClientId, name: &str) -> Result<(), Rejection> {
        let key = NameKey::of(name);
        let room = self.rooms.get(&key).ok_or_else(|| Rejection::NoSuchRoom(name.into()))?;
        let account = self.clients.get(&id).and_then(|c| c.account.as_ref());
        if account.is_none() || room.owner.as_ref() != account {
            return Err(Rejection::NotRoomOwner(room.name.clone()));
        }
        let Some(room) = self.rooms.remove(&key) else { return Ok(()) };
        let by = self.clients.get(&id).map_or("", |c| &c.nick);
        out.fanout(room.members.iter(), &Event::RoomDropped { room: &room.name, by });
        if !room.members.iter().any(|(m, _)| m == id) {
            self.tell(out, id, Event::RoomDropped { room: &room.name, by });
        }
        for (member, _) in room.members.iter() {
            self.remove_membership(member, &key);
            if let Some(client) = self.clients.get_mut(&member)
                && matches!(&client.history_cursor, Some((HistoryKey::Room(k), _)) if *k == key)
            {
                client.history_cursor = None;
            }
        }
        out.persist(Record::RoomDropped { room: room.name });
        Ok(())
    }
}

impl World {
    /// `/topic`: shows the room's topic, or sets it (`Some("")` clears it).
    /// In a room an account owns only that account may set it; in a guest's
    /// room, any member.
    pub(crate) fn topic(
        &mut self,
        out: &mut Outbox,
        now: Now,
        id: ClientId,
        named: Option<&str>,
        text: Option<&str>,
    ) -> Result<(), Rejection> {
        let key = self.target_room(id, named)?;
        let (Some(client), Some(room)) = (self.clients.get(&id), self.rooms.get_mut(&key)) else {
            return Ok(());
        };
        let Some(text) = text else {
            let topic = room.topic.as_ref();
            let event = Event::Topic {
                room: &room.name,
                text: topic.map(|t| &*t.text),
                by: topic.map_or("", |t| &*t.set_by),
                // Who set a topic is kept by name only.
                host: HIDDEN_HOST,
                unix_ms: topic.map_or(0, |t| t.unix_ms),
                changed: false,
            };
            out.send(id, client.render(&event));
            return Ok(());
        };
        if room.modes.topic_locked && !room.members.status(id).operator {
            return Err(Rejection::NotTopicSetter(room.name.clone()));
        }
        let text = text.trim();
        if let Some(rejection) = crate::world::unsafe_text(text) {
            return Err(rejection);
        }
        if text.len() > self.config.max_topic_len {
            return Err(Rejection::TopicTooLong { max: self.config.max_topic_len });
        }
        if self.storage_failing {
            return Err(Rejection::StorageUnavailable);
        }
        let new = (!text.is_empty()).then_some(text);
        room.topic = new.map(|text| Topic { text: text.into(), set_by: client.nick.clone(), unix_ms: now.unix_ms });
        let (by, unix_ms) = (client.nick.clone(), now.unix_ms);
        out.persist(Record::TopicSet { room: room.name.clone(), topic: new.map(Into::into), by, unix_ms });
        let (by, host) = (&client.nick, &client.host);
        let event = Event::Topic { room: &room.name, text: new, by, host, unix_ms, changed: true };
        out.fanout(room.members.iter(), &event);
        Ok(())
    }
}
