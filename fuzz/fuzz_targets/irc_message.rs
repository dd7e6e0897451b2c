//! Fuzz target `irc_message`: see `chatcore::sim::fuzz` (`run_irc_message`) for what it parses and checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chatcore::sim::fuzz::run_irc_message(data));
