//! The crate-local paths one file names: every path of each `use` (groups
//! `{...}` expanded), and every `crate::`, `super::` and `self::` path in the
//! code, resolved to absolute module paths. `super::` is resolved from the
//! module it is written in, inline `mod tests { ... }` blocks included, so
//! a test module's `use super::*` names its own file.

use super::tokens::{Kind, Token, tokenize};

/// A path that starts at the crate root (`["conn", "queue", "OutQueue"]`),
/// and the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Named {
    pub(crate) path: Vec<String>,
    pub(crate) line: usize,
}

/// The crate-local paths in `source`, the text of the file for module
/// `module` (empty for the crate root).
pub(crate) fn crate_paths(source: &str, module: &[String]) -> Vec<Named> {
    let tokens = tokenize(source);
    let mut named = Vec::new();
    // The inline modules the cursor is in, with the brace depth inside each.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut at = 0;
    while at < tokens.len() {
        let here: Vec<String> = module.iter().cloned().chain(inline.iter().map(|(name, _)| name.clone())).collect();
        match &tokens[at].kind {
            Kind::OpenBrace => depth += 1,
            Kind::CloseBrace => {
                if inline.last().is_some_and(|&(_, inside)| inside == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Kind::Ident(word) if word == "mod" => {
                if let (Some(Kind::Ident(name)), Some(Kind::OpenBrace)) = (kind(&tokens, at + 1), kind(&tokens, at + 2))
                {
                    inline.push((name.clone(), depth + 1));
                    depth += 1;
                    at += 3;
                    continue;
                }
            }
            Kind::Ident(word) if word == "use" => {
                let line = tokens[at].line;
                let mut trees = Vec::new();
                at += 1;
                use_tree(&tokens, &mut at, &[], &mut trees);
                named.extend(trees.iter().filter_map(|path| resolve(path, &here)).map(|path| Named { path, line }));
                continue;
            }
            Kind::Ident(word)
                if is_path_root(word)
                    && !continues_a_path(&tokens, at)
                    && kind(&tokens, at + 1) == Some(&Kind::PathSep)
                    && !is_visibility(&tokens, at) =>
            {
                let line = tokens[at].line;
                let mut path = Vec::new();
                while let Some(Kind::Ident(segment)) = kind(&tokens, at) {
                    path.push(segment.clone());
                    if kind(&tokens, at + 1) != Some(&Kind::PathSep) {
                        break;
                    }
                    at += 2;
                }
                named.extend(resolve(&path, &here).map(|path| Named { path, line }));
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    named
}

fn kind(tokens: &[Token], at: usize) -> Option<&Kind> {
    tokens.get(at).map(|token| &token.kind)
}

fn is_path_root(word: &str) -> bool {
    matches!(word, "crate" | "super" | "self")
}

/// Whether the name at `at` is inside a longer path (`a::super`), which
/// cannot be, or `Self::`, which is not a module.
fn continues_a_path(tokens: &[Token], at: usize) -> bool {
    at > 0 && kind(tokens, at - 1) == Some(&Kind::PathSep)
}

/// `pub(in crate::a)` names a module to be seen from, not one used.
fn is_visibility(tokens: &[Token], at: usize) -> bool {
    at >= 2 && kind(tokens, at - 1) == Some(&Kind::Ident("in".into())) && kind(tokens, at - 2) == Some(&Kind::OpenParen)
}

/// Reads one use tree from `at` (`a::b`, `a::{b, c::*}`, `a as b`), adding
/// each path it names, behind `prefix`, to `out`; a glob names its module.
/// Stops after the tree, at the `,`, `}` or `;` that ends it.
fn use_tree(tokens: &[Token], at: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    loop {
        match kind(tokens, *at) {
            Some(Kind::PathSep) => *at += 1,
            Some(Kind::Ident(segment)) => {
                path.push(segment.clone());
                *at += 1;
                if kind(tokens, *at) != Some(&Kind::PathSep) {
                    if kind(tokens, *at) == Some(&Kind::Ident("as".into())) {
                        *at += 2;
                    }
                    out.push(path);
                    return;
                }
            }
            Some(Kind::Star) => {
                *at += 1;
                out.push(path);
                return;
            }
            Some(Kind::OpenBrace) => {
                *at += 1;
                loop {
                    match kind(tokens, *at) {
                        Some(Kind::CloseBrace) => {
                            *at += 1;
                            return;
                        }
                        Some(Kind::Comma) => *at += 1,
                        None => return,
                        Some(_) => {
                            let before = *at;
                            use_tree(tokens, at, &path, out);
                            if *at == before {
                                // Not a use tree after all: stop here.
                                return;
                            }
                        }
                    }
                }
            }
            // `use<'a>` (precise capturing) and anything unexpected.
            _ => return,
        }
    }
}

/// `path` as an absolute module path if it is crate-local (`crate::`,
/// `super::`, `self::`); `None` for another crate's or a bare path.
fn resolve(path: &[String], here: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String>;
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            base = Vec::new();
            rest = &path[1..];
        }
        Some("self") => {
            base = here.to_vec();
            rest = &path[1..];
        }
        Some("super") => {
            base = here.to_vec();
            while rest.first().is_some_and(|segment| segment == "super") {
                // `super` above the crate root does not compile.
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    // `use a::{self, b}`: a `self` inside a path names what is before it.
    base.extend(rest.iter().filter(|segment| *segment != "self").cloned());
    Some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(source: &str, module: &str) -> Vec<String> {
        let module: Vec<String> = module.split("::").filter(|s| !s.is_empty()).map(String::from).collect();
        crate_paths(source, &module).into_iter().map(|named| named.path.join("::")).collect()
    }

    #[test]
    fn use_groups_expand_over_lines_and_levels() {
        let source = "
            pub(crate) use crate::{
                a,
                b::{c, d::{self, E}},
                f::*,
                g as h,
            };
            use std::io::{self, Read};
        ";
        assert_eq!(paths(source, "x"), ["a", "b::c", "b::d", "b::d::E", "f", "g"]);
    }

    #[test]
    fn super_counts_from_the_module_it_is_written_in() {
        let source = "
            use super::sibling::Thing;
            use super::super::{Up, uncle};
            mod inner {
                use super::Own;
                fn f() { if true { let _ = super::super::Parent; } }
            }
            #[cfg(test)]
            mod tests {
                use super::*;
                fn g() { super::super::other::f(); }
            }
            fn h() { super::sibling::call(); }
        ";
        assert_eq!(
            paths(source, "a::b::c"),
            [
                "a::b::sibling::Thing",
                "a::Up",
                "a::uncle",
                "a::b::c::Own",
                "a::b::Parent",
                "a::b::c",
                "a::b::other::f",
                "a::b::sibling::call",
            ]
        );
    }

    #[test]
    fn paths_in_code_count_but_not_in_comments_strings_or_visibility() {
        let source = r#"
            /// See [`crate::doc`].
            pub(in crate::vis) fn f() -> crate::ret::T {
                let _ = "crate::text";
                crate::call::f::<crate::generic::G>();
                $crate::mac::m!();
                Self::new();
                other::crate_like::f();
            }
            pub(crate) fn g() {}
            pub(super) fn h() {}
        "#;
        assert_eq!(paths(source, "m"), ["ret::T", "call::f", "generic::G", "mac::m"]);
    }
}
