//! Several engines in cluster mode around a simulated store that numbers
//! each room's messages, and a simulated notifier that loses, repeats and
//! reorders what it carries to each node, with simulated time. Every
//! local member of a room must hear exactly the room's stored sequence:
//! in order, each once, with no gap once the notifier settles; and each
//! sender's echo must carry the number its message was stored under.
#![cfg(feature = "json")]

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::json;

use super::relaxed;
use crate::sim::Sim;
use crate::{ClientId, ClusterRequest, Engine, Now, PublishTicket, Record, RoomMessage};

const ROOMS: [&str; 2] = ["r0", "r1"];

/// A message as the store keeps it, with the node and ticket that
/// published it, which the notifier carries along.
#[derive(Debug, Clone)]
struct Stored {
    from: Box<str>,
    host: Box<str>,
    text: Box<str>,
    unix_ms: u64,
    origin: (usize, PublishTicket),
}

/// A client of one node, and what it has heard of each room so far.
#[derive(Debug)]
struct Member {
    node: usize,
    id: ClientId,
    nick: String,
    json: bool,
    /// Rooms it stays in for the whole run.
    rooms: Vec<&'static str>,
    /// Per room: the numbers heard live, in order (JSON), or the texts (text).
    heard: BTreeMap<String, Vec<(u64, String)>>,
    /// Its publications the store kept (room, text), and those it could not.
    kept: Vec<(String, String)>,
    refused: usize,
    refusals_heard: usize,
}

/// A JSON client of the last node that comes and goes in `r0`, where it is
/// that node's only member: the node follows `r0` only while it is there.
#[derive(Debug)]
struct Visitor {
    id: ClientId,
    present: bool,
    /// The last number it heard in `r0` since it last joined, replayed or live.
    last: Option<u64>,
}

/// Three nodes, their members, the store and the notifier.
struct Cluster {
    nodes: Vec<Sim>,
    members: Vec<Member>,
    visitor: Visitor,
    store: BTreeMap<String, Vec<Stored>>,
    /// Per node, notifications on their way: (room, seq).
    notifier: Vec<Vec<(String, u64)>>,
    follows: Vec<BTreeSet<String>>,
    /// Whether the store refuses the next publication.
    failing: bool,
    said: usize,
}

impl Cluster {
    /// `nodes` engines sharing `r0` and `r1`; on each, a JSON member in
    /// both rooms and a text member in `r0`, except the last node, whose
    /// JSON member stays in `r1` only.
    fn new(nodes: usize) -> Self {
        let base = Now::new(Instant::now(), Sim::BASE_UNIX_MS);
        let records =
            ROOMS.map(|room| Record::RoomCreated { room: room.into(), unix_ms: 0, owner: Some("keeper".into()) });
        let config = relaxed().with_cluster(true);
        let mut sims: Vec<Sim> = (0..nodes)
            .map(|_| {
                // Each node alone for names: this tests room messages.
                let mut sim = Sim::from_engine(Engine::restore(config.clone(), records.clone()).expect("rooms"), base);
                sim.set_sole_node(true);
                sim
            })
            .collect();
        let visitor = sims[nodes - 1].connect_json_as("visitor");
        let mut cluster = Self {
            nodes: sims,
            members: Vec::new(),
            visitor: Visitor { id: visitor, present: false, last: None },
            store: BTreeMap::new(),
            notifier: vec![Vec::new(); nodes],
            follows: vec![BTreeSet::new(); nodes],
            failing: false,
            said: 0,
        };
        for node in 0..nodes {
            let last = node == nodes - 1;
            let rooms = if last { vec!["r1"] } else { vec!["r0", "r1"] };
            cluster.join(node, true, rooms);
            if !last {
                cluster.join(node, false, vec!["r0"]);
            }
        }
        cluster.toggle();
        cluster
    }

    /// The visitor joins `r0` if it is out, and leaves if it is in.
    fn toggle(&mut self) {
        let node = self.nodes.len() - 1;
        let visitor = &mut self.visitor;
        let kind = if visitor.present { "leave" } else { "join" };
        visitor.present = !visitor.present;
        visitor.last = None;
        self.nodes[node].send_json(visitor.id, &json!({"type": kind, "room": "r0"}));
        self.pump(node);
    }

    fn join(&mut self, node: usize, json: bool, rooms: Vec<&'static str>) {
        let nick = format!("n{node}{}", if json { "j" } else { "t" });
        let sim = &mut self.nodes[node];
        let id = if json { sim.connect_json_as(&nick) } else { sim.connect_as(&nick) };
        for room in &rooms {
            if json {
                sim.send_json(id, &json!({"type": "join", "room": room}));
            } else {
                sim.send(id, &format!("/join {room}"));
            }
        }
        sim.take(id);
        let member = Member {
            node,
            id,
            nick,
            json,
            rooms,
            heard: BTreeMap::new(),
            kept: Vec::new(),
            refused: 0,
            refusals_heard: 0,
        };
        self.members.push(member);
        self.pump(node);
    }

    /// The `which`-th member says something new in the `room`-th of its rooms.
    fn say(&mut self, which: usize, room: usize, fails: bool) {
        let which = which % self.members.len();
        let member = &self.members[which];
        let room = member.rooms[room % member.rooms.len()];
        self.said += 1;
        let text = format!("{} says {}", member.nick, self.said);
        let sim = &mut self.nodes[member.node];
        if member.json {
            sim.send_json(member.id, &json!({"type": "say", "room": room, "text": text}));
        } else {
            sim.send(member.id, &text);
        }
        self.failing = fails;
        let node = member.node;
        self.pump(node);
        self.failing = false;
    }

    /// Carries out what `node` asked of the cluster, until it asks nothing more.
    fn pump(&mut self, node: usize) {
        loop {
            let requests = self.nodes[node].take_cluster_requests();
            if requests.is_empty() {
                break;
            }
            for request in requests {
                self.carry_out(node, request);
            }
        }
        self.listen(node);
    }

    fn carry_out(&mut self, node: usize, request: ClusterRequest) {
        match request {
            ClusterRequest::ClaimName { .. }
            | ClusterRequest::ReleaseName { .. }
            | ClusterRequest::Presence(_)
            | ClusterRequest::Whisper(_)
            | ClusterRequest::Broadcast(_) => unreachable!("a sole node for names asks none of {request:?}"),
            ClusterRequest::Publish(publication) => {
                let at = self.members.iter().position(|m| m.node == node && *m.nick == *publication.from);
                let member = &mut self.members[at.expect("a member published")];
                if self.failing {
                    member.refused += 1;
                    let sim = &mut self.nodes[node];
                    sim.engine_mut().handle_publish_failed(publication.ticket).expect("outstanding");
                    sim.drain();
                    return;
                }
                member.kept.push((publication.room.to_string(), publication.text.to_string()));
                let stored = self.store.entry(publication.room.to_string()).or_default();
                stored.push(Stored {
                    from: publication.from,
                    host: publication.host,
                    text: publication.text,
                    unix_ms: publication.unix_ms,
                    origin: (node, publication.ticket),
                });
                let seq = stored.len() as u64;
                for (to, follows) in self.follows.iter().enumerate() {
                    if follows.contains(&*publication.room) {
                        self.notifier[to].push((publication.room.to_string(), seq));
                    }
                }
            }
            ClusterRequest::Follow { room, after } => {
                self.follows[node].insert(room.to_string());
                let upto = self.store.get(&*room).map_or(0, Vec::len) as u64;
                self.backfill(node, &room, after, upto);
            }
            ClusterRequest::Unfollow { room } => {
                self.follows[node].remove(&*room);
            }
            ClusterRequest::Backfill { room, after, upto } => self.backfill(node, &room, after, upto),
        }
    }

    /// Reads a room's messages `after + 1 ..= upto` from the store into `node`.
    fn backfill(&mut self, node: usize, room: &str, after: u64, upto: u64) {
        for seq in after + 1..=upto {
            self.feed(node, room, seq);
        }
    }

    /// One stored message reaches `node`, with its ticket if `node` published it.
    fn feed(&mut self, node: usize, room: &str, seq: u64) {
        let stored = self.store[room][seq as usize - 1].clone();
        let ticket = (stored.origin.0 == node).then_some(stored.origin.1);
        let message = RoomMessage {
            room: room.into(),
            seq,
            from: stored.from,
            host: stored.host,
            text: stored.text,
            unix_ms: stored.unix_ms,
            notice: false,
            kind: crate::MessageKind::Said,
            ticket,
        };
        let sim = &mut self.nodes[node];
        let now = sim.now();
        sim.engine_mut().handle_room_message(now, message).expect("a stored message is never misuse");
        sim.drain();
    }

    /// The notifier acts on one of `node`'s notifications: delivers it,
    /// delivers it and keeps a copy to deliver again, or loses it.
    fn notify(&mut self, node: usize, pick: usize, how: How) {
        let node = node % self.nodes.len();
        let queue = &mut self.notifier[node];
        if queue.is_empty() {
            return;
        }
        let at = pick % queue.len();
        let (room, seq) = if how == How::Repeat { queue[at].clone() } else { queue.remove(at) };
        if how != How::Lose {
            self.feed(node, &room, seq);
            self.pump(node);
        }
    }

    /// A heartbeat of the notifier: `node` hears the newest number of each
    /// room it follows, which shows it a lost last message.
    fn heartbeat(&mut self, node: usize) {
        let node = node % self.nodes.len();
        for room in self.follows[node].clone() {
            let head = self.store.get(&room).map_or(0, Vec::len) as u64;
            let sim = &mut self.nodes[node];
            let now = sim.now();
            sim.engine_mut().handle_room_head(now, &room, head);
            sim.drain();
        }
        self.pump(node);
    }

    fn advance(&mut self, by: Duration) {
        for node in 0..self.nodes.len() {
            self.nodes[node].advance(by);
            self.pump(node);
        }
    }

    /// Delivers everything still on its way, beats the notifier's heart
    /// (which shows a lost last message) and lets every gap be
    /// backfilled: afterwards, every member must have heard everything.
    fn settle(&mut self) {
        for _ in 0..3 {
            for node in 0..self.nodes.len() {
                while !self.notifier[node].is_empty() {
                    self.notify(node, 0, How::Deliver);
                }
                self.heartbeat(node);
            }
            self.advance(Duration::from_millis(300));
        }
    }

    /// Reads what `node`'s members received, checking each message against
    /// the store as it comes: live, in order, each once, from number 1.
    fn listen(&mut self, node: usize) {
        let sim = &mut self.nodes[node];
        for member in self.members.iter_mut().filter(|m| m.node == node) {
            if member.json {
                for reply in sim.take_json(member.id) {
                    match reply["type"].as_str() {
                        Some("message") => {
                            let room = reply["room"].as_str().expect("a room").to_owned();
                            let seq = reply["seq"].as_u64().expect("a seq");
                            let heard = member.heard.entry(room.clone()).or_default();
                            let expected = heard.last().map_or(1, |(last, _)| last + 1);
                            assert_eq!(seq, expected, "{} heard {room} {seq} after {heard:?}", member.nick);
                            let stored = &self.store[&room][seq as usize - 1];
                            assert_eq!(reply["text"], *stored.text, "{} heard {room} {seq}", member.nick);
                            assert_eq!(reply["from"], *stored.from);
                            assert_eq!(reply["history"], false);
                            heard.push((seq, stored.text.to_string()));
                        }
                        Some("error") => {
                            assert_eq!(reply["code"], "storage_unavailable", "{reply}");
                            member.refusals_heard += 1;
                        }
                        // The members who joined after it.
                        Some("joined") => {}
                        _ => panic!("{} got {reply}", member.nick),
                    }
                }
            } else {
                // Lines other than messages: the members who joined after it.
                for line in sim.take(member.id).into_iter().filter(|l| l.starts_with('[')) {
                    let (room, said) = line.strip_prefix('[').and_then(|l| l.split_once("] ")).expect("a room message");
                    let (from, text) = said.split_once(": ").expect("a sender");
                    assert_ne!(from, member.nick, "a text member hears its own message: {line}");
                    member.heard.entry(room.to_owned()).or_default().push((0, text.to_owned()));
                }
            }
        }
        if node == self.nodes.len() - 1 {
            self.listen_visitor(node);
        }
        if let Err(violation) = self.nodes[node].engine().check_invariants() {
            panic!("node {node}: {violation}");
        }
    }

    /// The visitor hears `r0` in order and once each from its joining on:
    /// the replay of the ring, then what the node missed while it did not
    /// follow the room, then what comes.
    fn listen_visitor(&mut self, node: usize) {
        let visitor = &mut self.visitor;
        for reply in self.nodes[node].take_json(visitor.id) {
            if reply["type"] != "message" {
                continue;
            }
            assert!(visitor.present, "the visitor heard {reply} from a room it left");
            let seq = reply["seq"].as_u64().expect("a seq");
            if let Some(last) = visitor.last {
                assert_eq!(seq, last + 1, "the visitor heard {seq} after {last}: {reply}");
            }
            assert_eq!(reply["text"], *self.store["r0"][seq as usize - 1].text, "{reply}");
            visitor.last = Some(seq);
        }
    }

    /// After [`settle`](Self::settle): every member heard its rooms' whole
    /// stored sequence (a text member: all but its own), and each sender
    /// its echoes and its refusals.
    fn check_complete(&self) {
        if self.visitor.present {
            let stored = self.store.get("r0").map_or(0, Vec::len) as u64;
            assert_eq!(self.visitor.last.unwrap_or(0), stored, "the visitor is in r0 and heard all");
        }
        for member in &self.members {
            for room in &member.rooms {
                let stored = self.store.get(*room).map_or(&[][..], Vec::as_slice);
                let heard: Vec<&str> =
                    member.heard.get(*room).map_or(vec![], |h| h.iter().map(|(_, t)| &**t).collect());
                let expected: Vec<&str> =
                    stored.iter().filter(|s| member.json || *s.from != *member.nick).map(|s| &*s.text).collect();
                assert_eq!(heard, expected, "{} in {room}", member.nick);
            }
            if member.json {
                // Its echoes: each kept publication heard under the number the store gave it.
                for (room, text) in &member.kept {
                    let seq = self.store[room].iter().position(|s| *s.text == **text).expect("stored") as u64 + 1;
                    let echo = member.heard[room].iter().find(|(_, t)| t == text);
                    assert_eq!(echo.map(|(seq, _)| *seq), Some(seq), "{}'s echo of {text:?}", member.nick);
                }
                assert_eq!(member.refusals_heard, member.refused, "{}'s refusals", member.nick);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    Deliver,
    Repeat,
    Lose,
}

#[derive(Debug, Clone)]
enum Step {
    Say { who: usize, room: usize, fails: bool },
    Notify { node: usize, pick: usize, how: How },
    Advance { ms: u64 },
    Heartbeat { node: usize },
    Toggle,
}

fn step() -> impl Strategy<Value = Step> {
    let how = prop_oneof![4 => Just(How::Deliver), 1 => Just(How::Repeat), 1 => Just(How::Lose)];
    prop_oneof![
        3 => (0..8usize, 0..2usize, prop::bool::weighted(0.1)).prop_map(|(who, room, fails)| Step::Say { who, room, fails }),
        6 => (0..3usize, 0..16usize, how).prop_map(|(node, pick, how)| Step::Notify { node, pick, how }),
        1 => (0..400u64).prop_map(|ms| Step::Advance { ms }),
        1 => (0..3usize).prop_map(|node| Step::Heartbeat { node }),
        1 => Just(Step::Toggle),
    ]
}

fn run(steps: &[Step]) {
    let mut cluster = Cluster::new(3);
    for step in steps {
        match *step {
            Step::Say { who, room, fails } => cluster.say(who, room, fails),
            Step::Notify { node, pick, how } => cluster.notify(node, pick, how),
            Step::Advance { ms } => cluster.advance(Duration::from_millis(ms)),
            Step::Heartbeat { node } => cluster.heartbeat(node),
            Step::Toggle => cluster.toggle(),
        }
    }
    cluster.settle();
    cluster.check_complete();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_member_hears_its_rooms_stored_sequence(steps in prop::collection::vec(step(), 1..120)) {
        run(&steps);
    }
}

#[test]
fn three_nodes_agree_though_the_notifier_loses_repeats_and_reorders() {
    let mut steps = Vec::new();
    for n in 0..30 {
        steps.push(Step::Say { who: n * 3, room: n, fails: n % 11 == 10 });
        let how = match n % 3 {
            0 => How::Lose,
            1 => How::Repeat,
            _ => How::Deliver,
        };
        // Not always the oldest notification: the notifier reorders.
        steps.push(Step::Notify { node: n, pick: 15, how });
        if n % 7 == 6 {
            steps.push(Step::Advance { ms: 260 });
        }
    }
    run(&steps);
}

#[test]
fn a_node_without_members_in_a_room_does_not_follow_it() {
    let mut cluster = Cluster::new(3);
    assert!(cluster.follows[2].contains("r0"), "the visitor is in r0");
    cluster.toggle();
    assert!(!cluster.follows[2].contains("r0"), "node 2 has nobody in r0 now");
    cluster.say(0, 0, false);
    assert!(cluster.notifier[2].is_empty(), "so it is not told of r0's messages");
    cluster.settle();
    cluster.check_complete();
}
