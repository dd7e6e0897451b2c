//! The lines random runs send: one client's line in either codec (text or
//! JSON), and a strategy that picks them. Shared by the durability run
//! (`restore.rs`) and the run in the engine's less common modes (`modes.rs`).

use std::fmt::Write;

use proptest::prelude::*;

pub(super) const NAMES: &[&str] = &["alice", "Bob", "carol", "dave"];
pub(super) const ROOMS: &[&str] = &["r", "S", "#t", "t"];
pub(super) const WORDS: &[&str] = &["hi", "two words", "é✓ ok"];
/// Mode changes an operator may make, with their argument if any.
pub(super) const MODE_CHANGES: &[&str] = &["+s", "+i", "-i", "+k pw", "-k", "+m", "+l 2", "-n", "+b Bar", "-b Bar"];

/// Every password used in random runs contains this, and nothing else
/// does, so that a leak is easy to spot in any output.
pub(super) const SECRET_MARK: &str = "Zq81";

/// One line a client sends, in whichever codec it speaks.
#[derive(Debug, Clone)]
pub(super) enum Line {
    Nick(usize),
    Create(usize),
    Join(usize),
    Say(usize),
    Msg {
        to: usize,
        word: usize,
    },
    Register(usize),
    Login {
        name: usize,
        right: bool,
    },
    Block(usize),
    Unblock(usize),
    History,
    /// JSON: `/history` with `before`; text has no such form and sends `/history`.
    HistoryBefore(u64),
    /// The whispers with a name: `/history @NAME`, JSON `with`.
    WhisperHistory(usize),
    Drop(usize),
    Topic(usize),
    /// `/mode ROOM CHANGE`, one of [`MODE_CHANGES`].
    Mode(usize, usize),
    /// `/mode ROOM +o NAME` (or `-o`).
    Op {
        room: usize,
        name: usize,
        on: bool,
    },
    Leave,
    Quit,
}

pub(super) fn password(name: &str) -> String {
    format!("Pw-{}-{SECRET_MARK}", name.to_ascii_lowercase())
}

impl Line {
    pub(super) fn render(&self, json: bool) -> String {
        let (kind, fields): (&str, Vec<(&str, String)>) = match *self {
            Line::Nick(n) => ("nick", vec![("nick", NAMES[n].into())]),
            Line::Create(r) => ("create", vec![("room", ROOMS[r].into())]),
            Line::Join(r) => ("join", vec![("room", ROOMS[r].into())]),
            Line::Say(w) => ("say", vec![("text", WORDS[w].into())]),
            Line::Msg { to, word } => ("msg", vec![("to", NAMES[to].into()), ("text", WORDS[word].into())]),
            Line::Register(n) => {
                let pw = password(NAMES[n]);
                ("register", vec![("name", NAMES[n].into()), ("password", pw.clone()), ("confirm", pw)])
            }
            Line::Login { name, right } => {
                let pw = if right { password(NAMES[name]) } else { format!("Wrong-{SECRET_MARK}") };
                ("login", vec![("name", NAMES[name].into()), ("password", pw)])
            }
            Line::Block(n) => ("block", vec![("nick", NAMES[n].into())]),
            Line::Unblock(n) => ("unblock", vec![("nick", NAMES[n].into())]),
            Line::History => ("history", vec![]),
            Line::HistoryBefore(before) if json => return format!(r#"{{"type":"history","before":{before}}}"#),
            Line::HistoryBefore(_) => ("history", vec![]),
            Line::WhisperHistory(n) if !json => return format!("/history @{}", NAMES[n]),
            Line::WhisperHistory(n) => ("history", vec![("with", NAMES[n].into())]),
            Line::Drop(r) => ("drop", vec![("room", ROOMS[r].into())]),
            Line::Topic(w) => ("topic", vec![("text", WORDS[w].into())]),
            Line::Mode(r, m) => return mode_line(json, ROOMS[r], MODE_CHANGES[m]),
            Line::Op { room, name, on } => {
                return mode_line(json, ROOMS[room], &format!("{}o {}", if on { '+' } else { '-' }, NAMES[name]));
            }
            Line::Leave => ("leave", vec![]),
            Line::Quit => ("quit", vec![]),
        };
        if json {
            let mut object = format!(r#"{{"type":"{kind}""#);
            for (name, value) in fields {
                let _ = write!(object, r#","{name}":"{value}""#);
            }
            object + "}"
        } else if kind == "say" {
            fields[0].1.clone()
        } else {
            let args: Vec<String> = fields.into_iter().map(|(_, v)| v).collect();
            format!("/{kind} {}", args.join(" ")).trim_end().to_owned()
        }
    }
}

/// `/mode ROOM LETTERS [ARG]`, or its JSON form.
fn mode_line(json: bool, room: &str, change: &str) -> String {
    let (letters, arg) = change.split_once(' ').map_or((change, None), |(l, a)| (l, Some(a)));
    if json {
        let args = arg.map_or(String::new(), |a| format!(r#","args":["{a}"]"#));
        format!(r#"{{"type":"mode","room":"{room}","modes":"{letters}"{args}}}"#)
    } else {
        format!("/mode {room} {change}")
    }
}

pub(super) fn line() -> impl Strategy<Value = Line> {
    let name = || 0..NAMES.len();
    let room = || 0..ROOMS.len();
    let word = || 0..WORDS.len();
    prop_oneof![
        1 => name().prop_map(Line::Nick),
        3 => room().prop_map(Line::Create),
        3 => room().prop_map(Line::Join),
        6 => word().prop_map(Line::Say),
        4 => (name(), word()).prop_map(|(to, word)| Line::Msg { to, word }),
        2 => name().prop_map(Line::Register),
        3 => (name(), prop::bool::weighted(0.8)).prop_map(|(name, right)| Line::Login { name, right }),
        2 => name().prop_map(Line::Block),
        2 => name().prop_map(Line::Unblock),
        1 => room().prop_map(Line::Drop),
        1 => word().prop_map(Line::Topic),
        2 => (room(), 0..MODE_CHANGES.len()).prop_map(|(r, m)| Line::Mode(r, m)),
        1 => (room(), name(), any::<bool>()).prop_map(|(room, name, on)| Line::Op { room, name, on }),
        1 => Just(Line::Leave),
        2 => Just(Line::Quit),
    ]
}
