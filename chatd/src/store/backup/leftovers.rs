//! What interrupted backups leave behind: a backup killed mid-copy leaves
//! its `.NAME.partial` copy and SQLite's `.NAME.partial-journal` beside the
//! file it was writing, as large as the database. Backups named by date
//! never reuse a name, so each interrupted one would stay for good; the
//! next backup into the same directory removes them.
//!
//! A copy being written is locked (`flock`) by its backup until it has its
//! name, so a copy whose lock can be taken was abandoned. Only files that
//! carry this temporary name and are empty or an SQLite database are
//! removed.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::super::files;
use super::{PARTIAL, journal_of};

/// The first bytes of every SQLite database.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Removes the abandoned copies (and their journals) in the directory
/// `to` is written to; returns what was removed.
pub(super) fn remove(to: &Path) -> Vec<PathBuf> {
    let dir = match to.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let names: Vec<String> = entries.flatten().filter_map(|entry| entry.file_name().into_string().ok()).collect();
    let mut removed = Vec::new();
    for name in names.iter().filter(|name| name.starts_with('.') && name.ends_with(PARTIAL)) {
        let copy = dir.join(name);
        if let Some(held) = abandoned(&copy) {
            if std::fs::remove_file(&copy).is_ok() {
                tracing::info!(path = %copy.display(), "removed the copy an interrupted backup left");
                removed.push(copy.clone());
            }
            drop(held);
        }
    }
    // A journal whose copy is gone (removed above, or by the backup that
    // failed before SQLite removed its journal) is SQLite's alone, and
    // nothing will ever read it.
    let journal_suffix = format!("{PARTIAL}-journal");
    for name in names.iter().filter(|name| name.starts_with('.') && name.ends_with(&journal_suffix)) {
        let copy = dir.join(&name[..name.len() - "-journal".len()]);
        let journal = journal_of(&copy);
        let is_file = std::fs::symlink_metadata(&journal).is_ok_and(|m| m.is_file());
        if is_file && std::fs::symlink_metadata(&copy).is_err() && std::fs::remove_file(&journal).is_ok() {
            tracing::info!(path = %journal.display(), "removed the journal an interrupted backup left");
            removed.push(journal);
        }
    }
    removed
}

/// The copy at `path`, opened and locked, if no backup is writing it and
/// it is what a backup writes (empty, or an SQLite database).
fn abandoned(path: &Path) -> Option<File> {
    let mut file = files::open_options().read(true).open(path).ok()?;
    if !file.metadata().ok()?.is_file() || file.try_lock().is_err() {
        return None;
    }
    let mut header = Vec::with_capacity(SQLITE_HEADER.len());
    (&mut file).take(SQLITE_HEADER.len() as u64).read_to_end(&mut header).ok()?;
    (header.is_empty() || header == SQLITE_HEADER).then_some(file)
}
