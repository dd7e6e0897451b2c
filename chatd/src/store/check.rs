//! `chatd check`: is a data directory's database sound, and is it chatd's?
//!
//! SQLite's own `PRAGMA integrity_check` finds damaged pages, indexes that
//! disagree with their tables and the like; chatd's checks find a database
//! that is sound but not one chatd can use: a schema version it does not
//! know, tables or columns missing. Everything is read-only, so it may run
//! while chatd does (it reads a consistent snapshot through the WAL), and
//! it leaves nothing behind in the data directory.
//!
//! The schema has no foreign keys, so `PRAGMA foreign_key_check` would
//! have nothing to look at.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode};

use super::read_only::ReadOnly;
use super::{DB_FILE, files, schema};

mod rows;

/// The most lines of `integrity_check` output kept: a badly damaged file
/// can produce thousands, and the first few say what is needed.
const MAX_INTEGRITY_LINES: usize = 20;

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// The database file checked.
    pub path: PathBuf,
    /// Its schema version, if it could be read.
    pub schema_version: Option<u32>,
    /// What is wrong, in words; empty when healthy.
    pub problems: Vec<String>,
    /// What is worth knowing but not wrong (an older schema chatd will
    /// migrate, a table chatd does not use).
    pub notes: Vec<String>,
}

impl CheckReport {
    /// True when nothing is wrong: chatd can start on this database.
    pub fn healthy(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the database in `data_dir`; never writes to it.
///
/// ```no_run
/// let report = chatd::store::check::check("chatd-data".as_ref());
/// for problem in &report.problems {
///     eprintln!("{problem}");
/// }
/// assert!(report.healthy());
/// ```
pub fn check(data_dir: &Path) -> CheckReport {
    let path = data_dir.join(DB_FILE);
    let mut report = CheckReport { path: path.clone(), schema_version: None, problems: Vec::new(), notes: Vec::new() };
    // A link or a directory in the database's place is named as what it is.
    if let Err(foreign) = files::refuse_foreign(data_dir) {
        report.problems.push(foreign.to_string());
        return report;
    }
    if !path.is_file() {
        report.problems.push(format!(
            "there is no database at {} (chatd creates one when it first starts; is --data-dir right?)",
            path.display()
        ));
        return report;
    }
    let conn = match ReadOnly::open(data_dir) {
        Ok(conn) => conn,
        Err(error) => {
            report.problems.push(describe(&error));
            return report;
        }
    };
    match integrity(&conn) {
        Ok(lines) if lines == ["ok"] => {}
        Ok(lines) => {
            report.problems.push("SQLite's integrity check found damage:".to_owned());
            // One answer may span several lines; each is indented alike.
            report.problems.extend(lines.iter().flat_map(|answer| answer.lines()).map(|line| format!("  {line}")));
        }
        // A header too damaged to read stops here: nothing below could work.
        Err(error) => {
            report.problems.push(describe(&error));
            return report;
        }
    }
    if let Err(error) = layout(&conn, &mut report) {
        report.problems.push(describe(&error));
    }
    report
}

/// `PRAGMA integrity_check`'s lines, at most [`MAX_INTEGRITY_LINES`].
fn integrity(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut statement = conn.prepare(&format!("PRAGMA integrity_check({MAX_INTEGRITY_LINES})"))?;
    let mut rows = statement.query([])?;
    let mut lines = Vec::new();
    loop {
        match rows.next() {
            Ok(Some(row)) => lines.push(row.get(0)?),
            Ok(None) => return Ok(lines),
            // SQLite may list the damage it found and then fail on it:
            // the list is the useful part.
            Err(error) if !lines.is_empty() => {
                lines.push(format!("(the check stopped there: {error})"));
                return Ok(lines);
            }
            Err(error) => return Err(error),
        }
    }
}

/// chatd's own checks: a schema version this build knows, and every table,
/// index and column that version has.
fn layout(conn: &Connection, report: &mut CheckReport) -> rusqlite::Result<()> {
    let version: u32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    report.schema_version = Some(version);
    if version > schema::CURRENT {
        report.problems.push(format!(
            "schema version {version} is newer than this chatd knows ({}); check it with the newer chatd that wrote it",
            schema::CURRENT
        ));
        return Ok(());
    }
    if version == 0 {
        // chatd sets a database up the moment it creates it: one without
        // its tables was emptied, or never finished being made.
        let what = match std::fs::metadata(&report.path) {
            Ok(metadata) if metadata.len() == 0 => "is empty (0 bytes)".to_owned(),
            _ => "has no chatd tables (schema version 0)".to_owned(),
        };
        report.problems.push(format!(
            "{} {what}: it holds no chatd data. If chatd has stored anything here, it is gone: restore a backup \
             (started on it as it is, chatd would begin again with no rooms, messages or accounts)",
            report.path.display()
        ));
        return Ok(());
    } else if version < schema::CURRENT {
        report.notes.push(format!(
            "schema version {version} is older than this chatd's ({}); chatd will migrate it at its next start",
            schema::CURRENT
        ));
    }
    // The layout that version must have, built the only way chatd ever
    // builds one: by running the migrations up to it, in memory.
    let expected = Connection::open_in_memory()?;
    for sql in &schema::MIGRATIONS[..version as usize] {
        expected.execute_batch(sql)?;
    }
    let want = objects(&expected)?;
    let have = objects(conn)?;
    for (kind, name) in want.difference(&have) {
        report.problems.push(format!("the {kind} `{name}` is missing"));
    }
    for (kind, name) in have.difference(&want) {
        report.notes.push(format!("the {kind} `{name}` is not one chatd uses"));
    }
    for (kind, table) in want.intersection(&have) {
        if kind != "table" {
            continue;
        }
        let have_columns = columns(conn, table)?;
        for column in columns(&expected, table)?.difference(&have_columns) {
            report.problems.push(format!("the table `{table}` has no column `{column}`"));
        }
    }
    if report.problems.is_empty() {
        rows::unreadable(conn, &expected, &want, report)?;
    }
    Ok(())
}

/// Every table and index, as (kind, name), but SQLite's own.
fn objects(conn: &Connection) -> rusqlite::Result<BTreeSet<(String, String)>> {
    let mut statement = conn.prepare(
        "SELECT type, name FROM sqlite_schema WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%'",
    )?;
    statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect()
}

fn columns(conn: &Connection, table: &str) -> rusqlite::Result<BTreeSet<String>> {
    let mut statement = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    statement.query_map([table], |row| row.get(0))?.collect()
}

/// SQLite's error, said as what it means for the operator.
fn describe(error: &rusqlite::Error) -> String {
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            format!("it is not a SQLite database: its header is damaged, or it is some other file ({error})")
        }
        Some(ErrorCode::DatabaseCorrupt) => format!("SQLite found damage it cannot read past ({error})"),
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
            format!("it cannot be opened; run this as chatd's user or root ({error})")
        }
        _ => format!("it cannot be read: {error}"),
    }
}

/// What an operator can do about a damaged database in `data_dir`, as
/// commands to run. Printed by `chatd check` and when chatd refuses to
/// start on a corrupt database.
pub fn recovery_steps(data_dir: &Path) -> String {
    let dir = data_dir.display();
    format!(
        "What to do next (chatd changed nothing; see docs/OPERATIONS.md, \"A damaged database\"):\n\
         \x20 1. See what is wrong:\n\
         \x20      chatd check --data-dir {dir}\n\
         \x20 2. Restore the latest backup (with chatd stopped):\n\
         \x20      mkdir {dir}/damaged && mv {dir}/chatd.db* {dir}/damaged/\n\
         \x20      cp BACKUP.db {dir}/chatd.db\n\
         \x20    then start chatd as before.\n\
         \x20 3. Or start empty, keeping the damaged file for later:\n\
         \x20      mkdir {dir}/damaged && mv {dir}/chatd.db* {dir}/damaged/\n\
         \x20    then start chatd as before: it creates a new, empty database.\n\
         \x20    (`sqlite3 {dir}/damaged/chatd.db .recover` may salvage rows from it.)"
    )
}
