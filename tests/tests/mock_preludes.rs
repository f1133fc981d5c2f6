//! The mock crates' preludes import together: each crate's typed mock methods and scenarios
//! stay in scope (their traits are imported unnamed), and the matchers have a name per
//! service (`sendauth_operations`, `cerego_operations`).

use cerego_api_mock::prelude::*;
use sendauth_api_mock::prelude::*;

#[tokio::test]
async fn sendauth_and_cerego_preludes_together() {
    let server = MockServer::start_async().await;
    let sendauth = sendauth_api_mock::client(&server);
    let cerego = cerego_api_mock::client(&server);

    // SendAuth's scenario and a Cerego typed mock, through the two preludes.
    let user: sendauth_api_mock::types::User = serde_json::from_value(serde_json::json!({
        "id": "00000000-0000-4000-8000-000000000001", "firstName": "Ada", "lastName": "Lovelace"
    }))
    .expect("a user");
    server.list_users_in_pages(std::slice::from_ref(&user), 1);
    let tag: cerego_api_mock::types::PartnerUserTagDocument =
        serde_json::from_value(serde_json::json!({
            "data": {"id": "1", "type": "partner-user-tags", "attributes": {"value": "CA"}}
        }))
        .expect("a tag");
    let added = server.add_user_tag(|when, then| {
        when.tag_type_id("3");
        then.created(&tag);
    });
    // The matchers by their per-service names.
    let _: fn(sendauth_operations::GetUserWhen) -> sendauth_operations::GetUserWhen = |w| w;
    let _: fn(cerego_operations::AddUserTagWhen) -> cerego_operations::AddUserTagWhen = |w| w;

    let page = sendauth
        .list_users()
        .page(1)
        .send()
        .await
        .expect("page 1")
        .into_inner();
    assert_eq!(page.rows, Some(vec![user]));
    let request = cerego_api_mock::types::AddUserTagRequest {
        user_id: "7".into(),
        value: "CA".into(),
    };
    let created = cerego
        .add_user_tag()
        .tag_type_id("3")
        .body(request)
        .send()
        .await
        .expect("created");
    assert_eq!(created.into_inner().data.id, "1");
    assert_eq!(added.calls(), 1);
}
