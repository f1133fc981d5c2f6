//! The shape of the code: `api-runtime`'s modules import each other in one direction.
//!
//! Each `crates/api-runtime/src/<module>.rs` (but `lib.rs`, the root that declares them) is a
//! node; `a → b` is an edge when `a`'s code names a path `crate::b…` (or `$crate::b…` in a
//! macro), its test modules included, its comments (doc links too) and string literals not.
//! A path through a name the crate root re-exports (`crate::ApiError`) is an edge to the
//! module that defines it (`error`). There must be no cycle: no module imports, directly or
//! through others, a module that imports it back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module's name and the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// `source` with its comments, string literals and character literals blanked out (each
/// replaced by one space), so that only code is searched for paths. Lifetimes stay.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let at_word_start = i == 0 || !ident(chars[i - 1]);
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            out.push(' ');
            continue;
        }
        if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
            continue;
        }
        // Raw strings: r"…", r#"…"#, br#"…"# (but not a raw identifier, r#type).
        let raw_start = match c {
            'r' if at_word_start => Some(i + 1),
            'b' if at_word_start && next == Some('r') => Some(i + 2),
            _ => None,
        };
        if let Some(start) = raw_start {
            let hashes = chars[start..].iter().take_while(|c| **c == '#').count();
            if chars.get(start + hashes) == Some(&'"') {
                let mut j = start + hashes + 1;
                loop {
                    match chars.get(j) {
                        None => break,
                        Some('"')
                            if chars[j + 1..].iter().take_while(|c| **c == '#').count()
                                >= hashes =>
                        {
                            j += 1 + hashes;
                            break;
                        }
                        Some(_) => j += 1,
                    }
                }
                i = j;
                out.push(' ');
                continue;
            }
        }
        if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(' ');
            continue;
        }
        if c == '\'' {
            // A character literal ('x', '\n', '\u{1F600}'), not a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push(' ');
                continue;
            }
            if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push(' ');
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// A path of a use tree (or of an expression) and the name it is bound to (`as`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct UsePath {
    segments: Vec<String>,
    alias: Option<String>,
}

/// Reads one use tree (or the path of an expression) from `code` at `*at`: `a::b`,
/// `a::{b, c::d as e, self}`, `a::*`. Stops at anything else (`(`, `<`, `;`).
fn parse_tree(code: &[char], at: &mut usize) -> Vec<UsePath> {
    let skip_ws = |at: &mut usize| {
        while code.get(*at).is_some_and(|c| c.is_whitespace()) {
            *at += 1;
        }
    };
    skip_ws(at);
    match code.get(*at) {
        Some('{') => {
            *at += 1;
            let mut all = Vec::new();
            loop {
                skip_ws(at);
                match code.get(*at) {
                    None => return all,
                    Some('}') => {
                        *at += 1;
                        return all;
                    }
                    Some(',') => *at += 1,
                    Some(_) => {
                        let before = *at;
                        all.extend(parse_tree(code, at));
                        if *at == before {
                            // Not a path: step over it rather than loop.
                            *at += 1;
                        }
                    }
                }
            }
        }
        Some('*') => {
            *at += 1;
            vec![UsePath {
                segments: Vec::new(),
                alias: None,
            }]
        }
        Some(c) if c.is_alphabetic() || *c == '_' => {
            let start = *at;
            while code
                .get(*at)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
            {
                *at += 1;
            }
            let name: String = code[start..*at].iter().collect();
            let after_name = *at;
            skip_ws(at);
            if code.get(*at) == Some(&':') && code.get(*at + 1) == Some(&':') {
                *at += 2;
                let rest = parse_tree(code, at);
                return rest
                    .into_iter()
                    .map(|mut path| {
                        path.segments.insert(0, name.clone());
                        path
                    })
                    .collect();
            }
            let word = |at: usize, word: &str| {
                code[at..].starts_with(&word.chars().collect::<Vec<_>>())
                    && !code
                        .get(at + word.len())
                        .is_some_and(|c| c.is_alphanumeric() || *c == '_')
            };
            let mut alias = None;
            if word(*at, "as") {
                *at += 2;
                skip_ws(at);
                let start = *at;
                while code
                    .get(*at)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    *at += 1;
                }
                alias = Some(code[start..*at].iter().collect());
            } else {
                *at = after_name;
            }
            let segments = if name == "self" {
                Vec::new()
            } else {
                vec![name]
            };
            vec![UsePath { segments, alias }]
        }
        _ => Vec::new(),
    }
}

/// Every path that starts with `crate::` (or `$crate::`) in `code`, without that prefix.
fn crate_paths(code: &str) -> Vec<UsePath> {
    let chars: Vec<char> = code.chars().collect();
    let needle: Vec<char> = "crate".chars().collect();
    let mut paths = Vec::new();
    let mut i = 0;
    while i + needle.len() <= chars.len() {
        let word_start = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if word_start && chars[i..].starts_with(&needle) {
            let mut at = i + needle.len();
            while chars.get(at).is_some_and(|c| c.is_whitespace()) {
                at += 1;
            }
            if chars.get(at) == Some(&':') && chars.get(at + 1) == Some(&':') {
                at += 2;
                paths.extend(parse_tree(&chars, &mut at));
                i = at.max(i + 1);
                continue;
            }
        }
        i += 1;
    }
    paths
}

/// What the crate root makes of a name: the module that defines it, or `None` for an
/// external crate's item (`reqwest`, `serde`). Names inside an inline module of the root
/// (`__private`) are keyed `__private::name`.
fn root_exports(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, Option<String>> {
    let code: Vec<char> = code_only(lib).chars().collect();
    let text: String = code.iter().collect();
    let mut exports = BTreeMap::new();
    // The inline modules of the root, by the range of their body.
    let mut inline: Vec<(String, usize, usize)> = Vec::new();
    for (start, _) in text.match_indices("mod ") {
        let mut at = start + 4;
        let name: String = code[at..]
            .iter()
            .take_while(|c| c.is_alphanumeric() || **c == '_')
            .collect();
        at += name.len();
        while code.get(at).is_some_and(|c| c.is_whitespace()) {
            at += 1;
        }
        if code.get(at) != Some(&'{') {
            continue;
        }
        let mut depth = 0;
        let open = at;
        while at < code.len() {
            match code[at] {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            at += 1;
        }
        inline.push((name, open, at));
    }
    for (start, _) in text.match_indices("use ") {
        if start > 0 && (code[start - 1].is_alphanumeric() || code[start - 1] == '_') {
            continue;
        }
        let prefix = inline
            .iter()
            .find(|(_, open, close)| (*open..*close).contains(&start))
            .map_or(String::new(), |(name, _, _)| format!("{name}::"));
        let mut at = start + 4;
        for path in parse_tree(&code, &mut at) {
            let mut segments = path.segments.as_slice();
            if segments.first().map(String::as_str) == Some("crate") {
                segments = &segments[1..];
            }
            let Some(last) = segments.last() else {
                continue;
            };
            let name = path.alias.clone().unwrap_or_else(|| last.clone());
            let module = segments.first().filter(|m| modules.contains(*m)).cloned();
            exports.insert(format!("{prefix}{name}"), module);
        }
    }
    exports
}

/// The module graph of the crate whose sources are `files` (file stem → source), `lib.rs`
/// among them.
fn graph(files: &BTreeMap<String, String>) -> Graph {
    let modules: BTreeSet<String> = files.keys().filter(|m| *m != "lib").cloned().collect();
    let exports = root_exports(files.get("lib").map_or("", String::as_str), &modules);
    let mut graph = Graph::new();
    for module in &modules {
        let edges = graph.entry(module.clone()).or_default();
        for path in crate_paths(&code_only(&files[module])) {
            let Some(first) = path.segments.first() else {
                continue;
            };
            let target = if modules.contains(first) {
                Some(first.clone())
            } else {
                let key = match path.segments.get(1) {
                    Some(second) if !exports.contains_key(first) => format!("{first}::{second}"),
                    _ => first.clone(),
                };
                exports.get(&key).cloned().unwrap_or_else(|| {
                    panic!(
                        "{module}.rs names crate::{}, which is neither a module nor a \
                         re-export of the crate root: teach this test about it",
                        path.segments.join("::")
                    )
                })
            };
            if let Some(target) = target.filter(|t| t != module) {
                edges.insert(target);
            }
        }
    }
    graph
}

/// A cycle of `graph`, as the modules along it with the first repeated at the end, if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_string(), Mark::OnPath);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next).copied().unwrap_or(Mark::New) {
                Mark::OnPath => {
                    let from = path.iter().position(|n| n == next).expect("on the path");
                    let mut cycle = path[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(cycle) = visit(next, graph, marks, path) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New
            && let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

/// The sources of `crates/<name>/src/*.rs`, by file stem.
fn sources(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("a UTF-8 file name")
                .to_string();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            files.insert(stem, text);
        }
    }
    files
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
fn runtime_modules_import_each_other_in_one_direction() {
    let dir = tests::specs::root().join("crates/api-runtime/src");
    let files = sources(&dir);
    let graph = graph(&files);
    eprintln!("{}", show(&graph));
    // The parser sees the imports there are (so that an empty graph cannot pass).
    for (from, to) in [
        ("runtime", "retry"),
        ("runtime", "time"),
        ("pacing", "operation"),
        ("config", "timeouts"),
        ("error", "retry"),
    ] {
        assert!(
            graph.get(from).is_some_and(|edges| edges.contains(to)),
            "{from} → {to} not found:\n{}",
            show(&graph)
        );
    }
    assert_eq!(
        graph.len(),
        files.len() - 1,
        "every module but lib is a node"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "api-runtime's modules import each other in a circle: {}\n\nthe whole graph:\n{}",
            cycle.join(" → "),
            show(&graph)
        );
    }
}

#[test]
fn a_cycle_is_found_and_named() {
    let files: BTreeMap<String, String> = [
        (
            "lib",
            "mod a;\nmod b;\nmod c;\npub use a::{Alpha, Beta as B};\n",
        ),
        (
            "a",
            "use crate::b::Thing;\npub struct Alpha;\npub struct Beta;",
        ),
        (
            "b",
            "use crate::{c::{self, Other}};\nfn f() -> crate::c::X { todo!() }",
        ),
        ("c", "fn g(_: crate::B) {}"),
    ]
    .into_iter()
    .map(|(name, text)| (name.to_string(), text.to_string()))
    .collect();
    let graph = graph(&files);
    assert_eq!(show(&graph), "a → b\nb → c\nc → a");
    assert_eq!(
        find_cycle(&graph).map(|cycle| cycle.join(" → ")),
        Some("a → b → c → a".to_string())
    );
    let mut acyclic = graph.clone();
    acyclic.get_mut("c").expect("c").clear();
    assert_eq!(find_cycle(&acyclic), None);
}

#[test]
fn comments_and_literals_are_not_imports() {
    let code = r####"
        //! See [`X`](crate::doc_comment).
        /// [`Clock`](crate::doc_link)
        // crate::line_comment
        /* crate::block /* nested crate::inner */ crate::still_block */
        const S: &str = "crate::string \" crate::escaped";
        const R: &str = r#"crate::raw " crate::raw_quote"#;
        const Q: char = '"';
        fn f<'a>(x: &'a str) -> crate::real::Type { crate::other::f(x) }
        macro_rules! m { () => { $crate::in_macro::Item }; }
        let _ = my_crate::not_ours;
    "####;
    let paths: Vec<String> = crate_paths(&code_only(code))
        .into_iter()
        .map(|p| p.segments.join("::"))
        .collect();
    assert_eq!(paths, ["real::Type", "other::f", "in_macro::Item"]);
}
