//! Durable state: the engine's records are written here in group-committed
//! transactions, and read back on start. Embedded SQLite ([`Store`]) is the
//! default and the store for one chatd; PostgreSQL ([`PgStore`],
//! `--database-url`) keeps the same records on a server. The storage
//! thread drives either through [`Backend`].
//!
//! One data directory holds `chatd.db` (with its WAL) and `chatd.lock`,
//! which one chatd at a time holds locked, and `cloak.key` ([`cloak_key`]).
//! Nothing here ever deletes or recreates the database file, or follows a
//! link in the directory: a store that cannot be opened as it is stops
//! chatd with a clear error instead.
//!
//! [`backup`] copies the database while chatd runs; [`check`] says whether
//! it is sound and chatd's.
//!
//! Public so that tools can drive the store exactly as chatd does:
//! `storebench` opens a [`Store`], starts its [`StoreHandle`] and measures
//! commits.
//!
//! [`StoreHandle`]: thread::StoreHandle

pub mod backend;
pub mod backup;
pub mod check;
pub mod cloak_key;
mod files;
pub mod postgres;
mod read_only;
pub mod record_json;
mod records;
mod room_modes;
mod schema;
pub mod thread;

use std::collections::HashSet;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, MAIN_DB, OpenFlags};

pub use backend::{Backend, BackendError, FeedEntry, Page};
pub use files::{ForeignFile, Room};
pub use postgres::{DatabaseUrl, PgStore};
pub use records::Retention;

/// SQLite's `synchronous` setting, which decides what a commit survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SyncMode {
    /// A commit survives a crash of chatd; one in the last moments before
    /// a power loss or kernel crash may be lost (the database stays intact).
    Normal,
    /// A commit survives power loss too: every commit waits for the disk.
    Full,
}

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another chatd holds the directory's lock.
    #[error("data directory {path} is in use by another chatd")]
    Locked {
        /// The data directory.
        path: PathBuf,
    },
    /// The directory or its lock file cannot be created or written.
    #[error("data directory {path} is not writable: {source}")]
    Unwritable {
        /// The data directory.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A link, directory or device stands where chatd keeps a file.
    #[error(transparent)]
    Foreign(#[from] ForeignFile),
    /// The file system holding the data directory is full.
    #[error(
        "the file system holding {} is full ({} bytes free{}): chatd cannot write its database; free space \
         there (old backups, logs) or move --data-dir to a file system with room, then start chatd again \
         (nothing was changed; {detail})",
        path.display(), room.bytes, if room.no_inodes { ", and no free inodes" } else { "" }
    )]
    DiskFull {
        /// The data directory.
        path: PathBuf,
        /// What is left there.
        room: Room,
        /// What the system or SQLite said.
        detail: String,
    },
    /// The file is not a sound SQLite database, or not chatd's.
    #[error("database {path} is corrupt or not a chatd database ({detail}); it was left untouched")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What SQLite reported.
        detail: String,
    },
    /// The database can be read but not written.
    #[error("database {path} is read-only or cannot be written: {detail}")]
    ReadOnly {
        /// The database file.
        path: PathBuf,
        /// What SQLite reported.
        detail: String,
    },
    /// A newer chatd has migrated the database past what this one knows.
    #[error("database schema version {found} is newer than this chatd supports ({supported}); upgrade chatd")]
    NewerSchema {
        /// The database's schema version.
        found: u32,
        /// The newest version this chatd can use.
        supported: u32,
    },
    /// PostgreSQL could not be reached, or refused what chatd asked.
    #[error("PostgreSQL database {url}: {}", backend::with_causes(source))]
    Postgres {
        /// Where, without the password.
        url: String,
        /// What the client or server said.
        source: ::postgres::Error,
    },
    /// Any other SQLite failure.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The database's file name in the data directory.
pub(crate) const DB_FILE: &str = "chatd.db";

/// The most memory SQLite's page cache may hold, in KiB.
const CACHE_KIB: i64 = 64 * 1024;

/// An open, locked, migrated store.
pub struct Store {
    conn: Connection,
    /// Unreadable message rows already logged, as (room or conversation
    /// key, seq); bounded by [`records::MAX_LOGGED_UNREADABLE`].
    logged_unreadable: HashSet<(Box<str>, Option<i64>)>,
    /// Whispers kept per conversation, from [`Retention`] (`None`: all).
    whispers_kept: Option<u64>,
    /// Held for the store's life: the lock is what keeps a second chatd out.
    _lock: File,
}

impl Store {
    /// Opens (creating if need be) the store in `dir`.
    pub fn open(dir: &Path, sync: SyncMode) -> Result<Store, StoreError> {
        let unwritable = |source: std::io::Error| match files::nearly_full(dir).filter(|_| files::is_full(&source)) {
            Some(room) => StoreError::DiskFull { path: dir.to_owned(), room, detail: source.to_string() },
            None => StoreError::Unwritable { path: dir.to_owned(), source },
        };
        files::create_dir(dir).map_err(unwritable)?;
        files::refuse_foreign(dir)?;
        let lock_path = dir.join(files::LOCK_FILE);
        // Opened without following a link, and tightened through what was
        // opened: a link planted since the check above fails here.
        let lock = match files::open_options().create(true).truncate(false).write(true).open(&lock_path) {
            Err(error) if files::is_link(&error) => return Err(ForeignFile::Link { path: lock_path }.into()),
            result => result.map_err(unwritable)?,
        };
        files::tighten(&lock, &lock_path);
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(StoreError::Locked { path: dir.to_owned() }),
            Err(TryLockError::Error(source)) => return Err(unwritable(source)),
        }
        let path = dir.join(DB_FILE);
        // The database holds password hashes and whispers: only chatd's
        // user may read it. SQLite gives the WAL and shared-memory files
        // the database file's mode, so a new database is created here first
        // (`create_new` follows no link either).
        match files::open_options().write(true).create_new(true).open(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => return Err(unwritable(source)),
        }
        for name in [DB_FILE, "chatd.db-wal", "chatd.db-shm"] {
            files::tighten_existing(dir, name)?;
        }
        let classify = |e: rusqlite::Error| classify(&path, e);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let mut conn = Connection::open_with_flags(&path, flags).map_err(classify)?;
        // Read before anything writes: a file that is not a sound database
        // must be reported, not "repaired" by a journal-mode switch.
        let check: String = conn.query_row("PRAGMA quick_check", [], |row| row.get(0)).map_err(classify)?;
        if check != "ok" {
            return Err(StoreError::Corrupt { path, detail: check });
        }
        // A file SQLite can read but will not write (a file format write
        // version it does not know, a read-only file) would otherwise start
        // and then fail every write.
        if conn.is_readonly(MAIN_DB).map_err(classify)? {
            return Err(StoreError::ReadOnly { path, detail: "SQLite opened it read-only".to_owned() });
        }
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).map_err(classify)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::ReadOnly {
                path,
                detail: format!("cannot switch to WAL (journal mode is {mode})"),
            });
        }
        let synchronous = match sync {
            SyncMode::Normal => "NORMAL",
            SyncMode::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", synchronous).map_err(classify)?;
        // SQLite's default page cache (2 MiB) is far smaller than the pages
        // that many busy rooms keep touching: pages were evicted in the
        // middle of a commit (spilled to the WAL) and read back at the next;
        // with 500 active rooms that cost a quarter to half of the throughput
        // (benches/README.md).
        conn.pragma_update(None, "cache_size", -CACHE_KIB).map_err(classify)?;
        // A deleted message's text is erased from its row; `FAST` has SQLite
        // zero the space it freed within the pages it writes anyway, so the
        // text does not linger in the page beside the row (at no extra I/O).
        conn.pragma_update(None, "secure_delete", "FAST").map_err(classify)?;
        // The switch to WAL made the WAL and shared-memory files if they
        // were missing, with the database's mode (tightened above, as were
        // ones left from before). They are not opened again here: closing
        // any descriptor of a file drops every POSIX lock this process
        // holds on it, SQLite's included, and a reader that then took
        // itself for the first would truncate the shared memory chatd has
        // mapped (SIGBUS).
        schema::migrate(&mut conn).map_err(|e| match e {
            StoreError::Sqlite(e) => classify(e),
            other => other,
        })?;
        // Prove now that writes work, rather than at the first message: a
        // real write (the version onto itself), rolled back.
        let probe = format!("BEGIN IMMEDIATE; PRAGMA user_version = {}; ROLLBACK;", schema::CURRENT);
        if let Err(error) = conn.execute_batch(&probe) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(match classify(error) {
                StoreError::Sqlite(error) => StoreError::ReadOnly { path, detail: error.to_string() },
                other => other,
            });
        }
        Ok(Store { conn, logged_unreadable: HashSet::new(), whispers_kept: None, _lock: lock })
    }

    /// Runs `PRAGMA integrity_check` (slow on a large database).
    #[cfg(test)]
    pub(crate) fn integrity_check(&self) -> rusqlite::Result<String> {
        self.conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))
    }
}

/// Turns SQLite's answer into the error an operator can act on.
fn classify(path: &Path, error: rusqlite::Error) -> StoreError {
    let path = path.to_owned();
    let code = error.sqlite_error_code();
    // A failed write on a disk with no room left is that, whatever SQLite
    // calls it: a shared-memory or WAL file that cannot grow is a "disk
    // I/O error".
    if matches!(code, Some(ErrorCode::DiskFull | ErrorCode::SystemIoFailure)) {
        let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_owned);
        if let Some(room) = files::nearly_full(&dir) {
            return StoreError::DiskFull { path: dir, room, detail: error.to_string() };
        }
    }
    match code {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            StoreError::Corrupt { path, detail: error.to_string() }
        }
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
            StoreError::ReadOnly { path, detail: error.to_string() }
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Locked { path: path.parent().map(Path::to_owned).unwrap_or(path) }
        }
        _ => StoreError::Sqlite(error),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod maintenance_tests;
#[cfg(test)]
mod thread_tests;
