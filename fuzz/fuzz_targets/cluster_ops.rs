//! Fuzz target `cluster_ops`: see `chatcore::sim::fuzz` (`run_cluster_ops`) for what it drives and checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chatcore::sim::fuzz::run_cluster_ops(data));
