//! Random connects, nickname changes, joins, parts, quits, room creations,
//! topics and modes across three nodes, with claims answered, presence
//! delivered and stored records carried in random order. After every step
//! no two live clients anywhere hold one granted name, and each node's
//! invariants hold; once everything is answered, delivered and carried,
//! every node has the same rooms, with the same topics and modes, and
//! sees each room's members as they are.

use proptest::prelude::*;

use super::Net;
use crate::{ClientId, DisconnectReason};

const NODES: usize = 3;
const LINES: &[&str] = &[
    "/nick ann",
    "/nick ANN",
    "/nick bob",
    "/nick Bob",
    "/nick cy",
    "/join r1",
    "/join r2",
    "/leave",
    "/quit bye",
    "/create r4",
    "/join r4",
    "/topic hi",
    "/mode r4 +b cy!*@*",
    "/mode r1 +m",
];

#[derive(Debug, Clone)]
enum Step {
    Connect {
        node: usize,
    },
    /// A line from the `who`-th client ever connected (which may be gone).
    Line {
        who: usize,
        line: &'static str,
    },
    Disconnect {
        who: usize,
    },
    /// The registry answers the `which`-th claim waiting.
    Answer {
        which: usize,
    },
    /// The bus delivers its oldest change.
    Deliver,
    /// The feed carries its oldest record.
    Carry,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => (0..NODES).prop_map(|node| Step::Connect { node }),
        6 => (0..12usize, prop::sample::select(LINES)).prop_map(|(who, line)| Step::Line { who, line }),
        1 => (0..12usize).prop_map(|who| Step::Disconnect { who }),
        4 => (0..8usize).prop_map(|which| Step::Answer { which }),
        4 => Just(Step::Deliver),
        4 => Just(Step::Carry),
    ]
}

fn run(steps: &[Step]) {
    let mut net = Net::new(NODES);
    let mut clients: Vec<(usize, ClientId)> = Vec::new();
    for step in steps {
        match *step {
            Step::Connect { node } => {
                clients.push((node, net.nodes[node].connect()));
                net.pump();
            }
            Step::Line { who, line } => {
                if let Some(&(node, id)) = clients.get(who)
                    && net.nodes[node].is_connected(id)
                {
                    net.send(node, id, line);
                }
            }
            Step::Disconnect { who } => {
                if let Some(&(node, id)) = clients.get(who) {
                    net.nodes[node].disconnect(id, DisconnectReason::ConnectionClosed).unwrap();
                    net.pump();
                }
            }
            Step::Answer { which } => {
                net.answer(which);
            }
            Step::Deliver => {
                net.deliver();
            }
            Step::Carry => {
                net.carry_record();
            }
        }
        net.assert_names_unique();
        for sim in &net.nodes {
            assert_eq!(sim.engine().check_invariants(), Ok(()));
        }
    }
    net.settle();
    net.assert_names_unique();
    let truth = net.true_rooms();
    let rooms = |node: usize| {
        let world = &net.nodes[node].engine().world;
        let rooms = world.rooms.values();
        rooms.map(|r| (r.name.clone(), r.topic.clone(), world.stored_modes(&r.modes))).collect::<Vec<_>>()
    };
    for node in 0..NODES {
        assert_eq!(rooms(node), rooms(0), "node {node}'s rooms, topics and modes");
        assert_eq!(net.seen_rooms(node), truth, "node {node}'s view of the rooms");
        let engine = net.nodes[node].engine();
        assert!(engine.clients().all(|id| !engine.awaiting_name(id)), "every guest answered");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn names_stay_unique_and_every_node_sees_the_rooms_as_they_are(steps in prop::collection::vec(step(), 0..60)) {
        run(&steps);
    }
}

/// Node 0's guest joins a room, then renames; node 1 is granted the guest
/// name given up and takes it before the news of the join and the rename
/// arrives: it must still take both.
#[test]
fn a_remote_join_under_a_name_just_granted_here_still_converges() {
    let mut steps: Vec<Step> = [0, 0, 0, 1, 1, 0, 0].iter().map(|&node| Step::Connect { node }).collect();
    steps.push(Step::Disconnect { who: 0 });
    steps.push(Step::Connect { node: 0 });
    steps.push(Step::Connect { node: 0 });
    steps.push(Step::Line { who: 8, line: "/join r1" });
    steps.push(Step::Line { who: 8, line: "/nick ann" });
    run(&steps);
}
