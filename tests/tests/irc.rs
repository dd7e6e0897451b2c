//! IRC over real sockets against the real chatd: registration in both
//! orders, channels shared with text and JSON users, accounts (SASL and
//! NickServ), kept whispers, CHATHISTORY (back and forward), long messages
//! and bad input.

use chatd_tests::{Client, Server, chatd};

#[test]
fn an_irc_client_registers_cap_first_and_shares_a_room_with_a_text_client() {
    let server = Server::start(chatd!(), &[]);
    let host = server.local_host();
    let mut irc = Client::connect(server.irc_addr());
    // irssi's order: CAP LS 302, and nothing else until it is answered.
    irc.irc("CAP LS 302");
    assert_eq!(
        irc.irc_line(),
        ":chatd CAP * LS :batch draft/chathistory draft/message-redaction draft/read-marker echo-message labeled-response message-tags sasl=PLAIN server-time"
    );
    irc.irc("NICK alice\r\nUSER alice 0 * :Alice\r\nCAP END");
    irc.until(" 001 alice ");
    irc.until(" 422 alice ");
    irc.irc("JOIN #rust");
    irc.until(&format!(":alice!alice@{host} JOIN #rust"));
    irc.until(" 366 alice #rust ");

    let mut text = server.login("bob");
    text.send("/join rust");
    text.expect("* you are now in rust (2 here)");
    assert_eq!(irc.irc_line(), format!(":bob!bob@{host} JOIN #rust"));
    text.send("hello irc");
    assert_eq!(irc.irc_line(), format!(":bob!bob@{host} PRIVMSG #rust :hello irc"));
    irc.irc("PRIVMSG #rust :hello text");
    text.expect("[rust] alice: hello text");
    irc.irc("QUIT :bye");
    assert_eq!(irc.irc_line(), "ERROR :Closing link: quit: bye");
    irc.expect_eof();
    text.expect("* alice disconnected (quit: bye)");
}

#[test]
fn registering_without_cap_works_too_and_commands_wait_for_it() {
    let server = Server::start(chatd!(), &[]);
    let mut irc = Client::connect(server.irc_addr());
    irc.irc("JOIN #early");
    assert_eq!(irc.irc_line(), ":chatd 451 * :You have not registered");
    irc.irc("NICK carol\r\nUSER carol 0 * :Carol");
    irc.until(" 001 carol ");
}

#[test]
fn irc_text_and_json_users_see_each_others_joins_messages_nicks_topics_and_parts() {
    let server = Server::start(chatd!(), &[]);
    let host = server.local_host();
    let mut irc = server.irc("alice", "");
    irc.irc("JOIN #den");
    irc.until(" 366 alice #den ");
    let mut text = server.login("bob");
    text.send("/join den");
    text.expect("* you are now in den (2 here)");
    assert_eq!(irc.irc_line(), format!(":bob!bob@{host} JOIN #den"));
    let mut json = Client::connect(server.addr());
    json.first_json(r#"{"type":"nick","nick":"carol"}"#);
    json.json();
    json.send(r#"{"type":"join","room":"den"}"#);
    assert_eq!(irc.irc_line(), format!(":carol!carol@{host} JOIN #den"));
    text.expect("* carol joined den");
    json.send(r#"{"type":"say","room":"den","text":"from json"}"#);
    assert_eq!(irc.irc_line(), format!(":carol!carol@{host} PRIVMSG #den :from json"));
    irc.irc("PRIVMSG #den :from irc");
    text.read_until("[den] carol: from json");
    text.expect("[den] alice: from irc");
    irc.irc("NICK alicia");
    assert_eq!(irc.irc_line(), format!(":alice!alice@{host} NICK alicia"));
    text.expect("* alice is now known as alicia");
    irc.irc("TOPIC #den :irc and friends");
    assert_eq!(irc.irc_line(), format!(":alicia!alicia@{host} TOPIC #den :irc and friends"));
    text.expect_prefix("* alicia set the topic of den: irc and friends");
    irc.irc("PRIVMSG bob :just you");
    text.expect_prefix("[whisper from alicia ");
    text.send("/msg alicia and back");
    assert_eq!(irc.irc_line(), format!(":bob!bob@{host} PRIVMSG alicia :and back"));
    irc.irc("PART #den");
    assert_eq!(irc.irc_line(), format!(":alicia!alicia@{host} PART #den"));
    text.read_until("* alicia left den");
}

#[test]
fn sasl_logs_in_and_kept_whispers_arrive_after_the_welcome_with_their_time() {
    let server = Server::start(chatd!(), &[]);
    let host = server.local_host();
    let mut alice = server.register("alice", "hunter22");
    alice.send("/quit");
    let mut bob = server.register("bob", "hunter33");
    bob.send("/msg alice while you were out");
    bob.expect_prefix("* alice is offline; your message was kept");
    let mut irc = Client::connect(server.irc_addr());
    irc.irc("CAP LS 302\r\nNICK whoever\r\nUSER alice 0 * :Alice\r\nCAP REQ :sasl server-time");
    irc.until(" ACK ");
    irc.irc("AUTHENTICATE PLAIN");
    assert_eq!(irc.irc_line(), "AUTHENTICATE +");
    // "\0alice\0hunter22"
    irc.irc("AUTHENTICATE AGFsaWNlAGh1bnRlcjIy");
    irc.until(&format!(" 900 * alice!alice@{host} alice "));
    irc.until(" 903 * ");
    irc.irc("CAP END");
    irc.until(" 001 alice ");
    let kept = irc.until("PRIVMSG alice :while you were out");
    assert!(kept.starts_with("@time=20"), "{kept}");
    // A kept whisper's sender may be gone: its host is not kept.
    assert!(kept.contains(" :bob!bob@chatd PRIVMSG alice "), "{kept}");
}

#[test]
fn nickserv_registers_the_nickname_and_identifies_it_later() {
    let server = Server::start(chatd!(), &[]);
    let host = server.local_host();
    let mut first = server.irc("dave", "");
    first.irc("PRIVMSG NickServ :REGISTER s3cret-pass");
    first.until(&format!(" 900 dave dave!dave@{host} dave "));
    first.irc("QUIT");
    first.until("ERROR ");
    let mut again = server.irc("someone", "");
    again.irc("PRIVMSG NickServ :IDENTIFY dave s3cret-pass");
    assert_eq!(again.until(" NICK "), format!(":someone!someone@{host} NICK dave"));
    again.until(" 900 dave ");
    again.irc("PRIVMSG NickServ :IDENTIFY dave wrong-pass");
    again.until(":chatd NOTICE dave :");
}

#[test]
fn chathistory_pages_back_through_a_room_as_a_batch() {
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
    let mut text = server.login("bob");
    text.send("/create log");
    text.expect("* room log created");
    for n in 1..=30 {
        text.send(&format!("line number {n}"));
    }
    text.send("/who");
    text.read_until_prefix("* in log");
    let mut irc = server.irc("alice", "batch server-time message-tags");
    irc.irc("JOIN #log");
    irc.until(" BATCH +history chathistory #log");
    irc.until(" BATCH -history");
    irc.irc("CHATHISTORY BEFORE #log msgid=5 100");
    assert_eq!(irc.irc_line(), ":chatd BATCH +history chathistory #log");
    for n in 1..=4 {
        let line = irc.irc_line();
        assert!(line.starts_with("@batch=history;time="), "{line}");
        assert!(line.ends_with(&format!(";msgid={n}-log :bob!bob@chatd PRIVMSG #log :line number {n}")), "{line}");
    }
    assert_eq!(irc.irc_line(), ":chatd BATCH -history");
}

/// CHATHISTORY AFTER: the page forward from a message, read from the
/// store where memory no longer holds it.
#[test]
fn chathistory_after_pages_forward_from_the_store() {
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0", "--history-len", "2"]);
    let mut text = server.login("bob");
    text.send("/create log");
    text.expect("* room log created");
    for n in 1..=10 {
        text.send(&format!("line number {n}"));
    }
    text.send("/who");
    text.read_until_prefix("* in log");
    let mut irc = server.irc("alice", "batch message-tags");
    irc.irc("JOIN #log");
    irc.until(" BATCH +history chathistory #log");
    irc.until(" BATCH -history");
    irc.irc("CHATHISTORY AFTER #log msgid=3 100");
    assert_eq!(irc.irc_line(), ":chatd BATCH +history chathistory #log");
    for n in 4..=10 {
        let line = irc.irc_line();
        assert_eq!(line, format!("@batch=history;msgid={n}-log :bob!bob@chatd PRIVMSG #log :line number {n}"));
    }
    assert_eq!(irc.irc_line(), ":chatd BATCH -history");
}

#[test]
fn a_long_text_message_arrives_as_several_privmsgs_that_join_into_it() {
    let server = Server::start(chatd!(), &[]);
    let host = server.local_host();
    let mut irc = server.irc("alice", "");
    irc.irc("JOIN #long");
    irc.until(" 366 alice #long ");
    let mut text = server.login("bob");
    text.send("/join long");
    irc.until(" JOIN #long");
    let said: String = (0..300).map(|n| format!("{}ü ", n % 10)).collect::<String>().trim_end().to_owned();
    text.send(&said);
    let mut heard = String::new();
    while heard.len() < said.len() {
        let line = irc.irc_line();
        assert!(line.len() + 2 <= 512, "{} bytes", line.len() + 2);
        let piece = line.strip_prefix(&format!(":bob!bob@{host} PRIVMSG #long ")).expect("a piece of the message");
        heard.push_str(piece.strip_prefix(':').unwrap_or(piece));
    }
    assert_eq!(heard, said);
}

#[test]
fn bad_lines_get_their_numerics_and_nobody_else_notices() {
    // So many bad lines at once would otherwise be refused as a flood.
    let server = Server::start(chatd!(), &["--flood-lines-per-sec", "0"]);
    let host = server.local_host();
    let mut irc = server.irc("alice", "");
    let mut other = server.irc("bob", "");
    other.irc("JOIN #quiet");
    other.until(" 366 bob #quiet ");
    let overlong = format!("PRIVMSG bob :{}", "x".repeat(600));
    for (line, reply) in [
        (overlong.as_str(), ":chatd 417 alice :Input line was too long"),
        ("JOIN", ":chatd 461 alice JOIN :Not enough parameters: JOIN <#room>{,<#room>} [<key>{,<key>}]"),
        ("FROB", ":chatd 421 alice FROB :Unknown command"),
        ("NICK 9lives", ":chatd 432 alice * :invalid nickname: it must start with a letter"),
        ("JOIN quiet", ":chatd 403 alice quiet :No such channel: channel names start with #"),
        ("PRIVMSG #quiet :hi", ":chatd 404 alice #quiet :Cannot send to channel: join it first"),
        ("USER a 0 * :b", ":chatd 462 alice :You may not reregister"),
    ] {
        irc.irc(line);
        assert_eq!(irc.irc_line(), reply, "{line}");
    }
    irc.send_bytes(b"PRIVMSG bob :caf\xe9\r\n");
    irc.until(":chatd NOTICE alice :");
    irc.send_bytes(b"PRIVMSG bob :after all that\r\n");
    assert_eq!(other.irc_line(), format!(":alice!alice@{host} PRIVMSG bob :after all that"), "bob heard only this");
}

#[test]
fn chathistory_of_a_nickname_pages_a_conversation_kept_across_a_restart() {
    let dir = tempfile::tempdir().expect("a data directory");
    let mut first = Server::start_in(chatd!(), dir.path(), &[]);
    let mut irc = first.irc("alice", "");
    irc.irc("PRIVMSG NickServ :REGISTER hunter22");
    irc.until(" 900 alice ");
    let mut bob = first.register("bob", "hunter33");
    bob.send("/msg alice hello alice");
    irc.until("PRIVMSG alice :hello alice");
    irc.irc("PRIVMSG bob :hello bob");
    bob.read_until_prefix("[whisper from alice ");
    // A clean stop, so every record is on disk.
    first.interrupt();
    assert!(first.wait_exit(std::time::Duration::from_secs(10)).success());
    let server = Server::start_in(chatd!(), dir.path(), &[]);
    let mut irc = server.irc("someone", "batch");
    irc.irc("PRIVMSG NickServ :IDENTIFY alice hunter22");
    irc.until(" 900 alice ");
    irc.irc("CHATHISTORY LATEST bob * 10");
    irc.until(":chatd BATCH +history chathistory bob");
    assert!(irc.irc_line().ends_with(":bob!bob@chatd PRIVMSG alice :hello alice"));
    assert!(irc.irc_line().ends_with(":alice!alice@chatd PRIVMSG bob :hello bob"));
    assert_eq!(irc.irc_line(), ":chatd BATCH -history");
}

#[test]
fn irc_password_is_asked_on_the_irc_port_only() {
    let server = Server::start(chatd!(), &["--irc-password", "sesame"]);
    let mut without = Client::connect(server.irc_addr());
    without.irc("NICK alice\r\nUSER alice 0 * :Alice");
    without.until(" 464 * :Password incorrect");
    without.until("ERROR :Closing link: ");
    without.expect_eof();
    let mut with = Client::connect(server.irc_addr());
    with.irc("PASS sesame\r\nNICK bob\r\nUSER bob 0 * :Bob");
    with.until(" 001 bob ");
    // The text port has no server password: its clients chat at once.
    server.login("carol");
}

#[test]
fn tagmsg_notices_to_users_and_redact_refusals_over_real_sockets() {
    let server = Server::start(chatd!(), &[]);
    let mut ann = server.irc("ann", "message-tags echo-message batch labeled-response draft/message-redaction");
    let mut ben = server.irc("ben", "message-tags");
    ann.irc("JOIN #rust");
    ann.until(" 366 ");
    ben.irc("JOIN #rust");
    ben.until(" 366 ");
    ann.irc("@label=r;+draft/react=yes TAGMSG #rust");
    let echo = ann.until(" TAGMSG ");
    assert!(echo.starts_with("@label=r;msgid=t1;+draft/react=yes :ann!"), "{echo}");
    let heard = ben.until(" TAGMSG ");
    assert!(heard.starts_with("@msgid=t1;+draft/react=yes :ann!") && heard.ends_with(" TAGMSG #rust"), "{heard}");
    ann.irc("NOTICE ben :psst");
    assert!(ben.until(" NOTICE ").ends_with(" NOTICE ben psst"));
    ann.irc("REDACT #nowhere 1-nowhere");
    assert!(ann.until(" FAIL ").starts_with(":chatd FAIL REDACT INVALID_TARGET #nowhere :"));
    ann.irc("REDACT #rust t1");
    assert!(ann.until(" FAIL ").starts_with(":chatd FAIL REDACT UNKNOWN_MSGID #rust t1 :"));
}
