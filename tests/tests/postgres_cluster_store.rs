//! The PostgreSQL store as the source of truth of a cluster: two stores
//! on one database act as two nodes, `a` and `b`, each with its own
//! connection, as two chatds would. Room messages are numbered in the
//! transaction that stores them, with no gap and no repeat however the
//! nodes race; every other record goes to the change feed, which a
//! follower reads without ever skipping an entry. Each test has a
//! database of its own, and skips where no PostgreSQL answers.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use chatcore::{
    HistoryTarget, MessageKind, PasswordHash, Publication, PublishTicket, Record, RoomMessage, StoredMessage,
    StoredModes,
};
use chatd::store::postgres::cluster::{FEED_KEEP_ENTRIES, FEED_KEEP_MS};
use chatd::store::postgres::schema::MIGRATIONS;
use chatd::store::{Backend, FeedEntry, PgStore};
use chatd_tests::relay::Relay;
use chatd_tests::stores::{Place, PostgresDatabase};

fn created(room: &str) -> Record {
    Record::RoomCreated { room: room.into(), unix_ms: 1, owner: None }
}

fn publication(ticket: u64, room: &str, text: &str) -> Publication {
    Publication {
        ticket: PublishTicket::from_u64(ticket),
        room: room.into(),
        from: "alice".into(),
        host: "alice.example".into(),
        text: text.into(),
        unix_ms: 1_000 + ticket,
        notice: ticket.is_multiple_of(2),
        kind: chatcore::MessageKind::Said,
    }
}

/// Commits `records` alone on `node`.
fn commit(store: &mut PgStore, node: &str, records: &[Record]) {
    assert!(store.commit_cluster(node, records, &[]).unwrap().is_empty());
}

fn seqs(messages: &[RoomMessage]) -> Vec<u64> {
    messages.iter().map(|message| message.seq).collect()
}

#[test]
fn two_nodes_publishing_to_one_room_at_once_number_it_without_gap_or_repeat() {
    let Some(place) = PostgresDatabase::new() else { return };
    commit(&mut place.open_postgres(), "a", &[created("r")]);
    const BATCHES: u64 = 40;
    let given: Vec<Vec<(u64, u64)>> = std::thread::scope(|scope| {
        let nodes: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|node| {
                let place = &place;
                scope.spawn(move || {
                    let mut store = place.open_postgres();
                    let mut given = Vec::new();
                    for batch in 0..BATCHES {
                        // Now one publication, now three to the room in one batch.
                        let tickets: Vec<u64> = (0..1 + 2 * (batch % 2)).map(|i| batch * 10 + i).collect();
                        let publications: Vec<_> = tickets
                            .iter()
                            .map(|&ticket| publication(ticket, "R", &format!("{node}{ticket}")))
                            .collect();
                        let numbers = store.commit_cluster(node, &[], &publications).unwrap();
                        assert_eq!(numbers.len(), tickets.len());
                        let numbers: Vec<u64> = numbers.into_iter().map(|n| n.expect("the room exists")).collect();
                        assert!(
                            numbers.windows(2).all(|pair| pair[1] == pair[0] + 1),
                            "one batch, consecutive: {numbers:?}"
                        );
                        given.extend(tickets.into_iter().zip(numbers));
                    }
                    given
                })
            })
            .collect();
        nodes.into_iter().map(|node| node.join().unwrap()).collect()
    });
    let total = given.iter().map(Vec::len).sum::<usize>() as u64;
    assert_eq!(total, BATCHES * 4);
    let numbers: BTreeSet<u64> = given.iter().flatten().map(|(_, seq)| *seq).collect();
    assert_eq!(numbers, (1..=total).collect(), "every number once, none missing");

    // What each node reads back: every message, each with its ticket on
    // the node that published it only.
    let mut reader = place.open_postgres();
    for (node, mine) in ["a", "b"].into_iter().zip(&given) {
        let messages = reader.room_messages(node, "r", 0, None, 10_000).unwrap();
        assert_eq!(seqs(&messages), (1..=total).collect::<Vec<_>>());
        let with_tickets: BTreeSet<(u64, u64)> =
            messages.iter().filter_map(|message| message.ticket.map(|ticket| (ticket.as_u64(), message.seq))).collect();
        assert_eq!(with_tickets, mine.iter().copied().collect(), "node {node}'s own tickets, no other's");
        assert!(messages.iter().all(|message| message.text.starts_with(node) == message.ticket.is_some()));
    }
    assert_eq!(reader.room_heads(&["r", "R"]).unwrap(), [total, total]);
}

#[test]
fn a_deletion_erases_its_message_and_takes_the_next_number_once() {
    let Some(place) = PostgresDatabase::new() else { return };
    let mut a = place.open_postgres();
    let mut b = place.open_postgres();
    commit(&mut a, "a", &[created("rust")]);
    let said: Vec<_> = (1..=2).map(|ticket| publication(ticket, "rust", &format!("secret{ticket}"))).collect();
    assert_eq!(a.commit_cluster("a", &[], &said).unwrap(), [Some(1), Some(2)]);
    let deletion = |ticket, of| Publication {
        from: "alice".into(),
        host: "op.example".into(),
        text: "the reason is told, not kept".into(),
        unix_ms: 5_000,
        notice: false,
        kind: MessageKind::Deletion { of, by: "op".into() },
        ..publication(ticket, "rust", "")
    };
    // Two nodes delete message 1 at once: the store keeps one deletion.
    assert_eq!(b.commit_cluster("b", &[], &[deletion(10, 1), deletion(11, 1)]).unwrap(), [Some(3), None]);
    assert_eq!(a.commit_cluster("a", &[], &[deletion(12, 1)]).unwrap(), [None], "deleted already");
    assert_eq!(a.commit_cluster("a", &[], &[deletion(13, 3)]).unwrap(), [None], "a deletion is no message");
    assert_eq!(a.commit_cluster("a", &[], &[deletion(14, 9)]).unwrap(), [None], "never said");
    assert_eq!(a.commit_cluster("a", &[], &[publication(4, "rust", "after")]).unwrap(), [Some(4)], "no gap");
    let messages = a.room_messages("a", "rust", 0, None, 100).unwrap();
    assert_eq!(seqs(&messages), [1, 2, 3, 4]);
    assert_eq!(
        (&*messages[0].text, &messages[0].kind),
        ("", &MessageKind::Deleted { by: "op".into(), unix_ms: 5_000 })
    );
    assert_eq!(&*messages[1].text, "secret2");
    assert_eq!(messages[2].kind, MessageKind::Deletion { of: 1, by: "op".into() });
    assert_eq!((&*messages[2].text, &*messages[2].host, messages[2].ticket), ("", "op.example", None));
    let on_b = b.room_messages("b", "rust", 2, Some(3), 100).unwrap();
    assert_eq!(on_b[0].ticket, Some(PublishTicket::from_u64(10)), "the deleting node gets its ticket back");
    // The feed carries the one deletion stored, for nodes not following the room.
    let feed: Vec<Record> = a.changes_after(0, 100).unwrap().into_iter().map(|entry| entry.record).collect();
    let deleted = Record::MessageDeleted {
        room: "rust".into(),
        seq: 1,
        from: "alice".into(),
        by: "op".into(),
        unix_ms: 5_000,
        event: 3,
    };
    assert_eq!(feed.iter().filter(|r| matches!(r, Record::MessageDeleted { .. })).collect::<Vec<_>>(), [&deleted]);
    // A device catching up after 2 learns of it from the store.
    let page = a.history_after(&HistoryTarget::Room("rust".into()), 2, 10).unwrap();
    let kinds: Vec<_> = page.messages.iter().map(|m| (m.seq, m.kind.clone())).collect();
    assert_eq!(kinds, [(3, MessageKind::Deletion { of: 1, by: "op".into() }), (4, MessageKind::Said)]);
}

#[test]
fn backfill_reads_what_was_published_between_two_numbers() {
    let Some(place) = PostgresDatabase::new() else { return };
    let mut a = place.open_postgres();
    let mut b = place.open_postgres();
    commit(&mut a, "a", &[created("Rust"), created("empty")]);
    let publications: Vec<_> = (1..=5).map(|ticket| publication(ticket, "rust", &format!("m{ticket}"))).collect();
    assert_eq!(a.commit_cluster("a", &[], &publications).unwrap(), [1, 2, 3, 4, 5].map(Some));

    let messages = b.room_messages("b", "RUST", 1, Some(4), 100).unwrap();
    assert_eq!(seqs(&messages), [2, 3, 4]);
    assert_eq!(
        messages[0],
        RoomMessage {
            room: "RUST".into(),
            seq: 2,
            from: "alice".into(),
            host: "alice.example".into(),
            text: "m2".into(),
            unix_ms: 1_002,
            notice: true,
            kind: chatcore::MessageKind::Said,
            ticket: None,
        }
    );
    assert!(!messages[1].notice);
    let on_a = a.room_messages("a", "rust", 3, None, 100).unwrap();
    assert_eq!(seqs(&on_a), [4, 5]);
    assert_eq!(on_a[1], publications[4].numbered(5), "the publishing node gets its ticket back");
    assert_eq!(seqs(&a.room_messages("a", "rust", 0, None, 2).unwrap()), [1, 2], "at most the limit, oldest first");
    assert!(a.room_messages("a", "rust", 5, None, 100).unwrap().is_empty());
    assert_eq!(b.room_heads(&["rust", "empty", "nowhere"]).unwrap(), [5, 0, 0]);
    assert_eq!(b.room_heads(&[]).unwrap(), Vec::<u64>::new());
}

#[test]
fn a_publication_to_a_room_another_node_dropped_gets_no_number_and_fails_nothing() {
    let Some(place) = PostgresDatabase::new() else { return };
    let mut a = place.open_postgres();
    let mut b = place.open_postgres();
    commit(&mut a, "a", &[created("gone"), created("here")]);
    assert_eq!(a.commit_cluster("a", &[], &[publication(1, "gone", "one")]).unwrap(), [Some(1)]);
    commit(&mut b, "b", &[Record::RoomDropped { room: "gone".into() }]);
    let batch = [publication(2, "gone", "lost"), publication(3, "here", "kept"), publication(4, "never", "lost")];
    assert_eq!(a.commit_cluster("a", &[], &batch).unwrap(), [None, Some(1), None]);
    assert_eq!(place.count("messages"), 1, "the publications without a room are not stored");

    // Created again, in the batch that publishes to it: numbered from 1.
    let numbers = a.commit_cluster("a", &[created("gone")], &[publication(5, "gone", "anew")]).unwrap();
    assert_eq!(numbers, [Some(1)]);
    assert_eq!(seqs(&b.room_messages("b", "gone", 0, None, 10).unwrap()), [1]);
}

#[test]
fn what_both_nodes_create_or_number_alike_commits_on_both() {
    let Some(place) = PostgresDatabase::new() else { return };
    let mut a = place.open_postgres();
    let mut b = place.open_postgres();
    let whisper = |text: &str| Record::Whisper {
        to: "bob".into(),
        message: StoredMessage {
            seq: 1,
            from: "alice".into(),
            text: text.into(),
            unix_ms: 1,
            kind: chatcore::MessageKind::Said,
        },
    };
    let account =
        |hash: &str| Record::AccountCreated { name: "alice".into(), hash: PasswordHash::new(hash), unix_ms: 1 };
    commit(&mut a, "a", &[created("r"), account("$a"), whisper("from a")]);
    commit(&mut b, "b", &[created("R"), account("$b"), whisper("from b")]);
    // Another conversation may hold the same number.
    let other = Record::Whisper {
        to: "carol".into(),
        message: StoredMessage {
            seq: 1,
            from: "alice".into(),
            text: "hi".into(),
            unix_ms: 1,
            kind: chatcore::MessageKind::Said,
        },
    };
    commit(&mut b, "b", &[other]);
    assert_eq!((place.count("rooms"), place.count("accounts"), place.count("whispers")), (1, 1, 2));
    assert_eq!(place.database().sql("SELECT hash FROM accounts"), "$a", "the first writer's");

    // Records about a room or account that is gone change nothing, and fail nothing.
    commit(&mut b, "b", &[Record::RoomDropped { room: "r".into() }]);
    let modes = StoredModes {
        invite_only: true,
        moderated: false,
        secret: false,
        topic_locked: true,
        external_messages: false,
        key: None,
        limit: None,
        bans: vec!["*!*@spam".into()],
        operators: vec!["alice".into()],
    };
    commit(
        &mut a,
        "a",
        &[
            Record::RoomModesSet { room: "r".into(), modes },
            Record::TopicSet { room: "r".into(), topic: Some("t".into()), by: "alice".into(), unix_ms: 2 },
            Record::RoomVacated { room: "r".into(), unix_ms: 3 },
            Record::LastSeen { account: "nobody".into(), unix_ms: 4 },
            Record::Blocked { account: "alice".into(), name: "mallory".into() },
        ],
    );
    commit(&mut b, "b", &[Record::Blocked { account: "alice".into(), name: "Mallory".into() }]);
    assert_eq!((place.count("rooms"), place.count("room_bans"), place.count("room_operators")), (0, 0, 0));
    assert_eq!(place.count("blocks"), 1);
}

#[test]
fn the_feed_carries_every_record_but_messages_in_commit_order() {
    let Some(place) = PostgresDatabase::new() else { return };
    let mut a = place.open_postgres();
    let mut b = place.open_postgres();
    assert_eq!(b.feed_head().unwrap(), 0);
    assert!(b.changes_after(0, 100).unwrap().is_empty());
    let first = vec![
        created("r"),
        Record::AccountCreated { name: "Alice".into(), hash: PasswordHash::new("$argon2id$x"), unix_ms: 2 },
        Record::KnownSource { account: "alice".into(), source: "192.0.2.7".parse().unwrap() },
    ];
    let second = vec![
        Record::TopicSet { room: "r".into(), topic: Some("Rust".into()), by: "Alice".into(), unix_ms: 3 },
        Record::Message {
            room: "r".into(),
            message: StoredMessage {
                seq: 1,
                from: "x".into(),
                text: "not in the feed".into(),
                unix_ms: 1,
                kind: chatcore::MessageKind::Said,
            },
        },
        Record::LastSeen { account: "alice".into(), unix_ms: 5 },
    ];
    commit(&mut a, "a", &first);
    // A batch of publications alone adds nothing to the feed.
    assert_eq!(a.commit_cluster("a", &[], &[publication(1, "r", "hi")]).unwrap(), [Some(1)]);
    commit(&mut b, "b", &second);

    let entries = a.changes_after(0, 100).unwrap();
    let seen: Vec<(&str, &Record)> = entries.iter().map(|entry| (entry.node.as_str(), &entry.record)).collect();
    let expected: Vec<(&str, &Record)> = first
        .iter()
        .map(|record| ("a", record))
        .chain(second.iter().filter(|record| !matches!(record, Record::Message { .. })).map(|record| ("b", record)))
        .collect();
    assert_eq!(seen, expected);
    assert!(entries.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert_eq!(a.feed_head().unwrap(), entries[4].id);
    assert_eq!(a.changes_after(entries[1].id, 2).unwrap(), entries[2..4].to_vec());

    // An entry this chatd cannot read is skipped, not an error.
    place.sql(r#"INSERT INTO cluster_changes (node, record, ts_ms) VALUES ('c', '{"kind": "room_renamed"}', 0)"#);
    commit(&mut b, "b", &[Record::LastSeen { account: "alice".into(), unix_ms: 6 }]);
    let after: Vec<FeedEntry> = a.changes_after(entries[4].id, 100).unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].record, Record::LastSeen { account: "alice".into(), unix_ms: 6 });
    assert_eq!(after[0].id, a.feed_head().unwrap());
}

#[test]
fn a_follower_polling_while_nodes_commit_never_skips_an_entry() {
    let Some(place) = PostgresDatabase::new() else { return };
    const NODES: [&str; 4] = ["a", "b", "c", "d"];
    let mut setup: Vec<Record> = NODES.iter().map(|node| created(node)).collect();
    setup.extend(NODES.iter().map(|node| Record::AccountCreated {
        name: (*node).into(),
        hash: PasswordHash::new("$x"),
        unix_ms: 1,
    }));
    commit(&mut place.open_postgres(), "a", &setup);
    let start = place.open_postgres().feed_head().unwrap();
    const BATCHES: u64 = 150;
    let done = AtomicBool::new(false);
    let seen: Vec<i64> = std::thread::scope(|scope| {
        let writers: Vec<_> = NODES
            .into_iter()
            .map(|node| {
                let place = &place;
                scope.spawn(move || {
                    let mut store = place.open_postgres();
                    for batch in 0..BATCHES {
                        // Each node writes rows of its own, so that no row
                        // lock makes the nodes take turns: only the
                        // feed's order is under test.
                        let records = [Record::LastSeen { account: node.into(), unix_ms: batch }];
                        let publications = [publication(batch, node, node)];
                        store.commit_cluster(node, &records, &publications).unwrap();
                    }
                })
            })
            .collect();
        let follower = scope.spawn(|| {
            let mut store = place.open_postgres();
            let (mut last, mut seen) = (start, Vec::new());
            loop {
                // Whether the writers were done before this poll: a poll
                // after they were done sees everything.
                let finished = done.load(Ordering::SeqCst);
                let entries = store.changes_after(last, 7).unwrap();
                if entries.is_empty() && finished {
                    return seen;
                }
                for entry in entries {
                    assert!(entry.id > last);
                    last = entry.id;
                    seen.push(entry.id);
                }
            }
        });
        for writer in writers {
            writer.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
        follower.join().unwrap()
    });
    let stored: Vec<i64> = place
        .database()
        .sql(&format!("SELECT id FROM cluster_changes WHERE id > {start} ORDER BY id"))
        .lines()
        .map(|id| id.parse().unwrap())
        .collect();
    assert_eq!(stored.len(), NODES.len() * BATCHES as usize);
    let skipped: Vec<&i64> = stored.iter().filter(|id| !seen.contains(id)).collect();
    assert!(skipped.is_empty(), "the follower never saw entries {skipped:?}");
    assert_eq!(seen, stored, "and saw each once, in order");
}

#[test]
fn a_retried_commit_whose_answer_was_lost_answers_the_numbers_it_gave() {
    let Some(place) = PostgresDatabase::new() else { return };
    let relay = Relay::start(place.database().server_addr());
    let url = place.database().url_through(relay.addr()).parse().unwrap();
    let mut store = PgStore::open(&url).unwrap();
    commit(&mut store, "a", &[created("r")]);
    assert_eq!(store.commit_cluster("a", &[], &[publication(1, "r", "one")]).unwrap(), [Some(1)]);
    // The server gets COMMIT and commits; chatd never hears so.
    relay.cut_after(b"COMMIT");
    let records = [Record::LastSeen { account: "alice".into(), unix_ms: 1 }];
    let batch = [publication(2, "r", "two"), publication(3, "r", "three")];
    assert!(store.commit_cluster("a", &records, &batch).is_err(), "the answer was lost");
    // Numbered again, each would be stored twice and the feed entry too.
    assert_eq!(store.commit_cluster("a", &records, &batch).unwrap(), [Some(2), Some(3)]);
    assert_eq!(place.count("messages"), 3);
    assert_eq!(place.count("cluster_changes"), 2, "the room and the last-seen time, once each");
    assert_eq!(store.commit_cluster("a", &[], &[publication(4, "r", "four")]).unwrap(), [Some(4)]);
}

#[test]
fn a_database_of_the_first_layout_is_migrated_and_numbering_carries_on() {
    let Some(place) = PostgresDatabase::new() else { return };
    place.sql(&format!(
        "CREATE TABLE chatd_schema (version INTEGER NOT NULL); INSERT INTO chatd_schema VALUES (1); {}",
        MIGRATIONS[0]
    ));
    place.sql(
        "INSERT INTO rooms (key, name, created_ms) VALUES ('r', 'R', 1);
         INSERT INTO messages (room_key, seq, sender, text, ts_ms) VALUES ('r', 6, 'alice', 'old', 6), ('r', 7, 'bob', 'older', 7);
         INSERT INTO whispers (seq, pair_key, sender, recipient, text, ts_ms) VALUES (1, 'alice bob', 'alice', 'bob', 'w', 1);",
    );
    let mut store = place.open_postgres();
    assert_eq!(place.database().sql("SELECT version FROM chatd_schema"), MIGRATIONS.len().to_string());
    let kept = store.room_messages("a", "r", 0, None, 10).unwrap();
    assert_eq!(seqs(&kept), [6, 7]);
    assert_eq!((&*kept[0].host, kept[0].notice, kept[0].ticket), ("chatd", false, None), "written before clusters");
    assert_eq!(store.commit_cluster("a", &[], &[publication(1, "r", "new")]).unwrap(), [Some(8)]);
    // The same number in another conversation is no conflict any more.
    let whisper = Record::Whisper {
        to: "carol".into(),
        message: StoredMessage {
            seq: 1,
            from: "alice".into(),
            text: "w".into(),
            unix_ms: 1,
            kind: chatcore::MessageKind::Said,
        },
    };
    store.commit(&[whisper]).unwrap();
    assert_eq!(place.count("whispers"), 2);
    assert_eq!(place.count("cluster_changes"), 0);
}

#[test]
fn the_feed_keeps_a_day_of_changes_and_at_most_its_newest_hundred_thousand() {
    let Some(place) = PostgresDatabase::new() else { return };
    let mut store = place.open_postgres();
    let now_ms: u64 = 10 * 86_400_000;
    let day_ago = now_ms - FEED_KEEP_MS;
    let change = r#"{"kind": "room_dropped", "room": "r"}"#;
    // Three a little more than a day old, two a little less.
    place.sql(&format!(
        "INSERT INTO cluster_changes (node, record, ts_ms)
         SELECT 'a', '{change}', {day_ago} + t FROM unnest(ARRAY[-3, -2, -1, 0, 1]) AS t"
    ));
    let prune_all = |store: &mut PgStore| {
        let mut deleted = 0;
        loop {
            match store.prune_changes(now_ms).unwrap() {
                0 => return deleted,
                n => deleted += n,
            }
        }
    };
    assert_eq!(prune_all(&mut store), 3);
    assert_eq!(place.database().sql("SELECT min(ts_ms) FROM cluster_changes"), day_ago.to_string());
    assert_eq!(place.count("cluster_changes"), 2);

    // A storm of young changes: only the newest are kept.
    let storm = FEED_KEEP_ENTRIES + 10;
    place.sql(&format!(
        "INSERT INTO cluster_changes (node, record, ts_ms) SELECT 'b', '{change}', {now_ms} FROM generate_series(1, {storm})"
    ));
    let newest = store.feed_head().unwrap();
    assert_eq!(prune_all(&mut store), 12);
    assert_eq!(place.count("cluster_changes"), FEED_KEEP_ENTRIES);
    assert_eq!(store.feed_head().unwrap(), newest);
    let oldest: i64 = place.database().sql("SELECT min(id) FROM cluster_changes").parse().unwrap();
    assert_eq!(oldest, newest - FEED_KEEP_ENTRIES as i64 + 1);
}
