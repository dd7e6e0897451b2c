//! Registration: CAP negotiation, NICK and USER, SASL PLAIN, and the
//! welcome once all are done. Clients send these in different orders
//! (irssi waits for `CAP LS` to be answered before NICK and USER; others
//! send NICK and USER first), and every order ends in the same welcome.

use super::dispatch::MAX_TARGETS;
use crate::codec::irc::sasl::{self, decode_plain};
use super::session::{Cap, Sasl};
use crate::command::{Command, Verb};
use crate::outbox::Outbox;
use crate::output::{ClientId, DisconnectReason};
use crate::time::Now;
use crate::world::World;

/// What the server tells a client about itself at registration
/// (RPL_ISUPPORT, 005), besides the limits from its configuration.
const ISUPPORT: &[&str] =
    &["CHANTYPES=#", "PREFIX=(ov)@+", "CHANMODES=b,k,l,imnst", "CASEMAPPING=ascii", "NETWORK=chatd"];

impl World {
    /// `CAP LS`, `LIST`, `REQ` and `END`.
    pub(crate) fn irc_cap(&mut self, out: &mut Outbox, now: Now, id: ClientId, sub: &str, arg: Option<&str>) {
        let Some(session) = self.irc_session(id) else { return };
        let sub = sub.to_ascii_uppercase();
        match sub.as_str() {
            "LS" => {
                session.negotiating |= !session.registered;
                // CAP LS 302 and later may carry values.
                let values = arg.and_then(|v| v.parse::<u32>().ok()).is_some_and(|v| v >= 302);
                let offered: Vec<String> = Cap::ALL
                    .into_iter()
                    .map(|cap| match cap.value().filter(|_| values) {
                        Some(value) => format!("{}={value}", cap.name()),
                        None => cap.name().to_owned(),
                    })
                    .collect();
                self.irc_reply(out, id, "CAP", &["LS", &offered.join(" ")]);
            }
            "LIST" => {
                let caps = session.caps;
                let on: Vec<&str> = Cap::ALL.into_iter().filter(|&c| caps.has(c)).map(Cap::name).collect();
                self.irc_reply(out, id, "CAP", &["LIST", &on.join(" ")]);
            }
            "REQ" => {
                session.negotiating |= !session.registered;
                let asked = arg.unwrap_or("");
                // All or nothing: one unknown capability refuses the request.
                let mut caps = session.caps;
                for word in asked.split(' ').filter(|w| !w.is_empty()) {
                    let (name, on) = word.strip_prefix('-').map_or((word, true), |name| (name, false));
                    match Cap::named(name) {
                        Some(cap) => caps = caps.with(cap, on),
                        None => return self.irc_reply(out, id, "CAP", &["NAK", asked]),
                    }
                }
                session.caps = caps;
                self.irc_reply(out, id, "CAP", &["ACK", asked]);
                self.irc_update_wire(id);
            }
            "END" => {
                session.negotiating = false;
                self.irc_try_register(out, now, id);
            }
            _ => self.irc_reply(out, id, "410", &[&sub, "Invalid CAP command"]),
        }
    }

    /// NICK before registration: remembered, and taken when registration
    /// completes (a SASL login may name the client first).
    pub(crate) fn irc_nick_before_welcome(&mut self, out: &mut Outbox, now: Now, id: ClientId, nick: &str) {
        let server = &self.config.server_name;
        if let Err(rejection) = crate::names::validate_chosen_nick(nick, self.config.max_nick_len, server) {
            return self.reject(out, id, crate::error::Rejection::NickInvalid(rejection));
        }
        if let Some(session) = self.irc_session(id) {
            session.wanted_nick = Some(nick.into());
        }
        self.irc_try_register(out, now, id);
    }

    /// USER: the username and the real name, for WHOIS.
    pub(crate) fn irc_user(&mut self, out: &mut Outbox, now: Now, id: ClientId, user: &str, realname: &str) {
        if let Some(session) = self.irc_session(id) {
            session.user = Some(user.into());
            session.realname = Some(realname.into());
        }
        self.irc_try_register(out, now, id);
    }

    /// `AUTHENTICATE`: SASL PLAIN, logging in to a chatcore account.
    pub(crate) fn irc_authenticate(&mut self, out: &mut Outbox, now: Now, id: ClientId, arg: &[u8]) {
        let logged_in = self.clients.get(&id).is_some_and(|c| c.account.is_some());
        let Some(session) = self.irc_session(id) else { return };
        if arg == b"*" {
            session.sasl = Sasl::Idle;
            return self.irc_reply(out, id, "906", &["SASL authentication aborted"]);
        }
        match std::mem::take(&mut session.sasl) {
            Sasl::Idle if logged_in => self.irc_reply(out, id, "907", &["You have already authenticated"]),
            Sasl::Idle if arg.eq_ignore_ascii_case(b"PLAIN") => {
                session.sasl = Sasl::Receiving(Vec::new());
                self.irc_send(out, id, None, "AUTHENTICATE", &["+"]);
            }
            Sasl::Idle => {
                self.irc_reply(out, id, "908", &["PLAIN", "are available SASL mechanisms"]);
                self.irc_reply(out, id, "904", &["SASL authentication failed"]);
            }
            Sasl::Checking => {
                session.sasl = Sasl::Checking;
                self.irc_reply(out, id, "904", &["SASL authentication failed: a login is in progress"]);
            }
            Sasl::Receiving(mut response) => {
                if arg != b"+" {
                    response.extend_from_slice(arg);
                }
                if response.len() > sasl::MAX_RESPONSE {
                    return self.irc_reply(out, id, "905", &["SASL message too long"]);
                }
                if arg.len() == sasl::CHUNK {
                    session.sasl = Sasl::Receiving(response);
                    return;
                }
                match decode_plain(&response) {
                    Ok((name, password)) => {
                        session.sasl = Sasl::Checking;
                        let login = Command::new(Verb::Login).with("name", name).with("password", password);
                        self.execute(out, now, id, login);
                    }
                    Err(error) => {
                        self.irc_reply(out, id, "904", &[&format!("SASL authentication failed: {error}")]);
                    }
                }
            }
        }
    }

    /// Finishes registration once NICK and USER are in and CAP is done:
    /// takes the nickname asked for (unless logged in), sends the welcome,
    /// lifts the deadline for registering and delivers kept whispers.
    pub(crate) fn irc_try_register(&mut self, out: &mut Outbox, now: Now, id: ClientId) {
        let Some(client) = self.clients.get(&id) else { return };
        let Some(session) = client.irc.as_deref() else { return };
        let logged_in = client.account.is_some();
        if session.registered || session.user.is_none() || session.negotiating {
            return;
        }
        if session.server_password.is_some() && session.pass != session.server_password {
            self.irc_reply(out, id, "464", &["Password incorrect"]);
            return self.close(out, now, id, DisconnectReason::WrongServerPassword);
        }
        if !logged_in {
            let Some(nick) = session.wanted_nick.clone() else { return };
            if let Err(rejection) = self.change_nick(out, id, &nick) {
                // The client must pick another nickname before it is welcome.
                if let Some(session) = self.irc_session(id) {
                    session.wanted_nick = None;
                }
                return self.reject(out, id, rejection);
            }
        }
        let Some(client) = self.clients.get_mut(&id) else { return };
        let Some(session) = client.irc.as_deref_mut() else { return };
        session.registered = true;
        if !self.config.require_login && client.registration_deadline.take().is_some() {
            self.timers.rearm(id, client, &self.config);
        }
        self.irc_unregistered -= 1;
        self.peak_users = self.peak_users.max(self.clients.len() - self.irc_unregistered);
        self.irc_welcome(out, id);
        if logged_in {
            self.deliver_mailbox(out, id);
        }
    }

    fn irc_welcome(&mut self, out: &mut Outbox, id: ClientId) {
        let Some(client) = self.clients.get(&id) else { return };
        let nick = client.nick.clone();
        let server = self.config.server_name.clone();
        let version = concat!("chatd-", env!("CARGO_PKG_VERSION"));
        self.irc_reply(out, id, "001", &[&format!("Welcome to {server}, {nick}")]);
        self.irc_reply(out, id, "002", &[&format!("Your host is {server}, running {version}")]);
        self.irc_reply(out, id, "003", &["This server was started for you"]);
        // User modes, room modes, and the room modes that take an argument.
        self.irc_reply(out, id, "004", &[&server, version, "i", "biklmnostv", "bklov"]);
        let nicklen = format!("NICKLEN={}", self.config.max_nick_len);
        let chanlen = format!("CHANNELLEN={}", self.config.max_room_name_len + 1);
        let history = format!("CHATHISTORY={}", self.config.history_page_len);
        let targmax = format!("TARGMAX=KICK:{MAX_TARGETS},NOTICE:{MAX_TARGETS},PRIVMSG:{MAX_TARGETS}");
        let mut tokens: Vec<&str> = ISUPPORT.to_vec();
        tokens.extend([nicklen.as_str(), chanlen.as_str(), history.as_str(), targmax.as_str()]);
        tokens.push("are supported by this server");
        self.irc_reply(out, id, "005", &tokens);
        self.irc_reply(out, id, "422", &["No message of the day"]);
    }

    /// Keeps the client's room memberships in step with the tags it now
    /// takes, since a broadcast is rendered per wire.
    fn irc_update_wire(&mut self, id: ClientId) {
        let Some(client) = self.clients.get(&id) else { return };
        let wire = client.wire();
        for key in &client.rooms {
            if let Some(room) = self.rooms.get_mut(key) {
                room.members.set_wire(id, wire);
            }
        }
    }
}
