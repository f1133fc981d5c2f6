//! Errors: construction errors ([`ConfigError`]) and call errors ([`ApiError`]).
//!
//! Generated calls return `progenitor_client::Error<E>`. [`ApiError`] is what it converts
//! into (`?` does it): one type for every client that keeps the HTTP status, the headers
//! that matter, the raw body whatever its format, the operation, and a kind a caller can
//! act on. Pagination streams and helpers return it directly.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::runtime::{BodyTooLarge, QueueTimeout, ResponseContext};

/// A client could not be built from what it was given. Never carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A credential cannot be used as given.
    #[error("invalid credential: {field} {reason}")]
    InvalidCredential {
        /// Which part (`username`, `password`, `token`, `email`, …).
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The base URL cannot be used.
    #[error("invalid base URL `{url}`: {reason}")]
    InvalidBaseUrl {
        /// The URL, with any credentials in it removed.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The service has no default host and no base URL was given.
    #[error("{service}: no base URL; set one with ClientConfig::base_url")]
    MissingBaseUrl {
        /// The service.
        service: &'static str,
    },
    /// A Zendesk subdomain that is not a valid DNS host label.
    #[error("invalid subdomain `{subdomain}`: {reason}")]
    InvalidSubdomain {
        /// The subdomain as given.
        subdomain: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The HTTP client could not be built (TLS roots, for instance).
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
}

/// What kind of failure an [`ApiError`] is, for callers that branch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request was refused before any I/O: an unsafe path parameter, a missing required
    /// parameter, a value that cannot be sent.
    InvalidRequest,
    /// No connection could be made (DNS, TCP, TLS). The request was not sent.
    Connect,
    /// An attempt or the whole call ran out of time.
    Timeout,
    /// The connection failed while the request or response was under way.
    Transport,
    /// The server answered with a status that is not a success.
    Status,
    /// The response body exceeded the configured limit.
    BodyTooLarge,
    /// The response body could not be read.
    Body,
    /// The response body is not what the spec promised.
    Decode,
    /// A paginated listing misbehaved (a repeated cursor, a missing one).
    Pagination,
    /// A bulk job reported failure or did not finish in time.
    Job,
    /// Anything else.
    Other,
}

/// A failed call: what happened, to which operation, and everything the server said.
///
/// `Display` names the operation, the kind, the status and the start of the body. No secret
/// can appear in it: credentials are never part of a request's URL or of a response.
/// One pointer wide, so `Result<T, ApiError>` stays small.
pub struct ApiError(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    operation: Option<&'static str>,
    status: Option<StatusCode>,
    headers: HeaderMap,
    body: Bytes,
    attempts: Option<u32>,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Response headers kept on an error: the ones that help a caller or a support ticket.
const KEPT_HEADERS: &[&str] = &[
    "retry-after",
    "x-request-id",
    "x-zendesk-request-id",
    "x-correlation-id",
    "content-type",
    "location",
    "x-rate-limit",
    "x-rate-limit-remaining",
    "ratelimit-remaining",
    "ratelimit-reset",
];

impl ApiError {
    /// A new error of `kind` with a message; add details with the `with_*` methods.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            operation: None,
            status: None,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            attempts: None,
            message: message.into(),
            source: None,
        }))
    }

    /// Names the operation, unless one is named already.
    pub fn with_operation(mut self, operation: &'static str) -> Self {
        self.0.operation.get_or_insert(operation);
        self
    }

    /// The kind, for branching.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The operation that failed (its operationId), when known.
    pub fn operation(&self) -> Option<&'static str> {
        self.0.operation
    }

    /// The HTTP status, if the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status
    }

    /// The response headers that matter (request ids, `Retry-After`, rate limits,
    /// content type).
    pub fn headers(&self) -> &HeaderMap {
        &self.0.headers
    }

    /// The raw response body, whatever its format (empty if there was none).
    pub fn body(&self) -> &[u8] {
        &self.0.body
    }

    /// The body as text, with invalid UTF-8 replaced.
    pub fn body_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0.body)
    }

    /// Decodes the body as JSON into `T` (a service's error schema, say).
    pub fn body_json<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.0.body).ok()
    }

    /// How many attempts were made, when the runtime knows.
    pub fn attempts(&self) -> Option<u32> {
        self.0.attempts
    }

    /// The message, without operation or status.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The request id the server gave the response (`X-Request-Id`, `X-Zendesk-Request-Id`).
    pub fn request_id(&self) -> Option<&str> {
        ["x-request-id", "x-zendesk-request-id", "x-correlation-id"]
            .iter()
            .find_map(|name| self.0.headers.get(*name)?.to_str().ok())
    }

    /// How long the server asked the caller to wait (`Retry-After`, seconds or HTTP date).
    pub fn retry_after(&self) -> Option<Duration> {
        retry_after(&self.0.headers, SystemTime::now())
    }

    /// Whether trying the same call again later may succeed: connection failures,
    /// timeouts, 408, 429, 502, 503 and 504.
    pub fn is_retryable(&self) -> bool {
        match self.0.kind {
            ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Transport => true,
            ErrorKind::Status => self
                .0
                .status
                .is_some_and(|s| matches!(s.as_u16(), 408 | 429 | 502 | 503 | 504)),
            _ => false,
        }
    }

    pub(crate) fn with_response(
        mut self,
        status: StatusCode,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Self {
        self.0.status = Some(status);
        self.0.headers = kept_headers(headers);
        self.0.body = body;
        self
    }

    fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }

    fn with_context(mut self, context: Option<&ResponseContext>) -> Self {
        if let Some(context) = context {
            self.0.operation.get_or_insert(context.operation);
            self.0.attempts = Some(context.attempts);
        }
        self
    }
}

fn kept_headers(headers: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::new();
    for name in KEPT_HEADERS {
        for value in headers.get_all(*name) {
            kept.append(HeaderName::from_static(name), value.clone());
        }
    }
    kept
}

/// Parses `Retry-After` (RFC 9110 §10.2.3): delay seconds or an HTTP date, relative to `now`.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    parse_retry_after(headers.get(reqwest::header::RETRY_AFTER)?, now)
}

pub(crate) fn parse_retry_after(value: &HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // Some servers send fractions; RFC 9110 does not, but waiting them out is harmless.
    if let Ok(seconds) = text.parse::<f64>() {
        if seconds.is_finite() && seconds >= 0.0 {
            return Duration::try_from_secs_f64(seconds).ok();
        }
        return None;
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A reqwest error with its sources, one line, for messages.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn find_source<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

fn from_reqwest(error: reqwest::Error, reading_body: bool) -> ApiError {
    if let Some(too_large) = find_source::<BodyTooLarge>(&error) {
        let message = too_large.to_string();
        let operation = too_large.operation;
        return ApiError::new(ErrorKind::BodyTooLarge, message)
            .with_operation(operation)
            .with_source(error);
    }
    if let Some(queued) = find_source::<QueueTimeout>(&error) {
        let message = queued.to_string();
        let operation = queued.operation;
        return ApiError::new(ErrorKind::Timeout, message)
            .with_operation(operation)
            .with_source(error);
    }
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else if error.is_connect() {
        ErrorKind::Connect
    } else if reading_body || error.is_body() || error.is_decode() {
        ErrorKind::Body
    } else if error.is_builder() {
        ErrorKind::InvalidRequest
    } else {
        ErrorKind::Transport
    };
    let mut err = ApiError::new(kind, chain(&error));
    err.0.status = error.status();
    err.with_source(error)
}

impl<E: serde::Serialize> From<progenitor_client::Error<E>> for ApiError {
    fn from(error: progenitor_client::Error<E>) -> Self {
        use progenitor_client::Error as E;
        match error {
            E::InvalidRequest(message) => ApiError::new(ErrorKind::InvalidRequest, message),
            E::CommunicationError(e) | E::InvalidUpgrade(e) => from_reqwest(e, false),
            E::ResponseBodyError(e) => from_reqwest(e, true),
            E::ErrorResponse(value) => {
                let status = value.status();
                let headers = value.headers().clone();
                let body = serde_json::to_vec(value.as_ref()).unwrap_or_default();
                ApiError::new(ErrorKind::Status, status_message(status)).with_response(
                    status,
                    &headers,
                    Bytes::from(body),
                )
            }
            E::InvalidResponsePayload(body, e) => {
                let mut err = ApiError::new(
                    ErrorKind::Decode,
                    format!("the response body does not match the spec: {e}"),
                );
                err.0.body = body;
                err.with_source(e)
            }
            E::UnexpectedResponse(response) => {
                let context = response.extensions().get::<ResponseContext>().cloned();
                let status = response.status();
                let body = context
                    .as_ref()
                    .and_then(|c| c.body.clone())
                    .unwrap_or_default();
                ApiError::new(ErrorKind::Status, status_message(status))
                    .with_response(status, response.headers(), body)
                    .with_context(context.as_ref())
            }
            E::Custom(message) => ApiError::new(ErrorKind::Other, message),
        }
    }
}

fn status_message(status: StatusCode) -> String {
    format!(
        "HTTP {}{}",
        status.as_u16(),
        status
            .canonical_reason()
            .map(|r| format!(" {r}"))
            .unwrap_or_default()
    )
}

/// At most this many characters of a body appear in `Display`.
const BODY_EXCERPT_CHARS: usize = 300;

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.operation {
            Some(op) => write!(f, "{op} failed: {}", self.0.message)?,
            None => write!(f, "call failed: {}", self.0.message)?,
        }
        if let Some(attempts) = self.0.attempts.filter(|a| *a > 1) {
            write!(f, " (after {attempts} attempts)")?;
        }
        if let Some(id) = self.request_id() {
            write!(f, " [request id {id}]")?;
        }
        if !self.0.body.is_empty() {
            let text = self.body_text();
            let excerpt: String = text.chars().take(BODY_EXCERPT_CHARS).collect();
            let more = if text.chars().count() > BODY_EXCERPT_CHARS {
                "…"
            } else {
                ""
            };
            write!(f, ": {}{more}", excerpt.trim())?;
        }
        Ok(())
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("kind", &self.0.kind)
            .field("operation", &self.0.operation)
            .field("status", &self.0.status)
            .field("attempts", &self.0.attempts)
            .field("message", &self.0.message)
            .field("headers", &self.0.headers)
            .field("body", &self.body_text())
            .finish()
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let v = |s: &str| HeaderValue::from_str(s).unwrap();
        assert_eq!(
            parse_retry_after(&v("7"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(parse_retry_after(&v(" 0 "), now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after(&v("1.5"), now),
            Some(Duration::from_millis(1500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&v(&later), now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&v(&earlier), now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(&v("soon"), now), None);
        assert_eq!(parse_retry_after(&v("-3"), now), None);
    }

    #[test]
    fn display_names_operation_status_and_body() {
        let mut headers = HeaderMap::new();
        headers.insert("x-zendesk-request-id", HeaderValue::from_static("abc123"));
        headers.insert("set-cookie", HeaderValue::from_static("session=secret"));
        let err = ApiError::new(ErrorKind::Status, "HTTP 502 Bad Gateway")
            .with_response(
                StatusCode::BAD_GATEWAY,
                &headers,
                Bytes::from_static(b"<html>bad gateway</html>"),
            )
            .with_operation("list_users");
        let text = err.to_string();
        assert_eq!(
            text,
            "list_users failed: HTTP 502 Bad Gateway [request id abc123]: <html>bad gateway</html>"
        );
        assert!(err.is_retryable());
        assert!(!format!("{err:?}").contains("secret"));
    }
}
