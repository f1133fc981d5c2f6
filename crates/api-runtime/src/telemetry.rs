//! Traces and metrics of every call, by OpenTelemetry's semantic conventions for HTTP clients.
//!
//! ```text
//! zendesk.show_user                       one span per call (INFO, `user_apis.call`)
//! ├ GET /api/v2/users/{user_id}           one CLIENT span per attempt (INFO, `user_apis.attempt`)
//! └ GET /api/v2/users/{user_id}           resend_count = 1
//! ```
//!
//! Spans go through `tracing`: without a subscriber, or with one whose filter leaves these
//! spans out, a call pays one check of a cached level per span and builds nothing. The
//! OpenTelemetry names (`otel.name`, `otel.kind`, `otel.status_code`) and attribute names
//! are the field names, so `tracing-opentelemetry` exports them as the conventions say
//! without configuration; numbers are recorded as `i64` (not `u64`, which it would turn
//! into strings) and durations as `f64` seconds.
//!
//! Metrics (cargo feature `metrics`) go through the OpenTelemetry metrics API into the
//! meter provider given to [`ClientConfig::meter_provider`](crate::ClientConfig), or else
//! the global one when the client is built: a no-op until the application installs one.
//! The instruments are made once per client and shared by its clones.
//!
//! No credential ever reaches a span or a metric: headers and bodies are never recorded,
//! `url.full` leaves out the URL's user info and shows the value of every query parameter
//! whose name looks like a secret as `REDACTED` ([`is_secret_query_name`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use tracing::Span;
use tracing::field::{Empty, Field, Value};

use crate::error::{ApiError, ErrorKind};
use crate::time::Clock;

/// What replaces a secret query value in `url.full` (the conventions' own word).
const REDACTED: &str = "REDACTED";

/// Name fragments (ASCII, lower case) that make a query parameter's value a secret in
/// `url.full`: `access_token`, `api_key`, `client_secret`, `password`, an OAuth `code`,
/// `signature`… Matched anywhere in the name, case-insensitively, after percent-decoding.
const SECRET_NAME_PARTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "key",
    "code",
    "auth",
    "signature",
    "credential",
    "session",
];

/// Whole names (lower case) that are secrets although short: AWS's and Azure's `sig`.
const SECRET_NAMES: &[&str] = &["sig"];

/// Whether a query parameter's value is shown as `REDACTED` in `url.full`: its name, once
/// percent-decoded and lower-cased, contains `token`, `secret`, `password`, `passwd`, `pwd`,
/// `key`, `code`, `auth`, `signature`, `credential` or `session`, or is `sig`.
pub(crate) fn is_secret_query_name(raw: &str) -> bool {
    let name = percent_decoded_lowercase(raw);
    SECRET_NAMES.contains(&name.as_str())
        || SECRET_NAME_PARTS.iter().any(|part| name.contains(part))
}

/// `raw` with `%XX` escapes and `+` decoded, ASCII lower-cased (bytes that do not decode to
/// UTF-8 become U+FFFD: a name matches on its readable part).
fn percent_decoded_lowercase(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).to_ascii_lowercase()
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// `url.full`: scheme, host, port (when the URL names one), path and query, without the
/// user info and the fragment; secret query values replaced by `REDACTED`. Written only
/// when a subscriber records the span.
struct FullUrl<'a>(&'a Url);

impl fmt::Display for FullUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        f.write_str(url.scheme())?;
        f.write_str("://")?;
        f.write_str(url.host_str().unwrap_or_default())?;
        if let Some(port) = url.port() {
            write!(f, ":{port}")?;
        }
        f.write_str(url.path())?;
        let Some(query) = url.query() else {
            return Ok(());
        };
        f.write_str("?")?;
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                f.write_str("&")?;
            }
            match pair.split_once('=') {
                Some((name, _)) if is_secret_query_name(name) => {
                    write!(f, "{name}={REDACTED}")?;
                }
                _ => f.write_str(pair)?,
            }
        }
        Ok(())
    }
}

/// `{service}.{operation}`, the call span's name, written only when a subscriber records it.
struct CallName {
    service: &'static str,
    operation: &'static str,
}

impl fmt::Display for CallName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.service, self.operation)
    }
}

/// `{method} {url.template}` (or `{method}` alone without a template), the attempt span's
/// name, written only when a subscriber records it.
struct AttemptName {
    method: &'static str,
    template: &'static str,
}

impl fmt::Display for AttemptName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.template.is_empty() {
            f.write_str(self.method)
        } else {
            write!(f, "{} {}", self.method, self.template)
        }
    }
}

/// `http.request.method`: the method's name, or `_OTHER` for a method outside HTTP's own
/// (the conventions' rule, which keeps the attribute's cardinality bounded).
pub(crate) fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "_OTHER",
    }
}

/// Every status code's three digits, for `error.type` without an allocation.
static STATUS_DIGITS: [[u8; 3]; 900] = {
    let mut table = [[0u8; 3]; 900];
    let mut i = 0;
    while i < 900 {
        let n = i + 100;
        table[i] = [
            b'0' + (n / 100) as u8,
            b'0' + (n / 10 % 10) as u8,
            b'0' + (n % 10) as u8,
        ];
        i += 1;
    }
    table
};

/// A status code as the string `error.type` carries (`"404"`).
pub(crate) fn status_str(status: StatusCode) -> &'static str {
    let digits = usize::from(status.as_u16())
        .checked_sub(100)
        .and_then(|i| STATUS_DIGITS.get(i));
    digits
        .and_then(|d| std::str::from_utf8(d).ok())
        .unwrap_or("_OTHER")
}

/// `error.type` of an attempt that failed without a usable response.
pub(crate) fn transport_error_type(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_redirect() {
        "redirect"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else {
        "transport"
    }
}

/// `user_apis.outcome` (and `error.type` when no status says more) of a failed call.
pub(crate) fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest => "invalid_request",
        ErrorKind::Connect => "connect",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Transport => "transport",
        ErrorKind::Status => "status",
        ErrorKind::BodyTooLarge => "body_too_large",
        ErrorKind::Body => "body",
        ErrorKind::Decode => "decode",
        ErrorKind::Pagination => "pagination",
        ErrorKind::Job => "job",
        ErrorKind::RateLimited => "rate_limited",
        ErrorKind::Auth => "auth",
        ErrorKind::Other => "_OTHER",
    }
}

/// `error.type` of a failed call: the status code when the server answered with an error
/// status, else the kind of failure.
fn call_error_type(error: &ApiError) -> &'static str {
    match (error.kind(), error.status()) {
        (ErrorKind::Status, Some(status)) => status_str(status),
        (kind, _) => kind_name(kind),
    }
}

/// A client's telemetry: whether it emits any, its service's name and, with the `metrics`
/// feature, its instruments. Shared by the client's clones.
pub(crate) struct Telemetry {
    /// `false`: no span, no metric, no clock read for them (`ClientConfig::telemetry`).
    on: bool,
    service: &'static str,
    #[cfg(feature = "metrics")]
    metrics: Option<metrics::Instruments>,
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Telemetry");
        s.field("on", &self.on);
        #[cfg(feature = "metrics")]
        s.field("metrics", &self.metrics.is_some());
        s.finish()
    }
}

/// What a client's telemetry is built from (by `ClientConfig::build`).
pub(crate) struct TelemetryParts<'a> {
    pub(crate) on: bool,
    pub(crate) service: &'static str,
    /// The base URL, whose host and port the metrics carry.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) base_url: &'a str,
    /// The meter the config names; `None`: the global meter provider's.
    #[cfg(feature = "metrics")]
    pub(crate) meter: Option<opentelemetry::metrics::Meter>,
}

impl Telemetry {
    pub(crate) fn new(parts: TelemetryParts<'_>) -> Self {
        Self {
            on: parts.on,
            service: parts.service,
            #[cfg(feature = "metrics")]
            metrics: parts
                .on
                .then(|| metrics::Instruments::new(parts.meter, parts.base_url)),
        }
    }

    /// Telemetry that emits nothing (for unit tests).
    #[cfg(test)]
    pub(crate) fn off(service: &'static str) -> Self {
        Self::new(TelemetryParts {
            on: false,
            service,
            base_url: "",
            #[cfg(feature = "metrics")]
            meter: None,
        })
    }

    /// Opens a call's span (when a subscriber wants it) and its record.
    #[inline]
    pub(crate) fn call(&self, operation: &'static str) -> CallRecord {
        if !self.on {
            return CallRecord::off(operation);
        }
        let span = tracing::info_span!(
            "user_apis.call",
            otel.name = %CallName { service: self.service, operation },
            user_apis.service = self.service,
            user_apis.operation = operation,
            user_apis.attempts = Empty,
            user_apis.rate_limit.wait = Empty,
            user_apis.retry.wait = Empty,
            user_apis.outcome = Empty,
            error.type = Empty,
            otel.status_code = Empty,
        );
        let measuring = !span.is_disabled() || self.records_metrics();
        CallRecord {
            span,
            measuring,
            operation,
            attempts: 0,
            rate_limit_wait: Duration::ZERO,
            retry_wait: Duration::ZERO,
            last_error: None,
        }
    }

    #[inline]
    fn records_metrics(&self) -> bool {
        #[cfg(feature = "metrics")]
        return self.metrics.is_some();
        #[cfg(not(feature = "metrics"))]
        false
    }

    /// Opens an attempt's CLIENT span, a child of the current span (the call's), and starts
    /// timing it for `http.client.request.duration`.
    pub(crate) fn attempt(
        &self,
        call_span: &Span,
        call: &mut CallRecord,
        request: &reqwest::Request,
        attempt: u32,
        method: &'static str,
        template: &'static str,
    ) -> AttemptRecord {
        call.attempts = attempt;
        if !self.on {
            return AttemptRecord::off();
        }
        let url = request.url();
        let resend_count = (attempt > 1).then(|| i64::from(attempt - 1));
        macro_rules! attempt_span {
            ($($parent:tt)*) => {
                tracing::info_span!(
                    $($parent)*
                    "user_apis.attempt",
                    otel.name = %AttemptName { method, template },
                    otel.kind = "client",
                    http.request.method = method,
                    server.address = url.host_str().unwrap_or_default(),
                    server.port = url.port_or_known_default().map(i64::from),
                    url.full = %FullUrl(url),
                    url.template = (!template.is_empty()).then_some(template),
                    http.request.resend_count = resend_count,
                    http.response.status_code = Empty,
                    error.type = Empty,
                    otel.status_code = Empty,
                )
            };
        }
        // The call's span is not entered while the call runs (only its attempts' spans
        // are, for each poll): the parent is named. Without a call span, the attempt's
        // parent is whatever span the caller is in.
        let span = if call_span.is_disabled() {
            attempt_span!()
        } else {
            attempt_span!(parent: call_span,)
        };
        AttemptRecord {
            span,
            #[cfg(feature = "metrics")]
            started: self.metrics.is_some().then(std::time::Instant::now),
            method,
            template,
        }
    }

    /// Ends an attempt: its status and `error.type` on the span, its duration in the
    /// histogram, a 429 counted. `status`: the response's, when one arrived; `error_type`:
    /// why the attempt failed, `None` for a success.
    pub(crate) fn attempt_ended(
        &self,
        call: &mut CallRecord,
        attempt: &AttemptRecord,
        status: Option<StatusCode>,
        error_type: Option<&'static str>,
    ) {
        call.last_error = error_type;
        if !self.on {
            return;
        }
        if let (Some(fields), Some(metadata)) =
            (AttemptFields::of(&attempt.span), attempt.span.metadata())
        {
            let set = metadata.fields();
            let status = status.map(|s| i64::from(s.as_u16()));
            let status = status.as_ref().map(|s| s as &dyn Value);
            match error_type {
                None => attempt
                    .span
                    .record_all(&set.value_set(&[(&fields.response_status_code, status)])),
                Some(error_type) => attempt.span.record_all(&set.value_set(&[
                    (&fields.response_status_code, status),
                    (&fields.error_type, Some(&error_type as &dyn Value)),
                    (&fields.status_code, Some(&"ERROR" as &dyn Value)),
                ])),
            };
        }
        #[cfg(feature = "metrics")]
        if let (Some(metrics), Some(started)) = (&self.metrics, attempt.started) {
            metrics.attempt(
                self.service,
                call.operation,
                attempt.method,
                attempt.template,
                started.elapsed(),
                status,
                error_type,
            );
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (attempt.method, attempt.template);
    }

    /// Counts a retry: after `wait`, another attempt.
    pub(crate) fn retrying(&self, call: &mut CallRecord, wait: Duration) {
        call.retry_wait = call.retry_wait.saturating_add(wait);
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.retry(self.service, call.operation, call.last_error);
        }
    }

    /// Runs `acquire`, the rate limiter's wait (the runtime calls it only when the limiter
    /// could not let the request go at once), and counts it as a wait when its first poll was
    /// pending: the time it took on `clock` goes to the call's `user_apis.rate_limit.wait` and
    /// to the rate-limit metrics.
    pub(crate) async fn paced<F: Future>(
        &self,
        call: &mut CallRecord,
        clock: &Clock,
        acquire: F,
    ) -> F::Output {
        if !call.measuring {
            return acquire.await;
        }
        // Before the first poll: a manual clock moves while the limiter sleeps on it.
        let from = clock.now();
        let mut acquire = std::pin::pin!(acquire);
        let mut waited = false;
        let output = std::future::poll_fn(|cx| {
            let poll = acquire.as_mut().poll(cx);
            waited |= poll.is_pending();
            poll
        })
        .await;
        if waited {
            let wait = clock.now().saturating_duration_since(from);
            call.rate_limit_wait = call.rate_limit_wait.saturating_add(wait);
            #[cfg(feature = "metrics")]
            if let Some(metrics) = &self.metrics {
                metrics.paced(self.service, call.operation, wait);
            }
        }
        output
    }

    /// Closes a call: attempts, waits and outcome on its span, in one record.
    pub(crate) fn call_ended<T>(
        &self,
        span: &Span,
        call: CallRecord,
        result: &Result<T, ApiError>,
    ) {
        let Some(fields) = CallFields::of(span) else {
            return;
        };
        let attempts = i64::from(call.attempts);
        let rate_limit_wait = call.rate_limit_wait.as_secs_f64();
        let retry_wait = call.retry_wait.as_secs_f64();
        let Some(metadata) = span.metadata() else {
            return;
        };
        let set = metadata.fields();
        fn value(v: &dyn Value) -> Option<&dyn Value> {
            Some(v)
        }
        match result {
            Ok(_) => span.record_all(&set.value_set(&[
                (&fields.attempts, value(&attempts)),
                (&fields.rate_limit_wait, value(&rate_limit_wait)),
                (&fields.retry_wait, value(&retry_wait)),
                (&fields.outcome, value(&"success")),
            ])),
            Err(error) => span.record_all(&set.value_set(&[
                (&fields.attempts, value(&attempts)),
                (&fields.rate_limit_wait, value(&rate_limit_wait)),
                (&fields.retry_wait, value(&retry_wait)),
                (&fields.outcome, value(&kind_name(error.kind()))),
                (&fields.error_type, value(&call_error_type(error))),
                (&fields.status_code, value(&"ERROR")),
            ])),
        };
    }
}

/// The call span's fields recorded when it ends, looked up by name once (every call span
/// comes from one callsite), not on every call.
struct CallFields {
    attempts: Field,
    rate_limit_wait: Field,
    retry_wait: Field,
    outcome: Field,
    error_type: Field,
    status_code: Field,
}

impl CallFields {
    /// The fields of `span`, a call span; `None` when it is disabled.
    fn of(span: &Span) -> Option<&'static CallFields> {
        static FIELDS: OnceLock<Option<CallFields>> = OnceLock::new();
        let metadata = span.metadata()?;
        let fields = FIELDS.get_or_init(|| {
            let set = metadata.fields();
            Some(CallFields {
                attempts: set.field("user_apis.attempts")?,
                rate_limit_wait: set.field("user_apis.rate_limit.wait")?,
                retry_wait: set.field("user_apis.retry.wait")?,
                outcome: set.field("user_apis.outcome")?,
                error_type: set.field("error.type")?,
                status_code: set.field("otel.status_code")?,
            })
        });
        fields
            .as_ref()
            .filter(|f| f.attempts.callsite() == metadata.callsite())
    }
}

/// The attempt span's fields recorded when it ends, looked up once.
struct AttemptFields {
    response_status_code: Field,
    error_type: Field,
    status_code: Field,
}

impl AttemptFields {
    /// The fields of `span`, an attempt span; `None` when it is disabled. Attempt spans come
    /// from two callsites (with and without a named parent): one lookup for each.
    fn of(span: &Span) -> Option<&'static AttemptFields> {
        static FIELDS: [OnceLock<Option<AttemptFields>>; 2] = [OnceLock::new(), OnceLock::new()];
        let metadata = span.metadata()?;
        let lookup = || {
            let set = metadata.fields();
            Some(AttemptFields {
                response_status_code: set.field("http.response.status_code")?,
                error_type: set.field("error.type")?,
                status_code: set.field("otel.status_code")?,
            })
        };
        let fits = |fields: &&AttemptFields| fields.error_type.callsite() == metadata.callsite();
        FIELDS.iter().find_map(|slot| match slot.get() {
            Some(fields) => fields.as_ref().filter(fits),
            None => slot.get_or_init(lookup).as_ref().filter(fits),
        })
    }
}

pin_project_lite::pin_project! {
    /// A future polled inside a span it borrows: the span is entered for each poll, as
    /// `tracing::Instrument` does, but the call and its attempts keep their spans (no clone
    /// of a span per call) and no span is entered again to drop the finished future.
    pub(crate) struct InSpan<'a, F> {
        span: &'a Span,
        #[pin]
        future: F,
    }
}

impl<'a, F> InSpan<'a, F> {
    /// `future`, polled inside `span`.
    pub(crate) fn new(span: &'a Span, future: F) -> Self {
        Self { span, future }
    }
}

impl<F: Future> Future for InSpan<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        this.future.poll(cx)
    }
}

/// One call's span and what its attributes and metrics need.
#[derive(Debug)]
pub(crate) struct CallRecord {
    span: Span,
    /// A span or a metric wants the waits: read the clock for them.
    measuring: bool,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    operation: &'static str,
    /// Attempts started.
    attempts: u32,
    rate_limit_wait: Duration,
    retry_wait: Duration,
    /// `error.type` of the last attempt, for the retry counter.
    last_error: Option<&'static str>,
}

impl CallRecord {
    fn off(operation: &'static str) -> Self {
        Self {
            span: Span::none(),
            measuring: false,
            operation,
            attempts: 0,
            rate_limit_wait: Duration::ZERO,
            retry_wait: Duration::ZERO,
            last_error: None,
        }
    }

    /// The call's span, taken out of the record: the call runs in it while the record goes
    /// with the call.
    pub(crate) fn take_span(&mut self) -> Span {
        std::mem::replace(&mut self.span, Span::none())
    }
}

/// One attempt's span and the start of its timing.
#[derive(Debug)]
pub(crate) struct AttemptRecord {
    span: Span,
    #[cfg(feature = "metrics")]
    started: Option<std::time::Instant>,
    method: &'static str,
    template: &'static str,
}

impl AttemptRecord {
    fn off() -> Self {
        Self {
            span: Span::none(),
            #[cfg(feature = "metrics")]
            started: None,
            method: "",
            template: "",
        }
    }

    /// The attempt's span, to instrument the attempt with.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }
}

#[cfg(feature = "metrics")]
mod metrics {
    //! The instruments, made once per client.

    use std::sync::Arc;
    use std::time::Duration;

    use opentelemetry::metrics::{Counter, Histogram, Meter};
    use opentelemetry::{InstrumentationScope, KeyValue, StringValue};
    use reqwest::StatusCode;

    /// The instrumentation scope of every meter the runtime asks for.
    pub(crate) fn scope() -> InstrumentationScope {
        InstrumentationScope::builder("user-apis")
            .with_version(env!("CARGO_PKG_VERSION"))
            .with_schema_url("https://opentelemetry.io/schemas/1.26.0")
            .build()
    }

    /// `http.client.request.duration`'s buckets, as the conventions advise (seconds).
    const DURATION_BUCKETS: [f64; 14] = [
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ];

    pub(crate) struct Instruments {
        duration: Histogram<f64>,
        retries: Counter<u64>,
        rate_limit_waits: Counter<u64>,
        rate_limit_wait_time: Counter<f64>,
        too_many_requests: Counter<u64>,
        server_address: StringValue,
        server_port: i64,
    }

    impl Instruments {
        pub(crate) fn new(meter: Option<Meter>, base_url: &str) -> Self {
            let meter = meter.unwrap_or_else(|| opentelemetry::global::meter_with_scope(scope()));
            let url = reqwest::Url::parse(base_url).ok();
            let host: Arc<str> = url
                .as_ref()
                .and_then(|u| u.host_str())
                .unwrap_or_default()
                .into();
            let port = url.as_ref().and_then(reqwest::Url::port_or_known_default);
            Self {
                duration: meter
                    .f64_histogram("http.client.request.duration")
                    .with_unit("s")
                    .with_description("Duration of HTTP client requests.")
                    .with_boundaries(DURATION_BUCKETS.to_vec())
                    .build(),
                retries: meter
                    .u64_counter("user_apis.retries")
                    .with_unit("{retry}")
                    .with_description(
                        "Attempts sent again after a failed one, by the retry policy.",
                    )
                    .build(),
                rate_limit_waits: meter
                    .u64_counter("user_apis.rate_limit.waits")
                    .with_unit("{wait}")
                    .with_description("Times a call waited for the client's rate limiter.")
                    .build(),
                rate_limit_wait_time: meter
                    .f64_counter("user_apis.rate_limit.wait_time")
                    .with_unit("s")
                    .with_description("Time calls spent waiting for the client's rate limiter.")
                    .build(),
                too_many_requests: meter
                    .u64_counter("user_apis.rate_limit.exceeded")
                    .with_unit("{response}")
                    .with_description("Responses with status 429 Too Many Requests.")
                    .build(),
                server_address: StringValue::from(host),
                server_port: port.map_or(0, i64::from),
            }
        }

        #[allow(clippy::too_many_arguments)]
        pub(crate) fn attempt(
            &self,
            service: &'static str,
            operation: &'static str,
            method: &'static str,
            template: &'static str,
            elapsed: Duration,
            status: Option<StatusCode>,
            error_type: Option<&'static str>,
        ) {
            let base = [
                KeyValue::new("http.request.method", method),
                KeyValue::new("server.address", self.server_address.clone()),
                KeyValue::new("server.port", self.server_port),
                KeyValue::new("url.template", template),
            ];
            let code = |status: StatusCode| {
                KeyValue::new("http.response.status_code", i64::from(status.as_u16()))
            };
            let seconds = elapsed.as_secs_f64();
            let [a, b, c, d] = base;
            match (status, error_type) {
                (Some(status), None) => self.duration.record(seconds, &[a, b, c, d, code(status)]),
                (Some(status), Some(error)) => self.duration.record(
                    seconds,
                    &[a, b, c, d, code(status), KeyValue::new("error.type", error)],
                ),
                (None, Some(error)) => self
                    .duration
                    .record(seconds, &[a, b, c, d, KeyValue::new("error.type", error)]),
                (None, None) => self.duration.record(seconds, &[a, b, c, d]),
            }
            if status == Some(StatusCode::TOO_MANY_REQUESTS) {
                self.too_many_requests
                    .add(1, &call_attributes(service, operation));
            }
        }

        pub(crate) fn retry(
            &self,
            service: &'static str,
            operation: &'static str,
            error_type: Option<&'static str>,
        ) {
            let [a, b] = call_attributes(service, operation);
            self.retries.add(
                1,
                &[
                    a,
                    b,
                    KeyValue::new("error.type", error_type.unwrap_or("_OTHER")),
                ],
            );
        }

        pub(crate) fn paced(
            &self,
            service: &'static str,
            operation: &'static str,
            waited: Duration,
        ) {
            let attributes = call_attributes(service, operation);
            self.rate_limit_waits.add(1, &attributes);
            self.rate_limit_wait_time
                .add(waited.as_secs_f64(), &attributes);
        }
    }

    fn call_attributes(service: &'static str, operation: &'static str) -> [KeyValue; 2] {
        [
            KeyValue::new("user_apis.service", service),
            KeyValue::new("user_apis.operation", operation),
        ]
    }
}

#[cfg(feature = "metrics")]
pub(crate) use metrics::scope as meter_scope;

#[cfg(test)]
mod tests {
    use super::*;

    fn full(url: &str) -> String {
        FullUrl(&Url::parse(url).expect("valid")).to_string()
    }

    #[test]
    fn url_full_drops_user_info_and_redacts_secret_query_values() {
        assert_eq!(
            full("https://user:pa55@acme.zendesk.com/api/v2/users/1?x=1#frag"),
            "https://acme.zendesk.com/api/v2/users/1?x=1"
        );
        assert_eq!(
            full(
                "http://127.0.0.1:8080/p?page%5Bsize%5D=100&access_token=abc&API_KEY=k&sig=s&q=a+b"
            ),
            "http://127.0.0.1:8080/p?page%5Bsize%5D=100&access_token=REDACTED&API_KEY=REDACTED&sig=REDACTED&q=a+b"
        );
        // Percent-encoded names are matched decoded; a bare name carries no value.
        assert_eq!(
            full("https://h/p?client%5Fsecret=zz&token&assignee=1"),
            "https://h/p?client%5Fsecret=REDACTED&token&assignee=1"
        );
        assert_eq!(
            full("https://h:443/p"),
            "https://h/p",
            "the default port is implied"
        );
    }

    #[test]
    fn secret_query_names() {
        for name in [
            "token",
            "access_token",
            "Api-Key",
            "apikey",
            "client_secret",
            "password",
            "code",
            "Authorization",
            "X-Goog-Signature",
            "sig",
            "SessionId",
            "refresh%5Ftoken",
        ] {
            assert!(is_secret_query_name(name), "{name}");
        }
        for name in [
            "page[size]",
            "role",
            "external_id",
            "q",
            "assignee",
            "signal",
            "%zz",
        ] {
            assert!(!is_secret_query_name(name), "{name}");
        }
    }

    #[test]
    fn status_strings_and_names() {
        assert_eq!(status_str(StatusCode::NOT_FOUND), "404");
        assert_eq!(status_str(StatusCode::CONTINUE), "100");
        assert_eq!(status_str(StatusCode::from_u16(999).expect("valid")), "999");
        assert_eq!(method_name(&Method::PATCH), "PATCH");
        assert_eq!(
            method_name(&Method::from_bytes(b"PURGE").expect("valid")),
            "_OTHER"
        );
        assert_eq!(
            AttemptName {
                method: "GET",
                template: "/api/v2/users/{user_id}"
            }
            .to_string(),
            "GET /api/v2/users/{user_id}"
        );
        assert_eq!(
            AttemptName {
                method: "GET",
                template: ""
            }
            .to_string(),
            "GET"
        );
    }
}
