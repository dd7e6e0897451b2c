//! Measuring chatcore and chatd: engine fixtures for the criterion benches,
//! and the pieces of `loadgen`, an open-loop load generator for chatd.
//!
//! The binary lives in `src/bin/loadgen.rs`; each concept it needs has a
//! module of its own here so that it can be tested without a network.

pub mod fixture;
pub mod loadgen;
