//! The files chatd keeps in its data directory and how they are opened:
//! readable by chatd's user only (the directory 0700, its files 0600,
//! whatever the umask), and never through a symbolic link.
//!
//! A link planted in the data directory (`chatd.lock -> ~/.ssh/config`)
//! would otherwise have chatd change the mode of, lock, or write to the
//! file it points at. Each file is opened with `O_NOFOLLOW` and tightened
//! with `fchmod` on what was opened, so nothing is done by name that could
//! land elsewhere; SQLite opens the database with `SQLITE_OPEN_NOFOLLOW`,
//! and its side files are checked first.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

use super::DB_FILE;

/// The lock file's name in the data directory.
pub(crate) const LOCK_FILE: &str = "chatd.lock";

/// The cloak key's file in the data directory (see `cloak_key.rs`).
pub const KEY_FILE: &str = "cloak.key";

/// Every file chatd, or SQLite for it, opens in the data directory.
const FILES: [&str; 6] = [LOCK_FILE, DB_FILE, "chatd.db-wal", "chatd.db-shm", "chatd.db-journal", KEY_FILE];

/// Below this much free space, a write that failed is taken for a full disk.
const NEARLY_FULL_BYTES: u64 = 1 << 20;

/// A file in the data directory that is not one chatd may use: chatd
/// refuses to start (and `chatd check` and `chatd backup` to read) rather
/// than follow it.
#[derive(Debug, thiserror::Error)]
pub enum ForeignFile {
    /// A symbolic link where chatd keeps a file.
    #[error(
        "{} is a symbolic link; chatd follows no link in its data directory, so that nobody can aim its \
         writes at another file: remove the link (and put the real file there if it is chatd's)",
        path.display()
    )]
    Link {
        /// The link.
        path: PathBuf,
    },
    /// A directory, device, pipe or socket where chatd keeps a file.
    #[error("{} is a {kind}, not a file chatd can use; move it out of the data directory", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
    },
}

/// Refuses a data directory in which any of chatd's files is a link or
/// not a regular file. The directory itself may be a link: that is the
/// administrator's choice, made outside it.
pub(crate) fn refuse_foreign(dir: &Path) -> Result<(), ForeignFile> {
    for name in FILES {
        let path = dir.join(name);
        let Ok(metadata) = std::fs::symlink_metadata(&path) else { continue };
        let kind = metadata.file_type();
        if kind.is_symlink() {
            return Err(ForeignFile::Link { path });
        }
        if !kind.is_file() {
            let kind = if kind.is_dir() { "directory" } else { "special file" };
            return Err(ForeignFile::NotAFile { path, kind });
        }
    }
    Ok(())
}

/// Whether `error` is the refusal of `O_NOFOLLOW` to open a link.
pub(super) fn is_link(error: &io::Error) -> bool {
    #[cfg(unix)]
    return error.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error());
    #[cfg(not(unix))]
    return false;
}

/// Creates `dir` (and missing parents) 0700, or tightens it if it exists.
pub(super) fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir)?;
    let opened = File::open(dir);
    if let Ok(opened) = &opened {
        tighten(opened, dir);
    }
    Ok(())
}

/// Options that create a file 0600 and never open a link.
pub(super) fn open_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    options.mode(0o600).custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    options
}

/// Tightens `dir`'s `name` if it exists and others may read it, opened
/// without following a link (and without blocking, should it be a pipe).
///
/// Only a file whose mode needs it is opened: closing a descriptor drops
/// the POSIX locks this process holds on that file, SQLite's among them.
pub(super) fn tighten_existing(dir: &Path, name: &str) -> Result<(), ForeignFile> {
    let path = dir.join(name);
    #[cfg(unix)]
    match std::fs::symlink_metadata(&path) {
        Ok(metadata) if metadata.file_type().is_symlink() => return Err(ForeignFile::Link { path }),
        Ok(metadata) if metadata.permissions().mode() & 0o077 == 0 => return Ok(()),
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(_) => {}
    }
    let mut options = open_options();
    options.read(true);
    #[cfg(unix)]
    options.custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32);
    match options.open(&path) {
        Ok(file) => tighten(&file, &path),
        Err(error) if is_link(&error) => return Err(ForeignFile::Link { path }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot open chatd's file to check who may read it")
        }
    }
    Ok(())
}

/// Takes every permission for group and others off the open `file` (at
/// `path`, named in the log). A file chatd's user cannot change (not its
/// owner) is left as it is, with a warning: that is the administrator's
/// choice.
pub(super) fn tighten(file: &File, path: &Path) {
    #[cfg(unix)]
    {
        let Ok(metadata) = file.metadata() else { return };
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & 0o077 == 0 {
            return;
        }
        let tight = mode & 0o700;
        let (from, to) = (format!("{mode:o}"), format!("{tight:o}"));
        // fchmod on what was opened: the name may have changed since.
        match file.set_permissions(std::fs::Permissions::from_mode(tight)) {
            Ok(()) => tracing::warn!(path = %path.display(), from, to,
                "others could read chatd's data; tightened its permissions"),
            Err(error) => tracing::warn!(path = %path.display(), mode = from, %error,
                "others can read chatd's data, and its permissions could not be tightened"),
        }
    }
    #[cfg(not(unix))]
    let _ = (file, path);
}

/// What is left on a file system that has (almost) no room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Room {
    /// Bytes an unprivileged writer may still use.
    pub bytes: u64,
    /// Whether no file may be created any more (no free inodes).
    pub no_inodes: bool,
}

/// The room left on the file system holding `dir`, if it is full or
/// nearly so; `None` when it has room (or cannot be asked).
pub(super) fn nearly_full(dir: &Path) -> Option<Room> {
    #[cfg(unix)]
    {
        let stats = rustix::fs::statvfs(dir).ok()?;
        let bytes = stats.f_bavail.saturating_mul(stats.f_frsize);
        // Some file systems report no inode count at all (f_files 0).
        let no_inodes = stats.f_favail == 0 && stats.f_files > 0;
        (bytes < NEARLY_FULL_BYTES || no_inodes).then_some(Room { bytes, no_inodes })
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

/// Whether `error` says the disk or the user's quota is full.
pub(super) fn is_full(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded)
}
