//! Load: 1,000 concurrent calls through one client against a loopback server. All succeed,
//! the connections open at once stay within the configured bound, and the process's file
//! descriptors return to their starting count once the client is dropped.
//!
//! This binary holds one test on purpose: it counts the process's file descriptors, which
//! tests running beside it would disturb.

use std::time::{Duration, Instant};

use futures::future::join_all;
use tests::fault_server::{Fault, FaultServer};
use tests::specs;
use user_apis::runtime::{ClientConfig, RetryPolicy, Timeouts};
use user_apis::zendesk;

const CALLS: usize = 1_000;
/// Requests in flight at once (`ClientConfig::max_concurrent_requests`).
const IN_FLIGHT: usize = 16;
/// Idle connections the pool keeps (`ClientConfig::pool_max_idle_per_host`).
const IDLE: usize = 16;

/// Open file descriptors of this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| dir.count())
        .expect("/proc/self/fd is readable (Linux)")
}

/// Waits until the open descriptors are back to `baseline` (closing a socket happens on a
/// runtime task after its owner is dropped: there is no signal to wait on, so poll, bounded).
async fn fds_return_to(baseline: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = open_fds();
        if now <= baseline || Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn client(url: &str, config: ClientConfig) -> zendesk::Client {
    let config = config
        .base_url(url)
        .retry(RetryPolicy::disabled())
        .timeouts(
            Timeouts::default()
                .with_connect(Duration::from_secs(5))
                .with_attempt(Duration::from_secs(20))
                .with_call(Duration::from_secs(30)),
        );
    tests::clients::zendesk_client(config)
}

fn user_body() -> serde_json::Value {
    specs::success_example("zendesk", "show_user")
}

/// Calls `show_user` `calls` times at once; returns how many succeeded.
async fn burst(client: &zendesk::Client, calls: usize) -> usize {
    let results = join_all(
        (0..calls).map(|i| async move { client.show_user().user_id(i as i64 + 1).send().await }),
    )
    .await;
    results.iter().filter(|r| r.is_ok()).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_stay_within_the_connection_bound() {
    let body = user_body();
    let baseline = open_fds();

    // Capped: at most IN_FLIGHT busy connections plus IDLE idle ones.
    let server = FaultServer::always(Fault::json(200, &body)).await;
    let capped = client(
        &server.url(),
        ClientConfig::new()
            .max_concurrent_requests(IN_FLIGHT)
            .pool_max_idle_per_host(IDLE),
    );
    let started = Instant::now();
    let ok = burst(&capped, CALLS).await;
    let elapsed = started.elapsed();
    assert_eq!(ok, CALLS, "every call succeeds");
    assert_eq!(server.requests(), CALLS);
    let max_open = server.max_open_connections();
    println!(
        "{CALLS} calls in {elapsed:?}: {} connections accepted, at most {max_open} open at once \
         (bound {})",
        server.connections(),
        IN_FLIGHT + IDLE
    );
    assert!(
        max_open <= IN_FLIGHT + IDLE,
        "{max_open} connections open at once, bound {}",
        IN_FLIGHT + IDLE
    );
    assert!(
        server.connections() < CALLS / 4,
        "connections are reused: {} for {CALLS} calls",
        server.connections()
    );

    // Uncapped, the idle limit alone does not bound open connections: this is what the cap
    // is for (a smaller burst keeps the test light).
    let uncapped_server = FaultServer::always(Fault::json(200, &body)).await;
    let uncapped = client(
        &uncapped_server.url(),
        ClientConfig::new().pool_max_idle_per_host(IDLE),
    );
    assert_eq!(burst(&uncapped, 200).await, 200);
    println!(
        "uncapped: 200 calls, at most {} connections open at once",
        uncapped_server.max_open_connections()
    );
    assert!(
        uncapped_server.max_open_connections() > IN_FLIGHT + IDLE,
        "without the cap, a burst opens a connection per call ({})",
        uncapped_server.max_open_connections()
    );

    // Everything is released once the clients are dropped and the servers stopped.
    drop(capped);
    drop(uncapped);
    server.shutdown().await;
    uncapped_server.shutdown().await;
    let after = fds_return_to(baseline).await;
    assert!(
        after <= baseline,
        "{after} file descriptors open, {baseline} before"
    );
}
