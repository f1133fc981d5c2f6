//! The corpus of realistic responses: `tests/corpus/<service>/<operationId>/<name>.json`.
//!
//! Each file is a response body as the service sends it, plus two keys that are not part of
//! the body and are stripped here: `_source` (required: where the shape comes from) and
//! `_status` (optional: the success status it comes with, when not the operation's first),
//! `_odd_items` (optional: the JSON paths of the listing items the model refuses).
//! See `tests/corpus/README.md`.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// One corpus file.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The service (directory under `tests/corpus/`).
    pub service: String,
    /// The operationId (directory under the service).
    pub operation: String,
    /// The file stem.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Where its shape comes from.
    pub source: String,
    /// The success status it comes with, if given.
    pub status: Option<u16>,
    /// The JSON paths of the listing items the model refuses, in order (`_odd_items`):
    /// the page as a whole then fails to decode at the first, and a stream reports each
    /// in its place and yields the others.
    pub odd_items: Vec<String>,
    /// The body, without `_source` and `_status`.
    pub body: Value,
}

impl Entry {
    /// `service::operation/name`, for messages.
    pub fn label(&self) -> String {
        format!("{}::{}/{}", self.service, self.operation, self.name)
    }
}

/// `tests/corpus`.
pub fn dir() -> PathBuf {
    crate::specs::root().join("tests/corpus")
}

/// Every corpus file under `root`, sorted by path; an error names each file that is not
/// a JSON object with a non-empty `_source`, and anything else found in the tree.
pub fn entries_in(root: &Path) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for service in sorted_dir(root)? {
        if !service.is_dir() {
            if service.file_name().is_some_and(|n| n != "README.md") {
                problems.push(format!("{}: not a service directory", service.display()));
            }
            continue;
        }
        for operation in sorted_dir(&service)? {
            if !operation.is_dir() {
                problems.push(format!(
                    "{}: not an operation directory",
                    operation.display()
                ));
                continue;
            }
            for file in sorted_dir(&operation)? {
                if file.extension().and_then(|e| e.to_str()) != Some("json") {
                    problems.push(format!("{}: not a .json file", file.display()));
                    continue;
                }
                match read(&file, &service, &operation) {
                    Ok(entry) => entries.push(entry),
                    Err(e) => problems.push(format!("{}: {e}", file.display())),
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems.join("\n"))
    }
}

/// Every file of the committed corpus.
///
/// # Panics
///
/// When a file is malformed (see [`entries_in`]).
pub fn entries() -> Vec<Entry> {
    entries_in(&dir()).unwrap_or_else(|e| panic!("the corpus has malformed files:\n{e}"))
}

fn sorted_dir(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    Ok(paths)
}

fn name_of(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string()
}

fn read(file: &Path, service: &Path, operation: &Path) -> Result<Entry, String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(mut body) = value else {
        return Err("not a JSON object".into());
    };
    let source = match body.remove("_source") {
        Some(Value::String(s)) if !s.trim().is_empty() => s,
        _ => return Err("no `_source` saying where the shape comes from".into()),
    };
    let status = match body.remove("_status") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .filter(|s| (200..300).contains(s))
                .ok_or("`_status` is not a 2xx status")?,
        ),
    };
    let odd_items = match body.remove("_odd_items") {
        None => Vec::new(),
        Some(Value::Array(paths)) if !paths.is_empty() => paths
            .into_iter()
            .map(|p| match p {
                Value::String(p) if !p.is_empty() => Ok(p),
                _ => Err("`_odd_items` holds something other than a JSON path".to_string()),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`_odd_items` is not a non-empty list of JSON paths".into()),
    };
    Ok(Entry {
        service: name_of(service),
        operation: name_of(operation),
        name: name_of(file),
        path: file.to_path_buf(),
        source,
        status,
        odd_items,
        body: Value::Object(body),
    })
}
