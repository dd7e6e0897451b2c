//! The pieces of `loadgen`, the open-loop load generator for chatd. See
//! `src/bin/loadgen.rs` and `loadgen --help`.

pub mod cli;
pub mod client;
pub mod fdlimit;
pub mod irc;
pub mod ledger;
pub mod payload;
pub mod procfs;
pub mod report;
pub mod run;
pub mod scale;
pub mod schedule;
pub mod sender;
pub mod shared;
pub mod sources;
pub mod worker;
pub mod ws;
