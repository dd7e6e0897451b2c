//! Session tokens as a client holds them and as the engine keeps them: a
//! token is 32 random bytes the embedder draws (the engine has no
//! randomness of its own), written as `tok_<id>_<secret>` in hex. The
//! first 8 bytes are its id, which finds the token (and so its account)
//! without a scan; the engine keeps only a BLAKE2s hash of all 32 bytes,
//! so a copy of the store lets nobody in. A slow password hash is not
//! needed: 192 random bits cannot be guessed, only stolen.

use std::fmt;

use blake2::{Blake2s256, Digest};

/// What every token's text starts with. A password of a token's exact
/// shape is refused (`/register`, `/password`), so that SASL PLAIN can
/// carry a token in its password field without the two ever colliding.
pub(crate) const PREFIX: &str = "tok_";

/// Hex digits of the id, then of the secret part.
const ID_HEX: usize = 16;
const SECRET_HEX: usize = 48;

/// Which session token, as `/sessions` lists it and `/revoke` names it:
/// the first 8 of its random bytes. Not secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenId(u64);

impl TokenId {
    /// An id, as a store read it back.
    pub fn new(id: u64) -> Self {
        Self(id)
    }

    /// The id as a number, for a store.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// Reads the 16 hex digits `/sessions` shows.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        if text.len() != ID_HEX || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u64::from_str_radix(text, 16).ok().map(Self)
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// What the engine keeps of a session token: a BLAKE2s-256 hash of its
/// random bytes. Compared, never reversed; `Debug` is redacted all the same.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// A hash, as a store read it back.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The hash, for a store.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn of(bytes: &[u8; 32]) -> Self {
        Self(Blake2s256::digest(bytes).into())
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

/// 32 bytes from a cryptographically secure random source (an operating
/// system's, such as `getrandom`), the answer to an
/// [`Output::NewToken`](crate::Output::NewToken). `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret([u8; 32]);

impl TokenSecret {
    /// Wraps bytes drawn from a CSPRNG. Never derive them from a clock or
    /// a counter: whoever holds the token holds the account.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub(crate) fn id(&self) -> TokenId {
        let mut id = [0; 8];
        id.copy_from_slice(&self.0[..8]);
        TokenId(u64::from_be_bytes(id))
    }

    pub(crate) fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }

    /// The token as the client is given it, once.
    pub(crate) fn text(&self) -> String {
        let mut text = String::with_capacity(PREFIX.len() + ID_HEX + 1 + SECRET_HEX);
        text.push_str(PREFIX);
        for (at, byte) in self.0.iter().enumerate() {
            if at == 8 {
                text.push('_');
            }
            text.push_str(&format!("{byte:02x}"));
        }
        text
    }

    /// Reads a token's text back; `None` if it does not have a token's shape.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix(PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        if id.len() != ID_HEX || secret.len() != SECRET_HEX {
            return None;
        }
        let hex = |b: u8| -> Option<u8> {
            match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'a'..=b'f' => Some(b - b'a' + 10),
                _ => None,
            }
        };
        let mut bytes = [0; 32];
        for (byte, pair) in bytes.iter_mut().zip(id.as_bytes().chunks(2).chain(secret.as_bytes().chunks(2))) {
            *byte = hex(pair[0])? << 4 | hex(pair[1])?;
        }
        Some(Self(bytes))
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSecret(<redacted>)")
    }
}

/// Whether `text` has a session token's exact shape (what a password may
/// not be, so that SASL PLAIN can tell the two apart).
pub(crate) fn looks_like_token(text: &str) -> bool {
    TokenSecret::parse(text).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_as_written_and_names_its_id() {
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8 * 7;
        }
        let secret = TokenSecret::new(bytes);
        let text = secret.text();
        assert_eq!(text.len(), 4 + 16 + 1 + 48);
        assert!(text.starts_with("tok_00070e151c232a31_"), "{text}");
        assert_eq!(TokenSecret::parse(&text), Some(secret.clone()));
        assert_eq!(secret.id().to_string(), "00070e151c232a31");
        assert_eq!(TokenId::parse("00070e151c232a31"), Some(secret.id()));
        assert!(looks_like_token(&text));
        assert!(!looks_like_token(&text.to_uppercase()));
        assert!(!looks_like_token(&text[..text.len() - 1]));
        assert!(!looks_like_token("tok_hunter22"));
        assert_eq!(format!("{secret:?}"), "TokenSecret(<redacted>)");
        assert_ne!(secret.hash(), TokenSecret::new([0; 32]).hash());
    }
}
