//! Allocation accounting with a counting global allocator (this test binary
//! only): a broadcast allocates the same number of buffers whatever the
//! size of the room, and the memory an idle connected client costs inside
//! the engine is measured and bounded.
//!
//! Counters are per thread, so tests running in parallel in this binary do
//! not see each other's allocations.

// A `GlobalAlloc` impl is necessarily `unsafe`; this one only forwards to
// the system allocator and counts, and exists only in this test binary.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use chatcore::Engine;
use chatd_benches::fixture::{self, drain};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static LIVE_BYTES: Cell<i64> = const { Cell::new(0) };
}

fn note(allocations: u64, bytes: i64) {
    // `try_with` because the allocator may run while thread locals are torn down.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + allocations));
    let _ = LIVE_BYTES.try_with(|c| c.set(c.get() + bytes));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(1, layout.size() as i64);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(1, layout.size() as i64);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(0, -(layout.size() as i64));
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(1, new_size as i64 - layout.size() as i64);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations and net bytes this thread made while running `f`.
fn measure<T>(f: impl FnOnce() -> T) -> (T, u64, i64) {
    let (a0, b0) = (ALLOCATIONS.with(Cell::get), LIVE_BYTES.with(Cell::get));
    let value = f();
    let (a1, b1) = (ALLOCATIONS.with(Cell::get), LIVE_BYTES.with(Cell::get));
    (value, a1 - a0, b1 - b0)
}

/// Allocations made by one 64-byte line said in a room of `members`, fanned
/// out and drained, once the engine has warmed up (its output queue and the
/// room's history have reached their steady size).
fn allocations_per_broadcast(members: usize) -> u64 {
    let (mut engine, now, ids) = fixture::engine_with_room(members);
    let line = format!("{}\n", fixture::text_of_len(64)).into_bytes();
    let broadcast = |engine: &mut Engine| {
        engine.handle_input(now, ids[0], &line).expect("connected");
        drain(engine)
    };
    for _ in 0..engine.config().history_len() + 1 {
        broadcast(&mut engine);
    }
    let (delivered, allocations, _) = measure(|| broadcast(&mut engine));
    assert_eq!(delivered, members - 1);
    allocations
}

#[test]
fn a_broadcast_allocates_the_same_whatever_the_room_size() {
    let small = allocations_per_broadcast(10);
    for members in [100, 1_000, 10_000] {
        assert_eq!(allocations_per_broadcast(members), small, "room of {members}");
    }
    // The line parsed, one history entry, one rendering and its shared handle: a handful, never per recipient.
    assert!(small <= 8, "{small} allocations for one broadcast");
    println!("allocations per broadcast, any room size: {small}");
}

/// Net bytes the engine holds per idle client, connected and named, in the
/// Lobby or in a room.
fn bytes_per_client(clients: usize, in_room: bool) -> f64 {
    let now = fixture::start();
    let mut engine = Engine::new(fixture::config_for(clients)).expect("a valid config");
    let (_, _, bytes) = measure(|| {
        if in_room {
            fixture::room(&mut engine, now, "idle", clients);
        } else {
            for i in 0..clients {
                fixture::connect(&mut engine, now, &format!("idle{i}"));
                drain(&mut engine);
            }
        }
    });
    assert_eq!(engine.client_count(), clients);
    bytes as f64 / clients as f64
}

#[test]
fn an_idle_client_costs_a_few_hundred_bytes_in_the_engine() {
    for (clients, in_room) in [(10_000, false), (10_000, true)] {
        let per_client = bytes_per_client(clients, in_room);
        let place = if in_room { "one room" } else { "the Lobby" };
        println!("engine heap per idle client ({clients} in {place}): {per_client:.0} bytes");
        assert!(per_client < 1024.0, "{per_client} bytes per idle client");
    }
}

/// Net bytes the engine holds per empty room, and per kept history entry
/// of a `max_line_bytes` message: the terms of the memory formula in
/// `chatcore::Config`'s docs.
#[test]
fn a_room_and_a_history_entry_cost_what_the_config_docs_say() {
    let now = fixture::start();
    let config = fixture::config_for(10).with_max_rooms(2_000).with_max_rooms_created_per_source(2_000);
    let max_line = config.max_line_bytes();
    let mut engine = Engine::new(config).expect("a valid config");
    let creator = fixture::connect(&mut engine, now, "creator");
    drain(&mut engine);
    // Create and leave each room at once, so only the room itself stays.
    let (_, _, bytes) = measure(|| {
        for r in 0..1_000 {
            fixture::say(&mut engine, now, creator, &format!("/create room{r}"));
            fixture::say(&mut engine, now, creator, "/leave");
            drain(&mut engine);
        }
    });
    let per_room = bytes as f64 / 1_000.0;
    fixture::say(&mut engine, now, creator, "/join room0");
    drain(&mut engine);
    let line = fixture::text_of_len(max_line);
    let history_len = engine.config().history_len();
    let (_, _, bytes) = measure(|| {
        for _ in 0..history_len {
            fixture::say(&mut engine, now, creator, &line);
            drain(&mut engine);
        }
    });
    let per_entry = bytes as f64 / history_len as f64;
    println!("engine heap per empty room: {per_room:.0} bytes; per history entry of {max_line} bytes: {per_entry:.0}");
    assert!(per_room < 512.0, "{per_room} bytes per room");
    assert!(per_entry < (max_line + 160) as f64, "{per_entry} bytes per entry");
}
