//! Replays every committed fuzz input (`fuzz/corpus/<target>/*`) through
//! the same driver the cargo-fuzz targets use (`chatcore::sim::fuzz`), on
//! stable Rust, so a crash once found and fixed stays fixed.

use std::path::{Path, PathBuf};

use chatcore::sim::fuzz;

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
}

fn replay(target: &str, run: fn(&[u8])) {
    for path in corpus(target) {
        let data = std::fs::read(&path).expect("readable seed");
        // A panic names the seed, so the failure can be reproduced with the fuzz target.
        println!("{target}: {}", path.display());
        run(&data);
    }
}

#[test]
fn engine_ops_corpus() {
    replay("engine_ops", fuzz::run_ops);
}

#[test]
fn text_lines_corpus() {
    replay("text_lines", fuzz::run_text);
}

#[test]
fn json_lines_corpus() {
    replay("json_lines", fuzz::run_json);
}

#[test]
fn irc_message_corpus() {
    replay("irc_message", fuzz::run_irc_message);
}

#[test]
fn irc_lines_corpus() {
    replay("irc_lines", fuzz::run_irc);
}

#[test]
fn cluster_ops_corpus() {
    replay("cluster_ops", fuzz::run_cluster_ops);
}
