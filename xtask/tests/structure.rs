//! The shape of xtask: its modules import each other in one direction.
//!
//! Each `xtask/src/<module>.rs` (but `main.rs`, the root that declares them) is a node, its
//! submodules (`src/<module>/*.rs`) part of it; `a → b` is an edge when `a`'s code names a
//! path `crate::b…`, in a `use` or anywhere in its code, its tests included, and in the
//! arguments of a macro such as `format!`. What the generator writes (`quote!`,
//! `parse_quote!`: the `crate::types::…` of a generated crate) is not an import. There must be
//! no cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit_mut::{self, VisitMut};

/// A module's name and the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// Macros whose tokens are generated code, not this crate's.
const CODE_WRITING_MACROS: &[&str] = &["quote", "parse_quote", "quote_spanned"];

/// Every `crate::<name>` path in a file: in its syntax tree, and in the tokens of the macros
/// that are not code writers.
struct CratePaths {
    names: BTreeSet<String>,
}

impl CratePaths {
    fn tokens(&mut self, tokens: &TokenStream) {
        let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(group) => self.tokens(&group.stream()),
                TokenTree::Ident(ident) if ident == "crate" => {
                    // `crate` `:` `:` `name`
                    if let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(name)),
                    ) = (trees.get(i + 1), trees.get(i + 2), trees.get(i + 3))
                        && a.as_char() == ':'
                        && b.as_char() == ':'
                    {
                        self.names.insert(name.to_string());
                    }
                }
                _ => {}
            }
        }
    }

    fn use_tree(&mut self, tree: &syn::UseTree, under_crate: bool) {
        match tree {
            syn::UseTree::Path(p) if p.ident == "crate" => self.use_tree(&p.tree, true),
            syn::UseTree::Path(p) if under_crate => {
                self.names.insert(p.ident.to_string());
            }
            syn::UseTree::Name(n) if under_crate => {
                self.names.insert(n.ident.to_string());
            }
            syn::UseTree::Rename(r) if under_crate => {
                self.names.insert(r.ident.to_string());
            }
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(tree, under_crate);
                }
            }
            _ => {}
        }
    }
}

impl VisitMut for CratePaths {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path.segments.len() > 1 && path.segments[0].ident == "crate" {
            self.names.insert(path.segments[1].ident.to_string());
        }
        visit_mut::visit_path_mut(self, path);
    }

    fn visit_item_use_mut(&mut self, item: &mut syn::ItemUse) {
        self.use_tree(&item.tree, false);
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        let writes_code = mac
            .path
            .segments
            .last()
            .is_some_and(|last| CODE_WRITING_MACROS.iter().any(|m| last.ident == m));
        if !writes_code {
            self.tokens(&mac.tokens);
        }
    }
}

/// The `crate::<name>` first segments `source` names.
fn crate_names(file: &str, source: &str) -> BTreeSet<String> {
    let mut syntax: syn::File =
        syn::parse_file(source).unwrap_or_else(|e| panic!("{file} does not parse: {e}"));
    let mut paths = CratePaths {
        names: BTreeSet::new(),
    };
    paths.visit_file_mut(&mut syntax);
    paths.names
}

/// The module graph of sources keyed by module (`main` the root; a submodule's file keyed
/// by its parent module).
fn graph(files: &[(String, String, String)]) -> Graph {
    let modules: BTreeSet<String> = files
        .iter()
        .map(|(module, _, _)| module.clone())
        .filter(|m| m != "main")
        .collect();
    let mut graph = Graph::new();
    for (module, file, source) in files {
        if module == "main" {
            continue;
        }
        let edges = graph.entry(module.clone()).or_default();
        for name in crate_names(file, source) {
            assert!(
                modules.contains(&name),
                "{file} names crate::{name}, which is not a module: the root only declares \
                 modules and dispatches commands"
            );
            if name != *module {
                edges.insert(name);
            }
        }
    }
    graph
}

/// A cycle of `graph`, as the modules along it with the first repeated at the end, if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(from) = path.iter().position(|n| n == node) {
            let mut cycle = path[from..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, done, path) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

/// `xtask/src/*.rs` and `xtask/src/<module>/*.rs`, as (module, file, source).
fn sources(dir: &Path) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut read = |module: &str, path: &Path| {
        let source =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push((module.to_string(), path.display().to_string(), source));
    };
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a UTF-8 file name")
            .to_string();
        if path.extension().is_some_and(|e| e == "rs") {
            read(&stem, &path);
        } else if path.is_dir() {
            for sub in std::fs::read_dir(&path).expect("a readable directory") {
                let sub = sub.expect("a directory entry").path();
                if sub.extension().is_some_and(|e| e == "rs") {
                    read(&stem, &sub);
                }
            }
        }
    }
    out.sort();
    out
}

fn show(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(module, edges)| {
            let edges: Vec<&str> = edges.iter().map(String::as_str).collect();
            format!("{module} → {}", edges.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn xtask_modules_import_each_other_in_one_direction() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph(&sources(&dir));
    eprintln!("{}", show(&graph));
    // The parser sees the imports there are (so that an empty graph cannot pass).
    for (from, to) in [
        ("generate", "spec"),
        ("generate", "rewrite"),
        ("rewrite", "spec"),
        ("test", "process"),
        ("lint", "workspace"),
    ] {
        assert!(
            graph.get(from).is_some_and(|edges| edges.contains(to)),
            "{from} → {to} not found:\n{}",
            show(&graph)
        );
    }
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "xtask's modules import each other in a circle: {}\n\nthe whole graph:\n{}",
            cycle.join(" → "),
            show(&graph)
        );
    }
}

#[test]
fn a_cycle_is_found_and_named_and_generated_code_is_not_an_import() {
    let files: Vec<(String, String, String)> = [
        ("a", "use crate::b::Thing;\nfn f() { quote!(crate::c::X); }"),
        (
            "b",
            "use crate::{c::{self, Other}};\nfn f() { println!(\"{}\", crate::d::g()); }",
        ),
        ("c", "fn g(_: crate::a::Alpha) {}"),
        ("d", "fn g() { syn::parse_quote!(crate::a::Generated) }"),
    ]
    .into_iter()
    .map(|(name, text)| (name.to_string(), format!("{name}.rs"), text.to_string()))
    .collect();
    let graph = graph(&files);
    assert_eq!(show(&graph), "a → b\nb → c, d\nc → a\nd → ");
    assert_eq!(
        find_cycle(&graph).map(|cycle| cycle.join(" → ")),
        Some("a → b → c → a".to_string())
    );
    let mut acyclic = graph.clone();
    acyclic.get_mut("c").expect("c").clear();
    assert_eq!(find_cycle(&acyclic), None);
}
