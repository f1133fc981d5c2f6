//! The OAuth 2.0 client-credentials grant (RFC 6749 §4.4): a [`TokenProvider`] that asks a
//! token endpoint for bearer tokens with a client's own identifier and secret.
//!
//! ```text
//! TokenCache (token.rs) ─▶ ClientCredentials::fetch_token
//!                            POST token_url                   (a runtime of its own, retried
//!                              Authorization: Basic id:secret  as a token endpoint's calls)
//!                              grant_type=client_credentials&scope=…
//!                          ◀─ access_token, token_type (Bearer), expires_in
//! ```
//!
//! The cache of the client that uses it decides when to ask (first call, ahead of expiry,
//! after a 401); this module only fetches.

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Deserialize;

use crate::config::{ClientConfig, validate_base_url};
use crate::credentials::{Credentials, form_encoded};
use crate::error::{ApiError, ConfigError, ErrorKind};
use crate::operation::OperationSpec;
use crate::runtime::Runtime;
use crate::token::{AccessToken, TokenProvider, TokenRequest, check_secret_part, oauth_refusal};

/// The lifetime a token is given when the token endpoint's answer has no `expires_in` (RFC
/// 6749 §5.1 makes it optional): one hour, unless
/// [`ClientCredentials::default_lifetime`] says otherwise. The token is renewed ahead of it
/// (see [`renewal_margin`](crate::renewal_margin)), and at once if the server refuses it
/// earlier.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The token request, as errors and spans name it.
static TOKEN_REQUEST: OperationSpec = OperationSpec {
    id: "oauth2_client_credentials",
    method: "POST",
    path: "",
    string_path_params: &[],
    authenticated: false,
};

/// Bearer tokens from an OAuth 2.0 token endpoint by the client-credentials grant (RFC 6749
/// §4.4): server to server, no user present.
///
/// Each token request is a `POST` to the token URL with the body
/// `grant_type=client_credentials` (and `scope=…` when scopes are given), form-encoded
/// (`application/x-www-form-urlencoded`), and the client's identifier and secret in an HTTP
/// Basic `Authorization` header, each form-encoded first (RFC 6749 §2.3.1: the method every
/// OAuth server must support). The answer's `access_token` is used when its `token_type` is
/// `Bearer` (in any case); its `expires_in` sets when it is renewed, and without one the
/// token is given [`DEFAULT_TOKEN_LIFETIME`].
///
/// A refusal (400 or 401: `invalid_client`, `invalid_grant`, `invalid_scope` …) fails the
/// call that wanted the token with an [`ErrorKind::Auth`] error naming the OAuth `error`
/// code; a token endpoint's 5xx, 429 and network failures are retried by the client's retry
/// policy. Neither the secret nor a token appears in `Debug`, in errors or in traces.
///
/// ```
/// use api_runtime::{ClientCredentials, Credentials};
///
/// # fn main() -> Result<(), api_runtime::ConfigError> {
/// let grant = ClientCredentials::new(
///     "https://auth.example.com/oauth/token",
///     "sync-service",
///     "the-client-secret",
///     "users:read users:write",
/// )?;
/// let credentials = Credentials::from_provider(grant);
/// # let _ = credentials;
/// # Ok(())
/// # }
/// ```
pub struct ClientCredentials {
    token_url: String,
    client_id: String,
    /// `Basic base64(urlencode(id):urlencode(secret))`, marked sensitive.
    authorization: HeaderValue,
    /// The secret as given, to mask in errors.
    secret: String,
    /// The form body, `grant_type=client_credentials[&scope=…]`.
    body: String,
    scope: Option<String>,
    default_lifetime: Duration,
    http: reqwest::Client,
    runtime: Runtime,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("scope", &self.scope)
            .field("default_lifetime", &self.default_lifetime)
            .finish_non_exhaustive()
    }
}

impl ClientCredentials {
    /// The client-credentials grant at `token_url` for the client `client_id` with
    /// `client_secret`, asking for `scope` (space-separated, `"read write"`; empty: no
    /// `scope` parameter, the server's default scopes). Token requests use the default
    /// [`ClientConfig`]'s connection settings, timeouts and retry policy.
    ///
    /// Fails if the token URL is not an absolute `http` or `https` URL without credentials,
    /// the identifier or the secret is empty or contains a control character, or the scope
    /// contains a control character.
    pub fn new(
        token_url: &str,
        client_id: &str,
        client_secret: &str,
        scope: &str,
    ) -> Result<Self, ConfigError> {
        Self::with_config(
            token_url,
            client_id,
            client_secret,
            scope,
            &ClientConfig::new(),
        )
    }

    /// [`new`](Self::new), with the token requests sent under `config`: its TLS roots, proxy,
    /// `reqwest::Client`, timeouts, retry policy and clock (its base URL is not used: the
    /// requests go to `token_url`).
    pub fn with_config(
        token_url: &str,
        client_id: &str,
        client_secret: &str,
        scope: &str,
        config: &ClientConfig,
    ) -> Result<Self, ConfigError> {
        let token_url = validate_base_url(token_url)?;
        check_secret_part("client_id", client_id)?;
        check_secret_part("client_secret", client_secret)?;
        if scope.chars().any(char::is_control) {
            return Err(ConfigError::InvalidCredential {
                field: "scope",
                reason: "contains a control character (CR, LF, …)",
            });
        }
        let scope =
            Some(scope.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|s| !s.is_empty());
        // RFC 6749 §2.3.1: the identifier and the secret are form-encoded, then joined by `:`
        // for HTTP Basic (so a `:` in either is sent as `%3A`).
        let authorization =
            Credentials::basic(&form_encoded(client_id), &form_encoded(client_secret))?
                .header_value()
                .cloned()
                .ok_or(ConfigError::InvalidCredential {
                    field: "client_secret",
                    reason: "cannot be sent in an HTTP header",
                })?;
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.append_pair("grant_type", "client_credentials");
        if let Some(scope) = &scope {
            body.append_pair("scope", scope);
        }
        let config = config.clone().base_url(token_url.clone());
        let (_, http, runtime) = config.build("oauth2", None, None, &[])?;
        Ok(Self {
            token_url,
            client_id: client_id.to_string(),
            authorization,
            secret: client_secret.to_string(),
            body: body.finish(),
            scope,
            default_lifetime: DEFAULT_TOKEN_LIFETIME,
            http,
            runtime: runtime.for_token_endpoint(),
        })
    }

    /// The lifetime given to a token whose answer has no `expires_in` (instead of
    /// [`DEFAULT_TOKEN_LIFETIME`]); at least one second.
    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = lifetime.max(Duration::from_secs(1));
        self
    }

    /// The token URL requests go to.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// The client's identifier.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The scopes asked for, space-separated (`None`: the server's default).
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// `Credentials::from_provider(self)`: a client that authenticates with this grant's
    /// tokens.
    pub fn into_credentials(self) -> Credentials {
        Credentials::from_provider(self)
    }

    /// Masks what this grant sends in `error`'s `Display` and `Debug`.
    fn masked(&self, error: ApiError) -> ApiError {
        error
            .with_secret(&self.secret)
            .with_secret_header(&self.authorization)
    }

    async fn fetch(&self, request: TokenRequest) -> Result<AccessToken, ApiError> {
        let runtime = (self.runtime).with_timeouts(
            self.runtime
                .timeouts()
                .clone()
                .with_call(request.remaining()),
        );
        let build = || {
            self.http
                .post(&self.token_url)
                .header(AUTHORIZATION, self.authorization.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(ACCEPT, "application/json")
                .body(self.body.clone())
                .build()
        };
        let answer = runtime
            .send_json::<TokenAnswer>(&self.http, &build, &TOKEN_REQUEST)
            .await
            .map_err(|error| self.masked(self.refusal(error)))?
            .into_inner();
        if !answer.token_type.eq_ignore_ascii_case("bearer") {
            let shown: String = answer.token_type.chars().take(40).collect();
            return Err(self.invalid_answer(&format!(
                "its token_type is `{}`, not Bearer: the client sends bearer tokens only",
                shown.escape_debug()
            )));
        }
        let lifetime = match answer.expires_in {
            Some(secs) if secs > 0 => Duration::from_secs(secs),
            _ => self.default_lifetime,
        };
        AccessToken::bearer(&answer.access_token, Some(lifetime))
            .map_err(|e| self.invalid_answer(&e.to_string()))
    }

    /// A 400 or 401 from the token endpoint is a refusal of the client or the grant: an
    /// [`ErrorKind::Auth`] error (not retried) naming the OAuth `error` code.
    fn refusal(&self, error: ApiError) -> ApiError {
        let Some(code) = oauth_refusal(&error) else {
            return error;
        };
        let message = format!(
            "the token endpoint {} refused the client_credentials grant of client `{}`: \
             {code}; check the client's identifier, secret and scopes",
            self.token_url, self.client_id,
        );
        error.with_kind(ErrorKind::Auth, message)
    }

    fn invalid_answer(&self, reason: &str) -> ApiError {
        ApiError::new(
            ErrorKind::Auth,
            format!(
                "the token endpoint {} answered with an unusable token: {reason}",
                self.token_url
            ),
        )
        .with_operation(TOKEN_REQUEST.id)
    }
}

/// The constructor for the client-credentials grant sits here, beside the grant, so that
/// `credentials.rs` does not depend on the token endpoint's runtime.
impl Credentials {
    /// Bearer tokens from the OAuth 2.0 client-credentials grant at `token_url`, which the
    /// client obtains and renews itself: [`ClientCredentials::new`] as credentials (see
    /// there for what is sent and how it fails).
    pub fn client_credentials(
        token_url: &str,
        client_id: &str,
        client_secret: &str,
        scope: &str,
    ) -> Result<Self, ConfigError> {
        ClientCredentials::new(token_url, client_id, client_secret, scope)
            .map(ClientCredentials::into_credentials)
    }
}

impl TokenProvider for ClientCredentials {
    fn fetch_token(&self, request: TokenRequest) -> BoxFuture<'_, Result<AccessToken, ApiError>> {
        Box::pin(self.fetch(request))
    }
}

/// A successful token answer (RFC 6749 §5.1); other fields are ignored.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    token_type: String,
    #[serde(default, deserialize_with = "seconds")]
    expires_in: Option<u64>,
}

/// `expires_in` as a number of seconds; some servers send it as a string (`"3600"`) or a
/// float. Anything else is taken as absent.
fn seconds<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(match value {
        serde_json::Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 1.0)
                .map(|f| f as u64)
        }),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests;
