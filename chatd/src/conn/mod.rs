//! One client's connection: its socket, its send queue, and the one task
//! that serves it. The socket and the queue sit in one [`Socket`], shared
//! through an `Arc` by that task and the engine task.
//!
//! Reading ([`reader`]): the connection's task waits until the socket is
//! readable, reads into a buffer on the thread's stack (so an idle
//! connection holds no read buffer) and hands the bytes to the engine task
//! through the bounded inbound channel. When that channel is full it waits,
//! which is what slows a fast sender down.
//!
//! Writing, in the order bytes travel:
//!
//! 1. The engine task pushes each send into the client's queue
//!    ([`queue`]), and never waits: [`Socket::push`]. A client is cut only
//!    for bytes it left unread a grace period after they were queued
//!    ([`SendLimit`]), never for the size of one batch.
//! 2. At the end of its batch it writes to each socket it queued for, once,
//!    everything queued in one `writev`, without waiting: [`Socket::flush`].
//!    On an idle loopback or LAN socket the kernel takes it all at once and
//!    no other task runs.
//! 3. If the socket took less, the connection's task (its writer half,
//!    [`writer`]) waits until the socket is writable and writes the rest;
//!    until the queue is empty again, the engine task only queues.
//! 4. When the client is done ([`Socket::close_queue`]), the writer half
//!    flushes what is queued and then ends the stream.
//!
//! Every write happens under the queue's lock and starts from its oldest
//! bytes, so the bytes go out in the order they were queued whoever
//! writes them.
//!
//! A WebSocket client ([`ws`]) has the same socket, queue and limits; only
//! its transport differs. Its bytes must become frames, which only its own
//! task can make, so step 2 hands the queue to that task instead of
//! writing (see [`Transport`]), and the reader hands over the text of
//! whole messages instead of raw bytes.

mod queue;
mod reader;
mod writer;
pub(crate) mod ws;

use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_channel::Sender;
use bytes::Bytes;
use chatcore::{ClientId, Codec, DisconnectReason};
use futures_lite::future;
use smol::Async;
use socket2::{SockRef, TcpKeepalive};

use crate::ip_limit::IpSlot;
use crate::newcomers::{self, Newcomer};
use queue::OutQueue;
pub(crate) use queue::{Exceeded, SendLimit};

/// A connection, shared by its task and the engine task. Dropped (closing
/// the socket and freeing its IP slot) when both let go.
#[derive(Debug)]
pub(crate) struct Socket {
    stream: Async<TcpStream>,
    pub(crate) peer: SocketAddr,
    out: OutQueue,
    transport: Transport,
    _slot: IpSlot,
}

/// How queued bytes reach the peer.
#[derive(Debug)]
enum Transport {
    /// As they are: the engine task writes them straight to the socket.
    Tcp,
    /// As WebSocket text frames, one per line, made and written by the
    /// connection's own task.
    /// Boxed: most connections are plain, and a socket lives as long as
    /// its connection.
    WebSocket(Box<ws::Shared>),
}

/// What reaches the engine task from the sockets, through the one bounded
/// inbound channel. Defined here, with what sends it, so that the
/// connections need nothing of the engine task's.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// A connection was accepted (a WebSocket: and upgraded).
    Connect(Incoming),
    /// Bytes arrived from a client.
    Input(ClientId, Bytes),
    /// A client's connection ended.
    Closed(ClientId, DisconnectReason),
}

/// A connection accepted, on its way to the engine task.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) socket: Arc<Socket>,
    /// What the port speaks (text and JSON share one; a WebSocket is JSON).
    pub(crate) codec: Codec,
    /// The WebSocket's framing state, for a WebSocket client. Boxed: every
    /// slot of the inbound channel is as large as its largest event.
    ws: Option<Box<ws::Stream>>,
    /// Set when passwords must not travel over this connection: the hint
    /// that names where to go instead (see `tls::PlainPasswords`).
    pub(crate) refuse_passwords: Option<Box<str>>,
    /// An IRC connection stays counted among those that are not clients
    /// yet until it registers (see `newcomers`).
    pub(crate) newcomer: Option<Newcomer>,
}

impl Incoming {
    /// Whether this is a WebSocket client.
    pub(crate) fn is_websocket(&self) -> bool {
        self.ws.is_some()
    }

    /// A plain TCP client of a port that speaks `codec`.
    pub(crate) fn tcp(stream: Async<TcpStream>, peer: SocketAddr, slot: IpSlot, codec: Codec) -> Self {
        let socket = Socket { stream, peer, out: OutQueue::default(), transport: Transport::Tcp, _slot: slot };
        Self { socket: Arc::new(socket), codec, ws: None, refuse_passwords: None, newcomer: None }
    }
}

impl Socket {
    /// The engine is done with this client for `reason`: a WebSocket
    /// client is told so with its close frame's code (the first reason
    /// given wins: a protocol error the reader found stays the reason).
    pub(crate) fn closing_for(&self, reason: &DisconnectReason) {
        if let Transport::WebSocket(shared) = &self.transport {
            shared.close_with(ws::CloseReason::from_engine(reason));
        }
    }

    /// The client fell behind ([`Exceeded`]): nothing queued for it is
    /// worth writing any more. A TCP connection is cut at once. A
    /// WebSocket's queue is dropped and its task sends a close frame (1008)
    /// after what its socket already holds, if the peer reads that before
    /// the connection's linger time cuts it.
    pub(crate) fn fell_behind(&self) {
        match &self.transport {
            Transport::Tcp => self.cut(),
            Transport::WebSocket(shared) => {
                shared.close_with(ws::CloseReason::fell_behind());
                self.out.fail();
            }
        }
    }

    /// Cuts the connection both ways: a blocked write fails, a blocked read
    /// sees end of file, so the connection's task ends promptly.
    pub(crate) fn cut(&self) {
        let _ = self.stream.get_ref().shutdown(Shutdown::Both);
    }

    /// Queues `data` at `now` without waiting (see [`OutQueue::push`]).
    /// `Ok(true)`: call [`flush`](Self::flush) once this batch's data is
    /// queued.
    pub(crate) fn push(&self, data: Bytes, now: Instant, limit: &SendLimit) -> Result<bool, Exceeded> {
        self.out.push(data, now, limit)
    }

    /// Writes what is queued as far as the socket takes it now, without
    /// waiting; the connection's task finishes the rest. On a write error
    /// the connection is cut, and its reader reports the disconnect.
    pub(crate) fn flush(&self) {
        match self.transport {
            Transport::Tcp => {
                if let Err(error) = self.out.flush(self.stream.get_ref()) {
                    tracing::debug!(peer = %self.peer, %error, "write failed");
                    self.cut();
                }
            }
            // Frames are made on the connection's task; the engine task only
            // says there is work, once per batch.
            Transport::WebSocket(_) => self.out.hand_to_task(),
        }
    }

    /// No more data will come: what is queued is flushed, then the
    /// connection's write side is closed.
    pub(crate) fn close_queue(&self) {
        self.out.close();
    }
}

impl newcomers::Cut for Socket {
    fn cut(&self) {
        Socket::cut(self);
    }
}

/// Socket options for a new client.
///
/// Keepalive finds a peer that vanished without a FIN (a half-open
/// socket) while the connection is idle: probes after 60 s of silence, then
/// every 10 s, dropped after 3 unanswered (about 90 s). While data is
/// waiting to be acknowledged, keepalive does not run; on Linux
/// `TCP_USER_TIMEOUT` drops a connection whose data stays unacknowledged
/// for 60 s. No delay: chatd already coalesces its writes.
pub(crate) fn configure(stream: &TcpStream) {
    let socket = SockRef::from(stream);
    let keepalive =
        TcpKeepalive::new().with_time(Duration::from_secs(60)).with_interval(Duration::from_secs(10)).with_retries(3);
    if let Err(error) = socket.set_tcp_keepalive(&keepalive) {
        tracing::debug!(%error, "could not enable TCP keepalive");
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(error) = socket.set_tcp_user_timeout(Some(Duration::from_secs(60))) {
        tracing::debug!(%error, "could not set TCP_USER_TIMEOUT");
    }
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "could not set TCP_NODELAY");
    }
}

/// Serves one connection until both halves are done: reading (unless
/// `inbound` is `None`, for a client refused at once, which only gets its
/// farewell) and writing whatever the engine task could not (on a
/// WebSocket: everything).
///
/// The task lives as long as its connection, so its size is paid a
/// million times over: `incoming` is taken apart before the task's state
/// is made (what the task does not need is not kept), a WebSocket's state
/// is boxed, and each branch makes its own futures so that they share
/// space instead of adding up.
pub(crate) fn serve(
    id: ClientId,
    incoming: Incoming,
    inbound: Option<Sender<Inbound>>,
    alive: Sender<()>,
) -> impl Future<Output = ()> + Send + 'static {
    let Incoming { socket, ws, .. } = incoming;
    async move {
        let _alive = alive;
        if let Some(stream) = ws {
            return Box::pin(ws::serve(id, socket, *stream, inbound)).await;
        }
        match inbound {
            Some(inbound) => {
                future::zip(reader::read_loop(id, &socket, inbound), writer::write_loop(id, &socket)).await;
            }
            None => writer::write_loop(id, &socket).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection's task is paid for once per connection, a million times
    /// over at scale: 312 bytes of state when this was written. A change
    /// that makes every plain connection carry much more (a WebSocket's
    /// state inline, a second copy of a loop) fails here, not in a
    /// benchmark weeks later.
    #[test]
    fn a_plain_connection_task_stays_small() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let _client = TcpStream::connect(listener.local_addr().expect("address")).expect("connect");
        let (server, peer) = listener.accept().expect("accept");
        let slot = crate::ip_limit::IpLimiter::new(0).try_acquire(peer.ip()).expect("no cap");
        let incoming = Incoming::tcp(Async::new(server).expect("register"), peer, slot, Codec::Text);
        let mut engine = chatcore::Engine::new(chatcore::Config::default()).expect("config");
        let id = engine.handle_connect(chatcore::Now::system(), chatcore::ConnectInfo::default());
        let (inbound, _events) = async_channel::unbounded();
        let (alive, _alive_rx) = async_channel::bounded(1);
        let task = serve(id, incoming, Some(inbound), alive);
        assert!(size_of_val(&task) <= 384, "a connection's task holds {} bytes", size_of_val(&task));
    }
}
