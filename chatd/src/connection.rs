//! One client's socket and the two tasks that serve it: a reader that hands
//! bytes to the engine task, and a writer that drains the client's send
//! queue with one vectored write per batch.

use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use async_channel::Sender;
use bytes::{Buf, Bytes};
use chatcore::{ClientId, DisconnectReason};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use smol::Async;
use socket2::{SockRef, TcpKeepalive};

use crate::engine_task::Inbound;
use crate::ip_limit::IpSlot;
use crate::outbound::Outbox;

/// Bytes read from a socket at once. Bounds each reader's buffer; the
/// engine frames lines across reads, so a line longer than this is fine.
const READ_BUF: usize = 4096;

/// Most queued messages handed to one `writev` (Linux's `IOV_MAX` is 1024).
const MAX_IOV: usize = 1024;

/// A batch vector that grew past this is given back when the queue runs
/// dry, so an idle client holds no large buffer.
const KEEP_BATCH_CAPACITY: usize = 64;

/// A connection, shared by its reader, its writer and the engine task.
/// Dropped (closing the socket and freeing its IP slot) when all three let go.
#[derive(Debug)]
pub(crate) struct Socket {
    pub(crate) stream: Async<TcpStream>,
    pub(crate) peer: SocketAddr,
    _slot: IpSlot,
}

impl Socket {
    pub(crate) fn new(stream: Async<TcpStream>, peer: SocketAddr, slot: IpSlot) -> Self {
        Self { stream, peer, _slot: slot }
    }

    /// Cuts the connection both ways: a blocked write fails, a blocked read
    /// sees end of file, so both tasks end promptly.
    pub(crate) fn cut(&self) {
        let _ = self.stream.get_ref().shutdown(Shutdown::Both);
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

/// Reads until the peer closes or the connection fails, handing each read
/// to the engine task. Waits when the inbound channel is full, which is
/// what slows a fast sender down.
pub(crate) async fn read_loop(id: ClientId, socket: Arc<Socket>, inbound: Sender<Inbound>, _alive: Sender<()>) {
    let mut buf = vec![0; READ_BUF];
    let reason = loop {
        match (&socket.stream).read(&mut buf).await {
            Ok(0) => break DisconnectReason::ConnectionClosed,
            Ok(n) => {
                if inbound.send(Inbound::Input(id, Bytes::copy_from_slice(&buf[..n]))).await.is_err() {
                    return; // the engine task has stopped
                }
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                tracing::info!(client = %id, peer = %socket.peer, %error, "read failed");
                break DisconnectReason::ConnectionError;
            }
        }
    };
    let _ = inbound.send(Inbound::Closed(id, reason)).await;
}

/// Writes whatever the engine queued for this client, everything waiting
/// at once, until the queue is closed and empty; then ends the stream so
/// the peer sees end of file after the last line.
pub(crate) async fn write_loop(id: ClientId, socket: Arc<Socket>, outbox: Outbox, _alive: Sender<()>) {
    let mut batch = Vec::new();
    while outbox.recv_batch(&mut batch, MAX_IOV).await {
        // Bytes leave the queue's count as the kernel takes them, not when
        // the whole batch is out: a client that keeps up must never look
        // further behind than it is.
        let result = write_all_vectored(&socket.stream, &mut batch, |n| outbox.written(n)).await;
        batch.clear();
        if let Err(error) = result {
            // The reader sees the same failure and reports the disconnect.
            tracing::debug!(client = %id, peer = %socket.peer, %error, "write failed");
            outbox.close();
            socket.cut();
            return;
        }
        if batch.capacity() > KEEP_BATCH_CAPACITY && outbox.is_empty() {
            batch = Vec::new();
        }
    }
    let _ = socket.stream.get_ref().shutdown(Shutdown::Write);
}

/// Writes every buffer in `batch`, in as few `writev` calls as the socket
/// allows, telling `progress` how many bytes each call wrote.
async fn write_all_vectored(
    stream: &Async<TcpStream>,
    batch: &mut [Bytes],
    mut progress: impl FnMut(usize),
) -> io::Result<()> {
    let mut start = 0;
    while start < batch.len() {
        let slices: Vec<IoSlice<'_>> = batch[start..].iter().map(|b| IoSlice::new(b)).collect();
        let mut written = { stream }.write_vectored(&slices).await?;
        drop(slices);
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        progress(written);
        while written > 0 {
            let first = &mut batch[start];
            if written >= first.len() {
                written -= first.len();
                start += 1;
            } else {
                first.advance(written);
                written = 0;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    #[test]
    fn vectored_write_delivers_every_buffer_in_order() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        // Big enough that the socket takes it in several partial writes.
        let mut batch: Vec<Bytes> =
            (0..200u32).map(|i| Bytes::from(vec![(i % 251) as u8; 10_000 + i as usize])).collect();
        let expected: Vec<u8> = batch.iter().flat_map(|b| b.iter().copied()).collect();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut client = client;
            client.read_to_end(&mut got).unwrap();
            got
        });
        let server = Async::new(server).unwrap();
        let mut progress = 0;
        smol::block_on(write_all_vectored(&server, &mut batch, |n| progress += n)).unwrap();
        assert_eq!(progress, expected.len());
        server.get_ref().shutdown(Shutdown::Write).unwrap();
        assert_eq!(reader.join().unwrap(), expected);
    }
}
