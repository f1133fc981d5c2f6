//! Many workers, one account: the rate-limit state shared through a real Redis
//! (`redis-server`, started on a free loopback port per test), by real processes
//! (`src/bin/fleet_worker.rs`) against one loopback server that enforces a single window for
//! all of them. Each test's other half shows what happens without the shared store, so that
//! every assertion can fail.

use std::time::{Duration, SystemTime};

use redis::AsyncCommands;
use tests::capture::Capture;
use tests::clients;
use tests::fleet::{Job, RedisServer, Report, WindowServer, run_fleet, start_fleet};
use user_apis::runtime::{
    ClientConfig, ErrorKind, MAX_LEARNED_WAIT, RateLimits, RedisStore, RetryPolicy,
};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const WORKER: &str = env!("CARGO_BIN_EXE_fleet_worker");

/// A server that answers every `GET` with the spec's `show_user` example.
async fn show_user_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(tests::specs::success_example("zendesk", "show_user")),
        )
        .mount(&server)
        .await;
    server
}

/// A key prefix of its own per test and run.
fn prefix(test: &str) -> String {
    format!("test-{test}-{}-{}", std::process::id(), fastrand_u32())
}

fn fastrand_u32() -> u32 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
}

fn totals(reports: &[Report]) -> (u64, u64) {
    reports
        .iter()
        .fold((0, 0), |(ok, failed), r| (ok + r.ok, failed + r.failed))
}

/// 3 processes × 8 tasks × 100 calls against one window of 50 requests per 400 ms (the
/// minimum: 6 windows, 5 waited out, 2 s). Sharing the state through Redis: no 429 at all,
/// every call succeeds. Each process pacing alone, side by side on a fresh window: each
/// believes it has the whole window, and the server answers 429s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_sharing_redis_meets_no_429() {
    let redis = RedisServer::start();
    let run = |shared: bool| {
        let redis_url = redis.url();
        async move {
            let window = WindowServer::new(50, Duration::from_millis(400));
            let server = window.mount().await;
            let job = Job {
                base_url: server.uri(),
                redis: shared.then(|| (redis_url, prefix("shared"))),
                tasks: 8,
                calls: 100,
                operation: "show_user",
                export_per_minute: None,
                attempts: None,
            };
            let reports = run_fleet(WORKER, &job, 3).await;
            (reports, window.served(), window.refused())
        }
    };
    let (shared, served, refused) = run(true).await;
    let (alone, alone_served, alone_refused) = run(false).await;
    let slowest = |reports: &[Report]| reports.iter().map(|r| r.elapsed).max();
    eprintln!(
        "shared: {served} served, {refused} × 429, slowest process {:?}; alone: {alone_served} \
         served, {alone_refused} × 429, slowest {:?}",
        slowest(&shared),
        slowest(&alone)
    );
    assert_eq!(totals(&shared), (300, 0), "{shared:?}");
    assert_eq!((served, refused), (300, 0), "shared: no 429 at all");
    for report in &shared {
        assert!(report.warnings().is_empty(), "{}", report.log);
    }
    let minimum = Duration::from_millis(2000);
    let took = slowest(&shared).unwrap_or_default();
    assert!(took >= minimum - Duration::from_millis(50), "{took:?}");
    assert!(alone_refused > 0, "alone, the processes meet 429s");
}

/// Redis stopped in the middle of a run (3 processes × 4 tasks × 200 calls, one window of 50
/// per 400 ms: 4.4 s at least) and started again (empty) a second later: no call
/// fails, each process logs exactly one WARN line for the outage and one INFO line when
/// Redis answers again, and the processes share again afterwards (the restarted Redis holds
/// their state).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_mid_run_loses_no_call_and_warns_once() {
    let mut redis = RedisServer::start();
    let window = WindowServer::new(50, Duration::from_millis(400));
    let server = window.mount().await;
    let job = Job {
        base_url: server.uri(),
        redis: Some((redis.url(), prefix("outage"))),
        tasks: 4,
        calls: 200,
        operation: "show_user",
        export_per_minute: None,
        attempts: None,
    };
    let (workers, start) = start_fleet(WORKER, &job, 3);
    let since_start = |d: Duration| {
        (start + d)
            .duration_since(SystemTime::now())
            .unwrap_or_default()
    };
    tokio::time::sleep(since_start(Duration::from_millis(1000))).await;
    redis.stop();
    tokio::time::sleep(since_start(Duration::from_millis(2000))).await;
    redis.restart();
    let mut reports = Vec::new();
    for worker in workers {
        reports.push(worker.report().await);
    }
    let (ok, failed) = totals(&reports);
    eprintln!(
        "{ok} ok, {failed} failed, {} served, {} × 429 (during the outage, each process paced \
         alone); {:?}",
        window.served(),
        window.refused(),
        reports.iter().map(|r| r.elapsed).collect::<Vec<_>>()
    );
    assert_eq!((ok, failed), (600, 0), "{reports:?}");
    for report in &reports {
        let warnings = report.warnings();
        assert_eq!(warnings.len(), 1, "one WARN per outage:\n{}", report.log);
        assert!(
            warnings[0].contains("the shared rate-limit store is unavailable"),
            "{}",
            warnings[0]
        );
        assert!(
            report.log.contains("pacing is shared again"),
            "shared again:\n{}",
            report.log
        );
        assert!(report.elapsed >= Duration::from_millis(2500), "{report:?}");
    }
    let mut connection = redis.connection().await;
    let keys: Vec<String> = connection.keys("*").await.expect("KEYS");
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&job_prefix(&job)) && k.ends_with(":client")),
        "the restarted Redis holds the shared state again: {keys:?}\n{}",
        reports[0].log
    );
}

fn job_prefix(job: &Job) -> String {
    job.redis
        .as_ref()
        .map(|(_, p)| p.clone())
        .unwrap_or_default()
}

/// The incremental export's budget (10 a minute, scaled down to 600: 100 ms apart) held by
/// 3 processes together: 12 exports arrive at least 40 ms apart (100 ms, less the jitter of
/// three processes' timers), 1.1 s from first to last. Each process alone spaces only its
/// own: requests of different processes arrive together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_budget_holds_across_processes() {
    let redis = RedisServer::start();
    let run = |shared: bool| {
        let redis_url = redis.url();
        async move {
            let window = WindowServer::new(1000, Duration::from_secs(60));
            let server = window.mount().await;
            let job = Job {
                base_url: server.uri(),
                redis: shared.then(|| (redis_url, prefix("export"))),
                tasks: 1,
                calls: 4,
                operation: "incremental_user_export",
                export_per_minute: Some(600),
                attempts: None,
            };
            let reports = run_fleet(WORKER, &job, 3).await;
            assert_eq!(totals(&reports), (12, 0), "{reports:?}");
            let arrivals = window.export_arrivals();
            assert_eq!(arrivals.len(), 12);
            arrivals
                .windows(2)
                .map(|pair| pair[1] - pair[0])
                .collect::<Vec<_>>()
        }
    };
    let shared = run(true).await;
    let alone = run(false).await;
    eprintln!("gaps shared: {shared:?}\ngaps alone: {alone:?}");
    let span: Duration = shared.iter().sum();
    assert!(
        shared.iter().all(|gap| *gap >= Duration::from_millis(40)),
        "{shared:?}"
    );
    assert!(span >= Duration::from_millis(1000), "{span:?}");
    assert!(
        alone.iter().any(|gap| *gap < Duration::from_millis(50)),
        "alone, the processes' budgets overlap: {alone:?}"
    );
}

/// What one response says reaches every client of the store: a 429 met by one client (its
/// `Retry-After: 20`) holds back another client, in another limiter, that never saw it.
#[tokio::test]
async fn a_429_seen_by_one_client_holds_back_another() {
    let redis = RedisServer::start();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "20"))
        .mount(&server)
        .await;
    let store = RedisStore::new(redis.url())
        .expect("a URL")
        .with_key_prefix(prefix("pause"));
    let client = |store: RedisStore| {
        clients::zendesk_client(
            ClientConfig::new()
                .base_url(server.uri())
                .retry(RetryPolicy::disabled())
                .rate_limits(RateLimits::default().with_redis(store).fail_fast()),
        )
    };
    let first = client(store.clone());
    // Another store value: its own connection, as in another process.
    let second = client(
        RedisStore::new(redis.url())
            .expect("a URL")
            .with_key_prefix(store.key_prefix()),
    );
    let err = first.show_user().user_id(1).send().await.expect_err("429");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    // The correction is sent in the background: it lands within moments.
    let key = format!(
        "{}:{{zendesk:{}}}:client",
        store.key_prefix(),
        server.address()
    );
    let mut connection = redis.connection().await;
    // Looked for up to 200 times, 10 ms apart.
    let mut looks = 0;
    loop {
        let pause: Option<String> = connection.hget(&key, "pause").await.expect("HGET");
        if pause.is_some() {
            break;
        }
        looks += 1;
        assert!(looks < 200, "no pause in {key} after {looks} looks");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let refused = second.count_users().send().await.expect_err("held back");
    assert_eq!(refused.kind(), ErrorKind::RateLimited, "{refused}");
    let wait = refused.retry_after().expect("the pause");
    assert!(
        wait > Duration::from_secs(17) && wait <= Duration::from_secs(20),
        "{wait:?}"
    );
    assert_eq!(refused.attempts(), Some(0), "{refused}");
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        1,
        "the second client sent nothing"
    );
}

/// Garbage and hostile values in Redis are clamped like hostile headers: no panic, no wait
/// beyond `MAX_LEARNED_WAIT`, keys of another type dropped, places held by requests "in
/// flight" until the year 10^300 freed.
#[tokio::test]
async fn hostile_values_in_redis_are_clamped() {
    let redis = RedisServer::start();
    let server = show_user_server().await;
    let prefix = prefix("hostile");
    let account = server.address().to_string();
    let key = format!("{prefix}:{{zendesk:{account}}}:client");
    let in_flight = format!("{key}:in-flight");
    let store = RedisStore::new(redis.url())
        .expect("a URL")
        .with_key_prefix(prefix.clone());
    let client = |fail_fast: bool| {
        let limits = RateLimits::default().with_redis(store.clone());
        clients::zendesk_client(
            ClientConfig::new()
                .base_url(server.uri())
                .retry(RetryPolicy::disabled())
                .rate_limits(if fail_fast {
                    limits.fail_fast()
                } else {
                    limits
                }),
        )
    };
    let mut connection = redis.connection().await;

    // Garbage in every field, and a zset member "in flight" for ever: calls go.
    for garbage in ["nan", "inf", "-inf", "abc", "", "-5", "1e400", "0x10"] {
        let fields = ["epoch", "end", "left", "limit", "pause", "tat"];
        let pairs: Vec<(&str, &str)> = fields.iter().map(|f| (*f, garbage)).collect();
        let _: () = connection.del(&key).await.expect("DEL");
        let _: () = connection.hset_multiple(&key, &pairs).await.expect("HSET");
        let _: () = connection
            .zadd(&in_flight, "ghost", 1e300)
            .await
            .expect("ZADD");
        client(true)
            .show_user()
            .user_id(1)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{garbage:?}: {e}"));
        let ghosts: Option<f64> = connection
            .zscore(&in_flight, "ghost")
            .await
            .expect("ZSCORE");
        assert_eq!(ghosts, None, "{garbage:?}: a place held for ever is freed");
    }

    // A key of another type is dropped, not trusted.
    let _: () = connection.del(&key).await.expect("DEL");
    let _: () = connection.set(&key, "not a hash").await.expect("SET");
    let _: () = connection.del(&in_flight).await.expect("DEL");
    let _: () = connection.lpush(&in_flight, "x").await.expect("LPUSH");
    client(true)
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect("another type: dropped");

    // A pause a billion years away is an hour at most, and stored as such.
    let _: () = connection.del(&key).await.expect("DEL");
    let _: () = connection
        .hset(&key, "pause", "99999999999999999999999")
        .await
        .expect("HSET");
    let err = client(true)
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect_err("paused");
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    let wait = err.retry_after().expect("the wait");
    assert!(
        wait <= MAX_LEARNED_WAIT && wait > MAX_LEARNED_WAIT - Duration::from_secs(5),
        "{wait:?}"
    );
    let stored: String = connection.hget(&key, "pause").await.expect("HGET");
    assert!(stored.len() < 20, "clamped when stored: {stored}");
    // A call with a deadline fails at once, unsent, as for any wait past it.
    let err = client(false)
        .with_timeouts(user_apis::Timeouts::default().with_call(Duration::from_secs(2)))
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect_err("past the deadline");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        9,
        "8 garbage rounds and the other type went; the paused calls did not"
    );
}

/// Redis slow (every client paused by `CLIENT PAUSE`) or down: a call waits at most the
/// store's timeout for it, then goes, paced in-process, and one WARN line is logged for
/// the outage, not one per call. With `refuse_when_unavailable`, calls fail at once instead,
/// `RateLimited`, unsent.
#[tokio::test]
async fn a_slow_or_dead_redis_never_holds_a_call() {
    let mut redis = RedisServer::start();
    let server = show_user_server().await;
    let store = RedisStore::new(redis.url())
        .expect("a URL")
        .with_key_prefix(prefix("slow"))
        .with_timeout(Duration::from_millis(100));
    // A call deadline (2 s) shorter than the pause (3 s): a call that waited for the paused
    // Redis, or for a stopped one, would fail as a timeout instead of going in-process (or
    // being refused at once).
    let client = |store: RedisStore| {
        clients::zendesk_client(
            ClientConfig::new()
                .base_url(server.uri())
                .retry(RetryPolicy::disabled())
                .call_timeout(Duration::from_secs(2))
                .rate_limits(RateLimits::default().with_redis(store)),
        )
    };
    let paced = client(store.clone());
    paced
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect("through Redis");

    let capture = Capture::start();
    let mut admin = redis.connection().await;
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(3000)
        .arg("ALL")
        .query_async(&mut admin)
        .await
        .expect("CLIENT PAUSE");
    for _ in 0..3 {
        paced
            .show_user()
            .user_id(1)
            .send()
            .await
            .expect("paced in-process, within the deadline");
    }
    let log = capture.text();
    let warnings = log.lines().filter(|l| l.contains(" WARN ")).count();
    assert_eq!(warnings, 1, "one WARN for the outage:\n{log}");
    assert!(log.contains("no answer within 100ms"), "{log}");
    drop(capture);

    redis.stop();
    let refusing = client(store.clone().refuse_when_unavailable());
    let before = server.received_requests().await.unwrap_or_default().len();
    let err = refusing
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect_err("refused");
    // Refused at once: one that waited past the deadline would be a Timeout.
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert!(err.is_retryable() && err.is_rate_limited(), "{err}");
    assert_eq!(err.attempts(), Some(0), "{err}");
    assert!(err.to_string().contains("does not answer"), "{err}");
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        before,
        "unsent"
    );
    // The default store, down: calls go.
    client(store)
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect("paced in-process");
}

/// A Redis with a password: the right one shares, a wrong one is an outage whose WARN line,
/// like every error and `Debug`, never shows it.
#[tokio::test]
async fn the_redis_password_never_shows() {
    let redis = RedisServer::start_with(&["--requirepass", "right-s3cret"]);
    let server = show_user_server().await;
    let prefix = prefix("auth");
    let url = |password: &str| format!("redis://:{password}@127.0.0.1:{}/0", redis.port());
    let client = |password: &str| {
        let store = RedisStore::new(url(password))
            .expect("a URL")
            .with_key_prefix(prefix.clone());
        let config = ClientConfig::new()
            .base_url(server.uri())
            .rate_limits(RateLimits::default().with_redis(store));
        let shown = format!("{config:?}");
        assert!(!shown.contains(password), "{shown}");
        clients::zendesk_client(config)
    };
    let capture = Capture::start();
    let wrong = client("wrong-s3cret");
    for _ in 0..2 {
        wrong
            .show_user()
            .user_id(1)
            .send()
            .await
            .expect("paced in-process");
    }
    let log = capture.text();
    assert_eq!(
        log.lines().filter(|l| l.contains(" WARN ")).count(),
        1,
        "{log}"
    );
    assert!(!log.contains("wrong-s3cret"), "{log}");
    drop(capture);

    client("right-s3cret")
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect("shared");
    let mut admin = redis::Client::open(url("right-s3cret"))
        .expect("a URL")
        .get_multiplexed_async_connection()
        .await
        .expect("AUTH");
    let keys: Vec<String> = admin.keys(format!("{prefix}*")).await.expect("KEYS");
    assert!(keys.iter().any(|k| k.ends_with(":client")), "{keys:?}");
}

/// `rediss://` through rustls with the process's ring provider: a Redis whose certificate a
/// private CA signed is an outage (one WARN, calls go) until the store trusts that CA with
/// `with_root_certificate`; then the state is shared over TLS.
#[tokio::test]
async fn rediss_with_a_private_certificate_authority() {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA");
    let server_key = rcgen::KeyPair::generate().expect("key");
    let server_cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .expect("params")
        .signed_by(&server_key, &ca)
        .expect("server certificate");
    let dir = std::env::temp_dir().join(format!("user-apis-rediss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let (cert_path, key_path) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&cert_path, server_cert.pem()).expect("write");
    std::fs::write(&key_path, server_key.serialize_pem()).expect("write");
    let redis = RedisServer::start_tls(&cert_path, &key_path);
    let server = show_user_server().await;
    let url = format!("rediss://localhost:{}/0", redis.port());
    let prefix = prefix("tls");
    let client = |store: RedisStore| {
        let limits = RateLimits::default().with_redis(store.with_key_prefix(prefix.clone()));
        clients::zendesk_client(
            ClientConfig::new()
                .base_url(server.uri())
                .rate_limits(limits),
        )
    };

    let capture = Capture::start();
    let untrusted = client(RedisStore::new(url.clone()).expect("a URL"));
    untrusted
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect("paced in-process");
    let trusted = client(
        RedisStore::new(url.clone())
            .expect("a URL")
            .with_root_certificate(ca.pem())
            .expect("a PEM"),
    );
    trusted.show_user().user_id(1).send().await.expect("shared");
    let log = capture.text();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains(" WARN ")).collect();
    eprintln!("{warnings:?}");
    assert_eq!(warnings.len(), 1, "the untrusted store only:\n{log}");
    drop(capture);

    let mut admin = redis::Client::build_with_tls(
        url.as_str(),
        redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(ca.pem().into_bytes()),
        },
    )
    .expect("a URL")
    .get_multiplexed_async_connection()
    .await
    .expect("TLS");
    let keys: Vec<String> = admin.keys(format!("{prefix}*")).await.expect("KEYS");
    assert!(keys.iter().any(|k| k.ends_with(":client")), "{keys:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Extreme store settings neither panic nor hold a call: a zero timeout (every round trip
/// too slow: in-process), an unbounded one, and key prefixes that are empty, braced,
/// multi-line or not ASCII (keys are binary-safe; the account's hash tag still holds).
#[tokio::test]
async fn extreme_store_settings_work() {
    let redis = RedisServer::start();
    let server = show_user_server().await;
    // A 2 s call deadline: a store that held the call (an unbounded timeout ignored the
    // deadline) would fail it as a timeout.
    let call = |store: RedisStore| {
        let client = clients::zendesk_client(
            ClientConfig::new()
                .base_url(server.uri())
                .retry(RetryPolicy::disabled())
                .call_timeout(Duration::from_secs(2))
                .rate_limits(RateLimits::default().with_redis(store)),
        );
        async move { client.show_user().user_id(1).send().await.map(drop) }
    };
    let store = || RedisStore::new(redis.url()).expect("a URL");
    for timeout in [Duration::ZERO, Duration::from_nanos(1), Duration::MAX] {
        call(store().with_timeout(timeout))
            .await
            .unwrap_or_else(|e| panic!("{timeout:?}: {e}"));
    }
    for prefix in ["", "{a}", "line\nbreak", "préfixe ✓", &"x".repeat(10_000)] {
        call(store().with_key_prefix(prefix))
            .await
            .unwrap_or_else(|e| panic!("{prefix:?}: {e}"));
    }
    let mut connection = redis.connection().await;
    let keys: Vec<Vec<u8>> = connection.keys("*").await.expect("KEYS");
    assert!(
        keys.iter()
            .any(|k| k.starts_with("préfixe ✓:{zendesk:".as_bytes())),
        "{:?}",
        keys.iter()
            .map(|k| String::from_utf8_lossy(k))
            .collect::<Vec<_>>()
    );
}

/// A call cancelled while Redis decides (here, Redis held by `CLIENT PAUSE`, the call
/// dropped by the caller's own timeout) frees the place Redis then gives it, instead of
/// holding it until its lease ends.
#[tokio::test]
async fn a_call_cancelled_during_its_decision_frees_its_place() {
    let redis = RedisServer::start();
    let server = MockServer::start().await;
    let prefix = prefix("cancel");
    let store = RedisStore::new(redis.url())
        .expect("a URL")
        .with_key_prefix(prefix.clone())
        .with_timeout(Duration::from_secs(5));
    let client = clients::zendesk_client(
        ClientConfig::new()
            .base_url(server.uri())
            .rate_limits(RateLimits::default().with_redis(store)),
    );
    let in_flight = format!("{prefix}:{{zendesk:{}}}:client:in-flight", server.address());
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(tests::specs::success_example("zendesk", "show_user")),
        )
        .mount(&server)
        .await;
    // Connected, the scripts loaded: the next decision is one EVALSHA.
    client.show_user().user_id(1).send().await.expect("warm");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut admin = redis.connection().await;
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(300)
        .arg("ALL")
        .query_async(&mut admin)
        .await
        .expect("CLIENT PAUSE");
    let cancelled = tokio::time::timeout(
        Duration::from_millis(50),
        client.show_user().user_id(1).send(),
    )
    .await;
    assert!(cancelled.is_err(), "cancelled while Redis decides");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let places: usize = admin.zcard(&in_flight).await.expect("ZCARD");
    assert_eq!(places, 0, "the cancelled call's place is free");
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        1,
        "the warm-up call only"
    );
}
