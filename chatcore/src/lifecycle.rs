//! A room's life as its users meet it: who created it (an account owns
//! its rooms and may drop them), who counts towards the creation limit,
//! and its topic. The limit's counters and the expiry of empty rooms are
//! the room table's own (`world/rooms.rs`).

use crate::client::HistoryKey;
use crate::cloak::HIDDEN_HOST;
use crate::cluster::PresenceChange;
use crate::error::Rejection;
use crate::event::Event;
use crate::lockout::Creator;
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::ClientId;
use crate::record::Record;
use crate::room::{Room, Topic};
use crate::source::SourceKey;
use crate::turn::Turn;
use crate::world::World;

impl World {
    /// Adds a new room, created here or on another node, with the other
    /// nodes' users who joined it before it was known here: not empty,
    /// then.
    pub(crate) fn insert_room(&mut self, key: NameKey, mut room: Room) {
        room.remote.extend(self.remote.in_room(&key));
        if !room.remote.is_empty() {
            room.empty_since_ms = None;
        }
        self.rooms.insert(key, room);
    }

    /// The room `key` was dropped (`room`, out of the table now) by `by`:
    /// its members are told and sent back to the Lobby (or out of it, for
    /// JSON clients), and so is `dropper` if it was not one; in a cluster
    /// the other nodes hear that they left, and the room is no longer
    /// followed; other nodes' users are out of it here.
    pub(crate) fn room_gone(
        &mut self,
        out: &mut Outbox,
        key: &NameKey,
        room: &Room,
        by: &str,
        dropper: Option<ClientId>,
    ) {
        out.fanout(room.members.iter(), &Event::RoomDropped { room: &room.name, by });
        if let Some(id) = dropper.filter(|&id| !room.members.contains(id)) {
            self.tell(out, id, Event::RoomDropped { room: &room.name, by });
        }
        for (member, _) in room.members.iter() {
            if self.config.cluster
                && let Some(client) = self.clients.get(&member)
            {
                let nick = client.nick.clone();
                self.announce(out, || PresenceChange::Left { room: room.name.clone(), nick, reason: None });
            }
            self.remove_membership(member, key);
            if let Some(client) = self.clients.get_mut(&member)
                && matches!(&client.history_cursor, Some((HistoryKey::Room(k), _)) if k == key)
            {
                client.history_cursor = None;
            }
        }
        if self.config.cluster && room.members.len() > 0 {
            self.unfollow(out, key, room.name.clone());
        }
        // Other nodes' users are out of a room this node no longer has.
        for user in &room.remote {
            self.remote.leave(user, key);
        }
    }
}

impl Turn<'_> {
    /// Counts one room creation against the client's source and account,
    /// or refuses it while either has used up its allowance.
    pub(crate) fn take_room_allowance(&mut self) -> Result<(), Rejection> {
        let world = &mut *self.world;
        let Some(client) = world.clients.get(&self.id) else { return Ok(()) };
        let mut creators = vec![Creator::Source(client.source.unwrap_or(SourceKey::UNKNOWN))];
        creators.extend(client.account.clone().map(Creator::Account));
        world.rooms.take_creation(&creators, self.now, &world.config)
    }

    /// `/drop ROOM`: its owner removes it and its history; members are
    /// told and sent back to the Lobby (or out of it, for JSON clients).
    pub(crate) fn drop_room(&mut self, name: &str) -> Result<(), Rejection> {
        let world = &mut *self.world;
        let out = &mut *self.out;
        let id = self.id;
        let key = NameKey::of(name);
        let room = world.rooms.get(&key).ok_or_else(|| Rejection::NoSuchRoom(name.into()))?;
        let account = world.clients.get(&id).and_then(|c| c.account.as_ref());
        // A server operator may drop any room; that is logged, as theirs.
        let owner = account.is_some() && room.owner.as_ref() == account;
        if !owner && !world.is_server_operator(id) {
            return Err(Rejection::NotRoomOwner(room.name.clone()));
        }
        if !owner {
            world.operator_did(out, id, crate::output::OperatorActionKind::DropRoom { room: room.name.clone() });
        }
        let Some(room) = world.rooms.remove(&key) else { return Ok(()) };
        let by = world.clients.get(&id).map_or_else(Box::default, |c| c.nick.clone());
        world.room_gone(out, &key, &room, &by, Some(id));
        out.persist(Record::RoomDropped { room: room.name });
        Ok(())
    }

    /// `/topic`: shows the room's topic, or sets it (`Some("")` clears it).
    /// In a room an account owns only that account may set it; in a guest's
    /// room, any member.
    pub(crate) fn topic(&mut self, named: Option<&str>, text: Option<&str>) -> Result<(), Rejection> {
        let world = &mut *self.world;
        let out = &mut *self.out;
        let (now, id) = (self.now, self.id);
        let key = world.target_room(id, named)?;
        let (Some(client), Some(room)) = (world.clients.get(&id), world.rooms.get_mut(&key)) else {
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
        if text.len() > world.config.max_topic_len {
            return Err(Rejection::TopicTooLong { max: world.config.max_topic_len });
        }
        if world.storage_failing {
            return Err(Rejection::StorageUnavailable);
        }
        let new = (!text.is_empty()).then_some(text);
        room.topic = new.map(|text| Topic { text: text.into(), set_by: client.nick.clone(), unix_ms: now.unix_ms });
        let (by, unix_ms) = (client.nick.clone(), now.unix_ms);
        out.persist(Record::TopicSet { room: room.name.clone(), topic: new.map(Into::into), by, unix_ms });
        topic_changed(out, room, &client.nick, &client.host, unix_ms);
        Ok(())
    }
}

/// Tells a room's members that `by` (shown with `host`) set its topic, as
/// it is now, or cleared it, at `unix_ms`: for a topic set here or on
/// another node of a cluster.
pub(crate) fn topic_changed(out: &mut Outbox, room: &Room, by: &str, host: &str, unix_ms: u64) {
    let text = room.topic.as_ref().map(|t| &*t.text);
    let event = Event::Topic { room: &room.name, text, by, host, unix_ms, changed: true };
    out.fanout(room.members.iter(), &event);
}
