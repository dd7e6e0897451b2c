//! Room operators and what they may do: change the room's modes
//! (`modes.rs`), kick members, and invite users. Also the checks the
//! modes impose on joining and speaking.
//!
//! Who is an operator: whoever creates a room; the owning account
//! whenever it joins, and so does an account a member was given `+o` as;
//! and, in a guest's room, whoever joins it empty, of every node's users
//! in a cluster (which renews it, see `lifecycle.rs`). A guest's operator
//! status is its own node's: other nodes show it as a plain member.
//! Modes, bans and the accounts made operators are kept
//! (`Record::RoomModesSet`), so a restart brings them back; invitations
//! and a member's status last as long as its session.
//!
//! A ban holds a member for as long as it is in the room: it may not
//! speak, nor change nickname to shake the ban off (IRC's 435).

use crate::devices::connections;
use crate::error::Rejection;
use crate::event::Event;
use crate::modes::{self, Flag, MAX_BANS, MAX_INVITED, MAX_OPERATORS, ModeChange, ban_matches};
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::ClientId;
use crate::record::Record;
use crate::room::{Room, Status};
use crate::turn::Turn;
use crate::world::World;

impl World {
    /// What a restart keeps of `modes`, with operators' accounts named as
    /// registered.
    pub(crate) fn stored_modes(&self, modes: &modes::RoomModes) -> crate::record::StoredModes {
        modes.stored(|key| self.accounts.get(key).map_or_else(|| key.as_str().into(), |a| a.name.clone()))
    }

    /// Applies one change; `None` when it changes nothing (a flag already
    /// so, a ban already there).
    fn apply_mode(&mut self, key: &NameKey, change: ModeChange) -> Result<Option<ModeChange>, Rejection> {
        let room = self.rooms.get_mut(key).expect("caller checked the room");
        let modes = &mut room.modes;
        let changed = match &change {
            ModeChange::Flag(flag, on) => {
                let slot = match flag {
                    Flag::InviteOnly => &mut modes.invite_only,
                    Flag::Moderated => &mut modes.moderated,
                    Flag::Secret => &mut modes.secret,
                    Flag::TopicLocked => &mut modes.topic_locked,
                    // `+n` is "no external messages": the flag kept is its opposite.
                    Flag::NoExternal => {
                        let was_on = !std::mem::replace(&mut modes.external_messages, !on);
                        return Ok((was_on != *on).then_some(change));
                    }
                };
                std::mem::replace(slot, *on) != *on
            }
            ModeChange::Key(key) => {
                let new = key.as_deref().map(Box::from);
                std::mem::replace(&mut modes.key, new.clone()) != new
            }
            ModeChange::Limit(limit) => std::mem::replace(&mut modes.limit, *limit) != *limit,
            ModeChange::Ban(true, mask) => {
                if modes.bans().iter().any(|b| b.eq_ignore_ascii_case(mask)) {
                    false
                } else if modes.bans().len() >= MAX_BANS {
                    return Err(Rejection::BanListFull { room: room.name.clone(), max: MAX_BANS });
                } else {
                    modes.bans_mut().push(mask.as_str().into());
                    true
                }
            }
            ModeChange::Ban(false, mask) => {
                let before = modes.bans().len();
                modes.bans_mut().retain(|b| !b.eq_ignore_ascii_case(mask));
                modes.bans().len() != before
            }
            ModeChange::ListBans => false,
            ModeChange::Operator(on, nick) | ModeChange::Voice(on, nick) => {
                let operator = matches!(change, ModeChange::Operator(..));
                // An account's status is its presence's: the same on each of its connections.
                let devices = self.names.holder(&NameKey::of(nick)).map_or_else(Vec::new, |holder| {
                    connections(&self.clients, &self.sessions, holder)
                        .into_iter()
                        .filter(|d| room.members.contains(*d))
                        .collect()
                });
                let Some(&target) = devices.first() else {
                    // `-o ACCOUNT` forgets an account made operator while it is away.
                    let remembered = NameKey::of(nick);
                    if operator && !*on && room.modes.operators().contains(&remembered) {
                        room.modes.operators_mut().retain(|k| *k != remembered);
                        return Ok(Some(change));
                    }
                    return Err(Rejection::NotOnChannel { nick: nick.as_str().into(), room: room.name.clone() });
                };
                // An operator logged in to an account stays one: the room
                // remembers the account (its owner needs no reminding).
                let account = self.clients[&target].account.as_ref().filter(|a| room.owner.as_ref() != Some(*a));
                let mut remembered_changed = false;
                if let Some(account) = account.filter(|_| operator) {
                    let remembered = room.modes.operators().contains(account);
                    if *on && !remembered {
                        if room.modes.operators().len() >= MAX_OPERATORS {
                            return Err(Rejection::OperatorListFull { room: room.name.clone(), max: MAX_OPERATORS });
                        }
                        room.modes.operators_mut().push(account.clone());
                        remembered_changed = true;
                    } else if !*on && remembered {
                        room.modes.operators_mut().retain(|k| k != account);
                        remembered_changed = true;
                    }
                }
                let mut status = room.members.status(target);
                let slot = if operator { &mut status.operator } else { &mut status.voice };
                let changed = std::mem::replace(slot, *on) != *on;
                for device in devices {
                    room.members.set_status(device, status);
                }
                changed || remembered_changed
            }
        };
        Ok(changed.then_some(change))
    }

    /// Whether `id` may join: not banned, invited to a `+i` room, with the
    /// key to a `+k` room, and room under its `+l` limit. An invitation
    /// lets a user past all but the limit, and so does being the room's
    /// owner or an account it made an operator: they are not locked out
    /// of their own room.
    /// A connection of an account already in the room is let in: it is
    /// the same user.
    pub(crate) fn check_join(&self, id: ClientId, room: &Room, key: Option<&str>) -> Result<(), Rejection> {
        let devices = self.connections_of(id);
        if devices.iter().any(|&d| d != id && room.members.contains(d)) {
            return Ok(());
        }
        // An invitation to the account's other connection counts for this one.
        let invited = devices.iter().any(|d| room.modes.invited().contains(d)) || self.operator_by_account(id, room);
        if !invited && self.is_banned(id, room) {
            return Err(Rejection::Banned(room.name.clone()));
        }
        if !invited && room.modes.invite_only {
            return Err(Rejection::InviteOnly(room.name.clone()));
        }
        if !invited && room.modes.key.is_some() && room.modes.key.as_deref() != key {
            return Err(Rejection::BadRoomKey(room.name.clone()));
        }
        if room.modes.limit.is_some_and(|limit| room.members.people() >= limit as usize) {
            return Err(Rejection::RoomFull(room.name.clone()));
        }
        Ok(())
    }

    /// Whether `id`, a member, may speak: in a `+m` room only operators
    /// and voiced members do, and banned members do not.
    pub(crate) fn check_speak(&self, id: ClientId, room: &Room) -> Result<(), Rejection> {
        let status = room.members.status(id);
        let privileged = status.operator || status.voice;
        if !privileged && (room.modes.moderated || self.is_banned(id, room)) {
            return Err(Rejection::CannotSpeak(room.name.clone()));
        }
        Ok(())
    }

    /// The status a client gets on entering a room: operator if it created
    /// the room, owns it, is logged in to an account the room made an
    /// operator, or finds a guest's room empty (of other nodes' users too:
    /// in a cluster, the room's first member is the first on any node).
    pub(crate) fn status_on_entry(&self, id: ClientId, room: &Room, creating: bool) -> Status {
        let empty = room.members.len() == 0 && self.remote.in_room(&NameKey::of(&room.name)).next().is_none();
        let first = room.owner.is_none() && empty;
        Status { operator: creating || first || self.operator_by_account(id, room), voice: false }
    }

    /// Whether `id` is logged in to the room's owner or to an account the
    /// room made an operator.
    fn operator_by_account(&self, id: ClientId, room: &Room) -> bool {
        let Some(account) = self.clients.get(&id).and_then(|c| c.account.as_ref()) else { return false };
        room.owner.as_ref() == Some(account) || room.modes.operators().contains(account)
    }

    /// A nickname change, refused to a member banned from one of its
    /// rooms (who could otherwise shake the ban off by renaming) unless
    /// it is an operator or voiced there, as `check_speak` lets it speak.
    pub(crate) fn check_nick_change(&self, id: ClientId, nick: &str) -> Result<(), Rejection> {
        let rooms = self.clients.get(&id).map_or(&[][..], |c| &c.rooms);
        for room in rooms.iter().filter_map(|key| self.rooms.get(key)) {
            let status = room.members.status(id);
            if !status.operator && !status.voice && self.is_banned(id, room) {
                return Err(Rejection::BannedNickChange { nick: nick.into(), room: room.name.clone() });
            }
        }
        Ok(())
    }

    fn is_banned(&self, id: ClientId, room: &Room) -> bool {
        if room.modes.bans().is_empty() {
            return false;
        }
        let client = &self.clients[&id];
        let nick = &client.nick;
        let mask = format!("{nick}!{nick}@{}", client.host);
        let account = client.account.as_ref().map(NameKey::as_str);
        room.modes.bans().iter().any(|ban| ban_matches(ban, &mask, account))
    }
}

impl Turn<'_> {
    /// `/mode ROOM`: shows its modes; `/mode ROOM +b`: its bans;
    /// `/mode ROOM CHANGES ARGS`: an operator changes them, and every
    /// member is told what changed.
    pub(crate) fn mode(&mut self, name: &str, letters: Option<&str>, args: &[String]) -> Result<(), Rejection> {
        let world = &mut *self.world;
        let out = &mut *self.out;
        let id = self.id;
        let key = NameKey::of(name);
        let room = world.rooms.get(&key).ok_or_else(|| Rejection::NoSuchRoom(name.into()))?;
        let client = &world.clients[&id];
        let Some(letters) = letters else {
            let modes = room.modes.describe(room.members.contains(id));
            world.tell(out, id, Event::Modes { room: &room.name, modes: &modes });
            return Ok(());
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let changes =
            modes::parse(letters, &args, client.codec().usage(crate::command::Verb::Mode)).map_err(|e| match e {
                Rejection::InvalidModeParam { mode, reason, .. } => {
                    Rejection::InvalidModeParam { room: room.name.clone(), mode, reason }
                }
                other => other,
            })?;
        if changes.iter().all(|c| *c == ModeChange::ListBans) {
            let masks: Vec<&str> = room.modes.bans().iter().map(|m| &**m).collect();
            world.tell(out, id, Event::BanList { room: &room.name, masks: &masks });
            return Ok(());
        }
        if !room.members.status(id).operator {
            return Err(Rejection::NotOperator(room.name.clone()));
        }
        // What the room keeps must be on record before anyone relies on it.
        if world.storage_failing {
            return Err(Rejection::StorageUnavailable);
        }
        let (by, host) = (client.nick.clone(), client.host.clone());
        let kept_before = world.stored_modes(&room.modes);
        let mut applied = Vec::new();
        let mut refused = None;
        for change in changes {
            match world.apply_mode(&key, change) {
                Ok(Some(done)) => applied.push(done),
                Ok(None) => {}
                // The changes before it stand, and are told and kept.
                Err(rejection) => {
                    refused = Some(rejection);
                    break;
                }
            }
        }
        let room = &world.rooms[&key];
        let kept = world.stored_modes(&room.modes);
        if kept != kept_before {
            out.persist(Record::RoomModesSet { room: room.name.clone(), modes: kept });
        }
        if applied.is_empty() {
            return refused.map_or(Ok(()), Err);
        }
        modes_changed(out, &world.rooms[&key], &by, &host, &applied);
        refused.map_or(Ok(()), Err)
    }

    /// `/kick ROOM NICK [REASON]`: an operator puts a member out; every
    /// member, the kicked one too, is told.
    pub(crate) fn kick(&mut self, name: &str, nick: &str, reason: Option<&str>) -> Result<(), Rejection> {
        let world = &mut *self.world;
        let out = &mut *self.out;
        let id = self.id;
        let key = NameKey::of(name);
        let room = world.rooms.get(&key).ok_or_else(|| Rejection::NoSuchRoom(name.into()))?;
        if !room.members.contains(id) {
            return Err(Rejection::NotInRoom(room.name.clone()));
        }
        if !room.members.status(id).operator {
            return Err(Rejection::NotOperator(room.name.clone()));
        }
        // Every connection of the account in the room goes: it is one user.
        let devices: Vec<ClientId> = world.names.holder(&NameKey::of(nick)).map_or_else(Vec::new, |holder| {
            world.connections_of(holder).into_iter().filter(|d| room.members.contains(*d)).collect()
        });
        let Some(&target) = devices.first() else {
            return Err(Rejection::NotOnChannel { nick: nick.into(), room: room.name.clone() });
        };
        if let Some(rejection) = reason.and_then(crate::world::unsafe_text) {
            return Err(rejection);
        }
        let (by, host) = (&world.clients[&id].nick, &world.clients[&id].host);
        let kicked = &world.clients[&target].nick;
        let event = Event::Kicked { room: &room.name, by, host, nick: kicked, reason: reason.unwrap_or(by) };
        out.fanout(room.members.iter(), &event);
        let told: Box<str> = reason.unwrap_or(by).into();
        for device in devices {
            self.on(device).remove_member(&key, Some(&told));
        }
        Ok(())
    }

    /// `/invite NICK ROOM`: a member invites a user, who may then join past
    /// `+i`, a ban or a key; in a `+i` room only operators invite.
    pub(crate) fn invite(&mut self, nick: &str, name: &str) -> Result<(), Rejection> {
        let world = &mut *self.world;
        let out = &mut *self.out;
        let id = self.id;
        let target = world.names.holder(&NameKey::of(nick)).ok_or_else(|| Rejection::NoSuchNick(nick.into()))?;
        let key = NameKey::of(name);
        let room = world.rooms.get_mut(&key).ok_or_else(|| Rejection::NoSuchRoom(name.into()))?;
        if !room.members.contains(id) {
            return Err(Rejection::NotInRoom(room.name.clone()));
        }
        if room.modes.invite_only && !room.members.status(id).operator {
            return Err(Rejection::NotOperator(room.name.clone()));
        }
        let target_client = &world.clients[&target];
        if room.members.contains(target) {
            return Err(Rejection::AlreadyOnChannel { nick: target_client.nick.clone(), room: room.name.clone() });
        }
        if !room.modes.invited().contains(&target) {
            let invited = room.modes.invited_mut();
            if invited.len() >= MAX_INVITED {
                invited.remove(0);
            }
            invited.push(target);
        }
        let by = &world.clients[&id];
        let event =
            |you| Event::Invited { room: &room.name, by: &by.nick, host: &by.host, nick: &target_client.nick, you };
        out.send(target, target_client.render(&event(true)));
        out.send(id, by.render(&event(false)));
        Ok(())
    }
}

/// Tells a room's members that `by` (shown with `host`) made the mode
/// changes `applied`, in one line: for changes made here or on another
/// node of a cluster.
pub(crate) fn modes_changed(out: &mut Outbox, room: &Room, by: &str, host: &str, applied: &[ModeChange]) {
    let mut letters = String::new();
    let mut args = Vec::new();
    for change in applied {
        let (letter, arg) = change.describe();
        letters.push_str(&letter);
        args.extend(arg);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let event = Event::ModeChanged { room: &room.name, by, host, letters: &letters, args: &args };
    out.fanout(room.members.iter(), &event);
}
