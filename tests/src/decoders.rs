//! Every generated type of every client, decodable by service and schema name, for the
//! decoder property tests (`tests/tests/decoders.rs`), the spec-example tests and the
//! cargo-fuzz target (`fuzz/`). The per-spec tables are generated with the clients
//! (`tests/src/schemas/<service>.rs`), so a new schema is covered without a test edit.

use serde_json::Value;

use crate::schemas::{cerego, sendauth, zendesk};

/// Runs `serde_json::from_slice::<T>` (what a generated call runs on a response body) for the
/// component schema `name` of `service`: `Some(true)` if `bytes` decode, `Some(false)` if they
/// do not, `None` for an unknown service or schema.
pub fn from_slice(service: &str, name: &str, bytes: &[u8]) -> Option<bool> {
    match service {
        "zendesk" => zendesk::from_slice(name, bytes),
        "cerego" => cerego::from_slice(name, bytes),
        "sendauth" => sendauth::from_slice(name, bytes),
        _ => None,
    }
}

/// Every (service, schema) of every spec.
pub fn listed() -> Vec<(&'static str, &'static str)> {
    [
        ("zendesk", zendesk::NAMES),
        ("cerego", cerego::NAMES),
        ("sendauth", sendauth::NAMES),
    ]
    .into_iter()
    .flat_map(|(service, names)| names.iter().map(move |name| (service, *name)))
    .collect()
}

/// Decodes `value` as the schema `name` of `service` and encodes it again; `None` for an
/// unknown service or schema.
pub fn decode(service: &str, name: &str, value: Value) -> Option<Result<Value, serde_json::Error>> {
    match service {
        "zendesk" => zendesk::decode_schema(name, value),
        "cerego" => cerego::decode_schema(name, value),
        "sendauth" => sendauth::decode_schema(name, value),
        _ => None,
    }
}

/// `Some(true)` if `value` decodes as the schema `name` of `service` (and encodes back),
/// `Some(false)` if not, `None` for an unknown schema.
pub fn decode_schema(service: &str, name: &str, value: Value) -> Option<bool> {
    decode(service, name, value).map(|r| r.is_ok())
}
