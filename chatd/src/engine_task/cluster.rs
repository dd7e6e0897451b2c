//! The engine task as one node of a cluster: it carries out the engine's
//! [`ClusterRequest`]s on the bus (Redis) and the follower (PostgreSQL),
//! and feeds back what they report. The storage thread numbers and stores
//! room messages (see `dispatch`); everything else the cluster needs is
//! here.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use chatcore::{
    ClaimAnswer, ClaimId, ClusterRequest, DisconnectReason, Engine, MessageKind, NameKey, Now, PresenceChange,
    Publication, PublishTicket, Record, RemoteWhisper, RoomMessage,
};

use super::report_misuse;
use crate::cluster::follower::{FollowJob, Followed, Follower};
use crate::cluster::presence::Presence;
use crate::cluster::roster::{Remote, Roster};
use crate::cluster::wire::{self, Bulletin, UserState, WireChange};
use crate::cluster::{Bus, Claimed, Report, Resync};

/// What the cluster's threads report to the engine task.
#[derive(Debug)]
pub(crate) enum ClusterDone {
    /// The bus (Redis).
    Bus(Report),
    /// The follower (PostgreSQL).
    Follower(Followed),
}

/// This node's part of the cluster.
pub(crate) struct Node {
    /// This start of the node, `NAME#START` (see `server.rs`): its name
    /// in Redis and as the publisher of its messages in the store.
    name: String,
    bus: Bus,
    follower: Follower,
    /// This node's users in rooms, as last announced.
    local: Roster,
    /// Every other node's users in rooms.
    remote: Remote,
    /// Claims sent to Redis and not answered yet, by name key, oldest first.
    claims: HashMap<String, VecDeque<ClaimId>>,
    /// Names granted to this node and not released, by key.
    held: BTreeSet<String>,
    /// This node's publications the engine has not been answered for.
    unanswered: Unanswered,
}

/// Tickets of this node's publications that the engine has not been
/// answered for yet. The store keeps each message's ticket and hands it
/// back on every read of it, but the engine takes a ticket once only:
/// with the first copy of its message to reach it (or a failure).
#[derive(Debug, Default)]
struct Unanswered(HashSet<u64>);

impl Unanswered {
    fn published(&mut self, ticket: PublishTicket) {
        self.0.insert(ticket.as_u64());
    }

    /// Whether `ticket` was still to be answered; it is not any more.
    fn answer(&mut self, ticket: PublishTicket) -> bool {
        self.0.remove(&ticket.as_u64())
    }

    /// Keeps `message`'s ticket only if this copy is the one to answer it.
    fn once(&mut self, message: &mut RoomMessage) {
        if let Some(ticket) = message.ticket
            && !self.answer(ticket)
        {
            message.ticket = None;
        }
    }
}

/// The key a name is claimed, and a room followed, under on every node.
fn key(name: &str) -> String {
    NameKey::of(name).as_str().to_owned()
}

impl Node {
    pub(crate) fn new(name: String, bus: Bus, follower: Follower) -> Node {
        Node {
            name,
            bus,
            follower,
            local: Roster::default(),
            remote: Remote::default(),
            claims: HashMap::new(),
            held: BTreeSet::new(),
            unanswered: Unanswered::default(),
        }
    }

    /// This start of the node, as Redis and the store know it.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The bus's counts, for metrics.
    pub(crate) fn bus_counts(&self) -> crate::cluster::BusCounts {
        self.bus.counts()
    }

    /// Notes what a batch's records change for Redis: a dropped room's
    /// stream is removed.
    pub(crate) fn recorded(&self, records: &[Record]) {
        for record in records {
            if let Record::RoomDropped { room } = record {
                self.bus.drop_room(&key(room));
            }
        }
    }

    /// Carries out one request; a publication joins `publications`, which
    /// the storage thread numbers and stores with the batch's records.
    pub(crate) fn request(&mut self, request: ClusterRequest, publications: &mut Vec<Publication>) {
        match request {
            ClusterRequest::Publish(publication) => {
                self.unanswered.published(publication.ticket);
                publications.push(*publication);
            }
            ClusterRequest::Backfill { room, after, upto } => {
                self.follower.send(FollowJob::Backfill { room, after, upto: Some(upto) });
            }
            ClusterRequest::Follow { room, after } => {
                self.bus.follow(&key(&room), after);
                self.follower.send(FollowJob::Watch(room.clone()));
                // What was stored before the stream is read from `after`.
                self.follower.send(FollowJob::Backfill { room, after, upto: None });
            }
            ClusterRequest::Unfollow { room } => {
                self.bus.unfollow(&key(&room));
                self.follower.send(FollowJob::Unwatch(room));
            }
            ClusterRequest::ClaimName { claim, name } => {
                let name = key(&name);
                self.claims.entry(name.clone()).or_default().push_back(claim);
                self.bus.claim(&name);
            }
            ClusterRequest::ReleaseName { name } => {
                let name = key(&name);
                self.held.remove(&name);
                self.bus.release(&name);
            }
            ClusterRequest::Presence(change) => self.announce(&change),
            ClusterRequest::Whisper(whisper) => self.send_whisper(&whisper),
            // On the presence stream, which every node reads in one order.
            ClusterRequest::Broadcast(broadcast) => {
                self.bus.bulletin(Bulletin::Broadcast { broadcast: (&*broadcast).into() }.encode());
            }
        }
    }

    /// Tells the other nodes of a local user's change, with the user's
    /// whole presence after it. A rename is told under the new name, then
    /// the old name is emptied without a change, so that a node that
    /// applied the rename sees nothing more.
    fn announce(&mut self, change: &PresenceChange) {
        let Some(applied) = self.local.apply(change) else {
            tracing::debug!(?change, "a presence change of a user not in any room; not announced");
            return;
        };
        let presence = if applied.state.rooms.is_empty() { Presence::Gone } else { Presence::Here };
        let bulletin = Bulletin::Presence { change: Some(WireChange::from(change)), state: applied.state };
        self.bus.presence(&applied.key, bulletin.encode(), presence);
        if let Some(old) = applied.renamed_from {
            let PresenceChange::Renamed { old: old_nick, .. } = change else { return };
            let state = UserState { nick: old_nick.to_string(), ..UserState::default() };
            self.bus.presence(&old, Bulletin::Presence { change: None, state }.encode(), Presence::Gone);
        }
    }

    fn send_whisper(&mut self, whisper: &RemoteWhisper) {
        let Some(node) = self.remote.node_of(&whisper.to) else {
            tracing::debug!(to = %whisper.to, "a whisper to a user no node is known to have; dropped");
            return;
        };
        let bulletin = Bulletin::Whisper { to_node: node.to_owned(), whisper: whisper.into() };
        self.bus.bulletin(bulletin.encode());
    }

    /// The storage thread stored this batch's publications: each is fed
    /// back with its ticket (the sender's echo) and told to the other
    /// nodes; one whose room is gone from the store is refused.
    pub(crate) fn committed(&mut self, engine: &mut Engine, now: Now, published: Vec<(Publication, Option<u64>)>) {
        for (publication, seq) in published {
            // A read of the store may have brought the message back first,
            // with its ticket: then this copy is only a repeat.
            let unanswered = self.unanswered.answer(publication.ticket);
            match seq {
                Some(seq) => {
                    let mut message = publication.numbered(seq);
                    self.bus.publish(&key(&message.room), seq, wire::encode_message(&message));
                    // The store erased a deleted message's text; so does Redis.
                    if let MessageKind::Deletion { of, .. } = message.kind {
                        self.bus.erase(&key(&message.room), of);
                    }
                    if !unanswered {
                        message.ticket = None;
                    }
                    report_misuse(engine.handle_room_message(now, message));
                }
                None if unanswered => report_misuse(engine.handle_publish_failed(publication.ticket)),
                None => {}
            }
        }
    }

    /// Feeds back what the bus or the follower reported.
    pub(crate) fn finished(&mut self, engine: &mut Engine, now: Now, done: ClusterDone) {
        match done {
            ClusterDone::Bus(report) => self.reported(engine, now, report),
            ClusterDone::Follower(Followed::Messages(messages)) => {
                for mut message in messages {
                    self.unanswered.once(&mut message);
                    report_misuse(engine.handle_room_message(now, message));
                }
            }
            ClusterDone::Follower(Followed::Head { room, seq }) => engine.handle_room_head(now, &room, seq),
            ClusterDone::Follower(Followed::Changes(entries)) => {
                for entry in entries {
                    engine.handle_remote_record(now, entry.record);
                }
            }
        }
    }

    fn reported(&mut self, engine: &mut Engine, now: Now, report: Report) {
        match report {
            Report::Claimed { name, outcome } => {
                let claim = self.claims.get_mut(&name).and_then(VecDeque::pop_front);
                if self.claims.get(&name).is_some_and(VecDeque::is_empty) {
                    self.claims.remove(&name);
                }
                if outcome == Claimed::Granted {
                    self.held.insert(name.clone());
                }
                match (claim, outcome) {
                    (Some(claim), Claimed::Granted) => {
                        report_misuse(engine.handle_name_claim(now, claim, ClaimAnswer::Granted));
                    }
                    // Without Redis no node can tell whether a name is
                    // free: refused, as taken, until it answers again.
                    (Some(claim), Claimed::Taken | Claimed::Unreachable) => {
                        report_misuse(engine.handle_name_claim(now, claim, ClaimAnswer::Refused));
                    }
                    // A name claimed again after Redis lost it.
                    (None, Claimed::Taken) => {
                        tracing::warn!(%name, "another node took a name a user here holds, while Redis had lost it");
                    }
                    (None, _) => {}
                }
            }
            Report::NamesLost(names) => {
                for name in &names {
                    self.held.remove(name);
                }
                tracing::warn!(?names, "names of users here are held by other nodes now (this node's lease lapsed)");
            }
            Report::Entry { room, seq, payload } => match wire::decode_message(&room, seq, &payload) {
                Ok(message) => report_misuse(engine.handle_room_message(now, message)),
                Err(error) => tracing::warn!(%error, %room, seq, "a room message chatd cannot read; skipped"),
            },
            Report::Trimmed { room, after, first } => {
                let upto = Some(first.saturating_sub(1)).filter(|&upto| upto > after);
                if let Some(upto) = upto {
                    self.follower.send(FollowJob::Backfill { room: room.into(), after, upto: Some(upto) });
                }
            }
            Report::Presence { node, payload } => match Bulletin::decode(&payload) {
                Ok(Bulletin::Presence { change, state }) => {
                    let roster = self.remote.node(&node);
                    if let Some(change) = change.map(PresenceChange::from)
                        && (roster.apply(&change).is_some() || matches!(change, PresenceChange::Joined { .. }))
                    {
                        engine.handle_remote_presence(now, change);
                    }
                    // Whatever this node missed of the user is in its state.
                    for change in roster.replace(&state) {
                        engine.handle_remote_presence(now, change);
                    }
                }
                Ok(Bulletin::Whisper { to_node, whisper }) => {
                    if to_node == self.name {
                        engine.handle_remote_whisper(&whisper.into());
                    }
                }
                // The reader skips this node's own entries: its users have it.
                Ok(Bulletin::Broadcast { broadcast }) => engine.handle_remote_broadcast(&broadcast.into()),
                Err(error) => tracing::warn!(%error, %node, "a presence entry chatd cannot read; skipped"),
            },
            Report::PresenceSnapshot(snapshots) => {
                for snapshot in snapshots {
                    let roster = self.remote.node(&snapshot.node);
                    for (_, payload) in snapshot.users {
                        if let Ok(Bulletin::Presence { state, .. }) = Bulletin::decode(&payload) {
                            for change in roster.replace(&state) {
                                engine.handle_remote_presence(now, change);
                            }
                        }
                    }
                }
            }
            Report::NodeGone(node) => {
                let gone = self.remote.forget(&node);
                if !gone.is_empty() {
                    tracing::info!(%node, users = gone.len(), "a node is gone: its users left");
                }
                for nick in gone {
                    let change = PresenceChange::Quit { nick: nick.into(), reason: DisconnectReason::ConnectionError };
                    engine.handle_remote_presence(now, change);
                }
            }
            Report::Resync(why) => self.resync(why),
            // Logged by the bus, counted in its counts, and shown on
            // `/healthz` by the flag its callback sets (server.rs).
            Report::Connection(_) => {}
        }
    }

    /// Puts back in Redis what this node had there: its names (after a
    /// wipe) and its users' presence. Rooms need nothing: the follower
    /// reads their newest numbers, so a message the wipe lost is
    /// backfilled.
    fn resync(&mut self, why: Resync) {
        if why == Resync::EpochChanged {
            for name in &self.held {
                self.bus.claim(name);
            }
        }
        for (user, state) in self.local.states() {
            let bulletin = Bulletin::Presence { change: None, state };
            self.bus.presence(user, bulletin.encode(), Presence::Here);
        }
    }

    /// Leaves the cluster: names released, node key and snapshot removed.
    pub(crate) fn finish(self) {
        drop(self.follower);
        self.bus.finish();
    }
}

#[cfg(test)]
mod tests {
    use chatcore::{Publication, PublishTicket};

    use super::Unanswered;

    fn publication(ticket: u64) -> Publication {
        Publication {
            ticket: PublishTicket::from_u64(ticket),
            room: "rust".into(),
            from: "alice".into(),
            host: "h".into(),
            text: "hi".into(),
            unix_ms: 0,
            notice: false,
            kind: chatcore::MessageKind::Said,
        }
    }

    #[test]
    fn a_ticket_reaches_the_engine_with_one_copy_of_its_message_only() {
        let mut unanswered = Unanswered::default();
        let (first, second) = (publication(1), publication(2));
        unanswered.published(first.ticket);
        unanswered.published(second.ticket);
        // The store's read came before the commit's answer: it carries the ticket.
        let mut read = first.numbered(7);
        unanswered.once(&mut read);
        assert_eq!(read.ticket, Some(first.ticket));
        assert!(!unanswered.answer(first.ticket), "the commit's copy is a repeat now");
        let mut again = first.numbered(7);
        unanswered.once(&mut again);
        assert_eq!(again.ticket, None, "a later read hands no answered ticket back");
        // The commit's answer came first: every read after it is a repeat.
        assert!(unanswered.answer(second.ticket));
        let mut read = second.numbered(8);
        unanswered.once(&mut read);
        assert_eq!(read.ticket, None);
    }
}
