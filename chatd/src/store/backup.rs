//! Online backup: a consistent copy of the database, taken while chatd
//! runs, with SQLite's backup API.
//!
//! The copy reads through the WAL, so it holds every commit made before it
//! began, and never blocks chatd: in WAL mode a reader and the writer do
//! not wait for each other. It takes no lock on the data directory, which
//! is exactly what lets it run beside chatd.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};

mod leftovers;

use super::DB_FILE;
use super::files::{self, ForeignFile};
use super::read_only::ReadOnly;

/// How often, and how long apart, a copy that finds the database busy
/// (SQLite recovering its WAL index, say) tries again before giving up.
const BUSY_RETRIES: u32 = 200;
const BUSY_PAUSE: Duration = Duration::from_millis(50);

/// What a finished backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// The database that was copied.
    pub from: PathBuf,
    /// The file written.
    pub to: PathBuf,
    /// The copy's schema version (`PRAGMA user_version`).
    pub schema_version: u32,
    /// The copy's size in bytes.
    pub bytes: u64,
    /// What interrupted backups had left beside `to`, removed.
    pub removed: Vec<PathBuf>,
}

/// Why a backup was not made. A failed backup never leaves a file at the
/// destination, and never changes one that was there.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The data directory holds no database.
    #[error("there is no chatd database at {path} (is --data-dir right?)")]
    Missing {
        /// Where the database was looked for.
        path: PathBuf,
    },
    /// A link or a directory stands where chatd keeps a file.
    #[error(transparent)]
    Foreign(#[from] ForeignFile),
    /// The destination exists and `--force` was not given.
    #[error("{path} already exists; choose another file, or pass --force to overwrite it")]
    Exists {
        /// The destination.
        path: PathBuf,
    },
    /// The destination is the live database itself.
    #[error("{path} is the database being backed up; write the backup somewhere else")]
    SameFile {
        /// The destination.
        path: PathBuf,
    },
    /// The database could not be read (damaged, unreadable).
    #[error("cannot read the database {path}: {source}; run `chatd check` on its directory")]
    Source {
        /// The database file.
        path: PathBuf,
        /// What SQLite reported.
        source: rusqlite::Error,
    },
    /// The database stayed busy through every retry.
    #[error("the database {path} stayed busy; try again")]
    Busy {
        /// The database file.
        path: PathBuf,
    },
    /// The copy could not be written or synced.
    #[error("cannot write the backup {path}: {source}")]
    Write {
        /// The file that could not be written.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// SQLite failed while writing the copy.
    #[error("cannot write the backup {path}: {source}")]
    WriteSqlite {
        /// The file that could not be written.
        path: PathBuf,
        /// What SQLite reported.
        source: rusqlite::Error,
    },
    /// The finished copy failed SQLite's integrity check.
    #[error("the copy failed SQLite's integrity check ({detail}); it was discarded")]
    BadCopy {
        /// The first problem SQLite reported.
        detail: String,
    },
}

/// Copies the database in `data_dir` to `to`, consistently, while chatd
/// may be running on it. `to` gets mode 0600 (it holds password hashes
/// and whispers). An existing `to` is refused unless `force`.
///
/// The copy is written next to `to` under a temporary name, checked with
/// `PRAGMA integrity_check`, synced, and only then given its name, so `to`
/// is either a complete, checked backup or untouched. It is a
/// self-contained file in rollback-journal mode (no `-wal` to carry along);
/// chatd switches it back to WAL when it starts on it.
///
/// ```no_run
/// let summary = chatd::store::backup::backup("chatd-data".as_ref(), "chatd.backup.db".as_ref(), false)?;
/// println!("schema {} in {} bytes", summary.schema_version, summary.bytes);
/// # Ok::<(), chatd::store::backup::BackupError>(())
/// ```
pub fn backup(data_dir: &Path, to: &Path, force: bool) -> Result<BackupSummary, BackupError> {
    let from = data_dir.join(DB_FILE);
    files::refuse_foreign(data_dir)?;
    if !from.is_file() {
        return Err(BackupError::Missing { path: from });
    }
    if std::fs::symlink_metadata(to).is_ok() {
        if same_file(&from, to) {
            return Err(BackupError::SameFile { path: to.to_owned() });
        }
        if !force {
            return Err(BackupError::Exists { path: to.to_owned() });
        }
    }
    // Read-only: a backup must never write to the live database, not even
    // the checkpoint SQLite does when a read-write connection closes last.
    let src = ReadOnly::open(data_dir).map_err(|e| BackupError::Source { path: from.clone(), source: e })?;

    let partial = partial_path(to);
    // Leftovers of interrupted backups carry our own temporary names; with
    // a date in each backup's name, each run would leave its own.
    let removed = leftovers::remove(to);
    // Created here, 0600, before SQLite opens it: SQLite would give a new
    // file the umask's mode, readable by others. Locked until it has its
    // name, so that another backup's clean-up leaves it alone.
    let held = files::open_options().write(true).create_new(true).open(&partial).and_then(|held| {
        held.lock()?;
        Ok(held)
    });
    // One that exists belongs to a backup to the same file still running.
    let _held = held.map_err(|source| BackupError::Write { path: partial.clone(), source })?;
    let result = (|| {
        let schema_version = copy(&src, &from, &partial)?;
        publish(&partial, to, force)?;
        let bytes = std::fs::metadata(to).map_err(|e| BackupError::Write { path: to.to_owned(), source: e })?.len();
        Ok(BackupSummary { from: from.clone(), to: to.to_owned(), schema_version, bytes, removed })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
        let _ = std::fs::remove_file(journal_of(&partial));
    }
    result
}

/// Copies `src` into the new, empty file at `partial`; returns the copy's schema version.
fn copy(src: &Connection, from: &Path, partial: &Path) -> Result<u32, BackupError> {
    let write = |e| BackupError::Write { path: partial.to_owned(), source: e };
    let sqlite = |e| BackupError::WriteSqlite { path: partial.to_owned(), source: e };
    let mut dst = Connection::open(partial).map_err(sqlite)?;
    {
        let backup = Backup::new(src, &mut dst).map_err(sqlite)?;
        let mut retries = 0;
        loop {
            // Every page in one step: one read transaction, so one snapshot
            // however busy chatd is. In steps, each commit chatd made in
            // between would restart the copy, forever under steady load.
            match backup.step(-1).map_err(|e| BackupError::Source { path: from.to_owned(), source: e })? {
                StepResult::Done => break,
                StepResult::More => {}
                _ if retries < BUSY_RETRIES => {
                    retries += 1;
                    thread::sleep(BUSY_PAUSE);
                }
                _ => return Err(BackupError::Busy { path: from.to_owned() }),
            }
        }
    }
    // The copied header says WAL; a single file is what an operator
    // expects to move around and restore.
    let _: String = dst.query_row("PRAGMA journal_mode = DELETE", [], |row| row.get(0)).map_err(sqlite)?;
    let check: String = dst.query_row("PRAGMA integrity_check", [], |row| row.get(0)).map_err(sqlite)?;
    if check != "ok" {
        return Err(BackupError::BadCopy { detail: check });
    }
    let version: u32 = dst.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(sqlite)?;
    dst.close().map_err(|(_, e)| sqlite(e))?;
    File::open(partial).and_then(|file| file.sync_all()).map_err(write)?;
    Ok(version)
}

/// Gives the finished copy its name, refusing to replace a file that
/// appeared meanwhile unless `force`.
fn publish(partial: &Path, to: &Path, force: bool) -> Result<(), BackupError> {
    let write = |e| BackupError::Write { path: to.to_owned(), source: e };
    if force {
        std::fs::rename(partial, to).map_err(write)?;
    } else {
        // A hard link fails if `to` exists, where a rename would replace it.
        match std::fs::hard_link(partial, to) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(BackupError::Exists { path: to.to_owned() });
            }
            Err(e) => return Err(write(e)),
        }
        std::fs::remove_file(partial).map_err(write)?;
    }
    // The new name is durable only once its directory is.
    #[cfg(unix)]
    if let Some(dir) = to.parent().map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p }) {
        File::open(dir).and_then(|d| d.sync_all()).map_err(write)?;
    }
    Ok(())
}

/// `.NAME.partial` beside `to`: the same file system, so the final rename
/// is atomic.
fn partial_path(to: &Path) -> PathBuf {
    let name = to.file_name().map_or_else(|| "backup".into(), |n| n.to_string_lossy().into_owned());
    to.with_file_name(format!(".{name}{PARTIAL}"))
}

/// The end of a copy's temporary name.
const PARTIAL: &str = ".partial";

/// The rollback journal SQLite may leave beside `db` if the copy failed midway.
fn journal_of(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-journal");
    PathBuf::from(name)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
