//! When a failed attempt is tried again: the [`RetryPolicy`] a user sets, and the rule that
//! decides what is safe to repeat — defined once, here, for the runtime's retry loop and for
//! [`ApiError::is_retryable`](crate::ApiError::is_retryable) alike.

use std::time::{Duration, SystemTime};

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

/// When and how often a failed attempt is tried again.
///
/// Only what is safe to repeat is retried: `GET`, `HEAD`, `PUT`, `DELETE` and `OPTIONS` on
/// connection errors, timeouts, 429, 502, 503 and 504; `POST` and `PATCH` only on 429 and on
/// failures before the request was sent. `Retry-After` on 429 and 503 is honoured in both forms
/// (seconds and HTTP date).
///
/// ```
/// use std::time::Duration;
/// use api_runtime::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(2)
///     .with_initial_backoff(Duration::from_millis(50));
/// assert_eq!(policy.max_attempts(), 2);
/// assert_eq!(RetryPolicy::disabled().max_attempts(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    jitter: bool,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 200 ms initial backoff doubling to at most 10 s, jitter on, server waits
    /// honoured up to 60 s.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            jitter: true,
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn disabled() -> Self {
        Self::default().with_max_attempts(1)
    }

    /// Attempts in all, the first included; `1` disables retries and `0` counts as `1`.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry; doubled for each further retry.
    pub fn with_initial_backoff(mut self, wait: Duration) -> Self {
        self.initial_backoff = wait;
        self
    }

    /// The longest computed wait between attempts.
    pub fn with_max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = wait;
        self
    }

    /// Randomise each computed wait within its upper half, so that many clients that failed
    /// together do not retry together (on by default).
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The longest `Retry-After` the client waits for. A longer one (or one that would outlast
    /// the call deadline) ends the call at once with an error whose
    /// [`retry_after`](crate::ApiError::retry_after) says how long the server asked to wait.
    pub fn with_max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Attempts in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before the first retry.
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The longest computed wait between attempts.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// Whether computed waits are randomised.
    pub fn jitter(&self) -> bool {
        self.jitter
    }

    /// The longest `Retry-After` the client waits for.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// The wait before retry number `retry` (1 for the first retry), without a server hint.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        if self.jitter && !base.is_zero() {
            let half = base / 2;
            let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
            half + Duration::from_nanos(fastrand::u64(0..=nanos))
        } else {
            base
        }
    }
}

/// How an attempt failed, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The request never left: no connection, or no free request slot.
    NotSent,
    /// Sent, then cut short: a timeout, a connection closed before or during the response.
    Interrupted,
    /// The server answered with this non-success status.
    Status(u16),
    /// Anything else (a redirect refused, a request that cannot be built): never retried.
    Final,
}

/// Methods a server treats as idempotent: repeating them cannot duplicate a write.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// The retry rule: whether an attempt that failed this way may be sent again.
pub(crate) fn may_retry(idempotent: bool, failure: Failure) -> bool {
    match failure {
        // The request never left, so any method may go again.
        Failure::NotSent => true,
        // Sent and failed on the way: only what is safe to repeat goes again.
        Failure::Interrupted => idempotent,
        // The server refused before doing anything: safe for every method.
        Failure::Status(429) => true,
        Failure::Status(502..=504) => idempotent,
        Failure::Status(_) | Failure::Final => false,
    }
}

/// Whether the server's `Retry-After` is read for this status (429 and 503).
pub(crate) fn honours_retry_after(status: u16) -> bool {
    matches!(status, 429 | 503)
}

/// Classifies a reqwest error for [`may_retry`].
pub(crate) fn classify(error: &reqwest::Error) -> Failure {
    if error.is_connect() {
        Failure::NotSent
    } else if error.is_timeout() || error.is_request() || error.is_body() || error.is_decode() {
        Failure::Interrupted
    } else {
        Failure::Final
    }
}

/// Parses `Retry-After` (RFC 9110 §10.2.3): delay seconds or an HTTP date, relative to `now`.
///
/// A number too large to represent is [`Duration::MAX`] (the server asked for a very long
/// wait); a value that is neither a number nor a date is `None`.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?, now)
}

pub(crate) fn parse_retry_after(value: &HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Some(
            text.parse::<u64>()
                .map_or(Duration::MAX, Duration::from_secs),
        );
    }
    // Some servers send fractions or exponents; RFC 9110 does not, but waiting them out is
    // harmless. Only plain numbers: `inf` and `NaN` are not waits.
    if text.starts_with(|c: char| c.is_ascii_digit())
        && let Ok(seconds) = text.parse::<f64>()
    {
        return if seconds.is_finite() {
            Some(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
        } else {
            Some(Duration::MAX)
        };
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy::default().with_jitter(false);
        assert_eq!(p.backoff(1), Duration::from_millis(200));
        assert_eq!(p.backoff(2), Duration::from_millis(400));
        assert_eq!(p.backoff(3), Duration::from_millis(800));
        assert_eq!(p.backoff(40), Duration::from_secs(10));
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        let p = RetryPolicy::default();
        for retry in 1..8 {
            let full = p.clone().with_jitter(false).backoff(retry);
            for _ in 0..50 {
                let d = p.backoff(retry);
                assert!(d >= full / 2 && d <= full, "{d:?} outside {full:?}");
            }
        }
    }

    #[test]
    fn every_setting_reads_back() {
        let p = RetryPolicy::default()
            .with_max_attempts(7)
            .with_initial_backoff(Duration::from_millis(3))
            .with_max_backoff(Duration::from_secs(4))
            .with_jitter(false)
            .with_max_retry_after(Duration::from_secs(5));
        assert_eq!(p.max_attempts(), 7);
        assert_eq!(p.initial_backoff(), Duration::from_millis(3));
        assert_eq!(p.max_backoff(), Duration::from_secs(4));
        assert!(!p.jitter());
        assert!(p.clone().with_jitter(true).jitter());
        assert_eq!(p.max_retry_after(), Duration::from_secs(5));
    }

    #[test]
    fn jitter_varies_the_wait() {
        let p = RetryPolicy::default();
        let waits: std::collections::BTreeSet<Duration> = (0..50).map(|_| p.backoff(3)).collect();
        assert!(waits.len() > 1, "50 jittered waits were all {waits:?}");
        assert_eq!(
            p.clone().with_jitter(false).backoff(3),
            Duration::from_millis(800)
        );
    }

    #[test]
    fn retry_after_is_read_on_429_and_503_only() {
        assert!(honours_retry_after(429) && honours_retry_after(503));
        for status in [200, 404, 500, 502, 504] {
            assert!(!honours_retry_after(status), "{status}");
        }
    }

    #[test]
    fn zero_attempts_means_one() {
        assert_eq!(
            RetryPolicy::default().with_max_attempts(0).max_attempts(),
            1
        );
    }

    #[test]
    fn only_safe_requests_are_retried() {
        for status in [429, 502, 503, 504] {
            assert!(may_retry(true, Failure::Status(status)), "GET {status}");
        }
        for status in [200, 400, 404, 408, 409, 500] {
            assert!(!may_retry(true, Failure::Status(status)), "GET {status}");
        }
        assert!(may_retry(false, Failure::Status(429)));
        for status in [500, 502, 503, 504] {
            assert!(!may_retry(false, Failure::Status(status)), "POST {status}");
        }
        assert!(may_retry(false, Failure::NotSent));
        assert!(!may_retry(false, Failure::Interrupted));
        assert!(may_retry(true, Failure::Interrupted));
        assert!(!may_retry(true, Failure::Final));
        assert!(is_idempotent(&Method::PUT) && !is_idempotent(&Method::PATCH));
    }

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
        for garbage in ["soon", "-3", "", "inf", "NaN", "1s"] {
            assert_eq!(parse_retry_after(&v(garbage), now), None, "{garbage:?}");
        }
    }

    #[test]
    fn a_retry_after_too_large_to_represent_is_the_longest_wait() {
        let now = SystemTime::UNIX_EPOCH;
        let v = |s: &str| HeaderValue::from_str(s).unwrap();
        for huge in [
            "99999999999999999999",
            "1e20",
            "1e400",
            "18446744073709551616",
        ] {
            assert_eq!(
                parse_retry_after(&v(huge), now),
                Some(Duration::MAX),
                "{huge}"
            );
        }
    }
}
