//! What the mock crates of `zendesk-api`, `cerego-api` and `sendauth-api` share.
//!
//! Each mock crate (`zendesk-api-mock`, `cerego-api-mock`, `sendauth-api-mock`) adds one
//! typed method per operation to [`httpmock::MockServer`] (`server.show_user(|when, then| …)`).
//! This crate adds what a single static answer cannot express: a [`Script`] of answers given
//! in turn (429 with `Retry-After`, then the answer; 503, then the answer; a job seen queued,
//! working, then completed), through the [`Scenarios`] trait that every `MockServer` gets.
//!
//! Use it through a mock crate, whose `prelude` re-exports what is here.
#![warn(missing_docs)]

use std::sync::Mutex;

pub mod pages;

pub use httpmock;
pub use httpmock::{HttpMockRequest, HttpMockResponse, Mock, MockServer, Then, When};

/// An operation's typed request matcher (`operations::ShowUserWhen` …), as the mock crates
/// generate them: it wraps an [`httpmock::When`] already set to the operation's method and
/// path.
pub trait TypedWhen: Sized {
    /// The operation's matcher on top of `when`: its method and path template.
    fn from_when(when: When) -> Self;
    /// The `httpmock` matcher, for conditions the typed methods do not cover.
    fn into_when(self) -> When;
}

/// An operation's typed response builder (`operations::ShowUserThen` …), as the mock crates
/// generate them: its methods (`ok`, `not_found`, `too_many_requests` …) set the status and
/// the typed body; these add headers to any of them.
///
/// `then.too_many_requests(&body).retry_after(30).rate_limit(700, 0, 30)` answers 429 the way
/// Zendesk does (each mock crate's README has it in a complete test).
pub trait TypedThen: Sized {
    /// The operation's response builder on top of `then`.
    fn from_then(then: Then) -> Self;
    /// The `httpmock` response builder, for what the typed methods do not cover.
    fn into_then(self) -> Then;

    /// Adds a response header.
    fn header(self, name: &str, value: &str) -> Self {
        Self::from_then(self.into_then().header(name, value))
    }

    /// `Retry-After: <seconds>`, as Zendesk sends with a 429 or a 503.
    fn retry_after(self, seconds: u64) -> Self {
        self.header("retry-after", &seconds.to_string())
    }

    /// The rate-limit headers of a response: `ratelimit-limit`, `ratelimit-remaining` and
    /// `ratelimit-reset` (seconds until the window resets), and `X-Rate-Limit` /
    /// `X-Rate-Limit-Remaining` with the same numbers.
    fn rate_limit(self, limit: u64, remaining: u64, reset_secs: u64) -> Self {
        self.header("ratelimit-limit", &limit.to_string())
            .header("ratelimit-remaining", &remaining.to_string())
            .header("ratelimit-reset", &reset_secs.to_string())
            .header("x-rate-limit", &limit.to_string())
            .header("x-rate-limit-remaining", &remaining.to_string())
    }
}

/// What a typed `when` matcher of a whole-number parameter takes: what the client's setter
/// of that parameter takes (`when.per_page(2)` as `client.list_users().per_page(2)`), any
/// integer or `NonZero` value, or an `Option` of the parameter's type (`None` matches a
/// request without the parameter). `X` is the parameter's Rust type.
pub trait QueryValue<X> {
    /// The value as the query string carries it, or `None` for "not sent".
    fn query_value(self) -> Option<String>;
}

macro_rules! query_values {
    ($target:ty: $($source:ty),*) => {
        $(impl QueryValue<$target> for $source {
            fn query_value(self) -> Option<String> {
                Some(self.to_string())
            }
        })*
        impl QueryValue<$target> for Option<$target> {
            fn query_value(self) -> Option<String> {
                self.map(|value| value.to_string())
            }
        }
    };
}

query_values!(std::num::NonZeroU32: u8, u16, u32, u64, usize, i8, i16, i32, i64, isize,
    std::num::NonZeroU32, std::num::NonZeroU64);
query_values!(std::num::NonZeroU64: u8, u16, u32, u64, usize, i8, i16, i32, i64, isize,
    std::num::NonZeroU32, std::num::NonZeroU64);
query_values!(i64: u8, u16, u32, u64, usize, i8, i16, i32, i64, isize,
    std::num::NonZeroU32, std::num::NonZeroU64);
query_values!(u64: u8, u16, u32, u64, usize, i8, i16, i32, i64, isize,
    std::num::NonZeroU32, std::num::NonZeroU64);
query_values!(u32: u8, u16, u32, u64, usize, i8, i16, i32, i64, isize,
    std::num::NonZeroU32, std::num::NonZeroU64);
query_values!(i32: u8, u16, u32, u64, usize, i8, i16, i32, i64, isize,
    std::num::NonZeroU32, std::num::NonZeroU64);

/// One scripted response: a status, headers and a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    /// `status` with `body` serialized as JSON (`content-type: application/json`).
    ///
    /// A body that cannot be serialized (a map with non-string keys) becomes JSON `null`;
    /// the generated types always serialize.
    pub fn json<T: serde::Serialize + ?Sized>(status: u16, body: &T) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(body).unwrap_or_else(|_| b"null".to_vec()),
        }
    }

    /// `status` with an empty body.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// `status` with a plain-text body, as proxies and rate limiters often answer.
    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// 429 Too Many Requests with `Retry-After: <seconds>` and a plain-text body.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self::text(429, "Too Many Requests").header("retry-after", &retry_after_secs.to_string())
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    fn response(&self) -> HttpMockResponse {
        HttpMockResponse::builder()
            .status(self.status)
            .headers(self.headers.clone())
            .body(self.body.clone())
            .build()
    }
}

/// Replies given in turn to the requests a mock matches: the first request gets the first
/// reply, and so on; once the script is used up, every further request gets its last reply.
#[derive(Clone, Debug)]
pub struct Script {
    replies: Vec<Reply>,
}

impl Script {
    /// A script of `replies`, in order. An empty script answers 500 with a text body saying so.
    pub fn new(replies: impl IntoIterator<Item = Reply>) -> Self {
        let mut replies: Vec<Reply> = replies.into_iter().collect();
        if replies.is_empty() {
            replies.push(Reply::text(500, "api-mock: empty script"));
        }
        Self { replies }
    }

    /// Sets `then` to answer with this script.
    pub fn respond(self, then: Then) -> Then {
        let next = Mutex::new(0usize);
        let replies = self.replies;
        then.respond_with(move |_req: &HttpMockRequest| {
            // A poisoned lock only means another request panicked mid-count: keep counting.
            let mut next = next.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let index = (*next).min(replies.len() - 1);
            *next += 1;
            replies[index].response()
        })
    }
}

/// Resilience scenarios on any [`MockServer`], for any operation's typed matcher.
///
/// Each takes the operation's matcher as a closure (`|when: ShowUserWhen| when.user_id(42)`)
/// and returns the [`Mock`], whose `calls()` says how many requests it answered.
pub trait Scenarios {
    /// Answers the requests `matching` selects with `replies`, in turn (see [`Script`]).
    fn script<W: TypedWhen>(
        &self,
        matching: impl FnOnce(W) -> W,
        replies: impl IntoIterator<Item = Reply>,
    ) -> Mock<'_>;

    /// Answers the first `times` matching requests with 429 and `Retry-After:
    /// retry_after_secs`, then every later one with `answer`.
    fn rate_limited_then<W: TypedWhen>(
        &self,
        times: usize,
        retry_after_secs: u64,
        matching: impl FnOnce(W) -> W,
        answer: Reply,
    ) -> Mock<'_> {
        let mut replies = vec![Reply::rate_limited(retry_after_secs); times];
        replies.push(answer);
        self.script(matching, replies)
    }

    /// Answers the first `times` matching requests with `status` (a 5xx such as 502, 503 or
    /// 504, with a plain-text body), then every later one with `answer`.
    fn server_error_then<W: TypedWhen>(
        &self,
        times: usize,
        status: u16,
        matching: impl FnOnce(W) -> W,
        answer: Reply,
    ) -> Mock<'_> {
        let mut replies = vec![Reply::text(status, "Service Unavailable"); times];
        replies.push(answer);
        self.script(matching, replies)
    }
}

impl Scenarios for MockServer {
    fn script<W: TypedWhen>(
        &self,
        matching: impl FnOnce(W) -> W,
        replies: impl IntoIterator<Item = Reply>,
    ) -> Mock<'_> {
        let script = Script::new(replies);
        self.mock(|when, then| {
            matching(W::from_when(when));
            script.respond(then);
        })
    }
}

/// A client for `server`, as each mock crate's `client()` makes it: `with_config` (the client
/// crate's `Client::with_config`) with `credentials`, the server's base URL, and the default
/// retry policy with a 1 ms first backoff, so a scripted 5xx does not wait out the production
/// backoff (a `Retry-After` is still honoured).
///
/// # Panics
///
/// When `credentials` or the configuration is refused: the mock crates pass fixed valid
/// credentials, and a loopback server's URL is a valid base URL.
pub fn client<C>(
    server: &MockServer,
    credentials: Result<api_runtime::Credentials, api_runtime::ConfigError>,
    with_config: impl FnOnce(
        api_runtime::Credentials,
        api_runtime::ClientConfig,
    ) -> Result<C, api_runtime::ConfigError>,
) -> C {
    let credentials =
        credentials.unwrap_or_else(|e| unreachable!("the mock credentials are valid: {e}"));
    let config = api_runtime::ClientConfig::new()
        .base_url(server.base_url())
        .retry(
            api_runtime::RetryPolicy::default()
                .with_initial_backoff(std::time::Duration::from_millis(1))
                .with_max_backoff(std::time::Duration::from_millis(10)),
        );
    with_config(credentials, config)
        .unwrap_or_else(|e| unreachable!("a loopback mock server is a valid base URL: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_keeps_status_headers_and_body() {
        let reply = Reply::rate_limited(7);
        assert_eq!(reply.status(), 429);
        let response = reply.response();
        assert_eq!(response.status, Some(429));
        let headers = response.headers.unwrap_or_default();
        assert!(headers.contains(&("retry-after".to_string(), "7".to_string())));
        let json = Reply::json(200, &serde_json::json!({"a": 1}));
        assert_eq!(json.body, br#"{"a":1}"#);
    }
}
