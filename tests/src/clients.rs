//! One client per service, pointed at a test server, with test credentials.

use user_apis::runtime::{ClientConfig, Credentials, ManualClock, RetryPolicy};
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
    /// Zendesk OAuth client identifier (not a secret: the token requests send it as is).
    pub const ZENDESK_OAUTH_CLIENT_ID: &str = "user_apis_test_client";
    /// Zendesk OAuth client secret.
    pub const ZENDESK_OAUTH_CLIENT_SECRET: &str = "zendesk-test-oauth-client-secret";
    /// A Zendesk OAuth refresh token.
    pub const ZENDESK_OAUTH_REFRESH_TOKEN: &str = "zendesk-test-oauth-refresh-token";
    /// A Zendesk OAuth authorization code.
    pub const ZENDESK_OAUTH_CODE: &str = "zendesk-test-oauth-authorization-code";
    /// A PKCE code verifier for [`ZENDESK_OAUTH_CODE`].
    pub const ZENDESK_OAUTH_CODE_VERIFIER: &str = "zendesk-test-oauth-pkce-code-verifier";
    /// A Zendesk OAuth access token, as a token endpoint answers it.
    pub const ZENDESK_OAUTH_ACCESS_TOKEN: &str = "zendesk-test-oauth-access-token";

    /// Every secret, for leak checks.
    pub const ALL: &[&str] = &[
        SENDAUTH_PASSWORD,
        CEREGO_API_KEY,
        ZENDESK_API_TOKEN,
        ZENDESK_OAUTH_CLIENT_SECRET,
        ZENDESK_OAUTH_REFRESH_TOKEN,
        ZENDESK_OAUTH_CODE,
        ZENDESK_OAUTH_CODE_VERIFIER,
        ZENDESK_OAUTH_ACCESS_TOKEN,
    ];
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
        Self::with(|_| {
            ClientConfig::new()
                .base_url(base_url)
                .retry(RetryPolicy::disabled())
        })
    }

    /// [`Clients::new`] on a [`ManualClock`]: the waits their rate limits impose (the
    /// incremental exports' ten requests a minute: six seconds before each next page) pass at
    /// once, for the tests about what a body decodes to rather than when it is fetched.
    pub fn on_manual_clock(base_url: &str) -> Self {
        let manual = ManualClock::new();
        Self::with(|_| {
            ClientConfig::new()
                .base_url(base_url)
                .retry(RetryPolicy::disabled())
                .clock(manual.clock())
        })
    }

    /// Clients with a config per service (`"zendesk"`, `"cerego"`, `"sendauth"`).
    pub fn with(config: impl Fn(&str) -> ClientConfig) -> Self {
        Self {
            zendesk: zendesk_client(config("zendesk")),
            cerego: cerego_client(config("cerego")),
            sendauth: sendauth_client(config("sendauth")),
        }
    }
}

/// The test credentials of a service (`"zendesk"`: API token, `"cerego"`: bearer key,
/// `"sendauth"`: Basic).
///
/// # Panics
///
/// On another service name.
pub fn credentials(service: &str) -> Credentials {
    use secrets::*;
    let credentials = match service {
        "zendesk" => zendesk::api_token_credentials(ZENDESK_EMAIL, ZENDESK_API_TOKEN),
        "cerego" => Credentials::bearer(CEREGO_API_KEY),
        "sendauth" => Credentials::basic(SENDAUTH_USER, SENDAUTH_PASSWORD),
        other => panic!("unknown service {other}"),
    };
    credentials.expect("valid test credentials")
}

/// A Zendesk client with the test credentials; `config` must carry a base URL.
pub fn zendesk_client(config: ClientConfig) -> zendesk::Client {
    zendesk::Client::with_config(credentials("zendesk"), config).expect("client builds")
}

/// A Cerego client with the test credentials.
pub fn cerego_client(config: ClientConfig) -> cerego::Client {
    cerego::Client::with_config(credentials("cerego"), config).expect("client builds")
}

/// A SendAuth client with the test credentials.
pub fn sendauth_client(config: ClientConfig) -> sendauth::Client {
    sendauth::Client::with_config(credentials("sendauth"), config).expect("client builds")
}
