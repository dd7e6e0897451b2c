//! What each [`Command`] does to the engine's state, and who is told.

use crate::cluster::{ClusterRequest, PresenceChange};
use crate::codec::Codec;
use crate::command::{COMMANDS, Command, Verb};
use crate::delivery::{Said, deliver};
use crate::error::Rejection;
use crate::event::{Event, IrcAnswer};
use crate::names::{NameError, NameKey, validate_chosen_nick, validate_nick, validate_room};
use crate::outbox::Outbox;
use crate::output::{ClientId, DisconnectReason, HistoryRange, Output};
use crate::record::Record;
use crate::record::StoredMessage;
use crate::room::Room;
use crate::time::Now;
use crate::turn::Turn;
use crate::world::{ClaimFor, OfflineMessage, World, unsafe_text};

/// `enter`'s flag for a room the client is creating, which makes it the
/// room's first operator.
const CREATING: bool = true;

impl World {
    /// Carries out one parsed command from a connected client, in a
    /// [`Turn`] of its own.
    pub(crate) fn execute(&mut self, out: &mut Outbox, now: Now, id: ClientId, command: Command) {
        Turn::new(self, out, now, id).execute(command);
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
                Some(current) if client.rooms.len() == 1 || client.codec() == Codec::Text => Ok(current.clone()),
                Some(_) => Err(Rejection::RoomRequired),
            },
        }
    }
}

impl Turn<'_> {
    /// Carries out one parsed command from the client, after the rules its
    /// row of the command table states, and tells the client if it was
    /// refused.
    pub(crate) fn execute(&mut self, command: Command) {
        let verb = command.verb;
        if let Err(rejection) = self.attempt(command) {
            self.world.reject_command(self.out, self.id, Some(verb), rejection);
        }
    }

    /// Carries out a command, returning a refusal instead of telling it
    /// (an IRC NOTICE must never be answered with an error).
    pub(crate) fn attempt(&mut self, command: Command) -> Result<(), Rejection> {
        let world = &*self.world;
        let Some(client) = world.clients.get(&self.id) else {
            return Ok(());
        };
        let spec = command.verb.spec();
        if world.config.require_login && !spec.guest_may && client.account.is_none() {
            return Err(Rejection::LoginRequired);
        }
        if spec.needs_store && world.storage_failing {
            return Err(Rejection::StorageUnavailable);
        }
        self.run(command)
    }

    /// Calls the verb's handler with its arguments, once the row's rules
    /// were checked.
    fn run(&mut self, mut command: Command) -> Result<(), Rejection> {
        match command.verb {
            Verb::Nick => self.change_nick(command.word("nick")),
            Verb::Create => self.create_room(command.word("room")),
            Verb::Join => self.join(command.word("room"), command.text("key")),
            Verb::Mode => self.mode(command.word("room"), command.text("modes"), command.list("args")),
            Verb::Kick => self.kick(command.word("room"), command.word("nick"), command.text("reason")),
            Verb::Invite => self.invite(command.word("nick"), command.word("room")),
            Verb::Drop => self.drop_room(command.word("room")),
            Verb::Topic => self.topic(command.text("room"), command.text("text")),
            Verb::Leave => self.leave(command.text("room"), command.text("reason")),
            Verb::List if !command.list("rooms").is_empty() => {
                self.list_named(command.list("rooms"));
                Ok(())
            }
            Verb::List => {
                self.list_rooms(command.text("from"));
                Ok(())
            }
            Verb::Who => self.who(command.text("room"), command.text("from")),
            Verb::Users => {
                self.users(command.text("from"));
                Ok(())
            }
            // The time the engine was handed with this input: it reads no clock.
            Verb::Time => {
                self.tell(Event::Time { unix_ms: self.now.unix_ms });
                Ok(())
            }
            Verb::Help => {
                self.tell(Event::Help { commands: COMMANDS });
                Ok(())
            }
            Verb::Quit => self.quit(command.text("reason").map(str::to_owned)),
            // Server operators' own, in `operators.rs`.
            Verb::Broadcast => self.broadcast(command.word("text")),
            Verb::Kill => self.kill(command.word("nick"), command.text("reason")),
            Verb::Say => self.say(command.text("room"), command.word("text"), false),
            // IRC's NOTICE names a channel (`#rust`) or a user.
            Verb::Notice if !command.word("room").starts_with('#') => {
                self.notice_user(command.word("room"), command.word("text"))
            }
            Verb::Notice => self.say(command.text("room"), command.word("text"), true),
            Verb::Delete => self.delete_message(command.text("room"), command.number("seq"), command.text("reason")),
            Verb::Msg => self.whisper(command.word("to"), command.word("text")),
            Verb::Register => {
                let (password, confirm) = (command.take_secret("password"), command.take_secret("confirm"));
                self.register(command.word("name"), password, &confirm)
            }
            Verb::Login => {
                let password = command.take_secret("password");
                self.login(command.word("name"), password)
            }
            Verb::Token => self.request_token(),
            Verb::Resume => {
                let token = command.take_secret("token");
                self.resume(&token)
            }
            Verb::Sessions => self.list_sessions(),
            Verb::Revoke => self.revoke_token(command.word("session")),
            Verb::LogoutAll => self.logout_all(),
            Verb::Password => {
                let (old, new) = (command.take_secret("old"), command.take_secret("new"));
                self.change_password(old, new, &command.take_secret("confirm"))
            }
            Verb::Seen => self.seen(command.word("nick")),
            Verb::Since => {
                let seconds = command.number("seconds").unwrap_or_default();
                self.since(seconds, command.text("from"));
                Ok(())
            }
            Verb::Block => self.block(command.word("nick")),
            Verb::Unblock => self.unblock(command.word("nick")),
            Verb::Read => {
                let (seq, ts) = (command.number("seq"), command.number("ts"));
                self.read(command.text("room"), command.text("with"), seq, ts)
            }
            Verb::Blocked => {
                self.list_blocks();
                Ok(())
            }
            Verb::AlwaysOn => self.always_on_command(command.text("state")),
            Verb::History => match (command.text("room"), command.text("with"), history_range(&command)) {
                (_, _, Err(())) => Err(Rejection::Usage(self.client().codec().usage(Verb::History))),
                (room, None, Ok(range)) => {
                    let range = self.since_read(room, None, range)?;
                    self.history(room, range)
                }
                (None, Some(with), Ok(range)) => {
                    let range = self.since_read(None, Some(with), range)?;
                    self.conversation_history(with, range)
                }
                // A room and a conversation at once: which page would it be?
                (Some(_), Some(_), _) => Err(Rejection::Usage(self.client().codec().usage(Verb::History))),
            },
            // IRC's own verbs, in `irc/`.
            Verb::Cap => self.irc_cap(command.word("sub"), command.text("caps")),
            Verb::User => {
                self.irc_user(command.word("user"), command.word("realname"));
                Ok(())
            }
            Verb::Pass => {
                self.irc_pass(command.word("password"));
                Ok(())
            }
            Verb::Authenticate => self.irc_authenticate(command.word("data")),
            Verb::Ping => {
                self.tell(Event::Irc(IrcAnswer::Pong { token: command.word("token") }));
                Ok(())
            }
            Verb::Pong => Ok(()),
            Verb::Names => {
                self.irc_names(command.text("rooms"));
                Ok(())
            }
            Verb::Whois => {
                self.irc_whois(command.word("nick"));
                Ok(())
            }
            Verb::Whowas => {
                self.irc_whowas(command.word("nick"), command.text("count"));
                Ok(())
            }
            Verb::Lusers => {
                self.irc_lusers();
                Ok(())
            }
            Verb::Away => {
                self.irc_away(command.text("message"));
                Ok(())
            }
            Verb::Info => {
                self.irc_info();
                Ok(())
            }
            Verb::Links => {
                self.tell(Event::Irc(IrcAnswer::Links));
                Ok(())
            }
            Verb::ChatHistory => self.irc_chathistory(&command),
            Verb::Oper => {
                let password = command.take_secret("password");
                self.irc_oper(command.word("name"), password)
            }
            Verb::TagMsg => self.tagmsg(command.word("to"), command.list("tags")),
        }
    }

    pub(crate) fn change_nick(&mut self, nick: &str) -> Result<(), Rejection> {
        let (world, id) = (&*self.world, self.id);
        if let Some(account) = world.account_of(id) {
            return Err(Rejection::NickLocked(account.into()));
        }
        validate_chosen_nick(nick, world.config.max_nick_len, &world.config.server_name)
            .map_err(Rejection::NickInvalid)?;
        let key = NameKey::of(nick);
        if world.names.holder(&key).is_some_and(|owner| owner != id) {
            return Err(Rejection::NickTaken(nick.into()));
        }
        if let Some(account) = world.accounts.get(&key) {
            return Err(Rejection::NickRegistered(account.name.clone()));
        }
        world.check_nick_change(id, nick)?;
        if self.client().nick.as_ref() == nick {
            let host = &self.client().host.clone();
            self.tell(Event::NickChanged { old: nick, new: nick, host, you: true });
        } else if world.claim_needed(&key, nick)? {
            // Renamed once the other nodes grant it (`cluster`).
            self.start_claim(nick, ClaimFor::Nick);
        } else if world.config.cluster {
            let old = self.client().nick.clone();
            self.rename(nick.into(), false);
            self.world.release_if_unused(self.out, &old);
        } else {
            self.rename(nick.into(), false);
        }
        Ok(())
    }

    /// Gives the client a new nickname and tells it and its roommates.
    /// `taken_back`: its guest name was claimed by the account that owns it.
    pub(crate) fn rename(&mut self, nick: Box<str>, taken_back: bool) {
        let (world, id) = (&mut *self.world, self.id);
        let client = world.clients.get_mut(&id).expect("caller checked the client");
        let key = NameKey::of(&nick);
        let old = std::mem::replace(&mut client.nick, nick);
        let old_key = std::mem::replace(&mut client.nick_key, key.clone());
        let (new, host, in_rooms) = (client.nick.clone(), client.host.clone(), !client.rooms.is_empty());
        world.names.rename(id, &old_key, key);
        world.blocks.carry(id, &old_key);
        let mates = world.roommates(id);
        self.out.fanout(mates, &Event::NickChanged { old: &old, new: &new, host: &host, you: false });
        if in_rooms {
            world.announce(self.out, || PresenceChange::Renamed { old: old.clone(), new: new.clone() });
        }
        if taken_back {
            self.tell(Event::Renamed { old: &old, new: &new, host: &host });
        } else {
            self.tell(Event::NickChanged { old: &old, new: &new, host: &host, you: true });
        }
    }

    fn create_room(&mut self, name: &str) -> Result<(), Rejection> {
        let (world, id, now) = (&mut *self.world, self.id, self.now);
        validate_room(name, world.config.max_room_name_len).map_err(Rejection::RoomInvalid)?;
        let key = NameKey::of(name);
        if let Some(existing) = world.rooms.get(&key) {
            return Err(Rejection::RoomExists(existing.name.clone()));
        }
        if world.rooms.len() >= world.config.max_rooms {
            return Err(Rejection::RoomLimit { max: world.config.max_rooms });
        }
        self.check_membership_allowance()?;
        self.take_room_allowance()?;
        let world = &mut *self.world;
        let owner = world.clients.get(&id).and_then(|c| c.account.clone());
        let owner_name = owner.as_ref().and_then(|key| world.accounts.get(key)).map(|a| a.name.clone());
        world.insert_room(key.clone(), Room::new(name, owner, None));
        self.out.persist(Record::RoomCreated { room: name.into(), unix_ms: now.unix_ms, owner: owner_name });
        self.tell(Event::Created { room: name });
        self.enter(key, CREATING);
        Ok(())
    }

    fn join(&mut self, name: &str, pass: Option<&str>) -> Result<(), Rejection> {
        validate_room(name, self.world.config.max_room_name_len).map_err(Rejection::RoomInvalid)?;
        let key = NameKey::of(name);
        // A guest's room left over from before a restart still holds what
        // its last group said and set; whoever walks in finds it new.
        self.world.rooms.renew_guest_room(self.out, self.now, &key);
        let room = self.world.rooms.get(&key).ok_or_else(|| Rejection::NoSuchRoom(name.into()))?;
        if room.members.contains(self.id) {
            return Err(Rejection::AlreadyInRoom(room.name.clone()));
        }
        self.world.check_join(self.id, room, pass)?;
        self.check_membership_allowance()?;
        self.enter(key, !CREATING);
        Ok(())
    }

    /// Refuses a JSON client already in its maximum of rooms. A text client
    /// switches rooms, so it never needs more than one.
    fn check_membership_allowance(&self) -> Result<(), Rejection> {
        let client = self.client();
        let max = self.world.config.max_rooms_per_client;
        if client.codec() != Codec::Text && client.rooms.len() >= max {
            return Err(Rejection::TooManyRooms { max });
        }
        Ok(())
    }

    /// Puts the client into an existing room: the text protocol switches,
    /// the room hears of the arrival, and the newcomer gets the history first.
    fn enter(&mut self, key: NameKey, creating: bool) {
        let id = self.id;
        let Some(client) = self.world.clients.get(&id) else {
            return;
        };
        if client.codec() == Codec::Text {
            for old in client.rooms.clone() {
                self.exit(&old, None);
            }
        }
        // The account is there already, through another connection or
        // waiting with none (always-on): this one joins it quietly.
        let account = self.world.clients.get(&id).and_then(|c| c.account.as_ref());
        let absent = account.is_some_and(|a| self.world.rooms.get(&key).is_some_and(|r| r.members.is_absent(a)));
        if absent || !self.world.devices_in(id, &key).is_empty() {
            self.follow_into(&key);
            return;
        }
        let world = &mut *self.world;
        // The room table's own key, so that the member's copy shares it.
        let Some((key, room)) = world.rooms.get_key_value(&key) else {
            return;
        };
        let key = key.clone();
        let status = world.status_on_entry(id, room, creating);
        let devices = world.connections_of(id);
        let (Some(client), Some(room)) = (world.clients.get_mut(&id), world.rooms.get_mut(&key)) else {
            return;
        };
        room.members.insert(id, client.wire());
        room.members.set_status(id, status);
        if world.config.cluster && room.members.len() == 1 {
            crate::cluster_node::follow(self.out, room);
        }
        // An invitation is used up by joining, the account's whichever connection it named.
        if room.modes.invited().iter().any(|invited| devices.contains(invited)) {
            room.modes.invited_mut().retain(|invited| !devices.contains(invited));
        }
        room.empty_since_ms = None;
        let members = room.member_count();
        let joined = |you| Event::Joined { room: &room.name, nick: &client.nick, host: &client.host, members, you };
        self.out.fanout(room.members.iter().filter(|(m, _)| *m != id), &joined(false));
        if world.config.cluster {
            let (room, nick, host) = (room.name.clone(), client.nick.clone(), client.host.clone());
            self.out.push(Output::Cluster(ClusterRequest::Presence(PresenceChange::Joined { room, nick, host })));
        }
        let welcome = client.render(&joined(true));
        world.add_membership(id, key.clone());
        self.note_account_room(&key, true);
        self.replay_on_join(key.clone(), welcome);
        // The account's other connections follow it in.
        for device in self.world.other_devices(id) {
            self.on(device).follow_into(&key);
        }
    }

    fn leave(&mut self, named: Option<&str>, reason: Option<&str>) -> Result<(), Rejection> {
        let key = self.world.target_room(self.id, named)?;
        if let Some(rejection) = reason.and_then(unsafe_text) {
            return Err(rejection);
        }
        self.exit(&key, reason.filter(|r| !r.trim().is_empty()));
        Ok(())
    }

    /// Takes the client out of a room without telling anyone here (the
    /// caller has; other nodes hear `reason`), and notes the room empty if
    /// it now is.
    pub(crate) fn remove_member(&mut self, key: &NameKey, reason: Option<&str>) {
        let (world, id) = (&mut *self.world, self.id);
        // Another connection of the account stays: it is the account's
        // presence there now, and other nodes hear of no part.
        let staying = world.devices_in(id, key).first().copied();
        if staying.is_none() {
            self.note_account_room(key, false);
        }
        let world = &mut *self.world;
        world.remove_membership(id, key);
        if let Some(room) = world.rooms.get_mut(key) {
            let was_presence = room.members.contains(id) && !room.members.is_extra(id);
            room.members.remove(id);
            if let Some(next) = staying {
                if was_presence {
                    room.members.promote(next);
                }
            } else if world.config.cluster
                && let Some(client) = world.clients.get(&id)
            {
                let (room, nick, reason) = (room.name.clone(), client.nick.clone(), reason.map(Box::from));
                self.out.push(Output::Cluster(ClusterRequest::Presence(PresenceChange::Left { room, nick, reason })));
            }
        }
        world.vacated(self.out, self.now, key);
    }

    /// Takes the client out of a room it is in; both sides are told.
    /// The account's other connections in it leave with it, quietly:
    /// the room hears of one part.
    pub(crate) fn exit(&mut self, key: &NameKey, reason: Option<&str>) {
        for device in self.world.devices_in(self.id, key) {
            self.on(device).leave_quietly(key);
        }
        let (world, id) = (&mut *self.world, self.id);
        let (Some(client), Some(room)) = (world.clients.get(&id), world.rooms.get(key)) else {
            return;
        };
        let others = room.members.iter().filter(|&(m, _)| m != id);
        let left = |you| Event::Left { room: &room.name, nick: &client.nick, host: &client.host, you, reason };
        self.out.fanout(others, &left(false));
        self.out.send(id, client.render(&left(true)));
        self.remove_member(key, reason);
    }

    fn quit(&mut self, reason: Option<String>) -> Result<(), Rejection> {
        if let Some(rejection) = reason.as_deref().and_then(unsafe_text) {
            return Err(rejection);
        }
        let reason = DisconnectReason::Quit(reason.map(String::into_boxed_str));
        self.world.close(self.out, self.now, self.id, reason);
        Ok(())
    }

    fn say(&mut self, named: Option<&str>, text: &str, notice: bool) -> Result<(), Rejection> {
        let (world, id, now) = (&mut *self.world, self.id, self.now);
        check_text(text, Verb::Say, world.clients[&id].codec())?;
        let key = match (named, world.target_room(id, named)) {
            (_, Ok(key)) => key,
            // A room that takes messages from outside (`-n`).
            (Some(name), Err(Rejection::NotInRoom(_)))
                if world.rooms.get(&NameKey::of(name)).is_some_and(|r| r.modes.external_messages) =>
            {
                NameKey::of(name)
            }
            (_, Err(rejection)) => return Err(rejection),
        };
        if let Some(room) = world.rooms.get(&key) {
            world.check_speak(id, room)?;
        }
        // In a cluster the store numbers the message; it is delivered when it comes back.
        if world.config.cluster {
            self.publish(key, text, notice);
            return Ok(());
        }
        let (Some(sender), Some(room)) = (world.clients.get(&id), world.rooms.get_mut(&key)) else {
            return Ok(());
        };
        let message = StoredMessage {
            seq: room.next_seq,
            from: sender.nick.clone(),
            text: text.into(),
            unix_ms: now.unix_ms,
            kind: crate::MessageKind::Said,
        };
        let said = Said {
            message,
            host: &sender.host,
            notice,
            from_key: &sender.nick_key,
            sender: Some((id, sender.echoes())),
            record: true,
        };
        deliver(self.out, room, &world.blocks, &mut world.counts, world.config.history_len, said);
        Ok(())
    }

    fn whisper(&mut self, to: &str, text: &str) -> Result<(), Rejection> {
        let (id, now) = (self.id, self.now);
        check_text(text, Verb::Msg, self.client().codec())?;
        if !is_nick_like(to) {
            return Err(Rejection::NoSuchNick(to.into()));
        }
        let to_key = NameKey::of(to);
        let Some(recipient) = self.world.names.holder(&to_key) else {
            // A user another node has in a room (`cluster`).
            if self.world.config.cluster && self.world.remote.holds(&to_key) {
                return self.whisper_remote(&to_key, text);
            }
            return self.keep_for_offline(&to_key, to, text);
        };
        let world = &mut *self.world;
        if world.blocks_sender(recipient, id) {
            return Err(Rejection::BlockedByRecipient(world.clients[&recipient].nick.clone()));
        }
        let sender = &world.clients[&id];
        let receiver = &world.clients[&recipient];
        // A logged-in user's nickname is its account's name.
        let between_accounts = sender.account.is_some() && receiver.account.is_some();
        let (from, to_nick) = (sender.nick.clone(), receiver.nick.clone());
        let seq = if between_accounts { self.keep_in_conversation(&from, &to_nick, text) } else { None };
        let world = &mut *self.world;
        let sender = &world.clients[&id];
        let (from, to_nick, host) = (&*from, &*to_nick, &*sender.host);
        let event =
            |echo| Event::Whisper { from, host, to: to_nick, text, unix_ms: now.unix_ms, echo, offline: false, seq };
        // It reaches every connection of the recipient's account, and the
        // sender's other connections get its echo as the sender does. A
        // message to oneself arrives unlabelled: only the echo answers the
        // request.
        for to in world.connections_of(recipient) {
            if let Some(client) = world.clients.get(&to) {
                self.out.deliver(to, client.render(&event(false)));
            }
        }
        for to in world.connections_of(id) {
            world.tell(self.out, to, event(true));
        }
        world.counts.messages += 1;
        Ok(())
    }

    /// IRC's NOTICE to a user online here: delivered and echoed as a
    /// whisper is, but never kept, for an offline account or in a
    /// conversation (a notice is not for later), nor sent to another node.
    pub(crate) fn notice_user(&mut self, to: &str, text: &str) -> Result<(), Rejection> {
        let (id, now) = (self.id, self.now);
        check_text(text, Verb::Notice, self.client().codec())?;
        let world = &mut *self.world;
        let recipient = world.names.holder(&NameKey::of(to)).ok_or_else(|| Rejection::NoSuchNick(to.into()))?;
        if world.blocks_sender(recipient, id) {
            return Err(Rejection::BlockedByRecipient(world.clients[&recipient].nick.clone()));
        }
        let (sender, receiver) = (&world.clients[&id], &world.clients[&recipient]);
        let (from, to_nick, host) = (&*sender.nick, &*receiver.nick, &*sender.host);
        let event = |echo| Event::UserNotice { from, host, to: to_nick, text, unix_ms: now.unix_ms, echo };
        self.out.deliver(recipient, receiver.render(&event(false)));
        self.out.send(id, sender.render(&event(true)));
        world.counts.messages += 1;
        Ok(())
    }

    /// A whisper to a registered user who is offline waits in its mailbox.
    fn keep_for_offline(&mut self, key: &NameKey, to: &str, text: &str) -> Result<(), Rejection> {
        let (world, now) = (&mut *self.world, self.now);
        let sender = &world.clients[&self.id];
        let Some(account) = world.accounts.get(key) else {
            return Err(Rejection::NoSuchNick(to.into()));
        };
        if world.storage_failing {
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
        let (max, max_total) = (world.config.max_offline_messages, world.config.max_offline_total);
        if world.accounts.mailbox_full(key, max, max_total) {
            return Err(Rejection::MailboxFull(account.name.clone()));
        }
        let (from, to) = (sender.nick.clone(), account.name.clone());
        // Kept for later, it is part of their conversation from now on.
        let seq = self.keep_in_conversation(&from, &to, text);
        let world = &mut *self.world;
        let kept = OfflineMessage { from: from.clone(), text: text.into(), unix_ms: now.unix_ms, seq };
        // Cannot be refused: checked above, and a conversation's record takes no room.
        let _ = world.accounts.keep_offline(key, kept, max, max_total);
        world.counts.messages += 1;
        self.out.persist(Record::OfflineKept { to: to.clone(), from, text: text.into(), unix_ms: now.unix_ms, seq });
        self.tell(Event::Kept { to: &to });
        Ok(())
    }
}

/// Whether `name` could be someone's nickname (a chosen one or a guest's),
/// so that room-style names such as `#alice` never match a user.
pub(crate) fn is_nick_like(name: &str) -> bool {
    matches!(validate_nick(name, usize::MAX), Ok(()) | Err(NameError::Reserved))
}

/// Which page a `history` asks for: `before` or `after` a number, or the
/// default (`None`); both at once is an error (which way would it go?).
fn history_range(command: &Command) -> Result<Option<HistoryRange>, ()> {
    // `since` is the catch-up spelling of `after`.
    let after = match (command.number("after"), command.number("since")) {
        (Some(_), Some(_)) => return Err(()),
        (after, since) => after.or(since),
    };
    match (command.number("before"), after) {
        (Some(_), Some(_)) => Err(()),
        (before, None) => Ok(before.map(HistoryRange::Before)),
        (None, Some(after)) => Ok(Some(HistoryRange::After(after))),
    }
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
