//! `loadgen`: an open-loop load generator for chatd. `loadgen --help`.

use clap::Parser;

use chatd_benches::loadgen::cli::Args;
use chatd_benches::loadgen::run;

fn main() {
    let args = Args::parse();
    if let Err(problem) = args.validate() {
        eprintln!("loadgen: {problem}");
        std::process::exit(2);
    }
    let json = args.json;
    let summary = run::run(args);
    if json {
        println!("{}", summary.to_json());
    } else {
        print!("{}", summary.to_text());
    }
    std::process::exit(summary.exit_code());
}
