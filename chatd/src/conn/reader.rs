//! The reading half of a connection's task: it hands what the peer sends
//! to the engine task, and reports the end of the connection.

use std::io::{self, Read};
use std::net::TcpStream;
use std::task::{Context, Poll, ready};

use async_channel::Sender;
use bytes::Bytes;
use chatcore::{ClientId, DisconnectReason};
use futures_lite::future::poll_fn;
use smol::Async;

use super::{Inbound, Socket};

/// Bytes read from a socket at once, into a buffer on the stack that lives
/// only for the read. The engine frames lines across reads, so a line
/// longer than this is fine.
const READ_BUF: usize = 4096;

/// Reads until the peer closes or the connection fails, handing each read
/// to the engine task. Waits when the inbound channel is full, which is
/// what slows a fast sender down.
pub(super) async fn read_loop(id: ClientId, socket: &Socket, inbound: Sender<Inbound>) {
    let reason = loop {
        match poll_fn(|cx| poll_read(&socket.stream, cx)).await {
            Ok(Some(bytes)) => {
                if inbound.send(Inbound::Input(id, bytes)).await.is_err() {
                    return; // the engine task has stopped
                }
            }
            Ok(None) => break DisconnectReason::ConnectionClosed,
            Err(error) => {
                tracing::debug!(client = %id, peer = %socket.peer, %error, "read failed");
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
