use chatcore::{Config, Engine, HistoryTarget, PasswordHash, Record, StoredMessage};

use super::*;

fn message(room: &str, seq: u64, text: &str) -> Record {
    let message = StoredMessage {
        seq,
        from: "alice".into(),
        text: text.into(),
        unix_ms: 1_000 * seq,
        kind: chatcore::MessageKind::Said,
    };
    Record::Message { room: room.into(), message }
}

fn room(name: &str) -> HistoryTarget {
    HistoryTarget::Room(name.into())
}

/// What the tests of SQLite's own ways below write: a room with two
/// messages, and an account with a whisper kept for it. (Every kind of
/// record, read back from either store, is the store suite's:
/// tests/tests/store_suite.rs.)
fn sample() -> Vec<Record> {
    vec![
        Record::RoomCreated { room: "Rust".into(), unix_ms: 1, owner: Some("Alice".into()) },
        message("Rust", 1, "one"),
        message("rust", 2, "two"),
        Record::AccountCreated { name: "Alice".into(), hash: PasswordHash::new("$argon2id$x"), unix_ms: 2 },
        Record::OfflineKept { to: "alice".into(), from: "bob".into(), text: "hi".into(), unix_ms: 6, seq: None },
    ]
}

/// A store with room `r` holding messages 1..=n, closed again; returns its directory.
fn store_with_messages(n: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
    let mut records = vec![Record::RoomCreated { room: "r".into(), unix_ms: 0, owner: None }];
    records.extend((1..=n).map(|seq| message("r", seq, &format!("m{seq}"))));
    store.commit(&records).unwrap();
    dir
}

/// Damages stored rows of room `r` as a flipped byte on disk would, with a
/// connection of its own: the text of `seqs` becomes `value` (an SQL
/// expression such as invalid UTF-8 as text or as a blob).
fn damage(dir: &std::path::Path, seqs: &[u64], value: &str) {
    let conn = rusqlite::Connection::open(dir.join("chatd.db")).unwrap();
    for seq in seqs {
        let changed = conn
            .execute(&format!("UPDATE messages SET text = {value} WHERE room_key = 'r' AND seq = ?1"), [seq])
            .unwrap();
        assert_eq!(changed, 1);
    }
}

fn seqs_of(page: &Page) -> Vec<u64> {
    page.messages.iter().map(|m| m.seq).collect()
}

#[test]
fn history_pages_past_an_unreadable_row_and_counts_it_once() {
    let dir = store_with_messages(10);
    damage(dir.path(), &[6], "CAST(x'fffe' AS BLOB)");
    damage(dir.path(), &[2], "CAST(x'c328' AS TEXT)");
    let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
    // Pages of 3 from the top: 8 9 10, then 5 7 (6 skipped), then 3 4 and 1 (2 skipped).
    let page = store.history(&room("r"), 11, 3).unwrap();
    assert_eq!((seqs_of(&page), page.unreadable), (vec![8, 9, 10], 0));
    let page = store.history(&room("r"), 8, 3).unwrap();
    assert_eq!((seqs_of(&page), page.unreadable), (vec![4, 5, 7], 1));
    let page = store.history(&room("r"), 4, 3).unwrap();
    assert_eq!((seqs_of(&page), page.unreadable), (vec![1, 3], 1));
    assert_eq!(page.messages[0].text.as_ref(), "m1");
    // Each row was logged once, however often it is paged over.
    store.history(&room("r"), 8, 3).unwrap();
    assert_eq!(store.logged_unreadable.len(), 2);
}

#[test]
fn an_unreadable_row_at_the_bottom_of_a_page_is_left_to_the_next_page() {
    let dir = store_with_messages(6);
    damage(dir.path(), &[3, 1], "CAST(x'ff' AS BLOB)");
    let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
    // 4 5 6 fill the page: 3 is below them and not counted here.
    let page = store.history(&room("r"), 7, 3).unwrap();
    assert_eq!((seqs_of(&page), page.unreadable), (vec![4, 5, 6], 0));
    // Nothing readable below 2 but 1, which cannot be read: the room ends there.
    let page = store.history(&room("r"), 4, 3).unwrap();
    assert_eq!((seqs_of(&page), page.unreadable), (vec![2], 2));
}

#[test]
fn the_unreadable_rows_logged_stay_bounded() {
    let n = 2 * records::MAX_LOGGED_UNREADABLE as u64 + 10;
    let dir = store_with_messages(n);
    {
        let conn = rusqlite::Connection::open(dir.path().join("chatd.db")).unwrap();
        conn.execute("UPDATE messages SET text = CAST(x'ff' AS BLOB) WHERE seq % 2 = 1", []).unwrap();
    }
    let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
    let (mut before, mut most, mut unreadable) = (n + 1, 0, 0);
    while let Some(page) = Some(store.history(&room("r"), before, 1).unwrap()).filter(|p| !p.messages.is_empty()) {
        before = page.messages[0].seq;
        unreadable += page.unreadable;
        most = most.max(store.logged_unreadable.len());
    }
    assert_eq!(before, 2);
    assert_eq!(unreadable as u64, n / 2 - 1, "every odd row above 2 counted once");
    assert_eq!(most, records::MAX_LOGGED_UNREADABLE);
    assert!(store.logged_unreadable.len() < records::MAX_LOGGED_UNREADABLE);
}

#[test]
fn start_skips_unreadable_messages_but_keeps_numbering_past_the_newest() {
    let dir = store_with_messages(5);
    damage(dir.path(), &[3], "CAST(x'ff' AS BLOB)");
    damage(dir.path(), &[5], "CAST(x'6869ff07' AS TEXT)");
    let store = Store::open(dir.path(), SyncMode::Normal).unwrap();
    let loaded = store.load(100).unwrap();
    let texts: Vec<(u64, String)> = loaded
        .iter()
        .filter_map(|r| if let Record::Message { message, .. } = r { Some(message) } else { None })
        .map(|m| (m.seq, m.text.to_string()))
        .collect();
    // 3 is skipped; 5, the newest, is kept with its bad byte and control
    // character replaced, so that the next message is number 6.
    assert_eq!(texts, [(1, "m1".into()), (2, "m2".into()), (4, "m4".into()), (5, "hi\u{fffd}\u{fffd}".into())]);
    let engine = Engine::restore(Config::default(), loaded).unwrap();
    assert_eq!(engine.history_len("r"), Some(4));
}

#[test]
fn start_skips_an_unreadable_kept_whisper() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
        store.commit(&sample()).unwrap();
        store
            .commit(&[Record::OfflineKept {
                to: "alice".into(),
                from: "carol".into(),
                text: "yo".into(),
                unix_ms: 7,
                seq: None,
            }])
            .unwrap();
    }
    let conn = rusqlite::Connection::open(dir.path().join("chatd.db")).unwrap();
    conn.execute("UPDATE offline SET text = CAST(x'ff' AS BLOB) WHERE sender = 'bob'", []).unwrap();
    drop(conn);
    let store = Store::open(dir.path(), SyncMode::Normal).unwrap();
    let kept: Vec<Record> =
        store.load(100).unwrap().into_iter().filter(|r| matches!(r, Record::OfflineKept { .. })).collect();
    assert_eq!(
        kept,
        [Record::OfflineKept { to: "Alice".into(), from: "carol".into(), text: "yo".into(), unix_ms: 7, seq: None }]
    );
}

#[test]
fn a_second_chatd_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open(dir.path(), SyncMode::Normal).unwrap();
    let second = Store::open(dir.path(), SyncMode::Normal).err().expect("locked");
    assert!(matches!(second, StoreError::Locked { .. }), "{second}");
    assert!(second.to_string().contains("in use by another chatd"));
}

#[test]
fn a_corrupt_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let junk = b"this is not a database, it is a shopping list\n".repeat(200);
    std::fs::write(dir.path().join("chatd.db"), &junk).unwrap();
    let error = Store::open(dir.path(), SyncMode::Normal).err().expect("refused");
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error}");
    assert_eq!(std::fs::read(dir.path().join("chatd.db")).unwrap(), junk);
}

#[test]
fn a_database_from_a_newer_chatd_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), SyncMode::Normal).unwrap());
    let path = dir.path().join("chatd.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", schema::CURRENT + 1).unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let error = Store::open(dir.path(), SyncMode::Normal).err().expect("refused");
    assert!(matches!(error, StoreError::NewerSchema { found, .. } if found == schema::CURRENT + 1), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_data_directory_that_cannot_be_created_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, b"").unwrap();
    let error = Store::open(&file.join("data"), SyncMode::Normal).err().expect("refused");
    assert!(matches!(error, StoreError::Unwritable { .. }), "{error}");
}

#[test]
fn a_database_that_opens_read_only_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
        store.commit(&sample()).unwrap();
    }
    let path = dir.path().join("chatd.db");
    let mut bytes = std::fs::read(&path).unwrap();
    // Byte 18 is the file format's write version: one SQLite does not know
    // makes it open the file read-only.
    bytes[18] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let error = Store::open(dir.path(), SyncMode::Normal).err().expect("refused");
    assert!(matches!(error, StoreError::ReadOnly { .. }), "{error}");
    assert!(error.to_string().contains("read-only"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_its_files_are_private_to_chatds_user() {
    let parent = tempfile::tempdir().unwrap();
    // The test process's umask (022) lets group and others read new files.
    std::fs::write(parent.path().join("control"), b"").unwrap();
    assert_eq!(mode(&parent.path().join("control")) & 0o044, 0o044, "expected a umask of 022");
    let dir = parent.path().join("data");
    let mut store = Store::open(&dir, SyncMode::Normal).unwrap();
    store.commit(&sample()).unwrap();
    assert_eq!(mode(&dir), 0o700);
    for name in ["chatd.db", "chatd.db-wal", "chatd.db-shm", "chatd.lock"] {
        assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
    }
}

#[cfg(unix)]
#[test]
fn an_existing_data_directory_that_others_can_read_is_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    drop(Store::open(&dir, SyncMode::Normal).unwrap());
    // As an older chatd left them under a umask of 022.
    let open = |path: &std::path::Path, mode| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    open(&dir, 0o755).unwrap();
    for name in ["chatd.db", "chatd.lock"] {
        open(&dir.join(name), 0o644).unwrap();
    }
    std::fs::write(dir.join("chatd.db-wal"), b"").unwrap();
    open(&dir.join("chatd.db-wal"), 0o644).unwrap();
    let _store = Store::open(&dir, SyncMode::Normal).unwrap();
    assert_eq!(mode(&dir), 0o700);
    for name in ["chatd.db", "chatd.db-wal", "chatd.db-shm", "chatd.lock"] {
        assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
    }
}

#[test]
fn what_is_written_reaches_the_database_file_soon_not_only_the_wal() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), SyncMode::Normal).unwrap();
    let (replies, inbox) = std::sync::mpsc::channel();
    let every = Duration::from_millis(100);
    let handle = thread::StoreHandle::spawn_checkpointing(Box::new(store), Retention::default(), every, move |reply| {
        let _ = replies.send(reply);
    });
    handle.send(thread::Job::Commit { batch: 1, records: sample(), publications: Vec::new() });
    assert!(matches!(inbox.recv().unwrap(), thread::Reply::Committed { upto: 1, .. }));
    // The database file alone, as if the WAL had been deleted while chatd ran.
    let copy = tempfile::tempdir().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        std::fs::copy(dir.path().join("chatd.db"), copy.path().join("chatd.db")).unwrap();
        let conn = rusqlite::Connection::open(copy.path().join("chatd.db")).unwrap();
        let stored: u64 = conn.query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).unwrap_or(0);
        drop(conn);
        let _ = std::fs::remove_file(copy.path().join("chatd.db-wal"));
        if stored == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the WAL was never checkpointed");
        std::thread::sleep(every);
    }
    handle.finish();
}

#[test]
fn a_database_of_the_first_layout_is_migrated_and_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    {
        // What chatd wrote before messages moved to a rowid table.
        let mut conn = rusqlite::Connection::open(dir.path().join("chatd.db")).unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute_batch(schema::MIGRATIONS[0]).unwrap();
        tx.pragma_update(None, "user_version", 1).unwrap();
        tx.execute_batch(
            "INSERT INTO rooms VALUES ('rust', 'Rust', 1), ('go', 'go', 2);
             INSERT INTO messages VALUES ('rust', 1, 'alice', 'one', 1000), ('rust', 2, 'bob', 'two', 3000),
                                         ('go', 1, 'carol', 'uno', 2000);
             INSERT INTO accounts VALUES ('alice', 'Alice', '$argon2id$x', 2, 5);
             INSERT INTO offline (to_key, sender, text, ts_ms) VALUES ('alice', 'bob', 'hi', 6);",
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
    let version: u32 = store.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, schema::CURRENT);
    let at = |room: &str, seq: u64, from: &str, text: &str, unix_ms: u64| Record::Message {
        room: room.into(),
        message: StoredMessage {
            seq,
            from: from.into(),
            text: text.into(),
            unix_ms,
            kind: chatcore::MessageKind::Said,
        },
    };
    assert_eq!(
        store.load(100).unwrap(),
        vec![
            Record::RoomCreated { room: "Rust".into(), unix_ms: 1, owner: None },
            at("Rust", 1, "alice", "one", 1000),
            at("Rust", 2, "bob", "two", 3000),
            Record::RoomCreated { room: "go".into(), unix_ms: 2, owner: None },
            at("go", 1, "carol", "uno", 2000),
            Record::AccountCreated { name: "Alice".into(), hash: PasswordHash::new("$argon2id$x"), unix_ms: 2 },
            Record::LastSeen { account: "Alice".into(), unix_ms: 5 },
            // Kept before conversations were: in none.
            Record::OfflineKept { to: "Alice".into(), from: "bob".into(), text: "hi".into(), unix_ms: 6, seq: None },
        ]
    );
    // The rows are in the order they were said, for retention by age.
    let order: Vec<(String, u64)> = {
        let mut query = store.conn.prepare("SELECT room_key, seq FROM messages ORDER BY id").unwrap();
        query.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
    };
    assert_eq!(order, [("rust".into(), 1), ("go".into(), 1), ("rust".into(), 2)]);
    // Numbers stay unique per room, and writing, paging and pruning work.
    assert!(store.commit(&[message("Rust", 2, "again")]).is_err());
    store.commit(&[message("Rust", 3, "three")]).unwrap();
    assert_eq!(seqs_of(&store.history(&room("rust"), 4, 10).unwrap()), [1, 2, 3]);
    let by_age = Retention { max_age_days: Some(1), max_per_room: None, ..Retention::default() };
    while store.prune(by_age, 10 * 86_400_000).unwrap() > 0 {}
    assert_eq!(store.message_count("rust").unwrap(), 1);
    assert_eq!(store.message_count("go").unwrap(), 1);
    assert_eq!(store.integrity_check().unwrap(), "ok");
    drop(store);
    // And it opens again as it is.
    let store = Store::open(dir.path(), SyncMode::Normal).unwrap();
    assert_eq!(store.load(100).unwrap().len(), 7);
}
