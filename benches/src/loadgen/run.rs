//! The control thread: starts the workers, moves the run through its
//! phases, prints progress, and gathers the summary. A watchdog ends the
//! process if the run overstays its hard time limit.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::thread;
use std::time::{Duration, Instant};

use super::cli::{Args, Mode, Pattern};
use super::ledger::{self, Inbox};
use super::procfs;
use super::report::{Burst, Memory, Percentiles, Readers, Summary, si, tally_reasons};
use super::schedule::Schedule;
use super::shared::{Phase, Shared};
use super::worker::{self, ns_histogram};

/// Runs the whole load test described by `args`.
pub fn run(args: Args) -> Summary {
    watchdog(args.hard_limit());
    let capacity = args.mode == Mode::Capacity;
    let bursts = !capacity && args.schedule == Pattern::Burst;
    let rate = if capacity || bursts { 0.0 } else { args.rate };
    let schedule = if bursts {
        let senders = args.burst_senders.unwrap_or(args.clients);
        let gap = Args::secs(args.burst_gap);
        Schedule::burst(args.clients, args.effective_rooms(), senders, args.burst_lines, args.bursts, gap)
    } else {
        Schedule::new(rate, args.clients, args.effective_rooms(), Args::secs(args.warmup), Args::secs(args.duration))
    };
    let shared = Arc::new(Shared::new());
    let server_pid = args.server_pid.or_else(|| procfs::pid_listening_on(args.first_addr().port()));
    let rss_before = server_pid.and_then(|pid| procfs::rss_kib(pid).ok());
    let threads = args.threads.min(args.clients);
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (args, schedule, shared) = (args.clone(), schedule.clone(), shared.clone());
            thread::Builder::new()
                .name(format!("loadgen-{t}"))
                .spawn(move || worker::run(t, threads, args, schedule, shared))
                .expect("spawn worker thread")
        })
        .collect();
    let mut progress = Progress::new(args.quiet);

    // Setup: everyone connected and introduced.
    let setup_began = Instant::now();
    let setup_secs = wait_for_setup(&args, &shared, setup_began, &mut progress);

    let mut memory = None;
    if shared.phase() == Phase::Setup {
        if capacity {
            memory = hold(args.hold, &args, &shared, server_pid, rss_before, &mut progress);
        } else {
            if args.idle_hold > 0.0 {
                memory = hold(args.idle_hold, &args, &shared, server_pid, rss_before, &mut progress);
            }
            if shared.phase() == Phase::Setup {
                drive(&args, &schedule, &shared, threads, &mut progress);
            }
        }
    }
    shared.advance(Phase::Done);
    progress.finish();

    let outcomes: Vec<worker::Outcome> =
        workers.into_iter().map(|w| w.join().expect("worker thread panicked")).collect();
    let mut latency = ns_histogram();
    let mut connect = ns_histogram();
    let mut inboxes: Vec<(usize, Inbox)> = Vec::with_capacity(args.clients);
    let sent_up_to = outcomes.iter().map(|o| o.sends.stopped_at).max().unwrap_or(0);
    let mut unsent = Vec::new();
    let mut held_back = 0;
    for (t, outcome) in outcomes.into_iter().enumerate() {
        held_back += outcome.sends.held_back;
        let _ = latency.add(&outcome.latency);
        let _ = connect.add(&outcome.connect_time);
        inboxes.extend(outcome.inboxes);
        unsent.extend(outcome.sends.failed);
        unsent.extend((outcome.sends.stopped_at..sent_up_to).filter(|&seq| schedule.sender(seq) % threads == t));
    }
    inboxes.sort_by_key(|(i, _)| *i);
    unsent.sort_unstable();
    let inboxes: Vec<Inbox> = inboxes.into_iter().map(|(_, inbox)| inbox).collect();
    let aborted = shared.phase() == Phase::Abort;
    let cuts = shared.cuts();
    let mut was_cut = vec![false; args.clients];
    for &(client, _) in &cuts {
        was_cut[client] = true;
    }
    let lost = if aborted || capacity {
        ledger::Lost::default()
    } else {
        ledger::lost(&schedule, &inboxes, sent_up_to, &unsent, &was_cut)
    };
    let readers = (bursts && !aborted && schedule.senders < args.clients).then(|| {
        let mut readers = Readers { clients: 0, cut: 0, expected: 0, received: 0, fewest: (u64::MAX, 0) };
        for (client, inbox) in inboxes.iter().enumerate().skip(schedule.senders) {
            let (expected, received) = ledger::received(&schedule, inbox, client, sent_up_to, &unsent);
            readers.clients += 1;
            readers.cut += usize::from(was_cut[client]);
            readers.expected += expected;
            readers.received += received;
            readers.fewest = readers.fewest.min((received, expected));
        }
        readers
    });

    Summary {
        mode: args.mode,
        addr: args.addrs.clone(),
        clients: args.clients,
        rooms: schedule.rooms,
        threads,
        rate,
        burst: bursts.then(|| Burst {
            senders: schedule.senders,
            lines: args.burst_lines,
            bursts: args.bursts,
            gap: args.burst_gap,
            held_back,
            last_delivery_ms: match shared.slowest_ns.load(Relaxed) {
                0 => None,
                ns => Some(ns as f64 / 1e6),
            },
            readers,
        }),
        size: args.size,
        warmup: args.warmup,
        duration: args.duration,
        setup_secs,
        ready: shared.ready.load(Relaxed),
        connect: Percentiles::of_ns(&connect),
        sent: shared.sent.load(Relaxed),
        send_errors: shared.send_errors.load(Relaxed),
        expected: shared.expected.load(Relaxed),
        delivered: shared.delivered.load(Relaxed),
        offered_per_sec: schedule.offered_deliveries_per_sec(),
        achieved_per_sec: if args.duration > 0.0 {
            shared.window_delivered.load(Relaxed) as f64 / args.duration
        } else {
            0.0
        },
        latency: Percentiles::of_ns(&latency),
        lost,
        duplicates: shared.duplicates.load(Relaxed),
        misdelivered: shared.misdelivered.load(Relaxed),
        server_errors: shared.server_errors.load(Relaxed),
        cut: cuts.len() as u64,
        cut_reasons: tally_reasons(cuts.into_iter().map(|(_, reason)| reason)),
        memory,
        first_error: shared.first_error(),
        aborted,
    }
}

/// Waits until every client is ready, aborting the run once
/// `--setup-timeout` has passed since `began`; returns the seconds since
/// `began`.
pub fn wait_for_setup(args: &Args, shared: &Shared, began: Instant, progress: &mut Progress) -> f64 {
    let deadline = began + Args::secs(args.setup_timeout);
    while shared.ready.load(Relaxed) < args.clients && shared.phase() == Phase::Setup {
        if Instant::now() > deadline {
            let ready = shared.ready.load(Relaxed);
            shared.abort(|| format!("setup timed out with {ready} of {} clients ready", args.clients));
        }
        progress.tick(|| format!("setup: {}/{} ready", shared.ready.load(Relaxed), args.clients));
        thread::sleep(Duration::from_millis(10));
    }
    began.elapsed().as_secs_f64()
}

/// Ends the process with exit code 2 once `limit` has passed.
pub fn watchdog(limit: Duration) {
    thread::spawn(move || {
        thread::sleep(limit);
        eprintln!("\nloadgen: hard time limit of {:.0} s reached; exiting", limit.as_secs_f64());
        std::process::exit(2);
    });
}

/// Runs the schedule, then waits for deliveries in flight.
fn drive(args: &Args, schedule: &Schedule, shared: &Shared, threads: usize, progress: &mut Progress) {
    let start = shared.now_ns() + 20_000_000;
    shared.start_run(start);
    let mut last = (Instant::now(), 0u64);
    let mut rate_line = |label: &str| {
        let delivered = shared.delivered.load(Relaxed);
        let (at, before) = last;
        let per_sec = (delivered - before) as f64 / at.elapsed().as_secs_f64().max(1e-3);
        last = (Instant::now(), delivered);
        let elapsed = shared.now_ns().saturating_sub(start) as f64 / 1e9;
        format!(
            "{label} {elapsed:5.1} s: sent {}/{}, {}/s delivered, lost so far {}, errors {}, cut {}",
            shared.sent.load(Relaxed),
            schedule.total,
            si(per_sec),
            shared.expected.load(Relaxed).saturating_sub(shared.delivered.load(Relaxed)),
            shared.server_errors.load(Relaxed) + shared.send_errors.load(Relaxed),
            shared.cut.load(Relaxed),
        )
    };
    while shared.senders_done.load(Relaxed) < threads && shared.phase() == Phase::Run {
        progress.tick(|| rate_line("run  "));
        thread::sleep(Duration::from_millis(20));
    }
    let drain_deadline = Instant::now() + Args::secs(args.drain);
    while shared.delivered.load(Relaxed) < shared.expected.load(Relaxed)
        && Instant::now() < drain_deadline
        && shared.phase() == Phase::Run
    {
        progress.tick(|| rate_line("drain"));
        thread::sleep(Duration::from_millis(5));
    }
}

/// Holds the idle connections for `secs`, sampling the server's memory
/// (capacity mode, or `--idle-hold` before a run).
fn hold(
    secs: f64,
    args: &Args,
    shared: &Shared,
    pid: Option<u32>,
    before: Option<u64>,
    progress: &mut Progress,
) -> Option<Memory> {
    let until = Instant::now() + Args::secs(secs);
    let mut peak = 0;
    let mut last = None;
    loop {
        if let Some(rss) = pid.and_then(|pid| procfs::rss_kib(pid).ok()) {
            peak = peak.max(rss);
            last = Some(rss);
        }
        progress.tick(|| format!("hold: {} connections, server VmRSS {} KiB", args.clients, last.unwrap_or(0)));
        if Instant::now() >= until || shared.phase() != Phase::Setup {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    let (pid, before, after) = (pid?, before?, last?);
    Some(Memory {
        pid,
        before_kib: before,
        after_kib: after,
        peak_kib: peak,
        per_connection_bytes: (after as f64 - before as f64) * 1024.0 / args.clients as f64,
    })
}

/// The once-a-second progress line on stderr.
pub struct Progress {
    quiet: bool,
    tty: bool,
    next: Instant,
    shown: bool,
}

impl Progress {
    /// A progress line, shown unless `quiet`.
    pub fn new(quiet: bool) -> Self {
        Self {
            quiet,
            tty: std::io::stderr().is_terminal(),
            next: Instant::now() + Duration::from_secs(1),
            shown: false,
        }
    }

    /// Shows `line()` if a second has passed since the last one.
    pub fn tick(&mut self, line: impl FnOnce() -> String) {
        if self.quiet || Instant::now() < self.next {
            return;
        }
        self.next += Duration::from_secs(1);
        let line = line();
        let mut err = std::io::stderr().lock();
        let _ = if self.tty { write!(err, "\r\x1b[2K{line}") } else { writeln!(err, "{line}") };
        let _ = err.flush();
        self.shown = true;
    }

    /// Ends the line on a terminal.
    pub fn finish(&mut self) {
        if self.shown && self.tty {
            eprintln!();
        }
    }
}
