//! One node's side of name claims: what waits for an answer, what each
//! answer does, what is released, and the embedder's misuse.

use super::{Net, node_config};
use crate::sim::Sim;
use crate::{
    ClaimAnswer, ClaimId, ClusterRequest, Codec, ConnectInfo, DisconnectReason, Error, Output, PresenceChange,
};

/// The name claims in `requests`, with their ids.
fn claims(requests: &[ClusterRequest]) -> Vec<(ClaimId, String)> {
    let claim = |r: &ClusterRequest| match r {
        ClusterRequest::ClaimName { claim, name } => Some((*claim, name.to_string())),
        _ => None,
    };
    requests.iter().filter_map(claim).collect()
}

/// The names released in `requests`.
fn releases(requests: &[ClusterRequest]) -> Vec<String> {
    let release = |r: &ClusterRequest| match r {
        ClusterRequest::ReleaseName { name } => Some(name.to_string()),
        _ => None,
    };
    requests.iter().filter_map(release).collect()
}

fn answer(sim: &mut Sim, claim: ClaimId, answer: ClaimAnswer) {
    let now = sim.now();
    sim.engine_mut().handle_name_claim(now, claim, answer).expect("an open claim");
    sim.drain();
}

/// A cluster node's guest, its first name granted.
fn guest(sim: &mut Sim) -> crate::ClientId {
    let id = sim.connect();
    let [(claim, _)] = claims(&sim.take_cluster_requests())[..] else { panic!("one claim at connect") };
    answer(sim, claim, ClaimAnswer::Granted);
    sim.take(id);
    id
}

#[test]
fn a_single_node_asks_nothing_of_a_cluster_and_ignores_presence() {
    let mut sim = super::super::sim();
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    for line in ["/create r", "/nick ann", "/leave", "/join r", "/quit bye"] {
        sim.send(a, line);
    }
    sim.send(b, "/join r");
    let now = sim.now();
    let change = PresenceChange::Joined { room: "r".into(), nick: "zed".into(), host: "h".into() };
    sim.engine_mut().handle_remote_presence(now, change);
    sim.drain();
    sim.disconnect(b, DisconnectReason::ConnectionClosed).unwrap();
    assert!(sim.take_cluster_requests().is_empty());
    assert!(!sim.take_transcript().iter().any(|o| matches!(o, Output::Cluster(_))));
    assert_eq!(sim.engine().stats().remote_presence_ignored, 0, "not even counted: there is no cluster");
}

#[test]
fn a_guest_is_welcomed_once_its_name_is_granted_and_its_lines_wait_in_order() {
    let mut sim = Sim::new(node_config());
    let id = sim.connect();
    assert_eq!(sim.take(id), Vec::<String>::new(), "no welcome yet");
    assert!(sim.engine().awaiting_name(id));
    sim.send(id, "/nick alice");
    sim.send(id, "/users");
    assert_eq!(sim.take(id), Vec::<String>::new(), "its lines wait");
    let [(first, ref guest)] = claims(&sim.take_cluster_requests())[..] else { panic!("one claim") };
    assert_eq!(guest, "Guest1");
    answer(&mut sim, first, ClaimAnswer::Granted);
    assert!(!sim.engine().awaiting_name(id));
    let said = sim.take(id);
    assert!(said[0].contains("Guest1"), "welcomed first: {said:?}");
    assert_eq!(said.len(), 1, "/nick waits for its own claim, and /users after it: {said:?}");
    let [(second, ref nick)] = claims(&sim.take_cluster_requests())[..] else { panic!("the nick's claim") };
    assert_eq!(nick, "alice");
    answer(&mut sim, second, ClaimAnswer::Granted);
    let said = sim.take(id);
    assert_eq!(said[0], "* you are now known as alice");
    assert!(said[1].contains("alice"), "then /users: {said:?}");
    assert_eq!(releases(&sim.take_cluster_requests()), ["Guest1"], "the guest name is given up");
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn a_refused_nickname_is_taken_and_the_old_one_kept() {
    let mut sim = Sim::new(node_config());
    let id = guest(&mut sim);
    sim.send(id, "/nick alice");
    let [(claim, _)] = claims(&sim.take_cluster_requests())[..] else { panic!("one claim") };
    answer(&mut sim, claim, ClaimAnswer::Refused);
    assert_eq!(sim.take(id), ["! nickname alice is taken"]);
    assert_eq!(sim.engine().nick(id), Some("Guest1"));
    assert!(sim.take_cluster_requests().is_empty(), "nothing released: Guest1 is still its name");
}

#[test]
fn a_refused_guest_tries_numbers_ever_further_on_and_is_closed_after_the_last_attempt() {
    let mut sim = Sim::new(node_config());
    let id = sim.connect();
    let mut tried = Vec::new();
    while let [(claim, ref name)] = claims(&sim.take_cluster_requests())[..] {
        tried.push(name.clone());
        answer(&mut sim, claim, ClaimAnswer::Refused);
    }
    // Each refusal skips ahead: a block of numbers another node holds is
    // left behind in a few tries instead of one number at a time.
    let expected = ["Guest1", "Guest8", "Guest36", "Guest148", "Guest596", "Guest2388", "Guest9556", "Guest38228"];
    assert_eq!(crate::cluster::MAX_GUEST_ATTEMPTS, 8);
    assert_eq!(tried, expected);
    assert_eq!(sim.closed(id), Some(&DisconnectReason::NameUnavailable));
    assert!(sim.take_transcript().iter().all(|o| !matches!(o, Output::Cluster(ClusterRequest::ReleaseName { .. }))));
}

#[test]
fn an_answer_for_a_client_that_left_releases_a_granted_name() {
    let mut sim = Sim::new(node_config());
    let id = guest(&mut sim);
    sim.send(id, "/nick alice");
    let [(claim, _)] = claims(&sim.take_cluster_requests())[..] else { panic!("one claim") };
    sim.disconnect(id, DisconnectReason::ConnectionClosed).unwrap();
    assert_eq!(releases(&sim.take_cluster_requests()), ["Guest1"]);
    answer(&mut sim, claim, ClaimAnswer::Granted);
    assert_eq!(releases(&sim.take_cluster_requests()), ["alice"]);
    // A guest gone before its first name came back gives up nothing twice.
    let early = sim.connect();
    let [(claim, _)] = claims(&sim.take_cluster_requests())[..] else { panic!("one claim") };
    sim.disconnect(early, DisconnectReason::ConnectionClosed).unwrap();
    assert!(sim.take_cluster_requests().is_empty(), "its name was never the node's");
    answer(&mut sim, claim, ClaimAnswer::Refused);
    assert!(sim.take_cluster_requests().is_empty());
}

#[test]
fn an_unknown_or_repeated_answer_is_misuse() {
    let mut sim = Sim::new(node_config());
    let now = sim.now();
    let unknown = ClaimId(99);
    assert_eq!(
        sim.engine_mut().handle_name_claim(now, unknown, ClaimAnswer::Granted),
        Err(Error::UnknownClaim(unknown))
    );
    let _ = sim.connect();
    let [(claim, _)] = claims(&sim.take_cluster_requests())[..] else { panic!("one claim") };
    answer(&mut sim, claim, ClaimAnswer::Granted);
    let again = sim.engine_mut().handle_name_claim(now, claim, ClaimAnswer::Refused);
    assert_eq!(again, Err(Error::UnknownClaim(claim)));
    assert_eq!(sim.engine().check_invariants(), Ok(()));
}

#[test]
fn a_name_claimed_or_held_elsewhere_is_refused_at_once() {
    let mut net = Net::new(2);
    let (a, b) = (net.connect(0), net.connect(0));
    net.send(0, a, "/nick alice");
    net.send(0, b, "/nick ALICE");
    assert_eq!(
        net.nodes[0].take(b).last().map(String::as_str),
        Some("! nickname ALICE is taken"),
        "alice's claim is under way here"
    );
    net.settle();
    let remote = net.connect(1);
    net.send(1, remote, "/join r1");
    net.send(0, a, "/join r1");
    net.settle();
    net.send(1, remote, "/nick Alice");
    assert_eq!(net.nodes[1].take(remote).last().map(String::as_str), Some("! nickname alice is taken"));
    assert!(net.claims.is_empty(), "refused without asking the registry");
}

#[test]
fn lines_past_the_flood_burst_are_refused_while_a_claim_waits() {
    let mut sim = Sim::new(node_config().with_flood_burst(2));
    let id = sim.connect();
    sim.input(id, b"/users\n/users\n/users\n").unwrap();
    assert_eq!(sim.take(id), ["! slow down: too many lines too fast; that line was not acted on"]);
    let [(claim, _)] = claims(&sim.take_cluster_requests())[..] else { panic!("one claim") };
    answer(&mut sim, claim, ClaimAnswer::Granted);
    assert_eq!(sim.take(id).len(), 3, "the welcome and the two lines that waited");
}

#[test]
fn irc_registration_waits_for_its_nickname() {
    let mut net = Net::new(1);
    let id = net.nodes[0].connect_with(ConnectInfo::new(Codec::Irc));
    net.pump();
    net.settle();
    net.send(0, id, "NICK alice");
    net.send(0, id, "USER a 0 * :A");
    assert_eq!(net.claims.len(), 1, "alice is claimed");
    assert!(net.nodes[0].engine().awaiting_registration(id));
    net.settle();
    assert!(!net.nodes[0].engine().awaiting_registration(id));
    assert_eq!(net.nodes[0].engine().nick(id), Some("alice"));
    assert!(net.nodes[0].take(id).iter().any(|line| line.contains(" 001 alice ")), "welcomed as alice");
    // Refused before registration, a nickname must be chosen again.
    let other = net.nodes[0].connect_with(ConnectInfo::new(Codec::Irc));
    net.pump();
    net.settle();
    net.registry.insert(crate::NameKey::of("bob"), 9);
    net.send(0, other, "NICK bob");
    net.send(0, other, "USER b 0 * :B");
    net.settle();
    assert!(net.nodes[0].take(other).iter().any(|line| line.contains(" 433 ")), "bob is taken");
    assert!(net.nodes[0].engine().awaiting_registration(other));
}

#[test]
fn logging_in_claims_the_accounts_name() {
    let mut net = Net::new(2);
    net.nodes[0].set_auto_auth(true);
    net.nodes[1].set_auto_auth(true);
    let a = net.connect(0);
    net.send(0, a, "/register alice hunter22 hunter22");
    net.pump();
    assert_eq!(net.claims.len(), 1, "alice is claimed once the account is made");
    net.settle();
    assert_eq!(net.nodes[0].engine().account_of(a), Some("alice"));
    assert_eq!(net.registry.get(&crate::NameKey::of("alice")), Some(&0));
    // The account known elsewhere from its record, another login there is refused while alice is here.
    assert_eq!(net.nodes[1].engine().account_count(), 1);
    let b = net.connect(1);
    net.send(1, b, "/login alice hunter22");
    net.settle();
    assert_eq!(net.nodes[1].engine().account_of(b), None);
    assert_eq!(net.nodes[1].take(b).last().map(String::as_str), Some("! nickname alice is taken"));
    net.assert_names_unique();
}

#[test]
fn a_name_passing_between_local_clients_stays_claimed() {
    let mut net = Net::new(1);
    net.nodes[0].set_auto_auth(true);
    let guest = net.connect_as(0, "alice");
    let owner = net.connect(0);
    net.send(0, owner, "/register alice hunter22 hunter22");
    net.pump();
    // The account takes alice back from the guest: no claim of alice, one
    // of the guest's new name, and alice never released.
    let claimed: Vec<&str> = net.claims.iter().map(|c| &*c.name).collect();
    assert_eq!(claimed, ["Guest3"]);
    assert!(net.nodes[0].engine().awaiting_name(guest));
    net.settle();
    assert_eq!(net.nodes[0].engine().nick(guest), Some("Guest3"));
    assert_eq!(net.nodes[0].engine().account_of(owner), Some("alice"));
    net.assert_names_unique();
    // A second login is another connection of the account; when the first
    // goes, the name passes to the second and stays this node's.
    let second = net.connect(0);
    net.send(0, second, "/login alice hunter22");
    net.settle();
    assert!(net.nodes[0].is_connected(owner));
    assert_eq!(net.nodes[0].engine().account_of(second), Some("alice"));
    net.send(0, owner, "/quit");
    net.settle();
    assert_eq!(net.nodes[0].engine().nick(second), Some("alice"));
    assert_eq!(net.registry.get(&crate::NameKey::of("alice")), Some(&0));
    net.assert_names_unique();
    assert_eq!(net.nodes[0].engine().check_invariants(), Ok(()));
}

#[test]
fn a_guest_finds_a_free_number_past_thousands_held_on_another_node() {
    let mut sim = Sim::new(node_config());
    let id = sim.connect();
    let held_elsewhere =
        |name: &str| name.strip_prefix("Guest").and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| n <= 5_000);
    let mut granted = None;
    while let [(claim, ref name)] = claims(&sim.take_cluster_requests())[..] {
        let refused = held_elsewhere(name);
        answer(&mut sim, claim, if refused { ClaimAnswer::Refused } else { ClaimAnswer::Granted });
        if !refused {
            granted = Some(name.clone());
        }
    }
    assert_eq!(granted.as_deref(), Some("Guest9556"));
    assert_eq!(sim.closed(id), None);
    assert_eq!(sim.engine().nick(id), Some("Guest9556"));
}
