//! IRCv3 `labeled-response`, with raw IRC lines: one line labelled, several
//! in a batch, none acknowledged; and `echo-message` with its tags.

use super::irc::registered;
use super::relaxed;
use crate::sim::Sim;

const CAPS: &str = "batch labeled-response";

#[test]
fn labeled_response_is_offered() {
    let mut sim = Sim::new(relaxed());
    let a = super::irc::irc(&mut sim);
    sim.send(a, "CAP LS 302");
    let ls = sim.take(a);
    assert!(ls[0].split(' ').any(|cap| cap == "labeled-response"), "{ls:?}");
    sim.send(a, "CAP REQ :batch labeled-response");
    assert_eq!(sim.take(a), [":chatd CAP * ACK :batch labeled-response\r"]);
}

#[test]
fn a_one_line_reply_carries_the_label() {
    let mut sim = Sim::new(relaxed());
    let a = registered(&mut sim, "alice", CAPS);
    sim.send(a, "@label=q1 PRIVMSG nobody :hi");
    assert_eq!(sim.take(a), ["@label=q1 :chatd 401 alice nobody :nobody named nobody is online\r"]);
}

#[test]
fn a_reply_of_several_lines_comes_in_one_batch() {
    let mut sim = Sim::new(relaxed());
    let a = registered(&mut sim, "alice", CAPS);
    let b = registered(&mut sim, "bob", "");
    sim.send(b, "JOIN #rust");
    sim.clear();
    sim.send(a, "@label=j JOIN #rust");
    let lines = sim.take(a);
    assert_eq!(lines[0], "@label=j :chatd BATCH +labeled labeled-response\r");
    assert_eq!(lines.last().unwrap(), ":chatd BATCH -labeled\r");
    let inner = &lines[1..lines.len() - 1];
    assert!(inner.len() >= 3, "{lines:?}");
    assert!(inner.iter().all(|l| l.starts_with("@batch=labeled ")), "{lines:?}");
    assert!(inner[0].ends_with(" JOIN #rust\r"), "{lines:?}");
    assert!(inner.iter().any(|l| l.contains(" 366 alice #rust ")), "{lines:?}");
    // Those who only hear of it get no label.
    let heard = sim.take(b);
    assert_eq!(heard.len(), 1);
    assert!(heard[0].starts_with(":alice!") && heard[0].ends_with(" JOIN #rust\r"), "{heard:?}");
}

#[test]
fn a_line_that_tells_its_sender_nothing_is_acknowledged() {
    let mut sim = Sim::new(relaxed());
    let a = registered(&mut sim, "alice", CAPS);
    let b = registered(&mut sim, "bob", "");
    sim.send(a, "JOIN #rust");
    sim.send(b, "JOIN #rust");
    sim.clear();
    sim.send(a, "@label=m1 PRIVMSG #rust :hello");
    assert_eq!(sim.take(a), ["@label=m1 :chatd ACK\r"]);
    assert_eq!(sim.take(b).len(), 1);
    // Without a label, nothing new.
    sim.send(a, "PRIVMSG #rust :again");
    assert_eq!(sim.take(a), Vec::<String>::new());
}

#[test]
fn an_echoed_message_carries_the_label_its_id_and_its_time() {
    let mut sim = Sim::new(relaxed());
    let a = registered(&mut sim, "alice", "batch labeled-response echo-message message-tags server-time");
    sim.send(a, "JOIN #rust");
    sim.send(a, "PRIVMSG #rust :first");
    sim.clear();
    sim.send(a, "@label=e PRIVMSG #rust :second");
    let lines = sim.take(a);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert!(line.starts_with("@label=e;time=") && line.contains(";msgid=2-rust "), "{line:?}");
    assert!(line.ends_with(" PRIVMSG #rust second\r"), "{line:?}");
}

#[test]
fn labels_are_ignored_without_batch_or_when_too_long() {
    let mut sim = Sim::new(relaxed());
    let a = registered(&mut sim, "alice", "labeled-response");
    sim.send(a, "@label=x PRIVMSG nobody :hi");
    assert_eq!(sim.take(a), [":chatd 401 alice nobody :nobody named nobody is online\r"]);
    let b = registered(&mut sim, "bob", CAPS);
    sim.send(b, &format!("@label={} PRIVMSG nobody :hi", "x".repeat(65)));
    assert_eq!(sim.take(b), [":chatd 401 bob nobody :nobody named nobody is online\r"]);
    sim.send(b, &format!("@label={} PRIVMSG nobody :hi", "x".repeat(64)));
    assert!(sim.take(b)[0].starts_with(&format!("@label={} ", "x".repeat(64))));
}

#[test]
fn a_label_with_special_characters_comes_back_escaped() {
    let mut sim = Sim::new(relaxed());
    let a = registered(&mut sim, "alice", CAPS);
    sim.send(a, r"@label=a\sb\:c PING :x");
    let lines = sim.take(a);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with(r"@label=a\sb\:c :chatd PONG "), "{lines:?}");
}

#[test]
fn a_flood_refusal_carries_the_label_of_the_line_it_refused() {
    let config = crate::Config { flood_burst: 8, flood_lines_per_sec: 1, ..relaxed() };
    let mut sim = Sim::new(config);
    let a = registered(&mut sim, "alice", CAPS);
    sim.advance(std::time::Duration::from_secs(10));
    sim.clear();
    let mut last = Vec::new();
    for n in 0..9 {
        sim.send(a, &format!("@label=p{n} PING :{n}"));
        last = sim.take(a);
    }
    assert_eq!(last.len(), 1, "{last:?}");
    assert!(last[0].starts_with("@label=p8 :chatd NOTICE alice :"), "{last:?}");
    assert!(last[0].contains("too fast"), "{last:?}");
}

#[test]
fn a_message_to_oneself_is_delivered_apart_and_only_its_echo_is_labelled() {
    let mut sim = Sim::new(relaxed());
    let a = registered(&mut sim, "alice", "batch labeled-response echo-message");
    for command in ["PRIVMSG", "NOTICE"] {
        sim.send(a, &format!("@label=s {command} alice :hi"));
        let lines = sim.take(a);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines.iter().all(|l| l.contains(&format!(" {command} alice hi\r"))), "{lines:?}");
        assert_eq!(lines.iter().filter(|l| l.starts_with("@label=s ")).count(), 1, "{lines:?}");
    }
}

#[test]
#[cfg(feature = "json")]
fn a_notice_to_a_user_is_a_notice_its_echo_labelled_and_never_answered() {
    let mut sim = Sim::new(relaxed());
    let a = registered(&mut sim, "alice", "batch labeled-response echo-message");
    let b = registered(&mut sim, "bob", "");
    let j = sim.connect_json_as("jo");
    sim.clear();
    sim.send(a, "@label=n NOTICE bob :hi");
    assert_eq!(sim.take(b).len(), 1);
    let echo = sim.take(a);
    assert_eq!(echo.len(), 1, "{echo:?}");
    assert!(echo[0].starts_with("@label=n :alice!") && echo[0].ends_with(" NOTICE bob hi\r"), "{echo:?}");
    // Another protocol's user sees it as a whisper; nobody online: no answer.
    sim.send(a, "NOTICE jo :hello");
    assert_eq!(sim.take_json(j)[0]["type"], "whisper");
    assert_eq!(sim.take(a).len(), 1, "its echo");
    sim.send(a, "NOTICE nobody :hi");
    assert_eq!(sim.take(a), Vec::<String>::new());
}

#[test]
fn an_unknown_command_is_answered_421_with_its_label() {
    let mut sim = Sim::new(relaxed());
    let a = registered(&mut sim, "alice", CAPS);
    sim.send(a, "@label=u NONEXISTENT_COMMAND");
    assert_eq!(sim.take(a), ["@label=u :chatd 421 alice NONEXISTENT_COMMAND :Unknown command\r"]);
}

#[test]
fn tagmsg_relays_client_tags_to_message_tags_clients_with_its_echo_labelled() {
    let mut sim = Sim::new(relaxed());
    let a = registered(&mut sim, "alice", "batch labeled-response echo-message message-tags");
    let b = registered(&mut sim, "bob", "message-tags");
    let c = registered(&mut sim, "carol", "");
    for id in [a, b, c] {
        sim.send(id, "JOIN #rust");
    }
    sim.clear();
    sim.send(a, "@label=t;+draft/react=l\u{1f603}l;+typing=active;other=x TAGMSG #rust");
    let echo = sim.take(a);
    assert_eq!(echo.len(), 1, "{echo:?}");
    assert!(echo[0].starts_with("@label=t;msgid=t1;+draft/react=l\u{1f603}l;+typing=active :alice!"), "{echo:?}");
    assert!(echo[0].ends_with(" TAGMSG #rust\r"), "{echo:?}");
    let heard = sim.take(b);
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert!(heard[0].starts_with("@msgid=t1;+draft/react=") && !heard[0].contains("label"), "{heard:?}");
    assert_eq!(sim.take(c), Vec::<String>::new(), "no message-tags, no TAGMSG");
    // To a user, and to oneself: delivered apart, only the echo labelled.
    sim.send(a, "@label=u;+typing=paused TAGMSG bob");
    assert!(sim.take(b)[0].ends_with(" TAGMSG bob\r"));
    assert!(sim.take(a)[0].starts_with("@label=u;msgid=t2;+typing=paused "));
    sim.send(a, "@label=s;+typing=done TAGMSG alice");
    let both = sim.take(a);
    assert_eq!(both.len(), 2, "{both:?}");
    assert_eq!(both.iter().filter(|l| l.starts_with("@label=s;")).count(), 1, "{both:?}");
    // Its id names no kept message, and its refusals are told.
    sim.send(a, "REDACT #rust t1");
    assert!(sim.take(a)[0].contains("FAIL REDACT UNKNOWN_MSGID #rust t1 :"));
    sim.send(a, "TAGMSG nobody");
    assert!(sim.take(a)[0].contains(" 401 alice nobody "));
    sim.send(a, "TAGMSG");
    assert!(sim.take(a)[0].contains(" 411 "));
}
