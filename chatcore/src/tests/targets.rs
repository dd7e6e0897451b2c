//! One IRC line naming many targets: `TARGMAX`, duplicates, and flood
//! control charged per target.

use super::irc::registered;
use super::{relaxed, sim};
use crate::sim::Sim;

fn privmsgs(lines: &[String]) -> usize {
    lines.iter().filter(|l| l.contains(" PRIVMSG ")).count()
}

#[test]
fn targmax_is_advertised_and_duplicates_are_delivered_once() {
    let mut sim = sim();
    let id = super::irc::irc(&mut sim);
    sim.send(id, "NICK alice");
    sim.send(id, "USER alice 0 * :alice");
    let welcome = sim.take(id);
    assert!(welcome.iter().any(|l| l.contains(" TARGMAX=KICK:4,NOTICE:4,PRIVMSG:4 ")), "{welcome:?}");
    let bob = registered(&mut sim, "bob", "");
    let carol = registered(&mut sim, "carol", "");
    sim.send(id, "PRIVMSG bob,BOB,bob,carol,Bob :hi");
    assert_eq!(sim.take(bob), [":alice!alice@chatd PRIVMSG bob hi\r"]);
    assert_eq!(sim.take(carol), [":alice!alice@chatd PRIVMSG carol hi\r"]);
    assert_eq!(sim.take(id), Vec::<String>::new());
}

#[test]
fn targets_beyond_targmax_are_refused_with_407() {
    let mut sim = sim();
    let alice = registered(&mut sim, "alice", "");
    let others: Vec<_> = ["b1", "b2", "b3", "b4", "b5"].iter().map(|n| registered(&mut sim, n, "")).collect();
    sim.send(alice, "PRIVMSG b1,b2,b3,b4,b5 :hi");
    let delivered: usize = others.iter().map(|&o| privmsgs(&sim.take(o))).sum();
    assert_eq!(delivered, 4);
    assert_eq!(
        sim.take(alice),
        [":chatd 407 alice b5 :Too many targets: a PRIVMSG names at most 4\r"],
        "the sender alone is told"
    );
}

#[test]
fn each_target_costs_a_line_of_flood_allowance() {
    let mut sim = Sim::new(relaxed().with_flood_burst(3).with_flood_lines_per_sec(1));
    let alice = registered(&mut sim, "alice", "");
    let bob = registered(&mut sim, "bob", "");
    let carol = registered(&mut sim, "carol", "");
    let dave = registered(&mut sim, "dave", "");
    // Registering took three lines each: a pause refills the burst.
    sim.advance(std::time::Duration::from_secs(10));
    // A burst of three lines' worth: the line and two more targets.
    sim.send(alice, "PRIVMSG bob,carol,dave :hi");
    assert_eq!(privmsgs(&sim.take(bob)) + privmsgs(&sim.take(carol)) + privmsgs(&sim.take(dave)), 3);
    assert_eq!(sim.take(alice), Vec::<String>::new());
    // Nothing left: the next line is refused whole.
    sim.send(alice, "PRIVMSG bob,carol :again");
    assert_eq!(privmsgs(&sim.take(bob)) + privmsgs(&sim.take(carol)), 0);
    assert!(sim.take(alice)[0].contains("slow down"));
    // A second later, one line's worth: the first target, and the second
    // is refused as a flood.
    sim.advance(std::time::Duration::from_secs(1));
    sim.send(alice, "PRIVMSG bob,carol :later");
    assert_eq!(privmsgs(&sim.take(bob)), 1);
    assert_eq!(privmsgs(&sim.take(carol)), 0);
    let told = sim.take(alice);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains("slow down"), "{told:?}");
    assert_eq!(sim.engine().stats().flood_refusals, 2);
}

#[test]
fn a_kick_pairs_each_channel_with_the_nick_in_its_place() {
    let mut sim = sim();
    let alice = registered(&mut sim, "alice", "");
    let others: Vec<_> = ["bar", "baz", "qux"].iter().map(|n| registered(&mut sim, n, "")).collect();
    for &id in std::iter::once(&alice).chain(&others) {
        sim.send(id, "JOIN #chan");
    }
    let qux = others[2];
    sim.take(alice);
    sim.take(qux);
    // As many channels as nicks: each channel with the nick in its place.
    sim.send(alice, "KICK #chan,#chan bar,baz :bye");
    let told: Vec<String> = sim.take(qux).into_iter().filter(|l| l.contains(" KICK ")).collect();
    assert_eq!(
        told,
        [":alice!alice@chatd KICK #chan bar bye\r", ":alice!alice@chatd KICK #chan baz bye\r"],
        "one KICK a nick, as RFC 2812 asks of servers"
    );
    sim.take(alice);
    // Two channels and one nick pair nothing: refused whole, nobody kicked.
    sim.send(alice, "KICK #chan,#other qux");
    let refused = sim.take(alice);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].starts_with(":chatd 461 alice KICK "), "{refused:?}");
    assert!(sim.take(qux).iter().all(|l| !l.contains(" KICK ")));
}
