//! Opening the database to read it beside chatd, or instead of it,
//! without leaving anything behind in the data directory.
//!
//! A read-only SQLite connection to a WAL database still creates the
//! `-wal` and `-shm` files when they are missing (a stopped chatd removed
//! them), owned by whoever runs it. Run as root, that would leave files
//! chatd's own user may not be able to open at its next start. So when
//! chatd is not running (its lock is free), the lock is held while reading
//! and the file is opened as immutable, which creates nothing.

use std::fs::File;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::DB_FILE;
use super::files::{self, LOCK_FILE};

/// A read-only connection to a data directory's database; whatever it had
/// to create is removed when it is dropped.
pub(crate) struct ReadOnly {
    conn: Option<Connection>,
    /// A `-shm` this connection created, to remove once it is closed.
    created_shm: Option<PathBuf>,
    /// chatd's lock, held when chatd was not running, so that it cannot
    /// start and write while the database is read as unchanging.
    _lock: Option<File>,
}

impl ReadOnly {
    /// Opens `data_dir`'s database read-only.
    pub(crate) fn open(data_dir: &Path) -> rusqlite::Result<ReadOnly> {
        let path = data_dir.join(DB_FILE);
        let side = |suffix: &str| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        };
        let (wal, shm) = (side("-wal"), side("-shm"));
        let flags =
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        // Opened for reading only: the lock is advisory, and a lock file
        // that cannot be opened just means chatd may be running. Never
        // through a link (the callers refuse one before this).
        let lock = files::open_options().read(true).open(data_dir.join(LOCK_FILE));
        let lock = lock.ok().filter(|file| file.try_lock().is_ok());
        if lock.is_some() && !wal.exists() {
            // chatd is stopped and cleanly so: the file is all there is,
            // and nothing can change it while the lock is held.
            let uri = format!("file:{}?immutable=1", uri_path(&path));
            let conn = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)?;
            return Ok(ReadOnly { conn: Some(conn), created_shm: None, _lock: lock });
        }
        // chatd runs (its -wal and -shm exist), or stopped uncleanly and
        // left a WAL whose commits must be read: the usual WAL reader.
        let shm_existed = shm.exists();
        let conn = Connection::open_with_flags(&path, flags)?;
        let created_shm = (lock.is_some() && !shm_existed).then_some(shm);
        Ok(ReadOnly { conn: Some(conn), created_shm, _lock: lock })
    }
}

impl Deref for ReadOnly {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("the connection lives until drop")
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        drop(self.conn.take());
        // Only when chatd's lock is held: nobody else can be using it.
        if let Some(shm) = &self.created_shm {
            let _ = std::fs::remove_file(shm);
        }
    }
}

/// `path` for an SQLite `file:` URI: the characters a URI gives meaning
/// to are percent-encoded.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' | '?' | '#' => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
