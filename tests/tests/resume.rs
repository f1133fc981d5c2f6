//! Resumable listings: a sync of 1,000 pages whose connection is cut mid-body at page 500,
//! against a real loopback server, ends with an error that says where to go on; the same
//! request, taken back from that position (printed and parsed again, as a CLI would), goes
//! on from page 500 and every item arrives exactly once. In the three styles: Zendesk
//! cursors, Zendesk offset page numbers, and SendAuth page numbers counted against `total`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use serde_json::{Value, json};
use tests::clients::Clients;
use tests::fault_server::{Fault, FaultServer, Received};
use tests::specs;
use user_apis::runtime::{ApiError, ErrorKind, ResumePosition};

/// Pages in the listing, one item each.
const PAGES: u64 = 1000;
/// The page whose connection is cut.
const CUT_AT: u64 = 500;

/// The value of query parameter `name` of `request`.
fn query(request: &Received, name: &str) -> Option<String> {
    request
        .query_pairs()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// A Zendesk cursor as opaque as the real ones, with the characters a shell would mangle.
fn cursor(page: u64) -> String {
    format!("eyJvIjoi{page}Iiwidi/+Ij==")
}

/// The spec's example user (read once), with another id.
fn zendesk_user(id: u64) -> Value {
    static EXAMPLE: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let mut user = EXAMPLE
        .get_or_init(|| specs::success_example("zendesk", "show_user")["user"].clone())
        .clone();
    user["id"] = json!(id);
    user
}

fn sendauth_user(n: u64) -> Value {
    json!({
        "id": format!("3f9c2a4e-8b1d-4c6a-9e2f-{n:012}"),
        "role": "user",
        "firstName": "User",
        "lastName": format!("{n}"),
        "createdAt": "2024-03-01T10:00:00Z",
        "hasPasskeys": false,
    })
}

/// A server answering `page_of(request)` with `body(page)`, and cutting the connection
/// mid-body the first time page [`CUT_AT`] is asked for.
async fn server(page_of: fn(&Received) -> u64, body: fn(&Received, u64) -> Value) -> FaultServer {
    let cuts = Arc::new(AtomicUsize::new(1));
    FaultServer::start(move |request, _| {
        let page = page_of(request);
        if page == CUT_AT && cuts.fetch_sub(1, Ordering::SeqCst) == 1 {
            return Fault::CloseMidBody;
        }
        Fault::json(200, &body(request, page))
    })
    .await
}

/// Runs a listing to its end or its error: the items in order and the error.
async fn run<T, S>(items: S, id: fn(&T) -> u64) -> (Vec<u64>, Option<ApiError>)
where
    S: futures::Stream<Item = Result<T, ApiError>>,
{
    let mut items = std::pin::pin!(items);
    let mut got = Vec::new();
    while let Some(item) = items.next().await {
        match item {
            Ok(item) => got.push(id(&item)),
            Err(err) => return (got, Some(err)),
        }
    }
    (got, None)
}

/// The error of a cut run: its position, printed and parsed back as a CLI user would.
fn position_of(err: Option<ApiError>, operation: &str) -> ResumePosition {
    let err = err.expect("the cut ends the first run with an error");
    assert!(
        matches!(err.kind(), ErrorKind::Body | ErrorKind::Transport),
        "{err:?}"
    );
    assert_eq!(err.operation(), Some(operation));
    let position = err
        .resume_position()
        .expect("an error after delivered pages says where to go on");
    let text = position.to_string();
    assert!(
        text.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-')),
        "a token a shell takes as is: {text}"
    );
    let parsed: ResumePosition = text.parse().expect("the printed position reads back");
    assert_eq!(&parsed, position);
    parsed
}

/// Every item once, in order, across the two runs.
fn assert_every_item_once(first: Vec<u64>, second: Vec<u64>) {
    assert_eq!(first, (1..CUT_AT).collect::<Vec<_>>(), "up to the cut page");
    assert_eq!(
        second.first(),
        Some(&CUT_AT),
        "the resumed run starts there"
    );
    let mut counts = BTreeMap::new();
    for id in first.iter().chain(&second) {
        *counts.entry(*id).or_insert(0u32) += 1;
    }
    assert_eq!(counts.len() as u64, PAGES, "no gap");
    assert!(counts.values().all(|n| *n == 1), "no duplicate");
    assert_eq!([first, second].concat(), (1..=PAGES).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_cut_zendesk_cursor_listing_goes_on_from_its_position() {
    fn page_of(request: &Received) -> u64 {
        match query(request, "page[after]") {
            None => 1,
            Some(after) => (1..=PAGES)
                .find(|n| cursor(*n) == after)
                .expect("a cursor the server gave"),
        }
    }
    fn body(_: &Received, page: u64) -> Value {
        let more = page < PAGES;
        json!({
            "users": [zendesk_user(page)],
            "meta": {"has_more": more, "after_cursor": more.then(|| cursor(page + 1))},
        })
    }
    let server = server(page_of, body).await;
    let client = Clients::new(&server.url()).zendesk;
    let request = client.list_users().page_size(1u32);

    let (first, err) = run(request.clone().stream(), |u| u.id as u64).await;
    let position = position_of(err, "list_users");
    assert_eq!(position.next_cursor(), Some(cursor(CUT_AT).as_str()));
    let requests_before = server.requests();

    let (second, err) = run(request.resume_from(position).stream(), |u| u.id as u64).await;
    assert!(err.is_none(), "{err:?}");
    assert_every_item_once(first, second);
    let resumed = &server.received()[requests_before];
    assert_eq!(
        query(resumed, "page[after]"),
        Some(cursor(CUT_AT)),
        "the resumed run asks for the cut page first"
    );
    assert_eq!(query(resumed, "page[size]").as_deref(), Some("1"));
}

#[tokio::test]
async fn a_cut_zendesk_offset_listing_goes_on_from_its_page() {
    fn page_of(request: &Received) -> u64 {
        query(request, "page").map_or(1, |p| p.parse().expect("a page number"))
    }
    fn body(request: &Received, page: u64) -> Value {
        let host = request.header("host").expect("a Host header");
        let url = |n: u64| format!("http://{host}/api/v2/users.json?page={n}&per_page=1");
        json!({
            "users": [zendesk_user(page)],
            "next_page": (page < PAGES).then(|| url(page + 1)),
            "previous_page": (page > 1).then(|| url(page - 1)),
            "count": PAGES,
        })
    }
    let server = server(page_of, body).await;
    let client = Clients::new(&server.url()).zendesk;
    let request = client.list_users().per_page(1u32);

    let (first, err) = run(request.clone().stream(), |u| u.id as u64).await;
    let position = position_of(err, "list_users");
    assert_eq!(position.to_string(), format!("list_users:page:{CUT_AT}"));
    let requests_before = server.requests();

    let (second, err) = run(request.resume_from(position).stream(), |u| u.id as u64).await;
    assert!(err.is_none(), "{err:?}");
    assert_every_item_once(first, second);
    let resumed = &server.received()[requests_before];
    assert_eq!(query(resumed, "page"), Some(CUT_AT.to_string()));
}

#[tokio::test]
async fn a_cut_sendauth_listing_goes_on_from_its_page_and_count() {
    fn page_of(request: &Received) -> u64 {
        query(request, "page").map_or(1, |p| p.parse().expect("a page number"))
    }
    fn body(_: &Received, page: u64) -> Value {
        json!({"rows": [sendauth_user(page)], "total": PAGES})
    }
    let server = server(page_of, body).await;
    let client = Clients::new(&server.url()).sendauth;
    let request = client.list_users().per_page(1u64);
    let id = |u: &user_apis::sendauth::types::User| u.last_name.parse::<u64>().expect("a number");

    let (first, err) = run(request.clone().stream(), id).await;
    let position = position_of(err, "list_users");
    assert_eq!(
        position.to_string(),
        format!("list_users:page:{CUT_AT}:{}", CUT_AT - 1),
        "the page and the rows before it, for the stop at `total`"
    );
    let requests_before = server.requests();

    let (second, err) = run(request.resume_from(position).stream(), id).await;
    assert!(err.is_none(), "{err:?}");
    assert_every_item_once(first, second);
    assert_eq!(
        server.requests() - requests_before,
        (PAGES - CUT_AT + 1) as usize,
        "no request past the total"
    );
    let resumed = &server.received()[requests_before];
    assert_eq!(query(resumed, "page"), Some(CUT_AT.to_string()));
    assert_eq!(query(resumed, "perPage").as_deref(), Some("1"));
}

/// A position that does not fit the request is refused before any request, with a typed
/// error naming what is wrong; a malformed one already when it is parsed.
#[tokio::test]
async fn a_position_that_does_not_fit_is_an_invalid_request() {
    let server = FaultServer::always(Fault::empty(500)).await;
    let clients = Clients::new(&server.url());
    let first_error = |items: Vec<Result<(), ApiError>>| {
        assert_eq!(items.len(), 1, "the error is the only item");
        items.into_iter().next().unwrap().unwrap_err()
    };
    let cases: Vec<(ApiError, &str)> = vec![
        (
            first_error(
                clients
                    .zendesk
                    .list_users()
                    .resume_from("list_tags:page:3".parse().unwrap())
                    .stream()
                    .map(|r| r.map(drop))
                    .collect()
                    .await,
            ),
            "one of `list_tags`, not of `list_users`",
        ),
        (
            first_error(
                clients
                    .zendesk
                    .search_users()
                    .query("role:agent")
                    .resume_from(ResumePosition::cursor("search_users", "abc"))
                    .pages()
                    .map(|r| r.map(drop))
                    .collect()
                    .await,
            ),
            "follows `page` numbers",
        ),
        (
            first_error(
                clients
                    .zendesk
                    .list_users()
                    .resume_from("list_users:page:3:200".parse().unwrap())
                    .stream()
                    .map(|r| r.map(drop))
                    .collect()
                    .await,
            ),
            "another service's `list_users`",
        ),
        (
            first_error(
                clients
                    .sendauth
                    .list_users()
                    .resume_from("list_users:page:3".parse().unwrap())
                    .stream()
                    .map(|r| r.map(drop))
                    .collect()
                    .await,
            ),
            "counting the rows",
        ),
    ];
    for (err, says) in cases {
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
        assert!(err.to_string().contains(says), "{err}");
        assert!(err.resume_position().is_none());
    }
    assert_eq!(server.requests(), 0, "refused before any request");

    let err = "list_users:page:zero"
        .parse::<ResumePosition>()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string().contains("is not a resume position"),
        "{err}"
    );
}
