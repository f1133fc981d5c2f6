//! The wire classification: Optic (`@useoptic/optic`, pinned in package-lock.json) compares the
//! two versions of a spec with its breaking-changes ruleset, and each finding is matched to the
//! report's rows by operation, place (parameter, request, response) and name.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use super::diff::{Change, Place, Verdict};
use crate::node_tools::NodeTools;
use crate::tables::Tables;

/// The rule Optic reports enum changes under; its message names the value.
const ENUM_RULE: &str = "request and response property enums";

/// One failed Optic check: a breaking change for callers of the HTTP API.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finding {
    pub rule: String,
    pub message: String,
    /// Optic's own description of where (`POST /users request body: … property: user/email`).
    pub place_text: String,
    /// `METHOD /path` of the operation.
    pub operation: String,
    pub place: Place,
    /// The parameter name, or the last property name on the JSON path (empty for none).
    pub name: String,
}

/// A scratch directory under the system's temporary directory, removed on drop.
pub(crate) struct Scratch(pub PathBuf);

impl Scratch {
    pub(crate) fn new(what: &str) -> Result<Self, String> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "xtask-review-{}-{}-{what}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `optic diff base head --check` and returns its failed checks.
pub(crate) fn run(tools: &NodeTools, base: &str, head: &str) -> Result<Vec<Finding>, String> {
    let scratch = Scratch::new("optic")?;
    let (b, h) = (scratch.0.join("base.yaml"), scratch.0.join("head.yaml"));
    write(&b, base)?;
    write(&h, head)?;
    // With CI=true Optic writes its check results as JSON to ci-run-details.json in its
    // working directory; --json keeps its terminal output quiet.
    let output = tools
        .command("optic")
        .args(["diff", "base.yaml", "head.yaml", "--check", "--json"])
        .env("CI", "true")
        .current_dir(&scratch.0)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run optic: {e}"))?;
    let details = scratch.0.join("ci-run-details.json");
    let text = std::fs::read_to_string(&details).map_err(|_| {
        format!(
            "optic diff wrote no results ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    parse(&text)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The failed checks in Optic's `ci-run-details.json`.
pub(crate) fn parse(text: &str) -> Result<Vec<Finding>, String> {
    let json: Value =
        serde_json::from_str(text).map_err(|e| format!("optic's results are not JSON: {e}"))?;
    if let Some(failed) = json["failed"].as_array().and_then(|f| f.first()) {
        return Err(format!(
            "optic could not compare the specs: {}",
            failed["error"]
        ));
    }
    let mut out = Vec::new();
    let results = json["completed"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["comparison"]["results"].as_array().into_iter().flatten());
    for r in results {
        if r["passed"].as_bool() != Some(false) || r["exempted"].as_bool() == Some(true) {
            continue;
        }
        let pointer = r["location"]["jsonPath"].as_str().unwrap_or_default();
        let segments: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        let place_text = r["where"].as_str().unwrap_or_default().to_string();
        let (operation, place) = match segments.as_slice() {
            [paths, path, method, rest @ ..] if paths == "paths" => (
                format!("{} {path}", method.to_uppercase()),
                match rest.first().map(String::as_str) {
                    Some("parameters") => Place::Parameter,
                    Some("requestBody") => Place::Request,
                    Some("responses") => Place::Response,
                    _ => Place::Operation,
                },
            ),
            _ => (String::new(), Place::Operation),
        };
        let name = if place == Place::Parameter {
            place_text
                .rsplit_once("parameter: ")
                .map(|(_, n)| n.trim().to_string())
                .unwrap_or_default()
        } else {
            segments
                .iter()
                .rposition(|s| s == "properties")
                .and_then(|i| segments.get(i + 1))
                .cloned()
                .unwrap_or_default()
        };
        out.push(Finding {
            rule: r["name"].as_str().unwrap_or_default().to_string(),
            message: r["error"].as_str().unwrap_or_default().to_string(),
            place_text,
            operation,
            place,
            name,
        });
    }
    Ok(out)
}

/// Fills in every change's wire verdict from Optic's findings; a finding no change explains
/// becomes a change of its own (breaking on the wire, nothing changed in the Rust API).
pub(crate) fn classify(
    svc: &str,
    changes: &mut Vec<Change>,
    findings: &[Finding],
    base: &Tables,
    head: &Tables,
) {
    let endpoints = |id: &str| -> Vec<String> {
        base.operations
            .iter()
            .chain(&head.operations)
            .filter(|o| o.id == id)
            .map(|o| format!("{} {}", o.method, o.path))
            .collect()
    };
    let mut used = vec![false; findings.len()];
    for change in changes.iter_mut() {
        let Some(id) = &change.operation else {
            continue;
        };
        let endpoints = endpoints(id);
        let mut matched = Vec::new();
        for (i, f) in findings.iter().enumerate() {
            // An operation added, removed or moved explains every finding on its endpoint
            // (Optic reports each property of a removed response as removed).
            if !endpoints.contains(&f.operation)
                || (f.place != change.place && change.place != Place::Operation)
            {
                continue;
            }
            let enum_value = change.subject.starts_with("enum ");
            let hit = match change.place {
                Place::Operation => true,
                Place::Parameter => f.name == change.wire_name,
                _ if enum_value => {
                    f.rule == ENUM_RULE && f.message.contains(&format!("'{}'", change.wire_name))
                }
                _ if change.wire_name.is_empty() => f.name.is_empty(),
                _ => f.rule != ENUM_RULE && f.name == change.wire_name,
            };
            if hit {
                used[i] = true;
                matched.push(f);
            }
        }
        change.wire = Some(if matched.is_empty() {
            Verdict {
                breaking: false,
                why: "no Optic breaking-change rule fails".into(),
            }
        } else {
            let mut rules: Vec<String> = Vec::new();
            for f in &matched {
                let rule = format!("Optic: {}", f.rule);
                if !rules.contains(&rule) {
                    rules.push(rule);
                }
            }
            Verdict {
                breaking: true,
                why: rules.join("; "),
            }
        });
    }
    for (f, _) in findings.iter().zip(used).filter(|(_, u)| !u) {
        let id = base
            .operations
            .iter()
            .chain(&head.operations)
            .find(|o| format!("{} {}", o.method, o.path) == f.operation)
            .map(|o| o.id.clone());
        changes.push(Change {
            keys: id.iter().map(|id| format!("{svc}:{id}")).collect(),
            operation: id,
            place: f.place,
            subject: format!("{} (Optic)", f.place_text),
            detail: f.message.clone(),
            wire_name: f.name.clone(),
            rust: Verdict {
                breaking: false,
                why: "no change in the generated Rust API".into(),
            },
            wire: Some(Verdict {
                breaking: true,
                why: format!("Optic: {}", f.rule),
            }),
        });
    }
}
