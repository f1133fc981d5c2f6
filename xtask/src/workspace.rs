//! Where things are: the workspace root, the specs and the crates generated from them, and
//! how paths and digests are shown.

use std::path::{Path, PathBuf};

/// The workspace root: `WORKSPACE_ROOT`, which `.cargo/config.toml` sets for every crate of
/// the workspace when it is built and for every command cargo runs (so that xtask, built
/// once, also serves a copy of the workspace it is run in).
pub(crate) fn root() -> PathBuf {
    std::env::var_os("WORKSPACE_ROOT")
        .filter(|root| !root.is_empty())
        .map_or_else(|| PathBuf::from(env!("WORKSPACE_ROOT")), PathBuf::from)
}

/// One spec and the crate generated from it.
pub(crate) struct Service {
    pub name: String,
    pub spec_path: PathBuf,
    pub crate_dir: PathBuf,
}

/// Every `specs/*.yaml`, sorted by name, each paired with `crates/<name>-api`.
pub(crate) fn services(only: Option<&str>) -> Result<Vec<Service>, String> {
    let root = crate::workspace::root();
    let specs = root.join("specs");
    let mut found = Vec::new();
    let entries =
        std::fs::read_dir(&specs).map_err(|e| format!("cannot read {}: {e}", specs.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let crate_dir = root.join("crates").join(format!("{name}-api"));
        if !crate_dir.join("Cargo.toml").is_file() {
            return Err(format!(
                "{} has no client crate: expected {}/Cargo.toml",
                relative(&path),
                relative(&crate_dir)
            ));
        }
        found.push(Service {
            name: name.to_string(),
            spec_path: path,
            crate_dir,
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(only) = only {
        found.retain(|s| s.name == only);
        if found.is_empty() {
            return Err(format!("--only {only}: there is no specs/{only}.yaml"));
        }
    }
    if found.is_empty() {
        return Err("specs/ holds no *.yaml".into());
    }
    Ok(found)
}

pub(crate) fn relative(path: &Path) -> String {
    let root = crate::workspace::root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
