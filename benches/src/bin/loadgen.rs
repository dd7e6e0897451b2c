//! `loadgen`: an open-loop load generator for chatd. `loadgen --help`.

use clap::Parser;

use chatd_benches::loadgen::cli::{Args, Mode};
use chatd_benches::loadgen::{fdlimit, run, scale};

fn main() {
    let args = Args::parse();
    if let Err(problem) = args.validate() {
        eprintln!("loadgen: {problem}");
        std::process::exit(2);
    }
    // Every client is an open file: make room for them, or say at once
    // that they cannot fit.
    if let Err(problem) = fdlimit::check(args.clients, fdlimit::raise()) {
        eprintln!("loadgen: {problem}");
        std::process::exit(2);
    }
    let json = args.json;
    let (text, object, code) = if args.mode == Mode::Scale {
        let summary = scale::run(args);
        (summary.to_text(), summary.to_json(), summary.exit_code())
    } else {
        let summary = run::run(args);
        (summary.to_text(), summary.to_json(), summary.exit_code())
    };
    if json {
        println!("{object}");
    } else {
        print!("{text}");
    }
    std::process::exit(code);
}
