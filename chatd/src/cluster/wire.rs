//! What the nodes of a cluster tell each other through Redis, as bytes:
//! a room message on its room's stream, and a presence change or a
//! whisper on the presence stream. JSON, so that an operator reading a
//! stream with `redis-cli` sees what is in it, and so that a node of a
//! later version can skip fields it does not know.
//!
//! Everything here is decoded from a shared Redis that another program
//! may also write to: a payload that does not decode is skipped by the
//! caller (and logged), never trusted.

use bytes::Bytes;
use chatcore::{DisconnectReason, MessageKind, PresenceChange, RemoteBroadcast, RemoteWhisper, RoomMessage};
use serde::{Deserialize, Serialize};

/// A room message on its room's stream; the room and `seq` are the
/// stream's and the entry id's. A deletion names the number it deletes
/// (`d`) and its deleter (`b`); its `t` is the deleter's reason. A
/// message deleted since is never published, but a tombstone could be
/// read back as one (`b` and `dms`) all the same.
#[derive(Debug, Serialize, Deserialize)]
struct WireMessage<'a> {
    #[serde(rename = "f", borrow)]
    from: std::borrow::Cow<'a, str>,
    #[serde(rename = "h", borrow)]
    host: std::borrow::Cow<'a, str>,
    #[serde(rename = "t", borrow)]
    text: std::borrow::Cow<'a, str>,
    #[serde(rename = "ms")]
    unix_ms: u64,
    #[serde(rename = "n", default, skip_serializing_if = "std::ops::Not::not")]
    notice: bool,
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    deletes: Option<u64>,
    #[serde(rename = "b", default, borrow, skip_serializing_if = "Option::is_none")]
    by: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "dms", default, skip_serializing_if = "Option::is_none")]
    deleted_ms: Option<u64>,
}

/// The payload of `message` on its room's stream.
pub(crate) fn encode_message(message: &RoomMessage) -> Bytes {
    let wire = WireMessage {
        from: (&*message.from).into(),
        host: (&*message.host).into(),
        text: (&*message.text).into(),
        unix_ms: message.unix_ms,
        notice: message.notice,
        deletes: None,
        by: None,
        deleted_ms: None,
    };
    let wire = match &message.kind {
        MessageKind::Said => wire,
        MessageKind::Deletion { of, by } => WireMessage { deletes: Some(*of), by: Some((&**by).into()), ..wire },
        MessageKind::Deleted { by, unix_ms } => {
            WireMessage { by: Some((&**by).into()), deleted_ms: Some(*unix_ms), ..wire }
        }
    };
    Bytes::from(serde_json::to_vec(&wire).expect("a message encodes"))
}

/// The message `seq` of `room` a stream entry's payload carries; never
/// with a ticket (the publishing node answered its ticket at commit).
pub(crate) fn decode_message(room: &str, seq: u64, payload: &[u8]) -> Result<RoomMessage, serde_json::Error> {
    let wire: WireMessage<'_> = serde_json::from_slice(payload)?;
    let kind = match (wire.by, wire.deletes) {
        (None, _) => MessageKind::Said,
        (Some(by), Some(of)) => MessageKind::Deletion { of, by: by.into() },
        (Some(by), None) => MessageKind::Deleted { by: by.into(), unix_ms: wire.deleted_ms.unwrap_or(0) },
    };
    Ok(RoomMessage {
        room: room.into(),
        seq,
        from: wire.from.into(),
        host: wire.host.into(),
        text: wire.text.into(),
        unix_ms: wire.unix_ms,
        notice: wire.notice,
        kind,
        ticket: None,
    })
}

/// A user's presence as its node states it: the whole of it (the rooms
/// it is in), so that a snapshot or a repeated entry is never misread.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UserState {
    pub(crate) nick: String,
    pub(crate) host: String,
    pub(crate) rooms: Vec<String>,
}

/// What travels on the presence stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Bulletin {
    /// A user's presence changed: `change` to apply, and `state` (the
    /// user's rooms now) for a node that learns of the user only now.
    /// `change` is `None` on the second entry of a rename (the state
    /// under the new name).
    Presence { change: Option<WireChange>, state: UserState },
    /// A whisper for a user of node `to_node`.
    Whisper { to_node: String, whisper: WireWhisper },
    /// A server operator's broadcast, for every user of every other node.
    Broadcast { broadcast: WireBroadcast },
}

impl Bulletin {
    pub(crate) fn encode(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).expect("a bulletin encodes"))
    }

    pub(crate) fn decode(payload: &[u8]) -> Result<Bulletin, serde_json::Error> {
        serde_json::from_slice(payload)
    }
}

/// [`PresenceChange`] on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WireChange {
    Joined {
        room: String,
        nick: String,
        host: String,
    },
    Left {
        room: String,
        nick: String,
        reason: Option<String>,
    },
    /// `code` is [`DisconnectReason::code`]; `reason` a quit's own words.
    Quit {
        nick: String,
        code: String,
        reason: Option<String>,
    },
    Renamed {
        old: String,
        new: String,
    },
}

impl From<&PresenceChange> for WireChange {
    fn from(change: &PresenceChange) -> Self {
        match change {
            PresenceChange::Joined { room, nick, host } => {
                WireChange::Joined { room: room.to_string(), nick: nick.to_string(), host: host.to_string() }
            }
            PresenceChange::Left { room, nick, reason } => WireChange::Left {
                room: room.to_string(),
                nick: nick.to_string(),
                reason: reason.as_deref().map(str::to_owned),
            },
            PresenceChange::Quit { nick, reason } => WireChange::Quit {
                nick: nick.to_string(),
                code: reason.code().to_owned(),
                reason: match reason {
                    DisconnectReason::Quit(words) => words.as_deref().map(str::to_owned),
                    _ => None,
                },
            },
            PresenceChange::Renamed { old, new } => WireChange::Renamed { old: old.to_string(), new: new.to_string() },
        }
    }
}

impl From<WireChange> for PresenceChange {
    fn from(change: WireChange) -> Self {
        match change {
            WireChange::Joined { room, nick, host } => {
                PresenceChange::Joined { room: room.into(), nick: nick.into(), host: host.into() }
            }
            WireChange::Left { room, nick, reason } => {
                PresenceChange::Left { room: room.into(), nick: nick.into(), reason: reason.map(Into::into) }
            }
            WireChange::Quit { nick, code, reason } => {
                PresenceChange::Quit { nick: nick.into(), reason: disconnect_reason(&code, reason) }
            }
            WireChange::Renamed { old, new } => PresenceChange::Renamed { old: old.into(), new: new.into() },
        }
    }
}

/// The reason a code stands for; one this node does not know reads as a
/// closed connection, which every client shows sensibly.
fn disconnect_reason(code: &str, words: Option<String>) -> DisconnectReason {
    match code {
        "quit" => DisconnectReason::Quit(words.map(Into::into)),
        "connection_error" => DisconnectReason::ConnectionError,
        "send_queue_full" => DisconnectReason::SendQueueExceeded,
        "server_full" => DisconnectReason::ServerFull,
        "registration_timeout" => DisconnectReason::RegistrationTimeout,
        "shutdown" => DisconnectReason::ServerShutdown,
        "idle" => DisconnectReason::IdleTimeout,
        "logged_in_elsewhere" => DisconnectReason::LoggedInElsewhere,
        "wrong_server_password" => DisconnectReason::WrongServerPassword,
        "name_unavailable" => DisconnectReason::NameUnavailable,
        _ => DisconnectReason::ConnectionClosed,
    }
}

/// [`RemoteWhisper`] on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WireWhisper {
    from: String,
    host: String,
    to: String,
    text: String,
    unix_ms: u64,
}

impl From<&RemoteWhisper> for WireWhisper {
    fn from(whisper: &RemoteWhisper) -> Self {
        WireWhisper {
            from: whisper.from.to_string(),
            host: whisper.host.to_string(),
            to: whisper.to.to_string(),
            text: whisper.text.to_string(),
            unix_ms: whisper.unix_ms,
        }
    }
}

impl From<WireWhisper> for RemoteWhisper {
    fn from(whisper: WireWhisper) -> Self {
        RemoteWhisper {
            from: whisper.from.into(),
            host: whisper.host.into(),
            to: whisper.to.into(),
            text: whisper.text.into(),
            unix_ms: whisper.unix_ms,
        }
    }
}

/// [`RemoteBroadcast`] on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WireBroadcast {
    from: String,
    host: String,
    text: String,
    unix_ms: u64,
}

impl From<&RemoteBroadcast> for WireBroadcast {
    fn from(broadcast: &RemoteBroadcast) -> Self {
        WireBroadcast {
            from: broadcast.from.to_string(),
            host: broadcast.host.to_string(),
            text: broadcast.text.to_string(),
            unix_ms: broadcast.unix_ms,
        }
    }
}

impl From<WireBroadcast> for RemoteBroadcast {
    fn from(broadcast: WireBroadcast) -> Self {
        RemoteBroadcast {
            from: broadcast.from.into(),
            host: broadcast.host.into(),
            text: broadcast.text.into(),
            unix_ms: broadcast.unix_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use chatcore::{DisconnectReason, MessageKind, PresenceChange, RemoteBroadcast, RemoteWhisper, RoomMessage};

    use super::{Bulletin, UserState, WireChange, decode_message, encode_message};

    #[test]
    fn a_room_message_comes_back_as_it_went_without_its_ticket() {
        let message = RoomMessage {
            room: "rust".into(),
            seq: 7,
            from: "alice".into(),
            host: "cloak/1".into(),
            text: "hi \"there\" ✓".into(),
            unix_ms: 1_700_000_000_000,
            notice: true,
            kind: MessageKind::Said,
            ticket: Some(chatcore::PublishTicket::from_u64(3)),
        };
        let back = decode_message("rust", 7, &encode_message(&message)).unwrap();
        assert_eq!(back, RoomMessage { ticket: None, ..message.clone() });
        assert!(decode_message("rust", 7, b"{\"f\":1}").is_err());
        let kinds =
            [MessageKind::Deletion { of: 3, by: "op".into() }, MessageKind::Deleted { by: "op".into(), unix_ms: 9 }];
        for kind in kinds {
            let message = RoomMessage { kind, ticket: None, ..message.clone() };
            assert_eq!(decode_message("rust", 7, &encode_message(&message)).unwrap(), message);
        }
        // What an older node wrote reads as said.
        let old = decode_message("rust", 7, br#"{"f":"a","h":"h","t":"hi","ms":1}"#).unwrap();
        assert_eq!(old.kind, MessageKind::Said);
    }

    #[test]
    fn every_presence_change_and_a_whisper_come_back_as_they_went() {
        let changes = [
            PresenceChange::Joined { room: "r".into(), nick: "a".into(), host: "h".into() },
            PresenceChange::Left { room: "r".into(), nick: "a".into(), reason: Some("bye".into()) },
            PresenceChange::Quit { nick: "a".into(), reason: DisconnectReason::Quit(Some("later".into())) },
            PresenceChange::Quit { nick: "a".into(), reason: DisconnectReason::IdleTimeout },
            PresenceChange::Renamed { old: "a".into(), new: "b".into() },
        ];
        let state = UserState { nick: "a".into(), host: "h".into(), rooms: vec!["r".into()] };
        for change in changes {
            let bulletin = Bulletin::Presence { change: Some(WireChange::from(&change)), state: state.clone() };
            let Bulletin::Presence { change: Some(back), state: back_state } =
                Bulletin::decode(&bulletin.encode()).unwrap()
            else {
                panic!("not a presence bulletin");
            };
            assert_eq!(PresenceChange::from(back), change);
            assert_eq!(back_state, state);
        }
        let whisper =
            RemoteWhisper { from: "a".into(), host: "h".into(), to: "b".into(), text: "psst".into(), unix_ms: 5 };
        let bulletin = Bulletin::Whisper { to_node: "n2".into(), whisper: (&whisper).into() };
        let Bulletin::Whisper { to_node, whisper: back } = Bulletin::decode(&bulletin.encode()).unwrap() else {
            panic!("not a whisper");
        };
        assert_eq!((to_node.as_str(), RemoteWhisper::from(back)), ("n2", whisper));
        let broadcast = RemoteBroadcast { from: "op".into(), host: "h".into(), text: "hear ye".into(), unix_ms: 6 };
        let bulletin = Bulletin::Broadcast { broadcast: (&broadcast).into() };
        let Bulletin::Broadcast { broadcast: back } = Bulletin::decode(&bulletin.encode()).unwrap() else {
            panic!("not a broadcast");
        };
        assert_eq!(RemoteBroadcast::from(back), broadcast);
    }
}
