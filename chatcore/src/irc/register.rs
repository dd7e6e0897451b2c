//! Registration: CAP negotiation, NICK and USER, SASL PLAIN, and the
//! welcome once all are done. Clients send these in different orders
//! (irssi waits for `CAP LS` to be answered before NICK and USER; others
//! send NICK and USER first), and every order ends in the same welcome.

use super::session::{Cap, IrcSession, Sasl};
use crate::codec::irc::sasl::{self, decode_plain};
use crate::command::{Command, MAX_TARGETS, Verb};
use crate::error::Rejection;
use crate::event::{Event, IrcAnswer, ServerLimits};
use crate::outbox::Outbox;
use crate::output::{ClientId, DisconnectReason};
use crate::time::Now;
use crate::turn::Turn;
use crate::world::World;

impl World {
    /// `CAP LS`, `LIST`, `REQ` and `END`.
    pub(crate) fn irc_cap(
        &mut self,
        out: &mut Outbox,
        now: Now,
        id: ClientId,
        sub: &str,
        arg: Option<&str>,
    ) -> Result<(), Rejection> {
        let Some(session) = self.irc_session(id) else { return Ok(()) };
        let sub = sub.to_ascii_uppercase();
        let cap = |sub, caps| Event::Irc(IrcAnswer::Cap { sub, caps });
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
                self.tell(out, id, cap("LS", &offered.join(" ")));
            }
            "LIST" => {
                let caps = session.caps;
                let on: Vec<&str> = Cap::ALL.into_iter().filter(|&c| caps.has(c)).map(Cap::name).collect();
                self.tell(out, id, cap("LIST", &on.join(" ")));
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
                        None => {
                            self.tell(out, id, cap("NAK", asked));
                            return Ok(());
                        }
                    }
                }
                session.caps = caps;
                self.tell(out, id, cap("ACK", asked));
                self.irc_update_wire(id);
            }
            "END" => {
                session.negotiating = false;
                self.irc_try_register(out, now, id);
            }
            _ => return Err(Rejection::InvalidCapCommand(sub.into())),
        }
        Ok(())
    }

    /// NICK before registration: remembered, and taken when registration
    /// completes (a SASL login may name the client first).
    pub(crate) fn irc_nick_before_welcome(&mut self, out: &mut Outbox, now: Now, id: ClientId, nick: &str) {
        let server = &self.config.server_name;
        if let Err(rejection) = crate::names::validate_chosen_nick(nick, self.config.max_nick_len, server) {
            return self.reject(out, id, Rejection::NickInvalid(rejection));
        }
        if let Some(session) = self.irc_session(id) {
            session.wanted_nick = Some(nick.into());
        }
        self.irc_try_register(out, now, id);
    }

    /// USER: the username and the real name (the username if empty), for
    /// WHOIS.
    pub(crate) fn irc_user(&mut self, out: &mut Outbox, now: Now, id: ClientId, user: &str, realname: &str) {
        if let Some(session) = self.irc_session(id) {
            session.user = Some(user.into());
            session.realname = Some(if realname.is_empty() { user } else { realname }.into());
        }
        self.irc_try_register(out, now, id);
    }

    /// PASS: the server password, if the port has one; accounts log in
    /// with SASL or NickServ.
    pub(crate) fn irc_pass(&mut self, id: ClientId, password: &str) {
        if let Some(session) = self.irc_session(id) {
            session.pass = Some(password.into());
        }
    }

    /// The session of an IRC client.
    pub(crate) fn irc_session(&mut self, id: ClientId) -> Option<&mut IrcSession> {
        self.clients.get_mut(&id).and_then(|c| c.irc.as_deref_mut())
    }

    /// `AUTHENTICATE`: SASL PLAIN, logging in to a chatcore account.
    pub(crate) fn irc_authenticate(
        &mut self,
        out: &mut Outbox,
        now: Now,
        id: ClientId,
        arg: &str,
    ) -> Result<(), Rejection> {
        let logged_in = self.clients.get(&id).is_some_and(|c| c.account.is_some());
        let Some(session) = self.irc_session(id) else { return Ok(()) };
        if arg == "*" {
            session.sasl = Sasl::Idle;
            return Err(Rejection::SaslAborted);
        }
        match std::mem::take(&mut session.sasl) {
            Sasl::Idle if logged_in => return Err(Rejection::SaslAlreadyAuthenticated),
            Sasl::Idle if arg.eq_ignore_ascii_case("PLAIN") => {
                session.sasl = Sasl::Receiving(Vec::new());
                self.tell(out, id, Event::Irc(IrcAnswer::SaslContinue));
            }
            Sasl::Idle => return Err(Rejection::SaslMechanism),
            Sasl::Checking => {
                session.sasl = Sasl::Checking;
                return Err(Rejection::SaslInProgress);
            }
            Sasl::Receiving(mut response) => {
                if arg != "+" {
                    response.extend_from_slice(arg.as_bytes());
                }
                if response.len() > sasl::MAX_RESPONSE {
                    return Err(Rejection::SaslTooLong);
                }
                if arg.len() == sasl::CHUNK {
                    session.sasl = Sasl::Receiving(response);
                    return Ok(());
                }
                let (name, password) = decode_plain(&response).map_err(Rejection::SaslFailed)?;
                session.sasl = Sasl::Checking;
                let login = Command::new(Verb::Login).with("name", name).with("password", password);
                self.execute(out, now, id, login);
            }
        }
        Ok(())
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
            self.reject(out, id, Rejection::ServerPasswordIncorrect);
            return self.close(out, now, id, DisconnectReason::WrongServerPassword);
        }
        if !logged_in {
            let Some(nick) = session.wanted_nick.clone() else { return };
            if let Err(rejection) = Turn::new(self, out, now, id).change_nick(&nick) {
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
        self.visitors.register();
        self.irc_welcome(out, id);
        if logged_in {
            Turn::new(self, out, now, id).deliver_mailbox();
        }
    }

    fn irc_welcome(&mut self, out: &mut Outbox, id: ClientId) {
        let limits = ServerLimits {
            nick_len: self.config.max_nick_len,
            room_name_len: self.config.max_room_name_len,
            history_page_len: self.config.history_page_len,
            targets: MAX_TARGETS,
        };
        self.tell(out, id, Event::Irc(IrcAnswer::Welcome { limits }));
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
