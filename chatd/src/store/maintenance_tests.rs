//! `backup` and `check` against real stores on disk.

use std::path::Path;

use chatcore::{Record, StoredMessage};

use super::backup::{BackupError, backup};
use super::check::check;
use super::*;

fn records(from: u64, to: u64) -> Vec<Record> {
    (from..=to)
        .map(|seq| {
            let message = StoredMessage {
                seq,
                from: "alice".into(),
                text: format!("m{seq}").into(),
                unix_ms: seq,
                kind: chatcore::MessageKind::Said,
            };
            Record::Message { room: "r".into(), message }
        })
        .collect()
}

/// An open store (as a running chatd holds it) with room `r` and `n` messages.
fn running_store(dir: &Path, n: u64) -> Store {
    let mut store = Store::open(dir, SyncMode::Normal).unwrap();
    let mut all = vec![Record::RoomCreated { room: "r".into(), unix_ms: 0, owner: None }];
    all.extend(records(1, n));
    store.commit(&all).unwrap();
    store
}

fn message_count(store: &Store) -> usize {
    store.load(1_000).unwrap().iter().filter(|r| matches!(r, Record::Message { .. })).count()
}

#[test]
fn a_backup_of_a_running_store_holds_every_commit_and_restores() {
    let data = tempfile::tempdir().unwrap();
    let mut store = running_store(data.path(), 50);
    let out = tempfile::tempdir().unwrap();
    let to = out.path().join("chatd.backup.db");
    let summary = backup(data.path(), &to, false).unwrap();
    assert_eq!(summary.schema_version, schema::CURRENT);
    assert_eq!(summary.bytes, std::fs::metadata(&to).unwrap().len());
    // Written after the backup began: not in it.
    store.commit(&records(51, 60)).unwrap();

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&to).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // One self-contained file: nothing beside it to carry along.
    let beside: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(beside, ["chatd.backup.db"]);

    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&to, restored.path().join(DB_FILE)).unwrap();
    let copy = Store::open(restored.path(), SyncMode::Normal).unwrap();
    assert_eq!(message_count(&copy), 50);
    assert_eq!(copy.integrity_check().unwrap(), "ok");
    assert_eq!(message_count(&store), 60);
}

#[test]
fn a_backup_never_overwrites_unless_forced() {
    let data = tempfile::tempdir().unwrap();
    let _store = running_store(data.path(), 3);
    let to = data.path().join("precious.txt");
    std::fs::write(&to, "keep me").unwrap();
    let error = backup(data.path(), &to, false).unwrap_err();
    assert!(matches!(error, BackupError::Exists { .. }), "{error}");
    assert!(error.to_string().contains("--force"), "{error}");
    assert_eq!(std::fs::read_to_string(&to).unwrap(), "keep me");

    backup(data.path(), &to, true).unwrap();
    let copy = rusqlite::Connection::open(&to).unwrap();
    let n: i64 = copy.query_row("SELECT count(*) FROM messages", [], |row| row.get(0)).unwrap();
    assert_eq!(n, 3);
    // Nothing of the attempt is left behind.
    assert!(!data.path().join(".precious.txt.partial").exists());
}

#[test]
fn a_backup_refuses_the_live_database_and_a_missing_one() {
    let data = tempfile::tempdir().unwrap();
    let _store = running_store(data.path(), 3);
    let live = data.path().join(DB_FILE);
    let error = backup(data.path(), &live, true).unwrap_err();
    assert!(matches!(error, BackupError::SameFile { .. }), "{error}");

    let empty = tempfile::tempdir().unwrap();
    let error = backup(empty.path(), &empty.path().join("b.db"), false).unwrap_err();
    assert!(matches!(error, BackupError::Missing { .. }), "{error}");
    assert!(!empty.path().join("b.db").exists());
}

#[test]
fn a_backup_of_a_stopped_store_creates_nothing_in_its_directory() {
    let data = tempfile::tempdir().unwrap();
    drop(running_store(data.path(), 3));
    let before = listing(data.path());
    let out = tempfile::tempdir().unwrap();
    backup(data.path(), &out.path().join("b.db"), false).unwrap();
    // A -shm created by whoever runs the backup (root, say) could later
    // keep chatd's own user out of its database.
    assert_eq!(listing(data.path()), before);
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn check_finds_a_healthy_store_healthy_even_while_it_runs() {
    let data = tempfile::tempdir().unwrap();
    let _store = running_store(data.path(), 10);
    let report = check(data.path());
    assert!(report.healthy(), "{report:?}");
    assert_eq!(report.schema_version, Some(schema::CURRENT));
    assert!(report.notes.is_empty(), "{report:?}");
}

#[test]
fn check_says_what_is_missing_or_unknown() {
    let empty = tempfile::tempdir().unwrap();
    let report = check(empty.path());
    assert!(!report.healthy());
    assert!(report.problems[0].contains("no database"), "{report:?}");

    let data = tempfile::tempdir().unwrap();
    drop(running_store(data.path(), 1));
    let db = rusqlite::Connection::open(data.path().join(DB_FILE)).unwrap();
    db.execute_batch("DROP TABLE whispers; ALTER TABLE rooms DROP COLUMN topic_by").unwrap();
    let report = check(data.path());
    assert!(report.problems.contains(&"the table `whispers` is missing".to_owned()), "{report:?}");
    assert!(report.problems.contains(&"the table `rooms` has no column `topic_by`".to_owned()), "{report:?}");

    db.pragma_update(None, "user_version", schema::CURRENT + 1).unwrap();
    let report = check(data.path());
    assert!(report.problems[0].contains("newer than this chatd knows"), "{report:?}");
}

#[test]
fn check_accepts_an_older_schema_that_chatd_will_migrate() {
    let data = tempfile::tempdir().unwrap();
    let db = rusqlite::Connection::open(data.path().join(DB_FILE)).unwrap();
    for sql in &schema::MIGRATIONS[..3] {
        db.execute_batch(sql).unwrap();
    }
    db.pragma_update(None, "user_version", 3).unwrap();
    let report = check(data.path());
    assert!(report.healthy(), "{report:?}");
    assert_eq!(report.schema_version, Some(3));
    assert!(report.notes[0].contains("will migrate"), "{report:?}");
}

#[test]
fn check_reports_damage_in_words() {
    let data = tempfile::tempdir().unwrap();
    drop(running_store(data.path(), 300));
    let path = data.path().join(DB_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle - 2048..middle + 2048].fill(0x5A);
    std::fs::write(&path, &bytes).unwrap();
    let report = check(data.path());
    assert!(!report.healthy(), "{report:?}");
    let said = report.problems.join("\n");
    assert!(said.contains("damage"), "{said}");

    std::fs::write(&path, b"not a database at all".repeat(300)).unwrap();
    let report = check(data.path());
    assert!(report.problems[0].contains("not a SQLite database"), "{report:?}");
}
