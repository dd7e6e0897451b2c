//! Registering and logging in. The engine decides; the embedder hashes and
//! verifies passwords (slow on purpose) off the engine's thread and answers
//! with [`Engine::handle_password_hashed`] or
//! [`Engine::handle_password_verified`].

use crate::account::{AuthRequestId, PasswordHash};
use crate::cloak::HIDDEN_HOST;
use crate::credentials::Password;
use crate::error::{Error, Rejection};
use crate::event::Event;
use crate::names::{NameKey, validate_chosen_nick};
use crate::outbox::Outbox;
use crate::output::{ClientId, Output};
use crate::password_check::{AuthKind, PendingAuth};
use crate::record::Record;
use crate::source::SourceKey;
use crate::time::Now;
use crate::turn::Turn;
use crate::world::{Account, ClaimFor, World};

impl World {
    /// The answer to an [`Output::HashPassword`]: the hash, or `None` if
    /// hashing failed (the client is told to try again). If the client left
    /// meanwhile, nothing is registered; if the store is failing
    /// ([`StorageStatus`](crate::StorageStatus)), the client is told so and
    /// nothing is registered.
    pub(crate) fn password_hashed(
        &mut self,
        out: &mut Outbox,
        now: Now,
        request: AuthRequestId,
        hash: Option<PasswordHash>,
    ) -> Result<(), Error> {
        // A new password (`/password`) is hashed like a registration's.
        let kind = self.logins.kind_of(request).filter(|&k| k == AuthKind::NewPassword).unwrap_or(AuthKind::Register);
        let pending = self.finish_auth(out, request, kind)?;
        if kind == AuthKind::NewPassword {
            return self.new_password_hashed(out, now, pending, hash);
        }
        let id = pending.client;
        if !self.clients.contains_key(&id) {
            return Ok(());
        }
        let Some(hash) = hash else {
            self.reject(out, id, Rejection::HashFailed);
            return Ok(());
        };
        // The store began failing while the hash was computed: an account
        // accepted now would be lost.
        if self.storage_failing {
            self.reject(out, id, Rejection::StorageUnavailable);
            return Ok(());
        }
        let key = NameKey::of(&pending.name);
        out.persist(Record::AccountCreated { name: pending.name.clone(), hash: hash.clone(), unix_ms: now.unix_ms });
        self.accounts.insert(key.clone(), Account::new(&pending.name, hash));
        let mut turn = Turn::new(self, out, now, id);
        turn.tell(Event::Registered { name: &pending.name });
        turn.log_in(key);
        Ok(())
    }

    /// The answer to an [`Output::VerifyPassword`]: whether the password
    /// matched. A mismatch counts towards the lockout even if the client
    /// has left meanwhile.
    pub(crate) fn password_verified(
        &mut self,
        out: &mut Outbox,
        now: Now,
        request: AuthRequestId,
        matches: bool,
    ) -> Result<(), Error> {
        if self.logins.pending(request).is_some_and(|pending| pending.kind == AuthKind::Oper) {
            return self.oper_verified(out, now, request, matches);
        }
        // `/password` checks the old password like a login.
        let kind = self.logins.kind_of(request).filter(|&k| k == AuthKind::ChangePassword).unwrap_or(AuthKind::Login);
        let mut pending = self.finish_auth(out, request, kind)?;
        let id = pending.client;
        let key = NameKey::of(&pending.name);
        let source = pending.source.unwrap_or(SourceKey::UNKNOWN);
        // Nothing matches a check made against no account, whatever the answer says.
        if !matches || pending.no_account {
            self.counts.login_failures += 1;
            let account = self.accounts.get(&key).map(|a| a.known_sources.contains(&source));
            let rejection = self.logins.count_failure(key, source, account, now, &self.config);
            if self.clients.contains_key(&id) {
                self.reject(out, id, rejection);
            }
            return Ok(());
        }
        self.logins.succeeded(&key, source);
        if let Some(new) = pending.new_password.take() {
            self.old_password_verified(out, now, pending, new);
            return Ok(());
        }
        if self.clients.contains_key(&id) && self.accounts.contains_key(&key) {
            Turn::new(self, out, now, id).log_in(key);
        }
        Ok(())
    }

    /// The embedder could not take a hash or verify request now: the
    /// client hears so, and nothing is counted against it or the account.
    pub(crate) fn password_busy(&mut self, out: &mut Outbox, request: AuthRequestId) -> Result<(), Error> {
        let pending = self.finish_auth(out, request, None)?;
        if pending.kind == AuthKind::Register {
            // The registration was never done, so it does not use up the source's allowance.
            self.logins.give_back_registration(pending.source.unwrap_or(SourceKey::UNKNOWN));
        }
        self.reject(out, pending.client, Rejection::ServerBusy);
        Ok(())
    }

    pub(crate) fn finish_auth(
        &mut self,
        out: &mut Outbox,
        request: AuthRequestId,
        kind: impl Into<Option<AuthKind>>,
    ) -> Result<PendingAuth, Error> {
        let kind = kind.into();
        let mut pending = self.logins.finish(request, kind).ok_or(Error::UnknownRequest(request))?;
        if let Some(client) = self.clients.get_mut(&pending.client) {
            client.auth_pending = None;
            // The answer names the request; the engine ends the reply.
            if let Some(tag) = pending.reply.take() {
                out.begin_reply(pending.client, tag);
            }
        }
        Ok(pending)
    }
}

impl Turn<'_> {
    /// Logs the client in to the account at `key`, once its name is this
    /// node's: in a cluster, a name no local client holds is claimed first.
    pub(crate) fn log_in(&mut self, key: NameKey) {
        if !self.world.config.cluster {
            return self.log_in_now(key);
        }
        let Some(name) = self.world.accounts.get(&key).map(|a| a.name.clone()) else { return };
        match self.world.claim_needed(&key, &name) {
            Ok(false) => self.log_in_now(key),
            Ok(true) => self.start_claim(&name, ClaimFor::Account(key)),
            Err(rejection) => self.world.reject(self.out, self.id, rejection),
        }
    }

    /// Logs the client in to the account: its first connection takes the
    /// name (a guest using it is renamed), a further one joins it as
    /// another device (see `devices.rs`), up to
    /// `Config::max_sessions_per_account`; offline whispers follow.
    pub(crate) fn log_in_now(&mut self, key: NameKey) {
        let (now, id) = (self.now, self.id);
        let devices: Vec<ClientId> = self.world.sessions_of(&key).iter().copied().filter(|&d| d != id).collect();
        let max = self.world.config.max_sessions_per_account;
        if devices.len() >= max {
            let account = self.world.accounts.get(&key).map_or_else(|| key.as_str().into(), |a| a.name.clone());
            return self.world.reject(self.out, id, Rejection::SessionLimit { account, max });
        }
        // A guest in rooms becoming another device of an account leaves
        // them as the guest: the account is shown once, by its name.
        if !devices.is_empty() {
            for room in self.client().rooms.clone() {
                self.exit(&room, None);
            }
        }
        if devices.is_empty()
            && let Some(holder) = self.world.names.holder(&key)
            && holder != id
        {
            if self.world.config.cluster {
                let guest = self.world.fresh_guest_name();
                let mut guest_turn = self.on(holder);
                guest_turn.rename(guest.clone(), true);
                if let Some(client) = guest_turn.world.clients.get_mut(&holder) {
                    client.name_pending = true;
                }
                let refusals = 0;
                guest_turn.start_claim(&guest, ClaimFor::Guest { welcomed: true, refusals });
            } else {
                let guest = self.world.names.fresh_guest_name(|_| false);
                self.on(holder).rename(guest, true);
            }
        }
        let (world, out) = (&mut *self.world, &mut *self.out);
        world.accounts.note_online(&key, now.unix_ms);
        let account = world.accounts.get_mut(&key).expect("caller checked the account");
        let source = world.clients.get(&id).and_then(|c| c.source);
        if let Some(source) = source
            && account.remember_source(source, world.config.max_known_sources)
        {
            out.persist(Record::KnownSource { account: account.name.clone(), source });
        }
        let name = account.name.clone();
        let kept = account.mailbox().len();
        out.persist(Record::LastSeen { account: name.clone(), unix_ms: now.unix_ms });
        let client = world.clients.get_mut(&id).expect("caller checked the client");
        client.account = Some(key.clone());
        world.sessions.add(&key, id);
        client.registration_deadline = None;
        // An IRC client that logs in with SASL before its welcome gets its
        // kept whispers after the welcome, when it can show them.
        let welcomed = client.irc.as_ref().is_none_or(|session| session.registered);
        world.timers.rearm(id, client, &world.config);
        if !devices.is_empty() {
            self.become_device(&name);
        } else if client.nick != name {
            let old = client.nick.clone();
            self.rename(name.clone(), false);
            self.world.release_if_unused(self.out, &old);
        }
        // Rooms it was in as a guest that the account waited in (always-on): it is there now.
        for room in self.client().rooms.clone() {
            self.world.clear_absent(&key, &room);
        }
        self.adopt_account_blocks(&key);
        self.tell(Event::LoggedIn { name: &name, offline: kept });
        if welcomed {
            self.deliver_mailbox();
            self.follow_account();
            self.tell_unread();
        }
    }

    /// Hands a logged-in client the whispers its account kept while it was
    /// away, and empties the mailbox; the account's other welcomed
    /// connections get them too.
    pub(crate) fn deliver_mailbox(&mut self) {
        let world = &mut *self.world;
        let Some(key) = world.clients.get(&self.id).and_then(|c| c.account.clone()) else { return };
        let Some(account) = world.accounts.get(&key) else { return };
        if account.mailbox().is_empty() {
            return;
        }
        let name = account.name.clone();
        let devices: Vec<ClientId> = world
            .sessions_of(&key)
            .iter()
            .copied()
            .filter(|&d| {
                d == self.id
                    || world.clients.get(&d).is_some_and(|c| c.irc.as_ref().is_none_or(|session| session.registered))
            })
            .collect();
        let mailbox = world.accounts.take_mailbox(&key);
        self.out.persist(Record::OfflineDelivered { to: name.clone() });
        for kept in &mailbox {
            let event = Event::Whisper {
                from: &kept.from,
                // A kept whisper's sender may be long gone.
                host: HIDDEN_HOST,
                to: &name,
                text: &kept.text,
                unix_ms: kept.unix_ms,
                echo: false,
                offline: true,
                seq: kept.seq,
            };
            for &device in &devices {
                self.world.tell(self.out, device, event);
            }
        }
    }

    /// Refuses a password command while the client may not send one: its
    /// port refuses passwords, a check of its is under way, or it is
    /// logged in.
    pub(crate) fn check_auth_allowed(&self) -> Result<(), Rejection> {
        let client = self.client();
        if let Some(hint) = &client.refuse_passwords {
            return Err(Rejection::TlsRequired(hint.clone()));
        }
        if client.auth_pending.is_some() {
            return Err(Rejection::AuthInProgress);
        }
        if let Some(account) = self.world.account_of(self.id) {
            return Err(Rejection::AlreadyLoggedIn(account.into()));
        }
        debug_assert!(client.account.is_none());
        Ok(())
    }

    /// Files a password check of `kind` for `name`, whose answer will
    /// finish the client's request.
    pub(crate) fn start_auth(&mut self, name: &str, kind: AuthKind) -> AuthRequestId {
        let id = self.id;
        let reply = self.out.defer_reply(id);
        let client = self.world.clients.get_mut(&id).expect("caller checked the client");
        let pending = PendingAuth {
            client: id,
            source: client.source,
            name: name.into(),
            kind,
            no_account: false,
            reply,
            new_password: None,
        };
        let request = self.world.logins.start(pending);
        client.auth_pending = Some(request);
        request
    }

    pub(crate) fn register(&mut self, name: &str, password: Password, confirm: &Password) -> Result<(), Rejection> {
        self.check_auth_allowed()?;
        let world = &mut *self.world;
        let (now, id) = (self.now, self.id);
        validate_chosen_nick(name, world.config.max_nick_len, &world.config.server_name)
            .map_err(Rejection::NickInvalid)?;
        if password != *confirm {
            return Err(Rejection::PasswordMismatch);
        }
        if password.expose().len() < world.config.min_password_len {
            return Err(Rejection::PasswordTooShort { min: world.config.min_password_len });
        }
        if crate::token::looks_like_token(password.expose()) {
            return Err(Rejection::PasswordLikeToken);
        }
        let key = NameKey::of(name);
        if let Some(account) = world.accounts.get(&key) {
            return Err(Rejection::AccountExists(account.name.clone()));
        }
        if world.logins.registering(&key) {
            return Err(Rejection::AccountExists(name.into()));
        }
        // Registrations still being hashed will each create an account too.
        let registering = world.logins.registrations_under_way();
        if world.accounts.len() + registering >= world.config.max_accounts {
            return Err(Rejection::AccountLimit { max: world.config.max_accounts });
        }
        let source = world.clients[&id].source;
        world.logins.take_registration(source.unwrap_or(SourceKey::UNKNOWN), now, &world.config)?;
        let request = self.start_auth(name, AuthKind::Register);
        self.out.push(Output::HashPassword { request, password });
        Ok(())
    }

    pub(crate) fn login(&mut self, name: &str, password: Password) -> Result<(), Rejection> {
        self.check_auth_allowed()?;
        let world = &mut *self.world;
        let (now, id) = (self.now, self.id);
        let key = NameKey::of(name);
        let source = world.clients[&id].source.unwrap_or(SourceKey::UNKNOWN);
        world.logins.may_try(&key, source, now)?;
        // Its owner, on a known source, is never throttled.
        let known =
            world.accounts.get(&key).is_none_or(|a| source != SourceKey::UNKNOWN && a.known_sources.contains(&source));
        world.logins.account_throttle(&key, known, now, &world.config)?;
        // A name without an account is checked too (against no hash, which
        // the embedder answers after the same work as a real check), so
        // that the answer and its timing are those of a wrong password.
        let hash = world.accounts.get(&key).map(|account| account.hash.clone());
        let request = self.start_auth(name, AuthKind::Login);
        if hash.is_none()
            && let Some(pending) = self.world.logins.pending_mut(request)
        {
            pending.no_account = true;
        }
        self.out.push(Output::VerifyPassword { request, password, hash });
        Ok(())
    }
}
