//! Every live session token, by id (what a presented token names) and by
//! account (what `/sessions` lists and a limit counts). Only hashes are
//! kept. Expired tokens are refused where they are read and dropped when
//! their account's tokens are next touched, so the table never holds more
//! than `max_session_tokens` per account.

use std::collections::{BTreeMap, BTreeSet};

use crate::names::NameKey;
use crate::token::{TokenHash, TokenId};

/// One issued token.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) account: NameKey,
    pub(crate) hash: TokenHash,
    pub(crate) created_ms: u64,
    pub(crate) expires_ms: u64,
}

/// The token table.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    by_id: BTreeMap<TokenId, Token>,
    by_account: BTreeMap<NameKey, BTreeSet<TokenId>>,
}

impl Tokens {
    /// Files a token, replacing one of the same id.
    pub(crate) fn insert(&mut self, id: TokenId, token: Token) {
        self.remove(id);
        self.by_account.entry(token.account.clone()).or_default().insert(id);
        self.by_id.insert(id, token);
    }

    /// Forgets a token; whether it was there.
    pub(crate) fn remove(&mut self, id: TokenId) -> bool {
        let Some(token) = self.by_id.remove(&id) else { return false };
        if let Some(ids) = self.by_account.get_mut(&token.account) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_account.remove(&token.account);
            }
        }
        true
    }

    /// The token `id`, expired or not.
    pub(crate) fn get(&self, id: TokenId) -> Option<&Token> {
        self.by_id.get(&id)
    }

    /// The account's tokens, oldest first.
    pub(crate) fn of(&self, account: &NameKey) -> Vec<(TokenId, &Token)> {
        let ids = self.by_account.get(account);
        let mut tokens: Vec<_> = ids.into_iter().flatten().map(|&id| (id, &self.by_id[&id])).collect();
        tokens.sort_by_key(|(id, token)| (token.created_ms, *id));
        tokens
    }

    /// Forgets the account's tokens that expired by `now_ms`.
    pub(crate) fn prune(&mut self, account: &NameKey, now_ms: u64) {
        let expired: Vec<TokenId> =
            self.of(account).into_iter().filter(|(_, t)| t.expires_ms <= now_ms).map(|(id, _)| id).collect();
        for id in expired {
            self.remove(id);
        }
    }

    /// Forgets every token of the account, returning how many there were.
    pub(crate) fn remove_all(&mut self, account: &NameKey) -> usize {
        let ids = self.by_account.remove(account).unwrap_or_default();
        for id in &ids {
            self.by_id.remove(id);
        }
        ids.len()
    }

    /// Both indexes name the same tokens, each under its own account.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn check(&self) -> Result<(), crate::invariant_violation::InvariantViolation> {
        let mut indexed = 0;
        for (account, ids) in &self.by_account {
            let wrong = ids.is_empty() || ids.iter().any(|id| self.by_id.get(id).is_none_or(|t| t.account != *account));
            if wrong {
                let account = account.as_str().to_owned();
                return Err(crate::invariant_violation::InvariantViolation::TokenIndex { account });
            }
            indexed += ids.len();
        }
        if indexed != self.by_id.len() {
            let account = self.by_id.values().find(|t| !self.by_account.contains_key(&t.account));
            let account = account.map_or_else(String::new, |t| t.account.as_str().to_owned());
            return Err(crate::invariant_violation::InvariantViolation::TokenIndex { account });
        }
        Ok(())
    }

    /// How many tokens are kept, of every account.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(account: &str, created_ms: u64) -> Token {
        Token { account: NameKey::of(account), hash: TokenHash::new([0; 32]), created_ms, expires_ms: created_ms + 10 }
    }

    #[test]
    fn tokens_are_found_by_id_and_by_account_and_pruned_when_expired() {
        let mut tokens = Tokens::default();
        tokens.insert(TokenId::new(9), token("Alice", 5));
        tokens.insert(TokenId::new(3), token("alice", 20));
        tokens.insert(TokenId::new(4), token("bob", 1));
        let alice = NameKey::of("ALICE");
        let ids: Vec<TokenId> = tokens.of(&alice).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, [TokenId::new(9), TokenId::new(3)], "oldest first");
        assert_eq!(tokens.check(), Ok(()));
        tokens.prune(&alice, 15);
        assert_eq!(tokens.check(), Ok(()));
        assert!(tokens.get(TokenId::new(9)).is_none());
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens.remove_all(&alice), 1);
        assert!(tokens.of(&alice).is_empty());
        assert!(tokens.remove(TokenId::new(4)));
        assert!(!tokens.remove(TokenId::new(4)));
        assert_eq!(tokens.len(), 0);
        assert_eq!(tokens.check(), Ok(()));
        tokens.by_account.insert(NameKey::of("mallory"), [TokenId::new(1)].into());
        assert!(tokens.check().is_err(), "an id under an account with no such token");
    }
}
