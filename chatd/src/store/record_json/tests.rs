use chatcore::{MessageKind, PasswordHash, Record, SourceKey, StoredMessage, StoredModes, TokenHash, TokenId};
use proptest::prelude::*;
use serde_json::json;

use super::{FeedError, decode, encode};

/// Any text a record may hold, including what JSON must escape.
fn text() -> impl Strategy<Value = Box<str>> {
    prop_oneof!["[a-zA-Z0-9#_]{1,12}", "\\PC{0,24}", Just("quote \" back\\slash \n tab\t é ✓".to_owned())]
        .prop_map(Into::into)
}

fn maybe_text() -> impl Strategy<Value = Option<Box<str>>> {
    proptest::option::of(text())
}

fn message() -> impl Strategy<Value = StoredMessage> {
    (any::<u64>(), text(), text(), any::<u64>(), kind()).prop_map(|(seq, from, text, unix_ms, kind)| StoredMessage {
        seq,
        from,
        text,
        unix_ms,
        kind,
    })
}

/// Said, deleted, or a deletion.
fn kind() -> impl Strategy<Value = MessageKind> {
    prop_oneof![
        Just(MessageKind::Said),
        (text(), any::<u64>()).prop_map(|(by, unix_ms)| MessageKind::Deleted { by, unix_ms }),
        (any::<u64>(), text()).prop_map(|(of, by)| MessageKind::Deletion { of, by }),
    ]
}

fn source() -> impl Strategy<Value = SourceKey> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|[a, b, c, d]| format!("{a}.{b}.{c}.{d}")),
        any::<[u16; 4]>().prop_map(|[a, b, c, d]| format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")),
    ]
    .prop_map(|text| text.parse().expect("a source's text form"))
}

fn modes() -> impl Strategy<Value = StoredModes> {
    (
        any::<[bool; 5]>(),
        maybe_text(),
        proptest::option::of(any::<u32>()),
        proptest::collection::vec(text(), 0..3),
        proptest::collection::vec(text(), 0..3),
    )
        .prop_map(
            |([invite_only, moderated, secret, topic_locked, external_messages], key, limit, bans, operators)| {
                StoredModes {
                    invite_only,
                    moderated,
                    secret,
                    topic_locked,
                    external_messages,
                    key,
                    limit,
                    bans,
                    operators,
                }
            },
        )
}

/// Every kind of record, with any values.
fn record() -> impl Strategy<Value = Record> {
    prop_oneof![
        (text(), any::<u64>(), maybe_text()).prop_map(|(room, unix_ms, owner)| Record::RoomCreated {
            room,
            unix_ms,
            owner
        }),
        (text(), any::<u64>()).prop_map(|(room, unix_ms)| Record::RoomVacated { room, unix_ms }),
        (text(), maybe_text(), text(), any::<u64>()).prop_map(|(room, topic, by, unix_ms)| Record::TopicSet {
            room,
            topic,
            by,
            unix_ms
        }),
        (text(), modes()).prop_map(|(room, modes)| Record::RoomModesSet { room, modes }),
        text().prop_map(|room| Record::RoomDropped { room }),
        (text(), message()).prop_map(|(room, message)| Record::Message { room, message }),
        (text(), any::<u64>(), text(), text(), any::<u64>(), any::<u64>()).prop_map(
            |(room, seq, from, by, unix_ms, event)| Record::MessageDeleted { room, seq, from, by, unix_ms, event }
        ),
        (text(), text(), any::<u64>()).prop_map(|(name, hash, unix_ms)| Record::AccountCreated {
            name,
            hash: PasswordHash::new(hash),
            unix_ms
        }),
        (text(), source()).prop_map(|(account, source)| Record::KnownSource { account, source }),
        (text(), any::<u64>()).prop_map(|(account, unix_ms)| Record::LastSeen { account, unix_ms }),
        (text(), message()).prop_map(|(to, message)| Record::Whisper { to, message }),
        (text(), text(), text(), any::<u64>(), proptest::option::of(any::<u64>()))
            .prop_map(|(to, from, text, unix_ms, seq)| Record::OfflineKept { to, from, text, unix_ms, seq }),
        text().prop_map(|to| Record::OfflineDelivered { to }),
        (text(), text()).prop_map(|(account, name)| Record::Blocked { account, name }),
        (text(), any::<bool>()).prop_map(|(account, on)| Record::AlwaysOn { account, on }),
        (text(), text(), any::<bool>()).prop_map(|(account, room, joined)| Record::AccountRoom {
            account,
            room,
            joined
        }),
        (text(), text()).prop_map(|(account, name)| Record::Unblocked { account, name }),
        (text(), text()).prop_map(|(account, hash)| Record::PasswordChanged { account, hash: PasswordHash::new(hash) }),
        (text(), any::<u64>(), any::<[u8; 32]>(), any::<u64>(), any::<u64>()).prop_map(
            |(account, id, hash, created_ms, expires_ms)| Record::TokenIssued {
                account,
                id: TokenId::new(id),
                hash: TokenHash::new(hash),
                created_ms,
                expires_ms,
            }
        ),
        (text(), any::<u64>()).prop_map(|(account, id)| Record::TokenRevoked { account, id: TokenId::new(id) }),
        text().prop_map(|account| Record::TokensRevoked { account }),
        text().prop_map(|account| Record::OperatorGranted { account }),
        text().prop_map(|account| Record::OperatorRevoked { account }),
        (text(), text(), any::<bool>(), any::<u64>(), any::<u64>()).prop_map(|(account, name, room, seq, unix_ms)| {
            let target = if room { chatcore::ReadTarget::Room(name) } else { chatcore::ReadTarget::Conversation(name) };
            Record::ReadMarker { account, target, seq, unix_ms }
        }),
    ]
}

proptest! {
    #[test]
    fn every_record_comes_back_as_it_was(record in record()) {
        prop_assert_eq!(decode(&encode(&record)), Ok(record.clone()));
        // As the database hands it back: JSON text, parsed again.
        let text = encode(&record).to_string();
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(decode(&parsed), Ok(record));
    }
}

#[test]
fn a_password_hash_travels_as_its_text() {
    let record = Record::AccountCreated { name: "Alice".into(), hash: PasswordHash::new("$argon2id$x"), unix_ms: 2 };
    assert_eq!(encode(&record)["hash"], "$argon2id$x");
    let Ok(Record::AccountCreated { hash, .. }) = decode(&encode(&record)) else { panic!("an account") };
    assert_eq!(hash.expose(), "$argon2id$x");
}

#[test]
fn what_is_not_a_record_is_named_in_the_error() {
    assert_eq!(decode(&json!([1])), Err(FeedError::NoKind));
    assert_eq!(decode(&json!({ "room": "r" })), Err(FeedError::NoKind));
    assert_eq!(decode(&json!({ "kind": "room_renamed" })), Err(FeedError::UnknownKind("room_renamed".into())));
    assert_eq!(
        decode(&json!({ "kind": "room_vacated", "room": "r", "unix_ms": -1 })),
        Err(FeedError::Field { kind: "room_vacated", field: "unix_ms" })
    );
    assert_eq!(
        decode(&json!({ "kind": "message", "room": "r", "message": { "seq": 1, "from": "a", "unix_ms": 1 } })),
        Err(FeedError::Field { kind: "message", field: "text" })
    );
    assert_eq!(
        decode(&json!({ "kind": "known_source", "account": "a", "source": "nowhere" })),
        Err(FeedError::Source { kind: "known_source", text: "nowhere".into() })
    );
    let limit = json!({ "kind": "room_modes_set", "room": "r", "modes": {
        "invite_only": false, "moderated": false, "secret": false, "topic_locked": false,
        "external_messages": false, "key": null, "limit": 5_000_000_000_u64, "bans": [], "operators": [] } });
    assert_eq!(decode(&limit), Err(FeedError::Field { kind: "room_modes_set", field: "limit" }));
}
