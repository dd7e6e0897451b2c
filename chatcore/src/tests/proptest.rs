//! Random event sequences against small limits. After every step: the
//! invariants hold, nothing is sent to a client that is not connected, no
//! room message reaches a non-member, and a second run of the same sequence
//! produced exactly the same outputs.

use std::collections::BTreeSet;
use std::time::Duration;

use proptest::prelude::*;

use crate::sim::Sim;
use crate::{ClientId, Config, DisconnectReason, Output};

#[derive(Debug, Clone)]
enum Step {
    Connect,
    /// Bytes from the `who`-th id ever issued (which may be gone).
    Input {
        who: usize,
        bytes: Vec<u8>,
    },
    Disconnect {
        who: usize,
    },
    Advance {
        ms: u64,
    },
    /// The embedder answers every outstanding password request.
    AnswerAuth,
    Shutdown,
}

const NICKS: &[&str] = &["alice", "ALICE", "bob", "Guest1", "x", "9lives", "toolongnick", "b.b"];
const ROOMS: &[&str] = &["r", "R", "#r", "s", "t", "u", "#", "a/b", "toolong"];
const WORDS: &[&str] = &["hi", "two words", "[x] y", "", "  ", "é✓", "a\tb", "\u{202E}x"];

fn pick(from: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    prop::sample::select(from)
}

fn text_line() -> impl Strategy<Value = String> {
    prop_oneof![
        pick(NICKS).prop_map(|n| format!("/nick {n}")),
        pick(ROOMS).prop_map(|r| format!("/create {r}")),
        pick(ROOMS).prop_map(|r| format!("/join {r}")),
        Just("/leave".to_owned()),
        Just("/list".to_owned()),
        Just("/who".to_owned()),
        pick(ROOMS).prop_map(|r| format!("/who {r}")),
        Just("/users".to_owned()),
        pick(NICKS).prop_map(|n| format!("/users {n}")),
        pick(NICKS).prop_map(|n| format!("/who * {n}")),
        (pick(ROOMS), pick(NICKS)).prop_map(|(r, n)| format!("/who {r} {n}")),
        pick(ROOMS).prop_map(|r| format!("/list {r}")),
        pick(NICKS).prop_map(|n| format!("/since 5 {n}")),
        Just("/help".to_owned()),
        Just("/quit".to_owned()),
        pick(WORDS).prop_map(|w| format!("/quit {w}")),
        (pick(NICKS), pick(WORDS)).prop_map(|(n, w)| format!("/msg {n} {w}")),
        (pick(NICKS), pick(WORDS)).prop_map(|(n, w)| format!("@{n} {w}")),
        pick(WORDS).prop_map(str::to_owned),
        pick(WORDS).prop_map(|w| format!("//{w}")),
        Just("/bogus".to_owned()),
        pick(NICKS).prop_map(|n| format!("/register {n} hunter22 hunter22")),
        (pick(NICKS), prop_oneof![Just("hunter22"), Just("wrong")]).prop_map(|(n, p)| format!("/login {n} {p}")),
        pick(NICKS).prop_map(|n| format!("/block {n}")),
        pick(NICKS).prop_map(|n| format!("/unblock {n}")),
        Just("/blocked".to_owned()),
        pick(NICKS).prop_map(|n| format!("/seen {n}")),
        Just("/since 5".to_owned()),
        pick(ROOMS).prop_map(|r| format!("/history {r}")),
        Just("/history".to_owned()),
        pick(ROOMS).prop_map(|r| format!("/drop {r}")),
        Just("fake\u{2028}[r] bob: hi".to_owned()),
        Just("/always-on on".to_owned()),
        Just("/always-on off".to_owned()),
    ]
}

fn json_line() -> impl Strategy<Value = String> {
    let room = prop::option::of(pick(ROOMS));
    let field = |name: &str, value: Option<&str>| match value {
        // The pools hold no quote or backslash; a raw tab makes it invalid JSON, which is fine too.
        Some(v) => format!(r#","{name}":"{v}""#),
        None => String::new(),
    };
    const KINDS: &[&str] =
        &["nick", "create", "join", "leave", "list", "who", "users", "help", "quit", "say", "msg", "history", "dance"];
    (prop::sample::select(KINDS), room, prop::option::of(pick(NICKS)), prop::option::of(pick(WORDS))).prop_map(
        move |(kind, room, nick, text)| {
            let (nick_field, to_field) = match kind {
                "msg" => (String::new(), field("to", nick)),
                _ => (field("nick", nick), String::new()),
            };
            format!(r#"{{"type":"{kind}"{}{nick_field}{to_field}{}}}"#, field("room", room), field("text", text))
        },
    )
}

fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => text_line().prop_map(String::into_bytes),
        3 => json_line().prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..60),
    ]
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    // One to three lines; the last may lack its newline (a partial line).
    (prop::collection::vec((line(), any::<bool>()), 1..4), any::<bool>()).prop_map(|(lines, complete)| {
        let mut bytes = Vec::new();
        let count = lines.len();
        for (n, (line, crlf)) in lines.into_iter().enumerate() {
            bytes.extend_from_slice(&line);
            if n + 1 < count || complete {
                bytes.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            }
        }
        bytes
    })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::Connect),
        12 => (0usize..8, input()).prop_map(|(who, bytes)| Step::Input { who, bytes }),
        1 => (0usize..8).prop_map(|who| Step::Disconnect { who }),
        2 => prop_oneof![0u64..600, 0u64..5_000].prop_map(|ms| Step::Advance { ms }),
        2 => Just(Step::AnswerAuth),
        1 => (0u8..10).prop_filter_map("rare", |n| (n == 0).then_some(Step::Shutdown)),
    ]
}

fn config(lobby: bool) -> Config {
    Config::default()
        .with_max_clients(4)
        .with_max_line_bytes(48)
        .with_max_nick_len(8)
        .with_max_room_name_len(6)
        .with_max_rooms(3)
        .with_history_len(3)
        .with_max_rooms_per_client(2)
        .with_flood_burst(4)
        .with_flood_lines_per_sec(2)
        .with_registration_timeout(Duration::from_secs(3))
        .with_announce_lobby_presence(lobby)
        .with_server_name("sim")
        .with_idle_timeout(Duration::from_secs(8))
        .with_idle_warning(Duration::from_secs(2))
        // Short enough that random runs see rooms expire and limits refill.
        .with_guest_room_idle_expiry(Duration::from_secs(4))
        .with_room_idle_expiry(Duration::from_secs(9))
        .with_max_rooms_created_per_source(3)
        .with_room_creation_window(Duration::from_secs(10))
        // Pages shorter than the lists, so cursors are exercised.
        .with_list_page_len(2)
}

/// Runs one step; returns the outputs it produced and the acting client.
fn run(
    sim: &mut Sim,
    issued: &mut Vec<ClientId>,
    step: &Step,
) -> Result<(Vec<Output>, Option<ClientId>), TestCaseError> {
    let before: BTreeSet<ClientId> = sim.engine().clients().collect();
    let actor = match *step {
        Step::Input { who, .. } | Step::Disconnect { who } => issued.get(who % issued.len().max(1)).copied(),
        _ => None,
    };
    let mut alive = before.clone();
    match step {
        Step::Connect => {
            let id = sim.connect();
            issued.push(id);
            if sim.is_connected(id) {
                alive.insert(id);
            } else {
                // Refused: exactly a farewell, then the close.
                let out = sim.take_transcript();
                prop_assert!(
                    matches!(&out[..], [Output::Send { to, .. }, Output::Close { client, reason: DisconnectReason::ServerFull }] if *to == id && *client == id),
                    "refused connect produced {out:?}"
                );
                return Ok((out, None));
            }
        }
        Step::Input { bytes, .. } => {
            if let Some(id) = actor {
                // Ids come from `issued`: a closed one races its close, which is not an error.
                prop_assert_eq!(sim.input(id, bytes), Ok(()));
                if !before.contains(&id) {
                    prop_assert!(sim.take_transcript().is_empty(), "input for a closed client produced output");
                    return Ok((Vec::new(), None));
                }
            }
        }
        Step::Disconnect { .. } => {
            if let Some(id) = actor {
                prop_assert_eq!(sim.disconnect(id, DisconnectReason::ConnectionClosed), Ok(()));
                if !before.contains(&id) {
                    prop_assert!(sim.take_transcript().is_empty(), "a late disconnect produced output");
                    return Ok((Vec::new(), None));
                }
                alive.remove(&id);
            }
        }
        Step::Advance { ms } => sim.advance(Duration::from_millis(*ms)),
        Step::AnswerAuth => {
            sim.answer_auth();
        }
        Step::Shutdown => sim.shutdown(),
    }
    let out = sim.take_transcript();
    for output in &out {
        match output {
            Output::Send { to, .. } => prop_assert!(alive.contains(to), "send to {to}, not connected: {step:?}"),
            Output::Close { client, .. } => prop_assert!(alive.remove(client), "close of {client}, not connected"),
            _ => {}
        }
    }
    let after: BTreeSet<ClientId> = sim.engine().clients().collect();
    prop_assert_eq!(alive, after, "connected set disagrees with the outputs");
    Ok((out, actor))
}

/// The room of a live room message, or `None` for any other line.
fn live_room_message(line: &str) -> Option<String> {
    #[cfg(feature = "json")]
    if line.starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        let live = value["type"] == "message" && value["history"] == false;
        return live.then(|| value["room"].as_str().unwrap_or_default().to_owned());
    }
    let tag = line.strip_prefix('[')?.split(']').next()?;
    (!tag.contains(' ')).then(|| tag.to_owned())
}

fn is_history(line: &str) -> bool {
    line.starts_with("~ [") || (line.starts_with('{') && line.contains(r#""history":true"#))
}

fn check_deliveries(sim: &Sim, out: &[Output], actor: Option<ClientId>) -> Result<(), TestCaseError> {
    for output in out {
        let Output::Send { to, data } = output else { continue };
        let text = std::str::from_utf8(data).map_err(|e| TestCaseError::fail(format!("non-UTF-8 to {to}: {e}")))?;
        prop_assert!(text.ends_with('\n'), "partial line to {to}: {text:?}");
        for line in text.lines() {
            if is_history(line) {
                prop_assert_eq!(Some(*to), actor, "history to a client that did not join: {}", line);
            } else if let Some(room) = live_room_message(line) {
                // Only a JSON sender gets its own message back.
                prop_assert!(
                    Some(*to) != actor || line.starts_with('{'),
                    "the text sender got its own message: {}",
                    line
                );
                let members: Vec<ClientId> = sim.engine().members(&room).map(Iterator::collect).unwrap_or_default();
                prop_assert!(members.contains(to), "{line:?} reached {to}, not a member of {room}");
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_every_invariant(lobby in any::<bool>(), steps in prop::collection::vec(step(), 1..60)) {
        let mut first = Sim::new(config(lobby));
        let mut second = Sim::new(config(lobby));
        let (mut issued_first, mut issued_second) = (Vec::new(), Vec::new());
        for step in &steps {
            let (out, actor) = run(&mut first, &mut issued_first, step)?;
            if let Err(violation) = first.engine().check_invariants() {
                return Err(TestCaseError::fail(format!("{violation} after {step:?}")));
            }
            check_deliveries(&first, &out, actor)?;
            prop_assert!(first.engine().client_count() <= 4);
            let (again, _) = run(&mut second, &mut issued_second, step)?;
            prop_assert_eq!(&out, &again, "a second run differs at {:?}", step);
            let due = |sim: &Sim| sim.engine().poll_timeout().map(|t| t - sim.now().instant);
            prop_assert_eq!(due(&first), due(&second));
        }
    }
}
