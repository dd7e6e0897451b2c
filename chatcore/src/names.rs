//! Nicknames and room names: what is allowed, and when two are the same.
//!
//! Both are ASCII so that they look the same on every terminal and compare
//! with ASCII case folding (as IRC servers such as ergo do with `ascii`
//! casemapping): `Alice`, `alice` and `ALICE` are one name.
//!
//! * A **nickname** is 1 to `max_nick_len` bytes of ASCII letters, digits,
//!   `_` and `-`, starting with a letter. `Guest` followed only by digits is
//!   reserved for the names the engine gives to those who have not chosen,
//!   and the server's own names (`SERVICE_NAMES` and `Config::server_name`)
//!   are reserved so that nobody can pass for the server.
//! * A **room name** is 1 to `max_room_name_len` bytes of ASCII letters,
//!   digits, `_`, `-` and `.`, optionally preceded by one `#` (which is part
//!   of the name as shown, but `#rust` and `rust` are the same room).

use std::fmt;
use std::sync::Arc;

/// The name `/who` and its JSON and IRC forms take for the Lobby; no room
/// name contains `*`.
pub(crate) const LOBBY: &str = "*";

/// The host of a user whose source is unknown or hidden, and of messages
/// replayed from history (their sender's host is not kept): a name every
/// codec may show, so it is kept with the other names.
pub(crate) const HIDDEN_HOST: &str = "chatd";

/// A room as an IRC channel: `rust` and `#rust` name the same room, and
/// IRC clients always see the `#`.
pub(crate) fn channel(room: &str) -> String {
    if room.starts_with('#') { room.to_owned() } else { format!("#{room}") }
}

/// Why a nickname or room name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    #[error("it is empty")]
    Empty,
    /// The name is longer than the limit.
    #[error("it is longer than {max} characters")]
    TooLong {
        /// The limit, in bytes.
        max: usize,
    },
    /// The name does not start with a letter.
    #[error("it must start with a letter")]
    BadStart,
    /// The name contains a character that is not allowed.
    #[error("the character {0:?} is not allowed")]
    BadChar(char),
    /// The name is of the form reserved for guests.
    #[error("Guest<number> names are given by the server")]
    Reserved,
    /// The name is the server's, or one of the services IRC users know
    /// (`NickServ`, `ChanServ`, ...): a user holding it could pass for the
    /// server.
    #[error("it is reserved for the server")]
    ServiceName,
}

/// Nicknames nobody may take, in any case, on any protocol, besides
/// `Config::server_name`: lines from them look like the server's own
/// (`:chatd!chatd@chatd NOTICE ...`) or its services'.
pub(crate) const SERVICE_NAMES: &[&str] =
    &["chatd", "ChanServ", "NickServ", "OperServ", "MemoServ", "HostServ", "BotServ", "SaslServ", "Global"];

/// Checks a nickname a user asked to go by, or to register: the rules of
/// [`validate_nick`], and not the server's own.
pub(crate) fn validate_chosen_nick(name: &str, max_len: usize, server_name: &str) -> Result<(), NameError> {
    validate_nick(name, max_len)?;
    if is_service_name(name, server_name) {
        return Err(NameError::ServiceName);
    }
    Ok(())
}

/// Whether `name` is reserved for the server: one of [`SERVICE_NAMES`], or
/// the server's own name, ignoring ASCII case.
pub(crate) fn is_service_name(name: &str, server_name: &str) -> bool {
    name.eq_ignore_ascii_case(server_name) || SERVICE_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// A name in its case-folded form, used as the key for uniqueness.
///
/// Shared, not copied: a room's key sits in the room table and in every
/// member's list of rooms, and a nickname's in the client and the nickname
/// index, so with a million members a clone must cost a reference count,
/// not an allocation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NameKey(Arc<str>);

impl NameKey {
    /// Folds `name` (already validated or not) to its key.
    pub fn of(name: &str) -> Self {
        let trimmed = name.strip_prefix('#').unwrap_or(name);
        NameKey(trimmed.to_ascii_lowercase().into())
    }

    /// The folded text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NameKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a nickname a user asked for.
pub fn validate_nick(name: &str, max_len: usize) -> Result<(), NameError> {
    let first = name.chars().next().ok_or(NameError::Empty)?;
    if name.len() > max_len {
        return Err(NameError::TooLong { max: max_len });
    }
    if !first.is_ascii_alphabetic() {
        return Err(NameError::BadStart);
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-')) {
        return Err(NameError::BadChar(bad));
    }
    if is_guest_name(name) {
        return Err(NameError::Reserved);
    }
    Ok(())
}

/// Checks a room name.
pub fn validate_room(name: &str, max_len: usize) -> Result<(), NameError> {
    let bare = name.strip_prefix('#').unwrap_or(name);
    if bare.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > max_len {
        return Err(NameError::TooLong { max: max_len });
    }
    if let Some(bad) = bare.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        return Err(NameError::BadChar(bad));
    }
    Ok(())
}

/// Whether `name` has the `Guest<digits>` form, in any case.
pub(crate) fn is_guest_name(name: &str) -> bool {
    name.len() > 5
        && name.as_bytes()[..5].eq_ignore_ascii_case(b"guest")
        && name.as_bytes()[5..].iter().all(u8::is_ascii_digit)
}

/// The entries of `map`, kept by folded name, from the name `from` on
/// (all of them without it), in name order: O(log n) to find the start.
pub(crate) fn from_name<'a, V>(
    map: &'a std::collections::BTreeMap<NameKey, V>,
    from: Option<&str>,
) -> std::collections::btree_map::Range<'a, NameKey, V> {
    match from {
        Some(from) => map.range(NameKey::of(from)..),
        None => map.range(..),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nick_rules() {
        assert_eq!(validate_nick("alice", 32), Ok(()));
        assert_eq!(validate_nick("Bob_2-x", 32), Ok(()));
        assert_eq!(validate_nick("", 32), Err(NameError::Empty));
        assert_eq!(validate_nick("abcd", 3), Err(NameError::TooLong { max: 3 }));
        assert_eq!(validate_nick("2fast", 32), Err(NameError::BadStart));
        assert_eq!(validate_nick("al ice", 32), Err(NameError::BadChar(' ')));
        assert_eq!(validate_nick("zoë", 32), Err(NameError::BadChar('ë')));
        assert_eq!(validate_nick("guest12", 32), Err(NameError::Reserved));
        assert_eq!(validate_nick("Guest", 32), Ok(()));
        assert_eq!(validate_nick("Guestbook", 32), Ok(()));
    }

    #[test]
    fn service_names_are_reserved_in_any_case() {
        for name in ["chatd", "CHATD", "chanserv", "NickServ", "nickSERV", "irc.example.org"] {
            assert!(is_service_name(name, "irc.example.org"), "{name}");
        }
        assert!(!is_service_name("chatdfan", "irc.example.org"));
        assert!(!is_service_name("alice", "chatd"));
    }

    #[test]
    fn room_rules() {
        assert_eq!(validate_room("rust", 32), Ok(()));
        assert_eq!(validate_room("#rust.lang", 32), Ok(()));
        assert_eq!(validate_room("#", 32), Err(NameError::Empty));
        assert_eq!(validate_room("", 32), Err(NameError::Empty));
        assert_eq!(validate_room("a/b", 32), Err(NameError::BadChar('/')));
        assert_eq!(validate_room("##a", 32), Err(NameError::BadChar('#')));
        assert_eq!(validate_room("abcdef", 5), Err(NameError::TooLong { max: 5 }));
    }

    #[test]
    fn keys_fold_case_and_hash() {
        assert_eq!(NameKey::of("Alice"), NameKey::of("aLICE"));
        assert_eq!(NameKey::of("#Rust"), NameKey::of("rust"));
        assert_ne!(NameKey::of("rust"), NameKey::of("rusty"));
    }
}
