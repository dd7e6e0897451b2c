//! A small checker of what clients of a chat saw against what the chat
//! stored, in the spirit of Jepsen's Elle but for one kind of history:
//! numbered room messages.
//!
//! The test records, per client, every room message it got in the order
//! it got them, split into sessions (one a connection); which messages
//! were acknowledged to their senders (a JSON sender's own copy, with its
//! `seq`); and each room's whole history read back at the end. Then
//! [`Observations::check`] proves:
//!
//! * per client, per room, within a session, seqs strictly increase (no
//!   duplicate, no reordering) and leave no gap after the first one seen;
//!   a session that resumed the one before it (it asked for what it
//!   missed) must also carry on from where that one stopped;
//! * every message a client got has the text history has under its seq;
//! * every acknowledged message is in history, under the same seq, with
//!   the same text;
//! * history has no two messages with one seq, nor two with one text (the
//!   tests make every text unique, so a text stored twice is a message
//!   stored twice);
//! * a client still connected at the end has got each room it heard from
//!   up to history's last message.

use std::collections::{BTreeMap, HashMap, HashSet};

/// One room message, as a client got it or history holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The room it was said in.
    pub room: String,
    /// Its number in the room.
    pub seq: u64,
    /// What was said.
    pub text: String,
}

impl Message {
    /// A message of `room` numbered `seq`.
    #[must_use]
    pub fn new(room: &str, seq: u64, text: &str) -> Message {
        Message { room: room.to_owned(), seq, text: text.to_owned() }
    }
}

/// Everything one client got, session by session.
#[derive(Debug, Clone)]
pub struct ClientLog {
    name: String,
    sessions: Vec<Session>,
}

#[derive(Debug, Clone, Default)]
struct Session {
    /// Whether this session asked for what the one before missed, and so
    /// must carry on from it without a gap.
    resumed: bool,
    got: Vec<Message>,
    /// Whether the client was still connected when the test ended.
    at_end: bool,
}

impl ClientLog {
    /// A client, in its first session.
    #[must_use]
    pub fn new(name: &str) -> ClientLog {
        ClientLog { name: name.to_owned(), sessions: vec![Session::default()] }
    }

    /// Its name, as violations name it.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The client got `message`, after everything recorded before.
    pub fn got(&mut self, message: Message) {
        self.current().got.push(message);
    }

    /// The client connected again. `resumed`: it asked for what it missed
    /// since the last message of each room it got, so it claims to carry
    /// on without a gap.
    pub fn reconnected(&mut self, resumed: bool) {
        self.sessions.push(Session { resumed, ..Session::default() });
    }

    /// The client is still connected at the end, and has read all it was
    /// going to: it must have caught up with history.
    pub fn connected_at_end(&mut self) {
        self.current().at_end = true;
    }

    /// The last seq it got in `room`, in any session.
    #[must_use]
    pub fn last_seq(&self, room: &str) -> Option<u64> {
        self.sessions.iter().rev().flat_map(|s| s.got.iter().rev()).find(|m| m.room == room).map(|m| m.seq)
    }

    /// Every message it got in `room`, in the order it got them, across
    /// sessions.
    #[must_use]
    pub fn got_in(&self, room: &str) -> Vec<&Message> {
        self.sessions.iter().flat_map(|s| s.got.iter()).filter(|m| m.room == room).collect()
    }

    fn current(&mut self) -> &mut Session {
        self.sessions.last_mut().expect("a client log always has a session")
    }
}

/// A way the observations contradict each other.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// A client got a seq again.
    #[error("{client} got {room} #{seq} twice")]
    Duplicate {
        /// The client.
        client: String,
        /// The room.
        room: String,
        /// The seq it got again.
        seq: u64,
    },
    /// A client got a seq after a higher one.
    #[error("{client} got {room} #{seq} after #{after}")]
    Reordered {
        /// The client.
        client: String,
        /// The room.
        room: String,
        /// The seq that came late.
        seq: u64,
        /// The higher seq it came after.
        after: u64,
    },
    /// A client skipped seqs.
    #[error("{client} got {room} #{seq} after #{after}: missed {} message(s)", seq - after - 1)]
    Gap {
        /// The client.
        client: String,
        /// The room.
        room: String,
        /// The seq it got.
        seq: u64,
        /// The seq it got before.
        after: u64,
    },
    /// What a client got under a seq is not what history holds there.
    #[error("{client} got {room} #{seq} as {got:?}, history has {stored:?}")]
    Mismatch {
        /// The client.
        client: String,
        /// The room.
        room: String,
        /// The seq.
        seq: u64,
        /// The text the client got.
        got: String,
        /// The text history holds (`None`: no message with that seq).
        stored: Option<String>,
    },
    /// An acknowledged message is not in history as acknowledged.
    #[error("{room} #{seq} {text:?} was acknowledged but history has {stored:?} there")]
    LostAck {
        /// The room.
        room: String,
        /// The seq it was acknowledged with.
        seq: u64,
        /// Its text.
        text: String,
        /// What history has under that seq (`None`: nothing).
        stored: Option<String>,
    },
    /// History holds two messages under one seq.
    #[error("history of {room} has #{seq} twice: {first:?} and {second:?}")]
    HistoryDuplicateSeq {
        /// The room.
        room: String,
        /// The seq.
        seq: u64,
        /// One text.
        first: String,
        /// The other.
        second: String,
    },
    /// History holds one text under two seqs: one message stored twice.
    #[error("history of {room} has {text:?} twice: #{first} and #{second}")]
    HistoryDuplicateText {
        /// The room.
        room: String,
        /// The text.
        text: String,
        /// One seq.
        first: u64,
        /// The other.
        second: u64,
    },
    /// A client connected at the end stopped short of history's last
    /// message in a room it heard from.
    #[error("{client} stopped at {room} #{seq}, history goes to #{last}")]
    Behind {
        /// The client.
        client: String,
        /// The room.
        room: String,
        /// The last seq it got.
        seq: u64,
        /// History's last seq.
        last: u64,
    },
}

/// Everything a test observed, to check together.
#[derive(Debug, Clone, Default)]
pub struct Observations {
    clients: Vec<ClientLog>,
    acks: Vec<Message>,
    history: Vec<Message>,
}

impl Observations {
    /// Nothing observed yet.
    #[must_use]
    pub fn new() -> Observations {
        Observations::default()
    }

    /// What one client got.
    pub fn client(&mut self, log: ClientLog) {
        self.clients.push(log);
    }

    /// A message acknowledged to its sender under `seq`.
    pub fn acknowledged(&mut self, message: Message) {
        self.acks.push(message);
    }

    /// A message of history as read back at the end (every room's whole
    /// history, in any order).
    pub fn stored(&mut self, message: Message) {
        self.history.push(message);
    }

    /// Every violation, in a stable order; empty when the observations
    /// agree.
    #[must_use]
    pub fn check(&self) -> Vec<Violation> {
        let mut violations = Vec::new();
        let history = self.history_by_seq(&mut violations);
        for client in &self.clients {
            check_client(client, &history, &mut violations);
        }
        for ack in &self.acks {
            let stored = history.get(&(ack.room.clone(), ack.seq)).cloned();
            if stored.as_deref() != Some(ack.text.as_str()) {
                violations.push(Violation::LostAck {
                    room: ack.room.clone(),
                    seq: ack.seq,
                    text: ack.text.clone(),
                    stored,
                });
            }
        }
        violations
    }

    /// History by (room, seq), noting seqs and texts found twice.
    fn history_by_seq(&self, violations: &mut Vec<Violation>) -> BTreeMap<(String, u64), String> {
        let mut by_seq = BTreeMap::new();
        let mut by_text: HashMap<(&str, &str), u64> = HashMap::new();
        for message in &self.history {
            let key = (message.room.clone(), message.seq);
            if let Some(first) = by_seq.get(&key) {
                violations.push(Violation::HistoryDuplicateSeq {
                    room: message.room.clone(),
                    seq: message.seq,
                    first: String::clone(first),
                    second: message.text.clone(),
                });
                continue;
            }
            if let Some(&first) = by_text.get(&(message.room.as_str(), message.text.as_str())) {
                violations.push(Violation::HistoryDuplicateText {
                    room: message.room.clone(),
                    text: message.text.clone(),
                    first,
                    second: message.seq,
                });
            }
            by_text.insert((&message.room, &message.text), message.seq);
            by_seq.insert(key, message.text.clone());
        }
        by_seq
    }

    /// History's last seq in each room.
    fn last_seqs(history: &BTreeMap<(String, u64), String>) -> HashMap<&str, u64> {
        let mut last = HashMap::new();
        for (room, seq) in history.keys() {
            let entry = last.entry(room.as_str()).or_insert(0);
            *entry = (*entry).max(*seq);
        }
        last
    }
}

fn check_client(client: &ClientLog, history: &BTreeMap<(String, u64), String>, violations: &mut Vec<Violation>) {
    let name = &client.name;
    // The last seq got in each room, and every seq got there, carried
    // into a session that resumed.
    let mut last: HashMap<&str, u64> = HashMap::new();
    let mut seen: HashSet<(&str, u64)> = HashSet::new();
    for session in &client.sessions {
        if !session.resumed {
            last.clear();
            seen.clear();
        }
        for message in &session.got {
            let room = message.room.as_str();
            let seq = message.seq;
            let client = name.clone();
            match last.get(room).copied() {
                _ if seen.contains(&(room, seq)) => {
                    violations.push(Violation::Duplicate { client, room: room.to_owned(), seq });
                }
                Some(after) if seq < after => {
                    violations.push(Violation::Reordered { client, room: room.to_owned(), seq, after });
                }
                Some(after) if seq > after + 1 => {
                    violations.push(Violation::Gap { client, room: room.to_owned(), seq, after });
                }
                _ => {}
            }
            seen.insert((room, seq));
            // A late message does not move the client back.
            let entry = last.entry(room).or_insert(seq);
            *entry = (*entry).max(seq);
            let stored = history.get(&(message.room.clone(), seq));
            if stored != Some(&message.text) {
                violations.push(Violation::Mismatch {
                    client: name.clone(),
                    room: room.to_owned(),
                    seq,
                    got: message.text.clone(),
                    stored: stored.cloned(),
                });
            }
        }
        if session.at_end {
            let heads = Observations::last_seqs(history);
            let mut rooms: Vec<(&str, u64)> = last.iter().map(|(room, seq)| (*room, *seq)).collect();
            rooms.sort_unstable();
            for (room, seq) in rooms {
                let head = heads.get(room).copied().unwrap_or(0);
                if seq < head {
                    violations.push(Violation::Behind { client: name.clone(), room: room.to_owned(), seq, last: head });
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "history_check/tests.rs"]
mod tests;
