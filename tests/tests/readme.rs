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
