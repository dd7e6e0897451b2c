//! JSON Lines for programs: one object per line each way, every object with
//! a `type` field. Errors carry a stable `code`.

use bytes::Bytes;
use serde::Serialize;

use super::{ReplyTag, TaggedCommand};
use crate::command::{Command, Kind, Spec, Verb};
use crate::credentials::Password;
use crate::error::Rejection;
use crate::event::{Event, MessageKind, PageMessage, PageOf, RoomSummary};

fn value_of(line: &str) -> Result<serde_json::Value, Rejection> {
    serde_json::from_str(line).map_err(|e| Rejection::BadJson { column: e.column() })
}

/// The longest request `id`, written out as JSON (a string with its quotes).
const MAX_ID_BYTES: usize = 64;

/// A line as a request: its `id` taken off first (for every command alike),
/// then the rest parsed as a command. A bad id refuses the request, and the
/// refusal names no id.
pub(super) fn read(line: &str) -> TaggedCommand {
    let mut value = match value_of(line) {
        Ok(value) => value,
        Err(rejection) => return TaggedCommand { tag: None, command: Err(rejection) },
    };
    let id = value.as_object_mut().and_then(|fields| fields.remove("id"));
    let tag = match id.map(id_text) {
        None => None,
        Some(Some(id)) => Some(ReplyTag::Json(id)),
        Some(None) => return TaggedCommand { tag: None, command: Err(Rejection::BadRequestId) },
    };
    TaggedCommand { tag, command: parse_value(value) }
}

/// An id as the JSON text replies echo, if it is a string or a number that
/// short.
fn id_text(id: serde_json::Value) -> Option<Box<str>> {
    let text = match id {
        serde_json::Value::String(_) | serde_json::Value::Number(_) => id.to_string(),
        _ => return None,
    };
    (text.len() <= MAX_ID_BYTES).then(|| text.into())
}

/// `held` (lines this codec rendered, each an object and a newline) with
/// `"id":ID` added to every object; `{"type":"ok","id":ID}` for none if
/// `acknowledge`.
pub(super) fn with_id(id: &str, held: &[Bytes], acknowledge: bool) -> Bytes {
    if held.is_empty() {
        return if acknowledge { Bytes::from(format!("{{\"type\":\"ok\",\"id\":{id}}}\n")) } else { Bytes::new() };
    }
    let mut out = Vec::with_capacity(held.iter().map(|data| data.len() + id.len() + 6).sum());
    for line in held.iter().flat_map(|data| data.split_inclusive(|&b| b == b'\n')) {
        // Each object ends `}` and a newline: the id goes in before the brace.
        let Some(body) = line.strip_suffix(b"}\n") else {
            out.extend_from_slice(line);
            continue;
        };
        out.extend_from_slice(body);
        out.extend_from_slice(b",\"id\":");
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(b"}\n");
    }
    Bytes::from(out)
}

fn parse_value(value: serde_json::Value) -> Result<Command, Rejection> {
    let Some(kind) = value.get("type").and_then(|t| t.as_str()) else {
        return Err(Rejection::Usage(r#"{"type":COMMAND,...} (see {"type":"help"})"#));
    };
    let Some(verb) = Verb::from_json_type(kind) else {
        return Err(Rejection::UnknownCommand(kind.into()));
    };
    let spec = verb.spec();
    let usage = || Rejection::Usage(spec.json_usage);
    let serde_json::Value::Object(fields) = &value else { return Err(usage()) };
    let mut command = Command::new(verb);
    for (key, value) in fields {
        if key == "type" {
            continue;
        }
        let arg = spec.arg(key).ok_or_else(usage)?;
        command = match (arg.kind, value) {
            // A key given as null is a key left out.
            (_, serde_json::Value::Null) => command,
            (Kind::Word | Kind::Rest, serde_json::Value::String(text)) => command.with(arg.key, text.as_str()),
            (Kind::Secret, serde_json::Value::String(text)) => command.with(arg.key, Password::new(text.as_str())),
            (Kind::Number, number) => command.with(arg.key, number.as_u64().ok_or_else(usage)?),
            (Kind::List, serde_json::Value::Array(items)) => {
                let words: Option<Vec<String>> = items.iter().map(|item| item.as_str().map(str::to_owned)).collect();
                command.with(arg.key, words.ok_or_else(usage)?)
            }
            _ => return Err(usage()),
        };
    }
    if !command.complete() {
        return Err(usage());
    }
    Ok(command)
}

/// A session token in a `sessions` answer.
#[derive(Serialize)]
struct SessionJson {
    session: String,
    created: u64,
    expires: u64,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Reply<'a> {
    Welcome {
        server: &'a str,
        nick: &'a str,
    },
    Modes {
        room: &'a str,
        modes: &'a str,
    },
    Bans {
        room: &'a str,
        masks: &'a [&'a str],
    },
    Mode {
        room: &'a str,
        by: &'a str,
        modes: &'a str,
        args: &'a [&'a str],
    },
    Kicked {
        room: &'a str,
        by: &'a str,
        nick: &'a str,
        reason: &'a str,
    },
    Invited {
        room: &'a str,
        by: &'a str,
        nick: &'a str,
    },
    Message {
        room: &'a str,
        seq: u64,
        from: &'a str,
        // A deleted message has no text, only `deleted`.
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<&'a str>,
        ts: u64,
        history: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        deleted: Option<DeletedJson<'a>>,
    },
    /// Message `seq` was deleted; `event` is the deletion's own number.
    Deleted {
        room: &'a str,
        seq: u64,
        from: &'a str,
        by: &'a str,
        ts: u64,
        event: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
        history: bool,
    },
    History {
        room: &'a str,
        messages: Vec<PageJson<'a>>,
        more: bool,
        oldest: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        newest: Option<u64>,
        #[serde(skip_serializing_if = "is_zero")]
        unreadable: usize,
    },
    // The same `type` as a room's page; `with` instead of `room` tells them apart.
    #[serde(rename = "history")]
    ConversationHistory {
        with: &'a str,
        messages: Vec<PageJson<'a>>,
        more: bool,
        oldest: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        newest: Option<u64>,
        #[serde(skip_serializing_if = "is_zero")]
        unreadable: usize,
    },
    Read {
        room: &'a str,
        seq: Option<u64>,
        ts: Option<u64>,
    },
    // The same `type` as a room's marker; `with` instead of `room` tells them apart.
    #[serde(rename = "read")]
    ConversationRead {
        with: &'a str,
        seq: Option<u64>,
        ts: Option<u64>,
    },
    Unread {
        room: &'a str,
        count: u64,
        first_seq: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
    Whisper {
        from: &'a str,
        to: &'a str,
        text: &'a str,
        ts: u64,
        offline: bool,
        // Only whispers kept in a conversation (between accounts) have one.
        #[serde(skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
    },
    Kept {
        to: &'a str,
    },
    Registered {
        name: &'a str,
    },
    LoggedIn {
        name: &'a str,
        offline: usize,
    },
    Renamed {
        old: &'a str,
        new: &'a str,
    },
    // A token's id is `session`: a reply's `id` is its request's.
    Token {
        token: &'a str,
        session: String,
        expires: u64,
    },
    Sessions {
        sessions: Vec<SessionJson>,
    },
    Revoked {
        // A single token's; absent when every token was revoked.
        #[serde(skip_serializing_if = "Option::is_none")]
        session: Option<String>,
        count: usize,
    },
    PasswordChanged {
        name: &'a str,
    },
    Seen {
        nick: &'a str,
        online: bool,
        last_seen: Option<u64>,
    },
    Since {
        seconds: u64,
        users: Vec<SeenJson<'a>>,
        total: usize,
        next: Option<&'a str>,
    },
    Block {
        nick: &'a str,
        blocked: bool,
    },
    BlockList {
        names: &'a [&'a str],
    },
    AlwaysOn {
        on: bool,
        forced: bool,
    },
    IdleWarning {
        seconds: u64,
    },
    Created {
        room: &'a str,
    },
    Topic {
        room: &'a str,
        text: Option<&'a str>,
        by: Option<&'a str>,
        ts: Option<u64>,
        changed: bool,
    },
    Dropped {
        room: &'a str,
        by: &'a str,
    },
    Joined {
        room: &'a str,
        nick: &'a str,
        members: usize,
    },
    Left {
        room: &'a str,
        nick: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
    },
    Nick {
        old: &'a str,
        new: &'a str,
    },
    Connected {
        nick: &'a str,
    },
    Disconnected {
        nick: &'a str,
        reason: String,
    },
    Rooms {
        rooms: Vec<RoomJson<'a>>,
        total: usize,
        next: Option<&'a str>,
    },
    Who {
        room: Option<&'a str>,
        members: &'a [&'a str],
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        away: &'a [&'a str],
        total: usize,
        next: Option<&'a str>,
    },
    Users {
        users: &'a [&'a str],
        total: usize,
        next: Option<&'a str>,
    },
    Time {
        ts: u64,
    },
    Help {
        commands: Vec<HelpJson<'a>>,
    },
    Error {
        code: &'a str,
        message: String,
    },
    Broadcast {
        from: &'a str,
        text: &'a str,
        ts: u64,
    },
    Killed {
        nick: &'a str,
    },
    Bye {
        code: &'a str,
        reason: String,
        /// Only when true: older clients never saw the field, and its
        /// absence means what it always meant.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        reconnect: bool,
    },
}

#[derive(Serialize)]
struct RoomJson<'a> {
    name: &'a str,
    members: usize,
}

#[derive(Serialize)]
struct PageJson<'a> {
    seq: u64,
    from: &'a str,
    // Absent for a deleted message and for a deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    ts: u64,
    /// A deleted message: who deleted it and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted: Option<DeletedJson<'a>>,
    /// A deletion: the number of the message it deleted (said by `from`).
    #[serde(skip_serializing_if = "Option::is_none")]
    deletes: Option<u64>,
    /// A deletion: who deleted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<&'a str>,
}

/// Who deleted a message, and when.
#[derive(Serialize)]
struct DeletedJson<'a> {
    by: &'a str,
    ts: u64,
}

#[derive(Serialize)]
struct SeenJson<'a> {
    nick: &'a str,
    online: bool,
    last_seen: Option<u64>,
}

#[derive(Serialize)]
struct HelpJson<'a> {
    name: &'a str,
    usage: &'a str,
    about: &'a str,
}

pub(super) fn render(event: &Event<'_>) -> Bytes {
    let reply = match *event {
        Event::Welcome { server, nick } => Reply::Welcome { server, nick },
        Event::Message { room, seq, from, text, unix_ms, history, deleted, .. } => {
            let deleted = deleted.map(|(by, ts)| DeletedJson { by, ts });
            let text = deleted.is_none().then_some(text);
            Reply::Message { room, seq, from, text, ts: unix_ms, history, deleted }
        }
        Event::Deleted { room, seq, from, by, unix_ms, event, reason, history, .. } => {
            Reply::Deleted { room, seq, from, by, ts: unix_ms, event, reason, history }
        }
        Event::HistoryPage { of, messages, more, oldest, newest, unreadable } => {
            let messages = messages.iter().map(page_json).collect();
            match of {
                PageOf::Room(room) => Reply::History { room, messages, more, oldest, newest, unreadable },
                PageOf::Conversation { with } => {
                    Reply::ConversationHistory { with, messages, more, oldest, newest, unreadable }
                }
            }
        }
        Event::Whisper { from, to, text, unix_ms, offline, seq, .. } => {
            Reply::Whisper { from, to, text, ts: unix_ms, offline, seq }
        }
        Event::UserNotice { from, to, text, unix_ms, .. } => {
            Reply::Whisper { from, to, text, ts: unix_ms, offline: false, seq: None }
        }
        Event::ReadMarker { of: PageOf::Room(room), seq, unix_ms } => Reply::Read { room, seq, ts: unix_ms },
        Event::ReadMarker { of: PageOf::Conversation { with }, seq, unix_ms } => {
            Reply::ConversationRead { with, seq, ts: unix_ms }
        }
        Event::Unread { room, count, first_seq, since_ms } => Reply::Unread { room, count, first_seq, since: since_ms },
        Event::Kept { to } => Reply::Kept { to },
        Event::Registered { name } => Reply::Registered { name },
        Event::LoggedIn { name, offline } => Reply::LoggedIn { name, offline },
        Event::Renamed { old, new, .. } => Reply::Renamed { old, new },
        Event::TokenIssued { token, id, expires_ms } => {
            Reply::Token { token, session: id.to_string(), expires: expires_ms }
        }
        Event::Sessions { tokens } => Reply::Sessions {
            sessions: tokens
                .iter()
                .map(|t| SessionJson { session: t.id.to_string(), created: t.created_ms, expires: t.expires_ms })
                .collect(),
        },
        Event::TokensRevoked { id, count } => Reply::Revoked { session: id.map(|id| id.to_string()), count },
        Event::PasswordChanged { name } => Reply::PasswordChanged { name },
        Event::Seen { nick, online, last_seen_ms } => Reply::Seen { nick, online, last_seen: last_seen_ms },
        Event::Since { seconds, users, page } => Reply::Since {
            seconds,
            users: users
                .iter()
                .map(|u| SeenJson { nick: u.nick, online: u.last_seen_ms.is_none(), last_seen: u.last_seen_ms })
                .collect(),
            total: page.total,
            next: page.next,
        },
        Event::BlockChanged { nick, blocked } => Reply::Block { nick, blocked },
        Event::BlockList { names } => Reply::BlockList { names },
        Event::AlwaysOn { on, forced } => Reply::AlwaysOn { on, forced },
        Event::IdleWarning { seconds } => Reply::IdleWarning { seconds },
        Event::Created { room } => Reply::Created { room },
        Event::RoomDropped { room, by } => Reply::Dropped { room, by },
        // With no topic and nothing changed, nobody set anything.
        Event::Topic { room, text: None, changed: false, .. } => {
            Reply::Topic { room, text: None, by: None, ts: None, changed: false }
        }
        Event::Topic { room, text, by, unix_ms, changed, .. } => {
            Reply::Topic { room, text, by: Some(by), ts: Some(unix_ms), changed }
        }
        Event::Joined { room, nick, members, .. } => Reply::Joined { room, nick, members },
        Event::Left { room, nick, reason, .. } => Reply::Left { room, nick, reason },
        Event::NickChanged { old, new, .. } => Reply::Nick { old, new },
        Event::Connected { nick } => Reply::Connected { nick },
        Event::Disconnected { nick, reason, .. } => Reply::Disconnected { nick, reason: reason.to_string() },
        Event::Rooms { rooms, page } => {
            Reply::Rooms { rooms: rooms.iter().map(room_json).collect(), total: page.total, next: page.next }
        }
        Event::Who { room, members, away, page, .. } => {
            Reply::Who { room, members, away, total: page.total, next: page.next }
        }
        Event::Users { users, page } => Reply::Users { users, total: page.total, next: page.next },
        Event::Time { unix_ms } => Reply::Time { ts: unix_ms },
        Event::Help { commands } => {
            // A row with no JSON type (IRC's NOTICE) is not a JSON command.
            Reply::Help { commands: commands.iter().filter(|c| !c.json_type.is_empty()).map(help_json).collect() }
        }
        Event::Modes { room, modes } => Reply::Modes { room, modes },
        Event::BanList { room, masks } => Reply::Bans { room, masks },
        Event::ModeChanged { room, by, letters, args, .. } => Reply::Mode { room, by, modes: letters, args },
        Event::Kicked { room, by, nick, reason, .. } => Reply::Kicked { room, by, nick, reason },
        Event::Invited { room, by, nick, .. } => Reply::Invited { room, by, nick },
        Event::Error { rejection, .. } => Reply::Error { code: rejection.code(), message: rejection.to_string() },
        Event::Bye { reason } => {
            Reply::Bye { code: reason.code(), reason: reason.to_string(), reconnect: reason.invites_reconnect() }
        }
        Event::Broadcast { from, text, unix_ms, .. } => Reply::Broadcast { from, text, ts: unix_ms },
        Event::Killed { nick } => Reply::Killed { nick },
        // Answers to IRC's own commands, which a JSON client cannot send:
        // no line at all.
        Event::Irc(_) | Event::TagMsg { .. } => return Bytes::new(),
    };
    let mut out = Vec::with_capacity(96);
    // Serializing these plain structs into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, &reply);
    out.push(b'\n');
    Bytes::from(out)
}

fn page_json<'a>(m: &PageMessage<'a>) -> PageJson<'a> {
    let (text, deleted, deletes, by) = match m.kind {
        MessageKind::Said => (Some(m.text), None, None, None),
        MessageKind::Deleted { by, unix_ms } => (None, Some(DeletedJson { by, ts: *unix_ms }), None, None),
        MessageKind::Deletion { of, by } => (None, None, Some(*of), Some(&**by)),
    };
    PageJson { seq: m.seq, from: m.from, text, ts: m.unix_ms, deleted, deletes, by }
}

fn room_json<'a>(room: &RoomSummary<'a>) -> RoomJson<'a> {
    RoomJson { name: room.name, members: room.members }
}

fn help_json(command: &Spec) -> HelpJson<'_> {
    HelpJson { name: command.json_type, usage: command.json_usage, about: command.about }
}

/// Serde's `skip_serializing_if` for counts that are usually zero.
fn is_zero(n: &usize) -> bool {
    *n == 0
}
