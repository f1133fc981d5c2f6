#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

#[allow(missing_docs, clippy::all)]
mod generated;
mod pagination;

pub use api_runtime::{
    ApiError, ClientConfig, ConfigError, Credentials, ErrorKind, RetryPolicy, Timeouts,
    UnknownValue,
};
pub use generated::*;

/// The production base URL of the SendAuth API.
pub const DEFAULT_BASE_URL: &str = "https://app.sendauth.com";

api_runtime::impl_client!(
    Client,
    /// A client with explicit credentials and configuration (another base URL, retry
    /// policy, timeouts, body limit, TLS roots). Without a base URL in `config`, requests go
    /// to [`DEFAULT_BASE_URL`].
    service: "sendauth",
    default_base_url: Some(DEFAULT_BASE_URL),
    operations: generated::OPERATIONS,
);

impl Client {
    /// A client for the real SendAuth API with HTTP Basic credentials, with the default
    /// retry policy and timeouts.
    ///
    /// Fails if a part is empty, contains a control character, or the username contains `:`.
    pub fn with_basic_auth(username: &str, password: &str) -> Result<Self, ConfigError> {
        Self::with_config(Credentials::basic(username, password)?, ClientConfig::new())
    }
}
