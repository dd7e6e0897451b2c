//! What each [`Command`] does to the engine's state, and who is told.

use crate::account::OfflineMessage;
use crate::codec::Codec;
use crate::command::{COMMANDS, Command, Verb};
use crate::error::Rejection;
use crate::event::{Event, IrcAnswer};
use crate::names::{NameError, NameKey, validate_chosen_nick, validate_nick, validate_room};
use crate::outbox::Outbox;
use crate::output::{ClientId, DisconnectReason};
use crate::record::Record;
use crate::record::StoredMessage;
use crate::room::Room;
use crate::time::Now;
use crate::world::{World, unsafe_text};

/// `enter`'s flag for a room the client is creating, which makes it the
/// room's first operator.
const CREATING: bool = true;

impl World {
    /// Carries out one parsed command from a connected client, after the
    /// rules its row of the command table states, and tells the client if
    /// it was refused.
    pub(crate) fn execute(&mut self, out: &mut Outbox, now: Now, id: ClientId, command: Command) {
        if let Err(rejection) = self.run(out, now, id, command) {
            self.reject(out, id, rejection);
        }
    }

    /// Carries out a command, returning a refusal instead of telling it
    /// (an IRC NOTICE must never be answered with an error).
    pub(crate) fn run(
        &mut self,
        out: &mut Outbox,
        now: Now,
        id: ClientId,
        mut command: Command,
    ) -> Result<(), Rejection> {
        let Some(client) = self.clients.get(&id) else {
            return Ok(());
        };
        let spec = command.verb.spec();
        if self.config.require_login && !spec.guest_may && client.account.is_none() {
            return Err(Rejection::LoginRequired);
        }
        if spec.needs_store && self.storage_failing {
            return Err(Rejection::StorageUnavailable);
        }
        match command.verb {
            Verb::Nick => self.change_nick(out, id, command.word("nick")),
            Verb::Create => self.create_room(out, now, id, command.word("room")),
            Verb::Join => self.join(out, now, id, command.word("room"), command.text("key")),
            Verb::Mode => self.mode(out, id, command.word("room"), command.text("modes"), command.list("args")),
            Verb::Kick => self.kick(out, now, id, command.word("room"), command.word("nick"), command.text("reason")),
            Verb::Invite => self.invite(out, id, command.word("nick"), command.word("room")),
            Verb::Drop => self.drop_room(out, id, command.word("room")),
            Verb::Topic => self.topic(out, now, id, command.text("room"), command.text("text")),
            Verb::Leave => self.leave(out, now, id, command.text("room"), command.text("reason")),
            Verb::List if !command.list("rooms").is_empty() => {
                self.list_named(out, id, command.list("rooms"));
                Ok(())
            }
            Verb::List => {
                self.list_rooms(out, id, command.text("from"));
                Ok(())
            }
            Verb::Who => self.who(out, id, command.text("room"), command.text("from")),
            Verb::Users => {
                self.users(out, id, command.text("from"));
                Ok(())
            }
            Verb::Help => {
                self.tell(out, id, Event::Help { commands: COMMANDS });
                Ok(())
            }
            Verb::Quit => self.quit(out, now, id, command.text("reason").map(str::to_owned)),
            Verb::Say => self.say(out, now, id, command.text("room"), command.word("text"), false),
            Verb::Notice => self.say(out, now, id, command.text("room"), command.word("text"), true),
            Verb::Msg => self.whisper(out, now, id, command.word("to"), command.word("text")),
            Verb::Register => {
                let (password, confirm) = (command.take_secret("password"), command.take_secret("confirm"));
                self.register(out, now, id, command.word("name"), password, &confirm)
            }
            Verb::Login => {
                let password = command.take_secret("password");
                self.login(out, now, id, command.word("name"), password)
            }
            Verb::Seen => self.seen(out, id, command.word("nick")),
            Verb::Since => {
                let seconds = command.number("seconds").unwrap_or_default();
                self.since(out, now, id, seconds, command.text("from"));
                Ok(())
            }
            Verb::Block => self.block(out, id, command.word("nick")),
            Verb::Unblock => self.unblock(out, id, command.word("nick")),
            Verb::Blocked => {
                self.list_blocks(out, id);
                Ok(())
            }
            Verb::History => match (command.text("room"), command.text("with")) {
                (room, None) => self.history(out, id, room, command.number("before")),
                (None, Some(with)) => self.conversation_history(out, id, with, command.number("before")),
                // A room and a conversation at once: which page would it be?
                (Some(_), Some(_)) => Err(Rejection::Usage(self.clients[&id].codec.usage(Verb::History))),
            },
            // IRC's own verbs, in `irc/`.
            Verb::Cap => self.irc_cap(out, now, id, command.word("sub"), command.text("caps")),
            Verb::User => {
                self.irc_user(out, now, id, command.word("user"), command.word("realname"));
                Ok(())
            }
            Verb::Pass => {
                self.irc_pass(id, command.word("password"));
                Ok(())
            }
            Verb::Authenticate => self.irc_authenticate(out, now, id, command.word("data")),
            Verb::Ping => {
                self.tell(out, id, Event::Irc(IrcAnswer::Pong { token: command.word("token") }));
                Ok(())
            }
            Verb::Pong => Ok(()),
            Verb::Names => {
                self.irc_names(out, id, command.text("rooms"));
                Ok(())
            }
            Verb::Whois => {
                self.irc_whois(out, id, command.word("nick"));
                Ok(())
            }
            Verb::Whowas => {
                self.irc_whowas(out, id, command.word("nick"), command.text("count"));
                Ok(())
            }
            Verb::Lusers => {
                self.irc_lusers(out, id);
                Ok(())
            }
            Verb::Away => {
                self.irc_away(out, id, command.text("message"));
                Ok(())
            }
            Verb::Info => {
                self.tell(out, id, Event::Irc(IrcAnswer::Info));
                Ok(())
            }
            Verb::Links => {
                self.tell(out, id, Event::Irc(IrcAnswer::Links));
                Ok(())
            }
            Verb::ChatHistory => self.irc_chathistory(out, now, id, &command),
        }
    }

    pub(crate) fn change_nick(&mut self, out: &mut Outbox, id: ClientId, nick: &str) -> Result<(), Rejection> {
        if let Some(account) = self.account_of(id) {
            return Err(Rejection::NickLocked(account.into()));
        }
        validate_chosen_nick(nick, self.config.max_nick_len, &self.config.server_name)
            .map_err(Rejection::NickInvalid)?;
        let key = NameKey::of(nick);
        if self.nicks.get(&key).is_some_and(|owner| *owner != id) {
            return Err(Rejection::NickTaken(nick.into()));
        }
        if let Some(account) = self.accounts.get(&key) {
            return Err(Rejection::NickRegistered(account.name.clone()));
        }
        self.check_nick_change(id, nick)?;
        if self.clients[&id].nick.as_ref() == nick {
            let host = &self.clients[&id].host.clone();
            self.tell(out, id, Event::NickChanged { old: nick, new: nick, host, you: true });
        } else {
            self.rename(out, id, nick.into(), false);
        }
        Ok(())
    }

    /// Gives a client a new nickname and tells it and its roommates.
    /// `taken_back`: its guest name was claimed by the account that owns it.
    pub(crate) fn rename(&mut self, out: &mut Outbox, id: ClientId, nick: Box<str>, taken_back: bool) {
        let client = self.clients.get_mut(&id).expect("caller checked the client");
        let key = NameKey::of(&nick);
        let old = std::mem::replace(&mut client.nick, nick);
        let old_key = std::mem::replace(&mut client.nick_key, key.clone());
        if self.nicks.get(&old_key) == Some(&id) {
            self.nicks.remove(&old_key);
        }
        self.carry_blocks(id, &old_key);
        let client = self.clients.get_mut(&id).expect("caller checked the client");
        if client.rooms.is_empty() {
            if self.lobby.get(&old_key) == Some(&id) {
                self.lobby.remove(&old_key);
            }
            self.lobby.insert(key.clone(), id);
        }
        self.nicks.insert(key, id);
        let (new, host) = (self.clients[&id].nick.clone(), self.clients[&id].host.clone());
        let mates = self.roommates(id);
        out.fanout(mates, &Event::NickChanged { old: &old, new: &new, host: &host, you: false });
        if taken_back {
            self.tell(out, id, Event::Renamed { old: &old, new: &new, host: &host });
        } else {
            self.tell(out, id, Event::NickChanged { old: &old, new: &new, host: &host, you: true });
        }
    }

    fn create_room(&mut self, out: &mut Outbox, now: Now, id: ClientId, name: &str) -> Result<(), Rejection> {
        validate_room(name, self.config.max_room_name_len).map_err(Rejection::RoomInvalid)?;
        let key = NameKey::of(name);
        if let Some(existing) = self.rooms.get(&key) {
            return Err(Rejection::RoomExists(existing.name.clone()));
        }
        if self.rooms.len() >= self.config.max_rooms {
            return Err(Rejection::RoomLimit { max: self.config.max_rooms });
        }
        self.check_membership_allowance(id)?;
        self.take_room_allowance(now, id)?;
        let owner = self.clients.get(&id).and_then(|c| c.account.clone());
        let owner_name = owner.as_ref().and_then(|key| self.accounts.get(key)).map(|a| a.name.clone());
        self.rooms.insert(key.clone(), Room::new(name, owner, None));
        out.persist(Record::RoomCreated { room: name.into(), unix_ms: now.unix_ms, owner: owner_name });
        self.tell(out, id, Event::Created { room: name });
        self.enter(out, now, id, key, CREATING);
        Ok(())
    }

    fn join(
        &mut self,
        out: &mut Outbox,
        now: Now,
        id: ClientId,
        name: &str,
        pass: Option<&str>,
    ) -> Result<(), Rejection> {
        validate_room(name, self.config.max_room_name_len).map_err(Rejection::RoomInvalid)?;
        let key = NameKey::of(name);
        // A guest's room left over from before a restart still holds what
        // its last group said and set; whoever walks in finds it new.
        self.renew_guest_room(out, now, &key);
        let room = self.rooms.get(&key).ok_or_else(|| Rejection::NoSuchRoom(name.into()))?;
        if room.members.contains(id) {
            return Err(Rejection::AlreadyInRoom(room.name.clone()));
        }
        self.check_join(id, room, pass)?;
        self.check_membership_allowance(id)?;
        self.enter(out, now, id, key, !CREATING);
        Ok(())
    }

    /// Refuses a JSON client already in its maximum of rooms. A text client
    /// switches rooms, so it never needs more than one.
    fn check_membership_allowance(&self, id: ClientId) -> Result<(), Rejection> {
        let client = &self.clients[&id];
        let max = self.config.max_rooms_per_client;
        if client.codec != Codec::Text && client.rooms.len() >= max {
            return Err(Rejection::TooManyRooms { max });
        }
        Ok(())
    }

    /// Puts a client into an existing room: the text protocol switches, the
    /// room hears of the arrival, and the newcomer gets the history first.
    fn enter(&mut self, out: &mut Outbox, now: Now, id: ClientId, key: NameKey, creating: bool) {
        let Some(client) = self.clients.get(&id) else {
            return;
        };
        if client.codec == Codec::Text {
            for old in client.rooms.clone() {
                self.exit(out, now, id, &old, None);
            }
        }
        // The room table's own key, so that the member's copy shares it.
        let Some((key, room)) = self.rooms.get_key_value(&key) else {
            return;
        };
        let key = key.clone();
        let status = self.status_on_entry(id, room, creating);
        let (Some(client), Some(room)) = (self.clients.get_mut(&id), self.rooms.get_mut(&key)) else {
            return;
        };
        room.members.insert(id, client.wire());
        room.members.set_status(id, status);
        // An invitation is used up by joining.
        if room.modes.invited().contains(&id) {
            room.modes.invited_mut().retain(|invited| *invited != id);
        }
        room.empty_since_ms = None;
        let members = room.members.len();
        let joined = |you| Event::Joined { room: &room.name, nick: &client.nick, host: &client.host, members, you };
        out.fanout(room.members.iter().filter(|(m, _)| *m != id), &joined(false));
        let welcome = client.render(&joined(true));
        self.add_membership(id, key.clone());
        self.replay_on_join(out, id, key, welcome);
    }

    fn leave(
        &mut self,
        out: &mut Outbox,
        now: Now,
        id: ClientId,
        named: Option<&str>,
        reason: Option<&str>,
    ) -> Result<(), Rejection> {
        let key = self.target_room(id, named)?;
        if let Some(rejection) = reason.and_then(unsafe_text) {
            return Err(rejection);
        }
        self.exit(out, now, id, &key, reason.filter(|r| !r.trim().is_empty()));
        Ok(())
    }

    /// Takes a client out of a room it is in; both sides are told.
    fn exit(&mut self, out: &mut Outbox, now: Now, id: ClientId, key: &NameKey, reason: Option<&str>) {
        let (Some(client), Some(room)) = (self.clients.get(&id), self.rooms.get(key)) else {
            return;
        };
        let others = room.members.iter().filter(|&(m, _)| m != id);
        let left = |you| Event::Left { room: &room.name, nick: &client.nick, host: &client.host, you, reason };
        out.fanout(others, &left(false));
        out.send(id, client.render(&left(true)));
        self.remove_member(out, now, id, key);
    }

    /// Takes a client out of a room without telling anyone (the caller
    /// has), and notes the room empty if it now is.
    pub(crate) fn remove_member(&mut self, out: &mut Outbox, now: Now, id: ClientId, key: &NameKey) {
        self.remove_membership(id, key);
        if let Some(room) = self.rooms.get_mut(key) {
            room.members.remove(id);
        }
        self.note_if_vacated(out, now, key);
    }

    /// The room a command is about: the one named (which the client must be
    /// in), or else the client's only (text: current) room.
    pub(crate) fn target_room(&self, id: ClientId, named: Option<&str>) -> Result<NameKey, Rejection> {
        let client = &self.clients[&id];
        match named {
            Some(name) => {
                let key = NameKey::of(name);
                if client.is_in(&key) {
                    Ok(key)
                } else if self.rooms.contains_key(&key) {
                    Err(Rejection::NotInRoom(name.into()))
                } else {
                    Err(Rejection::NoSuchRoom(name.into()))
                }
            }
            None => match client.rooms.last() {
                None => Err(Rejection::InLobby),
                Some(current) if client.rooms.len() == 1 || client.codec == Codec::Text => Ok(current.clone()),
                Some(_) => Err(Rejection::RoomRequired),
            },
        }
    }

    fn quit(&mut self, out: &mut Outbox, now: Now, id: ClientId, reason: Option<String>) -> Result<(), Rejection> {
        if let Some(rejection) = reason.as_deref().and_then(unsafe_text) {
            return Err(rejection);
        }
        self.close(out, now, id, DisconnectReason::Quit(reason.map(String::into_boxed_str)));
        Ok(())
    }

    fn say(
        &mut self,
        out: &mut Outbox,
        now: Now,
        id: ClientId,
        named: Option<&str>,
        text: &str,
        notice: bool,
    ) -> Result<(), Rejection> {
        check_text(text, Verb::Say, self.clients[&id].codec)?;
        let key = match (named, self.target_room(id, named)) {
            (_, Ok(key)) => key,
            // A room that takes messages from outside (`-n`).
            (Some(name), Err(Rejection::NotInRoom(_)))
                if self.rooms.get(&NameKey::of(name)).is_some_and(|r| r.modes.external_messages) =>
            {
                NameKey::of(name)
            }
            (_, Err(rejection)) => return Err(rejection),
        };
        if let Some(room) = self.rooms.get(&key) {
            self.check_speak(id, room)?;
        }
        let (Some(sender), Some(room)) = (self.clients.get(&id), self.rooms.get_mut(&key)) else {
            return Ok(());
        };
        let message =
            StoredMessage { seq: room.next_seq, from: sender.nick.clone(), text: text.into(), unix_ms: now.unix_ms };
        room.next_seq += 1;
        let event = Event::Message {
            room: &room.name,
            seq: message.seq,
            from: &sender.nick,
            host: &sender.host,
            text,
            unix_ms: now.unix_ms,
            history: false,
            notice,
        };
        let blockers = self.blockers.get(&sender.nick_key);
        let carried = self.carried_blocks.get(&id);
        // The sender sees its message as others do, with the seq it was
        // stored under: JSON always, IRC with echo-message (see `echoes`).
        // It is one of the recipients then, so its copy is the same buffer.
        let echoes = sender.echoes();
        let recipients = room.members.iter().filter(|&(to, _)| {
            (to != id || echoes)
                && blockers.is_none_or(|b| !b.contains(&to))
                && carried.is_none_or(|c| !c.iter().any(|(b, _)| *b == to))
        });
        out.fanout(recipients, &event);
        if out.emits_records() {
            out.persist(Record::Message { room: room.name.clone(), message: message.clone() });
        }
        room.history.push(self.config.history_len, message);
        self.counts.messages += 1;
        Ok(())
    }

    fn whisper(&mut self, out: &mut Outbox, now: Now, id: ClientId, to: &str, text: &str) -> Result<(), Rejection> {
        check_text(text, Verb::Msg, self.clients[&id].codec)?;
        if !is_nick_like(to) {
            return Err(Rejection::NoSuchNick(to.into()));
        }
        let to_key = NameKey::of(to);
        let Some(&recipient) = self.nicks.get(&to_key) else {
            return self.keep_for_offline(out, now, id, &to_key, to, text);
        };
        if self.blocks_sender(recipient, id) {
            return Err(Rejection::BlockedByRecipient(self.clients[&recipient].nick.clone()));
        }
        let sender = &self.clients[&id];
        let receiver = &self.clients[&recipient];
        // A logged-in user's nickname is its account's name.
        let between_accounts = sender.account.is_some() && receiver.account.is_some();
        let (from, to_nick) = (sender.nick.clone(), receiver.nick.clone());
        let seq = if between_accounts { self.keep_in_conversation(out, now, &from, &to_nick, text) } else { None };
        let (sender, receiver) = (&self.clients[&id], &self.clients[&recipient]);
        let (from, to_nick, host) = (&*from, &*to_nick, &*sender.host);
        let event =
            |echo| Event::Whisper { from, host, to: to_nick, text, unix_ms: now.unix_ms, echo, offline: false, seq };
        let delivered = receiver.render(&event(false));
        let echoed = sender.render(&event(true));
        out.send(recipient, delivered);
        out.send(id, echoed);
        self.counts.messages += 1;
        Ok(())
    }

    /// A whisper to a registered user who is offline waits in its mailbox.
    fn keep_for_offline(
        &mut self,
        out: &mut Outbox,
        now: Now,
        id: ClientId,
        key: &NameKey,
        to: &str,
        text: &str,
    ) -> Result<(), Rejection> {
        let sender = &self.clients[&id];
        let Some(account) = self.accounts.get_mut(key) else {
            return Err(Rejection::NoSuchNick(to.into()));
        };
        if self.storage_failing {
            return Err(Rejection::StorageUnavailable);
        }
        if account.blocks.contains_key(&sender.nick_key) {
            return Err(Rejection::BlockedByRecipient(account.name.clone()));
        }
        // Kept whispers are for registered senders: a guest could fill a
        // mailbox under one name after another, and a name a guest used
        // means nothing by the time the recipient reads it.
        if sender.account.is_none() {
            return Err(Rejection::OfflineNeedsAccount(account.name.clone()));
        }
        if account.mailbox.len() >= self.config.max_offline_messages
            || self.offline_total >= self.config.max_offline_total
        {
            return Err(Rejection::MailboxFull(account.name.clone()));
        }
        let (from, to) = (sender.nick.clone(), account.name.clone());
        // Kept for later, it is part of their conversation from now on.
        let seq = self.keep_in_conversation(out, now, &from, &to, text);
        let Some(account) = self.accounts.get_mut(key) else { return Ok(()) };
        let kept = OfflineMessage { from: from.clone(), text: text.into(), unix_ms: now.unix_ms, seq };
        account.mailbox.push_back(kept);
        self.offline_total += 1;
        self.counts.messages += 1;
        out.persist(Record::OfflineKept { to: to.clone(), from, text: text.into(), unix_ms: now.unix_ms, seq });
        self.tell(out, id, Event::Kept { to: &to });
        Ok(())
    }
}

/// Whether `name` could be someone's nickname (a chosen one or a guest's),
/// so that room-style names such as `#alice` never match a user.
pub(crate) fn is_nick_like(name: &str) -> bool {
    matches!(validate_nick(name, usize::MAX), Ok(()) | Err(NameError::Reserved))
}

/// Message text must say something and carry no control characters (the
/// raw line was checked already, but JSON escapes can smuggle them in).
fn check_text(text: &str, verb: Verb, codec: Codec) -> Result<(), Rejection> {
    if let Some(rejection) = unsafe_text(text) {
        return Err(rejection);
    }
    if text.trim().is_empty() {
        return Err(Rejection::Usage(codec.usage(verb)));
    }
    Ok(())
}
