//! Constructors: HTTP Basic credentials and the base URL.
//!
//! (They sit in the first module by name so that the docs list them before the operations.)

use crate::{Client, ClientConfig, ConfigError, Credentials, DEFAULT_BASE_URL, generated};

impl Client {
    /// A client for the real SendAuth API with HTTP Basic credentials, with the default
    /// retry policy and timeouts.
    ///
    /// Fails if a part is empty, contains a control character, or the username contains `:`.
    pub fn with_basic_auth(username: &str, password: &str) -> Result<Self, ConfigError> {
        Self::with_config(Credentials::basic(username, password)?, ClientConfig::new())
    }
}

api_runtime::impl_client!(
    Client,
    /// A client with explicit credentials and configuration (another base URL, retry
    /// policy, timeouts, body limit, TLS roots). Without a base URL in `config`, requests go
    /// to [`DEFAULT_BASE_URL`].
    service: "sendauth",
    default_base_url: Some(DEFAULT_BASE_URL),
    operations: generated::OPERATIONS,
);
