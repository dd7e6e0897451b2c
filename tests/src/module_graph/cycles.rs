//! A directed graph of modules and the cycles in it: Tarjan's strongly
//! connected components, and one shortest cycle through each component
//! that has more than one module, so that a failure names a path to cut.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Where an edge was seen: a file and a line in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file, relative to the crate's `src`.
    pub file: String,
    /// Its line, from 1.
    pub line: usize,
}

/// Modules, and which ones each imports, with where it first does.
#[derive(Debug, Default, Clone)]
pub struct Graph {
    edges: BTreeMap<String, BTreeMap<String, Origin>>,
}

impl Graph {
    /// Adds a module with no edges, if it is not there yet.
    pub fn add_node(&mut self, node: &str) {
        self.edges.entry(node.to_owned()).or_default();
    }

    /// Adds the edge `from -> to` (both become nodes); the first origin of
    /// an edge is the one kept.
    pub fn add_edge(&mut self, from: &str, to: &str, origin: Origin) {
        self.add_node(to);
        self.edges.entry(from.to_owned()).or_default().entry(to.to_owned()).or_insert(origin);
    }

    /// Every module, in order.
    pub fn nodes(&self) -> impl Iterator<Item = &str> {
        self.edges.keys().map(String::as_str)
    }

    /// Where `from` imports `to`, if it does.
    pub fn edge(&self, from: &str, to: &str) -> Option<&Origin> {
        self.edges.get(from)?.get(to)
    }

    /// One shortest cycle per group of modules that reach each other, each
    /// as its modules in order, the first repeated at the end
    /// (`["a", "b", "a"]`); none if the graph is acyclic. A module that
    /// imports itself is not a cycle.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        self.cyclic_groups().into_iter().map(|(cycle, _)| cycle).collect()
    }

    /// Each group of two or more modules that reach each other, with the
    /// shortest cycle through its first module.
    fn cyclic_groups(&self) -> Vec<(Vec<String>, BTreeSet<String>)> {
        self.components()
            .into_iter()
            .filter(|component| component.len() > 1)
            .map(|component| (self.shortest_cycle(&component), component))
            .collect()
    }

    /// Every cycle, as `a -> b -> a`, with where each of its edges is, one
    /// per line, and the other modules caught with it if there are more;
    /// empty if there is none.
    pub fn describe_cycles(&self) -> String {
        let mut text = String::new();
        for (cycle, group) in self.cyclic_groups() {
            text.push_str(&format!("cycle: {}\n", cycle.join(" -> ")));
            for pair in cycle.windows(2) {
                let origin = self.edge(&pair[0], &pair[1]).expect("a cycle is made of edges");
                text.push_str(&format!("  {} -> {} at {}:{}\n", pair[0], pair[1], origin.file, origin.line));
            }
            if group.len() + 1 > cycle.len() {
                let group: Vec<&str> = group.iter().map(String::as_str).collect();
                text.push_str(&format!("  all of these reach each other: {}\n", group.join(", ")));
            }
        }
        text
    }

    /// Strongly connected components (Tarjan), each sorted.
    fn components(&self) -> Vec<BTreeSet<String>> {
        struct Walk<'g> {
            graph: &'g Graph,
            index: BTreeMap<&'g str, usize>,
            low: BTreeMap<&'g str, usize>,
            stack: Vec<&'g str>,
            on_stack: BTreeSet<&'g str>,
            found: Vec<BTreeSet<String>>,
        }
        impl<'g> Walk<'g> {
            fn visit(&mut self, node: &'g str) {
                let number = self.index.len();
                self.index.insert(node, number);
                self.low.insert(node, number);
                self.stack.push(node);
                self.on_stack.insert(node);
                for next in self.graph.edges[node].keys() {
                    let next = next.as_str();
                    if !self.index.contains_key(next) {
                        self.visit(next);
                        let low = self.low[node].min(self.low[next]);
                        self.low.insert(node, low);
                    } else if self.on_stack.contains(next) {
                        let low = self.low[node].min(self.index[next]);
                        self.low.insert(node, low);
                    }
                }
                if self.low[node] == self.index[node] {
                    let mut component = BTreeSet::new();
                    loop {
                        let member = self.stack.pop().expect("the node itself is on the stack");
                        self.on_stack.remove(member);
                        component.insert(member.to_owned());
                        if member == node {
                            break;
                        }
                    }
                    self.found.push(component);
                }
            }
        }
        let mut walk = Walk {
            graph: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            found: Vec::new(),
        };
        for node in self.nodes() {
            if !walk.index.contains_key(node) {
                walk.visit(node);
            }
        }
        walk.found.sort();
        walk.found
    }

    /// The shortest cycle through the first module of `component` (breadth
    /// first, inside the component).
    fn shortest_cycle(&self, component: &BTreeSet<String>) -> Vec<String> {
        let start = component.first().expect("a component is never empty");
        let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([start.as_str()]);
        while let Some(node) = queue.pop_front() {
            for next in self.edges[node].keys().filter(|next| component.contains(*next)) {
                if next == start {
                    let mut cycle = vec![start.clone()];
                    let mut at = node;
                    while at != start {
                        cycle.push(at.to_owned());
                        at = came_from[at];
                    }
                    cycle.push(start.clone());
                    cycle.reverse();
                    return cycle;
                }
                if !came_from.contains_key(next.as_str()) {
                    came_from.insert(next, node);
                    queue.push_back(next);
                }
            }
        }
        unreachable!("every module of a component with two or more reaches itself")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str)]) -> Graph {
        let mut graph = Graph::default();
        for (line, (from, to)) in edges.iter().enumerate() {
            graph.add_edge(from, to, Origin { file: format!("{from}.rs"), line: line + 1 });
        }
        graph
    }

    #[test]
    fn a_tree_and_a_diamond_have_no_cycle() {
        let graph = graph(&[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e")]);
        assert!(graph.cycles().is_empty());
        assert_eq!(graph.describe_cycles(), "");
    }

    #[test]
    fn a_module_importing_itself_is_no_cycle() {
        assert!(graph(&[("a", "a"), ("a", "b")]).cycles().is_empty());
    }

    #[test]
    fn two_modules_importing_each_other_are_a_cycle() {
        let graph = graph(&[("x", "a"), ("a", "b"), ("b", "a")]);
        assert_eq!(graph.cycles(), [["a", "b", "a"]]);
        assert_eq!(graph.describe_cycles(), "cycle: a -> b -> a\n  a -> b at a.rs:2\n  b -> a at b.rs:3\n");
    }

    #[test]
    fn the_shortest_cycle_of_a_group_is_named_and_each_group_once() {
        // a -> b -> c -> d -> a, with a shortcut c -> a; and apart, e <-> f.
        let graph =
            graph(&[("a", "b"), ("b", "c"), ("c", "d"), ("d", "a"), ("c", "a"), ("e", "f"), ("f", "e"), ("f", "a")]);
        assert_eq!(graph.cycles(), [vec!["a", "b", "c", "a"], vec!["e", "f", "e"]]);
    }
}
