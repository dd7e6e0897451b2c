//! One IRC client's session: what it negotiated and whether it has
//! registered (sent NICK and USER, and ended CAP negotiation if it began
//! one). Only IRC clients carry one.

/// The IRC side of a client.
#[derive(Debug, Default)]
pub(crate) struct IrcSession {
    /// The server's name, as the source of replies.
    pub(crate) server: Box<str>,
    /// NICK and USER were both sent and CAP negotiation, if any, ended:
    /// the welcome was sent and every command is open.
    pub(crate) registered: bool,
    /// A NICK was accepted before registration.
    pub(crate) nick_given: bool,
    /// The username given with USER.
    pub(crate) user: Option<Box<str>>,
    /// CAP LS or REQ began a negotiation that CAP END has not ended.
    pub(crate) negotiating: bool,
}

use bytes::Bytes;

use super::message::{Message, Outgoing, ParseError};
use super::render::channel;
use crate::command::Command;
use crate::outbox::Outbox;
use crate::output::ClientId;
use crate::time::Now;
use crate::world::World;

/// What a server that speaks IRC tells a client about itself at
/// registration (RPL_ISUPPORT, 005).
const ISUPPORT: &[&str] = &["CHANTYPES=#", "PREFIX=(o)@", "CHANMODES=b,k,l,nt", "CASEMAPPING=ascii", "NETWORK=chatd"];

impl World {
    /// One line from an IRC client, as bytes: IRC's grammar, then its
    /// command, mapped onto the engine's commands where there is one.
    pub(crate) fn irc_line(&mut self, out: &mut Outbox, now: Now, id: ClientId, line: &[u8]) {
        let message = match Message::parse(line) {
            Ok(message) => message,
            Err(ParseError::Empty) => return,
            Err(ParseError::TooLong { .. }) => return self.irc_numeric(out, id, "417", &["Input line was too long"]),
            Err(_) => return self.irc_numeric(out, id, "421", &["*", "Malformed line"]),
        };
        let command = message.command().upper().into_owned();
        let param = |i: usize| message.param(i).and_then(|p| p.as_str().ok());
        let registered = self.clients.get(&id).and_then(|c| c.irc.as_ref()).is_some_and(|s| s.registered);
        match command.as_str() {
            "CAP" => {
                self.irc_cap(out, id, param(0).unwrap_or(""));
                self.irc_try_register(out, now, id);
            }
            "NICK" => match param(0) {
                None => self.irc_numeric(out, id, "431", &["No nickname given"]),
                Some(nick) => {
                    if let Err(rejection) = self.change_nick(out, id, nick) {
                        self.reject(out, id, rejection);
                    } else if let Some(session) = self.irc_session(id) {
                        session.nick_given = true;
                    }
                    self.irc_try_register(out, now, id);
                }
            },
            "USER" => match (registered, param(0)) {
                (true, _) => self.irc_numeric(out, id, "462", &["You may not reregister"]),
                (false, None) => self.irc_numeric(out, id, "461", &["USER", "Not enough parameters"]),
                (false, Some(user)) => {
                    if let Some(session) = self.irc_session(id) {
                        session.user = Some(user.into());
                    }
                    self.irc_try_register(out, now, id);
                }
            },
            "PASS" => {}
            "PING" => {
                let token = param(0).unwrap_or("");
                let server = self.config.server_name.clone();
                self.irc_send(out, id, Some(&server), "PONG", &[&server, token]);
            }
            "PONG" => {}
            "QUIT" => self.execute(out, now, id, Command::Quit(param(0).map(str::to_owned))),
            _ if !registered => self.irc_numeric(out, id, "451", &["You have not registered"]),
            "JOIN" => {
                for name in param(0).unwrap_or("").split(',').filter(|n| !n.is_empty()) {
                    let exists = self.rooms.contains_key(&crate::names::NameKey::of(name));
                    // A channel IRC creates is named without its `#`, as text users write rooms.
                    let command = if exists {
                        Command::Join(name.into())
                    } else {
                        Command::Create(name.trim_start_matches('#').into())
                    };
                    self.execute(out, now, id, command);
                }
            }
            "PART" => {
                for name in param(0).unwrap_or("").split(',').filter(|n| !n.is_empty()) {
                    self.execute(out, now, id, Command::Leave(Some(name.into())));
                }
            }
            "PRIVMSG" | "NOTICE" => match (param(0), message.param(1).map(|p| p.as_str())) {
                (Some(target), Some(Ok(text))) if target.starts_with('#') => {
                    self.execute(out, now, id, Command::Say { room: Some(target.into()), text: text.into() });
                }
                (Some(target), Some(Ok(text))) => {
                    self.execute(out, now, id, Command::Whisper { to: target.into(), text: text.into() });
                }
                (Some(_), Some(Err(_))) => self.reject(out, id, crate::error::Rejection::InvalidUtf8),
                (None, _) => self.irc_numeric(out, id, "411", &["No recipient given"]),
                (Some(_), None) => self.irc_numeric(out, id, "412", &["No text to send"]),
            },
            "TOPIC" => match param(0) {
                None => self.irc_numeric(out, id, "461", &["TOPIC", "Not enough parameters"]),
                Some(room) => {
                    let text = param(1).map(str::to_owned);
                    self.execute(out, now, id, Command::Topic { room: Some(room.into()), text });
                }
            },
            "MODE" => match param(0) {
                Some(target) if target.starts_with('#') => {
                    self.irc_numeric(out, id, "324", &[&channel(target), "+nt"]);
                }
                Some(_) => self.irc_numeric(out, id, "221", &["+i"]),
                None => self.irc_numeric(out, id, "461", &["MODE", "Not enough parameters"]),
            },
            _ => self.irc_numeric(out, id, "421", &[&command, "Unknown command"]),
        }
    }

    fn irc_session(&mut self, id: ClientId) -> Option<&mut IrcSession> {
        self.clients.get_mut(&id).and_then(|c| c.irc.as_deref_mut())
    }

    /// CAP: nothing to offer yet, so LS lists none, REQ is refused, and
    /// END lets registration finish.
    fn irc_cap(&mut self, out: &mut Outbox, id: ClientId, sub: &str) {
        let nick = self.clients.get(&id).map_or("*".into(), |c| c.nick.clone());
        let server = self.config.server_name.clone();
        match sub.to_ascii_uppercase().as_str() {
            "LS" | "LIST" => {
                if let Some(session) = self.irc_session(id)
                    && !session.registered
                {
                    session.negotiating = true;
                }
                self.irc_send(out, id, Some(&server), "CAP", &[&nick, &sub.to_ascii_uppercase(), ""]);
            }
            "REQ" => self.irc_send(out, id, Some(&server), "CAP", &[&nick, "NAK", ""]),
            "END" => {
                if let Some(session) = self.irc_session(id) {
                    session.negotiating = false;
                }
            }
            _ => self.irc_numeric(out, id, "410", &[sub, "Invalid CAP command"]),
        }
    }

    /// Finishes registration once NICK and USER are in and CAP is done:
    /// the welcome numerics, and the deadline for registering is lifted.
    fn irc_try_register(&mut self, out: &mut Outbox, now: Now, id: ClientId) {
        let Some(client) = self.clients.get_mut(&id) else { return };
        let Some(session) = client.irc.as_deref_mut() else { return };
        if session.registered || !session.nick_given || session.user.is_none() || session.negotiating {
            return;
        }
        session.registered = true;
        let _ = now;
        if !self.config.require_login && client.registration_deadline.take().is_some() {
            self.timers.rearm(id, client, &self.config);
        }
        let nick = client.nick.clone();
        let server = self.config.server_name.clone();
        let version = concat!("chatd-", env!("CARGO_PKG_VERSION"));
        self.irc_numeric(out, id, "001", &[&format!("Welcome to {server}, {nick}")]);
        self.irc_numeric(out, id, "002", &[&format!("Your host is {server}, running {version}")]);
        self.irc_numeric(out, id, "003", &["This server was started for you"]);
        self.irc_numeric(out, id, "004", &[&server, version, "i", "nt"]);
        let nicklen = format!("NICKLEN={}", self.config.max_nick_len);
        let chanlen = format!("CHANNELLEN={}", self.config.max_room_name_len);
        let mut tokens: Vec<&str> = ISUPPORT.to_vec();
        tokens.extend([nicklen.as_str(), chanlen.as_str(), "are supported by this server"]);
        self.irc_numeric(out, id, "005", &tokens);
        self.irc_numeric(out, id, "422", &["No message of the day"]);
    }

    /// A numeric reply to one client: `:server CODE nick params...`.
    pub(crate) fn irc_numeric(&mut self, out: &mut Outbox, id: ClientId, code: &str, params: &[&str]) {
        let Some(client) = self.clients.get(&id) else { return };
        let mut all = Vec::with_capacity(params.len() + 1);
        all.push(&*client.nick);
        all.extend_from_slice(params);
        let line = write_line(Some(&self.config.server_name), code, &all);
        out.send(id, line);
    }

    fn irc_send(&mut self, out: &mut Outbox, id: ClientId, source: Option<&str>, command: &str, params: &[&str]) {
        out.send(id, write_line(source, command, params));
    }
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
