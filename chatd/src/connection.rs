//! One client's connection: its socket, its send queue, and the one task
//! that serves it. That task reads and hands bytes to the engine task, and
//! finishes any write the engine task could not complete at once. An idle
//! connection holds no buffer: reads go into a buffer on the thread's
//! stack, only after the socket is readable.

use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use async_channel::Sender;
use bytes::Bytes;
use chatcore::{ClientId, DisconnectReason};
use futures_lite::future::{self, poll_fn};
use smol::Async;
use socket2::{SockRef, TcpKeepalive};

use crate::engine_task::Inbound;
use crate::ip_limit::IpSlot;
use crate::outbound::{Exceeded, Flushed, OutQueue, WriterJob};

/// Bytes read from a socket at once, into a buffer on the stack that lives
/// only for the read. The engine frames lines across reads, so a line
/// longer than this is fine.
const READ_BUF: usize = 4096;

/// A connection, shared by its task and the engine task. Dropped (closing
/// the socket and freeing its IP slot) when both let go.
#[derive(Debug)]
pub(crate) struct Socket {
    stream: Async<TcpStream>,
    pub(crate) peer: SocketAddr,
    out: OutQueue,
    _slot: IpSlot,
}

impl Socket {
    pub(crate) fn new(stream: Async<TcpStream>, peer: SocketAddr, slot: IpSlot) -> Self {
        Self { stream, peer, out: OutQueue::default(), _slot: slot }
    }

    /// Cuts the connection both ways: a blocked write fails, a blocked read
    /// sees end of file, so the connection's task ends promptly.
    pub(crate) fn cut(&self) {
        let _ = self.stream.get_ref().shutdown(Shutdown::Both);
    }

    /// Queues `data` without waiting (see [`OutQueue::push`]). `Ok(true)`:
    /// call [`flush`](Self::flush) once this batch's data is queued.
    pub(crate) fn push(&self, data: Bytes, limit: usize) -> Result<bool, Exceeded> {
        self.out.push(data, limit)
    }

    /// Writes what is queued as far as the socket takes it now, without
    /// waiting; the connection's task finishes the rest. On a write error
    /// the connection is cut, and its reader reports the disconnect.
    pub(crate) fn flush(&self) {
        if let Err(error) = self.out.flush(self.stream.get_ref()) {
            tracing::debug!(peer = %self.peer, %error, "write failed");
            self.cut();
        }
    }

    /// No more data will come: what is queued is flushed, then the
    /// connection's write side is closed.
    pub(crate) fn close_queue(&self) {
        self.out.close();
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
/// farewell) and writing whatever the engine task could not.
pub(crate) async fn serve(id: ClientId, socket: Arc<Socket>, inbound: Option<Sender<Inbound>>, _alive: Sender<()>) {
    let writing = write_loop(id, &socket);
    match inbound {
        Some(inbound) => drop(future::zip(read_loop(id, &socket, inbound), writing).await),
        None => writing.await,
    }
}

/// Reads until the peer closes or the connection fails, handing each read
/// to the engine task. Waits when the inbound channel is full, which is
/// what slows a fast sender down.
async fn read_loop(id: ClientId, socket: &Socket, inbound: Sender<Inbound>) {
    let reason = loop {
        match poll_fn(|cx| poll_read(&socket.stream, cx)).await {
            Ok(Some(bytes)) => {
                if inbound.send(Inbound::Input(id, bytes)).await.is_err() {
                    return; // the engine task has stopped
                }
            }
            Ok(None) => break DisconnectReason::ConnectionClosed,
            Err(error) => {
                tracing::info!(client = %id, peer = %socket.peer, %error, "read failed");
                break DisconnectReason::ConnectionError;
            }
        }
    };
    let _ = inbound.send(Inbound::Closed(id, reason)).await;
}

/// One read, once the socket is readable: `None` at end of file.
fn poll_read(stream: &Async<TcpStream>, cx: &mut Context<'_>) -> Poll<io::Result<Option<Bytes>>> {
    loop {
        let mut buf = [0; READ_BUF];
        match stream.get_ref().read(&mut buf) {
            Ok(0) => return Poll::Ready(Ok(None)),
            Ok(n) => return Poll::Ready(Ok(Some(Bytes::copy_from_slice(&buf[..n])))),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => ready!(stream.poll_readable(cx))?,
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

/// Finishes the writes the engine task left when the socket was full, and
/// flushes what is queued when the queue is closed; then ends the stream
/// so the peer sees end of file after the last line.
async fn write_loop(id: ClientId, socket: &Socket) {
    loop {
        match poll_fn(|cx| socket.out.poll_job(cx)).await {
            WriterJob::Write => {
                if let Err(error) = finish_writes(socket).await {
                    // The reader sees the same failure and reports the disconnect.
                    tracing::debug!(client = %id, peer = %socket.peer, %error, "write failed");
                    socket.out.fail();
                    socket.cut();
                    return;
                }
            }
            WriterJob::Finish => {
                let _ = socket.stream.get_ref().shutdown(Shutdown::Write);
                return;
            }
            WriterJob::Stop => return,
        }
    }
}

/// Writes until the queue is empty, waiting whenever the socket is full.
async fn finish_writes(socket: &Socket) -> io::Result<()> {
    while socket.out.write_queued(socket.stream.get_ref())? == Flushed::Blocked {
        poll_fn(|cx| socket.stream.poll_writable(cx)).await?;
    }
    Ok(())
}
