//! Target `cluster_ops`: two or three engines in cluster mode around a
//! simulated cluster, every step chosen by the input. Each node is a
//! [`Driver`] of the single-node target, with its checks after every
//! step; around them:
//!
//! * a registry of names that answers claims in any order, granting a
//!   name no other node holds and refusing one another node holds (or, as
//!   a lease of a dead node would, one nobody holds);
//! * a store that numbers each room's publications 1, 2, 3, ... (or fails
//!   to store one), keeps them for backfills and starts a room's numbering
//!   anew when a node stores its drop; a deletion it stores only if its
//!   message is stored as said, erasing it to a tombstone (declining it
//!   otherwise, as a deletion from another node may have come first) and
//!   carries it in the change feed too;
//! * a notifier that carries each stored message to the nodes following
//!   its room, losing, repeating and reordering what it carries, and now
//!   and then tells a node the newest number of a room;
//! * a presence bus every node reads in one order at its own pace, whispers
//!   carried to the node holding the recipient's name, and a change feed
//!   carrying each node's records to each other node in that node's order.
//!
//! The embedder here is correct, so every answer must be `Ok`; and a JSON
//! client hears each room's live messages with strictly increasing
//! numbers while it stays in the room.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use super::{Driver, Input, config_from, dictionary_line};
use crate::names::NameKey;
use crate::{
    ClaimAnswer, ClaimId, ClientId, ClusterRequest, Codec, Engine, MessageKind, PresenceChange, Publication,
    PublishTicket, Record, RemoteWhisper, RoomMessage,
};

/// The room every node has from the start, so that nodes meet at once.
const ROOM: &str = "r";

/// A stored message, with the node and ticket that published it.
#[derive(Debug, Clone)]
struct Stored {
    message: RoomMessage,
    origin: (usize, PublishTicket),
}

/// A backfill to answer: the node, the room, the numbers after `after`,
/// up to `upto` or (for a `Follow`) up to whatever the store has then.
#[derive(Debug)]
struct Backfill {
    node: usize,
    room: Box<str>,
    after: u64,
    upto: Option<u64>,
}

/// The nodes and the simulated cluster around them.
struct Cluster {
    nodes: Vec<Driver>,
    /// Each claimed name and the node holding it.
    registry: BTreeMap<NameKey, usize>,
    /// Claims asked for and not yet answered.
    claims: Vec<(usize, ClaimId, Box<str>)>,
    /// Publications not yet stored or failed.
    publications: Vec<(usize, Box<Publication>)>,
    /// Each room's stored messages, numbered from 1.
    store: BTreeMap<NameKey, Vec<Stored>>,
    /// Per node, notifications on their way.
    notifier: Vec<Vec<Stored>>,
    /// Per node, the rooms it follows.
    follows: Vec<BTreeSet<NameKey>>,
    backfills: Vec<Backfill>,
    /// Presence changes in the one order all nodes read, and how far each
    /// node has read.
    bus: Vec<(usize, PresenceChange)>,
    read: Vec<usize>,
    whispers: Vec<RemoteWhisper>,
    /// `feed[from][to]`: `from`'s records not yet carried to `to`.
    feed: Vec<Vec<VecDeque<Record>>>,
    /// Tickets passed back to their node already: only the first copy
    /// that reaches the engine carries its ticket (a later copy may be new
    /// to a room dropped and created again meanwhile, where its ticket,
    /// answered already, would be misuse).
    ticketed: BTreeSet<(usize, PublishTicket)>,
    /// Per node and client, the last live number heard in each room.
    #[cfg_attr(not(feature = "json"), allow(dead_code))]
    heard: BTreeMap<(usize, ClientId), BTreeMap<NameKey, u64>>,
}

impl Cluster {
    fn new(input: &mut Input<'_>) -> Self {
        let count = 2 + usize::from(input.byte() % 2);
        let gap_wait = Duration::from_millis(1 + u64::from(input.byte() % 4) * 100);
        let held = 1 + usize::from(input.byte() % 4);
        let config = config_from(input)
            .with_cluster(true)
            .with_emit_records(true)
            .with_cluster_gap_wait(gap_wait)
            .with_cluster_max_held(held);
        let room = Record::RoomCreated { room: ROOM.into(), unix_ms: 0, owner: None };
        let nodes = (0..count)
            .map(|_| Driver::from_engine(Engine::restore(config.clone(), [room.clone()]).expect("one room restores")))
            .collect();
        let mut cluster = Self {
            nodes,
            registry: BTreeMap::new(),
            claims: Vec::new(),
            publications: Vec::new(),
            store: BTreeMap::new(),
            notifier: vec![Vec::new(); count],
            follows: vec![BTreeSet::new(); count],
            backfills: Vec::new(),
            bus: Vec::new(),
            read: vec![0; count],
            whispers: Vec::new(),
            feed: vec![vec![VecDeque::new(); count]; count],
            ticketed: BTreeSet::new(),
            heard: BTreeMap::new(),
        };
        for node in 0..count {
            cluster.pump(node);
        }
        cluster
    }

    fn node(&self, which: u8) -> usize {
        usize::from(which) % self.nodes.len()
    }

    /// Takes what `node` asked of the cluster and stored, and checks what
    /// its JSON clients heard.
    fn pump(&mut self, node: usize) {
        let driver = &mut self.nodes[node];
        let (requests, records, sent) = (
            std::mem::take(&mut driver.cluster),
            std::mem::take(&mut driver.records),
            std::mem::take(&mut driver.sent),
        );
        for record in records {
            if let Record::RoomDropped { room } = &record {
                // The room starts anew: the store numbers its next message 1.
                self.store.remove(&NameKey::of(room));
            }
            assert!(!matches!(record, Record::Message { .. }), "a cluster node stored a room message itself");
            for (to, queue) in self.feed[node].iter_mut().enumerate() {
                if to != node {
                    queue.push_back(record.clone());
                }
            }
        }
        for request in requests {
            self.carry_out(node, request);
        }
        for (client, data) in sent {
            self.listen(node, client, &data);
        }
    }

    fn carry_out(&mut self, node: usize, request: ClusterRequest) {
        match request {
            ClusterRequest::ClaimName { claim, name } => self.claims.push((node, claim, name)),
            ClusterRequest::ReleaseName { name } => {
                let held = self.registry.remove(&NameKey::of(&name));
                assert_eq!(held, Some(node), "node {node} released {name:?}, which it did not hold");
            }
            ClusterRequest::Presence(change) => self.bus.push((node, change)),
            ClusterRequest::Whisper(whisper) => self.whispers.push(*whisper),
            // Fuzzed configs name no operators.
            ClusterRequest::Broadcast(_) => {}
            ClusterRequest::Publish(publication) => self.publications.push((node, publication)),
            ClusterRequest::Follow { room, after } => {
                self.follows[node].insert(NameKey::of(&room));
                self.backfills.push(Backfill { node, room, after, upto: None });
            }
            ClusterRequest::Unfollow { room } => {
                self.follows[node].remove(&NameKey::of(&room));
            }
            ClusterRequest::Backfill { room, after, upto } => {
                assert!(after < upto, "node {node} asked for nothing: {room} after {after} up to {upto}");
                self.backfills.push(Backfill { node, room, after, upto: Some(upto) });
            }
        }
    }

    /// Checks the lines a client was sent: a JSON client hears a room's
    /// live messages and deletions with increasing numbers until anything
    /// else about the room (a join, a part, a drop) may start it anew.
    #[cfg_attr(not(feature = "json"), allow(unused_variables, clippy::unused_self))]
    fn listen(&mut self, node: usize, client: ClientId, data: &[u8]) {
        #[cfg(feature = "json")]
        for line in data.split(|&b| b == b'\n').filter(|line| line.starts_with(b"{")) {
            let reply: serde_json::Value = serde_json::from_slice(line).expect("checked as JSON by the driver");
            let Some(room) = reply["room"].as_str().map(NameKey::of) else { continue };
            let heard = self.heard.entry((node, client)).or_default();
            match (reply["type"].as_str(), reply["history"].as_bool(), reply["seq"].as_u64()) {
                (Some("message"), Some(false), Some(seq)) => {
                    if let Some(last) = heard.insert(room.clone(), seq) {
                        assert!(seq > last, "{client} of node {node} heard {room} {seq} after {last}");
                    }
                }
                (Some("deleted"), Some(false), _) if reply["event"].is_u64() => {
                    let event = reply["event"].as_u64().unwrap_or_default();
                    if let Some(last) = heard.insert(room.clone(), event) {
                        assert!(event > last, "{client} of node {node} heard {room}'s deletion {event} after {last}");
                    }
                }
                (Some("message" | "deleted"), Some(true), _) => {}
                _ => {
                    heard.remove(&room);
                }
            }
        }
    }

    /// Runs `act` on `node`'s engine and driver, then checks and pumps.
    fn on(&mut self, node: usize, act: impl FnOnce(&mut Driver)) {
        act(&mut self.nodes[node]);
        self.nodes[node].check();
        self.pump(node);
    }

    /// The registry answers a claim: granted if no other node holds the
    /// name (unless `lapsed`, a dead node's lease), refused otherwise.
    fn answer_claim(&mut self, which: u8, lapsed: bool) {
        if self.claims.is_empty() {
            return;
        }
        let (node, claim, name) = self.claims.remove(usize::from(which) % self.claims.len());
        let key = NameKey::of(&name);
        let answer = match self.registry.get(&key) {
            Some(&holder) => {
                assert_ne!(holder, node, "node {node} claimed {name:?}, which it holds");
                ClaimAnswer::Refused
            }
            None if lapsed => ClaimAnswer::Refused,
            None => {
                self.registry.insert(key, node);
                ClaimAnswer::Granted
            }
        };
        self.on(node, |d| {
            let result = d.engine.handle_name_claim(d.now, claim, answer);
            assert_eq!(result, Ok(()), "{claim} for {name:?} answered {answer:?}");
        });
    }

    /// The store keeps a publication under its room's next number and the
    /// notifier takes it to every node following the room, or it fails.
    fn store(&mut self, which: u8, fails: bool) {
        if self.publications.is_empty() {
            return;
        }
        let (node, publication) = self.publications.remove(usize::from(which) % self.publications.len());
        if fails {
            self.on(node, |d| assert_eq!(d.engine.handle_publish_failed(publication.ticket), Ok(())));
            return;
        }
        let key = NameKey::of(&publication.room);
        let stored = self.store.entry(key.clone()).or_default();
        if let MessageKind::Deletion { of, by } = &publication.kind {
            let target = usize::try_from(*of).ok().and_then(|of| of.checked_sub(1)).and_then(|at| stored.get_mut(at));
            match target {
                Some(target) if target.message.kind == MessageKind::Said => {
                    target.message.text = "".into();
                    target.message.kind = MessageKind::Deleted { by: by.clone(), unix_ms: publication.unix_ms };
                }
                _ => {
                    self.on(node, |d| assert_eq!(d.engine.handle_publish_failed(publication.ticket), Ok(())));
                    return;
                }
            }
        }
        let mut message = publication.numbered(stored.len() as u64 + 1);
        message.ticket = None;
        // As chatd's store does, a deletion stored goes to the change feed too.
        if let MessageKind::Deletion { of, by } = &message.kind {
            let record = Record::MessageDeleted {
                room: message.room.clone(),
                seq: *of,
                from: message.from.clone(),
                by: by.clone(),
                unix_ms: message.unix_ms,
                event: message.seq,
            };
            for (to, queue) in self.feed[node].iter_mut().enumerate() {
                if to != node {
                    queue.push_back(record.clone());
                }
            }
        }
        let stored_message = Stored { message, origin: (node, publication.ticket) };
        stored.push(stored_message.clone());
        for (to, follows) in self.follows.iter().enumerate() {
            if follows.contains(&key) {
                self.notifier[to].push(stored_message.clone());
            }
        }
    }

    /// A stored message reaches `node`, with its ticket if `node` published
    /// it and this is the first copy to reach it.
    fn feed(&mut self, node: usize, stored: Stored) {
        let Stored { mut message, origin } = stored;
        message.ticket = (origin.0 == node && self.ticketed.insert(origin)).then_some(origin.1);
        self.on(node, |d| {
            let what = format!("{} {} from {}", message.room, message.seq, message.from);
            assert_eq!(d.engine.handle_room_message(d.now, message), Ok(()), "{what}");
        });
    }

    /// The notifier acts on one of `node`'s notifications: delivers it,
    /// delivers it and keeps a copy for later, or loses it.
    fn notify(&mut self, node: usize, which: u8, how: u8) {
        let queue = &mut self.notifier[node];
        if queue.is_empty() {
            return;
        }
        let at = usize::from(which) % queue.len();
        let stored = if how % 4 == 1 { queue[at].clone() } else { queue.remove(at) };
        if how % 4 != 2 {
            self.feed(node, stored);
        }
    }

    /// The store answers a backfill (or a follow) with what it has.
    fn backfill(&mut self, which: u8) {
        if self.backfills.is_empty() {
            return;
        }
        let Backfill { node, room, after, upto } = self.backfills.remove(usize::from(which) % self.backfills.len());
        let stored = self.store.get(&NameKey::of(&room)).cloned().unwrap_or_default();
        let upto = upto.map_or(stored.len(), |upto| stored.len().min(usize::try_from(upto).unwrap_or(usize::MAX)));
        let from = usize::try_from(after).unwrap_or(usize::MAX).min(upto);
        for message in stored[from..upto].iter().cloned() {
            self.feed(node, message);
        }
    }

    /// The notifier tells `node` the newest number of a room it follows.
    fn head(&mut self, node: usize, which: u8) {
        let follows = &self.follows[node];
        let Some(room) = follows.iter().nth(usize::from(which) % follows.len().max(1)).cloned() else { return };
        let head = self.store.get(&room).map_or(0, Vec::len) as u64;
        self.on(node, |d| d.engine.handle_room_head(d.now, &room.to_string(), head));
    }

    /// `node` reads the next presence change on the bus (its own skipped).
    fn presence(&mut self, node: usize) {
        while let Some((from, change)) = self.bus.get(self.read[node]).cloned() {
            self.read[node] += 1;
            if from != node {
                self.on(node, |d| d.engine.handle_remote_presence(d.now, change));
                return;
            }
        }
    }

    /// A whisper reaches the node the registry says holds its recipient's
    /// name (a name nobody holds: dropped, as an embedder would).
    fn whisper(&mut self, which: u8) {
        if self.whispers.is_empty() {
            return;
        }
        let whisper = self.whispers.remove(usize::from(which) % self.whispers.len());
        if let Some(&node) = self.registry.get(&NameKey::of(&whisper.to)) {
            self.on(node, |d| d.engine.handle_remote_whisper(&whisper));
        }
    }

    /// The change feed carries `from`'s oldest record not yet at `to` there.
    fn record(&mut self, from: usize, to: usize) {
        if from == to {
            return;
        }
        let Some(record) = self.feed[from][to].pop_front() else { return };
        self.on(to, |d| d.engine.handle_remote_record(d.now, record));
        // What it stores for it (a whisper's delivery) is its own record.
    }

    /// Carries everything on its way, in order, until nothing waits or a
    /// bound is reached: claims granted where free, publications stored,
    /// notifications, backfills, records, presence and whispers delivered.
    fn settle(&mut self) {
        for _ in 0..64 {
            let before = self.waiting();
            if before == 0 {
                return;
            }
            if !self.claims.is_empty() {
                self.answer_claim(0, false);
            } else if !self.publications.is_empty() {
                self.store(0, false);
            } else if let Some(from) = (0..self.nodes.len()).find(|&from| self.feed[from].iter().any(|q| !q.is_empty()))
            {
                for to in 0..self.nodes.len() {
                    self.record(from, to);
                }
            } else if let Some(node) = (0..self.nodes.len()).find(|&node| self.read[node] < self.bus.len()) {
                self.presence(node);
            } else if let Some(node) = (0..self.nodes.len()).find(|&node| !self.notifier[node].is_empty()) {
                self.notify(node, 0, 0);
            } else if !self.backfills.is_empty() {
                self.backfill(0);
            } else {
                self.whisper(0);
            }
        }
    }

    /// How many things wait to be carried out.
    fn waiting(&self) -> usize {
        let feed: usize = self.feed.iter().flatten().map(VecDeque::len).sum();
        let unread: usize = self.read.iter().map(|&read| self.bus.len() - read).sum();
        let notes: usize = self.notifier.iter().map(Vec::len).sum();
        self.claims.len() + self.publications.len() + feed + unread + notes + self.backfills.len() + self.whispers.len()
    }
}

/// Target `cluster_ops`: see the module docs. The input's first bytes
/// choose the number of nodes and their (shared) config; then each step
/// is a client's action on a node (the single-node target's vocabulary)
/// or something the cluster carries out.
///
/// # Panics
///
/// On any finding: a panic in an engine, a broken invariant, an `Err`
/// for a correct answer, output an embedder must never see, a node
/// releasing a name it does not hold, or a client hearing a room out of
/// order.
pub fn run_cluster_ops(data: &[u8]) {
    let mut input = Input { data };
    let mut cluster = Cluster::new(&mut input);
    let mut steps = 0;
    while !input.is_empty() && steps < 512 {
        steps += 1;
        let node = cluster.node(input.byte());
        match input.byte() % 20 {
            0 => {
                let source = input.byte();
                let codec = if source.is_multiple_of(3) { Codec::Irc } else { Codec::Text };
                cluster.on(node, |d| {
                    d.connect(source.is_multiple_of(2).then_some(source / 2), codec);
                });
            }
            1..=4 => {
                let which = input.byte();
                let line = dictionary_line(&mut input);
                cluster.on(node, |d| d.input(which, &line));
            }
            5 => {
                let which = input.byte();
                let len = usize::from(input.byte() % 32);
                let bytes = input.take(len);
                cluster.on(node, |d| d.input(which, bytes));
            }
            6 => {
                let (which, how) = (input.byte(), input.byte());
                cluster.on(node, |d| d.disconnect(which, how));
            }
            7 => {
                let step = input.byte();
                let by =
                    Duration::from_millis(if step < 128 { u64::from(step) * 10 } else { u64::from(step - 128) * 1000 });
                for node in 0..cluster.nodes.len() {
                    cluster.on(node, |d| d.advance(by));
                }
            }
            8 | 9 => {
                let (which, how) = (input.byte(), input.byte());
                cluster.answer_claim(which, how % 8 == 0);
            }
            10 | 11 => {
                let (which, how) = (input.byte(), input.byte());
                cluster.store(which, how % 6 == 0);
            }
            12 | 13 => {
                let (which, how) = (input.byte(), input.byte());
                cluster.notify(node, which, how);
            }
            14 => cluster.backfill(input.byte()),
            15 => cluster.head(node, input.byte()),
            16 => cluster.presence(node),
            17 => {
                let to = cluster.node(input.byte());
                cluster.record(node, to);
            }
            18 => match input.byte() % 4 {
                0 => cluster.whisper(input.byte()),
                1 => {
                    let (which, how) = (input.byte(), input.byte());
                    cluster.on(node, |d| d.answer_auth(which, how));
                }
                _ => cluster.settle(),
            },
            _ => cluster.settle(),
        }
    }
    cluster.settle();
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Cluster, Input, ROOM};
    use crate::names::NameKey;
    use crate::{Codec, MessageKind};

    /// The target's cluster can carry a deletion: one said on node 0 is
    /// deleted there, stored as the room's next entry with the message
    /// erased, and made on node 1 too.
    #[test]
    fn a_deletion_travels_through_the_simulated_store_to_the_other_node() {
        // Two nodes; roomy limits, no flood control, no timeouts, no login required.
        let config = [0, 0, 0, 5, 119, 11, 11, 3, 4, 2, 3, 0, 0, 0, 1];
        let mut cluster = Cluster::new(&mut Input { data: &config });
        for (node, nick) in [(0, "ann"), (1, "Bob")] {
            cluster.on(node, |d| {
                d.connect(None, Codec::Text);
            });
            cluster.on(node, |d| d.input(0, format!("/nick {nick}\n").as_bytes()));
            cluster.settle();
            cluster.on(node, |d| d.input(0, b"/join r\n"));
            cluster.settle();
        }
        cluster.on(0, |d| d.input(0, b"hello\n"));
        cluster.settle();
        cluster.on(0, |d| d.input(0, b"/delete\n"));
        cluster.settle();
        let kinds: Vec<MessageKind> =
            cluster.store[&NameKey::of(ROOM)].iter().map(|stored| stored.message.kind.clone()).collect();
        let by: Box<str> = "ann".into();
        assert_eq!(
            kinds,
            [MessageKind::Deleted { by: by.clone(), unix_ms: 1_700_000_000_000 }, MessageKind::Deletion { of: 1, by }]
        );
        for driver in &cluster.nodes {
            let room = &driver.engine.world.rooms[&NameKey::of(ROOM)];
            assert_eq!((room.next_seq, room.history.iter().count()), (3, 2), "the tombstone and the deletion");
            assert!(room.history.iter().all(|entry| entry.text.is_empty()), "the text is gone everywhere");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the bytes choose, the cluster target finds nothing:
        /// the fuzzer explores further, this keeps its driver honest.
        #[test]
        fn any_bytes_pass_the_cluster_checks(data in prop::collection::vec(any::<u8>(), 0..600)) {
            super::run_cluster_ops(&data);
        }
    }
}
