//! Registered accounts and the secrets around them. The engine never hashes
//! or verifies a password itself: it asks its embedder to (see
//! [`Output::HashPassword`](crate::Output::HashPassword)), so that slow,
//! deliberately expensive work stays off the engine's thread.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use crate::names::NameKey;
use crate::source::SourceKey;

/// A password as typed by a user. Its `Debug` form is redacted so it cannot
/// leak into logs by accident; only [`Password::expose`] reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(Box<str>);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<Box<str>>) -> Self {
        Self(password.into())
    }

    /// The password itself, for the hashing or verifying code only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A password hash in the embedder's format (chatd uses argon2id PHC
/// strings). Opaque to the engine; `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(Box<str>);

impl PasswordHash {
    /// Wraps a hash produced by the embedder.
    pub fn new(hash: impl Into<Box<str>>) -> Self {
        Self(hash.into())
    }

    /// The hash, for the verifying code and for storage.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// Identifies one outstanding hash or verify request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AuthRequestId(pub(crate) u64);

impl AuthRequestId {
    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

/// A whisper kept for an account that was offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OfflineMessage {
    pub(crate) from: Box<str>,
    pub(crate) text: Box<str>,
    pub(crate) unix_ms: u64,
    /// Its number in the conversation it is also kept in, if it is.
    pub(crate) seq: Option<u64>,
}

/// One registered account.
#[derive(Debug)]
pub(crate) struct Account {
    /// The name as registered; it is also the user's nickname when logged in.
    pub(crate) name: Box<str>,
    pub(crate) hash: PasswordHash,
    /// When the account was last online (wall clock), if ever.
    pub(crate) last_seen_ms: Option<u64>,
    pub(crate) mailbox: VecDeque<OfflineMessage>,
    /// Names this account blocks, as spelled when blocked; kept across visits.
    pub(crate) blocks: BTreeMap<NameKey, Box<str>>,
    /// Sources it logged in from, oldest first, at most
    /// `Config::max_known_sources`: exempt from the per-account throttle.
    pub(crate) known_sources: VecDeque<SourceKey>,
}

impl Account {
    pub(crate) fn new(name: &str, hash: PasswordHash) -> Self {
        Self {
            name: name.into(),
            hash,
            last_seen_ms: None,
            mailbox: VecDeque::new(),
            blocks: BTreeMap::new(),
            known_sources: VecDeque::new(),
        }
    }

    /// Remembers `source` as known, forgetting the oldest beyond `max`;
    /// `true` if it was new.
    pub(crate) fn remember_source(&mut self, source: SourceKey, max: usize) -> bool {
        if self.known_sources.contains(&source) {
            return false;
        }
        self.known_sources.push_back(source);
        while self.known_sources.len() > max {
            self.known_sources.pop_front();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let password = Password::new("hunter22");
        let hash = PasswordHash::new("$argon2id$v=19$secret");
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
        assert_eq!(format!("{hash:?}"), "PasswordHash(<redacted>)");
        assert_eq!(password.expose(), "hunter22");
    }
}
