//! This engine as one node of a cluster (see the [`cluster`](crate::cluster)
//! docs for the contract): a room message published for the store to
//! number and its answers (`publish.rs`), and each room's messages
//! delivered in the store's order while the room has local members
//! (`sequence.rs`). What a node keeps for this is a part of the world,
//! `world/cluster.rs`; `cluster` is the vocabulary the embedder sees.

mod publish;
mod sequence;

pub(crate) use sequence::follow;
