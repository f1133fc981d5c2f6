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
        Self::with_config(api_key_credentials(api_key)?, ClientConfig::new())
    }
}

/// The credentials of a Cerego API key (`Authorization: Bearer <API_KEY>`), for
/// [`Client::with_config`]. A key that cannot be used is reported as the `API key`: "invalid
/// credential: API key is empty".
pub fn api_key_credentials(api_key: &str) -> Result<Credentials, ConfigError> {
    Credentials::bearer(api_key).map_err(|error| match error {
        ConfigError::InvalidCredential { reason, .. } => ConfigError::InvalidCredential {
            field: "API key",
            reason,
        },
        other => other,
    })
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
