//! The held connections of scale mode: one worker thread drives its share
//! (client `i` belongs to thread `i % threads`) on a single-threaded
//! executor. Each connection is one small task: connect, name itself, join
//! its room; after that it only drains what arrives, keeping no buffer of
//! its own, except the members of room 0, which time the broadcast probe.

use std::cell::RefCell;
use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use hdrhistogram::Histogram;
use smol::io::AsyncWriteExt;
use smol::lock::Semaphore;
use smol::{Async, LocalExecutor, Timer};

use super::super::cli::Args;
use super::super::payload::{self, Lines};
use super::super::shared::{Phase, Shared};
use super::super::sources;
use super::super::worker::ns_histogram;

/// What the tasks of one worker thread share.
struct Worker {
    args: Args,
    rooms: usize,
    sources: usize,
    nick_prefix: String,
    room_prefix: String,
    shared: Arc<Shared>,
    /// Bounds connections between connecting and having joined.
    connecting: Semaphore,
    /// Read buffer shared by this thread's connections (never held across an await).
    scratch: RefCell<Vec<u8>>,
    /// Broadcast probe: ns from each message's intended send time to its receipt.
    latency: RefCell<Histogram<u64>>,
    /// Client 0's connection, from which the broadcast probe is sent.
    prober: RefCell<Option<Rc<Async<TcpStream>>>>,
}

/// What a worker thread hands back.
pub struct Outcome {
    /// Broadcast probe latency (ns).
    pub latency: Histogram<u64>,
}

/// Runs worker `thread` of `threads` until the run is done or aborted, then
/// closes its connections.
pub fn run(thread: usize, threads: usize, args: Args, rooms: usize, shared: Arc<Shared>) -> Outcome {
    let worker = Rc::new(Worker {
        rooms,
        sources: args.sources(),
        nick_prefix: args.nick_prefix(),
        room_prefix: args.room_prefix(),
        connecting: Semaphore::new(args.connect_concurrency),
        scratch: RefCell::new(vec![0; 64 * 1024]),
        latency: RefCell::new(ns_histogram()),
        prober: RefCell::new(None),
        args,
        shared,
    });
    let executor = LocalExecutor::new();
    let mut tasks = Vec::with_capacity(worker.args.clients.div_ceil(threads));
    smol::block_on(executor.run(async {
        let shared = &worker.shared;
        let mine = (thread..worker.args.clients).step_by(threads);
        // Each room's first member creates it; everyone else joins once
        // every room exists.
        for i in mine.clone().take_while(|&i| i < rooms) {
            tasks.push(executor.spawn(client(worker.clone(), i)));
        }
        while shared.rooms_ready.load(Relaxed) < rooms && shared.phase() == Phase::Setup {
            Timer::after(Duration::from_millis(2)).await;
        }
        for i in mine.skip_while(|&i| i < rooms) {
            tasks.push(executor.spawn(client(worker.clone(), i)));
        }
        while shared.phase() < Phase::Run {
            Timer::after(Duration::from_millis(5)).await;
        }
        if thread == 0 && shared.phase() == Phase::Run {
            broadcast(&worker).await;
        }
        while shared.phase() < Phase::Done {
            Timer::after(Duration::from_millis(5)).await;
        }
    }));
    // Dropping the tasks and the executor drops every connection.
    drop(tasks);
    drop(executor);
    let worker = Rc::into_inner(worker).unwrap_or_else(|| unreachable!("every task has been dropped"));
    Outcome { latency: worker.latency.into_inner() }
}

/// Client `i`: connects, takes its name, joins its room, then drains.
async fn client(worker: Rc<Worker>, i: usize) {
    let shared = &*worker.shared;
    let creator = i < worker.rooms;
    let permit = worker.connecting.acquire().await;
    if shared.phase() != Phase::Setup {
        return;
    }
    let source = sources::of_client(i, worker.sources);
    let stream = match sources::connect(worker.args.addr_of(i), source).await {
        Ok(stream) => Rc::new(stream),
        Err(e) => {
            let from = source.map(|s| format!(" from {s}")).unwrap_or_default();
            return shared.abort(|| format!("client {i}: connect to {}{from}: {e}", worker.args.addr_of(i)));
        }
    };
    if let Err(e) = join(&worker, &stream, i, creator).await {
        return shared.abort(|| format!("client {i}: {e}"));
    }
    drop(permit);
    shared.ready.fetch_add(1, Relaxed);
    if creator {
        shared.rooms_ready.fetch_add(1, Relaxed);
    }
    if i == 0 {
        *worker.prober.borrow_mut() = Some(stream.clone());
    }
    drain(&worker, &stream, i).await;
}

/// Names the connection and joins its room (creating it if it is the
/// room's first member); returns once the server confirms the join.
async fn join(worker: &Worker, stream: &Async<TcpStream>, i: usize, creator: bool) -> Result<(), String> {
    let nick = format!("{}{i}", worker.nick_prefix);
    let room = format!("{}{}", worker.room_prefix, i % worker.rooms);
    let verb = if creator { "create" } else { "join" };
    let mut out = stream;
    out.write_all(format!("/nick {nick}\n/{verb} {room}\n").as_bytes()).await.map_err(|e| format!("write: {e}"))?;
    let mut lines = Lines::default();
    // A creator finding its room left from an earlier run joins it instead.
    let (mut retry, mut retried) = (false, false);
    loop {
        stream.readable().await.map_err(|e| format!("poll: {e}"))?;
        let mut joined = Ok(false);
        let open = read_available(worker, stream, |chunk| {
            lines.feed(chunk, |line| {
                if line.starts_with(b"* you are now in ") {
                    joined = joined.clone().map(|_| true);
                } else if line.starts_with(b"! ") || line.starts_with(b"* bye: ") {
                    if creator && !retried && line.windows(14).any(|w| w == b"already exists") {
                        retry = true;
                    } else {
                        joined = Err(format!("{nick} was refused: {}", String::from_utf8_lossy(line)));
                    }
                }
            })
        })
        .map_err(|e| format!("read: {e}"))?;
        if joined? {
            return Ok(());
        }
        if !open {
            return Err(format!("closed by the server while joining {room}"));
        }
        if std::mem::take(&mut retry) {
            retried = true;
            out.write_all(format!("/join {room}\n").as_bytes()).await.map_err(|e| format!("write: {e}"))?;
        }
    }
}

/// Reads everything the socket has now, handing each chunk to `chunk`;
/// `Ok(false)` once the server has closed the connection.
fn read_available(worker: &Worker, stream: &Async<TcpStream>, mut chunk: impl FnMut(&[u8])) -> std::io::Result<bool> {
    let mut scratch = worker.scratch.borrow_mut();
    loop {
        match stream.get_ref().read(&mut scratch) {
            Ok(0) => return Ok(false),
            Ok(n) => chunk(&scratch[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(true),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads until the connection ends, dropping everything but, for members
/// of room 0, the broadcast probe's messages, which are timed and checked
/// off (each member should get each one once).
async fn drain(worker: &Worker, stream: &Async<TcpStream>, i: usize) {
    let shared = &*worker.shared;
    let listening = i.is_multiple_of(worker.rooms);
    let mut lines = Lines::default();
    let mut seen = if listening { vec![0u64; worker.args.probe_messages.div_ceil(64) as usize] } else { Vec::new() };
    loop {
        if stream.readable().await.is_err() {
            break;
        }
        let (mut delivered, mut duplicates, mut misdelivered, mut errors) = (0, 0, 0, 0);
        let read = read_available(worker, stream, |chunk| {
            if !listening {
                return;
            }
            let now = shared.now_ns();
            let mut latency = worker.latency.borrow_mut();
            lines.feed(chunk, |line| {
                if line.starts_with(b"! ") {
                    errors += 1;
                    shared.note_error(|| format!("client {i}: server said: {}", String::from_utf8_lossy(line)));
                }
                let Some((seq, due)) = payload::decode(line) else { return };
                let Some(word) = seen.get_mut((seq / 64) as usize) else {
                    misdelivered += 1;
                    return;
                };
                let bit = 1 << (seq % 64);
                if *word & bit != 0 {
                    duplicates += 1;
                    return;
                }
                *word |= bit;
                delivered += 1;
                latency.saturating_record(now.saturating_sub(due).max(1));
            });
        });
        for (counter, n) in [
            (&shared.delivered, delivered),
            (&shared.duplicates, duplicates),
            (&shared.misdelivered, misdelivered),
            (&shared.server_errors, errors),
        ] {
            if n > 0 {
                counter.fetch_add(n, Relaxed);
            }
        }
        if !matches!(read, Ok(true)) {
            break;
        }
    }
    if shared.phase() < Phase::Done {
        shared.note_error(|| format!("client {i}: connection closed by the server"));
        shared.note_cut(i);
    }
}

/// The broadcast probe: client 0 sends `--probe-messages` messages to room
/// 0 at `--probe-rate`, each due at a fixed time and timed from it.
async fn broadcast(worker: &Worker) {
    let shared = &*worker.shared;
    let Some(stream) = worker.prober.borrow().clone() else {
        return shared.note_error(|| "the broadcast probe's sender is not connected".into());
    };
    let listeners = (worker.args.clients.div_ceil(worker.rooms) - 1) as u64;
    let gap_ns = 1e9 / worker.args.probe_rate;
    let start = shared.start_ns();
    let mut line = Vec::with_capacity(worker.args.size + 64);
    for seq in 0..worker.args.probe_messages {
        let due = start + (seq as f64 * gap_ns) as u64;
        Timer::at(shared.at(due)).await;
        if shared.phase() != Phase::Run {
            break;
        }
        line.clear();
        payload::encode(seq, due, worker.args.size, &mut line);
        if let Err(e) = (&*stream).write_all(&line).await {
            shared.send_errors.fetch_add(1, Relaxed);
            shared.note_error(|| format!("broadcast probe: write: {e}"));
            break;
        }
        shared.sent.fetch_add(1, Relaxed);
        shared.expected.fetch_add(listeners, Relaxed);
    }
    shared.senders_done.fetch_add(1, Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// A million of these are held at once: the task of a held connection
    /// must stay a few hundred bytes (its socket's reactor entry and the
    /// task header come on top).
    #[test]
    fn a_connection_task_stays_small() {
        let worker = Rc::new(Worker {
            rooms: 1,
            sources: 1,
            nick_prefix: String::new(),
            room_prefix: String::new(),
            connecting: Semaphore::new(1),
            scratch: RefCell::default(),
            latency: RefCell::new(ns_histogram()),
            prober: RefCell::default(),
            args: Args::parse_from(["loadgen"]),
            shared: Arc::default(),
        });
        let task = client(worker, 0);
        assert!(std::mem::size_of_val(&task) <= 384, "{} bytes", std::mem::size_of_val(&task));
    }
}
