#![doc = include_str!("../README.md")]

/// The Zendesk Support API v2 client: users, tags, job statuses (feature `zendesk`).
#[cfg(feature = "zendesk")]
pub use zendesk_api as zendesk;

/// The Cerego partner API v3 client: user tags (feature `cerego`).
#[cfg(feature = "cerego")]
pub use cerego_api as cerego;

/// The SendAuth API v1 client: users (feature `sendauth`).
#[cfg(feature = "sendauth")]
pub use sendauth_api as sendauth;

/// The runtime every client shares: configuration, credentials, errors, pagination.
pub use api_runtime as runtime;

/// A rate-limit budget shared through Redis by every process of a fleet (feature `redis`).
#[cfg(feature = "redis")]
pub use api_runtime::RedisStore;
pub use api_runtime::{
    ApiError, ClientConfig, Clock, ConfigError, Credentials, ErrorKind, ManualClock, RateLimits,
    ResumePosition, RetryPolicy, Timeouts, UnknownValue, install_crypto_provider, reqwest,
};

/// The workspace README's examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct WorkspaceReadme;
