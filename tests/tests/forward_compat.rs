//! Responses from a newer service still decode: fields the spec does not know are ignored,
//! and enum values it does not know are kept (as an opaque unknown value) instead of failing
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
