//! A fixed amount of broadcast work for profilers: `perf record`,
//! `valgrind --tool=callgrind` (instruction counts are repeatable where
//! timings are not).
//!
//! ```text
//! cargo build --release -p chatd-benches --example broadcast_profile
//! valgrind --tool=callgrind target/release/examples/broadcast_profile 1000 200
//! ```
//!
//! Arguments: room size (default 1000) and broadcasts (default 2000). Prints
//! deliveries and the wall-clock rate (only indicative under a profiler).

use std::time::Instant;

use chatd_benches::fixture::{self, drain};

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("a number"));
    let members = args.next().unwrap_or(1000);
    let broadcasts = args.next().unwrap_or(2000);
    let (mut engine, now, ids) = fixture::engine_with_room(members);
    let line = format!("{}\n", fixture::text_of_len(64)).into_bytes();
    let began = Instant::now();
    let mut deliveries = 0;
    for _ in 0..broadcasts {
        engine.handle_input(now, ids[0], &line).expect("connected");
        deliveries += drain(&mut engine);
    }
    let secs = began.elapsed().as_secs_f64();
    println!("{deliveries} deliveries in {secs:.3} s: {:.1} M/s", deliveries as f64 / secs / 1e6);
}
