//! Connections on which the embedder refuses passwords
//! (`ConnectInfo::refuse_passwords`): every way of logging in or
//! registering is refused with `tls_required`, and nothing else changes.

use super::{rejected, relaxed};
use crate::sim::Sim;
use crate::{Codec, ConnectInfo};

fn auto() -> Sim {
    let mut sim = Sim::new(relaxed());
    sim.set_auto_auth(true);
    sim
}

fn plain(codec: Codec) -> ConnectInfo {
    ConnectInfo::new(codec).from([192, 0, 2, 7].into()).refusing_passwords("port 6697")
}

#[test]
fn text_logins_and_registrations_are_refused_and_chat_still_works() {
    let mut sim = auto();
    let ok = sim.connect();
    sim.send(ok, "/register alice hunter22 hunter22");
    assert_eq!(sim.engine().account_of(ok), Some("alice"));

    let a = sim.connect_with(plain(Codec::Text));
    sim.take(a);
    // Everything that needs no password works as before.
    sim.send(a, "/nick bob");
    assert_eq!(sim.take(a), ["* you are now known as bob"]);
    let refused = ["! passwords are only accepted over TLS here; reconnect with TLS to port 6697"];
    assert_eq!(rejected(&mut sim, a, "/register bob hunter33 hunter33"), refused);
    assert_eq!(rejected(&mut sim, a, "/login alice hunter22"), refused);
    assert!(sim.take_auth_requests().is_empty(), "no password reached the embedder");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[cfg(feature = "json")]
#[test]
fn a_json_login_is_refused_with_the_tls_required_code() {
    let mut sim = auto();
    let ok = sim.connect();
    sim.send(ok, "/register alice hunter22 hunter22");
    let j = sim.connect_with(plain(Codec::Text));
    sim.take(j);
    sim.send(j, r#"{"type":"login","name":"alice","password":"hunter22"}"#);
    let answers = sim.take_json(j);
    let error = answers.iter().find(|v| v["type"] == "error").expect("an error object");
    assert_eq!(error["code"], "tls_required", "{answers:?}");
    assert_eq!(sim.engine().account_of(j), None);
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn sasl_and_nickserv_are_refused_on_irc() {
    let mut sim = auto();
    let ok = sim.connect();
    sim.send(ok, "/register alice hunter22 hunter22");
    let c = sim.connect_with(plain(Codec::Irc));
    sim.send(c, "CAP REQ sasl");
    sim.send(c, "AUTHENTICATE PLAIN");
    sim.take(c);
    // "\0alice\0hunter22"
    sim.send(c, "AUTHENTICATE AGFsaWNlAGh1bnRlcjIy");
    let lines = sim.take(c);
    assert!(lines.iter().any(|l| l.contains("reconnect with TLS to port 6697")), "{lines:?}");
    assert!(lines.iter().any(|l| l.trim_end() == ":chatd 904 * :SASL authentication failed"), "{lines:?}");
    sim.send(c, "CAP END");
    sim.send(c, "NICK carol");
    sim.send(c, "USER carol 0 * :carol");
    sim.take(c);
    sim.send(c, "PRIVMSG NickServ :IDENTIFY alice hunter22");
    let lines = sim.take(c);
    assert!(lines.iter().any(|l| l.contains("reconnect with TLS to port 6697")), "{lines:?}");
    assert_eq!(sim.engine().account_of(c), None);
    assert!(sim.take_auth_requests().is_empty());
}
