//! Contract tests: every operation of every client, called through the facade with the
//! catalogue's valid inputs, against Prism (`@stoplight/prism-cli`), a mock server that
//! validates each request against the spec it serves (`--errors`: an invalid request gets a
//! 422 and never a success) and answers from the spec.
//!
//! For each operation of a service:
//! 1. the request the client sends is recorded on loopback, and every query parameter in it
//!    must be declared by the served spec for that operation (Prism lets undeclared query
//!    parameters through, so a renamed optional parameter would otherwise pass);
//! 2. the call against Prism must succeed: Prism accepted the request (path, parameters,
//!    body, the `Authorization` header the security scheme asks for) and its example response
//!    decoded into the generated type. A rejection is reported with what Prism said: the
//!    request is replayed raw and its status, `sl-violations` header and body are shown;
//! 3. the call is repeated against Prism's dynamic responses (`Prefer: dynamic=true` with a
//!    fixed seed per run, so a run is reproducible), which fill in what examples leave out
//!    (every optional field, nulls where the spec allows them, extra properties, other enum
//!    values, odd numbers and dates); a response that does not decode is reported with the
//!    operation, the seed and the body. Prism also checks each response it generates against
//!    the spec (`--errors`: a violation is a 500, reported like any failure);
//! 4. the call is repeated once per body of the response corpus (`tests/corpus/`), which
//!    `cargo xtask contract` adds to the served spec as named examples: Prism answers with
//!    each (`Prefer: code=…, example=…`) and it must decode.
//!
//! When the served spec is another one (`CONTRACT_SPEC_<SERVICE>`, a vendor's), xtask first
//! checks that spec's own examples against its own schemas (Redocly CLI) and names the
//! violations in `CONTRACT_EXAMPLE_PROBLEMS_<SERVICE>`. An operation whose served example
//! breaks the served spec's own schema and does not decode is reported as the served spec's
//! problem, apart from the client failures, and does not fail the run.
//!
//! Prism does not check everything; `cargo xtask contract` prints what it could not:
//! - request bodies whose schema it cannot compile (it then accepts any body): the harness
//!   sends each body operation a JSON array and lists those Prism did not refuse;
//! - undeclared query parameters (checked here, step 1), and query names are matched without
//!   regard to case;
//! - bracketed query names such as `page[size]` or `role[]`: Prism parses them as nested
//!   objects, so their values are never checked against the spec.
//!
//! These tests are `#[ignore]`d in a plain `cargo test` because they need three Prism
//! servers (Node, installed from the committed package-lock.json). `cargo xtask contract`
//! (also a step of `cargo xtask test`) starts them and runs this file with `--ignored` and
//! `CONTRACT_URL_<SERVICE>=http://127.0.0.1:<port>`; run without those variables the tests
//! fail, naming the missing one. `CONTRACT_SPEC_<SERVICE>` names the spec Prism serves when it
//! is not `specs/<service>.yaml`; an operation that spec lacks (by method and path template,
//! else by operationId) is reported as skipped, by name. `CONTRACT_DYNAMIC_RUNS` (default 5)
//! and `CONTRACT_SEED` (default `user-apis`) set the dynamic runs.
//!
//! The helpers at the bottom have plain tests that run everywhere.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::Value;
use tests::path_template::path_template;
use tests::recorder::server_for;
use tests::specs::{self, OperationDoc};
use tests::{Clients, Operation, catalogue, secrets};
use user_apis::runtime::reqwest;
use user_apis::runtime::{ApiError, ClientConfig, RetryPolicy};

// ---------------------------------------------------------------------------- the tests

#[tokio::test]
#[ignore = "needs Prism: run `cargo xtask contract`"]
async fn cerego_operations_pass_against_prism() {
    run_service("cerego").await;
}

#[tokio::test]
#[ignore = "needs Prism: run `cargo xtask contract`"]
async fn sendauth_operations_pass_against_prism() {
    run_service("sendauth").await;
}

#[tokio::test]
#[ignore = "needs Prism: run `cargo xtask contract`"]
async fn zendesk_operations_pass_against_prism() {
    run_service("zendesk").await;
}

/// The harness can fail: a query parameter outside its declared range is rejected by Prism
/// with a 422 that names it.
#[tokio::test]
#[ignore = "needs Prism: run `cargo xtask contract`"]
async fn prism_rejects_a_query_parameter_out_of_range() {
    let target = Target::from_env("sendauth");
    if !target.serves("GET", "/api/v1/users", "list_users") {
        return;
    }
    let response = raw_client()
        .get(format!("{}/api/v1/users?page=1&perPage=1000", target.url))
        .basic_auth(secrets::SENDAUTH_USER, Some(secrets::SENDAUTH_PASSWORD))
        .header("accept", "application/json")
        .send()
        .await
        .expect("Prism answers");
    let rejection = Rejection::read(response).await;
    println!("negative check (sendauth list_users, perPage=1000): {rejection}");
    assert_eq!(rejection.status, 422, "Prism did not reject perPage=1000");
    assert!(
        rejection.names_field("perpage"),
        "no violation names perPage: {rejection}"
    );
}

/// The harness can fail: a body without a required property is rejected by Prism with a 422
/// that names it. Cerego documents its own 422 body, so Prism answers with that example and
/// lists the violations in the `sl-violations` header.
#[tokio::test]
#[ignore = "needs Prism: run `cargo xtask contract`"]
async fn prism_rejects_a_body_without_a_required_field() {
    let target = Target::from_env("cerego");
    let path = "/v3/partner_user_tag_types/{}/partner_user_tags";
    if !target.serves("POST", path, "add_user_tag") {
        return;
    }
    let response = raw_client()
        .post(format!(
            "{}/v3/partner_user_tag_types/3/partner_user_tags",
            target.url
        ))
        .bearer_auth(secrets::CEREGO_API_KEY)
        .header("accept", "application/json")
        .json(&serde_json::json!({ "user_id": "1185304" }))
        .send()
        .await
        .expect("Prism answers");
    let rejection = Rejection::read(response).await;
    println!("negative check (cerego add_user_tag, body without value): {rejection}");
    assert_eq!(
        rejection.status, 422,
        "Prism did not reject a tag without value"
    );
    assert!(
        rejection.names_field("value"),
        "no violation names `value`: {rejection}"
    );
}

/// The harness can fail: a request without the `Authorization` header the spec's security
/// scheme asks for is refused.
#[tokio::test]
#[ignore = "needs Prism: run `cargo xtask contract`"]
async fn prism_rejects_a_request_without_credentials() {
    let target = Target::from_env("cerego");
    if !target.serves("PUT", "/v3/partner_user_tags/{}", "update_user_tag") {
        return;
    }
    let response = raw_client()
        .put(format!("{}/v3/partner_user_tags/84918", target.url))
        .header("accept", "application/json")
        .json(&serde_json::json!({ "value": "Nevada" }))
        .send()
        .await
        .expect("Prism answers");
    let rejection = Rejection::read(response).await;
    println!("negative check (cerego update_user_tag, no Authorization): {rejection}");
    assert_eq!(
        rejection.status, 401,
        "Prism accepted a request without credentials"
    );
}

// ---------------------------------------------------------------------------- one service

/// A Prism server for one service, from the environment `cargo xtask contract` sets.
struct Target {
    service: &'static str,
    url: String,
    spec_path: PathBuf,
    served: ServedSpec,
}

impl Target {
    fn from_env(service: &'static str) -> Self {
        let key = service.to_uppercase();
        let url = std::env::var(format!("CONTRACT_URL_{key}")).unwrap_or_else(|_| {
            panic!(
                "CONTRACT_URL_{key} is not set. The contract tests run against Prism servers \
                 that `cargo xtask contract` starts; run that instead of `cargo test -- --ignored`."
            )
        });
        let spec_path = std::env::var_os(format!("CONTRACT_SPEC_{key}"))
            .map(PathBuf::from)
            .unwrap_or_else(|| specs::spec_path(service));
        let served = ServedSpec::load(&spec_path);
        Self {
            service,
            url: url.trim_end_matches('/').to_string(),
            spec_path,
            served,
        }
    }

    /// Whether the served spec has this operation; prints a skip line when it does not.
    fn serves(&self, method: &str, path: &str, id: &str) -> bool {
        let found = self.served.find(method, path, id).is_some();
        if !found {
            println!(
                "negative check skipped: {}::{id} ({method} {path}) is not in {}",
                self.service,
                self.spec_path.display()
            );
        }
        found
    }
}

fn dynamic_runs() -> usize {
    std::env::var("CONTRACT_DYNAMIC_RUNS")
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("CONTRACT_DYNAMIC_RUNS={v} is not a number"))
        })
        .unwrap_or(5)
}

fn seed() -> String {
    std::env::var("CONTRACT_SEED").unwrap_or_else(|_| "user-apis".to_string())
}

/// Clients for `url` whose every request carries `prefer`, when given.
fn clients(url: &str, prefer: Option<&str>) -> Clients {
    let http = prefer.map(|prefer| {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "prefer",
            reqwest::header::HeaderValue::from_str(prefer).expect("ASCII"),
        );
        install_crypto_provider();
        reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("reqwest client")
    });
    Clients::with(|_| {
        let config = ClientConfig::new()
            .base_url(url)
            .retry(RetryPolicy::disabled());
        match &http {
            Some(http) => config.http_client(http.clone()),
            None => config,
        }
    })
}

/// A plain client for requests sent by hand (replays, negative checks).
fn raw_client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder().build().expect("reqwest client")
}

/// reqwest is built without a rustls provider of its own; `ClientConfig::build` installs the
/// one every client uses (api-runtime's tls module) before a bare `reqwest::Client` is built.
fn install_crypto_provider() {
    let _ = ClientConfig::new().build("contract", Some("http://127.0.0.1"), None, &[]);
}

#[derive(Default)]
struct Outcome {
    passed: usize,
    dynamic_ok: usize,
    dynamic_total: usize,
    skipped: Vec<String>,
    failures: Vec<String>,
    /// Operations whose request body Prism checked (it refused a wrong one).
    checked_bodies: usize,
    /// Operations whose request body Prism did not check (it accepted a wrong one).
    unchecked_bodies: Vec<String>,
    corpus_ok: usize,
    corpus_total: usize,
    /// Corpus bodies Prism would not serve because they break the served schema.
    corpus_rejected_by_schema: Vec<String>,
    /// Operations that failed on an example that breaks the served spec's own schema.
    spec_problems: Vec<String>,
}

/// One corpus body xtask added to the served spec: `{operation, example, status}`.
#[derive(Debug, Clone, serde::Deserialize)]
struct CorpusExample {
    operation: String,
    example: String,
    status: u16,
}

fn corpus_examples(service: &str) -> Vec<CorpusExample> {
    let key = format!("CONTRACT_CORPUS_{}", service.to_uppercase());
    let path = std::env::var(&key).unwrap_or_else(|_| {
        panic!("{key} is not set: run the contract tests with `cargo xtask contract`")
    });
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{key}={path}: cannot read: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{key}={path}: not a manifest: {e}"))
}

/// An example of the served spec that breaks the served spec's own schema (Redocly CLI).
#[derive(Debug, Clone, serde::Deserialize)]
struct ExampleProblem {
    method: String,
    path: String,
    status: String,
    message: String,
}

fn example_problems(service: &str) -> Vec<ExampleProblem> {
    let key = format!("CONTRACT_EXAMPLE_PROBLEMS_{}", service.to_uppercase());
    let Ok(path) = std::env::var(&key) else {
        return Vec::new();
    };
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{key}={path}: cannot read: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{key}={path}: not a list: {e}"))
}

async fn run_service(service: &'static str) {
    let started = Instant::now();
    let target = Target::from_env(service);
    let ours = specs::operations(service, &specs::load(&specs::spec_path(service)));
    let runs = dynamic_runs();
    let seed = seed();
    let static_clients = clients(&target.url, None);
    let dynamic: Vec<(String, Clients)> = (1..=runs)
        .map(|i| {
            let seed = format!("{seed}-{i}");
            let prefer = format!("dynamic=true, seed={seed}");
            (seed, clients(&target.url, Some(&prefer)))
        })
        .collect();
    let raw = raw_client();
    let corpus = corpus_examples(service);
    let problems = example_problems(service);

    let operations: Vec<Operation> = catalogue()
        .into_iter()
        .filter(|o| o.service == service)
        .collect();
    let mut outcome = Outcome::default();
    for op in &operations {
        let name = format!("{service}::{}", op.id);
        let doc = ours
            .iter()
            .find(|d| d.id == op.id)
            .unwrap_or_else(|| panic!("{name} is in the catalogue but not in its spec"));
        let Some(served) = target.served.find(&doc.method, &doc.path, op.id) else {
            outcome
                .skipped
                .push(format!("{name} ({} {})", doc.method, doc.path));
            continue;
        };
        let mut failures = Vec::new();

        // 1. What the client sends, recorded on loopback.
        let sent = record(op, doc).await;
        let undeclared: Vec<&String> = sent
            .query_names
            .iter()
            .filter(|n| !served.query.contains(*n))
            .collect();
        if !undeclared.is_empty() {
            failures.push(format!(
                "sends query parameter(s) {undeclared:?} that the spec does not declare for \
                 {} {} (declared: {:?}); Prism lets undeclared query parameters through, so \
                 this harness checks them",
                served.method, served.path, served.query
            ));
        }

        // 2. Against Prism, answered from the spec's examples.
        let own_problems: Vec<&ExampleProblem> = problems
            .iter()
            .filter(|p| {
                p.method.eq_ignore_ascii_case(&served.method)
                    && path_template(&p.path) == path_template(&served.path)
                    && p.status.starts_with('2')
            })
            .collect();
        let static_ok = match (op.call)(&static_clients).await {
            Ok(()) => true,
            Err(e) if !own_problems.is_empty() => {
                outcome.spec_problems.push(format!(
                    "{name}: the served example breaks the served spec's own schema ({}), and \
                     the call fails on it (Prism refuses to serve it, or the client cannot \
                     decode it): {}",
                    own_problems
                        .iter()
                        .map(|p| format!("{} {}", p.status, p.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                    describe(&e)
                ));
                false
            }
            Err(e) => {
                let prism = match replay(&raw, &target.url, &sent, None).await {
                    Ok(answer) => answer.to_string(),
                    Err(e) => e,
                };
                failures.push(format!(
                    "failed against Prism: {}\n    Prism said: {prism}",
                    describe(&e)
                ));
                false
            }
        };

        // Whether Prism validates this body at all: every request body here is a JSON object,
        // so a JSON array must be refused. Prism lets a body through unchecked when it cannot
        // compile its schema; that is reported, not failed (it is Prism's limit, not the spec's).
        if !sent.body.is_empty() {
            match replay(&raw, &target.url, &sent, Some(b"[]")).await {
                Ok(answer) if answer.status < 400 => outcome.unchecked_bodies.push(name.clone()),
                Ok(_) => outcome.checked_bodies += 1,
                Err(e) => failures.push(e),
            }
        }

        // 3. Against Prism's dynamic responses, one fixed seed per run.
        if static_ok {
            for (seed, clients) in &dynamic {
                outcome.dynamic_total += 1;
                match (op.call)(clients).await {
                    Ok(()) => outcome.dynamic_ok += 1,
                    Err(e) => failures.push(format!(
                        "failed on a dynamic response (Prefer: dynamic=true, seed={seed}): {}\n    \
                         body: {}",
                        describe(&e),
                        e.body_text()
                    )),
                }
            }
        }

        // 4. Against each corpus body of this operation.
        for example in corpus.iter().filter(|c| c.operation == op.id) {
            outcome.corpus_total += 1;
            let prefer = format!("code={}, example={}", example.status, example.example);
            match (op.call)(&clients(&target.url, Some(&prefer))).await {
                Ok(()) => outcome.corpus_ok += 1,
                Err(e) if response_violations(&e).is_some() => {
                    outcome.corpus_rejected_by_schema.push(format!(
                        "{name} {}: {}",
                        example.example,
                        response_violations(&e).unwrap_or_default()
                    ));
                }
                Err(e) => failures.push(format!(
                    "failed on the corpus body {} (Prefer: {prefer}): {}\n    body: {}",
                    example.example,
                    describe(&e),
                    e.body_text()
                )),
            }
        }

        if outcome
            .spec_problems
            .iter()
            .any(|p| p.starts_with(&format!("{name}:")))
            && failures.is_empty()
        {
            // Reported apart: neither passed nor a client failure.
        } else if failures.is_empty() {
            outcome.passed += 1;
        } else {
            for f in failures {
                outcome.failures.push(format!("{name}: {f}"));
            }
        }
    }

    let ran = operations.len() - outcome.skipped.len();
    let mut summary = format!(
        "contract {service} ({}): {}/{ran} operations passed, {}/{} dynamic responses decoded \
         (seed {seed}-1..{runs}), {} skipped, in {:.1?}",
        target.spec_path.display(),
        outcome.passed,
        outcome.dynamic_ok,
        outcome.dynamic_total,
        outcome.skipped.len(),
        started.elapsed()
    );
    let _ = write!(
        summary,
        "\n  corpus bodies decoded: {}/{}",
        outcome.corpus_ok, outcome.corpus_total
    );
    if !outcome.corpus_rejected_by_schema.is_empty() {
        let _ = write!(
            summary,
            "\n  corpus bodies the served schema rejects, so Prism would not serve them (the \
             service sends them; `cargo test -p tests --test integration corpus::` decodes each \
             with the client): {}",
            outcome.corpus_rejected_by_schema.len()
        );
        for r in &outcome.corpus_rejected_by_schema {
            let _ = write!(summary, "\n    {r}");
        }
    }
    for p in &problems {
        let _ = write!(
            summary,
            "\n  served spec problem: the example of {} {} ({}) breaks its own schema: {}",
            p.method, p.path, p.status, p.message
        );
    }
    for p in &outcome.spec_problems {
        let _ = write!(summary, "\n  not the client's failure: {p}");
    }
    let _ = write!(
        summary,
        "\n  request bodies validated by Prism: {}/{}",
        outcome.checked_bodies,
        outcome.checked_bodies + outcome.unchecked_bodies.len()
    );
    if !outcome.unchecked_bodies.is_empty() {
        let _ = write!(
            summary,
            " (Prism accepted a JSON array as the body of {}: it cannot compile that schema, \
             so those bodies are checked only by the snapshots)",
            outcome.unchecked_bodies.join(", ")
        );
    }
    for s in &outcome.skipped {
        let _ = write!(summary, "\n  skipped {s}: not in the served spec");
    }
    println!("{summary}");
    assert!(
        outcome.failures.is_empty(),
        "{} of {ran} {service} operations failed against Prism ({}):\n{}",
        ran - outcome.passed - outcome.spec_problems.len(),
        target.spec_path.display(),
        outcome.failures.join("\n")
    );
    assert!(
        ran > 0,
        "no {service} operation is in {}: nothing was checked",
        target.spec_path.display()
    );
}

/// When Prism refused to send a response because it breaks the served spec's schema (a 500
/// whose violations are all in the response), those violations.
fn response_violations(e: &ApiError) -> Option<String> {
    if e.status().map(|s| s.as_u16()) != Some(500) {
        return None;
    }
    let answer = Rejection::parse(500, None, &e.body_text());
    let all_in_response = !answer.violations.is_empty()
        && answer
            .violations
            .iter()
            .all(|v| v.location.first().map(String::as_str) == Some("response"));
    all_in_response.then(|| {
        answer
            .violations
            .iter()
            .map(|v| format!("{} ({})", v.location[1..].join("."), v.code))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

fn describe(e: &ApiError) -> String {
    format!(
        "{:?} error, status {}: {}",
        e.kind(),
        e.status()
            .map_or_else(|| "none".to_string(), |s| s.as_u16().to_string()),
        e.message()
    )
}

// ---------------------------------------------------------------------------- the request sent

/// A request as the client sent it, recorded on a loopback server.
struct Sent {
    method: String,
    path_and_query: String,
    query_names: BTreeSet<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Calls `op` against a loopback recorder answering with the spec's success example.
async fn record(op: &Operation, doc: &OperationDoc) -> Sent {
    let server = server_for(doc).await;
    let clients = Clients::new(&server.uri());
    // The outcome does not matter here: only what was sent.
    let _ = (op.call)(&clients).await;
    let requests = server.received_requests().await.unwrap_or_default();
    let request = requests
        .first()
        .unwrap_or_else(|| panic!("{}::{} sent no request", op.service, op.id));
    let url = &request.url;
    Sent {
        method: request.method.as_str().to_string(),
        path_and_query: match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        },
        query_names: url.query_pairs().map(|(k, _)| k.into_owned()).collect(),
        headers: ["authorization", "content-type", "accept"]
            .iter()
            .filter_map(|name| {
                let value = request.headers.get(*name)?.to_str().ok()?;
                Some((name.to_string(), value.to_string()))
            })
            .collect(),
        body: request.body.clone(),
    }
}

/// Sends the recorded request to Prism as it is, or with another body, and reads the answer.
async fn replay(
    raw: &reqwest::Client,
    base: &str,
    sent: &Sent,
    body: Option<&[u8]>,
) -> Result<Rejection, String> {
    let method = reqwest::Method::from_bytes(sent.method.as_bytes()).expect("method");
    let mut request = raw.request(method, format!("{base}{}", sent.path_and_query));
    for (name, value) in &sent.headers {
        request = request.header(name, value);
    }
    let body = body.unwrap_or(&sent.body).to_vec();
    match request.body(body).send().await {
        Ok(response) => Ok(Rejection::read(response).await),
        Err(e) => Err(format!("no answer to the replayed request: {e}")),
    }
}

// ---------------------------------------------------------------------------- Prism's answers

/// One violation Prism reported.
#[derive(Debug, Clone, PartialEq)]
struct Violation {
    location: Vec<String>,
    code: String,
    message: String,
}

/// What Prism answered to a request: status and violations.
#[derive(Debug)]
struct Rejection {
    status: u16,
    violations: Vec<Violation>,
    body: String,
}

impl Rejection {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let header = response
            .headers()
            .get("sl-violations")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.text().await.unwrap_or_default();
        Self::parse(status, header.as_deref(), &body)
    }

    /// Violations come in the `sl-violations` header when the spec documents the error
    /// response Prism sends (its body is then the spec's example), else in the body's
    /// `validation` list (Prism's own problem+json).
    fn parse(status: u16, header: Option<&str>, body: &str) -> Self {
        let mut violations = Vec::new();
        let mut collect = |list: Option<&Value>| {
            for v in list.and_then(Value::as_array).into_iter().flatten() {
                violations.push(Violation {
                    location: v["location"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect(),
                    code: v["code"].as_str().unwrap_or_default().to_string(),
                    message: v["message"].as_str().unwrap_or_default().to_string(),
                });
            }
        };
        if let Some(header) = header {
            collect(serde_json::from_str::<Value>(header).ok().as_ref());
        }
        let parsed: Option<Value> = serde_json::from_str(body).ok();
        collect(parsed.as_ref().map(|b| &b["validation"]));
        Self {
            status,
            violations,
            body: body.to_string(),
        }
    }

    /// Whether a violation names `field` (case-insensitive: Prism lower-cases query names) in
    /// its location or its message.
    fn names_field(&self, field: &str) -> bool {
        let field = field.to_lowercase();
        self.violations.iter().any(|v| {
            v.location.iter().any(|l| l.to_lowercase() == field)
                || v.message.to_lowercase().contains(&format!("'{field}'"))
                || v.message
                    .to_lowercase()
                    .split_whitespace()
                    .any(|w| w == field)
        })
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if self.violations.is_empty() {
            let body: String = self.body.chars().take(1000).collect();
            return write!(f, ", no violations listed; body: {body}");
        }
        for v in &self.violations {
            write!(
                f,
                "; violation at {} ({}): {}",
                v.location.join("."),
                v.code,
                v.message
            )?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------- the served spec

/// One operation of the spec Prism serves.
#[derive(Debug, Clone)]
struct ServedOperation {
    method: String,
    path: String,
    id: Option<String>,
    /// The query parameters it declares (path-level and operation-level).
    query: BTreeSet<String>,
}

/// The operations of the spec Prism serves, read leniently (any OpenAPI version, JSON or
/// YAML) so that a vendor's spec can be served.
#[derive(Debug, Default)]
struct ServedSpec {
    operations: Vec<ServedOperation>,
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

impl ServedSpec {
    fn load(path: &std::path::Path) -> Self {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let doc: Value = yaml_serde::from_str(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
        Self::from_value(&doc)
    }

    fn from_value(doc: &Value) -> Self {
        let resolve = |p: &Value| -> Option<Value> {
            match p.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let pointer = r.strip_prefix('#')?;
                    doc.pointer(pointer).cloned()
                }
                None => Some(p.clone()),
            }
        };
        let query_names = |list: Option<&Value>| -> Vec<String> {
            list.and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(&resolve)
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect()
        };
        let mut operations = Vec::new();
        let paths = doc.get("paths").and_then(Value::as_object);
        for (path, item) in paths.into_iter().flatten() {
            let shared = query_names(item.get("parameters"));
            for method in METHODS {
                let Some(op) = item.get(*method) else {
                    continue;
                };
                let mut query: BTreeSet<String> = shared.iter().cloned().collect();
                query.extend(query_names(op.get("parameters")));
                operations.push(ServedOperation {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    id: op
                        .get("operationId")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    query,
                });
            }
        }
        Self { operations }
    }

    /// The served operation for one of ours: the same method and path template (parameter
    /// names aside), else the same operationId.
    fn find(&self, method: &str, path: &str, id: &str) -> Option<&ServedOperation> {
        let template = path_template(path);
        self.operations
            .iter()
            .find(|o| o.method.eq_ignore_ascii_case(method) && path_template(&o.path) == template)
            .or_else(|| self.operations.iter().find(|o| o.id.as_deref() == Some(id)))
    }
}

// ---------------------------------------------------------------------------- helper tests

#[test]
fn every_catalogue_operation_is_found_in_its_own_spec_with_its_query_parameters() {
    for service in specs::SERVICES {
        let served = ServedSpec::load(&specs::spec_path(service));
        let ours = specs::operations(service, &specs::load(&specs::spec_path(service)));
        for op in catalogue().iter().filter(|o| o.service == *service) {
            let doc = ours.iter().find(|d| d.id == op.id).expect("in its spec");
            let found = served
                .find(&doc.method, &doc.path, op.id)
                .unwrap_or_else(|| panic!("{service}::{} not found", op.id));
            assert_eq!(found.id.as_deref(), Some(op.id));
        }
    }
    let zendesk = ServedSpec::load(&specs::spec_path("zendesk"));
    let list_users = zendesk
        .find("GET", "/api/v2/users", "list_users")
        .expect("list_users");
    for name in ["page[size]", "page[after]", "role[]", "external_id"] {
        assert!(list_users.query.contains(name), "{name} not declared");
    }
}

#[test]
fn an_operation_the_served_spec_lacks_is_not_found() {
    let mut doc: Value =
        yaml_serde::from_str(&std::fs::read_to_string(specs::spec_path("sendauth")).expect("spec"))
            .expect("parses");
    // A vendor spec without tags, and with list_users under another operationId.
    let paths = doc["paths"].as_object_mut().expect("paths");
    paths.remove("/api/v1/users/{userID}/tags");
    paths
        .get_mut("/api/v1/users")
        .and_then(|p| p.get_mut("get"))
        .and_then(Value::as_object_mut)
        .expect("list_users")
        .insert("operationId".into(), "getUsers".into());
    let served = ServedSpec::from_value(&doc);
    assert!(
        served
            .find("PUT", "/api/v1/users/{userID}/tags", "set_user_tags")
            .is_none()
    );
    // Matched by method and path though its operationId differs.
    assert!(served.find("GET", "/api/v1/users", "list_users").is_some());
    // Matched by operationId though the path parameter is named differently.
    assert!(
        served
            .find("GET", "/api/v1/users/{id}", "get_user")
            .is_some()
    );
}

#[test]
fn prism_violations_are_read_from_the_header_and_from_the_body() {
    let header = r#"[{"location":["request","body"],"severity":"Error","code":"required","message":"Request body must have required property 'name'"}]"#;
    let from_header = Rejection::parse(422, Some(header), r#"{"error":"RecordInvalid"}"#);
    assert_eq!(from_header.violations.len(), 1);
    assert!(from_header.names_field("name"));
    assert!(!from_header.names_field("email"));

    let body = r#"{"type":"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY","status":422,"validation":[{"location":["query","perpage"],"severity":"Error","code":"maximum","message":"Request query parameter perpage must be <= 100"}]}"#;
    let from_body = Rejection::parse(422, None, body);
    assert!(from_body.names_field("perPage"));
    assert!(from_body.to_string().contains("query.perpage (maximum)"));

    let none = Rejection::parse(200, None, "{}");
    assert!(none.violations.is_empty());
    assert!(!none.names_field("name"));
}

#[test]
fn query_names_of_a_shared_parameter_are_resolved() {
    // `$ref`'d parameters at path level and operation level both count.
    let doc: Value = serde_json::json!({
        "paths": {
            "/things/{id}": {
                "parameters": [{ "$ref": "#/components/parameters/Page" }],
                "get": {
                    "operationId": "get_thing",
                    "parameters": [{ "name": "q", "in": "query" }, { "name": "id", "in": "path" }]
                }
            }
        },
        "components": { "parameters": { "Page": { "name": "page", "in": "query" } } }
    });
    let served = ServedSpec::from_value(&doc);
    let op = served.find("GET", "/things/{x}", "nope").expect("by path");
    assert_eq!(
        op.query,
        BTreeSet::from(["page".to_string(), "q".to_string()])
    );
}
