//! Server operators: the accounts `Config::operators` names and those
//! granted in the store (`Record::OperatorGranted`), and how many
//! broadcasts each has sent in its current minute. A client is an
//! operator while it is logged in to one of these accounts; nothing is
//! kept per connection, so logging out (or in elsewhere) needs no upkeep.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::error::Rejection;
use crate::names::NameKey;

/// How long one allowance of broadcasts lasts.
const BROADCAST_WINDOW: Duration = Duration::from_secs(60);

/// The operator accounts and their broadcast allowances.
#[derive(Debug, Default)]
pub(crate) struct Operators {
    /// From `Config::operators`, folded once so a check is one lookup.
    configured: BTreeSet<NameKey>,
    /// Granted in the store, restored from records.
    granted: BTreeSet<NameKey>,
    /// Each operator's current minute: when it began and the broadcasts
    /// sent in it. At most one entry per operator account.
    broadcasts: BTreeMap<NameKey, (Instant, u32)>,
}

impl Operators {
    /// The operators a config names.
    pub(crate) fn new(configured: &[String]) -> Self {
        Self { configured: configured.iter().map(|name| NameKey::of(name)).collect(), ..Self::default() }
    }

    /// Whether the account is an operator, by the config or a grant.
    pub(crate) fn contains(&self, account: &NameKey) -> bool {
        self.configured.contains(account) || self.granted.contains(account)
    }

    /// A grant restored from the store (or another node's).
    pub(crate) fn grant(&mut self, account: NameKey) {
        self.granted.insert(account);
    }

    /// A grant taken back; the config's operators stay.
    pub(crate) fn revoke(&mut self, account: &NameKey) {
        self.granted.remove(account);
        if !self.configured.contains(account) {
            self.broadcasts.remove(account);
        }
    }

    /// Operator accounts, by the config and by grants (each once).
    pub(crate) fn len(&self) -> usize {
        self.configured.len() + self.granted.difference(&self.configured).count()
    }

    /// Takes one broadcast from the account's allowance of `per_minute`,
    /// or refuses it while the minute's allowance is spent.
    pub(crate) fn take_broadcast(&mut self, account: &NameKey, now: Instant, per_minute: u32) -> Result<(), Rejection> {
        let entry = self.broadcasts.entry(account.clone()).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= BROADCAST_WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= per_minute {
            let wait = BROADCAST_WINDOW.saturating_sub(now.saturating_duration_since(entry.0));
            return Err(Rejection::BroadcastLimit { per_minute, retry_secs: wait.as_secs().max(1) });
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_and_granted_accounts_are_operators_until_a_grant_is_revoked() {
        let mut operators = Operators::new(&["Alice".to_owned()]);
        assert!(operators.contains(&NameKey::of("alice")));
        assert!(!operators.contains(&NameKey::of("bob")));
        operators.grant(NameKey::of("BOB"));
        assert!(operators.contains(&NameKey::of("bob")));
        assert_eq!(operators.len(), 2);
        operators.revoke(&NameKey::of("bob"));
        operators.revoke(&NameKey::of("alice"));
        assert!(!operators.contains(&NameKey::of("bob")));
        assert!(operators.contains(&NameKey::of("alice")), "a revocation does not override the config");
    }

    #[test]
    fn the_allowance_comes_back_after_a_minute() {
        let mut operators = Operators::new(&["alice".to_owned()]);
        let (alice, start) = (NameKey::of("alice"), Instant::now());
        assert!(operators.take_broadcast(&alice, start, 2).is_ok());
        assert!(operators.take_broadcast(&alice, start, 2).is_ok());
        let refused = operators.take_broadcast(&alice, start + Duration::from_secs(59), 2);
        assert!(matches!(refused, Err(Rejection::BroadcastLimit { per_minute: 2, retry_secs: 1 })), "{refused:?}");
        assert!(operators.take_broadcast(&alice, start + BROADCAST_WINDOW, 2).is_ok());
    }
}
