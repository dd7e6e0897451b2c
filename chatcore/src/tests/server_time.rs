//! `/time`: the server's date and time, which is the `now` the engine was
//! handed with the request, in each codec's form.

use std::time::Instant;

use super::irc::{irc, registered};
use super::relaxed;
use crate::sim::Sim;
use crate::{Config, Now};

/// 2024-01-02T03:04:05.678Z.
const AT_MS: u64 = 1_704_164_645_678;

fn sim_at(config: Config) -> Sim {
    Sim::with_base(config, Now::new(Instant::now(), AT_MS))
}

#[test]
fn text_gives_the_date_and_time_in_utc_even_to_a_guest() {
    // A guest may ask where every other command needs a login.
    let mut sim = sim_at(relaxed().with_require_login(true));
    let a = sim.connect();
    sim.take(a);
    sim.send(a, "/time");
    assert_eq!(sim.take(a), ["* server time: 2024-01-02 03:04:05 UTC"]);
}

#[cfg(feature = "json")]
#[test]
fn json_gives_unix_milliseconds_and_echoes_the_id() {
    use serde_json::json;
    let mut sim = sim_at(relaxed());
    let a = sim.connect_json_as("alice");
    sim.send_json(a, &json!({"type":"time","id":"t1"}));
    assert_eq!(sim.take_json(a), [json!({"type":"time","ts":AT_MS,"id":"t1"})]);
    sim.send_json(a, &json!({"type":"time"}));
    assert_eq!(sim.take(a), [format!(r#"{{"type":"time","ts":{AT_MS}}}"#)]);
}

#[test]
fn irc_answers_rpl_time_once_registered() {
    let mut sim = sim_at(relaxed());
    let early = irc(&mut sim);
    sim.send(early, "TIME");
    assert_eq!(sim.take(early), [":chatd 451 * :You have not registered\r"]);
    let a = registered(&mut sim, "alice", "");
    sim.send(a, "TIME");
    assert_eq!(sim.take(a), [":chatd 391 alice chatd :2024-01-02 03:04:05 UTC\r"]);
    // RFC 2812 lets TIME name the server to ask: this one answers.
    sim.send(a, "TIME chatd");
    assert_eq!(sim.take(a), [":chatd 391 alice chatd :2024-01-02 03:04:05 UTC\r"]);
}
