#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;
#[allow(missing_docs, clippy::all)]
mod generated;
mod pagination;
mod update;

pub use api_runtime::{
    ApiError, ClientConfig, Clock, ConfigError, Credentials, ErrorKind, ManualClock, RateLimits,
    RetryPolicy, Timeouts, UnknownValue, install_crypto_provider, reqwest,
};
/// The `chrono` version this crate's API uses: dates and times (`DateTime<Utc>`) in the types and setters.
pub use chrono;
pub use generated::*;
/// The `serde_json` version this crate's API uses: JSON values (`Value`, `Map`) in the types.
pub use serde_json;
/// The `uuid` version this crate's API uses: ids (`Uuid`) in the types and setters.
pub use uuid;

/// The production base URL of the SendAuth API.
pub const DEFAULT_BASE_URL: &str = "https://app.sendauth.com";
