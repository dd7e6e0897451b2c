//! Fuzz target `text_lines`: see `chatcore::sim::fuzz` (`run_text`) for what it drives and checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chatcore::sim::fuzz::run_text(data));
