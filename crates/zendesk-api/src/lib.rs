#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;
mod bulk;
#[allow(missing_docs, clippy::all)]
mod generated;
mod incremental;
mod oauth;
mod pagination;

/// A rate-limit budget shared through Redis by every process of a fleet (feature `redis`).
#[cfg(feature = "redis")]
pub use api_runtime::RedisStore;
pub use api_runtime::{
    AccessToken, ApiError, ClientConfig, Clock, ConfigError, Credentials, ErrorKind, Listing,
    ManualClock, RateLimits, RenewalReason, ResumePosition, Resumed, RetryPolicy, Timeouts,
    TokenProvider, TokenRequest, UnknownValue, install_crypto_provider, reqwest,
};
pub use auth::{api_token_credentials, subdomain_url};
pub use bulk::{
    BulkErrors, BulkInterrupted, BulkOptions, BulkOutcome, BulkUserResult, IdList,
    MAX_USERS_PER_JOB, UndecodableResult,
};
/// The `chrono` crate, at the version the models use (timestamps are
/// `chrono::DateTime<chrono::Utc>`).
pub use chrono;
/// The `futures` crate, at the version the streams implement (`futures::StreamExt`,
/// `futures::TryStreamExt` to consume a [`Listing`]).
pub use futures;
pub use generated::*;
pub use incremental::{
    DEFAULT_EXPORT_REQUESTS_PER_MINUTE, ExportPage, ExportStart, MAX_EXPORT_PER_PAGE, UserExport,
};
pub use oauth::{
    AuthorizationRequest, ClientCredentials, DEFAULT_TOKEN_LIFETIME, OAuthClient, PkceVerifier,
    StoreError, TokenSet, TokenStore, authorization_request,
};
/// The `serde_json` crate, at the version the models use (fields they do not list are kept
/// as `serde_json::Value`s).
pub use serde_json;
