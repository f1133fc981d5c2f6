//! Errors: construction errors ([`ConfigError`]) and call errors ([`ApiError`]).

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName};

use crate::resume::ResumePosition;
use crate::retry::{self, Failure};

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
    /// The proxy URL cannot be used: not an absolute `http` or `https` URL.
    #[error("invalid proxy URL `{url}`: not an absolute http or https URL")]
    InvalidProxy {
        /// The URL, with any credentials in it removed.
        url: String,
    },
    /// The HTTP client could not be built (TLS roots, for instance).
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
    /// The Redis URL of a shared rate-limit store cannot be used.
    #[error("invalid Redis URL `{url}`: {reason}")]
    InvalidRedisUrl {
        /// The URL, with any password in it removed.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A rate-limit budget names an operation the client does not have.
    #[error("{service} has no operation `{operation}` to give a rate-limit budget to")]
    UnknownOperation {
        /// The service.
        service: &'static str,
        /// The operationId as given.
        operation: String,
    },
}

/// What kind of failure an [`ApiError`] is, for callers that branch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request was refused before any I/O: an unsafe path parameter, a missing required
    /// parameter, a value that cannot become its parameter's type, a body that cannot be built.
    InvalidRequest,
    /// No connection could be made (DNS, TCP, TLS). The request was not sent.
    Connect,
    /// An attempt or the whole call ran out of time (waiting for a free request slot
    /// included).
    Timeout,
    /// The connection failed while the request or response was under way.
    Transport,
    /// The server answered with a status that is not a success.
    Status,
    /// The response body exceeded the configured limit.
    BodyTooLarge,
    /// The response body could not be read in full.
    Body,
    /// The response body is not what the spec promised.
    Decode,
    /// A paginated listing misbehaved (a repeated cursor, a missing one).
    Pagination,
    /// A job the service runs in the background for a call (a bulk operation) reported
    /// failure or did not finish in time.
    Job,
    /// The client's rate limiter would have held the call back longer than
    /// [`RateLimits::with_max_wait`](crate::RateLimits::with_max_wait) allows (fail fast).
    /// The request was not sent; [`ApiError::retry_after`] says when it could go.
    RateLimited,
    /// Authentication failed before the request could be sent: the token endpoint refused
    /// the client's credentials or grant (`invalid_client`, `invalid_grant`), or a token
    /// could not be stored. Not retried: a person must fix the credentials.
    Auth,
    /// Anything else.
    Other,
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid request",
            ErrorKind::Connect => "cannot connect",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Transport => "connection failed",
            ErrorKind::Status => "error status",
            ErrorKind::BodyTooLarge => "response body too large",
            ErrorKind::Body => "response body unreadable",
            ErrorKind::Decode => "unexpected response body",
            ErrorKind::Pagination => "pagination failed",
            ErrorKind::Job => "job failed",
            ErrorKind::RateLimited => "rate limited by the client",
            ErrorKind::Auth => "authentication failed",
            ErrorKind::Other => "failed",
        }
    }
}

/// A failed call: what happened, to which operation, and everything the server said.
///
/// Every call of every client fails with this one type, whether it runs through `.send()`, a
/// pagination stream or a bulk helper. An error from a call knows its
/// [operation](Self::operation), its [attempts](Self::attempts), the [status](Self::status)
/// whenever a response arrived (a success whose body does not decode included), the response
/// [headers](Self::headers) that help (request ids, `Retry-After`, rate limits, content
/// type), and the [body](Self::body) bytes exactly as received, up to the client's body limit.
///
/// `Display` is one line: operation, kind, status, request id, attempts and the start of the
/// body, with control characters escaped and every part capped in length, so that a hostile
/// server can neither forge log lines nor flood them. No secret can appear in it: credentials
/// are never part of a request's URL nor of a response.
///
/// ```
/// # use api_runtime::{ApiError, ErrorKind};
/// fn report(err: &ApiError) {
///     if err.is_not_found() {
///         println!("gone");
///     } else if let Some(wait) = err.retry_after() {
///         println!("{} asks us to wait {wait:?}", err.operation().unwrap_or("a call"));
///     } else if err.kind() == ErrorKind::Status {
///         println!("HTTP {:?}: {}", err.status(), err.body_text());
///     }
/// }
/// ```
pub struct ApiError(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    operation: Option<&'static str>,
    status: Option<StatusCode>,
    headers: HeaderMap,
    body: Bytes,
    attempts: Option<u32>,
    retryable: bool,
    /// A wait the client computed itself (its rate limiter), for `retry_after`.
    wait: Option<Duration>,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    partial: Option<Box<dyn std::any::Any + Send + Sync>>,
    /// Where the listing this error ended goes on.
    resume: Option<ResumePosition>,
    /// The service's own request-id headers (lower case), first in `request_id`'s order.
    service_headers: &'static [&'static str],
    /// Secrets the client sent (tokens, passwords, a client secret): masked wherever the
    /// error shows the server's words (`Display`, `Debug`), in case the server echoed them.
    secrets: Vec<Box<str>>,
    /// The body is not shown at all (a token endpoint's answer carries fresh tokens).
    body_concealed: bool,
}

/// Response headers kept on an error: the ones that help a caller or a support ticket
/// (besides the service's own request-id headers, which its client crate names).
const KEPT_HEADERS: &[&str] = &[
    "retry-after",
    "x-request-id",
    "x-correlation-id",
    "content-type",
    "location",
    "x-rate-limit",
    "x-rate-limit-remaining",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
];

/// Headers that carry a request id, in order of preference (after the service's own).
const REQUEST_ID_HEADERS: &[&str] = &["x-request-id", "x-correlation-id"];

impl ApiError {
    /// A new error of `kind`; the runtime and the client crates add the details.
    #[doc(hidden)]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            operation: None,
            status: None,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            attempts: None,
            retryable: false,
            wait: None,
            message: message.into(),
            source: None,
            partial: None,
            resume: None,
            service_headers: &[],
            secrets: Vec::new(),
            body_concealed: false,
        }))
    }

    /// A request refused before any I/O: a parameter or body that cannot be sent. Used by the
    /// generated code.
    #[doc(hidden)]
    pub fn invalid_request(operation: &'static str, reason: String) -> Self {
        let mut err = Self::new(ErrorKind::InvalidRequest, reason).with_operation(operation);
        err.0.attempts = Some(0);
        err
    }

    /// [`Self::invalid_request`] for `operation`, as a closure for `map_err`.
    #[doc(hidden)]
    pub fn invalid_request_in(operation: &'static str) -> impl FnOnce(String) -> Self {
        move |reason| Self::invalid_request(operation, reason)
    }

    /// Names the operation, unless one is named already.
    #[doc(hidden)]
    pub fn with_operation(mut self, operation: &'static str) -> Self {
        self.0.operation.get_or_insert(operation);
        self
    }

    /// The same error, told of the call it failed (replacing the operation of a helper's
    /// own call, such as a token request).
    pub(crate) fn for_operation(mut self, operation: &'static str) -> Self {
        self.0.operation = Some(operation);
        self
    }

    /// Attaches what a helper had done before it failed. Used by the client crates.
    #[doc(hidden)]
    pub fn with_partial(mut self, partial: impl std::any::Any + Send + Sync) -> Self {
        self.0.partial = Some(Box::new(partial));
        self
    }

    /// What a helper that makes several calls had done before it failed, if it says so: the
    /// Zendesk bulk helpers attach a `BulkInterrupted` (the jobs that completed, their
    /// per-user results, and the inputs never sent), so that a caller can retry only the
    /// rest. `None` for a single call, or for another type.
    pub fn partial<T: std::any::Any>(&self) -> Option<&T> {
        self.0.partial.as_ref()?.downcast_ref()
    }

    /// Takes the [`partial`](Self::partial) result out of the error, owned (to resubmit the
    /// inputs it hands back, say). `None` if there is none of that type.
    pub fn take_partial<T: std::any::Any>(&mut self) -> Option<T> {
        let partial = self.0.partial.take()?;
        match partial.downcast::<T>() {
            Ok(value) => Some(*value),
            Err(other) => {
                self.0.partial = Some(other);
                None
            }
        }
    }

    /// Where the paginated listing this error ended goes on, right after the last page it
    /// fully delivered: hand it to the same request's `resume_from` to go on without
    /// duplicates or gaps. `None` for a single call, for an error on the first page of a
    /// listing started from its beginning (start it again), for a position refused before any
    /// request, and for a listing that cannot go on (a cursor the server repeated).
    pub fn resume_position(&self) -> Option<&ResumePosition> {
        self.0.resume.as_ref()
    }

    /// Attaches where the listing this error ended goes on.
    pub(crate) fn with_resume_position(mut self, position: ResumePosition) -> Self {
        self.0.resume = Some(position);
        self
    }

    /// The kind, for branching.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The operation that failed (its operationId, which is also the client's method name).
    /// Every error from a call has one.
    pub fn operation(&self) -> Option<&'static str> {
        self.0.operation
    }

    /// The HTTP status, whenever a response arrived (a success whose body does not decode or
    /// is too large included).
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status
    }

    /// The response headers that matter: request ids, `Retry-After`, rate limits, content
    /// type, `Location`. Others are not kept.
    pub fn headers(&self) -> &HeaderMap {
        &self.0.headers
    }

    /// The response body exactly as received, whatever its format (empty if there was none),
    /// up to the client's body limit.
    pub fn body(&self) -> &[u8] {
        &self.0.body
    }

    /// The body as text, with invalid UTF-8 replaced.
    pub fn body_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0.body)
    }

    /// The body decoded as the service's documented error type (each operation's
    /// `OPERATIONS.md` row names it, e.g. `zendesk::types::ErrorResponse`), or `None` when
    /// it is not JSON of that shape (an HTML page from a proxy, say).
    ///
    /// ```
    /// # use api_runtime::ApiError;
    /// #[derive(serde::Deserialize)]
    /// struct ServiceError { error: String }
    ///
    /// fn describe(err: &ApiError) -> String {
    ///     match err.service_error::<ServiceError>() {
    ///         Some(body) => body.error,
    ///         None => err.to_string(),
    ///     }
    /// }
    /// ```
    pub fn service_error<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.0.body).ok()
    }

    /// How many attempts were made, the last included. Every error from a call has it.
    pub fn attempts(&self) -> Option<u32> {
        self.0.attempts
    }

    /// The message alone, without operation, status or body.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The request id the server gave the response (`X-Request-Id`, `X-Zendesk-Request-Id`,
    /// `X-Correlation-Id`), for a support ticket.
    pub fn request_id(&self) -> Option<&str> {
        (self.0.service_headers.iter())
            .chain(REQUEST_ID_HEADERS)
            .find_map(|name| self.0.headers.get(*name)?.to_str().ok())
    }

    /// How long the server asked the caller to wait (`Retry-After`, seconds or HTTP date).
    /// A value too large to represent is [`Duration::MAX`]. For a call the client's rate
    /// limiter did not send ([`ErrorKind::RateLimited`], or a [`ErrorKind::Timeout`] whose
    /// wait would have outlasted the deadline), the wait it would have needed.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0
            .wait
            .or_else(|| retry::retry_after(&self.0.headers, SystemTime::now()))
    }

    /// Whether the server said the resource does not exist (404).
    pub fn is_not_found(&self) -> bool {
        self.0.status == Some(StatusCode::NOT_FOUND)
    }

    /// Whether authentication failed: the server answered 401 Unauthorized (after the client
    /// renewed a managed token once and replayed the request), or the client could not get a
    /// token ([`ErrorKind::Auth`]).
    pub fn is_unauthorized(&self) -> bool {
        self.0.status == Some(StatusCode::UNAUTHORIZED) || self.0.kind == ErrorKind::Auth
    }

    /// Whether the call was refused for a rate limit: by the server (429), or by the client's
    /// rate limiter before sending ([`ErrorKind::RateLimited`]);
    /// [`retry_after`](Self::retry_after) says how long to wait.
    pub fn is_rate_limited(&self) -> bool {
        self.0.status == Some(StatusCode::TOO_MANY_REQUESTS)
            || self.0.kind == ErrorKind::RateLimited
    }

    /// Whether the client's retry rule allows sending this call again: the same rule the
    /// runtime applies between attempts. `true` for failures before the request was sent
    /// and for 429; for an idempotent method (`GET`, `HEAD`, `PUT`, `DELETE`) also for
    /// timeouts, connections cut short, 502, 503 and 504. The runtime stops retrying when
    /// its attempts or its deadline run out, or the server asks for a longer wait than the
    /// policy allows; such an error is still retryable later.
    pub fn is_retryable(&self) -> bool {
        self.0.retryable
    }

    /// A secret the client sent for this call (a token, a password, a client secret):
    /// `Display` and `Debug` mask it if the server's answer repeats it. `body()` still
    /// returns the bytes as received. Not part of the public API.
    #[doc(hidden)]
    pub fn with_secret(mut self, secret: &str) -> Self {
        // Too short to mask without masking ordinary words.
        if secret.len() >= 4 && !self.0.secrets.iter().any(|s| &**s == secret) {
            self.0.secrets.push(secret.into());
        }
        self
    }

    /// The secrets of an `Authorization` value: the whole value and its credentials part
    /// (after the scheme).
    pub(crate) fn with_secret_header(self, header: &reqwest::header::HeaderValue) -> Self {
        let Ok(value) = header.to_str() else {
            return self;
        };
        let this = self.with_secret(value);
        match value.split_once(' ') {
            Some((_, credentials)) => this.with_secret(credentials.trim()),
            None => this,
        }
    }

    /// Whether `Display` and `Debug` leave the body out (a token endpoint's success body
    /// carries tokens the client cannot know in advance); `body()` still returns it.
    pub(crate) fn with_body_concealed(mut self, concealed: bool) -> Self {
        self.0.body_concealed = concealed;
        self
    }

    /// The body as `Display` and `Debug` show it: secrets masked, or withheld.
    fn shown_body(&self) -> Cow<'_, str> {
        if self.0.body_concealed {
            return Cow::Borrowed("<withheld: it may carry tokens>");
        }
        match self.body_text() {
            Cow::Borrowed(text) => self.masked(text),
            Cow::Owned(text) => Cow::Owned(self.masked(&text).into_owned()),
        }
    }

    /// `text` with every secret of this call masked.
    fn masked<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.0.secrets {
            if out.contains(&**secret) {
                out = Cow::Owned(out.replace(&**secret, "<redacted>"));
            }
        }
        out
    }

    /// The same error as another kind, with another message (a client crate's helper that
    /// knows what a status means, such as a token endpoint's refusal). Not part of the
    /// public API.
    #[doc(hidden)]
    pub fn with_kind(mut self, kind: ErrorKind, message: impl Into<String>) -> Self {
        self.0.kind = kind;
        self.0.message = message.into();
        if kind == ErrorKind::Auth {
            self.0.retryable = false;
        }
        self
    }

    /// The status and kept headers of another error's response (a listing item's error takes
    /// its page's).
    pub(crate) fn with_response_of(mut self, other: &ApiError) -> Self {
        self.0.status = other.0.status;
        self.0.headers = other.0.headers.clone();
        self.0.service_headers = other.0.service_headers;
        self
    }

    /// The response's status and the headers worth keeping: the generic ones and the
    /// service's own request-id headers (`service_headers`, named by its client crate).
    pub(crate) fn with_response(
        mut self,
        status: StatusCode,
        headers: &HeaderMap,
        service_headers: &'static [&'static str],
    ) -> Self {
        self.0.status = Some(status);
        self.0.headers = kept_headers(headers, service_headers);
        self.0.service_headers = service_headers;
        self
    }

    pub(crate) fn with_body(mut self, body: Bytes) -> Self {
        self.0.body = body;
        self
    }

    pub(crate) fn with_wait(mut self, wait: Duration) -> Self {
        self.0.wait = Some(wait);
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.0.attempts = Some(attempts);
        self
    }

    /// Records whether the retry rule allows this failure again, for [`Self::is_retryable`].
    pub(crate) fn with_failure(mut self, idempotent: bool, failure: Failure) -> Self {
        self.0.retryable = retry::may_retry(idempotent, failure);
        self
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }

    /// An error for a reqwest failure of a sent (or attempted) request.
    pub(crate) fn from_transport(error: reqwest::Error) -> Self {
        let kind = if error.is_timeout() {
            ErrorKind::Timeout
        } else if error.is_connect() {
            ErrorKind::Connect
        } else if error.is_body() || error.is_decode() {
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
}

// Decode failures (decode.rs): where a body or a listing item does not match its model.
impl ApiError {
    /// For a [`ErrorKind::Decode`] error, the JSON path where the body stopped matching the
    /// model: `rows[8].company.id` (the `company` of the ninth row has no `id`), `meta` (the
    /// page's `meta` is not an object), `.` for the document as a whole (a body that is not
    /// JSON, or is cut short before anything decoded). `None` for other errors.
    ///
    /// The error's message names the path too, with the reason and the part of the
    /// document around the failure.
    ///
    /// ```
    /// # use api_runtime::{ApiError, ErrorKind};
    /// fn field_of(err: &ApiError) -> Option<&str> {
    ///     match err.kind() {
    ///         ErrorKind::Decode => err.json_path(),
    ///         _ => None,
    ///     }
    /// }
    /// ```
    pub fn json_path(&self) -> Option<&str> {
        self.decode_error()
            .map(crate::decode_error::DecodeError::path)
    }

    /// For an item of a listing that the model refuses (a [`ErrorKind::Decode`] error a
    /// pagination stream yields in place of the item, and goes on), the item's index in its
    /// page; [`body`](Self::body) is then the item's JSON exactly as received. `None` for
    /// other errors, a page that failed as a whole included.
    pub fn item_index(&self) -> Option<usize> {
        self.decode_error()?.item()
    }

    fn decode_error(&self) -> Option<&crate::decode_error::DecodeError> {
        self.0.source.as_deref()?.downcast_ref()
    }
}

fn kept_headers(headers: &HeaderMap, service_headers: &'static [&'static str]) -> HeaderMap {
    let mut kept = HeaderMap::new();
    for name in KEPT_HEADERS.iter().chain(service_headers) {
        for value in headers.get_all(*name) {
            kept.append(HeaderName::from_static(name), value.clone());
        }
    }
    kept
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

/// `HTTP 404 Not Found`.
pub(crate) fn status_message(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

/// At most this many characters of the body appear in `Display`.
const BODY_EXCERPT_CHARS: usize = 200;
/// At most this many characters of a request id appear in `Display`.
const REQUEST_ID_CHARS: usize = 64;
/// At most this many characters of the message appear in `Display`.
const MESSAGE_CHARS: usize = 500;

/// Writes `text` on one line: at most `max` characters, control characters (line breaks and
/// ANSI escapes included) escaped, `…` when cut.
fn write_one_line(out: &mut impl fmt::Write, text: &str, max: usize) -> fmt::Result {
    for (count, c) in text.trim().chars().enumerate() {
        if count == max {
            return out.write_char('…');
        }
        if c.is_control() {
            write!(out, "{}", c.escape_default())?;
        } else {
            out.write_char(c)?;
        }
    }
    Ok(())
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.0;
        f.write_str(inner.operation.unwrap_or("call"))?;
        write!(f, ": {}: ", inner.kind.describe())?;
        write_one_line(f, &self.masked(&inner.message), MESSAGE_CHARS)?;
        if let Some(id) = self.request_id() {
            f.write_str(" [request id ")?;
            write_one_line(f, &self.masked(id), REQUEST_ID_CHARS)?;
            f.write_char(']')?;
        }
        if let Some(attempts) = inner.attempts.filter(|a| *a > 1) {
            write!(f, " (after {attempts} attempts)")?;
        }
        // A decode error's message shows the document around the failure instead.
        if !inner.body.is_empty() && self.decode_error().is_none() {
            f.write_str(": ")?;
            write_one_line(f, &self.shown_body(), BODY_EXCERPT_CHARS)?;
        }
        Ok(())
    }
}

/// At most this many characters of the body appear in `Debug`.
const BODY_DEBUG_CHARS: usize = 2000;

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut body = String::new();
        write_one_line(&mut body, &self.shown_body(), BODY_DEBUG_CHARS)?;
        let headers: Vec<(&str, Cow<'_, str>)> = (self.0.headers.iter())
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes());
                (name.as_str(), Cow::Owned(self.masked(&value).into_owned()))
            })
            .collect();
        f.debug_struct("ApiError")
            .field("kind", &self.0.kind)
            .field("operation", &self.0.operation)
            .field("status", &self.0.status)
            .field("attempts", &self.0.attempts)
            .field("message", &self.masked(&self.0.message))
            .field("headers", &headers)
            .field("body_len", &self.0.body.len())
            .field("body", &body)
            .finish()
    }
}

/// Reads a position printed earlier (`list_users:page:501`); a malformed one is an
/// [`ErrorKind::InvalidRequest`] error that names what is wrong.
impl std::str::FromStr for ResumePosition {
    type Err = ApiError;

    fn from_str(text: &str) -> Result<Self, ApiError> {
        Self::parse(text).map_err(|reason| {
            let shown: String = text.chars().take(80).collect();
            let mut err = ApiError::new(
                ErrorKind::InvalidRequest,
                format!("{shown:?} is not a resume position: {reason}"),
            );
            err.0.attempts = Some(0);
            err
        })
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
    use reqwest::header::HeaderValue;

    use super::*;

    fn bad_gateway(body: &'static [u8], request_id: &str) -> ApiError {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-zendesk-request-id",
            HeaderValue::from_str(request_id).unwrap(),
        );
        headers.insert("set-cookie", HeaderValue::from_static("session=secret"));
        ApiError::new(ErrorKind::Status, "HTTP 502 Bad Gateway")
            .with_response(StatusCode::BAD_GATEWAY, &headers, &["x-zendesk-request-id"])
            .with_body(Bytes::from_static(body))
            .with_operation("list_users")
            .with_attempts(3)
            .with_failure(true, Failure::Status(502))
    }

    #[test]
    fn display_is_one_line_with_operation_status_request_id_and_body() {
        let err = bad_gateway(b"<html>bad gateway</html>", "abc123");
        assert_eq!(
            err.to_string(),
            "list_users: error status: HTTP 502 Bad Gateway [request id abc123] \
             (after 3 attempts): <html>bad gateway</html>"
        );
        assert!(err.is_retryable());
        assert!(!format!("{err:?}").contains("secret"));
        assert!(err.headers().get("set-cookie").is_none());
    }

    #[test]
    fn display_escapes_control_characters_and_caps_every_part() {
        let err = bad_gateway(
            b"line one\nINFO forged log line\r\x1b[31mred\x1b[0m",
            &"r".repeat(300_000),
        );
        let text = err.to_string();
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert!(text.contains(r"line one\nINFO forged"), "{text}");
        assert!(text.contains(r"\u{1b}[31mred"), "{text}");
        assert!(text.len() < 1000, "{} bytes", text.len());

        let long = ApiError::new(ErrorKind::Status, "HTTP 500")
            .with_body(Bytes::from(vec![b'x'; 1_000_000]))
            .with_operation("show_user");
        let text = long.to_string();
        assert!(text.ends_with('…') && text.len() < 400, "{}", text.len());
        assert!(format!("{long:?}").len() < 5000);
    }

    #[test]
    fn questions_callers_ask() {
        let not_found = ApiError::new(ErrorKind::Status, "HTTP 404 Not Found")
            .with_response(StatusCode::NOT_FOUND, &HeaderMap::new(), &[])
            .with_body(Bytes::from_static(
                br#"{"error":"RecordNotFound","extra":1}"#,
            ));
        assert!(not_found.is_not_found() && !not_found.is_rate_limited());
        assert!(!not_found.is_retryable());
        #[derive(serde::Deserialize)]
        struct Body {
            error: String,
        }
        assert_eq!(
            not_found.service_error::<Body>().unwrap().error,
            "RecordNotFound"
        );
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("30"));
        let limited = ApiError::new(ErrorKind::Status, "HTTP 429")
            .with_response(StatusCode::TOO_MANY_REQUESTS, &headers, &[])
            .with_failure(false, Failure::Status(429));
        assert!(limited.is_rate_limited() && limited.is_retryable());
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(30)));
        assert!(limited.service_error::<Body>().is_none());
    }
}
