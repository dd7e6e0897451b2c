//! Fuzz target `engine_ops`: see `chatcore::sim::fuzz` (`run_ops`) for what it drives and checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chatcore::sim::fuzz::run_ops(data));
