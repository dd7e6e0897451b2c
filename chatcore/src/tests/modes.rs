//! Random runs in the engine's less common modes: login required, clients
//! from known addresses, durable records on or off, a store that fails and
//! recovers, idle timeouts with warnings, and password checks answered late,
//! out of order or after the client has gone, and history fetches answered
//! by a model store as late and in any order.
//!
//! After every step: the invariants hold; no password (nor hash) appears in
//! any byte sent to a client; a source locked out of an account does not log
//! in to it before the lock ends; offline mailboxes stay within their cap;
//! while the store fails, nothing that needs a new record is accepted (the
//! sender gets `storage_unavailable`) and only the records of logins and
//! departures appear; an idle client is warned before it is closed. A second
//! run of the same steps gives exactly the same outputs. At the end, the
//! records rebuild the durable state.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::lines::{self, Line, NAMES, SECRET_MARK, WORDS};
use super::restore::{durable, records, restored};
use crate::error::Rejection;
use crate::names::NameKey;
use crate::sim::Sim;
use crate::{
    ClientId, Config, ConnectInfo, DisconnectReason, HistoryTarget, Output, PasswordHash, Record, StorageStatus,
};

#[derive(Debug, Clone)]
enum Step {
    /// From one of two addresses (a third is alice's), or from an unknown one.
    Connect {
        ip: Option<u8>,
        json: bool,
    },
    /// A line from the `who`-th client still connected.
    Line {
        who: usize,
        line: Line,
    },
    Disconnect {
        who: usize,
    },
    Advance {
        ms: u64,
    },
    /// The embedder answers one outstanding password request, not
    /// necessarily the oldest; hashing may fail.
    Answer {
        pick: usize,
        hash_ok: bool,
    },
    Storage {
        failing: bool,
    },
    /// The store answers one outstanding history fetch, from the records
    /// it has, not necessarily the oldest.
    Fetch {
        pick: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let line = prop_oneof![
        8 => lines::line(),
        // Logins and registrations, right and wrong, from whoever is not logged in yet.
        // Mostly at alice, who is registered and away, so that lockouts build up.
        4 => (prop_oneof![2 => Just(0), 1 => 0..NAMES.len()], any::<bool>())
            .prop_map(|(name, right)| Line::Login { name, right }),
        1 => (0..NAMES.len()).prop_map(Line::Register),
        // More talk in rooms, so that there is history to page through.
        3 => (0..WORDS.len()).prop_map(Line::Say),
        2 => Just(Line::History),
        2 => (0u64..8).prop_map(Line::HistoryBefore),
        2 => (0..NAMES.len()).prop_map(Line::WhisperHistory),
    ];
    prop_oneof![
        4 => (prop::option::of(0u8..2), any::<bool>()).prop_map(|(ip, json)| Step::Connect { ip, json }),
        14 => (0usize..5, line).prop_map(|(who, line)| Step::Line { who, line }),
        2 => (0usize..5).prop_map(|who| Step::Disconnect { who }),
        3 => prop_oneof![0u64..1_000, 0u64..5_000].prop_map(|ms| Step::Advance { ms }),
        4 => (any::<usize>(), prop::bool::weighted(0.9)).prop_map(|(pick, hash_ok)| Step::Answer { pick, hash_ok }),
        1 => prop::bool::weighted(0.4).prop_map(|failing| Step::Storage { failing }),
        3 => any::<usize>().prop_map(|pick| Step::Fetch { pick }),
    ]
}

/// Every run starts here: alice registered and gone, carol (text, from a
/// known address) and Bob (JSON, from an unknown one) registered, in room
/// `r`, having said a few things; so that random steps find rooms, accounts
/// (online and not) and history about.
fn populated_start() -> Vec<Step> {
    let line = |who, line| Step::Line { who, line };
    let mut start = vec![
        Step::Connect { ip: Some(1), json: false },
        line(0, Line::Register(0)),
        Step::Answer { pick: 0, hash_ok: true },
        line(0, Line::Quit),
        Step::Connect { ip: Some(0), json: false },
        Step::Connect { ip: None, json: true },
        line(0, Line::Register(2)),
        line(1, Line::Register(1)),
        Step::Answer { pick: 0, hash_ok: true },
        Step::Answer { pick: 0, hash_ok: true },
        line(0, Line::Create(0)),
        line(1, Line::Join(0)),
    ];
    for word in 0..WORDS.len() {
        start.push(line(0, Line::Say(word)));
        start.push(line(1, Line::Say(word)));
    }
    start
}

fn config(require_login: bool, emit_records: bool) -> Config {
    Config::default()
        .with_max_clients(5)
        .with_require_login(require_login)
        .with_emit_records(emit_records)
        .with_history_len(1)
        .with_history_page_len(2)
        .with_max_rooms(3)
        .with_max_accounts(4)
        .with_max_blocks(2)
        .with_max_offline_messages(2)
        .with_flood_lines_per_sec(0)
        .with_registration_timeout(Duration::from_secs(6))
        .with_idle_timeout(Duration::from_secs(8))
        .with_idle_warning(Duration::from_secs(2))
        .with_max_login_failures(2)
        .with_login_failure_window(Duration::from_secs(30))
        .with_block_duration(Duration::from_secs(10))
        .with_max_registrations_per_source(2)
        .with_registration_window(Duration::from_secs(20))
        .with_guest_room_idle_expiry(Duration::from_secs(3))
        .with_room_idle_expiry(Duration::from_secs(7))
        .with_max_rooms_created_per_source(4)
        .with_room_creation_window(Duration::from_secs(15))
        .with_max_account_failures(3)
        .with_account_block_duration(Duration::from_secs(12))
        .with_max_known_sources(2)
}

/// Who asked for an outstanding password request.
#[derive(Debug, Clone)]
struct Asker {
    client: ClientId,
    ip: Option<u8>,
    /// The account, for a login.
    login: Option<NameKey>,
}

/// What the test knows about one run.
#[derive(Default)]
struct Model {
    /// Every id issued, with its codec (JSON?) and address.
    issued: Vec<(ClientId, bool, Option<u8>)>,
    /// Password requests not answered yet, oldest first.
    pending: Vec<(Output, Asker)>,
    /// Clients that have sent a line.
    spoke: BTreeSet<ClientId>,
    /// Clients warned of idleness since their last line.
    warned: BTreeSet<ClientId>,
    /// For an account and a source: a time before which the lock it was
    /// told of has certainly not ended.
    locks: BTreeMap<(NameKey, Option<u8>), Instant>,
    failing: bool,
    stored: Vec<Record>,
    /// History fetches not answered yet: who, which history, below which number, how many.
    fetches: Vec<(ClientId, HistoryTarget, crate::HistoryRange, usize)>,
    /// The number of the last whisper kept in a conversation.
    last_whisper: u64,
}

impl Model {
    fn connected(&self, sim: &Sim) -> Vec<(ClientId, bool, Option<u8>)> {
        self.issued.iter().copied().filter(|&(id, ..)| sim.is_connected(id)).collect()
    }

    /// Notes any lockout of `account` that `client` was told of now.
    fn note_lockouts(&mut self, sim: &Sim, out: &[Output], client: ClientId, account: &NameKey, ip: Option<u8>) {
        for text in sent_to(out, client) {
            let Some(rest) = text.split("too many failed logins; try again in ").nth(1) else { continue };
            let secs: u64 = rest.split(' ').next().and_then(|n| n.parse().ok()).expect("a number of seconds");
            // The engine rounds up, so the lock ends within the last of those seconds.
            let surely_locked_until = sim.now().instant + Duration::from_secs(secs.saturating_sub(1));
            let lock = self.locks.entry((account.clone(), ip)).or_insert(surely_locked_until);
            *lock = (*lock).max(surely_locked_until);
        }
    }
}

/// The text of each `Send` to `client` among `out`.
fn sent_to(out: &[Output], client: ClientId) -> impl Iterator<Item = &str> {
    out.iter().filter_map(move |o| match o {
        Output::Send { to, data } if *to == client => Some(std::str::from_utf8(data).expect("UTF-8")),
        _ => None,
    })
}

fn is_idle_warning(text: &str) -> bool {
    text.contains("you have been idle") || text.contains(r#""type":"idle_warning""#)
}

/// Whether `line` would need a new record if it went through.
fn needs_store(sim: &Sim, line: &Line) -> bool {
    match *line {
        Line::Create(_) | Line::Say(_) | Line::Register(_) | Line::Block(_) | Line::Unblock(_) => true,
        // A whisper to a registered user who is offline is kept.
        Line::Msg { to, .. } => {
            let key = NameKey::of(NAMES[to]);
            let online = sim.engine().clients().any(|c| sim.engine().nick(c).is_some_and(|n| NameKey::of(n) == key));
            sim.engine().offline_len(NAMES[to]).is_some() && !online
        }
        _ => false,
    }
}

/// Runs one step and checks what can be checked of it alone; returns its outputs.
fn run(sim: &mut Sim, model: &mut Model, step: &Step) -> Result<Vec<Output>, TestCaseError> {
    let config = sim.engine().config().clone();
    let logged_in: BTreeSet<ClientId> =
        sim.engine().clients().filter(|&c| sim.engine().account_of(c).is_some()).collect();
    let connected = model.connected(sim);
    let mut refusal_expected = None;
    let out = match *step {
        Step::Connect { ip, json } => {
            let now = sim.now();
            let id = match ip {
                Some(last) => sim
                    .engine_mut()
                    .handle_connect(now, ConnectInfo::default().from(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))),
                None => sim.engine_mut().handle_connect(now, ConnectInfo::default()),
            };
            sim.drain();
            model.issued.push((id, json && cfg!(feature = "json"), ip));
            sim.take_transcript()
        }
        Step::Line { who, ref line } => {
            // Logins and registrations come from someone not logged in, if anyone is.
            let guests: Vec<_> = connected.iter().copied().filter(|(id, ..)| !logged_in.contains(id)).collect();
            let auth = matches!(line, Line::Login { .. } | Line::Register(_));
            let pool = if auth && !guests.is_empty() { &guests } else { &connected };
            let Some(&(id, json, ip)) = pool.get(who % pool.len().max(1)) else {
                return Ok(Vec::new());
            };
            if model.failing && model.spoke.contains(&id) && needs_store(sim, line) {
                let login_first = config.require_login && !logged_in.contains(&id);
                let rejection = match line {
                    Line::Register(_) => Rejection::StorageUnavailable,
                    _ if login_first => Rejection::LoginRequired,
                    _ => Rejection::StorageUnavailable,
                };
                refusal_expected = Some((id, rejection, super::digest(sim.engine())));
            }
            sim.send(id, &line.render(json));
            model.spoke.insert(id);
            model.warned.remove(&id);
            let login = match *line {
                Line::Login { name, .. } => Some(NameKey::of(NAMES[name])),
                _ => None,
            };
            for request in sim.take_auth_requests() {
                model.pending.push((request, Asker { client: id, ip, login: login.clone() }));
            }
            let out = sim.take_transcript();
            if let Some(account) = &login {
                model.note_lockouts(sim, &out, id, account, ip);
            }
            out
        }
        Step::Disconnect { who } => {
            if let Some(&(id, ..)) = connected.get(who % connected.len().max(1)) {
                prop_assert_eq!(sim.disconnect(id, DisconnectReason::ConnectionClosed), Ok(()));
            }
            sim.take_transcript()
        }
        Step::Advance { ms } => {
            sim.advance(Duration::from_millis(ms));
            sim.take_transcript()
        }
        Step::Answer { pick, hash_ok } => {
            if model.pending.is_empty() {
                return Ok(Vec::new());
            }
            let (request, asker) = model.pending.remove(pick % model.pending.len());
            let now = sim.now();
            // Answered as the sim's stand-in hasher would, even if the client has gone.
            let result = match request {
                Output::HashPassword { request, password } => {
                    let hash = hash_ok.then(|| PasswordHash::new(format!("sim:{}", password.expose())));
                    sim.engine_mut().handle_password_hashed(now, request, hash)
                }
                Output::VerifyPassword { request, password, hash } => {
                    let matches =
                        hash.as_ref().is_some_and(|h| h.expose().strip_prefix("sim:") == Some(password.expose()));
                    sim.engine_mut().handle_password_verified(now, request, matches)
                }
                other => unreachable!("{other:?} is not a password request"),
            };
            prop_assert_eq!(result, Ok(()));
            sim.drain();
            let out = sim.take_transcript();
            if let Some(account) = &asker.login {
                model.note_lockouts(sim, &out, asker.client, account, asker.ip);
                let now_in = sim.engine().account_of(asker.client).map(NameKey::of);
                if now_in.as_ref() == Some(account) {
                    let lock = model.locks.get(&(account.clone(), asker.ip));
                    prop_assert!(
                        lock.is_none_or(|&until| now.instant >= until),
                        "{account} logged in while locked out"
                    );
                }
            }
            out
        }
        Step::Fetch { pick } => {
            if model.fetches.is_empty() {
                return Ok(Vec::new());
            }
            let (client, target, range, limit) = model.fetches.remove(pick % model.fetches.len());
            let page = super::paging::read(&model.stored, &target, range, limit);
            prop_assert_eq!(sim.engine_mut().handle_history_page(client, &target, page, 0), Ok(()));
            sim.drain();
            let out = sim.take_transcript();
            // One page to whoever asked, if still here; nothing else.
            let expected = usize::from(sim.is_connected(client));
            prop_assert_eq!(out.len(), expected, "{:?}", out);
            prop_assert!(out.iter().all(|o| matches!(o, Output::Send { to, .. } if *to == client)), "{out:?}");
            out
        }
        Step::Storage { failing } => {
            let status = if failing { StorageStatus::Failing } else { StorageStatus::Healthy };
            sim.engine_mut().handle_storage_status(status);
            sim.drain();
            model.failing = failing;
            let out = sim.take_transcript();
            prop_assert_eq!(&out, &[], "a storage status is not told to anyone");
            out
        }
    };
    prop_assert!(sim.take_auth_requests().is_empty(), "password requests outside a line");

    if let Some((id, rejection, before)) = refusal_expected {
        let told: Vec<&str> = sent_to(&out, id).collect();
        // Text clients get the message; JSON clients get it with its code.
        let json_code = format!(r#""code":"{}""#, rejection.code());
        let right =
            |t: &str| t == format!("! {rejection}\n") || (t.contains(&json_code) && t.contains(&rejection.to_string()));
        prop_assert!(
            told.len() == 1 && right(told[0]),
            "{:?} while the store fails got {:?}, not {:?}",
            step,
            told,
            rejection
        );
        prop_assert_eq!(out.len(), 1, "{:?} while the store fails: {:?}", step, out);
        prop_assert_eq!(super::digest(sim.engine()), before, "{:?} changed the state while the store fails", step);
    }
    check_outputs(sim, model, step, &out, &logged_in)?;
    Ok(out)
}

/// Checks every output of one step.
fn check_outputs(
    sim: &Sim,
    model: &mut Model,
    step: &Step,
    out: &[Output],
    logged_in: &BTreeSet<ClientId>,
) -> Result<(), TestCaseError> {
    let config = sim.engine().config();
    let step_records = records(out);
    for output in out {
        match output {
            Output::Send { to, data } => {
                let text = std::str::from_utf8(data).expect("UTF-8");
                prop_assert!(!text.contains(SECRET_MARK), "a password reached {to}: {text:?}");
                prop_assert!(!text.contains("sim:"), "a hash reached {to}: {text:?}");
                if is_idle_warning(text) {
                    model.warned.insert(*to);
                }
            }
            Output::Close { client, reason: DisconnectReason::IdleTimeout } => {
                prop_assert!(model.warned.contains(client), "{client} closed for idleness unwarned");
            }
            Output::Close { client, reason: DisconnectReason::RegistrationTimeout } => {
                prop_assert!(!logged_in.contains(client), "{client} logged in, yet closed for registration");
                prop_assert!(config.require_login || !model.spoke.contains(client), "{client} spoke, yet closed");
            }
            Output::Persist(record) => {
                prop_assert!(config.emit_records, "a record without emit_records: {record:?}");
                if model.failing {
                    let allowed = match &**record {
                        // Bookkeeping of what cannot be refused: a departure, a login, an expiry.
                        Record::LastSeen { .. }
                        | Record::OfflineDelivered { .. }
                        | Record::RoomVacated { .. }
                        | Record::KnownSource { .. }
                        | Record::RoomDropped { .. } => true,
                        // A guest's room that empties is made again, new.
                        Record::RoomCreated { room, owner: None, .. } => step_records
                            .iter()
                            .any(|r| matches!(r, Record::RoomDropped { room: dropped } if dropped == room)),
                        // Blocks a guest brings along when it logs in.
                        Record::Blocked { account, .. } => step_records
                            .iter()
                            .any(|r| matches!(r, Record::LastSeen { account: a, .. } if a == account)),
                        _ => false,
                    };
                    prop_assert!(allowed, "{record:?} while the store fails, at {step:?}");
                }
            }
            Output::FetchHistory { client, target, range, limit } => {
                prop_assert!(config.emit_records, "a fetch without a store");
                if let HistoryTarget::Conversation { account, .. } = target {
                    let asker = sim.engine().account_of(*client).map(NameKey::of);
                    prop_assert_eq!(asker, Some(NameKey::of(account)), "asked for another's conversation");
                }
                model.fetches.push((*client, target.clone(), *range, *limit));
            }
            _ => {}
        }
        // Conversations: numbered in order; a kept whisper is in its conversation under its own number.
        if let Output::Persist(record) = output {
            match &**record {
                Record::Whisper { message, .. } => {
                    prop_assert!(
                        message.seq > model.last_whisper,
                        "whisper {} after {}",
                        message.seq,
                        model.last_whisper
                    );
                    model.last_whisper = message.seq;
                }
                Record::OfflineKept { seq: Some(seq), to, .. } => {
                    let kept_too = step_records
                        .iter()
                        .any(|r| matches!(r, Record::Whisper { to: t, message } if message.seq == *seq && t == to));
                    prop_assert!(kept_too, "kept whisper {} is in no conversation", seq);
                }
                _ => {}
            }
        }
    }
    model.stored.extend(step_records);
    for name in NAMES {
        let kept = sim.engine().offline_len(name).unwrap_or(0);
        prop_assert!(kept <= config.max_offline_messages, "{name} has {kept} offline messages");
    }
    if let Err(violation) = sim.engine().check_invariants() {
        return Err(TestCaseError::fail(format!("{violation} after {step:?}")));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_runs_in_every_mode_keep_their_promises(
        require_login in any::<bool>(),
        emit_records in prop::bool::weighted(0.75),
        steps in prop::collection::vec(step(), 1..70),
    ) {
        let config = config(require_login, emit_records);
        let (mut first, mut second) = (Sim::new(config.clone()), Sim::new(config.clone()));
        let (mut model, mut again) = (Model::default(), Model::default());
        for step in populated_start().iter().chain(&steps) {
            let out = run(&mut first, &mut model, step)?;
            let repeat = run(&mut second, &mut again, step)?;
            prop_assert_eq!(&out, &repeat, "a second run differs at {:?}", step);
            let due = |sim: &Sim| sim.engine().poll_timeout().map(|t| t - sim.now().instant);
            prop_assert_eq!(due(&first), due(&second));
        }
        // Even with the store failing at times, each record stands for a change that was made.
        if emit_records {
            let rebuilt = restored(config, model.stored.iter().cloned());
            prop_assert_eq!(durable(&rebuilt), durable(first.engine()));
        }
    }
}
