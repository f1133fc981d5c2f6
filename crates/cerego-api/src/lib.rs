#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

#[allow(missing_docs, clippy::all)]
mod generated;

pub use api_runtime::{
    ApiError, ClientConfig, ConfigError, Credentials, ErrorKind, RetryPolicy, Timeouts,
    UnknownValue,
};
pub use generated::*;

/// The production base URL of the Cerego partner API.
pub const DEFAULT_BASE_URL: &str = "https://partners.cerego.com";

api_runtime::impl_client!(
    Client,
    /// A client with explicit credentials and configuration (another base URL, retry
    /// policy, timeouts, body limit, TLS roots). Without a base URL in `config`, requests go
    /// to [`DEFAULT_BASE_URL`].
    service: "cerego",
    default_base_url: Some(DEFAULT_BASE_URL),
    operations: generated::OPERATIONS,
);

impl Client {
    /// A client for the real Cerego partner API, authenticated with an API key
    /// (`Authorization: Bearer <API_KEY>`), with the default retry policy and timeouts.
    ///
    /// Fails if the key is empty or contains whitespace or control characters.
    pub fn with_api_key(api_key: &str) -> Result<Self, ConfigError> {
        Self::with_config(Credentials::bearer(api_key)?, ClientConfig::new())
    }
}
