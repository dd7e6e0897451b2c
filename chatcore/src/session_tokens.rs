//! Staying logged in: session tokens issued to a logged-in client
//! (`/token`, with random bytes the embedder draws), presented instead of
//! a password (`/resume`, SASL PLAIN), listed (`/sessions`) and revoked
//! (`/revoke`, `/logout-all`, a password change); and `/password`, which
//! checks the old password like a login and hashes the new one like a
//! registration. A token attempt is counted by the lockout rules exactly
//! as a password attempt is, and a resumed login ends in the same
//! `log_in` a password login does.

use crate::credentials::Password;
use crate::error::{Error, Rejection};
use crate::event::{Event, SessionEntry};
use crate::names::NameKey;
use crate::outbox::Outbox;
use crate::output::{ClientId, DisconnectReason, Output};
use crate::password_check::{AuthKind, PendingAuth};
use crate::record::Record;
use crate::source::SourceKey;
use crate::time::Now;
use crate::token::{TokenId, TokenSecret, looks_like_token};
use crate::turn::Turn;
use crate::world::{Token, World};

/// What a token that names no live token is counted against, per source:
/// no account has it, since `*` is in no nickname.
fn no_token_key() -> NameKey {
    NameKey::of("*token*")
}

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

impl Turn<'_> {
    /// The account the client is logged in to, with its name as registered.
    fn logged_in(&self) -> Result<(NameKey, Box<str>), Rejection> {
        let key = self.client().account.clone().ok_or(Rejection::LoginRequired)?;
        let name = self.world.accounts.get(&key).map(|a| a.name.clone()).ok_or(Rejection::LoginRequired)?;
        Ok((key, name))
    }

    /// `/token`: asks the embedder for random bytes; the token is issued
    /// when they come ([`World::token_secret`]).
    pub(crate) fn request_token(&mut self) -> Result<(), Rejection> {
        if self.world.config.session_token_days == 0 {
            return Err(Rejection::TokensDisabled);
        }
        let (_, name) = self.logged_in()?;
        if self.client().auth_pending.is_some() {
            return Err(Rejection::AuthInProgress);
        }
        let request = self.start_auth(&name, AuthKind::Token);
        self.out.push(Output::NewToken { request });
        Ok(())
    }

    /// `/resume TOKEN` (and SASL PLAIN with a token for its password): logs
    /// in to the token's account if the token is live. Anything else counts
    /// as a failed login, against the token's account if it names one.
    pub(crate) fn resume(&mut self, token: &Password) -> Result<(), Rejection> {
        self.check_auth_allowed()?;
        let (now, id) = (self.now, self.id);
        let world = &mut *self.world;
        let source = world.clients[&id].source.unwrap_or(SourceKey::UNKNOWN);
        let presented = TokenSecret::parse(token.expose());
        let found = presented.as_ref().and_then(|secret| Some((secret, world.tokens.get(secret.id())?.clone())));
        let key = found.as_ref().map_or_else(no_token_key, |(_, stored)| stored.account.clone());
        world.logins.may_try(&key, source, now)?;
        let known =
            world.accounts.get(&key).is_none_or(|a| source != SourceKey::UNKNOWN && a.known_sources.contains(&source));
        world.logins.account_throttle(&key, known, now, &world.config)?;
        let live = found.as_ref().is_some_and(|(secret, stored)| {
            secret.hash() == stored.hash && stored.expires_ms > now.unix_ms && world.accounts.contains_key(&key)
        });
        if !live {
            world.tokens.prune(&key, now.unix_ms);
            world.counts.login_failures += 1;
            let account = world.accounts.get(&key).map(|a| a.known_sources.contains(&source));
            return Err(match world.logins.count_failure(key, source, account, now, &world.config) {
                Rejection::LoginFailed { attempts_left } => Rejection::TokenRefused { attempts_left },
                other => other,
            });
        }
        world.logins.succeeded(&key, source);
        self.log_in(key);
        Ok(())
    }

    /// `/sessions`: the account's live tokens, oldest first.
    pub(crate) fn list_sessions(&mut self) -> Result<(), Rejection> {
        let (key, _) = self.logged_in()?;
        self.world.tokens.prune(&key, self.now.unix_ms);
        let tokens: Vec<SessionEntry> = (self.world.tokens.of(&key).into_iter())
            .map(|(id, t)| SessionEntry { id, created_ms: t.created_ms, expires_ms: t.expires_ms })
            .collect();
        self.tell(Event::Sessions { tokens: &tokens });
        Ok(())
    }

    /// `/revoke ID`: one of the account's tokens stops working.
    pub(crate) fn revoke_token(&mut self, id: &str) -> Result<(), Rejection> {
        let (key, name) = self.logged_in()?;
        self.world.tokens.prune(&key, self.now.unix_ms);
        let token = TokenId::parse(id)
            .filter(|&token| self.world.tokens.get(token).is_some_and(|t| t.account == key))
            .ok_or_else(|| Rejection::NoSuchToken(id.into()))?;
        self.world.tokens.remove(token);
        self.out.persist(Record::TokenRevoked { account: name, id: token });
        self.tell(Event::TokensRevoked { id: Some(token), count: 1 });
        Ok(())
    }

    /// `/logout-all`: every token of the account stops working, and the
    /// account's other connections (here and, through the record, on the
    /// cluster's other nodes) are closed; this one stays.
    pub(crate) fn logout_all(&mut self) -> Result<(), Rejection> {
        let (key, name) = self.logged_in()?;
        let count = self.world.tokens.remove_all(&key);
        self.out.persist(Record::TokensRevoked { account: name });
        self.tell(Event::TokensRevoked { id: None, count });
        self.world.log_out_sessions(self.out, self.now, &key, Some(self.id));
        Ok(())
    }

    /// `/password OLD NEW NEW`: the old password is checked like a login
    /// (and counted like one), then the new one is hashed.
    pub(crate) fn change_password(
        &mut self,
        old: Password,
        new: Password,
        confirm: &Password,
    ) -> Result<(), Rejection> {
        let (key, name) = self.logged_in()?;
        let client = self.client();
        if let Some(hint) = &client.refuse_passwords {
            return Err(Rejection::TlsRequired(hint.clone()));
        }
        if client.auth_pending.is_some() {
            return Err(Rejection::AuthInProgress);
        }
        let source = client.source.unwrap_or(SourceKey::UNKNOWN);
        let world = &*self.world;
        if new != *confirm {
            return Err(Rejection::PasswordMismatch);
        }
        if new.expose().len() < world.config.min_password_len {
            return Err(Rejection::PasswordTooShort { min: world.config.min_password_len });
        }
        if looks_like_token(new.expose()) {
            return Err(Rejection::PasswordLikeToken);
        }
        world.logins.may_try(&key, source, self.now)?;
        let account = &world.accounts[&key];
        let known = source != SourceKey::UNKNOWN && account.known_sources.contains(&source);
        world.logins.account_throttle(&key, known, self.now, &world.config)?;
        let hash = account.hash.clone();
        let request = self.start_auth(&name, AuthKind::ChangePassword);
        if let Some(pending) = self.world.logins.pending_mut(request) {
            pending.new_password = Some(new);
        }
        self.out.push(Output::VerifyPassword { request, password: old, hash: Some(hash) });
        Ok(())
    }
}

impl World {
    /// The answer to an [`Output::NewToken`]: the token is issued to the
    /// client that asked, if it is still logged in to the same account.
    /// Over `max_session_tokens`, the account's oldest is revoked.
    pub(crate) fn token_secret(
        &mut self,
        out: &mut Outbox,
        now: Now,
        request: crate::account::AuthRequestId,
        secret: TokenSecret,
    ) -> Result<(), Error> {
        let pending = self.finish_auth(out, request, AuthKind::Token)?;
        let (id, key) = (pending.client, NameKey::of(&pending.name));
        if self.clients.get(&id).and_then(|c| c.account.as_ref()) != Some(&key) {
            return Ok(());
        }
        if self.storage_failing {
            self.reject(out, id, Rejection::StorageUnavailable);
            return Ok(());
        }
        let token = secret.id();
        // Two draws that share their first 64 bits mean a broken random source.
        if self.tokens.get(token).is_some() {
            self.reject(out, id, Rejection::ServerBusy);
            return Ok(());
        }
        self.tokens.prune(&key, now.unix_ms);
        let live = self.tokens.of(&key);
        let over = (live.len() + 1).saturating_sub(self.config.max_session_tokens);
        let oldest: Vec<TokenId> = live.into_iter().take(over).map(|(id, _)| id).collect();
        for old in oldest {
            self.tokens.remove(old);
            out.persist(Record::TokenRevoked { account: pending.name.clone(), id: old });
        }
        let expires_ms = now.unix_ms.saturating_add(u64::from(self.config.session_token_days) * DAY_MS);
        let hash = secret.hash();
        out.persist(Record::TokenIssued {
            account: pending.name.clone(),
            id: token,
            hash: hash.clone(),
            created_ms: now.unix_ms,
            expires_ms,
        });
        self.tokens.insert(token, Token { account: key, hash, created_ms: now.unix_ms, expires_ms });
        self.tell(out, id, Event::TokenIssued { token: &secret.text(), id: token, expires_ms });
        Ok(())
    }

    /// The old password given to `/password` matched: the new one is
    /// hashed next, in the same request.
    pub(crate) fn old_password_verified(&mut self, out: &mut Outbox, now: Now, pending: PendingAuth, new: Password) {
        let id = pending.client;
        let key = NameKey::of(&pending.name);
        if self.clients.get(&id).and_then(|c| c.account.as_ref()) != Some(&key) {
            return;
        }
        let mut turn = Turn::new(self, out, now, id);
        let request = turn.start_auth(&pending.name, AuthKind::NewPassword);
        turn.out.push(Output::HashPassword { request, password: new });
    }

    /// `/password`'s new hash: stored, and every session token of the
    /// account revoked (which closes its other connections).
    pub(crate) fn new_password_hashed(
        &mut self,
        out: &mut Outbox,
        now: Now,
        pending: PendingAuth,
        hash: Option<crate::account::PasswordHash>,
    ) -> Result<(), Error> {
        let id = pending.client;
        let key = NameKey::of(&pending.name);
        if self.clients.get(&id).and_then(|c| c.account.as_ref()) != Some(&key) {
            return Ok(());
        }
        let Some(hash) = hash else {
            self.reject(out, id, Rejection::HashFailed);
            return Ok(());
        };
        if self.storage_failing {
            self.reject(out, id, Rejection::StorageUnavailable);
            return Ok(());
        }
        let Some(account) = self.accounts.get_mut(&key) else { return Ok(()) };
        account.hash = hash.clone();
        let name = account.name.clone();
        out.persist(Record::PasswordChanged { account: name.clone(), hash });
        self.tokens.remove_all(&key);
        out.persist(Record::TokensRevoked { account: name.clone() });
        self.tell(out, id, Event::PasswordChanged { name: &name });
        self.log_out_sessions(out, now, &key, Some(id));
        Ok(())
    }

    /// Closes every connection logged in to `account` but `keep`.
    pub(crate) fn log_out_sessions(&mut self, out: &mut Outbox, now: Now, account: &NameKey, keep: Option<ClientId>) {
        let others: Vec<ClientId> = self.sessions_of(account).iter().copied().filter(|&c| Some(c) != keep).collect();
        for other in others {
            self.close(out, now, other, DisconnectReason::LoggedOut);
        }
    }
}
