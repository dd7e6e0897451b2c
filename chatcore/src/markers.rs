//! Read markers: how far each account has read each of its rooms and
//! conversations, so that all of its connections (a phone, a laptop, an
//! IRC client) agree on what is new, and a device that logs in or joins
//! learns how much it missed.
//!
//! A marker is a message number (a room's own numbering, or a whisper's
//! among all whispers) and the time of that message: IRC's
//! `draft/read-marker` names markers by time, and the engine maps a time
//! to the newest message it holds in memory said at or before it. Markers
//! only move forward. The room table keeps rooms' markers, and removes
//! them with their room (a room created again under the name numbers
//! from 1); the account keeps the names of the rooms it marked, to find
//! them at login, and forgets the names of rooms that are gone when it
//! finds them. Each change is a [`Record::ReadMarker`], and every
//! connection of the account, on this node or (through the store's change
//! feed) on another, is told.

use bytes::Bytes;

use crate::client::Client;
use crate::command::SINCE_READ;
use crate::error::Rejection;
use crate::event::{Event, PageOf};
use crate::irc::session::Cap;
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::{ClientId, HistoryRange};
use crate::read_marker::{GuestTarget, Marker};
use crate::record::{ReadTarget, Record, RestoreError};
use crate::room::Room;
use crate::turn::Turn;
use crate::world::World;

/// What a room's messages after `marker` come to: how many, the first
/// one's number, and its time if the room holds it in memory. `None`
/// without a marker, or with nothing after it.
pub(crate) fn unread_in(room: &Room, marker: Option<Marker>) -> Option<(u64, u64, Option<u64>)> {
    let marker = marker?;
    let newest = room.next_seq.saturating_sub(1);
    if marker.seq >= newest {
        return None;
    }
    let first = marker.seq + 1;
    let since = room.history.page_after(marker.seq, 1).next().filter(|e| e.seq == first).map(|e| e.unix_ms);
    Some((newest - marker.seq, first, since))
}

/// The marker for message `seq` of `room` (the newest, for a number beyond
/// it), with the message's time from memory; for one no longer there,
/// just before the next it holds, which maps back to the same number.
/// `None` for 0 or an empty room: nothing to mark.
fn marker_at(room: &Room, seq: u64, now_ms: u64) -> Option<Marker> {
    let seq = seq.min(room.next_seq.saturating_sub(1));
    if seq == 0 {
        return None;
    }
    let next_kept = room.history.page_after(seq - 1, 1).next();
    let unix_ms = next_kept.map_or(now_ms, |e| if e.seq == seq { e.unix_ms } else { e.unix_ms.saturating_sub(1) });
    Some(Marker { seq, unix_ms })
}

/// The marker for a time: that time, and the newest message in memory
/// said at or before it (0 if memory holds none that old, as in a room
/// with no messages yet).
fn marker_by_time(room: &Room, unix_ms: u64) -> Marker {
    let seq = room.history.iter().filter(|e| e.unix_ms <= unix_ms).last().map_or(0, |e| e.seq);
    Marker { seq, unix_ms }
}

/// A target as a guest's markers key it.
fn guest_target(target: &ReadTarget) -> GuestTarget {
    match target {
        ReadTarget::Room(room) => GuestTarget::Room(NameKey::of(room)),
        ReadTarget::Conversation(with) => GuestTarget::Conversation(NameKey::of(with)),
    }
}

/// A target as a page of history names it, for the event.
fn page_of(target: &ReadTarget) -> PageOf<'_> {
    match target {
        ReadTarget::Room(room) => PageOf::Room(room),
        ReadTarget::Conversation(with) => PageOf::Conversation { with },
    }
}

/// The marker as told to a client.
fn marker_event(target: &ReadTarget, marker: Option<Marker>) -> Event<'_> {
    Event::ReadMarker { of: page_of(target), seq: marker.map(|m| m.seq), unix_ms: marker.map(|m| m.unix_ms) }
}

/// Whether `client` is told of markers it did not ask about: an IRC
/// client only if it negotiated `draft/read-marker`.
fn hears_markers(client: &Client) -> bool {
    client.irc.as_ref().is_none_or(|session| session.caps.has(Cap::ReadMarker))
}

impl World {
    /// `account`'s marker in `target`, if it has one.
    pub(crate) fn marker(&self, account: &NameKey, target: &ReadTarget) -> Option<Marker> {
        match target {
            ReadTarget::Room(room) => self.rooms.marker(&NameKey::of(room), account),
            ReadTarget::Conversation(with) => {
                self.accounts.get(account)?.markers.conversations.get(&NameKey::of(with)).copied()
            }
        }
    }

    /// Moves `account`'s marker in `target` forward to `to`: whether it
    /// moved. A marker never moves back, and a new one beyond
    /// `max_read_markers` is not kept (the live command refuses it before).
    /// A room or account that does not exist is an error that changes
    /// nothing.
    pub(crate) fn move_marker(
        &mut self,
        account: &NameKey,
        target: &ReadTarget,
        to: Marker,
    ) -> Result<bool, RestoreError> {
        let max = self.config.max_read_markers;
        if let ReadTarget::Conversation(with) = target
            && !self.accounts.contains_key(&NameKey::of(with))
        {
            return Err(RestoreError::UnknownAccount(with.clone()));
        }
        let unknown_account = || RestoreError::UnknownAccount(account.as_str().into());
        let markers = &mut self.accounts.get_mut(account).ok_or_else(unknown_account)?.markers;
        let full = markers.len() >= max;
        match target {
            ReadTarget::Room(name) => {
                let key = NameKey::of(name);
                if !self.rooms.contains_key(&key) {
                    return Err(RestoreError::UnknownRoom(name.clone()));
                }
                match self.rooms.marker(&key, account) {
                    current @ Some(_) if !to.is_after(current) => return Ok(false),
                    Some(_) => {}
                    None if full && !markers.rooms.contains(&key) => return Ok(false),
                    None => {
                        markers.rooms.insert(key.clone());
                    }
                }
                self.rooms.set_marker(&key, account, to);
            }
            ReadTarget::Conversation(with) => {
                let key = NameKey::of(with);
                match markers.conversations.get(&key) {
                    current @ Some(_) if !to.is_after(current.copied()) => return Ok(false),
                    None if full => return Ok(false),
                    _ => {}
                }
                markers.conversations.insert(key, to);
            }
        }
        Ok(true)
    }

    /// Forgets the names of rooms `account` marked that are gone (or were
    /// created again since), so that they no longer count against its limit.
    fn forget_gone_rooms(&mut self, account: &NameKey) {
        let rooms = &self.rooms;
        if let Some(found) = self.accounts.get_mut(account) {
            found.markers.rooms.retain(|key| rooms.marker(key, account).is_some());
        }
    }

    /// Tells each connection of `account` its marker in `target` moved:
    /// every one that hears of markers, and `asker` (who set it) in any case.
    pub(crate) fn tell_marker(
        &self,
        out: &mut Outbox,
        account: &NameKey,
        target: &ReadTarget,
        asker: Option<ClientId>,
    ) {
        let event = marker_event(target, self.marker(account, target));
        for &session in self.sessions_of(account) {
            let Some(client) = self.clients.get(&session) else { continue };
            if Some(session) == asker || hears_markers(client) {
                out.send(session, client.render(&event));
            }
        }
    }

    /// `client`'s marker in `target`: its account's, or a guest's own.
    fn reader_marker(&self, client: &Client, target: &ReadTarget) -> Option<Marker> {
        match &client.account {
            Some(account) => self.marker(account, target),
            None => client.guest_markers.get(&guest_target(target)).copied(),
        }
    }

    /// What `client` (logged in or not) joining `room` learns of its marker there:
    /// an IRC client with `draft/read-marker` gets the marker itself (`*`
    /// for none), as the specification asks of every join (`irc_first`
    /// asks for that line alone, which goes right after the JOIN); any
    /// other client, how much is unread, if anything is.
    pub(crate) fn markers_on_join(&self, client: &Client, room: &Room, irc_first: bool) -> Option<Bytes> {
        let target = ReadTarget::Room(room.name.clone());
        let marker = self.reader_marker(client, &target);
        let irc_marker = client.irc.as_ref().is_some_and(|session| session.caps.has(Cap::ReadMarker));
        if irc_first || irc_marker {
            return (irc_first && irc_marker).then(|| client.render(&marker_event(&target, marker)));
        }
        let (count, first_seq, since_ms) = unread_in(room, marker)?;
        Some(client.render(&Event::Unread { room: &room.name, count, first_seq, since_ms }))
    }
}

#[cfg(any(test, feature = "testing"))]
impl World {
    /// What must hold of the markers: every room's are of accounts that
    /// list the room, every conversation's name an account, and no account
    /// keeps more than `max_read_markers`.
    pub(crate) fn check_markers(&self) -> Result<(), crate::invariant_violation::InvariantViolation> {
        let broken = |account: &NameKey| crate::invariant_violation::InvariantViolation::ReadMarkers {
            account: account.to_string(),
        };
        for (key, account) in self.rooms.markers() {
            let listed = self.accounts.get(account).is_some_and(|a| a.markers.rooms.contains(key));
            if !listed || !self.rooms.contains_key(key) {
                return Err(broken(account));
            }
        }
        for (key, account) in &self.accounts {
            let markers = &account.markers;
            if markers.len() > self.config.max_read_markers
                || markers.conversations.keys().any(|with| !self.accounts.contains_key(with))
            {
                return Err(broken(key));
            }
        }
        Ok(())
    }
}

impl Turn<'_> {
    /// `/read`, JSON `read`, IRC `MARKREAD`: with a number (`seq`) or a time
    /// (`ts`, IRC's), moves the reader's marker in the room or the
    /// conversation with `with` forward to it and tells each of the
    /// account's connections (a guest: this connection, whose markers are
    /// its own, in memory); without either, or if the marker is already
    /// there or beyond, tells the asker where it is. Asking about a room
    /// that does not exist is answered: nothing is marked there.
    pub(crate) fn read(
        &mut self,
        room: Option<&str>,
        with: Option<&str>,
        seq: Option<u64>,
        ts: Option<u64>,
    ) -> Result<(), Rejection> {
        let (world, id, now_ms) = (&mut *self.world, self.id, self.now.unix_ms);
        let account = world.clients[&id].account.clone();
        let target = match (room, with) {
            (Some(_), Some(_)) => {
                return Err(Rejection::Usage(self.client().codec().usage(crate::command::Verb::Read)));
            }
            // An account's conversation is with another account; a guest's
            // is with whoever holds the nickname, by name.
            (None, Some(with)) if account.is_some() => {
                let other =
                    world.accounts.get(&NameKey::of(with)).ok_or_else(|| Rejection::NoSuchAccount(with.into()))?;
                ReadTarget::Conversation(other.name.clone())
            }
            (None, Some(with)) => ReadTarget::Conversation(with.into()),
            (Some(name), None) if seq.is_none() && ts.is_none() && !world.rooms.contains_key(&NameKey::of(name)) => {
                ReadTarget::Room(name.into())
            }
            (room, None) => ReadTarget::Room(world.rooms[&world.target_room(id, room)?].name.clone()),
        };
        let current = world.reader_marker(&world.clients[&id], &target);
        let wanted = match (&target, seq, ts) {
            (_, None, None) => None,
            (ReadTarget::Room(name), Some(seq), _) => marker_at(&world.rooms[&NameKey::of(name)], seq, now_ms),
            (ReadTarget::Room(name), None, Some(ts)) => Some(marker_by_time(&world.rooms[&NameKey::of(name)], ts)),
            (ReadTarget::Conversation(_), Some(seq), _) => {
                let newest = world.accounts.next_whisper_seq().saturating_sub(1);
                Some(Marker { seq: seq.min(newest), unix_ms: now_ms }).filter(|m| m.seq > 0)
            }
            // Whispers live in the store: a time cannot be placed among
            // them here, so it moves the time and keeps the number.
            (ReadTarget::Conversation(_), None, Some(ts)) => {
                Some(Marker { seq: current.map_or(0, |c| c.seq), unix_ms: ts })
            }
        };
        let Some(to) = wanted.filter(|to| to.is_after(current)) else {
            world.tell(self.out, id, marker_event(&target, current));
            return Ok(());
        };
        let max = world.config.max_read_markers;
        let Some(account) = account else {
            // A guest's markers are this connection's, in memory only.
            let client = world.clients.get_mut(&id).ok_or(Rejection::ReadNeedsAccount)?;
            if current.is_none() && client.guest_markers.len() >= max {
                return Err(Rejection::ReadMarkerLimit { max });
            }
            client.guest_markers.insert(guest_target(&target), to);
            world.tell(self.out, id, marker_event(&target, Some(to)));
            return Ok(());
        };
        if world.storage_failing {
            return Err(Rejection::StorageUnavailable);
        }
        if current.is_none() {
            world.forget_gone_rooms(&account);
            if world.accounts.get(&account).is_some_and(|a| a.markers.len() >= max) {
                return Err(Rejection::ReadMarkerLimit { max });
            }
        }
        // Checked above: the account and the room exist, and it has room for the marker.
        let _ = world.move_marker(&account, &target, to);
        let name = world.accounts.get(&account).map_or_else(|| account.as_str().into(), |a| a.name.clone());
        self.out.persist(Record::ReadMarker {
            account: name,
            target: target.clone(),
            seq: to.seq,
            unix_ms: to.unix_ms,
        });
        world.tell_marker(self.out, &account, &target, Some(id));
        Ok(())
    }

    /// On logging in: how much is unread in each room the account keeps a
    /// marker in (the rooms it reads), one line each.
    pub(crate) fn tell_unread(&mut self) {
        let world = &mut *self.world;
        let Some(account) = world.clients.get(&self.id).and_then(|c| c.account.clone()) else { return };
        world.forget_gone_rooms(&account);
        let Some(marked) = world.accounts.get(&account).map(|a| &a.markers.rooms) else { return };
        let Some(client) = world.clients.get(&self.id) else { return };
        for key in marked {
            let Some(room) = world.rooms.get(key) else { continue };
            if let Some((count, first_seq, since_ms)) = unread_in(room, world.rooms.marker(key, &account)) {
                let event = Event::Unread { room: &room.name, count, first_seq, since_ms };
                self.out.send(self.id, client.render(&event));
            }
        }
    }

    /// A `since` page asked for as [`SINCE_READ`]: the page after the
    /// reader's marker in the room (or conversation) it names, from the
    /// beginning if it has none. Any other range is left as it is.
    pub(crate) fn since_read(
        &self,
        room: Option<&str>,
        with: Option<&str>,
        range: Option<HistoryRange>,
    ) -> Result<Option<HistoryRange>, Rejection> {
        if range != Some(HistoryRange::After(SINCE_READ)) {
            return Ok(range);
        }
        let world = &*self.world;
        let account = world.clients[&self.id].account.clone().ok_or(Rejection::ReadNeedsAccount)?;
        let target = match with {
            Some(with) => ReadTarget::Conversation(with.into()),
            None => ReadTarget::Room(world.rooms[&world.target_room(self.id, room)?].name.clone()),
        };
        Ok(Some(HistoryRange::After(world.marker(&account, &target).map_or(0, |m| m.seq))))
    }
}
