//! Where a generator refuses a spec. progenitor stops at the first operation or schema it
//! cannot take, with a message that names neither (`type error value does not conform to the
//! given schema`) or with a panic (`user_id missing from path`). When a whole spec is refused,
//! each component schema and each operation is tried on its own, and a refused one is narrowed
//! to the part whose removal makes it pass (a property, a parameter, the request body, a
//! response), so that one run names every refusal with its JSON pointer.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{OpenAPI, ReferenceOr};

use crate::spec::{operation_pointer, operation_slots, pointer};

/// One part of a spec a generator refuses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refusal {
    /// What is refused: ``operation `show_user` (GET /users/{id})`` or ``schema `User` ``.
    pub what: String,
    /// The JSON pointer of the refused part, as narrow as it could be made.
    pub pointer: String,
    /// The generator's own words, on one line.
    pub reason: String,
}

/// Whether a generator accepts a spec; `Err` holds its message (or its panic's).
pub(crate) type Accepts<'a> = &'a dyn Fn(&OpenAPI) -> Result<(), String>;

/// Every refused component schema and operation of `spec`, each narrowed to the part whose
/// removal makes the generator accept it. Empty when every part passes on its own (the
/// refusal is of the whole, such as two operations whose types clash).
pub(crate) fn locate(spec: &OpenAPI, accepts: Accepts<'_>) -> Vec<Refusal> {
    let mut refusals = Vec::new();
    // Component schemas first: a refused one fails every operation that uses it, so the
    // operations are then tried with it replaced by an empty schema (any JSON value).
    let mut base = spec.clone();
    base.paths.paths.clear();
    if accepts(&base).is_err() {
        for (name, reason) in refused_schemas(spec, accepts) {
            let at = narrow_schema(spec, &name, accepts)
                .unwrap_or_else(|| pointer(["components", "schemas", &name]));
            refusals.push(Refusal {
                what: format!("schema `{name}`"),
                pointer: at,
                reason: one_line(&reason),
            });
        }
    }
    let mut base = spec.clone();
    if let Some(components) = base.components.as_mut() {
        for refusal in &refusals {
            let name = schema_name(&refusal.what);
            if let Some(schema) = components.schemas.get_mut(name) {
                *schema = ReferenceOr::Item(openapiv3::Schema {
                    schema_data: Default::default(),
                    schema_kind: openapiv3::SchemaKind::Any(Default::default()),
                });
            }
        }
    }
    for (path, method, op) in spec.operations() {
        let one = only_operation(&base, path, method);
        let Err(reason) = accepts(&one) else {
            continue;
        };
        let id = op.operation_id.as_deref().unwrap_or("<no operationId>");
        refusals.push(Refusal {
            what: format!("operation `{id}` ({} {path})", method.to_uppercase()),
            pointer: narrow_operation(&one, path, method, accepts)
                .unwrap_or_else(|| operation_pointer(path, method)),
            reason: one_line(&reason),
        });
    }
    refusals
}

/// The error of a refused spec: every refusal on its own line, or the generator's message
/// for the whole spec when no single part is refused.
pub(crate) fn report(rel: &str, generator: &str, refusals: &[Refusal], whole: &str) -> String {
    if refusals.is_empty() {
        return format!("{rel}: {generator} refused the spec: {}", one_line(whole));
    }
    let mut out = format!(
        "{rel}: {generator} refused {} part{} of the spec:",
        refusals.len(),
        if refusals.len() == 1 { "" } else { "s" }
    );
    for r in refusals {
        out.push_str(&format!(
            "\n  {rel}: {} at {}: {}",
            r.what, r.pointer, r.reason
        ));
    }
    out
}

fn schema_name(what: &str) -> &str {
    what.strip_prefix("schema `")
        .and_then(|rest| rest.strip_suffix('`'))
        .unwrap_or(what)
}

/// A message on one line: progenitor's `{:#?}` dumps stop at their first line.
fn one_line(message: &str) -> String {
    let first = message.lines().next().unwrap_or_default().trim_end();
    // `cookie parameters are not supported Cookie {` → without the dump's opening.
    let first = first
        .strip_suffix('{')
        .map(|rest| {
            rest.trim_end()
                .rsplit_once(' ')
                .map_or(rest, |(head, _)| head)
        })
        .unwrap_or(first);
    first.trim_end().to_string()
}

/// `spec` with the operation `method` at `path` only (the path item's parameters kept).
fn only_operation(spec: &OpenAPI, path: &str, method: &str) -> OpenAPI {
    let mut one = spec.clone();
    one.paths.paths.retain(|p, _| p == path);
    for item in one.paths.paths.values_mut() {
        if let ReferenceOr::Item(item) = item {
            for (m, slot) in operation_slots(item) {
                if m != method {
                    *slot = None;
                }
            }
        }
    }
    one
}

/// The component schemas `name` refers to, itself included, transitively.
fn closure(spec: &OpenAPI, name: &str) -> BTreeSet<String> {
    let schemas = spec
        .components
        .as_ref()
        .map(|c| &c.schemas)
        .cloned()
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    let mut todo = vec![name.to_string()];
    while let Some(next) = todo.pop() {
        if !seen.insert(next.clone()) {
            continue;
        }
        if let Some(schema) = schemas.get(&next) {
            let value = serde_json::to_value(schema).unwrap_or_default();
            refs(&value, &mut todo);
        }
    }
    seen
}

/// Every `#/components/schemas/<name>` a JSON value refers to.
fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                if key == "$ref"
                    && let Some(name) = v
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    out.push(name.to_string());
                }
                refs(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// `spec` without paths, with only the component schemas in `keep`.
fn schemas_only(spec: &OpenAPI, keep: &BTreeSet<String>) -> OpenAPI {
    let mut out = spec.clone();
    out.paths.paths.clear();
    if let Some(components) = out.components.as_mut() {
        components.schemas.retain(|name, _| keep.contains(name));
    }
    out
}

/// The schemas refused on their own (with what they need), by name: those whose refusal no
/// schema they refer to explains (or, in a cycle, each of the cycle).
fn refused_schemas(spec: &OpenAPI, accepts: Accepts<'_>) -> Vec<(String, String)> {
    let names: Vec<String> = spec
        .components
        .iter()
        .flat_map(|c| c.schemas.keys().cloned())
        .collect();
    let mut failing = BTreeMap::new();
    let mut closures = BTreeMap::new();
    for name in &names {
        let needs = closure(spec, name);
        if let Err(reason) = accepts(&schemas_only(spec, &needs)) {
            failing.insert(name.clone(), reason);
        }
        closures.insert(name.clone(), needs);
    }
    let own: Vec<(String, String)> = failing
        .iter()
        .filter(|(name, _)| {
            closures[*name]
                .iter()
                .all(|dep| dep == *name || !failing.contains_key(dep))
        })
        .map(|(n, r)| (n.clone(), r.clone()))
        .collect();
    if own.is_empty() {
        failing.into_iter().collect()
    } else {
        own
    }
}

/// The pointer of the property of object schema `name` whose removal makes it pass.
fn narrow_schema(spec: &OpenAPI, name: &str, accepts: Accepts<'_>) -> Option<String> {
    let needs = closure(spec, name);
    let base = schemas_only(spec, &needs);
    let schema = base.components.as_ref()?.schemas.get(name)?.as_item()?;
    let openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) = &schema.schema_kind else {
        return None;
    };
    object.properties.keys().find_map(|property| {
        let mut without = base.clone();
        let schema = without.components.as_mut()?.schemas.get_mut(name)?;
        if let ReferenceOr::Item(openapiv3::Schema {
            schema_kind: openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)),
            ..
        }) = schema
        {
            object.properties.shift_remove(property);
            object.required.retain(|r| r != property);
        }
        accepts(&without)
            .is_ok()
            .then(|| pointer(["components", "schemas", name, "properties", property]))
    })
}

/// The pointer of the part of the one operation of `one` whose removal makes it pass: a
/// parameter (the path item's or the operation's), the request body or a response.
fn narrow_operation(
    one: &OpenAPI,
    path: &str,
    method: &str,
    accepts: Accepts<'_>,
) -> Option<String> {
    /// One removable part: where it is and how to remove it.
    type Edit = (Vec<String>, Box<dyn Fn(&mut openapiv3::PathItem)>);
    let ReferenceOr::Item(item) = one.paths.paths.get(path)? else {
        return None;
    };
    let op = item.iter().find(|(m, _)| *m == method)?.1;
    let mut edits: Vec<Edit> = Vec::new();
    for i in 0..item.parameters.len() {
        edits.push((
            vec!["parameters".into(), i.to_string()],
            Box::new(move |item| {
                item.parameters.remove(i);
            }),
        ));
    }
    let method_owned = method.to_string();
    let with_op =
        move |f: Box<dyn Fn(&mut openapiv3::Operation)>| -> Box<dyn Fn(&mut openapiv3::PathItem)> {
            let method = method_owned.clone();
            Box::new(move |item| {
                for (m, slot) in operation_slots(item) {
                    if m == method
                        && let Some(op) = slot
                    {
                        f(op);
                    }
                }
            })
        };
    for i in 0..op.parameters.len() {
        edits.push((
            vec![method.into(), "parameters".into(), i.to_string()],
            with_op(Box::new(move |op| {
                op.parameters.remove(i);
            })),
        ));
    }
    if op.request_body.is_some() {
        edits.push((
            vec![method.into(), "requestBody".into()],
            with_op(Box::new(|op| op.request_body = None)),
        ));
    }
    for code in op.responses.responses.keys() {
        let code = code.clone();
        edits.push((
            vec![method.into(), "responses".into(), code.to_string()],
            with_op(Box::new(move |op| {
                op.responses.responses.shift_remove(&code);
            })),
        ));
    }
    if op.responses.default.is_some() {
        edits.push((
            vec![method.into(), "responses".into(), "default".into()],
            with_op(Box::new(|op| op.responses.default = None)),
        ));
    }
    edits.into_iter().find_map(|(at, edit)| {
        let mut without = one.clone();
        if let Some(ReferenceOr::Item(item)) = without.paths.paths.get_mut(path) {
            edit(item);
        }
        accepts(&without).is_ok().then(|| {
            pointer(
                ["paths", path]
                    .into_iter()
                    .chain(at.iter().map(String::as_str)),
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_slashes_and_tildes() {
        assert_eq!(
            operation_pointer("/users/{id}/a~b", "get"),
            "#/paths/~1users~1{id}~1a~0b/get"
        );
    }

    #[test]
    fn a_dump_is_cut_to_its_first_line() {
        assert_eq!(
            one_line("cookie parameters are not supported Cookie {\n    parameter_data: …"),
            "cookie parameters are not supported"
        );
        assert_eq!(
            one_line("user_id missing from path"),
            "user_id missing from path"
        );
    }
}
