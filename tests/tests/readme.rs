//! The install lines the READMEs give work as written: every `git` dependency names a
//! publishable crate of this workspace, the repository the workspace declares, and features
//! that crate has. (The quick starts themselves are doctests: the workspace README's in the
//! facade, each crate README's in its crate.)

use std::collections::BTreeMap;
use std::path::Path;

use tests::specs::root;

/// `[package]` name, `publish` and `[features]` of a crate manifest, read line by line.
struct Manifest {
    publish: bool,
    features: Vec<String>,
}

fn manifest(path: &Path) -> (String, Manifest) {
    let text = std::fs::read_to_string(path).expect("manifest");
    let mut name = String::new();
    let mut publish = true;
    let mut features = Vec::new();
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match section.as_str() {
            "[package]" if key == "name" => name = value.trim_matches('"').to_string(),
            "[package]" if key == "publish" => publish = value != "false",
            "[features]" => features.push(key.to_string()),
            _ => {}
        }
    }
    (name, Manifest { publish, features })
}

fn workspace_crates() -> BTreeMap<String, Manifest> {
    let mut crates = BTreeMap::new();
    for entry in std::fs::read_dir(root().join("crates")).expect("crates/") {
        let path = entry.expect("entry").path().join("Cargo.toml");
        if path.is_file() {
            let (name, manifest) = manifest(&path);
            crates.insert(name, manifest);
        }
    }
    crates
}

fn repository() -> String {
    let text = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    text.lines()
        .find_map(|l| l.strip_prefix("repository = "))
        .map(|v| v.trim_matches('"').to_string())
        .expect("[workspace.package] repository")
}

/// Every `name = { git = "…", … }` line inside the ```toml blocks of a README.
fn install_lines(readme: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_toml = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_toml = line.trim() == "```toml";
            continue;
        }
        if in_toml && line.contains("git = ") {
            lines.push(line.to_string());
        }
    }
    lines
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    // A leading space: `features` must not match inside `default-features`.
    let start = line.find(&format!(" {key} = "))? + key.len() + 4;
    let rest = &line[start..];
    if let Some(list) = rest.strip_prefix('[') {
        return list.split(']').next();
    }
    rest.strip_prefix('"')?.split('"').next()
}

#[test]
fn install_lines_name_real_crates_features_and_the_repository() {
    let crates = workspace_crates();
    let repository = repository();
    let mut readmes = vec![root().join("README.md")];
    readmes.extend(
        crates
            .keys()
            .map(|name| root().join("crates").join(name).join("README.md")),
    );
    let mut checked = 0;
    for readme in readmes {
        let Ok(text) = std::fs::read_to_string(&readme) else {
            continue;
        };
        for line in install_lines(&text) {
            let where_ = format!("{}: {line}", readme.display());
            let name = line.split_whitespace().next().expect("a dependency name");
            let krate = crates
                .get(name)
                .unwrap_or_else(|| panic!("{where_}: no crate `{name}` in crates/"));
            assert!(krate.publish, "{where_}: `{name}` is not publishable");
            assert_eq!(field(&line, "git"), Some(repository.as_str()), "{where_}");
            if let Some(features) = field(&line, "features") {
                for feature in features.split(',').map(|f| f.trim().trim_matches('"')) {
                    assert!(
                        krate.features.iter().any(|f| f == feature),
                        "{where_}: `{name}` has no feature `{feature}`"
                    );
                }
            }
            checked += 1;
        }
    }
    // The workspace README: the facade and one client crate; the facade's README.
    assert!(checked >= 3, "found only {checked} install lines");
}

/// Every service's operation count and enum values, read from `specs/<svc>.yaml`.
struct SpecFacts {
    operations: BTreeMap<String, usize>,
    /// Enum schema name → its values.
    enums: BTreeMap<String, Vec<String>>,
}

fn spec_facts() -> SpecFacts {
    let mut facts = SpecFacts {
        operations: BTreeMap::new(),
        enums: BTreeMap::new(),
    };
    for entry in std::fs::read_dir(root().join("specs")).expect("specs/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let service = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a spec name")
            .to_string();
        let text = std::fs::read_to_string(&path).expect("a spec");
        let spec: openapiv3::OpenAPI = yaml_serde::from_str(&text).expect("a valid spec");
        facts.operations.insert(service, spec.operations().count());
        for (name, schema) in spec.components.iter().flat_map(|c| c.schemas.iter()) {
            if let Some(openapiv3::SchemaKind::Type(openapiv3::Type::String(s))) =
                schema.as_item().map(|s| &s.schema_kind)
                && !s.enumeration.is_empty()
            {
                let values = s.enumeration.iter().flatten().cloned().collect();
                facts.enums.insert(name.clone(), values);
            }
        }
    }
    facts
}

/// The README is a user's page: at most 400 lines, and it says the project's two commands
/// (regenerate after a spec change, then every check) with what each does.
#[test]
fn readme_is_short_and_names_generate_and_test() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 400,
        "README.md has {lines} lines; move contributor material out"
    );
    for command in ["cargo xtask generate", "cargo xtask test"] {
        assert!(
            readme.contains(command),
            "README.md does not show `{command}`"
        );
    }
}

/// The files where a count or a list the specs determine may be printed.
fn documents() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = [
        "README.md",
        "CONTRIBUTING.md",
        "BENCHMARKS.md",
        "TESTING.md",
    ]
    .iter()
    .map(|f| root().join(f))
    .collect();
    for dir in ["crates", "bench/src"] {
        let mut stack = vec![root().join(dir)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("a directory") {
                let path = entry.expect("entry").path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if path.is_dir() {
                    if name != "generated" && name != "target" {
                        stack.push(path);
                    }
                } else if (name.ends_with(".md") && name != "OPERATIONS.md")
                    || (name.ends_with(".rs") && name != "generated.rs")
                {
                    files.push(path);
                }
            }
        }
    }
    files.retain(|f| f.is_file());
    files
}

/// The service a line speaks of at byte `at`: the last service name before it on the line.
fn service_before(line: &str, at: usize, services: &[String]) -> Option<String> {
    let before = line[..at].to_lowercase();
    services
        .iter()
        .filter_map(|s| before.rfind(s.as_str()).map(|i| (i, s.clone())))
        .max()
        .map(|(_, s)| s)
}

/// Each `N operations` / `N operation builders` in the docs, outside code blocks:
/// (file, line number, the service named before it on its line, N).
fn printed_operation_counts(
    text: &str,
    services: &[String],
) -> Vec<(usize, Option<String>, usize)> {
    let mut out = Vec::new();
    let mut in_code = false;
    for (number, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        // Every run of digits (with thousands separators), where it starts on the line.
        let mut words: Vec<(usize, &str)> = Vec::new();
        let mut start = None;
        for (i, c) in line
            .char_indices()
            .chain(std::iter::once((line.len(), ' ')))
        {
            match (start, c.is_ascii_digit() || (c == ',' && start.is_some())) {
                (None, true) => start = Some(i),
                (Some(s), false) => {
                    words.push((s, line[s..i].trim_end_matches(',')));
                    start = None;
                }
                _ => {}
            }
        }
        for (at, digits) in words {
            let rest = &line[at + digits.len()..];
            if !(rest.starts_with(" operations") || rest.starts_with(" operation builders")) {
                continue;
            }
            let Ok(n) = digits.replace(',', "").parse::<usize>() else {
                continue;
            };
            out.push((number + 1, service_before(line, at, services), n));
        }
    }
    out
}

#[test]
fn operation_counts_printed_anywhere_match_the_specs() {
    let facts = spec_facts();
    let services: Vec<String> = facts.operations.keys().cloned().collect();
    let mut checked = 0;
    for file in documents() {
        let text = std::fs::read_to_string(&file).expect("a document");
        for (line, service, n) in printed_operation_counts(&text, &services) {
            let where_ = format!("{}:{line}", file.display());
            let service = service
                .unwrap_or_else(|| panic!("{where_}: `{n} operations` names no service before it"));
            assert_eq!(
                n, facts.operations[&service],
                "{where_}: {service} has {} operations in its spec, not {n}",
                facts.operations[&service]
            );
            checked += 1;
        }
    }
    // The README's crate table (three) and the crate docs' mentions.
    assert!(
        checked >= 5,
        "found only {checked} printed operation counts"
    );
}

#[test]
fn a_count_is_attributed_to_the_service_named_before_it() {
    let services = vec!["cerego".to_string(), "zendesk".to_string()];
    let found = printed_operation_counts(
        "| `zendesk-api` | 41 operations |\n```\n`cerego-api` (9 operations)\n```\n12 operations",
        &services,
    );
    assert_eq!(
        found,
        vec![(1, Some("zendesk".to_string()), 41), (5, None, 12)]
    );
}

#[test]
fn enum_values_listed_in_prose_are_the_specs() {
    let facts = spec_facts();
    let mut checked = 0;
    for file in documents() {
        let text = std::fs::read_to_string(&file).expect("a document");
        for (number, line) in text.lines().enumerate() {
            for (name, values) in &facts.enums {
                // "(`UserRole`) are `end-user`, `agent`, `admin`": a list after the type name.
                let Some(at) = line.find(&format!("`{name}`")) else {
                    continue;
                };
                let listed: Vec<&str> = line[at + name.len() + 2..]
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .take_while(|v| values.iter().any(|known| known == v) || !v.contains(' '))
                    .collect();
                let known = listed
                    .iter()
                    .filter(|v| values.iter().any(|k| k == *v))
                    .count();
                if known < 2 {
                    continue;
                }
                let listed: Vec<String> = listed.iter().map(|v| v.to_string()).collect();
                assert_eq!(
                    &listed,
                    values,
                    "{}:{}: `{name}`'s values are {values:?}",
                    file.display(),
                    number + 1
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 1, "the README's roles are no longer listed");
}

#[test]
fn readmes_rendered_as_crate_docs_link_absolutely() {
    for entry in std::fs::read_dir(root().join("crates")).expect("crates/") {
        let dir = entry.expect("entry").path();
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap_or_default();
        if !lib.contains("include_str!(\"../README.md\")") {
            continue;
        }
        let readme = std::fs::read_to_string(dir.join("README.md")).expect("its README");
        for (number, line) in readme.lines().enumerate() {
            for target in line.split("](").skip(1) {
                let target = target.split(')').next().unwrap_or_default();
                let absolute = target.starts_with("https://") || target.starts_with("http://");
                assert!(
                    absolute || target.starts_with('#'),
                    "{}/README.md:{}: `{target}` breaks on docs.rs: use the repository URL",
                    dir.display(),
                    number + 1
                );
            }
        }
    }
}

/// The names of the crates a README's ```toml blocks add as dependencies, as Rust names.
fn toml_dependencies(readme: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_toml = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_toml = line.trim() == "```toml";
            continue;
        }
        if in_toml && let Some((name, _)) = line.split_once('=') {
            names.push(name.trim().replace('-', "_"));
        }
    }
    names
}

/// Every crate a README's Rust examples name (`name::…` at the start of a path), among the
/// workspace's crates and the ones examples commonly use.
fn crates_named(readme: &str, candidates: &[String]) -> Vec<String> {
    let mut code = String::new();
    let mut in_rust = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_rust = line.trim() == "```rust";
            continue;
        }
        if in_rust {
            code.push_str(line);
            code.push('\n');
        }
    }
    candidates
        .iter()
        .filter(|name| {
            code.match_indices(&format!("{name}::")).any(|(at, _)| {
                !code[..at].ends_with(|c: char| c == ':' || c == '_' || c.is_alphanumeric())
            })
        })
        .cloned()
        .collect()
}

/// A mock crate's README compiles for whoever follows its install lines, whether the client
/// is a direct dependency or comes through the facade: its examples name only the crates its
/// ```toml block adds (the client's types through the mock crate's re-exports).
#[test]
fn mock_readmes_name_only_the_crates_they_install() {
    let mut candidates: Vec<String> = workspace_crates()
        .keys()
        .map(|name| name.replace('-', "_"))
        .collect();
    candidates.extend(
        [
            "futures",
            "serde_json",
            "tokio",
            "uuid",
            "chrono",
            "httpmock",
        ]
        .map(String::from),
    );
    let mut checked = 0;
    for service in ["zendesk", "cerego", "sendauth"] {
        let path = root().join(format!("crates/{service}-api-mock/README.md"));
        let readme = std::fs::read_to_string(&path).expect("mock README");
        let installed = toml_dependencies(&readme);
        let missing: Vec<String> = crates_named(&readme, &candidates)
            .into_iter()
            .filter(|name| !installed.contains(name))
            .collect();
        assert!(
            missing.is_empty(),
            "{}: the examples name {missing:?}, which its install lines do not add",
            path.display()
        );
        checked += 1;
    }
    assert_eq!(checked, 3);
    // The check can fail: a client crate named directly is not installed by a mock README.
    let named = crates_named(
        "```rust\nuse sendauth_api::types;\nuse sendauth_api_mock::prelude::*;\n```\n",
        &candidates,
    );
    assert_eq!(named, ["sendauth_api", "sendauth_api_mock"]);
}
