//! IRC over a real socket against the real chatd: an IRC client registers
//! (in the order irssi uses: CAP first), joins a channel and talks with a
//! text user in the same room.

use chatd_tests::{Client, Server, chatd};

/// Reads lines until one contains `wanted`, returning it.
fn until(client: &mut Client, wanted: &str) -> String {
    loop {
        let line = client.line();
        if line.contains(wanted) {
            return line;
        }
    }
}

#[test]
fn an_irc_client_and_a_text_client_share_a_room() {
    let server = Server::start(chatd!(), &[]);
    let mut irc = Client::connect(server.irc_addr());
    irc.send_bytes(b"CAP LS 302\r\n");
    assert_eq!(irc.line(), ":chatd CAP Guest1 LS :\r");
    irc.send_bytes(b"NICK alice\r\nUSER alice 0 * :Alice\r\nCAP END\r\n");
    until(&mut irc, " 001 alice ");
    until(&mut irc, " 422 alice ");
    irc.send_bytes(b"JOIN #rust\r\n");
    until(&mut irc, "JOIN #rust");
    until(&mut irc, " 366 alice #rust ");

    let mut text = server.login("bob");
    text.send("/join rust");
    text.expect("* you are now in rust (2 here)");
    assert_eq!(irc.line(), ":bob!bob@chatd JOIN #rust\r");
    text.send("hello irc");
    assert_eq!(irc.line(), ":bob!bob@chatd PRIVMSG #rust :hello irc\r");
    irc.send_bytes(b"PRIVMSG #rust :hello text\r\n");
    text.expect("[rust] alice: hello text");
    irc.send_bytes(b"QUIT :bye\r\n");
    text.expect("* alice disconnected (quit: bye)");
}

#[test]
fn registering_without_cap_works_too_and_commands_wait_for_it() {
    let server = Server::start(chatd!(), &[]);
    let mut irc = Client::connect(server.irc_addr());
    irc.send_bytes(b"JOIN #early\r\n");
    assert_eq!(irc.line(), ":chatd 451 Guest1 :You have not registered\r");
    irc.send_bytes(b"NICK carol\r\nUSER carol 0 * :Carol\r\n");
    until(&mut irc, " 001 carol ");
}
