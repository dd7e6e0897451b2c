//! What a client sends to prove who it is, as every codec and the engine
//! name it: a password, and why a SASL PLAIN response carrying one could
//! not be read. Vocabulary, like commands and refusals: it imports
//! nothing, so that a codec reading a password and the error table naming
//! a reason need nothing of each other.

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

/// Why a SASL PLAIN response (RFC 4616) cannot be used: the reason a
/// `sasl_failed` refusal gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PlainError {
    #[error("the response is not base64")]
    NotBase64,
    #[error("the response is not authzid, authcid and password separated by NUL")]
    Malformed,
    #[error("the response is not UTF-8")]
    NotUtf8,
    #[error("logging in as another account than the one authenticated is not supported")]
    OtherAuthzid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_redacted_in_debug() {
        let password = Password::new("hunter22");
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
        assert_eq!(password.expose(), "hunter22");
    }
}
