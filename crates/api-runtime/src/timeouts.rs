//! Time limits for a call.

use std::time::Duration;

/// Time limits for a call.
///
/// `Duration::MAX` means "no limit" for any of them.
///
/// ```
/// use std::time::Duration;
/// use api_runtime::Timeouts;
///
/// let timeouts = Timeouts::default().with_call(Duration::from_secs(30));
/// assert_eq!(timeouts.call(), Duration::from_secs(30));
/// assert_eq!(timeouts.attempt(), Duration::from_secs(30));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    pub(crate) connect: Duration,
    pub(crate) attempt: Duration,
    pub(crate) call: Duration,
}

impl Default for Timeouts {
    /// Connect 10 s, attempt 30 s, whole call 120 s.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            attempt: Duration::from_secs(30),
            call: Duration::from_secs(120),
        }
    }
}

impl Timeouts {
    /// Establishing a connection (TCP and TLS).
    pub fn with_connect(mut self, timeout: Duration) -> Self {
        self.connect = timeout;
        self
    }

    /// One attempt, from sending the request to the last byte of the response body.
    pub fn with_attempt(mut self, timeout: Duration) -> Self {
        self.attempt = timeout;
        self
    }

    /// The whole call, every attempt and every wait between them included. No attempt
    /// outlives it: each one's timeout is cut to what is left.
    pub fn with_call(mut self, timeout: Duration) -> Self {
        self.call = timeout;
        self
    }

    /// The connect timeout.
    pub fn connect(&self) -> Duration {
        self.connect
    }

    /// The per-attempt timeout.
    pub fn attempt(&self) -> Duration {
        self.attempt
    }

    /// The whole-call deadline.
    pub fn call(&self) -> Duration {
        self.call
    }
}
