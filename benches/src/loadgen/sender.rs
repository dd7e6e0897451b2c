//! Sends this thread's share of the schedule whatever the server does
//! (open loop).
//!
//! Steady: each message at its due time. If writes block, later messages
//! go out late and their latency, measured from the due time, shows it.
//!
//! Burst: each sender's lines for a burst are laid out in one buffer before
//! the release; at the release every sender on this thread gets one write,
//! back to back, before anything waits. What a full socket did not take
//! goes out as it drains, and counts as held back.

use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use smol::channel::Receiver;
use smol::io::AsyncWriteExt;
use smol::{Async, Timer};

use super::cli::Mode;
use super::schedule::{Pace, Schedule};
use super::shared::{Phase, Shared};
use super::worker::Worker;
use super::{irc, payload, ws};

/// What one thread's sender did.
#[derive(Debug, Clone, Default)]
pub struct Sends {
    /// Messages whose write failed.
    pub failed: Vec<u64>,
    /// The first of this thread's messages not attempted (the schedule's
    /// total if it finished).
    pub stopped_at: u64,
    /// Burst schedule: messages the release write did not get into the
    /// socket whole, so that they went out after other senders' lines.
    pub held_back: u64,
}

/// How early a message is sent rather than sleeping for it.
const SLACK_NS: u64 = 20_000;
/// Sends in a row before giving the readers on this thread a turn.
const IN_A_ROW: u32 = 32;

/// Runs this thread's sends; returns early when `stopped` closes.
pub async fn run(worker: Rc<Worker>, stopped: Receiver<()>) -> Sends {
    let shared = &worker.shared;
    while shared.phase() == Phase::Setup {
        Timer::after(Duration::from_millis(1)).await;
    }
    let sends = match worker.schedule.pace {
        Pace::Steady { .. } => steady(&worker, &stopped).await,
        Pace::Burst { bursts, .. } => burst(&worker, &stopped, bursts).await,
    };
    shared.senders_done.fetch_add(1, Relaxed);
    sends
}

/// Sleeps until `due` (ns after the epoch); false if the run stopped first.
async fn sleep_until(shared: &Shared, due: u64, stopped: &Receiver<()>) -> bool {
    let wake = shared.at(due);
    smol::future::or(
        async {
            Timer::at(wake).await;
            true
        },
        async {
            let _ = stopped.recv().await;
            false
        },
    )
    .await
}

/// Client `client`'s socket, if it is connected (it is on this thread).
fn stream_of(worker: &Worker, client: usize) -> Option<Rc<Async<TcpStream>>> {
    worker.streams.borrow()[worker.local(client)].clone()
}

/// Counts message `seq` as sent (and its deliveries as expected) or failed.
fn account(shared: &Shared, schedule: &Schedule, sends: &mut Sends, seq: u64, written: bool) {
    if written {
        shared.sent.fetch_add(1, Relaxed);
        shared.expected.fetch_add(schedule.fanout(seq), Relaxed);
    } else {
        sends.failed.push(seq);
        shared.send_errors.fetch_add(1, Relaxed);
    }
}

/// Appends message `seq`, sent by `client` and due at `due`, framed as the
/// mode wants it: the bare line, an IRC `PRIVMSG` to the client's channel,
/// or a JSON `say` to its room in a WebSocket frame.
fn frame(worker: &Worker, client: usize, seq: u64, due: u64, out: &mut Vec<u8>) {
    match worker.args.mode {
        Mode::Irc => {
            let channel = format!("#{}{}", worker.room_prefix, worker.schedule.room_of(client));
            out.extend_from_slice(irc::privmsg_prefix(&channel).as_bytes());
            payload::encode(seq, due, worker.args.size, out);
            irc::crlf(out);
        }
        Mode::Ws => {
            let mut text = Vec::with_capacity(worker.args.size + 32);
            payload::encode(seq, due, worker.args.size, &mut text);
            text.pop(); // the newline: a frame is the line
            let room = format!("{}{}", worker.room_prefix, worker.schedule.room_of(client));
            ws::say(&room, &text, out);
        }
        _ => payload::encode(seq, due, worker.args.size, out),
    }
}

/// The steady schedule: each of this thread's messages at its due time.
async fn steady(worker: &Worker, stopped: &Receiver<()>) -> Sends {
    let shared = &worker.shared;
    let schedule = &worker.schedule;
    let mut sends = Sends { stopped_at: schedule.total, ..Sends::default() };
    let start = shared.start_ns();
    let mut line = Vec::with_capacity(worker.args.size + 64);
    let mut in_a_row = 0;
    for seq in 0..schedule.total {
        let from = schedule.sender(seq);
        if from % worker.threads != worker.thread {
            continue;
        }
        if shared.phase() != Phase::Run {
            sends.stopped_at = seq;
            break;
        }
        let due = start + schedule.due_ns(seq);
        if due > shared.now_ns() + SLACK_NS {
            in_a_row = 0;
            if !sleep_until(shared, due, stopped).await {
                sends.stopped_at = seq;
                break;
            }
        } else {
            in_a_row += 1;
            if in_a_row >= IN_A_ROW {
                in_a_row = 0;
                smol::future::yield_now().await;
            }
        }
        line.clear();
        frame(worker, from, seq, due, &mut line);
        let written = match stream_of(worker, from) {
            // A server that stops reading must not keep loadgen past the end of the run.
            Some(stream) => {
                smol::future::or(async { (&*stream).write_all(&line).await.is_ok() }, async {
                    let _ = stopped.recv().await;
                    false
                })
                .await
            }
            None => false,
        };
        account(shared, schedule, &mut sends, seq, written);
    }
    sends
}

/// The burst schedule: every burst's lines from this thread's senders, all
/// at its release.
async fn burst(worker: &Worker, stopped: &Receiver<()>, bursts: u64) -> Sends {
    let shared = &worker.shared;
    let schedule = &worker.schedule;
    let mut sends = Sends { stopped_at: schedule.total, ..Sends::default() };
    let start = shared.start_ns();
    let senders: Vec<usize> = worker.clients().take_while(|&c| c < schedule.senders).collect();
    for burst in 0..bursts {
        let first = schedule.burst_range(burst).start;
        let due = start + schedule.due_ns(first);
        let mut volleys: Vec<Volley> = senders.iter().map(|&c| Volley::new(worker, burst, c, due)).collect();
        if shared.phase() != Phase::Run || !sleep_until(shared, due, stopped).await {
            sends.stopped_at = first;
            break;
        }
        // The release: nothing waits until every sender has had its write.
        for volley in &mut volleys {
            volley.write_now();
        }
        for volley in &mut volleys {
            volley.finish(stopped).await;
            volley.account(shared, schedule, &mut sends);
        }
    }
    sends
}

/// One sender's lines of one burst, back to back in one buffer.
struct Volley {
    stream: Option<Rc<Async<TcpStream>>>,
    seqs: Vec<u64>,
    bytes: Vec<u8>,
    /// Where each line ends in `bytes`.
    ends: Vec<usize>,
    /// Bytes the socket took in the release write.
    released: usize,
    /// Bytes the socket has taken.
    written: usize,
    /// Whether a write failed (or the run stopped before the rest went).
    failed: bool,
}

impl Volley {
    /// `client`'s lines of burst `burst`, due at `due`.
    fn new(worker: &Worker, burst: u64, client: usize, due: u64) -> Self {
        let seqs: Vec<u64> = worker.schedule.burst_lines(burst, client).collect();
        let mut bytes = Vec::with_capacity(seqs.len() * (worker.args.size + 48));
        let mut ends = Vec::with_capacity(seqs.len());
        for &seq in &seqs {
            frame(worker, client, seq, due, &mut bytes);
            ends.push(bytes.len());
        }
        let stream = stream_of(worker, client);
        Self { failed: stream.is_none(), stream, seqs, bytes, ends, released: 0, written: 0 }
    }

    /// One write of everything, taking what the socket takes without waiting.
    fn write_now(&mut self) {
        let Some(stream) = &self.stream else { return };
        loop {
            match stream.get_ref().write(&self.bytes) {
                Ok(n) => self.written = n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => self.failed = true,
            }
            break;
        }
        self.released = self.written;
    }

    /// Writes the rest as the socket drains; gives up if the run stops.
    async fn finish(&mut self, stopped: &Receiver<()>) {
        let Some(stream) = self.stream.clone() else { return };
        while !self.failed && self.written < self.bytes.len() {
            let rest = &self.bytes[self.written..];
            let wrote = smol::future::or(async { Some((&*stream).write(rest).await) }, async {
                let _ = stopped.recv().await;
                None
            })
            .await;
            match wrote {
                Some(Ok(n)) if n > 0 => self.written += n,
                _ => self.failed = true,
            }
        }
    }

    /// Counts each line sent if the socket took all of it, else failed.
    fn account(&self, shared: &Shared, schedule: &Schedule, sends: &mut Sends) {
        for (&seq, &end) in self.seqs.iter().zip(&self.ends) {
            account(shared, schedule, sends, seq, end <= self.written);
            sends.held_back += u64::from(end > self.released && end <= self.written);
        }
    }
}
