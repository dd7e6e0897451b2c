//! What only the PostgreSQL store has: a schema version table that several
//! chatds may race to create, a cloak key they share, and connections that
//! break while the server lives on. (What every store must do is the
//! store suite's, `store_suite.rs`.) Each test has a database of its own,
//! and skips where no PostgreSQL answers.

use chatcore::{HistoryTarget, Record, StoredMessage};
use chatd::store::{Backend, PgStore, StoreError};
use chatd_tests::relay::Relay;
use chatd_tests::stores::{Place, PostgresDatabase};

fn message(seq: u64) -> Record {
    let message = StoredMessage { seq, from: "alice".into(), text: format!("m{seq}").into(), unix_ms: seq };
    Record::Message { room: "r".into(), message }
}

fn seqs(store: &mut dyn Backend) -> Vec<u64> {
    let page = store.history(&HistoryTarget::Room("r".into()), 1_000, 1_000).unwrap();
    page.messages.iter().map(|m| m.seq).collect()
}

#[test]
fn chatds_starting_at_once_on_a_new_database_migrate_it_once() {
    let Some(place) = PostgresDatabase::new() else { return };
    let opened: Vec<Result<PgStore, StoreError>> = std::thread::scope(|scope| {
        let starting: Vec<_> = (0..4).map(|_| scope.spawn(|| PgStore::open(place.url()))).collect();
        starting.into_iter().map(|chatd| chatd.join().unwrap()).collect()
    });
    for result in &opened {
        assert!(result.is_ok(), "{:?}", result.as_ref().err().map(ToString::to_string));
    }
    assert_eq!(place.database().sql("SELECT count(*), min(version), max(version) FROM chatd_schema"), "1|3|3");
    assert_eq!(place.count("messages"), 0);
}

#[test]
fn a_database_from_a_newer_chatd_is_refused_and_left_untouched() {
    let Some(place) = PostgresDatabase::new() else { return };
    place.open().commit(&[Record::RoomCreated { room: "r".into(), unix_ms: 1, owner: None }]).unwrap();
    place.sql("UPDATE chatd_schema SET version = 999");
    let error = PgStore::open(place.url()).err().expect("refused");
    assert!(matches!(error, StoreError::NewerSchema { found: 999, supported: 3 }), "{error}");
    assert!(error.to_string().contains("newer than this chatd supports"), "{error}");
    assert_eq!(place.database().sql("SELECT version FROM chatd_schema"), "999");
    assert_eq!(place.count("rooms"), 1);
}

#[test]
fn every_chatd_on_a_database_cloaks_with_the_one_key_made_first() {
    let Some(place) = PostgresDatabase::new() else { return };
    let keys: Vec<_> = std::thread::scope(|scope| {
        let chatds: Vec<_> = (0..4).map(|_| scope.spawn(|| place.open_postgres().cloak_key().unwrap())).collect();
        chatds.into_iter().map(|chatd| chatd.join().unwrap()).collect()
    });
    assert!(keys.windows(2).all(|pair| pair[0] == pair[1]), "the chatds disagree on the key");
    assert_eq!(place.open_postgres().cloak_key().unwrap(), keys[0], "and it is kept");
    assert_eq!(place.count("cloak_key"), 1);
    place.sql("UPDATE cloak_key SET key = 'not hex'");
    let error = place.open_postgres().cloak_key().unwrap_err();
    assert!(error.to_string().contains("not 64 hexadecimal digits"), "{error}");
}

#[test]
fn a_connection_lost_while_idle_is_made_again_without_a_failure() {
    let Some(place) = PostgresDatabase::new() else { return };
    let mut store = place.open();
    store.commit(&[Record::RoomCreated { room: "r".into(), unix_ms: 0, owner: None }, message(1)]).unwrap();
    for seq in 2..=4 {
        assert_eq!(place.database().end_other_sessions(), 1, "the store's one connection");
        store.commit(&[message(seq)]).unwrap();
    }
    assert_eq!(place.database().end_other_sessions(), 1);
    assert_eq!(seqs(&mut *store), [1, 2, 3, 4], "a read on a lost connection is made again too");
}

#[test]
fn a_commit_whose_answer_was_lost_is_found_made_and_not_written_again() {
    let Some(place) = PostgresDatabase::new() else { return };
    let relay = Relay::start(place.database().server_addr());
    let url = place.database().url_through(relay.addr()).parse().unwrap();
    let mut store = PgStore::open(&url).unwrap();
    store.commit(&[Record::RoomCreated { room: "r".into(), unix_ms: 0, owner: None }, message(1)]).unwrap();
    // The server gets COMMIT and commits; chatd never hears so.
    relay.cut_after(b"COMMIT");
    let batch = [message(2), message(3)];
    assert!(store.commit(&batch).is_err(), "the answer was lost");
    // The storage thread retries with the same records: written again,
    // they would break the room's numbering (and fail for ever).
    store.commit(&batch).unwrap();
    assert_eq!(seqs(&mut store), [1, 2, 3]);
    store.commit(&[message(4)]).unwrap();
    assert_eq!(place.count("messages"), 4);
}

#[test]
fn a_commit_cut_off_before_commit_is_written_whole_on_the_retry() {
    let Some(place) = PostgresDatabase::new() else { return };
    let relay = Relay::start(place.database().server_addr());
    let url = place.database().url_through(relay.addr()).parse().unwrap();
    let mut store = PgStore::open(&url).unwrap();
    store.commit(&[Record::RoomCreated { room: "r".into(), unix_ms: 0, owner: None }]).unwrap();
    // Cut as the messages go out (the statement is new on this connection,
    // so its text goes too): the transaction never reaches COMMIT.
    relay.cut_after(b"INSERT INTO messages");
    let batch = [message(1), message(2)];
    assert!(store.commit(&batch).is_err());
    // While the server is away every attempt fails; then one works.
    relay.cut();
    assert!(store.commit(&batch).is_err());
    relay.resume();
    store.commit(&batch).unwrap();
    assert_eq!(seqs(&mut store), [1, 2]);
}
