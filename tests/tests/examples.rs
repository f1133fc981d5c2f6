//! Every example in every spec decodes into the generated type it documents, and encodes back
//! to an equivalent value. Driven by the specs: a new example is checked without a test edit.

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, Type};
use serde_json::Value;
use tests::specs::{self, OperationDoc};

fn decode(service: &str, schema: &str, value: Value) -> Option<Result<Value, serde_json::Error>> {
    tests::decoders::decode(service, schema, value)
}

/// `a` and `b` agree on every value `a` carries. Encoding drops optional fields that are
/// null and optional lists and maps that are empty, so those may come back absent.
fn survives(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, _) => true,
        (Value::Object(a), Value::Object(b)) => a.iter().all(|(k, v)| match b.get(k) {
            Some(w) => survives(v, w),
            None => is_empty(v),
        }),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(v, w)| survives(v, w))
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(a), Value::String(b)) => {
            // Timestamps may be re-encoded (`.000Z` → `Z`); compare them as instants.
            a == b
                || matches!(
                    (
                        chrono::DateTime::parse_from_rfc3339(a),
                        chrono::DateTime::parse_from_rfc3339(b)
                    ),
                    (Ok(x), Ok(y)) if x == y
                )
        }
        (a, b) => a == b,
    }
}

/// The JSON pointer of the first value of `a` that `b` lost or changed (see `survives`).
fn lost_at(a: &Value, b: &Value, pointer: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => a.iter().find_map(|(k, v)| {
            let here = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
            match b.get(k) {
                Some(w) => lost_at(v, w, &here),
                None if is_empty(v) => None,
                None => Some(here),
            }
        }),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| lost_at(v, w, &format!("{pointer}/{i}"))),
        _ if survives(a, b) => None,
        _ => Some(pointer.to_string()),
    }
}

/// Follows `$ref`s to a schema, with the name of the last component schema on the way.
/// `nullable` is set when any schema on the way allows `null`.
fn resolve<'a>(
    spec: &'a OpenAPI,
    schema: &'a ReferenceOr<Schema>,
    name: &mut String,
    nullable: &mut bool,
) -> Option<&'a Schema> {
    match schema {
        ReferenceOr::Item(s) => {
            *nullable |= s.schema_data.nullable;
            match &s.schema_kind {
                // `nullable: true` + `allOf: [$ref]` (a nullable reference) is its one member.
                SchemaKind::AllOf { all_of } if all_of.len() == 1 => {
                    resolve(spec, &all_of[0], name, nullable)
                }
                _ => Some(s),
            }
        }
        ReferenceOr::Reference { reference } => {
            let n = reference.rsplit('/').next()?;
            *name = n.to_string();
            resolve(
                spec,
                spec.components.as_ref()?.schemas.get(n)?,
                name,
                nullable,
            )
        }
    }
}

/// What the spec expects at `pointer` of a value of the component schema `root`: the nearest
/// generated type and the JSON type, e.g. `User.alias: string`.
fn expected_at(spec: &OpenAPI, root: &str, pointer: &str) -> String {
    let mut name = root.to_string();
    let start = ReferenceOr::ref_(&format!("#/components/schemas/{root}"));
    let mut nullable = false;
    let Some(mut schema) = resolve(spec, &start, &mut name, &mut nullable) else {
        return format!("{root} (not in the spec)");
    };
    let mut field = String::new();
    for token in pointer.split('/').skip(1) {
        let key = token.replace("~1", "/").replace("~0", "~");
        let next = match &schema.schema_kind {
            SchemaKind::Type(Type::Object(o)) => {
                field = format!(".{key}");
                match o.properties.get(&key) {
                    Some(p) => match p {
                        ReferenceOr::Item(b) => Some(ReferenceOr::Item((**b).clone())),
                        ReferenceOr::Reference { reference } => Some(ReferenceOr::ref_(reference)),
                    },
                    None => return format!("{name}, which has no field `{key}`"),
                }
            }
            SchemaKind::Type(Type::Array(a)) => {
                field = String::new();
                a.items.as_ref().map(|i| match i {
                    ReferenceOr::Item(b) => ReferenceOr::Item((**b).clone()),
                    ReferenceOr::Reference { reference } => ReferenceOr::ref_(reference),
                })
            }
            _ => None,
        };
        let Some(next) = next else { break };
        let owner = name.clone();
        // The schema may be inline: keep it alive for the next step.
        let leaked: &'static ReferenceOr<Schema> = Box::leak(Box::new(next));
        nullable = false;
        match resolve(spec, leaked, &mut name, &mut nullable) {
            Some(s) => schema = s,
            None => break,
        }
        if name != owner {
            field = String::new();
        }
    }
    let kind = match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) if !s.enumeration.is_empty() => format!(
            "one of {}",
            s.enumeration
                .iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
        SchemaKind::Type(Type::String(_)) => "string".into(),
        SchemaKind::Type(Type::Integer(_)) => "integer".into(),
        SchemaKind::Type(Type::Number(_)) => "number".into(),
        SchemaKind::Type(Type::Boolean(_)) => "boolean".into(),
        SchemaKind::Type(Type::Array(_)) => "array".into(),
        SchemaKind::Type(Type::Object(o)) if !o.required.is_empty() => {
            format!("object with required {}", o.required.join(", "))
        }
        SchemaKind::Type(Type::Object(_)) => "object".into(),
        _ => "a schema".into(),
    };
    let nullable = if nullable { " or null" } else { "" };
    format!("{name}{field}: {kind}{nullable}")
}

/// The first place where `value` disagrees with the schema `root`: its pointer and what is
/// expected there. Checks JSON types, `null`, required fields and enum values.
fn mismatch(spec: &OpenAPI, root: &str, value: &Value) -> Option<(String, String)> {
    fn walk(spec: &OpenAPI, root: &str, v: &Value, pointer: &str) -> Option<String> {
        let expected = expected_at(spec, root, pointer);
        let fits = |kind: &str| match (kind, v) {
            ("string", Value::String(_)) | ("boolean", Value::Bool(_)) => true,
            ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
            ("number", Value::Number(_)) => true,
            ("array", Value::Array(_)) => true,
            ("object", Value::Object(_)) => true,
            _ => false,
        };
        let kind = expected.rsplit(": ").next().unwrap_or_default();
        let bare = kind.trim_end_matches(" or null");
        let ok = if v.is_null() {
            kind.ends_with(" or null") || bare == "a schema"
        } else if let Some(values) = bare.strip_prefix("one of ") {
            v.as_str()
                .is_some_and(|s| values.split(", ").any(|x| x == s))
        } else if bare.starts_with("object") {
            fits("object")
                && bare
                    .strip_prefix("object with required ")
                    .is_none_or(|req| req.split(", ").all(|r| v.get(r).is_some()))
        } else if ["string", "integer", "number", "boolean", "array"].contains(&bare) {
            fits(bare)
        } else {
            true
        };
        if !ok {
            return Some(pointer.to_string());
        }
        match v {
            Value::Object(o) => o.iter().find_map(|(k, w)| {
                let here = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
                walk(spec, root, w, &here)
            }),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .find_map(|(i, w)| walk(spec, root, w, &format!("{pointer}/{i}"))),
            _ => None,
        }
    }
    let pointer = walk(spec, root, value, "")?;
    let expected = expected_at(spec, root, &pointer);
    Some((pointer, expected))
}

/// The JSON text at `pointer`, cut to a readable length.
fn excerpt(value: &Value, pointer: &str) -> String {
    let text = value
        .pointer(pointer)
        .map_or_else(|| "(absent)".to_string(), Value::to_string);
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

struct Case {
    what: String,
    service: String,
    schema: String,
    example: Value,
}

fn cases(docs: &[OperationDoc]) -> (Vec<Case>, Vec<String>) {
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    for doc in docs {
        let label = format!("{}::{}", doc.service, doc.id);
        if let Some((schema, example)) = &doc.request {
            match (schema, example) {
                (Some(schema), Some(example)) => cases.push(Case {
                    what: format!("{label} request body"),
                    service: doc.service.clone(),
                    schema: schema.clone(),
                    example: example.clone(),
                }),
                (_, None) => problems.push(format!("{label}: request body without an example")),
                (None, _) => problems.push(format!("{label}: request body schema is not a $ref")),
            }
        }
        for response in &doc.responses {
            if !response.has_content {
                continue;
            }
            match (&response.schema, &response.example) {
                (Some(schema), Some(example)) => cases.push(Case {
                    what: format!("{label} response {}", response.status),
                    service: doc.service.clone(),
                    schema: schema.clone(),
                    example: example.clone(),
                }),
                (_, None) if response.status.starts_with('2') => problems.push(format!(
                    "{label}: response {} without an example",
                    response.status
                )),
                (None, _) => problems.push(format!(
                    "{label}: response {} schema is not a $ref",
                    response.status
                )),
                _ => {}
            }
        }
    }
    (cases, problems)
}

#[test]
fn every_spec_example_decodes_into_its_generated_type() {
    let docs = specs::all_operations();
    let (cases, mut problems) = cases(&docs);
    assert!(
        cases.len() >= docs.len(),
        "fewer examples than operations: {}",
        cases.len()
    );
    let specs: std::collections::BTreeMap<&str, OpenAPI> = specs::SERVICES
        .iter()
        .map(|s| (*s, specs::load(&specs::spec_path(s))))
        .collect();
    for case in &cases {
        let spec = &specs[case.service.as_str()];
        match decode(&case.service, &case.schema, case.example.clone()) {
            None => problems.push(format!("{}: no generated type {}", case.what, case.schema)),
            Some(Err(e)) => problems.push(match mismatch(spec, &case.schema, &case.example) {
                Some((pointer, expected)) => format!(
                    "{}: does not decode as {}: at `{pointer}` the example has {}, the spec \
                     expects {expected} ({e})",
                    case.what,
                    case.schema,
                    excerpt(&case.example, &pointer)
                ),
                None => format!("{}: does not decode as {}: {e}", case.what, case.schema),
            }),
            Some(Ok(encoded)) => {
                if let Some(pointer) = lost_at(&case.example, &encoded, "") {
                    problems.push(format!(
                        "{}: {} loses data on a round trip: at `{pointer}` the example has {}, \
                         the generated type gives back {} (expected: {})",
                        case.what,
                        case.schema,
                        excerpt(&case.example, &pointer),
                        excerpt(&encoded, &pointer),
                        expected_at(spec, &case.schema, &pointer)
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The example test must be able to fail: a wrong example is reported.
#[test]
fn a_wrong_example_is_caught() {
    let wrong = serde_json::json!({"rows": "not a list", "total": 1});
    let result = decode("sendauth", "UserPage", wrong).expect("UserPage exists");
    assert!(result.is_err());
    assert!(decode("sendauth", "NoSuchSchema", Value::Null).is_none());
}

/// A failure names the JSON pointer and what the spec expects there, not whole documents.
#[test]
fn a_failure_names_the_pointer_and_the_expected_type() {
    let spec = specs::load(&specs::spec_path("sendauth"));
    let mut page = specs::success_example("sendauth", "get_user_transactions");
    assert_eq!(mismatch(&spec, "TransactionPage", &page), None);
    page["rows"][0]["state"] = "emperor".into();
    let (pointer, expected) = mismatch(&spec, "TransactionPage", &page).expect("a mismatch");
    assert_eq!(pointer, "/rows/0/state");
    assert!(
        expected.starts_with("TransactionState: one of "),
        "{expected}"
    );
    let user = specs::success_example("sendauth", "list_users")["rows"][0].clone();
    let mut missing = serde_json::json!({"rows": [user], "total": 1});
    missing["rows"][0].as_object_mut().map(|u| u.remove("id"));
    let (pointer, expected) = mismatch(&spec, "UserPage", &missing).expect("a mismatch");
    assert_eq!(pointer, "/rows/0");
    assert!(expected.contains("id"), "{expected}");
    assert_eq!(
        decode("sendauth", "UserPage", missing).map(|r| r.is_err()),
        Some(true)
    );

    // A field the generated type does not know is dropped on a round trip.
    let example = serde_json::json!({"rows": [], "total": 1, "extra": {"a": 1}});
    let encoded = serde_json::json!({"rows": [], "total": 1});
    assert_eq!(lost_at(&example, &encoded, "").as_deref(), Some("/extra"));
    assert_eq!(
        expected_at(&spec, "UserPage", "/extra"),
        "UserPage, which has no field `extra`"
    );
    assert_eq!(lost_at(&example, &example, ""), None);
}
