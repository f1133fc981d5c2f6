//! The tests crate's response corpus of a new service (`tests/corpus/NAME/<operationId>/`):
//! one body per operation that answers with JSON, the spec's own example of the response
//! (the media type's `example`, its first `examples` entry, or the schema's `example`), else
//! a body built from the schema: its required properties, each with its own example or the
//! first value its type allows. Each file's `_source` says which; the corpus test then checks
//! the body decodes through the operation, and a person adds the shapes the service really
//! sends beside it.

use openapiv3::{
    MediaType, OpenAPI, ReferenceOr, Schema, SchemaKind, StatusCode, Type, VariantOrUnknownOrEmpty,
};
use serde_json::{Map, Value, json};

/// The files to create (path under the workspace root, content), in operationId order, and
/// the operations whose body could not be written (with why).
pub(super) fn files(name: &str, spec: &OpenAPI, rel: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut files = Vec::new();
    let mut left = Vec::new();
    for (path, method, op, id) in crate::spec::operations_by_id(spec) {
        let successes: Vec<(u16, Option<&MediaType>)> = op
            .responses
            .responses
            .iter()
            .filter_map(|(code, response)| match code {
                StatusCode::Code(code) if (200..300).contains(code) => Some((
                    *code,
                    response
                        .as_item()
                        .and_then(|r| r.content.get("application/json")),
                )),
                _ => None,
            })
            .collect();
        let first = successes.first().map(|(code, _)| *code);
        let Some((code, media)) = successes
            .iter()
            .find_map(|(code, media)| Some((*code, (*media)?)))
        else {
            continue;
        };
        let at = format!(
            "{}/responses/{code}/content/application~1json",
            crate::spec::operation_pointer(path, method)
        );
        let (body, source) = match example(spec, media) {
            Some((body, which)) => (
                body,
                format!("the spec's example of the {code} response ({rel} at {at}/{which})"),
            ),
            None => match media.schema.as_ref().map(|s| build(spec, s, 0)) {
                Some(Ok(body)) => (
                    body,
                    format!(
                        "built from the schema of the {code} response ({rel} at {at}/schema): \
                         its required properties, each with its example or the first value \
                         its type allows"
                    ),
                ),
                Some(Err(why)) => {
                    left.push(format!("{id}: its {code} response's schema {why}"));
                    continue;
                }
                None => {
                    left.push(format!("{id}: its {code} response has no schema"));
                    continue;
                }
            },
        };
        let Value::Object(mut object) = body else {
            left.push(format!(
                "{id}: its {code} response's body is not a JSON object"
            ));
            continue;
        };
        object.insert(
            "_source".into(),
            Value::String(format!(
                "{source}, written by `cargo xtask new-service`: add the shapes the service \
                 really sends beside it."
            )),
        );
        if Some(code) != first {
            object.insert("_status".into(), json!(code));
        }
        let text = serde_json::to_string_pretty(&Value::Object(object))
            .expect("a JSON value always serializes");
        let file = if media.example.is_some() || !media.examples.is_empty() {
            "spec-example"
        } else {
            "from-schema"
        };
        files.push((
            format!("tests/corpus/{name}/{id}/{file}.json"),
            format!("{text}\n"),
        ));
    }
    (files, left)
}

/// The media type's example (and where it is under the media type), else its schema's.
fn example(spec: &OpenAPI, media: &MediaType) -> Option<(Value, String)> {
    if let Some(example) = &media.example {
        return Some((example.clone(), "example".into()));
    }
    if let Some((name, example)) = media
        .examples
        .iter()
        .find_map(|(name, e)| Some((name, e.as_item()?.value.clone()?)))
    {
        return Some((example, format!("examples/{name}/value")));
    }
    let schema = crate::spec::resolve(spec, media.schema.as_ref()?)?;
    schema
        .schema_data
        .example
        .clone()
        .map(|e| (e, "schema (the component's example)".into()))
}

/// A value of `schema`: its example, else its required properties' values, else the first
/// value its type allows; an error for what has no such value (a `oneOf`, a cycle).
fn build(spec: &OpenAPI, schema: &ReferenceOr<Schema>, depth: usize) -> Result<Value, String> {
    if depth > 16 {
        return Err("nests more than 16 levels (a cycle through required properties?)".into());
    }
    let schema = crate::spec::resolve(spec, schema).ok_or("is a $ref to no component schema")?;
    build_schema(spec, schema, depth)
}

fn build_schema(spec: &OpenAPI, schema: &Schema, depth: usize) -> Result<Value, String> {
    if let Some(example) = &schema.schema_data.example {
        return Ok(example.clone());
    }
    if let Some(default) = &schema.schema_data.default {
        return Ok(default.clone());
    }
    let boxed = |s: &ReferenceOr<Box<Schema>>| match s {
        ReferenceOr::Item(s) => ReferenceOr::Item((**s).clone()),
        ReferenceOr::Reference { reference } => ReferenceOr::Reference {
            reference: reference.clone(),
        },
    };
    Ok(match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => {
            if let Some(Some(first)) = s.enumeration.first() {
                Value::String(first.clone())
            } else {
                let format = match &s.format {
                    VariantOrUnknownOrEmpty::Item(f) => format!("{f:?}"),
                    VariantOrUnknownOrEmpty::Unknown(f) => f.clone(),
                    VariantOrUnknownOrEmpty::Empty => String::new(),
                };
                Value::String(
                    match format.as_str() {
                        "DateTime" | "date-time" => "2024-01-01T00:00:00Z",
                        "Date" | "date" => "2024-01-01",
                        "uuid" => "00000000-0000-4000-8000-000000000000",
                        "email" => "user@example.com",
                        "uri" | "url" => "https://example.com/",
                        _ => "example",
                    }
                    .into(),
                )
            }
        }
        SchemaKind::Type(Type::Integer(i)) => {
            json!(
                i.enumeration
                    .iter()
                    .flatten()
                    .next()
                    .copied()
                    .unwrap_or(i.minimum.unwrap_or(1))
            )
        }
        SchemaKind::Type(Type::Number(n)) => json!(n.minimum.unwrap_or(1.0)),
        SchemaKind::Type(Type::Boolean(_)) => json!(false),
        SchemaKind::Type(Type::Array(_)) => json!([]),
        SchemaKind::Type(Type::Object(object)) => {
            let mut out = Map::new();
            for required in &object.required {
                let property = object
                    .properties
                    .get(required)
                    .ok_or_else(|| format!("requires `{required}`, which it does not describe"))?;
                out.insert(required.clone(), build(spec, &boxed(property), depth + 1)?);
            }
            Value::Object(out)
        }
        SchemaKind::AllOf { all_of } => {
            let mut out = Map::new();
            for part in all_of {
                match build(spec, part, depth + 1)? {
                    Value::Object(part) => out.extend(part),
                    _ => return Err("has an allOf part that is not an object".into()),
                }
            }
            Value::Object(out)
        }
        SchemaKind::Any(_) => json!({}),
        _ => return Err("is a oneOf, anyOf or not: write its body".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(response: &str) -> OpenAPI {
        yaml_serde::from_str(&format!(
            "openapi: 3.0.3\ninfo: {{title: W, version: '1'}}\npaths:\n  /w:\n    get:\n      \
             operationId: get_w\n      responses:\n        '204': {{description: none}}\n        \
             '200':\n          description: one\n          content:\n            \
             application/json:\n{response}\
             components:\n  schemas:\n    W:\n      type: object\n      required: [id, kind, at]\n      \
             properties:\n        id: {{type: integer, minimum: 5}}\n        \
             kind: {{type: string, enum: [big, small]}}\n        \
             at: {{type: string, format: date-time}}\n        name: {{type: string}}\n"
        ))
        .expect("a spec")
    }

    #[test]
    fn the_example_is_the_body_and_a_later_success_says_its_status() {
        let spec = spec(
            "              schema: {$ref: '#/components/schemas/W'}\n              \
             example: {id: 7, kind: small, at: '2020-01-01T00:00:00Z'}\n",
        );
        let (files, left) = files("widgets", &spec, "specs/widgets.yaml");
        assert!(left.is_empty(), "{left:?}");
        assert_eq!(files[0].0, "tests/corpus/widgets/get_w/spec-example.json");
        let body: Value = serde_json::from_str(&files[0].1).unwrap();
        assert_eq!(body["id"], 7);
        assert_eq!(body["_status"], 200, "204 comes first");
        let source = body["_source"].as_str().unwrap();
        assert!(
            source.contains("#/paths/~1w/get/responses/200/content/application~1json/example"),
            "{source}"
        );
    }

    #[test]
    fn without_an_example_the_required_properties_are_built_from_the_schema() {
        let spec = spec("              schema: {$ref: '#/components/schemas/W'}\n");
        let (files, _) = files("widgets", &spec, "specs/widgets.yaml");
        assert_eq!(files[0].0, "tests/corpus/widgets/get_w/from-schema.json");
        let body: Value = serde_json::from_str(&files[0].1).unwrap();
        assert_eq!(body["id"], 5);
        assert_eq!(body["kind"], "big");
        assert_eq!(body["at"], "2024-01-01T00:00:00Z");
        assert!(
            body.get("name").is_none(),
            "optional properties are left out"
        );
    }
}
