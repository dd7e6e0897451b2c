//! The one task that owns the engine. Everything reaches it through one
//! bounded channel; it answers by pushing into each client's send queue,
//! and never waits on any client.
//!
//! Events are handled in batches: wait for one, take whatever else is
//! already waiting (up to [`MAX_BATCH`]), feed all of it to the engine, and
//! only then carry out the engine's output. The records a batch produced
//! go to the storage thread as one commit, and the batch's sends and closes
//! wait in [`Held`] until that commit is durable. Password work goes to the
//! password pool ([`passwords::Pool`]) and comes back as a [`Done`]; when
//! the pool is full, the client is told the server is busy.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use async_channel::{Receiver, Sender};
use bytes::Bytes;
use chatcore::{ClientId, Codec, ConnectInfo, DisconnectReason, Engine, Now, Output, StorageStatus, TokenSecret};
use futures_lite::future;
use smol::Timer;

use crate::conn::{self, Inbound, Incoming, SendLimit, Socket};
use crate::held::{ClientOp, Held};
use crate::metrics::{Measures, Scrape};
use crate::newcomers::Newcomer;
use crate::passwords::{self, Answer};
use crate::runtime::spawn;
use crate::server::refusals::{self, Refusal};
use crate::shutdown::Stop;
use crate::store::thread::{Job, Reply, StoreHandle};

// This node's part of a cluster: the engine's cluster requests carried out.
pub(crate) mod cluster;
// When each commit was sent, to notice one that hangs.
mod commit_watch;
// The engine's deadlines on a 100 ms grid: few wakeups for many timers.
mod grain;
// Goodbyes, the last commits, and the wait for every connection to end.
mod shutdown;

use cluster::{ClusterDone, Node};
use commit_watch::CommitWatch;
use grain::Grid;

/// Most events taken from the inbound channel before the engine's output is
/// carried out; it bounds how long one batch keeps others waiting.
pub(crate) const MAX_BATCH: usize = 256;

/// How long a closed client's writer may take to flush its last lines
/// before the socket is cut; bounds what a peer that stopped reading can
/// hold after it was told goodbye.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// Extra time shutdown allows past [`CLOSE_LINGER`] for tasks to notice
/// their sockets were cut.
const SHUTDOWN_MARGIN: Duration = Duration::from_secs(1);

/// Bytes of sends that may wait for a commit before the engine task stops
/// taking new events (and so, through the bounded inbound channel, stops
/// reading sockets). Bounds memory while the disk is slow or failing.
const MAX_HELD_BYTES: usize = 64 * 1024 * 1024;

/// Work finished off the engine task, to be fed back to the engine: what
/// the password pool and the storage thread report, each in a type of its
/// own, brought to one channel by the callbacks `server.rs` gives them.
#[derive(Debug)]
pub(crate) enum Done {
    /// A password was hashed or checked.
    Password(passwords::Answer),
    /// The storage thread reports.
    Store(Reply),
    /// The cluster's bus or follower reports.
    Cluster(ClusterDone),
}

/// A connected client, as the engine task sees it.
#[derive(Debug)]
struct Conn {
    socket: Arc<Socket>,
    /// A WebSocket client the engine took (counted in [`Measures`]).
    websocket: bool,
}

/// The engine and the sockets of the clients it knows.
pub(crate) struct EngineTask {
    engine: Engine,
    conns: HashMap<ClientId, Conn>,
    /// Closed connections still flushing, oldest first, to be cut at their
    /// deadline. Weak: a connection whose tasks are done is already gone.
    lingering: VecDeque<(Instant, Weak<Socket>)>,
    /// Where the engine's deadlines are rounded up to (see `grain.rs`).
    timer_grid: Grid,
    /// Clients whose connection ended during this batch. Their sockets stay
    /// in `conns` until the batch's output is out, so that answers to their
    /// last lines (a peer that sends, then half-closes) still reach them.
    departed: Vec<(ClientId, DisconnectReason)>,
    /// Connections queued for since the last flush; written to at the end
    /// of each batch, so each gets one `writev` for all of it.
    to_flush: Vec<Arc<Socket>>,
    inbound: Sender<Inbound>,
    /// The server password of chatd's IRC ports (`--irc-password`), given
    /// to the engine with each IRC connection.
    irc_password: Option<Box<str>>,
    /// Cloned into every connection's task; the channel closes when the
    /// last of them ends, which is how shutdown knows all is flushed.
    alive: Option<Sender<()>>,
    alive_rx: Receiver<()>,
    send_limit: SendLimit,
    /// `None` with `--ephemeral`: nothing is stored and nothing waits.
    store: Option<StoreHandle>,
    held: Held,
    /// The store said its writes fail (it keeps retrying the batch it
    /// holds). The storage thread only reports changes.
    writes_failing: bool,
    /// When each commit still unanswered was sent, to notice one that
    /// hangs: a thread blocked in the kernel reports nothing.
    commits: CommitWatch,
    /// What the engine was last told with `handle_storage_status`: failing
    /// while writes fail or a commit is overdue. chatd's one record of
    /// storage health.
    storage_failing: bool,
    /// Storage counts as failing because a commit hangs (logged once, and
    /// once more when it finishes).
    stalled: bool,
    /// Where password and storage results come back.
    done_rx: Receiver<Done>,
    /// The threads that hash and check passwords, with their bounded queue.
    passwords: passwords::Pool,
    /// What this task measures for `/metrics`.
    measures: Measures,
    /// IRC clients that have not registered: still counted among the
    /// connections that are not clients yet.
    unregistered: HashMap<ClientId, Newcomer>,
    /// Of those, the ones heard from in this batch: registered, perhaps.
    heard: Vec<ClientId>,
    /// This node's part of a cluster, if chatd is one node of several.
    cluster: Option<Node>,
}

enum Wake {
    Event(Inbound),
    Done(Done),
    Scrape(Scrape),
    Timer,
    Shutdown,
}

impl EngineTask {
    /// `done` is the channel the storage thread (if any) and the password
    /// pool were started to report on.
    pub(crate) fn new(
        engine: Engine,
        inbound: Sender<Inbound>,
        send_limit: SendLimit,
        store: Option<StoreHandle>,
        passwords: passwords::Pool,
        commit_timeout: Option<Duration>,
        done: Receiver<Done>,
    ) -> Self {
        let (alive, alive_rx) = async_channel::bounded(1);
        Self {
            store,
            held: Held::default(),
            writes_failing: false,
            commits: CommitWatch::new(commit_timeout),
            storage_failing: false,
            stalled: false,
            done_rx: done,
            passwords,
            measures: Measures::default(),
            unregistered: HashMap::new(),
            heard: Vec::new(),
            cluster: None,
            engine,
            conns: HashMap::new(),
            lingering: VecDeque::new(),
            timer_grid: Grid::new(Instant::now()),
            departed: Vec::new(),
            to_flush: Vec::new(),
            inbound,
            irc_password: None,
            alive: Some(alive),
            alive_rx,
            send_limit,
        }
    }

    /// Makes this engine task one node of a cluster (the engine must be
    /// configured for it, and the store must number publications).
    pub(crate) fn with_cluster(mut self, node: Option<Node>) -> Self {
        self.cluster = node;
        self
    }

    /// IRC clients must give `password` with PASS before they register.
    pub(crate) fn with_irc_password(mut self, password: Option<&str>) -> Self {
        self.irc_password = password.map(Box::from);
        self
    }

    /// Serves events until `shutdown` fires, then shuts down gracefully;
    /// `listening` closes once every chat port's listener has closed, and
    /// until then the connections they still hand over are told goodbye
    /// too. Each request on `scrapes` is answered with a snapshot of the
    /// figures for `/metrics`, between batches.
    pub(crate) async fn run(
        mut self,
        events: Receiver<Inbound>,
        shutdown: Stop,
        listening: Receiver<()>,
        scrapes: Receiver<Scrape>,
    ) {
        let mut timer = Timer::never();
        let mut armed = None;
        loop {
            let deadline = self.next_deadline();
            if deadline != armed {
                timer = deadline.map_or_else(Timer::never, Timer::at);
                armed = deadline;
            }
            // While too much waits for the disk, take no new events: readers
            // then wait on the full inbound channel, and sockets on them.
            let accepting = self.held.bytes() < MAX_HELD_BYTES;
            // Signals, timers and finished work first: a flood of events must not starve them.
            let wake = future::or(
                async {
                    shutdown.requested().await;
                    Wake::Shutdown
                },
                future::or(
                    async {
                        (&mut timer).await;
                        Wake::Timer
                    },
                    future::or(
                        future::or(
                            async {
                                match self.done_rx.recv().await {
                                    Ok(done) => Wake::Done(done),
                                    // The task holds a sender itself, so this never closes.
                                    Err(_) => future::pending().await,
                                }
                            },
                            async {
                                match scrapes.recv().await {
                                    Ok(reply) => Wake::Scrape(reply),
                                    // Without an HTTP port nobody asks.
                                    Err(_) => future::pending().await,
                                }
                            },
                        ),
                        async {
                            if !accepting {
                                future::pending::<()>().await;
                            }
                            events.recv().await.map_or(Wake::Shutdown, Wake::Event)
                        },
                    ),
                ),
            )
            .await;
            let now = Now::system();
            match wake {
                Wake::Event(first) => {
                    self.handle(now, first);
                    let mut taken = 1;
                    while taken < MAX_BATCH {
                        let Ok(event) = events.try_recv() else { break };
                        self.handle(now, event);
                        taken += 1;
                    }
                    self.measures.batch_events(taken);
                }
                Wake::Done(done) => {
                    // A login that completes a registration ends here.
                    self.heard.extend(self.unregistered.keys());
                    self.finished(now, done);
                    while let Ok(done) = self.done_rx.try_recv() {
                        self.finished(now, done);
                    }
                }
                Wake::Scrape(reply) => {
                    let mut snapshot = self.measures.snapshot(
                        &self.engine,
                        self.held.bytes(),
                        self.storage_failing,
                        self.passwords.checks_run(),
                    );
                    if let Some(node) = &self.cluster {
                        snapshot = snapshot.with_cluster(node.bus_counts());
                    }
                    // Room for one answer was made by the asker; one that
                    // gave up is simply not answered.
                    let _ = reply.try_send(snapshot);
                    continue;
                }
                Wake::Timer => armed = None,
                Wake::Shutdown => break,
            }
            self.update_storage_status(now);
            self.engine.handle_timeout(now);
            self.dispatch(now);
            self.flush();
            self.cut_lingering(now.instant);
            for id in self.heard.drain(..) {
                if !self.engine.awaiting_registration(id) {
                    self.unregistered.remove(&id);
                }
            }
            self.measures.batch_took(now.instant.elapsed());
            // While events keep coming, `recv` never waits, so give the
            // connections this batch woke a turn before taking the next one.
            future::yield_now().await;
        }
        self.shut_down(events, listening).await;
    }

    /// The earliest of the engine's timer (on its grid), the next lingering
    /// cut and the moment the oldest unanswered commit becomes overdue.
    fn next_deadline(&self) -> Option<Instant> {
        let linger = self.lingering.front().map(|(at, _)| *at);
        // Once storage counts as failing, an overdue commit changes nothing
        // more (and its deadline, now past, must not keep waking the task).
        let overdue = self.commits.deadline().filter(|_| !self.storage_failing);
        let engine = self.engine.poll_timeout().map(|at| self.timer_grid.round_up(at));
        [engine, linger, overdue].into_iter().flatten().min()
    }

    /// Tells the engine when storage starts or stops counting as failing:
    /// while a write fails, or while a commit has taken longer than
    /// `--commit-timeout` (a disk that hangs rather than fails: the storage
    /// thread is stuck in the kernel and cannot say so itself).
    fn update_storage_status(&mut self, now: Now) {
        let overdue = self.commits.overdue(now.instant);
        let failing = self.writes_failing || overdue.is_some();
        if failing == self.storage_failing {
            return;
        }
        match overdue {
            // The storage thread logged its own failure.
            Some(waited) if !self.writes_failing => {
                self.stalled = true;
                tracing::error!(
                    waited_secs = waited.as_secs_f64(),
                    "a storage commit has not finished; refusing new messages until it does"
                );
            }
            _ if !failing && std::mem::take(&mut self.stalled) => {
                tracing::info!("the overdue storage commit finished; taking new messages again");
            }
            _ => {}
        }
        self.storage_failing = failing;
        self.engine.handle_storage_status(if failing { StorageStatus::Failing } else { StorageStatus::Healthy });
        // What waited only for its turn behind the stuck commit (answers
        // that made no records) goes out now, as later such output will:
        // a command sent just before the disk was judged failing is not
        // left waiting for the disk either.
        if failing {
            for op in self.held.take_unrecorded() {
                self.apply(now, op);
            }
        }
    }

    /// Feeds one event to the engine; its output waits for [`dispatch`](Self::dispatch).
    fn handle(&mut self, now: Now, event: Inbound) {
        match event {
            Inbound::Connect(incoming) => {
                if let Some(alive) = self.alive.clone() {
                    self.connect(now, incoming, alive);
                }
            }
            // Bytes or an end racing the engine's own close are `Ok` and
            // change nothing; an `Err` is a bug in chatd.
            Inbound::Input(id, bytes) => {
                report_misuse(self.engine.handle_input(now, id, &bytes));
                if self.unregistered.contains_key(&id) {
                    self.heard.push(id);
                }
            }
            Inbound::Closed(id, reason) => {
                report_misuse(self.engine.handle_disconnect(now, id, reason.clone()));
                self.departed.push((id, reason));
            }
        }
    }

    /// Feeds finished off-task work back to the engine, or releases what a
    /// commit made durable.
    fn finished(&mut self, now: Now, done: Done) {
        match done {
            Done::Password(Answer::Hashed(request, hash)) => {
                report_misuse(self.engine.handle_password_hashed(now, request, hash));
            }
            Done::Password(Answer::Verified(request, matches)) => {
                report_misuse(self.engine.handle_password_verified(now, request, matches));
            }
            Done::Store(Reply::Committed { upto, published }) => {
                let measures = &mut self.measures;
                self.commits.committed(upto, now.instant, |took| measures.committed(took));
                for op in self.held.release(upto) {
                    self.apply(now, op);
                }
                if let Some(node) = &mut self.cluster {
                    node.committed(&mut self.engine, now, published);
                }
            }
            Done::Store(Reply::Status(status)) => {
                self.writes_failing = status == StorageStatus::Failing;
                self.update_storage_status(now);
            }
            Done::Cluster(done) => {
                if let Some(node) = &mut self.cluster {
                    node.finished(&mut self.engine, now, done);
                }
            }
            Done::Store(Reply::History { client, target, messages, unreadable }) => {
                report_misuse(self.engine.handle_history_page(client, &target, messages, unreadable));
            }
        }
    }

    /// Gives a new connection to the engine and starts its task, which
    /// holds `alive` until it ends.
    fn connect(&mut self, now: Now, mut incoming: Incoming, alive: Sender<()>) {
        let socket = incoming.socket.clone();
        // The address lets the engine count failed logins per source.
        let mut info = ConnectInfo::new(incoming.codec).from(socket.peer.ip());
        if let Some(hint) = incoming.refuse_passwords.take() {
            info = info.refusing_passwords(hint);
        }
        if let Some(password) = &self.irc_password
            && incoming.codec == Codec::Irc
        {
            info = info.with_irc_password(password.clone());
        }
        let id = self.engine.handle_connect(now, info);
        // A client refused as over `max_clients` only gets its farewell written.
        let reader = self.engine.nick(id).is_some().then(|| self.inbound.clone());
        // One line per connection would let connection churn flood the
        // log; the count is in the metrics.
        if reader.is_some() {
            self.measures.connection_opened();
            tracing::debug!(client = %id, peer = %socket.peer, "connected");
        }
        let websocket = reader.is_some() && incoming.is_websocket();
        if websocket {
            self.measures.websocket_connected();
        }
        if let Some(newcomer) = incoming.newcomer.take()
            && reader.is_some()
            && self.engine.awaiting_registration(id)
        {
            newcomer.became_client(&socket);
            self.unregistered.insert(id, newcomer);
        }
        spawn(conn::serve(id, incoming, reader, alive)).detach();
        self.conns.insert(id, Conn { socket, websocket });
    }

    /// Carries out everything the engine asked for, in order. Client ops go
    /// out at once unless this batch made records or earlier ops still wait
    /// for the disk; then they wait for the commit.
    fn dispatch(&mut self, now: Now) {
        // Carrying out ops can make more output (a send queue overflows,
        // the client is dropped, its roommates are told), so go round.
        while self.engine.pending_output() > 0 || !self.departed.is_empty() {
            let mut ops = Vec::new();
            let mut records = Vec::new();
            let mut fetches = Vec::new();
            let mut publications = Vec::new();
            while let Some(output) = self.engine.poll_output() {
                match output {
                    Output::Send { to, data } => ops.push(ClientOp::Send(to, data)),
                    Output::Broadcast { to, data } => ops.push(ClientOp::Broadcast(to, data)),
                    Output::Close { client, reason } => ops.push(ClientOp::Close(client, reason)),
                    Output::HashPassword { request, password } => {
                        self.hash_off_task(passwords::Job::Hash { request, password });
                    }
                    Output::VerifyPassword { request, password, hash } => {
                        self.hash_off_task(passwords::Job::Verify { request, password, hash });
                    }
                    // A session token: 32 bytes from the operating system's
                    // CSPRNG, cheap enough to draw here.
                    Output::NewToken { request } => {
                        let mut bytes = [0; 32];
                        let answer = match getrandom::fill(&mut bytes) {
                            Ok(()) => self.engine.handle_token_secret(now, request, TokenSecret::new(bytes)),
                            Err(error) => {
                                tracing::error!(%error, "no random bytes for a session token");
                                self.engine.handle_password_busy(request)
                            }
                        };
                        if let Err(error) = answer {
                            tracing::error!(%error, "the engine refused its own token request");
                        }
                    }
                    Output::Persist(record) => records.push(*record),
                    Output::FetchHistory { client, target, range, limit } => {
                        fetches.push(Job::Fetch { client, target, range, limit });
                    }
                    Output::Cluster(request) => match &mut self.cluster {
                        Some(node) => node.request(request, &mut publications),
                        None => debug_assert!(false, "a single node was asked {request:?}"),
                    },
                    // Who did what, for the server's own operators (docs/OPERATIONS.md).
                    Output::OperatorAction(done) => tracing::info!(
                        operator = %done.account,
                        client = %done.client,
                        action = %done.action.name(),
                        target = %done.action.target(),
                        "server operator action"
                    ),
                }
            }
            ops.extend(
                std::mem::take(&mut self.departed).into_iter().map(|(id, reason)| ClientOp::Departed(id, reason)),
            );
            match &self.store {
                Some(store) if !records.is_empty() || !publications.is_empty() => {
                    if let Some(node) = &self.cluster {
                        node.recorded(&records);
                    }
                    let batch = self.held.hold_for_new_batch(ops);
                    self.measures.commit_sent(records.len() + publications.len());
                    store.send(Job::Commit { batch, records, publications });
                    self.commits.sent(batch, now.instant);
                }
                // While writes fail, the engine makes no new records (it
                // refuses what would need one), so a batch without records
                // goes out at once: its senders hear `storage_unavailable`
                // and everyone's commands are answered, instead of all
                // output waiting for the disk. Only the batches already
                // held for the commit being retried wait for it.
                Some(_) if !self.held.is_empty() && !self.storage_failing => self.held.hold_behind(ops),
                _ => {
                    for op in ops {
                        self.apply(now, op);
                    }
                }
            }
            // After the commit sent above, so a page includes what its reader saw.
            for fetch in fetches {
                if let Some(store) = &self.store {
                    store.send(fetch);
                }
            }
        }
    }

    /// Hands password work to the pool; its result comes back as a
    /// [`Done`]. If the pool's queue is full, the client is told at once that
    /// the server is busy, which counts as no failed login.
    fn hash_off_task(&mut self, job: passwords::Job) {
        if let Err(request) = self.passwords.submit(job) {
            if refusals::note(Refusal::PasswordBusy) {
                tracing::warn!("password check refused: the server is busy (see --hash-threads, --hash-queue)");
            }
            report_misuse(self.engine.handle_password_busy(request));
        }
    }

    /// Carries out one client op.
    fn apply(&mut self, now: Now, op: ClientOp) {
        match op {
            ClientOp::Send(to, data) => self.send(now, to, data),
            ClientOp::Broadcast(to, data) => {
                for id in to {
                    self.send(now, id, data.clone());
                }
            }
            ClientOp::Close(client, reason) => {
                let Some(conn) = self.forget(client) else { return };
                conn.socket.closing_for(&reason);
                if reason == DisconnectReason::ServerFull {
                    if refusals::note(Refusal::ServerFull) {
                        tracing::warn!(client = %client, peer = %conn.socket.peer, %reason, "refused");
                    }
                } else {
                    tracing::debug!(client = %client, peer = %conn.socket.peer, %reason, "closing");
                }
                self.retire(now, conn);
            }
            ClientOp::Departed(id, reason) => {
                if let Some(conn) = self.forget(id) {
                    conn.socket.closing_for(&reason);
                    tracing::debug!(client = %id, peer = %conn.socket.peer, %reason, "disconnected");
                    self.retire(now, conn);
                }
            }
        }
    }

    fn send(&mut self, now: Now, to: ClientId, data: Bytes) {
        let Some(conn) = self.conns.get(&to) else { return };
        let exceeded = match conn.socket.push(data, now.instant, &self.send_limit) {
            Ok(true) => return self.to_flush.push(conn.socket.clone()),
            Ok(false) => return,
            Err(exceeded) => exceeded,
        };
        let Some(conn) = self.forget(to) else { return };
        self.measures.send_queue_cut();
        tracing::warn!(
            client = %to,
            peer = %conn.socket.peer,
            queued = exceeded.queued,
            overdue = exceeded.overdue,
            limit = self.send_limit.behind_bytes,
            "send queue exceeded; disconnecting"
        );
        // This peer is not reading, so nothing queued is worth flushing: a
        // TCP socket is cut at once; a WebSocket may still get its close
        // frame out within the linger time.
        conn.socket.fell_behind();
        self.retire(now, conn);
        // Its roommates are told; `dispatch` goes round for those sends.
        report_misuse(self.engine.handle_disconnect(now, to, DisconnectReason::SendQueueExceeded));
    }

    /// Takes a client's connection out of those the engine serves.
    fn forget(&mut self, id: ClientId) -> Option<Conn> {
        let conn = self.conns.remove(&id)?;
        self.unregistered.remove(&id);
        if conn.websocket {
            self.measures.websocket_gone();
        }
        Some(conn)
    }

    /// Lets a finished connection flush, and schedules its cut.
    fn retire(&mut self, now: Now, conn: Conn) {
        conn.socket.close_queue();
        self.lingering.push_back((now.instant + CLOSE_LINGER, Arc::downgrade(&conn.socket)));
    }

    /// Writes what this batch queued, one `writev` per connection; a
    /// socket that cannot take it all is left to its connection's task.
    fn flush(&mut self) {
        for socket in self.to_flush.drain(..) {
            socket.flush();
        }
    }

    /// Cuts the connections whose linger time is over.
    fn cut_lingering(&mut self, now: Instant) {
        while let Some((at, _)) = self.lingering.front() {
            if *at > now {
                break;
            }
            if let Some((_, socket)) = self.lingering.pop_front()
                && let Some(socket) = socket.upgrade()
            {
                socket.cut();
            }
        }
    }
}

/// An `Err` from the engine means chatd used it wrongly (an id it never
/// issued, a request answered twice): a bug worth a loud log line, never a
/// reason to stop serving everyone else.
fn report_misuse(result: Result<(), chatcore::Error>) {
    if let Err(error) = result {
        tracing::error!(%error, "engine refused a call from chatd (a bug in chatd)");
    }
}
