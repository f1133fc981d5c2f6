//! Rate-limit pacing through the real Zendesk client, against a loopback server that
//! enforces a window and says so in its headers, as Zendesk does.
//!
//! Time is a [`ManualClock`] shared by the client and the test server: the client's waits for
//! the limiter return at once and move the clock, and the server's window resets on that same
//! clock. So the tests assert what the server counted (no 429) and the exact time waited, and
//! take milliseconds of real time.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tests::{clients, specs};
use tokio::time::Instant;
use user_apis::runtime::{
    ClientConfig, Clock, ErrorKind, ManualClock, RateLimits, RetryPolicy, Timeouts,
};
use user_apis::zendesk;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A fixed window on `clock`: at most `limit` requests, the window starting at the first
/// request after the previous one ended. Every answer carries `ratelimit-limit`,
/// `ratelimit-remaining` and `ratelimit-reset` (seconds to the window's end, rounded up to the
/// millisecond); a request over the limit gets 429 with `Retry-After` (the same seconds).
struct WindowServer {
    limit: u32,
    length: Duration,
    clock: Clock,
    user: Value,
    window: Mutex<(Option<Instant>, u32)>,
    /// The requests served in each window, in order.
    windows: Mutex<Vec<u32>>,
    served: AtomicU32,
    refused: AtomicU32,
}

impl WindowServer {
    fn new(limit: u32, length: Duration, clock: Clock) -> Arc<Self> {
        Arc::new(Self {
            limit,
            length,
            clock,
            user: specs::success_example("zendesk", "show_user"),
            window: Mutex::new((None, 0)),
            windows: Mutex::new(Vec::new()),
            served: AtomicU32::new(0),
            refused: AtomicU32::new(0),
        })
    }

    async fn mount(self: &Arc<Self>) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path_regex("^/api/v2/users/[0-9]+$"))
            .respond_with(Responder(self.clone()))
            .mount(&server)
            .await;
        server
    }
}

struct Responder(Arc<WindowServer>);

impl Respond for Responder {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let server = &self.0;
        let now = server.clock.now();
        let mut window = server.window.lock().expect("not poisoned");
        let start = match window.0 {
            Some(start) if now < start + server.length => start,
            _ => {
                *window = (Some(now), 0);
                server.windows.lock().expect("not poisoned").push(0);
                now
            }
        };
        let left = start + server.length - now;
        let reset = format!("{:.3}", (left.as_secs_f64() * 1000.0).ceil() / 1000.0);
        let over = window.1 >= server.limit;
        if !over {
            window.1 += 1;
            if let Some(served) = server.windows.lock().expect("not poisoned").last_mut() {
                *served += 1;
            }
        }
        let remaining = (server.limit - window.1).to_string();
        drop(window);
        let template = if over {
            server.refused.fetch_add(1, Ordering::Relaxed);
            ResponseTemplate::new(429)
                .insert_header("retry-after", reset.as_str())
                .set_body_string("Too Many Requests")
        } else {
            server.served.fetch_add(1, Ordering::Relaxed);
            ResponseTemplate::new(200).set_body_json(&server.user)
        };
        template
            .insert_header("ratelimit-limit", server.limit.to_string().as_str())
            .insert_header("ratelimit-remaining", remaining.as_str())
            .insert_header("ratelimit-reset", reset.as_str())
    }
}

fn client(server: &MockServer, config: ClientConfig) -> zendesk::Client {
    clients::zendesk_client(config.base_url(server.uri()))
}

/// A client on a fresh manual clock.
fn manual_client(server: &MockServer, config: ClientConfig) -> (zendesk::Client, ManualClock) {
    let manual = ManualClock::new();
    (client(server, config.clock(manual.clock())), manual)
}

/// What 8 tasks making 400 `show_user` calls through one client saw.
#[derive(Debug)]
struct Run {
    /// How far the shared clock moved.
    waited: Duration,
    /// The client's sleeps, added up.
    slept: Duration,
    failed: usize,
    /// The requests the server served in each of its windows.
    windows: Vec<u32>,
    served: u32,
    refused: u32,
}

/// The server's window.
const WINDOW: Duration = Duration::from_millis(400);
/// The requests the server allows per window.
const LIMIT: u32 = 50;
/// The tasks calling at once, each with at most one request in flight.
const TASKS: u32 = 8;

async fn eight_tasks(limits: RateLimits) -> Run {
    const CALLS: usize = 400;
    let manual = ManualClock::new();
    let window = WindowServer::new(LIMIT, WINDOW, manual.clock());
    let server = window.mount().await;
    let client = client(
        &server,
        ClientConfig::new()
            .rate_limits(limits)
            .clock(manual.clock()),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (client, next, failed) = (client.clone(), next.clone(), failed.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < CALLS {
                    if client.show_user().user_id(35436).send().await.is_err() {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("no panic");
    }
    Run {
        waited: manual.elapsed(),
        slept: manual.sleeps().iter().sum(),
        failed: failed.load(Ordering::Relaxed),
        windows: window.windows.lock().expect("not poisoned").clone(),
        served: window.served.load(Ordering::Relaxed),
        refused: window.refused.load(Ordering::Relaxed),
    }
}

/// 8 tasks, 400 calls, one client, a server allowing 50 requests per 400 ms window (the
/// bench's scenario at a fifth of its window). Paced by the headers: no 429 at all, every
/// call succeeds, and each wait of the client ends exactly at the server's reset, none
/// wasted: the clock moved by exactly one window per window the server opened after the
/// first (a wait past a reset, or a recheck while a window is open, would show), and every
/// window but the last was used to within the requests in flight.
///
/// On the manual clock a wait for the reset ends at once, possibly ahead of requests still on
/// their way (at most one per task): those reach the server in its next window, which they
/// would not on real time (1 ms of I/O against a 400 ms wait). So a window may count up to
/// `TASKS` fewer than `LIMIT`, and the run takes 8 to 10 windows where real time takes the
/// minimum of 8 (7 resets, 2.8 s; the bench measures that).
/// Unpaced, side by side: the same server answers 429s, which the retry policy then waits
/// out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_tasks_meet_no_429_when_paced() {
    let paced = eight_tasks(RateLimits::default()).await;
    let unpaced = eight_tasks(RateLimits::disabled()).await;
    eprintln!("paced: {paced:?}\nunpaced: {unpaced:?}");
    assert_eq!(paced.refused, 0, "paced: {paced:?}");
    assert_eq!((paced.served, paced.failed), (400, 0), "paced: {paced:?}");
    let resets = u32::try_from(paced.windows.len() - 1).expect("a few windows");
    assert_eq!(paced.waited, WINDOW * resets, "paced: {paced:?}");
    assert_eq!(
        paced.slept, paced.waited,
        "only the client's sleeps moved the clock"
    );
    let (_last, used) = paced.windows.split_last().expect("windows");
    assert!(
        used.iter().all(|served| *served >= LIMIT - TASKS),
        "a window left unused: {paced:?}"
    );
    assert!(unpaced.refused > 0, "unpaced: {unpaced:?}");
}

/// A server that says its window is spent for 30 s.
async fn spent_window() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(specs::success_example("zendesk", "show_user"))
                .insert_header("x-rate-limit", "700")
                .insert_header("ratelimit-limit", "700")
                .insert_header("ratelimit-remaining", "0")
                .insert_header("ratelimit-reset", "30"),
        )
        .mount(&server)
        .await;
    server
}

/// `err` refused the call unsent, with the wait it would have needed: exactly `wait`, the
/// clock having not moved since the server's answer.
fn assert_refused_unsent(err: &user_apis::ApiError, kind: ErrorKind, wait: Duration) {
    assert_eq!(err.kind(), kind, "{err}");
    assert_eq!(err.operation(), Some("show_user"));
    assert_eq!(err.attempts(), Some(0), "{err}");
    assert!(err.is_retryable(), "nothing was sent: {err}");
    assert_eq!(err.retry_after(), Some(wait), "{err}");
    assert!(err.to_string().contains("not sent"), "{err}");
}

/// Fail fast: once the server says nothing is left, the next call fails at once with
/// `RateLimited` and the wait it would have needed, unsent; so does a call through a clone
/// (`with_timeouts`, `with_retry`): the limiter is the client's.
#[tokio::test]
async fn a_fail_fast_client_refuses_at_once_without_sending() {
    let server = spent_window().await;
    let (client, manual) = manual_client(
        &server,
        ClientConfig::new().rate_limits(RateLimits::default().fail_fast()),
    );
    client
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect("the first call goes");
    let clone = client
        .with_timeouts(Timeouts::default().with_call(Duration::from_secs(600)))
        .with_retry(RetryPolicy::default());
    for c in [&client, &clone] {
        let err = c.show_user().user_id(1).send().await.expect_err("spent");
        assert_refused_unsent(&err, ErrorKind::RateLimited, Duration::from_secs(30));
        assert!(err.is_rate_limited(), "{err}");
    }
    assert!(manual.sleeps().is_empty(), "at once: {:?}", manual.sleeps());
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        1
    );
}

/// A wait that would outlast the call deadline fails the call at once as a `Timeout`, unsent.
#[tokio::test]
async fn a_wait_past_the_deadline_is_a_timeout_unsent() {
    let server = spent_window().await;
    let (client, manual) = manual_client(
        &server,
        ClientConfig::new().call_timeout(Duration::from_secs(2)),
    );
    client
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect("the first call goes");
    let err = client
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect_err("spent");
    assert_refused_unsent(&err, ErrorKind::Timeout, Duration::from_secs(30));
    assert!(
        manual.sleeps().is_empty(),
        "at once, not at the deadline: {:?}",
        manual.sleeps()
    );
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        1
    );
}

/// A 429 that comes anyway (another process spent the budget) holds back every call of the
/// client until its `Retry-After` has passed, not only the call that met it.
#[tokio::test]
async fn a_429_holds_back_the_whole_client() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "20"))
        .mount(&server)
        .await;
    let (client, manual) = manual_client(
        &server,
        ClientConfig::new()
            .retry(RetryPolicy::disabled())
            .rate_limits(RateLimits::default().fail_fast()),
    );
    let err = client.show_user().user_id(1).send().await.expect_err("429");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    let err = client.count_users().send().await.expect_err("held back");
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert_eq!(err.operation(), Some("count_users"));
    assert_eq!(
        err.retry_after(),
        Some(Duration::from_secs(20)),
        "the pause"
    );
    // Once the pause has passed on the client's clock, calls go again.
    manual.advance(Duration::from_secs(20));
    let err = client.count_users().send().await.expect_err("429 again");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429), "{err}");
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        2
    );
}

/// A budget for a service that sends no headers: 10 a minute spaces calls exactly 6 s apart
/// (`60 s / n`) on the client's clock; without it they go at once.
#[tokio::test]
async fn a_client_budget_spaces_calls() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(specs::success_example("zendesk", "show_user")),
        )
        .mount(&server)
        .await;
    for (limits, expected) in [
        (
            RateLimits::default().with_requests_per_minute(10),
            vec![Duration::from_secs(6); 3],
        ),
        (RateLimits::default(), vec![]),
    ] {
        let (client, manual) = manual_client(&server, ClientConfig::new().rate_limits(limits));
        for _ in 0..4 {
            client.show_user().user_id(1).send().await.expect("served");
        }
        assert_eq!(manual.sleeps(), expected);
    }
}

/// An operation the client does not have cannot be given a budget.
#[test]
fn a_budget_for_an_unknown_operation_is_a_config_error() {
    let err = zendesk::Client::with_config(
        clients::credentials("zendesk"),
        ClientConfig::new()
            .base_url("http://127.0.0.1:9")
            .rate_limits(
                RateLimits::default().with_operation_requests_per_minute("export_users", 30),
            ),
    )
    .expect_err("no such operation");
    assert!(err.to_string().contains("`export_users`"), "{err}");
}
