//! The store suite: what any chatd store must do, whatever the database.
//! Each test runs twice, against SQLite and against PostgreSQL (which
//! skips where no PostgreSQL answers, see `chatd_tests::outside`), through
//! the one interface the storage thread drives, `chatd::store::Backend`.
//! What only one database has (SQLite's files, locks and damaged pages;
//! PostgreSQL's connections) is tested beside its store.

use chatcore::{
    Config, Engine, HistoryTarget, MessageKind, PasswordHash, ReadTarget, Record, StoredMessage, StoredModes,
    TokenHash, TokenId,
};
use chatd::store::{Backend, Page, Retention};
use chatd_tests::against_both_stores;
use chatd_tests::stores::Place;

against_both_stores!(
    records_survive_reopening_and_restore_an_engine,
    a_dropped_room_takes_its_messages_and_its_name_can_be_used_again,
    delivered_and_unblocked_are_forgotten,
    load_keeps_the_newest_messages_and_at_least_one,
    conversations_page_by_pair_either_way_round_and_numbering_carries_on,
    each_conversation_keeps_its_newest_whispers_only,
    history_pages_backwards,
    history_pages_forwards_from_any_number,
    a_conversation_pages_forwards_by_pair,
    a_page_forward_skips_and_counts_a_row_with_a_number_out_of_range,
    retention_prunes_by_count_and_age_but_keeps_each_rooms_newest,
    retention_by_age_never_deletes_a_young_message,
    a_rooms_modes_survive_reopening_and_each_set_replaces_the_last,
    a_dropped_room_takes_its_modes_and_lists,
    a_row_with_a_number_out_of_range_is_skipped_and_counted,
    the_newest_message_keeps_numbering_on_even_when_damaged,
    a_message_number_is_never_stored_twice,
    a_deleted_messages_text_is_erased_and_its_tombstone_and_deletion_are_kept,
    session_tokens_survive_reopening_and_revoking_deletes_them,
    operator_grants_survive_reopening_once_each_and_a_revocation_removes_one,
    read_markers_only_move_forward_and_go_with_their_room,
    always_on_and_an_accounts_rooms_survive_reopening_and_go_with_the_room,
);

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

fn whisper(seq: u64, from: &str, to: &str) -> Record {
    let message = StoredMessage {
        seq,
        from: from.into(),
        text: format!("w{seq}").into(),
        unix_ms: 1_000 * seq,
        kind: chatcore::MessageKind::Said,
    };
    Record::Whisper { to: to.into(), message }
}

fn seqs_of(page: &Page) -> Vec<u64> {
    page.messages.iter().map(|m| m.seq).collect()
}

fn message_seqs(records: &[Record]) -> Vec<u64> {
    records
        .iter()
        .filter_map(|r| if let Record::Message { message, .. } = r { Some(message.seq) } else { None })
        .collect()
}

/// The messages of `name` on disk, read through the store.
fn messages_in(store: &mut dyn Backend, name: &str) -> usize {
    store.history(&room(name), i64::MAX as u64, 1_000_000).unwrap().messages.len()
}

/// Room `r` with messages 1..=n, texts `m1`…
fn with_messages(place: &dyn Place, n: u64) {
    let mut records = vec![Record::RoomCreated { room: "r".into(), unix_ms: 0, owner: None }];
    records.extend((1..=n).map(|seq| message("r", seq, &format!("m{seq}"))));
    place.open().commit(&records).unwrap();
}

fn sample() -> Vec<Record> {
    vec![
        Record::RoomCreated { room: "Rust".into(), unix_ms: 1, owner: Some("Alice".into()) },
        message("Rust", 1, "one"),
        message("rust", 2, "two"),
        Record::TopicSet { room: "rust".into(), topic: Some("Rust".into()), by: "Alice".into(), unix_ms: 3 },
        Record::RoomVacated { room: "rust".into(), unix_ms: 4 },
        Record::AccountCreated { name: "Alice".into(), hash: PasswordHash::new("$argon2id$x"), unix_ms: 2 },
        Record::KnownSource { account: "alice".into(), source: "192.0.2.7".parse().unwrap() },
        Record::KnownSource { account: "alice".into(), source: "2001:db8::/64".parse().unwrap() },
        Record::LastSeen { account: "alice".into(), unix_ms: 5 },
        Record::Blocked { account: "alice".into(), name: "Mallory".into() },
        Record::OfflineKept { to: "alice".into(), from: "bob".into(), text: "hi".into(), unix_ms: 6, seq: None },
    ]
}

fn records_survive_reopening_and_restore_an_engine(place: &dyn Place) {
    place.open().commit(&sample()).unwrap();
    let loaded = place.open().load(100).unwrap();
    assert_eq!(
        loaded,
        vec![
            Record::RoomCreated { room: "Rust".into(), unix_ms: 1, owner: Some("Alice".into()) },
            message("Rust", 1, "one"),
            message("Rust", 2, "two"),
            Record::TopicSet { room: "Rust".into(), topic: Some("Rust".into()), by: "Alice".into(), unix_ms: 3 },
            Record::RoomVacated { room: "Rust".into(), unix_ms: 4 },
            Record::AccountCreated { name: "Alice".into(), hash: PasswordHash::new("$argon2id$x"), unix_ms: 2 },
            Record::LastSeen { account: "Alice".into(), unix_ms: 5 },
            Record::KnownSource { account: "Alice".into(), source: "192.0.2.7".parse().unwrap() },
            Record::KnownSource { account: "Alice".into(), source: "2001:db8::/64".parse().unwrap() },
            Record::Blocked { account: "Alice".into(), name: "Mallory".into() },
            Record::OfflineKept { to: "Alice".into(), from: "bob".into(), text: "hi".into(), unix_ms: 6, seq: None },
        ]
    );
    let engine = Engine::restore(Config::default(), loaded).unwrap();
    assert_eq!(engine.history_len("rust"), Some(2));
    assert_eq!(engine.offline_len("alice"), Some(1));
}

fn a_dropped_room_takes_its_messages_and_its_name_can_be_used_again(place: &dyn Place) {
    let mut store = place.open();
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

fn delivered_and_unblocked_are_forgotten(place: &dyn Place) {
    let mut store = place.open();
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

fn operator_grants_survive_reopening_once_each_and_a_revocation_removes_one(place: &dyn Place) {
    let grant = |name: &str| Record::OperatorGranted { account: name.into() };
    place.open().commit(&[grant("Alice"), grant("bob"), grant("ALICE"), grant("carol")]).unwrap();
    place.open().commit(&[Record::OperatorRevoked { account: "BOB".into() }]).unwrap();
    let loaded = place.open().load(100).unwrap();
    let granted: Vec<&Record> = loaded.iter().filter(|r| matches!(r, Record::OperatorGranted { .. })).collect();
    // Keyed by name whatever its case; the last spelling granted is kept.
    assert_eq!(granted, [&grant("ALICE"), &grant("carol")]);
    let engine = Engine::restore(Config::default(), loaded).expect("grants restore");
    let _ = engine;
}

fn load_keeps_the_newest_messages_and_at_least_one(place: &dyn Place) {
    with_messages(place, 10);
    let mut store = place.open();
    assert_eq!(message_seqs(&store.load(3).unwrap()), [8, 9, 10]);
    assert_eq!(message_seqs(&store.load(0).unwrap()), [10], "the newest carries message numbers on");
}

fn conversations_page_by_pair_either_way_round_and_numbering_carries_on(place: &dyn Place) {
    let kept =
        Record::OfflineKept { to: "bob".into(), from: "Alice".into(), text: "w4".into(), unix_ms: 4_000, seq: Some(4) };
    {
        let mut store = place.open();
        let mut records = vec![
            Record::AccountCreated { name: "Alice".into(), hash: PasswordHash::new("$argon2id$x"), unix_ms: 1 },
            Record::AccountCreated { name: "bob".into(), hash: PasswordHash::new("$argon2id$y"), unix_ms: 1 },
            Record::AccountCreated { name: "carol".into(), hash: PasswordHash::new("$argon2id$z"), unix_ms: 1 },
        ];
        records.extend([whisper(1, "Alice", "bob"), whisper(2, "bob", "Alice"), whisper(3, "carol", "Alice")]);
        records.extend([whisper(4, "Alice", "bob"), kept.clone()]);
        store.commit(&records).unwrap();
        let alice_bob = HistoryTarget::Conversation { account: "alice".into(), with: "BOB".into() };
        let bob_alice = HistoryTarget::Conversation { account: "bob".into(), with: "Alice".into() };
        assert_eq!(seqs_of(&store.history(&alice_bob, 5, 10).unwrap()), [1, 2, 4]);
        assert_eq!(store.history(&bob_alice, 5, 10).unwrap(), store.history(&alice_bob, 5, 10).unwrap());
        assert_eq!(seqs_of(&store.history(&alice_bob, 4, 1).unwrap()), [2]);
        let alice_carol = HistoryTarget::Conversation { account: "carol".into(), with: "alice".into() };
        assert_eq!(seqs_of(&store.history(&alice_carol, 5, 10).unwrap()), [3]);
        // A room of the same name as a pair's key is another thing entirely.
        assert_eq!(store.history(&room("alice bob"), 5, 10).unwrap(), Page::default());
    }
    let loaded = place.open().load(100).unwrap();
    let whispers: Vec<&Record> = loaded.iter().filter(|r| matches!(r, Record::Whisper { .. })).collect();
    assert_eq!(whispers, [&whisper(4, "Alice", "bob")], "only the newest, which numbering carries on from");
    assert!(loaded.contains(&kept), "{loaded:?}");
    let engine = Engine::restore(Config::default().with_emit_records(true), loaded).unwrap();
    assert_eq!(engine.offline_len("bob"), Some(1));
}

fn each_conversation_keeps_its_newest_whispers_only(place: &dyn Place) {
    let mut store = place.open();
    store.keep_whispers(Some(3));
    let mut records: Vec<Record> = (1..=6).map(|seq| whisper(seq, "alice", "bob")).collect();
    records.extend([whisper(7, "carol", "alice"), whisper(8, "alice", "carol")]);
    store.commit(&records).unwrap();
    let alice_bob = HistoryTarget::Conversation { account: "alice".into(), with: "bob".into() };
    assert_eq!(seqs_of(&store.history(&alice_bob, 100, 100).unwrap()), [4, 5, 6]);
    let alice_carol = HistoryTarget::Conversation { account: "alice".into(), with: "carol".into() };
    assert_eq!(seqs_of(&store.history(&alice_carol, 100, 100).unwrap()), [7, 8]);
    store.commit(&[whisper(9, "bob", "alice")]).unwrap();
    assert_eq!(seqs_of(&store.history(&alice_bob, 100, 100).unwrap()), [5, 6, 9]);
    assert_eq!(place.count("whispers"), 5);
}

fn history_pages_backwards(place: &dyn Place) {
    with_messages(place, 10);
    let mut store = place.open();
    assert_eq!(seqs_of(&store.history(&room("R"), 8, 3).unwrap()), [5, 6, 7]);
    assert_eq!(store.history(&room("r"), 8, 3).unwrap().messages[0].text.as_ref(), "m5");
    assert_eq!(store.history(&room("r"), 1, 3).unwrap(), Page::default());
    assert_eq!(store.history(&room("nowhere"), 100, 3).unwrap(), Page::default());
}

fn history_pages_forwards_from_any_number(place: &dyn Place) {
    with_messages(place, 10);
    let mut store = place.open();
    assert_eq!(seqs_of(&store.history_after(&room("R"), 4, 3).unwrap()), [5, 6, 7]);
    assert_eq!(store.history_after(&room("r"), 4, 3).unwrap().messages[0].text.as_ref(), "m5");
    assert_eq!(seqs_of(&store.history_after(&room("r"), 0, 2).unwrap()), [1, 2]);
    assert_eq!(seqs_of(&store.history_after(&room("r"), 8, 5).unwrap()), [9, 10]);
    assert_eq!(store.history_after(&room("r"), 10, 3).unwrap(), Page::default());
    // Numbers beyond what the database holds match nothing rather than fail.
    assert_eq!(store.history_after(&room("r"), u64::MAX, 3).unwrap(), Page::default());
    assert_eq!(store.history_after(&room("nowhere"), 0, 3).unwrap(), Page::default());
    // Walking forward a page at a time reads every message once, in order.
    let (mut after, mut seen) = (0, Vec::new());
    loop {
        let page = store.history_after(&room("r"), after, 3).unwrap();
        let Some(last) = page.messages.last() else { break };
        after = last.seq;
        seen.extend(seqs_of(&page));
    }
    assert_eq!(seen, (1..=10).collect::<Vec<u64>>());
}

fn a_conversation_pages_forwards_by_pair(place: &dyn Place) {
    let mut store = place.open();
    let mut records = vec![
        Record::AccountCreated { name: "Alice".into(), hash: PasswordHash::new("$argon2id$x"), unix_ms: 1 },
        Record::AccountCreated { name: "bob".into(), hash: PasswordHash::new("$argon2id$y"), unix_ms: 1 },
        Record::AccountCreated { name: "carol".into(), hash: PasswordHash::new("$argon2id$z"), unix_ms: 1 },
    ];
    records.extend([whisper(1, "Alice", "bob"), whisper(2, "carol", "Alice"), whisper(3, "bob", "Alice")]);
    records.push(whisper(4, "Alice", "bob"));
    store.commit(&records).unwrap();
    let alice_bob = HistoryTarget::Conversation { account: "alice".into(), with: "BOB".into() };
    let bob_alice = HistoryTarget::Conversation { account: "bob".into(), with: "Alice".into() };
    assert_eq!(seqs_of(&store.history_after(&alice_bob, 0, 2).unwrap()), [1, 3]);
    assert_eq!(seqs_of(&store.history_after(&bob_alice, 1, 10).unwrap()), [3, 4]);
    assert_eq!(store.history_after(&alice_bob, 4, 10).unwrap(), Page::default());
}

fn a_page_forward_skips_and_counts_a_row_with_a_number_out_of_range(place: &dyn Place) {
    with_messages(place, 5);
    place.sql("UPDATE messages SET ts_ms = -1 WHERE room_key = 'r' AND seq = 3");
    let mut store = place.open();
    let page = store.history_after(&room("r"), 1, 10).unwrap();
    assert_eq!((seqs_of(&page), page.unreadable), (vec![2, 4, 5], 1));
}

fn retention_prunes_by_count_and_age_but_keeps_each_rooms_newest(place: &dyn Place) {
    let mut store = place.open();
    let mut records = vec![
        Record::RoomCreated { room: "a".into(), unix_ms: 0, owner: None },
        Record::RoomCreated { room: "b".into(), unix_ms: 0, owner: None },
    ];
    records.extend((1..=10).map(|seq| message("a", seq, "x")));
    records.extend((1..=3).map(|seq| message("b", seq, "x")));
    store.commit(&records).unwrap();
    let by_count = Retention { max_age_days: None, max_per_room: Some(4), ..Retention::default() };
    while store.prune(by_count, 0).unwrap() > 0 {}
    assert_eq!((messages_in(&mut *store, "a"), messages_in(&mut *store, "b")), (4, 3));
    // Every message is from the first seconds of 1970: all are older than a day.
    let by_age = Retention { max_age_days: Some(1), max_per_room: None, ..Retention::default() };
    while store.prune(by_age, 10 * 86_400_000).unwrap() > 0 {}
    assert_eq!((messages_in(&mut *store, "a"), messages_in(&mut *store, "b")), (1, 1));
    assert_eq!(place.count("messages"), 2);
}

fn retention_by_age_never_deletes_a_young_message(place: &dyn Place) {
    let mut store = place.open();
    let day = 86_400_000;
    let said = |seq: u64, unix_ms: u64| Record::Message {
        room: "r".into(),
        message: StoredMessage { seq, from: "a".into(), text: "x".into(), unix_ms, kind: chatcore::MessageKind::Said },
    };
    // Old, young, then old again (the clock was set back), then the newest.
    store
        .commit(&[
            Record::RoomCreated { room: "r".into(), unix_ms: 0, owner: None },
            said(1, 0),
            said(2, 9 * day),
            said(3, 0),
            said(4, 9 * day),
        ])
        .unwrap();
    let by_age = Retention { max_age_days: Some(2), max_per_room: None, ..Retention::default() };
    while store.prune(by_age, 10 * day).unwrap() > 0 {}
    assert_eq!(seqs_of(&store.history(&room("r"), 10, 10).unwrap()), [2, 3, 4], "3 is old but waits behind 2");
}

fn vault_modes(bans: &[&str]) -> StoredModes {
    StoredModes {
        invite_only: true,
        moderated: true,
        secret: true,
        topic_locked: true,
        external_messages: false,
        key: Some("sesame".into()),
        limit: Some(5),
        bans: bans.iter().map(|&b| b.into()).collect(),
        operators: vec!["Bob".into()],
    }
}

fn said_in_vault(seq: u64) -> Record {
    let message = StoredMessage {
        seq,
        from: "alice".into(),
        text: "the launch code is 0000".into(),
        unix_ms: 3,
        kind: chatcore::MessageKind::Said,
    };
    Record::Message { room: "vault".into(), message }
}

fn a_rooms_modes_survive_reopening_and_each_set_replaces_the_last(place: &dyn Place) {
    place
        .open()
        .commit(&[
            Record::AccountCreated { name: "alice".into(), hash: PasswordHash::new("$argon2id$x"), unix_ms: 1 },
            Record::AccountCreated { name: "Bob".into(), hash: PasswordHash::new("$argon2id$y"), unix_ms: 1 },
            Record::RoomCreated { room: "vault".into(), unix_ms: 2, owner: Some("alice".into()) },
            Record::RoomModesSet { room: "vault".into(), modes: vault_modes(&["m!*@*", "e!*@*", "x!*@*"]) },
            said_in_vault(1),
            Record::RoomModesSet { room: "VAULT".into(), modes: vault_modes(&["x!*@*", "m!*@*"]) },
            Record::RoomVacated { room: "vault".into(), unix_ms: 4 },
        ])
        .unwrap();
    let mut store = place.open();
    let loaded = store.load(100).unwrap();
    assert_eq!(
        loaded[..4],
        [
            Record::RoomCreated { room: "vault".into(), unix_ms: 2, owner: Some("alice".into()) },
            said_in_vault(1),
            Record::RoomModesSet { room: "vault".into(), modes: vault_modes(&["x!*@*", "m!*@*"]) },
            Record::RoomVacated { room: "vault".into(), unix_ms: 4 },
        ]
    );
    // Outsiders may send once `-n` is set; every flag reads back as written.
    let open = StoredModes {
        invite_only: false,
        moderated: false,
        secret: false,
        topic_locked: false,
        external_messages: true,
        key: None,
        limit: None,
        bans: vec![],
        operators: vec![],
    };
    store.commit(&[Record::RoomModesSet { room: "vault".into(), modes: open.clone() }]).unwrap();
    let loaded = store.load(100).unwrap();
    assert!(loaded.contains(&Record::RoomModesSet { room: "vault".into(), modes: open }), "{loaded:?}");
    Engine::restore(Config::default(), loaded).unwrap();
}

fn a_dropped_room_takes_its_modes_and_lists(place: &dyn Place) {
    let mut store = place.open();
    store
        .commit(&[
            Record::RoomCreated { room: "den".into(), unix_ms: 1, owner: None },
            Record::RoomModesSet { room: "den".into(), modes: vault_modes(&["m!*@*"]) },
            said_in_vault(1),
            Record::RoomDropped { room: "den".into() },
            Record::RoomCreated { room: "den".into(), unix_ms: 2, owner: None },
        ])
        .unwrap();
    assert_eq!(store.load(100).unwrap(), [Record::RoomCreated { room: "den".into(), unix_ms: 2, owner: None }]);
    assert_eq!(place.count("room_bans") + place.count("room_operators"), 0);
}

fn a_row_with_a_number_out_of_range_is_skipped_and_counted(place: &dyn Place) {
    with_messages(place, 5);
    // A time before 1970, as no chatd writes: a row edited by hand.
    place.sql("UPDATE messages SET ts_ms = -1 WHERE room_key = 'r' AND seq = 2");
    let mut store = place.open();
    let page = store.history(&room("r"), 6, 10).unwrap();
    assert_eq!((seqs_of(&page), page.unreadable), (vec![1, 3, 4, 5], 1));
    assert_eq!(message_seqs(&store.load(100).unwrap()), [1, 3, 4, 5]);
}

fn the_newest_message_keeps_numbering_on_even_when_damaged(place: &dyn Place) {
    with_messages(place, 3);
    place.sql("UPDATE messages SET ts_ms = -1 WHERE room_key = 'r' AND seq = 3");
    let loaded = place.open().load(100).unwrap();
    let newest = StoredMessage {
        seq: 3,
        from: "alice".into(),
        text: "m3".into(),
        unix_ms: 0,
        kind: chatcore::MessageKind::Said,
    };
    assert_eq!(loaded.last(), Some(&Record::Message { room: "r".into(), message: newest }));
    let engine = Engine::restore(Config::default(), loaded).unwrap();
    assert_eq!(engine.history_len("r"), Some(3));
}

fn a_message_number_is_never_stored_twice(place: &dyn Place) {
    with_messages(place, 2);
    let mut store = place.open();
    // The whole transaction fails, the room's other new message with it.
    assert!(store.commit(&[message("r", 3, "three"), message("r", 2, "again")]).is_err());
    assert!(store.commit(&[message("R", 2, "again")]).is_err());
    assert_eq!(seqs_of(&store.history(&room("r"), 10, 10).unwrap()), [1, 2]);
    store.commit(&[message("r", 3, "three")]).unwrap();
    assert_eq!(seqs_of(&store.history(&room("r"), 10, 10).unwrap()), [1, 2, 3]);
}

fn a_deleted_messages_text_is_erased_and_its_tombstone_and_deletion_are_kept(place: &dyn Place) {
    with_messages(place, 3);
    let mut store = place.open();
    let deletion = Record::MessageDeleted {
        room: "R".into(),
        seq: 2,
        from: "alice".into(),
        by: "Bob".into(),
        unix_ms: 9_000,
        event: 4,
    };
    store.commit(&[deletion]).unwrap();
    // The text is gone from the row, not hidden beside it.
    assert_eq!(place.count("messages WHERE text LIKE '%m2%'"), 0);
    assert_eq!(place.count("messages WHERE text = ''"), 2, "the tombstone and the deletion");
    let tombstone = StoredMessage {
        seq: 2,
        from: "alice".into(),
        text: "".into(),
        unix_ms: 2_000,
        kind: MessageKind::Deleted { by: "Bob".into(), unix_ms: 9_000 },
    };
    let deleted = StoredMessage {
        seq: 4,
        from: "alice".into(),
        text: "".into(),
        unix_ms: 9_000,
        kind: MessageKind::Deletion { of: 2, by: "Bob".into() },
    };
    let as_stored = |message: &StoredMessage| Record::Message { room: "r".into(), message: message.clone() };
    // Pages either way, and a load at start, show both.
    let forward = store.history_after(&room("r"), 1, 10).unwrap();
    assert_eq!(forward.messages[0], tombstone);
    assert_eq!(forward.messages[2], deleted);
    let back = store.history(&room("r"), 5, 10).unwrap();
    assert_eq!(seqs_of(&back), [1, 2, 3, 4]);
    assert_eq!(back.messages[1], tombstone);
    drop(store);
    let loaded = place.open().load(100).unwrap();
    assert_eq!(loaded[2..], [as_stored(&tombstone), message("r", 3, "m3"), as_stored(&deleted)]);
    // A restored room numbers on after the deletion.
    let engine = Engine::restore(Config::default(), loaded).unwrap();
    assert_eq!(engine.history_len("r"), Some(4));
}

fn token(account: &str, id: u64, created_ms: u64, expires_ms: u64) -> Record {
    let hash = TokenHash::new([id as u8; 32]);
    Record::TokenIssued { account: account.into(), id: TokenId::new(id), hash, created_ms, expires_ms }
}

fn tokens_in(records: &[Record]) -> Vec<Record> {
    records.iter().filter(|r| matches!(r, Record::TokenIssued { .. })).cloned().collect()
}

fn session_tokens_survive_reopening_and_revoking_deletes_them(place: &dyn Place) {
    let mut store = place.open();
    store.commit(&sample()).unwrap();
    // An id with its top bit set, as half of all random ids have.
    let high = u64::MAX - 6;
    store.commit(&[token("alice", high, 10, 20), token("ALICE", 2, 11, 1_000), token("alice", 3, 12, 1_000)]).unwrap();
    drop(store);
    let loaded = place.open().load(100).unwrap();
    assert_eq!(
        tokens_in(&loaded),
        [token("Alice", high, 10, 20), token("Alice", 2, 11, 1_000), token("Alice", 3, 12, 1_000)]
    );
    let engine = Engine::restore(Config::default(), loaded).unwrap();
    drop(engine);
    let mut store = place.open();
    store
        .commit(&[
            Record::TokenRevoked { account: "alice".into(), id: TokenId::new(2) },
            // Issuing prunes the account's expired tokens.
            token("alice", 4, 30, 1_000),
        ])
        .unwrap();
    assert_eq!(tokens_in(&store.load(100).unwrap()), [token("Alice", 3, 12, 1_000), token("Alice", 4, 30, 1_000)]);
    let new_hash = PasswordHash::new("$argon2id$y");
    store
        .commit(&[
            Record::PasswordChanged { account: "alice".into(), hash: new_hash.clone() },
            Record::TokensRevoked { account: "Alice".into() },
        ])
        .unwrap();
    drop(store);
    let loaded = place.open().load(100).unwrap();
    assert_eq!(tokens_in(&loaded), []);
    assert!(
        loaded.contains(&Record::AccountCreated { name: "Alice".into(), hash: new_hash, unix_ms: 2 }),
        "{loaded:?}"
    );
}

fn marker(account: &str, target: ReadTarget, seq: u64) -> Record {
    Record::ReadMarker { account: account.into(), target, seq, unix_ms: 1_000 * seq }
}

fn markers_of(records: &[Record]) -> Vec<Record> {
    records.iter().filter(|r| matches!(r, Record::ReadMarker { .. })).cloned().collect()
}

fn read_markers_only_move_forward_and_go_with_their_room(place: &dyn Place) {
    let mut store = place.open();
    store.commit(&sample()).unwrap();
    let bob = Record::AccountCreated { name: "Bob".into(), hash: PasswordHash::new("$argon2id$y"), unix_ms: 7 };
    let rust = || ReadTarget::Room("rust".into());
    let with_bob = || ReadTarget::Conversation("bob".into());
    store
        .commit(&[bob, marker("alice", rust(), 1), marker("ALICE", rust(), 2), marker("alice", with_bob(), 9)])
        .unwrap();
    // Behind the stored marker: an upsert that keeps the greater.
    store.commit(&[marker("alice", rust(), 1), marker("alice", with_bob(), 3)]).unwrap();
    let loaded = store.load(100).unwrap();
    assert_eq!(
        markers_of(&loaded),
        [marker("Alice", with_bob(), 9), marker("Alice", rust(), 2)],
        "markers come back once each, the furthest, after what they name"
    );
    let engine = Engine::restore(Config::default(), loaded).unwrap();
    assert_eq!(engine.history_len("rust"), Some(2));
    // A later time at the same number (IRC marks by time) moves it too;
    // an earlier one does not.
    let at = |unix_ms| Record::ReadMarker { account: "alice".into(), target: rust(), seq: 2, unix_ms };
    store.commit(&[at(5_000), at(4_000)]).unwrap();
    let moved = markers_of(&store.load(100).unwrap());
    assert!(moved.iter().any(|r| matches!(r, Record::ReadMarker { seq: 2, unix_ms: 5_000, .. })), "{moved:?}");
    store.commit(&[Record::RoomDropped { room: "Rust".into() }]).unwrap();
    store.commit(&[Record::RoomCreated { room: "rust".into(), unix_ms: 9, owner: None }]).unwrap();
    assert_eq!(markers_of(&store.load(100).unwrap()), [marker("Alice", with_bob(), 9)]);
}

fn always_on_and_an_accounts_rooms_survive_reopening_and_go_with_the_room(place: &dyn Place) {
    let mut store = place.open();
    store.commit(&sample()).unwrap();
    store
        .commit(&[
            Record::RoomCreated { room: "Go".into(), unix_ms: 7, owner: None },
            Record::RoomCreated { room: "Den".into(), unix_ms: 7, owner: None },
            Record::AlwaysOn { account: "alice".into(), on: true },
            Record::AccountRoom { account: "alice".into(), room: "rust".into(), joined: true },
            Record::AccountRoom { account: "ALICE".into(), room: "go".into(), joined: true },
            Record::AccountRoom { account: "alice".into(), room: "den".into(), joined: true },
            Record::AccountRoom { account: "alice".into(), room: "DEN".into(), joined: false },
        ])
        .unwrap();
    drop(store);
    let mut store = place.open();
    let loaded = store.load(100).unwrap();
    let kept: Vec<&Record> =
        loaded.iter().filter(|r| matches!(r, Record::AlwaysOn { .. } | Record::AccountRoom { .. })).collect();
    assert_eq!(
        kept,
        [
            &Record::AlwaysOn { account: "Alice".into(), on: true },
            &Record::AccountRoom { account: "Alice".into(), room: "Go".into(), joined: true },
            &Record::AccountRoom { account: "Alice".into(), room: "Rust".into(), joined: true },
        ]
    );
    // A restart puts alice back in both, with no connection.
    let engine = Engine::restore(Config::default(), loaded).unwrap();
    let counts: Vec<(&str, usize)> = engine.room_summaries().collect();
    assert_eq!(counts, [("Den", 0), ("Go", 1), ("Rust", 1)]);
    // A dropped room takes its memberships with it; always-on off is kept too.
    store.commit(&[Record::RoomDropped { room: "go".into() }]).unwrap();
    store.commit(&[Record::AlwaysOn { account: "alice".into(), on: false }]).unwrap();
    let loaded = store.load(100).unwrap();
    let kept: Vec<&Record> =
        loaded.iter().filter(|r| matches!(r, Record::AlwaysOn { .. } | Record::AccountRoom { .. })).collect();
    assert_eq!(kept, [&Record::AccountRoom { account: "Alice".into(), room: "Rust".into(), joined: true }]);
}
