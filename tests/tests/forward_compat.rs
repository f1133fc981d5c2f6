//! Responses from a newer service still decode: fields the spec does not know are ignored,
//! and enum values it does not know are kept (`Unknown(..)`) instead of failing the call.

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
    assert_eq!(
        *role,
        zendesk::types::UserRole::Unknown("light-agent".into())
    );
    assert!(role.is_unknown());
    assert_eq!(role.to_string(), "light-agent");
    assert_eq!(
        user.ticket_restriction,
        Some(zendesk::types::TicketRestriction::Unknown("brand".into()))
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
        zendesk::types::JobState::Unknown("paused".into())
    );

    let mut page = specs::success_example("sendauth", "get_user_transactions");
    page["rows"][0]["state"] = json!("escalated");
    page["rows"][0]["riskScore"] = json!(0.3);
    let page: sendauth::types::TransactionPage = serde_json::from_value(page).expect("decodes");
    let rows = page.rows.unwrap_or_default();
    assert_eq!(
        rows[0].state,
        sendauth::types::TransactionState::Unknown("escalated".into())
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
