//! Registration: CAP negotiation, NICK and USER, SASL PLAIN, and the
//! welcome once all are done. Clients send these in different orders
//! (irssi waits for `CAP LS` to be answered before NICK and USER; others
//! send NICK and USER first), and every order ends in the same welcome.

use super::session::{Cap, IrcSession, Sasl};
use crate::codec::irc::sasl::{self, decode_plain};
use crate::command::{Command, MAX_TARGETS, Verb};
use crate::error::Rejection;
use crate::event::{Event, IrcAnswer, ServerLimits};
use crate::output::{ClientId, DisconnectReason};
use crate::turn::Turn;
use crate::world::World;

impl Turn<'_> {
    /// `CAP LS`, `LIST`, `REQ` and `END`.
    pub(crate) fn irc_cap(&mut self, sub: &str, arg: Option<&str>) -> Result<(), Rejection> {
        let Some(session) = self.world.irc_session(self.id) else { return Ok(()) };
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
                self.tell(cap("LS", &offered.join(" ")));
            }
            "LIST" => {
                let caps = session.caps;
                let on: Vec<&str> = Cap::ALL.into_iter().filter(|&c| caps.has(c)).map(Cap::name).collect();
                self.tell(cap("LIST", &on.join(" ")));
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
                            self.tell(cap("NAK", asked));
                            return Ok(());
                        }
                    }
                }
                session.caps = caps;
                self.tell(cap("ACK", asked));
                self.world.irc_update_wire(self.id);
            }
            "END" => {
                session.negotiating = false;
                self.irc_try_register();
            }
            _ => return Err(Rejection::InvalidCapCommand(sub.into())),
        }
        Ok(())
    }

    /// NICK before registration: remembered, and taken when registration
    /// completes (a SASL login may name the client first).
    pub(crate) fn irc_nick_before_welcome(&mut self, nick: &str) {
        let config = &self.world.config;
        if let Err(rejection) = crate::names::validate_chosen_nick(nick, config.max_nick_len, &config.server_name) {
            return self.world.reject(self.out, self.id, Rejection::NickInvalid(rejection));
        }
        if let Some(session) = self.world.irc_session(self.id) {
            session.wanted_nick = Some(nick.into());
        }
        self.irc_try_register();
    }

    /// USER: the username and the real name (the username if empty), for
    /// WHOIS.
    pub(crate) fn irc_user(&mut self, user: &str, realname: &str) {
        if let Some(session) = self.world.irc_session(self.id) {
            session.user = Some(user.into());
            session.realname = Some(if realname.is_empty() { user } else { realname }.into());
        }
        self.irc_try_register();
    }

    /// PASS: the server password, if the port has one; accounts log in
    /// with SASL or NickServ.
    pub(crate) fn irc_pass(&mut self, password: &str) {
        if let Some(session) = self.world.irc_session(self.id) {
            session.pass = Some(password.into());
        }
    }

    /// `AUTHENTICATE`: SASL PLAIN, logging in to a chatcore account with
    /// its password or a session token.
    pub(crate) fn irc_authenticate(&mut self, arg: &str) -> Result<(), Rejection> {
        let logged_in = self.world.clients.get(&self.id).is_some_and(|c| c.account.is_some());
        let Some(session) = self.world.irc_session(self.id) else { return Ok(()) };
        if arg == "*" {
            session.sasl = Sasl::Idle;
            return Err(Rejection::SaslAborted);
        }
        match std::mem::take(&mut session.sasl) {
            Sasl::Idle if logged_in => return Err(Rejection::SaslAlreadyAuthenticated),
            Sasl::Idle if arg.eq_ignore_ascii_case("PLAIN") => {
                session.sasl = Sasl::Receiving(Vec::new());
                self.tell(Event::Irc(IrcAnswer::SaslContinue));
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
                // A password of a session token's shape is a token (no
                // password may have that shape): the token names its account.
                let login = if crate::token::looks_like_token(password.expose()) {
                    Command::new(Verb::Resume).with("token", password)
                } else {
                    Command::new(Verb::Login).with("name", name).with("password", password)
                };
                self.execute(login);
            }
        }
        Ok(())
    }

    /// Finishes registration once NICK and USER are in and CAP is done:
    /// takes the nickname asked for (unless logged in), sends the welcome,
    /// lifts the deadline for registering and delivers kept whispers.
    pub(crate) fn irc_try_register(&mut self) {
        let (world, id) = (&mut *self.world, self.id);
        let Some(client) = world.clients.get(&id) else { return };
        let Some(session) = client.irc.as_deref() else { return };
        let logged_in = client.account.is_some();
        if session.registered || session.user.is_none() || session.negotiating {
            return;
        }
        if session.server_password.is_some() && session.pass != session.server_password {
            world.reject(self.out, id, Rejection::ServerPasswordIncorrect);
            return world.close(self.out, self.now, id, DisconnectReason::WrongServerPassword);
        }
        if !logged_in {
            let Some(nick) = session.wanted_nick.clone() else { return };
            // Named already when a cluster's claim of the nickname was granted.
            if client.nick != nick
                && let Err(rejection) = self.change_nick(&nick)
            {
                // The client must pick another nickname before it is welcome.
                if let Some(session) = self.world.irc_session(id) {
                    session.wanted_nick = None;
                }
                return self.world.reject(self.out, id, rejection);
            }
            // Welcomed once the other nodes grant the nickname (`cluster`).
            if self.world.config.cluster && self.world.clients.get(&id).is_some_and(|c| c.claim_pending.is_some()) {
                return;
            }
        }
        let world = &mut *self.world;
        let Some(client) = world.clients.get_mut(&id) else { return };
        let Some(session) = client.irc.as_deref_mut() else { return };
        session.registered = true;
        if !world.config.require_login && client.registration_deadline.take().is_some() {
            world.timers.rearm(id, client, &world.config);
        }
        world.visitors.register();
        self.irc_welcome();
        if logged_in {
            self.deliver_mailbox();
            self.follow_account();
            self.tell_unread();
        }
    }

    fn irc_welcome(&mut self) {
        let config = &self.world.config;
        let limits = ServerLimits {
            nick_len: config.max_nick_len,
            room_name_len: config.max_room_name_len,
            history_page_len: config.history_page_len,
            targets: MAX_TARGETS,
        };
        self.tell(Event::Irc(IrcAnswer::Welcome { limits }));
    }
}

impl World {
    /// The session of an IRC client.
    pub(crate) fn irc_session(&mut self, id: ClientId) -> Option<&mut IrcSession> {
        self.clients.get_mut(&id).and_then(|c| c.irc.as_deref_mut())
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
