//! A [`Record`] as JSON, as the cluster's change feed carries it from the
//! node that made it to every other (`cluster_changes.record`, JSONB).
//!
//! One object per record: `"kind"` names the variant in snake case, the
//! other keys are its fields by their Rust names. Numbers stay numbers
//! (JSON and JSONB keep a `u64` exact); a password hash is its text
//! ([`PasswordHash::expose`]), a source [`SourceKey`]'s text form, room
//! modes an object of their own. The match on the variant is exhaustive,
//! so a new kind of record does not compile until it travels too.
//!
//! Written by hand rather than derived: chatcore's records carry no serde
//! derives (chatcore keeps serde behind its `json` feature), and the
//! format of what lies in the database is chatd's to keep stable.

use chatcore::{
    MessageKind, PasswordHash, ReadTarget, Record, SourceKey, StoredMessage, StoredModes, TokenHash, TokenId,
};
use serde_json::{Map, Value, json};

/// A feed entry that is not a record this chatd can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// Not an object with a text `"kind"`.
    #[error("a change is not a JSON object with a \"kind\"")]
    NoKind,
    /// A kind this chatd does not know (a newer chatd's, perhaps).
    #[error("unknown kind of change {0:?}")]
    UnknownKind(String),
    /// A field is missing or holds the wrong type.
    #[error("change {kind}: field {field} is missing or not of its type")]
    Field {
        /// The record's kind.
        kind: &'static str,
        /// The field.
        field: &'static str,
    },
    /// A known source that is not a source's text form.
    #[error("change {kind}: {text:?} is not a source")]
    Source {
        /// The record's kind.
        kind: &'static str,
        /// What the field held.
        text: String,
    },
}

/// `record` as a JSON object.
#[must_use]
pub fn encode(record: &Record) -> Value {
    match record {
        Record::RoomCreated { room, unix_ms, owner } => {
            json!({ "kind": "room_created", "room": room, "unix_ms": unix_ms, "owner": owner })
        }
        Record::RoomVacated { room, unix_ms } => json!({ "kind": "room_vacated", "room": room, "unix_ms": unix_ms }),
        Record::TopicSet { room, topic, by, unix_ms } => {
            json!({ "kind": "topic_set", "room": room, "topic": topic, "by": by, "unix_ms": unix_ms })
        }
        Record::RoomModesSet { room, modes } => {
            json!({ "kind": "room_modes_set", "room": room, "modes": encode_modes(modes) })
        }
        Record::RoomDropped { room } => json!({ "kind": "room_dropped", "room": room }),
        Record::Message { room, message } => {
            json!({ "kind": "message", "room": room, "message": encode_message(message) })
        }
        Record::MessageDeleted { room, seq, from, by, unix_ms, event } => json!({
            "kind": "message_deleted", "room": room, "seq": seq, "from": from, "by": by, "unix_ms": unix_ms,
            "event": event,
        }),
        Record::AccountCreated { name, hash, unix_ms } => {
            json!({ "kind": "account_created", "name": name, "hash": hash.expose(), "unix_ms": unix_ms })
        }
        Record::KnownSource { account, source } => {
            json!({ "kind": "known_source", "account": account, "source": source.to_string() })
        }
        Record::LastSeen { account, unix_ms } => json!({ "kind": "last_seen", "account": account, "unix_ms": unix_ms }),
        Record::Whisper { to, message } => json!({ "kind": "whisper", "to": to, "message": encode_message(message) }),
        Record::OfflineKept { to, from, text, unix_ms, seq } => {
            json!({ "kind": "offline_kept", "to": to, "from": from, "text": text, "unix_ms": unix_ms, "seq": seq })
        }
        Record::OfflineDelivered { to } => json!({ "kind": "offline_delivered", "to": to }),
        Record::Blocked { account, name } => json!({ "kind": "blocked", "account": account, "name": name }),
        Record::Unblocked { account, name } => json!({ "kind": "unblocked", "account": account, "name": name }),
        Record::PasswordChanged { account, hash } => {
            json!({ "kind": "password_changed", "account": account, "hash": hash.expose() })
        }
        Record::TokenIssued { account, id, hash, created_ms, expires_ms } => json!({
            "kind": "token_issued",
            "account": account,
            "id": id.as_u64(),
            "hash": hex(hash.as_bytes()),
            "created_ms": created_ms,
            "expires_ms": expires_ms,
        }),
        Record::TokenRevoked { account, id } => {
            json!({ "kind": "token_revoked", "account": account, "id": id.as_u64() })
        }
        Record::TokensRevoked { account } => json!({ "kind": "tokens_revoked", "account": account }),
        Record::OperatorGranted { account } => json!({ "kind": "operator_granted", "account": account }),
        Record::OperatorRevoked { account } => json!({ "kind": "operator_revoked", "account": account }),
        // The target as a history request names it: `room`, or `with` for a conversation.
        Record::ReadMarker { account, target: ReadTarget::Room(room), seq, unix_ms } => {
            json!({ "kind": "read_marker", "account": account, "room": room, "seq": seq, "unix_ms": unix_ms })
        }
        Record::ReadMarker { account, target: ReadTarget::Conversation(with), seq, unix_ms } => {
            json!({ "kind": "read_marker", "account": account, "with": with, "seq": seq, "unix_ms": unix_ms })
        }
        Record::AlwaysOn { account, on } => json!({ "kind": "always_on", "account": account, "on": on }),
        Record::AccountRoom { account, room, joined } => {
            json!({ "kind": "account_room", "account": account, "room": room, "joined": joined })
        }
    }
}

/// A session token's hash as 64 lowercase hex digits.
fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn encode_message(message: &StoredMessage) -> Value {
    let StoredMessage { seq, from, text, unix_ms, kind } = message;
    let mut value = json!({ "seq": seq, "from": from, "text": text, "unix_ms": unix_ms });
    // A message as said has no more keys, as before deletions existed.
    match kind {
        MessageKind::Said => {}
        MessageKind::Deleted { by, unix_ms } => value["deleted"] = json!({ "by": by, "unix_ms": unix_ms }),
        MessageKind::Deletion { of, by } => value["deletion"] = json!({ "of": of, "by": by }),
    }
    value
}

fn encode_modes(modes: &StoredModes) -> Value {
    let StoredModes { invite_only, moderated, secret, topic_locked, external_messages, key, limit, bans, operators } =
        modes;
    json!({
        "invite_only": invite_only,
        "moderated": moderated,
        "secret": secret,
        "topic_locked": topic_locked,
        "external_messages": external_messages,
        "key": key,
        "limit": limit,
        "bans": bans,
        "operators": operators,
    })
}

/// The record `value` holds, as [`encode`] wrote it.
pub fn decode(value: &Value) -> Result<Record, FeedError> {
    let object = value.as_object().ok_or(FeedError::NoKind)?;
    let kind = object.get("kind").and_then(Value::as_str).ok_or(FeedError::NoKind)?;
    // The kind as a `'static` name for errors, and the fields read under it.
    let (kind, f) = match KINDS.iter().find(|known| **known == kind) {
        Some(known) => (*known, Fields { kind: known, object }),
        None => return Err(FeedError::UnknownKind(kind.to_owned())),
    };
    Ok(match kind {
        "room_created" => {
            Record::RoomCreated { room: f.text("room")?, unix_ms: f.number("unix_ms")?, owner: f.maybe_text("owner")? }
        }
        "room_vacated" => Record::RoomVacated { room: f.text("room")?, unix_ms: f.number("unix_ms")? },
        "topic_set" => Record::TopicSet {
            room: f.text("room")?,
            topic: f.maybe_text("topic")?,
            by: f.text("by")?,
            unix_ms: f.number("unix_ms")?,
        },
        "room_modes_set" => Record::RoomModesSet { room: f.text("room")?, modes: f.inner("modes")?.modes()? },
        "room_dropped" => Record::RoomDropped { room: f.text("room")? },
        "message" => Record::Message { room: f.text("room")?, message: f.inner("message")?.message()? },
        "message_deleted" => Record::MessageDeleted {
            room: f.text("room")?,
            seq: f.number("seq")?,
            from: f.text("from")?,
            by: f.text("by")?,
            unix_ms: f.number("unix_ms")?,
            event: f.number("event")?,
        },
        "account_created" => Record::AccountCreated {
            name: f.text("name")?,
            hash: PasswordHash::new(f.text("hash")?),
            unix_ms: f.number("unix_ms")?,
        },
        "known_source" => {
            let text = f.text("source")?;
            let source: SourceKey = text.parse().map_err(|_| FeedError::Source { kind, text: text.into_string() })?;
            Record::KnownSource { account: f.text("account")?, source }
        }
        "last_seen" => Record::LastSeen { account: f.text("account")?, unix_ms: f.number("unix_ms")? },
        "whisper" => Record::Whisper { to: f.text("to")?, message: f.inner("message")?.message()? },
        "offline_kept" => Record::OfflineKept {
            to: f.text("to")?,
            from: f.text("from")?,
            text: f.text("text")?,
            unix_ms: f.number("unix_ms")?,
            seq: f.maybe_number("seq")?,
        },
        "offline_delivered" => Record::OfflineDelivered { to: f.text("to")? },
        "blocked" => Record::Blocked { account: f.text("account")?, name: f.text("name")? },
        "unblocked" => Record::Unblocked { account: f.text("account")?, name: f.text("name")? },
        "password_changed" => {
            Record::PasswordChanged { account: f.text("account")?, hash: PasswordHash::new(f.text("hash")?) }
        }
        "token_issued" => Record::TokenIssued {
            account: f.text("account")?,
            id: TokenId::new(f.number("id")?),
            hash: f.token_hash("hash")?,
            created_ms: f.number("created_ms")?,
            expires_ms: f.number("expires_ms")?,
        },
        "token_revoked" => Record::TokenRevoked { account: f.text("account")?, id: TokenId::new(f.number("id")?) },
        "tokens_revoked" => Record::TokensRevoked { account: f.text("account")? },
        "operator_granted" => Record::OperatorGranted { account: f.text("account")? },
        "operator_revoked" => Record::OperatorRevoked { account: f.text("account")? },
        "read_marker" => Record::ReadMarker {
            account: f.text("account")?,
            target: match f.maybe_text("room")? {
                Some(room) => ReadTarget::Room(room),
                None => ReadTarget::Conversation(f.text("with")?),
            },
            seq: f.number("seq")?,
            unix_ms: f.number("unix_ms")?,
        },
        "always_on" => Record::AlwaysOn { account: f.text("account")?, on: f.flag("on")? },
        "account_room" => {
            Record::AccountRoom { account: f.text("account")?, room: f.text("room")?, joined: f.flag("joined")? }
        }
        _ => unreachable!("every name in KINDS is decoded above"),
    })
}

/// Every kind [`encode`] writes.
const KINDS: &[&str] = &[
    "room_created",
    "room_vacated",
    "topic_set",
    "room_modes_set",
    "room_dropped",
    "message",
    "message_deleted",
    "account_created",
    "known_source",
    "last_seen",
    "whisper",
    "offline_kept",
    "offline_delivered",
    "blocked",
    "unblocked",
    "password_changed",
    "token_issued",
    "token_revoked",
    "tokens_revoked",
    "operator_granted",
    "operator_revoked",
    "read_marker",
    "always_on",
    "account_room",
];

/// The fields of one object of a record of `kind`.
struct Fields<'a> {
    kind: &'static str,
    object: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn missing(&self, field: &'static str) -> FeedError {
        FeedError::Field { kind: self.kind, field }
    }

    /// The field, `None` when absent or `null`.
    fn get(&self, field: &'static str) -> Option<&'a Value> {
        self.object.get(field).filter(|value| !value.is_null())
    }

    fn text(&self, field: &'static str) -> Result<Box<str>, FeedError> {
        self.maybe_text(field)?.ok_or_else(|| self.missing(field))
    }

    fn maybe_text(&self, field: &'static str) -> Result<Option<Box<str>>, FeedError> {
        self.get(field).map(|value| value.as_str().map(Into::into).ok_or_else(|| self.missing(field))).transpose()
    }

    fn number(&self, field: &'static str) -> Result<u64, FeedError> {
        self.maybe_number(field)?.ok_or_else(|| self.missing(field))
    }

    fn maybe_number(&self, field: &'static str) -> Result<Option<u64>, FeedError> {
        self.get(field).map(|value| value.as_u64().ok_or_else(|| self.missing(field))).transpose()
    }

    /// 64 hex digits, as [`hex`] writes them.
    fn token_hash(&self, field: &'static str) -> Result<TokenHash, FeedError> {
        let text = self.text(field)?;
        let mut bytes = [0u8; 32];
        if text.len() != 64 || !text.is_ascii() {
            return Err(self.missing(field));
        }
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| self.missing(field))?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| self.missing(field))?;
        }
        Ok(TokenHash::new(bytes))
    }

    fn flag(&self, field: &'static str) -> Result<bool, FeedError> {
        self.get(field).and_then(Value::as_bool).ok_or_else(|| self.missing(field))
    }

    fn list(&self, field: &'static str) -> Result<Vec<Box<str>>, FeedError> {
        let items = self.get(field).and_then(Value::as_array).ok_or_else(|| self.missing(field))?;
        items.iter().map(|item| item.as_str().map(Into::into).ok_or_else(|| self.missing(field))).collect()
    }

    /// The object in `field`, read under the same kind.
    fn inner(&self, field: &'static str) -> Result<Fields<'a>, FeedError> {
        let object = self.get(field).and_then(Value::as_object).ok_or_else(|| self.missing(field))?;
        Ok(Fields { kind: self.kind, object })
    }

    fn message(&self) -> Result<StoredMessage, FeedError> {
        Ok(StoredMessage {
            seq: self.number("seq")?,
            from: self.text("from")?,
            text: self.text("text")?,
            unix_ms: self.number("unix_ms")?,
            kind: match (self.get("deleted"), self.get("deletion")) {
                (Some(_), _) => {
                    let deleted = self.inner("deleted")?;
                    MessageKind::Deleted { by: deleted.text("by")?, unix_ms: deleted.number("unix_ms")? }
                }
                (None, Some(_)) => {
                    let deletion = self.inner("deletion")?;
                    MessageKind::Deletion { of: deletion.number("of")?, by: deletion.text("by")? }
                }
                (None, None) => MessageKind::Said,
            },
        })
    }

    fn modes(&self) -> Result<StoredModes, FeedError> {
        let limit = self.maybe_number("limit")?;
        Ok(StoredModes {
            invite_only: self.flag("invite_only")?,
            moderated: self.flag("moderated")?,
            secret: self.flag("secret")?,
            topic_locked: self.flag("topic_locked")?,
            external_messages: self.flag("external_messages")?,
            key: self.maybe_text("key")?,
            limit: limit.map(|limit| u32::try_from(limit).map_err(|_| self.missing("limit"))).transpose()?,
            bans: self.list("bans")?,
            operators: self.list("operators")?,
        })
    }
}

#[cfg(test)]
mod tests;
