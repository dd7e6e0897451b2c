//! Always-on accounts: an account that stays in its rooms while none of
//! its connections is, as a bouncer would keep it there.
//!
//! When the last connection of an always-on account leaves a room by
//! disconnecting, the account stays in it, absent (`Room::absent`):
//! nobody is told it left, lists show it away, nothing is sent to it (it
//! has nowhere to go), what is said waits in the room's history, and
//! whispers to it wait in its mailbox as for any offline account. Its name
//! stays reserved, as every account's name is. A connection that logs in
//! takes its place in those rooms again, quietly.
//!
//! Its rooms are on record ([`Record::AccountRoom`], written while it is
//! always-on), so that a restart puts it back in them.
//!
//! An absent account keeps no room alive: a room whose only members are
//! absent accounts is idle, and expires as an empty room does (the
//! accounts leave it with it); its history is not wiped while it waits.

use crate::cloak::HIDDEN_HOST;
use crate::config::AlwaysOn;
use crate::error::Rejection;
use crate::event::Event;
use crate::names::NameKey;
use crate::record::Record;
use crate::turn::Turn;
use crate::world::World;

/// What an always-on account with no connection is away with (IRC's 301).
pub(crate) const ALWAYS_ON_AWAY: &str = "not connected (always-on); messages wait";

impl World {
    /// Whether the account `key` stays in its rooms with no connection:
    /// its choice, unless the server forces it; never in a cluster.
    pub(crate) fn always_on(&self, key: &NameKey) -> bool {
        if self.config.cluster {
            return false;
        }
        match self.config.always_on {
            AlwaysOn::ForcedOn => self.accounts.contains_key(key),
            AlwaysOn::ForcedOff => false,
            AlwaysOn::Optional => self.accounts.get(key).is_some_and(|a| a.always_on),
        }
    }

    /// The account `key` stays in `room` with no connection there.
    pub(crate) fn stay_absent(&mut self, key: &NameKey, room: &NameKey) {
        let (Some(account), Some(target)) = (self.accounts.get_mut(key), self.rooms.get_mut(room)) else { return };
        target.members.add_absent(key.clone());
        account.away_rooms.insert(room.clone());
    }

    /// The account `key` is no longer absent from `room`: a connection
    /// of it is there, or it left.
    pub(crate) fn clear_absent(&mut self, key: &NameKey, room: &NameKey) {
        if let Some(target) = self.rooms.get_mut(room) {
            target.members.remove_absent(key);
        }
        if let Some(account) = self.accounts.get_mut(key) {
            account.away_rooms.remove(room);
        }
    }

    /// The rooms the account `key` waits in with no connection; rooms
    /// gone meanwhile are forgotten.
    pub(crate) fn absent_rooms(&mut self, key: &NameKey) -> Vec<NameKey> {
        let Some(account) = self.accounts.get_mut(key) else { return Vec::new() };
        let rooms = &self.rooms;
        account.away_rooms.retain(|room| rooms.get(room).is_some_and(|r| r.members.is_absent(key)));
        account.away_rooms.iter().cloned().collect()
    }

    /// Puts the restored account `account` back in `room`, absent, if it is
    /// always-on and both still exist.
    pub(crate) fn restore_account_room(&mut self, account: &str, room: &str, joined: bool) {
        let (key, room) = (NameKey::of(account), NameKey::of(room));
        if joined && self.always_on(&key) && self.rooms.get(&room).is_some() {
            self.stay_absent(&key, &room);
        } else if !joined {
            self.clear_absent(&key, &room);
        }
    }
}

impl Turn<'_> {
    /// Records that the client's account joined or left `room`, if it is
    /// always-on, so that a restart puts it back in the rooms it is in.
    pub(crate) fn note_account_room(&mut self, room: &NameKey, joined: bool) {
        let world = &*self.world;
        let Some(key) = world.clients.get(&self.id).and_then(|c| c.account.clone()) else { return };
        if !world.always_on(&key) {
            return;
        }
        let (Some(account), Some(target)) = (world.accounts.get(&key), world.rooms.get(room)) else { return };
        let record = Record::AccountRoom { account: account.name.clone(), room: target.name.clone(), joined };
        self.out.persist(record);
    }

    /// `/always-on [on|off]`: shows or sets whether the account stays in
    /// its rooms while none of its connections is.
    pub(crate) fn always_on_command(&mut self, state: Option<&str>) -> Result<(), Rejection> {
        let key = self.client().account.clone().ok_or(Rejection::AlwaysOnNeedsAccount)?;
        let on = match state.map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some("on") => Some(true),
            Some("off") => Some(false),
            Some(_) => return Err(Rejection::Usage(self.client().codec().usage(crate::command::Verb::AlwaysOn))),
        };
        let forced = self.world.config.cluster || self.world.config.always_on != AlwaysOn::Optional;
        let Some(on) = on else {
            let on = self.world.always_on(&key);
            self.tell(Event::AlwaysOn { on, forced });
            return Ok(());
        };
        if forced {
            return Err(Rejection::AlwaysOnForced { on: self.world.always_on(&key) });
        }
        if self.world.storage_failing {
            return Err(Rejection::StorageUnavailable);
        }
        let was = self.world.always_on(&key);
        let account = self.world.accounts.get_mut(&key).expect("a logged-in client's account exists");
        account.always_on = on;
        let name = account.name.clone();
        if was != on {
            self.out.persist(Record::AlwaysOn { account: name.clone(), on });
            // The rooms it is in now go on record, or off it.
            let mut rooms: Vec<NameKey> = Vec::new();
            for device in self.world.connections_of(self.id) {
                for room in self.world.clients.get(&device).map_or(&[][..], |c| &c.rooms) {
                    if !rooms.contains(room) {
                        rooms.push(room.clone());
                    }
                }
            }
            for room in &rooms {
                if let Some(target) = self.world.rooms.get(room) {
                    let record = Record::AccountRoom { account: name.clone(), room: target.name.clone(), joined: on };
                    self.out.persist(record);
                }
            }
            if !on {
                self.leave_absent_rooms(&key, &name);
            }
        }
        for device in self.world.connections_of(self.id) {
            self.world.tell(self.out, device, Event::AlwaysOn { on, forced });
        }
        Ok(())
    }

    /// Always-on turned off: the account leaves the rooms it waited in
    /// with no connection, and their members see it part.
    fn leave_absent_rooms(&mut self, key: &NameKey, name: &str) {
        for room in self.world.absent_rooms(key) {
            self.world.clear_absent(key, &room);
            let Some(target) = self.world.rooms.get(&room) else { continue };
            let left = Event::Left { room: &target.name, nick: name, host: HIDDEN_HOST, you: false, reason: None };
            self.out.fanout(target.members.iter(), &left);
            self.out.persist(Record::AccountRoom { account: name.into(), room: target.name.clone(), joined: false });
        }
    }
}
