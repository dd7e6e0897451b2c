//! The modules of a crate import each other in no cycle: a module that
//! needs another's types and is needed by it back is one concept split in
//! two, or a message type that belongs to neither. This reads the source,
//! so it holds without building anything (see `chatd_tests::module_graph`
//! for what counts as an import).

use std::path::{Path, PathBuf};

use chatd_tests::module_graph::{self, Graph};

/// The crates whose modules must form no cycle, as `src` directories from
/// the workspace root.
const ACYCLIC: &[&str] = &["chatd/src", "chatcore/src"];

fn graph_of(src: &str) -> Graph {
    let workspace: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf();
    module_graph::read_crate(&workspace.join(src)).unwrap_or_else(|error| panic!("reading {src}: {error}"))
}

#[test]
fn modules_import_each_other_in_no_cycle() {
    let mut found = String::new();
    for src in ACYCLIC {
        let cycles = graph_of(src).describe_cycles();
        if !cycles.is_empty() {
            found.push_str(&format!("{src}:\n{cycles}"));
        }
    }
    assert!(
        found.is_empty(),
        "module cycles (break each by moving what both sides need to a module of its own):\n{found}"
    );
}

/// The check above would pass on a graph read wrong (no files, no edges):
/// chatd's graph has the modules and imports it is known to have.
#[test]
fn chatd_graph_has_its_known_modules_and_imports() {
    let graph = graph_of("chatd/src");
    let nodes: Vec<&str> = graph.nodes().collect();
    for module in ["crate", "conn", "conn::ws", "conn::ws::io", "engine_task", "store::check::rows"] {
        assert!(nodes.contains(&module), "{module} missing from {nodes:?}");
    }
    for (from, to) in [("server", "engine_task"), ("conn::ws::io", "conn"), ("store::check::rows", "store::check")] {
        assert!(graph.edge(from, to).is_some(), "no edge {from} -> {to}");
    }
}

/// chatcore's graph, likewise: its IRC commands import the world, and the
/// world the codecs, never the other way round.
#[test]
fn chatcore_graph_has_its_known_modules_and_imports() {
    let graph = graph_of("chatcore/src");
    let nodes: Vec<&str> = graph.nodes().collect();
    for module in ["crate", "world", "irc::dispatch", "codec::irc::render", "command", "password_check"] {
        assert!(nodes.contains(&module), "{module} missing from {nodes:?}");
    }
    for (from, to) in [("irc::dispatch", "world"), ("world", "codec"), ("codec::json", "command")] {
        assert!(graph.edge(from, to).is_some(), "no edge {from} -> {to}");
    }
}

/// chatcore's codecs only translate: what they import outside `codec` is
/// the vocabulary (commands, events, refusals, names, time, credentials),
/// never the world or a handler.
#[test]
fn chatcore_codecs_import_only_the_vocabulary() {
    const VOCABULARY: &[&str] = &["command", "command::verb", "credentials", "error", "event", "names", "time"];
    let graph = graph_of("chatcore/src");
    let nodes: Vec<&str> = graph.nodes().collect();
    let is_codec = |module: &str| module == "codec" || module.starts_with("codec::");
    let mut found = Vec::new();
    for from in nodes.iter().copied().filter(|m| is_codec(m)) {
        for to in nodes.iter().copied().filter(|m| !is_codec(m) && !VOCABULARY.contains(m)) {
            if let Some(origin) = graph.edge(from, to) {
                found.push(format!("{from} -> {to} ({}:{})", origin.file, origin.line));
            }
        }
    }
    assert!(found.is_empty(), "codec imports beyond the vocabulary:\n{}", found.join("\n"));
    // The check above would pass on a graph read wrong: the codecs do import it.
    assert!(graph.edge("codec::irc::render", "error").is_some());
    assert!(graph.edge("codec::json", "credentials").is_some());
}
