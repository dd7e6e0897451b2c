//! One line from an IRC client: IRC's grammar, then the row of the
//! command table its command names, read by the IRC codec. The rules of
//! registration are checked here, once, for every IRC command; the
//! command then runs as any codec's would, except where IRC writes a
//! command of the table its own way (comma lists of targets, `JOIN 0`,
//! PRIVMSG to a channel, a nick or NickServ), which is handled here.

use crate::always_on::ALWAYS_ON_AWAY;
use crate::codec::ReplyTag;
use crate::codec::irc::labeled::MAX_LABEL;
use crate::codec::irc::message::{Message, Param, ParseError};
use crate::codec::irc::request;
use crate::command::{Command, MAX_TARGETS, Verb};
use crate::credentials::Password;
use crate::error::{IrcReply, Rejection};
use crate::event::{Event, IrcAnswer};
use crate::names::LOBBY;
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::ClientId;
use crate::time::Now;
use crate::turn::Turn;
use crate::world::World;

use super::session::{Cap, Sasl};

/// The pseudo-user IRC clients register and identify with.
pub(crate) const NICKSERV: &str = "NickServ";

impl World {
    /// One line from an IRC client, as bytes, read and run in one
    /// [`Turn`]. `allowance`: whether the line was within the client's
    /// flood allowance, or its refusal.
    pub(crate) fn irc_line(
        &mut self,
        out: &mut Outbox,
        now: Now,
        id: ClientId,
        line: &[u8],
        allowance: Result<(), Rejection>,
    ) {
        Turn::new(self, out, now, id).irc_line(line, allowance);
    }

    /// What ties the replies to a line to it: its `label` tag, for a client
    /// that enabled `labeled-response` and `batch`, if the label is not
    /// empty and not over [`MAX_LABEL`] bytes.
    fn irc_label(&self, id: ClientId, message: &Message<'_>) -> Option<ReplyTag> {
        let session = self.clients.get(&id)?.irc.as_deref()?;
        if !(session.caps.has(Cap::LabeledResponse) && session.caps.has(Cap::Batch)) {
            return None;
        }
        let label = message.tags().get("label")?.value_str().ok()?;
        if label.is_empty() || label.len() > MAX_LABEL {
            return None;
        }
        Some(ReplyTag::Irc { label: label.into(), server: session.server.clone() })
    }
}

impl Turn<'_> {
    /// One line from an IRC client, as bytes: `allowance` as
    /// [`World::irc_line`] has it.
    fn irc_line(&mut self, line: &[u8], allowance: Result<(), Rejection>) {
        let message = match Message::parse(line) {
            Ok(message) => message,
            // A line past the allowance is refused for that, whatever else is wrong with it.
            Err(_) if allowance.is_err() => return self.world.reject(self.out, self.id, Rejection::Flood),
            Err(ParseError::Empty) => return,
            Err(ParseError::TooLong { .. }) => return self.world.reject(self.out, self.id, Rejection::IrcLineTooLong),
            Err(_) => return self.world.reject(self.out, self.id, Rejection::MalformedLine),
        };
        let tag = self.world.irc_label(self.id, &message);
        let tagged = tag.is_some();
        if let Some(tag) = tag {
            self.out.begin_reply(self.id, tag);
        }
        match allowance {
            Ok(()) => self.irc_message(message),
            Err(rejection) => self.world.reject(self.out, self.id, rejection),
        }
        if tagged {
            self.out.end_reply(true);
        }
    }

    /// One parsed line from an IRC client: its parameters checked, its
    /// row's stage of registration checked, then its command read and run.
    fn irc_message(&mut self, message: Message<'_>) {
        let Some(client) = self.world.clients.get_mut(&self.id) else { return };
        let auth_pending = client.auth_pending.is_some();
        let Some(session) = client.irc.as_deref_mut() else { return };
        // A SASL login that has been answered is over.
        if session.sasl == Sasl::Checking && !auth_pending {
            session.sasl = Sasl::Idle;
        }
        let registered = session.registered;
        let verb = request::verb(&message);
        // Parameters come back in replies (a channel name in 403, a nick in
        // 401), so control and layout characters are refused in all of them;
        // a message's text is cleaned of IRC formatting first, then checked.
        let params = message.params();
        let text_at = matches!(verb, Ok(Verb::Msg | Verb::Notice)).then(|| params.len().saturating_sub(1));
        let refused = params
            .iter()
            .enumerate()
            .filter(|&(i, _)| Some(i) != text_at)
            .find_map(|(_, p)| crate::world::unsafe_text(&String::from_utf8_lossy(p.as_bytes())));
        if let Some(rejection) = refused {
            return self.world.reject(self.out, self.id, rejection);
        }
        // Before the welcome, only registration's commands are known.
        let verb = match verb {
            Ok(verb) => verb,
            Err(_) if !registered => return self.world.reject(self.out, self.id, Rejection::NotRegistered),
            Err(rejection) => return self.world.reject(self.out, self.id, rejection),
        };
        if let Some(rejection) = verb.spec().irc_stage.refusal(registered) {
            return self.world.reject(self.out, self.id, rejection);
        }
        if verb == Verb::Delete {
            return self.irc_redact(params);
        }
        if verb == Verb::TagMsg {
            // The line's client-only tags are the message.
            let tags: Vec<String> = message
                .tags()
                .iter()
                .filter(|tag| tag.is_client_only())
                .filter_map(|tag| Some(format!("{}={}", tag.key(), tag.value_str().ok()?)))
                .collect();
            return match request::command(verb, &message) {
                Ok(command) => {
                    let (to, tags) = (command.word("to").to_owned(), command.with("tags", tags));
                    for target in self.irc_targets("TAGMSG", &to) {
                        self.execute(tags.clone().with("to", target));
                    }
                }
                Err(rejection) => self.world.reject_command(self.out, self.id, Some(verb), rejection),
            };
        }
        match request::command(verb, &message) {
            Ok(command) => self.irc_command(command, registered),
            // No automatic reply to a NOTICE (RFC 2812 3.3.2), not even for
            // a CTCP request; its missing parameters are still told.
            Err(Rejection::CtcpUnsupported) if verb == Verb::Notice => {}
            Err(rejection) => self.world.reject(self.out, self.id, rejection),
        }
    }

    /// Runs a command from an IRC client: as any codec's, but for what IRC
    /// writes its own way.
    fn irc_command(&mut self, command: Command, registered: bool) {
        match command.verb {
            Verb::Nick if !registered => self.irc_nick_before_welcome(command.word("nick")),
            Verb::Join => self.irc_join(command.word("room"), command.text("key")),
            Verb::Leave => {
                for name in command.word("room").split(',').filter(|n| !n.is_empty()) {
                    let leave =
                        Command::new(Verb::Leave).with("room", name).with_some("reason", command.text("reason"));
                    self.execute(leave);
                }
            }
            Verb::Msg | Verb::Notice => {
                let notice = command.verb == Verb::Notice;
                let key = if notice { "room" } else { "to" };
                let irc_word = command.verb.spec().irc_word;
                for target in self.irc_targets(irc_word, command.word(key)) {
                    self.irc_privmsg(target, command.word("text"), notice);
                }
            }
            // RFC 2812: one channel and its users, or as many channels as
            // users, each channel with the user in the same place.
            Verb::Kick => {
                let rooms: Vec<&str> = command.word("room").split(',').filter(|r| !r.is_empty()).collect();
                let nicks = self.irc_targets("KICK", command.word("nick"));
                if rooms.len() > 1 && rooms.len() != nicks.len() {
                    return self.world.reject(self.out, self.id, Rejection::Usage(Verb::Kick.spec().irc_usage));
                }
                for (at, nick) in nicks.into_iter().enumerate() {
                    let room = if rooms.len() > 1 { rooms[at] } else { command.word("room") };
                    let kick = Command::new(Verb::Kick).with("room", room).with("nick", nick);
                    self.execute(kick.with_some("reason", command.text("reason")));
                }
            }
            Verb::Mode if !command.word("room").starts_with('#') => {
                if let Err(rejection) = self.irc_user_mode(command.word("room")) {
                    self.world.reject(self.out, self.id, rejection);
                }
            }
            Verb::Who if command.text("room").is_some_and(|mask| !mask.starts_with('#') && mask != LOBBY) => {
                self.irc_who_nick(command.word("room"));
            }
            // `REGISTER * ...`: the account is the current nickname.
            Verb::Register if command.word("name") == "*" => {
                let nick = self.world.clients.get(&self.id).map(|c| c.nick.to_string()).unwrap_or_default();
                let mut command = command;
                let (password, confirm) = (command.take_secret("password"), command.take_secret("confirm"));
                let register =
                    Command::new(Verb::Register).with("name", nick).with("password", password).with("confirm", confirm);
                self.execute(register);
            }
            _ => self.execute(command),
        }
    }

    /// draft/message-redaction's `REDACT <#channel> <msgid> [:<reason>]`:
    /// the channel's message with that id deleted, as `/delete` does. A
    /// refusal is a `FAIL REDACT` naming the target (and the msgid, but for
    /// `INVALID_TARGET`), as the specification writes them.
    fn irc_redact(&mut self, params: &[Param<'_>]) {
        let (room, msgid, reason) = match request::redact_params(params) {
            Ok(words) => words,
            Err(rejection) => return self.world.reject_command(self.out, self.id, Some(Verb::Delete), rejection),
        };
        let seq = self.world.target_room(self.id, Some(room)).and_then(|key| {
            let name = &self.world.rooms[&key].name;
            request::room_msgid(msgid, name)
                .ok_or_else(|| Rejection::NoSuchMsgid { room: name.clone(), msgid: msgid.into() })
        });
        let deleted = seq.and_then(|seq| {
            self.attempt(Command::new(Verb::Delete).with("room", room).with("seq", seq).with_some("reason", reason))
        });
        if let Err(rejection) = deleted {
            self.world.counts.refused(&rejection);
            let context: &[&str] = match rejection.irc(Some(Verb::Delete)) {
                IrcReply::Fail(_, "INVALID_TARGET") => &[room],
                _ => &[room, msgid],
            };
            self.tell(Event::Irc(IrcAnswer::Failed { rejection: &rejection, verb: Verb::Delete, context }));
        }
    }

    /// JOIN `#a,#b`: joins each, creating those that do not exist (named
    /// without the `#`, as text users write rooms). `JOIN 0` leaves every
    /// channel.
    fn irc_join(&mut self, channels: &str, keys: Option<&str>) {
        if channels == "0" {
            let rooms = self.world.clients.get(&self.id).map(|c| c.rooms.clone()).unwrap_or_default();
            for key in rooms {
                let name = self.world.rooms.get(&key).map(|r| r.name.to_string());
                self.execute(Command::new(Verb::Leave).with_some("room", name));
            }
            return;
        }
        // Keys pair with channels in order.
        let mut keys = keys.unwrap_or("").split(',');
        for name in channels.split(',').filter(|n| !n.is_empty()) {
            let key = keys.next().filter(|k| !k.is_empty());
            if !name.starts_with('#') {
                self.world.reject(self.out, self.id, Rejection::NotAChannel(name.into()));
                continue;
            }
            let command = if self.world.rooms.contains_key(&NameKey::of(name)) {
                Command::new(Verb::Join).with("room", name).with_some("key", key)
            } else {
                Command::new(Verb::Create).with("room", name.trim_start_matches('#'))
            };
            self.execute(command);
        }
    }

    /// The targets of a PRIVMSG, NOTICE or KICK (`a,b,#c`): each named
    /// once, whatever its case, and at most [`MAX_TARGETS`] (`TARGMAX`);
    /// the rest are refused with 407. Every target after the first costs
    /// one more line of the sender's flood allowance (the line paid for
    /// the first), so one line cannot deliver more than the allowance
    /// would let as many lines; targets past the allowance are refused as
    /// a flood.
    fn irc_targets<'t>(&mut self, command: &'static str, list: &'t str) -> Vec<&'t str> {
        let mut targets: Vec<&str> = Vec::new();
        for target in list.split(',').filter(|t| !t.is_empty()) {
            if targets.iter().any(|t| t.eq_ignore_ascii_case(target)) {
                continue;
            }
            if targets.len() == MAX_TARGETS {
                self.world.reject(
                    self.out,
                    self.id,
                    Rejection::TooManyTargets { target: target.into(), command, max: MAX_TARGETS },
                );
                break;
            }
            if !targets.is_empty()
                && let Err(rejection) = self.world.take_line_allowance(self.now, self.id)
            {
                self.world.reject(self.out, self.id, rejection);
                break;
            }
            targets.push(target);
        }
        targets
    }

    /// PRIVMSG or NOTICE to one target: a channel, NickServ or a user.
    fn irc_privmsg(&mut self, target: &str, text: &str, notice: bool) {
        if target.eq_ignore_ascii_case(NICKSERV) {
            return self.irc_nickserv(text);
        }
        // `NOTICE $*` (or `$$*`, `$server`): IRC's notice to every user, a
        // server operator's broadcast. Told if refused, unlike other notices.
        if target.starts_with('$') {
            return self.execute(Command::new(Verb::Broadcast).with("text", text));
        }
        if !target.starts_with('#') {
            let command = match notice {
                true => Command::new(Verb::Notice).with("room", target),
                false => Command::new(Verb::Msg).with("to", target),
            };
            self.say_or_notice(command.with("text", text), notice);
            // An away recipient says so (not to a NOTICE: no automatic replies).
            if !notice
                && let Some(whom) =
                    self.world.names.holder(&NameKey::of(target)).and_then(|t| self.world.clients.get(&t))
                && let Some(away) = whom.irc.as_ref().and_then(|session| session.away.clone())
            {
                let found = whom.nick.clone();
                self.tell(Event::Irc(IrcAnswer::IsAway { nick: &found, message: &away }));
            } else if !notice
                && let key = NameKey::of(target)
                && self.world.names.holder(&key).is_none()
                && self.world.always_on(&key)
                && let Some(account) = self.world.accounts.get(&key)
            {
                // An always-on account with no connection is away; the whisper waits for it.
                let found = account.name.clone();
                self.tell(Event::Irc(IrcAnswer::IsAway { nick: &found, message: ALWAYS_ON_AWAY }));
            }
            return;
        }
        let verb = if notice { Verb::Notice } else { Verb::Say };
        self.say_or_notice(Command::new(verb).with("room", target).with("text", text), notice);
    }

    /// Runs a message command; a NOTICE's refusal is not told.
    fn say_or_notice(&mut self, command: Command, notice: bool) {
        if notice {
            let _ = self.attempt(command);
        } else {
            self.execute(command);
        }
    }

    /// The NickServ pseudo-user: `REGISTER <password> [email]` and
    /// `IDENTIFY [account] <password>`, for the current nickname.
    fn irc_nickserv(&mut self, text: &str) {
        let nick = self.world.clients.get(&self.id).map(|c| c.nick.to_string()).unwrap_or_default();
        let words: Vec<&str> = text.split_whitespace().collect();
        let command = match words.as_slice() {
            [verb, password, ..] if verb.eq_ignore_ascii_case("REGISTER") => Some(
                Command::new(Verb::Register)
                    .with("name", nick)
                    .with("password", Password::new(*password))
                    .with("confirm", Password::new(*password)),
            ),
            [verb, password] if verb.eq_ignore_ascii_case("IDENTIFY") => {
                Some(Command::new(Verb::Login).with("name", nick).with("password", Password::new(*password)))
            }
            [verb, account, password] if verb.eq_ignore_ascii_case("IDENTIFY") => {
                Some(Command::new(Verb::Login).with("name", *account).with("password", Password::new(*password)))
            }
            _ => None,
        };
        match command {
            Some(command) => self.execute(command),
            None => {
                let lines = [
                    "Commands: REGISTER <password> [email], IDENTIFY [account] <password>",
                    "Your nickname is the account name.",
                ];
                self.tell(Event::Irc(IrcAnswer::ServiceHelp { service: NICKSERV, lines: &lines }));
            }
        }
    }
}
