//! Traces and metrics as a user's observability receives them: real clients against a
//! loopback server, exported through the OpenTelemetry SDK's in-memory exporters
//! (`tracing-opentelemetry` for the spans, the SDK's meter provider for the metrics), then
//! read back as the SDK hands them to an exporter: span names, kinds, statuses, the span
//! tree, every attribute and its type, every metric point.
//!
//! Waits (retry backoff, `Retry-After`, rate-limit pacing) go through a `ManualClock`: the
//! waits the spans and metrics report are asserted exactly, without being waited.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use opentelemetry::Value;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_sdk::trace::SpanData;
use serde_json::{Value as Json, json};
use tests::otel::{Metrics, Otel, children, roots, span_attribute};
use tests::{clients, specs};
use user_apis::runtime::{ApiError, ClientConfig, ErrorKind, ManualClock, RateLimits, RetryPolicy};
use user_apis::zendesk;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const USER_ID: i64 = 35436;
const TEMPLATE: &str = "/api/v2/users/{user_id}";
const ATTEMPT_NAME: &str = "GET /api/v2/users/{user_id}";

fn user_response() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(specs::success_example("zendesk", "show_user"))
}

/// A server answering `first` `times` times, then `then` for ever.
async fn server(first: Option<(u64, ResponseTemplate)>, then: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    if let Some((times, template)) = first {
        Mock::given(any())
            .respond_with(template)
            .up_to_n_times(times)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    Mock::given(any()).respond_with(then).mount(&server).await;
    server
}

/// A Zendesk client on `server`, its metrics into `otel`, its waits on `clock`.
fn client(
    server: &MockServer,
    otel: &Otel,
    clock: &ManualClock,
    retry: RetryPolicy,
) -> zendesk::Client {
    clients::zendesk_client(
        ClientConfig::new()
            .base_url(server.uri())
            .meter_provider(&otel.meter_provider)
            .clock(clock.clock())
            .retry(retry),
    )
}

async fn show_user(client: &zendesk::Client) -> Result<(), ApiError> {
    client.show_user().user_id(USER_ID).send().await.map(drop)
}

fn port(server: &MockServer) -> i64 {
    i64::from(server.address().port())
}

fn string(value: &str) -> Value {
    Value::from(value.to_string())
}

/// The one call span and its attempt spans, checked to form a tree: the call span is the
/// only root, and every other span is its child.
fn call_tree(spans: &[SpanData]) -> (&SpanData, Vec<&SpanData>) {
    let roots = roots(spans);
    assert_eq!(roots.len(), 1, "one call span: {spans:#?}");
    let call = roots[0];
    let attempts = children(spans, call);
    assert_eq!(
        attempts.len() + 1,
        spans.len(),
        "every other span is an attempt of the call"
    );
    (call, attempts)
}

/// The attributes every call span carries, and its name and kind.
fn assert_call(call: &SpanData, attempts: i64) {
    assert_eq!(call.name, "zendesk.show_user");
    assert_eq!(call.span_kind, SpanKind::Internal);
    let a = |key| span_attribute(call, key);
    assert_eq!(a("user_apis.service"), Some(&string("zendesk")));
    assert_eq!(a("user_apis.operation"), Some(&string("show_user")));
    assert_eq!(a("user_apis.attempts"), Some(&Value::I64(attempts)));
}

/// The attributes every attempt span carries, and its name and kind.
fn assert_attempt(attempt: &SpanData, server: &MockServer, resend_count: Option<i64>) {
    assert_eq!(attempt.name, ATTEMPT_NAME);
    assert_eq!(attempt.span_kind, SpanKind::Client);
    let a = |key| span_attribute(attempt, key);
    assert_eq!(a("http.request.method"), Some(&string("GET")));
    assert_eq!(a("server.address"), Some(&string("127.0.0.1")));
    assert_eq!(a("server.port"), Some(&Value::I64(port(server))));
    assert_eq!(
        a("url.full"),
        Some(&string(&format!("{}/api/v2/users/{USER_ID}", server.uri())))
    );
    assert_eq!(a("url.template"), Some(&string(TEMPLATE)));
    assert_eq!(
        a("http.request.resend_count"),
        resend_count.map(Value::I64).as_ref()
    );
}

/// The `http.client.request.duration` points: (status, error.type, count), with the
/// attributes every point carries checked.
fn durations(metrics: &Metrics, server: &MockServer) -> Vec<(Option<i64>, Option<String>, u64)> {
    let metric = metrics
        .get("http.client.request.duration")
        .expect("the duration histogram");
    assert_eq!(metric.unit(), "s");
    let mut points: Vec<_> = metrics
        .points()
        .into_iter()
        .filter(|p| p.metric == "http.client.request.duration")
        // This test's server only: with the global provider, a client another test builds
        // meanwhile records there too.
        .filter(|p| p.get("server.port") == Some(&Value::I64(port(server))))
        .map(|p| {
            assert_eq!(p.get("http.request.method"), Some(&string("GET")));
            assert_eq!(p.get("server.address"), Some(&string("127.0.0.1")));
            assert_eq!(p.get("url.template"), Some(&string(TEMPLATE)));
            assert!(p.value >= 0.0 && p.value < 60.0, "seconds: {}", p.value);
            let status = match p.get("http.response.status_code") {
                Some(Value::I64(code)) => Some(*code),
                None => None,
                other => panic!("status code as an integer: {other:?}"),
            };
            let error = p.get("error.type").map(|v| v.as_str().into_owned());
            (status, error, p.count)
        })
        .collect();
    points.sort();
    points
}

/// The sum of the counter `name` over its points, and the points' attributes.
fn counter(metrics: &Metrics, name: &str) -> (f64, Vec<Vec<(String, String)>>) {
    let points: Vec<_> = metrics
        .points()
        .into_iter()
        .filter(|p| p.metric == name)
        .collect();
    let total = points.iter().map(|p| p.value).sum();
    let attributes = points
        .iter()
        .map(|p| {
            let mut kv: Vec<_> = p
                .attributes
                .iter()
                .map(|kv| (kv.key.as_str().to_string(), kv.value.as_str().into_owned()))
                .collect();
            kv.sort();
            kv
        })
        .collect();
    (total, attributes)
}

fn call_attributes(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut kv: Vec<(String, String)> = [
        ("user_apis.service", "zendesk"),
        ("user_apis.operation", "show_user"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    kv.sort();
    kv
}

#[tokio::test]
async fn a_success_is_a_call_span_over_one_client_span() {
    let otel = Otel::install();
    let server = server(None, user_response()).await;
    let clock = ManualClock::new();
    let client = client(&server, &otel, &clock, RetryPolicy::default());
    show_user(&client).await.expect("200");

    let spans = otel.spans();
    let (call, attempts) = call_tree(&spans);
    assert_call(call, 1);
    assert_eq!(call.status, Status::Unset);
    assert_eq!(
        span_attribute(call, "user_apis.outcome"),
        Some(&string("success"))
    );
    assert_eq!(
        span_attribute(call, "user_apis.rate_limit.wait"),
        Some(&Value::F64(0.0))
    );
    assert_eq!(
        span_attribute(call, "user_apis.retry.wait"),
        Some(&Value::F64(0.0))
    );
    assert_eq!(span_attribute(call, "error.type"), None);

    let [attempt] = attempts[..] else {
        panic!("one attempt: {attempts:#?}")
    };
    assert_attempt(attempt, &server, None);
    assert_eq!(
        span_attribute(attempt, "http.response.status_code"),
        Some(&Value::I64(200))
    );
    assert_eq!(span_attribute(attempt, "error.type"), None);
    assert_eq!(attempt.status, Status::Unset);
    assert!(attempt.start_time >= call.start_time && attempt.end_time <= call.end_time);

    let metrics = otel.metrics();
    assert_eq!(durations(&metrics, &server), [(Some(200), None, 1)]);
    for name in [
        "user_apis.retries",
        "user_apis.rate_limit.waits",
        "user_apis.rate_limit.wait_time",
        "user_apis.rate_limit.exceeded",
    ] {
        assert_eq!(counter(&metrics, name).0, 0.0, "{name}");
    }
}

#[tokio::test]
async fn a_404_marks_the_attempt_and_the_call_as_errors() {
    let otel = Otel::install();
    let server = server(
        None,
        ResponseTemplate::new(404).set_body_json(json!({"error": "RecordNotFound"})),
    )
    .await;
    let clock = ManualClock::new();
    let client = client(&server, &otel, &clock, RetryPolicy::default());
    let error = show_user(&client).await.expect_err("404");
    assert!(error.is_not_found());

    let spans = otel.spans();
    let (call, attempts) = call_tree(&spans);
    assert_call(call, 1);
    assert!(
        matches!(call.status, Status::Error { .. }),
        "{:?}",
        call.status
    );
    assert_eq!(span_attribute(call, "error.type"), Some(&string("404")));
    assert_eq!(
        span_attribute(call, "user_apis.outcome"),
        Some(&string("status"))
    );
    let [attempt] = attempts[..] else {
        panic!("a 404 is not retried: {attempts:#?}")
    };
    assert_attempt(attempt, &server, None);
    assert!(matches!(attempt.status, Status::Error { .. }));
    assert_eq!(
        span_attribute(attempt, "http.response.status_code"),
        Some(&Value::I64(404))
    );
    assert_eq!(span_attribute(attempt, "error.type"), Some(&string("404")));

    let metrics = otel.metrics();
    assert_eq!(
        durations(&metrics, &server),
        [(Some(404), Some("404".into()), 1)]
    );
    assert_eq!(counter(&metrics, "user_apis.retries").0, 0.0);
}

#[tokio::test]
async fn a_503_then_200_is_two_attempts_the_second_a_resend() {
    let otel = Otel::install();
    let server = server(
        Some((1, ResponseTemplate::new(503).set_body_string("busy"))),
        user_response(),
    )
    .await;
    let clock = ManualClock::new();
    let retry = RetryPolicy::default()
        .with_max_attempts(3)
        .with_jitter(false)
        .with_initial_backoff(Duration::from_millis(250));
    let client = client(&server, &otel, &clock, retry);
    show_user(&client).await.expect("200 on the second attempt");
    assert_eq!(clock.sleeps(), [Duration::from_millis(250)]);

    let spans = otel.spans();
    let (call, attempts) = call_tree(&spans);
    assert_call(call, 2);
    assert_eq!(call.status, Status::Unset, "the call succeeded");
    assert_eq!(
        span_attribute(call, "user_apis.outcome"),
        Some(&string("success"))
    );
    assert_eq!(
        span_attribute(call, "user_apis.retry.wait"),
        Some(&Value::F64(0.25))
    );
    assert_eq!(span_attribute(call, "error.type"), None);

    let [first, second] = attempts[..] else {
        panic!("two attempts: {attempts:#?}")
    };
    assert!(first.end_time <= second.start_time, "in order");
    assert_attempt(first, &server, None);
    assert_eq!(
        span_attribute(first, "http.response.status_code"),
        Some(&Value::I64(503))
    );
    assert_eq!(span_attribute(first, "error.type"), Some(&string("503")));
    assert!(matches!(first.status, Status::Error { .. }));
    assert_attempt(second, &server, Some(1));
    assert_eq!(
        span_attribute(second, "http.response.status_code"),
        Some(&Value::I64(200))
    );
    assert_eq!(span_attribute(second, "error.type"), None);
    assert_eq!(second.status, Status::Unset);

    let metrics = otel.metrics();
    assert_eq!(
        durations(&metrics, &server),
        [(Some(200), None, 1), (Some(503), Some("503".into()), 1)]
    );
    let (retries, attributes) = counter(&metrics, "user_apis.retries");
    assert_eq!(retries, 1.0);
    assert_eq!(attributes, [call_attributes(&[("error.type", "503")])]);
}

#[tokio::test]
async fn a_429_is_counted_and_its_retry_after_is_the_retry_wait() {
    let otel = Otel::install();
    let server = server(
        Some((
            1,
            ResponseTemplate::new(429)
                .insert_header("retry-after", "2")
                .set_body_string("Too Many Requests"),
        )),
        user_response(),
    )
    .await;
    let clock = ManualClock::new();
    let client = client(&server, &otel, &clock, RetryPolicy::default());
    show_user(&client).await.expect("200 after the 429");

    let spans = otel.spans();
    let (call, attempts) = call_tree(&spans);
    assert_call(call, 2);
    assert_eq!(
        span_attribute(call, "user_apis.retry.wait"),
        Some(&Value::F64(2.0))
    );
    assert_eq!(
        span_attribute(attempts[0], "error.type"),
        Some(&string("429"))
    );
    let metrics = otel.metrics();
    let (exceeded, attributes) = counter(&metrics, "user_apis.rate_limit.exceeded");
    assert_eq!(exceeded, 1.0);
    assert_eq!(attributes, [call_attributes(&[])]);
    let (retries, attributes) = counter(&metrics, "user_apis.retries");
    assert_eq!(retries, 1.0);
    assert_eq!(attributes, [call_attributes(&[("error.type", "429")])]);
}

#[tokio::test]
async fn a_timeout_has_no_status_and_error_type_timeout() {
    let otel = Otel::install();
    // The server answers after 10 s; the attempt gives up after 100 ms (real time).
    let server = server(None, user_response().set_delay(Duration::from_secs(10))).await;
    let clock = ManualClock::new();
    let client = clients::zendesk_client(
        ClientConfig::new()
            .base_url(server.uri())
            .meter_provider(&otel.meter_provider)
            .clock(clock.clock())
            .retry(RetryPolicy::disabled())
            .attempt_timeout(Duration::from_millis(100)),
    );
    let error = show_user(&client).await.expect_err("timeout");
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");

    let spans = otel.spans();
    let (call, attempts) = call_tree(&spans);
    assert_call(call, 1);
    assert!(matches!(call.status, Status::Error { .. }));
    assert_eq!(span_attribute(call, "error.type"), Some(&string("timeout")));
    assert_eq!(
        span_attribute(call, "user_apis.outcome"),
        Some(&string("timeout"))
    );
    let [attempt] = attempts[..] else {
        panic!("one attempt: {attempts:#?}")
    };
    assert_attempt(attempt, &server, None);
    assert_eq!(span_attribute(attempt, "http.response.status_code"), None);
    assert_eq!(
        span_attribute(attempt, "error.type"),
        Some(&string("timeout"))
    );
    assert!(matches!(attempt.status, Status::Error { .. }));

    let metrics = otel.metrics();
    assert_eq!(
        durations(&metrics, &server),
        [(None, Some("timeout".into()), 1)]
    );
}

#[tokio::test]
async fn a_paced_call_reports_its_wait_for_the_rate_limit() {
    let otel = Otel::install();
    let server = server(None, user_response()).await;
    let clock = ManualClock::new();
    // 60 requests a minute: the second call waits one second for its turn.
    let client = clients::zendesk_client(
        ClientConfig::new()
            .base_url(server.uri())
            .meter_provider(&otel.meter_provider)
            .clock(clock.clock())
            .rate_limits(RateLimits::default().with_requests_per_minute(60)),
    );
    show_user(&client).await.expect("first");
    show_user(&client).await.expect("second, paced");
    assert_eq!(clock.sleeps(), [Duration::from_secs(1)]);

    let spans = otel.spans();
    let calls = roots(&spans);
    assert_eq!(calls.len(), 2, "{spans:#?}");
    for (call, waited) in calls.iter().zip([0.0, 1.0]) {
        assert_call(call, 1);
        assert_eq!(
            span_attribute(call, "user_apis.rate_limit.wait"),
            Some(&Value::F64(waited))
        );
        assert_eq!(
            span_attribute(call, "user_apis.retry.wait"),
            Some(&Value::F64(0.0))
        );
        assert_eq!(children(&spans, call).len(), 1);
    }
    let metrics = otel.metrics();
    let (waits, attributes) = counter(&metrics, "user_apis.rate_limit.waits");
    assert_eq!(waits, 1.0, "only the second call waited");
    assert_eq!(attributes, [call_attributes(&[])]);
    assert_eq!(counter(&metrics, "user_apis.rate_limit.wait_time").0, 1.0);
    let time = metrics
        .get("user_apis.rate_limit.wait_time")
        .expect("wait time");
    assert_eq!(time.unit(), "s");
}

/// A decode failure is the call's outcome, after a successful exchange.
#[tokio::test]
async fn a_body_that_does_not_decode_fails_the_call_not_the_attempt() {
    let otel = Otel::install();
    let server = server(
        None,
        ResponseTemplate::new(200).set_body_json(json!({"user": {"id": "not a number"}})),
    )
    .await;
    let clock = ManualClock::new();
    let client = client(&server, &otel, &clock, RetryPolicy::default());
    let error = show_user(&client).await.expect_err("decode");
    assert_eq!(error.kind(), ErrorKind::Decode);
    let spans = otel.spans();
    let (call, attempts) = call_tree(&spans);
    assert_eq!(span_attribute(call, "error.type"), Some(&string("decode")));
    assert!(matches!(call.status, Status::Error { .. }));
    assert_eq!(span_attribute(attempts[0], "error.type"), None);
    assert_eq!(attempts[0].status, Status::Unset);
}

/// `ClientConfig::telemetry(false)`: nothing at all, whatever is installed.
#[tokio::test]
async fn telemetry_off_emits_no_span_and_no_metric() {
    let otel = Otel::install();
    let server = server(Some((1, ResponseTemplate::new(503))), user_response()).await;
    let clock = ManualClock::new();
    let client = clients::zendesk_client(
        ClientConfig::new()
            .base_url(server.uri())
            .meter_provider(&otel.meter_provider)
            .clock(clock.clock())
            .telemetry(false),
    );
    show_user(&client).await.expect("200 after a retry");
    assert!(otel.spans().is_empty(), "{:#?}", otel.spans());
    assert!(otel.metrics().points().is_empty());
}

/// Spans follow `tracing`'s filters: a subscriber that keeps WARN and above gets none.
#[tokio::test]
async fn spans_follow_the_subscribers_level_filter() {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    let spans = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let layer = {
        use opentelemetry::trace::TracerProvider as _;
        tracing_opentelemetry::layer().with_tracer(provider.tracer("tests"))
    };
    let subscriber = tracing_subscriber::registry()
        .with(layer.with_filter(tracing_subscriber::filter::LevelFilter::WARN));
    let _default = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    let server = server(None, user_response()).await;
    let client = clients::zendesk_client(ClientConfig::new().base_url(server.uri()));
    show_user(&client).await.expect("200");
    provider.force_flush().expect("flush");
    assert!(spans.get_finished_spans().expect("spans").is_empty());
    // The same filter at INFO keeps them: the test can fail.
    drop(_default);
    let otel = Otel::install();
    show_user(&client).await.expect("200");
    assert_eq!(otel.spans().len(), 2);
}

/// A listing is one call span per page, each with its attempt.
#[tokio::test]
async fn every_page_of_a_stream_is_a_call() {
    use futures::TryStreamExt;

    let otel = Otel::install();
    let server = MockServer::start().await;
    let user: Json = specs::success_example("zendesk", "show_user")["user"].clone();
    let next = format!(
        "{}/api/v2/users?page%5Bsize%5D=1&page%5Bafter%5D=c2",
        server.uri()
    );
    Mock::given(wiremock::matchers::query_param("page[after]", "c2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "users": [user],
            "meta": {"has_more": false, "after_cursor": null, "before_cursor": null},
            "links": {"next": null, "prev": null},
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "users": [user],
            "meta": {"has_more": true, "after_cursor": "c2", "before_cursor": null},
            "links": {"next": next, "prev": null},
        })))
        .mount(&server)
        .await;
    let clock = ManualClock::new();
    let client = client(&server, &otel, &clock, RetryPolicy::default());
    let users: Vec<_> = client
        .list_users()
        .page_size(1u32)
        .stream()
        .try_collect()
        .await
        .expect("two pages");
    assert_eq!(users.len(), 2);
    let spans = otel.spans();
    let calls = roots(&spans);
    assert_eq!(calls.len(), 2, "{spans:#?}");
    for call in calls {
        assert_eq!(call.name, "zendesk.list_users");
        let attempts = children(&spans, call);
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].name, "GET /api/v2/users");
    }
    let urls: Vec<_> = spans
        .iter()
        .filter_map(|s| span_attribute(s, "url.full"))
        .map(|v| v.as_str().into_owned())
        .collect();
    assert!(
        urls.iter().any(|u| u.contains("page%5Bafter%5D=c2")),
        "the query is kept: {urls:?}"
    );
}

/// Without `meter_provider`, a client records into the global meter provider as it is
/// when the client is built.
#[tokio::test]
async fn the_global_meter_provider_is_used_by_default() {
    let otel = Otel::install();
    opentelemetry::global::set_meter_provider(otel.meter_provider.clone());
    let server = server(None, user_response()).await;
    let client = clients::zendesk_client(ClientConfig::new().base_url(server.uri()));
    show_user(&client).await.expect("200");
    assert_eq!(durations(&otel.metrics(), &server), [(Some(200), None, 1)]);
}

/// The instruments are made when the client is built, once, and shared by its clones.
#[tokio::test]
async fn instruments_are_made_once_per_client() {
    use opentelemetry::metrics::{
        Counter, Histogram, HistogramBuilder, InstrumentBuilder, InstrumentProvider, Meter,
        MeterProvider,
    };

    #[derive(Default)]
    struct Counting(Arc<AtomicUsize>);
    impl InstrumentProvider for Counting {
        fn u64_counter(&self, _: InstrumentBuilder<'_, Counter<u64>>) -> Counter<u64> {
            self.0.fetch_add(1, Ordering::Relaxed);
            opentelemetry::metrics::noop::NoopMeterProvider::new()
                .meter("noop")
                .u64_counter("noop")
                .build()
        }
        fn f64_counter(&self, _: InstrumentBuilder<'_, Counter<f64>>) -> Counter<f64> {
            self.0.fetch_add(1, Ordering::Relaxed);
            opentelemetry::metrics::noop::NoopMeterProvider::new()
                .meter("noop")
                .f64_counter("noop")
                .build()
        }
        fn f64_histogram(&self, _: HistogramBuilder<'_, Histogram<f64>>) -> Histogram<f64> {
            self.0.fetch_add(1, Ordering::Relaxed);
            opentelemetry::metrics::noop::NoopMeterProvider::new()
                .meter("noop")
                .f64_histogram("noop")
                .build()
        }
    }
    struct Provider(Arc<AtomicUsize>);
    impl MeterProvider for Provider {
        fn meter_with_scope(&self, scope: opentelemetry::InstrumentationScope) -> Meter {
            assert_eq!(scope.name(), "user-apis");
            Meter::new(Arc::new(Counting(self.0.clone())))
        }
    }

    let made = Arc::new(AtomicUsize::new(0));
    let server = server(None, user_response()).await;
    let client = clients::zendesk_client(
        ClientConfig::new()
            .base_url(server.uri())
            .meter_provider(&Provider(made.clone())),
    );
    let per_client = made.load(Ordering::Relaxed);
    assert_eq!(per_client, 5, "a histogram and four counters");
    for _ in 0..3 {
        show_user(&client).await.expect("200");
        show_user(&client.with_retry(RetryPolicy::disabled()))
            .await
            .expect("200");
    }
    assert_eq!(
        made.load(Ordering::Relaxed),
        per_client,
        "none made per call"
    );
}
