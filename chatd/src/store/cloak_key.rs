//! The secret chatd cloaks users' hosts with (`chatcore::Hosts::Cloaked`):
//! 32 random bytes made on the first start and kept in the data directory
//! as `cloak.key` (64 hexadecimal digits, 0600 like chatd's other files),
//! so that a user's host, and a ban on it, stays the same across
//! restarts. With `--database-url` the key is kept in the database
//! instead, where every chatd on it finds the same one
//! ([`PgStore::cloak_key`](super::postgres::PgStore::cloak_key)). Whoever reads the key can tell which address a host stands
//! for, by trying addresses.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use chatcore::CloakKey;

pub use super::files::KEY_FILE;
use super::files::{self, ForeignFile};

/// The most of the key's file that is read: more than a key takes.
const KEY_TEXT_CAP: u64 = 256;

/// Why there is no key to cloak hosts with.
#[derive(Debug, thiserror::Error)]
pub enum CloakKeyError {
    /// The file could not be read or written.
    #[error("cannot read or write the cloak key {path}: {source}")]
    Io {
        /// The key's file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The file is not a key chatd wrote.
    #[error(
        "the cloak key {path} is not 64 hexadecimal digits; move it away and chatd makes a new one \
         (every user's host then changes, and bans on hosts no longer match)"
    )]
    Malformed {
        /// The key's file.
        path: PathBuf,
    },
    /// A link, or not a file, where the key belongs.
    #[error(transparent)]
    Foreign(#[from] ForeignFile),
    /// The database holding the key (PostgreSQL) could not be read or written.
    #[error("cannot read or write the cloak key in the database: {}", super::backend::with_causes(.0))]
    Database(::postgres::Error),
    /// The key in the database is not one chatd wrote.
    #[error(
        "the cloak key in the database (table cloak_key) is not 64 hexadecimal digits; delete its row and \
         chatd makes a new one (every user's host then changes, and bans on hosts no longer match)"
    )]
    MalformedInDatabase,
    /// The system gave no random bytes.
    #[error("no random bytes for a cloak key: {0}")]
    Random(getrandom::Error),
}

/// The key kept in `dir` (which chatd holds locked), made and written
/// first if there is none.
pub fn load_or_create(dir: &Path) -> Result<CloakKey, CloakKeyError> {
    let path = dir.join(KEY_FILE);
    let io = |source| CloakKeyError::Io { path: path.clone(), source };
    // Never through a link: one planted here would have chatd tighten,
    // and take its secret from, a file of someone else's choosing.
    let mut options = files::open_options();
    options.read(true);
    match options.open(&path) {
        Ok(file) => {
            files::tighten(&file, &path);
            // A key is 64 digits and a newline; more is not a key, and is
            // not read whole.
            let mut text = String::new();
            file.take(KEY_TEXT_CAP).read_to_string(&mut text).map_err(io)?;
            parse(text.trim()).map(CloakKey::new).ok_or_else(|| CloakKeyError::Malformed { path: path.clone() })
        }
        Err(error) if files::is_link(&error) => Err(ForeignFile::Link { path }.into()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let bytes = random_bytes()?;
            // Written whole under another name, then renamed: a crash
            // leaves either no key or the whole key, never half of one.
            let partial = dir.join(format!("{KEY_FILE}.new"));
            let mut file = files::open_options().write(true).create(true).truncate(true).open(&partial).map_err(io)?;
            file.write_all(hex(&bytes).as_bytes()).and_then(|()| file.sync_all()).map_err(io)?;
            std::fs::rename(&partial, &path).map_err(io)?;
            Ok(CloakKey::new(bytes))
        }
        Err(error) => Err(io(error)),
    }
}

/// A key for this run only (`--ephemeral`: nothing is kept, so hosts
/// change at each start).
pub fn ephemeral() -> Result<CloakKey, CloakKeyError> {
    random_bytes().map(CloakKey::new)
}

pub(super) fn random_bytes() -> Result<[u8; 32], CloakKeyError> {
    let mut bytes = [0; 32];
    getrandom::fill(&mut bytes).map_err(CloakKeyError::Random)?;
    Ok(bytes)
}

pub(super) fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn parse(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut bytes = [0; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_kept_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        assert_eq!(load_or_create(dir.path()).unwrap(), first, "the same key at the next start");
        let text = std::fs::read_to_string(dir.path().join(KEY_FILE)).unwrap();
        assert_eq!(text.len(), 64);
        assert!(!dir.path().join(format!("{KEY_FILE}.new")).exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_ne!(ephemeral().unwrap(), first);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_in_the_keys_place_is_refused_and_its_target_left_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let victim = elsewhere.path().join("victim");
        std::fs::write(&victim, "a".repeat(64)).unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(KEY_FILE)).unwrap();
        assert!(matches!(load_or_create(dir.path()), Err(CloakKeyError::Foreign(ForeignFile::Link { .. }))));
        assert_eq!(std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777, 0o644);
    }

    #[test]
    fn a_damaged_key_stops_chatd_rather_than_being_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), "not hex").unwrap();
        assert!(matches!(load_or_create(dir.path()), Err(CloakKeyError::Malformed { .. })));
        assert_eq!(std::fs::read_to_string(dir.path().join(KEY_FILE)).unwrap(), "not hex");
    }
}
