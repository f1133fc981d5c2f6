//! The specs as data: every operation with its examples, read from `specs/*.yaml`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use openapiv3::{OpenAPI, ReferenceOr, StatusCode};
use serde_json::Value;

/// The services, by spec file stem.
pub const SERVICES: &[&str] = &["cerego", "sendauth", "zendesk"];

/// The workspace root (`WORKSPACE_ROOT`, set by `.cargo/config.toml`).
pub fn root() -> PathBuf {
    PathBuf::from(env!("WORKSPACE_ROOT"))
}

/// Reads and parses `specs/<service>.yaml` (or the file at `path`).
pub fn load(path: &Path) -> OpenAPI {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
}

/// The path of a service's spec.
pub fn spec_path(service: &str) -> PathBuf {
    root().join("specs").join(format!("{service}.yaml"))
}

/// One response of an operation.
#[derive(Debug, Clone)]
pub struct ResponseExample {
    /// The status code as written in the spec (`200`, `4XX`).
    pub status: String,
    /// The component schema name of the JSON body, if it is a `$ref`.
    pub schema: Option<String>,
    /// The media-type `example`, if any.
    pub example: Option<Value>,
    /// Whether the response has JSON content at all.
    pub has_content: bool,
}

/// One operation of a spec.
#[derive(Debug, Clone)]
pub struct OperationDoc {
    /// The service (spec file stem).
    pub service: String,
    /// The operationId.
    pub id: String,
    /// The method, upper case.
    pub method: String,
    /// The path template.
    pub path: String,
    /// The request body's schema name and example, if any.
    pub request: Option<(Option<String>, Option<Value>)>,
    /// Every response, in spec order.
    pub responses: Vec<ResponseExample>,
}

impl OperationDoc {
    /// The first success response (what a mock answers with).
    pub fn success(&self) -> Option<&ResponseExample> {
        self.responses.iter().find(|r| r.status.starts_with('2'))
    }
}

fn schema_name(schema: &Option<ReferenceOr<openapiv3::Schema>>) -> Option<String> {
    match schema {
        Some(ReferenceOr::Reference { reference }) => {
            reference.rsplit('/').next().map(str::to_string)
        }
        _ => None,
    }
}

/// Every operation of a spec, sorted by operationId.
pub fn operations(service: &str, spec: &OpenAPI) -> Vec<OperationDoc> {
    let components = spec.components.as_ref();
    let mut out = Vec::new();
    for (path, method, op) in spec.operations() {
        let request = op.request_body.as_ref().map(|body| {
            let body = match body {
                ReferenceOr::Item(b) => Some(b.clone()),
                ReferenceOr::Reference { reference } => reference
                    .rsplit('/')
                    .next()
                    .and_then(|n| components?.request_bodies.get(n)?.as_item().cloned()),
            };
            let media = body.and_then(|b| b.content.get("application/json").cloned());
            (
                media.as_ref().and_then(|m| schema_name(&m.schema)),
                media.and_then(|m| m.example),
            )
        });
        let mut responses = Vec::new();
        for (code, response) in &op.responses.responses {
            let status = match code {
                StatusCode::Code(c) => c.to_string(),
                StatusCode::Range(r) => format!("{r}XX"),
            };
            let response = match response {
                ReferenceOr::Item(r) => Some(r.clone()),
                ReferenceOr::Reference { reference } => reference
                    .rsplit('/')
                    .next()
                    .and_then(|n| components?.responses.get(n)?.as_item().cloned()),
            };
            let media = response.and_then(|r| r.content.get("application/json").cloned());
            responses.push(ResponseExample {
                status,
                has_content: media.is_some(),
                schema: media.as_ref().and_then(|m| schema_name(&m.schema)),
                example: media.and_then(|m| m.example),
            });
        }
        out.push(OperationDoc {
            service: service.to_string(),
            id: op.operation_id.clone().unwrap_or_default(),
            method: method.to_uppercase(),
            path: path.to_string(),
            request,
            responses,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// The success example of `service`'s operation `id`, read from its spec.
///
/// # Panics
///
/// If the spec has no such operation or it has no success example.
pub fn success_example(service: &str, id: &str) -> Value {
    operations(service, &load(&spec_path(service)))
        .into_iter()
        .find(|d| d.id == id)
        .and_then(|d| d.success().and_then(|r| r.example.clone()))
        .unwrap_or_else(|| panic!("{service}::{id} has no success example"))
}

/// Every operation of every spec in `specs/`.
pub fn all_operations() -> Vec<OperationDoc> {
    SERVICES
        .iter()
        .flat_map(|s| operations(s, &load(&spec_path(s))))
        .collect()
}

/// The wire names of every property marked `x-sensitive: true` in any spec's component
/// schemas (`client_secret`, `access_token` …): values a snapshot shows redacted.
pub fn sensitive_properties() -> &'static BTreeSet<String> {
    static NAMES: OnceLock<BTreeSet<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        SERVICES
            .iter()
            .flat_map(|s| {
                let spec = load(&spec_path(s));
                spec.components
                    .into_iter()
                    .flat_map(|c| c.schemas.into_values())
                    .filter_map(|schema| schema.into_item())
                    .flat_map(|schema| match schema.schema_kind {
                        openapiv3::SchemaKind::Type(openapiv3::Type::Object(o)) => o
                            .properties
                            .into_iter()
                            .filter(|(_, p)| {
                                p.as_item().is_some_and(|p| {
                                    p.schema_data.extensions.get("x-sensitive")
                                        == Some(&Value::Bool(true))
                                })
                            })
                            .map(|(name, _)| name)
                            .collect::<Vec<_>>(),
                        _ => Vec::new(),
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    })
}
