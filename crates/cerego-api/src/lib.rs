#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;
#[allow(missing_docs, clippy::all)]
mod generated;

/// A rate-limit budget shared through Redis by every process of a fleet (feature `redis`).
#[cfg(feature = "redis")]
pub use api_runtime::RedisStore;
pub use api_runtime::{
    ApiError, ClientConfig, ConfigError, Credentials, ErrorKind, RateLimits, RetryPolicy, Timeouts,
    UnknownValue,
};
pub use generated::*;

/// The production base URL of the Cerego partner API.
pub const DEFAULT_BASE_URL: &str = "https://partners.cerego.com";
