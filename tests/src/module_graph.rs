//! The module graph of a crate, read from its source files, to prove that
//! its modules import each other in no cycle.
//!
//! Each file is a module: `lib.rs` (and `main.rs`) the root, `crate`;
//! `a.rs` and `a/mod.rs` the module `a`; `a/b.rs` the module `a::b`. A
//! module imports another when its file names it in a `use` or a path:
//! `crate::b::...`, `super::...` (from the module it is written in, so an
//! inline `mod tests` saying `use super::*` imports its own file), or
//! `self::...`. A path imports the deepest module it goes through
//! (`crate::a::b::Item` imports `a::b`). A module importing itself or one
//! of its own descendants is no edge: a parent owns its children. A child
//! importing its parent or a sibling is an edge. And a parent speaks for
//! its children: what `a::b` imports outside `a`, `a` imports too, so that
//! `a::b -> c -> a` is a cycle although `a` only declares `b`. Files under
//! `src/bin/` are crates of their own and are left out.

mod cycles;
mod paths;
mod tokens;

pub use cycles::{Graph, Origin};

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

/// The name of the crate root in a graph.
pub const ROOT: &str = "crate";

/// Reads every `.rs` file under `src` and returns the graph of its modules.
pub fn read_crate(src: &Path) -> io::Result<Graph> {
    let mut files = Vec::new();
    rust_files(src, src, &mut files)?;
    files.sort();
    let modules: Vec<(PathBuf, Vec<String>)> = files
        .into_iter()
        .map(|file| {
            let module = module_of(&file);
            (file, module)
        })
        .collect();
    let known: BTreeSet<&[String]> = modules.iter().map(|(_, module)| module.as_slice()).collect();
    let mut graph = Graph::default();
    for (file, module) in &modules {
        let from = name(module);
        graph.add_node(&from);
        let source = std::fs::read_to_string(src.join(file))?;
        for named in paths::crate_paths(&source, module) {
            let target = (0..=named.path.len())
                .rev()
                .map(|len| &named.path[..len])
                .find(|prefix| known.contains(prefix))
                .expect("the crate root is a known module");
            let origin = Origin { file: file.to_string_lossy().into_owned(), line: named.line };
            // The module and each ancestor it speaks for, up to the first
            // that contains the target: a parent owns its children.
            for len in (0..=module.len()).rev() {
                let importer = &module[..len];
                if target.starts_with(importer) {
                    break;
                }
                graph.add_edge(&name(importer), &name(target), origin.clone());
            }
        }
    }
    Ok(graph)
}

/// Collects the `.rs` files under `dir`, relative to `src`, skipping `src/bin`.
fn rust_files(src: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let relative = path.strip_prefix(src).expect("under src").to_path_buf();
        if path.is_dir() {
            if relative != Path::new("bin") {
                rust_files(src, &path, out)?;
            }
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            out.push(relative);
        }
    }
    Ok(())
}

/// The module a file (relative to `src`) holds.
fn module_of(file: &Path) -> Vec<String> {
    let mut module: Vec<String> =
        file.with_extension("").iter().map(|part| part.to_string_lossy().into_owned()).collect();
    let last = module.last().map(String::as_str);
    if last == Some("mod") || (module.len() == 1 && matches!(last, Some("lib" | "main"))) {
        module.pop();
    }
    module
}

/// A module's name in the graph: `a::b`, or [`ROOT`].
fn name(module: &[String]) -> String {
    if module.is_empty() { ROOT.to_owned() } else { module.join("::") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_as_the_compiler_names_their_modules() {
        let module = |file: &str| name(&module_of(Path::new(file)));
        assert_eq!(module("lib.rs"), "crate");
        assert_eq!(module("main.rs"), "crate");
        assert_eq!(module("conn/mod.rs"), "conn");
        assert_eq!(module("conn/ws.rs"), "conn::ws");
        assert_eq!(module("conn/ws/io.rs"), "conn::ws::io");
        assert_eq!(module("cli/main.rs"), "cli::main");
    }

    #[test]
    fn a_crate_on_disk_gives_its_edges_and_its_cycle() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let src = dir.path();
        let write = |file: &str, text: &str| {
            let path = src.join(file);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("create the directory");
            std::fs::write(path, text).expect("write the file");
        };
        write("lib.rs", "mod a; mod b; mod c; use crate::a::A;");
        write("a/mod.rs", "mod inner; use self::inner::X; pub(crate) use crate::{b::B, c::{self, C}};");
        write("a/inner.rs", "use super::super::b; fn f() { super::A::new(); }");
        write("b.rs", "pub struct B; #[cfg(test)] mod tests { use super::*; }");
        write("c.rs", "fn f() { crate::a::inner::g(); }");
        write("bin/tool.rs", "use crate::elsewhere;");
        let graph = read_crate(src).expect("read the crate");
        assert_eq!(graph.nodes().collect::<Vec<_>>(), ["a", "a::inner", "b", "c", "crate"]);
        let edges: Vec<(&str, &str)> =
            [("a", "b"), ("a", "c"), ("a::inner", "b"), ("a::inner", "a"), ("c", "a::inner")]
                .into_iter()
                .filter(|(from, to)| graph.edge(from, to).is_some())
                .collect();
        assert_eq!(edges.len(), 5, "found only {edges:?}");
        assert_eq!(graph.edge("a", "a::inner"), None, "a parent importing its child is no edge");
        assert_eq!(graph.edge("b", "b"), None);
        assert_eq!(graph.edge("c", "a::inner"), Some(&Origin { file: "c.rs".into(), line: 1 }));
        assert_eq!(graph.cycles(), [["a", "c", "a::inner", "a"]]);
    }

    #[test]
    fn a_parent_speaks_for_what_its_children_import() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let src = dir.path();
        std::fs::create_dir_all(src.join("conn")).expect("create conn/");
        for (file, text) in [
            ("lib.rs", "mod conn; mod engine;"),
            // `conn` itself imports nothing; only its child does.
            ("conn/mod.rs", "mod reader; pub struct Socket;"),
            ("conn/reader.rs", "use super::Socket; use crate::engine::Inbound;"),
            ("engine.rs", "use crate::conn::Socket; pub enum Inbound {}"),
        ] {
            std::fs::write(src.join(file), text).expect("write the file");
        }
        let graph = read_crate(src).expect("read the crate");
        assert!(graph.edge("conn::reader", "engine").is_some());
        assert_eq!(graph.edge("conn", "engine"), Some(&Origin { file: "conn/reader.rs".into(), line: 1 }));
        assert_eq!(graph.edge("conn", "conn"), None, "what a child takes from its parent stays inside");
        assert_eq!(graph.cycles(), [["conn", "engine", "conn"]]);
    }
}
