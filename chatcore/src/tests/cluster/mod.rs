//! Several engines in cluster mode, each a node with its own clients, and
//! a simulated cluster around them: a claim registry that answers in any
//! order the test chooses, a presence bus that delivers every node's
//! changes to the others in one order, and a change feed that carries
//! every record a node stores to the others.

mod names;
mod operators;
mod presence;
mod proptest;
mod records;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::names::NameKey;
use crate::record::Record;
use crate::sim::Sim;
use crate::{
    ClaimAnswer, ClaimId, ClientId, ClusterRequest, Config, Engine, Output, PresenceChange, RemoteBroadcast,
    RemoteWhisper,
};

/// Rooms every node has from the start.
const ROOMS: &[&str] = &["r1", "r2", "r3"];

/// Default limits but no flood control nor idle timeout, as a cluster node
/// that stores what it changes.
fn node_config() -> Config {
    super::relaxed().with_cluster(true).with_emit_records(true)
}

/// A claim a node asked for, not yet answered.
#[derive(Debug)]
struct Claim {
    node: usize,
    claim: ClaimId,
    name: Box<str>,
}

/// The nodes, the registry of names and the bus.
struct Net {
    nodes: Vec<Sim>,
    /// Each claimed name and the node holding it.
    registry: BTreeMap<NameKey, usize>,
    claims: Vec<Claim>,
    /// Presence changes published, in the one order every node reads.
    bus: VecDeque<(usize, PresenceChange)>,
    /// Whispers to carry to the node holding their recipient's name.
    whispers: Vec<RemoteWhisper>,
    /// Operators' broadcasts, each with its node, to carry to the others.
    broadcasts: Vec<(usize, RemoteBroadcast)>,
    /// Records the nodes stored, each node's in the order it stored them,
    /// to carry to the other nodes.
    feed: VecDeque<(usize, Record)>,
}

impl Net {
    /// `count` nodes, each with [`ROOMS`].
    fn new(count: usize) -> Self {
        Self::with_config(count, node_config())
    }

    fn with_config(count: usize, config: Config) -> Self {
        let rooms = ROOMS.iter().map(|room| Record::RoomCreated { room: (*room).into(), unix_ms: 0, owner: None });
        let records: Vec<Record> = rooms.collect();
        let nodes = (0..count)
            .map(|_| {
                let engine = Engine::restore(config.clone(), records.clone()).expect("rooms restore");
                Sim::from_engine(engine, crate::Now::new(std::time::Instant::now(), Sim::BASE_UNIX_MS))
            })
            .collect();
        let (registry, claims, bus, whispers, feed) =
            (BTreeMap::new(), Vec::new(), VecDeque::new(), Vec::new(), VecDeque::new());
        Self { nodes, registry, claims, bus, whispers, broadcasts: Vec::new(), feed }
    }

    /// Carries out what the nodes asked of the cluster: claims wait for an
    /// answer, releases free the name at once (it must be the node's),
    /// presence goes on the bus, and what each stored on the feed.
    fn pump(&mut self) {
        for (node, sim) in self.nodes.iter_mut().enumerate() {
            let stored = sim.take_transcript().into_iter().filter_map(|output| match output {
                Output::Persist(record) => Some((node, *record)),
                _ => None,
            });
            self.feed.extend(stored);
            for request in sim.take_cluster_requests() {
                match request {
                    ClusterRequest::ClaimName { claim, name } => self.claims.push(Claim { node, claim, name }),
                    ClusterRequest::ReleaseName { name } => {
                        let held = self.registry.remove(&NameKey::of(&name));
                        assert_eq!(held, Some(node), "node {node} released {name:?}, which it did not hold");
                    }
                    ClusterRequest::Presence(change) => self.bus.push_back((node, change)),
                    ClusterRequest::Whisper(whisper) => self.whispers.push(*whisper),
                    ClusterRequest::Broadcast(broadcast) => self.broadcasts.push((node, *broadcast)),
                    // Room messages are cluster_sim.rs's: nobody here says
                    // anything in a room, and following rooms needs nothing.
                    ClusterRequest::Follow { .. } | ClusterRequest::Unfollow { .. } => {}
                    ClusterRequest::Publish(_) | ClusterRequest::Backfill { .. } => {
                        unreachable!("no test of names and presence says anything in a room: {request:?}")
                    }
                }
            }
        }
    }

    /// Answers the `which`-th claim waiting (modulo their number), as the
    /// registry rules: granted if no other node holds the name.
    fn answer(&mut self, which: usize) -> Option<ClaimAnswer> {
        if self.claims.is_empty() {
            return None;
        }
        let Claim { node, claim, name } = self.claims.remove(which % self.claims.len());

        let key = NameKey::of(&name);
        let answer = match self.registry.get(&key) {
            Some(&holder) => {
                assert_ne!(holder, node, "node {node} claimed {name:?}, which it holds");
                ClaimAnswer::Refused
            }
            None => {
                self.registry.insert(key, node);
                ClaimAnswer::Granted
            }
        };
        let sim = &mut self.nodes[node];
        let now = sim.now();
        sim.engine_mut().handle_name_claim(now, claim, answer).expect("the claim was asked for");
        sim.drain();
        self.pump();
        Some(answer)
    }

    /// Delivers the oldest change on the bus to every other node.
    fn deliver(&mut self) -> bool {
        let Some((from, change)) = self.bus.pop_front() else { return false };
        for (_, sim) in self.nodes.iter_mut().enumerate().filter(|(node, _)| *node != from) {
            let now = sim.now();
            sim.engine_mut().handle_remote_presence(now, change.clone());
            sim.drain();
        }
        self.pump();
        true
    }

    /// Carries each whisper to the node the registry says holds its
    /// recipient's name (a name nobody holds: dropped, as an embedder would).
    fn carry_whispers(&mut self) -> bool {
        let whispers = std::mem::take(&mut self.whispers);
        for whisper in &whispers {
            if let Some(&node) = self.registry.get(&NameKey::of(&whisper.to)) {
                self.nodes[node].engine_mut().handle_remote_whisper(whisper);
                self.nodes[node].drain();
            }
        }
        !whispers.is_empty()
    }

    /// Carries each operator's broadcast to every node but its own.
    fn carry_broadcasts(&mut self) -> bool {
        let broadcasts = std::mem::take(&mut self.broadcasts);
        for (from, broadcast) in &broadcasts {
            for (_, sim) in self.nodes.iter_mut().enumerate().filter(|(node, _)| node != from) {
                sim.engine_mut().handle_remote_broadcast(broadcast);
                sim.drain();
            }
        }
        !broadcasts.is_empty()
    }

    /// Carries the oldest record on the feed to every other node, which
    /// must store nothing of its own for it but the delivery of a whisper
    /// it kept for a session of its own.
    fn carry_record(&mut self) -> bool {
        // What the nodes stored before goes on the feed first.
        self.pump();
        let Some((from, record)) = self.feed.pop_front() else { return false };
        for (node, sim) in self.nodes.iter_mut().enumerate().filter(|(node, _)| *node != from) {
            let now = sim.now();
            sim.engine_mut().handle_remote_record(now, record.clone());
            sim.drain();
            for output in sim.take_transcript() {
                if let Output::Persist(stored) = output {
                    assert!(
                        matches!(*stored, Record::OfflineDelivered { .. }),
                        "node {node} stored {stored:?} for {record:?} of node {from}"
                    );
                    self.feed.push_back((node, *stored));
                }
            }
        }
        self.pump();
        true
    }

    /// Answers claims in order, carries records, delivers the bus and
    /// carries whispers until nothing waits. Records go before presence:
    /// a room must be known before its members are.
    fn settle(&mut self) {
        while self.answer(0).is_some()
            || self.carry_record()
            || self.deliver()
            || self.carry_whispers()
            || self.carry_broadcasts()
        {}
    }

    /// A guest connecting to `node`, its name granted.
    fn connect(&mut self, node: usize) -> ClientId {
        let id = self.nodes[node].connect();
        self.pump();
        self.settle();
        id
    }

    /// Sends a line from a client of `node`, then carries out its requests.
    fn send(&mut self, node: usize, client: ClientId, line: &str) {
        self.nodes[node].send(client, line);
        self.pump();
    }

    /// A client of `node` named `nick`, every claim and change settled.
    fn connect_as(&mut self, node: usize, nick: &str) -> ClientId {
        let id = self.connect(node);
        self.send(node, id, &format!("/nick {nick}"));
        self.settle();
        assert_eq!(self.nodes[node].engine().nick(id), Some(nick));
        self.nodes[node].take(id);
        id
    }

    /// No two live clients anywhere hold one name (ASCII case folded),
    /// leaving out guests whose name still waits for its grant; and every
    /// such name is held in the registry by the client's node.
    fn assert_names_unique(&self) {
        let mut seen = BTreeMap::new();
        for (node, sim) in self.nodes.iter().enumerate() {
            for id in sim.engine().clients().filter(|&id| !sim.engine().awaiting_name(id)) {
                let nick = sim.engine().nick(id).expect("live");
                let key = NameKey::of(nick);
                if let Some(other) = seen.insert(key.clone(), (node, id)) {
                    panic!("{nick:?} held by {other:?} and by {id} on node {node}");
                }
                assert_eq!(self.registry.get(&key), Some(&node), "{nick:?} of node {node} is not its node's");
            }
        }
    }

    /// Each room as it truly is: the folded names of its members on every node.
    fn true_rooms(&self) -> BTreeMap<NameKey, BTreeSet<NameKey>> {
        let mut rooms: BTreeMap<NameKey, BTreeSet<NameKey>> = BTreeMap::new();
        for sim in &self.nodes {
            let engine = sim.engine();
            for (key, room) in &engine.world.rooms {
                let members = room.members.iter().filter_map(|(id, _)| engine.nick(id)).map(NameKey::of);
                rooms.entry(key.clone()).or_default().extend(members);
            }
        }
        rooms
    }

    /// Each room as `node` sees it: its own members and the remote ones.
    fn seen_rooms(&self, node: usize) -> BTreeMap<NameKey, BTreeSet<NameKey>> {
        let engine = self.nodes[node].engine();
        let mut rooms = BTreeMap::new();
        for (key, room) in &engine.world.rooms {
            let local = room.members.iter().filter_map(|(id, _)| engine.nick(id)).map(NameKey::of);
            rooms.insert(key.clone(), local.chain(room.remote.iter().cloned()).collect());
        }
        rooms
    }
}
