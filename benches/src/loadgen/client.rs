//! One client: connect, introduce itself (by mode), then read until the
//! run ends, accounting for every line.

use std::io::{ErrorKind, Read};
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use smol::io::AsyncWriteExt;

use super::cli::Mode;
use super::ledger::Receipt;
use super::payload::{self, Lines};
use super::shared::{Phase, Shared};
use super::worker::Worker;
use super::{irc, sources, ws};

/// The start of the text protocol's refusal of a join to an unknown room.
const NO_SUCH_ROOM: &[u8] = b"! no room named ";

/// How long a client waits before asking again to join a room that its
/// server did not know yet.
const JOIN_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// Where a client is in its introduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for the server to confirm the nickname or room.
    Introducing,
    /// Ready: counted in `Shared::ready`.
    Ready,
}

/// Per-read tallies, added to the shared atomics once per read.
#[derive(Debug, Default)]
struct Tally {
    delivered: u64,
    window: u64,
    slowest_ns: u64,
    duplicates: u64,
    misdelivered: u64,
    server_errors: u64,
}

/// Runs client `i` until its connection ends (the worker drops this future
/// when the run is over).
pub async fn run(worker: Rc<Worker>, i: usize) {
    let shared = &worker.shared;
    let schedule = &worker.schedule;
    let room = schedule.room_of(i);
    let creator = i < schedule.rooms;
    let rooms = matches!(worker.args.mode, Mode::Chat | Mode::Ws);
    if rooms && !creator {
        // Everyone else joins once every room exists.
        while shared.rooms_ready.load(Relaxed) < schedule.rooms && shared.phase() == Phase::Setup {
            smol::Timer::after(std::time::Duration::from_millis(2)).await;
        }
    }
    let permit = worker.connecting.acquire().await;
    let began = Instant::now();
    let source = sources::of_client(i, worker.args.sources());
    let addr = worker.args.addr_of(i);
    let stream = match sources::connect(addr, source).await {
        Ok(stream) => Rc::new(stream),
        Err(e) => return shared.abort(|| format!("client {i}: connect to {addr}: {e}")),
    };
    let _ = stream.get_ref().set_nodelay(true);
    // A WebSocket's frames start after the handshake; before the client's
    // first request the server sends only its welcome, which needs no answer.
    let mut frames = ws::Frames::default();
    if worker.args.mode == Mode::Ws {
        let early = match ws::handshake(&stream, addr).await {
            Ok(early) => early,
            Err(e) => return shared.abort(|| format!("client {i}: {e}")),
        };
        if let Err(e) = frames.feed(&early, |_| {}) {
            return shared.abort(|| format!("client {i}: {e}"));
        }
    }
    worker.connect_time.borrow_mut().saturating_record(began.elapsed().as_nanos().max(1) as u64);
    worker.streams.borrow_mut()[worker.local(i)] = Some(stream.clone());

    let nick = format!("{}{i}", worker.nick_prefix);
    let room_name = format!("{}{room}", worker.room_prefix);
    let hello = match worker.args.mode {
        Mode::Chat | Mode::Scale if creator => format!("/nick {nick}\n/create {room_name}\n").into_bytes(),
        Mode::Chat | Mode::Scale => format!("/nick {nick}\n/join {room_name}\n").into_bytes(),
        Mode::Capacity => format!("/nick {nick}\n").into_bytes(),
        Mode::Plain => Vec::new(),
        Mode::Irc => irc::hello(&nick).into_bytes(),
        Mode::Ws => {
            let mut hello = Vec::new();
            ws::hello(&nick, &room_name, creator, &mut hello);
            hello
        }
    };
    let channel = format!("#{room_name}");
    if let Err(e) = (&*stream).write_all(&hello).await {
        return shared.abort(|| format!("client {i}: write: {e}"));
    }
    let mut stage = Stage::Introducing;
    let mut permit = Some(permit);
    let mut ready = |stage: &mut Stage| {
        *stage = Stage::Ready;
        permit.take();
        shared.ready.fetch_add(1, Relaxed);
        if creator && rooms {
            shared.rooms_ready.fetch_add(1, Relaxed);
        }
    };
    if worker.args.mode == Mode::Plain {
        ready(&mut stage);
    }

    let mut lines = Lines::default();
    let mut retry_join = false;
    // A cluster node learns of a room created on another node from the
    // change feed, about 100 ms later: a join refused meanwhile is sent
    // again after a pause, until the setup times out.
    let mut join_pause = false;
    let mut bye = None;
    // IRC: what to write back after this read (PONGs, the JOIN).
    let mut replies = Vec::new();
    loop {
        if let Err(e) = stream.readable().await {
            shared.note_error(|| format!("client {i}: poll: {e}"));
            return ended(shared, i, stage, bye.as_deref());
        }
        let mut tally = Tally::default();
        let mut closed = false;
        {
            let mut scratch = worker.scratch.borrow_mut();
            let mut inboxes = worker.inboxes.borrow_mut();
            let inbox = &mut inboxes[worker.local(i)];
            let mut latency = worker.latency.borrow_mut();
            let start = shared.start_ns();
            let window = start + schedule.warmup.as_nanos() as u64
                ..start + schedule.warmup.as_nanos() as u64 + worker.args.duration_ns();
            loop {
                let n = match stream.get_ref().read(&mut scratch) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => {
                        shared.note_error(|| format!("client {i}: read: {e}"));
                        closed = true;
                        break;
                    }
                };
                let now = shared.now_ns();
                let mut on_line = |line: &[u8]| {
                    let parsed = match worker.args.mode {
                        Mode::Irc => irc::Line::parse(line),
                        _ => None,
                    };
                    let text = match worker.args.mode {
                        Mode::Plain => Some(line),
                        Mode::Irc => parsed.and_then(|l| l.privmsg_text()),
                        // History replays carry old payloads: only live messages count.
                        Mode::Ws => ws::is_live_message(line, &nick).then_some(line),
                        _ => (line.first() == Some(&b'[')).then_some(line),
                    };
                    if let Some((seq, due)) = text.and_then(payload::decode) {
                        match inbox.record(schedule, i, seq) {
                            Receipt::Expected => {
                                tally.delivered += 1;
                                tally.window += u64::from(window.contains(&now));
                                let took = now.saturating_sub(due).max(1);
                                tally.slowest_ns = tally.slowest_ns.max(took);
                                if schedule.timed(seq) {
                                    latency.saturating_record(took);
                                }
                            }
                            Receipt::Duplicate => tally.duplicates += 1,
                            Receipt::Misdelivered => tally.misdelivered += 1,
                        }
                        return;
                    }
                    if let Some(msg) = parsed {
                        if msg.is("PING") {
                            replies.extend_from_slice(b"PONG :");
                            replies.extend_from_slice(msg.param(0).unwrap_or_default());
                            replies.extend_from_slice(b"\r\n");
                        } else if msg.is("ERROR") {
                            let reason = String::from_utf8_lossy(msg.param(0).unwrap_or_default()).into_owned();
                            shared.note_reason(i, &reason, true);
                            bye = Some(reason);
                        } else if msg.is("QUIT") {
                            let nick = std::str::from_utf8(msg.nick()).unwrap_or_default();
                            if let Some(who) = index_of(nick, &worker.nick_prefix)
                                && who < schedule.clients
                            {
                                let reason = String::from_utf8_lossy(msg.param(0).unwrap_or_default());
                                shared.note_reason(who, &reason, false);
                            }
                        } else if let Some(code) = msg.numeric() {
                            match code {
                                1 if stage == Stage::Introducing => {
                                    replies.extend_from_slice(format!("JOIN {channel}\r\n").as_bytes());
                                }
                                366 if stage == Stage::Introducing
                                    && msg.param(1).is_some_and(|c| c.eq_ignore_ascii_case(channel.as_bytes())) =>
                                {
                                    ready(&mut stage);
                                }
                                // 422: no MOTD, harmless.
                                400..=599 if code != 422 => {
                                    let text = String::from_utf8_lossy(line).into_owned();
                                    if stage == Stage::Introducing {
                                        shared.abort(|| format!("client {i} ({nick}) was refused: {text}"));
                                    } else {
                                        tally.server_errors += 1;
                                        shared.note_error(|| format!("client {i}: server said: {text}"));
                                    }
                                }
                                _ => {}
                            }
                        }
                        return;
                    }
                    if let Some(reason) = goodbye(line) {
                        shared.note_reason(i, &reason, true);
                        bye = Some(reason);
                        return;
                    }
                    if let Some((who, reason)) = departure(line, &worker.nick_prefix)
                        && who < schedule.clients
                    {
                        shared.note_reason(who, reason, false);
                        return;
                    }
                    if worker.args.mode == Mode::Ws {
                        if let Some((nick, reason)) = ws::departure(line) {
                            if let Some(who) = index_of(&nick, &worker.nick_prefix)
                                && who < schedule.clients
                            {
                                shared.note_reason(who, &reason, false);
                            }
                        } else if stage == Stage::Introducing && ws::joined(line, &room_name, &nick) {
                            ready(&mut stage);
                        } else if let Some(code) = ws::error_code(line) {
                            let text = String::from_utf8_lossy(line).into_owned();
                            if stage == Stage::Ready {
                                tally.server_errors += 1;
                                shared.note_error(|| format!("client {i}: server said: {text}"));
                            } else if creator && !retry_join && code == "room_exists" {
                                retry_join = true; // a room left from an earlier run
                            } else if !creator && code == "no_such_room" {
                                retry_join = true;
                                join_pause = true; // created on another node: not known here yet
                            } else {
                                shared.abort(|| format!("client {i} ({nick}) was refused: {text}"));
                            }
                        }
                        return;
                    }
                    if stage == Stage::Introducing {
                        let confirmed = match worker.args.mode {
                            Mode::Capacity => line.starts_with(b"* you are now known as"),
                            _ => line.starts_with(b"* you are now in "),
                        };
                        if confirmed {
                            ready(&mut stage);
                        } else if line.starts_with(b"! ") {
                            if creator && !retry_join && contains(line, b"already exists") {
                                retry_join = true; // a room left from an earlier run
                            } else if !creator && line.starts_with(NO_SUCH_ROOM) {
                                retry_join = true;
                                join_pause = true; // created on another node: not known here yet
                            } else {
                                let text = String::from_utf8_lossy(line).into_owned();
                                shared.abort(|| format!("client {i} ({nick}) was refused: {text}"));
                            }
                        }
                    } else if line.starts_with(b"! ") {
                        tally.server_errors += 1;
                        shared.note_error(|| format!("client {i}: server said: {}", String::from_utf8_lossy(line)));
                    }
                };
                if worker.args.mode == Mode::Ws {
                    let mut pings = Vec::new();
                    let fed = frames.feed(&scratch[..n], |event| match event {
                        ws::Event::Text(line) => on_line(line),
                        ws::Event::Ping(payload) => pings.push(payload.to_vec()),
                        // The reason came before it, as a JSON bye; the end of the stream follows.
                        ws::Event::Close => {}
                    });
                    for payload in pings {
                        ws::pong(&payload, &mut replies);
                    }
                    if let Err(e) = fed {
                        shared.note_error(|| format!("client {i}: {e}"));
                        closed = true;
                        break;
                    }
                } else {
                    lines.feed(&scratch[..n], on_line);
                }
            }
        }
        add(&shared.delivered, tally.delivered);
        add(&shared.window_delivered, tally.window);
        if tally.slowest_ns > 0 {
            shared.slowest_ns.fetch_max(tally.slowest_ns, Relaxed);
        }
        add(&shared.duplicates, tally.duplicates);
        add(&shared.misdelivered, tally.misdelivered);
        add(&shared.server_errors, tally.server_errors);
        if closed {
            return ended(shared, i, stage, bye.as_deref());
        }
        if !replies.is_empty() {
            // Rare and short (registration, PONG); a message the sender is
            // part-way through writing on a full socket could be split by it.
            let written = (&*stream).write_all(&replies).await;
            replies.clear();
            if let Err(e) = written {
                shared.note_error(|| format!("client {i}: write: {e}"));
                return ended(shared, i, stage, bye.as_deref());
            }
        }
        if std::mem::take(&mut retry_join) {
            if std::mem::take(&mut join_pause) {
                smol::Timer::after(JOIN_RETRY_PAUSE).await;
            }
            let join = match worker.args.mode {
                Mode::Ws => {
                    let mut join = Vec::new();
                    ws::request(&serde_json::json!({"type": "join", "room": room_name}), &mut join);
                    join
                }
                _ => format!("/join {room_name}\n").into_bytes(),
            };
            if let Err(e) = (&*stream).write_all(&join).await {
                return shared.abort(|| format!("client {i}: write: {e}"));
            }
        }
    }
}

/// Client `i`'s connection ended, by the server's doing or a socket error.
/// Before the end of the run that fails the setup or, once the client is
/// ready, counts it as cut; `bye` is the reason the server gave it, if any.
fn ended(shared: &Shared, i: usize, stage: Stage, bye: Option<&str>) {
    if shared.phase() >= Phase::Done {
        return;
    }
    let said = bye.map(|reason| format!(" (bye: {reason})")).unwrap_or_default();
    shared.note_error(|| format!("client {i}: connection closed by the server{said}"));
    if stage == Stage::Introducing {
        shared.abort(|| format!("client {i}: closed during setup{said}"));
    } else {
        shared.note_cut(i);
    }
}

/// The reason in a goodbye the server sends a client it is about to close:
/// `* bye: REASON` in the text protocol, `{"type":"bye","reason":REASON}`
/// in JSON.
pub fn goodbye(line: &[u8]) -> Option<String> {
    if let Some(reason) = line.strip_prefix(b"* bye: ") {
        return Some(String::from_utf8_lossy(reason).into_owned());
    }
    if line.first() != Some(&b'{') || !contains(line, b"\"bye\"") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    (value["type"] == "bye").then(|| value["reason"].as_str().unwrap_or_default().to_owned())
}

/// The client index and reason in the notice a room gets when one of this
/// run's clients (nickname `prefix` + index) is disconnected:
/// `* NICK disconnected (REASON)`.
pub fn departure<'a>(line: &'a [u8], prefix: &str) -> Option<(usize, &'a str)> {
    let line = std::str::from_utf8(line).ok()?;
    let (nick, reason) = line.strip_prefix("* ")?.split_once(" disconnected (")?;
    Some((index_of(nick, prefix)?, reason.strip_suffix(')')?))
}

/// The client index in one of this run's nicknames (`prefix` + index).
pub fn index_of(nick: &str, prefix: &str) -> Option<usize> {
    let index = nick.strip_prefix(prefix)?;
    if !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    index.parse().ok()
}

fn add(counter: &std::sync::atomic::AtomicU64, n: u64) {
    if n > 0 {
        counter.fetch_add(n, Relaxed);
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_reason_of_a_goodbye_in_either_protocol() {
        assert_eq!(goodbye(b"* bye: send queue exceeded").as_deref(), Some("send queue exceeded"));
        let json = br#"{"type":"bye","reason":"send queue exceeded"}"#;
        assert_eq!(goodbye(json).as_deref(), Some("send queue exceeded"));
        assert_eq!(goodbye(br#"{"type":"message","text":"bye"}"#), None);
        assert_eq!(goodbye(b"[r] a: * bye: not from the server"), None);
    }

    #[test]
    fn reads_who_left_and_why_for_this_runs_nicknames_only() {
        let line = b"* lg42n17 disconnected (send queue exceeded)";
        assert_eq!(departure(line, "lg42n"), Some((17, "send queue exceeded")));
        assert_eq!(departure(line, "lg4n"), None);
        assert_eq!(departure(b"* lg42n17x disconnected (quit)", "lg42n"), None);
        assert_eq!(departure(b"* lg42n17 joined", "lg42n"), None);
        assert_eq!(departure(b"[load0] lg42n1: * lg42n17 disconnected (quit)", "lg42n"), None);
    }
}
