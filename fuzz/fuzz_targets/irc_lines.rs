//! Fuzz target `irc_lines`: see `chatcore::sim::fuzz` (`run_irc`) for what it drives and checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chatcore::sim::fuzz::run_irc(data));
