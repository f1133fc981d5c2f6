#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;
#[allow(missing_docs, clippy::all)]
mod generated;
mod update;

/// A rate-limit budget shared through Redis by every process of a fleet (feature `redis`).
#[cfg(feature = "redis")]
pub use api_runtime::RedisStore;
pub use api_runtime::{
    ApiError, ClientConfig, Clock, ConfigError, Credentials, ErrorKind, Listing, ManualClock,
    RateLimits, ResumePosition, Resumed, RetryPolicy, Timeouts, UnknownValue,
    install_crypto_provider, reqwest,
};
/// The `chrono` crate, at the version the models use (timestamps are
/// `chrono::DateTime<chrono::Utc>`).
pub use chrono;
/// The `futures` crate, at the version the streams implement (`futures::StreamExt`,
/// `futures::TryStreamExt` to consume a [`Listing`]).
pub use futures;
pub use generated::*;
/// The `serde_json` crate, at the version the models use (fields they do not list are kept
/// as `serde_json::Value`s).
pub use serde_json;
/// The `uuid` crate, at the version the models use (user ids are [`uuid::Uuid`]).
pub use uuid;

/// The production base URL of the SendAuth API.
pub const DEFAULT_BASE_URL: &str = "https://app.sendauth.com";
