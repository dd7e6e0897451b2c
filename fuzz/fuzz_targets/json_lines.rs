//! Fuzz target `json_lines`: see `driver.rs` (`run_json`) for what it drives and checks.

#![no_main]

#[path = "../driver.rs"]
mod driver;

libfuzzer_sys::fuzz_target!(|data: &[u8]| driver::run_json(data));
