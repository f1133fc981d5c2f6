//! Pagination in every style, against the typed mock servers of `zendesk-api-mock` and
//! `sendauth-api-mock`: Zendesk cursors (and a repeated cursor), Zendesk offset pages, SendAuth
//! page numbers, and the filters a listing keeps on every page.

use std::num::NonZeroU32;

use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use tests::specs;
use user_apis::runtime::{ApiError, ErrorKind};
use user_apis::{sendauth, zendesk};
use zendesk::types::{CursorMeta, User, UserPage, UserRole};
use zendesk_api_mock::prelude::*;

/// The spec's example user, with another id.
fn zendesk_user(id: i64) -> User {
    let mut user = specs::success_example("zendesk", "show_user")["user"].clone();
    user["id"] = json!(id);
    serde_json::from_value(user).expect("the spec's example user decodes")
}

/// A cursor page of `ids` leading to `after` (the last page when `None`).
fn cursor_page(ids: &[i64], after: Option<&str>) -> UserPage {
    UserPage {
        users: ids.iter().map(|id| zendesk_user(*id)).collect(),
        meta: Some(CursorMeta {
            has_more: Some(after.is_some()),
            after_cursor: after.map(str::to_string),
            before_cursor: None,
        }),
        links: None,
        count: None,
        next_page: None,
        previous_page: None,
    }
}

#[tokio::test]
async fn zendesk_cursor_pagination_walks_every_page() {
    let server = MockServer::start_async().await;
    let users: Vec<User> = (1..=6).map(zendesk_user).collect();
    let pages = server.list_users_in_cursor_pages(&users, 2);
    let client = zendesk_api_mock::client(&server);
    let ids: Vec<i64> = client
        .list_users()
        .page_size(2u32)
        .stream()
        .map_ok(|u| u.id)
        .try_collect()
        .await
        .expect("three pages");
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
    let calls: Vec<usize> = pages.iter().map(|page| page.calls()).collect();
    assert_eq!(calls, [1, 1, 1], "each page once");
}

#[tokio::test]
async fn the_filters_are_sent_on_every_page() {
    let server = MockServer::start_async().await;
    // Each page answers only a request with `page[size]=2` and `role[]=agent`.
    let agents = vec![UserRole::Agent];
    let pages: Vec<_> = [(None, [1, 2], Some("c1")), (Some("c1"), [3, 4], None)]
        .into_iter()
        .map(|(at, ids, after)| {
            let page = cursor_page(&ids, after);
            server.list_users(|when, then| {
                when.page_size(NonZeroU32::new(2))
                    .role(&agents)
                    .page_after(at);
                then.ok(&page);
            })
        })
        .collect();
    let client = zendesk_api_mock::client(&server);
    let ids: Vec<i64> = client
        .list_users()
        .page_size(2u32)
        .role(agents.clone())
        .stream()
        .map_ok(|u| u.id)
        .try_collect()
        .await
        .expect("both pages match their filters");
    assert_eq!(ids, [1, 2, 3, 4]);
    assert!(pages.iter().all(|page| page.calls() == 1));
}

#[tokio::test]
async fn one_role_is_sent_as_role_and_several_as_role_brackets() {
    let server = MockServer::start_async().await;
    // `.single_role(…)` is the setter of the wire parameter `role`: the mock matches `role=`.
    let single = server.list_users(|when, then| {
        when.single_role(&UserRole::Admin).page_after(None);
        then.ok(&cursor_page(&[7], None));
    });
    let client = zendesk_api_mock::client(&server);
    let admins: Vec<User> = client
        .list_users()
        .single_role(UserRole::Admin)
        .stream()
        .try_collect()
        .await
        .expect("the single-role mock answers");
    assert_eq!(admins.len(), 1);
    assert_eq!(single.calls(), 1);
    // `role[]=admin` is another parameter: the single-role mock does not answer it.
    let several = client
        .list_users()
        .role(vec![UserRole::Admin])
        .send()
        .await
        .expect_err("no mock for role[]");
    assert_eq!(several.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(single.calls(), 1);
}

#[tokio::test]
async fn a_repeated_cursor_ends_the_stream_with_an_error() {
    let server = MockServer::start_async().await;
    for (at, ids, after) in [
        (None, [1, 2], "c1"),
        (Some("c1"), [3, 4], "c2"),
        (Some("c2"), [5, 6], "c1"),
    ] {
        let page = cursor_page(&ids, Some(after));
        server.list_users(|when, then| {
            when.page_after(at);
            then.ok(&page);
        });
    }
    let client = zendesk_api_mock::client(&server);
    let results: Vec<Result<User, ApiError>> =
        client.list_users().page_size(2u32).stream().collect().await;
    assert_eq!(results.len(), 7, "six users and the error");
    let err = results
        .last()
        .and_then(|r| r.as_ref().err())
        .expect("an error ends it");
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert_eq!(err.operation(), Some("list_users"));
}

#[tokio::test]
async fn zendesk_offset_pagination_follows_next_page() {
    let server = MockServer::start_async().await;
    let users: Vec<User> = (1..=5).map(zendesk_user).collect();
    let pages = server.list_users_in_offset_pages(&users, 2);
    let client = zendesk_api_mock::client(&server);
    let ids: Vec<i64> = client
        .list_users()
        .stream()
        .map_ok(|u| u.id)
        .try_collect()
        .await
        .expect("three pages");
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert!(pages.iter().all(|page| page.calls() == 1));
}

#[tokio::test]
async fn zendesk_search_follows_next_page_and_keeps_its_query() {
    let server = MockServer::start_async().await;
    let base = server.base_url();
    for page in 1..=3u32 {
        let next = (page < 3).then(|| {
            format!(
                "{base}/api/v2/users/search.json?page={}&query=role%3Aagent",
                page + 1
            )
        });
        let body: UserPage = serde_json::from_value(json!({
            "users": [zendesk_user(i64::from(page))],
            "next_page": next,
            "previous_page": null,
            "count": 3,
        }))
        .expect("a search page");
        server.search_users(|when, then| {
            when.query("role:agent")
                .page((page > 1).then(|| NonZeroU32::new(page)).flatten());
            then.ok(&body);
        });
    }
    let client = zendesk_api_mock::client(&server);
    let ids: Vec<i64> = client
        .search_users()
        .query("role:agent")
        .stream()
        .map_ok(|u| u.id)
        .try_collect()
        .await
        .expect("three pages, each with the query");
    assert_eq!(ids, [1, 2, 3]);
}

#[tokio::test]
async fn sendauth_page_numbers_walk_to_the_total() {
    use sendauth_api_mock::prelude::PageScenarios as _;
    let server = MockServer::start_async().await;
    let user = |n: u32| -> sendauth::types::User {
        serde_json::from_value(json!({
            "id": format!("3f9c2a4e-8b1d-4c6a-9e2f-7a5b1c0d4e{n:02}"),
            "role": "user",
            "firstName": "User",
            "lastName": format!("Number {n}"),
            "createdAt": "2024-03-01T10:00:00Z",
            "hasPasskeys": false,
        }))
        .expect("a SendAuth user")
    };
    let users: Vec<_> = (1..=5).map(user).collect();
    let pages = server.list_users_in_pages(&users, 2);
    let client = sendauth_api_mock::client(&server);
    let names: Vec<String> = client
        .list_users()
        .per_page(2u64)
        .sort_dir(sendauth::types::SortDir::Asc)
        .stream()
        .map_ok(|u| u.last_name)
        .try_collect()
        .await
        .expect("three pages");
    assert_eq!(
        names,
        ["Number 1", "Number 2", "Number 3", "Number 4", "Number 5"]
    );
    let calls: Vec<usize> = pages.iter().map(|page| page.calls()).collect();
    assert_eq!(calls, [1, 1, 1, 0], "no request past the total");
}

/// Every listing has generated page scenarios: the export's serves the export stream, page
/// after page, to the one that says `end_of_stream`.
#[tokio::test]
async fn the_export_page_scenario_serves_the_export_stream() {
    let server = MockServer::start_async().await;
    let users: Vec<User> = (1..=5).map(zendesk_user).collect();
    let pages = server.incremental_user_export_in_export_pages(&users, 2);
    let client = zendesk::Client::with_config(
        zendesk::api_token_credentials("mock@example.com", "token").expect("credentials"),
        zendesk::ClientConfig::new()
            .base_url(server.base_url())
            .rate_limits(zendesk::RateLimits::disabled()),
    )
    .expect("a client");
    let got: Vec<zendesk::ExportPage> = client
        .export_users(zendesk::ExportStart::Since(0))
        .pages()
        .try_collect()
        .await
        .expect("three pages");
    let ids: Vec<i64> = got
        .iter()
        .flat_map(|p| p.users.iter().map(|u| u.id))
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert_eq!(
        got.last().and_then(|p| p.cursor.as_deref()),
        Some("cursor-3")
    );
    assert!(got.last().is_some_and(|p| p.end_of_stream));
    assert!(pages.iter().all(|page| page.calls() == 1), "each page once");
}
