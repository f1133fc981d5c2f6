//! The fault matrix of TESTING.md: every fault the fault server can inject, against each kind
//! of operation (a read, an idempotent write, a POST), through the real generated Zendesk
//! client. Each test is one cell and asserts the error kind, whether the call was retried and
//! how many attempts reached the server. Then the limits: the body cap with every framing,
//! and the call deadline against a server that stalls or trickles.
//!
//! Time: the waits the client chooses (backoff, `Retry-After`) are taken on a [`ManualClock`],
//! so each cell asserts them exactly (`sleeps()`) without waiting them. The timeouts that
//! bound I/O (an attempt, the call deadline against a trickling body) are enforced on real
//! time: those cells assert lower bounds, counts and error kinds, and fail as "hung" only past
//! a limit many times what the call takes.

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tests::Clients;
use tests::capture::Capture;
use tests::fault_server::{Fault, FaultServer, Framing};
use tests::specs;
use user_apis::runtime::{ApiError, ClientConfig, ErrorKind, ManualClock, RetryPolicy, Timeouts};
use user_apis::zendesk;

/// Attempts allowed in every cell: a retried fault reaches the server this many times.
const ATTEMPTS: u32 = 3;

/// The waits between the [`ATTEMPTS`] attempts of a retried fault without `Retry-After`: the
/// policy's backoff, 2 ms doubling (jitter off).
const BACKOFFS: [Duration; 2] = [Duration::from_millis(2), Duration::from_millis(4)];

/// The kinds of operation of the matrix's columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `GET /api/v2/users/{id}` (`show_user`).
    Read,
    /// `PUT /api/v2/users/{id}` (`update_user`).
    Put,
    /// `DELETE /api/v2/users/{id}` (`delete_user`).
    Delete,
    /// `POST /api/v2/users` (`create_user`).
    Post,
}

use Kind::{Delete, Post, Put, Read};

/// The idempotent-write column covers both methods.
const WRITES: [Kind; 2] = [Put, Delete];

fn retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(max_attempts)
        .with_initial_backoff(Duration::from_millis(2))
        .with_max_backoff(Duration::from_millis(10))
        .with_jitter(false)
        .with_max_retry_after(Duration::from_secs(2))
}

fn config(url: &str) -> ClientConfig {
    ClientConfig::new()
        .base_url(url)
        .retry(retry(ATTEMPTS))
        .timeouts(
            Timeouts::default()
                .with_connect(Duration::from_secs(2))
                .with_attempt(Duration::from_secs(5))
                .with_call(Duration::from_secs(10)),
        )
}

/// All three clients (for the SendAuth cells).
fn clients(config: ClientConfig) -> Clients {
    Clients::with(move |_| config.clone())
}

/// The Zendesk client alone, through the facade, with the test credentials (building a client
/// loads the system's TLS roots: the Zendesk cells build only the one they call).
fn zendesk(config: ClientConfig) -> zendesk::Client {
    tests::clients::zendesk_client(config)
}

/// Calls the operation of `kind` with valid inputs.
async fn call(z: &zendesk::Client, kind: Kind) -> Result<(), ApiError> {
    match kind {
        Read => z.show_user().user_id(35436).send().await.map(drop)?,
        Put => z
            .update_user()
            .user_id(35436)
            .body(zendesk::types::UserRequest {
                user: zendesk::types::UserInput {
                    phone: Some("+15555550123".into()),
                    ..Default::default()
                },
            })
            .send()
            .await
            .map(drop)?,
        Delete => z.delete_user().user_id(35436).send().await.map(drop)?,
        Post => z
            .create_user()
            .body(
                zendesk::types::UserCreateRequest::builder()
                    .user(zendesk::types::UserCreate::builder().name("Roger Wilco")),
            )
            .send()
            .await
            .map(drop)?,
    }
    Ok(())
}

/// The spec's example success body of `show_user` (every column answers a `UserResponse`).
fn user_body() -> Value {
    static BODY: OnceLock<Value> = OnceLock::new();
    BODY.get_or_init(|| specs::success_example("zendesk", "show_user"))
        .clone()
}

/// The success a well-behaved server gives for `kind`.
fn ok(kind: Kind) -> Fault {
    Fault::json(if kind == Post { 201 } else { 200 }, &user_body())
}

/// Runs `kind` against a server answering with `script`, on a manual clock; returns the
/// result, the server and the clock (its `sleeps()` are the waits between attempts).
async fn run(kind: Kind, script: Vec<Fault>) -> (Result<(), ApiError>, FaultServer, ManualClock) {
    let server = FaultServer::script(script).await;
    let manual = ManualClock::new();
    let result = call(&zendesk(config(&server.url()).clock(manual.clock())), kind).await;
    (result, server, manual)
}

/// `future`'s output, or a failed test if it runs longer than `limit`: a guard against a
/// call that hangs (an I/O timeout not applied), not a measurement; each limit is many times
/// what the guarded call takes.
async fn unless_hung<T>(limit: Duration, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, future)
        .await
        .unwrap_or_else(|_| panic!("hung: still running after {limit:?}"))
}

#[track_caller]
fn expect_kind(result: Result<(), ApiError>, kind: ErrorKind) -> ApiError {
    match result {
        Ok(()) => panic!("expected a {kind:?} error, the call succeeded"),
        Err(err) => {
            assert_eq!(err.kind(), kind, "{err}");
            err
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Connection refused: nothing listens. The request provably never left: every method retries.

/// A loopback address where nothing listens (a port bound, then released).
async fn refused_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

async fn refused(kind: Kind) {
    let capture = Capture::start();
    let url = refused_url().await;
    let manual = ManualClock::new();
    let client = zendesk(config(&url).clock(manual.clock()));
    let err = expect_kind(call(&client, kind).await, ErrorKind::Connect);
    assert!(err.is_retryable(), "{err}");
    assert_eq!(
        manual.sleeps(),
        BACKOFFS,
        "{kind:?}: the backoff between attempts"
    );
    assert_eq!(
        capture.attempts(),
        ATTEMPTS as usize,
        "{kind:?}: a refused connection is retried by every method\n{}",
        capture.text()
    );
}

#[tokio::test]
async fn refused_read() {
    refused(Read).await;
}

#[tokio::test]
async fn refused_idempotent_write() {
    for kind in WRITES {
        refused(kind).await;
    }
}

#[tokio::test]
async fn refused_post() {
    refused(Post).await;
}

// ---------------------------------------------------------------------------------------------
// The server closes the connection half-way through the response headers.

async fn closed_during_headers_recovers(kind: Kind) {
    let (result, server, manual) = run(kind, vec![Fault::CloseDuringHeaders, ok(kind)]).await;
    result.unwrap_or_else(|e| panic!("{kind:?} retried after the close: {e}"));
    assert_eq!(
        manual.sleeps(),
        BACKOFFS[..1],
        "{kind:?}: the first backoff"
    );
    assert_eq!(server.requests(), 2, "{kind:?}");
    assert_eq!(
        server.connections(),
        2,
        "{kind:?}: the closed connection is not reused"
    );
}

#[tokio::test]
async fn close_during_headers_read() {
    closed_during_headers_recovers(Read).await;
}

#[tokio::test]
async fn close_during_headers_idempotent_write() {
    for kind in WRITES {
        closed_during_headers_recovers(kind).await;
    }
}

#[tokio::test]
async fn close_during_headers_post() {
    let (result, server, manual) = run(Post, vec![Fault::CloseDuringHeaders, ok(Post)]).await;
    let err = expect_kind(result, ErrorKind::Transport);
    assert!(manual.sleeps().is_empty(), "no retry, no wait");
    assert_eq!(
        server.requests(),
        1,
        "the POST reached the server: never sent again"
    );
    // The retry rule's answer: a POST cut short after it was sent may have been applied.
    assert!(!err.is_retryable(), "a POST is not repeated blindly: {err}");
}

// ---------------------------------------------------------------------------------------------
// The server closes the connection half-way through the body.

async fn closed_mid_body_recovers(kind: Kind) {
    let (result, server, manual) = run(kind, vec![Fault::CloseMidBody, ok(kind)]).await;
    result.unwrap_or_else(|e| panic!("{kind:?} retried after the broken body: {e}"));
    assert_eq!(manual.sleeps(), BACKOFFS[..1], "{kind:?}");
    assert_eq!(server.requests(), 2, "{kind:?}");
}

#[tokio::test]
async fn close_mid_body_read() {
    closed_mid_body_recovers(Read).await;
}

#[tokio::test]
async fn close_mid_body_idempotent_write() {
    for kind in WRITES {
        closed_mid_body_recovers(kind).await;
    }
}

#[tokio::test]
async fn close_mid_body_post() {
    let (result, server, _) = run(Post, vec![Fault::CloseMidBody, ok(Post)]).await;
    expect_kind(result, ErrorKind::Body);
    assert_eq!(server.requests(), 1);
}

// ---------------------------------------------------------------------------------------------
// A complete response whose JSON is broken, cut short, or not UTF-8: the server answered, so
// nothing is retried; the error keeps the body.

async fn undecodable(kind: Kind, fault: Fault, marker: &str) {
    let (result, server, _) = run(kind, vec![fault, ok(kind)]).await;
    let err = expect_kind(result, ErrorKind::Decode);
    assert_eq!(
        server.requests(),
        1,
        "{kind:?}: a decode error is not retried"
    );
    assert!(
        err.body_text().contains(marker),
        "{kind:?}: body kept: {err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn malformed_json_read() {
    undecodable(Read, Fault::malformed_json(200), "35436,,").await;
}

#[tokio::test]
async fn malformed_json_idempotent_write() {
    for kind in WRITES {
        undecodable(kind, Fault::malformed_json(200), "35436,,").await;
    }
}

#[tokio::test]
async fn malformed_json_post() {
    undecodable(Post, Fault::malformed_json(201), "35436,,").await;
}

#[tokio::test]
async fn truncated_json_read() {
    undecodable(Read, Fault::truncated_json(200), "\"Rog").await;
}

#[tokio::test]
async fn truncated_json_idempotent_write() {
    for kind in WRITES {
        undecodable(kind, Fault::truncated_json(200), "\"Rog").await;
    }
}

#[tokio::test]
async fn truncated_json_post() {
    undecodable(Post, Fault::truncated_json(201), "\"Rog").await;
}

#[tokio::test]
async fn invalid_utf8_read() {
    undecodable(Read, Fault::invalid_utf8(200), "35436").await;
}

#[tokio::test]
async fn invalid_utf8_idempotent_write() {
    for kind in WRITES {
        undecodable(kind, Fault::invalid_utf8(200), "35436").await;
    }
}

#[tokio::test]
async fn invalid_utf8_post() {
    undecodable(Post, Fault::invalid_utf8(201), "35436").await;
}

// ---------------------------------------------------------------------------------------------
// No JSON where JSON was promised: a 200 with plain text, or with no body at all.

async fn not_json(kind: Kind) {
    let status = if kind == Post { 201 } else { 200 };
    undecodable(
        kind,
        Fault::reply(status, "text/plain", "OK, done"),
        "OK, done",
    )
    .await;
    let (result, server, _) = run(kind, vec![Fault::empty(status)]).await;
    expect_kind(result, ErrorKind::Decode);
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn no_json_where_promised_read() {
    not_json(Read).await;
}

#[tokio::test]
async fn no_json_where_promised_idempotent_write() {
    for kind in WRITES {
        not_json(kind).await;
    }
}

#[tokio::test]
async fn no_json_where_promised_post() {
    not_json(Post).await;
}

// ---------------------------------------------------------------------------------------------
// JSON where none was promised. SendAuth documents no error bodies and empty successes for its
// void operations: a JSON error body is kept with its status, a JSON success body is ignored.

fn sendauth_user() -> user_apis::sendauth::types::UserInput {
    serde_json::from_value(json!({"firstName": "Ada", "lastName": "Lovelace"}))
        .expect("a valid SendAuth user")
}

fn sendauth_id() -> uuid::Uuid {
    uuid::Uuid::parse_str(tests::catalogue::SENDAUTH_USER).expect("uuid")
}

#[tokio::test]
async fn json_where_none_promised_read() {
    let body = json!({"error": "not_found", "message": "no such user"});
    let server = FaultServer::always(Fault::json(404, &body)).await;
    let c = clients(config(&server.url()));
    let err = expect_kind(
        c.sendauth
            .get_user()
            .user_id(sendauth_id())
            .send()
            .await
            .map(drop),
        ErrorKind::Status,
    );
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(err.service_error::<Value>(), Some(body));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn json_where_none_promised_idempotent_write() {
    let body = json!({"ok": true, "user": {"id": "x"}});
    let server = FaultServer::always(Fault::json(200, &body)).await;
    let c = clients(config(&server.url()));
    c.sendauth
        .restore_user()
        .user_id(sendauth_id())
        .send()
        .await
        .expect("PUT: an unexpected JSON success body is ignored");
    c.sendauth
        .delete_user()
        .user_id(sendauth_id())
        .send()
        .await
        .expect("DELETE: an unexpected JSON success body is ignored");
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn json_where_none_promised_post() {
    let body = json!({"error": "conflict", "message": "email taken"});
    let server = FaultServer::always(Fault::json(409, &body)).await;
    let c = clients(config(&server.url()));
    let user = sendauth_user();
    let err = expect_kind(
        c.sendauth.create_user().body(user).send().await.map(drop),
        ErrorKind::Status,
    );
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409));
    assert_eq!(err.service_error::<Value>(), Some(body));
    assert_eq!(server.requests(), 1);
}

// ---------------------------------------------------------------------------------------------
// A proxy's HTML 502: retried by what is idempotent, kept with status and body in any case.

async fn html_502_retried(kind: Kind) {
    let (result, server, manual) = run(kind, vec![Fault::html_502()]).await;
    let err = expect_kind(result, ErrorKind::Status);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert!(err.body_text().contains("502 Bad Gateway"), "{err:?}");
    assert_eq!(err.attempts(), Some(ATTEMPTS));
    assert_eq!(manual.sleeps(), BACKOFFS, "{kind:?}: the backoff sequence");
    assert_eq!(server.requests(), ATTEMPTS as usize, "{kind:?}");
}

#[tokio::test]
async fn html_502_read() {
    html_502_retried(Read).await;
}

#[tokio::test]
async fn html_502_idempotent_write() {
    for kind in WRITES {
        html_502_retried(kind).await;
    }
}

#[tokio::test]
async fn html_502_post() {
    let (result, server, _) = run(Post, vec![Fault::html_502(), ok(Post)]).await;
    let err = expect_kind(result, ErrorKind::Status);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert!(err.body_text().contains("nginx"), "{err:?}");
    assert_eq!(
        server.requests(),
        1,
        "a POST answered 502 may have been applied"
    );
}

// ---------------------------------------------------------------------------------------------
// 429 and 503 with Retry-After (a fraction of a second, as some servers send): the wait is
// exactly what the server asked for, once (not the backoff, not the rate limiter on top).

async fn waits_then_succeeds(kind: Kind, status: u16) {
    let (result, server, manual) =
        run(kind, vec![Fault::retry_after(status, "1.5"), ok(kind)]).await;
    result.unwrap_or_else(|e| panic!("{kind:?} after {status}: {e}"));
    assert_eq!(server.requests(), 2, "{kind:?}");
    assert_eq!(
        manual.sleeps(),
        [Duration::from_millis(1500)],
        "{kind:?}: Retry-After was honoured"
    );
}

#[tokio::test]
async fn retry_after_429_read() {
    waits_then_succeeds(Read, 429).await;
}

#[tokio::test]
async fn retry_after_429_idempotent_write() {
    for kind in WRITES {
        waits_then_succeeds(kind, 429).await;
    }
}

/// The one POST retry after the server saw it: a 429 is a refusal before any work (see
/// TESTING.md); the wait is honoured like for any other method.
#[tokio::test]
async fn retry_after_429_post() {
    waits_then_succeeds(Post, 429).await;
}

#[tokio::test]
async fn retry_after_503_read() {
    waits_then_succeeds(Read, 503).await;
}

#[tokio::test]
async fn retry_after_503_idempotent_write() {
    for kind in WRITES {
        waits_then_succeeds(kind, 503).await;
    }
}

#[tokio::test]
async fn retry_after_503_post() {
    let (result, server, manual) = run(Post, vec![Fault::retry_after(503, "1.5"), ok(Post)]).await;
    let err = expect_kind(result, ErrorKind::Status);
    assert_eq!(
        server.requests(),
        1,
        "a POST answered 503 is not sent again"
    );
    assert_eq!(err.retry_after(), Some(Duration::from_millis(1500)));
    assert!(manual.sleeps().is_empty(), "{:?}", manual.sleeps());
}

/// A wait longer than `max_retry_after` (2 s) ends the call at once, whatever the method: no
/// wait at all on the client's clock. 5 s is within the call deadline (10 s), so only
/// `max_retry_after` refuses it.
#[tokio::test]
async fn retry_after_too_long_returns_at_once() {
    for kind in [Read, Put, Delete, Post] {
        let (result, server, manual) =
            run(kind, vec![Fault::retry_after(429, "5"), ok(kind)]).await;
        let err = expect_kind(result, ErrorKind::Status);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(5)));
        assert_eq!(server.requests(), 1, "{kind:?}");
        assert!(
            manual.sleeps().is_empty(),
            "{kind:?}: {:?}",
            manual.sleeps()
        );
        assert_eq!(manual.elapsed(), Duration::ZERO, "{kind:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The server sends the headers and then nothing: each attempt times out (150 ms, on real
// time: it bounds I/O); what is idempotent tries again after the policy's backoff (on the
// manual clock, exact), a POST does not. The call deadline (5 s, on the manual clock, which
// the stalls do not move) is never reached: only the attempt timeout can end an attempt.

fn stall_config(url: &str) -> ClientConfig {
    config(url).timeouts(
        Timeouts::default()
            .with_connect(Duration::from_secs(2))
            .with_attempt(Duration::from_millis(150))
            .with_call(Duration::from_secs(5)),
    )
}

/// A call of `kind` against a server that stalls after the headers: the error, the server,
/// the clock, and the real time the call took.
async fn stalled(kind: Kind) -> (ApiError, FaultServer, ManualClock, Duration) {
    let server = FaultServer::always(Fault::StallAfterHeaders).await;
    let manual = ManualClock::new();
    let client = zendesk(stall_config(&server.url()).clock(manual.clock()));
    let started = Instant::now();
    // Without the attempt timeout, a stalled attempt would never end.
    let result = unless_hung(Duration::from_secs(30), call(&client, kind)).await;
    let elapsed = started.elapsed();
    (
        expect_kind(result, ErrorKind::Timeout),
        server,
        manual,
        elapsed,
    )
}

#[tokio::test]
async fn stall_after_headers_read() {
    let (err, server, manual, elapsed) = stalled(Read).await;
    assert_eq!(server.requests(), ATTEMPTS as usize);
    assert_eq!(err.attempts(), Some(ATTEMPTS), "{err}");
    assert_eq!(
        manual.sleeps(),
        BACKOFFS,
        "the backoff between the timeouts"
    );
    // Each attempt waited out its 150 ms on real time.
    assert!(
        elapsed >= Duration::from_millis(150) * ATTEMPTS,
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn stall_after_headers_idempotent_write() {
    for kind in WRITES {
        let (err, server, manual, elapsed) = stalled(kind).await;
        assert_eq!(server.requests(), ATTEMPTS as usize, "{kind:?}");
        assert_eq!(err.attempts(), Some(ATTEMPTS), "{kind:?}: {err}");
        assert_eq!(manual.sleeps(), BACKOFFS, "{kind:?}");
        assert!(
            elapsed >= Duration::from_millis(150) * ATTEMPTS,
            "{kind:?}: {elapsed:?}"
        );
    }
}

#[tokio::test]
async fn stall_after_headers_post() {
    let (err, server, manual, elapsed) = stalled(Post).await;
    assert_eq!(
        server.requests(),
        1,
        "a POST that timed out may have been applied"
    );
    assert_eq!(err.attempts(), Some(1), "{err}");
    assert!(manual.sleeps().is_empty(), "{:?}", manual.sleeps());
    assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
}

// ---------------------------------------------------------------------------------------------
// A body that trickles (one byte every 20 ms, 10 s in all) cannot hold a call past its
// deadline (300 ms, on the real clock), even though bytes keep arriving: the only limit below
// the trickle's 10 s is the deadline (the attempt timeout is 30 s), so a `Timeout` is the
// deadline's doing.

async fn trickled(kind: Kind) {
    let server = FaultServer::always(Fault::Trickle {
        chunk: 1,
        every: Duration::from_millis(20),
        total: 500,
    })
    .await;
    let config = config(&server.url()).timeouts(
        Timeouts::default()
            .with_connect(Duration::from_secs(2))
            .with_attempt(Duration::from_secs(30))
            .with_call(Duration::from_millis(300)),
    );
    let started = Instant::now();
    let result = unless_hung(Duration::from_secs(30), call(&zendesk(config), kind)).await;
    let elapsed = started.elapsed();
    let err = expect_kind(result, ErrorKind::Timeout);
    assert_eq!(err.attempts(), Some(1), "{kind:?}: {err}");
    assert!(
        elapsed >= Duration::from_millis(300),
        "{kind:?}: ended before its deadline ({elapsed:?})"
    );
    assert_eq!(
        server.requests(),
        1,
        "{kind:?}: no time left for another attempt"
    );
}

#[tokio::test]
async fn slow_body_read() {
    trickled(Read).await;
}

#[tokio::test]
async fn slow_body_idempotent_write() {
    for kind in WRITES {
        trickled(kind).await;
    }
}

#[tokio::test]
async fn slow_body_post() {
    trickled(Post).await;
}

// ---------------------------------------------------------------------------------------------
// A body far larger than any page (64 MiB, chunked, so no size is announced) against a 64 KiB
// cap: a typed error, not retried (the answer would be the same), nothing buffered past the cap.

const SMALL_CAP: u64 = 64 * 1024;

async fn too_large(kind: Kind, status: u16, framing: Framing) -> (ApiError, FaultServer) {
    let server = FaultServer::always(Fault::Huge {
        status,
        len: 64 * 1024 * 1024,
        framing,
    })
    .await;
    let result = call(
        &zendesk(config(&server.url()).max_body_bytes(SMALL_CAP)),
        kind,
    )
    .await;
    (expect_kind(result, ErrorKind::BodyTooLarge), server)
}

#[tokio::test]
async fn huge_body_read() {
    let (err, server) = too_large(Read, 200, Framing::Chunked).await;
    assert_eq!(server.requests(), 1);
    assert!(err.to_string().contains("65536"), "{err}");
    assert_eq!(err.operation(), Some("show_user"));
}

#[tokio::test]
async fn huge_body_idempotent_write() {
    for kind in WRITES {
        let (_, server) = too_large(kind, 200, Framing::Chunked).await;
        assert_eq!(server.requests(), 1, "{kind:?}");
    }
}

#[tokio::test]
async fn huge_body_post() {
    let (_, server) = too_large(Post, 201, Framing::Chunked).await;
    assert_eq!(server.requests(), 1);
}

// ---------------------------------------------------------------------------------------------
// Chunked encoding that breaks half-way: a transport failure in the body, retried by what is
// idempotent.

#[tokio::test]
async fn broken_chunked_read() {
    let (result, server, manual) = run(Read, vec![Fault::BrokenChunked, ok(Read)]).await;
    result.expect("retried after the broken chunk");
    assert_eq!(server.requests(), 2);
    assert_eq!(manual.sleeps(), BACKOFFS[..1]);
    let (result, server, manual) = run(Read, vec![Fault::BrokenChunked]).await;
    let err = expect_kind(result, ErrorKind::Body);
    assert_eq!(server.requests(), ATTEMPTS as usize, "{err}");
    assert_eq!(manual.sleeps(), BACKOFFS);
}

#[tokio::test]
async fn broken_chunked_idempotent_write() {
    for kind in WRITES {
        let (result, server, _) = run(kind, vec![Fault::BrokenChunked, ok(kind)]).await;
        result.unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(server.requests(), 2, "{kind:?}");
    }
}

#[tokio::test]
async fn broken_chunked_post() {
    let (result, server, _) = run(Post, vec![Fault::BrokenChunked, ok(Post)]).await;
    expect_kind(result, ErrorKind::Body);
    assert_eq!(server.requests(), 1);
}

// ---------------------------------------------------------------------------------------------
// A redirect to another host (a second loopback listener on another address and port) is not
// followed: the call fails with the 3xx and its Location, the other host hears nothing.

async fn redirected_elsewhere(kind: Kind) {
    let other = FaultServer::start_with(
        "127.0.0.2".parse().expect("ip"),
        None,
        std::sync::Arc::new(move |_, _| ok(kind)),
    )
    .await;
    let location = format!("{}/api/v2/users/35436", other.url());
    const STATUSES: [u16; 5] = [301, 302, 303, 307, 308];
    let server = {
        let location = location.clone();
        FaultServer::start(move |_, i| Fault::redirect(STATUSES[i % 5], &location)).await
    };
    let client = zendesk(config(&server.url()));
    for (i, status) in STATUSES.into_iter().enumerate() {
        let err = expect_kind(call(&client, kind).await, ErrorKind::Status);
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{kind:?}");
        assert_eq!(
            err.headers().get("location").and_then(|v| v.to_str().ok()),
            Some(location.as_str())
        );
        assert_eq!(server.requests(), i + 1, "{kind:?} {status}: not retried");
    }
    assert_eq!(
        other.connections(),
        0,
        "{kind:?}: the other host was never contacted"
    );
}

#[tokio::test]
async fn redirect_elsewhere_read() {
    redirected_elsewhere(Read).await;
}

#[tokio::test]
async fn redirect_elsewhere_idempotent_write() {
    for kind in WRITES {
        redirected_elsewhere(kind).await;
    }
}

#[tokio::test]
async fn redirect_elsewhere_post() {
    redirected_elsewhere(Post).await;
}

// ---------------------------------------------------------------------------------------------
// Limits: the body cap with every framing, at the boundary, with the default cap, on error
// statuses; and the cap on concurrent requests against the call deadline.

#[tokio::test]
async fn body_cap_holds_whatever_the_framing() {
    for framing in [
        Framing::ContentLength,
        Framing::Chunked,
        Framing::CloseDelimited,
    ] {
        let (err, server) = too_large(Read, 200, framing).await;
        assert_eq!(server.requests(), 1, "{framing:?}");
        assert_eq!(err.kind(), ErrorKind::BodyTooLarge, "{framing:?}");
        assert!(!err.is_retryable(), "{framing:?}");
    }
}

/// A JSON user padded with spaces to exactly `len` bytes.
fn padded_user(len: usize) -> Vec<u8> {
    let mut body = user_body().to_string().into_bytes();
    assert!(body.len() <= len);
    body.resize(len, b' ');
    body
}

#[tokio::test]
async fn body_cap_is_inclusive() {
    let cap = 4096;
    for (len, fits) in [(cap, true), (cap + 1, false)] {
        for framing in [Framing::ContentLength, Framing::Chunked] {
            let body = padded_user(len);
            let server = match framing {
                Framing::ContentLength => {
                    FaultServer::always(Fault::reply(200, "application/json", body)).await
                }
                _ => {
                    // Chunked, in two chunks.
                    let mut raw = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
                    for part in [&body[..len / 2], &body[len / 2..]] {
                        raw.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
                        raw.extend_from_slice(part);
                        raw.extend_from_slice(b"\r\n");
                    }
                    raw.extend_from_slice(b"0\r\n\r\n");
                    FaultServer::always(Fault::Raw(raw)).await
                }
            };
            let c = zendesk(config(&server.url()).max_body_bytes(cap as u64));
            let result = call(&c, Read).await;
            match fits {
                true => result.unwrap_or_else(|e| panic!("{len} bytes {framing:?}: {e}")),
                false => {
                    expect_kind(result, ErrorKind::BodyTooLarge);
                }
            }
        }
    }
}

#[tokio::test]
async fn the_default_cap_is_16_mib() {
    assert_eq!(user_apis::runtime::DEFAULT_MAX_BODY_BYTES, 16 * 1024 * 1024);
    for framing in [Framing::Chunked, Framing::CloseDelimited] {
        let server = FaultServer::always(Fault::Huge {
            status: 200,
            len: 48 * 1024 * 1024,
            framing,
        })
        .await;
        let err = expect_kind(
            call(&zendesk(config(&server.url())), Read).await,
            ErrorKind::BodyTooLarge,
        );
        assert!(err.to_string().contains("16777216"), "{err}");
    }
}

/// An error status with a huge body keeps its status and at most the cap of its body.
#[tokio::test]
async fn a_huge_error_body_is_cut_at_the_cap() {
    let server = FaultServer::always(Fault::Huge {
        status: 500,
        len: 64 * 1024 * 1024,
        framing: Framing::Chunked,
    })
    .await;
    let err = expect_kind(
        call(
            &zendesk(config(&server.url()).max_body_bytes(SMALL_CAP)),
            Read,
        )
        .await,
        ErrorKind::Status,
    );
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(err.body().len() as u64, SMALL_CAP);
    assert_eq!(server.requests(), 1, "500 is not retried");
}

/// An error status whose body is JSON but not an object, or broken JSON, keeps its status.
#[tokio::test]
async fn an_undecodable_error_body_keeps_its_status() {
    for fault in [
        Fault::truncated_json(404),
        Fault::malformed_json(404),
        Fault::json(404, &json!(["not", "an", "object"])),
        Fault::json(404, &Value::Null),
        Fault::reply(404, "application/json", ""),
    ] {
        let (result, _server, _) = run(Read, vec![fault.clone()]).await;
        let err = expect_kind(result, ErrorKind::Status);
        assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{fault:?}");
    }
}

/// With one request slot, a call queued behind a stalled one still ends by its deadline.
#[tokio::test]
async fn a_call_waiting_for_a_request_slot_keeps_its_deadline() {
    let server = FaultServer::always(Fault::StallAfterHeaders).await;
    let config = config(&server.url())
        .retry(RetryPolicy::disabled())
        .max_concurrent_requests(1)
        .timeouts(
            Timeouts::default()
                .with_connect(Duration::from_secs(2))
                .with_attempt(Duration::from_secs(30))
                .with_call(Duration::from_millis(300)),
        );
    let c = zendesk(config);
    // The first call holds the only slot for 2 s (its own deadline), well past the second's.
    let holder = c.with_timeouts(
        Timeouts::default()
            .with_attempt(Duration::from_secs(30))
            .with_call(Duration::from_secs(2)),
    );
    // Which call ended first: the order, not the time, shows whose deadline ended the wait.
    let finished = std::sync::Mutex::new(Vec::new());
    let started = Instant::now();
    let both = async {
        tokio::join!(
            async {
                let result = call(&holder, Read).await;
                finished.lock().expect("not poisoned").push("first");
                result
            },
            async {
                // Start second, once the first holds the only slot.
                tokio::task::yield_now().await;
                let result = call(&c, Read).await;
                finished.lock().expect("not poisoned").push("second");
                (result, started.elapsed())
            }
        )
    };
    let (first, (second, second_done)) = unless_hung(Duration::from_secs(30), both).await;
    expect_kind(first, ErrorKind::Timeout);
    let err = expect_kind(second, ErrorKind::Timeout);
    // What the slot does: the second call never reached the server, and says why.
    assert_eq!(server.requests(), 1, "only the first call was sent");
    assert_eq!(err.attempts(), Some(0), "{err}");
    assert!(err.to_string().contains("request slot"), "{err}");
    assert!(err.is_retryable(), "nothing was sent: {err}");
    // It gave up at its own 300 ms deadline (not before), while the first call still held
    // the slot (it ended at its 2 s deadline), not when the slot came free.
    assert!(second_done >= Duration::from_millis(300), "{second_done:?}");
    assert_eq!(
        *finished.lock().expect("not poisoned"),
        ["second", "first"],
        "the waiting call ended before the slot came free"
    );
}
