//! IRC clients, driven through the sim: registration, capabilities,
//! channels and messages shared with text users, accounts, queries and
//! bad input.

use super::relaxed;
use crate::sim::Sim;
use crate::{ClientId, Codec, ConnectInfo};

pub(super) fn irc(sim: &mut Sim) -> ClientId {
    sim.connect_with(ConnectInfo::new(Codec::Irc))
}

/// An IRC client registered as `nick`, having asked for `caps` (space
/// separated; empty for none), with its welcome taken.
pub(super) fn registered(sim: &mut Sim, nick: &str, caps: &str) -> ClientId {
    let id = irc(sim);
    if !caps.is_empty() {
        sim.send(id, &format!("CAP REQ :{caps}"));
    }
    sim.send(id, &format!("NICK {nick}"));
    sim.send(id, &format!("USER {nick} 0 * :{nick}"));
    sim.send(id, "CAP END");
    let welcome = sim.take(id);
    assert!(welcome.iter().any(|l| l.starts_with(&format!(":chatd 001 {nick} "))), "{welcome:?}");
    id
}

fn has(lines: &[String], wanted: &str) -> bool {
    lines.iter().any(|l| l.trim_end_matches('\r') == wanted)
}

fn auto() -> Sim {
    let mut sim = Sim::new(relaxed());
    sim.set_auto_auth(true);
    sim
}

#[test]
fn an_irc_user_registers_joins_and_talks_with_a_text_user() {
    let mut sim = Sim::new(relaxed());
    let a = irc(&mut sim);
    assert_eq!(sim.take(a), Vec::<String>::new(), "nothing before registration");
    sim.send(a, "CAP LS 302");
    assert_eq!(
        sim.take(a),
        [
            ":chatd CAP * LS :batch draft/chathistory draft/message-redaction draft/read-marker echo-message labeled-response message-tags sasl=PLAIN server-time\r"
        ]
    );
    sim.send(a, "NICK alice");
    sim.send(a, "USER alice 0 * :Alice");
    assert_eq!(sim.take(a), Vec::<String>::new(), "CAP negotiation holds registration, and NICK is not echoed");
    sim.send(a, "CAP END");
    let welcome = sim.take(a);
    assert!(has(&welcome, ":chatd 001 alice :Welcome to chatd, alice"), "{welcome:?}");
    assert!(welcome.iter().any(|l| l.starts_with(":chatd 005 alice CHANTYPES=# ")), "{welcome:?}");
    assert!(welcome.iter().any(|l| l.contains(" CHATHISTORY=")), "{welcome:?}");
    assert!(welcome.iter().any(|l| l.starts_with(":chatd 422 alice ")), "{welcome:?}");
    sim.send(a, "JOIN #rust");
    let joined = sim.take(a);
    assert!(has(&joined, ":alice!alice@chatd JOIN #rust"), "{joined:?}");
    assert!(has(&joined, ":chatd 353 alice = #rust @alice"), "the creator is an operator: {joined:?}");
    assert!(has(&joined, ":chatd 366 alice #rust :End of /NAMES list"), "{joined:?}");
    let b = sim.connect_as("bob");
    sim.send(b, "/join rust");
    assert_eq!(sim.take(b)[0], "* you are now in rust (2 here)");
    assert_eq!(sim.take(a), [":bob!bob@chatd JOIN #rust\r"]);
    sim.send(b, "hello irc");
    assert_eq!(sim.take(a), [":bob!bob@chatd PRIVMSG #rust :hello irc\r"]);
    sim.send(a, "PRIVMSG #rust :hello text");
    assert_eq!(sim.take(b), ["[rust] alice: hello text"]);
    assert_eq!(sim.take(a), Vec::<String>::new(), "no echo without echo-message");
    sim.send(a, "TOPIC #rust");
    assert_eq!(sim.take(a), [":chatd 331 alice #rust :No topic is set\r"]);
    sim.send(a, "PING :x");
    assert_eq!(sim.take(a), [":chatd PONG chatd x\r"]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn nick_and_user_first_then_cap_also_registers() {
    let mut sim = Sim::new(relaxed());
    let a = irc(&mut sim);
    sim.send(a, "NICK alice");
    sim.send(a, "USER alice 0 * :Alice");
    assert!(has(&sim.take(a), ":chatd 001 alice :Welcome to chatd, alice"));
    sim.send(a, "USER again 0 * :x");
    assert_eq!(sim.take(a), [":chatd 462 alice :You may not reregister\r"]);
}

#[test]
fn a_taken_nickname_gets_433_and_registration_waits_for_a_free_one() {
    let mut sim = Sim::new(relaxed());
    let _bob = sim.connect_as("bob");
    let a = irc(&mut sim);
    sim.send(a, "NICK bob");
    sim.send(a, "USER bob 0 * :Bob");
    assert_eq!(sim.take(a), [":chatd 433 * bob :nickname bob is taken\r"]);
    sim.send(a, "NICK bob_");
    assert!(sim.take(a).iter().any(|l| l.starts_with(":chatd 001 bob_ ")));
    sim.send(a, "PRIVMSG nobody :hi");
    assert_eq!(sim.take(a), [":chatd 401 bob_ nobody :nobody named nobody is online\r"]);
}

#[test]
fn tags_follow_the_capabilities_each_client_took() {
    let mut sim = Sim::new(relaxed());
    let tagged = registered(&mut sim, "tagged", "server-time message-tags");
    let plain = registered(&mut sim, "plain", "");
    sim.send(tagged, "CAP LIST");
    assert_eq!(sim.take(tagged), [":chatd CAP tagged LIST :message-tags server-time\r"]);
    sim.send(tagged, "JOIN #rust");
    sim.send(plain, "JOIN #rust");
    let b = sim.connect_as("bob");
    sim.send(b, "/join rust");
    sim.take(tagged);
    sim.take(plain);
    sim.send(b, "hi there");
    let line = sim.take(tagged).concat();
    assert!(
        line.starts_with("@time=") && line.contains(";msgid=1-rust :bob!bob@chatd PRIVMSG #rust :hi there"),
        "{line}"
    );
    assert_eq!(sim.take(plain), [":bob!bob@chatd PRIVMSG #rust :hi there\r"]);
    // Dropping a tag later changes what that member gets.
    sim.take(plain);
    sim.send(tagged, "CAP REQ :-server-time -message-tags");
    assert_eq!(sim.take(tagged), [":chatd CAP tagged ACK :-server-time -message-tags\r"]);
    sim.send(b, "again and again");
    assert_eq!(sim.take(tagged), [":bob!bob@chatd PRIVMSG #rust :again and again\r"]);
    sim.take(plain);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    sim.send(plain, "CAP REQ :server-time multi-prefix");
    assert_eq!(sim.take(plain), [":chatd CAP plain NAK :server-time multi-prefix\r"]);
}

#[test]
fn echo_message_returns_the_senders_own_messages() {
    let mut sim = Sim::new(relaxed());
    let a = registered(&mut sim, "alice", "echo-message");
    let _b = sim.connect_as("bob");
    sim.send(a, "JOIN #rust");
    sim.take(a);
    sim.send(a, "PRIVMSG #rust :my words");
    assert_eq!(sim.take(a), [":alice!alice@chatd PRIVMSG #rust :my words\r"]);
    sim.send(a, "PRIVMSG bob :psst psst");
    assert_eq!(sim.take(a), [":alice!alice@chatd PRIVMSG bob :psst psst\r"]);
}

#[test]
fn the_join_replay_is_a_chathistory_batch_with_batch_and_plain_without() {
    let mut sim = Sim::new(relaxed());
    let b = sim.connect_as("bob");
    sim.send(b, "/create rust");
    sim.send(b, "one a");
    sim.send(b, "two b");
    let batched = registered(&mut sim, "batched", "batch server-time");
    sim.send(batched, "JOIN #rust");
    let lines = sim.take(batched);
    let start = lines.iter().position(|l| l.starts_with(":chatd BATCH +history chathistory #rust")).expect("a batch");
    assert!(lines[start + 1].starts_with("@batch=history;time="), "{lines:?}");
    assert!(lines[start + 1].ends_with(":bob!bob@chatd PRIVMSG #rust :one a\r"), "{lines:?}");
    assert!(lines[start + 2].ends_with(":bob!bob@chatd PRIVMSG #rust :two b\r"), "{lines:?}");
    assert_eq!(lines[start + 3], ":chatd BATCH -history\r");
    let plain = registered(&mut sim, "plain", "");
    sim.send(plain, "JOIN #rust");
    let lines = sim.take(plain);
    assert!(lines.iter().all(|l| !l.contains("BATCH")), "{lines:?}");
    assert!(has(&lines, ":bob!bob@chatd PRIVMSG #rust :one a"), "{lines:?}");
}

#[test]
fn chathistory_pages_back_by_msgid() {
    let mut sim = Sim::new(relaxed());
    let b = sim.connect_as("bob");
    sim.send(b, "/create rust");
    for n in 1..=5 {
        sim.send(b, &format!("m {n}"));
    }
    let a = registered(&mut sim, "alice", "batch message-tags");
    sim.send(a, "JOIN #rust");
    sim.take(a);
    sim.send(a, "CHATHISTORY BEFORE #rust msgid=3-rust 10");
    let lines = sim.take(a);
    assert_eq!(
        lines,
        [
            ":chatd BATCH +history chathistory #rust\r",
            "@batch=history;msgid=1-rust :bob!bob@chatd PRIVMSG #rust :m 1\r",
            "@batch=history;msgid=2-rust :bob!bob@chatd PRIVMSG #rust :m 2\r",
            ":chatd BATCH -history\r",
        ]
    );
    sim.send(a, "CHATHISTORY LATEST #rust * 10");
    assert_eq!(sim.take(a).len(), 7, "the five messages in a batch");
    sim.send(a, "CHATHISTORY BETWEEN #rust msgid=1 msgid=3 10");
    assert!(sim.take(a)[0].starts_with(":chatd FAIL CHATHISTORY INVALID_PARAMS "));
    sim.send(a, "CHATHISTORY BEFORE #nowhere msgid=3 10");
    assert!(sim.take(a)[0].starts_with(":chatd FAIL CHATHISTORY INVALID_TARGET "));
}

#[test]
fn sasl_plain_logs_in_before_the_welcome_and_kept_whispers_follow_it() {
    let mut sim = auto();
    let a = sim.connect();
    sim.send(a, "/register alice hunter22 hunter22");
    sim.send(a, "/quit");
    let b = sim.connect();
    sim.send(b, "/register bob hunter33 hunter33");
    sim.send(b, "@alice while you were out");
    sim.take(b);
    let c = irc(&mut sim);
    sim.send(c, "CAP LS 302");
    sim.send(c, "NICK someone");
    sim.send(c, "USER alice 0 * :Alice");
    sim.send(c, "CAP REQ :sasl server-time");
    sim.take(c);
    sim.send(c, "AUTHENTICATE PLAIN");
    assert_eq!(sim.take(c), ["AUTHENTICATE +\r"]);
    // "\0alice\0hunter22"
    sim.send(c, "AUTHENTICATE AGFsaWNlAGh1bnRlcjIy");
    let lines = sim.take(c);
    assert!(has(&lines, ":chatd 900 * alice!alice@chatd alice :You are now logged in as alice"), "{lines:?}");
    assert!(has(&lines, ":chatd 903 * :SASL authentication successful"), "{lines:?}");
    assert!(lines.iter().all(|l| !l.contains("PRIVMSG")), "kept whispers wait for the welcome: {lines:?}");
    sim.send(c, "CAP END");
    let lines = sim.take(c);
    let welcome = lines.iter().position(|l| l.starts_with(":chatd 001 alice ")).expect("welcomed as alice");
    let kept = lines.iter().position(|l| l.contains("PRIVMSG alice :while you were out")).expect("kept whisper");
    assert!(welcome < kept && lines[kept].starts_with("@time="), "{lines:?}");
}

#[test]
fn sasl_with_a_wrong_password_fails_with_904() {
    let mut sim = auto();
    let a = sim.connect();
    sim.send(a, "/register alice hunter22 hunter22");
    sim.send(a, "/quit");
    let c = irc(&mut sim);
    sim.send(c, "CAP REQ sasl");
    sim.send(c, "AUTHENTICATE PLAIN");
    sim.take(c);
    // "\0alice\0wrong-one"
    sim.send(c, "AUTHENTICATE AGFsaWNlAHdyb25nLW9uZQ==");
    let lines = sim.take(c);
    assert!(has(&lines, ":chatd 904 * :SASL authentication failed"), "{lines:?}");
    sim.send(c, "AUTHENTICATE SCRAM-SHA-256");
    let lines = sim.take(c);
    assert!(has(&lines, ":chatd 908 * PLAIN :are available SASL mechanisms"), "{lines:?}");
}

#[test]
fn nickserv_registers_and_identifies_the_current_nickname() {
    let mut sim = auto();
    let a = registered(&mut sim, "carol", "");
    sim.send(a, "PRIVMSG NickServ :REGISTER s3cret-pass carol@example.org");
    let lines = sim.take(a);
    assert!(has(&lines, ":chatd 900 carol carol!carol@chatd carol :You are now logged in as carol"), "{lines:?}");
    sim.send(a, "QUIT :bye");
    assert_eq!(sim.take(a), ["ERROR :Closing link: quit: bye\r"]);
    let b = registered(&mut sim, "guesty", "");
    sim.send(b, "PRIVMSG nickserv :IDENTIFY carol s3cret-pass");
    let lines = sim.take(b);
    assert!(has(&lines, ":guesty!guesty@chatd NICK carol"), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with(":chatd 900 carol ")), "{lines:?}");
    sim.send(b, "PRIVMSG NickServ :HELP");
    assert!(sim.take(b)[0].starts_with(":NickServ!NickServ@chatd NOTICE carol :Commands: "));
}

#[test]
fn queries_answer_with_their_numerics() {
    let mut sim = Sim::new(relaxed());
    let a = registered(&mut sim, "alice", "");
    let b = sim.connect_as("bob");
    sim.send(b, "/create rust");
    sim.send(a, "JOIN #rust");
    sim.take(a);
    sim.send(a, "LIST");
    assert_eq!(
        sim.take(a),
        [":chatd 321 alice Channel :Users  Name\r", ":chatd 322 alice #rust 2 :\r", ":chatd 323 alice :End of /LIST\r"]
    );
    sim.send(a, "WHO #rust");
    let lines = sim.take(a);
    assert!(has(&lines, ":chatd 352 alice #rust alice chatd chatd alice H :0 alice"), "{lines:?}");
    assert!(has(&lines, ":chatd 315 alice #rust :End of /WHO list"), "{lines:?}");
    sim.send(a, "WHOIS bob");
    let lines = sim.take(a);
    assert!(has(&lines, ":chatd 311 alice bob bob chatd * bob"), "{lines:?}");
    assert!(has(&lines, ":chatd 319 alice bob @#rust"), "{lines:?}");
    assert!(has(&lines, ":chatd 318 alice bob :End of /WHOIS list"), "{lines:?}");
    sim.send(a, "WHOIS nobody");
    assert_eq!(
        sim.take(a),
        [":chatd 401 alice nobody :No such nick\r", ":chatd 318 alice nobody :End of /WHOIS list\r"]
    );
    sim.send(a, "WHOWAS nobody");
    assert_eq!(
        sim.take(a),
        [":chatd 406 alice nobody :There was no such nickname\r", ":chatd 369 alice nobody :End of WHOWAS\r"]
    );
    sim.send(a, "NAMES #rust");
    assert_eq!(sim.take(a), [":chatd 353 alice = #rust :alice @bob\r", ":chatd 366 alice #rust :End of /NAMES list\r"]);
    sim.send(a, "MODE #rust");
    assert_eq!(sim.take(a), [":chatd 324 alice #rust +n\r"], "a guest's room: anyone sets its topic");
    sim.send(a, "MODE #rust b");
    assert_eq!(sim.take(a), [":chatd 368 alice #rust :End of channel ban list\r"]);
    sim.send(a, "MODE alice");
    assert_eq!(sim.take(a), [":chatd 221 alice +i\r"]);
    sim.send(a, "SEEN bob");
    assert_eq!(sim.take(a), [":chatd NOTICE alice :* bob is online now\r"]);
}

#[test]
fn bad_lines_get_their_numeric_and_nobody_else_notices() {
    let mut sim = Sim::new(relaxed());
    let early = irc(&mut sim);
    sim.send(early, "JOIN #rust");
    assert_eq!(sim.take(early), [":chatd 451 * :You have not registered\r"]);
    let a = registered(&mut sim, "alice", "");
    let b = registered(&mut sim, "bob", "");
    sim.send(b, "JOIN #rust");
    sim.take(b);
    for (line, reply) in [
        ("JOIN", ":chatd 461 alice JOIN :Not enough parameters: JOIN <#room>{,<#room>} [<key>{,<key>}]"),
        ("NICK", ":chatd 431 alice :No nickname given"),
        ("FROB x", ":chatd 421 alice FROB :Unknown command"),
        ("JOIN rust", ":chatd 403 alice rust :No such channel: channel names start with #"),
        ("PRIVMSG #rust :hi", ":chatd 404 alice #rust :Cannot send to channel: join it first"),
        ("PRIVMSG #nowhere :hi", ":chatd 403 alice #nowhere :No such channel"),
        // The same refusals of another command keep their own numerics.
        ("PART #rust", ":chatd 442 alice #rust :you are not in #rust"),
        (
            "PART #nowhere",
            ":chatd 403 alice #nowhere :no room named #nowhere; /list shows the rooms, /create makes one",
        ),
        ("PRIVMSG bob", ":chatd 412 alice :No text to send"),
        ("PRIVMSG", ":chatd 411 alice :No recipient given (PRIVMSG)"),
        ("NICK 9lives", ":chatd 432 alice * :invalid nickname: it must start with a letter"),
        ("SEEN", ":chatd 461 alice SEEN :Not enough parameters: SEEN <nick>"),
    ] {
        sim.send(a, line);
        assert_eq!(sim.take(a), [format!("{reply}\r")], "{line}");
    }
    sim.input(a, b"PRIVMSG bob :caf\xe9\r\n").unwrap();
    assert!(sim.take(a)[0].starts_with(":chatd NOTICE alice :"), "a NOTICE says why");
    sim.input(a, format!("PRIVMSG bob :{}\r\n", "x".repeat(600)).as_bytes()).unwrap();
    assert!(sim.take(a)[0].starts_with(":chatd 417 alice "), "overlong");
    assert_eq!(sim.take(b), Vec::<String>::new(), "bob saw none of it");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn a_long_text_message_reaches_irc_as_several_privmsgs_cut_on_character_boundaries() {
    let mut config = relaxed();
    config.max_line_bytes = 4096;
    let mut sim = Sim::new(config);
    let a = registered(&mut sim, "alice", "");
    let b = sim.connect_as("bob");
    sim.send(b, "/create rust");
    sim.send(a, "JOIN #rust");
    sim.take(a);
    let text = "é".repeat(700);
    sim.send(b, &text);
    let lines = sim.take(a);
    assert!(lines.len() >= 3, "{} lines", lines.len());
    let mut joined = String::new();
    for line in &lines {
        assert!(line.len() < 512, "{} bytes with the LF", line.len() + 1);
        let piece = line.trim_end_matches('\r').strip_prefix(":bob!bob@chatd PRIVMSG #rust ").unwrap();
        // A piece without spaces needs no `:`.
        joined.push_str(piece.strip_prefix(':').unwrap_or(piece));
    }
    assert_eq!(joined, text);
}

#[test]
fn formatting_is_removed_and_an_action_reaches_text_users() {
    let mut sim = Sim::new(relaxed());
    let a = registered(&mut sim, "alice", "");
    let b = sim.connect_as("bob");
    sim.send(b, "/create rust");
    sim.send(a, "JOIN #rust");
    sim.take(b);
    sim.send(a, "PRIVMSG #rust :\x01ACTION waves\x01");
    sim.send(a, "PRIVMSG #rust :\x02bold\x02 move");
    assert_eq!(sim.take(b), ["[rust] alice: * waves", "[rust] alice: bold move"]);
}

#[test]
fn a_server_password_is_needed_to_register_on_a_port_that_sets_one() {
    let mut sim = Sim::new(relaxed());
    let private = || ConnectInfo::new(Codec::Irc).with_irc_password("sesame");
    let a = sim.connect_with(private());
    sim.send(a, "NICK alice");
    sim.send(a, "USER alice 0 * :Alice");
    let lines = sim.take(a);
    assert!(has(&lines, ":chatd 464 * :Password incorrect"), "{lines:?}");
    assert_eq!(sim.closed(a), Some(&crate::DisconnectReason::WrongServerPassword));
    let b = sim.connect_with(private());
    sim.send(b, "PASS wrong");
    sim.send(b, "NICK bob");
    sim.send(b, "USER bob 0 * :Bob");
    assert!(has(&sim.take(b), ":chatd 464 * :Password incorrect"));
    assert!(!sim.is_connected(b));
    let c = sim.connect_with(private());
    sim.send(c, "PASS sesame");
    sim.send(c, "NICK carol");
    sim.send(c, "USER carol 0 * :Carol");
    assert!(has(&sim.take(c), ":chatd 001 carol :Welcome to chatd, carol"));
    // The password belongs to the port: a client of another needs none.
    let d = irc(&mut sim);
    sim.send(d, "NICK dave");
    sim.send(d, "USER dave 0 * :Dave");
    assert!(has(&sim.take(d), ":chatd 001 dave :Welcome to chatd, dave"));
}

#[test]
fn a_quiet_irc_client_that_answers_our_ping_stays_and_one_that_does_not_is_cut() {
    use std::time::Duration;
    let config = relaxed().with_idle_timeout(Duration::from_secs(120)).with_idle_warning(Duration::from_secs(30));
    let mut sim = Sim::new(config);
    let answers = registered(&mut sim, "answers", "");
    let silent = registered(&mut sim, "silent", "");
    sim.advance(Duration::from_secs(91));
    assert_eq!(sim.take(answers), ["PING chatd\r"]);
    assert_eq!(sim.take(silent), ["PING chatd\r"]);
    sim.send(answers, "PONG chatd");
    sim.advance(Duration::from_secs(30));
    assert!(sim.is_connected(answers), "a PONG is activity");
    assert!(!sim.is_connected(silent), "no answer to our PING within the warning");
    assert_eq!(sim.take(silent).last().map(String::as_str), Some("ERROR :Closing link: idle for too long\r"));
}

#[test]
fn lusers_counts_users_and_registering_connections_and_keeps_the_most_at_once() {
    let mut sim = Sim::new(relaxed());
    let a = registered(&mut sim, "alice", "");
    let text = sim.connect_as("bob");
    let waiting = irc(&mut sim);
    sim.send(a, "LUSERS");
    let lines = sim.take(a);
    assert!(has(&lines, ":chatd 251 alice :There are 2 users and 0 invisible on 1 servers"), "{lines:?}");
    assert!(has(&lines, ":chatd 253 alice 1 :unknown connection(s)"), "{lines:?}");
    assert!(has(&lines, ":chatd 265 alice 2 2 :Current local users 2, max 2"), "{lines:?}");
    sim.disconnect(text, crate::DisconnectReason::ConnectionClosed).unwrap();
    sim.disconnect(waiting, crate::DisconnectReason::ConnectionClosed).unwrap();
    assert_eq!(sim.engine().check_invariants(), Ok(()));
    sim.send(a, "LUSERS");
    let lines = sim.take(a);
    assert!(has(&lines, ":chatd 253 alice 0 :unknown connection(s)"), "{lines:?}");
    assert!(has(&lines, ":chatd 266 alice 1 2 :Current global users 1, max 2"), "the most at once stays: {lines:?}");
    sim.send(a, "WHOWAS BOB");
    let lines = sim.take(a);
    assert!(lines.iter().any(|l| l.starts_with(":chatd 314 alice bob bob ")), "{lines:?}");
}

#[test]
fn shutdown_closes_every_irc_link_asking_to_reconnect() {
    let mut sim = Sim::new(relaxed());
    let joined = registered(&mut sim, "joined", "");
    let unregistered = irc(&mut sim);
    sim.clear();
    sim.shutdown();
    for id in [joined, unregistered] {
        assert_eq!(sim.take(id), ["ERROR :Closing link: server is shutting down; reconnect\r"]);
        assert!(!sim.is_connected(id));
    }
}
