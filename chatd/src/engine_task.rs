//! The one task that owns the engine. Everything reaches it through one
//! bounded channel; it answers by pushing into each client's send queue,
//! and never waits on any client.
//!
//! Events are handled in batches: wait for one, take whatever else is
//! already waiting (up to [`MAX_BATCH`]), feed all of it to the engine, and
//! only then carry out the engine's output. A batch is the unit at which a
//! store can later commit what the batch produced before its sends go out.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use async_channel::{Receiver, Sender};
use bytes::Bytes;
use chatcore::{ClientId, DisconnectReason, Engine, Now, Output};
use futures_lite::future;
use smol::Timer;

use crate::connection::{self, Socket};
use crate::outbound::{self, OutQueue};
use crate::runtime::spawn;

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

/// What reaches the engine task from the sockets.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// A connection was accepted.
    Connect(Arc<Socket>),
    /// Bytes arrived from a client.
    Input(ClientId, Bytes),
    /// A client's connection ended.
    Closed(ClientId, DisconnectReason),
}

/// A connected client, as the engine task sees it.
#[derive(Debug)]
struct Conn {
    queue: OutQueue,
    socket: Arc<Socket>,
}

/// The engine and the sockets of the clients it knows.
pub(crate) struct EngineTask {
    engine: Engine,
    conns: HashMap<ClientId, Conn>,
    /// Closed connections still flushing, oldest first, to be cut at their
    /// deadline. Weak: a connection whose tasks are done is already gone.
    lingering: VecDeque<(Instant, Weak<Socket>)>,
    /// Clients whose connection ended during this batch. Their sockets stay
    /// in `conns` until the batch's output is out, so that answers to their
    /// last lines (a peer that sends, then half-closes) still reach them.
    departed: Vec<(ClientId, DisconnectReason)>,
    inbound: Sender<Inbound>,
    /// Cloned into every reader and writer; the channel closes when the
    /// last of them ends, which is how shutdown knows all is flushed.
    alive: Option<Sender<()>>,
    alive_rx: Receiver<()>,
    send_queue_bytes: usize,
}

enum Wake {
    Event(Inbound),
    Timer,
    Shutdown,
}

impl EngineTask {
    pub(crate) fn new(engine: Engine, inbound: Sender<Inbound>, send_queue_bytes: usize) -> Self {
        let (alive, alive_rx) = async_channel::bounded(1);
        Self {
            engine,
            conns: HashMap::new(),
            lingering: VecDeque::new(),
            departed: Vec::new(),
            inbound,
            alive: Some(alive),
            alive_rx,
            send_queue_bytes,
        }
    }

    /// Serves events until `shutdown` fires, then shuts down gracefully.
    pub(crate) async fn run(mut self, events: Receiver<Inbound>, shutdown: Receiver<()>) {
        let mut timer = Timer::never();
        let mut armed = None;
        loop {
            let deadline = self.next_deadline();
            if deadline != armed {
                timer = deadline.map_or_else(Timer::never, Timer::at);
                armed = deadline;
            }
            // Signals and timers first: a flood of events must not starve them.
            let wake = future::or(
                async {
                    match shutdown.recv().await {
                        Ok(()) => Wake::Shutdown,
                        Err(_) => future::pending().await,
                    }
                },
                future::or(
                    async {
                        (&mut timer).await;
                        Wake::Timer
                    },
                    async { events.recv().await.map_or(Wake::Shutdown, Wake::Event) },
                ),
            )
            .await;
            let now = Now::system();
            match wake {
                Wake::Event(first) => {
                    self.handle(now, first);
                    for _ in 1..MAX_BATCH {
                        let Ok(event) = events.try_recv() else { break };
                        self.handle(now, event);
                    }
                }
                Wake::Timer => armed = None,
                Wake::Shutdown => break,
            }
            self.engine.handle_timeout(now);
            self.dispatch(now);
            self.cut_lingering(now.instant);
            // While events keep coming, `recv` never waits, so give the
            // writers this batch woke a turn before taking the next one.
            future::yield_now().await;
        }
        self.shut_down(events).await;
    }

    /// The earliest of the engine's timer and the next lingering cut.
    fn next_deadline(&self) -> Option<Instant> {
        let linger = self.lingering.front().map(|(at, _)| *at);
        match (self.engine.poll_timeout(), linger) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Feeds one event to the engine; its output waits for [`dispatch`](Self::dispatch).
    fn handle(&mut self, now: Now, event: Inbound) {
        match event {
            Inbound::Connect(socket) => self.connect(now, socket),
            Inbound::Input(id, bytes) => {
                // An error means the engine closed this client while its
                // bytes were on the way; they no longer matter.
                let _ = self.engine.handle_input(now, id, &bytes);
            }
            Inbound::Closed(id, reason) => {
                // Not known any more: the engine closed it first, and the
                // reader is just reporting the end of that connection.
                if self.engine.handle_disconnect(now, id, reason.clone()).is_ok() {
                    self.departed.push((id, reason));
                }
            }
        }
    }

    fn connect(&mut self, now: Now, socket: Arc<Socket>) {
        let Some(alive) = self.alive.clone() else { return };
        // The address lets the engine count failed logins per source.
        let id = self.engine.handle_connect_from(now, socket.peer.ip());
        let (queue, outbox) = outbound::queue(self.send_queue_bytes);
        spawn(connection::write_loop(id, socket.clone(), outbox, alive.clone())).detach();
        // A client refused as over `max_clients` only gets its farewell written.
        if self.engine.nick(id).is_some() {
            tracing::info!(client = %id, peer = %socket.peer, "connected");
            spawn(connection::read_loop(id, socket.clone(), self.inbound.clone(), alive)).detach();
        }
        self.conns.insert(id, Conn { queue, socket });
    }

    /// Carries out everything the engine asked for, in order.
    fn dispatch(&mut self, now: Now) {
        while let Some(output) = self.engine.poll_output() {
            match output {
                Output::Send { to, data } => self.send(now, to, data),
                Output::Close { client, reason } => {
                    let Some(conn) = self.conns.remove(&client) else { continue };
                    if reason == DisconnectReason::ServerFull {
                        tracing::warn!(client = %client, peer = %conn.socket.peer, %reason, "refused");
                    } else {
                        tracing::info!(client = %client, peer = %conn.socket.peer, %reason, "closing");
                    }
                    self.retire(now, conn);
                }
                // Not printed: an output may carry a password or its hash.
                _ => tracing::warn!("chatd does not carry out this kind of engine output"),
            }
        }
        for (id, reason) in std::mem::take(&mut self.departed) {
            if let Some(conn) = self.conns.remove(&id) {
                tracing::info!(client = %id, peer = %conn.socket.peer, %reason, "disconnected");
                self.retire(now, conn);
            }
        }
    }

    fn send(&mut self, now: Now, to: ClientId, data: Bytes) {
        let Some(conn) = self.conns.get(&to) else { return };
        let Err(exceeded) = conn.queue.push(data) else { return };
        let Some(conn) = self.conns.remove(&to) else { return };
        tracing::warn!(
            client = %to,
            peer = %conn.socket.peer,
            queued = exceeded.queued,
            limit = self.send_queue_bytes,
            "send queue exceeded; disconnecting"
        );
        // Cut at once: this peer is not reading, so there is nothing to flush.
        conn.queue.close();
        conn.socket.cut();
        // Its roommates are told; those sends are drained by the caller's loop.
        let _ = self.engine.handle_disconnect(now, to, DisconnectReason::SendQueueExceeded);
    }

    /// Lets a finished connection flush, and schedules its cut.
    fn retire(&mut self, now: Now, conn: Conn) {
        conn.queue.close();
        self.lingering.push_back((now.instant + CLOSE_LINGER, Arc::downgrade(&conn.socket)));
    }

    /// Cuts the connections whose linger time is over.
    fn cut_lingering(&mut self, now: Instant) {
        while let Some((at, _)) = self.lingering.front() {
            if *at > now {
                break;
            }
            if let Some((_, socket)) = self.lingering.pop_front() {
                if let Some(socket) = socket.upgrade() {
                    socket.cut();
                }
            }
        }
    }

    /// Tells every client goodbye, lets the writers flush, and returns once
    /// every connection task has ended or the grace time is over.
    async fn shut_down(mut self, events: Receiver<Inbound>) {
        let now = Now::system();
        tracing::info!(clients = self.engine.client_count(), "shutting down");
        self.engine.handle_shutdown(now);
        self.dispatch(now);
        for (_, conn) in std::mem::take(&mut self.conns) {
            self.retire(now, conn);
        }
        self.alive = None;
        let give_up = now.instant + CLOSE_LINGER + SHUTDOWN_MARGIN;
        loop {
            let deadline = self.lingering.front().map_or(give_up, |(at, _)| *at);
            let wake = future::or(
                async {
                    let _ = self.alive_rx.recv().await;
                    None
                },
                future::or(
                    async {
                        Timer::at(deadline).await;
                        Some(Wake::Timer)
                    },
                    async { events.recv().await.ok().map(Wake::Event) },
                ),
            )
            .await;
            match wake {
                // Every reader and writer has ended.
                None => break,
                Some(Wake::Timer) if Instant::now() >= give_up => {
                    tracing::warn!("shutdown grace time is over; closing what is left");
                    break;
                }
                Some(Wake::Timer | Wake::Shutdown) => self.cut_lingering(Instant::now()),
                // The engine has forgotten everyone; a connection accepted
                // just now is simply closed.
                Some(Wake::Event(Inbound::Connect(socket))) => socket.cut(),
                Some(Wake::Event(_)) => {}
            }
        }
        tracing::info!("stopped");
    }
}
