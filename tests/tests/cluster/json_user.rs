//! A JSON Lines user of a cluster that keeps a record of everything it
//! got (for the history checker), survives its node dying, and resumes on
//! another node.
//!
//! Resuming: a user that comes back joins each room again and asks for
//! what it missed with `history` pages forward (`after` the last seq it
//! got, then after each page's `newest`, until `more` is false): the
//! protocol's resume by message number. What the join's replay and live
//! delivery bring meanwhile is kept after the pages, less what the pages
//! already gave, and so is what live delivery brings later: a node that
//! had not followed the room delivers what it missed live after the
//! join, which a user that paged has already. The protocol asks a client
//! to drop a seq it already has.
//!
//! So that this leaves no repeat or reorder unseen, each user keeps two
//! records for the checker: what it shows (`log`, pages and all, one
//! session resuming the other) and what each connection delivered as it
//! came (`stream`: replay and live messages, no pages, nothing left out,
//! each connection a session of its own that must be gap-free).

use std::collections::{HashMap, HashSet};
use std::io::{ErrorKind, Write};
use std::time::{Duration, Instant};

use chatd_tests::Client;
use chatd_tests::cluster::Cluster;
use chatd_tests::history_check::{ClientLog, Message};
use serde_json::{Value, json};

/// What reading brought.
pub(crate) enum Read {
    /// A JSON object (already recorded, if it was a message).
    Object(Value),
    /// Nothing within the patience given.
    Quiet,
    /// The connection ended: the node died.
    Gone,
}

/// A JSON user: its connection, if it has one, and what it recorded.
pub(crate) struct JsonUser {
    pub(crate) name: String,
    /// The node it is (or was last) connected to.
    pub(crate) node: usize,
    conn: Option<Client>,
    pub(crate) log: ClientLog,
    /// What each connection delivered, as it came (see the module docs).
    pub(crate) stream: ClientLog,
    /// Connections made so far.
    connections: usize,
    /// Per room, the last seq paged in while resuming: live copies up to
    /// it are ones the user already has.
    paged: HashMap<String, u64>,
    /// What happened, for a failure's report.
    trace: Vec<String>,
    /// The rooms it is in, in the order it joined them.
    pub(crate) rooms: Vec<String>,
    /// Rooms whose messages go straight to the log.
    live: HashSet<String>,
    /// Messages of the room being resumed, in arrival order.
    held: Vec<Message>,
    /// Requests sent and not yet answered: id to (room, text).
    pending: HashMap<String, (String, String)>,
    /// Messages acknowledged to it with their seq.
    pub(crate) acks: Vec<Message>,
    /// Messages refused with an error (their code), or whose fate its
    /// node's death left unknown.
    pub(crate) unacknowledged: Vec<(String, String)>,
    next_id: u64,
}

impl JsonUser {
    /// A user named `name`, not yet connected.
    pub(crate) fn new(name: &str) -> JsonUser {
        JsonUser {
            name: name.to_owned(),
            node: 0,
            conn: None,
            log: ClientLog::new(name),
            stream: ClientLog::new(&format!("{name} as delivered")),
            connections: 0,
            paged: HashMap::new(),
            trace: Vec::new(),
            rooms: Vec::new(),
            live: HashSet::new(),
            held: Vec::new(),
            pending: HashMap::new(),
            acks: Vec::new(),
            unacknowledged: Vec::new(),
            next_id: 0,
        }
    }

    /// Whether it has a connection.
    pub(crate) fn connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Connects to node `node` and takes its name, asking again while the
    /// cluster says it is taken (a dead node's lease), for `patience`.
    pub(crate) fn connect(&mut self, cluster: &Cluster, node: usize, patience: Duration) {
        assert!(self.conn.is_none(), "{} is connected already", self.name);
        let mut conn = cluster.node(node).connect();
        let nick = json!({"type": "nick", "nick": self.name}).to_string();
        conn.first_json(&nick);
        self.node = node;
        self.conn = Some(conn);
        self.connections += 1;
        if self.connections > 1 {
            self.stream.reconnected(false);
        }
        self.trace.push(format!("connected to node{node}"));
        let deadline = Instant::now() + patience;
        loop {
            let answer = self.expect_object(&format!("an answer to nick {}", self.name), cluster);
            match answer["type"].as_str() {
                Some("nick") if answer["new"] == self.name.as_str() => return,
                Some("error") if answer["code"] == "nick_taken" => {
                    assert!(
                        Instant::now() < deadline,
                        "{} still taken after {patience:?} on node{node}; logs:\n{}",
                        self.name,
                        cluster.logs()
                    );
                    std::thread::sleep(Duration::from_millis(100));
                    self.write(&nick);
                }
                _ => panic!("{} on node{node}: unexpected answer to nick: {answer}", self.name),
            }
        }
    }

    /// Joins `room` fresh: its replay and what follows are recorded as
    /// they come.
    pub(crate) fn join(&mut self, room: &str, cluster: &Cluster) {
        self.trace.push(format!("join {room}"));
        self.live.insert(room.to_owned());
        self.send_join(room, cluster);
        if !self.rooms.iter().any(|r| r == room) {
            self.rooms.push(room.to_owned());
        }
    }

    fn send_join(&mut self, room: &str, cluster: &Cluster) -> bool {
        let id = self.id("join");
        if !self.write(&json!({"type": "join", "room": room, "id": id}).to_string()) {
            return false;
        }
        loop {
            match self.read(crate::PATIENCE) {
                Read::Object(answer) if answer["id"] == id.as_str() => {
                    assert_eq!(answer["type"], "joined", "{} joining {room}: {answer}", self.name);
                    return true;
                }
                Read::Object(_) => {}
                Read::Gone => return false,
                Read::Quiet => panic!("{} joining {room} got no answer; logs:\n{}", self.name, cluster.logs()),
            }
        }
    }

    /// After [`JsonUser::connect`] on a new connection: joins every room
    /// again and gets what it missed in each (see the module docs).
    /// Returns false if the node died meanwhile.
    pub(crate) fn resume(&mut self, cluster: &Cluster) -> bool {
        self.log.reconnected(true);
        let rooms = self.rooms.clone();
        for room in &rooms {
            if !self.resume_room(room, cluster) {
                return false;
            }
        }
        true
    }

    fn resume_room(&mut self, room: &str, cluster: &Cluster) -> bool {
        let last = self.log.last_seq(room);
        self.held.clear();
        self.trace.push(format!("resume {room} after {last:?}"));
        if !self.send_join(room, cluster) {
            return false;
        }
        let Some(last) = last else {
            // Nothing got here before: a fresh join.
            self.release_held(room, 0);
            return true;
        };
        let mut paged = last;
        loop {
            let Some(page) = self.history_page(room, Bound::After(paged), cluster) else { return false };
            let seqs: Vec<u64> = page.messages.iter().map(|m| m.seq).collect();
            self.trace.push(format!("page of {room} after {paged}: {seqs:?}, more: {}", page.more));
            for message in page.messages {
                assert!(message.seq > paged, "{}: a page after {paged} held {room} #{}", self.name, message.seq);
                paged = message.seq;
                self.log.got(message);
            }
            paged = paged.max(page.newest.unwrap_or(0));
            if !page.more {
                break;
            }
        }
        self.paged.insert(room.to_owned(), paged);
        self.release_held(room, paged);
        true
    }

    /// Records what came for `room` while it was resumed, past `after`,
    /// and delivers the room's messages live from now on.
    fn release_held(&mut self, room: &str, after: u64) {
        for message in std::mem::take(&mut self.held) {
            if message.seq > after {
                self.log.got(message);
            }
        }
        self.live.insert(room.to_owned());
    }

    /// One page of `room`'s history (see [`Bound`]); `None` if the node
    /// died meanwhile.
    pub(crate) fn history_page(&mut self, room: &str, bound: Bound, cluster: &Cluster) -> Option<Page> {
        let id = self.id("page");
        let mut request = json!({"type": "history", "room": room, "id": id});
        match bound {
            Bound::Newest => {}
            Bound::Before(seq) => request["before"] = json!(seq),
            Bound::After(seq) => request["after"] = json!(seq),
        }
        if !self.write(&request.to_string()) {
            return None;
        }
        loop {
            match self.read(crate::PATIENCE) {
                Read::Object(answer) if answer["id"] == id.as_str() => {
                    assert_eq!(answer["type"], "history", "{} paging {room}: {answer}", self.name);
                    assert_eq!(answer.get("unreadable"), None, "{} paging {room}: {answer}", self.name);
                    let messages = answer["messages"].as_array().expect("a page has messages");
                    let messages = messages
                        .iter()
                        .map(|m| Message::new(room, m["seq"].as_u64().expect("seq"), m["text"].as_str().expect("text")))
                        .collect();
                    let more = answer["more"].as_bool().expect("a page says whether there is more");
                    let (oldest, newest) = (answer["oldest"].as_u64(), answer["newest"].as_u64());
                    return Some(Page { messages, more, oldest, newest });
                }
                Read::Object(_) => {}
                Read::Gone => return None,
                Read::Quiet => panic!("{} paging {room} got no answer; logs:\n{}", self.name, cluster.logs()),
            }
        }
    }

    /// Says `text` in `room`, not waiting for its echo.
    pub(crate) fn say(&mut self, room: &str, text: &str) {
        let id = self.id("say");
        self.pending.insert(id.clone(), (room.to_owned(), text.to_owned()));
        self.trace.push(format!("say {text:?} in {room}"));
        let _ = self.write(&json!({"type": "say", "room": room, "text": text, "id": id}).to_string());
    }

    /// Reads until every message said has been acknowledged or refused,
    /// or the node died (their fate unknown).
    pub(crate) fn await_acks(&mut self, cluster: &Cluster) {
        while !self.pending.is_empty() {
            match self.read(crate::PATIENCE) {
                Read::Object(_) => {}
                Read::Gone => {}
                Read::Quiet => panic!(
                    "{} waited in vain on node{} for {:?}; logs:\n{}",
                    self.name,
                    self.node,
                    self.pending,
                    cluster.logs()
                ),
            }
        }
    }

    /// Reads until it has got each of its rooms up to `heads` (room, last
    /// seq), or nothing comes for `patience`.
    pub(crate) fn catch_up(&mut self, heads: &HashMap<String, u64>, patience: Duration) {
        // Both records: pages may have given the user what its connection
        // has yet to deliver.
        let behind = |user: &JsonUser| {
            user.rooms.iter().any(|room| {
                let head = heads.get(room).copied().unwrap_or(0);
                [&user.log, &user.stream].iter().any(|log| log.last_seq(room).unwrap_or(0) < head)
            })
        };
        while behind(self) {
            if !matches!(self.read(patience), Read::Object(_)) {
                return;
            }
        }
    }

    /// The next object, recording messages and acknowledgements; the
    /// connection is dropped when it ends.
    pub(crate) fn read(&mut self, patience: Duration) -> Read {
        let Some(conn) = self.conn.as_mut() else { return Read::Gone };
        conn.stream().set_read_timeout(Some(patience)).expect("set a read timeout");
        let line = match conn.try_line() {
            Ok(Some(line)) => line,
            Ok(None) => return self.gone(),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return Read::Quiet,
            Err(_) => return self.gone(),
        };
        let value: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
        let id = value["id"].as_str().map(str::to_owned);
        if value["type"] == "message" {
            let room = value["room"].as_str().expect("a message names its room");
            let seq = value["seq"].as_u64().expect("a message has a seq");
            let message = Message::new(room, seq, value["text"].as_str().expect("a message has a text"));
            if let Some(id) = &id
                && let Some((_, text)) = self.pending.remove(id)
            {
                assert_eq!(message.text, text, "{}: the echo of {id} has another text", self.name);
                self.acks.push(message.clone());
            }
            let history = value["history"] == true;
            self.trace.push(format!("{room} #{seq}{}", if history { " (replayed)" } else { "" }));
            self.stream.got(message.clone());
            let had = self.paged.get(room).copied().unwrap_or(0);
            if !self.live.iter().any(|r| r.eq_ignore_ascii_case(room)) {
                self.held.push(message);
            } else if message.seq > had {
                self.log.got(message);
            }
        } else if value["type"] == "error"
            && let Some(id) = &id
            && let Some((room, text)) = self.pending.remove(id)
        {
            self.unacknowledged.push((text, format!("refused in {room}: {value}")));
        }
        Read::Object(value)
    }

    /// The connection ended: what was said and not answered has an
    /// unknown fate.
    fn gone(&mut self) -> Read {
        self.conn = None;
        self.live.clear();
        self.paged.clear();
        self.trace.push("connection ended".to_owned());
        for (_, (room, text)) in self.pending.drain() {
            self.unacknowledged.push((text, format!("unanswered in {room} when its node died")));
        }
        Read::Gone
    }

    /// Forgets its connection at once (its node was killed), after
    /// reading what had reached it.
    pub(crate) fn lose_connection(&mut self) {
        while let Read::Object(_) = self.read(Duration::from_millis(200)) {}
        if self.conn.is_some() {
            self.gone();
        }
    }

    /// The next object; fails the test if the connection ends or nothing
    /// comes.
    pub(crate) fn expect_object(&mut self, what: &str, cluster: &Cluster) -> Value {
        match self.read(crate::PATIENCE) {
            Read::Object(value) => value,
            Read::Quiet => panic!("{}: no {what}; logs:\n{}", self.name, cluster.logs()),
            Read::Gone => panic!("{}: connection ended while waiting for {what}; logs:\n{}", self.name, cluster.logs()),
        }
    }

    /// Both records, for the checker; `at_end`: the user is still
    /// connected and has read all it will.
    pub(crate) fn records(mut self, at_end: bool) -> [ClientLog; 2] {
        if at_end {
            self.log.connected_at_end();
            self.stream.connected_at_end();
        }
        [self.log, self.stream]
    }

    /// What happened to it, one event a line, for a failure's report.
    pub(crate) fn trace(&self) -> String {
        format!("--- {}\n{}\n", self.name, self.trace.join("\n"))
    }

    fn write(&mut self, line: &str) -> bool {
        let Some(conn) = self.conn.as_ref() else { return false };
        let mut stream = conn.stream();
        if stream.write_all(format!("{line}\n").as_bytes()).is_err() {
            self.gone();
            return false;
        }
        true
    }

    fn id(&mut self, what: &str) -> String {
        self.next_id += 1;
        format!("{}-{what}-{}", self.name, self.next_id)
    }
}

/// Which page of history to ask for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound {
    /// The newest messages.
    Newest,
    /// The newest messages numbered below this.
    Before(u64),
    /// The oldest messages numbered above this.
    After(u64),
}

/// One `history` answer.
pub(crate) struct Page {
    /// Its messages, oldest first.
    pub(crate) messages: Vec<Message>,
    /// Whether older ones are left (answering `after`: newer ones).
    pub(crate) more: bool,
    /// `oldest`: send it as `before` for the page before.
    pub(crate) oldest: Option<u64>,
    /// `newest` (answering `after` only): send it as `after` for the page
    /// after.
    pub(crate) newest: Option<u64>,
}
