//! Every example in every spec decodes into the generated type it documents, and encodes back
//! to an equivalent value. Driven by the specs: a new example is checked without a test edit.

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
    for case in &cases {
        match decode(&case.service, &case.schema, case.example.clone()) {
            None => problems.push(format!("{}: no generated type {}", case.what, case.schema)),
            Some(Err(e)) => problems.push(format!(
                "{}: does not decode as {}: {e}",
                case.what, case.schema
            )),
            Some(Ok(encoded)) => {
                if !survives(&case.example, &encoded) {
                    problems.push(format!(
                        "{}: {} loses data on a round trip:\n  example: {}\n  encoded: {}",
                        case.what, case.schema, case.example, encoded
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
