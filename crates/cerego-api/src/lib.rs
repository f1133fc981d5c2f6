#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

#[allow(missing_docs, clippy::all)]
mod generated;

pub use api_runtime::{
    ApiError, ClientConfig, ConfigError, Credentials, ErrorKind, RetryPolicy, Timeouts,
};
pub use generated::*;

/// The production base URL of the Cerego partner API.
pub const DEFAULT_BASE_URL: &str = "https://partners.cerego.com";

api_runtime::impl_client_hooks!(Client);

impl Client {
    /// A client for the real Cerego partner API, authenticated with an API key
    /// (`Authorization: Bearer <API_KEY>`), with the default retry policy and timeouts.
    ///
    /// Fails if the key is empty or contains whitespace or control characters.
    pub fn with_api_key(api_key: &str) -> Result<Self, ConfigError> {
        Self::with_config(Credentials::bearer(api_key)?, ClientConfig::new())
    }

    /// A client with explicit credentials and configuration (another base URL, retry
    /// policy, timeouts, body limit, TLS roots).
    pub fn with_config(
        credentials: Credentials,
        config: ClientConfig,
    ) -> Result<Self, ConfigError> {
        let (base_url, http, runtime) = config.build(
            "cerego",
            Some(DEFAULT_BASE_URL),
            Some(credentials),
            generated::OPERATIONS,
        )?;
        Ok(Self::new_with_client(&base_url, http, runtime))
    }
}
