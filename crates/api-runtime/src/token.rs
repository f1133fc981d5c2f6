//! Managed tokens: an access token that the client obtains, caches, renews ahead of its expiry
//! and renews once more when the server refuses it.
//!
//! ```text
//! attempt ─▶ TokenCache::current (a lock and a clone: the hot path)
//!              ├ fresh: send it
//!              ├ due for renewal, still valid: one caller renews (single flight), the
//!              │   others keep sending the valid token
//!              └ none, or expired: every caller waits for the one renewal
//! 401 ─▶ TokenCache::rejected(generation): renew once unless another caller already did,
//!        then replay the attempt once
//! ```
//!
//! A [`TokenProvider`] does the fetching (Zendesk's client-credentials and refresh-token
//! grants, or a user's own source such as a secrets manager); the cache decides when.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::header::HeaderValue;
use tokio::time::Instant;

use crate::error::{ApiError, ConfigError, ErrorKind};
use crate::time::Clock;

/// The shortest renewal margin: a token is renewed at least this long before it expires.
pub const MIN_RENEWAL_MARGIN: Duration = Duration::from_secs(60);

/// An access token a [`TokenProvider`] obtained, with its lifetime when known.
///
/// Its `Debug` never shows the token.
#[derive(Clone)]
pub struct AccessToken {
    header: HeaderValue,
    lifetime: Option<Duration>,
    /// Issued for this request (not read back from storage).
    new: bool,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"<redacted>")
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

impl AccessToken {
    /// A bearer token (`Authorization: Bearer <token>`) valid for `lifetime` from now, or of
    /// unknown lifetime (`None`: used until the server refuses it with 401).
    ///
    /// Fails if the token is empty or contains whitespace or a control character.
    pub fn bearer(token: &str, lifetime: Option<Duration>) -> Result<Self, ConfigError> {
        Ok(Self {
            header: bearer_header(token)?,
            lifetime,
            new: true,
        })
    }

    /// Marks a token issued earlier (read back from storage) rather than just now: if the
    /// server refuses it, the client renews it and sends the call again, as for any token it
    /// has used before. (A token issued just now and refused at once is not renewed again:
    /// the refusal goes back to the caller.)
    pub fn issued_earlier(mut self) -> Self {
        self.new = false;
        self
    }

    /// The token's lifetime from when it was issued, when the provider knows it.
    pub fn lifetime(&self) -> Option<Duration> {
        self.lifetime
    }
}

/// Why the client asks its [`TokenProvider`] for a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RenewalReason {
    /// The client has no token yet.
    Initial,
    /// The current token expires within its renewal margin (or has expired).
    Expiring,
    /// The server refused the current token (401).
    Rejected,
}

/// What the client tells its [`TokenProvider`] when it asks for a token.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    reason: RenewalReason,
    deadline: Option<Instant>,
    clock: Clock,
}

impl TokenRequest {
    /// A request for a token within `remaining` on `clock` (a client crate's own token
    /// exchange). Not part of the public API.
    #[doc(hidden)]
    pub fn new(reason: RenewalReason, remaining: Duration, clock: Clock) -> Self {
        Self {
            reason,
            deadline: clock.deadline_after(remaining),
            clock,
        }
    }

    /// Why a token is wanted.
    pub fn reason(&self) -> RenewalReason {
        self.reason
    }

    /// How long the call that wants the token may still run: fetch within it.
    /// `Duration::MAX` when the call has no deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.map_or(Duration::MAX, |d| {
            d.saturating_duration_since(self.clock.now())
        })
    }
}

/// A source of access tokens: the client asks it for a new one when it has none, when the
/// current one is about to expire, and when the server refused the current one.
///
/// The client caches what it returns (every clone of the client shares the cache), asks
/// once however many calls wait (single flight), and never asks twice for one refusal; the
/// provider only fetches. Return an [`ApiError`] when no token can be had: the call that
/// wanted one fails with it.
///
/// A provider that reads a token a secrets manager keeps fresh:
///
/// ```
/// use std::time::Duration;
/// use api_runtime::{AccessToken, ApiError, Credentials, ErrorKind, TokenProvider, TokenRequest};
/// use futures::future::BoxFuture;
///
/// #[derive(Debug)]
/// struct Vault;
///
/// impl Vault {
///     async fn read(&self, _path: &str) -> Result<(String, u64), String> {
///         Ok(("token-from-vault".to_string(), 900))
///     }
/// }
///
/// impl TokenProvider for Vault {
///     fn fetch_token(&self, _request: TokenRequest) -> BoxFuture<'_, Result<AccessToken, ApiError>> {
///         Box::pin(async move {
///             let (token, ttl) = self.read("secret/zendesk").await.map_err(|e| {
///                 ApiError::new(ErrorKind::Auth, format!("the vault refused: {e}"))
///             })?;
///             AccessToken::bearer(&token, Some(Duration::from_secs(ttl)))
///                 .map_err(|e| ApiError::new(ErrorKind::Auth, e.to_string()))
///         })
///     }
/// }
///
/// let credentials = Credentials::from_provider(Vault);
/// # let _ = credentials;
/// ```
pub trait TokenProvider: Send + Sync + fmt::Debug + 'static {
    /// Obtains a new access token, within [`TokenRequest::remaining`].
    fn fetch_token(&self, request: TokenRequest) -> BoxFuture<'_, Result<AccessToken, ApiError>>;
}

/// `Bearer <token>`, marked sensitive, once the token is checked: not empty, no whitespace,
/// no control character, visible ASCII.
pub(crate) fn bearer_header(token: &str) -> Result<HeaderValue, ConfigError> {
    secret_header("token", token, &format!("Bearer {token}"), true)
}

/// `value` as a sensitive header value, once `part` (the secret it carries, named `field` in
/// errors) is checked: not empty, no control character (CR and LF could split a header), and
/// with `no_whitespace`, no whitespace.
pub(crate) fn secret_header(
    field: &'static str,
    part: &str,
    value: &str,
    no_whitespace: bool,
) -> Result<HeaderValue, ConfigError> {
    check_secret_part(field, part)?;
    if no_whitespace && part.chars().any(char::is_whitespace) {
        return Err(ConfigError::InvalidCredential {
            field,
            reason: "contains whitespace",
        });
    }
    let mut header = HeaderValue::from_str(value).map_err(|_| ConfigError::InvalidCredential {
        field: "credentials",
        reason: "cannot be sent in an HTTP header (use visible ASCII)",
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// A secret is not empty and has no control character.
pub(crate) fn check_secret_part(field: &'static str, value: &str) -> Result<(), ConfigError> {
    if value.is_empty() {
        return Err(ConfigError::InvalidCredential {
            field,
            reason: "is empty",
        });
    }
    if value.chars().any(char::is_control) {
        return Err(ConfigError::InvalidCredential {
            field,
            reason: "contains a control character (CR, LF, …)",
        });
    }
    Ok(())
}

/// What a token endpoint's refusal says (RFC 6749 §5.2), for a [`TokenProvider`] to name in
/// its error: for an answer of 400 or 401 (the client, the grant or the scope refused), the
/// OAuth `error` code of its body, at most 60 characters and escaped so that it cannot break
/// a log line, or `no OAuth error code`; `None` for any other failure (a 5xx, a 429, the
/// network), which is not a refusal.
///
/// ```
/// # fn refused(error: api_runtime::ApiError) -> api_runtime::ApiError {
/// match api_runtime::oauth_refusal(&error) {
///     Some(code) => error.with_kind(
///         api_runtime::ErrorKind::Auth,
///         format!("the token endpoint refused the grant: {code}"),
///     ),
///     None => error,
/// }
/// # }
/// ```
pub fn oauth_refusal(error: &ApiError) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct OAuthError {
        error: String,
    }
    if !matches!(error.status().map(|s| s.as_u16()), Some(400 | 401)) {
        return None;
    }
    Some(match error.service_error::<OAuthError>() {
        Some(answer) => answer
            .error
            .chars()
            .take(60)
            .collect::<String>()
            .escape_debug()
            .to_string(),
        None => "no OAuth error code".to_string(),
    })
}

/// When a token of `lifetime` is renewed: the larger of [`MIN_RENEWAL_MARGIN`] and a tenth
/// of the lifetime before it expires, but never before half of it has passed; then up to a
/// further quarter of the margin earlier, at random, so that processes that got their tokens
/// together do not renew in the same second.
pub fn renewal_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).max(MIN_RENEWAL_MARGIN).min(lifetime / 2)
}

/// A token in the cache.
#[derive(Clone)]
struct Cached {
    header: HeaderValue,
    /// From this instant the token is renewed (`None`: lifetime unknown, never ahead).
    renew_at: Option<Instant>,
    /// The token's end (`None`: unknown).
    expires_at: Option<Instant>,
    generation: u64,
}

/// The token the attempt sends: the `Authorization` value and which token it is.
pub(crate) struct Lease {
    pub(crate) header: HeaderValue,
    pub(crate) generation: u64,
    /// Obtained by this very request (a refusal of it is not renewed again).
    pub(crate) fresh: bool,
}

/// The client's managed token: cached, renewed ahead of expiry, single flight.
pub(crate) struct TokenCache {
    provider: Arc<dyn TokenProvider>,
    current: Mutex<Option<Cached>>,
    /// Held by the one caller renewing.
    renewing: tokio::sync::Mutex<u64>,
    clock: Clock,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    pub(crate) fn new(provider: Arc<dyn TokenProvider>, clock: Clock) -> Self {
        Self {
            provider,
            current: Mutex::new(None),
            renewing: tokio::sync::Mutex::new(0),
            clock,
        }
    }

    fn cached(&self) -> Option<Cached> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The token to send now when it is not due for renewal: no waiting, no future (the
    /// usual case); `None` sends the caller to [`lease`](Self::lease).
    pub(crate) fn current(&self) -> Option<Lease> {
        let now = self.clock.now();
        let token = self.cached()?;
        token.renew_at.is_none_or(|at| now < at).then(|| Lease {
            header: token.header,
            generation: token.generation,
            fresh: false,
        })
    }

    /// The token to send now, renewing it first when needed.
    pub(crate) async fn lease(&self, deadline: Option<Instant>) -> Result<Lease, ApiError> {
        let now = self.clock.now();
        match self.cached() {
            Some(token) if token.renew_at.is_none_or(|at| now < at) => Ok(Lease {
                header: token.header,
                generation: token.generation,
                fresh: false,
            }),
            // Due for renewal but still valid: renew unless another caller is at it.
            Some(token) if token.expires_at.is_none_or(|end| now < end) => {
                match self.renewing.try_lock() {
                    Ok(guard) => self.renew(guard, RenewalReason::Expiring, deadline).await,
                    Err(_) => Ok(Lease {
                        header: token.header,
                        generation: token.generation,
                        fresh: false,
                    }),
                }
            }
            Some(token) => {
                self.renew_after(token.generation, RenewalReason::Expiring, deadline)
                    .await
            }
            None => self.renew_after(0, RenewalReason::Initial, deadline).await,
        }
    }

    /// The server refused the token of `generation`: renew it, unless another caller already
    /// has.
    pub(crate) async fn rejected(
        &self,
        generation: u64,
        deadline: Option<Instant>,
    ) -> Result<Lease, ApiError> {
        self.renew_after(generation, RenewalReason::Rejected, deadline)
            .await
    }

    /// Waits for the renewal lock (within the deadline); renews unless the token is no longer
    /// the one of `stale` (another caller renewed it meanwhile).
    async fn renew_after(
        &self,
        stale: u64,
        reason: RenewalReason,
        deadline: Option<Instant>,
    ) -> Result<Lease, ApiError> {
        let wait = deadline.map_or(Duration::MAX, |d| {
            d.saturating_duration_since(self.clock.now())
        });
        let guard = match tokio::time::timeout(wait, self.renewing.lock()).await {
            Ok(guard) => guard,
            Err(_) => {
                return Err(ApiError::new(
                    ErrorKind::Timeout,
                    "the call deadline passed while waiting for a new access token; the \
                     request was not sent",
                ));
            }
        };
        if let Some(token) = self.cached()
            && token.generation != stale
        {
            let now = self.clock.now();
            if token.expires_at.is_none_or(|end| now < end) {
                return Ok(Lease {
                    header: token.header,
                    generation: token.generation,
                    fresh: false,
                });
            }
        }
        self.renew(guard, reason, deadline).await
    }

    async fn renew(
        &self,
        mut guard: tokio::sync::MutexGuard<'_, u64>,
        reason: RenewalReason,
        deadline: Option<Instant>,
    ) -> Result<Lease, ApiError> {
        let request = TokenRequest {
            reason,
            deadline,
            clock: self.clock.clone(),
        };
        let token = self.provider.fetch_token(request).await?;
        let issued = self.clock.now();
        // Every cached generation comes from this counter, so it is the newest: the next one
        // is new to every caller.
        *guard = guard.wrapping_add(1);
        let generation = *guard;
        let (renew_at, expires_at) = match token.lifetime {
            Some(lifetime) => {
                let margin = renewal_margin(lifetime);
                let jitter_nanos = u64::try_from((margin / 4).as_nanos()).unwrap_or(u64::MAX);
                let jitter = Duration::from_nanos(fastrand::u64(0..=jitter_nanos));
                let ahead = margin.saturating_add(jitter).min(lifetime);
                (
                    issued.checked_add(lifetime - ahead),
                    issued.checked_add(lifetime),
                )
            }
            None => (None, None),
        };
        let fresh = token.new;
        let header = token.header;
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(Cached {
            header: header.clone(),
            renew_at,
            expires_at,
            generation,
        });
        Ok(Lease {
            header,
            generation,
            fresh,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::time::ManualClock;

    #[derive(Debug, Default)]
    struct Counter {
        fetched: AtomicU32,
        lifetime: Option<Duration>,
        fail: bool,
    }

    impl TokenProvider for Counter {
        fn fetch_token(
            &self,
            _request: TokenRequest,
        ) -> BoxFuture<'_, Result<AccessToken, ApiError>> {
            Box::pin(async move {
                tokio::task::yield_now().await;
                if self.fail {
                    return Err(ApiError::new(ErrorKind::Auth, "refused"));
                }
                let n = self.fetched.fetch_add(1, Ordering::SeqCst) + 1;
                Ok(AccessToken::bearer(&format!("token-{n}"), self.lifetime).unwrap())
            })
        }
    }

    fn cache(lifetime: Option<Duration>) -> (Arc<Counter>, TokenCache, ManualClock) {
        let provider = Arc::new(Counter {
            lifetime,
            ..Counter::default()
        });
        let manual = ManualClock::new();
        let cache = TokenCache::new(provider.clone(), manual.clock());
        (provider, cache, manual)
    }

    fn token(lease: &Lease) -> &str {
        lease.header.to_str().unwrap()
    }

    #[test]
    fn the_margin_is_a_tenth_at_least_a_minute_at_most_half() {
        assert_eq!(
            renewal_margin(Duration::from_secs(1800)),
            Duration::from_secs(180)
        );
        assert_eq!(
            renewal_margin(Duration::from_secs(300)),
            Duration::from_secs(60)
        );
        assert_eq!(
            renewal_margin(Duration::from_secs(60)),
            Duration::from_secs(30)
        );
        assert_eq!(renewal_margin(Duration::ZERO), Duration::ZERO);
        assert_eq!(
            renewal_margin(Duration::MAX),
            Duration::MAX / 10,
            "no overflow"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_waiting_callers_cause_one_fetch() {
        let (provider, cache, _) = cache(Some(Duration::from_secs(1800)));
        let cache = Arc::new(cache);
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.lease(None).await.map(|l| l.generation) })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), 1);
        }
        assert_eq!(provider.fetched.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_token_is_renewed_within_its_margin_and_not_before() {
        let (provider, cache, manual) = cache(Some(Duration::from_secs(1800)));
        let first = cache.lease(None).await.unwrap();
        assert!(first.fresh);
        assert_eq!(token(&first), "Bearer token-1");
        // The margin is 180 s plus up to 45 s of jitter: renewed by 1575 s, not before 1575 s.
        manual.advance(Duration::from_secs(1574));
        assert_eq!(token(&cache.lease(None).await.unwrap()), "Bearer token-1");
        manual.advance(Duration::from_secs(46));
        let renewed = cache.lease(None).await.unwrap();
        assert_eq!(token(&renewed), "Bearer token-2");
        assert_eq!(provider.fetched.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_refusal_renews_once_for_every_caller_that_saw_it() {
        let (provider, cache, _) = cache(None);
        let first = cache.lease(None).await.unwrap();
        // Three calls were refused with the same token: one renewal.
        for _ in 0..3 {
            let lease = cache.rejected(first.generation, None).await.unwrap();
            assert_eq!(token(&lease), "Bearer token-2");
        }
        assert_eq!(provider.fetched.load(Ordering::SeqCst), 2);
        // A token of unknown lifetime is never renewed ahead.
        assert!(!cache.lease(None).await.unwrap().fresh);
    }

    #[tokio::test]
    async fn a_failed_fetch_is_not_cached() {
        let provider = Arc::new(Counter {
            fail: true,
            ..Counter::default()
        });
        let cache = TokenCache::new(provider, Clock::real());
        for _ in 0..2 {
            let err = cache.lease(None).await.err().unwrap();
            assert_eq!(err.kind(), ErrorKind::Auth);
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let token = AccessToken::bearer("s3cr3t", Some(Duration::from_secs(5))).unwrap();
        assert!(!format!("{token:?}").contains("s3cr3t"));
    }
}
