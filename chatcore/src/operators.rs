//! Server operators' commands: `/broadcast` (IRC `WALLOPS`, `NOTICE $*`)
//! to every user online, `/kill` a connection, and IRC's `OPER`. Who is an
//! operator is `World::operators` (the config's names and the store's
//! grants); dropping any room is in `lifecycle.rs`, INFO's extra lines in
//! `irc/`. Each action done is reported to the embedder as an
//! [`Output::OperatorAction`], for its log. In a cluster a broadcast goes
//! to the other nodes too ([`ClusterRequest::Broadcast`]).

use crate::account::AuthRequestId;
use crate::cluster::{ClusterRequest, RemoteBroadcast};
use crate::credentials::Password;
use crate::error::{Error, Rejection};
use crate::event::{Event, IrcAnswer};
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::{DisconnectReason, OperatorAction, OperatorActionKind, Output};
use crate::password_check::AuthKind;
use crate::source::SourceKey;
use crate::time::Now;
use crate::turn::Turn;
use crate::world::{World, unsafe_text};

impl World {
    /// Another node's operator's broadcast: to every user here, as a
    /// local one (its text was checked there; checked again, as this node
    /// writes it).
    pub(crate) fn remote_broadcast(&mut self, out: &mut Outbox, broadcast: &RemoteBroadcast) {
        let RemoteBroadcast { from, host, text, unix_ms } = broadcast;
        if unsafe_text(text).is_some() {
            return;
        }
        let event = Event::Broadcast { from, host, text, unix_ms: *unix_ms };
        out.fanout(self.clients.everyone(), &event);
    }

    /// Reports what the operator `client` did, for the embedder's log.
    pub(crate) fn operator_did(&self, out: &mut Outbox, client: crate::ClientId, action: OperatorActionKind) {
        let account = self.account_of(client).unwrap_or_default().into();
        out.push(Output::OperatorAction(Box::new(OperatorAction { client, account, action })));
    }

    /// The answer to the password check of an IRC `OPER`: 381 and `+o`,
    /// or 464. A wrong password counts towards the account's lockout as
    /// a failed login does.
    pub(crate) fn oper_verified(
        &mut self,
        out: &mut Outbox,
        now: Now,
        request: AuthRequestId,
        matches: bool,
    ) -> Result<(), Error> {
        let pending = self.finish_auth(out, request, AuthKind::Oper)?;
        let (id, key) = (pending.client, NameKey::of(&pending.name));
        let source = pending.source.unwrap_or(SourceKey::UNKNOWN);
        if !matches {
            self.counts.login_failures += 1;
            let known = self.accounts.get(&key).map(|a| a.known_sources.contains(&source));
            // The lockout counts it; OPER's own numeric says what happened.
            let _ = self.logins.count_failure(key, source, known, now, &self.config);
            if self.clients.contains_key(&id) {
                self.reject(out, id, Rejection::OperPasswordMismatch);
            }
            return Ok(());
        }
        self.logins.succeeded(&key, source);
        // Still logged in to the operator account it named?
        let still = self.clients.get(&id).and_then(|c| c.account.as_ref()) == Some(&key);
        if still && self.is_server_operator(id) {
            self.tell(out, id, Event::Irc(IrcAnswer::YoureOper));
            self.operator_did(out, id, OperatorActionKind::Oper);
        } else if self.clients.contains_key(&id) {
            self.reject(out, id, Rejection::NoOperHost);
        }
        Ok(())
    }
}

impl Turn<'_> {
    /// Refuses a client that is not a server operator.
    fn require_operator(&self) -> Result<(), Rejection> {
        if self.world.is_server_operator(self.id) { Ok(()) } else { Err(Rejection::NotServerOperator) }
    }

    /// `/broadcast TEXT`: to every user online, whatever room they are in,
    /// rendered once per wire (the sender gets it too), within the
    /// operator's allowance per minute.
    pub(crate) fn broadcast(&mut self, text: &str) -> Result<(), Rejection> {
        self.require_operator()?;
        if let Some(rejection) = unsafe_text(text) {
            return Err(rejection);
        }
        let world = &mut *self.world;
        let key = world.clients[&self.id].account.clone().expect("an operator is logged in");
        world.operators.take_broadcast(&key, self.now.instant, world.config.operator_broadcasts_per_minute)?;
        let world = &*self.world;
        let client = &world.clients[&self.id];
        let event = Event::Broadcast { from: &client.nick, host: &client.host, text, unix_ms: self.now.unix_ms };
        self.out.fanout(world.clients.everyone(), &event);
        if world.config.cluster {
            let (from, host, unix_ms) = (client.nick.clone(), client.host.clone(), self.now.unix_ms);
            let broadcast = RemoteBroadcast { from, host, text: text.into(), unix_ms };
            self.out.push(Output::Cluster(ClusterRequest::Broadcast(Box::new(broadcast))));
        }
        world.operator_did(self.out, self.id, OperatorActionKind::Broadcast { text: text.into() });
        Ok(())
    }

    /// `/kill NICK [REASON]`: closes that user's connection (on this
    /// node; another node's user is not found). Its roommates see it
    /// leave, with who did it and why.
    pub(crate) fn kill(&mut self, nick: &str, reason: Option<&str>) -> Result<(), Rejection> {
        self.require_operator()?;
        // The reason is shown to the user and its roommates.
        if let Some(rejection) = reason.and_then(unsafe_text) {
            return Err(rejection);
        }
        let target = self.world.names.holder(&NameKey::of(nick)).ok_or_else(|| Rejection::NoSuchNick(nick.into()))?;
        let Some(victim) = self.world.clients.get(&target) else {
            return Err(Rejection::NoSuchNick(nick.into()));
        };
        let killed = victim.nick.clone();
        let by = self.client().nick.clone();
        let reason: Option<Box<str>> = reason.map(Into::into);
        self.world.operator_did(
            self.out,
            self.id,
            OperatorActionKind::Kill { nick: killed.clone(), reason: reason.clone() },
        );
        self.tell(Event::Killed { nick: &killed });
        // NICK is a user, who may be on several connections (devices): each
        // is closed, the one holding the name last, so that the room hears
        // of one disconnect, with the operator's reason. Closing only the
        // name's holder left the account's other devices chatting on.
        let mut devices = self.world.other_devices(target);
        devices.push(target);
        for device in devices {
            let why = DisconnectReason::Killed { by: by.clone(), reason: reason.clone() };
            self.world.close(self.out, self.now, device, why);
        }
        Ok(())
    }

    /// IRC's `OPER <name> <password>`: accepted for a client logged in to
    /// the operator account `name`, once its password is checked again
    /// (as a login is, counted by the lockout). Operator status comes
    /// with the login itself; OPER confirms it, as IRC clients expect.
    pub(crate) fn irc_oper(&mut self, name: &str, password: Password) -> Result<(), Rejection> {
        let client = self.client();
        let key = client.account.clone().filter(|key| *key == NameKey::of(name));
        let Some(key) = key.filter(|_| self.world.is_server_operator(self.id)) else {
            return Err(Rejection::NoOperHost);
        };
        if client.auth_pending.is_some() {
            return Err(Rejection::AuthInProgress);
        }
        let source = client.source.unwrap_or(SourceKey::UNKNOWN);
        self.world.logins.may_try(&key, source, self.now)?;
        let Some(hash) = self.world.accounts.get(&key).map(|a| a.hash.clone()) else {
            return Err(Rejection::NoOperHost);
        };
        let request = self.start_auth(name, AuthKind::Oper);
        self.out.push(Output::VerifyPassword { request, password, hash: Some(hash) });
        Ok(())
    }
}
