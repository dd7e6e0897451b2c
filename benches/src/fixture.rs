//! Engines set up for benchmarks and measurements: rooms full of clients,
//! flood control and registration deadlines off so that the workload, not a
//! limit, is what is measured.

use std::time::{Duration, Instant};

use chatcore::{ClientId, Config, ConnectInfo, Engine, Now, Output};

/// A config sized for `clients` clients, with flood control and the
/// registration timeout turned off.
pub fn config_for(clients: usize) -> Config {
    Config::default()
        .with_max_clients(clients + 16)
        .with_flood_lines_per_sec(0)
        .with_registration_timeout(Duration::ZERO)
}

/// A fixed starting time, so runs are comparable.
pub fn start() -> Now {
    Now::new(Instant::now(), 1_700_000_000_000)
}

/// Carries out every pending output as an embedder's loop would, touching
/// each recipient of a broadcast; returns how many deliveries (one per
/// recipient) and other outputs there were.
pub fn drain(engine: &mut Engine) -> usize {
    let mut n = 0;
    while let Some(output) = engine.poll_output() {
        n += match &output {
            Output::Broadcast { to, .. } => {
                to.iter().for_each(|id| {
                    std::hint::black_box(id);
                });
                to.len()
            }
            _ => 1,
        };
        std::hint::black_box(output);
    }
    n
}

/// Feeds `line` (a newline is added) from `client`, panicking on misuse.
pub fn say(engine: &mut Engine, now: Now, client: ClientId, line: &str) {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    engine.handle_input(now, client, &bytes).expect("client is connected");
}

/// Connects a text client named `nick`.
pub fn connect(engine: &mut Engine, now: Now, nick: &str) -> ClientId {
    let id = engine.handle_connect(now, ConnectInfo::default());
    say(engine, now, id, &format!("/nick {nick}"));
    id
}

/// Connects `members` text clients (`u0`, `u1`, ...) into room `room`,
/// created by the first. Output is drained as it goes.
pub fn room(engine: &mut Engine, now: Now, room: &str, members: usize) -> Vec<ClientId> {
    let mut ids = Vec::with_capacity(members);
    for i in 0..members {
        let id = connect(engine, now, &format!("{room}u{i}"));
        let verb = if i == 0 { "create" } else { "join" };
        say(engine, now, id, &format!("/{verb} {room}"));
        drain(engine);
        ids.push(id);
    }
    ids
}

/// An engine holding one room of `members` clients.
pub fn engine_with_room(members: usize) -> (Engine, Now, Vec<ClientId>) {
    let now = start();
    let mut engine = Engine::new(config_for(members)).expect("a valid config");
    let ids = room(&mut engine, now, "bench", members);
    (engine, now, ids)
}

/// A chat line of exactly `len` bytes (without the newline), for payloads.
pub fn text_of_len(len: usize) -> String {
    "the quick brown fox jumps over the lazy dog ".chars().cycle().take(len).collect()
}
