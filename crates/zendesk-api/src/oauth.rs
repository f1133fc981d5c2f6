//! OAuth access tokens that the client obtains and renews itself: the client-credentials
//! grant (server to server), the refresh-token grant with a store for each rotated token set,
//! and the authorization-code grant with PKCE.
//!
//! Zendesk retires API tokens: none can be created since 2026-10-27, and every remaining one
//! stops working on 2027-04-30. OAuth access tokens expire (30 minutes by default for OAuth
//! clients created since 2026-04-30); a client built here renews its token ahead of expiry,
//! once however many calls are waiting, and once more when Zendesk answers `401
//! invalid_token` (the refused request is then sent again, once).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use api_runtime::{AccessToken, RenewalReason, TokenProvider, TokenRequest};
use futures::future::BoxFuture;

use crate::types::{OAuthGrantType, OAuthTokenRequest};
use crate::{ApiError, Client, ClientConfig, ConfigError, Credentials, ErrorKind, subdomain_url};

/// The access-token lifetime the client asks for (`expires_in`) unless told otherwise: one
/// hour. Zendesk accepts more than 300 seconds and less than 172,800 (two days).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The shortest access-token lifetime Zendesk grants (`expires_in` must be more than this).
const MIN_LIFETIME_SECS: u64 = 300;
/// Zendesk's `expires_in` must be less than this.
const MAX_LIFETIME_SECS: u64 = 172_800;

/// The token endpoint, for error messages.
const TOKEN_ENDPOINT: &str = "POST /oauth/tokens";

/// An OAuth client registered in Zendesk (Admin Center › Apps and integrations › APIs ›
/// OAuth clients): its *identifier* (not its numeric id) and its secret.
///
/// `Debug` never shows the secret.
#[derive(Clone)]
pub struct OAuthClient {
    id: String,
    secret: String,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl OAuthClient {
    /// The OAuth client `identifier` with its `secret`.
    ///
    /// Fails if either is empty or contains whitespace or a control character.
    pub fn new(identifier: &str, secret: &str) -> Result<Self, ConfigError> {
        check("client_id", identifier)?;
        check("client_secret", secret)?;
        Ok(Self {
            id: identifier.to_string(),
            secret: secret.to_string(),
        })
    }

    /// The OAuth client's identifier.
    pub fn id(&self) -> &str {
        &self.id
    }
}

fn check(field: &'static str, value: &str) -> Result<(), ConfigError> {
    let reason = if value.is_empty() {
        "is empty"
    } else if value.chars().any(char::is_control) {
        "contains a control character (CR, LF, …)"
    } else if value.chars().any(char::is_whitespace) {
        "contains whitespace"
    } else {
        return Ok(());
    };
    Err(ConfigError::InvalidCredential { field, reason })
}

/// The access-token lifetime to ask for, in Zendesk's bounds (more than 300 s, less than
/// 172,800 s): a shorter one is raised, a longer one lowered.
fn lifetime_secs(lifetime: Duration) -> i64 {
    let secs = lifetime
        .as_secs()
        .clamp(MIN_LIFETIME_SECS + 1, MAX_LIFETIME_SECS - 1);
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// A token set from the refresh-token or authorization-code grant: an access token and the
/// refresh token that renews it. Each refresh returns a new set and deletes the previous
/// one's tokens at Zendesk, so every new set must be kept ([`TokenStore`]).
///
/// `Debug` never shows a token.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSet {
    access_token: String,
    refresh_token: String,
    expires_in: Option<Duration>,
    refresh_token_expires_in: Option<Duration>,
    scope: Option<String>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field("refresh_token_expires_in", &self.refresh_token_expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

impl TokenSet {
    /// A token set kept from an earlier grant (read back from where a [`TokenStore`] saved
    /// it). The access token is used until Zendesk refuses it; then the refresh token renews
    /// it.
    ///
    /// Fails if a token is empty or contains whitespace or a control character.
    pub fn new(access_token: &str, refresh_token: &str) -> Result<Self, ConfigError> {
        check("access_token", access_token)?;
        check("refresh_token", refresh_token)?;
        Ok(Self {
            access_token: access_token.to_string(),
            refresh_token: refresh_token.to_string(),
            expires_in: None,
            refresh_token_expires_in: None,
            scope: None,
        })
    }

    /// The access token (a secret: keep it out of logs).
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The refresh token (a secret, and the only way to renew without a person: store it).
    pub fn refresh_token(&self) -> &str {
        &self.refresh_token
    }

    /// The access token's lifetime when it was issued, when Zendesk said it.
    pub fn expires_in(&self) -> Option<Duration> {
        self.expires_in
    }

    /// The refresh token's lifetime when it was issued, when Zendesk said it.
    pub fn refresh_token_expires_in(&self) -> Option<Duration> {
        self.refresh_token_expires_in
    }

    /// The scopes the tokens grant, space-separated, when Zendesk said them.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }
}

/// What a [`TokenStore`] returns when it could not keep a token set.
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// Where a refresh-token client keeps each new token set (a database row, a secrets
/// manager). Zendesk deletes the previous tokens when it issues new ones, so a set that is
/// lost means a person must authorize the integration again.
///
/// The client calls [`save`](Self::save) with every new set *before* it uses the new access
/// token. If saving fails, the call that needed the token fails with an
/// [`ErrorKind::Auth`] error that says so, and the set stays in memory: it is offered to the
/// store again before any later call uses it.
///
/// ```
/// use std::sync::Mutex;
/// use futures::future::BoxFuture;
/// use zendesk_api::{StoreError, TokenSet, TokenStore};
///
/// #[derive(Debug, Default)]
/// struct InMemory(Mutex<Option<TokenSet>>);
///
/// impl TokenStore for InMemory {
///     fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<(), StoreError>> {
///         Box::pin(async move {
///             *self.0.lock().map_err(|_| "poisoned")? = Some(tokens.clone());
///             Ok(())
///         })
///     }
/// }
/// ```
pub trait TokenStore: Send + Sync + fmt::Debug + 'static {
    /// Keeps `tokens`, replacing the previous set.
    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// A shared store (the caller keeps a handle to read what was saved).
impl<T: TokenStore + ?Sized> TokenStore for Arc<T> {
    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<(), StoreError>> {
        (**self).save(tokens)
    }
}

/// The grant a client renews its token with.
enum Grant {
    ClientCredentials {
        scope: String,
        lifetime: i64,
    },
    Refresh {
        state: tokio::sync::Mutex<RefreshState>,
        store: Arc<dyn TokenStore>,
        lifetime: i64,
    },
}

struct RefreshState {
    /// The refresh token that renews the current set.
    refresh_token: String,
    /// The access token of the set the client was built with, used first.
    initial_access: Option<String>,
    /// A new set the store has not kept yet: offered again before it is used.
    unsaved: Option<TokenSet>,
}

/// The token provider of a Zendesk client: runs the grant at `POST /oauth/tokens` with a
/// client of its own (no `Authorization` header, the same connection pool and clock).
struct ZendeskTokens {
    endpoint: TokenEndpoint,
    grant: Grant,
}

/// `POST /oauth/tokens` for one OAuth client: a client of its own (no `Authorization`
/// header, the same connection pool and clock) and the OAuth client's identity.
struct TokenEndpoint {
    client: Client,
    oauth: OAuthClient,
}

impl fmt::Debug for ZendeskTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grant = match &self.grant {
            Grant::ClientCredentials { .. } => "client_credentials",
            Grant::Refresh { .. } => "refresh_token",
        };
        f.debug_struct("ZendeskOAuth")
            .field("client", &self.endpoint.oauth)
            .field("grant", &grant)
            .finish_non_exhaustive()
    }
}

impl TokenProvider for ZendeskTokens {
    fn fetch_token(&self, request: TokenRequest) -> BoxFuture<'_, Result<AccessToken, ApiError>> {
        Box::pin(async move {
            match &self.grant {
                Grant::ClientCredentials { scope, lifetime } => {
                    let body = self
                        .endpoint
                        .request(OAuthGrantType::ClientCredentials, *lifetime);
                    let body = OAuthTokenRequest {
                        scope: Some(scope.clone()),
                        ..body
                    };
                    let (token, _) = self.endpoint.post(body, &request).await?;
                    Ok(token)
                }
                Grant::Refresh {
                    state,
                    store,
                    lifetime,
                } => {
                    self.refresh(state, store.as_ref(), *lifetime, &request)
                        .await
                }
            }
        })
    }
}

impl ZendeskTokens {
    async fn refresh(
        &self,
        state: &tokio::sync::Mutex<RefreshState>,
        store: &dyn TokenStore,
        lifetime: i64,
        request: &TokenRequest,
    ) -> Result<AccessToken, ApiError> {
        let mut state = state.lock().await;
        if let Some(unsaved) = state.unsaved.take() {
            // A set the store failed to keep: keep it before using it.
            return match save(store, &unsaved).await {
                Ok(()) => AccessToken::bearer(&unsaved.access_token, unsaved.expires_in)
                    .map_err(|e| invalid_answer(&e.to_string())),
                Err(error) => {
                    state.unsaved = Some(unsaved);
                    Err(error)
                }
            };
        }
        if request.reason() == RenewalReason::Initial
            && let Some(access) = state.initial_access.take()
        {
            return AccessToken::bearer(&access, None)
                .map(AccessToken::issued_earlier)
                .map_err(|e| invalid_answer(&e.to_string()));
        }
        state.initial_access = None;
        let body = OAuthTokenRequest {
            refresh_token: Some(state.refresh_token.clone()),
            ..self
                .endpoint
                .request(OAuthGrantType::RefreshToken, lifetime)
        };
        let (token, set) = self
            .endpoint
            .post(body, request)
            .await
            .map_err(|e| e.with_secret(&state.refresh_token))?;
        let Some(set) = set else {
            return Err(invalid_answer(
                "the refresh-token grant answered without a new refresh_token",
            ));
        };
        // Zendesk has deleted the previous tokens: the new refresh token is the only one.
        state.refresh_token = set.refresh_token.clone();
        match save(store, &set).await {
            Ok(()) => Ok(token),
            Err(error) => {
                state.unsaved = Some(set);
                Err(error)
            }
        }
    }
}

impl TokenEndpoint {
    fn request(&self, grant_type: OAuthGrantType, lifetime: i64) -> OAuthTokenRequest {
        OAuthTokenRequest {
            grant_type,
            client_id: self.oauth.id.clone(),
            client_secret: Some(self.oauth.secret.clone()),
            expires_in: Some(lifetime),
            scope: None,
            code: None,
            code_verifier: None,
            redirect_uri: None,
            refresh_token: None,
            refresh_token_expires_in: None,
        }
    }

    /// Runs one grant within the call's deadline and retry policy. A refusal (400, 401:
    /// `invalid_client`, `invalid_grant` …) is an [`ErrorKind::Auth`] error.
    async fn post(
        &self,
        body: OAuthTokenRequest,
        request: &TokenRequest,
    ) -> Result<(AccessToken, Option<TokenSet>), ApiError> {
        let secrets: Vec<String> = [
            Some(&self.oauth.secret),
            body.refresh_token.as_ref(),
            body.code.as_ref(),
            body.code_verifier.as_ref(),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        let mask = |error: ApiError| {
            secrets
                .iter()
                .fold(error, |error, secret| error.with_secret(secret))
        };
        let grant = body.grant_type;
        let endpoint = (self.client).with_timeouts(
            self.client
                .timeouts()
                .clone()
                .with_call(request.remaining()),
        );
        let answer = endpoint
            .create_token_for_grant_type()
            .body(body)
            .send()
            .await
            .map_err(|error| mask(refusal(error, grant)))?
            .into_inner();
        let lifetime = answer
            .expires_in
            .and_then(|secs| u64::try_from(secs).ok())
            .filter(|secs| *secs > 0)
            .map(Duration::from_secs);
        let token = AccessToken::bearer(&answer.access_token, lifetime)
            .map_err(|e| mask(invalid_answer(&e.to_string())))?;
        let set = answer.refresh_token.map(|refresh_token| TokenSet {
            access_token: answer.access_token,
            refresh_token,
            expires_in: lifetime,
            refresh_token_expires_in: answer
                .refresh_token_expires_in
                .and_then(|secs| u64::try_from(secs).ok())
                .map(Duration::from_secs),
            scope: answer.scope,
        });
        Ok((token, set))
    }
}

/// A token endpoint's 400 or 401 is a refusal of the client or the grant: an auth failure,
/// not retried.
fn refusal(error: ApiError, grant: OAuthGrantType) -> ApiError {
    let Some(code) = api_runtime::oauth_refusal(&error) else {
        return error;
    };
    let message = format!(
        "the token endpoint ({TOKEN_ENDPOINT}) refused the {grant} grant: {code}; check the \
         OAuth client's identifier and secret, and that the grant is still valid"
    );
    error.with_kind(ErrorKind::Auth, message)
}

fn invalid_answer(reason: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Auth,
        format!("the token endpoint ({TOKEN_ENDPOINT}) answered with an unusable token: {reason}"),
    )
}

async fn save(store: &dyn TokenStore, set: &TokenSet) -> Result<(), ApiError> {
    store.save(set).await.map_err(|error| {
        ApiError::new(
            ErrorKind::Auth,
            format!(
                "the token store could not keep the new token set ({error}); it stays in memory \
                 and is offered to the store again before it is used"
            ),
        )
        .with_secret(&set.access_token)
        .with_secret(&set.refresh_token)
    })
}

/// Client-credentials settings: the OAuth client, the scopes, and the access-token lifetime
/// to ask for.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    client: OAuthClient,
    scope: String,
    lifetime: Duration,
}

impl ClientCredentials {
    /// The client-credentials grant for `client` with `scope` (space-separated: `"read
    /// write"`, `"users:read users:write"`), asking for [`DEFAULT_TOKEN_LIFETIME`].
    ///
    /// Fails if the scope is empty or contains a control character.
    pub fn new(client: OAuthClient, scope: &str) -> Result<Self, ConfigError> {
        if scope.trim().is_empty() || scope.chars().any(char::is_control) {
            return Err(ConfigError::InvalidCredential {
                field: "scope",
                reason: "is empty or contains a control character",
            });
        }
        Ok(Self {
            client,
            scope: scope.split_whitespace().collect::<Vec<_>>().join(" "),
            lifetime: DEFAULT_TOKEN_LIFETIME,
        })
    }

    /// The access-token lifetime to ask for (`expires_in`), within Zendesk's bounds: more
    /// than 300 seconds and less than 172,800 (a value outside is moved inside).
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The lifetime asked for, in seconds, as sent.
    pub fn lifetime(&self) -> Duration {
        Duration::from_secs(lifetime_secs(self.lifetime).unsigned_abs())
    }
}

impl Client {
    /// A client for `https://{subdomain}.zendesk.com` that authenticates with OAuth access
    /// tokens from the client-credentials grant (server to server, no user present: what
    /// Zendesk recommends for integrations), which it obtains and renews itself.
    ///
    /// `client_id` is the OAuth client's *identifier*; `scope` is space-separated (`"read
    /// write"`, `"users:read users:write"`). Tokens are asked for with a lifetime of
    /// [`DEFAULT_TOKEN_LIFETIME`] and renewed ahead of expiry (see
    /// [`renewal_margin`](api_runtime::renewal_margin)); every clone of the client shares
    /// the token. For another host or lifetime, see
    /// [`with_client_credentials_config`](Self::with_client_credentials_config).
    ///
    /// ```
    /// # fn main() -> Result<(), zendesk_api::ConfigError> {
    /// let client = zendesk_api::Client::with_client_credentials(
    ///     "acme",
    ///     "acme_user_sync",
    ///     "the-client-secret",
    ///     "users:read users:write",
    /// )?;
    /// assert_eq!(client.base_url(), "https://acme.zendesk.com");
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_client_credentials(
        subdomain: &str,
        client_id: &str,
        client_secret: &str,
        scope: &str,
    ) -> Result<Self, ConfigError> {
        let grant = ClientCredentials::new(OAuthClient::new(client_id, client_secret)?, scope)?;
        Self::with_client_credentials_config(
            grant,
            ClientConfig::new().base_url(subdomain_url(subdomain)?),
        )
    }

    /// A client-credentials client with explicit settings and configuration (a sandbox or
    /// test host, a lifetime, retries …). The token requests go to the same base URL.
    pub fn with_client_credentials_config(
        grant: ClientCredentials,
        config: ClientConfig,
    ) -> Result<Self, ConfigError> {
        let lifetime = lifetime_secs(grant.lifetime);
        Self::with_grant(
            grant.client,
            Grant::ClientCredentials {
                scope: grant.scope,
                lifetime,
            },
            config,
        )
    }

    /// A client for `https://{subdomain}.zendesk.com` that authenticates with a token set
    /// from an earlier authorization (see [`authorization_request`] and
    /// [`Client::exchange_authorization_code`]) and renews it with the refresh-token grant.
    /// Each renewal returns a new set, which is given to `store` before its access token is
    /// used (see [`TokenStore`]).
    pub fn with_refresh_token(
        subdomain: &str,
        client: OAuthClient,
        tokens: TokenSet,
        store: impl TokenStore,
    ) -> Result<Self, ConfigError> {
        Self::with_refresh_token_config(
            client,
            tokens,
            store,
            ClientConfig::new().base_url(subdomain_url(subdomain)?),
        )
    }

    /// A refresh-token client with explicit configuration; the access tokens are asked for
    /// with a lifetime of [`DEFAULT_TOKEN_LIFETIME`].
    pub fn with_refresh_token_config(
        client: OAuthClient,
        tokens: TokenSet,
        store: impl TokenStore,
        config: ClientConfig,
    ) -> Result<Self, ConfigError> {
        let grant = Grant::Refresh {
            state: tokio::sync::Mutex::new(RefreshState {
                refresh_token: tokens.refresh_token,
                initial_access: Some(tokens.access_token),
                unsaved: None,
            }),
            store: Arc::new(store),
            lifetime: lifetime_secs(DEFAULT_TOKEN_LIFETIME),
        };
        Self::with_grant(client, grant, config)
    }

    fn with_grant(
        client: OAuthClient,
        grant: Grant,
        config: ClientConfig,
    ) -> Result<Self, ConfigError> {
        let endpoint = Self::token_endpoint_client(config.clone())?;
        let config = config.http_client(endpoint.http_client().clone());
        let provider = ZendeskTokens {
            endpoint: TokenEndpoint {
                client: endpoint,
                oauth: client,
            },
            grant,
        };
        Self::with_config(Credentials::from_provider(provider), config)
    }

    /// Exchanges an authorization code (what Zendesk sent to the redirect URI) for a token
    /// set, sending the PKCE verifier of the [`AuthorizationRequest`] that started the flow.
    /// Keep the set (a [`TokenStore`]) and build the client with
    /// [`with_refresh_token`](Self::with_refresh_token).
    pub async fn exchange_authorization_code(
        config: ClientConfig,
        client: &OAuthClient,
        code: &str,
        redirect_uri: &str,
        verifier: &PkceVerifier,
    ) -> Result<TokenSet, ApiError> {
        let endpoint = TokenEndpoint {
            client: Self::token_endpoint_client(config)
                .map_err(|e| ApiError::new(ErrorKind::InvalidRequest, e.to_string()))?,
            oauth: client.clone(),
        };
        let body = OAuthTokenRequest {
            code: Some(code.to_string()),
            redirect_uri: Some(redirect_uri.to_string()),
            code_verifier: Some(verifier.0.clone()),
            ..endpoint.request(
                OAuthGrantType::AuthorizationCode,
                lifetime_secs(DEFAULT_TOKEN_LIFETIME),
            )
        };
        let request = TokenRequest::new(
            RenewalReason::Initial,
            endpoint.client.timeouts().call(),
            endpoint.client.inner.clock().clone(),
        );
        let (_, set) = endpoint.post(body, &request).await?;
        set.ok_or_else(|| {
            invalid_answer("the authorization-code grant answered without a refresh_token")
        })
    }
}

/// A PKCE code verifier (RFC 7636): 32 random bytes, base64url-encoded. Keep it with the
/// `state` until the redirect comes back. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct PkceVerifier(String);

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier(<redacted>)")
    }
}

impl PkceVerifier {
    /// A verifier kept from the start of the flow (43 to 128 characters of `A-Z a-z 0-9 - .
    /// _ ~`).
    pub fn new(verifier: &str) -> Result<Self, ConfigError> {
        let valid = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if valid {
            Ok(Self(verifier.to_string()))
        } else {
            Err(ConfigError::InvalidCredential {
                field: "code_verifier",
                reason: "must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
            })
        }
    }

    /// The verifier, to keep until the redirect comes back (a secret).
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// Its S256 challenge: base64url(SHA-256(verifier)), without padding.
    pub fn challenge(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.0.as_bytes());
        base64url(digest.as_ref())
    }
}

/// Where to send the person who authorizes the integration, and what to keep until Zendesk
/// redirects back: the `state` to compare and the PKCE verifier for
/// [`Client::exchange_authorization_code`].
#[derive(Clone, Debug)]
pub struct AuthorizationRequest {
    url: String,
    state: String,
    verifier: PkceVerifier,
}

impl AuthorizationRequest {
    /// The authorization URL (`/oauth/authorizations/new` with `response_type=code`,
    /// `client_id`, `redirect_uri`, `scope`, `state`, `code_challenge` and
    /// `code_challenge_method=S256`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The random `state` the URL carries: the redirect must bring it back unchanged.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The PKCE verifier whose challenge the URL carries.
    pub fn verifier(&self) -> &PkceVerifier {
        &self.verifier
    }
}

/// Starts the authorization-code flow with PKCE: the URL of Zendesk's authorization page at
/// `base_url` (`https://{subdomain}.zendesk.com`, see [`subdomain_url`]) for `client_id`,
/// with a fresh random `state` and verifier.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use zendesk_api::{authorization_request, subdomain_url};
///
/// let request = authorization_request(
///     &subdomain_url("acme")?,
///     "acme_user_sync",
///     "https://sync.acme.example/oauth/callback",
///     "users:read users:write",
/// )?;
/// assert!(request.url().starts_with("https://acme.zendesk.com/oauth/authorizations/new?"));
/// assert!(request.url().contains(&request.verifier().challenge()));
/// # Ok(())
/// # }
/// ```
pub fn authorization_request(
    base_url: &str,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
) -> Result<AuthorizationRequest, ConfigError> {
    check("client_id", client_id)?;
    let state = base64url(&random_bytes::<16>()?);
    let verifier = PkceVerifier(base64url(&random_bytes::<32>()?));
    let mut url = reqwest::Url::parse(base_url)
        .and_then(|base| base.join("/oauth/authorizations/new"))
        .map_err(|_| ConfigError::InvalidBaseUrl {
            url: base_url.chars().take(200).collect(),
            reason: "is not an absolute URL",
        })?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", scope)
        .append_pair("state", &state)
        .append_pair("code_challenge", &verifier.challenge())
        .append_pair("code_challenge_method", "S256");
    Ok(AuthorizationRequest {
        url: url.into(),
        state,
        verifier,
    })
}

fn random_bytes<const N: usize>() -> Result<[u8; N], ConfigError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ConfigError::HttpClient("the system's random source failed".into()))?;
    Ok(bytes)
}

/// Base64url without padding (RFC 4648 §5), as PKCE and `state` use.
fn base64url(input: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc_7636_appendix_b() {
        let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(
            verifier.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(!format!("{verifier:?}").contains("dBjft"));
        assert!(PkceVerifier::new("short").is_err());
        assert!(PkceVerifier::new(&"a+".repeat(30)).is_err());
    }

    #[test]
    fn base64url_has_no_padding() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn the_authorization_url_carries_state_and_the_s256_challenge() {
        let request = authorization_request(
            "https://acme.zendesk.com",
            "sync",
            "https://x.example/cb",
            "read write",
        )
        .unwrap();
        let url = reqwest::Url::parse(request.url()).unwrap();
        assert_eq!(url.path(), "/oauth/authorizations/new");
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], "sync");
        assert_eq!(query["redirect_uri"], "https://x.example/cb");
        assert_eq!(query["scope"], "read write");
        assert_eq!(query["state"], request.state());
        assert_eq!(query["code_challenge"], request.verifier().challenge());
        assert_eq!(query["code_challenge_method"], "S256");
        assert!(!request.url().contains(request.verifier().secret()));
        // Fresh randomness every time.
        let again = authorization_request("https://a.example", "sync", "x", "read").unwrap();
        assert_ne!(again.state(), request.state());
        assert_ne!(again.verifier(), request.verifier());
    }

    #[test]
    fn lifetimes_are_moved_into_zendesks_bounds() {
        assert_eq!(lifetime_secs(Duration::from_secs(60)), 301);
        assert_eq!(lifetime_secs(Duration::from_secs(1800)), 1800);
        assert_eq!(lifetime_secs(Duration::MAX), 172_799);
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let client = OAuthClient::new("sync", "s3cr3t-client").unwrap();
        let grant = ClientCredentials::new(client.clone(), "read").unwrap();
        let tokens = TokenSet::new("s3cr3t-access", "s3cr3t-refresh").unwrap();
        let printed = format!("{client:?} {grant:?} {tokens:?}");
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert!(OAuthClient::new("", "x").is_err());
        assert!(OAuthClient::new("a b", "x").is_err());
        assert!(ClientCredentials::new(client, " ").is_err());
    }
}
