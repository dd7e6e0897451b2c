//! Fuzz target `engine_ops`: see `driver.rs` (`run_ops`) for what it drives and checks.

#![no_main]

#[path = "../driver.rs"]
mod driver;

libfuzzer_sys::fuzz_target!(|data: &[u8]| driver::run_ops(data));
