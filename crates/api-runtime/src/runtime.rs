//! The runtime behind every generated call.
//!
//! ```text
//! builder.send() ─▶ Runtime::send_json / send_empty
//!                     ├ prepare: path guard, credentials            (refused before any I/O)
//!                     ├ loop: acquire a slot ▶ one attempt ▶ decide the next wait
//!                     │        (timeouts, body limit, tracing span)  (the retry rule)
//!                     └ conclude: decode a success, or one ApiError with everything kept
//! ```
//!
//! Every failure, whether the server's answer, the network's or one the runtime detects
//! itself (an unsafe path, a deadline passed while waiting for a slot, a body over the
//! limit), becomes one [`ApiError`] in one place ([`Runtime::conclude`]) or before any I/O.

use std::fmt;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures::future::{Either, ready};
use futures::{FutureExt, StreamExt};
use progenitor_client::ResponseValue;
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, HeaderMap, HeaderValue, TRANSFER_ENCODING};
use reqwest::{Request, Response, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tracing::Span;

use crate::credentials::{Credentials, Place, Source, form_encoded};
use crate::error::{ApiError, ErrorKind, chain, status_message};
use crate::operation::OperationSpec;
use crate::pacing::{self, Acquired, Limiter};
use crate::paginate::PageLimits;
use crate::retry::{self, Failure, RetryPolicy};
use crate::telemetry::{self, CallRecord, InSpan, Telemetry};
use crate::time::Clock;
use crate::timeouts::Timeouts;
use crate::token::{Lease, TokenCache};

/// What a generated client carries besides its `reqwest::Client`: credentials, policies, the
/// request-slot limiter and the operation table. Cheap to clone. Not part of the public API:
/// users reach it through the client's constructors and `with_retry` / `with_timeouts`.
#[doc(hidden)]
#[derive(Clone)]
pub struct Runtime {
    shared: Arc<Shared>,
    policy: Arc<Policy>,
}

/// What a runtime is built from (by `ClientConfig::build`).
pub(crate) struct RuntimeParts {
    /// The service's name, for spans.
    pub(crate) service: &'static str,
    /// The service's own request-id response headers (lower case), kept on errors.
    pub(crate) request_id_headers: &'static [&'static str],
    pub(crate) credentials: Option<Credentials>,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeouts: Timeouts,
    /// The total timeout the `reqwest::Client` built with this runtime applies to each
    /// request by itself (`ClientBuilder::timeout`); `None` for a client the user gave.
    pub(crate) http_timeout: Option<Duration>,
    pub(crate) max_body_bytes: u64,
    /// The cap on requests in flight, if any.
    pub(crate) slots: Option<Arc<Semaphore>>,
    pub(crate) operations: &'static [OperationSpec],
    /// The base URL's path, which every request path starts with.
    pub(crate) base_path: String,
    pub(crate) page_limits: PageLimits,
    pub(crate) pacing: Limiter,
    pub(crate) clock: Clock,
    /// Spans and metrics (telemetry.rs).
    pub(crate) telemetry: Telemetry,
}

/// How requests are authenticated; decided once per client, so that the hot path matches
/// on an enum instead of calling through a trait object.
enum Auth {
    /// No `Authorization` header (a token endpoint, a test).
    None,
    /// A fixed value, set once per call: in `Authorization`, another header, or the query.
    Fixed(Place, HeaderValue),
    /// A managed token, leased per attempt (token.rs).
    Managed(TokenCache),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Fixed(..) => f.write_str("Fixed(<redacted>)"),
            Auth::Managed(cache) => write!(f, "Managed({cache:?})"),
        }
    }
}

/// What every clone of a client shares, per-call overrides included.
struct Shared {
    service: &'static str,
    request_id_headers: &'static [&'static str],
    auth: Auth,
    /// See [`RuntimeParts::http_timeout`].
    http_timeout: Option<Duration>,
    max_body_bytes: u64,
    slots: Option<Arc<Semaphore>>,
    operations: &'static [OperationSpec],
    base_path: String,
    page_limits: PageLimits,
    /// The rate-limit pacing every clone shares (pacing.rs).
    pacing: Arc<Limiter>,
    clock: Clock,
    /// Spans and metrics (telemetry.rs).
    telemetry: Telemetry,
}

/// What a per-call override replaces.
#[derive(Clone)]
struct Policy {
    retry: RetryPolicy,
    timeouts: Timeouts,
    /// Calls to a token endpoint: repeating one cannot duplicate a write, so every method is
    /// retried like an idempotent one, and a 500 is retried too.
    token_endpoint: bool,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("service", &self.shared.service)
            .field("auth", &self.shared.auth)
            .field("retry", &self.policy.retry)
            .field("timeouts", &self.policy.timeouts)
            .field("max_body_bytes", &self.shared.max_body_bytes)
            .finish_non_exhaustive()
    }
}

/// A response whose status is a success and whose body was read in full.
struct Success {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    attempts: u32,
    operation: &'static str,
}

/// Builds an operation's request from its builder's values: called once an attempt, so
/// that a retry sends a request built again rather than a copy every call keeps of the
/// first.
pub type BuildRequest<'a> = &'a (dyn Fn() -> reqwest::Result<Request> + Sync + 'a);

/// How one attempt ended.
enum Outcome {
    /// A success, its body read in full within the limit.
    Success {
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    },
    /// Anything else.
    Unsuccessful(Unsuccessful),
}

/// An attempt that did not succeed.
enum Unsuccessful {
    /// A success whose body is larger than the limit; the rest was not read.
    TooLarge {
        status: StatusCode,
        headers: HeaderMap,
    },
    /// Any other status; the body is read only if this is the call's last attempt.
    Status(Response),
    /// The attempt failed on the way (`status` when the headers had arrived).
    Transport {
        error: reqwest::Error,
        status: Option<StatusCode>,
    },
}

impl Outcome {
    /// The response's status and headers, when one arrived (for the rate limiter).
    fn response(&self) -> Option<(StatusCode, &HeaderMap)> {
        match self {
            Outcome::Success {
                status, headers, ..
            }
            | Outcome::Unsuccessful(Unsuccessful::TooLarge { status, headers }) => {
                Some((*status, headers))
            }
            Outcome::Unsuccessful(Unsuccessful::Status(response)) => {
                Some((response.status(), response.headers()))
            }
            Outcome::Unsuccessful(Unsuccessful::Transport { .. }) => None,
        }
    }

    /// The response's status, when one arrived, and `error.type` when the attempt failed.
    fn telemetry(&self) -> (Option<StatusCode>, Option<&'static str>) {
        match self {
            Outcome::Success { status, .. } => (Some(*status), None),
            Outcome::Unsuccessful(Unsuccessful::TooLarge { status, .. }) => {
                (Some(*status), Some("body_too_large"))
            }
            Outcome::Unsuccessful(Unsuccessful::Status(response)) => {
                let status = response.status();
                (Some(status), Some(telemetry::status_str(status)))
            }
            Outcome::Unsuccessful(Unsuccessful::Transport { error, status }) => {
                (*status, Some(telemetry::transport_error_type(error)))
            }
        }
    }

    fn failure(&self) -> Option<Failure> {
        match self {
            Outcome::Success { .. } => None,
            Outcome::Unsuccessful(unsuccessful) => Some(unsuccessful.failure()),
        }
    }
}

impl Unsuccessful {
    fn failure(&self) -> Failure {
        match self {
            Unsuccessful::TooLarge { .. } => Failure::Final,
            Unsuccessful::Status(response) => Failure::Status(response.status().as_u16()),
            Unsuccessful::Transport { error, .. } => retry::classify(error),
        }
    }
}

/// The call's facts every error from it carries.
struct Call {
    operation: &'static str,
    idempotent: bool,
    /// `None`: no deadline (`Duration::MAX`, or a deadline past what the clock can represent).
    deadline: Option<Instant>,
}

impl Call {
    fn remaining(&self, clock: &Clock) -> Duration {
        self.remaining_at(clock.now())
    }

    /// What is left of the call at `now`.
    fn remaining_at(&self, now: Instant) -> Duration {
        self.deadline
            .map_or(Duration::MAX, |d| d.saturating_duration_since(now))
    }
}

impl Runtime {
    pub(crate) fn new(parts: RuntimeParts) -> Self {
        let RuntimeParts {
            service,
            request_id_headers,
            credentials,
            retry,
            timeouts,
            http_timeout,
            max_body_bytes,
            slots,
            operations,
            base_path,
            page_limits,
            pacing,
            clock,
            telemetry,
        } = parts;
        let auth = match credentials.as_ref().map(Credentials::source) {
            None => Auth::None,
            Some(Source::Fixed { place, header, .. }) => Auth::Fixed(place.clone(), header.clone()),
            Some(Source::Provider(provider)) => {
                Auth::Managed(TokenCache::new(provider.clone(), clock.clone()))
            }
        };
        Self {
            shared: Arc::new(Shared {
                service,
                request_id_headers,
                auth,
                http_timeout,
                max_body_bytes,
                slots,
                operations,
                base_path,
                page_limits,
                pacing: Arc::new(pacing),
                clock,
                telemetry,
            }),
            policy: Arc::new(Policy {
                retry,
                timeouts,
                token_endpoint: false,
            }),
        }
    }

    /// The same runtime for a token endpoint's calls: every method retried as if idempotent
    /// (a token request creates nothing that a repeat would duplicate), 500 included. Not
    /// part of the public API.
    pub fn for_token_endpoint(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            policy: Arc::new(Policy {
                token_endpoint: true,
                ..(*self.policy).clone()
            }),
        }
    }

    /// The clock every wait of this client goes through (retries, pacing, polling).
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// The same runtime (credentials, request slots, operation table) with another retry
    /// policy.
    pub fn with_retry(&self, retry: RetryPolicy) -> Self {
        Self {
            shared: self.shared.clone(),
            policy: Arc::new(Policy {
                retry,
                ..(*self.policy).clone()
            }),
        }
    }

    /// The same runtime with other timeouts.
    pub fn with_timeouts(&self, timeouts: Timeouts) -> Self {
        Self {
            shared: self.shared.clone(),
            policy: Arc::new(Policy {
                timeouts,
                ..(*self.policy).clone()
            }),
        }
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.policy.retry
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> &Timeouts {
        &self.policy.timeouts
    }

    /// How far the client's pagination streams go.
    pub fn page_limits(&self) -> PageLimits {
        self.shared.page_limits
    }

    /// The operation table this runtime guards requests with.
    pub fn operations(&self) -> &'static [OperationSpec] {
        self.shared.operations
    }

    /// `op` as this runtime guards it: the generated code names its entry in the client's
    /// table (no lookup); an operation from elsewhere is looked up by id, and unguarded when
    /// the table does not have it.
    #[inline]
    fn operation(&self, op: &'static OperationSpec) -> Option<&'static OperationSpec> {
        let ops = self.shared.operations;
        if ops.as_ptr_range().contains(&std::ptr::from_ref(op)) {
            return Some(op);
        }
        ops.binary_search_by(|known| known.id.cmp(op.id))
            .ok()
            .map(|i| &ops[i])
    }

    /// Sends a generated request and decodes a success body as JSON into `T`.
    pub fn send_json<'a, T: serde::de::DeserializeOwned + 'a>(
        &'a self,
        http: &'a reqwest::Client,
        request: BuildRequest<'a>,
        operation: &'static OperationSpec,
    ) -> impl Future<Output = Result<ResponseValue<T>, ApiError>> + 'a {
        self.send_with(http, request, operation, Self::decode)
    }

    /// Sends a generated request whose success carries no body to rely on.
    pub fn send_empty<'a>(
        &'a self,
        http: &'a reqwest::Client,
        request: BuildRequest<'a>,
        operation: &'static OperationSpec,
    ) -> impl Future<Output = Result<ResponseValue<()>, ApiError>> + 'a {
        self.send_with(http, request, operation, |_, success| {
            Ok(ResponseValue::new((), success.status, success.headers))
        })
    }

    /// The call in its span (when a subscriber wants it), then `finish` on its success.
    ///
    /// `send_json` and `send_empty` return this future itself, and `finish` runs after the
    /// call's future: on the hot path every level of `async fn` is one more copy of the
    /// nested futures' state.
    async fn send_with<R>(
        &self,
        http: &reqwest::Client,
        request: BuildRequest<'_>,
        operation: &'static OperationSpec,
        finish: impl FnOnce(&Self, Success) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let telemetry = &self.shared.telemetry;
        let mut record = telemetry.call(operation.id);
        // The call's span is entered only where the call waits or renews (its slow paths);
        // each attempt's span names it as parent, and is entered for each poll.
        let span = record.take_span();
        let sent = self
            .call(http, request, operation, &span, &mut record)
            .await;
        let result = sent.and_then(|success| finish(self, success));
        telemetry.call_ended(&span, record, &result);
        result
    }

    /// A success body decoded as JSON into `T`, or the call's error saying where it does
    /// not match.
    #[inline(always)]
    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        success: Success,
    ) -> Result<ResponseValue<T>, ApiError> {
        // Inlined: the decoded model is written where the caller keeps it, not copied on
        // each return (a model is often a kilobyte).
        match crate::decode::success(&success.body) {
            Ok(value) => Ok(ResponseValue::new(value, success.status, success.headers)),
            Err(error) => Err(self.decode_failed(error, success)),
        }
    }

    /// The decode error of a success body, with what the call knows.
    #[cold]
    #[inline(never)]
    fn decode_failed(&self, error: ApiError, success: Success) -> ApiError {
        self.conceal_token_answer(error)
            .with_response(
                success.status,
                &success.headers,
                self.shared.request_id_headers,
            )
            .with_body(success.body)
            .with_body_concealed(self.policy.token_endpoint)
            .with_operation(success.operation)
            .with_attempts(success.attempts)
    }

    /// A token endpoint's answer carries fresh tokens the client cannot mask: its decode
    /// error names the path of the failure but quotes none of the document.
    fn conceal_token_answer(&self, error: ApiError) -> ApiError {
        if !self.policy.token_endpoint {
            return error;
        }
        let message = format!(
            "the token endpoint's answer does not match the spec at `{}` (the document is \
             not shown: it may carry tokens)",
            error.json_path().unwrap_or(".")
        );
        error.with_kind(ErrorKind::Decode, message)
    }

    /// The whole call: prepare, then attempts until one succeeds or the retry rule, the
    /// policy or the deadline says stop.
    async fn call(
        &self,
        http: &reqwest::Client,
        build: BuildRequest<'_>,
        op: &'static OperationSpec,
        span: &Span,
        record: &mut CallRecord,
    ) -> Result<Success, ApiError> {
        let operation = op.id;
        let spec = self.operation(op);
        let mut request = self.prepare(build(), operation, spec)?;
        let clock = &self.shared.clock;
        // One clock read serves the deadline, the limiter and the attempt's timeout, until
        // something waits.
        let mut now = clock.now();
        let call = Call {
            operation,
            idempotent: self.policy.token_endpoint || retry::is_idempotent(request.method()),
            deadline: now.checked_add(self.policy.timeouts.call()),
        };
        let template = spec.map_or("", |op| op.path);
        let method = spec.map_or_else(|| telemetry::method_name(request.method()), |op| op.method);
        let mut max_attempts = self.policy.retry.max_attempts();
        let managed = match &self.shared.auth {
            Auth::Managed(cache) if spec.is_none_or(|op| op.authenticated) => Some(cache),
            _ => None,
        };
        // A managed token refused with 401 is renewed and the attempt replayed, once a call.
        let mut may_replay = managed.is_some();
        let mut attempt: u32 = 1;
        loop {
            let lease = match managed {
                Some(cache) => {
                    // A token still good needs no future; a renewal is boxed (the rare path).
                    let lease = match cache.current() {
                        Some(lease) => lease,
                        None => {
                            let renewal = self.lease(cache, &call, attempt);
                            let lease = Box::pin(InSpan::new(span, renewal)).await?;
                            now = clock.now();
                            lease
                        }
                    };
                    request
                        .headers_mut()
                        .insert(AUTHORIZATION, lease.header.clone());
                    Some(lease)
                }
                None => None,
            };
            // Rate-limit pacing (pacing.rs): go now, wait for the limiter (boxed: the rare
            // path), or fail now, unsent.
            let refused =
                |refusal: pacing::Refusal| refusal.into_error(operation, call.idempotent, attempt);
            let paced = match (self.shared.pacing).try_acquire(operation, call.deadline, now) {
                Acquired::Go(ticket) => ticket,
                Acquired::Refused(refusal) => return Err(refused(refusal)),
                Acquired::Wait(pending) => {
                    let acquire = self.shared.pacing.acquire_after(pending);
                    let telemetry = &self.shared.telemetry;
                    let paced = telemetry.paced(record, clock, acquire);
                    let ticket = Box::pin(InSpan::new(span, paced)).await.map_err(refused)?;
                    now = clock.now();
                    ticket
                }
            };
            let permit = match self.free_slot() {
                Ok(permit) => permit,
                Err(slots) => {
                    let permit = Box::pin(self.wait_for_slot(slots, &call, attempt)).await?;
                    now = clock.now();
                    permit
                }
            };
            let timeout = (self.policy.timeouts.attempt()).min(call.remaining_at(now));
            let sending = (request, timeout, attempt);
            let outcome = (self.attempt(http, sending, (method, template), span, record)).await;
            paced.finish(outcome.response());
            let refused = lease.as_ref().filter(|lease| may_replay && !lease.fresh);
            if let (Some(cache), Some(refused)) = (managed, refused)
                && matches!(outcome.failure(), Some(Failure::Status(401)))
            {
                // The token was refused (expired early, revoked): renew it unless another
                // call already has, and send this attempt again with the new one.
                drop(outcome);
                drop(permit);
                may_replay = false;
                span.in_scope(|| {
                    tracing::debug!(operation, attempt, "access token refused; renewing it");
                });
                let renewal = cache.rejected(refused.generation, call.deadline);
                Box::pin(InSpan::new(span, renewal))
                    .await
                    .map_err(|e| self.auth_failure(e, &call, attempt))?;
                request = self.rebuild(build, operation, spec, attempt)?;
                now = clock.now();
                attempt += 1;
                max_attempts = max_attempts.saturating_add(1);
                continue;
            }
            let wait = match outcome.failure() {
                Some(failure) if attempt < max_attempts => {
                    self.next_wait(&call, attempt, failure, &outcome)
                }
                _ => None,
            };
            match wait {
                Some(wait) => {
                    // Free the connection and the slot before waiting.
                    drop(outcome);
                    drop(permit);
                    span.in_scope(|| {
                        tracing::info!(
                            operation,
                            attempt,
                            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                            "retrying"
                        );
                    });
                    self.shared.telemetry.retrying(record, wait);
                    Box::pin(self.shared.clock.sleep(wait)).await;
                    request = self.rebuild(build, operation, spec, attempt)?;
                    now = clock.now();
                    attempt += 1;
                }
                None => {
                    let result = match outcome {
                        Outcome::Success {
                            status,
                            headers,
                            body,
                        } => Ok(Success {
                            status,
                            headers,
                            body,
                            attempts: attempt,
                            operation: call.operation,
                        }),
                        // Reading an error body: boxed, off the success path.
                        Outcome::Unsuccessful(unsuccessful) => {
                            let failed = self.failed(unsuccessful, &call, attempt);
                            Err(Box::pin(InSpan::new(span, failed)).await)
                        }
                    };
                    drop(permit);
                    let sent = lease.as_ref().map(|lease| &lease.header);
                    return result.map_err(|error| self.mask(error, sent));
                }
            }
        }
    }

    /// The request of the attempt after `attempt`, built again from the builder's values.
    fn rebuild(
        &self,
        build: BuildRequest<'_>,
        operation: &'static str,
        spec: Option<&'static OperationSpec>,
        attempt: u32,
    ) -> Result<Request, ApiError> {
        self.prepare(build(), operation, spec)
            .map_err(|error| error.with_attempts(attempt))
    }

    /// The managed token for this attempt, renewed first when due (within the deadline).
    async fn lease(
        &self,
        cache: &TokenCache,
        call: &Call,
        attempt: u32,
    ) -> Result<Lease, ApiError> {
        cache
            .lease(call.deadline)
            .await
            .map_err(|e| self.auth_failure(e, call, attempt))
    }

    /// A token that could not be had fails the call, unsent.
    fn auth_failure(&self, error: ApiError, call: &Call, attempt: u32) -> ApiError {
        let error = if error.operation().is_some() {
            // The token endpoint's own call: say which call wanted the token.
            let message = format!(
                "no access token for {}: {}",
                call.operation,
                error.message()
            );
            let kind = error.kind();
            error.with_kind(kind, message)
        } else {
            error
        };
        error
            .for_operation(call.operation)
            .with_attempts(attempt.saturating_sub(1))
    }

    /// Masks the credentials this client sends in what the error shows.
    fn mask(&self, error: ApiError, sent: Option<&HeaderValue>) -> ApiError {
        let error = match &self.shared.auth {
            Auth::Fixed(Place::Query(_), key) => {
                // Also as the query carries it (form-encoded, as `append_pair` writes it) in a
                // URL an error shows.
                let key = key.to_str().unwrap_or_default();
                error.with_secret(key).with_secret(&form_encoded(key))
            }
            Auth::Fixed(_, header) => error.with_secret_header(header),
            _ => error,
        };
        match sent {
            Some(header) => error.with_secret_header(header),
            None => error,
        }
    }

    /// Refuses, before any I/O, a request that cannot be built or would reach another
    /// endpoint; adds the credentials.
    fn prepare(
        &self,
        request: reqwest::Result<Request>,
        operation: &'static str,
        spec: Option<&'static OperationSpec>,
    ) -> Result<Request, ApiError> {
        let invalid = |message: String| {
            ApiError::new(ErrorKind::InvalidRequest, message)
                .with_operation(operation)
                .with_attempts(0)
        };
        let mut request = request.map_err(|error| {
            invalid(format!("the request cannot be built: {}", chain(&error))).with_source(error)
        })?;
        if let Some(op) = spec {
            crate::guard::check_path(op, &self.shared.base_path, request.url().path())
                .map_err(|unsafe_path| invalid(unsafe_path.to_string()))?;
        }
        if let Auth::Fixed(place, header) = &self.shared.auth
            && spec.is_none_or(|op| op.authenticated)
        {
            match place {
                Place::Authorization => {
                    request.headers_mut().insert(AUTHORIZATION, header.clone());
                }
                Place::Header(name) => {
                    request.headers_mut().insert(name.clone(), header.clone());
                }
                Place::Query(name) => {
                    let key = header.to_str().unwrap_or_default();
                    request.url_mut().query_pairs_mut().append_pair(name, key);
                }
            }
        }
        Ok(request)
    }

    /// With a cap on concurrent requests, a free slot now (`Ok(None)`: no cap), or the
    /// semaphore to wait on. The slot is held until the response body is read.
    fn free_slot(&self) -> Result<Option<OwnedSemaphorePermit>, Arc<Semaphore>> {
        match &self.shared.slots {
            None => Ok(None),
            Some(slots) => (slots.clone().try_acquire_owned())
                .map(Some)
                .map_err(|_| slots.clone()),
        }
    }

    /// Waits for a request slot within the call's deadline.
    async fn wait_for_slot(
        &self,
        slots: Arc<Semaphore>,
        call: &Call,
        attempt: u32,
    ) -> Result<Option<OwnedSemaphorePermit>, ApiError> {
        let acquire = slots.acquire_owned();
        let remaining = call.remaining(&self.shared.clock);
        let permit = match call.deadline {
            None => acquire.await.ok(),
            // Waiting for a slot is waiting for other requests' I/O: bounded on real time.
            Some(_) => match tokio::time::timeout(remaining, acquire).await {
                Ok(permit) => permit.ok(),
                Err(_) => {
                    return Err(ApiError::new(
                        ErrorKind::Timeout,
                        "the call deadline passed while waiting for a free request slot; \
                             the request was not sent",
                    )
                    .with_operation(call.operation)
                    .with_attempts(attempt - 1)
                    .with_failure(call.idempotent, Failure::NotSent));
                }
            },
        };
        Ok(permit)
    }

    /// Sends one attempt within `timeout` (the per-attempt one, cut to what is left of the
    /// call) and reads a success body in full, so that a body cut short is retried like any
    /// interrupted attempt. One CLIENT span per attempt (telemetry.rs), without headers or
    /// bodies.
    ///
    /// Not an `async fn`: the request goes to reqwest before anything waits, and the attempt
    /// is a future that polls the exchange where it lies. (A future made by `async` keeps
    /// what it was given for its whole life, beside what it moved it into: the request and
    /// the nested futures twice, in every call's future.)
    fn attempt<'a>(
        &'a self,
        http: &reqwest::Client,
        (mut request, timeout, attempt): (Request, Duration, u32),
        (method, template): (&'static str, &'static str),
        call_span: &Span,
        record: &'a mut CallRecord,
    ) -> impl Future<Output = Outcome> + 'a {
        // The reqwest client this runtime built applies the attempt timeout itself: a request
        // names its own only when it differs (a retry near the deadline, `with_timeouts`, a
        // client the user gave), which spares each attempt an allocation.
        if self.shared.http_timeout != Some(timeout) {
            *request.timeout_mut() = Some(timeout);
        }
        let telemetry = &self.shared.telemetry;
        let traced = telemetry.attempt(call_span, record, &request, attempt, method, template);
        let exchange = exchange(http, request, self.shared.max_body_bytes);
        Attempt {
            telemetry,
            record,
            traced,
            exchange,
        }
    }

    /// The wait before the next attempt, or `None` to stop: the retry rule, then the server's
    /// `Retry-After` (429, 503) or the policy's backoff, within the policy and the deadline.
    fn next_wait(
        &self,
        call: &Call,
        attempt: u32,
        failure: Failure,
        outcome: &Outcome,
    ) -> Option<Duration> {
        let token_endpoint_error =
            self.policy.token_endpoint && matches!(failure, Failure::Status(500..=599));
        if !(retry::may_retry(call.idempotent, failure) || token_endpoint_error) {
            return None;
        }
        let policy = &self.policy.retry;
        let remaining = call.remaining(&self.shared.clock);
        let server_wait = match (failure, outcome) {
            (Failure::Status(status), Outcome::Unsuccessful(Unsuccessful::Status(response)))
                if retry::honours_retry_after(status) =>
            {
                retry::retry_after(response.headers(), self.shared.clock.system_now())
            }
            _ => None,
        };
        match server_wait {
            Some(wait) if wait > policy.max_retry_after() || wait >= remaining => None,
            Some(wait) => Some(wait),
            None => Some(policy.backoff(attempt)).filter(|wait| *wait < remaining),
        }
    }

    /// The call's error from the last attempt's failed outcome: one [`ApiError`] with the
    /// operation, the attempts, the status, the kept headers and the body as received (up
    /// to the limit).
    async fn failed(&self, unsuccessful: Unsuccessful, call: &Call, attempts: u32) -> ApiError {
        let failure = unsuccessful.failure();
        let error = match unsuccessful {
            Unsuccessful::TooLarge { status, headers } => ApiError::new(
                ErrorKind::BodyTooLarge,
                format!(
                    "the response body exceeds the limit of {} bytes",
                    self.shared.max_body_bytes
                ),
            )
            .with_response(status, &headers, self.shared.request_id_headers),
            Unsuccessful::Status(mut response) => {
                let status = response.status();
                let headers = std::mem::take(response.headers_mut());
                // A read failure keeps what arrived: the status is what matters here.
                let body = read_bounded(response, self.shared.max_body_bytes)
                    .await
                    .bytes;
                ApiError::new(ErrorKind::Status, status_message(status))
                    .with_response(status, &headers, self.shared.request_id_headers)
                    .with_body(body)
            }
            Unsuccessful::Transport { error, status } => {
                let err = ApiError::from_transport(error);
                match status {
                    Some(status) => {
                        err.with_response(status, &HeaderMap::new(), self.shared.request_id_headers)
                    }
                    None => err,
                }
            }
        };
        error
            .with_operation(call.operation)
            .with_attempts(attempts)
            .with_failure(call.idempotent, failure)
    }
}

pin_project_lite::pin_project! {
    /// One attempt in flight: the exchange, polled inside the attempt's span; when it ends,
    /// the span and the metrics get its outcome.
    struct Attempt<'a, F> {
        telemetry: &'a Telemetry,
        record: &'a mut CallRecord,
        traced: telemetry::AttemptRecord,
        #[pin]
        exchange: F,
    }
}

impl<F: Future<Output = Outcome>> Future for Attempt<'_, F> {
    type Output = Outcome;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Outcome> {
        let this = self.project();
        let outcome = {
            let _entered = this.traced.span().enter();
            match this.exchange.poll(cx) {
                Poll::Ready(outcome) => outcome,
                Poll::Pending => return Poll::Pending,
            }
        };
        if let Outcome::Unsuccessful(Unsuccessful::Transport { error, .. }) = &outcome {
            (this.traced.span())
                .in_scope(|| tracing::debug!(error = %chain(error), "attempt failed"));
        }
        let (status, error_type) = outcome.telemetry();
        (this.telemetry).attempt_ended(this.record, this.traced, status, error_type);
        Poll::Ready(outcome)
    }
}

/// Sends one attempt's request and reads a success body in full. The request is handed to
/// reqwest at once, and the body's read follows reqwest's pending response in the same
/// place (combinators, not `async`: see [`Runtime::attempt`]).
fn exchange(
    http: &reqwest::Client,
    request: Request,
    limit: u64,
) -> impl Future<Output = Outcome> + use<> {
    http.execute(request).then(move |sent| match sent {
        Ok(response) if response.status().is_success() => {
            Either::Left(read_success(response, limit))
        }
        Ok(response) => Either::Right(ready(Outcome::Unsuccessful(Unsuccessful::Status(response)))),
        Err(error) => Either::Right(ready(Outcome::Unsuccessful(Unsuccessful::Transport {
            error,
            status: None,
        }))),
    })
}

/// Reads a success body in full. A body announced or found larger than `limit` is not
/// buffered (the connection is dropped); a body that fails half-way fails the attempt.
fn read_success(mut response: Response, limit: u64) -> impl Future<Output = Outcome> {
    let status = response.status();
    // Moved, not cloned: reading the body does not look at the headers again.
    let headers = std::mem::take(response.headers_mut());
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit => {
            Either::Left(ready(Outcome::Unsuccessful(Unsuccessful::TooLarge {
                status,
                headers,
            })))
        }
        // A declared length within the limit bounds the body already (hyper reads exactly
        // that many bytes; with `Transfer-Encoding` the length is not what frames the body):
        // read it in one go, without copying chunks into a growing buffer.
        Some(_) if !headers.contains_key(TRANSFER_ENCODING) => {
            Either::Right(Either::Left(response.bytes().map(move |read| match read {
                Ok(body) => Outcome::Success {
                    status,
                    headers: unpinned(headers, &body),
                    body,
                },
                Err(error) => Outcome::Unsuccessful(Unsuccessful::Transport {
                    error: error.without_url(),
                    status: Some(status),
                }),
            })))
        }
        _ => Either::Right(Either::Right(read_bounded(response, limit).map(
            move |read| match (read.failed, read.overflow) {
                (Some(error), _) => Outcome::Unsuccessful(Unsuccessful::Transport {
                    error,
                    status: Some(status),
                }),
                (None, true) => Outcome::Unsuccessful(Unsuccessful::TooLarge { status, headers }),
                (None, false) => Outcome::Success {
                    status,
                    headers: unpinned(headers, &read.bytes),
                    body: read.bytes,
                },
            },
        ))),
    }
}

/// A body from this size on has its response's headers copied by [`unpinned`].
const UNPIN_HEADERS_FROM: usize = 64 * 1024;

/// The headers of a success whose body is `body`: as they are for a small body; for a large
/// one, with every value copied. hyper parses a response's header values as slices of the
/// connection's read buffer, which grows with the bodies it reads (to hundreds of KiB for a
/// listing page): while a value is kept, that whole buffer stays allocated, and hyper reads
/// the next response into a new one. Copied (a few hundred bytes), they let it go before the
/// page is decoded instead of after, so a listing holds one read buffer, not two, beside the
/// page it decodes.
fn unpinned(headers: HeaderMap, body: &Bytes) -> HeaderMap {
    if body.len() < UNPIN_HEADERS_FROM {
        return headers;
    }
    // `iter` gives every value with its name; collecting appends them in order.
    (headers.iter())
        .map(|(name, value)| {
            // A value hyper accepted is a valid one; kept as it is if not.
            let mut copy =
                HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
            copy.set_sensitive(value.is_sensitive());
            (name.clone(), copy)
        })
        .collect()
}

/// What [`read_bounded`] got of a body.
struct Bounded {
    /// At most `limit` bytes, in order.
    bytes: Bytes,
    /// More than `limit` bytes were sent; the rest was not read.
    overflow: bool,
    /// The read failed after `bytes` arrived.
    failed: Option<reqwest::Error>,
}

/// Reads a body, keeping at most `limit` bytes and stopping at the first byte past it or at
/// the first read failure.
async fn read_bounded(response: Response, limit: u64) -> Bounded {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut stream = response.bytes_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => {
                return Bounded {
                    bytes: Bytes::from(buf),
                    overflow: false,
                    failed: Some(error),
                };
            }
        };
        let room = limit - buf.len();
        if chunk.len() > room {
            buf.extend_from_slice(&chunk[..room]);
            return Bounded {
                bytes: Bytes::from(buf),
                overflow: true,
                failed: None,
            };
        }
        buf.extend_from_slice(&chunk);
    }
    Bounded {
        bytes: Bytes::from(buf),
        overflow: false,
        failed: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An operation the test runtime's (empty) table does not have: unguarded.
    static SHOW_USER: OperationSpec = OperationSpec {
        id: "show_user",
        method: "GET",
        path: "/api/v2/users/{user_id}",
        string_path_params: &[],
        authenticated: true,
    };

    fn runtime(slots: Option<Arc<Semaphore>>, call: Duration) -> Runtime {
        with_credentials(slots, call, None)
    }

    fn with_credentials(
        slots: Option<Arc<Semaphore>>,
        call: Duration,
        credentials: Option<Credentials>,
    ) -> Runtime {
        crate::tls::ensure_crypto_provider();
        Runtime::new(RuntimeParts {
            service: "test",
            request_id_headers: &[],
            credentials,
            retry: RetryPolicy::disabled(),
            timeouts: Timeouts::default().with_call(call),
            http_timeout: None,
            max_body_bytes: 1024,
            slots,
            operations: &[],
            base_path: String::new(),
            page_limits: PageLimits::default(),
            pacing: Limiter::off(),
            clock: Clock::real(),
            telemetry: Telemetry::off("test"),
        })
    }

    /// A call that cannot get a request slot before its deadline fails as a timeout, unsent.
    #[tokio::test(start_paused = true)]
    async fn waiting_for_a_slot_counts_against_the_deadline() {
        // No slot will ever be free.
        let runtime = runtime(Some(Arc::new(Semaphore::new(0))), Duration::from_secs(5));
        let client = reqwest::Client::new();
        let request = || client.get("http://127.0.0.1:9/never").build();
        let error = runtime
            .send_empty(&client, &request, &SHOW_USER)
            .await
            .expect_err("no slot");
        assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
        assert_eq!(error.operation(), Some("show_user"));
        assert_eq!(error.attempts(), Some(0));
        assert!(error.is_retryable(), "nothing was sent");
        assert!(error.to_string().contains("request slot"), "{error}");
    }

    /// An API key goes in its own header or query parameter, on a real loopback server, and
    /// an error that shows the URL masks it (as sent, and percent-encoded).
    #[tokio::test]
    async fn an_api_key_is_sent_where_declared_and_masked_in_errors() {
        use wiremock::matchers::{header, query_param};
        let server = wiremock::MockServer::start().await;
        let key = "s3cr3t+key/1";
        crate::tls::ensure_crypto_provider();
        wiremock::Mock::given(header("x-api-key", key))
            .respond_with(wiremock::ResponseTemplate::new(204))
            .mount(&server)
            .await;
        wiremock::Mock::given(query_param("api_key", key))
            .respond_with(
                wiremock::ResponseTemplate::new(404).set_body_string(format!(
                    "no such thing at {}/x?api_key=s3cr3t%2Bkey%2F1 ({key})",
                    server.uri()
                )),
            )
            .mount(&server)
            .await;
        let client = reqwest::Client::new();
        let url = format!("{}/x", server.uri());
        let request = || client.get(&url).build();
        let in_header = Credentials::api_key_header("X-API-Key", key).unwrap();
        with_credentials(None, Duration::from_secs(5), Some(in_header))
            .send_empty(&client, &request, &SHOW_USER)
            .await
            .expect("the key in its header");
        let in_query = Credentials::api_key_query("api_key", key).unwrap();
        let error = with_credentials(None, Duration::from_secs(5), Some(in_query))
            .send_empty(&client, &request, &SHOW_USER)
            .await
            .expect_err("the query's key matched: 404");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(404), "{error}");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    /// `Duration::MAX` as the call deadline means no deadline, not an overflow.
    #[tokio::test]
    async fn an_unbounded_deadline_does_not_overflow() {
        let runtime = runtime(None, Duration::MAX);
        let client = reqwest::Client::new();
        // Port 9 (discard) on loopback refuses connections: a connect error, not a panic.
        let request = || client.get("http://127.0.0.1:9/x").build();
        let error = runtime
            .send_empty(&client, &request, &SHOW_USER)
            .await
            .expect_err("refused");
        assert_eq!(error.kind(), ErrorKind::Connect, "{error}");
        assert_eq!(error.attempts(), Some(1));
    }

    #[test]
    fn overrides_keep_what_clones_share() {
        let base = runtime(Some(Arc::new(Semaphore::new(3))), Duration::from_secs(1));
        let other = base
            .with_retry(RetryPolicy::default().with_max_attempts(9))
            .with_timeouts(Timeouts::default().with_call(Duration::from_secs(7)));
        assert_eq!(other.retry_policy().max_attempts(), 9);
        assert_eq!(other.timeouts().call(), Duration::from_secs(7));
        assert_eq!(base.retry_policy().max_attempts(), 1);
        assert!(Arc::ptr_eq(&base.shared, &other.shared));
    }

    /// Headers whose values are slices of `buffer`, as hyper parses them out of a
    /// connection's read buffer.
    fn headers_in(buffer: &Bytes) -> HeaderMap {
        let text = std::str::from_utf8(buffer).expect("ASCII");
        let slice = |part: &str| {
            let at = text.find(part).expect("in the buffer");
            HeaderValue::from_maybe_shared(buffer.slice(at..at + part.len())).expect("a value")
        };
        let mut headers = HeaderMap::new();
        headers.insert("content-type", slice("application/json"));
        headers.append("set-cookie", slice("a=1"));
        headers.append("set-cookie", slice("b=2"));
        let mut secret = slice("s3cret");
        secret.set_sensitive(true);
        headers.insert("x-token", secret);
        headers.insert("ratelimit-remaining", slice("42"));
        headers
    }

    #[test]
    fn a_large_body_lets_the_read_buffer_go_and_keeps_every_header() {
        let buffer = Bytes::from("application/json a=1 b=2 s3cret 42".repeat(1000));
        let headers = headers_in(&buffer);
        let expected: Vec<(String, Vec<u8>, bool)> = (headers.iter())
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec(), v.is_sensitive()))
            .collect();
        assert!(!buffer.is_unique(), "the values hold the buffer");

        let owned = unpinned(headers, &Bytes::from(vec![b' '; UNPIN_HEADERS_FROM]));
        assert!(buffer.is_unique(), "no value refers to the buffer any more");
        let got: Vec<(String, Vec<u8>, bool)> = (owned.iter())
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec(), v.is_sensitive()))
            .collect();
        assert_eq!(got, expected, "names, values, their order and sensitivity");
    }

    #[test]
    fn a_small_body_keeps_its_headers_as_they_are() {
        let buffer = Bytes::from("application/json a=1 b=2 s3cret 42".repeat(10));
        let headers = headers_in(&buffer);
        let kept = unpinned(headers, &Bytes::from(vec![b' '; UNPIN_HEADERS_FROM - 1]));
        assert!(
            !buffer.is_unique(),
            "not copied: a small buffer is not worth it"
        );
        assert_eq!(kept.get_all("set-cookie").iter().count(), 2);
    }
}
