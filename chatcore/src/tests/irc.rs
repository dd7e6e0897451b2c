//! IRC clients, driven through the sim: registration, channels and
//! messages shared with text and JSON users.

use super::relaxed;
use crate::sim::Sim;
use crate::{ClientId, Codec};

fn irc(sim: &mut Sim) -> ClientId {
    let now = sim.now();
    let id = sim.engine_mut().handle_connect_as(now, None, Codec::Irc);
    sim.drain();
    id
}

#[test]
fn an_irc_user_registers_joins_and_talks_with_a_text_user() {
    let mut sim = Sim::new(relaxed());
    let a = irc(&mut sim);
    assert_eq!(sim.take(a), Vec::<String>::new(), "nothing before registration");
    sim.send(a, "CAP LS 302");
    assert_eq!(sim.take(a), [":chatd CAP Guest1 LS :\r"]);
    sim.send(a, "NICK alice");
    sim.send(a, "USER alice 0 * :Alice");
    assert!(sim.take(a).iter().all(|l| !l.contains(" 001 ")), "CAP negotiation holds registration");
    sim.send(a, "CAP END");
    let welcome = sim.take(a);
    assert!(welcome.iter().any(|l| l.starts_with(":chatd 001 alice :Welcome to chatd, alice")), "{welcome:?}");
    assert!(welcome.iter().any(|l| l.starts_with(":chatd 422 alice ")), "{welcome:?}");
    sim.send(a, "JOIN #rust");
    let joined = sim.take(a);
    assert!(joined.iter().any(|l| l.starts_with(":alice!alice@chatd JOIN #rust")), "{joined:?}");
    assert!(joined.iter().any(|l| l == ":chatd 353 alice = #rust alice\r"), "{joined:?}");
    assert!(joined.iter().any(|l| l == ":chatd 366 alice #rust :End of /NAMES list\r"), "{joined:?}");
    let b = sim.connect_as("bob");
    sim.send(b, "/join rust");
    assert_eq!(sim.take(b)[0], "* you are now in rust (2 here)");
    assert_eq!(sim.take(a), [":bob!bob@chatd JOIN #rust\r"]);
    sim.send(b, "hello irc");
    assert_eq!(sim.take(a), [":bob!bob@chatd PRIVMSG #rust :hello irc\r"]);
    sim.send(a, "PRIVMSG #rust :hello text");
    assert_eq!(sim.take(b), ["[rust] alice: hello text"]);
    sim.send(a, "TOPIC #rust");
    assert_eq!(sim.take(a), [":chatd 331 alice #rust :No topic is set\r"]);
    sim.send(a, "PING :x");
    assert_eq!(sim.take(a), [":chatd PONG chatd x\r"]);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn a_taken_nickname_gets_433_and_registration_waits_for_a_free_one() {
    let mut sim = Sim::new(relaxed());
    let _bob = sim.connect_as("bob");
    let a = irc(&mut sim);
    sim.send(a, "NICK bob");
    sim.send(a, "USER bob 0 * :Bob");
    assert_eq!(sim.take(a), [":chatd 433 Guest2 bob :nickname bob is taken\r"]);
    sim.send(a, "NICK bob_");
    assert!(sim.take(a).iter().any(|l| l.starts_with(":chatd 001 bob_ ")));
    sim.send(a, "PRIVMSG nobody :hi");
    assert_eq!(sim.take(a), [":chatd 401 bob_ nobody :nobody named nobody is online\r"]);
}
