//! The one error type: every failure kind, reached by calling `.send()` directly on a real
//! generated client against a raw loopback server, is an `ApiError` that knows its operation
//! and attempts, the status whenever a response arrived, and the body bytes exactly as the
//! server sent them (a field the spec does not know included). Then the questions callers
//! ask, the one-line `Display`, and per-call overrides.

use std::error::Error as _;
use std::time::Duration;

use tests::fault_server::{Fault, FaultServer, Framing};
use user_apis::runtime::{ApiError, ClientConfig, ErrorKind, RetryPolicy, Timeouts};
use user_apis::zendesk;
use user_apis::zendesk::ErrorBodies as _;

const ATTEMPTS: u32 = 3;

fn config(url: &str) -> ClientConfig {
    ClientConfig::new()
        .base_url(url)
        .retry(
            RetryPolicy::default()
                .with_max_attempts(ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(2))
                .with_max_backoff(Duration::from_millis(10))
                .with_jitter(false),
        )
        .timeouts(
            Timeouts::default()
                .with_connect(Duration::from_secs(2))
                .with_attempt(Duration::from_secs(5))
                .with_call(Duration::from_secs(10)),
        )
}

fn client(url: &str) -> zendesk::Client {
    tests::clients::zendesk_client(config(url))
}

/// A reply with these exact bytes and a request id.
fn raw_reply(status: u16, content_type: &str, body: &[u8]) -> Fault {
    Fault::Reply {
        status,
        headers: vec![
            ("content-type".into(), content_type.into()),
            ("x-zendesk-request-id".into(), "req-7f3a".into()),
            ("set-cookie".into(), "session=never-kept".into()),
        ],
        body: body.to_vec(),
    }
}

async fn show_user(url: &str) -> ApiError {
    client(url)
        .show_user()
        .user_id(35436)
        .send()
        .await
        .expect_err("the call fails")
}

/// What every error from a call that got a response carries.
fn assert_response_kept(err: &ApiError, kind: ErrorKind, status: u16, attempts: u32, body: &[u8]) {
    assert_eq!(err.kind(), kind, "{err}");
    assert_eq!(err.operation(), Some("show_user"), "{err}");
    assert_eq!(err.attempts(), Some(attempts), "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{err}");
    assert_eq!(err.body(), body, "the body exactly as sent");
    assert_eq!(err.request_id(), Some("req-7f3a"));
    assert!(
        err.headers().get("set-cookie").is_none(),
        "only helpful headers are kept"
    );
}

#[tokio::test]
async fn a_documented_error_keeps_the_raw_body_and_decodes_as_the_service_error() {
    // Key order, spacing and a field the spec does not know: all kept as sent.
    let body = br#"{ "description":"Not found", "error" : "RecordNotFound", "trace":{"id":9} }"#;
    let server = FaultServer::always(raw_reply(404, "application/json", body)).await;
    let err = show_user(&server.url()).await;
    assert_response_kept(&err, ErrorKind::Status, 404, 1, body);
    assert!(err.is_not_found() && !err.is_rate_limited() && !err.is_retryable());
    let typed: zendesk::types::ErrorResponse = err.service_error().expect("documented shape");
    assert_eq!(typed.error, Some(serde_json::json!("RecordNotFound")));
    // Typed by the spec for this operation: no type to name.
    assert_eq!(err.show_user_error_body(), Some(typed));
    // Another operation's documented body is not this error's.
    assert_eq!(err.delete_user_error_body(), None);
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_typed_error_body_is_read_only_for_the_statuses_the_spec_documents_it_for() {
    // The same JSON shape under a status the spec documents no body for.
    let body = br#"{"error":"I'm a teapot"}"#;
    let server = FaultServer::always(raw_reply(418, "application/json", body)).await;
    let err = show_user(&server.url()).await;
    assert!(
        err.service_error::<zendesk::types::ErrorResponse>()
            .is_some()
    );
    assert_eq!(err.show_user_error_body(), None);
    // A documented status whose body is not that JSON.
    let html = b"<html>gone</html>";
    let server = FaultServer::always(raw_reply(404, "text/html", html)).await;
    assert_eq!(show_user(&server.url()).await.show_user_error_body(), None);
}

#[tokio::test]
async fn an_undocumented_status_keeps_its_status_and_body() {
    let body = br#"{"error":"I'm a teapot","unexpected":true}"#;
    let server = FaultServer::always(raw_reply(418, "application/json", body)).await;
    let err = show_user(&server.url()).await;
    assert_response_kept(&err, ErrorKind::Status, 418, 1, body);
}

#[tokio::test]
async fn a_non_json_error_body_is_kept_after_every_retry() {
    let body = b"<html><body>502 Bad Gateway</body></html>";
    let server = FaultServer::always(raw_reply(502, "text/html", body)).await;
    let err = show_user(&server.url()).await;
    assert_response_kept(&err, ErrorKind::Status, 502, ATTEMPTS, body);
    assert!(err.is_retryable(), "a GET answered 502 may be sent again");
    assert!(
        err.service_error::<zendesk::types::ErrorResponse>()
            .is_none()
    );
    assert_eq!(server.requests(), ATTEMPTS as usize);
}

#[tokio::test]
async fn a_success_that_does_not_decode_keeps_status_headers_and_body() {
    let body = br#"{"user":{"id":"not a number","brand_new_field":[1,2]}}"#;
    let server = FaultServer::always(raw_reply(200, "application/json", body)).await;
    let err = show_user(&server.url()).await;
    assert_response_kept(&err, ErrorKind::Decode, 200, 1, body);
    assert!(err.source().is_some(), "the serde error is the source");
    assert!(err.message().contains("does not match the spec"), "{err}");
}

#[tokio::test]
async fn a_connect_failure_names_the_operation_and_attempts() {
    // A listener that is closed again: its port refuses connections.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let err = show_user(&url).await;
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert_eq!(err.operation(), Some("show_user"));
    assert_eq!(err.attempts(), Some(ATTEMPTS), "retried: nothing was sent");
    assert_eq!(err.status(), None);
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_timeout_keeps_the_status_that_arrived() {
    let server = FaultServer::always(Fault::StallAfterHeaders).await;
    let client = tests::clients::zendesk_client(
        config(&server.url())
            .retry(RetryPolicy::disabled())
            .attempt_timeout(Duration::from_millis(200)),
    );
    let err = client
        .show_user()
        .user_id(35436)
        .send()
        .await
        .expect_err("stalls");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(err.operation(), Some("show_user"));
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
}

#[tokio::test]
async fn a_body_over_the_limit_keeps_status_and_operation() {
    let server = FaultServer::always(Fault::Huge {
        status: 200,
        len: 1 << 20,
        framing: Framing::ContentLength,
    })
    .await;
    let client = tests::clients::zendesk_client(config(&server.url()).max_body_bytes(4096));
    let err = client
        .show_user()
        .user_id(35436)
        .send()
        .await
        .expect_err("too large");
    assert_eq!(err.kind(), ErrorKind::BodyTooLarge, "{err}");
    assert_eq!(err.operation(), Some("show_user"));
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert!(err.to_string().contains("4096"), "{err}");
}

#[tokio::test]
async fn an_unsafe_path_parameter_is_refused_before_any_io() {
    let server = FaultServer::always(Fault::empty(200)).await;
    let err = client(&server.url())
        .show_job_status()
        .job_status_id("..")
        .send()
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert_eq!(err.operation(), Some("show_job_status"));
    assert_eq!(err.attempts(), Some(0));
    assert_eq!(err.status(), None);
    assert!(err.to_string().contains("`job_status_id`"), "{err}");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn an_unconvertible_parameter_names_operation_parameter_and_reason() {
    let server = FaultServer::always(Fault::empty(200)).await;
    let err = client(&server.url())
        .list_users()
        .page_size(0u32)
        .send()
        .await
        .expect_err("0 is not a page size");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert_eq!(err.operation(), Some("list_users"));
    assert_eq!(err.attempts(), Some(0));
    assert_eq!(
        err.to_string(),
        "list_users: invalid request: parameter `page_size` (`page[size]`) must be a whole \
         number from 1 to 100"
    );
    // The spec's bounds, not only the type's: 500 is a `NonZeroU32` but not a page size.
    for size in [101u32, 500] {
        let err = client(&server.url())
            .list_users()
            .page_size(size)
            .send()
            .await
            .expect_err("above 100 is not a page size");
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
        assert_eq!(err.attempts(), Some(0));
        assert!(err.to_string().contains("from 1 to 100"), "{err}");
    }
    let err = client(&server.url())
        .incremental_user_export()
        .start_time(-1i64)
        .send()
        .await
        .expect_err("a negative start_time");
    assert!(
        err.to_string()
            .contains("parameter `start_time` must be a whole number from 0 to"),
        "{err}"
    );
    assert_eq!(server.requests(), 0, "refused before any I/O");
    let err = client(&server.url())
        .show_user()
        .send()
        .await
        .expect_err("no user id");
    assert_eq!(
        err.to_string(),
        "show_user: invalid request: required parameter `user_id` was not set"
    );
    let err = client(&server.url())
        .create_user()
        .body_map(|body| body)
        .send()
        .await
        .expect_err("an empty body builder");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert!(
        err.to_string()
            .starts_with("create_user: invalid request: body: "),
        "{err}"
    );
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn display_is_one_capped_line_whatever_the_server_sends() {
    let mut body = b"oops\r\nINFO user=admin logged in\x1b[2J".to_vec();
    body.extend(std::iter::repeat_n(b'x', 100_000));
    let server = FaultServer::always(Fault::Reply {
        status: 500,
        headers: vec![("x-request-id".into(), "r".repeat(300_000))],
        body: body.clone(),
    })
    .await;
    let err = show_user(&server.url()).await;
    let line = err.to_string();
    assert!(!line.chars().any(char::is_control), "{line:?}");
    assert!(
        line.starts_with("show_user: error status: HTTP 500 Internal Server Error"),
        "{line}"
    );
    assert!(line.len() < 1_000, "{} bytes", line.len());
    assert_eq!(err.body(), &body[..], "the body itself is kept whole");
}

/// The quick starts' `main` returns `Box<dyn Error>`: the error that comes out of it is still
/// an `ApiError`, with everything in it.
#[tokio::test]
async fn the_error_survives_a_box_dyn_error() {
    let server = FaultServer::always(Fault::retry_after(429, "7")).await;
    async fn app(url: &str) -> Result<(), Box<dyn std::error::Error>> {
        tests::clients::zendesk_client(config(url).retry(RetryPolicy::disabled()))
            .show_user()
            .user_id(1)
            .send()
            .await?;
        Ok(())
    }
    let boxed = app(&server.url()).await.expect_err("rate limited");
    let err = boxed.downcast_ref::<ApiError>().expect("an ApiError");
    assert!(err.is_rate_limited() && err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(boxed.to_string(), err.to_string());
    assert!(boxed.to_string().contains("429"), "{boxed}");
}

/// `with_retry` and `with_timeouts` change one call's policy; the client itself keeps its own.
#[tokio::test]
async fn per_call_overrides_share_the_client_and_leave_it_unchanged() {
    let server = FaultServer::script(vec![
        Fault::retry_after(503, "0"),
        Fault::retry_after(503, "0"),
        Fault::json(200, &tests::specs::success_example("zendesk", "show_user")),
    ])
    .await;
    let client = client(&server.url());
    let once = client.with_retry(RetryPolicy::disabled());
    assert_eq!(once.retry_policy().max_attempts(), 1);
    assert_eq!(client.retry_policy().max_attempts(), ATTEMPTS);
    let err = once
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect_err("no retry");
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(server.requests(), 1);
    // The client retries: the second 503, then the success.
    client
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect("retried to success");
    assert_eq!(server.requests(), 3);
    assert_eq!(
        server.connections(),
        1,
        "the clone shares the connection pool"
    );

    let stalled = FaultServer::always(Fault::StallAfterHeaders).await;
    let client = tests::clients::zendesk_client(config(&stalled.url()));
    let quick = client.with_timeouts(
        Timeouts::default()
            .with_attempt(Duration::from_millis(100))
            .with_call(Duration::from_millis(300)),
    );
    let err = quick
        .with_retry(RetryPolicy::disabled())
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect_err("times out");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(client.timeouts().call(), Duration::from_secs(10));
}
