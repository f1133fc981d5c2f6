#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;
#[allow(missing_docs, clippy::all)]
mod generated;

/// A rate-limit budget shared through Redis by every process of a fleet (feature `redis`).
#[cfg(feature = "redis")]
pub use api_runtime::RedisStore;
pub use api_runtime::{
    ApiError, ClientConfig, Clock, ConfigError, Credentials, ErrorKind, ManualClock, OptionalValue,
    RateLimits, RetryPolicy, Timeouts, UnknownValue, install_crypto_provider, reqwest,
};
pub use auth::api_key_credentials;
/// The `chrono` crate, at the version the models use (timestamps are
/// `chrono::DateTime<chrono::Utc>`).
pub use chrono;
pub use generated::*;
/// The `serde_json` crate, at the version the models use (fields they do not list are kept
/// as `serde_json::Value`s).
pub use serde_json;

/// The production base URL of the Cerego partner API.
pub const DEFAULT_BASE_URL: &str = "https://partners.cerego.com";
