//! The corpus of realistic responses (`tests/corpus/<service>/<operationId>/*.json`) decodes,
//! file by file, both as the operation's success schema and through the operation's real
//! call (the catalogue's, answered with the body on loopback). Driven by the files found: a
//! new file is checked without a test edit, and an operation that answers with a body but has
//! no corpus file fails the test.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tests::corpus::{self, Entry};
use tests::specs::{self, OperationDoc};
use tests::{Clients, catalogue};
use user_apis::zendesk;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn doc<'a>(docs: &'a [OperationDoc], entry: &Entry) -> Option<&'a OperationDoc> {
    docs.iter()
        .find(|d| d.service == entry.service && d.id == entry.operation)
}

/// The success response an entry stands for: its `_status`, else the operation's first.
fn success_schema(doc: &OperationDoc, entry: &Entry) -> Result<(u16, String), String> {
    let response = match entry.status {
        Some(status) => doc
            .responses
            .iter()
            .find(|r| r.status == status.to_string())
            .ok_or_else(|| format!("the operation has no {status} response"))?,
        None => doc
            .success()
            .ok_or("the operation has no success response")?,
    };
    let schema = response
        .schema
        .clone()
        .ok_or_else(|| format!("the {} response has no JSON schema", response.status))?;
    Ok((response.status.parse().unwrap_or(200), schema))
}

/// Calls the operation the catalogue's way against `server`, now answering with `body`.
async fn call_with(
    server: &MockServer,
    clients: &Clients,
    entry: &Entry,
    status: u16,
    body: &Value,
) -> Result<(), String> {
    server.reset().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
    let op = catalogue()
        .into_iter()
        .find(|o| o.service == entry.service && o.id == entry.operation)
        .ok_or("the operation is not in the catalogue")?;
    (op.call)(clients).await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn every_corpus_body_decodes_through_its_operation() {
    let docs = specs::all_operations();
    let entries = corpus::entries();
    let server = MockServer::start().await;
    let clients = Clients::new(&server.uri());
    let mut problems = Vec::new();
    for entry in &entries {
        let label = entry.label();
        let Some(doc) = doc(&docs, entry) else {
            problems.push(format!(
                "{label}: no operation `{}` in specs/{}.yaml",
                entry.operation, entry.service
            ));
            continue;
        };
        let (status, schema) = match success_schema(doc, entry) {
            Ok(found) => found,
            Err(e) => {
                problems.push(format!("{label}: {e}"));
                continue;
            }
        };
        match tests::decoders::decode_schema(&entry.service, &schema, entry.body.clone()) {
            Some(true) => {}
            Some(false) => {
                let why = decode_error(&entry.service, &schema, &entry.body);
                problems.push(format!("{label}: does not decode as {schema}: {why}"));
            }
            None => problems.push(format!("{label}: no generated type {schema}")),
        }
        if let Err(e) = call_with(&server, &clients, entry, status, &entry.body).await {
            problems.push(format!("{label}: the call fails on this body: {e}"));
        }
    }
    println!("corpus: {} bodies checked", entries.len());
    assert!(
        problems.is_empty(),
        "{} corpus problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn decode_error(service: &str, schema: &str, body: &Value) -> String {
    match tests::decoders::decode(service, schema, body.clone()) {
        Some(Err(e)) => e.to_string(),
        _ => "(no detail)".into(),
    }
}

/// Every operation that answers with a JSON body has at least one corpus file, and every
/// corpus directory names an operation of its spec.
#[test]
fn every_operation_with_a_body_has_a_corpus_file() {
    let docs = specs::all_operations();
    let covered: BTreeSet<(String, String)> = corpus::entries()
        .into_iter()
        .map(|e| (e.service, e.operation))
        .collect();
    let missing: Vec<String> = docs
        .iter()
        .filter(|d| {
            d.responses
                .iter()
                .any(|r| r.status.starts_with('2') && r.has_content)
        })
        .filter(|d| !covered.contains(&(d.service.clone(), d.id.clone())))
        .map(|d| format!("{}::{}", d.service, d.id))
        .collect();
    assert!(
        missing.is_empty(),
        "operations without a corpus file under tests/corpus/<service>/<operationId>/: {missing:?}"
    );
    let known: BTreeSet<(String, String)> = docs
        .iter()
        .map(|d| (d.service.clone(), d.id.clone()))
        .collect();
    let stray: Vec<_> = covered.difference(&known).collect();
    assert!(
        stray.is_empty(),
        "corpus directories for no operation: {stray:?}"
    );
}

fn body(service: &str, operation: &str, name: &str) -> Value {
    corpus::entries()
        .into_iter()
        .find(|e| e.service == service && e.operation == operation && e.name == name)
        .unwrap_or_else(|| panic!("tests/corpus/{service}/{operation}/{name}.json is missing"))
        .body
}

/// The user an end user's own token receives has no `active` (among others): it decodes,
/// and the missing fields are `None`.
#[test]
fn the_end_user_view_of_a_user_decodes() {
    let value = body("zendesk", "show_user", "end-user-view");
    assert!(
        value["user"].get("active").is_none(),
        "the view must lack `active`"
    );
    let user = serde_json::from_value::<zendesk::types::UserResponse>(value)
        .expect("decodes")
        .user;
    assert_eq!(user.active, None);
    assert_eq!(user.role, Some(zendesk::types::UserRole::EndUser));
    assert_eq!(user.user_fields["vip_level"], json!("gold"));
}

/// Documentation examples abridge users to `{id, name}`.
#[test]
fn an_abridged_user_decodes() {
    let page = serde_json::from_value::<zendesk::types::UserPage>(body(
        "zendesk",
        "list_users",
        "documentation-abridged",
    ))
    .expect("decodes");
    let names: Vec<(i64, Option<&str>)> = page
        .users
        .iter()
        .map(|u| (u.id, u.name.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            (223443, Some("Johnny Agent")),
            (8678530, Some("James A. Rosen"))
        ]
    );
    assert!(
        page.users
            .iter()
            .all(|u| u.created_at.is_none() && u.role.is_none())
    );
}

/// A job status whose `results` is one object is told apart from per-item results.
#[test]
fn a_job_status_with_object_results_decodes() {
    let job = serde_json::from_value::<zendesk::types::JobStatusResponse>(body(
        "zendesk",
        "show_job_status",
        "results-object",
    ))
    .expect("decodes")
    .job_status;
    let results = job.results.as_ref().expect("results");
    assert!(matches!(
        results,
        zendesk::types::JobStatusResults::Summary(_)
    ));
    assert_eq!(results.succeeded(), Some(true));
    assert!(job.item_results().is_empty());

    let listed = serde_json::from_value::<zendesk::types::JobStatusResponse>(body(
        "zendesk",
        "show_job_status",
        "per-item-results",
    ))
    .expect("decodes")
    .job_status;
    assert_eq!(listed.item_results().len(), 2);
    assert_eq!(listed.item_results()[1].success, Some(false));
}

/// The checks can fail: a field of the wrong type, a file without `_source`, and a stray
/// file are all reported.
#[test]
fn the_corpus_checks_can_fail() {
    let wrong = json!({"user": {"id": "35436", "name": "Roger"}});
    assert_eq!(
        tests::decoders::decode_schema("zendesk", "UserResponse", wrong),
        Some(false),
        "field types stay strict"
    );
    let no_id = json!({"user": {"name": "Roger"}});
    assert_eq!(
        tests::decoders::decode_schema("zendesk", "UserResponse", no_id),
        Some(false),
        "`id` stays required"
    );

    let root = std::env::temp_dir().join(format!("corpus-check-{}", std::process::id()));
    let op = root.join("zendesk/show_user");
    std::fs::create_dir_all(&op).expect("temp dir");
    std::fs::write(
        op.join("ok.json"),
        r#"{"_source": "docs", "user": {"id": 1}}"#,
    )
    .expect("write");
    assert_eq!(corpus::entries_in(&root).expect("valid").len(), 1);
    std::fs::write(op.join("unsourced.json"), r#"{"user": {"id": 1}}"#).expect("write");
    std::fs::write(op.join("notes.txt"), "x").expect("write");
    let err = corpus::entries_in(&root).expect_err("malformed");
    let _ = std::fs::remove_dir_all(&root);
    assert!(err.contains("unsourced.json: no `_source`"), "{err}");
    assert!(err.contains("notes.txt: not a .json file"), "{err}");
}
