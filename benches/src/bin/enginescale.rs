//! The engine alone at a million clients: no sockets, no descriptors, so
//! no open-file limit stands between it and the size a server is meant to
//! reach. Connects `--clients` text clients, names each and puts it in one
//! of `--rooms` rooms, then times what a server at that size does: a
//! broadcast to a full room, the listing commands, an idle timer tick, a
//! newcomer, and shutdown. Memory is the process's resident set before
//! and after, so it counts the engine's tables as they sit in the heap.
//!
//! ```text
//! cargo run --release -p chatd-benches --bin enginescale -- --clients 1000000 --rooms 1000
//! ```

use std::time::{Duration, Instant};

use chatcore::{ClientId, Config, ConnectInfo, Engine, Now, Output};
use chatd_benches::fixture::{config_for, drain, say, start, text_of_len};
use chatd_benches::loadgen::procfs::rss_kib;
use clap::Parser;

/// The engine alone at scale; see the module docs.
#[derive(Debug, Parser)]
struct Args {
    /// Clients to connect, each named and in a room.
    #[arg(long, short = 'n', default_value_t = 1_000_000)]
    clients: usize,
    /// Rooms to spread them over (client i joins room i % rooms).
    #[arg(long, short = 'r', default_value_t = 1000)]
    rooms: usize,
    /// Broadcasts to time, each from a member of a different room in turn.
    #[arg(long, default_value_t = 2000)]
    broadcasts: usize,
    /// Bytes of each broadcast's text.
    #[arg(long, default_value_t = 64)]
    message_bytes: usize,
    /// Names or rooms per listing answer (`Config::list_page_len`).
    #[arg(long, default_value_t = Config::default().list_page_len())]
    list_page_len: usize,
}

/// What a timed step did: how long it took and how many bytes it sent.
struct Step {
    took: Duration,
    outputs: usize,
    bytes: usize,
}

fn main() {
    let args = Args::parse();
    let rooms_wanted = args.rooms + 16;
    let config = config_for(args.clients + 16)
        .with_max_rooms(rooms_wanted)
        // The clients here all come from nowhere in particular, one source.
        .with_max_rooms_created_per_source(u32::try_from(rooms_wanted).unwrap_or(u32::MAX))
        .with_list_page_len(args.list_page_len);
    let mut now = start();
    let mut engine = Engine::new(config).expect("a valid config");
    let rss_before = rss_kib(std::process::id()).expect("this process's VmRSS");

    let setup = Instant::now();
    let mut first_in_room: Vec<ClientId> = Vec::with_capacity(args.rooms);
    for i in 0..args.clients {
        let id = engine.handle_connect(now, ConnectInfo::default());
        say(&mut engine, now, id, &format!("/nick u{i}"));
        let room = i % args.rooms;
        if i < args.rooms {
            say(&mut engine, now, id, &format!("/create room{room}"));
            first_in_room.push(id);
        } else {
            say(&mut engine, now, id, &format!("/join room{room}"));
        }
        drain(&mut engine);
        if (i + 1) % 100_000 == 0 {
            eprintln!("{} connected in {:.1} s", i + 1, setup.elapsed().as_secs_f64());
        }
    }
    let setup = setup.elapsed();
    let rss_after = rss_kib(std::process::id()).expect("this process's VmRSS");
    assert_eq!(engine.client_count(), args.clients);
    let in_rooms: usize = engine.room_summaries().map(|(_, members)| members).sum();
    assert_eq!((engine.room_count(), in_rooms), (args.rooms, args.clients), "everyone in a room");
    let per_client = (rss_after - rss_before) as f64 * 1024.0 / args.clients as f64;
    println!("clients {} in {} rooms of about {}", args.clients, args.rooms, args.clients / args.rooms);
    println!(
        "setup: {:.1} s ({:.0} clients/s: connect, /nick, /join, each drained)",
        setup.as_secs_f64(),
        args.clients as f64 / setup.as_secs_f64()
    );
    println!("memory: VmRSS {rss_before} -> {rss_after} KiB, {per_client:.0} bytes per client (engine state only)");

    // A broadcast from a member of each room in turn, to everyone in it.
    let text = text_of_len(args.message_bytes);
    let mut took: Vec<Duration> = (0..args.broadcasts)
        .map(|k| {
            now = now.advance(Duration::from_millis(1));
            let from = first_in_room[k % args.rooms];
            let step = timed(&mut engine, |engine| say(engine, now, from, &text));

            step.took
        })
        .collect();
    took.sort();
    let at = |q: f64| took[((took.len() - 1) as f64 * q) as usize];
    println!(
        "broadcast to a room of {}: p50 {:?}, p99 {:?}, max {:?} (engine + draining every recipient, {} broadcasts)",
        args.clients / args.rooms,
        at(0.5),
        at(0.99),
        at(1.0),
        took.len()
    );

    // The listing commands, as a member of room 0 asks them.
    let asker = first_in_room[0];
    for line in ["/who", "/who room1", "/who room1 u500", "/users", "/users u5", "/list", "/since 3600", "/who *"] {
        let step = timed(&mut engine, |engine| say(engine, now, asker, line));
        println!("{line}: {:?}, {} outputs, {} bytes", step.took, step.outputs, step.bytes);
    }

    // An idle second: the timer is asked for and fired with nothing due.
    now = now.advance(Duration::from_secs(1));
    let tick = timed(&mut engine, |engine| {
        std::hint::black_box(engine.poll_timeout());
        engine.handle_timeout(now);
    });
    println!(
        "idle timer tick: {:?}, {} outputs (next deadline in {:?})",
        tick.took,
        tick.outputs,
        next_in(&engine, now)
    );

    // A newcomer while everyone is in.
    let newcomer = timed(&mut engine, |engine| {
        let id = engine.handle_connect(now, ConnectInfo::default());
        say(engine, now, id, "/nick newcomer");
        say(engine, now, id, "/join room0");
    });
    println!("a newcomer connects, is named and joins room0: {:?}, {} bytes", newcomer.took, newcomer.bytes);

    let shutdown = timed(&mut engine, |engine| engine.handle_shutdown(now));
    println!("shutdown: {:?}, {} outputs", shutdown.took, shutdown.outputs);
}

/// Runs `f` on the engine and drains what it sent, counting bytes once per
/// recipient as a server writes them.
fn timed(engine: &mut Engine, f: impl FnOnce(&mut Engine)) -> Step {
    let started = Instant::now();
    f(engine);
    let (mut outputs, mut bytes) = (0, 0);
    while let Some(output) = engine.poll_output() {
        match &output {
            Output::Send { data, .. } => bytes += data.len(),
            Output::Broadcast { to, data } => bytes += data.len() * to.len(),
            _ => {}
        }
        outputs += 1;
        std::hint::black_box(output);
    }
    Step { took: started.elapsed(), outputs, bytes }
}

fn next_in(engine: &Engine, now: Now) -> Option<Duration> {
    engine.poll_timeout().map(|at| at.saturating_duration_since(now.instant))
}
