//! Users' hosts over real sockets: a cloak by default, kept across
//! restarts by the key in the data directory, the address with
//! `--cloak-hosts false`, and a ban on a host that holds whatever
//! nickname its source takes.

use std::net::{IpAddr, Ipv4Addr};

use chatd_tests::{Client, Server, chatd};

const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// An IRC client registered as `nick`, connected from `source`.
fn irc_from(server: &Server, source: IpAddr, nick: &str) -> Client {
    let mut client = Client::connect_from(server.irc_addr(), source);
    client.irc(&format!("NICK {nick}\r\nUSER {nick} 0 * :{nick}"));
    client.until(" 422 ");
    client
}

#[test]
fn hosts_are_cloaks_that_survive_a_restart_and_never_show_the_address() {
    let dir = tempfile::tempdir().expect("a data directory");
    let mut first = Server::start_in(chatd!(), dir.path(), &[]);
    let host = first.local_host();
    assert!(host.ends_with(".cloak") && !host.contains("127"), "{host}");
    let key = dir.path().join("cloak.key");
    let text = std::fs::read_to_string(&key).expect("the key is kept in the data directory");
    assert!(text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()), "{text:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let mut other = irc_from(&first, ELSEWHERE, "other");
    let elsewhere = other.host_of("other");
    assert!(elsewhere != host && elsewhere.ends_with(".cloak"), "{elsewhere}");
    first.interrupt();
    assert!(first.wait_exit(std::time::Duration::from_secs(10)).success());
    let again = Server::start_in(chatd!(), dir.path(), &[]);
    assert_eq!(again.local_host(), host, "the same key, the same cloak");
}

#[test]
fn with_cloaking_off_the_host_is_the_address() {
    let server = Server::start(chatd!(), &["--cloak-hosts", "false"]);
    assert_eq!(server.local_host(), "127.0.0.1");
}

#[test]
fn a_ban_on_a_cloaked_host_holds_across_nicknames_and_connections() {
    let server = Server::start(chatd!(), &[]);
    let mut alice = server.irc("alice", "");
    alice.irc("JOIN #club");
    alice.until(" 366 alice #club ");
    let mut troll = irc_from(&server, ELSEWHERE, "troll");
    troll.irc("JOIN #club");
    troll.until(" 366 troll #club ");
    let host = alice.host_of("troll");
    alice.irc(&format!("MODE #club +b *!*@{host}"));
    alice.until(" MODE #club +b ");
    // Banned and in the room, it may not change name to slip the ban.
    troll.irc("NICK innocent");
    let refused = troll.until(" 435 ");
    assert!(refused.starts_with(":chatd 435 troll innocent #club :"), "{refused}");
    alice.irc("KICK #club troll");
    troll.until(" KICK #club troll ");
    troll.irc("NICK innocent");
    troll.until(" NICK innocent");
    troll.irc("JOIN #club");
    assert!(troll.until(" 474 ").starts_with(":chatd 474 innocent #club "));
    let mut third = irc_from(&server, ELSEWHERE, "third");
    third.irc("JOIN #club");
    assert!(third.until(" 474 ").starts_with(":chatd 474 third #club "));
}
