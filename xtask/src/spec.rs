//! Reading a spec: the document itself, each operation's parameters (resolved), the facts
//! the generator and the runtime need of each operation, and what the docs say of each
//! parameter and body. Nothing here looks at generated code.

use std::collections::BTreeMap;
use std::path::Path;

use openapiv3::{OpenAPI, Parameter, ReferenceOr};

use crate::workspace::relative;

/// The component schema a `#/components/schemas/<name>` reference names (one level: the
/// specs' components are not references to references).
pub(crate) fn component<'a>(spec: &'a OpenAPI, reference: &str) -> Option<&'a openapiv3::Schema> {
    let name = reference.strip_prefix("#/components/schemas/")?;
    spec.components.as_ref()?.schemas.get(name)?.as_item()
}

/// The schema `schema` is, or the component it refers to.
pub(crate) fn resolve<'a>(
    spec: &'a OpenAPI,
    schema: &'a ReferenceOr<openapiv3::Schema>,
) -> Option<&'a openapiv3::Schema> {
    match schema {
        ReferenceOr::Item(schema) => Some(schema),
        ReferenceOr::Reference { reference } => component(spec, reference),
    }
}

/// [`resolve`] for a property's or an item's (boxed) schema.
pub(crate) fn resolve_boxed<'a>(
    spec: &'a OpenAPI,
    schema: &'a ReferenceOr<Box<openapiv3::Schema>>,
) -> Option<&'a openapiv3::Schema> {
    match schema {
        ReferenceOr::Item(schema) => Some(schema),
        ReferenceOr::Reference { reference } => component(spec, reference),
    }
}

/// The progenitor version the generated code is made with; kept in the header.
pub(crate) const PROGENITOR_VERSION: &str = "0.15.1";

/// Reads and parses a spec.
pub(crate) fn load_spec(path: &Path) -> Result<(String, OpenAPI), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", relative(path)))?;
    let spec: OpenAPI = yaml_serde::from_str(&text).map_err(|e| {
        format!(
            "{} is not a valid OpenAPI 3.0 document: {e}",
            relative(path)
        )
    })?;
    if spec.openapi != "3.0.3" {
        return Err(format!(
            "{}: openapi must be 3.0.3 (progenitor {PROGENITOR_VERSION} rejects {})",
            relative(path),
            spec.openapi
        ));
    }
    Ok((text, spec))
}

/// What the generator and the runtime need to know of one operation.
pub(crate) struct OperationInfo {
    pub id: String,
    pub method: String,
    pub path: String,
    /// Path parameters whose schema is a string without a format that rules out `.`/`..`.
    pub string_path_params: Vec<String>,
    /// Whether requests carry the client's credentials: every operation but those whose
    /// spec says `security: []` (a token endpoint, whose credentials are in its body).
    pub authenticated: bool,
}

pub(crate) fn operations(spec: &OpenAPI, rel: &str) -> Result<Vec<OperationInfo>, String> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for (path, method, op) in spec.operations() {
        let Some(id) = op.operation_id.clone() else {
            missing.push(format!(
                "{rel}: {} {path} has no operationId (at {})",
                method.to_uppercase(),
                operation_pointer(path, method)
            ));
            continue;
        };
        let string_path_params = parameters(spec, path, op, rel)?
            .into_iter()
            .filter(|(data, location)| *location == "path" && is_free_string(spec, data))
            .map(|(data, _)| data.name)
            .collect();
        let authenticated = op.security.as_ref().is_none_or(|s| !s.is_empty());
        out.push(OperationInfo {
            authenticated,
            id,
            method: method.to_uppercase(),
            path: path.to_string(),
            string_path_params,
        });
    }
    if !missing.is_empty() {
        return Err(missing.join("\n"));
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    let twice: Vec<String> = out
        .windows(2)
        .filter(|w| w[0].id == w[1].id)
        .map(|w| {
            format!(
                "{rel}: operationId `{}` is used twice (at {} and {})",
                w[0].id,
                operation_pointer(&w[0].path, &w[0].method.to_lowercase()),
                operation_pointer(&w[1].path, &w[1].method.to_lowercase())
            )
        })
        .collect();
    if !twice.is_empty() {
        return Err(twice.join("\n"));
    }
    Ok(out)
}

/// Every parameter of the operation at `path` (the path item's, then the operation's), each
/// resolved through `#/components/parameters` and paired with where it is sent (`path`,
/// `query`, `header`, `cookie`).
pub(crate) fn parameters(
    spec: &OpenAPI,
    path: &str,
    op: &openapiv3::Operation,
    rel: &str,
) -> Result<Vec<(openapiv3::ParameterData, &'static str)>, String> {
    let item_params = match spec.paths.paths.get(path) {
        Some(ReferenceOr::Item(item)) => item.parameters.as_slice(),
        _ => &[],
    };
    let id = op.operation_id.as_deref().unwrap_or(path);
    item_params
        .iter()
        .chain(&op.parameters)
        .map(|param| {
            let param = match param {
                ReferenceOr::Item(p) => Some(p.clone()),
                ReferenceOr::Reference { reference } => reference
                    .strip_prefix("#/components/parameters/")
                    .and_then(|name| spec.components.as_ref()?.parameters.get(name))
                    .and_then(|p| p.as_item())
                    .cloned(),
            };
            Ok(match param {
                Some(Parameter::Path { parameter_data, .. }) => (parameter_data, "path"),
                Some(Parameter::Query { parameter_data, .. }) => (parameter_data, "query"),
                Some(Parameter::Header { parameter_data, .. }) => (parameter_data, "header"),
                Some(Parameter::Cookie { parameter_data, .. }) => (parameter_data, "cookie"),
                None => return Err(format!("{rel}: `{id}` has an unresolvable parameter $ref")),
            })
        })
        .collect()
}

/// A string path parameter that could carry `.`, `..` or nothing at all (a `uuid` or
/// `date-time` cannot, nor can an integer).
fn is_free_string(spec: &OpenAPI, data: &openapiv3::ParameterData) -> bool {
    let openapiv3::ParameterSchemaOrContent::Schema(schema) = &data.format else {
        return true;
    };
    let Some(schema) = resolve(spec, schema) else {
        return true;
    };
    match &schema.schema_kind {
        openapiv3::SchemaKind::Type(openapiv3::Type::String(s)) => {
            !matches!(
                &s.format,
                openapiv3::VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid"
            ) && !matches!(
                &s.format,
                openapiv3::VariantOrUnknownOrEmpty::Item(
                    openapiv3::StringFormat::DateTime | openapiv3::StringFormat::Date
                )
            )
        }
        openapiv3::SchemaKind::Type(_) => false,
        _ => true,
    }
}

/// What the docs and messages need of one parameter.
pub(crate) struct ParamDoc {
    /// The name on the wire.
    pub wire: String,
    /// `path`, `query` or `header`.
    pub location: &'static str,
    pub required: bool,
    pub description: Option<String>,
    /// Constraints worth a line: `1 to 100`, `one of: asc, desc`, `a UUID` …
    pub constraints: Vec<String>,
    /// An integer parameter's `minimum` and `maximum`, which its setter enforces.
    pub range: Option<(Option<i64>, Option<i64>)>,
}

/// What the docs need of one operation's request body.
pub(crate) struct BodyDoc {
    pub type_name: String,
    pub required: bool,
    pub description: Option<String>,
}

/// Docs per operation id: its parameters by Rust setter name, and its body.
pub(crate) struct OperationDocs {
    pub params: BTreeMap<String, ParamDoc>,
    pub body: Option<BodyDoc>,
    /// Where the operation is in the spec (a JSON pointer), for errors.
    pub pointer: String,
}

/// The docs of every operation's parameters and body, from the spec.
pub(crate) fn docs_from_spec(
    spec: &openapiv3::OpenAPI,
    rel: &str,
) -> Result<BTreeMap<String, OperationDocs>, String> {
    use openapiv3::ReferenceOr;
    let mut out = BTreeMap::new();
    for (path, method, op) in spec.operations() {
        let Some(id) = op.operation_id.clone() else {
            continue;
        };
        let mut params = BTreeMap::new();
        for (data, location) in crate::spec::parameters(spec, path, op, rel)? {
            let setter = crate::naming::setter(&data);
            let doc = ParamDoc {
                wire: data.name.clone(),
                location,
                required: data.required,
                description: data.description.clone(),
                constraints: constraints(spec, &data),
                range: integer_range(spec, &data),
            };
            if params.insert(setter.clone(), doc).is_some() {
                return Err(format!(
                    "{rel}: `{id}` has two parameters whose Rust name is `{setter}`"
                ));
            }
        }
        let body = match &op.request_body {
            None => None,
            Some(body) => {
                let body = match body {
                    ReferenceOr::Item(b) => b,
                    ReferenceOr::Reference { reference } => reference
                        .strip_prefix("#/components/requestBodies/")
                        .and_then(|n| spec.components.as_ref()?.request_bodies.get(n))
                        .and_then(|b| b.as_item())
                        .ok_or_else(|| format!("{rel}: `{id}`: unresolvable requestBody"))?,
                };
                let schema = body
                    .content
                    .get("application/json")
                    .and_then(|m| m.schema.as_ref());
                let type_name = match schema {
                    Some(ReferenceOr::Reference { reference }) => reference
                        .rsplit('/')
                        .next()
                        .unwrap_or(reference)
                        .to_string(),
                    _ => {
                        return Err(format!(
                            "{rel}: `{id}`: the request body schema must be a $ref to a \
                             component schema"
                        ));
                    }
                };
                Some(BodyDoc {
                    type_name,
                    required: body.required,
                    description: body.description.clone(),
                })
            }
        };
        out.insert(
            id,
            OperationDocs {
                params,
                body,
                pointer: operation_pointer(path, method),
            },
        );
    }
    Ok(out)
}

/// The `minimum` / `maximum` of an integer parameter (not of a list's items), if it has one.
pub(crate) fn integer_range(
    spec: &openapiv3::OpenAPI,
    data: &openapiv3::ParameterData,
) -> Option<(Option<i64>, Option<i64>)> {
    use openapiv3::{ParameterSchemaOrContent, SchemaKind, Type};
    let ParameterSchemaOrContent::Schema(schema) = &data.format else {
        return None;
    };
    let schema = resolve(spec, schema)?;
    match &schema.schema_kind {
        SchemaKind::Type(Type::Integer(i)) if i.minimum.is_some() || i.maximum.is_some() => {
            Some((i.minimum, i.maximum))
        }
        _ => None,
    }
}

/// What a parameter's schema accepts, in words: ranges, enums, formats, list-ness.
fn constraints(spec: &openapiv3::OpenAPI, data: &openapiv3::ParameterData) -> Vec<String> {
    use openapiv3::{ParameterSchemaOrContent, SchemaKind, Type};
    let ParameterSchemaOrContent::Schema(schema) = &data.format else {
        return Vec::new();
    };
    let Some(schema) = resolve(spec, schema) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let describe = |schema: &openapiv3::Schema, out: &mut Vec<String>| match &schema.schema_kind {
        SchemaKind::Type(Type::Integer(i)) => match (i.minimum, i.maximum) {
            (Some(min), Some(max)) => out.push(format!("{min} to {max}")),
            (Some(min), None) => out.push(format!("at least {min}")),
            (None, Some(max)) => out.push(format!("at most {max}")),
            (None, None) => {}
        },
        SchemaKind::Type(Type::String(s)) => {
            let values: Vec<String> = s
                .enumeration
                .iter()
                .flatten()
                .map(|v| format!("`{v}`"))
                .collect();
            if !values.is_empty() {
                out.push(format!("one of {}", values.join(", ")));
            }
            match &s.format {
                openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::DateTime) => {
                    out.push("an RFC 3339 date-time".into())
                }
                openapiv3::VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid" => {
                    out.push("a UUID".into())
                }
                _ => {}
            }
        }
        _ => {}
    };
    if let SchemaKind::Type(Type::Array(a)) = &schema.schema_kind {
        out.push("a list, sent as one repeated parameter per value".into());
        if let Some(items) = a.items.as_ref().and_then(|i| resolve_boxed(spec, i)) {
            describe(items, &mut out);
        }
    } else {
        describe(schema, &mut out);
    }
    out
}

/// A path item's operation slots by method, to remove or replace an operation in place.
pub(crate) fn operation_slots(
    item: &mut openapiv3::PathItem,
) -> [(&'static str, &mut Option<openapiv3::Operation>); 8] {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("options", &mut item.options),
        ("head", &mut item.head),
        ("patch", &mut item.patch),
        ("trace", &mut item.trace),
    ]
}

/// The JSON pointer (RFC 6901) of `segments` in the spec: `#/paths/~1users~1{id}/get`.
pub(crate) fn pointer<'a>(segments: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("#");
    for segment in segments {
        out.push('/');
        out.push_str(&segment.replace('~', "~0").replace('/', "~1"));
    }
    out
}

/// The operations that have an operationId, in operationId order: (path, method, operation,
/// operationId).
pub(crate) fn operations_by_id(spec: &OpenAPI) -> Vec<(&str, &str, &openapiv3::Operation, &str)> {
    let mut ops: Vec<_> = spec
        .operations()
        .filter_map(|(path, method, op)| Some((path, method, op, op.operation_id.as_deref()?)))
        .collect();
    ops.sort_by_key(|&(_, _, _, id)| id);
    ops
}

/// The JSON pointer of the operation `method` at `path`.
pub(crate) fn operation_pointer(path: &str, method: &str) -> String {
    pointer(["paths", path, method])
}

/// Success codes, error codes and the documented error body type of an operation.
pub(crate) fn responses(
    spec: &OpenAPI,
    op: &openapiv3::Operation,
) -> (Vec<String>, Vec<String>, String) {
    let mut success = Vec::new();
    let mut errors = Vec::new();
    let mut error_types: Vec<String> = Vec::new();
    for (code, response) in &op.responses.responses {
        let (label, is_success) = match code {
            openapiv3::StatusCode::Code(c) => (c.to_string(), (200..300).contains(c)),
            openapiv3::StatusCode::Range(r) => (format!("{r}XX"), *r == 2),
        };
        if is_success {
            success.push(label);
            continue;
        }
        errors.push(label);
        let ty = response_type_name(spec, response);
        if !error_types.contains(&ty) {
            error_types.push(ty);
        }
    }
    let error = if error_types.is_empty() {
        "()".to_string()
    } else {
        error_types.join(" | ")
    };
    (success, errors, error)
}

/// The Rust type of a response's JSON body: `types::<Schema>` for a component `$ref`, `()`
/// without a JSON body.
pub(crate) fn response_type_name(
    spec: &OpenAPI,
    response: &ReferenceOr<openapiv3::Response>,
) -> String {
    let response = match response {
        ReferenceOr::Item(r) => Some(r),
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/responses/")
            .and_then(|name| spec.components.as_ref()?.responses.get(name))
            .and_then(|r| r.as_item()),
    };
    let Some(media) = response.and_then(|r| r.content.get("application/json")) else {
        return "()".into();
    };
    match &media.schema {
        Some(ReferenceOr::Reference { reference }) => format!(
            "types::{}",
            reference.rsplit('/').next().unwrap_or(reference)
        ),
        Some(ReferenceOr::Item(_)) => "inline schema".into(),
        None => "serde_json::Value".into(),
    }
}
