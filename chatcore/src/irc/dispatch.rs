//! One line from an IRC client: IRC's grammar, then its command. Commands
//! the engine has are looked up in the IRC column of the command table and
//! run as any codec's would; what only IRC has (registration, NAMES,
//! WHOIS, MODE, CHATHISTORY) is answered in this module.

use bytes::Bytes;

use crate::account::Password;
use crate::codec::ReplyTag;
use crate::codec::irc::labeled::MAX_LABEL;
use crate::codec::irc::message::{Message, Outgoing, ParseError};
use super::session::{Cap, IrcSession, Sasl};
use crate::command::{Command, Kind, Verb};
use crate::error::Rejection;
use crate::names::LOBBY;
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::ClientId;
use crate::time::Now;
use crate::world::World;

/// The pseudo-user IRC clients register and identify with.
pub(crate) const NICKSERV: &str = "NickServ";

/// The most targets one PRIVMSG, NOTICE or KICK may name, as `TARGMAX`
/// advertises: each is a delivery, and each costs a line of flood
/// allowance.
pub(crate) const MAX_TARGETS: usize = 4;

/// How `WHO` and `LIST` take the name a page starts from: `from=NAME`,
/// which no standard parameter of theirs looks like.
const FROM: &str = "from=";

impl World {
    /// One line from an IRC client, as bytes.
    /// `allowance`: whether the line was within the client's flood
    /// allowance, or its refusal.
    pub(crate) fn irc_line(
        &mut self,
        out: &mut Outbox,
        now: Now,
        id: ClientId,
        line: &[u8],
        allowance: Result<(), Rejection>,
    ) {
        let message = match Message::parse(line) {
            Ok(message) => message,
            // A line past the allowance is refused for that, whatever else is wrong with it.
            Err(_) if allowance.is_err() => return self.reject(out, id, Rejection::Flood),
            Err(ParseError::Empty) => return,
            Err(ParseError::TooLong { .. }) => return self.irc_reply(out, id, "417", &["Input line was too long"]),
            Err(_) => return self.irc_reply(out, id, "421", &["*", "Malformed line"]),
        };
        let tag = self.irc_label(id, &message);
        let tagged = tag.is_some();
        if let Some(tag) = tag {
            out.begin_reply(id, tag);
        }
        match allowance {
            Ok(()) => self.irc_message(out, now, id, message),
            Err(rejection) => self.reject(out, id, rejection),
        }
        if tagged {
            out.end_reply(true);
        }
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

    /// One parsed line from an IRC client.
    fn irc_message(&mut self, out: &mut Outbox, now: Now, id: ClientId, message: Message<'_>) {
        let Some(client) = self.clients.get_mut(&id) else { return };
        let auth_pending = client.auth_pending.is_some();
        let Some(session) = client.irc.as_deref_mut() else { return };
        // A SASL login that has been answered is over.
        if session.sasl == Sasl::Checking && !auth_pending {
            session.sasl = Sasl::Idle;
        }
        let registered = session.registered;
        let command = message.command().upper().into_owned();
        let params: Vec<&[u8]> = message.params().iter().map(|p| p.as_bytes()).collect();
        // Parameters come back in replies (a channel name in 403, a nick in
        // 401), so control and layout characters are refused in all of them;
        // a message's text is cleaned of IRC formatting first, then checked.
        let text_at = matches!(command.as_str(), "PRIVMSG" | "NOTICE").then(|| params.len().saturating_sub(1));
        let refused = params
            .iter()
            .enumerate()
            .filter(|&(i, _)| Some(i) != text_at)
            .find_map(|(_, p)| crate::world::unsafe_text(&String::from_utf8_lossy(p)));
        if let Some(rejection) = refused {
            return self.reject(out, id, rejection);
        }
        let text = |i: usize| params.get(i).map(|p| std::str::from_utf8(p));
        let param = |i: usize| text(i).and_then(Result::ok).filter(|p| !p.is_empty());
        let missing = |world: &mut World, out: &mut Outbox| {
            world.irc_reply(out, id, "461", &[&command, "Not enough parameters"]);
        };
        match command.as_str() {
            "CAP" => match param(0) {
                Some(sub) => self.irc_cap(out, now, id, sub, param(1)),
                None => missing(self, out),
            },
            "NICK" => match param(0) {
                None => self.irc_reply(out, id, "431", &["No nickname given"]),
                Some(nick) if !registered => self.irc_nick_before_welcome(out, now, id, nick),
                Some(nick) => self.execute(out, now, id, Command::new(Verb::Nick).with("nick", nick)),
            },
            "USER" if registered => self.irc_reply(out, id, "462", &["You may not reregister"]),
            "USER" => match (param(0), params.len()) {
                (Some(user), 4..) => self.irc_user(out, now, id, user, param(3).unwrap_or(user)),
                _ => missing(self, out),
            },
            "PASS" if registered => self.irc_reply(out, id, "462", &["You may not reregister"]),
            // A server password, if one is set; accounts log in with SASL or NickServ.
            "PASS" => match param(0) {
                Some(pass) => {
                    if let Some(session) = self.irc_session(id) {
                        session.pass = Some(pass.into());
                    }
                }
                None => missing(self, out),
            },
            "AUTHENTICATE" => match params.first() {
                Some(arg) if !arg.is_empty() => self.irc_authenticate(out, now, id, arg),
                _ => missing(self, out),
            },
            "PING" => match text(0) {
                Some(Ok(token)) => {
                    let server = self.config.server_name.clone();
                    let token = pong_token(&server, token);
                    self.irc_send(out, id, Some(&server), "PONG", &[&server, token]);
                }
                _ => self.irc_reply(out, id, "409", &["No origin specified"]),
            },
            "PONG" => {}
            "QUIT" => self.execute(out, now, id, Command::new(Verb::Quit).with_some("reason", param(0))),
            _ if !registered => self.irc_reply(out, id, "451", &["You have not registered"]),
            "JOIN" => match param(0) {
                Some(channels) => self.irc_join(out, now, id, channels, param(1)),
                None => missing(self, out),
            },
            "PART" => match param(0) {
                Some(channels) => {
                    for name in channels.split(',').filter(|n| !n.is_empty()) {
                        let leave = Command::new(Verb::Leave).with("room", name).with_some("reason", param(1));
                        self.execute(out, now, id, leave);
                    }
                }
                None => missing(self, out),
            },
            "PRIVMSG" | "NOTICE" => {
                let notice = command == "NOTICE";
                match (param(0), text(1)) {
                    (None, _) => self.irc_reply(out, id, "411", &[&format!("No recipient given ({command})")]),
                    (Some(_), None) => self.irc_reply(out, id, "412", &["No text to send"]),
                    (Some(_), Some(Err(_))) => self.reject(out, id, Rejection::InvalidUtf8),
                    (Some(_), Some(Ok(""))) => self.irc_reply(out, id, "412", &["No text to send"]),
                    (Some(targets), Some(Ok(text))) => {
                        for target in self.irc_targets(out, now, id, &command, targets) {
                            self.irc_privmsg(out, now, id, target, text, notice);
                        }
                    }
                }
            }
            "TOPIC" => match param(0) {
                Some(room) => {
                    let text = text(1).and_then(Result::ok);
                    self.execute(out, now, id, Command::new(Verb::Topic).with("room", room).with_some("text", text));
                }
                None => missing(self, out),
            },
            "MODE" => match param(0) {
                Some(room) if room.starts_with('#') => {
                    // An empty argument is kept, to be refused as a key.
                    let args: Vec<String> =
                        (2..params.len()).filter_map(|i| text(i).and_then(Result::ok)).map(str::to_owned).collect();
                    let mode = Command::new(Verb::Mode).with("room", room).with_some("modes", param(1));
                    self.execute(out, now, id, mode.with("args", args));
                }
                Some(nick) => self.irc_user_mode(out, id, nick),
                None => missing(self, out),
            },
            "KICK" => match (param(0), param(1)) {
                (Some(room), Some(nicks)) => {
                    for nick in self.irc_targets(out, now, id, &command, nicks) {
                        let kick = Command::new(Verb::Kick).with("room", room).with("nick", nick);
                        let kick = kick.with_some("reason", param(2));
                        self.execute(out, now, id, kick);
                    }
                }
                _ => missing(self, out),
            },
            "INVITE" => match (param(0), param(1)) {
                (Some(nick), Some(room)) => {
                    self.execute(out, now, id, Command::new(Verb::Invite).with("nick", nick).with("room", room))
                }
                _ => missing(self, out),
            },
            "NAMES" => self.irc_names(out, id, param(0)),
            // `WHO <#room|*> from=<nick>` goes on from a page (`*`: the
            // Lobby); a standard second parameter (`o`, WHOX's `%...`) is
            // no cursor and is ignored.
            "WHO" => match param(0) {
                Some(mask) if !mask.starts_with('#') && mask != LOBBY => self.irc_who_nick(out, id, mask),
                mask => {
                    let from = param(1).and_then(|p| p.strip_prefix(FROM));
                    self.execute(out, now, id, Command::new(Verb::Who).with_some("room", mask).with_some("from", from));
                }
            },
            "WHOIS" => match params.len().checked_sub(1).and_then(param) {
                Some(nick) => self.irc_whois(out, id, nick),
                None => self.irc_reply(out, id, "431", &["No nickname given"]),
            },
            "WHOWAS" => match param(0) {
                Some(nick) => self.irc_whowas(out, id, nick, param(1)),
                None => self.irc_reply(out, id, "431", &["No nickname given"]),
            },
            "LIST" => match param(0) {
                Some(from) if from.starts_with(FROM) => {
                    let from = from.strip_prefix(FROM);
                    self.execute(out, now, id, Command::new(Verb::List).with_some("from", from));
                }
                Some(names) => self.irc_list_some(out, id, names),
                None => self.execute(out, now, id, Command::new(Verb::List)),
            },
            "LUSERS" => self.irc_lusers(out, id),
            "AWAY" => self.irc_away(out, id, param(0)),
            "INFO" => {
                let version = concat!("chatd ", env!("CARGO_PKG_VERSION"), ": chat rooms for IRC, text and JSON users");
                self.irc_reply(out, id, "371", &[version]);
                self.irc_reply(out, id, "374", &["End of INFO list"]);
            }
            "LINKS" => {
                let server = self.config.server_name.clone();
                self.irc_reply(out, id, "364", &[&server, &server, "0 chatd"]);
                self.irc_reply(out, id, "365", &["*", "End of /LINKS list"]);
            }
            "CHATHISTORY" => {
                let args: Vec<&str> = (0..params.len()).filter_map(param).collect();
                self.irc_chathistory(out, now, id, &args);
            }
            _ => match Verb::from_irc_word(&command) {
                Some(verb) => {
                    let args: Vec<&str> = (0..params.len()).filter_map(param).collect();
                    let me = self.clients.get(&id).map(|c| c.nick.to_string()).unwrap_or_default();
                    match command_from_params(verb, &args, &me) {
                        Some(command) => self.execute(out, now, id, command),
                        None => self.reject(out, id, Rejection::Usage(verb.spec().irc_usage)),
                    }
                }
                None => self.irc_reply(out, id, "421", &[&command, "Unknown command"]),
            },
        }
    }

    /// JOIN `#a,#b`: joins each, creating those that do not exist (named
    /// without the `#`, as text users write rooms). `JOIN 0` leaves every
    /// channel.
    fn irc_join(&mut self, out: &mut Outbox, now: Now, id: ClientId, channels: &str, keys: Option<&str>) {
        if channels == "0" {
            let rooms = self.clients.get(&id).map(|c| c.rooms.clone()).unwrap_or_default();
            for key in rooms {
                let name = self.rooms.get(&key).map(|r| r.name.to_string());
                self.execute(out, now, id, Command::new(Verb::Leave).with_some("room", name));
            }
            return;
        }
        // Keys pair with channels in order.
        let mut keys = keys.unwrap_or("").split(',');
        for name in channels.split(',').filter(|n| !n.is_empty()) {
            let key = keys.next().filter(|k| !k.is_empty());
            if !name.starts_with('#') {
                self.irc_reply(out, id, "403", &[name, "No such channel: channel names start with #"]);
                continue;
            }
            let command = if self.rooms.contains_key(&NameKey::of(name)) {
                Command::new(Verb::Join).with("room", name).with_some("key", key)
            } else {
                Command::new(Verb::Create).with("room", name.trim_start_matches('#'))
            };
            self.execute(out, now, id, command);
        }
    }

    /// The targets of a PRIVMSG, NOTICE or KICK (`a,b,#c`): each named
    /// once, whatever its case, and at most [`MAX_TARGETS`] (`TARGMAX`);
    /// the rest are refused with 407. Every target after the first costs
    /// one more line of the sender's flood allowance (the line paid for
    /// the first), so one line cannot deliver more than the allowance
    /// would let as many lines; targets past the allowance are refused as
    /// a flood.
    fn irc_targets<'t>(
        &mut self,
        out: &mut Outbox,
        now: Now,
        id: ClientId,
        command: &str,
        list: &'t str,
    ) -> Vec<&'t str> {
        let mut targets: Vec<&str> = Vec::new();
        for target in list.split(',').filter(|t| !t.is_empty()) {
            if targets.iter().any(|t| t.eq_ignore_ascii_case(target)) {
                continue;
            }
            if targets.len() == MAX_TARGETS {
                let why = format!("Too many targets: a {command} names at most {MAX_TARGETS}");
                self.irc_reply(out, id, "407", &[target, &why]);
                break;
            }
            if !targets.is_empty()
                && let Err(rejection) = self.take_line_allowance(now, id)
            {
                self.reject(out, id, rejection);
                break;
            }
            targets.push(target);
        }
        targets
    }

    /// PRIVMSG or NOTICE to one target: a channel, NickServ or a user.
    fn irc_privmsg(&mut self, out: &mut Outbox, now: Now, id: ClientId, target: &str, text: &str, notice: bool) {
        let Some(text) = plain_text(text) else {
            // CTCP other than ACTION (VERSION, PING, ...): no replies to a
            // NOTICE, as IRC requires.
            if !notice {
                self.irc_reply(out, id, "NOTICE", &["CTCP requests other than ACTION are not supported"]);
            }
            return;
        };
        if target.eq_ignore_ascii_case(NICKSERV) {
            return self.irc_nickserv(out, now, id, &text);
        }
        if !target.starts_with('#') {
            self.say_or_notice(out, now, id, Command::new(Verb::Msg).with("to", target).with("text", text), notice);
            // An away recipient says so (not to a NOTICE: no automatic replies).
            if !notice
                && let Some(whom) = self.nicks.get(&NameKey::of(target)).and_then(|t| self.clients.get(t))
                && let Some(away) = whom.irc.as_ref().and_then(|session| session.away.clone())
            {
                let found = whom.nick.clone();
                self.irc_reply(out, id, "301", &[&found, &away]);
            }
            return;
        }
        let verb = if notice { Verb::Notice } else { Verb::Say };
        let say = Command::new(verb).with("room", target).with("text", text);
        match self.run(out, now, id, say) {
            Ok(()) => {}
            // No automatic reply to a NOTICE, errors included (RFC 2812 3.3.2).
            Err(_) if notice => {}
            // PRIVMSG's own numerics for a channel it cannot reach: the
            // engine's rule (members only, unless `-n`) is the same.
            Err(Rejection::NoSuchRoom(_)) => self.irc_reply(out, id, "403", &[target, "No such channel"]),
            Err(Rejection::NotInRoom(_)) => {
                self.irc_reply(out, id, "404", &[target, "Cannot send to channel: join it first"]);
            }
            Err(rejection) => self.reject(out, id, rejection),
        }
    }

    /// Runs a message command; a NOTICE's refusal is not told.
    fn say_or_notice(&mut self, out: &mut Outbox, now: Now, id: ClientId, command: Command, notice: bool) {
        if notice {
            let _ = self.run(out, now, id, command);
        } else {
            self.execute(out, now, id, command);
        }
    }

    /// The NickServ pseudo-user: `REGISTER <password> [email]` and
    /// `IDENTIFY [account] <password>`, for the current nickname.
    fn irc_nickserv(&mut self, out: &mut Outbox, now: Now, id: ClientId, text: &str) {
        let nick = self.clients.get(&id).map(|c| c.nick.to_string()).unwrap_or_default();
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
            Some(command) => self.execute(out, now, id, command),
            None => {
                let me = self.clients.get(&id).map(|c| c.nick.to_string()).unwrap_or_default();
                let source = crate::codec::irc::render::mask(NICKSERV, &self.config.server_name);
                for help in [
                    "Commands: REGISTER <password> [email], IDENTIFY [account] <password>",
                    "Your nickname is the account name.",
                ] {
                    self.irc_send(out, id, Some(&source), "NOTICE", &[&me, help]);
                }
            }
        }
    }

    pub(crate) fn irc_session(&mut self, id: ClientId) -> Option<&mut IrcSession> {
        self.clients.get_mut(&id).and_then(|c| c.irc.as_deref_mut())
    }

    /// A reply from the server to one client, addressed to it: numerics
    /// and CAP (`:server CODE nick params...`; `*` before the welcome).
    pub(crate) fn irc_reply(&mut self, out: &mut Outbox, id: ClientId, code: &str, params: &[&str]) {
        let Some(client) = self.clients.get(&id) else { return };
        let registered = client.irc.as_ref().is_some_and(|s| s.registered);
        let mut all = Vec::with_capacity(params.len() + 1);
        all.push(if registered { &*client.nick } else { "*" });
        all.extend_from_slice(params);
        out.send(id, write_line(Some(&self.config.server_name), code, &all));
    }

    /// Any line to one client.
    pub(crate) fn irc_send(
        &mut self,
        out: &mut Outbox,
        id: ClientId,
        source: Option<&str>,
        command: &str,
        params: &[&str],
    ) {
        out.send(id, write_line(source, command, params));
    }
}

/// What a PRIVMSG's text says, as chat text: IRC formatting (bold, colour,
/// ...) removed, since other protocols would show it as control bytes, and
/// a CTCP ACTION (`/me waves`) as `* waves`. `None` for other CTCP.
fn plain_text(text: &str) -> Option<String> {
    let text = match text.strip_prefix('\x01') {
        Some(ctcp) => {
            let ctcp = ctcp.strip_suffix('\x01').unwrap_or(ctcp);
            let action = ctcp.strip_prefix("ACTION ")?;
            format!("* {action}")
        }
        None => text.to_owned(),
    };
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // Bold, italics, underline, strike, monospace, reverse, reset.
            '\x02' | '\x1d' | '\x1f' | '\x1e' | '\x11' | '\x16' | '\x0f' => {}
            // Colour: up to two digits, then optionally a comma and two more.
            '\x03' => {
                for _ in 0..2 {
                    chars.next_if(char::is_ascii_digit);
                }
                if chars.peek() == Some(&',') {
                    let mut ahead = chars.clone();
                    ahead.next();
                    if ahead.peek().is_some_and(char::is_ascii_digit) {
                        chars.next();
                        for _ in 0..2 {
                            chars.next_if(char::is_ascii_digit);
                        }
                    }
                }
            }
            c => plain.push(c),
        }
    }
    Some(plain)
}

/// A command from its IRC parameters, for the verbs that take them as
/// plain words, in the order the table's text column gives. `None`: the
/// wrong number or form of parameters.
fn command_from_params(verb: Verb, args: &[&str], me: &str) -> Option<Command> {
    let command = match (verb, args) {
        // LIST pages with `from=`, handled before; HELP takes no topic here.
        (Verb::List | Verb::Help, _) => Command::new(verb),
        (Verb::History, [target]) => history_of(target),
        // IRCv3 account-registration's form: `*` for the account means the
        // current nickname, and the email is not used.
        (Verb::Register, [name, _email, password]) => Command::new(Verb::Register)
            .with("name", if *name == "*" { me } else { name })
            .with("password", Password::new(*password))
            .with("confirm", Password::new(*password)),
        (Verb::Register, _) => return None,
        _ => {
            let spec = verb.spec();
            if args.len() > spec.text_args.len() {
                return None;
            }
            let mut command = Command::new(verb);
            for (key, value) in spec.text_args.iter().zip(args) {
                command = match spec.arg(key)?.kind {
                    Kind::Number => command.with(key, value.parse::<u64>().ok()?),
                    Kind::Secret => command.with(key, Password::new(*value)),
                    Kind::List => command.with(key, vec![(*value).to_owned()]),
                    Kind::Word | Kind::Rest => command.with(key, *value),
                };
            }
            command
        }
    };
    command.complete().then_some(command)
}

/// What a HISTORY or CHATHISTORY target names: a channel, or the
/// conversation with a user.
pub(crate) fn history_of(target: &str) -> Command {
    let key = if target.starts_with('#') { "room" } else { "with" };
    Command::new(Verb::History).with(key, target)
}

/// The token a PONG gives back: the PING's, cut at a character boundary
/// if it would not fit one line with the server's name (a PING fills 510
/// bytes with a token the PONG's own words leave less room for), so that
/// a long token gets its PONG rather than none. Clients match a PONG by
/// the start of its token, which the cut keeps.
fn pong_token<'t>(server: &str, token: &'t str) -> &'t str {
    let room = Outgoing { tags: &[], source: Some(server), command: "PONG", params: &[server] }.room_for_trailing();
    if token.len() <= room {
        return token;
    }
    let mut cut = room;
    while !token.is_char_boundary(cut) {
        cut -= 1;
    }
    &token[..cut]
}

/// One line from its parts; a line that cannot be written (a bug upstream)
/// comes out empty, and an empty send is dropped, rather than malformed.
fn write_line(source: Option<&str>, command: &str, params: &[&str]) -> Bytes {
    let mut line = Vec::with_capacity(128);
    if (Outgoing { tags: &[], source, command, params }).write(&mut line).is_err() {
        line.clear();
    }
    Bytes::from(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_is_removed_and_actions_kept() {
        assert_eq!(plain_text("\x02bold\x02 and \x0304,12red\x03 \x1fu\x0f").unwrap(), "bold and red u");
        assert_eq!(plain_text("\x033,x").unwrap(), ",x");
        assert_eq!(plain_text("\x01ACTION waves\x01").unwrap(), "* waves");
        assert_eq!(plain_text("\x01VERSION\x01"), None);
        assert_eq!(plain_text("plain").unwrap(), "plain");
    }

    #[test]
    fn table_verbs_take_their_parameters() {
        let seen = Command::new(Verb::Seen).with("nick", "bob");
        assert_eq!(command_from_params(Verb::Seen, &["bob"], "me"), Some(seen));
        assert_eq!(command_from_params(Verb::Seen, &[], "me"), None);
        assert_eq!(command_from_params(Verb::Seen, &["bob", "carol"], "me"), None);
        let since = Command::new(Verb::Since).with("seconds", 60u64);
        assert_eq!(command_from_params(Verb::Since, &["60"], "me"), Some(since.clone()));
        assert_eq!(command_from_params(Verb::Since, &["60", "bob"], "me"), Some(since.with("from", "bob")));
        assert_eq!(command_from_params(Verb::Since, &["soon"], "me"), None);
        let register = command_from_params(Verb::Register, &["*", "*", "hunter22"], "alice").expect("a command");
        assert_eq!(register.text("name"), Some("alice"));
        assert_eq!(command_from_params(Verb::History, &["bob"], "me").expect("a command").text("with"), Some("bob"));
    }
}
