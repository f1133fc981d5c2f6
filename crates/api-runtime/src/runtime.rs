//! The runtime behind every generated call: the three hooks a generated client runs.
//!
//! ```text
//! builder.send() ── pre ──▶ exec ──▶ post ──▶ generated status match / decode
//!                   │        │        └ keeps a non-JSON error body with its status
//!                   │        └ timeouts, retries, Retry-After, body limit, tracing span
//!                   └ path guard, credentials, no api-version header
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures::StreamExt;
use progenitor_client::{Error, OperationInfo};
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH};
use reqwest::{Method, Request, Response, StatusCode};
use tracing::Instrument;

use crate::config::{RetryPolicy, Timeouts};
use crate::credentials::Credentials;
use crate::error::parse_retry_after;

/// One operation of a spec, as the generator saw it. Each client crate's generated
/// `OPERATIONS` table lists them, sorted by `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationSpec {
    /// The operationId.
    pub id: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path template, e.g. `/api/v2/users/{user_id}`.
    pub path: &'static str,
    /// Path parameters that are free strings (could be empty, `.` or `..`).
    pub string_path_params: &'static [&'static str],
}

/// The state a generated client carries for its hooks: credentials and policies.
/// Cheap to clone (shared).
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<RuntimeInner>,
}

pub(crate) struct RuntimeInner {
    pub service: &'static str,
    pub credentials: Option<Credentials>,
    pub retry: RetryPolicy,
    pub timeouts: Timeouts,
    pub max_body_bytes: u64,
    pub limiter: Option<Arc<tokio::sync::Semaphore>>,
    pub operations: &'static [OperationSpec],
    pub base_path: String,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Runtime")
            .field("service", &inner.service)
            .field("credentials", &inner.credentials)
            .field("retry", &inner.retry)
            .field("timeouts", &inner.timeouts)
            .field("max_body_bytes", &inner.max_body_bytes)
            .finish_non_exhaustive()
    }
}

/// Attached to every response the runtime hands back: which operation, after how many
/// attempts, and (for error statuses) the raw body, so that an error keeps it whatever its
/// format.
#[derive(Clone, Debug)]
pub struct ResponseContext {
    /// The operationId.
    pub operation: &'static str,
    /// Attempts made, the last included.
    pub attempts: u32,
    /// The buffered body of a non-success response.
    pub body: Option<Bytes>,
}

/// The response body was larger than the configured limit.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: the response body exceeds the limit of {limit} bytes")]
pub struct BodyTooLarge {
    /// The operation whose response was too large.
    pub operation: &'static str,
    /// The configured limit.
    pub limit: u64,
}

impl Runtime {
    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> &Timeouts {
        &self.inner.timeouts
    }

    /// The operation table this runtime guards requests with.
    pub fn operations(&self) -> &'static [OperationSpec] {
        self.inner.operations
    }

    fn operation(&self, id: &str) -> Option<&'static OperationSpec> {
        let ops = self.inner.operations;
        ops.binary_search_by(|op| op.id.cmp(id))
            .ok()
            .map(|i| &ops[i])
    }

    /// The `pre` hook: refuses unsafe path parameters, applies credentials, drops
    /// progenitor's `api-version` header (none of these services uses it).
    pub async fn pre<E>(
        &self,
        request: &mut Request,
        info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        request.headers_mut().remove("api-version");
        if let Some(op) = self.operation(info.operation_id) {
            crate::guard::check_path(op, &self.inner.base_path, request.url().path())
                .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        }
        if let Some(credentials) = &self.inner.credentials {
            request
                .headers_mut()
                .insert(AUTHORIZATION, credentials.header_value().clone());
        }
        Ok(())
    }

    /// The `exec` hook: sends the request, retrying what is safe to retry, within the
    /// per-attempt and whole-call timeouts; reads a success body in full within the body
    /// limit (so a body that fails half-way is retried like any transport failure); records
    /// a tracing span per attempt.
    pub async fn exec(
        &self,
        client: &reqwest::Client,
        request: Request,
        info: &OperationInfo,
    ) -> reqwest::Result<Response> {
        let operation = info.operation_id;
        let template = self.operation(operation).map_or("", |op| op.path);
        let started = Instant::now();
        let deadline = started + self.inner.timeouts.call;
        let policy = &self.inner.retry;
        let method = request.method().clone();
        let limit = self.inner.max_body_bytes;
        let mut attempt: u32 = 1;
        let mut pending = request;
        loop {
            // Keep the request for the next attempt when it can be cloned (every JSON body
            // can); otherwise this is the only attempt.
            let (mut this_attempt, next) = if attempt < policy.max_attempts {
                match pending.try_clone() {
                    Some(clone) => (clone, Some(pending)),
                    None => (pending, None),
                }
            } else {
                (pending, None)
            };
            // With a cap on concurrent requests, wait for a slot, within the deadline. The
            // slot is held until the response body is read (or the response is dropped).
            let permit = match &self.inner.limiter {
                None => None,
                Some(limiter) => {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    match tokio::time::timeout(remaining, limiter.clone().acquire_owned()).await {
                        Ok(permit) => permit.ok(),
                        Err(_) => return local_error(Box::new(QueueTimeout { operation })).await,
                    }
                }
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            *this_attempt.timeout_mut() = Some(self.inner.timeouts.attempt.min(remaining));
            let span = tracing::info_span!(
                "http_request",
                service = self.inner.service,
                operation,
                method = %method,
                path = template,
                attempt,
                status = tracing::field::Empty,
                duration_ms = tracing::field::Empty,
            );
            let sent = Instant::now();
            let result = async {
                let response = client.execute(this_attempt).await?;
                tracing::Span::current().record("status", response.status().as_u16());
                if response.status().is_success() {
                    buffer_success(response, operation, limit).await
                } else {
                    Ok(response)
                }
            }
            .instrument(span.clone())
            .await;
            span.record("duration_ms", sent.elapsed().as_millis() as u64);
            if let Err(error) = &result {
                span.in_scope(
                    || tracing::debug!(error = %crate::error::chain(error), "attempt failed"),
                );
            }
            let wait = match retry_decision(&method, &result) {
                Decision::Stop => None,
                Decision::Retry { server_wait } if next.is_some() => {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    match server_wait {
                        Some(wait) if wait > policy.max_retry_after || wait >= remaining => None,
                        Some(wait) => Some(wait),
                        None => Some(policy.backoff(attempt)).filter(|w| *w < remaining),
                    }
                }
                Decision::Retry { .. } => None,
            };
            match (wait, next) {
                (Some(wait), Some(next)) => {
                    // Free the connection slot before waiting.
                    drop(result);
                    drop(permit);
                    span.in_scope(|| tracing::info!(wait_ms = wait.as_millis() as u64, "retrying"));
                    tokio::time::sleep(wait).await;
                    pending = next;
                    attempt += 1;
                }
                _ => {
                    let response = result?;
                    let response = self.finish(response, operation, attempt).await;
                    drop(permit);
                    return Ok(response);
                }
            }
        }
    }

    /// The `post` hook: an error status whose body is not a JSON object (an HTML page from a
    /// proxy, a plain-text 429, broken JSON) becomes `Error::UnexpectedResponse` with the status, headers and
    /// raw body intact, instead of a decode error that would lose the status.
    pub async fn post<E>(
        &self,
        result: &reqwest::Result<Response>,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        let Ok(response) = result else {
            return Ok(());
        };
        let Some(context) = response.extensions().get::<ResponseContext>() else {
            return Ok(());
        };
        let Some(body) = &context.body else {
            return Ok(());
        };
        // Every error schema of these services is a JSON object: anything else (HTML, text,
        // `null`, a list, broken JSON) could only fail to decode and lose the status.
        let is_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
            && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
        if is_object {
            return Ok(());
        }
        Err(Error::UnexpectedResponse(rebuild(
            response,
            body.clone(),
            context.clone(),
        )))
    }

    /// Hands the final response on with its [`ResponseContext`]: a success as buffered by
    /// the attempt, anything else with its body buffered (up to the limit) so the error can
    /// keep it.
    async fn finish(
        &self,
        mut response: Response,
        operation: &'static str,
        attempts: u32,
    ) -> Response {
        let mut context = ResponseContext {
            operation,
            attempts,
            body: None,
        };
        if response.status().is_success() {
            response.extensions_mut().insert(context);
            return response;
        }
        // An error status: read what the limit allows, keep it, and hand it on.
        let status = response.status();
        let version = response.version();
        let url = response.url().clone();
        let headers = std::mem::take(response.headers_mut());
        // A read failure keeps what arrived: the status is what matters here.
        let body = read_bounded(response, self.inner.max_body_bytes)
            .await
            .bytes;
        context.body = Some(body.clone());
        assemble(
            status,
            version,
            url,
            headers,
            reqwest::Body::from(body),
            context,
        )
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The call's deadline passed while it waited for a free request slot
/// ([`ClientConfig::max_concurrent_requests`](crate::ClientConfig::max_concurrent_requests)).
/// The request was not sent.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{operation}: the call deadline passed while waiting for a free request slot; the request was not sent"
)]
pub(crate) struct QueueTimeout {
    pub(crate) operation: &'static str,
}

/// A `reqwest::Error` carrying `error` as its source, for failures the runtime detects itself
/// (the `exec` hook can only return reqwest's error type). No I/O: the error comes from
/// reading a body that fails at once.
async fn local_error(error: BoxError) -> reqwest::Result<Response> {
    let body = reqwest::Body::wrap_stream(futures::stream::once(async move {
        Err::<Bytes, BoxError>(error)
    }));
    Response::from(http::Response::new(body)).bytes().await?;
    // Not reached: the body above always fails. An empty response fails decoding anyway.
    Ok(Response::from(http::Response::new(reqwest::Body::from(
        Bytes::new(),
    ))))
}

/// Reads a success body in full. A body announced or found larger than `limit` is not
/// buffered: the response then carries a body that fails with [`BodyTooLarge`] when read,
/// and the connection is dropped. A body that fails half-way fails the attempt.
async fn buffer_success(
    mut response: Response,
    operation: &'static str,
    limit: u64,
) -> reqwest::Result<Response> {
    let too_large = BodyTooLarge { operation, limit };
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let status = response.status();
    let version = response.version();
    let url = response.url().clone();
    // Moved, not cloned: reading the body does not look at the headers again.
    let mut headers = std::mem::take(response.headers_mut());
    let body = match declared {
        Some(n) if n > limit => None,
        // A declared length within the limit bounds the body already (hyper reads exactly
        // that many bytes; with `Transfer-Encoding` the length is not what frames the body):
        // read it in one go, without copying chunks into a growing buffer.
        Some(_) if !headers.contains_key(reqwest::header::TRANSFER_ENCODING) => Some(
            response
                .bytes()
                .await
                .map_err(reqwest::Error::without_url)?,
        ),
        _ => {
            let read = read_bounded(response, limit).await;
            if let Some(error) = read.failed {
                return Err(error);
            }
            (!read.overflow).then_some(read.bytes)
        }
    };
    let body = match body {
        Some(bytes) => {
            // The body is now buffered: its length is known whatever the framing was.
            headers.remove(reqwest::header::TRANSFER_ENCODING);
            headers.insert(CONTENT_LENGTH, bytes.len().into());
            reqwest::Body::from(bytes)
        }
        None => reqwest::Body::wrap_stream(futures::stream::once(async move {
            Err::<Bytes, BoxError>(Box::new(too_large))
        })),
    };
    Ok(assemble_plain(status, version, url, headers, body))
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

fn assemble(
    status: StatusCode,
    version: http::Version,
    url: reqwest::Url,
    headers: http::HeaderMap,
    body: reqwest::Body,
    context: ResponseContext,
) -> Response {
    let mut response = assemble_plain(status, version, url, headers, body);
    response.extensions_mut().insert(context);
    response
}

fn assemble_plain(
    status: StatusCode,
    version: http::Version,
    url: reqwest::Url,
    headers: http::HeaderMap,
    body: reqwest::Body,
) -> Response {
    use reqwest::ResponseBuilderExt;
    let mut builder = http::Response::builder()
        .status(status)
        .version(version)
        .url(url);
    if let Some(h) = builder.headers_mut() {
        *h = headers;
    }
    match builder.body(body) {
        Ok(response) => Response::from(response),
        // Unreachable: every part above comes from a valid response.
        Err(_) => Response::from(http::Response::new(reqwest::Body::from(Bytes::new()))),
    }
}

/// A second response with the same status, headers, URL and (buffered) body.
fn rebuild(response: &Response, body: Bytes, context: ResponseContext) -> Response {
    assemble(
        response.status(),
        response.version(),
        response.url().clone(),
        response.headers().clone(),
        reqwest::Body::from(body),
        context,
    )
}

#[derive(Debug, PartialEq, Eq)]
enum Decision {
    Stop,
    Retry { server_wait: Option<Duration> },
}

/// Methods a server treats as idempotent: repeating them cannot duplicate a write.
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

fn retry_decision(method: &Method, result: &reqwest::Result<Response>) -> Decision {
    let idempotent = is_idempotent(method);
    match result {
        // No connection was made: the request never left, so any method may go again.
        Err(e) if e.is_connect() => Decision::Retry { server_wait: None },
        // Sent, and failed on the way (a timeout, a connection closed before or during the
        // response): only what is safe to repeat goes again.
        Err(e)
            if idempotent && (e.is_timeout() || e.is_request() || e.is_body() || e.is_decode()) =>
        {
            Decision::Retry { server_wait: None }
        }
        Err(_) => Decision::Stop,
        Ok(response) => {
            let server_wait = || {
                response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| parse_retry_after(v, SystemTime::now()))
            };
            match response.status().as_u16() {
                // The server refused before doing anything: safe for every method.
                429 => Decision::Retry {
                    server_wait: server_wait(),
                },
                503 if idempotent => Decision::Retry {
                    server_wait: server_wait(),
                },
                502 | 504 if idempotent => Decision::Retry { server_wait: None },
                _ => Decision::Stop,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, retry_after: Option<&str>) -> reqwest::Result<Response> {
        let mut builder = http::Response::builder().status(status);
        if let Some(value) = retry_after {
            builder = builder.header("retry-after", value);
        }
        Ok(Response::from(
            builder.body(reqwest::Body::from("")).unwrap(),
        ))
    }

    #[test]
    fn only_safe_requests_are_retried() {
        let get = Method::GET;
        let post = Method::POST;
        for status in [429, 502, 503, 504] {
            assert!(matches!(
                retry_decision(&get, &response(status, None)),
                Decision::Retry { .. }
            ));
        }
        for status in [200, 400, 404, 409, 500] {
            assert_eq!(
                retry_decision(&get, &response(status, None)),
                Decision::Stop
            );
        }
        assert!(matches!(
            retry_decision(&post, &response(429, None)),
            Decision::Retry { .. }
        ));
        for status in [500, 502, 503, 504] {
            assert_eq!(
                retry_decision(&post, &response(status, None)),
                Decision::Stop
            );
        }
        assert!(matches!(
            retry_decision(&Method::PUT, &response(503, None)),
            Decision::Retry { .. }
        ));
        assert!(matches!(
            retry_decision(&Method::PATCH, &response(503, None)),
            Decision::Stop
        ));
    }

    #[test]
    fn retry_after_is_read_from_429_and_503() {
        assert_eq!(
            retry_decision(&Method::GET, &response(429, Some("3"))),
            Decision::Retry {
                server_wait: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(
            retry_decision(&Method::DELETE, &response(503, Some("0"))),
            Decision::Retry {
                server_wait: Some(Duration::ZERO)
            }
        );
    }

    /// A call that cannot get a request slot before its deadline fails as a timeout, unsent.
    #[tokio::test]
    async fn waiting_for_a_slot_counts_against_the_deadline() {
        crate::tls::ensure_crypto_provider();
        let runtime = Runtime {
            inner: Arc::new(RuntimeInner {
                service: "test",
                credentials: None,
                retry: RetryPolicy::disabled(),
                timeouts: Timeouts {
                    call: Duration::from_millis(20),
                    ..Timeouts::default()
                },
                max_body_bytes: 1024,
                // No slot will ever be free.
                limiter: Some(Arc::new(tokio::sync::Semaphore::new(0))),
                operations: &[],
                base_path: String::new(),
            }),
        };
        let client = reqwest::Client::new();
        let request = client
            .get("http://127.0.0.1:9/never")
            .build()
            .expect("valid request");
        let info = OperationInfo {
            operation_id: "show_user",
        };
        let error = runtime
            .exec(&client, request, &info)
            .await
            .expect_err("no slot");
        let error = crate::ApiError::from(Error::<()>::CommunicationError(error));
        assert_eq!(error.kind(), crate::ErrorKind::Timeout, "{error}");
        assert_eq!(error.operation(), Some("show_user"));
        assert!(error.to_string().contains("request slot"), "{error}");
    }
}
