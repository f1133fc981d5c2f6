//! The runtime, observed from outside: real clients against a real HTTP server on loopback.
//! Retries and their limits, `Retry-After` in both forms, the call deadline, error bodies
//! whatever their format, the path guard, the bulk helper, and no secret in any output.
//! (Pagination in every style is in `pagination.rs`, on the typed mock servers.)
//!
//! The waits the client chooses (backoff, `Retry-After`, bulk polling) are taken on a
//! [`ManualClock`] and asserted exactly; the one real-time test is the call deadline against
//! a server slower than each attempt's timeout.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tests::capture::Capture;
use tests::{clients, secrets, specs};
use user_apis::runtime::{
    ApiError, ClientConfig, ErrorKind, ManualClock, RateLimits, RetryPolicy, Timeouts,
};
use user_apis::{cerego, zendesk};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Retries with millisecond backoff, so the tests measure behaviour, not patience.
fn quick_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(max_attempts)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
        .with_jitter(false)
        .with_max_retry_after(Duration::from_secs(10))
}

fn zendesk_client(server: &MockServer, config: ClientConfig) -> zendesk::Client {
    clients::zendesk_client(config.base_url(server.uri()))
}

fn zendesk_with_retries(server: &MockServer, attempts: u32) -> zendesk::Client {
    zendesk_client(server, ClientConfig::new().retry(quick_retries(attempts)))
}

/// [`zendesk_with_retries`] on a manual clock: its sleeps are the client's waits.
fn zendesk_on_manual_clock(server: &MockServer, attempts: u32) -> (zendesk::Client, ManualClock) {
    let manual = ManualClock::new();
    let config = ClientConfig::new()
        .retry(quick_retries(attempts))
        .clock(manual.clock());
    (zendesk_client(server, config), manual)
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// The spec's example user, with another id.
fn zendesk_user(id: i64) -> Value {
    let mut user = specs::success_example("zendesk", "show_user")["user"].clone();
    user["id"] = json!(id);
    user
}

fn user_response(id: i64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "user": zendesk_user(id) }))
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

/// Answers `status` `times` times, then falls through to the next mock.
async fn fail_first(server: &MockServer, times: u64, template: ResponseTemplate) {
    Mock::given(any())
        .respond_with(template)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(server)
        .await;
}

async fn show_user(client: &zendesk::Client) -> Result<i64, ApiError> {
    Ok(client
        .show_user()
        .user_id(35436)
        .send()
        .await?
        .into_inner()
        .user
        .id)
}

async fn create_user(client: &zendesk::Client) -> Result<i64, ApiError> {
    let body = zendesk::types::UserCreateRequest::builder()
        .user(zendesk::types::UserCreate::builder().name("Roger Wilco"));
    Ok(client
        .create_user()
        .body(body)
        .send()
        .await?
        .into_inner()
        .user
        .id)
}

#[tokio::test]
async fn reads_are_retried_on_every_retryable_status() {
    for status in [429u16, 502, 503, 504] {
        let server = MockServer::start().await;
        fail_first(&server, 2, ResponseTemplate::new(status)).await;
        Mock::given(any())
            .respond_with(user_response(35436))
            .mount(&server)
            .await;
        let (client, manual) = zendesk_on_manual_clock(&server, 4);
        assert_eq!(
            show_user(&client).await.expect("third attempt succeeds"),
            35436
        );
        assert_eq!(
            requests(&server).await.len(),
            3,
            "GET answered {status} twice"
        );
        // No Retry-After: the policy's backoff, 1 ms doubling.
        assert_eq!(manual.sleeps(), [millis(1), millis(2)], "{status}");
    }
}

#[tokio::test]
async fn what_is_not_retryable_is_sent_once() {
    // 500 and the documented 4xx answers are final for a read.
    for status in [500u16, 400, 404, 409] {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(json!({"error": "RecordNotFound", "description": "Not found"})),
            )
            .mount(&server)
            .await;
        let err = show_user(&zendesk_with_retries(&server, 4))
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(err.kind(), ErrorKind::Status);
        assert_eq!(requests(&server).await.len(), 1, "GET answered {status}");
    }
    // A POST answered 500, 502, 503 or 504 may have been applied: it is never repeated.
    for status in [500u16, 502, 503, 504] {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(status))
            .mount(&server)
            .await;
        let err = create_user(&zendesk_with_retries(&server, 4))
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(
            requests(&server).await.len(),
            1,
            "POST answered {status} was sent again"
        );
    }
}

#[tokio::test]
async fn idempotent_writes_are_retried_and_a_post_only_on_429() {
    let server = MockServer::start().await;
    fail_first(&server, 1, ResponseTemplate::new(503)).await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tags": ["vip"]})))
        .mount(&server)
        .await;
    let client = zendesk_with_retries(&server, 4);
    client
        .add_user_tags()
        .user_id(35436)
        .body(zendesk::types::TagsRequest {
            tags: vec!["vip".into()],
        })
        .send()
        .await
        .expect("PUT retried after 503");
    assert_eq!(requests(&server).await.len(), 2);

    let server = MockServer::start().await;
    fail_first(
        &server,
        1,
        ResponseTemplate::new(429).insert_header("retry-after", "0"),
    )
    .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "user": zendesk_user(1) })))
        .mount(&server)
        .await;
    create_user(&zendesk_with_retries(&server, 4))
        .await
        .expect("POST retried after 429");
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn attempts_are_capped_and_counted() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream overloaded"))
        .mount(&server)
        .await;
    let err = show_user(&zendesk_with_retries(&server, 3))
        .await
        .unwrap_err();
    assert_eq!(requests(&server).await.len(), 3);
    assert_eq!(err.attempts(), Some(3));
    assert_eq!(err.operation(), Some("show_user"));
    assert!(err.is_retryable());
    assert!(err.to_string().contains("after 3 attempts"), "{err}");

    // Retries off: one attempt.
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = zendesk_client(&server, ClientConfig::new().retry(RetryPolicy::disabled()));
    show_user(&client).await.unwrap_err();
    assert_eq!(requests(&server).await.len(), 1);
}

/// A 429's `Retry-After` is waited once: by the retry (pacing off), or by the retry with the
/// rate limiter's pause for the whole client then already over (pacing on, the default).
#[tokio::test]
async fn retry_after_in_seconds_is_waited_for() {
    for limits in [RateLimits::disabled(), RateLimits::default()] {
        let server = MockServer::start().await;
        fail_first(
            &server,
            1,
            ResponseTemplate::new(429).insert_header("retry-after", "7"),
        )
        .await;
        Mock::given(any())
            .respond_with(user_response(35436))
            .mount(&server)
            .await;
        let manual = ManualClock::new();
        let config = ClientConfig::new()
            .retry(quick_retries(2))
            .rate_limits(limits.clone())
            .clock(manual.clock());
        show_user(&zendesk_client(&server, config))
            .await
            .expect("second attempt succeeds");
        assert_eq!(
            manual.sleeps(),
            [Duration::from_secs(7)],
            "the server's wait, once ({limits:?})"
        );
    }
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_waited_for() {
    let server = MockServer::start().await;
    let (client, manual) = zendesk_on_manual_clock(&server, 2);
    // A date 5 s ahead of the client's clock. HTTP dates have whole seconds: the wait is to
    // that whole second, computed from the clock's wall-clock time (which only sleeps move).
    let now = manual.clock().system_now();
    let at = httpdate::fmt_http_date(now + Duration::from_secs(5));
    let expected = httpdate::parse_http_date(&at)
        .expect("a date")
        .duration_since(now)
        .expect("ahead");
    assert!(expected > Duration::from_secs(4) && expected <= Duration::from_secs(5));
    fail_first(
        &server,
        1,
        ResponseTemplate::new(503).insert_header("retry-after", at.as_str()),
    )
    .await;
    Mock::given(any())
        .respond_with(user_response(35436))
        .mount(&server)
        .await;
    show_user(&client).await.expect("second attempt succeeds");
    assert_eq!(manual.sleeps(), [expected], "until the date, exactly");
}

/// A `Retry-After` past `max_retry_after` (10 s here), though within the call deadline (120 s
/// by default): returned at once, with the wait.
#[tokio::test]
async fn a_wait_longer_than_allowed_returns_at_once_with_the_wait() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "60")
                .set_body_string("Too Many Requests"),
        )
        .mount(&server)
        .await;
    let (client, manual) = zendesk_on_manual_clock(&server, 4);
    let err = show_user(&client).await.unwrap_err();
    assert!(manual.sleeps().is_empty(), "waited {:?}", manual.sleeps());
    assert_eq!(requests(&server).await.len(), 1);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
}

#[tokio::test]
async fn the_call_deadline_holds_across_attempts() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(user_response(35436).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let timeouts = Timeouts::default()
        .with_connect(Duration::from_secs(1))
        .with_attempt(Duration::from_millis(150))
        .with_call(Duration::from_millis(500));
    let client = zendesk_client(
        &server,
        ClientConfig::new()
            .retry(quick_retries(10))
            .timeouts(timeouts),
    );
    let started = Instant::now();
    let err = show_user(&client).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    // The 500 ms deadline ended it: of the 10 attempts allowed, only those that fit in it
    // were made (each but the last takes its full 150 ms, the last is cut to what is left, and
    // none starts when the wait before it would not end before the deadline); without the
    // deadline, all 10 would be. The server may not have read the last request before it was
    // abandoned.
    let attempts = err.attempts().expect("attempts counted");
    // At least two attempts ran their full 150 ms (a timer never fires early); the run may
    // end a little before 500 ms when the next retry's wait does not fit.
    assert!(took >= Duration::from_millis(300), "the call took {took:?}");
    assert!(
        (2..=4).contains(&attempts),
        "{attempts} attempts in a 500 ms deadline of 150 ms attempts: {err}"
    );
    let received = requests(&server).await.len();
    assert!(
        received >= 1 && received <= attempts as usize,
        "{received} requests received, {attempts} attempts"
    );
}

/// The backoff sequence, exactly: doubling from the initial wait, capped at the maximum; with
/// jitter, each wait falls in the upper half of the one without.
#[tokio::test]
async fn the_backoff_sequence_is_exact() {
    for jitter in [false, true] {
        let server = MockServer::start().await;
        fail_first(&server, 4, ResponseTemplate::new(503)).await;
        Mock::given(any())
            .respond_with(user_response(35436))
            .mount(&server)
            .await;
        let manual = ManualClock::new();
        let policy = RetryPolicy::default()
            .with_max_attempts(5)
            .with_initial_backoff(millis(100))
            .with_max_backoff(millis(250))
            .with_jitter(jitter);
        let client = zendesk_client(
            &server,
            ClientConfig::new().retry(policy).clock(manual.clock()),
        );
        show_user(&client)
            .await
            .expect("the fifth attempt succeeds");
        let full = [millis(100), millis(200), millis(250), millis(250)];
        let sleeps = manual.sleeps();
        if jitter {
            assert_eq!(sleeps.len(), full.len(), "{sleeps:?}");
            for (wait, full) in sleeps.iter().zip(full) {
                assert!(
                    *wait >= full / 2 && *wait <= full,
                    "{wait:?} outside {:?}..={full:?}",
                    full / 2
                );
            }
        } else {
            assert_eq!(sleeps, full);
        }
    }
}

/// The call deadline, on the client's clock, bounds the waits: a backoff or a `Retry-After`
/// that would end past it is not waited, the call ends with the last answer.
#[tokio::test]
async fn the_call_deadline_bounds_the_waits() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let manual = ManualClock::new();
    let policy = RetryPolicy::default()
        .with_max_attempts(10)
        .with_initial_backoff(millis(200))
        .with_max_backoff(Duration::from_secs(10))
        .with_jitter(false);
    let client = zendesk_client(
        &server,
        ClientConfig::new()
            .retry(policy)
            .call_timeout(Duration::from_secs(1))
            .clock(manual.clock()),
    );
    let err = show_user(&client).await.unwrap_err();
    // 200 ms, 400 ms; the next, 800 ms, would end past the 1 s deadline (400 ms left).
    assert_eq!(manual.sleeps(), [millis(200), millis(400)]);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err}");
    assert_eq!(err.attempts(), Some(3));
    assert_eq!(requests(&server).await.len(), 3);

    // A Retry-After longer than what is left of the deadline (though within
    // max_retry_after): returned at once, with the wait.
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "2"))
        .mount(&server)
        .await;
    let manual = ManualClock::new();
    let client = zendesk_client(
        &server,
        ClientConfig::new()
            .retry(quick_retries(4))
            .call_timeout(Duration::from_secs(1))
            .clock(manual.clock()),
    );
    let err = show_user(&client).await.unwrap_err();
    assert!(manual.sleeps().is_empty(), "{:?}", manual.sleeps());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn an_html_502_and_a_plain_text_429_keep_status_and_body() {
    let server = MockServer::start().await;
    let html = "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>";
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(502)
                .set_body_raw(html, "text/html")
                .insert_header("x-request-id", "req-123"),
        )
        .mount(&server)
        .await;
    let err = show_user(&zendesk_with_retries(&server, 2))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(err.body_text(), html);
    assert_eq!(err.operation(), Some("show_user"));
    assert_eq!(err.request_id(), Some("req-123"));
    assert!(err.to_string().contains("502 Bad Gateway"), "{err}");

    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_raw("Rate limit exceeded, slow down", "text/plain")
                .insert_header("retry-after", "120"),
        )
        .mount(&server)
        .await;
    let client = zendesk_client(&server, ClientConfig::new().retry(RetryPolicy::disabled()));
    let err = show_user(&client).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(err.body_text(), "Rate limit exceeded, slow down");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));

    // A documented error status (404 has a JSON schema) answered with HTML by a proxy keeps
    // its status too, instead of becoming a decode error.
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(404).set_body_raw("<html>Not Found</html>", "text/html"),
        )
        .mount(&server)
        .await;
    let err = show_user(&zendesk_with_retries(&server, 2))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(err.body_text(), "<html>Not Found</html>");
}

#[tokio::test]
async fn a_documented_json_error_decodes_into_the_error_schema() {
    let server = MockServer::start().await;
    let body = json!({"error": "RecordInvalid", "description": "Record validation errors", "details": {"email": [{"description": "Email is already being used"}]}});
    Mock::given(any())
        .respond_with(ResponseTemplate::new(422).set_body_json(&body))
        .mount(&server)
        .await;
    let client = zendesk_with_retries(&server, 2);
    let err = client
        .update_user()
        .user_id(35436)
        .body(zendesk::types::UserRequest {
            user: zendesk::types::UserInput::default(),
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422));
    assert_eq!(err.operation(), Some("update_user"));
    let typed: zendesk::types::ErrorResponse = err.service_error().expect("the documented shape");
    assert_eq!(typed.error, Some(json!("RecordInvalid")));
    assert_eq!(
        err.service_error::<Value>()
            .map(|v| v["description"].clone()),
        Some(json!("Record validation errors"))
    );
}

#[tokio::test]
async fn dot_segments_and_empty_path_parameters_never_leave_the_client() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = zendesk_with_retries(&server, 4);
    for bad in ["..", ".", ""] {
        let err = client
            .show_job_status()
            .job_status_id(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(err.to_string().contains("`job_status_id`"), "{err}");
    }
    let cerego = clients::cerego_client(ClientConfig::new().base_url(server.uri()));
    let err = cerego
        .update_user_tag()
        .id("..")
        .body(cerego::types::UpdateUserTagRequest { value: "x".into() })
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`id`"), "{err}");
    assert!(
        requests(&server).await.is_empty(),
        "a refused request reached the server"
    );
}

#[tokio::test]
async fn bulk_creation_chunks_by_100_and_waits_for_every_job() {
    let server = MockServer::start().await;
    let job = |id: &str, status: &str, results: Value| json!({"job_status": {"id": id, "url": null, "status": status, "total": null, "progress": null, "message": null, "results": results}});
    // Each submission gets a queued job named after its size; polling completes it with one
    // result per user, the second of each chunk failing.
    Mock::given(method("POST"))
        .and(path("/api/v2/users/create_many"))
        .respond_with(move |request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            let n = body["users"].as_array().map_or(0, Vec::len);
            ResponseTemplate::new(200).set_body_json(
                json!({"job_status": {"id": format!("job-{n}"), "status": "queued"}}),
            )
        })
        .mount(&server)
        .await;
    for n in [100usize, 50] {
        let results: Vec<Value> = (0..n)
            .map(|i| {
                if i == 1 {
                    json!({"index": i, "error": "EmailTaken", "details": "Email is already being used", "success": false})
                } else {
                    json!({"index": i, "id": 1000 + i, "status": "Created", "success": true})
                }
            })
            .collect();
        Mock::given(path(format!("/api/v2/job_statuses/job-{n}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(job(
                &format!("job-{n}"),
                "completed",
                json!(results),
            )))
            .mount(&server)
            .await;
    }
    let (client, manual) = zendesk_on_manual_clock(&server, 2);
    let users: Vec<zendesk::types::UserCreate> = (0..250)
        .map(|i| {
            zendesk::types::UserCreate::builder()
                .name(format!("User {i}"))
                .email(format!("user{i}@example.com"))
                .try_into()
                .expect("valid user")
        })
        .collect();
    let options = zendesk::BulkOptions::default()
        .with_poll_initial(Duration::from_millis(5))
        .with_poll_max(Duration::from_millis(20))
        .with_job_timeout(Duration::from_secs(10));
    let outcome = client
        .create_users_in_bulk(users, &options)
        .await
        .expect("every job completes");
    assert_eq!(outcome.jobs.len(), 3);
    assert_eq!(outcome.results.len(), 250);
    let indices: Vec<usize> = outcome.results.iter().map(|r| r.input_index).collect();
    assert_eq!(indices, (0..250).collect::<Vec<_>>());
    let failed: Vec<usize> = outcome.failures().map(|r| r.input_index).collect();
    assert_eq!(failed, [1, 101, 201]);
    // Each job completed at its first poll, after the first wait.
    assert_eq!(manual.sleeps(), [millis(5); 3]);
    let sizes: Vec<usize> = requests(&server)
        .await
        .iter()
        .filter(|r| r.url.path() == "/api/v2/users/create_many")
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap_or_default()["users"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
}

/// A job that stays `working`: polled after waits doubling from `poll_initial` up to
/// `poll_max`, given up on before a wait would take it past `job_timeout`, all measured on the
/// client's clock (the test waits for none of it).
#[tokio::test]
async fn bulk_polling_backs_off_and_gives_up_at_the_job_timeout() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/job_statuses/j1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"job_status": {"id": "j1", "status": "working"}})),
        )
        .mount(&server)
        .await;
    let (client, manual) = zendesk_on_manual_clock(&server, 2);
    let job = serde_json::from_value(json!({"id": "j1", "status": "queued"})).expect("a job");
    let options = zendesk::BulkOptions::default()
        .with_poll_initial(Duration::from_secs(1))
        .with_poll_max(Duration::from_secs(8))
        .with_job_timeout(Duration::from_secs(60));
    let err = client
        .wait_for_job(job, &options)
        .await
        .expect_err("still working");
    assert_eq!(err.kind(), ErrorKind::Job, "{err}");
    assert!(err.to_string().contains("j1"), "{err}");
    let secs = Duration::from_secs;
    // 1 + 2 + 4 + 8 × 6 = 55 s; the next 8 s would end at 63 s, past the 60 s timeout.
    assert_eq!(
        manual.sleeps(),
        [
            secs(1),
            secs(2),
            secs(4),
            secs(8),
            secs(8),
            secs(8),
            secs(8),
            secs(8),
            secs(8)
        ]
    );
    assert_eq!(manual.elapsed(), secs(55));
    assert_eq!(requests(&server).await.len(), 9, "one poll after each wait");
}

#[tokio::test]
async fn no_secret_in_debug_errors_or_traces() {
    let capture = Capture::start();

    let server = MockServer::start().await;
    fail_first(&server, 1, ResponseTemplate::new(503)).await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": "Couldn't authenticate you"})),
        )
        .mount(&server)
        .await;
    let client = zendesk_with_retries(&server, 3);
    let err = show_user(&client).await.unwrap_err();
    let raw_err = client.show_user().user_id(1).send().await.unwrap_err();

    let mut printed = format!("{client:?}\n{err}\n{err:?}\n{raw_err}\n{raw_err:?}\n");
    printed.push_str(&capture.text());
    assert!(
        printed.contains(tests::capture::ATTEMPT_SPAN),
        "the request spans were captured: {printed}"
    );
    // The header was sent (the server saw it), but appears nowhere in what we print.
    assert!(
        requests(&server)
            .await
            .iter()
            .all(|r| r.headers.contains_key("authorization"))
    );
    let encoded = clients::credentials("zendesk")
        .header_value()
        .expect("fixed credentials")
        .to_str()
        .expect("ascii")
        .trim_start_matches("Basic ")
        .to_string();
    for secret in secrets::ALL.iter().copied().chain([encoded.as_str()]) {
        assert!(
            !printed.contains(secret),
            "secret {secret:?} leaked into:\n{printed}"
        );
    }
}

/// A call in flight is one future, which a spawned task allocates whole and keeps until the
/// call ends: with thousands of calls in flight, its size is the client's memory. The
/// runtime's futures poll the request, the exchange and the body's read where they lie
/// instead of copying them into each nested `async` level (which kept a `show_user` call at
/// 3,280 bytes; 1,920 since). The bound leaves room for a compiler's layout to differ.
#[test]
fn a_call_in_flight_is_a_small_future() {
    let client = clients::zendesk_client(ClientConfig::new().base_url("http://127.0.0.1:9"));
    let call = client.show_user().user_id(1).send();
    let size = std::mem::size_of_val(&call);
    assert!(size <= 2_560, "a show_user call's future is {size} bytes");
    let list = client.list_users().send();
    let size = std::mem::size_of_val(&list);
    assert!(size <= 2_560, "a list_users call's future is {size} bytes");
}
