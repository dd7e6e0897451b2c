//! What the engine keeps of registered accounts' passwords, and how it
//! asks about them (the accounts themselves are the world's,
//! `world/accounts.rs`; a password as a client sends it is
//! `credentials.rs`'s). The engine never hashes or verifies a password
//! itself: it asks its embedder to (see
//! [`Output::HashPassword`](crate::Output::HashPassword)), so that slow,
//! deliberately expensive work stays off the engine's thread.

use std::fmt;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_redacted_in_debug() {
        let hash = PasswordHash::new("$argon2id$v=19$secret");
        assert_eq!(format!("{hash:?}"), "PasswordHash(<redacted>)");
        assert_eq!(hash.expose(), "$argon2id$v=19$secret");
    }
}
