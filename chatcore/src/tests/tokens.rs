//! Session tokens (`/token`, `/resume`, `/sessions`, `/revoke`,
//! `/logout-all`) and `/password`: issued with the embedder's random
//! bytes, presented over text, JSON and IRC SASL PLAIN, expired by the
//! clock handed in, revoked, limited per account, counted by the lockout
//! rules like passwords, and restored from their records.
#![cfg(feature = "json")]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde_json::{Value, json};

use super::accounts::auto;
use super::irc::irc;
use super::relaxed;
use super::restore::restored;
use super::support::refused;
use crate::sim::Sim;
use crate::{ClientId, Codec, Config, ConnectInfo, DisconnectReason, Output, Record};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn config() -> Config {
    relaxed().with_emit_records(true)
}

/// A JSON client from `last` (the last byte of 10.0.0.x), its welcome taken.
fn json_from(sim: &mut Sim, last: u8) -> ClientId {
    let id = sim.connect_with(ConnectInfo::new(Codec::Json).from(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))));
    // A first line ends the deadline for one, so that a refusal changes nothing after it.
    sim.send_json(id, &json!({"type": "time"}));
    sim.take(id);
    id
}

/// A JSON client logged in to a fresh account `name` (password "hunter22").
fn registered(sim: &mut Sim, name: &str) -> ClientId {
    let id = json_from(sim, 1);
    sim.send_json(id, &json!({"type": "register", "name": name, "password": "hunter22", "confirm": "hunter22"}));
    assert!(sim.take_types(id).contains(&"logged_in".to_owned()));
    id
}

/// Asks `client` for a token; returns the `token` object.
fn token(sim: &mut Sim, client: ClientId) -> Value {
    sim.send_json(client, &json!({"type": "token"}));
    let replies = sim.take_json(client);
    let [reply] = &replies[..] else { panic!("{replies:?}") };
    assert_eq!(reply["type"], "token", "{reply}");
    reply.clone()
}

fn resume(token: &str) -> Value {
    json!({"type": "resume", "token": token})
}

fn persisted(sim: &mut Sim) -> Vec<Record> {
    let transcript = sim.take_transcript();
    transcript.into_iter().filter_map(|o| if let Output::Persist(r) = o { Some(*r) } else { None }).collect()
}

#[test]
fn a_token_is_issued_once_stored_as_a_hash_and_logs_in_over_json_and_text() {
    let mut sim = auto(config());
    let a = registered(&mut sim, "Alice");
    sim.take_transcript();
    let issued = token(&mut sim, a);
    let text = issued["token"].as_str().unwrap().to_owned();
    assert!(text.starts_with("tok_") && text.len() == 69, "{text}");
    assert_eq!(issued["expires"], Sim::BASE_UNIX_MS + 30 * 24 * 3600 * 1000);
    let records = persisted(&mut sim);
    let [Record::TokenIssued { account, id, hash, created_ms, .. }] = &records[..] else { panic!("{records:?}") };
    assert_eq!(
        (&**account, *created_ms, id.to_string()),
        ("Alice", Sim::BASE_UNIX_MS, issued["session"].to_string().replace('"', ""))
    );
    assert!(!format!("{records:?}").contains(&text[21..]), "the secret is never stored");
    assert_ne!(hash.as_bytes(), &[0; 32]);

    sim.send_json(a, &json!({"type": "quit"}));
    let b = json_from(&mut sim, 2);
    sim.send_json(b, &resume(&text));
    assert_eq!(sim.take_json(b).last(), Some(&json!({"type": "logged_in", "name": "Alice", "offline": 0})));
    assert_eq!(refused(&mut sim, b, &resume(&text)), "already_logged_in");

    let c = sim.connect();
    sim.take(c);
    sim.send(c, &format!("/resume {text}"));
    assert_eq!(sim.take(c).last().map(String::as_str), Some("* logged in as Alice"));
    // A second login adds a connection to the account: b stays.
    assert_eq!(sim.closed(b), None);
    assert_eq!(sim.engine().world.sessions_of(&crate::NameKey::of("alice")), [b, c]);
}

#[test]
fn irc_clients_present_a_token_through_sasl_plain() {
    let mut sim = auto(config());
    let a = registered(&mut sim, "alice");
    let text = token(&mut sim, a)["token"].as_str().unwrap().to_owned();
    sim.send_json(a, &json!({"type": "quit"}));
    let c = irc(&mut sim);
    sim.send(c, "CAP REQ sasl");
    sim.send(c, "NICK somebody");
    sim.send(c, "USER alice 0 * :Alice");
    sim.take(c);
    sim.send(c, "AUTHENTICATE PLAIN");
    assert_eq!(sim.take(c), ["AUTHENTICATE +\r"]);
    let plain = base64(format!("alice\0alice\0{text}").as_bytes());
    sim.send(c, &format!("AUTHENTICATE {plain}"));
    let lines = sim.take(c);
    assert!(lines.iter().any(|l| l.starts_with(":chatd 900 ")), "{lines:?}");
    assert!(lines.contains(&":chatd 903 * :SASL authentication successful\r".to_owned()), "{lines:?}");

    // A wrong token fails SASL like a wrong password.
    let d = irc(&mut sim);
    sim.send(d, "CAP REQ sasl");
    sim.send(d, "AUTHENTICATE PLAIN");
    sim.take(d);
    let wrong = format!("{}0", &text[..text.len() - 1]);
    let wrong = if wrong == text { format!("{}1", &text[..text.len() - 1]) } else { wrong };
    sim.send(d, &format!("AUTHENTICATE {}", base64(format!("\0alice\0{wrong}").as_bytes())));
    let lines = sim.take(d);
    assert!(lines.contains(&":chatd 904 * :SASL authentication failed\r".to_owned()), "{lines:?}");
}

#[test]
fn a_token_expires_with_the_clock_and_leaves_the_list() {
    let mut sim = auto(config().with_session_token_days(2));
    let a = registered(&mut sim, "alice");
    let text = token(&mut sim, a)["token"].as_str().unwrap().to_owned();
    sim.send_json(a, &json!({"type": "sessions"}));
    let listed = sim.take_json(a);
    assert_eq!(listed[0]["sessions"].as_array().map(Vec::len), Some(1), "{listed:?}");
    assert!(!listed[0].to_string().contains(&text[21..]), "never the secret: {listed:?}");
    sim.send_json(a, &json!({"type": "quit"}));

    sim.advance(2 * DAY - Duration::from_secs(1));
    let b = json_from(&mut sim, 2);
    sim.send_json(b, &resume(&text));
    assert_eq!(sim.take_types(b), ["nick", "logged_in"]);
    sim.advance(Duration::from_secs(1));
    let c = json_from(&mut sim, 3);
    assert_eq!(refused(&mut sim, c, &resume(&text)), "token_refused");
    sim.send_json(b, &json!({"type": "sessions"}));
    assert_eq!(sim.take_json(b), [json!({"type": "sessions", "sessions": []})]);
}

#[test]
fn tokens_are_revoked_one_at_a_time_or_all_together() {
    let mut sim = auto(config());
    let a = registered(&mut sim, "alice");
    let first = token(&mut sim, a);
    let second = token(&mut sim, a)["token"].as_str().unwrap().to_owned();
    let third = token(&mut sim, a)["token"].as_str().unwrap().to_owned();
    assert_eq!(refused(&mut sim, a, &json!({"type": "revoke", "session": "0123456789abcdef"})), "no_such_token");
    sim.send_json(a, &json!({"type": "revoke", "session": first["session"]}));
    assert_eq!(sim.take_json(a), [json!({"type": "revoked", "session": first["session"], "count": 1})]);
    let b = json_from(&mut sim, 2);
    assert_eq!(refused(&mut sim, b, &resume(first["token"].as_str().unwrap())), "token_refused");
    sim.send_json(b, &resume(&second));
    assert_eq!(sim.take_types(b), ["nick", "logged_in"]);
    sim.take_transcript();
    sim.send_json(b, &json!({"type": "logout_all"}));
    assert_eq!(sim.take_json(b), [json!({"type": "revoked", "count": 2})]);
    assert!(persisted(&mut sim).contains(&Record::TokensRevoked { account: "alice".into() }));
    assert!(sim.is_connected(b), "the connection that asked stays");
    let c = json_from(&mut sim, 3);
    assert_eq!(refused(&mut sim, c, &resume(&third)), "token_refused");
}

#[test]
fn only_a_logged_in_client_gets_a_token_and_a_server_may_issue_none() {
    let mut sim = auto(config());
    let guest = json_from(&mut sim, 1);
    assert_eq!(refused(&mut sim, guest, &json!({"type": "token"})), "login_required");
    assert_eq!(refused(&mut sim, guest, &json!({"type": "sessions"})), "login_required");
    let mut off = auto(config().with_session_token_days(0));
    let a = registered(&mut off, "alice");
    assert_eq!(refused(&mut off, a, &json!({"type": "token"})), "tokens_disabled");
}

#[test]
fn the_oldest_token_goes_when_an_account_has_its_maximum() {
    let mut sim = auto(config().with_max_session_tokens(2));
    let a = registered(&mut sim, "alice");
    let oldest = token(&mut sim, a)["token"].as_str().unwrap().to_owned();
    token(&mut sim, a);
    sim.take_transcript();
    token(&mut sim, a);
    let records = persisted(&mut sim);
    assert!(matches!(&records[..], [Record::TokenRevoked { .. }, Record::TokenIssued { .. }]), "{records:?}");
    sim.send_json(a, &json!({"type": "sessions"}));
    assert_eq!(sim.take_json(a)[0]["sessions"].as_array().map(Vec::len), Some(2));
    let b = json_from(&mut sim, 2);
    assert_eq!(refused(&mut sim, b, &resume(&oldest)), "token_refused");
}

#[test]
fn wrong_tokens_count_towards_the_lockout_like_wrong_passwords() {
    let config = config();
    let max = config.max_login_failures();
    let mut sim = auto(config);
    let a = registered(&mut sim, "alice");
    let good = token(&mut sim, a)["token"].as_str().unwrap().to_owned();
    sim.send_json(a, &json!({"type": "quit"}));
    // Garbage, from one source: locked out after the allowance.
    let b = json_from(&mut sim, 7);
    for _ in 1..max {
        assert_eq!(refused(&mut sim, b, &resume("not-a-token")), "token_refused");
    }
    assert_eq!(refused(&mut sim, b, &resume("not-a-token")), "locked_out", "the last one allowed locks");
    assert_eq!(refused(&mut sim, b, &resume("not-a-token")), "locked_out");
    // A wrong secret under alice's token id counts against alice from that source.
    let wrong = format!("{}{}", &good[..21], "0".repeat(48));
    let c = json_from(&mut sim, 8);
    for _ in 1..max {
        assert_eq!(refused(&mut sim, c, &resume(&wrong)), "token_refused");
    }
    assert_eq!(refused(&mut sim, c, &resume(&wrong)), "locked_out");
    assert_eq!(refused(&mut sim, c, &resume(&good)), "locked_out", "even the right token waits");
    sim.send_json(c, &json!({"type": "login", "name": "alice", "password": "hunter22"}));
    assert_eq!(sim.take_types(c), ["error"], "and so does the password, from that source");
    sim.advance(Duration::from_secs(3600));
    sim.send_json(c, &resume(&good));
    assert_eq!(sim.take_types(c), ["nick", "logged_in"]);
}

#[test]
fn a_password_change_checks_the_old_one_and_revokes_every_token() {
    let config = config();
    let max = config.max_login_failures();
    let mut sim = auto(config);
    let a = registered(&mut sim, "alice");
    let text = token(&mut sim, a)["token"].as_str().unwrap().to_owned();
    let change =
        |old: &str, new: &str, again: &str| json!({"type": "password", "old": old, "new": new, "confirm": again});
    assert_eq!(refused(&mut sim, a, &change("hunter22", "new-pass-1", "new-pass-2")), "password_mismatch");
    assert_eq!(refused(&mut sim, a, &change("hunter22", &text, &text)), "password_like_token");
    sim.send_json(a, &change("wrong-one", "new-pass-1", "new-pass-1"));
    let replies = sim.take_json(a);
    assert_eq!(replies[0]["code"], "login_failed", "{replies:?}");
    assert!(replies[0]["message"].as_str().unwrap().contains(&format!("{} more", max - 1)), "{replies:?}");
    sim.take_transcript();
    sim.send_json(a, &change("hunter22", "new-pass-1", "new-pass-1"));
    assert_eq!(sim.take_json(a), [json!({"type": "password_changed", "name": "alice"})]);
    let records = persisted(&mut sim);
    assert!(matches!(&records[..], [Record::PasswordChanged { .. }, Record::TokensRevoked { .. }]), "{records:?}");
    let b = json_from(&mut sim, 2);
    assert_eq!(refused(&mut sim, b, &resume(&text)), "token_refused");
    sim.send_json(b, &json!({"type": "login", "name": "alice", "password": "hunter22"}));
    assert_eq!(sim.take_json(b)[0]["code"], "login_failed");
    sim.send_json(b, &json!({"type": "login", "name": "alice", "password": "new-pass-1"}));
    assert_eq!(sim.take_types(b), ["nick", "logged_in"]);
    // Text and IRC spell it too.
    let t = sim.connect();
    sim.take(t);
    sim.send(t, "/login alice new-pass-1");
    sim.send(t, "/password new-pass-1 new-pass-2 new-pass-2");
    assert_eq!(
        sim.take(t).last().map(String::as_str),
        Some("* the password of alice is changed; every session token is revoked")
    );
}

#[test]
fn a_password_of_a_tokens_shape_is_refused_at_registration() {
    let mut sim = auto(config());
    let a = json_from(&mut sim, 1);
    let shaped = format!("tok_{}_{}", "1".repeat(16), "2".repeat(48));
    let request = json!({"type": "register", "name": "alice", "password": shaped, "confirm": shaped});
    assert_eq!(refused(&mut sim, a, &request), "password_like_token");
}

#[test]
fn tokens_and_password_changes_survive_a_restore() {
    let mut sim = auto(config());
    sim.take_transcript();
    let a = registered(&mut sim, "alice");
    let kept = token(&mut sim, a)["token"].as_str().unwrap().to_owned();
    let gone = token(&mut sim, a);
    sim.send_json(a, &json!({"type": "revoke", "session": gone["session"]}));
    let records = persisted(&mut sim);
    let mut again = Sim::from_engine(restored(config(), records.clone()), sim.now());
    again.set_auto_auth(true);
    let b = json_from(&mut again, 2);
    assert_eq!(refused(&mut again, b, &resume(gone["token"].as_str().unwrap())), "token_refused");
    again.send_json(b, &resume(&kept));
    assert_eq!(again.take_types(b), ["nick", "logged_in"]);
    again.take_transcript();
    again.send_json(b, &json!({"type": "password", "old": "hunter22", "new": "second-pw", "confirm": "second-pw"}));
    assert_eq!(again.take_types(b), ["password_changed"]);
    let mut all = records;
    all.extend(persisted(&mut again));
    let mut third = Sim::from_engine(restored(config(), all), again.now());
    third.set_auto_auth(true);
    let c = json_from(&mut third, 3);
    assert_eq!(refused(&mut third, c, &resume(&kept)), "token_refused");
    third.send_json(c, &json!({"type": "login", "name": "alice", "password": "second-pw"}));
    assert_eq!(third.take_types(c), ["nick", "logged_in"]);
}

/// Standard base64, as SASL PLAIN wants it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn a_token_issued_on_one_node_works_on_another_and_revoking_all_logs_out_there() {
    let mut a = auto(config());
    a.take_transcript();
    let alice = registered(&mut a, "alice");
    let text = token(&mut a, alice)["token"].as_str().unwrap().to_owned();
    let records = persisted(&mut a);
    let mut b = auto(config());
    let now = b.now();
    for record in records {
        b.engine_mut().handle_remote_record(now, record);
    }
    b.drain();
    let there = json_from(&mut b, 2);
    b.send_json(there, &resume(&text));
    assert_eq!(b.take_types(there), ["nick", "logged_in"]);
    a.send_json(alice, &json!({"type": "logout_all"}));
    let revoked = persisted(&mut a);
    assert_eq!(revoked, [Record::TokensRevoked { account: "alice".into() }]);
    assert!(a.is_connected(alice), "the connection that asked stays");
    let now = b.now();
    for record in revoked {
        b.engine_mut().handle_remote_record(now, record);
    }
    b.drain();
    assert_eq!(b.closed(there), Some(&DisconnectReason::LoggedOut));
    let late = json_from(&mut b, 3);
    assert_eq!(refused(&mut b, late, &resume(&text)), "token_refused");
}

#[test]
fn a_token_is_refused_in_the_clear_where_passwords_are() {
    let mut sim = auto(config());
    let a = registered(&mut sim, "alice");
    let text = token(&mut sim, a)["token"].as_str().unwrap().to_owned();
    let plain = sim.connect_with(ConnectInfo::new(Codec::Json).refusing_passwords("port 7879"));
    sim.send_json(plain, &json!({"type": "time"}));
    sim.take(plain);
    assert_eq!(refused(&mut sim, plain, &resume(&text)), "tls_required");
}
