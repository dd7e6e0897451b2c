//! A WebSocket client's connection, once the HTTP side has upgraded it
//! (`http::upgrade`): the same [`Socket`], send queue and limits as a TCP
//! client, with WebSocket framing (async-tungstenite) in between.
//!
//! * Reading: each text message is one line for the engine, handed over
//!   with a newline added. Frames and messages are capped at the engine's
//!   `max_line_bytes`; fragments count towards their message, so a flood of
//!   them is bounded by the same cap. A binary message, invalid UTF-8, an
//!   oversized message or a protocol error (an unmasked frame, bad
//!   fragmentation) closes this connection alone, with the close code
//!   that says why. Frames that carry no message (pings, empty fragments)
//!   are paid for from a budget, and a long run of frames yields the
//!   thread now and then ([`io`]); a connection past its budget is closed
//!   with 1008.
//! * Writing: the engine task pushes into the send queue exactly as for
//!   TCP, and is judged by the same [`SendLimit`](super::SendLimit); at the
//!   end of a batch it hands the queue to this connection's task, which
//!   turns every queued line into one text frame, writes them all and
//!   flushes once. Queued bytes count as written only once that flush has
//!   put them in the kernel.
//! * Keeping alive: a connection the peer has said nothing on for the ping
//!   interval is pinged; one still silent an interval after the ping is
//!   cut. The engine's own idle timeout still applies on top: pongs are
//!   not chat activity.
//! * Closing: the close frame carries the engine's reason (1000 for a quit
//!   or a timeout, 1012 when the server stops, 1013 when it is full), 1008
//!   for a client cut for falling behind or past its budget, or what the
//!   reader found.

mod io;

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_channel::Sender;
use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use async_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes, error::ProtocolError};
use async_tungstenite::{WebSocketReceiver, WebSocketSender};
use bytes::{Bytes, BytesMut};
use chatcore::{ClientId, Codec, DisconnectReason};
use futures_lite::future::{self, poll_fn};
use futures_util::SinkExt;
use smol::{Async, Timer};

use super::queue::{OutQueue, WriterJob};
use super::{Inbound, Incoming, Socket, Transport};
use crate::ip_limit::IpSlot;
use crate::runtime::spawn;

pub(crate) use io::Io;
use io::{Budget, OverBudget, PING_COST};

/// A client's WebSocket: framing state and buffers.
pub(crate) type Stream = WebSocketStream<Io>;

/// Bytes tungstenite reads from the socket at once, in a buffer each
/// WebSocket keeps for its life. A frame larger than this (up to the
/// message cap) grows it as needed. Chat frames are small: measured with
/// 5,000 idle WebSockets in one room, 1 KiB instead of 4 KiB took chatd
/// from about 7.9 to 5.7 KB of resident memory per connection.
const READ_BUFFER: usize = 1024;

/// Bytes of frames tungstenite gathers before it writes them; a flush
/// writes what is left. Each socket write then carries many messages (a
/// 64-byte chat line is an 80-byte frame), which is what makes a broadcast
/// cheap. The buffer keeps its size, so this is also about what an idle
/// client that once received a burst holds.
const WRITE_BUFFER: usize = 16 * 1024;

/// Most queued buffers, and bytes, turned into frames before a flush and
/// the queue being told they are written.
const BATCH_ITEMS: usize = 1024;
const BATCH_BYTES: usize = 256 * 1024;

/// What the WebSocket transport takes from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settings {
    /// The engine's `max_line_bytes`: the largest message, and frame.
    pub(crate) max_message: usize,
    /// Silence after which the server pings; `None`: never.
    pub(crate) ping_after: Option<Duration>,
}

impl Settings {
    pub(crate) fn config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .write_buffer_size(WRITE_BUFFER)
            .max_message_size(Some(self.max_message))
            .max_frame_size(Some(self.max_message))
            .accept_unmasked_frames(false)
    }
}

/// Why a WebSocket is being closed, as its close frame will say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CloseReason {
    code: CloseCode,
    text: String,
}

/// A close frame's reason is at most 123 bytes (125 less the code).
const MAX_CLOSE_TEXT: usize = 123;

impl CloseReason {
    fn new(code: CloseCode, text: &str) -> Self {
        let mut end = text.len().min(MAX_CLOSE_TEXT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Self { code, text: text[..end].to_owned() }
    }

    /// The engine closed the client: it was told why in its last line, and
    /// the code says it again for a page that only looks at the close.
    pub(crate) fn from_engine(reason: &DisconnectReason) -> Self {
        let code = match reason {
            // 1012, "service restart": a page may reconnect at once.
            _ if reason.invites_reconnect() => CloseCode::Restart,
            DisconnectReason::ServerFull => CloseCode::Again,
            DisconnectReason::SendQueueExceeded => CloseCode::Policy,
            _ => CloseCode::Normal,
        };
        Self::new(code, &reason.to_string())
    }

    /// The send queue judged the client too far behind.
    pub(crate) fn fell_behind() -> Self {
        Self::from_engine(&DisconnectReason::SendQueueExceeded)
    }

    /// The browser's page is not one this server serves (`http::upgrade`).
    pub(crate) fn origin_refused() -> Self {
        Self::new(CloseCode::Policy, "origin not allowed")
    }

    /// What the peer did wrong, if reading failed because of it (rather
    /// than because the connection ended).
    fn for_error(error: &WsError) -> Option<Self> {
        let (code, text) = match error {
            WsError::Capacity(_) => (CloseCode::Size, "message too big"),
            WsError::Utf8(_) => (CloseCode::Invalid, "text is not valid UTF-8"),
            // The TCP connection ended without a close frame: nobody to tell.
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => return None,
            WsError::Protocol(_) => (CloseCode::Protocol, "protocol error"),
            WsError::Io(error) if OverBudget::caused(error) => (CloseCode::Policy, "too many pings or empty fragments"),
            _ => return None,
        };
        Some(Self::new(code, text))
    }

    fn binary() -> Self {
        Self::new(CloseCode::Unsupported, "binary messages are not supported; send JSON as text")
    }

    pub(crate) fn frame(&self) -> CloseFrame {
        CloseFrame { code: self.code, reason: Utf8Bytes::from(self.text.as_str()) }
    }
}

/// What a WebSocket connection's two halves and the engine task share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The first reason given for closing; the close frame says it.
    close: Mutex<Option<CloseReason>>,
    /// When the peer was last heard from, in nanoseconds after `born` (a
    /// pong on loopback comes back within the millisecond of its ping).
    heard_ns: AtomicU64,
    born: Instant,
    settings: Settings,
    /// What the reader has read that no message paid for.
    budget: Mutex<Budget>,
}

impl Shared {
    fn new(settings: Settings) -> Self {
        let born = Instant::now();
        let budget = Mutex::new(Budget::new(settings.max_message, born));
        Self { close: Mutex::new(None), heard_ns: AtomicU64::new(0), born, settings, budget }
    }

    /// `bytes` read (or a ping's pong) at `now`; `false` once over budget.
    fn charge(&self, bytes: u64, now: Instant) -> bool {
        self.budget.lock().unwrap_or_else(PoisonError::into_inner).charge(bytes, now)
    }

    /// A text message of `bytes` went to the engine.
    fn pay(&self, bytes: usize) {
        self.budget.lock().unwrap_or_else(PoisonError::into_inner).pay(bytes);
    }

    /// Records why the connection closes, unless a reason was given already.
    pub(crate) fn close_with(&self, reason: CloseReason) {
        self.close.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(reason);
    }

    fn close_reason(&self) -> Option<CloseReason> {
        self.close.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn heard(&self) {
        let ns = u64::try_from(self.born.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.heard_ns.fetch_max(ns, Ordering::Relaxed);
    }

    fn last_heard(&self) -> Instant {
        self.born + Duration::from_nanos(self.heard_ns.load(Ordering::Relaxed))
    }
}

/// Makes a freshly upgraded connection a client for the engine task, which
/// connects it as JSON. `early` holds whatever the peer sent after its
/// request head (frames sent before it saw our answer).
pub(crate) async fn incoming(
    stream: Async<TcpStream>,
    peer: SocketAddr,
    slot: IpSlot,
    early: Vec<u8>,
    settings: Settings,
) -> Incoming {
    let transport = Transport::WebSocket(Box::new(Shared::new(settings)));
    let socket = Arc::new(Socket { stream, peer, out: OutQueue::default(), transport, _slot: slot });
    let ws =
        WebSocketStream::from_partially_read(Io::new(socket.clone()), early, Role::Server, Some(settings.config()))
            .await;
    Incoming { socket, codec: Codec::Json, ws: Some(Box::new(ws)), refuse_passwords: None, newcomer: None }
}

/// Serves a WebSocket client: its reader (unless it was refused at once)
/// and its writer, until both are done.
///
/// The reader runs as a task of its own. Unlike a TCP connection's task,
/// which the engine task rarely needs to wake, a WebSocket's is woken for
/// every batch with something for it; polled together, each of those
/// wakes would also poll the reader, which costs a `read` that finds
/// nothing, per client per batch.
pub(super) async fn serve(id: ClientId, socket: Arc<Socket>, stream: Stream, inbound: Option<Sender<Inbound>>) {
    let Transport::WebSocket(shared) = &socket.transport else { return };
    let (sender, receiver) = stream.split();
    let reading = inbound.map(|inbound| {
        let socket = socket.clone();
        spawn(async move {
            if let Transport::WebSocket(shared) = &socket.transport {
                read_loop(id, &socket, shared, receiver, inbound).await;
            }
        })
    });
    write_loop(id, &socket, shared, sender).await;
    if let Some(reading) = reading {
        reading.await;
    }
}

/// Reads messages until the peer closes, the connection fails or the peer
/// breaks the protocol, handing each text message to the engine task as a
/// line. Waits when the inbound channel is full, as the TCP reader does.
async fn read_loop(
    id: ClientId,
    socket: &Socket,
    shared: &Shared,
    mut receiver: WebSocketReceiver<Io>,
    inbound: Sender<Inbound>,
) {
    let (reason, misbehaved) = loop {
        let message = io::next(&mut receiver).await;
        shared.heard();
        match message {
            Some(Ok(Message::Text(text))) => {
                shared.pay(text.len());
                // The engine frames lines; a frame is one line. (A raw
                // newline inside it, invalid in JSON text anyway, ends a
                // line there as it would on TCP.)
                let mut line = BytesMut::with_capacity(text.len() + 1);
                line.extend_from_slice(text.as_bytes());
                line.extend_from_slice(b"\n");
                if inbound.send(Inbound::Input(id, line.freeze())).await.is_err() {
                    return; // the engine task has stopped
                }
            }
            Some(Ok(Message::Binary(_))) => {
                shared.close_with(CloseReason::binary());
                break (DisconnectReason::ConnectionError, true);
            }
            // Pings are answered by tungstenite as it reads on (the reads
            // judge the budget this charges); a close frame is answered
            // likewise, and the next read ends.
            Some(Ok(Message::Ping(_))) => {
                shared.charge(PING_COST, Instant::now());
            }
            Some(Ok(Message::Pong(_) | Message::Close(_) | Message::Frame(_))) => {}
            // The TCP connection ended without a close frame (a tab killed,
            // a network gone): to its roommates, as a TCP client's end.
            Some(Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake))) | None => {
                break (DisconnectReason::ConnectionClosed, false);
            }
            Some(Err(error)) => match CloseReason::for_error(&error) {
                Some(close) => {
                    tracing::debug!(client = %id, peer = %socket.peer, %error, "closing a WebSocket that broke the protocol");
                    shared.close_with(close);
                    break (DisconnectReason::ConnectionError, true);
                }
                None => {
                    tracing::debug!(client = %id, peer = %socket.peer, %error, "WebSocket read failed");
                    break (DisconnectReason::ConnectionError, false);
                }
            },
        }
    };
    if inbound.send(Inbound::Closed(id, reason)).await.is_err() {
        return;
    }
    if misbehaved {
        discard_until_closed(socket).await;
    }
}

/// Reads and drops whatever the peer still sends, until it closes or the
/// connection is cut (at the latest when its linger time ends). Closing a
/// socket with unread data would send a reset, which can destroy the close
/// frame before the peer reads it.
async fn discard_until_closed(socket: &Socket) {
    // On the heap: a buffer in the future itself would be in every
    // WebSocket's task for its whole life.
    let mut buf = vec![0; READ_BUFFER];
    loop {
        match futures_lite::AsyncReadExt::read(&mut &socket.stream, &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// The writing half: turns what the engine task queued into frames,
/// pings a quiet peer, and sends the close frame when the client is done.
async fn write_loop(id: ClientId, socket: &Socket, shared: &Shared, mut sender: WebSocketSender<Io>) {
    let mut pinged: Option<Instant> = None;
    loop {
        let keepalive = shared.settings.ping_after.map(|every| Keepalive::next(every, shared.last_heard(), pinged));
        let job = future::or(async { Some(poll_fn(|cx| socket.out.poll_job(cx)).await) }, async {
            match keepalive {
                Some(Keepalive::Ping(at) | Keepalive::Dead(at)) => Timer::at(at).await,
                None => future::pending().await,
            };
            None
        })
        .await;
        let result = match job {
            Some(WriterJob::Write) => write_queued(&socket.out, &mut sender).await,
            Some(WriterJob::Finish) => {
                let close = shared.close_reason().unwrap_or_else(|| CloseReason::new(CloseCode::Normal, ""));
                let _ = sender.send(Message::Close(Some(close.frame()))).await;
                let _ = socket.stream.get_ref().shutdown(std::net::Shutdown::Write);
                return;
            }
            Some(WriterJob::Stop) => {
                // Fell behind (or a write failed): say so if the socket still
                // takes it; the linger time bounds the try.
                if let Some(close) = shared.close_reason() {
                    let _ = sender.send(Message::Close(Some(close.frame()))).await;
                }
                return;
            }
            // The peer may have spoken while the timer ran: look again.
            None => match shared.settings.ping_after.map(|every| Keepalive::next(every, shared.last_heard(), pinged)) {
                Some(Keepalive::Ping(at)) if Instant::now() >= at => {
                    pinged = Some(Instant::now());
                    sender.send(Message::Ping(Bytes::new())).await
                }
                Some(Keepalive::Dead(at)) if Instant::now() >= at => {
                    tracing::debug!(client = %id, peer = %socket.peer, "WebSocket peer did not answer a ping; cutting");
                    socket.cut();
                    return;
                }
                _ => Ok(()),
            },
        };
        if let Err(error) = result {
            // The reader sees the same failure and reports the disconnect.
            tracing::debug!(client = %id, peer = %socket.peer, %error, "WebSocket write failed");
            socket.out.fail();
            socket.cut();
            return;
        }
    }
}

/// What the keepalive does next, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keepalive {
    /// Ping at this moment unless the peer speaks first.
    Ping(Instant),
    /// The peer was pinged and has said nothing since: cut it at this moment.
    Dead(Instant),
}

impl Keepalive {
    fn next(every: Duration, heard: Instant, pinged: Option<Instant>) -> Self {
        match pinged {
            Some(ping) if ping >= heard => Keepalive::Dead(ping + every),
            _ => Keepalive::Ping(heard + every),
        }
    }
}

/// Writes one batch of what is queued, one text frame per line, with one
/// flush; then tells the queue those bytes are written.
async fn write_queued(out: &OutQueue, sender: &mut WebSocketSender<Io>) -> Result<(), WsError> {
    let (batch, bytes) = out.take(BATCH_ITEMS, BATCH_BYTES);
    for item in batch {
        for line in lines(item) {
            sender.feed(Message::Text(line)).await?;
        }
    }
    sender.flush().await?;
    out.written(bytes);
    Ok(())
}

/// The lines of one queued buffer, without their newlines, as frame texts
/// sharing its memory. A buffer of one line (every broadcast) becomes its
/// frame's text as it is, without touching its reference count.
fn lines(item: Bytes) -> Vec<Utf8Bytes> {
    // The engine writes UTF-8; should it ever not, the peer still gets a
    // valid text frame. Checked on a borrow first, because keeping a clone
    // for the fallback would touch the shared reference count.
    let text = |line: Bytes| match std::str::from_utf8(&line) {
        Ok(_) => Utf8Bytes::try_from(line).unwrap_or_default(),
        Err(_) => Utf8Bytes::from(String::from_utf8_lossy(&line).into_owned()),
    };
    let newline = item.iter().position(|&b| b == b'\n');
    if newline.is_none_or(|at| at == item.len() - 1) {
        let mut line = item;
        line.truncate(newline.unwrap_or(line.len()));
        return if line.is_empty() { Vec::new() } else { vec![text(line)] };
    }
    let mut start = 0;
    let mut frames = Vec::new();
    for line in item.split(|&b| b == b'\n') {
        if !line.is_empty() {
            frames.push(text(item.slice(start..start + line.len())));
        }
        start += line.len() + 1;
    }
    frames
}

#[cfg(test)]
mod tests {
    use std::task::{Context, Poll};

    use super::*;

    #[test]
    fn each_line_is_one_frame_without_its_newline() {
        let texts = |item: &'static [u8]| -> Vec<String> {
            lines(Bytes::from_static(item)).iter().map(|t| t.as_str().to_owned()).collect()
        };
        assert_eq!(texts(b"{\"a\":1}\n{\"b\":2}\n"), ["{\"a\":1}", "{\"b\":2}"]);
        assert_eq!(texts(b"x\n\ny"), ["x", "y"], "empty lines make no frame; a last line without newline still does");
        assert_eq!(texts(b"{\"c\":3}\n"), ["{\"c\":3}"]);
        assert_eq!(texts(b"tail"), ["tail"]);
        assert_eq!(texts(b"\n"), Vec::<String>::new());
        assert_eq!(texts(b"\xff\n"), ["\u{fffd}"], "never an invalid text frame");
    }

    #[test]
    fn close_reasons_fit_a_close_frame_and_follow_the_engine() {
        let long = DisconnectReason::Quit(Some("é".repeat(100).into()));
        let close = CloseReason::from_engine(&long);
        assert_eq!(close.code, CloseCode::Normal);
        assert!(close.text.len() <= MAX_CLOSE_TEXT && close.text.starts_with("quit: é"));
        assert_eq!(CloseReason::from_engine(&DisconnectReason::ServerShutdown).code, CloseCode::Restart);
        assert_eq!(CloseReason::from_engine(&DisconnectReason::ServerFull).code, CloseCode::Again);
        assert_eq!(CloseReason::fell_behind().code, CloseCode::Policy);
        let shared = Shared::new(Settings { max_message: 10, ping_after: None });
        shared.close_with(CloseReason::binary());
        shared.close_with(CloseReason::from_engine(&DisconnectReason::ConnectionError));
        assert_eq!(shared.close_reason().map(|c| c.code), Some(CloseCode::Unsupported), "the first reason wins");
    }

    #[test]
    fn a_quiet_peer_is_pinged_then_cut_unless_it_answers() {
        let (t0, every) = (Instant::now(), Duration::from_secs(30));
        assert_eq!(Keepalive::next(every, t0, None), Keepalive::Ping(t0 + every));
        let ping = t0 + every;
        assert_eq!(Keepalive::next(every, t0, Some(ping)), Keepalive::Dead(ping + every));
        let pong = ping + Duration::from_secs(1);
        assert_eq!(Keepalive::next(every, pong, Some(ping)), Keepalive::Ping(pong + every));
    }

    #[test]
    fn the_queue_counts_bytes_written_only_once_told() {
        let queue = OutQueue::default();
        let limit = super::super::queue::tests::limit(usize::MAX, usize::MAX);
        let now = Instant::now();
        assert_eq!(queue.push(Bytes::from_static(b"one\n"), now, &limit), Ok(true));
        queue.hand_to_task();
        assert_eq!(queue.push(Bytes::from_static(b"two\n"), now, &limit), Ok(false), "the task already has it");
        let (batch, bytes) = queue.take(1, usize::MAX);
        assert_eq!((batch.len(), bytes), (1, 4));
        assert_eq!(queue.queued(), 8, "taken bytes stay counted until written");
        queue.written(bytes);
        assert_eq!(queue.queued(), 4);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert_eq!(queue.poll_job(&mut cx), Poll::Ready(WriterJob::Write), "more is queued");
        let (_, bytes) = queue.take(BATCH_ITEMS, BATCH_BYTES);
        queue.written(bytes);
        assert_eq!(queue.poll_job(&mut cx), Poll::Pending);
        assert_eq!(queue.push(Bytes::from_static(b"three\n"), now, &limit), Ok(true), "empty again: hand over anew");
    }
}
