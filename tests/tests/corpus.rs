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
    let clients = Clients::on_manual_clock(&server.uri());
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
        if let Some(first) = entry.odd_items.first() {
            // The page as a whole does not decode, and says where: at its first odd item.
            let at = format!("at `{first}`");
            match tests::decoders::decode_schema(&entry.service, &schema, entry.body.clone()) {
                Some(false) => {}
                other => problems.push(format!(
                    "{label}: has _odd_items but decodes as {schema} ({other:?})"
                )),
            }
            match call_with(&server, &clients, entry, status, &entry.body).await {
                Err(e) if e.contains(&at) => {}
                Err(e) => problems.push(format!("{label}: the call fails, but not {at}: {e}")),
                Ok(()) => problems.push(format!("{label}: has _odd_items but the call succeeds")),
            }
            continue;
        }
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

/// A listing's items as a stream yields them: each re-encoded, or its error.
type Streamed = Vec<Result<Value, user_apis::ApiError>>;

async fn collect<T: serde::Serialize>(
    listing: impl futures::Stream<Item = Result<T, user_apis::ApiError>>,
) -> Streamed {
    use futures::StreamExt;
    listing
        .map(|item| item.map(|item| serde_json::to_value(item).expect("encodes")))
        .collect()
        .await
}

/// The pagination stream of a listing operation, and where its items sit in a page.
async fn stream(
    clients: &Clients,
    service: &str,
    operation: &str,
) -> Option<(Streamed, &'static str)> {
    let user = uuid::Uuid::from_u128(42);
    let sendauth = &clients.sendauth;
    let zendesk = &clients.zendesk;
    Some(match (service, operation) {
        ("sendauth", "list_users") => (collect(sendauth.list_users().stream()).await, "rows"),
        ("sendauth", "list_deleted_users") => (
            collect(sendauth.list_deleted_users().stream()).await,
            "rows",
        ),
        ("sendauth", "get_user_audits") => (
            collect(sendauth.get_user_audits().user_id(user).stream()).await,
            "rows",
        ),
        ("sendauth", "get_user_transactions") => (
            collect(sendauth.get_user_transactions().user_id(user).stream()).await,
            "rows",
        ),
        ("zendesk", "list_users") => (collect(zendesk.list_users().stream()).await, "users"),
        ("zendesk", "search_users") => (
            collect(zendesk.search_users().query("role:agent").stream()).await,
            "users",
        ),
        ("zendesk", "list_deleted_users") => (
            collect(zendesk.list_deleted_users().stream()).await,
            "deleted_users",
        ),
        ("zendesk", "list_tags") => (collect(zendesk.list_tags().stream()).await, "tags"),
        ("zendesk", "incremental_user_export") => (
            collect(zendesk.export_users(zendesk::ExportStart::Since(0)).users()).await,
            "users",
        ),
        _ => return None,
    })
}

/// Whether a re-encoded item says what was received: the same members with the same values,
/// where an absent member, `null`, `""` and an empty list are the same unset value (a model
/// writes an unset field and an empty list as absent; an optional id sent as `""` reads as
/// none), and a date-time is the same
/// instant however its offset was written (one without an offset is UTC).
fn same(received: &Value, encoded: &Value) -> bool {
    let unset = |v: &Value| {
        v.is_null() || v.as_str() == Some("") || v.as_array().is_some_and(Vec::is_empty)
    };
    let instant = |v: &Value| {
        let text = v.as_str()?;
        text.parse::<chrono::DateTime<chrono::Utc>>()
            .ok()
            .or_else(|| {
                text.parse::<chrono::NaiveDateTime>()
                    .ok()
                    .map(|n| n.and_utc())
            })
    };
    match (received, encoded) {
        (Value::Object(a), Value::Object(b)) => {
            let keys = |o: &serde_json::Map<String, Value>| -> BTreeSet<String> {
                o.iter()
                    .filter(|(_, v)| !unset(v))
                    .map(|(k, _)| k.clone())
                    .collect()
            };
            keys(a) == keys(b) && keys(a).iter().all(|k| same(&a[k], &b[k]))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (a, b) if a == b => true,
        (a, b) => instant(a).is_some() && instant(a) == instant(b),
    }
}

/// Every listing body of the corpus through its operation's pagination stream: each item
/// arrives in order, each `_odd_items` path is reported in its place as an error of its own
/// (kind `Decode`, its index, its path, its JSON as received), and the stream goes on. The
/// models keep the fields they do not list, so each item re-encodes to what was received
/// (nulls and empty lists aside): nothing is lost on the way through.
#[tokio::test]
async fn every_listing_body_streams_with_its_odd_items_in_place() {
    use wiremock::matchers::query_param;
    let server = MockServer::start().await;
    let clients = Clients::on_manual_clock(&server.uri());
    let mut checked = 0;
    let mut odd_seen = 0;
    let mut problems = Vec::new();
    for entry in corpus::entries() {
        let label = entry.label();
        server.reset().await;
        // The body answers the first page; any further page is empty.
        let first = match entry.service.as_str() {
            "sendauth" => Mock::given(query_param("page", "1")),
            _ => Mock::given(any()),
        };
        first
            .respond_with(ResponseTemplate::new(200).set_body_json(&entry.body))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        let end = json!({"rows": [], "total": 0, "users": [], "deleted_users": [], "tags": [],
                         "end_of_stream": true});
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_json(end))
            .with_priority(10)
            .mount(&server)
            .await;
        let Some((got, field)) = stream(&clients, &entry.service, &entry.operation).await else {
            continue;
        };
        checked += 1;
        let sent: Vec<Value> = entry.body[field].as_array().cloned().unwrap_or_default();
        if got.len() != sent.len() {
            problems.push(format!(
                "{label}: {} items sent, {} streamed: {:?}",
                sent.len(),
                got.len(),
                got.iter()
                    .map(|r| r.as_ref().map_err(ToString::to_string))
                    .collect::<Vec<_>>()
            ));
            continue;
        }
        let mut odd = entry.odd_items.iter();
        for (index, (item, raw)) in got.iter().zip(&sent).enumerate() {
            match item {
                Ok(decoded) => {
                    if !same(raw, decoded) {
                        problems.push(format!(
                            "{label}: item {index} changed on the way: {raw} became {decoded}"
                        ));
                    }
                }
                Err(err) => {
                    odd_seen += 1;
                    let expected = odd.next();
                    let body: Option<Value> = serde_json::from_slice(err.body()).ok();
                    if err.kind() != user_apis::ErrorKind::Decode
                        || err.item_index() != Some(index)
                        || err.json_path() != expected.map(String::as_str)
                        || body.as_ref() != Some(raw)
                        || err.operation() != Some(entry.operation.as_str())
                    {
                        problems.push(format!(
                            "{label}: item {index}: expected a Decode error at {expected:?} \
                             with the item's JSON, got {:?} at {:?} (index {:?}): {err}",
                            err.kind(),
                            err.json_path(),
                            err.item_index()
                        ));
                    }
                }
            }
        }
        if let Some(missed) = odd.next() {
            problems.push(format!("{label}: no error reported at {missed}"));
        }
    }
    println!("{checked} listing bodies streamed, {odd_seen} odd items reported");
    assert!(checked >= 10, "only {checked} listing bodies found");
    assert!(odd_seen >= 2, "the corpus has odd items in both services");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `.send()` on a page with an odd item fails as a whole, at that item, and keeps the body;
/// the stream of the same page yields the others. (The SendAuth and Zendesk cases of the
/// issue, spelled out.)
#[tokio::test]
async fn send_names_the_odd_item_and_the_stream_goes_on() {
    let server = MockServer::start().await;
    let clients = Clients::new(&server.uri());
    let page = body("sendauth", "list_users", "permission-group-not-a-uuid");
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(&page))
        .mount(&server)
        .await;
    let err = clients
        .sendauth
        .list_users()
        .send()
        .await
        .expect_err("one row is refused");
    assert_eq!(err.kind(), user_apis::ErrorKind::Decode);
    assert_eq!(err.json_path(), Some("rows[1].permissionGroups[0]"));
    assert_eq!(err.item_index(), None, "the page failed as a whole");
    assert_eq!(
        serde_json::from_slice::<Value>(err.body()).ok(),
        Some(page.clone())
    );
    let shown = err.to_string();
    assert!(
        shown.contains("\"admins\""),
        "the excerpt shows the value: {shown}"
    );

    let strict: Vec<_> = {
        use futures::StreamExt;
        clients
            .sendauth
            .list_users()
            .stream()
            .strict()
            .collect()
            .await
    };
    assert_eq!(
        strict.len(),
        2,
        "strict: the first row, then the refused one"
    );
    assert_eq!(
        strict[1].as_ref().err().and_then(|e| e.item_index()),
        Some(1)
    );
}

/// A bulk job whose per-user results include one the model refuses: the bulk helper keeps
/// the others and reports that one, with the input it is about, its path and its JSON; the
/// plain `wait_for_job` fails at it, naming the path.
#[tokio::test]
async fn a_bulk_result_the_model_refuses_is_reported_and_the_others_kept() {
    use wiremock::matchers::{method, path};
    let server = MockServer::start().await;
    let job = |status: &str, results: Value| {
        json!({"job_status": {"id": "job-1", "status": status, "total": 3, "progress": 3,
                              "results": results}})
    };
    Mock::given(method("POST"))
        .and(path("/api/v2/users/create_many"))
        .respond_with(ResponseTemplate::new(200).set_body_json(job("queued", Value::Null)))
        .mount(&server)
        .await;
    let results = json!([
        {"index": 0, "id": 1000, "status": "Created", "success": true},
        {"index": 1, "id": "1001", "status": "Created", "success": true},
        {"index": 2, "id": 1002, "status": "Created", "success": true}
    ]);
    Mock::given(path("/api/v2/job_statuses/job-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(job("completed", results.clone())))
        .mount(&server)
        .await;
    let client = Clients::new(&server.uri()).zendesk;
    let users: Vec<zendesk::types::UserCreate> = (0..3)
        .map(|i| {
            zendesk::types::UserCreate::builder()
                .name(format!("User {i}"))
                .email(format!("user{i}@example.com"))
                .try_into()
                .expect("valid user")
        })
        .collect();
    let options = zendesk::BulkOptions::default()
        .with_poll_initial(std::time::Duration::from_millis(1))
        .with_job_timeout(std::time::Duration::from_secs(10));
    let outcome = client
        .create_users_in_bulk(users, &options)
        .await
        .expect("the job completes");
    let kept: Vec<usize> = outcome.results.iter().map(|r| r.input_index).collect();
    assert_eq!(kept, [0, 2]);
    assert_eq!(outcome.undecodable.len(), 1);
    let odd = &outcome.undecodable[0];
    assert_eq!((odd.job_id.as_str(), odd.input_index), ("job-1", Some(1)));
    assert_eq!(odd.error.kind(), zendesk::ErrorKind::Decode);
    assert_eq!(odd.error.item_index(), Some(1));
    assert_eq!(odd.error.json_path(), Some("job_status.results[1].id"));
    assert_eq!(
        serde_json::from_slice::<Value>(odd.error.body()).ok(),
        Some(results[1].clone())
    );
    assert_eq!(odd.error.operation(), Some("show_job_status"));

    let queued: zendesk::types::JobStatus =
        serde_json::from_value(job("queued", Value::Null)["job_status"].clone()).expect("job");
    let err = client
        .wait_for_job(queued, &options)
        .await
        .expect_err("strict");
    assert_eq!(err.json_path(), Some("job_status.results[1].id"));
}

/// `update_user_with` sends back what it read, fields the model does not list included (the
/// user's and its company's), with the closure's change.
#[tokio::test]
async fn a_read_modify_write_sends_back_the_fields_the_model_does_not_list() {
    use wiremock::matchers::method;
    let server = MockServer::start().await;
    let user = body("sendauth", "get_user", "unlisted-fields");
    for verb in ["GET", "PUT"] {
        Mock::given(method(verb))
            .respond_with(ResponseTemplate::new(200).set_body_json(&user))
            .mount(&server)
            .await;
    }
    let client = Clients::new(&server.uri()).sendauth;
    let id: uuid::Uuid = user["id"].as_str().expect("id").parse().expect("uuid");
    client
        .update_user_with(id, |u| u.phone = Some("+15555550100".into()))
        .await
        .expect("updated");
    let requests = server.received_requests().await.expect("recorded");
    let put = requests
        .iter()
        .find(|r| r.method.as_str() == "PUT")
        .expect("a PUT");
    let sent: Value = serde_json::from_slice(&put.body).expect("JSON");
    assert_eq!(sent["phone"], json!("+15555550100"));
    assert_eq!(sent["tenantID"], user["tenantID"]);
    assert_eq!(sent["mfa"], user["mfa"]);
    assert_eq!(sent["updatedAt"], user["updatedAt"]);
    assert_eq!(sent["company"]["plan"], json!("enterprise"));
    assert_eq!(sent["firstName"], user["firstName"]);
    assert!(
        sent.get("id").is_none() && sent.get("hasPasskeys").is_none(),
        "{sent}"
    );
}
