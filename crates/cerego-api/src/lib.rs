#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;
#[allow(missing_docs, clippy::all)]
mod generated;

pub use api_runtime::{
    ApiError, ClientConfig, Clock, ConfigError, Credentials, ErrorKind, ManualClock, RateLimits,
    RetryPolicy, Timeouts, UnknownValue, install_crypto_provider, reqwest,
};
/// The `chrono` version this crate's API uses: dates and times (`DateTime<Utc>`) in the types and setters.
pub use chrono;
pub use generated::*;

/// The production base URL of the Cerego partner API.
pub const DEFAULT_BASE_URL: &str = "https://partners.cerego.com";
