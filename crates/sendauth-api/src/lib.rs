#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;
#[allow(missing_docs, clippy::all)]
mod generated;
mod pagination;
mod update;

pub use api_runtime::{
    ApiError, ClientConfig, ConfigError, Credentials, ErrorKind, Listing, RateLimits, RetryPolicy,
    Timeouts, UnknownValue,
};
pub use generated::*;

/// The production base URL of the SendAuth API.
pub const DEFAULT_BASE_URL: &str = "https://app.sendauth.com";
