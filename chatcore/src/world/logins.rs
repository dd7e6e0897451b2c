//! Password checks under way and the counters that slow guessing: failed
//! logins per name and source, failed logins per account from every
//! source together, and registrations per source. The rules that read
//! them (a lockout, the throttle on an account under attack, one check at
//! a time per name and source) are here, beside the counts.

use std::collections::BTreeMap;

use crate::Config;
use crate::account::AuthRequestId;
use crate::error::Rejection;
use crate::lockout::{AccountFailures, LoginFailures, Registrations};
use crate::names::NameKey;
use crate::password_check::{AuthKind, PendingAuth};
use crate::source::SourceKey;
use crate::time::{Now, secs_until};

/// Checks under way, and what failed or was spent lately.
#[derive(Debug)]
pub(crate) struct Logins {
    pending: BTreeMap<AuthRequestId, PendingAuth>,
    /// The number the next check gets.
    next_request: u64,
    /// Failed logins per name and source.
    source_failures: LoginFailures,
    /// Failed logins per account, from every source together.
    account_failures: AccountFailures,
    registrations: Registrations,
}

impl Default for Logins {
    fn default() -> Self {
        Self {
            pending: BTreeMap::new(),
            next_request: 1,
            source_failures: LoginFailures::default(),
            account_failures: AccountFailures::default(),
            registrations: Registrations::default(),
        }
    }
}

impl Logins {
    /// Files a check under way, numbered afresh.
    pub(crate) fn start(&mut self, pending: PendingAuth) -> AuthRequestId {
        let request = AuthRequestId(self.next_request);
        self.next_request += 1;
        self.pending.insert(request, pending);
        request
    }

    pub(crate) fn pending(&self, request: AuthRequestId) -> Option<&PendingAuth> {
        self.pending.get(&request)
    }

    /// Which check `request` is, if it is under way.
    pub(crate) fn kind_of(&self, request: AuthRequestId) -> Option<AuthKind> {
        self.pending.get(&request).map(|p| p.kind)
    }

    pub(crate) fn pending_mut(&mut self, request: AuthRequestId) -> Option<&mut PendingAuth> {
        self.pending.get_mut(&request)
    }

    /// Takes the check `request` off file, if it is under way and of `kind` (any, if `None`).
    pub(crate) fn finish(&mut self, request: AuthRequestId, kind: Option<AuthKind>) -> Option<PendingAuth> {
        let pending = self.pending.get(&request)?;
        if kind.is_some_and(|kind| pending.kind != kind) {
            return None;
        }
        self.pending.remove(&request)
    }

    /// Whether a registration of the name `key` is being hashed.
    pub(crate) fn registering(&self, key: &NameKey) -> bool {
        self.pending.values().any(|p| p.kind == AuthKind::Register && NameKey::of(&p.name) == *key)
    }

    /// Registrations being hashed, each of which will create an account.
    pub(crate) fn registrations_under_way(&self) -> usize {
        self.pending.values().filter(|p| p.kind == AuthKind::Register).count()
    }

    /// Counts a registration against `source`, or refuses it while the
    /// source has used up its allowance.
    pub(crate) fn take_registration(&mut self, source: SourceKey, now: Now, config: &Config) -> Result<(), Rejection> {
        let (cap, max, window) =
            (config.max_tracked_sources, config.max_registrations_per_source, config.registration_window);
        self.registrations
            .take(&source, now.instant, cap, max, window)
            .map_err(|until| Rejection::TooManyRegistrations { retry_after_secs: secs_until(now.instant, until) })
    }

    /// A registration that was never done does not use up the source's allowance.
    pub(crate) fn give_back_registration(&mut self, source: SourceKey) {
        self.registrations.give_back(&source);
    }

    /// Whether a login to `key` from `source` may be checked now: not while
    /// the pair is locked out, and one at a time, since parallel attempts
    /// would slip past the failure count while their checks are in flight.
    pub(crate) fn may_try(&self, key: &NameKey, source: SourceKey, now: Now) -> Result<(), Rejection> {
        if let Some(until) = self.source_failures.locked_until(&(key.clone(), source), now.instant) {
            return Err(Rejection::LockedOut { retry_after_secs: secs_until(now.instant, until) });
        }
        let in_flight = self.pending.values().any(|p| {
            p.kind.checks_password() && p.source.unwrap_or(SourceKey::UNKNOWN) == source && NameKey::of(&p.name) == *key
        });
        if in_flight {
            return Err(Rejection::AuthInProgress);
        }
        Ok(())
    }

    /// Guessing spread over many sources: once an account has had
    /// `max_account_failures` failed logins (counting checks still in
    /// flight) within the window, it refuses sources it has never logged in
    /// from (`known` false) until `account_block_duration` has passed.
    pub(crate) fn account_throttle(
        &self,
        key: &NameKey,
        known: bool,
        now: Now,
        config: &Config,
    ) -> Result<(), Rejection> {
        if known {
            return Ok(());
        }
        if let Some(until) = self.account_failures.locked_until(key, now.instant) {
            return Err(Rejection::LockedOut { retry_after_secs: secs_until(now.instant, until) });
        }
        let in_flight =
            self.pending.values().filter(|p| p.kind.checks_password() && NameKey::of(&p.name) == *key).count();
        // Checks in flight could each fail: while they could reach the
        // limit, more wait (not a lockout: they may all succeed).
        let failures = self.account_failures.window(key, now.instant).map_or(0, |(count, _)| count as usize);
        if failures + in_flight >= config.max_account_failures as usize {
            return Err(Rejection::AccountBusy);
        }
        Ok(())
    }

    /// Counts a failed login, against its source and, if `key` is an
    /// account (`known`: whether it knows the source), against the
    /// account, and says what to tell the client: the stricter of the
    /// two, except that a source the account knows only answers to its
    /// own count.
    pub(crate) fn count_failure(
        &mut self,
        key: NameKey,
        source: SourceKey,
        account: Option<bool>,
        now: Now,
        config: &Config,
    ) -> Rejection {
        let account_lock = account.and_then(|known| {
            let counted = self.account_failures.record(
                &key,
                now.instant,
                config.max_accounts,
                config.max_account_failures,
                config.login_failure_window,
                config.account_block_duration,
            );
            let until = counted.err().or_else(|| self.account_failures.locked_until(&key, now.instant));
            until.filter(|_| !known)
        });
        let source_count = self.source_failures.record(
            &(key, source),
            now.instant,
            config.max_tracked_sources,
            config.max_login_failures,
            config.login_failure_window,
            config.block_duration,
        );
        match (source_count, account_lock) {
            (Err(until), Some(other)) => {
                Rejection::LockedOut { retry_after_secs: secs_until(now.instant, until.max(other)) }
            }
            (Err(until), None) | (Ok(_), Some(until)) => {
                Rejection::LockedOut { retry_after_secs: secs_until(now.instant, until) }
            }
            (Ok(attempts_left), None) => Rejection::LoginFailed { attempts_left },
        }
    }

    /// A login from `source` succeeded: its failures are forgiven.
    pub(crate) fn succeeded(&mut self, key: &NameKey, source: SourceKey) {
        self.source_failures.forget(&(key.clone(), source));
    }

    /// The counters' own bound: at most `max_tracked_sources` sources each.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn check(&self, config: &Config) -> Result<(), crate::invariant_violation::InvariantViolation> {
        let sources = self.source_failures.len().max(self.registrations.len());
        if sources > config.max_tracked_sources.max(1) {
            return Err(crate::invariant_violation::InvariantViolation::TooManySources {
                count: sources,
                max: config.max_tracked_sources,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::ClientId;

    fn login(name: &str) -> PendingAuth {
        let source = Some(SourceKey::UNKNOWN);
        PendingAuth {
            client: ClientId(1),
            source,
            name: name.into(),
            kind: AuthKind::Login,
            no_account: false,
            reply: None,
            new_password: None,
        }
    }

    #[test]
    fn one_check_at_a_time_per_name_and_source_and_only_the_right_answer_ends_it() {
        let mut logins = Logins::default();
        let now = Now::new(std::time::Instant::now(), 0);
        let alice = NameKey::of("alice");
        let request = logins.start(login("Alice"));
        assert_eq!(logins.may_try(&alice, SourceKey::UNKNOWN, now), Err(Rejection::AuthInProgress));
        assert_eq!(logins.may_try(&NameKey::of("bob"), SourceKey::UNKNOWN, now), Ok(()));
        assert!(logins.finish(request, Some(AuthKind::Register)).is_none(), "a hash does not answer a login");
        assert!(logins.finish(request, Some(AuthKind::Login)).is_some());
        assert!(logins.finish(request, None).is_none(), "answered once");
        assert_eq!(logins.may_try(&alice, SourceKey::UNKNOWN, now), Ok(()));
    }
}
