//! Records what a client sends, on a real HTTP server on loopback (wiremock), and renders it
//! for a snapshot: method, path, query pairs in sent order, the headers that matter (with the
//! credential redacted) and the JSON body (with the values of the specs' `x-sensitive`
//! properties redacted).

use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::clients::secrets;
use crate::specs::{self, OperationDoc};

/// The headers a snapshot shows. Everything else (host, user-agent, content-length) is
/// transport detail.
const SHOWN_HEADERS: &[&str] = &["accept", "authorization", "content-type"];

/// A loopback server that answers every request with the success example of one operation.
pub async fn server_for(op: &OperationDoc) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(success_response(op))
        .mount(&server)
        .await;
    server
}

/// The success response the spec documents for `op`: its status and its example body.
pub fn success_response(op: &OperationDoc) -> ResponseTemplate {
    let Some(success) = op.success() else {
        return ResponseTemplate::new(200);
    };
    let status: u16 = success.status.parse().unwrap_or(200);
    let template = ResponseTemplate::new(status);
    match (&success.example, success.has_content) {
        (Some(example), true) => template.set_body_json(example),
        (None, true) => template.set_body_json(json!({})),
        _ => template,
    }
}

/// The request as a snapshot shows it. `expected_authorization` is the header the client must
/// have sent; it is checked here and shown only as its scheme. A body field named like an
/// `x-sensitive` property of a spec (`client_secret`, `refresh_token` …) must carry one of
/// the test secrets ([`secrets::ALL`]); it is shown as `[redacted]`.
pub fn render(request: &wiremock::Request, expected_authorization: Option<&str>) -> Value {
    // progenitor adds `api-version` from the spec's info.version; none of these services
    // uses it, and the runtime removes it.
    assert!(
        !request.headers.contains_key("api-version"),
        "the api-version header reached the server"
    );
    let query: Vec<Value> = request
        .url
        .query_pairs()
        .map(|(k, v)| Value::String(format!("{k}={v}")))
        .collect();
    let mut headers = serde_json::Map::new();
    for name in SHOWN_HEADERS {
        let values: Vec<&str> = request
            .headers
            .get_all(*name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty() {
            continue;
        }
        let shown = if *name == "authorization" {
            assert_eq!(
                Some(values.join(", ").as_str()),
                expected_authorization,
                "the client sent other credentials than it was given"
            );
            values
                .iter()
                .map(|v| format!("{} [redacted]", v.split(' ').next().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            values.join(", ")
        };
        headers.insert(name.to_string(), Value::String(shown));
    }
    let mut body = if request.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&request.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&request.body).into_owned()))
    };
    redact_sensitive(&mut body);
    json!({
        "method": request.method.as_str(),
        "path": request.url.path(),
        "query_string": request.url.query(),
        "query": query,
        "headers": headers,
        "body": body,
    })
}

/// Replaces the value of every field named like an `x-sensitive` property, at any depth, by
/// `[redacted]`, after checking it is one of the test secrets.
///
/// # Panics
///
/// When such a field carries anything but a test secret: the client sent a secret it was
/// not given, or a sensitive field is not what the snapshot shows.
pub fn redact_sensitive(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if specs::sensitive_properties().contains(key) {
                    assert!(
                        field.as_str().is_some_and(|s| secrets::ALL.contains(&s)),
                        "the sensitive field `{key}` carries something other than a test secret"
                    );
                    *field = Value::String("[redacted]".into());
                } else {
                    redact_sensitive(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_sensitive),
        _ => {}
    }
}
