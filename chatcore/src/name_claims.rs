//! Names across nodes: when a local client's new name must first be
//! claimed from the other nodes, what each answer finishes, and when a
//! name is released. A client's lines wait while its claim is under way.

use crate::cluster::{ClaimAnswer, ClaimId, ClusterRequest, MAX_GUEST_ATTEMPTS};
use crate::command::Verb;
use crate::error::{Error, Rejection};
use crate::framer::Frame;
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::{ClientId, DisconnectReason, Output};
use crate::time::Now;
use crate::turn::Turn;
use crate::world::{ClaimFor, PendingClaim, World};

impl World {
    /// Whether `name` (`key`) must be claimed from the other nodes before a
    /// local client takes it: not on a single node, nor while a local
    /// client holds it (the node has it already). Refused at once while
    /// another local client's claim of it is under way or a remote user
    /// holds it.
    pub(crate) fn claim_needed(&self, key: &NameKey, name: &str) -> Result<bool, Rejection> {
        if !self.config.cluster || self.names.holder(key).is_some() {
            return Ok(false);
        }
        if self.claims.claimant(key).is_some() {
            return Err(Rejection::NickTaken(name.into()));
        }
        if let Some(user) = self.remote.get(key) {
            return Err(Rejection::NickTaken(user.nick.clone()));
        }
        Ok(true)
    }

    /// The node stopped using `name` in one place: if nothing local uses it
    /// any more, the other nodes may have it.
    pub(crate) fn release_if_unused(&self, out: &mut Outbox, name: &str) {
        if !self.config.cluster {
            return;
        }
        let key = NameKey::of(name);
        if self.names.holder(&key).is_some() || self.claims.claimant(&key).is_some() {
            return;
        }
        out.push(Output::Cluster(ClusterRequest::ReleaseName { name: name.into() }));
    }

    /// The answer to a [`ClusterRequest::ClaimName`]: finishes what the
    /// claim was for, then acts on the lines that waited for it.
    pub(crate) fn name_claimed(
        &mut self,
        out: &mut Outbox,
        now: Now,
        claim: ClaimId,
        answer: ClaimAnswer,
    ) -> Result<(), Error> {
        let pending = self.claims.finish(claim).ok_or(Error::UnknownClaim(claim))?;
        let id = pending.client;
        let granted = answer == ClaimAnswer::Granted;
        // Left meanwhile (or claiming afresh, after an account took its name back).
        let Some(client) = self.clients.get_mut(&id).filter(|c| c.claim_pending == Some(claim)) else {
            if granted {
                self.release_if_unused(out, &pending.name);
            }
            return Ok(());
        };
        client.claim_pending = None;
        if let Some(tag) = pending.reply {
            out.begin_reply(id, tag);
        }
        Turn::new(self, out, now, id).claim_answered(pending.name, pending.purpose, granted);
        out.end_reply(true);
        self.replay_held(out, now, id);
        Ok(())
    }

    /// A new client's guest name, claimed: it is greeted once granted.
    pub(crate) fn claim_first_name(&mut self, out: &mut Outbox, now: Now, id: ClientId, name: &str) {
        Turn::new(self, out, now, id).start_claim(name, ClaimFor::Guest { welcomed: false, refusals: 0 });
    }

    /// A line from a client whose claim is under way: it waits, unless
    /// `flood_burst` lines wait already, when it is refused as a flood.
    /// Whether it was held.
    pub(crate) fn hold_if_claiming(&mut self, out: &mut Outbox, now: Now, id: ClientId, frame: &Frame<'_>) -> bool {
        let Some(client) = self.clients.get_mut(&id).filter(|c| c.claim_pending.is_some()) else {
            return false;
        };
        client.last_activity = now.instant;
        if client.held.len() >= (self.config.flood_burst as usize).max(1) {
            self.reject(out, id, Rejection::Flood);
            return true;
        }
        client.held.push_back(match frame {
            Frame::Line(line) => Some(Box::from(*line)),
            Frame::Overlong => None,
        });
        true
    }

    /// Acts on the lines that waited for a claim, in order, until one
    /// starts another claim (the rest wait again) or the client is gone.
    fn replay_held(&mut self, out: &mut Outbox, now: Now, id: ClientId) {
        loop {
            let Some(client) = self.clients.get_mut(&id).filter(|c| c.claim_pending.is_none()) else { return };
            let Some(frame) = client.held.pop_front() else { return };
            match &frame {
                Some(line) => self.handle_frame(out, now, id, Frame::Line(line)),
                None => self.handle_frame(out, now, id, Frame::Overlong),
            }
        }
    }
}

impl Turn<'_> {
    /// Claims `name` for the client, for `purpose`: its lines wait until
    /// the answer, which the request's tag, if any, goes with.
    pub(crate) fn start_claim(&mut self, name: &str, purpose: ClaimFor) {
        let id = self.id;
        let reply = self.out.defer_reply(id);
        let claim = self.world.claims.start(PendingClaim { client: id, name: name.into(), purpose, reply });
        if let Some(client) = self.world.clients.get_mut(&id) {
            client.claim_pending = Some(claim);
        }
        self.out.push(Output::Cluster(ClusterRequest::ClaimName { claim, name: name.into() }));
    }

    /// Finishes what a claim of `name` was for, now answered.
    fn claim_answered(&mut self, name: Box<str>, purpose: ClaimFor, granted: bool) {
        let id = self.id;
        match purpose {
            ClaimFor::Guest { welcomed, .. } if granted => {
                if let Some(client) = self.world.clients.get_mut(&id) {
                    client.name_pending = false;
                }
                if !welcomed && let Some(client) = self.world.clients.get(&id) {
                    self.world.greet(self.out, id, client);
                }
            }
            ClaimFor::Guest { welcomed, refusals } => {
                let refusals = refusals + 1;
                if refusals >= MAX_GUEST_ATTEMPTS {
                    return self.world.close(self.out, self.now, id, DisconnectReason::NameUnavailable);
                }
                self.world.names.skip_guests_after_refusal();
                let guest = self.world.fresh_guest_name();
                if welcomed {
                    self.rename(guest.clone(), true);
                } else {
                    self.world.rename_unseen(id, guest.clone());
                }
                self.start_claim(&guest, ClaimFor::Guest { welcomed, refusals });
            }
            ClaimFor::Nick if granted => {
                // Logged in meanwhile (SASL's answer came first): named after its account now.
                if self.client().account.is_some() {
                    return self.world.release_if_unused(self.out, &name);
                }
                let old = self.client().nick.clone();
                self.rename(name, false);
                self.world.release_if_unused(self.out, &old);
                if self.client().irc.as_ref().is_some_and(|session| !session.registered) {
                    self.irc_try_register();
                }
            }
            ClaimFor::Nick => {
                let rejection = Rejection::NickTaken(name);
                match self.world.irc_session(id).filter(|session| !session.registered) {
                    // The client must pick another nickname before it is welcome.
                    Some(session) => {
                        session.wanted_nick = None;
                        self.world.reject(self.out, id, rejection);
                    }
                    None => self.world.reject_command(self.out, id, Some(Verb::Nick), rejection),
                }
            }
            ClaimFor::Account(key) if granted => {
                if self.client().account.is_none() && self.world.accounts.get(&key).is_some() {
                    self.log_in_now(key);
                } else {
                    self.world.release_if_unused(self.out, &name);
                }
            }
            ClaimFor::Account(_) => self.world.reject(self.out, id, Rejection::NickTaken(name)),
        }
    }
}

impl World {
    /// A `Guest<N>` name that no local client, claim under way or remote
    /// user holds.
    pub(crate) fn fresh_guest_name(&mut self) -> Box<str> {
        let (claims, remote) = (&self.claims, &self.remote);
        self.names.fresh_guest_name(|key| claims.claimant(key).is_some() || remote.holds(key))
    }

    /// Renames a client nobody has seen named yet (a guest whose first name
    /// another node held): no one is told.
    fn rename_unseen(&mut self, id: ClientId, nick: Box<str>) {
        let Some(client) = self.clients.get_mut(&id) else { return };
        let key = NameKey::of(&nick);
        let old = std::mem::replace(&mut client.nick_key, key.clone());
        client.nick = nick;
        self.names.rename(id, &old, key);
    }
}
