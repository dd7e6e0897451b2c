//! A server operator's broadcast in a cluster: its own node's users have
//! it at once, the other nodes' users through the bus.

use super::{Net, node_config};

#[test]
fn a_broadcast_reaches_the_users_of_every_node_once() {
    let mut net = Net::with_config(3, node_config().with_operators(vec!["alice".to_owned()]));
    for sim in &mut net.nodes {
        sim.set_auto_auth(true);
    }
    let alice = net.connect(0);
    net.send(0, alice, "/register alice hunter22 hunter22");
    net.settle();
    assert!(net.nodes[0].engine().is_server_operator(alice));
    let near = net.connect_as(0, "near");
    let far = [net.connect_as(1, "bob"), net.connect_as(2, "carol")];
    net.nodes[0].take(alice);
    net.send(0, alice, "/broadcast hello, every node");
    net.settle();
    let line = ["* broadcast from alice: hello, every node"];
    assert_eq!(net.nodes[0].take(alice), line);
    assert_eq!(net.nodes[0].take(near), line);
    assert_eq!(net.nodes[1].take(far[0]), line);
    assert_eq!(net.nodes[2].take(far[1]), line);
}

#[test]
fn a_single_node_ignores_a_remote_broadcast() {
    let mut sim = crate::sim::Sim::new(super::super::relaxed());
    let bob = sim.connect_as("bob");
    let broadcast = crate::RemoteBroadcast { from: "alice".into(), host: "h".into(), text: "hi".into(), unix_ms: 1 };
    sim.engine_mut().handle_remote_broadcast(&broadcast);
    sim.drain();
    assert_eq!(sim.take(bob), Vec::<String>::new());
}
