//! Scale mode: hold many connections at once (up to a million where the
//! open-file limit allows), each named and in room `i % R`, and measure
//! what holding them costs and how the server answers meanwhile.
//!
//! The control thread (here) moves the run through its steps; the worker
//! threads ([`conn`]) hold the connections; [`probe`] makes the probes that
//! need a connection of their own; [`report`] is the summary.

pub mod conn;
pub mod probe;
pub mod report;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use super::cli::Args;
use super::procfs;
use super::report::Percentiles;
use super::run::{Progress, wait_for_setup, watchdog};
use super::shared::{Phase, Shared};
use super::worker::ns_histogram;
use probe::Probe;
use report::{Broadcast, Delta, ScaleSummary};

/// Seconds allowed for each probe's answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long to wait for the server to let go of `clients` closed
/// connections: a minute, plus a millisecond each (19,000 took 8 s on a
/// loaded 2-core machine).
fn release_timeout(clients: usize) -> Duration {
    PROBE_TIMEOUT + Duration::from_millis(clients as u64)
}

/// Machine-wide and per-process memory, read at one moment.
#[derive(Debug, Clone, Copy, Default)]
struct Reading {
    server_rss: Option<u64>,
    slab: Option<u64>,
    unreclaimable: Option<u64>,
    loadgen_rss: Option<u64>,
}

impl Reading {
    fn now(pid: Option<u32>) -> Self {
        Self {
            server_rss: pid.and_then(|pid| procfs::rss_kib(pid).ok()),
            slab: procfs::meminfo_kib("Slab").ok(),
            unreclaimable: procfs::meminfo_kib("SUnreclaim").ok(),
            loadgen_rss: procfs::rss_kib(std::process::id()).ok(),
        }
    }
}

/// Runs a scale test described by `args`.
pub fn run(args: Args) -> ScaleSummary {
    let hard_limit = args.hard_limit() + PROBE_TIMEOUT * 6 + release_timeout(args.clients);
    watchdog(hard_limit);
    let rooms = args.effective_rooms();
    let shared = Arc::new(Shared::new());
    let pid = args.server_pid.or_else(|| procfs::pid_listening_on(args.first_addr().port()));
    let fds_before = pid.and_then(|pid| procfs::open_fds(pid).ok());
    let before = Reading::now(pid);
    let threads = args.threads.min(args.clients);
    let mut progress = Progress::new(args.quiet);

    let setup_began = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (args, shared) = (args.clone(), shared.clone());
            thread::Builder::new()
                .name(format!("loadgen-{t}"))
                .spawn(move || conn::run(t, threads, args, rooms, shared))
                .expect("spawn worker thread")
        })
        .collect();
    let setup_secs = wait_for_setup(&args, &shared, setup_began, &mut progress);

    // Hold everyone idle, sampling the server's CPU time.
    let mut after = before;
    let mut idle_cpu_percent = None;
    if shared.phase() == Phase::Setup {
        let cpu_before = pid.and_then(|pid| procfs::cpu_secs(pid).ok());
        let held_from = Instant::now();
        while held_from.elapsed() < Args::secs(args.hold) && shared.phase() == Phase::Setup {
            progress.tick(|| format!("hold: {} connections", args.clients));
            thread::sleep(Duration::from_millis(50));
        }
        let cpu_after = pid.and_then(|pid| procfs::cpu_secs(pid).ok());
        let held = held_from.elapsed().as_secs_f64();
        idle_cpu_percent = cpu_before.zip(cpu_after).map(|(a, b)| (b - a) / held * 100.0);
        after = Reading::now(pid);
    }

    let members = args.clients.div_ceil(rooms);
    let mut broadcast = None;
    let mut new_connection_ms = Err("not run".to_owned());
    let mut commands = Vec::new();
    if shared.phase() == Phase::Setup {
        broadcast_probe(&args, &shared, &mut progress);
        let room = format!("{}0", args.room_prefix());
        let nick = format!("{}p", args.nick_prefix());
        match Probe::open(args.first_addr(), &nick, Some(&room), PROBE_TIMEOUT) {
            Ok((mut probe, took)) => {
                new_connection_ms = Ok(took.as_secs_f64() * 1e3);
                for command in ["/who", "/users", "/list"] {
                    commands.push((command.to_owned(), probe.command(command).map_err(|e| e.to_string())));
                }
            }
            Err(e) => new_connection_ms = Err(e.to_string()),
        }
        broadcast = Some(Broadcast {
            members,
            sent: shared.sent.load(Relaxed),
            expected: shared.expected.load(Relaxed),
            delivered: shared.delivered.load(Relaxed),
            duplicates: shared.duplicates.load(Relaxed),
            misdelivered: shared.misdelivered.load(Relaxed),
            refused: shared.server_errors.load(Relaxed),
            latency: None,
        });
    }

    // Close everything, then see the server let go and still serve.
    let aborted = shared.phase() == Phase::Abort;
    let cut = shared.cut.load(Relaxed);
    let close_began = Instant::now();
    shared.advance(Phase::Done);
    let mut latency = ns_histogram();
    for worker in workers {
        let _ = latency.add(&worker.join().expect("worker thread panicked").latency);
    }
    let close_secs = close_began.elapsed().as_secs_f64();
    progress.finish();
    let server_release_secs = pid.zip(fds_before).and_then(|(pid, before)| {
        while close_began.elapsed() < release_timeout(args.clients) {
            match procfs::open_fds(pid) {
                Ok(open) if open <= before => return Some(close_began.elapsed().as_secs_f64()),
                Ok(_) => thread::sleep(Duration::from_millis(10)),
                Err(_) => return None,
            }
        }
        None
    });
    let reconnect_ms = Probe::open(args.first_addr(), &format!("{}q", args.nick_prefix()), None, PROBE_TIMEOUT)
        .map(|(_, took)| took.as_secs_f64() * 1e3)
        .map_err(|e| e.to_string());
    if let Some(b) = &mut broadcast {
        b.latency = Percentiles::of_ns(&latency);
    }

    ScaleSummary {
        params: params(&args, rooms, threads),
        clients: args.clients,
        ready: shared.ready.load(Relaxed),
        setup_secs,
        server_pid: pid,
        server_rss: Delta::of(before.server_rss, after.server_rss),
        slab: Delta::of(before.slab, after.slab),
        slab_unreclaimable: Delta::of(before.unreclaimable, after.unreclaimable),
        loadgen_rss: Delta::of(before.loadgen_rss, after.loadgen_rss),
        idle_cpu_percent,
        broadcast,
        new_connection_ms,
        commands,
        close_secs,
        server_release_secs,
        reconnect_ms,
        server_alive: pid.map(procfs::alive),
        cut,
        first_error: shared.first_error(),
        aborted,
    }
}

/// Starts the broadcast probe (sent by worker 0 from client 0) and waits
/// for its deliveries.
fn broadcast_probe(args: &Args, shared: &Shared, progress: &mut Progress) {
    shared.start_run(shared.now_ns() + 20_000_000);
    while shared.senders_done.load(Relaxed) == 0 && shared.phase() == Phase::Run {
        progress.tick(|| format!("broadcast: sent {}/{}", shared.sent.load(Relaxed), args.probe_messages));
        thread::sleep(Duration::from_millis(10));
    }
    let drain_deadline = Instant::now() + Args::secs(args.drain);
    while shared.delivered.load(Relaxed) < shared.expected.load(Relaxed)
        && Instant::now() < drain_deadline
        && shared.phase() == Phase::Run
    {
        thread::sleep(Duration::from_millis(5));
    }
}

/// The parameters of the run, for the summary.
fn params(args: &Args, rooms: usize, threads: usize) -> serde_json::Value {
    json!({
        "addr": args.first_addr().to_string(),
        "clients": args.clients,
        "rooms": rooms,
        "members_per_room": args.clients.div_ceil(rooms),
        "sources": args.sources(),
        "threads": threads,
        "connect_concurrency": args.connect_concurrency,
        "hold_secs": args.hold,
        "probe_messages": args.probe_messages,
        "probe_rate": args.probe_rate,
        "size": args.size,
        "drain_secs": args.drain,
        "setup_timeout_secs": args.setup_timeout,
    })
}
