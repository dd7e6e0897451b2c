//! The `chatd` executable: everything, from the flags to the exit status,
//! is in the library, so tests and tools run the very same program.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    chatd::run_cli()
}
