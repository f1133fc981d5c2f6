//! Decoder fuzzing: every generated type, fed arbitrary bytes, arbitrary JSON and mutated spec
//! examples, returns an error or a value and never panics. Two paths are exercised: the
//! `serde_json::from_slice::<T>` a generated call runs on a response body, and each client's
//! `decode_schema(name, value)`. Bounded to a few seconds; `fuzz/` has the same targets for
//! long coverage-guided runs (see TESTING.md).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::{Map, Value};
use tests::decoders::{decode_schema, from_slice, listed};
use tests::specs;

/// Everything the properties need, read once from the specs.
struct Corpus {
    /// Every (service, component schema name).
    schemas: Vec<(String, String)>,
    /// Every spec example with the schema it documents.
    examples: Vec<(String, String, Value)>,
    /// Every object key seen in the examples, so arbitrary objects hit real fields.
    keys: Vec<String>,
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut schemas = Vec::new();
        let mut examples = Vec::new();
        let mut keys = BTreeSet::new();
        for service in specs::SERVICES {
            let spec = specs::load(&specs::spec_path(service));
            if let Some(components) = &spec.components {
                for name in components.schemas.keys() {
                    schemas.push((service.to_string(), name.clone()));
                }
            }
            for op in specs::operations(service, &spec) {
                let request = op
                    .request
                    .iter()
                    .filter_map(|(schema, example)| Some((schema.clone()?, example.clone()?)));
                let responses = op
                    .responses
                    .iter()
                    .filter_map(|r| Some((r.schema.clone()?, r.example.clone()?)));
                for (schema, example) in request.chain(responses) {
                    collect_keys(&example, &mut keys);
                    examples.push((service.to_string(), schema, example));
                }
            }
        }
        Corpus {
            schemas,
            examples,
            keys: keys.into_iter().collect(),
        }
    })
}

fn collect_keys(value: &Value, keys: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                keys.insert(k.clone());
                collect_keys(v, keys);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_keys(v, keys)),
        _ => {}
    }
}

/// Feeds `bytes` to every typed decoder, and (when they are JSON) `decode_schema` for every
/// schema. Any panic fails the property.
fn decode_everywhere(bytes: &[u8]) {
    let value = serde_json::from_slice::<Value>(bytes).ok();
    for (service, name) in &corpus().schemas {
        let _ = from_slice(service, name, bytes);
        if let Some(value) = &value {
            let _ = decode_schema(service, name, value.clone());
        }
    }
}

/// Any JSON value, with object keys mostly taken from the specs' examples.
fn arb_json() -> impl Strategy<Value = Value> {
    let keys = corpus().keys.clone();
    let key = prop_oneof![
        4 => proptest::sample::select(keys),
        1 => "[a-z_\\-]{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,24}".prop_map(Value::String),
        Just(Value::String("2024-01-15T09:30:00Z".into())),
        Just(Value::String("3f9c2a4e-8b1d-4c6a-9e2f-7a5b1c0d4e8f".into())),
        Just(Value::String("not-a-date".into())),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A mutation of a spec example.
#[derive(Clone, Debug)]
enum Mutation {
    /// Replace the value at a (pseudo-random) position with another value.
    Replace(usize, Value),
    /// Remove the key at a position in the first object met.
    Remove(usize),
    /// Cut the encoded bytes at a fraction of their length.
    Truncate(f64),
    /// Overwrite one byte of the encoding.
    Flip(usize, u8),
    /// Insert bytes into the encoding.
    Insert(usize, Vec<u8>),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), arb_json()).prop_map(|(at, v)| Mutation::Replace(at, v)),
        2 => any::<usize>().prop_map(Mutation::Remove),
        1 => (0.0f64..1.0).prop_map(Mutation::Truncate),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Flip(at, b)),
        1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
    ]
}

/// The number of values in `value`, itself included.
fn count(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// The `n`-th value of `value` in pre-order, `n` taken modulo their count.
fn nth_mut(value: &mut Value, n: usize) -> &mut Value {
    fn walk<'a>(value: &'a mut Value, n: &mut usize) -> Option<&'a mut Value> {
        if *n == 0 {
            return Some(value);
        }
        *n -= 1;
        match value {
            Value::Array(items) => items.iter_mut().find_map(|v| walk(v, n)),
            Value::Object(map) => map.values_mut().find_map(|v| walk(v, n)),
            _ => None,
        }
    }
    let mut n = n % count(value);
    walk(value, &mut n).expect("n is below the count of values")
}

/// Applies a mutation: structural ones to the value, byte-level ones to its encoding.
fn mutate(value: &Value, mutation: &Mutation) -> Vec<u8> {
    let mut value = value.clone();
    match mutation {
        Mutation::Replace(at, new) => *nth_mut(&mut value, *at) = new.clone(),
        Mutation::Remove(at) => {
            if let Value::Object(map) = nth_mut(&mut value, *at)
                && !map.is_empty()
            {
                let key = map.keys().nth(at % map.len()).cloned().unwrap_or_default();
                map.remove(&key);
            }
        }
        other => {
            return mutate_bytes(&serde_json::to_vec(&value).unwrap_or_default(), other);
        }
    }
    serde_json::to_vec(&value).unwrap_or_default()
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        decode_everywhere(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(value in arb_json()) {
        decode_everywhere(&serde_json::to_vec(&value).unwrap_or_default());
    }

    #[test]
    fn mutated_examples_never_panic(
        which in any::<usize>(),
        mutations in proptest::collection::vec(arb_mutation(), 1..4),
    ) {
        let examples = &corpus().examples;
        let (service, schema, example) = &examples[which % examples.len()];
        let mut bytes = serde_json::to_vec(example).unwrap_or_default();
        for mutation in &mutations {
            // Structural mutations apply to the value while it still parses.
            let current = serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null);
            bytes = match mutation {
                Mutation::Replace(..) | Mutation::Remove(..) => mutate(&current, mutation),
                _ => mutate_bytes(&bytes, mutation),
            };
        }
        // The documented schema first, then every other.
        let _ = from_slice(service, schema, &bytes);
        decode_everywhere(&bytes);
    }
}

/// Byte-level mutations applied to the current bytes.
fn mutate_bytes(bytes: &[u8], mutation: &Mutation) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    match mutation {
        Mutation::Truncate(fraction) => {
            let cut = (bytes.len() as f64 * fraction) as usize;
            bytes.truncate(cut);
        }
        Mutation::Flip(at, byte) => {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = *byte;
            }
        }
        Mutation::Insert(at, extra) => {
            let i = at % (bytes.len() + 1);
            bytes.splice(i..i, extra.iter().copied());
        }
        Mutation::Replace(..) | Mutation::Remove(..) => {}
    }
    bytes
}

/// Inputs no random search is likely to build: deep nesting, huge numbers, long strings,
/// lone surrogates, a byte-order mark.
#[test]
fn pathological_inputs_are_errors_not_crashes() {
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = "{\"user\":".repeat(50_000) + "null" + &"}".repeat(50_000);
    let inputs: Vec<Vec<u8>> = vec![
        deep_array.into_bytes(),
        deep_object.into_bytes(),
        br#"{"user": {"id": 1e400}}"#.to_vec(),
        br#"{"user": {"id": 123456789012345678901234567890}}"#.to_vec(),
        br#"{"user": {"id": -0}}"#.to_vec(),
        br#"{"user": {"id": 1, "name": "\ud800"}}"#.to_vec(),
        b"\xef\xbb\xbf{\"user\": {\"id\": 1}}".to_vec(),
        format!(
            r#"{{"user": {{"id": 1, "name": "{}"}}}}"#,
            "x".repeat(1 << 20)
        )
        .into_bytes(),
        b"".to_vec(),
        b"null".to_vec(),
        b"\0".to_vec(),
    ];
    for bytes in &inputs {
        decode_everywhere(bytes);
    }
    // The spec-shaped ones are refused, with an error.
    assert_eq!(
        from_slice("zendesk", "UserResponse", br#"{"user": {"id": 1e400}}"#),
        Some(false)
    );
    assert_eq!(
        from_slice("zendesk", "UserResponse", &inputs[0]),
        Some(false)
    );
}

/// The fuzzing covers every type: the list above and the specs' components agree, and each
/// listed name is one `decode_schema` knows.
#[test]
fn every_schema_is_fuzzed() {
    let in_specs: BTreeSet<(String, String)> = corpus().schemas.iter().cloned().collect();
    let listed: BTreeSet<(String, String)> = listed()
        .into_iter()
        .map(|(s, n)| (s.to_string(), n.to_string()))
        .collect();
    assert_eq!(
        in_specs.difference(&listed).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "schemas missing from the generated decoder tables"
    );
    assert_eq!(
        listed.difference(&in_specs).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "the generated decoder tables list schemas the specs no longer have"
    );
    for (service, name) in &in_specs {
        assert!(
            decode_schema(service, name, Value::Null).is_some(),
            "decode_schema knows {service}::{name}"
        );
    }
    assert!(
        corpus().examples.len() >= 57,
        "every operation has examples"
    );
}

/// Each example decodes through the typed path too (the mutations start from valid input).
#[test]
fn examples_decode_through_from_slice() {
    for (service, schema, example) in &corpus().examples {
        let bytes = serde_json::to_vec(example).expect("encodes");
        assert_eq!(
            from_slice(service, schema, &bytes),
            Some(true),
            "{service}::{schema}: {example}"
        );
    }
}
