//! The embedder's handle on the cluster's Redis side, and the worker
//! thread behind it: it does the jobs in the order sent, and every third
//! of the lease checks the epoch, renews the node and its names, finds the
//! nodes that are gone and retries what could not be sent.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Instant;

use bytes::Bytes;
use redis::{Connection, RedisResult};

use super::leases::{self, Claim};
use super::link::Link;
use super::nodes::{self, Watch};
use super::outbox::{BATCH, Outbox, Outgoing};
use super::presence::Presence;
use super::report::{BusCounts, Claimed, Health, Report, Resync};
use super::shared::{Follow, Shared};
use super::streams;
use super::{BusConfig, BusError, REPLY_TIMEOUT, epoch, reader};

/// Work for the worker thread, done in the order sent.
#[derive(Debug)]
enum Job {
    Claim(String),
    Release(String),
    Send(Outgoing),
    /// The followed rooms changed: the reader must start a new read.
    Wake,
}

/// A node's link to the cluster's Redis (see the module docs).
///
/// Dropping it is [`Bus::finish`].
pub struct Bus {
    jobs: Sender<Job>,
    shared: Arc<Shared>,
    /// Taken when the bus finishes.
    worker: Option<JoinHandle<()>>,
    generations: AtomicU64,
}

impl Bus {
    /// Starts the worker and reader threads; each hands what it learns to
    /// `report`, which must not block for long (the reader waits for it).
    /// Redis need not answer yet: [`Report::Connection`] says when it does.
    ///
    /// # Errors
    ///
    /// When the configuration is unusable (never because Redis is down).
    pub fn start(config: BusConfig, report: impl Fn(Report) + Send + Sync + 'static) -> Result<Bus, BusError> {
        let client = config.check()?;
        let shared = Arc::new(Shared::new(config, report));
        let (jobs, inbox) = mpsc::channel();
        let worker_shared = shared.clone();
        let worker = std::thread::Builder::new()
            .name("chatd-bus".into())
            .spawn(move || work(&worker_shared, client, &inbox))
            .expect("the bus thread starts");
        Ok(Bus { jobs, shared, worker: Some(worker), generations: AtomicU64::new(0) })
    }

    /// Claims `name` (as the engine keys it: case-folded) for this node;
    /// answered by [`Report::Claimed`].
    pub fn claim(&self, name: &str) {
        self.send(Job::Claim(name.to_owned()));
    }

    /// Gives `name` up, if this node holds it; another node's is never touched.
    pub fn release(&self, name: &str) {
        self.send(Job::Release(name.to_owned()));
    }

    /// Adds message `seq` of `room` to the room's stream. Never blocks;
    /// while Redis is out of reach it waits (up to [`MAX_UNSENT`](super::MAX_UNSENT)).
    pub fn publish(&self, room: &str, seq: u64, payload: Bytes) {
        self.send(Job::Send(Outgoing::Publish { room: room.to_owned(), seq, payload }));
    }

    /// Announces a change of `user`'s presence to the other nodes, and
    /// keeps it (or, once [`Presence::Gone`], removes it) in this node's
    /// snapshot. `payload` states the user's whole presence.
    pub fn presence(&self, user: &str, payload: Bytes, presence: Presence) {
        self.send(Job::Send(Outgoing::Presence { user: user.to_owned(), payload, presence }));
    }

    /// Adds `payload` to the presence stream, which every other node
    /// reads as [`Report::Presence`], without keeping it in this node's
    /// snapshot: for what concerns one moment (a whisper), not a user.
    pub fn bulletin(&self, payload: Bytes) {
        self.send(Job::Send(Outgoing::Bulletin { payload }));
    }

    /// Removes `room`'s stream: the room was dropped, and one made again
    /// under its name numbers its messages from 1.
    pub fn drop_room(&self, room: &str) {
        self.send(Job::Send(Outgoing::DropRoom { room: room.to_owned() }));
    }

    /// Removes message `seq` from `room`'s stream: it was deleted, and
    /// its text must not stay in Redis until the stream is trimmed.
    pub fn erase(&self, room: &str, seq: u64) {
        self.send(Job::Send(Outgoing::Erase { room: room.to_owned(), seq }));
    }

    /// Reads `room`'s messages after seq `after` as [`Report::Entry`],
    /// from now on; following it again moves the position to `after`.
    pub fn follow(&self, room: &str, after: u64) {
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let follow = Follow { after, cursor: streams::entry_id(after), generation };
        self.shared.follows().insert(room.to_owned(), follow);
        self.send(Job::Wake);
    }

    /// Stops reading `room` (an entry read just before may still come).
    pub fn unfollow(&self, room: &str) {
        if self.shared.follows().remove(room).is_some() {
            self.send(Job::Wake);
        }
    }

    /// What was counted so far.
    #[must_use]
    pub fn counts(&self) -> BusCounts {
        self.shared.counts.snapshot()
    }

    /// Does every job sent, stops the reader, releases this node's names
    /// and removes its node key and presence snapshot (if Redis answers;
    /// otherwise they expire with the lease), then stops the worker.
    pub fn finish(self) {
        drop(self);
    }

    fn send(&self, job: Job) {
        // The worker only ends when this handle is dropped.
        let _ = self.jobs.send(job);
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::Release);
        // The worker does what was sent, then stops once no sender is left.
        drop(std::mem::replace(&mut self.jobs, mpsc::channel().0));
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// The worker's state beside its connection.
struct Worker {
    shared: Arc<Shared>,
    /// The epoch last seen; `None` before the first answer.
    epoch: Option<String>,
    /// Whether the node key was set once: its absence after that is a lapse.
    registered: bool,
    /// The names this node holds.
    held: BTreeSet<String>,
    watch: Watch,
    /// No node is declared gone before this: after a new epoch, nodes
    /// have one lease to register again.
    watch_from: Instant,
    /// What waits to be sent.
    outbox: Outbox,
    health: Option<Health>,
}

fn work(shared: &Arc<Shared>, client: redis::Client, inbox: &Receiver<Job>) {
    let config = &shared.config;
    let tick_every = config.lease / 3;
    let mut link = Link::new(client.clone(), format!("chatd-bus:{}", config.node), REPLY_TIMEOUT);
    let reader_shared = shared.clone();
    let reader = std::thread::Builder::new()
        .name("chatd-bus-reader".into())
        .spawn(move || reader::read(&reader_shared, client))
        .expect("the bus reader thread starts");
    let mut worker = Worker {
        shared: shared.clone(),
        epoch: None,
        registered: false,
        held: BTreeSet::new(),
        watch: Watch::default(),
        watch_from: Instant::now(),
        outbox: Outbox::default(),
        health: None,
    };
    let mut next_tick = Instant::now();
    loop {
        let now = Instant::now();
        if now >= next_tick {
            worker.tick(&mut link);
            // Out of reach: try again as soon as the backoff allows.
            next_tick = now + if worker.health == Some(Health::Up) { tick_every } else { link.wait().min(tick_every) };
        }
        match inbox.recv_timeout(next_tick.saturating_duration_since(Instant::now())) {
            Ok(Job::Send(outgoing)) => {
                // Everything sent meanwhile goes in the same pipeline.
                worker.outbox.push(shared, outgoing);
                let mut next = None;
                for _ in 1..BATCH {
                    match inbox.try_recv() {
                        Ok(Job::Send(outgoing)) => worker.outbox.push(shared, outgoing),
                        Ok(job) => {
                            next = Some(job);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                worker.flush(&mut link);
                if let Some(job) = next {
                    worker.handle(&mut link, job);
                }
            }
            Ok(job) => worker.handle(&mut link, job),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    // The reader first, while its control stream still exists to wake it.
    worker.wake_reader(&mut link);
    reader.thread().unpark();
    let _ = reader.join();
    worker.leave(&mut link);
}

impl Worker {
    fn handle(&mut self, link: &mut Link, job: Job) {
        match job {
            Job::Claim(name) => {
                let outcome = match self.with(link, |conn, worker| worker.claim(conn, &name)) {
                    Some(Claim::Granted) => {
                        self.held.insert(name.clone());
                        Claimed::Granted
                    }
                    Some(Claim::Taken) => Claimed::Taken,
                    None => Claimed::Unreachable,
                };
                self.shared.report(Report::Claimed { name, outcome });
            }
            Job::Release(name) => {
                // Unreachable: the lease expires by itself.
                if self.held.remove(&name) {
                    self.with(link, |conn, worker| {
                        leases::release(conn, &worker.shared.keys, &name, &worker.shared.config.node).map(drop)
                    });
                }
            }
            Job::Wake => self.wake_reader(link),
            Job::Send(outgoing) => {
                self.outbox.push(&self.shared, outgoing);
                self.flush(link);
            }
        }
    }

    /// Runs `step` on the connection; `None` if Redis is out of reach or
    /// refused (logged), with the health reported when it changes.
    fn with<T>(
        &mut self,
        link: &mut Link,
        step: impl FnOnce(&mut Connection, &mut Self) -> RedisResult<T>,
    ) -> Option<T> {
        let conn = match link.get() {
            Ok(conn) => conn,
            Err(error) => {
                if let Some(error) = error {
                    tracing::debug!(%error, "cannot connect to Redis");
                }
                self.set_health(Health::Down);
                return None;
            }
        };
        match step(conn, self) {
            Ok(value) => {
                self.set_health(Health::Up);
                Some(value)
            }
            Err(error) => {
                if link.failed(&error) {
                    tracing::debug!(%error, "the connection to Redis broke");
                    self.set_health(Health::Down);
                } else {
                    tracing::warn!(%error, "Redis refused a command");
                }
                None
            }
        }
    }

    fn set_health(&mut self, health: Health) {
        if self.health == Some(health) {
            return;
        }
        self.health = Some(health);
        self.shared.counts.connected.store(health == Health::Up, Ordering::Relaxed);
        match health {
            Health::Up => tracing::info!(url = %self.shared.config.url, "Redis answers"),
            Health::Down => tracing::error!(url = %self.shared.config.url, "Redis is out of reach; retrying"),
        }
        self.shared.report(Report::Connection(health));
    }

    fn claim(&self, conn: &mut Connection, name: &str) -> RedisResult<Claim> {
        let config = &self.shared.config;
        leases::claim(conn, &self.shared.keys, name, &config.node, config.lease)
    }

    /// Sends what waits, while Redis takes it.
    fn flush(&mut self, link: &mut Link) {
        while !self.outbox.is_empty() {
            if self.with(link, |conn, worker| worker.outbox.send_some(&worker.shared, conn)).is_none() {
                // Redis answered, but not as a pipeline should: sending
                // the same again would fail the same way.
                if link.is_connected() {
                    self.outbox.drop_some(&self.shared);
                }
                return;
            }
        }
    }

    /// Adds to this node's control stream, which the reader always reads:
    /// it returns from its `XREAD` and reads the followed rooms afresh.
    fn wake_reader(&mut self, link: &mut Link) {
        let control = self.shared.keys.control(&self.shared.config.node);
        let lease = leases::millis(self.shared.config.lease);
        self.with(link, |conn, _| {
            redis::pipe()
                .cmd("XADD")
                .arg(&control)
                .arg("MAXLEN")
                .arg(1)
                .arg("*")
                .arg("w")
                .arg(1)
                .ignore()
                .cmd("PEXPIRE")
                .arg(&control)
                .arg(lease)
                .ignore()
                .query::<()>(conn)
        });
    }

    /// The periodic work: the epoch, the node's and its names' leases,
    /// what waits to be sent, and the nodes that are gone.
    fn tick(&mut self, link: &mut Link) {
        let Some(new_epoch) = self.with(link, Self::check_epoch) else { return };
        if new_epoch {
            tracing::warn!("Redis lost its data (a new epoch): claiming names and announcing presence again");
            self.watch_from = Instant::now() + self.shared.config.lease;
            self.shared.epochs.fetch_add(1, Ordering::Relaxed);
            self.shared.report(Report::Resync(Resync::EpochChanged));
            self.wake_reader(link);
        }
        let Some(was_live) = self.with(link, |conn, worker| {
            let config = &worker.shared.config;
            nodes::heartbeat(conn, &worker.shared.keys, &config.node, config.lease)
        }) else {
            return;
        };
        if !was_live && self.registered && !new_epoch {
            tracing::warn!("this node's lease lapsed: announcing its presence again");
            self.shared.report(Report::Resync(Resync::LeaseLapsed));
        }
        self.registered = true;
        if !self.held.is_empty() {
            let held: Vec<String> = self.held.iter().cloned().collect();
            let Some(lost) = self.with(link, |conn, worker| {
                let config = &worker.shared.config;
                leases::renew_all(conn, &worker.shared.keys, &config.node, &held, config.lease)
            }) else {
                return;
            };
            if !lost.is_empty() {
                for name in &lost {
                    self.held.remove(name);
                }
                tracing::warn!(names = lost.len(), "names taken by other nodes while this node's lease had lapsed");
                self.shared.report(Report::NamesLost(lost));
            }
        }
        self.flush(link);
        if !self.outbox.is_empty() {
            return;
        }
        if Instant::now() >= self.watch_from {
            let Some(live) = self.with(link, |conn, worker| nodes::live(conn, &worker.shared.keys)) else { return };
            for node in self.watch.update(live) {
                if node != self.shared.config.node {
                    tracing::info!(%node, "a node's lease lapsed");
                    self.shared.report(Report::NodeGone(node));
                }
            }
        }
    }

    /// Learns the epoch; `true` when it changed since the last time.
    fn check_epoch(conn: &mut Connection, worker: &mut Self) -> RedisResult<bool> {
        let keys = &worker.shared.keys;
        let current = epoch::current(conn, keys)?;
        if current.is_some() && current == worker.epoch {
            return Ok(false);
        }
        let value = match current {
            Some(value) => value,
            None => epoch::ensure(conn, keys)?,
        };
        Ok(worker.epoch.replace(value).is_some())
    }

    /// Releases the names and removes the node, as a clean stop does.
    fn leave(&mut self, link: &mut Link) {
        let names = std::mem::take(&mut self.held);
        let left = self.with(link, |conn, worker| {
            let (keys, node) = (&worker.shared.keys, &worker.shared.config.node);
            for name in &names {
                leases::release(conn, keys, name, node)?;
            }
            nodes::leave(conn, keys, node)
        });
        if left.is_none() {
            tracing::warn!(
                names = names.len(),
                "could not leave Redis cleanly; this node's keys expire with its lease"
            );
        }
    }
}
