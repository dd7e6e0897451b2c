//! chatd itself, built inside this package so that cargo tells the tests
//! where it is (`CARGO_BIN_EXE_chatd-under-test`; cargo gives that only
//! for the binaries of the tests' own package). `main` is the one call the
//! `chatd` executable makes, so this is the same program.
//!
//! It is not named `chatd`: two binaries of one name in one workspace
//! would overwrite each other's file in the target directory.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    chatd::run_cli()
}
