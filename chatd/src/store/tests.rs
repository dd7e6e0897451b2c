use chatcore::{Config, Engine, PasswordHash, Record, StoredMessage};

use super::*;

fn message(room: &str, seq: u64, text: &str) -> Record {
    let message = StoredMessage { seq, from: "alice".into(), text: text.into(), unix_ms: 1_000 * seq };
    Record::Message { room: room.into(), message }
}

fn sample() -> Vec<Record> {
    vec![
        Record::RoomCreated { room: "Rust".into(), unix_ms: 1, owner: Some("Alice".into()) },
        message("Rust", 1, "one"),
        message("rust", 2, "two"),
        Record::RoomVacated { room: "rust".into(), unix_ms: 4 },
        Record::AccountCreated { name: "Alice".into(), hash: PasswordHash::new("$argon2id$x"), unix_ms: 2 },
        Record::KnownSource { account: "alice".into(), source: "192.0.2.7".parse().unwrap() },
        Record::KnownSource { account: "alice".into(), source: "2001:db8::/64".parse().unwrap() },
        Record::LastSeen { account: "alice".into(), unix_ms: 5 },
        Record::Blocked { account: "alice".into(), name: "Mallory".into() },
        Record::OfflineKept { to: "alice".into(), from: "bob".into(), text: "hi".into(), unix_ms: 6 },
    ]
}

#[test]
fn records_survive_reopening_and_restore_an_engine() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
        store.commit(&sample()).unwrap();
    }
    let store = Store::open(dir.path(), SyncMode::Full).unwrap();
    let loaded = store.load(100).unwrap();
    assert_eq!(
        loaded,
        vec![
            Record::RoomCreated { room: "Rust".into(), unix_ms: 1, owner: Some("Alice".into()) },
            message("Rust", 1, "one"),
            message("Rust", 2, "two"),
            Record::RoomVacated { room: "Rust".into(), unix_ms: 4 },
            Record::AccountCreated { name: "Alice".into(), hash: PasswordHash::new("$argon2id$x"), unix_ms: 2 },
            Record::LastSeen { account: "Alice".into(), unix_ms: 5 },
            Record::KnownSource { account: "Alice".into(), source: "192.0.2.7".parse().unwrap() },
            Record::KnownSource { account: "Alice".into(), source: "2001:db8::/64".parse().unwrap() },
            Record::Blocked { account: "Alice".into(), name: "Mallory".into() },
            Record::OfflineKept { to: "Alice".into(), from: "bob".into(), text: "hi".into(), unix_ms: 6 },
        ]
    );
    let engine = Engine::restore(Config::default(), loaded).unwrap();
    assert_eq!(engine.history_len("rust"), Some(2));
    assert_eq!(engine.offline_len("alice"), Some(1));
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn a_dropped_room_takes_its_messages_and_its_name_can_be_used_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
    store.commit(&sample()).unwrap();
    store.commit(&[Record::RoomDropped { room: "RUST".into() }]).unwrap();
    assert!(store.load(100).unwrap().iter().all(|r| !matches!(r, Record::RoomCreated { .. } | Record::Message { .. })));
    store
        .commit(&[Record::RoomCreated { room: "rust".into(), unix_ms: 9, owner: None }, message("rust", 1, "again")])
        .unwrap();
    let loaded = store.load(100).unwrap();
    assert_eq!(
        loaded[..2],
        [Record::RoomCreated { room: "rust".into(), unix_ms: 9, owner: None }, message("rust", 1, "again")]
    );
}

#[test]
fn delivered_and_unblocked_are_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
    store.commit(&sample()).unwrap();
    store
        .commit(&[
            Record::OfflineDelivered { to: "ALICE".into() },
            Record::Unblocked { account: "alice".into(), name: "mallory".into() },
        ])
        .unwrap();
    let loaded = store.load(100).unwrap();
    assert!(!loaded.iter().any(|r| matches!(r, Record::OfflineKept { .. } | Record::Blocked { .. })), "{loaded:?}");
}

#[test]
fn load_keeps_the_newest_messages_and_at_least_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
    let mut records = vec![Record::RoomCreated { room: "r".into(), unix_ms: 0, owner: None }];
    records.extend((1..=10).map(|seq| message("r", seq, "x")));
    store.commit(&records).unwrap();
    let seqs = |records: Vec<Record>| -> Vec<u64> {
        records
            .into_iter()
            .filter_map(|r| if let Record::Message { message, .. } = r { Some(message.seq) } else { None })
            .collect()
    };
    assert_eq!(seqs(store.load(3).unwrap()), [8, 9, 10]);
    assert_eq!(seqs(store.load(0).unwrap()), [10], "the newest carries message numbers on");
}

#[test]
fn history_pages_backwards() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
    let mut records = vec![Record::RoomCreated { room: "r".into(), unix_ms: 0, owner: None }];
    records.extend((1..=10).map(|seq| message("r", seq, "x")));
    store.commit(&records).unwrap();
    let page: Vec<u64> = store.history("R", 8, 3).unwrap().iter().map(|m| m.seq).collect();
    assert_eq!(page, [5, 6, 7]);
    assert!(store.history("r", 1, 3).unwrap().is_empty());
    assert!(store.history("nowhere", 100, 3).unwrap().is_empty());
}

#[test]
fn retention_prunes_by_count_and_age_but_keeps_each_rooms_newest() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), SyncMode::Normal).unwrap();
    let mut records = vec![
        Record::RoomCreated { room: "a".into(), unix_ms: 0, owner: None },
        Record::RoomCreated { room: "b".into(), unix_ms: 0, owner: None },
    ];
    records.extend((1..=10).map(|seq| message("a", seq, "x")));
    records.extend((1..=3).map(|seq| message("b", seq, "x")));
    store.commit(&records).unwrap();
    let by_count = Retention { max_age_days: None, max_per_room: Some(4) };
    while store.prune(by_count, 0).unwrap() > 0 {}
    assert_eq!(store.message_count("a").unwrap(), 4);
    assert_eq!(store.message_count("b").unwrap(), 3);
    // Every message is from the first seconds of 1970: all are older than a day.
    let by_age = Retention { max_age_days: Some(1), max_per_room: None };
    while store.prune(by_age, 10 * 86_400_000).unwrap() > 0 {}
    assert_eq!(store.message_count("a").unwrap(), 1);
    assert_eq!(store.message_count("b").unwrap(), 1);
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
