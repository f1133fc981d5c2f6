//! Constructors: the API key and the base URL.
//!
//! (They sit in the first module by name so that the docs list them before the operations.)

use crate::{Client, ClientConfig, ConfigError, Credentials, DEFAULT_BASE_URL, generated};

impl Client {
    /// A client for the real Cerego partner API, authenticated with an API key
    /// (`Authorization: Bearer <API_KEY>`), with the default retry policy and timeouts.
    ///
    /// Fails if the key is empty or contains whitespace or control characters.
    pub fn with_api_key(api_key: &str) -> Result<Self, ConfigError> {
        Self::with_config(Credentials::bearer(api_key)?, ClientConfig::new())
    }
}

api_runtime::impl_client!(
    Client,
    /// A client with explicit credentials and configuration (another base URL, retry
    /// policy, timeouts, body limit, TLS roots). Without a base URL in `config`, requests go
    /// to [`DEFAULT_BASE_URL`].
    service: "cerego",
    default_base_url: Some(DEFAULT_BASE_URL),
    operations: generated::OPERATIONS,
);
