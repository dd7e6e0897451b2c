//! Criterion benches of the engine alone: no sockets, no clock.
//!
//! * `broadcast/N`: one 64-byte line said in a room of N members, fanned
//!   out to the N-1 others and drained. Throughput is in deliveries.
//! * `join_replay`: a client joins a room whose 100-message history is
//!   replayed to it, then leaves again (one join and one leave per element).
//! * `whisper`: `/msg` between two of 1,000 connected clients.
//! * `mixed`: 1,000 clients in 10 rooms running a script of says, whispers,
//!   `/who`, `/list` and nickname changes. Throughput is in input lines.
//! * `floor/1000`: no engine at all, only what one delivery costs when each
//!   is its own `Output::Send` (chatcore 0.1's form): a `Bytes` clone, a
//!   queue push, a pop and a drop, for 1,000 recipients. `broadcast/1000`
//!   beats it because a broadcast is one `Output::Broadcast` carrying the
//!   recipients' ids.

use std::collections::VecDeque;
use std::hint::black_box;

use chatcore::{Engine, Output};
use chatd_benches::fixture::{self, drain, say};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn broadcast(c: &mut Criterion) {
    let mut group = c.benchmark_group("broadcast");
    for members in [10usize, 1_000, 10_000] {
        let (mut engine, now, ids) = fixture::engine_with_room(members);
        let line = format!("{}\n", fixture::text_of_len(64)).into_bytes();
        group.throughput(Throughput::Elements(members as u64 - 1));
        group.bench_function(BenchmarkId::from_parameter(members), |b| {
            b.iter(|| {
                engine.handle_input(now, ids[0], black_box(&line)).expect("connected");
                drain(&mut engine)
            })
        });
    }
    group.finish();
}

fn join_replay(c: &mut Criterion) {
    let (mut engine, now, ids) = fixture::engine_with_room(10);
    let history = engine.config().history_len();
    for i in 0..history {
        say(&mut engine, now, ids[i % ids.len()], &fixture::text_of_len(64));
    }
    drain(&mut engine);
    assert_eq!(engine.history_len("bench"), Some(history));
    let newcomer = fixture::connect(&mut engine, now, "newcomer");
    drain(&mut engine);
    let mut group = c.benchmark_group("join_replay");
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("history_{history}"), |b| {
        b.iter(|| {
            engine.handle_input(now, newcomer, b"/join bench\n/leave\n").expect("connected");
            drain(&mut engine)
        })
    });
    group.finish();
}

fn whisper(c: &mut Criterion) {
    let (mut engine, now, ids) = fixture::engine_with_room(1_000);
    let line = format!("/msg benchu500 {}\n", fixture::text_of_len(64)).into_bytes();
    let mut group = c.benchmark_group("whisper");
    group.throughput(Throughput::Elements(1));
    group.bench_function("among_1000", |b| {
        b.iter(|| {
            engine.handle_input(now, ids[7], black_box(&line)).expect("connected");
            drain(&mut engine)
        })
    });
    group.finish();
}

/// A script of (speaker index, line) for the mixed workload.
fn mixed_script(clients: usize) -> Vec<(usize, Vec<u8>)> {
    let text = fixture::text_of_len(64);
    let mut script = Vec::new();
    for step in 0..100usize {
        // Steps 25 and 26 are one client renaming and renaming back, so the script can loop.
        let speaker = if step == 26 { (25 * 37) % clients } else { (step * 37) % clients };
        let line = match step {
            0 => "/list".to_owned(),
            50 => "/who".to_owned(),
            25 => format!("/nick renamed{speaker}"),
            26 => format!("/nick {}", room_member_nick(speaker)),
            s if s % 10 == 3 => format!("/msg {} {text}", room_member_nick((speaker + 1) % clients)),
            _ => text.clone(),
        };
        script.push((speaker, format!("{line}\n").into_bytes()));
    }
    script
}

fn room_member_nick(i: usize) -> String {
    format!("r{}u{}", i % 10, i / 10)
}

fn mixed(c: &mut Criterion) {
    let clients = 1_000;
    let now = fixture::start();
    let mut engine = Engine::new(fixture::config_for(clients)).expect("a valid config");
    let mut by_index = vec![None; clients];
    for r in 0..10 {
        for (k, id) in fixture::room(&mut engine, now, &format!("r{r}"), clients / 10).into_iter().enumerate() {
            by_index[k * 10 + r] = Some(id);
        }
    }
    let ids: Vec<_> = by_index.into_iter().map(|id| id.expect("every index filled")).collect();
    let script = mixed_script(clients);
    let mut group = c.benchmark_group("mixed");
    group.throughput(Throughput::Elements(script.len() as u64));
    group.bench_function("1000_clients_10_rooms", |b| {
        b.iter(|| {
            let mut outputs = 0;
            for (speaker, line) in &script {
                engine.handle_input(now, ids[*speaker], line).expect("connected");
                outputs += drain(&mut engine);
            }
            outputs
        })
    });
    group.finish();
}

fn floor(c: &mut Criterion) {
    let (_, _, ids) = fixture::engine_with_room(1_000);
    let data = bytes_of(&fixture::text_of_len(80));
    let mut queue: VecDeque<Output> = VecDeque::with_capacity(ids.len());
    let mut group = c.benchmark_group("floor");
    group.throughput(Throughput::Elements(ids.len() as u64));
    group.bench_function("1000", |b| {
        b.iter(|| {
            for &to in &ids {
                queue.push_back(Output::Send { to, data: data.clone() });
            }
            let mut n = 0;
            while let Some(output) = queue.pop_front() {
                black_box(output);
                n += 1;
            }
            n
        })
    });
    group.finish();
}

/// A shared buffer like the engine's renderings (already promoted to shared).
fn bytes_of(text: &str) -> bytes::Bytes {
    let data = bytes::Bytes::from(text.to_owned());
    drop(data.clone());
    data
}

criterion_group!(benches, broadcast, join_replay, whisper, mixed, floor);
criterion_main!(benches);
