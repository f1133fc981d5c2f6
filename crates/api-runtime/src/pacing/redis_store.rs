//! The pacer's state in Redis, shared by every process that names the same Redis and key
//! prefix (feature `redis`).
//!
//! ```text
//! Limiter::acquire ─▶ Shared::decide ─▶ acquire.lua  (one round trip: go / wait / refuse)
//! Ticket::finish   ─▶ Shared::finish ─▶ finish.lua   (spawned, not awaited by the call)
//!        └ Redis unavailable ─▶ the in-process state (one WARN per outage), or a refusal
//! ```
//!
//! Each decision is one Lua script, atomic on the server and on the server's clock
//! (`TIME`), so the processes' clocks do not matter: the script answers with durations,
//! which each process waits on its own clock. The state is the in-process pacer's, per scope
//! (the client, and each operation with a budget of its own), keyed by service, account (the
//! base URL's host and port) and scope under a hash tag, so that a scope's keys share a
//! cluster slot: `{prefix}:{zendesk:acme.zendesk.com}:client` (a hash: window epoch, end,
//! what is left, its size, a 429's pause, the budget's next free instant) and
//! `…:client:in-flight` (a sorted set of the requests in flight, scored by the end of their
//! lease, so that a process that dies frees its places). Budgets are GCRA with a burst of
//! one, as in go-redis/redis_rate's script (from rwz/redis-gcra), with callers queued for
//! their instant instead of refused.
//!
//! Every value read from Redis is clamped as a hostile header is: garbage is absent, no wait
//! is longer than [`MAX_LEARNED_WAIT`], a key of another type is dropped.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};
use tokio::time::Instant;

use crate::time::Clock;

use super::{DEFAULT_WINDOW, MAX_LEARNED_WAIT, RECHECK};
use crate::error::ConfigError;

/// The key prefix a [`RedisStore`] uses unless given another.
pub const DEFAULT_KEY_PREFIX: &str = "user-apis";

/// How long a [`RedisStore`] waits for one answer from Redis unless told otherwise.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// How long after a failure the store asks Redis again (one call does; the others pace
/// in-process meanwhile).
const PROBE_INTERVAL: Duration = Duration::from_millis(500);

/// The longest a request counts as in flight in Redis: a process that dies with requests in
/// flight frees their places after this long at most.
const IN_FLIGHT_LEASE: Duration = Duration::from_secs(60);

/// The longest a call waiting through Redis sleeps before asking again (another process's
/// request may have failed, freeing a place).
const POLL: Duration = Duration::from_millis(500);

/// How long a finished request's correction may take to reach Redis (it is not awaited by
/// the call), and how long the store tries to free the place of an attempt whose decision
/// timed out.
const BACKGROUND_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a client's rate-limit state lives when several processes share one account's
/// budget: a Redis server, named by URL, and a key prefix.
///
/// Every process whose clients name the same Redis and key prefix shares, per service and
/// account (the base URL's host and port), what the server said is left in its window and
/// when it resets, a 429's pause, the budgets' next free instants and the requests in
/// flight. Each decision is one atomic script on the Redis server's clock. Give it to
/// [`RateLimits::with_redis`](crate::RateLimits::with_redis).
///
/// When Redis does not answer (down, slow, restarting), no call is lost or held: by default
/// the client paces in-process, logs one `WARN` line per outage and shares again as soon as
/// Redis answers (it asks again every half second);
/// [`refuse_when_unavailable`](Self::refuse_when_unavailable) makes calls fail at once
/// instead. Every round trip waits at most [`timeout`](Self::timeout), within the call
/// deadline.
///
/// Clones share one connection (multiplexed, reconnecting): give every client of a process
/// the same store. The shared state keeps time by the Redis server's clock, which a
/// [`ManualClock`](crate::ManualClock) does not move: test exact waits in-process.
///
/// ```
/// use api_runtime::{ClientConfig, RateLimits, RedisStore};
///
/// let store = RedisStore::new("redis://:s3cret@redis.internal:6379/0")?
///     .with_key_prefix("sync-workers");
/// assert!(!format!("{store:?}").contains("s3cret"));
/// let config = ClientConfig::new().rate_limits(RateLimits::default().with_redis(store));
/// # let _ = config;
/// # Ok::<(), api_runtime::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct RedisStore {
    link: Arc<Link>,
    prefix: String,
    timeout: Duration,
    refuse: bool,
}

impl PartialEq for RedisStore {
    fn eq(&self, other: &Self) -> bool {
        self.link.full_url == other.link.full_url
            && self.link.root_certificate == other.link.root_certificate
            && self.prefix == other.prefix
            && self.timeout == other.timeout
            && self.refuse == other.refuse
    }
}

impl Eq for RedisStore {}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.link.shown)
            .field("key_prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("refuse_when_unavailable", &self.refuse)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store on the Redis server at `url`: `redis://[[user]:password@]host[:port][/db]`,
    /// `rediss://…` for TLS (rustls, the system's roots), or `redis+unix:///path`. The URL is
    /// checked here; nothing connects until the first call. Neither `Debug`, errors nor logs
    /// ever show the password.
    pub fn new(url: impl Into<String>) -> Result<Self, ConfigError> {
        Self::build(url.into(), None)
    }

    fn build(url: String, root_certificate: Option<Vec<u8>>) -> Result<Self, ConfigError> {
        crate::tls::ensure_crypto_provider();
        let shown = shown_url(&url);
        let invalid = |reason: String| ConfigError::InvalidRedisUrl {
            url: shown.clone(),
            reason,
        };
        let secrets = secrets_of(&url);
        let client = match &root_certificate {
            None => redis::Client::open(url.as_str()),
            Some(pem) => redis::Client::build_with_tls(
                url.as_str(),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                },
            ),
        }
        .map_err(|e| invalid(scrub(&e.to_string(), &secrets)))?;
        Ok(Self {
            link: Arc::new(Link {
                client,
                full_url: url,
                shown,
                secrets,
                root_certificate,
                connection: OnceLock::new(),
                health: Mutex::new(Health::default()),
            }),
            prefix: DEFAULT_KEY_PREFIX.to_string(),
            timeout: DEFAULT_REDIS_TIMEOUT,
            refuse: false,
        })
    }

    /// Trust this root certificate (PEM) for a `rediss://` URL instead of the system's
    /// roots: a private certificate authority.
    pub fn with_root_certificate(self, pem: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let Self {
            link,
            prefix,
            timeout,
            refuse,
        } = self;
        let rebuilt = Self::build(link.full_url.clone(), Some(pem.into()))?;
        Ok(Self {
            prefix,
            timeout,
            refuse,
            ..rebuilt
        })
    }

    /// The prefix of every key the store writes (default [`DEFAULT_KEY_PREFIX`]). Processes
    /// share a budget when they name the same Redis and prefix; give unrelated fleets (or
    /// tests) prefixes of their own.
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The longest one round trip to Redis may take (default [`DEFAULT_REDIS_TIMEOUT`]),
    /// and never past the call deadline. A store that takes longer counts as unavailable.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// When Redis does not answer, fail calls at once with
    /// [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited), unsent and retryable,
    /// instead of pacing them in-process (the default): for a fleet where a process pacing
    /// alone would spend the others' budget.
    pub fn refuse_when_unavailable(mut self) -> Self {
        self.refuse = true;
        self
    }

    /// The URL, without its password.
    pub fn url(&self) -> &str {
        &self.link.shown
    }

    /// The prefix of every key the store writes.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// The longest one round trip may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether calls fail, rather than pace in-process, while Redis does not answer.
    pub fn refuses_when_unavailable(&self) -> bool {
        self.refuse
    }
}

/// The URL as it may be shown: no user-info, no query (a password may hide in either), and
/// nothing of a text that is not a URL at all (it may be the password itself).
fn shown_url(url: &str) -> String {
    if !url.contains("://") {
        return "(not a URL)".to_string();
    }
    let shown = crate::config::without_userinfo(url);
    match shown.find(['?', '#']) {
        Some(i) => shown[..i].to_string(),
        None => shown,
    }
}

/// What of a URL must never be shown: its user-info's password, as written and decoded.
fn secrets_of(url: &str) -> Vec<String> {
    let Some((_, rest)) = url.split_once("://") else {
        return Vec::new();
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return Vec::new();
    };
    let password = userinfo.split_once(':').map_or(userinfo, |(_, p)| p);
    let mut secrets = vec![password.to_string(), percent_decoded(password)];
    secrets.retain(|s| !s.is_empty());
    secrets.dedup();
    secrets
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with every secret replaced by `***`.
fn scrub(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .fold(text.to_string(), |text, secret| text.replace(secret, "***"))
}

/// The connection and the health of one store, shared by its clones.
struct Link {
    client: redis::Client,
    /// The URL as given, password included: never shown.
    full_url: String,
    shown: String,
    secrets: Vec<String>,
    root_certificate: Option<Vec<u8>>,
    /// Made on first use, inside the runtime (it spawns its reconnecting task there).
    connection: OnceLock<ConnectionManager>,
    health: Mutex<Health>,
}

/// Whether Redis answers. Starts up: the first call tries.
#[derive(Debug, Default)]
struct Health {
    down: bool,
    /// Counts the outages; a failure of a round trip started before the last recovery
    /// belongs to an outage already over and is not a new one.
    generation: u64,
    /// While down: when to ask Redis again, and whether a call is asking now.
    retry_at: Option<Instant>,
    probing: bool,
    /// When Redis last answered again after an outage.
    recovered_at: Option<Instant>,
}

/// A failure this soon after Redis answered again (a restarted server whose old connections
/// break one by one while the client reconnects) belongs to the same outage: the client
/// falls back again, without a second WARN.
const FLAP_WINDOW: Duration = Duration::from_secs(10);

impl Link {
    fn health(&self) -> MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this call may use Redis: always while it answers; while it does not, one
    /// call a [`PROBE_INTERVAL`]. Returns the outage generation the round trip belongs to.
    fn admit(&self, now: Instant) -> Option<u64> {
        let mut health = self.health();
        if !health.down {
            return Some(health.generation);
        }
        if health.probing || health.retry_at.is_some_and(|at| now < at) {
            return None;
        }
        health.probing = true;
        Some(health.generation)
    }

    fn succeeded(&self, now: Instant) {
        let mut health = self.health();
        if health.down {
            health.down = false;
            health.probing = false;
            health.generation += 1;
            health.recovered_at = Some(now);
            drop(health);
            tracing::info!(
                redis = %self.shown,
                "the shared rate-limit store answers again: pacing is shared again"
            );
        }
    }

    fn failed(&self, now: Instant, generation: u64, error: &str) {
        let mut health = self.health();
        let retry_at = now.checked_add(PROBE_INTERVAL);
        if health.down {
            health.retry_at = retry_at;
            health.probing = false;
        } else if generation == health.generation {
            health.down = true;
            health.retry_at = retry_at;
            health.probing = false;
            let flap = (health.recovered_at)
                .is_some_and(|at| now.saturating_duration_since(at) < FLAP_WINDOW);
            drop(health);
            if flap {
                tracing::info!(
                    redis = %self.shown,
                    error = %scrub(error, &self.secrets),
                    "the shared rate-limit store failed again just after it answered (the same \
                     outage): pacing in-process until it answers again"
                );
                return;
            }
            tracing::warn!(
                redis = %self.shown,
                error = %scrub(error, &self.secrets),
                "the shared rate-limit store is unavailable: pacing in-process until it answers again"
            );
        }
    }

    fn connection(&self, timeout: Duration) -> Result<ConnectionManager, String> {
        if let Some(connection) = self.connection.get() {
            return Ok(connection.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout.max(Duration::from_millis(500))))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let made = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| e.to_string())?;
        Ok(self.connection.get_or_init(|| made).clone())
    }
}

static ACQUIRE: LazyLock<Script> =
    LazyLock::new(|| Script::new(&script(include_str!("acquire.lua"))));
static FINISH: LazyLock<Script> =
    LazyLock::new(|| Script::new(&script(include_str!("finish.lua"))));

/// A script's text: the shared part, with the runtime's constants, then `body`.
fn script(body: &str) -> String {
    let common = include_str!("common.lua")
        .replace("@LONGEST@", &micros(MAX_LEARNED_WAIT).to_string())
        .replace("@LEASE_CAP@", &micros(IN_FLIGHT_LEASE).to_string())
        .replace(
            "@LIFETIME@",
            &(2 * MAX_LEARNED_WAIT.as_millis()).to_string(),
        );
    format!("{common}\n{body}")
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// A wait from Redis, clamped like a header's.
fn wait_of(us: i64) -> Duration {
    Duration::from_micros(u64::try_from(us).unwrap_or(0)).min(MAX_LEARNED_WAIT)
}

/// One scope's keys.
#[derive(Debug)]
struct Keys {
    state: String,
    in_flight: String,
}

impl Keys {
    fn new(prefix: &str, service: &str, account: &str, scope: &str) -> Self {
        let state = format!("{prefix}:{{{service}:{account}}}:{scope}");
        Self {
            in_flight: format!("{state}:in-flight"),
            state,
        }
    }
}

/// A client's handle on the shared state: the store, its keys and its budgets.
pub(crate) struct Shared {
    store: RedisStore,
    client: Keys,
    /// The client's budget interval, microseconds (0: none).
    client_interval: i64,
    operations: HashMap<&'static str, (Keys, i64)>,
    /// Makes request ids unique across processes.
    process: u64,
    requests: AtomicU64,
    /// The client's clock: when Redis is asked again after an outage, and whether a failure
    /// belongs to the outage just over.
    clock: Clock,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("store", &self.store)
            .field("client", &self.client.state)
            .finish_non_exhaustive()
    }
}

/// Why Redis gave no decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Redis is down, slow or answered something else: pace in-process (or refuse).
    Unavailable,
    /// The call deadline came before Redis answered: the in-process pacer decides.
    OutOfTime,
}

/// Redis's decision for one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reply {
    /// Sent: the windows (client's, operation's) it was sent in.
    Go(u64, u64),
    /// Wait this long and ask again; `true` when the call now holds its budget instant.
    Wait(Duration, bool),
    /// The wait is longer than the client's longest wait.
    MaxWait(Duration),
    /// The wait would outlast the call deadline.
    Deadline(Duration),
}

/// What a finished request tells the shared state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Learned {
    pub(crate) too_many: bool,
    pub(crate) limit: Option<u64>,
    pub(crate) remaining: Option<u64>,
    pub(crate) reset: Option<Duration>,
    pub(crate) retry_after: Option<Duration>,
}

/// A request that Redis let go: its id and the windows it was sent in.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    pub(crate) id: String,
    pub(crate) client: u64,
    pub(crate) own: u64,
}

impl Shared {
    pub(crate) fn new(
        store: RedisStore,
        service: &str,
        account: &str,
        client_budget: Option<Duration>,
        operations: impl Iterator<Item = (&'static str, Duration)>,
        clock: Clock,
    ) -> Self {
        let operations = operations
            .map(|(id, interval)| {
                let keys = Keys::new(&store.prefix, service, account, &format!("op:{id}"));
                (id, (keys, micros(interval)))
            })
            .collect();
        Self {
            client: Keys::new(&store.prefix, service, account, "client"),
            client_interval: client_budget.map_or(0, micros),
            operations,
            process: fastrand::u64(..),
            requests: AtomicU64::new(0),
            store,
            clock,
        }
    }

    /// Whether calls fail, rather than pace in-process, while Redis does not answer.
    pub(crate) fn refuses_when_unavailable(&self) -> bool {
        self.store.refuse
    }

    /// A request id no other process uses.
    pub(crate) fn request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        format!("{:016x}-{n}", self.process)
    }

    /// The longest a call waiting through Redis sleeps before asking again.
    pub(crate) fn poll(&self) -> Duration {
        POLL
    }

    /// The lease of a request sent now: until the call deadline, at most
    /// [`IN_FLIGHT_LEASE`].
    pub(crate) fn lease(deadline: Option<Duration>) -> Duration {
        deadline
            .unwrap_or(IN_FLIGHT_LEASE)
            .clamp(Duration::from_millis(1), IN_FLIGHT_LEASE)
    }

    /// One decision for an attempt of `operation` (one round trip). `give_up` and
    /// `deadline` are the waits the client's longest wait and the call deadline allow.
    pub(crate) async fn decide(
        &self,
        operation: &str,
        reserved: bool,
        give_up: Option<Duration>,
        deadline: Option<Duration>,
        id: &str,
    ) -> Result<Reply, Fault> {
        let link = &self.store.link;
        let now = || self.clock.now();
        let generation = link.admit(now()).ok_or(Fault::Unavailable)?;
        let own = self.operations.get(operation);
        let limit = |d: Option<Duration>| d.map_or(-1, micros);
        let mut invocation = ACQUIRE.prepare_invoke();
        invocation
            .key(&self.client.state)
            .key(&self.client.in_flight);
        if let Some((keys, _)) = own {
            invocation.key(&keys.state).key(&keys.in_flight);
        }
        invocation
            .arg(u8::from(reserved))
            .arg(self.client_interval)
            .arg(own.map_or(0, |(_, interval)| *interval))
            .arg(limit(give_up))
            .arg(limit(deadline))
            .arg(id)
            .arg(micros(Self::lease(deadline)))
            .arg(micros(RECHECK));
        let bounded_by_deadline = deadline.is_some_and(|d| d < self.store.timeout);
        let bound = deadline.map_or(self.store.timeout, |d| d.min(self.store.timeout));
        let mut connection = match link.connection(self.store.timeout) {
            Ok(connection) => connection,
            Err(error) => {
                link.failed(now(), generation, &error);
                return Err(Fault::Unavailable);
            }
        };
        let answer =
            tokio::time::timeout(bound, invocation.invoke_async::<Value>(&mut connection)).await;
        let value = match answer {
            Ok(Ok(value)) => value,
            Ok(Err(error)) => {
                link.failed(now(), generation, &error.to_string());
                return Err(Fault::Unavailable);
            }
            Err(_) => {
                // The script may still run when Redis catches up: free the place it would
                // take, in the background.
                self.spawn_release(id.to_string(), operation);
                if bounded_by_deadline {
                    return Err(Fault::OutOfTime);
                }
                link.failed(
                    now(),
                    generation,
                    &format!("no answer within {:?}", self.store.timeout),
                );
                return Err(Fault::Unavailable);
            }
        };
        match parse(&value) {
            Some(reply) => {
                link.succeeded(now());
                Ok(reply)
            }
            None => {
                link.failed(
                    now(),
                    generation,
                    "an answer the pacer's script does not give",
                );
                Err(Fault::Unavailable)
            }
        }
    }

    /// The finish script's invocation: the request leaves the in-flight sets and, with
    /// `learned`, its response corrects the state of the scope it was paced in.
    fn finish_invocation(
        &self,
        operation: &str,
        id: &str,
        learned: Option<(Learned, u64)>,
    ) -> redis::ScriptInvocation<'static> {
        let own = self.operations.get(operation);
        let mut invocation = FINISH.prepare_invoke();
        invocation.key(own.map_or(&self.client.state, |(keys, _)| &keys.state));
        invocation.key(&self.client.in_flight);
        if let Some((keys, _)) = own {
            invocation.key(&keys.in_flight);
        }
        let count = |n: Option<u64>| n.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let wait = |d: Option<Duration>| d.map_or(-1, |d| micros(d.min(MAX_LEARNED_WAIT)));
        invocation.arg(id);
        match learned {
            Some((learned, epoch)) => invocation
                .arg(1)
                .arg(epoch)
                .arg(u8::from(learned.too_many))
                .arg(count(learned.limit))
                .arg(count(learned.remaining))
                .arg(wait(learned.reset))
                .arg(wait(learned.retry_after))
                .arg(micros(DEFAULT_WINDOW)),
            None => invocation.arg(0),
        };
        invocation
    }

    /// Sends a finished request's correction (or only frees its place): one round trip,
    /// awaited by nobody but the task that sends it.
    pub(crate) async fn finish(&self, operation: &str, lease: &Lease, learned: Option<Learned>) {
        let link = &self.store.link;
        let now = || self.clock.now();
        let Some(generation) = link.admit(now()) else {
            // Its lease ends by itself.
            return;
        };
        let epoch = if self.operations.contains_key(operation) {
            lease.own
        } else {
            lease.client
        };
        let invocation = self.finish_invocation(operation, &lease.id, learned.map(|l| (l, epoch)));
        let mut connection = match link.connection(self.store.timeout) {
            Ok(connection) => connection,
            Err(error) => return link.failed(now(), generation, &error),
        };
        let bound = self.store.timeout.max(BACKGROUND_TIMEOUT);
        match tokio::time::timeout(bound, invocation.invoke_async::<Value>(&mut connection)).await {
            Ok(Ok(_)) => link.succeeded(now()),
            Ok(Err(error)) => link.failed(now(), generation, &error.to_string()),
            Err(_) => link.failed(now(), generation, &format!("no answer within {bound:?}")),
        }
    }

    /// Frees, in the background, the place an attempt whose decision timed out may take.
    fn spawn_release(&self, id: String, operation: &str) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let invocation = self.finish_invocation(operation, &id, None);
        let Ok(mut connection) = self.store.link.connection(self.store.timeout) else {
            return;
        };
        runtime.spawn(async move {
            let _ = tokio::time::timeout(
                BACKGROUND_TIMEOUT,
                invocation.invoke_async::<Value>(&mut connection),
            )
            .await;
        });
    }
}

/// The acquire script's answer, or `None` for anything it does not give.
fn parse(value: &Value) -> Option<Reply> {
    let Value::Array(items) = value else {
        return None;
    };
    let numbers: Vec<i64> = items
        .iter()
        .map(|item| match item {
            Value::Int(n) => Some(*n),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let epoch = |n: i64| u64::try_from(n).ok();
    match numbers.as_slice() {
        [0, _, client, own] => Some(Reply::Go(epoch(*client)?, epoch(*own)?)),
        [1, wait] => Some(Reply::Wait(wait_of(*wait), false)),
        [2, wait] => Some(Reply::Wait(wait_of(*wait), true)),
        [3, wait] => Some(Reply::MaxWait(wait_of(*wait))),
        [4, wait] => Some(Reply::Deadline(wait_of(*wait))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows() {
        for url in [
            "redis://:s3cr3t@127.0.0.1:6379/0",
            "redis://user:s3cr3t@127.0.0.1:6379",
            "rediss://user:s3cr3t@redis.example:6380/2",
            "redis://user:s3%63r3t@127.0.0.1/",
        ] {
            let store = RedisStore::new(url).expect(url);
            let shown = format!("{store:?} {}", store.url());
            assert!(
                !shown.contains("s3cr3t") && !shown.contains("s3%63r3t"),
                "{shown}"
            );
            assert!(shown.contains("***@"), "{shown}");
        }
        for bad in [
            "http://:s3cr3t@127.0.0.1",
            "redis://:s3cr3t@[::1",
            "s3cr3t",
            "",
        ] {
            let err = RedisStore::new(bad).expect_err(bad);
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(shown.contains("Redis URL"), "{shown}");
        }
        let secrets = secrets_of("redis://u:p%40ss@host");
        assert_eq!(secrets, ["p%40ss", "p@ss"]);
        assert_eq!(
            scrub("AUTH p@ss failed for p%40ss", &secrets),
            "AUTH *** failed for ***"
        );
        assert!(secrets_of("redis://host:6379").is_empty());
    }

    #[test]
    fn settings_read_back_and_compare() {
        let store = RedisStore::new("redis://127.0.0.1:6379").expect("a URL");
        assert_eq!(store.key_prefix(), DEFAULT_KEY_PREFIX);
        assert_eq!(store.timeout(), DEFAULT_REDIS_TIMEOUT);
        assert!(!store.refuses_when_unavailable());
        let other = store
            .clone()
            .with_key_prefix("fleet")
            .with_timeout(Duration::from_millis(40))
            .refuse_when_unavailable();
        assert_eq!(other.key_prefix(), "fleet");
        assert_eq!(other.timeout(), Duration::from_millis(40));
        assert!(other.refuses_when_unavailable());
        assert_ne!(store, other);
        assert_eq!(store, store.clone());
        assert_eq!(
            store,
            RedisStore::new("redis://127.0.0.1:6379").expect("a URL")
        );
    }

    #[test]
    fn keys_share_a_slot_per_account() {
        let keys = Keys::new(
            "p",
            "zendesk",
            "acme.zendesk.com",
            "op:incremental_user_export",
        );
        assert_eq!(
            keys.state,
            "p:{zendesk:acme.zendesk.com}:op:incremental_user_export"
        );
        assert_eq!(
            keys.in_flight,
            "p:{zendesk:acme.zendesk.com}:op:incremental_user_export:in-flight"
        );
    }

    #[test]
    fn replies_are_parsed_and_clamped() {
        let ints = |v: &[i64]| Value::Array(v.iter().map(|n| Value::Int(*n)).collect());
        assert_eq!(parse(&ints(&[0, 0, 3, 0])), Some(Reply::Go(3, 0)));
        assert_eq!(
            parse(&ints(&[1, 1500])),
            Some(Reply::Wait(Duration::from_micros(1500), false))
        );
        assert_eq!(
            parse(&ints(&[2, i64::MAX])),
            Some(Reply::Wait(MAX_LEARNED_WAIT, true))
        );
        assert_eq!(parse(&ints(&[3, -5])), Some(Reply::MaxWait(Duration::ZERO)));
        assert_eq!(
            parse(&ints(&[4, 7])),
            Some(Reply::Deadline(Duration::from_micros(7)))
        );
        for odd in [
            ints(&[]),
            ints(&[0, 0, -1, 0]),
            ints(&[5, 1]),
            ints(&[1]),
            Value::Nil,
            Value::Int(0),
            Value::Array(vec![Value::BulkString(b"0".to_vec())]),
        ] {
            assert_eq!(parse(&odd), None, "{odd:?}");
        }
    }

    #[test]
    fn leases_stay_within_bounds() {
        assert_eq!(Shared::lease(None), IN_FLIGHT_LEASE);
        assert_eq!(
            Shared::lease(Some(Duration::ZERO)),
            Duration::from_millis(1)
        );
        assert_eq!(
            Shared::lease(Some(Duration::from_secs(5))),
            Duration::from_secs(5)
        );
        assert_eq!(Shared::lease(Some(Duration::MAX)), IN_FLIGHT_LEASE);
    }

    #[test]
    fn the_scripts_carry_their_constants() {
        for body in [include_str!("acquire.lua"), include_str!("finish.lua")] {
            let text = script(body);
            assert!(!text.contains('@'), "a placeholder is left");
            assert!(text.contains("local LONGEST = 3600000000\n"), "{text}");
            assert!(text.contains("local LEASE_CAP = 60000000\n"), "{text}");
            assert!(text.contains("local LIFETIME = 7200000\n"), "{text}");
        }
    }
}
