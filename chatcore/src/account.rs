//! The secrets around registered accounts (the accounts themselves are
//! the world's, `world/accounts.rs`). The engine never hashes
//! or verifies a password itself: it asks its embedder to (see
//! [`Output::HashPassword`](crate::Output::HashPassword)), so that slow,
//! deliberately expensive work stays off the engine's thread.

use std::fmt;

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
