//! What `cargo xtask contract` serves with Prism, beyond the spec file itself.
//!
//! - The response corpus (`tests/corpus/<service>/<operationId>/<name>.json`) is added to the
//!   served spec as named examples (`z-corpus-<name>`) of each operation's success response,
//!   matched to the served operation by method and path template, else by operationId. The
//!   spec's own examples stay first (Prism's default). A manifest lists what was added,
//!   so the tests call each operation once per body (`Prefer: code=…, example=…`).
//! - When another spec is served (`CONTRACT_SPEC_<SERVICE>`, a vendor's definition), Redocly
//!   CLI checks that spec's own examples against its own schemas; the problems are handed to
//!   the tests, which report an operation whose example breaks its own schema as the served
//!   spec's problem, not as a client failure.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{Value, json};

use crate::node_tools::NodeTools;
use crate::path_template::path_template;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The served spec with the corpus added, and the manifest of what was added.
pub(crate) struct WithCorpus {
    pub spec: PathBuf,
    pub manifest: PathBuf,
    pub added: usize,
    pub not_added: Vec<String>,
}

/// Writes `<out>/<service>.served.json` (the served spec plus the corpus) and
/// `<out>/<service>.corpus.json` (the manifest).
pub(crate) fn with_corpus(
    service: &str,
    served: &Path,
    own: &Path,
    out: &Path,
) -> Result<WithCorpus, String> {
    let mut doc = read_spec(served)?;
    let own = read_spec(own)?;
    let mut manifest = Vec::new();
    let mut not_added = Vec::new();
    for entry in corpus(service)? {
        let label = format!("{service}::{}/{}", entry.operation, entry.name);
        let Some((method, path)) = find_by_id(&own, &entry.operation) else {
            return Err(format!(
                "tests/corpus: {label}: no operation `{}` in the {service} spec",
                entry.operation
            ));
        };
        let Some((served_method, served_path)) =
            find_served(&doc, &method, &path, &entry.operation)
        else {
            continue; // the tests report the operation as skipped
        };
        match add_example(&mut doc, &served_path, &served_method, &entry) {
            Ok(status) => manifest.push(json!({
                "operation": entry.operation,
                "example": example_name(&entry.name),
                "status": status,
            })),
            Err(why) => not_added.push(format!("{label}: {why}")),
        }
    }
    let spec = out.join(format!("{service}.served.json"));
    let manifest_path = out.join(format!("{service}.corpus.json"));
    write_json(&spec, &doc)?;
    write_json(&manifest_path, &Value::Array(manifest.clone()))?;
    Ok(WithCorpus {
        spec,
        manifest: manifest_path,
        added: manifest.len(),
        not_added,
    })
}

/// Checks the examples of `served` against its own schemas with Redocly CLI and writes the
/// violations to `<out>/<service>.example-problems.json` as `[{method, path, status,
/// message}]`. Examples Redocly cannot check (a schema it cannot compile) are not listed.
pub(crate) fn example_problems(
    tools: &NodeTools,
    service: &str,
    served: &Path,
    out: &Path,
) -> Result<(PathBuf, usize), String> {
    let config = out.join(format!("{service}.examples.redocly.yaml"));
    std::fs::write(
        &config,
        "extends: []\nrules:\n  no-invalid-media-type-examples: error\n",
    )
    .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let output = tools
        .command("redocly")
        .arg("lint")
        .arg("--config")
        .arg(&config)
        .arg("--format=json")
        .arg(served)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run redocly: {e}"))?;
    let report: Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "redocly lint of {} printed no JSON report ({e}): {}",
            served.display(),
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    let problems = violations(&report);
    let path = out.join(format!("{service}.example-problems.json"));
    let count = problems.len();
    write_json(&path, &Value::Array(problems))?;
    Ok((path, count))
}

/// The example violations of a Redocly JSON report, located by operation.
fn violations(report: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for problem in report["problems"].as_array().into_iter().flatten() {
        let message = problem["message"].as_str().unwrap_or_default();
        // "Example validation errored" means Redocly could not compile the schema: nothing
        // is known about the example then.
        if problem["ruleId"] != "no-invalid-media-type-examples"
            || message.starts_with("Example validation errored")
        {
            continue;
        }
        let pointer = problem["from"]["pointer"]
            .as_str()
            .or_else(|| problem["location"][0]["pointer"].as_str())
            .unwrap_or_default();
        let parts: Vec<String> = pointer
            .trim_start_matches('#')
            .split('/')
            .skip(1)
            .map(|p| p.replace("~1", "/").replace("~0", "~"))
            .collect();
        // paths / <path> / <method> / responses / <status> / ...
        if parts.len() >= 5 && parts[0] == "paths" && parts[3] == "responses" {
            out.push(json!({
                "path": parts[1],
                "method": parts[2].to_uppercase(),
                "status": parts[4],
                "message": message,
            }));
        }
    }
    out
}

struct Entry {
    operation: String,
    name: String,
    status: Option<u64>,
    body: Value,
}

/// The corpus files of `service`, `_source` and `_status` stripped, files with `_odd_items`
/// left out (the tests check the files themselves; here a file that is not a JSON object is
/// an error).
fn corpus(service: &str) -> Result<Vec<Entry>, String> {
    let dir = crate::workspace::root().join("tests/corpus").join(service);
    let mut entries = Vec::new();
    let Ok(operations) = std::fs::read_dir(&dir) else {
        return Ok(entries);
    };
    let mut operations: Vec<PathBuf> = operations.filter_map(|e| Some(e.ok()?.path())).collect();
    operations.sort();
    for op_dir in operations.into_iter().filter(|p| p.is_dir()) {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&op_dir)
            .map_err(|e| format!("cannot read {}: {e}", op_dir.display()))?
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let Ok(Value::Object(mut body)) = serde_json::from_str::<Value>(&text) else {
                return Err(format!("{} is not a JSON object", file.display()));
            };
            // A page with items the model refuses fails the call by design (its streams
            // report those items and go on; `tests/tests/corpus.rs` checks both): it is no
            // example of a call that succeeds.
            if body.contains_key("_odd_items") {
                continue;
            }
            body.remove("_source");
            let status = body.remove("_status").and_then(|s| s.as_u64());
            let stem = |p: &Path| {
                p.file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_string()
            };
            entries.push(Entry {
                operation: stem(&op_dir),
                name: stem(&file),
                status,
                body: Value::Object(body),
            });
        }
    }
    Ok(entries)
}

/// The name a corpus body is served under. Prism answers with the first example of a
/// media type when asked for none, and the examples come out of the spec sorted by name:
/// the `z-` keeps the spec's own examples first, so they stay the default.
fn example_name(name: &str) -> String {
    format!("z-corpus-{name}")
}

fn read_spec(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    yaml_serde::from_str(&text).map_err(|e| format!("{} does not parse: {e}", path.display()))
}

fn write_json(path: &Path, value: &Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn operations(doc: &Value) -> impl Iterator<Item = (String, String, &Value)> {
    doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter_map(move |m| item.get(*m).map(|op| (m.to_string(), path.clone(), op)))
        })
}

fn find_by_id(doc: &Value, id: &str) -> Option<(String, String)> {
    operations(doc)
        .find(|(_, _, op)| op["operationId"] == id)
        .map(|(m, p, _)| (m, p))
}

/// The served operation for one of ours: the same method and path template, else the same
/// operationId (the rule the contract tests use).
fn find_served(doc: &Value, method: &str, path: &str, id: &str) -> Option<(String, String)> {
    let template = path_template(path);
    operations(doc)
        .find(|(m, p, _)| m == method && path_template(p) == template)
        .or_else(|| operations(doc).find(|(_, _, op)| op["operationId"] == id))
        .map(|(m, p, _)| (m, p))
}

/// Adds the entry as a named example of the operation's success response; returns the
/// status it was added under.
fn add_example(doc: &mut Value, path: &str, method: &str, entry: &Entry) -> Result<u64, String> {
    let responses = doc["paths"][path][method]["responses"].clone();
    let status = match entry.status {
        Some(s) => s.to_string(),
        None => {
            let mut codes: Vec<&String> = responses
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .filter(|k| k.starts_with('2'))
                .collect();
            codes.sort();
            codes
                .first()
                .map(|c| c.to_string())
                .ok_or("the served operation has no 2xx response")?
        }
    };
    let mut response = responses
        .get(&status)
        .cloned()
        .ok_or_else(|| format!("the served operation has no {status} response"))?;
    // A shared response is copied into the operation, so its other users are unchanged.
    if let Some(reference) = response["$ref"].as_str() {
        let pointer = reference.trim_start_matches('#');
        response = doc
            .pointer(pointer)
            .cloned()
            .ok_or_else(|| format!("unresolvable {reference}"))?;
    }
    let media = response
        .get_mut("content")
        .and_then(|c| c.get_mut("application/json"))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| format!("the served {status} response has no application/json content"))?;
    let mut examples = match media.remove("examples") {
        Some(Value::Object(examples)) => examples,
        _ => serde_json::Map::new(),
    };
    if let Some(example) = media.remove("example") {
        let mut first = serde_json::Map::new();
        first.insert("example".into(), json!({ "value": example }));
        first.extend(examples);
        examples = first;
    }
    examples.insert(
        example_name(&entry.name),
        json!({ "summary": "a response body from tests/corpus", "value": entry.body }),
    );
    media.insert("examples".into(), Value::Object(examples));
    doc["paths"][path][method]["responses"][&status] = response;
    status
        .parse()
        .map_err(|_| format!("status `{status}` is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redocly_example_violations_are_located_and_compile_errors_left_out() {
        let report = json!({"problems": [
            {"ruleId": "no-invalid-media-type-examples",
             "message": "Example value must conform to the schema: `id` property type must be string.",
             "from": {"pointer": "#/paths/~1api~1v1~1users~1{userID}/get/responses/200/content/application~1json"}},
            {"ruleId": "no-invalid-media-type-examples",
             "message": "Example validation errored: \"nullable\" cannot be used without \"type\".",
             "from": {"pointer": "#/paths/~1api~1v1~1users/get/responses/200/content/application~1json"}},
            {"ruleId": "operation-4xx-response", "message": "x",
             "from": {"pointer": "#/paths/~1x/get/responses"}}
        ]});
        let found = violations(&report);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["path"], "/api/v1/users/{userID}");
        assert_eq!(found[0]["method"], "GET");
        assert_eq!(found[0]["status"], "200");
    }

    #[test]
    fn a_corpus_body_becomes_a_named_example_after_the_spec_s_own() {
        let mut doc = json!({
            "paths": {"/users/{id}": {"get": {"operationId": "show_user", "responses": {
                "200": {"$ref": "#/components/responses/User"}}}}},
            "components": {"responses": {"User": {"description": "d", "content": {
                "application/json": {"example": {"user": {"id": 1}}}}}}}
        });
        let entry = Entry {
            operation: "show_user".into(),
            name: "end-user".into(),
            status: None,
            body: json!({"user": {"id": 2}}),
        };
        assert_eq!(add_example(&mut doc, "/users/{id}", "get", &entry), Ok(200));
        let examples = &doc["paths"]["/users/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
            ["examples"];
        let names: Vec<&String> = examples.as_object().unwrap().keys().collect();
        assert_eq!(names, ["example", "z-corpus-end-user"]);
        assert_eq!(examples["z-corpus-end-user"]["value"]["user"]["id"], 2);
        // The shared response is unchanged for its other users.
        assert!(
            doc["components"]["responses"]["User"]["content"]["application/json"]
                .get("examples")
                .is_none()
        );
        assert_eq!(
            find_served(&doc, "get", "/users/{user_id}", "nope"),
            Some(("get".into(), "/users/{id}".into()))
        );
    }
}
