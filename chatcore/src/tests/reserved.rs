//! Names that stand for the server, which nobody may take, and a PING
//! whose token fills a line.

use super::irc::{irc, registered};
use super::{rejected, relaxed, sim};
use crate::sim::Sim;

#[test]
fn service_names_and_the_server_name_are_refused_on_every_protocol() {
    let mut sim = Sim::new(relaxed().with_server_name("irc.example.org"));
    sim.set_auto_auth(true);
    let text = sim.connect_as("alice");
    for nick in ["chatd", "CHATD", "ChanServ", "nickserv", "Global"] {
        let refused = rejected(&mut sim, text, &format!("/nick {nick}"));
        assert_eq!(refused, ["! invalid nickname: it is reserved for the server"], "{nick}");
    }
    // Nor may an account take one, which would give its owner the name.
    let refused = rejected(&mut sim, text, "/register ChanServ hunter2hunter2 hunter2hunter2");
    assert_eq!(refused, ["! invalid nickname: it is reserved for the server"]);

    #[cfg(feature = "json")]
    {
        let json = sim.connect_json_as("bob");
        sim.send_json(json, &serde_json::json!({"type": "nick", "nick": "NickServ"}));
        let reply = sim.take_json(json);
        assert_eq!(reply[0]["code"], "nick_invalid", "{reply:?}");
    }

    // IRC: before the welcome (432, and no welcome), and after it.
    let early = irc(&mut sim);
    sim.send(early, "NICK ChatD");
    sim.send(early, "USER x 0 * :x");
    let told = sim.take(early);
    assert!(told[0].starts_with(":irc.example.org 432 * * :invalid nickname: it is reserved"), "{told:?}");
    assert!(!told.iter().any(|l| l.contains(" 001 ")), "{told:?}");
    let carol = registered_on(&mut sim, "carol");
    for nick in ["NickServ", "chanserv", "IRC.EXAMPLE.ORG"] {
        sim.send(carol, &format!("NICK {nick}"));
        let told = sim.take(carol);
        assert!(told[0].starts_with(":irc.example.org 432 carol * :invalid nickname"), "{nick}: {told:?}");
    }
    assert_eq!(sim.engine().nick(carol), Some("carol"));
}

/// [`registered`] on a server not named `chatd`.
fn registered_on(sim: &mut Sim, nick: &str) -> crate::ClientId {
    let id = irc(sim);
    sim.send(id, &format!("NICK {nick}"));
    sim.send(id, &format!("USER {nick} 0 * :{nick}"));
    let welcome = sim.take(id);
    assert!(welcome.iter().any(|l| l.contains(&format!(" 001 {nick} "))), "{welcome:?}");
    id
}

#[test]
fn a_ping_with_a_token_too_long_for_the_pong_is_answered_with_its_start() {
    let mut sim = sim();
    let a = registered(&mut sim, "alice", "");
    // The longest token a PING line holds, in two-byte characters.
    let token = "é".repeat(250);
    sim.send(a, &format!("PING :{token}"));
    let pong = sim.take(a);
    assert_eq!(pong.len(), 1, "{pong:?}");
    let line = pong[0].trim_end_matches('\r');
    assert!(line.len() <= 510, "{} bytes", line.len());
    let echoed = line.strip_prefix(":chatd PONG chatd ").expect(line);
    assert!(!echoed.is_empty() && token.starts_with(echoed), "{echoed:?}");
    // A short token comes back whole.
    sim.send(a, "PING :short");
    assert_eq!(sim.take(a), [":chatd PONG chatd short\r"]);
}
