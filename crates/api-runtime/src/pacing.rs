//! Rate-limit pacing: one limiter per client, shared by all its clones, that holds calls back
//! *before* the server answers 429.
//!
//! ```text
//! call ─▶ Limiter::acquire ─▶ (wait, or refuse) ─▶ attempt ─▶ Ticket::finish(status, headers)
//!              │ budgets: requests per minute, client-wide and per operation (even spacing)
//!              │ window:  what the server said is left (`ratelimit-remaining`,
//!              │          `X-Rate-Limit-Remaining`) until it resets (`ratelimit-reset`)
//!              └ pause:   a 429's `Retry-After` holds back every call of its scope
//! ```
//!
//! Two kinds of limit, because they know different things:
//!
//! - A **budget** (requests per minute, set by the user or by a client crate for an operation
//!   with its own limit) knows the rate but not where the server's window starts: requests
//!   are spaced evenly, `60 s / n` apart, which no window of `n` a minute refuses. Waiting
//!   calls are queued in order (each reserves its own instant).
//! - A **window** learned from the response headers knows how many requests are left and
//!   when the count resets: calls go at once while the estimate has room, and wait for the
//!   reset when it has none, so a job uses the whole budget and never meets a 429. The
//!   requests in flight are taken from what the server reported left (it may not have
//!   counted them yet), so that concurrent tasks do not all spend the same last request.
//!
//! A call of an operation that has its own budget passes both its operation's limits and the
//! client's; the headers and 429s of its responses teach its operation's window only (an
//! endpoint with its own limit reports that limit).
//!
//! Where the state lives is a store: in this process (the default, `State` behind a mutex),
//! or in Redis for every process of a fleet (feature `redis`, `redis_store.rs`), with the
//! in-process state as the fallback while Redis does not answer. The stores are an enum, not
//! a trait object: the in-process path costs what it cost before there was a choice.

#[cfg(feature = "redis")]
mod redis_store;
#[cfg(feature = "redis")]
pub use redis_store::{DEFAULT_KEY_PREFIX, DEFAULT_REDIS_TIMEOUT, RedisStore};

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use tokio::time::Instant;

use crate::error::{ApiError, ConfigError, ErrorKind};
use crate::operation::OperationSpec;
use crate::retry::{self, Failure};
use crate::time::Clock;
#[cfg(test)]
use crate::time::ManualClock;

/// The longest wait the limiter takes from a server's header (`ratelimit-reset`,
/// `Retry-After` on a 429): a value further away counts as this long, so that a garbage or
/// hostile header cannot hold a client back for ever.
pub const MAX_LEARNED_WAIT: Duration = Duration::from_secs(3600);

/// The window `X-Rate-Limit-Remaining` counts in when no `ratelimit-reset` comes with it:
/// Zendesk's limits are per minute.
const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// How often a call re-checks a window whose count is spent by requests still in flight
/// and whose reset is not known yet (their responses will say).
const RECHECK: Duration = Duration::from_millis(50);

/// How a client paces its calls to the services' rate limits.
///
/// By default a client learns from the rate-limit headers of each response
/// (`ratelimit-limit`, `ratelimit-remaining`, `ratelimit-reset`, `X-Rate-Limit`,
/// `X-Rate-Limit-Remaining`): when the server says nothing is left, calls wait for the reset
/// instead of meeting a 429, and a 429's `Retry-After` holds back every call of the client
/// until it passes. A service that sends no such headers is not paced unless given a
/// budget. Operations with a limit of their own are paced by the client crate (Zendesk's
/// incremental export: 10 requests a minute). The limiter is shared by every clone of a
/// client (`with_retry`, `with_timeouts` included).
///
/// Waits count against the call deadline: a call whose wait would outlast it fails at once
/// with [`ErrorKind::Timeout`], unsent. With [`with_max_wait`](Self::with_max_wait) (or
/// [`fail_fast`](Self::fail_fast)) a call that would wait longer fails at once with
/// [`ErrorKind::RateLimited`]; either error's [`retry_after`](ApiError::retry_after) says how
/// long the wait would have been.
///
/// ```
/// use std::time::Duration;
/// use api_runtime::{ClientConfig, RateLimits};
///
/// // A High Volume Zendesk account, and a job queue that re-schedules rather than waits.
/// let limits = RateLimits::default()
///     .with_operation_requests_per_minute("incremental_user_export", 30)
///     .fail_fast();
/// assert_eq!(limits.max_wait(), Duration::ZERO);
/// let config = ClientConfig::new().rate_limits(limits);
/// # let _ = config;
///
/// // A service without rate-limit headers that allows 120 requests a minute.
/// let limits = RateLimits::default().with_requests_per_minute(120);
/// assert_eq!(limits.requests_per_minute(), Some(120));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    server_headers: bool,
    requests_per_minute: u32,
    operations: Vec<(String, u32)>,
    service_defaults: bool,
    service: &'static [(&'static str, u32)],
    max_wait: Duration,
    #[cfg(feature = "redis")]
    redis: Option<RedisStore>,
}

impl Default for RateLimits {
    /// Learn from the server's headers, no budget of the client's own, the client crate's
    /// per-operation budgets, wait as long as the call deadline allows.
    fn default() -> Self {
        Self {
            server_headers: true,
            requests_per_minute: 0,
            operations: Vec::new(),
            service_defaults: true,
            service: &[],
            max_wait: Duration::MAX,
            #[cfg(feature = "redis")]
            redis: None,
        }
    }
}

impl RateLimits {
    /// Nothing paced: the headers are ignored and the client crate's per-operation budgets
    /// removed (budgets set afterwards with the `with_*` methods still apply). A 429 is then
    /// handled by the retry policy alone.
    pub fn disabled() -> Self {
        Self {
            server_headers: false,
            service_defaults: false,
            ..Self::default()
        }
    }

    /// Whether to learn from the response headers (on by default).
    pub fn with_server_headers(mut self, learn: bool) -> Self {
        self.server_headers = learn;
        self
    }

    /// A budget for the whole client: at most `n` requests a minute, spaced evenly
    /// (`60 s / n` apart), for a service that sends no rate-limit headers. `0` (the default)
    /// means no budget.
    pub fn with_requests_per_minute(mut self, n: u32) -> Self {
        self.requests_per_minute = n;
        self
    }

    /// A budget for one operation (its operationId, which is also the client's method name),
    /// shared by every call of it through this client, within the client's own limits: at
    /// most `n` requests a minute, spaced evenly. It replaces the client crate's budget for
    /// that operation (Zendesk's `incremental_user_export`: 10, 30 with High Volume); `0`
    /// removes it. An operationId the client does not have makes the client's constructor
    /// fail with [`ConfigError::UnknownOperation`].
    pub fn with_operation_requests_per_minute(
        mut self,
        operation: impl Into<String>,
        n: u32,
    ) -> Self {
        let operation = operation.into();
        self.operations.retain(|(op, _)| *op != operation);
        self.operations.push((operation, n));
        self
    }

    /// The longest a call waits for the limiter (default: as long as the call deadline
    /// allows). A call that would wait longer fails at once with [`ErrorKind::RateLimited`],
    /// unsent, its [`retry_after`](ApiError::retry_after) saying how long the wait would
    /// have been.
    pub fn with_max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// Never wait for the limiter: [`with_max_wait(Duration::ZERO)`](Self::with_max_wait),
    /// for a job queue that would rather re-schedule a call than hold a worker.
    pub fn fail_fast(self) -> Self {
        self.with_max_wait(Duration::ZERO)
    }

    /// Whether the client learns from the response headers.
    pub fn server_headers(&self) -> bool {
        self.server_headers
    }

    /// The client-wide budget, in requests a minute.
    pub fn requests_per_minute(&self) -> Option<u32> {
        Some(self.requests_per_minute).filter(|n| *n > 0)
    }

    /// The budget set for `operation` with
    /// [`with_operation_requests_per_minute`](Self::with_operation_requests_per_minute)
    /// (`Some(0)`: removed), or `None` when none was set here.
    pub fn operation_requests_per_minute(&self, operation: &str) -> Option<u32> {
        self.operations
            .iter()
            .find(|(op, _)| op == operation)
            .map(|(_, n)| *n)
    }

    /// The longest a call waits for the limiter.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// Keep the limiter's state in Redis, shared by every process whose clients name the
    /// same Redis and key prefix (feature `redis`): per service and account (the base URL's
    /// host and port), what the server said is left in its window and when it resets, a
    /// 429's pause, the budgets' next free instants and the requests in flight. The
    /// responses' rate-limit headers and 429s correct it, so every process converges on the
    /// server's own count. See [`RedisStore`] for what happens when Redis does not answer.
    ///
    /// ```
    /// use api_runtime::{RateLimits, RedisStore};
    ///
    /// let limits = RateLimits::default().with_redis(RedisStore::new("redis://127.0.0.1:6379")?);
    /// assert_eq!(limits.redis().map(RedisStore::key_prefix), Some("user-apis"));
    /// # Ok::<(), api_runtime::ConfigError>(())
    /// ```
    #[cfg(feature = "redis")]
    pub fn with_redis(mut self, store: RedisStore) -> Self {
        self.redis = Some(store);
        self
    }

    /// The Redis store the state lives in, if any (feature `redis`).
    #[cfg(feature = "redis")]
    pub fn redis(&self) -> Option<&RedisStore> {
        self.redis.as_ref()
    }

    /// The client crate's own per-operation budgets (applied unless replaced or
    /// [`disabled`](Self::disabled)). Not part of the public API.
    #[doc(hidden)]
    pub fn with_service_budgets(mut self, budgets: &'static [(&'static str, u32)]) -> Self {
        self.service = budgets;
        self
    }
}

/// Requests spaced evenly: each may start no sooner than `interval` after the instant the
/// previous one reserved. A request that comes later than that starts at once. Not part of
/// the public API.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct Budget {
    interval: Duration,
    next: Option<Instant>,
}

impl Budget {
    /// `n` requests a minute; `None` for 0 (no budget).
    pub fn per_minute(n: u32) -> Option<Self> {
        (n > 0).then(|| Self {
            interval: Duration::from_secs(60) / n,
            next: None,
        })
    }

    /// The time between two requests.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The earliest instant a request may start, `now` or later.
    fn earliest(&self, now: Instant) -> Instant {
        self.next.map_or(now, |next| next.max(now))
    }

    /// Records a request starting at `at`.
    fn take(&mut self, at: Instant) {
        self.next = Some(later(at, self.interval));
    }

    /// Reserves the next instant a request may start (now or later) and returns it.
    pub fn reserve(&mut self, now: Instant) -> Instant {
        let at = self.earliest(now);
        self.take(at);
        at
    }
}

/// `at + wait`, never overflowing (waits are bounded well below what an `Instant` holds).
fn later(at: Instant, wait: Duration) -> Instant {
    at.checked_add(wait)
        .or_else(|| at.checked_add(MAX_LEARNED_WAIT))
        .unwrap_or(at)
}

/// What the server said about its window in one response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Reported {
    limit: Option<u64>,
    remaining: Option<u64>,
    reset: Option<Duration>,
}

impl Reported {
    /// Reads `ratelimit-*` (IETF draft, Zendesk on many endpoints), else `X-Rate-Limit*`
    /// (Zendesk, per minute). Garbage is absent; a reset is capped at [`MAX_LEARNED_WAIT`].
    /// `now` is read only for a `ratelimit-reset` given as a date.
    fn read(headers: &HeaderMap, now: impl FnOnce() -> SystemTime) -> Self {
        // One pass over the names (a response has a few headers; a lookup by name hashes
        // it), keeping the first value of each, as `HeaderMap::get` would.
        let [
            mut limit,
            mut remaining,
            mut reset,
            mut x_limit,
            mut x_remaining,
        ] = [None; 5];
        for (name, value) in headers {
            let slot = match name.as_str() {
                "ratelimit-limit" => &mut limit,
                "ratelimit-remaining" => &mut remaining,
                "ratelimit-reset" => &mut reset,
                "x-rate-limit" => &mut x_limit,
                "x-rate-limit-remaining" => &mut x_remaining,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        let count = |value: Option<&HeaderValue>| {
            let text = value?.to_str().ok()?;
            // `700` or, in the draft's list form, `700, 700;w=60`: the first number.
            let first = text.split([',', ';']).next()?.trim();
            first
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| first.parse::<u64>().ok())?
        };
        let (limit, remaining, reset) = match count(remaining) {
            Some(remaining) => (
                count(limit),
                Some(remaining),
                reset.and_then(|v| retry::parse_retry_after(v, now())),
            ),
            None => (count(x_limit), count(x_remaining), None),
        };
        Self {
            limit,
            remaining,
            reset: reset.map(|r| r.min(MAX_LEARNED_WAIT)),
        }
    }
}

/// The server's window as far as the client knows it.
#[derive(Debug, Default)]
struct Window {
    /// Counts the windows the client has seen pass; a response to a request sent in an
    /// earlier one says nothing about the current one.
    epoch: u64,
    /// When the current window ends (the earliest any response of it implied).
    end: Option<Instant>,
    /// The fewest requests left any response of this window reported (the server's count
    /// only goes down within a window, so this is its latest state); at the start of a
    /// window, its size. `None`: unknown, no limit assumed.
    remaining: Option<u64>,
    /// The window's size, when the server said (for the next window's start).
    limit: Option<u64>,
}

impl Window {
    /// Starts the next window once the current one has ended.
    fn roll(&mut self, now: Instant) {
        if self.end.is_some_and(|end| now >= end) {
            self.epoch += 1;
            self.end = None;
            self.remaining = self.limit;
        }
    }

    /// When a request may go, if not now. The requests in flight may not be counted in
    /// `remaining` yet, so they are taken from it: what is left for new requests is
    /// `remaining - in_flight`. When that is nothing, a call waits for the window's end, or
    /// for a response that says more (the caller is woken by each one).
    fn blocked_until(&self, now: Instant, in_flight: u64) -> Option<Instant> {
        let remaining = self.remaining?;
        if remaining > in_flight {
            return None;
        }
        match self.end {
            Some(end) => Some(end),
            // A new window the requests in flight may have spent: their responses will say.
            None if in_flight > 0 => Some(later(now, RECHECK)),
            // Nothing in flight and nothing known: one request finds out.
            None => None,
        }
    }
}

/// The limits of the client, or of one operation with its own budget.
#[derive(Debug, Default)]
struct Scope {
    budget: Option<Budget>,
    window: Window,
    /// Set by a 429's `Retry-After`: no request before then.
    paused_until: Option<Instant>,
    /// Requests sent and not finished.
    in_flight: u64,
}

impl Scope {
    /// The earliest instant the window and the pause allow a request (`now` if they do).
    fn open_at(&mut self, now: Instant) -> Instant {
        self.window.roll(now);
        let window = self
            .window
            .blocked_until(now, self.in_flight)
            .unwrap_or(now);
        let pause = self.paused_until.filter(|p| *p > now).unwrap_or(now);
        window.max(pause)
    }

    /// The current window (for a request paced elsewhere, whose response teaches this state
    /// too, so that a fallback to it starts informed).
    #[cfg(feature = "redis")]
    fn epoch(&mut self, now: Instant) -> u64 {
        self.window.roll(now);
        self.window.epoch
    }

    /// Counts a request as sent; returns the window it was sent in.
    fn send(&mut self) -> u64 {
        self.in_flight += 1;
        self.window.epoch
    }

    /// Learns from the response to a request sent in window `epoch`.
    fn learn(
        &mut self,
        epoch: u64,
        status: StatusCode,
        reported: Reported,
        retry_after: Option<Duration>,
        now: Instant,
    ) {
        let window = &mut self.window;
        window.roll(now);
        if reported.limit.is_some() {
            window.limit = reported.limit;
        }
        // A 429's `Retry-After` says when to come back (its headers, if any, say what is
        // left). Without one, the retry policy's backoff alone spaces the retries.
        if let (StatusCode::TOO_MANY_REQUESTS, Some(wait)) = (status, retry_after) {
            let until = later(now, wait.min(MAX_LEARNED_WAIT));
            self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
        }
        // A response to a request sent in an earlier window says nothing of this one.
        let (Some(remaining), true) = (reported.remaining, epoch == window.epoch) else {
            return;
        };
        window.remaining = Some(window.remaining.map_or(remaining, |r| r.min(remaining)));
        let end = later(now, reported.reset.unwrap_or(DEFAULT_WINDOW));
        window.end = Some(window.end.map_or(end, |e| e.min(end)));
    }

    fn finish(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }
}

#[derive(Debug, Default)]
struct State {
    client: Scope,
    /// The operations with a budget of their own: a few at most, so a list (a lookup
    /// compares a few strings; a hash map would hash the name on every call).
    operations: Vec<(&'static str, Scope)>,
}

impl State {
    /// The client's scope and `operation`'s own, when it has one.
    fn scopes(&mut self, operation: &str) -> (&mut Scope, Option<&mut Scope>) {
        let own = (self.operations.iter_mut())
            .find(|(id, _)| *id == operation)
            .map(|(_, scope)| scope);
        (&mut self.client, own)
    }
}

/// The client-wide limiter, in the runtime's shared state. Not part of the public API.
pub(crate) struct Limiter {
    /// Anything to do at all: otherwise calls skip the lock.
    active: bool,
    learn: bool,
    max_wait: Duration,
    state: Mutex<State>,
    /// Wakes the waiting calls when a request finishes (what is left may have grown).
    finished: tokio::sync::Notify,
    /// Calls listening on `finished`: a finishing request wakes them only when there are
    /// any (a call counts itself before it looks at the state, a request after it changed
    /// it, both `SeqCst`: no wake-up is missed).
    waiting: AtomicUsize,
    clock: Clock,
    /// The state shared through Redis, when the client has a store; `state` is then the
    /// fallback while Redis does not answer.
    #[cfg(feature = "redis")]
    shared: Option<redis_store::Shared>,
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter")
            .field("active", &self.active)
            .field("learn", &self.learn)
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

/// Why a call was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The wait would outlast the call deadline.
    Deadline(Duration),
    /// The wait would be longer than [`RateLimits::with_max_wait`].
    MaxWait(Duration),
    /// The shared store does not answer and the client refuses rather than pace alone
    /// ([`RedisStore::refuse_when_unavailable`]).
    #[cfg(feature = "redis")]
    Unavailable,
}

impl Refusal {
    /// The call's error: unsent (`attempt - 1` attempts made), retryable, with the wait as
    /// its `retry_after()`.
    pub(crate) fn into_error(
        self,
        operation: &'static str,
        idempotent: bool,
        attempt: u32,
    ) -> ApiError {
        let (kind, wait, why) = match self {
            Refusal::Deadline(wait) => (ErrorKind::Timeout, wait, "the call deadline comes sooner"),
            Refusal::MaxWait(wait) => (
                ErrorKind::RateLimited,
                wait,
                "longer than the client waits for it (RateLimits::with_max_wait)",
            ),
            #[cfg(feature = "redis")]
            Refusal::Unavailable => {
                return ApiError::new(
                    ErrorKind::RateLimited,
                    "the shared rate-limit store (Redis) does not answer and the client \
                     refuses to pace alone (RedisStore::refuse_when_unavailable); the request \
                     was not sent",
                )
                .with_operation(operation)
                .with_attempts(attempt.saturating_sub(1))
                .with_failure(idempotent, Failure::NotSent);
            }
        };
        ApiError::new(
            kind,
            format!(
                "the rate limit allows the next request in {:.3} s, {why}; the request was not sent",
                wait.as_secs_f64()
            ),
        )
        .with_operation(operation)
        .with_attempts(attempt.saturating_sub(1))
        .with_failure(idempotent, Failure::NotSent)
        .with_wait(wait)
    }
}

/// What [`Limiter::try_acquire`] decided without waiting.
pub(crate) enum Acquired<'a> {
    /// Sent now.
    Go(Ticket<'a>),
    /// Refused now, unsent.
    Refused(Refusal),
    /// To wait: [`Limiter::acquire_after`] goes on from here.
    Wait(Pending),
}

/// A request that must wait for the limiter, and what was decided for it so far.
pub(crate) struct Pending {
    operation: &'static str,
    deadline: Option<Instant>,
    /// When the client's longest wait runs out.
    give_up: Option<Instant>,
    /// Its instant in the budgets, once reserved.
    reserved: Option<Instant>,
}

enum Decision {
    /// Sent: the windows (client's, operation's) it was sent in.
    Go(u64, Option<u64>),
    Wait(Instant),
    Refuse(Refusal),
}

impl Limiter {
    /// The limiter for a client of `operations`, from its [`RateLimits`], without an
    /// account (a store in Redis keys its state by the account: see [`Self::for_account`]).
    #[cfg(test)]
    pub(crate) fn new(
        service: &'static str,
        limits: &RateLimits,
        operations: &'static [OperationSpec],
        clock: Clock,
    ) -> Result<Self, ConfigError> {
        Self::for_account(service, "", limits, operations, clock)
    }

    /// The limiter for a client of `operations` calling `account` (the base URL's host and
    /// port), from its [`RateLimits`].
    #[cfg_attr(not(feature = "redis"), allow(unused_variables))]
    pub(crate) fn for_account(
        service: &'static str,
        account: &str,
        limits: &RateLimits,
        operations: &'static [OperationSpec],
        clock: Clock,
    ) -> Result<Self, ConfigError> {
        let mut budgets: Vec<(&'static str, u32)> = Vec::new();
        if limits.service_defaults {
            budgets.extend(limits.service.iter().copied());
        }
        for (name, n) in &limits.operations {
            let op = operations.iter().find(|op| op.id == name).ok_or_else(|| {
                ConfigError::UnknownOperation {
                    service,
                    operation: name.clone(),
                }
            })?;
            budgets.retain(|(id, _)| *id != op.id);
            budgets.push((op.id, *n));
        }
        let operations: Vec<(&'static str, Scope)> = budgets
            .into_iter()
            .filter_map(|(id, n)| {
                Some((
                    id,
                    Scope {
                        budget: Some(Budget::per_minute(n)?),
                        ..Scope::default()
                    },
                ))
            })
            .collect();
        let client = Scope {
            budget: Budget::per_minute(limits.requests_per_minute),
            ..Scope::default()
        };
        #[cfg(feature = "redis")]
        let shared = limits.redis.clone().map(|store| {
            redis_store::Shared::new(
                store,
                service,
                account,
                client.budget.as_ref().map(Budget::interval),
                operations.iter().filter_map(|(id, scope)| {
                    Some((*id, scope.budget.as_ref().map(Budget::interval)?))
                }),
                clock.clone(),
            )
        });
        Ok(Self {
            active: limits.server_headers || client.budget.is_some() || !operations.is_empty(),
            learn: limits.server_headers,
            max_wait: limits.max_wait,
            state: Mutex::new(State { client, operations }),
            finished: tokio::sync::Notify::new(),
            waiting: AtomicUsize::new(0),
            clock,
            #[cfg(feature = "redis")]
            shared,
        })
    }

    /// A limiter that paces nothing.
    #[cfg(test)]
    pub(crate) fn off() -> Self {
        Self::new("test", &RateLimits::disabled(), &[], Clock::real()).expect("no operation named")
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every step: a panic elsewhere leaves nothing half-done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lets `operation` send a request at `now` (the caller's clock read, on this limiter's
    /// clock) when the limits allow it without a wait (counted as sent), or refuses it now, or says it must wait: then [`acquire`](Self::acquire)
    /// with the [`Pending`] given back: [`acquire_after`](Self::acquire_after). Nothing here awaits, so the usual case costs the
    /// caller no future.
    pub(crate) fn try_acquire(
        self: &Arc<Self>,
        operation: &'static str,
        deadline: Option<Instant>,
        now: Instant,
    ) -> Acquired<'_> {
        if !self.active {
            return Acquired::Go(Ticket {
                limiter: None,
                operation,
                client: 0,
                own: None,
                #[cfg(feature = "redis")]
                lease: None,
                #[cfg(feature = "redis")]
                remote: false,
            });
        }
        let give_up = now.checked_add(self.max_wait);
        let mut pending = Pending {
            operation,
            deadline,
            give_up,
            reserved: None,
        };
        #[cfg(feature = "redis")]
        if self.shared.is_some() {
            // Redis decides: that is a round trip.
            return Acquired::Wait(pending);
        }
        match self.decide(operation, now, &mut pending.reserved, give_up, deadline) {
            Decision::Go(client, own) => Acquired::Go(self.ticket(operation, client, own)),
            Decision::Refuse(refusal) => Acquired::Refused(refusal),
            Decision::Wait(_) => Acquired::Wait(pending),
        }
    }

    /// [`try_acquire`](Self::try_acquire), then [`acquire_after`](Self::acquire_after) when
    /// it says to wait.
    #[cfg(test)]
    pub(crate) async fn acquire(
        self: &Arc<Self>,
        operation: &'static str,
        deadline: Option<Instant>,
    ) -> Result<Ticket<'_>, Refusal> {
        match self.try_acquire(operation, deadline, self.clock.now()) {
            Acquired::Go(ticket) => Ok(ticket),
            Acquired::Refused(refusal) => Err(refusal),
            Acquired::Wait(pending) => self.acquire_after(pending).await,
        }
    }

    /// Waits until the limits allow the request [`try_acquire`](Self::try_acquire) could
    /// not send at once, then counts it as sent. Refuses, changing nothing, when the wait
    /// would outlast the call's deadline or the client's longest wait.
    pub(crate) async fn acquire_after(
        self: &Arc<Self>,
        pending: Pending,
    ) -> Result<Ticket<'_>, Refusal> {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            let decided = self
                .acquire_shared(shared, pending.operation, pending.deadline)
                .await;
            if let Some(decided) = decided {
                return decided;
            }
        }
        self.acquire_here(pending).await
    }

    /// [`acquire`](Self::acquire) on the in-process state.
    async fn acquire_here(self: &Arc<Self>, pending: Pending) -> Result<Ticket<'_>, Refusal> {
        let Pending {
            operation,
            deadline,
            give_up,
            mut reserved,
        } = pending;
        let _listening = Listening::start(&self.waiting);
        let mut said = false;
        loop {
            // Listening before looking (again), so that no response in between goes
            // unnoticed.
            let finished = self.finished.notified();
            tokio::pin!(finished);
            finished.as_mut().enable();
            let now = self.clock.now();
            match self.decide(operation, now, &mut reserved, give_up, deadline) {
                Decision::Go(client, own) => return Ok(self.ticket(operation, client, own)),
                Decision::Wait(at) => {
                    if !said {
                        // Once a call, for whoever shows waits (the CLI says long ones).
                        said = true;
                        let wait = at.saturating_duration_since(now);
                        tracing::info!(
                            operation,
                            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                            "rate limit: waiting"
                        );
                    }
                    tokio::select! {
                        () = self.clock.sleep_until(at) => {}
                        () = finished => {}
                    }
                }
                Decision::Refuse(refusal) => return Err(refusal),
            }
        }
    }

    /// The ticket of a request paced here, sent in the client's window `client` (and its
    /// operation's `own`).
    fn ticket(
        self: &Arc<Self>,
        operation: &'static str,
        client: u64,
        own: Option<u64>,
    ) -> Ticket<'_> {
        Ticket {
            limiter: Some(self),
            operation,
            client,
            own,
            #[cfg(feature = "redis")]
            lease: None,
            #[cfg(feature = "redis")]
            remote: false,
        }
    }

    /// Wakes the calls waiting for a request to finish, if any.
    fn wake_waiting(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.finished.notify_waiters();
        }
    }

    /// [`acquire`](Self::acquire) through the state in Redis: `None` when Redis gives no
    /// decision and the in-process state is to decide instead.
    #[cfg(feature = "redis")]
    async fn acquire_shared(
        self: &Arc<Self>,
        shared: &redis_store::Shared,
        operation: &'static str,
        deadline: Option<Instant>,
    ) -> Option<Result<Ticket<'_>, Refusal>> {
        use redis_store::{Fault, Lease, Reply};
        let start = self.clock.now();
        let give_up = start.checked_add(self.max_wait);
        let id = shared.request_id();
        let mut reserved = false;
        let _listening = Listening::start(&self.waiting);
        loop {
            let finished = self.finished.notified();
            tokio::pin!(finished);
            finished.as_mut().enable();
            let now = self.clock.now();
            let allowed = |limit: Option<Instant>| limit.map(|l| l.saturating_duration_since(now));
            // A call cancelled while Redis decides may have been counted in flight there:
            // its place is freed then, not when its lease ends.
            let mut pending = CancelledDecision {
                limiter: self,
                operation,
                id: Some(id.clone()),
            };
            let reply = shared
                .decide(
                    operation,
                    reserved,
                    allowed(give_up),
                    allowed(deadline),
                    &id,
                )
                .await;
            pending.id = None;
            match reply {
                Ok(Reply::Go(client, own)) => {
                    // The in-process state learns from this request's response too.
                    let (local_client, local_own) = {
                        let now = self.clock.now();
                        let mut state = self.state();
                        let (client, own) = state.scopes(operation);
                        let own = own.map(|s| s.epoch(now));
                        (client.epoch(now), own)
                    };
                    return Some(Ok(Ticket {
                        limiter: Some(self),
                        operation,
                        client: local_client,
                        own: local_own,
                        lease: Some(Lease { id, client, own }),
                        remote: true,
                    }));
                }
                Ok(Reply::Wait(wait, true)) => {
                    // The call holds its budget instant: nothing that finishes brings it
                    // closer.
                    reserved = true;
                    self.clock.sleep(wait).await;
                }
                Ok(Reply::Wait(wait, false)) => {
                    // Woken early when a response here says a place is free; asks again
                    // now and then for what other processes' responses said.
                    tokio::select! {
                        () = self.clock.sleep(wait.min(shared.poll())) => {}
                        () = finished => {}
                    }
                }
                Ok(Reply::MaxWait(wait)) => return Some(Err(Refusal::MaxWait(wait))),
                Ok(Reply::Deadline(wait)) => return Some(Err(Refusal::Deadline(wait))),
                Err(Fault::Unavailable) if shared.refuses_when_unavailable() => {
                    return Some(Err(Refusal::Unavailable));
                }
                Err(Fault::Unavailable | Fault::OutOfTime) => return None,
            }
        }
    }

    /// Hands a request paced through Redis back to it in the background (its place, and
    /// what its response said); then wakes the calls waiting here, which ask Redis again.
    /// Without a runtime to send it on, the request's lease ends by itself.
    #[cfg(feature = "redis")]
    fn spawn_finish(
        self: &Arc<Self>,
        operation: &'static str,
        lease: redis_store::Lease,
        learned: Option<redis_store::Learned>,
    ) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let limiter = self.clone();
        runtime.spawn(async move {
            if let Some(shared) = &limiter.shared {
                shared.finish(operation, &lease, learned).await;
            }
            limiter.wake_waiting();
        });
    }

    /// One look at the limits. A call first waits for the windows and pauses to open,
    /// reserving nothing; then it reserves its instant in the budgets (once: `reserved`), so
    /// that calls waiting for a budget queue in order, and waits for that instant.
    fn decide(
        &self,
        operation: &'static str,
        now: Instant,
        reserved: &mut Option<Instant>,
        give_up: Option<Instant>,
        deadline: Option<Instant>,
    ) -> Decision {
        let mut guard = self.state();
        let (client, mut own) = guard.scopes(operation);
        let mut open = client.open_at(now);
        if let Some(scope) = own.as_deref_mut() {
            open = open.max(scope.open_at(now));
        }
        let slot = reserved.unwrap_or_else(|| {
            std::iter::once(&*client)
                .chain(own.as_deref())
                .filter_map(|scope| Some(scope.budget.as_ref()?.earliest(now)))
                .fold(now, Instant::max)
        });
        let at = open.max(slot);
        if at > now {
            let wait = at - now;
            if give_up.is_some_and(|g| at > g) {
                return Decision::Refuse(Refusal::MaxWait(wait));
            }
            if deadline.is_some_and(|d| at > d) {
                return Decision::Refuse(Refusal::Deadline(wait));
            }
        }
        if open > now {
            // Woken early when a response says a place is free.
            return Decision::Wait(open);
        }
        if reserved.is_none() {
            *reserved = Some(slot);
            if let Some(budget) = client.budget.as_mut() {
                budget.take(slot);
            }
            if let Some(budget) = own.as_deref_mut().and_then(|s| s.budget.as_mut()) {
                budget.take(slot);
            }
        }
        if slot > now {
            return Decision::Wait(slot);
        }
        Decision::Go(client.send(), own.map(Scope::send))
    }
}

/// Frees, on drop, the place of a request whose decision in Redis was under way when its
/// call was cancelled (`id` is taken once the decision is in).
#[cfg(feature = "redis")]
struct CancelledDecision<'a> {
    limiter: &'a Arc<Limiter>,
    operation: &'static str,
    id: Option<String>,
}

#[cfg(feature = "redis")]
impl Drop for CancelledDecision<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let lease = redis_store::Lease {
                id,
                client: 0,
                own: 0,
            };
            self.limiter.spawn_finish(self.operation, lease, None);
        }
    }
}

/// A request the limiter let go. [`finish`](Self::finish) it with the response; dropping it
/// (the attempt failed without a response, or the call was cancelled) frees its place.
pub(crate) struct Ticket<'a> {
    /// Borrowed from the runtime for the call: no reference count moved per request.
    limiter: Option<&'a Arc<Limiter>>,
    operation: &'static str,
    /// The client's window it was sent in.
    client: u64,
    /// Its operation's window, for an operation with a budget of its own.
    own: Option<u64>,
    /// A request paced through Redis (its place there, until finished); `client` and
    /// `own` are then the in-process windows, which learn from its response too.
    #[cfg(feature = "redis")]
    lease: Option<redis_store::Lease>,
    /// Paced through Redis (whether or not its lease was handed back yet).
    #[cfg(feature = "redis")]
    remote: bool,
}

impl Ticket<'_> {
    /// Learns from the response's status and headers (`None`: no response arrived) and frees
    /// the request's place, under one lock.
    pub(crate) fn finish(mut self, response: Option<(StatusCode, &HeaderMap)>) {
        let Some(limiter) = self.limiter.take() else {
            return;
        };
        let learned = match response {
            Some((status, headers)) if limiter.learn => {
                let system_now = || limiter.clock.system_now();
                let reported = Reported::read(headers, system_now);
                let retry_after = (status == StatusCode::TOO_MANY_REQUESTS)
                    .then(|| retry::retry_after(headers, system_now()))
                    .flatten();
                Some((status, reported, retry_after))
            }
            _ => None,
        };
        #[cfg(feature = "redis")]
        let remote = self.remote;
        #[cfg(not(feature = "redis"))]
        let remote = false;
        #[cfg(feature = "redis")]
        if let Some(lease) = self.lease.take() {
            // The correction goes to Redis in the background: the call does not wait for it.
            let learned = learned.map(|(status, reported, retry_after)| redis_store::Learned {
                too_many: status == StatusCode::TOO_MANY_REQUESTS,
                limit: reported.limit,
                remaining: reported.remaining,
                reset: reported.reset,
                retry_after,
            });
            limiter.spawn_finish(self.operation, lease, learned);
        }
        let learned = learned.filter(|(_, reported, retry_after)| {
            *reported != Reported::default() || retry_after.is_some()
        });
        // Paced through Redis: counted in flight there, not here; the state here only learns.
        if remote && learned.is_none() {
            return;
        }
        let now = learned.is_some().then(|| limiter.clock.now());
        {
            let mut state = limiter.state();
            let (client, own) = state.scopes(self.operation);
            // An operation with its own budget reports its own limit.
            let mut own = own.zip(self.own);
            if let (Some((status, reported, retry_after)), Some(now)) = (learned, now) {
                match &mut own {
                    Some((scope, epoch)) => scope.learn(*epoch, status, reported, retry_after, now),
                    None => client.learn(self.client, status, reported, retry_after, now),
                }
            }
            if !remote {
                client.finish();
                if let Some((scope, _)) = own {
                    scope.finish();
                }
            }
        }
        if !remote {
            limiter.wake_waiting();
        }
    }
}

impl Drop for Ticket<'_> {
    /// A request that ended without [`finish`](Ticket::finish) (the attempt failed without a
    /// response, or the call was cancelled) frees its place.
    fn drop(&mut self) {
        let Some(limiter) = self.limiter.take() else {
            return;
        };
        #[cfg(feature = "redis")]
        if self.remote {
            // Paced through Redis: counted in flight there, not here: free its place there.
            if let Some(lease) = self.lease.take() {
                limiter.spawn_finish(self.operation, lease, None);
            }
            return;
        }
        {
            let mut state = limiter.state();
            let (client, own) = state.scopes(self.operation);
            client.finish();
            if let (Some(scope), Some(_)) = (own, self.own) {
                scope.finish();
            }
        }
        limiter.wake_waiting();
    }
}

/// A call listening for finished requests, counted in [`Limiter::waiting`] while it lives.
struct Listening<'a>(&'a AtomicUsize);

impl<'a> Listening<'a> {
    fn start(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::SeqCst);
        Self(waiting)
    }
}

impl Drop for Listening<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

    use reqwest::header::HeaderValue;

    use super::*;

    const OPS: &[OperationSpec] = &[
        OperationSpec {
            id: "incremental_user_export",
            method: "GET",
            path: "/export",
            string_path_params: &[],
            authenticated: true,
        },
        OperationSpec {
            id: "show_user",
            method: "GET",
            path: "/users/{id}",
            string_path_params: &[],
            authenticated: true,
        },
    ];
    const EXPORT: &str = "incremental_user_export";
    const SHOW: &str = "show_user";

    fn limiter(limits: RateLimits) -> Arc<Limiter> {
        Arc::new(Limiter::new("test", &limits, OPS, Clock::real()).expect("known operations"))
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("a header value"));
        }
        map
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Sends `n` calls of `op` one after the other, each answered at once with no header;
    /// returns when each went, from the start.
    async fn sequential(limiter: &Arc<Limiter>, op: &'static str, n: usize) -> Vec<Duration> {
        let origin = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..n {
            let ticket = limiter.acquire(op, None).await.expect("no deadline");
            starts.push(origin.elapsed());
            ticket.finish(Some((StatusCode::OK, &HeaderMap::new())));
        }
        starts
    }

    #[tokio::test(start_paused = true)]
    async fn a_budget_spaces_requests_evenly() {
        let limiter = limiter(RateLimits::default().with_requests_per_minute(10));
        let got = sequential(&limiter, SHOW, 4).await;
        assert_eq!(got, [secs(0), secs(6), secs(12), secs(18)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_request_does_not_wait() {
        let limiter = limiter(RateLimits::default().with_requests_per_minute(10));
        sequential(&limiter, SHOW, 1).await;
        tokio::time::sleep(secs(10)).await;
        let origin = Instant::now();
        let ticket = limiter.acquire(SHOW, None).await.expect("at once");
        assert_eq!(origin.elapsed(), Duration::ZERO);
        drop(ticket);
    }

    /// The export's budget is the client's: two streams (tasks) share it, and other
    /// operations are not held back by it.
    #[tokio::test(start_paused = true)]
    async fn an_operation_budget_is_shared_by_every_caller() {
        let limiter = limiter(RateLimits::default().with_service_budgets(&[(EXPORT, 10)]));
        let origin = Instant::now();
        let streams: Vec<_> = (0..2)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    let mut starts = Vec::new();
                    for _ in 0..2 {
                        let ticket = limiter.acquire(EXPORT, None).await.expect("no deadline");
                        starts.push(origin.elapsed());
                        drop(ticket);
                    }
                    starts
                })
            })
            .collect();
        let others = sequential(&limiter, SHOW, 3).await;
        assert_eq!(others, [Duration::ZERO; 3], "other operations go at once");
        let mut all = Vec::new();
        for stream in streams {
            all.extend(stream.await.expect("no panic"));
        }
        all.sort();
        assert_eq!(all, [secs(0), secs(6), secs(12), secs(18)]);
    }

    #[tokio::test(start_paused = true)]
    async fn budgets_can_be_replaced_removed_or_disabled() {
        let service = || RateLimits::default().with_service_budgets(&[(EXPORT, 10)]);
        let high_volume = limiter(service().with_operation_requests_per_minute(EXPORT, 30));
        assert_eq!(
            sequential(&high_volume, EXPORT, 3).await,
            [secs(0), secs(2), secs(4)]
        );
        for unpaced in [
            service().with_operation_requests_per_minute(EXPORT, 0),
            RateLimits::disabled().with_service_budgets(&[(EXPORT, 10)]),
        ] {
            let limiter = limiter(unpaced);
            assert_eq!(sequential(&limiter, EXPORT, 3).await, [Duration::ZERO; 3]);
        }
        let err = Limiter::new(
            "zendesk",
            &RateLimits::default().with_operation_requests_per_minute("incremental_users", 5),
            OPS,
            Clock::real(),
        )
        .expect_err("a typo");
        assert!(
            matches!(&err, ConfigError::UnknownOperation { operation, .. } if operation == "incremental_users"),
            "{err}"
        );
        assert!(err.to_string().contains("`incremental_users`"), "{err}");
    }

    /// `remaining: 0` waits for the reset; a wait past the deadline or the longest wait is
    /// refused at once, and the refusal changes nothing.
    #[tokio::test(start_paused = true)]
    async fn a_spent_window_waits_for_its_reset_or_refuses() {
        let limiter = limiter(RateLimits::default());
        let ticket = limiter.acquire(SHOW, None).await.expect("at once");
        let spent = headers(&[
            ("ratelimit-limit", "50"),
            ("ratelimit-remaining", "0"),
            ("ratelimit-reset", "2"),
        ]);
        ticket.finish(Some((StatusCode::OK, &spent)));

        let soon = Instant::now() + secs(1);
        let refused = limiter.acquire(SHOW, Some(soon)).await.err();
        assert_eq!(refused, Some(Refusal::Deadline(secs(2))));

        let fail_fast = Arc::new(Limiter {
            max_wait: Duration::ZERO,
            ..Limiter::new("test", &RateLimits::default(), OPS, Clock::real()).unwrap()
        });
        let ticket = fail_fast.acquire(SHOW, None).await.expect("at once");
        ticket.finish(Some((StatusCode::OK, &spent)));
        let refused = fail_fast.acquire(SHOW, Some(soon)).await.err();
        assert_eq!(refused, Some(Refusal::MaxWait(secs(2))), "fail fast wins");

        let origin = Instant::now();
        let ticket = limiter.acquire(SHOW, None).await.expect("after the reset");
        assert_eq!(origin.elapsed(), secs(2));
        drop(ticket);
        // The new window starts with the limit the server gave.
        assert_eq!(sequential(&limiter, SHOW, 3).await, [Duration::ZERO; 3]);
    }

    /// The requests in flight are taken from what the server reported left: eight tasks do
    /// not all spend the same last request. A response reporting more than another did
    /// (answered out of order) does not raise the count; a finished request frees its place.
    #[tokio::test(start_paused = true)]
    async fn requests_in_flight_count_against_what_is_left() {
        let limiter = limiter(RateLimits::default());
        let mut tickets = Vec::new();
        for _ in 0..3 {
            tickets.push(limiter.acquire(SHOW, None).await.expect("unknown: go"));
        }
        let left = |n: &str| {
            headers(&[
                ("ratelimit-remaining", n),
                ("ratelimit-reset", "10"),
                ("ratelimit-limit", "10"),
            ])
        };
        // The server counted the first request: 2 left. Two more are on their way.
        tickets.remove(0).finish(Some((StatusCode::OK, &left("2"))));
        let soon = Some(Instant::now() + secs(1));
        assert_eq!(
            limiter.acquire(SHOW, soon).await.err(),
            Some(Refusal::Deadline(secs(10)))
        );
        // The second says 5 (out of order): still 2 left, one of them in flight.
        tickets.remove(0).finish(Some((StatusCode::OK, &left("5"))));
        let third = limiter.acquire(SHOW, soon).await.expect("one place");
        assert!(limiter.acquire(SHOW, soon).await.is_err(), "no more");
        // A waiting call goes as soon as a response says a place is free.
        let waiter = tokio::spawn({
            let limiter = limiter.clone();
            async move {
                let origin = Instant::now();
                drop(limiter.acquire(SHOW, None).await.expect("a place"));
                origin.elapsed()
            }
        });
        tokio::time::sleep(secs(1)).await;
        // The last of the first three: 1 left, but `third` may take it.
        tickets.remove(0).finish(Some((StatusCode::OK, &left("1"))));
        tokio::time::sleep(secs(1)).await;
        // `third` fails without a response: its place is free.
        third.finish(None);
        assert_eq!(waiter.await.expect("no panic"), secs(2));
    }

    /// A 429's `Retry-After` holds back every call of the client; one on an operation with a
    /// budget of its own holds back that operation only.
    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_its_scope() {
        let limiter = limiter(RateLimits::default().with_service_budgets(&[(EXPORT, 6000)]));
        let ticket = limiter.acquire(EXPORT, None).await.expect("at once");
        let too_many = headers(&[("retry-after", "30")]);
        ticket.finish(Some((StatusCode::TOO_MANY_REQUESTS, &too_many)));
        assert_eq!(sequential(&limiter, SHOW, 1).await, [Duration::ZERO]);
        let soon = Some(Instant::now() + secs(1));
        assert_eq!(
            limiter.acquire(EXPORT, soon).await.err(),
            Some(Refusal::Deadline(secs(30)))
        );

        let ticket = limiter.acquire(SHOW, None).await.expect("at once");
        ticket.finish(Some((StatusCode::TOO_MANY_REQUESTS, &too_many)));
        assert_eq!(
            limiter.acquire(SHOW, soon).await.err(),
            Some(Refusal::Deadline(secs(30)))
        );
        let origin = Instant::now();
        drop(limiter.acquire(SHOW, None).await.expect("after the pause"));
        assert_eq!(origin.elapsed(), secs(30));
    }

    #[test]
    fn every_setting_reads_back() {
        let limits = RateLimits::default()
            .with_server_headers(false)
            .with_requests_per_minute(120)
            .with_operation_requests_per_minute("incremental_user_export", 30)
            .with_operation_requests_per_minute("incremental_user_export", 20)
            .with_operation_requests_per_minute("list_users", 0)
            .with_max_wait(Duration::from_secs(7));
        assert!(!limits.server_headers());
        assert!(RateLimits::default().server_headers());
        assert_eq!(limits.requests_per_minute(), Some(120));
        assert_eq!(RateLimits::default().requests_per_minute(), None);
        assert_eq!(
            limits.operation_requests_per_minute("incremental_user_export"),
            Some(20),
            "the last budget set for an operation replaces the earlier one"
        );
        assert_eq!(limits.operation_requests_per_minute("list_users"), Some(0));
        assert_eq!(limits.operation_requests_per_minute("show_user"), None);
        assert_eq!(limits.max_wait(), Duration::from_secs(7));
        assert_eq!(limits.fail_fast().max_wait(), Duration::ZERO);
    }

    #[test]
    fn headers_are_read_in_both_forms_and_garbage_is_absent() {
        let now = SystemTime::UNIX_EPOCH;
        let read = |pairs: &[(&'static str, &str)]| Reported::read(&headers(pairs), || now);
        assert_eq!(
            read(&[
                ("ratelimit-limit", "700"),
                ("ratelimit-remaining", "699"),
                ("ratelimit-reset", "41"),
            ]),
            Reported {
                limit: Some(700),
                remaining: Some(699),
                reset: Some(secs(41)),
            }
        );
        assert_eq!(
            read(&[("x-rate-limit", "700"), ("x-rate-limit-remaining", "12")]),
            Reported {
                limit: Some(700),
                remaining: Some(12),
                reset: None,
            }
        );
        assert_eq!(
            read(&[
                ("ratelimit-remaining", "10, 10;w=1"),
                ("ratelimit-reset", "0.25")
            ]),
            Reported {
                limit: None,
                remaining: Some(10),
                reset: Some(Duration::from_millis(250)),
            }
        );
        for garbage in ["", "abc", "-1", "1e3", "18446744073709551616", "1 2"] {
            let got = read(&[
                ("ratelimit-remaining", garbage),
                ("x-rate-limit-remaining", garbage),
                ("x-rate-limit", garbage),
            ]);
            assert_eq!(got, Reported::default(), "{garbage:?}");
        }
        for far in [
            "99999999999999999999",
            "1e20",
            "1e400",
            "18446744073709551615",
        ] {
            let got = read(&[("ratelimit-remaining", "0"), ("ratelimit-reset", far)]);
            assert_eq!(got.reset, Some(MAX_LEARNED_WAIT), "{far}");
        }
        let max = u64::MAX.to_string();
        let got = read(&[("ratelimit-remaining", &max), ("ratelimit-limit", &max)]);
        assert_eq!((got.limit, got.remaining), (Some(u64::MAX), Some(u64::MAX)));
    }

    /// Extreme budgets and headers: no panic, no overflow, and waits bounded by
    /// [`MAX_LEARNED_WAIT`].
    #[tokio::test(start_paused = true)]
    async fn extreme_values_neither_panic_nor_hold_a_client_for_ever() {
        let fastest = limiter(
            RateLimits::default()
                .with_requests_per_minute(u32::MAX)
                .with_operation_requests_per_minute(EXPORT, u32::MAX),
        );
        sequential(&fastest, EXPORT, 100).await;
        let slowest = limiter(RateLimits::default().with_requests_per_minute(1));
        assert_eq!(sequential(&slowest, SHOW, 2).await, [secs(0), secs(60)]);

        // On a manual clock: every wait is recorded, exactly.
        let manual = ManualClock::new();
        let limiter = Arc::new(
            Limiter::new("test", &RateLimits::default(), OPS, manual.clock())
                .expect("known operations"),
        );
        for (status, pairs) in [
            (
                StatusCode::OK,
                &[("ratelimit-remaining", "0"), ("ratelimit-reset", "1e400")][..],
            ),
            (
                StatusCode::TOO_MANY_REQUESTS,
                &[("retry-after", "99999999999999999999")][..],
            ),
            (
                StatusCode::OK,
                &[
                    ("ratelimit-remaining", "18446744073709551615"),
                    ("ratelimit-limit", "0"),
                ][..],
            ),
            (
                StatusCode::TOO_MANY_REQUESTS,
                &[("retry-after", "soon")][..],
            ),
        ] {
            let ticket = limiter.acquire(SHOW, None).await.expect("within the cap");
            ticket.finish(Some((status, &headers(pairs))));
        }
        drop(limiter.acquire(SHOW, None).await.expect("within the cap"));
        // A reset of `1e400` seconds and a `Retry-After` of 10^20 seconds each hold the next
        // request for the cap, no longer; the values that say nothing hold nothing.
        assert_eq!(manual.sleeps(), [MAX_LEARNED_WAIT, MAX_LEARNED_WAIT]);
    }

    /// The scenario of the bench, on tokio's paused clock (exact, whatever the machine's
    /// load): a server allowing 50 requests per 2 s window (the window starts at the first
    /// request after the previous one ended), sending `ratelimit-*` headers with the reset in
    /// whole seconds (rounded up) and `Retry-After` on 429, 1 ms each way; 8 tasks make 400
    /// calls through one limiter. Paced: no 429 and within 15% of the minimum (7 windows
    /// waited out, 14 s). Unpaced: the same server answers 429s.
    #[tokio::test(start_paused = true)]
    async fn eight_tasks_meet_no_429_and_lose_little_time() {
        let paced = simulate(limiter(RateLimits::default())).await;
        let minimum = secs(14);
        assert_eq!(paced.refused, 0, "paced: {paced:?}");
        assert!(
            paced.elapsed >= minimum && paced.elapsed <= minimum.mul_f64(1.15),
            "paced: {paced:?}"
        );
        let unpaced = simulate(limiter(RateLimits::disabled())).await;
        assert!(unpaced.refused > 0, "unpaced: {unpaced:?}");
        eprintln!("paced: {paced:?}; unpaced: {unpaced:?}");
    }

    #[derive(Debug)]
    struct Simulated {
        elapsed: Duration,
        refused: u32,
    }

    struct WindowServer {
        limit: u32,
        length: Duration,
        state: Mutex<(Option<Instant>, u32)>,
        refused: AtomicU32,
    }

    impl WindowServer {
        fn handle(&self) -> (StatusCode, HeaderMap) {
            let now = Instant::now();
            let mut state = self.state.lock().unwrap();
            let start = match state.0 {
                Some(start) if now < start + self.length => start,
                _ => {
                    *state = (Some(now), 0);
                    now
                }
            };
            let reset = (start + self.length - now).as_secs_f64().ceil().to_string();
            if state.1 >= self.limit {
                self.refused.fetch_add(1, Ordering::Relaxed);
                let h = headers(&[
                    ("ratelimit-limit", &self.limit.to_string()),
                    ("ratelimit-remaining", "0"),
                    ("ratelimit-reset", &reset),
                    ("retry-after", &reset),
                ]);
                return (StatusCode::TOO_MANY_REQUESTS, h);
            }
            state.1 += 1;
            let remaining = (self.limit - state.1).to_string();
            let h = headers(&[
                ("ratelimit-limit", &self.limit.to_string()),
                ("ratelimit-remaining", &remaining),
                ("ratelimit-reset", &reset),
            ]);
            (StatusCode::OK, h)
        }
    }

    async fn simulate(limiter: Arc<Limiter>) -> Simulated {
        let server = Arc::new(WindowServer {
            limit: 50,
            length: secs(2),
            state: Mutex::new((None, 0)),
            refused: AtomicU32::new(0),
        });
        let next = Arc::new(AtomicUsize::new(0));
        let origin = Instant::now();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (limiter, server, next) = (limiter.clone(), server.clone(), next.clone());
                tokio::spawn(async move {
                    while next.fetch_add(1, Ordering::Relaxed) < 400 {
                        // Each call until it succeeds, waiting out a 429's Retry-After.
                        loop {
                            let ticket = limiter.acquire(SHOW, None).await.expect("no deadline");
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            let (status, headers) = server.handle();
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            ticket.finish(Some((status, &headers)));
                            if status.is_success() {
                                break;
                            }
                            let wait = retry::retry_after(&headers, SystemTime::now());
                            tokio::time::sleep(wait.unwrap_or(secs(1))).await;
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("no panic");
        }
        Simulated {
            elapsed: origin.elapsed(),
            refused: server.refused.load(Ordering::Relaxed),
        }
    }
}
