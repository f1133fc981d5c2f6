//! One client per service, pointed at a test server, with test credentials.

use user_apis::runtime::{ClientConfig, Credentials, RetryPolicy};
use user_apis::{cerego, sendauth, zendesk};

/// The test credentials. They are not secrets, but the tests treat them as if they were:
/// snapshots show them redacted, and tests check they appear nowhere else.
pub mod secrets {
    /// SendAuth Basic username.
    pub const SENDAUTH_USER: &str = "api-user";
    /// SendAuth Basic password.
    pub const SENDAUTH_PASSWORD: &str = "sendauth-test-password";
    /// Cerego API key.
    pub const CEREGO_API_KEY: &str = "cerego-test-api-key";
    /// Zendesk agent email.
    pub const ZENDESK_EMAIL: &str = "agent@example.com";
    /// Zendesk API token.
    pub const ZENDESK_API_TOKEN: &str = "zendesk-test-api-token";

    /// Every secret, for leak checks.
    pub const ALL: &[&str] = &[SENDAUTH_PASSWORD, CEREGO_API_KEY, ZENDESK_API_TOKEN];
}

/// A client per service.
#[derive(Debug)]
pub struct Clients {
    /// Zendesk (API token auth).
    pub zendesk: zendesk::Client,
    /// Cerego (Bearer API key).
    pub cerego: cerego::Client,
    /// SendAuth (Basic).
    pub sendauth: sendauth::Client,
}

impl Clients {
    /// Clients that send everything to `base_url`, without retries.
    pub fn new(base_url: &str) -> Self {
        Self::with(|service| {
            let _ = service;
            ClientConfig::new()
                .base_url(base_url)
                .retry(RetryPolicy::disabled())
        })
    }

    /// Clients with a config per service (`"zendesk"`, `"cerego"`, `"sendauth"`).
    pub fn with(config: impl Fn(&str) -> ClientConfig) -> Self {
        use secrets::*;
        fn build<T>(r: Result<T, user_apis::ConfigError>) -> T {
            r.expect("test clients build")
        }
        Self {
            zendesk: build(zendesk::Client::with_config(
                Credentials::basic(&format!("{ZENDESK_EMAIL}/token"), ZENDESK_API_TOKEN)
                    .expect("valid"),
                config("zendesk"),
            )),
            cerego: build(cerego::Client::with_config(
                Credentials::bearer(CEREGO_API_KEY).expect("valid"),
                config("cerego"),
            )),
            sendauth: build(sendauth::Client::with_config(
                Credentials::basic(SENDAUTH_USER, SENDAUTH_PASSWORD).expect("valid"),
                config("sendauth"),
            )),
        }
    }
}
