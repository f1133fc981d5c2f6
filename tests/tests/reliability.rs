//! The adversarial scenarios of TESTING.md's "Bounded, no panics" table, each against a real
//! client on a loopback server: every loop ends, no setting panics, a huge `Retry-After` is
//! honoured as huge, bulk results never hand out an index outside the input, and a bulk
//! helper that fails half-way says what it had done.

use std::time::Duration;

use futures::TryStreamExt;
use proptest::prelude::*;
use serde_json::{Value, json};
use tests::fault_server::{Fault, FaultServer};
use user_apis::runtime::{ApiError, ClientConfig, ErrorKind, ManualClock, RetryPolicy, Timeouts};
use user_apis::{sendauth, zendesk};
use zendesk::BulkErrors as _;

fn config(url: &str) -> ClientConfig {
    ClientConfig::new().base_url(url).retry(
        RetryPolicy::default()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(2))
            .with_max_backoff(Duration::from_millis(10))
            .with_jitter(false),
    )
}

fn show_user_body() -> Value {
    tests::specs::success_example("zendesk", "show_user")
}

/// Scenario 1: a listing that hands out a fresh cursor for ever, with `has_more` and empty
/// pages, ends after a few requests; one that hands out full pages for ever ends at the page
/// limit; a SendAuth `total` of `i64::MAX` is not trusted past the limit either.
#[tokio::test]
async fn endless_listings_end_with_a_pagination_error() {
    let server = FaultServer::start(|_, i| {
        Fault::json(
            200,
            &json!({"users": [], "meta": {"has_more": true, "after_cursor": format!("c{i}")}}),
        )
    })
    .await;
    let client = tests::clients::zendesk_client(config(&server.url()));
    let err = client
        .list_users()
        .page_size(100u32)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("ends");
    assert_eq!(err.kind(), ErrorKind::Pagination, "{err}");
    assert_eq!(err.operation(), Some("list_users"));
    assert!(err.to_string().contains("empty pages"), "{err}");
    assert_eq!(
        server.requests(),
        4,
        "one empty page, then three more, then stop"
    );

    let user = show_user_body()["user"].clone();
    let full = FaultServer::start(move |_, i| {
        Fault::json(
            200,
            &json!({"users": [user], "meta": {"has_more": true, "after_cursor": format!("c{i}")}}),
        )
    })
    .await;
    let client = tests::clients::zendesk_client(config(&full.url()).max_pages(25));
    let err = client
        .list_users()
        .page_size(1u32)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("ends");
    assert!(err.to_string().contains("max_pages"), "{err}");
    assert_eq!(full.requests(), 25);

    let row = tests::specs::success_example("sendauth", "get_user");
    let sendauth_server = FaultServer::start(move |_, _| {
        Fault::json(200, &json!({"rows": [row], "total": i64::MAX}))
    })
    .await;
    let client = tests::clients::sendauth_client(config(&sendauth_server.url()).max_pages(30));
    let err = client
        .list_users()
        .per_page(1u64)
        .stream()
        .try_collect::<Vec<sendauth::types::User>>()
        .await
        .expect_err("ends");
    assert_eq!(err.kind(), ErrorKind::Pagination, "{err}");
    assert_eq!(sendauth_server.requests(), 30);
}

/// Scenarios 2 and 3: the largest values a user can pass work ("no limit") instead of
/// panicking.
#[tokio::test]
async fn extreme_settings_work() {
    let server = FaultServer::always(Fault::json(200, &show_user_body())).await;
    let config = config(&server.url())
        .timeouts(
            Timeouts::default()
                .with_connect(Duration::MAX)
                .with_attempt(Duration::MAX)
                .with_call(Duration::MAX),
        )
        .retry(
            RetryPolicy::default()
                .with_max_attempts(u32::MAX)
                .with_initial_backoff(Duration::MAX)
                .with_max_backoff(Duration::MAX)
                .with_max_retry_after(Duration::MAX),
        )
        .max_concurrent_requests(usize::MAX)
        .pool_max_idle_per_host(usize::MAX)
        .max_body_bytes(u64::MAX)
        .max_pages(u64::MAX)
        .max_empty_pages(u32::MAX);
    let client = tests::clients::zendesk_client(config);
    client.show_user().user_id(1).send().await.expect("works");
}

/// Scenario 4: a job that stays `working` with `poll_initial: Duration::MAX` is given up on
/// at once (no wait on the client's clock, no poll), without an overflow.
#[tokio::test]
async fn bulk_polling_with_the_longest_wait_gives_up_cleanly() {
    let server = FaultServer::always(Fault::json(
        200,
        &json!({"job_status": {"id": "j1", "status": "working"}}),
    ))
    .await;
    let manual = ManualClock::new();
    let client = tests::clients::zendesk_client(config(&server.url()).clock(manual.clock()));
    let job = serde_json::from_value(json!({"id": "j1", "status": "working"})).expect("a job");
    let options = zendesk::BulkOptions::default()
        .with_poll_initial(Duration::MAX)
        .with_poll_max(Duration::MAX);
    let err = client
        .wait_for_job(job, &options)
        .await
        .expect_err("outlives the job timeout");
    assert_eq!(err.kind(), ErrorKind::Job, "{err}");
    assert!(err.to_string().contains("j1"), "{err}");
    assert!(manual.sleeps().is_empty(), "{:?}", manual.sleeps());
    assert_eq!(server.requests(), 0, "never polled");
}

/// Scenario 5: a `Retry-After` larger than any wait (even one that overflows) returns at once
/// (no wait on the client's clock) with the longest wait representable; garbage is still "no
/// hint".
#[tokio::test]
async fn a_huge_retry_after_returns_at_once() {
    for huge in ["99999999999999999999", "1e20", "1e400"] {
        let server = FaultServer::always(Fault::retry_after(429, huge)).await;
        let manual = ManualClock::new();
        let client = tests::clients::zendesk_client(config(&server.url()).clock(manual.clock()));
        let err = client.show_user().user_id(1).send().await.expect_err("429");
        assert_eq!(server.requests(), 1, "{huge}: not retried");
        assert_eq!(err.retry_after(), Some(Duration::MAX), "{huge}");
        assert!(err.is_rate_limited());
        assert!(manual.sleeps().is_empty(), "{huge}: {:?}", manual.sleeps());
    }
    let server = FaultServer::always(Fault::retry_after(429, "soon")).await;
    let manual = ManualClock::new();
    let client = tests::clients::zendesk_client(config(&server.url()).clock(manual.clock()));
    let err = client.show_user().user_id(1).send().await.expect_err("429");
    assert_eq!(err.retry_after(), None);
    assert_eq!(
        server.requests(),
        3,
        "no hint: the policy's backoff, every attempt"
    );
    assert_eq!(
        manual.sleeps(),
        [Duration::from_millis(2), Duration::from_millis(4)]
    );
}

fn users(n: usize) -> Vec<zendesk::types::UserCreate> {
    (0..n)
        .map(|i| {
            zendesk::types::UserCreate::builder()
                .name(format!("User {i}"))
                .email(format!("user{i}@example.com"))
                .try_into()
                .expect("valid user")
        })
        .collect()
}

fn quick_jobs() -> zendesk::BulkOptions {
    zendesk::BulkOptions::default()
        .with_poll_initial(Duration::from_millis(2))
        .with_poll_max(Duration::from_millis(5))
        .with_job_timeout(Duration::from_secs(10))
}

/// A server for bulk creation: every submission is job `j<n>`, completed at once with the
/// results `results(n)`; submission number `fail_at` (if any) answers 500.
async fn bulk_server(
    fail_at: Option<usize>,
    results: impl Fn(usize) -> Value + Send + Sync + 'static,
) -> FaultServer {
    let submissions = std::sync::atomic::AtomicUsize::new(0);
    FaultServer::start(move |request, _| {
        if request.method == "POST" {
            let n = submissions.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if Some(n) == fail_at {
                return Fault::json(500, &json!({"error": "InternalError"}));
            }
            return Fault::json(
                200,
                &json!({"job_status": {"id": format!("j{n}"), "status": "queued"}}),
            );
        }
        let id = request
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let n: usize = id.trim_start_matches('j').parse().unwrap_or(0);
        Fault::json(
            200,
            &json!({"job_status": {"id": id, "status": "completed", "results": results(n)}}),
        )
    })
    .await
}

/// Scenario 6: a result index outside the job's input is a `Job` error naming the job, never
/// an `input_index` a caller could panic on.
#[tokio::test]
async fn bulk_result_indexes_are_checked_against_the_input() {
    for bad in [json!(i64::MAX), json!(-5), json!(2)] {
        let bad_index = bad.clone();
        let server = bulk_server(
            None,
            move |_| json!([{"index": 0, "id": 1, "success": true}, {"index": bad_index, "id": 2}]),
        )
        .await;
        let client = tests::clients::zendesk_client(config(&server.url()));
        let err = client
            .create_users_in_bulk(users(2), &quick_jobs())
            .await
            .expect_err("an index outside the input");
        assert_eq!(err.kind(), ErrorKind::Job, "{bad}: {err}");
        assert!(err.to_string().contains("j0"), "{err}");
        assert!(err.to_string().contains(&bad.to_string()), "{err}");
    }
}

/// Scenario 7: the second chunk fails; the error says what the first did (its job, 100
/// created users) and hands back the inputs never sent, so a retry sends only those.
#[tokio::test]
async fn a_bulk_failure_half_way_keeps_what_was_done() {
    let server = bulk_server(Some(1), |_| {
        json!(
            (0..100)
                .map(|i| json!({"index": i, "id": 1000 + i, "success": true}))
                .collect::<Vec<_>>()
        )
    })
    .await;
    let client = tests::clients::zendesk_client(config(&server.url()));
    let mut err: ApiError = client
        .create_users_in_bulk(users(250), &quick_jobs())
        .await
        .expect_err("the second chunk fails");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500), "{err}");
    assert_eq!(err.operation(), Some("create_many_users"));
    // Typed by the helper: another helper's partial is not this one's.
    assert!(
        err.take_create_or_update_users_in_bulk_interrupted()
            .is_none()
    );
    let partial = err
        .take_create_users_in_bulk_interrupted()
        .expect("the outcome so far");
    assert_eq!(partial.outcome.jobs.len(), 1);
    assert_eq!(partial.outcome.completed_inputs, 100);
    assert_eq!(partial.outcome.results.len(), 100);
    assert_eq!(partial.failed_inputs, 100..200);
    let unsent: Vec<&str> = partial.unsent.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(unsent.len(), 50);
    assert_eq!(unsent[0], "User 200");
    let posts = server
        .received()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 2, "the third chunk was never sent");
}

/// Scenario 8: a base URL with a password that does not parse never shows the password.
#[test]
fn a_base_url_password_never_appears_in_an_error() {
    for url in [
        "https://agent:hunter2-s3cret@acme zendesk.com",
        "https://agent:hunter2-s3cret@acme.zendesk.com",
    ] {
        let err = zendesk::Client::with_config(
            tests::clients::credentials("zendesk"),
            ClientConfig::new().base_url(url),
        )
        .expect_err("refused");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// No value a user can put in the configuration panics, at construction or in a call:
    /// each either works or fails with a typed error.
    #[test]
    fn no_configuration_value_panics(
        connect in duration(),
        attempt in duration(),
        // A finite deadline: with none, a huge backoff is a wait the caller asked for.
        call in prop_oneof![Just(Duration::ZERO), (1u64..3_000).prop_map(Duration::from_millis)],
        backoff in duration(),
        retry_after in duration(),
        attempts in prop_oneof![Just(0u32), Just(1), Just(u32::MAX), 0u32..10],
        slots in prop_oneof![Just(0usize), Just(1), Just(usize::MAX), 0usize..100],
        idle in prop_oneof![Just(0usize), Just(usize::MAX), 0usize..100],
        body in prop_oneof![Just(0u64), Just(u64::MAX), 0u64..100_000],
        pages in prop_oneof![Just(0u64), Just(u64::MAX)],
        empty in prop_oneof![Just(0u32), Just(u32::MAX)],
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let server = FaultServer::always(Fault::json(200, &show_user_body())).await;
            let config = ClientConfig::new()
                .base_url(server.url())
                .timeouts(
                    Timeouts::default()
                        .with_connect(connect)
                        .with_attempt(attempt)
                        .with_call(call),
                )
                .retry(
                    RetryPolicy::default()
                        .with_max_attempts(attempts)
                        .with_initial_backoff(backoff)
                        .with_max_backoff(backoff)
                        .with_max_retry_after(retry_after),
                )
                .max_concurrent_requests(slots)
                .pool_max_idle_per_host(idle)
                .max_body_bytes(body)
                .max_pages(pages)
                .max_empty_pages(empty);
            let client = tests::clients::zendesk_client(config);
            // Bounded from outside: a setting may make the call fail, never hang it.
            let call = client.show_user().user_id(1).send();
            let outcome = tokio::time::timeout(Duration::from_secs(20), call)
                .await
                .expect("the call ends");
            if let Err(err) = outcome {
                assert!(
                    matches!(err.kind(), ErrorKind::Timeout | ErrorKind::BodyTooLarge),
                    "{err}"
                );
            }
        });
    }
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::from_nanos(1)),
        Just(Duration::MAX),
        (1u64..5_000).prop_map(Duration::from_millis),
        any::<u64>().prop_map(Duration::from_secs),
    ]
}
