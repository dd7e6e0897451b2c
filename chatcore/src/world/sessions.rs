//! The connections logged in to each account, oldest first: what reaches
//! "the account" (its whispers, its read markers, its own messages sent
//! from another device) reaches each of them, found without walking every
//! client.

use std::collections::BTreeMap;

use crate::names::NameKey;
use crate::output::ClientId;

/// Each account's live connections, in the order they logged in. An
/// account with none has no entry, so the table's size follows the
/// clients logged in, not the accounts registered.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    by_account: BTreeMap<NameKey, Vec<ClientId>>,
}

impl Sessions {
    /// Notes that `id` logged in to `account`.
    pub(crate) fn add(&mut self, account: &NameKey, id: ClientId) {
        let ids = self.by_account.entry(account.clone()).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    /// Notes that `id` is no longer logged in to `account`.
    pub(crate) fn remove(&mut self, account: &NameKey, id: ClientId) {
        if let Some(ids) = self.by_account.get_mut(account) {
            ids.retain(|&s| s != id);
            if ids.is_empty() {
                self.by_account.remove(account);
            }
        }
    }

    /// The connections logged in to `account`, oldest first.
    pub(crate) fn of(&self, account: &NameKey) -> &[ClientId] {
        self.by_account.get(account).map_or(&[], Vec::as_slice)
    }

    /// How many accounts have a connection.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn accounts(&self) -> usize {
        self.by_account.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_kept_in_login_order_and_forgotten_with_the_last() {
        let mut sessions = Sessions::default();
        let alice = NameKey::of("Alice");
        sessions.add(&alice, ClientId(3));
        sessions.add(&alice, ClientId(1));
        sessions.add(&alice, ClientId(3));
        assert_eq!(sessions.of(&NameKey::of("alice")), &[ClientId(3), ClientId(1)]);
        sessions.remove(&alice, ClientId(3));
        assert_eq!(sessions.of(&alice), &[ClientId(1)]);
        sessions.remove(&alice, ClientId(1));
        assert!(sessions.of(&alice).is_empty());
        assert_eq!(sessions.accounts(), 0);
    }
}
