//! Request-shape snapshots: the exact request every operation sends, captured on a real HTTP
//! server on loopback. Review changes with `cargo insta review`; CI fails on any difference.

use std::collections::BTreeSet;

use tests::recorder::{render, server_for};
use tests::specs::{self, OperationDoc};
use tests::{Clients, catalogue, secrets};

fn expected_authorization(service: &str) -> String {
    tests::clients::credentials(service)
        .header_value()
        .expect("fixed credentials")
        .to_str()
        .expect("ASCII")
        .to_string()
}

fn doc_for<'a>(docs: &'a [OperationDoc], service: &str, id: &str) -> &'a OperationDoc {
    docs.iter()
        .find(|d| d.service == service && d.id == id)
        .unwrap_or_else(|| panic!("{service}::{id} is in the catalogue but not in its spec"))
}

#[tokio::test]
async fn every_operation_sends_the_request_its_snapshot_shows() {
    let docs = specs::all_operations();
    let mut failures = Vec::new();
    for op in catalogue() {
        let doc = doc_for(&docs, op.service, op.id);
        let server = server_for(doc).await;
        let clients = Clients::new(&server.uri());
        if let Err(e) = (op.call)(&clients).await {
            failures.push(format!(
                "{}::{} failed against its own spec example: {e}",
                op.service, op.id
            ));
            continue;
        }
        let requests = server.received_requests().await.unwrap_or_default();
        assert_eq!(
            requests.len(),
            1,
            "{}::{} sent {} requests",
            op.service,
            op.id,
            requests.len()
        );
        let shape = render(&requests[0], Some(&expected_authorization(op.service)));
        assert_eq!(
            (shape["method"].as_str(), doc.method.as_str()),
            (Some(doc.method.as_str()), doc.method.as_str()),
            "{}::{} used another method than its spec",
            op.service,
            op.id
        );
        let printed = shape.to_string();
        for secret in secrets::ALL {
            assert!(
                !printed.contains(secret),
                "a secret reached the snapshot of {}",
                op.id
            );
        }
        let name = format!("{}__{}", op.service, op.id);
        let outcome = std::panic::catch_unwind(|| {
            insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
                insta::assert_json_snapshot!(name.as_str(), shape);
            });
        });
        if outcome.is_err() {
            failures.push(format!("{name}: the request differs from its snapshot"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every operationId of every spec is in the catalogue and has a committed snapshot, and the
/// catalogue names nothing the specs lack.
#[test]
fn every_operation_has_a_snapshot() {
    let docs = specs::all_operations();
    let in_specs: BTreeSet<(String, String)> = docs
        .iter()
        .map(|d| (d.service.clone(), d.id.clone()))
        .collect();
    let in_catalogue: BTreeSet<(String, String)> = catalogue()
        .iter()
        .map(|o| (o.service.to_string(), o.id.to_string()))
        .collect();
    let missing: Vec<_> = in_specs.difference(&in_catalogue).collect();
    assert!(
        missing.is_empty(),
        "operations with no catalogue entry (tests/src/catalogue.rs): {missing:?}"
    );
    let extra: Vec<_> = in_catalogue.difference(&in_specs).collect();
    assert!(
        extra.is_empty(),
        "catalogue entries the specs do not have: {extra:?}"
    );

    let dir = specs::root().join("tests/tests/snapshots");
    let without: Vec<String> = in_specs
        .iter()
        .map(|(service, id)| format!("{service}__{id}.snap"))
        .filter(|file| !dir.join(file).is_file())
        .collect();
    assert!(
        without.is_empty(),
        "operations without a committed snapshot: {without:?}"
    );
}

/// `role` (one role) and `role[]` (several) are two query parameters: the catalogue sends
/// `role=agent` through `single_role`; this sends `role[]` through `role`.
#[tokio::test]
async fn several_roles_are_sent_as_role_brackets() {
    use user_apis::zendesk::types::UserRole;
    let docs = specs::all_operations();
    for id in ["list_users", "count_users"] {
        let server = server_for(doc_for(&docs, "zendesk", id)).await;
        let clients = Clients::new(&server.uri());
        let roles = vec![UserRole::Agent, UserRole::Admin];
        let sent = match id {
            "list_users" => clients
                .zendesk
                .list_users()
                .role(roles)
                .send()
                .await
                .map(drop),
            _ => clients
                .zendesk
                .count_users()
                .role(roles)
                .send()
                .await
                .map(drop),
        };
        sent.unwrap_or_else(|e| panic!("zendesk::{id} failed: {e}"));
        let requests = server.received_requests().await.unwrap_or_default();
        assert_eq!(requests.len(), 1);
        let shape = render(&requests[0], Some(&expected_authorization("zendesk")));
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_json_snapshot!(format!("zendesk__{id}__several_roles"), shape);
        });
    }
}

/// The token request of each grant type besides the catalogue's (`client_credentials`): what
/// each grant sends, with its secrets redacted (and checked to be the test secrets).
#[tokio::test]
async fn every_grant_type_sends_the_request_its_snapshot_shows() {
    use user_apis::zendesk::types::OAuthGrantType;
    let docs = specs::all_operations();
    let doc = doc_for(&docs, "zendesk", "create_token_for_grant_type");
    for grant in [
        OAuthGrantType::AuthorizationCode,
        OAuthGrantType::RefreshToken,
    ] {
        let server = server_for(doc).await;
        let clients = Clients::new(&server.uri());
        clients
            .zendesk
            .create_token_for_grant_type()
            .body_map(|b| tests::catalogue::oauth_token_request(b, grant))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{grant}: {e}"));
        let requests = server.received_requests().await.unwrap_or_default();
        assert_eq!(requests.len(), 1);
        let sent = String::from_utf8_lossy(&requests[0].body).into_owned();
        let shape = render(&requests[0], Some(&expected_authorization("zendesk")));
        let printed = shape.to_string();
        for secret in secrets::ALL {
            assert!(
                !printed.contains(secret),
                "a secret reached the snapshot of {grant}"
            );
        }
        assert_eq!(shape["body"]["grant_type"], grant.to_string());
        assert!(
            sent.contains(secrets::ZENDESK_OAUTH_CLIENT_SECRET),
            "{grant}: no secret sent"
        );
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_json_snapshot!(format!("zendesk__create_token_for_grant_type__{grant}"), shape);
        });
    }
}
