//! Responses from a newer service still decode: fields the spec does not know are kept (in
//! the model's `extra`, and encoded back with the others), and enum values it does not know are kept (as an opaque unknown value) instead of failing
//! the call. A known value is always its variant, however it was made.

use serde_json::json;
use tests::{Clients, specs};
use user_apis::{sendauth, zendesk};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_zendesk_user_with_new_fields_and_a_new_role_decodes() {
    let mut body = specs::success_example("zendesk", "show_user");
    body["user"]["role"] = json!("light-agent");
    body["user"]["ticket_restriction"] = json!("brand");
    body["user"]["brand_access"] = json!({"all": true, "ids": [1, 2]});
    body["user"]["new_flag"] = json!(true);
    body["sideloads"] = json!({"identities": []});

    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(&body))
        .mount(&server)
        .await;
    let clients = Clients::new(&server.uri());
    let user = clients
        .zendesk
        .show_user()
        .user_id(35436)
        .send()
        .await
        .expect("decodes")
        .into_inner()
        .user;
    let role = user.role.as_ref().expect("the example has a role");
    assert_eq!(*role, zendesk::types::UserRole::from("light-agent"));
    assert_ne!(*role, zendesk::types::UserRole::Agent);
    assert!(role.is_unknown());
    assert_eq!(role.to_string(), "light-agent");
    assert_eq!(
        user.ticket_restriction,
        Some(zendesk::types::TicketRestriction::from("brand"))
    );
    // The unknown value goes back to the server unchanged.
    assert_eq!(
        serde_json::to_value(&user.role).unwrap(),
        json!("light-agent")
    );
    // So do the fields the spec does not list: kept, and encoded back as received.
    assert_eq!(
        user.extra["brand_access"],
        json!({"all": true, "ids": [1, 2]})
    );
    assert_eq!(user.extra["new_flag"], json!(true));
    assert!(
        !user.extra.contains_key("role"),
        "listed fields are not in extra"
    );
    let again = serde_json::to_value(&user).unwrap();
    assert_eq!(again["brand_access"], body["user"]["brand_access"]);
    assert_eq!(again["new_flag"], json!(true));
}

/// Every Zendesk record a response carries keeps what the spec does not list: a user in a
/// listing, a deleted user, a job status and its per-item results, a tag count.
#[test]
fn zendesk_records_keep_their_unlisted_fields() {
    use zendesk::types;
    let new = json!({"since_2027": {"x": 1}});
    let with_new = |mut value: serde_json::Value| {
        value["since_2027"] = new["since_2027"].clone();
        value
    };
    let page: types::UserPage = serde_json::from_value(json!({
        "users": [with_new(json!({"id": 1, "name": "Ada"}))]
    }))
    .unwrap();
    assert_eq!(page.users[0].extra["since_2027"], json!({"x": 1}));
    let deleted: types::DeletedUser =
        serde_json::from_value(with_new(json!({"id": 2, "name": "Gone"}))).unwrap();
    assert_eq!(deleted.extra["since_2027"], json!({"x": 1}));
    let job: types::JobStatus = serde_json::from_value(with_new(json!({
        "id": "j1", "status": "completed",
        "results": [with_new(json!({"id": 3, "action": "update", "status": "Updated"}))]
    })))
    .unwrap();
    assert_eq!(job.extra["since_2027"], json!({"x": 1}));
    let again = serde_json::to_value(&job).unwrap();
    assert_eq!(again["results"][0]["since_2027"], json!({"x": 1}));
    let tag: types::TagCount =
        serde_json::from_value(with_new(json!({"name": "vip", "count": 4}))).unwrap();
    assert_eq!(tag.extra["since_2027"], json!({"x": 1}));
    let current: types::CurrentUser = serde_json::from_value(with_new(json!({"id": 5}))).unwrap();
    assert_eq!(current.extra["since_2027"], json!({"x": 1}));
}

#[test]
fn a_job_status_and_a_transaction_in_new_states_decode() {
    let mut job = specs::success_example("zendesk", "show_job_status");
    job["job_status"]["status"] = json!("paused");
    let job: zendesk::types::JobStatusResponse = serde_json::from_value(job).expect("decodes");
    assert_eq!(
        job.job_status.status,
        zendesk::types::JobState::from("paused")
    );

    let mut page = specs::success_example("sendauth", "get_user_transactions");
    page["rows"][0]["state"] = json!("escalated");
    page["rows"][0]["riskScore"] = json!(0.3);
    let page: sendauth::types::TransactionPage = serde_json::from_value(page).expect("decodes");
    let rows = page.rows.unwrap_or_default();
    assert_eq!(
        rows[0].state,
        sendauth::types::TransactionState::from("escalated")
    );
}

#[test]
fn known_values_still_map_to_their_variants() {
    for value in zendesk::types::UserRole::KNOWN {
        let role: zendesk::types::UserRole = value.parse().expect("infallible");
        assert!(!role.is_unknown(), "{value}");
        assert_eq!(role.as_str(), *value);
    }
}

/// An open enum made from a known value is its variant, whether it arrives on the wire,
/// is parsed, or is built from a string: `"agent"` can never be an unknown value.
#[test]
fn known_and_unknown_spellings_compare_by_value() {
    use zendesk::types::UserRole;
    let from_wire: UserRole = serde_json::from_value(json!("agent")).expect("decodes");
    assert_eq!(from_wire, UserRole::Agent);
    assert_eq!(UserRole::from("agent"), UserRole::Agent);
    assert_eq!(UserRole::from(String::from("agent")), UserRole::Agent);
    let unknown: UserRole = serde_json::from_value(json!("light-agent")).expect("decodes");
    assert!(unknown.is_unknown());
    match &unknown {
        UserRole::Unknown(value) => assert_eq!(value.as_str(), "light-agent"),
        other => panic!("{other:?}"),
    }
    assert_eq!(unknown, UserRole::from("light-agent"));
    assert_eq!(format!("{unknown:?}"), r#"Unknown("light-agent")"#);
}
