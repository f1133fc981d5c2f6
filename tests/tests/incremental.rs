//! The incremental user export as a resumable stream, against a loopback server that plays
//! Zendesk: `start_time` on the first request, then each page's `after_cursor`, to the page
//! that says `end_of_stream`. The pacing tests run on a [`ManualClock`]: the export's budget
//! spaces requests exactly `60 s / n` apart on the client's clock, which the test reads back
//! instead of waiting.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use tests::recorder::render;
use user_apis::runtime::{ClientConfig, ErrorKind, ManualClock, RateLimits, RetryPolicy};
use user_apis::zendesk::{self, ExportPage, ExportStart};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PATH: &str = "/api/v2/incremental/users/cursor";
const START: i64 = 1_700_000_000;

/// A user as the export sends it: the admin view, with the fields a sync relies on.
fn user(id: i64) -> Value {
    json!({
        "id": id,
        "url": format!("https://example.zendesk.com/api/v2/users/{id}.json"),
        "name": format!("User {id}"),
        "email": format!("user{id}@example.com"),
        "created_at": "2023-11-14T22:13:20Z",
        "updated_at": "2023-11-15T08:00:00Z",
        "role": "end-user",
        "active": true,
        "user_fields": {"plan": null}
    })
}

fn page(ids: &[i64], after: &str, end: bool) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "users": ids.iter().map(|id| user(*id)).collect::<Vec<_>>(),
        "after_url": format!("https://example.zendesk.com{PATH}.json?cursor={after}"),
        "after_cursor": after,
        "before_url": null,
        "before_cursor": null,
        "end_of_stream": end,
    }))
}

/// Today's export: three pages from `START` (the second one empty), then, tomorrow, one
/// more page after the cursor saved at the end of today's.
async fn zendesk() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param("start_time", START.to_string()))
        .and(query_param_is_missing("cursor"))
        .respond_with(page(&[1, 2, 3], "c1", false))
        .mount(&server)
        .await;
    for (cursor, ids, next, end) in [
        ("c1", &[][..], "c2", false),
        ("c2", &[4, 5][..], "c3", true),
        ("c3", &[6][..], "c4", true),
    ] {
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(query_param("cursor", cursor))
            .and(query_param_is_missing("start_time"))
            .respond_with(page(ids, next, end))
            .mount(&server)
            .await;
    }
    server
}

fn ids(pages: &[ExportPage]) -> Vec<i64> {
    pages
        .iter()
        .flat_map(|p| p.users.iter().map(|u| u.id))
        .collect()
}

/// Fast enough for a test, paced all the same.
const FAST: u32 = 60_000;

/// A client without retries whose export budget is `per_minute` (the client-wide budget
/// every export stream of the client shares).
fn client(server: &MockServer, per_minute: u32) -> zendesk::Client {
    tests::clients::zendesk_client(config(server, per_minute))
}

fn config(server: &MockServer, per_minute: u32) -> ClientConfig {
    ClientConfig::new()
        .base_url(server.uri())
        .retry(RetryPolicy::disabled())
        .rate_limits(
            RateLimits::default()
                .with_operation_requests_per_minute("incremental_user_export", per_minute),
        )
}

/// [`client`] on a manual clock: its sleeps are the budget's spacing.
fn client_on_manual_clock(server: &MockServer, per_minute: u32) -> (zendesk::Client, ManualClock) {
    let manual = ManualClock::new();
    let client = tests::clients::zendesk_client(config(server, per_minute).clock(manual.clock()));
    (client, manual)
}

/// The client's default clock and budget: Zendesk's 10 export requests a minute.
fn default_client_on_manual_clock(server: &MockServer) -> (zendesk::Client, ManualClock) {
    let manual = ManualClock::new();
    let client = tests::clients::zendesk_client(
        ClientConfig::new()
            .base_url(server.uri())
            .retry(RetryPolicy::disabled())
            .clock(manual.clock()),
    );
    (client, manual)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[tokio::test]
async fn the_export_runs_to_end_of_stream_and_resumes_from_the_saved_cursor() {
    let server = zendesk().await;
    let zendesk = &client(&server, FAST);

    // Today, first run: stopped after the first page (a crash, a deploy), its cursor saved.
    let mut first_run = zendesk.export_users(ExportStart::Since(START)).pages();
    let first = first_run.try_next().await.expect("page 1").expect("a page");
    drop(first_run);
    assert_eq!(ids(std::slice::from_ref(&first)), [1, 2, 3]);
    assert!(!first.end_of_stream);
    let saved = first.cursor.clone().expect("a cursor to persist");

    // Second run: from the saved cursor to the end of the stream. The empty page does not
    // end it; the page that says end_of_stream does.
    let rest: Vec<ExportPage> = zendesk
        .export_users(ExportStart::after(saved))
        .pages()
        .try_collect()
        .await
        .expect("the rest of today's export");
    assert_eq!(rest.len(), 2, "an empty page, then the last one");
    assert!(rest[0].users.is_empty() && !rest[0].end_of_stream);
    assert!(rest[1].end_of_stream);
    let today: Vec<i64> = ids(&[vec![first], rest.clone()].concat());
    assert_eq!(today, [1, 2, 3, 4, 5], "no user repeated or skipped");
    let tomorrow_cursor = rest[1].cursor.clone().expect("the cursor for tomorrow");
    assert_eq!(tomorrow_cursor, "c3");

    // Tomorrow: only what changed since.
    let tomorrow: Vec<i64> = zendesk
        .export_users(ExportStart::after(tomorrow_cursor))
        .users()
        .map_ok(|u| u.id)
        .try_collect()
        .await
        .expect("tomorrow's export");
    assert_eq!(tomorrow, [6]);

    // One request per page, none repeated: 1 (stopped) + 2 (resumed) + 1 (tomorrow).
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(requests.len(), 4);
}

#[tokio::test]
async fn the_whole_export_in_one_run_yields_every_user_once() {
    let server = zendesk().await;
    let users: Vec<i64> = client(&server, FAST)
        .export_users(ExportStart::Since(START))
        .users()
        .map_ok(|u| u.id)
        .try_collect()
        .await
        .expect("the export");
    assert_eq!(users, [1, 2, 3, 4, 5]);
}

/// The first request carries `start_time`, the next one `cursor` (and never both), with
/// `per_page` on each: the stream's own requests, as snapshots.
#[tokio::test]
async fn the_first_request_sends_start_time_and_the_next_the_cursor() {
    let server = zendesk().await;
    let pages: Vec<ExportPage> = client(&server, FAST)
        .export_users(ExportStart::Since(START))
        .per_page(1000)
        .pages()
        .take(2)
        .try_collect()
        .await
        .expect("two pages");
    assert_eq!(pages.len(), 2);
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(requests.len(), 2);
    let authorization = tests::clients::credentials("zendesk")
        .header_value()
        .expect("fixed credentials")
        .to_str()
        .expect("ASCII")
        .to_string();
    let shapes: Vec<Value> = requests
        .iter()
        .map(|r| render(r, Some(&authorization)))
        .collect();
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_json_snapshot!("zendesk__incremental_user_export__first_and_next", shapes);
    });
}

/// Requests are paced by Zendesk's default budget, 10 a minute: three pages are requested
/// exactly 6 s apart on the client's clock; at 600 a minute (High Volume ×20, say), 100 ms.
#[tokio::test]
async fn requests_are_paced() {
    assert_eq!(zendesk::DEFAULT_EXPORT_REQUESTS_PER_MINUTE, 10);
    let server = zendesk().await;
    let (zendesk, manual) = default_client_on_manual_clock(&server);
    let pages: Vec<ExportPage> = zendesk
        .export_users(ExportStart::Since(START))
        .pages()
        .try_collect()
        .await
        .expect("the export");
    assert_eq!(pages.len(), 3);
    assert_eq!(manual.sleeps(), [secs(6), secs(6)]);

    let (zendesk, manual) = client_on_manual_clock(&server, 600);
    let pages = zendesk
        .export_users(ExportStart::Since(START))
        .pages()
        .try_collect::<Vec<_>>()
        .await
        .expect("the export");
    assert_eq!(pages.len(), 3);
    assert_eq!(manual.sleeps(), [Duration::from_millis(100); 2]);
}

/// A page that is not the last but carries no cursor is an error, not an endless or silently
/// truncated export; so is a cursor the server hands back twice.
#[tokio::test]
async fn a_missing_or_repeated_cursor_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "users": [user(1)], "after_cursor": null, "end_of_stream": false
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param("cursor", "loop"))
        .respond_with(page(&[2], "loop", false))
        .mount(&server)
        .await;
    let zendesk = client(&server, FAST);
    let err = zendesk
        .export_users(ExportStart::Since(START))
        .pages()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("no cursor");
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert!(err.to_string().contains("after_cursor"), "{err}");

    let mut looping = zendesk.export_users(ExportStart::after("loop")).pages();
    assert!(looping.try_next().await.expect("first page").is_some());
    let err = looping.try_next().await.expect_err("the repeat");
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert_eq!(err.operation(), Some("incremental_user_export"));
}

/// The export's budget is the client's: two streams at once, on the client and on a clone of
/// it (`with_retry`), share 10 a minute, so their six requests go 6 s apart, 30 s in all on
/// the client's clock (each stream alone would need 12 s).
#[tokio::test]
async fn two_streams_share_the_client_budget() {
    let server = zendesk().await;
    let (zendesk, manual) = default_client_on_manual_clock(&server);
    let clone = zendesk.with_retry(RetryPolicy::disabled());
    let (a, b) = futures::join!(
        zendesk
            .export_users(ExportStart::Since(START))
            .pages()
            .try_collect::<Vec<_>>(),
        clone
            .export_users(ExportStart::Since(START))
            .pages()
            .try_collect::<Vec<_>>(),
    );
    assert_eq!((a.expect("first").len(), b.expect("second").len()), (3, 3));
    assert_eq!(manual.sleeps(), [secs(6); 5], "one request every 6 s");
}

/// The deprecated per-stream setting still works, as a cap within the client's budget: 0 is
/// refused before any request, and a slower cap slows the stream down (on the client's clock:
/// its first wait is for the instant already come, zero).
#[tokio::test]
#[allow(deprecated)]
async fn a_per_stream_cap_works_within_the_client_budget() {
    let server = zendesk().await;
    let zendesk = client(&server, FAST);
    let err = zendesk
        .export_users(ExportStart::Since(START))
        .requests_per_minute(0)
        .pages()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("0 a minute");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
    // A client budget of 60 a minute (1 s apart), a stream cap of 10 (6 s apart).
    let (zendesk, manual) = client_on_manual_clock(&server, 60);
    let pages = zendesk
        .export_users(ExportStart::Since(START))
        .requests_per_minute(10)
        .pages()
        .try_collect::<Vec<_>>()
        .await
        .expect("the export");
    assert_eq!(pages.len(), 3);
    assert_eq!(manual.sleeps(), [Duration::ZERO, secs(6), secs(6)]);
}

/// A page one of whose users the model refuses (an `id` that is not a number): the page's
/// other users and its cursor arrive, the odd user follows as a `Decode` error of its own
/// (its index, its path, its JSON as received), and the export goes on to the end. A run
/// that stops at that error resumes after the page, not before it.
#[tokio::test]
async fn an_odd_user_is_reported_in_its_place_and_the_export_goes_on() {
    let server = MockServer::start().await;
    let odd = json!({"id": "u-7", "name": "Imported", "email": "imported@example.com"});
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param("start_time", START.to_string()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "users": [user(1), odd, user(3)],
            "after_cursor": "c1",
            "end_of_stream": false,
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param("cursor", "c1"))
        .respond_with(page(&[4], "c2", true))
        .mount(&server)
        .await;
    let zendesk = client(&server, FAST);

    // Pages: the good users and the cursor, then the odd user, then the next page.
    let got: Vec<Result<ExportPage, _>> = zendesk
        .export_users(ExportStart::Since(START))
        .pages()
        .collect()
        .await;
    assert_eq!(got.len(), 3, "{got:?}");
    let first = got[0].as_ref().expect("the first page");
    assert_eq!(ids(std::slice::from_ref(first)), [1, 3]);
    assert_eq!(first.cursor.as_deref(), Some("c1"), "the page's cursor");
    assert!(!first.end_of_stream);
    let odd = got[1].as_ref().expect_err("the odd user");
    assert_eq!(odd.kind(), ErrorKind::Decode);
    assert_eq!(odd.item_index(), Some(1));
    assert_eq!(odd.json_path(), Some("users[1].id"));
    assert_eq!(odd.operation(), Some("incremental_user_export"));
    assert_eq!(odd.status().map(|s| s.as_u16()), Some(200));
    let raw: Value = serde_json::from_slice(odd.body()).expect("the user's JSON");
    assert_eq!(raw["id"], "u-7");
    assert_eq!(raw["email"], "imported@example.com");
    let last = got[2].as_ref().expect("the next page");
    assert_eq!(ids(std::slice::from_ref(last)), [4]);
    assert_eq!(last.cursor.as_deref(), Some("c2"));
    assert!(last.end_of_stream);

    // Users: each in its place, the odd one as an error, nothing after it lost.
    let users: Vec<Result<i64, Option<usize>>> = zendesk
        .export_users(ExportStart::Since(START))
        .users()
        .map(|u| u.map(|u| u.id).map_err(|e| e.item_index()))
        .collect()
        .await;
    assert_eq!(users, [Ok(1), Err(Some(1)), Ok(3), Ok(4)]);

    // A run that stops at the first error has the page's cursor already: resumed from it,
    // the export continues after the page.
    let mut pages = zendesk.export_users(ExportStart::Since(START)).pages();
    let mut saved = None;
    let stopped = loop {
        match pages.try_next().await {
            Ok(Some(page)) => saved = page.cursor,
            Ok(None) => panic!("the odd user is reported"),
            Err(error) => break error,
        }
    };
    assert_eq!(stopped.item_index(), Some(1));
    let resumed: Vec<i64> = zendesk
        .export_users(ExportStart::after(saved.expect("a saved cursor")))
        .users()
        .map_ok(|u| u.id)
        .try_collect()
        .await
        .expect("the rest");
    assert_eq!(resumed, [4]);
}
