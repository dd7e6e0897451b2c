//! Closing a chat port's listener on a graceful shutdown without dropping
//! the connections that wait in its queue.
//!
//! Linux completes a connection's handshake before chatd accepts it, and a
//! listener that closes resets every connection still in its queue: a
//! client that connected successfully is dropped unanswered. With
//! `SO_REUSEPORT` other nodes share the address, but closing one node's
//! listener does not hand its queue to them (unless the operator set
//! `net.ipv4.tcp_migrate_req`, Linux 5.14 and later; `shutdown(SHUT_RD)` on
//! a listener resets the queue just as closing does).
//!
//! So a closing listener first stops new handshakes: a socket filter
//! drops every SYN that reaches it, silently, and the client sends its SYN
//! again a second later, when this listener is gone and another node (or
//! a restarted chatd) takes it. Handshakes already under way still
//! complete. For [`DRAIN`] the listener goes on accepting; then it takes
//! what is queued, closes, and every connection it took is told goodbye
//! by the engine task, in its own protocol, with the words that ask it to
//! reconnect. What is left: a handshake whose last packet arrives after
//! [`DRAIN`] (a client further away than that, or one whose packet was
//! lost), and, where the filter cannot be set, a connection arriving
//! between the last accept and the close.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use async_channel::Sender;

use crate::open_files::Spare;
use crate::shutdown::Stop;

/// How long a closing listener goes on accepting once it refuses new
/// handshakes: time for those under way to complete. Under a second, so a
/// client whose SYN was dropped finds the listener gone when it tries
/// again (Linux and most systems wait one second before the first retry).
pub(crate) const DRAIN: Duration = Duration::from_millis(500);

/// What a chat port's accept loop needs to close on a graceful shutdown.
#[derive(Debug)]
pub(super) struct Drain {
    /// Fires on the shutdown signal.
    pub(super) stop: Stop,
    /// Dropped when the listener has closed; the engine task waits until
    /// every one is, telling goodbye to what they hand over meanwhile.
    pub(super) _open: Sender<()>,
}

/// Makes `listener` drop every SYN that is not an answer (a connection's
/// first packet) from now on, so that no new handshake completes on it;
/// handshakes under way go on. An error means connections arriving in the
/// listener's last moment may still be reset.
#[cfg(target_os = "linux")]
pub(super) fn refuse_new_handshakes(listener: &TcpListener) -> io::Result<()> {
    use socket2::{SockFilter, SockRef};
    // Classic BPF, run on each packet with the TCP header at offset 0.
    const LOAD_BYTE: u16 = 0x30; // BPF_LD | BPF_B | BPF_ABS
    const AND: u16 = 0x54; // BPF_ALU | BPF_AND | BPF_K
    const JUMP_IF_EQUAL: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const RETURN: u16 = 0x06; // BPF_RET | BPF_K
    const TCP_FLAGS: u32 = 13;
    const SYN: u32 = 0x02;
    const ACK: u32 = 0x10;
    // A connection accepted from now on shares its listener's filter, so
    // the filter must pass everything but a SYN without an ACK, which no
    // connection ever receives once it is open.
    let program = [
        SockFilter::new(LOAD_BYTE, 0, 0, TCP_FLAGS),
        SockFilter::new(AND, 0, 0, SYN | ACK),
        SockFilter::new(JUMP_IF_EQUAL, 0, 1, SYN),
        // Drop: return no bytes of it.
        SockFilter::new(RETURN, 0, 0, 0),
        // Keep all of it.
        SockFilter::new(RETURN, 0, 0, u32::MAX),
    ];
    SockRef::from(listener).attach_filter(&program)
}

/// Elsewhere no filter is set: the listener still takes its queue before
/// it closes.
#[cfg(not(target_os = "linux"))]
pub(super) fn refuse_new_handshakes(_listener: &TcpListener) -> io::Result<()> {
    Ok(())
}

/// Every connection waiting on the non-blocking `listener` now.
pub(super) fn take_waiting(listener: &TcpListener, spare: &Spare) -> Vec<(TcpStream, SocketAddr)> {
    let mut waiting = Vec::new();
    loop {
        match spare.accept(listener) {
            Ok(accepted) => waiting.push(accepted),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return waiting,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            // Connections aborted while queued: the rest still wait.
            Err(error) if error.kind() == io::ErrorKind::ConnectionAborted => {}
            Err(error) => {
                tracing::error!(%error, "accept failed while closing a listener; what still waits is reset");
                return waiting;
            }
        }
    }
}
