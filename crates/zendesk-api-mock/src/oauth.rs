//! A stateful fake of Zendesk's OAuth token endpoint and of the API behind it, for testing
//! code that gets, renews and uses OAuth access tokens.
//!
//! httpmock's mocks answer each request from a fixed rule; OAuth needs state: a refresh
//! token works once, a refresh ends the previous access token, an access token expires. An
//! [`OAuthServer`] is a small HTTP/1.1 server on loopback that keeps that state:
//!
//! - `POST /oauth/tokens` checks the OAuth client (`client_id`, `client_secret`) and answers
//!   each grant as Zendesk does: `client_credentials` gives an access token,
//!   `authorization_code` (a code registered with [`OAuthServer::authorization_code`], once,
//!   with its PKCE verifier) and `refresh_token` (each refresh token once) give an access
//!   token and a refresh token. Errors are OAuth errors: `401 invalid_client`,
//!   `400 invalid_grant`, `400 invalid_request`, `400 unsupported_grant_type`.
//! - Under `/api/v2/` every request needs `Authorization: Bearer <access token>` with a token
//!   that is still valid, else `401 {"error": "invalid_token", …}`. Valid requests get
//!   `GET /api/v2/users/{id}`, `GET /api/v2/users/me` and `GET /api/v2/users` (cursor pages
//!   over [`OAuthServerBuilder::users`] users); any other path is a 404.
//! - The test decides when tokens stop working, without sleeping: [`OAuthServer::expire_all`],
//!   [`OAuthServer::revoke`], [`OAuthServer::expire_after_requests`]. A token older than its
//!   lifetime ([`OAuthServerBuilder::lifetime`], 30 minutes by default) expires too.
//! - Faults: [`OAuthServer::fail_next_token_requests`] (a 500, or a 429 or 503 with
//!   `Retry-After: 0`, then the real answer), and [`OAuthServer::reflect_secrets`], a hostile
//!   server whose error bodies quote the request's body and `Authorization` header.
//! - Counters: token requests (in all and by grant type), API requests, 401s answered, and
//!   the refresh tokens presented, in order.
//!
//! The server runs on a thread of its own, so a test may block (waiting for a CLI process,
//! say) while it answers. It stops when the [`OAuthServer`] is dropped.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use zendesk_api::types::OAuthGrantType;

/// The OAuth client identifier an [`OAuthServer`] accepts unless the builder names others.
pub const MOCK_OAUTH_CLIENT_ID: &str = "mock-oauth-client";

/// The secret of [`MOCK_OAUTH_CLIENT_ID`].
pub const MOCK_OAUTH_CLIENT_SECRET: &str = "mock-oauth-client-secret";

/// The access token lifetime an [`OAuthServer`] grants unless the builder sets another: 30
/// minutes, Zendesk's default for client credentials.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(1800);

/// The refresh token lifetime the answers carry unless the request asks for another: 30
/// days, Zendesk's default.
const DEFAULT_REFRESH_LIFETIME_SECS: u64 = 2_592_000;

/// The largest request body the server reads.
const MAX_BODY: usize = 64 * 1024;

/// What a 401 on the API says.
const INVALID_TOKEN: &str =
    "The access token provided is expired, revoked, malformed or invalid for other reasons.";

/// Builds an [`OAuthServer`]: its OAuth clients, token lifetime, users and behaviour.
#[derive(Clone)]
pub struct OAuthServerBuilder {
    clients: Vec<(String, String)>,
    lifetime: Duration,
    users: u64,
    reflect_secrets: bool,
    clock: zendesk_api::Clock,
}

impl fmt::Debug for OAuthServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clients: Vec<&str> = self.clients.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("OAuthServerBuilder")
            .field("clients", &clients)
            .field("lifetime", &self.lifetime)
            .field("users", &self.users)
            .field("reflect_secrets", &self.reflect_secrets)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Default for OAuthServerBuilder {
    fn default() -> Self {
        Self {
            clients: Vec::new(),
            lifetime: DEFAULT_LIFETIME,
            users: 3,
            reflect_secrets: false,
            clock: zendesk_api::Clock::real(),
        }
    }
}

impl OAuthServerBuilder {
    /// Accepts the OAuth client `client_id` with `client_secret`. Call it once per client;
    /// without a call, the server accepts [`MOCK_OAUTH_CLIENT_ID`] with
    /// [`MOCK_OAUTH_CLIENT_SECRET`]. The first client is the one
    /// [`OAuthServer::issue_refresh_token`] issues for.
    pub fn client(mut self, client_id: &str, client_secret: &str) -> Self {
        self.clients
            .push((client_id.to_string(), client_secret.to_string()));
        self
    }

    /// How long an access token is valid, and the `expires_in` every token answer carries
    /// (whatever the request asked for). 30 minutes by default.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The clock token lifetimes run on (the real one by default): give it the test's
    /// [`ManualClock`](zendesk_api::ManualClock)'s clock, the one the client runs on, and
    /// tokens expire when the test moves that clock, never by waiting.
    pub fn clock(mut self, clock: zendesk_api::Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How many users `GET /api/v2/users` lists (ids 1 to `users`). 3 by default.
    pub fn users(mut self, users: u64) -> Self {
        self.users = users;
        self
    }

    /// Whether error bodies quote the request's body and `Authorization` header from the
    /// start (see [`OAuthServer::reflect_secrets`]). Off by default.
    pub fn reflect_secrets(mut self, on: bool) -> Self {
        self.reflect_secrets = on;
        self
    }

    /// Starts the server on a free loopback port. Fails only if the port cannot be bound or
    /// the server's thread cannot start.
    pub async fn start(self) -> io::Result<OAuthServer> {
        self.start_blocking()
    }

    /// [`start`](Self::start) for a test without an async runtime: the server brings its own.
    pub fn start_blocking(self) -> io::Result<OAuthServer> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let clients = if self.clients.is_empty() {
            vec![(
                MOCK_OAUTH_CLIENT_ID.to_string(),
                MOCK_OAUTH_CLIENT_SECRET.to_string(),
            )]
        } else {
            self.clients
        };
        let base_url = format!("http://{addr}");
        let state = Arc::new(Mutex::new(State {
            base_url: base_url.clone(),
            clients,
            lifetime: self.lifetime,
            users: self.users,
            reflect_secrets: self.reflect_secrets,
            clock: self.clock,
            ..State::default()
        }));
        let (stop, stopped) = oneshot::channel();
        let shared = state.clone();
        std::thread::Builder::new()
            .name(format!("zendesk-oauth-mock-{}", addr.port()))
            .spawn(move || runtime.block_on(serve(listener, shared, stopped)))?;
        Ok(OAuthServer {
            addr,
            base_url,
            state,
            stop: Some(stop),
        })
    }
}

/// A fake Zendesk account with OAuth on loopback (see the [module docs](self)).
///
/// Every method takes `&self`: share the server by reference between the code under test
/// and the test's checks.
pub struct OAuthServer {
    addr: SocketAddr,
    base_url: String,
    state: Arc<Mutex<State>>,
    stop: Option<oneshot::Sender<()>>,
}

impl fmt::Debug for OAuthServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("OAuthServer")
            .field("base_url", &self.base_url)
            .field("token_requests", &state.counters.token_requests)
            .field("api_requests", &state.counters.api_requests)
            .field("unauthorized", &state.counters.unauthorized)
            .finish_non_exhaustive()
    }
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl OAuthServer {
    /// A server with the defaults: the client [`MOCK_OAUTH_CLIENT_ID`] /
    /// [`MOCK_OAUTH_CLIENT_SECRET`], 30-minute access tokens, 3 users.
    pub async fn start() -> io::Result<Self> {
        OAuthServerBuilder::default().start().await
    }

    /// A builder, to set the clients, the token lifetime, the users or a hostile server.
    pub fn builder() -> OAuthServerBuilder {
        OAuthServerBuilder::default()
    }

    /// `http://127.0.0.1:<port>`: the base URL to give a client (the token endpoint is
    /// `{base_url}/oauth/tokens`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The first accepted OAuth client's identifier.
    pub fn client_id(&self) -> String {
        self.state()
            .clients
            .first()
            .map(|(id, _)| id.clone())
            .unwrap_or_default()
    }

    /// The first accepted OAuth client's secret.
    pub fn client_secret(&self) -> String {
        self.state()
            .clients
            .first()
            .map(|(_, secret)| secret.clone())
            .unwrap_or_default()
    }

    /// Registers an authorization code, as if a user had granted access: the
    /// `authorization_code` grant accepts it once, from any accepted client, with a
    /// `code_verifier` equal to `code_verifier`.
    pub fn authorization_code(&self, code: &str, code_verifier: &str) {
        self.state()
            .codes
            .insert(code.to_string(), Pkce::Verifier(code_verifier.to_string()));
    }

    /// Registers an authorization code whose authorization request carried the PKCE
    /// `code_challenge` with method `S256`: the grant accepts it once, with a
    /// `code_verifier` whose SHA-256, base64url-encoded without padding, is `code_challenge`
    /// (RFC 7636).
    pub fn authorization_code_s256(&self, code: &str, code_challenge: &str) {
        self.state()
            .codes
            .insert(code.to_string(), Pkce::S256(code_challenge.to_string()));
    }

    /// A new refresh token for the first accepted client, as an earlier authorization would
    /// have left: the start of a refresh-token flow. The access tokens its refreshes give
    /// have the scope `read write`.
    pub fn issue_refresh_token(&self) -> String {
        let mut state = self.state();
        let client = state
            .clients
            .first()
            .map(|(id, _)| id.clone())
            .unwrap_or_default();
        let chain = state.new_chain();
        state.new_refresh_token(&client, chain, "read write")
    }

    /// A new access token, valid like any other (for the configured lifetime), outside any
    /// refresh chain: for a client built with a fixed bearer token.
    pub fn issue_access_token(&self) -> String {
        self.state().new_access_token(None)
    }

    /// Answers the next `n` token requests with `status` and an OAuth error body (a 429 or
    /// 503 also carries `Retry-After: 0`), before any check; later requests get their real
    /// answer. Calls add up: two calls queue both failures in order.
    pub fn fail_next_token_requests(&self, n: usize, status: u16) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.state().failures.extend(std::iter::repeat_n(status, n));
    }

    /// Turns the hostile mode on or off: every error answer (token endpoint and API) then
    /// quotes the request's body and its `Authorization` header, in `request_body`,
    /// `authorization` and `error_description` / `description`, as a server that reflects
    /// secrets would. For tests that check the client never prints an error body's secrets.
    pub fn reflect_secrets(&self, on: bool) {
        self.state().reflect_secrets = on;
    }

    /// Expires every access token issued so far: each is answered `401 invalid_token` from
    /// now on. Refresh tokens keep working, and tokens issued later are valid.
    pub fn expire_all(&self) {
        for access in self.state().access.values_mut() {
            access.invalid = true;
        }
    }

    /// Revokes one access or refresh token; `false` if the server never issued it.
    pub fn revoke(&self, token: &str) -> bool {
        let mut state = self.state();
        if let Some(access) = state.access.get_mut(token) {
            access.invalid = true;
            return true;
        }
        if let Some(refresh) = state.refresh.get_mut(token) {
            refresh.used = true;
            return true;
        }
        false
    }

    /// Makes every access token, issued before or after, invalid once it has served `n` API
    /// requests (the `n + 1`-th is answered `401 invalid_token`): a run across several
    /// expiries, decided by the test.
    pub fn expire_after_requests(&self, n: u64) {
        self.state().expire_after = Some(n);
    }

    /// Requests to `/oauth/tokens` so far, failed ones included.
    pub fn token_requests(&self) -> u64 {
        self.state().counters.token_requests
    }

    /// Token requests so far whose `grant_type` was `grant`.
    pub fn token_requests_for(&self, grant: OAuthGrantType) -> u64 {
        self.state()
            .counters
            .by_grant
            .get(&grant)
            .copied()
            .unwrap_or(0)
    }

    /// Requests under `/api/v2/` so far, refused ones included.
    pub fn api_requests(&self) -> u64 {
        self.state().counters.api_requests
    }

    /// 401s answered so far: `invalid_token` on the API and `invalid_client` on the token
    /// endpoint.
    pub fn unauthorized(&self) -> u64 {
        self.state().counters.unauthorized
    }

    /// The refresh tokens `refresh_token` grants presented, in order (reused and unknown
    /// ones included).
    pub fn refresh_tokens_presented(&self) -> Vec<String> {
        self.state().counters.refresh_presented.clone()
    }

    /// Whether `access_token` would be accepted by the API now.
    pub fn is_valid(&self, access_token: &str) -> bool {
        self.state().valid(access_token)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How an authorization code's PKCE verifier is checked.
enum Pkce {
    Verifier(String),
    S256(String),
}

struct Access {
    issued: tokio::time::Instant,
    lifetime: Duration,
    served: u64,
    invalid: bool,
    chain: Option<u64>,
}

struct Refresh {
    client_id: String,
    chain: u64,
    scope: String,
    used: bool,
}

#[derive(Default)]
struct Counters {
    token_requests: u64,
    by_grant: BTreeMap<OAuthGrantType, u64>,
    api_requests: u64,
    unauthorized: u64,
    refresh_presented: Vec<String>,
}

#[derive(Default)]
struct State {
    clock: zendesk_api::Clock,
    base_url: String,
    clients: Vec<(String, String)>,
    lifetime: Duration,
    users: u64,
    reflect_secrets: bool,
    expire_after: Option<u64>,
    failures: std::collections::VecDeque<StatusCode>,
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    codes: HashMap<String, Pkce>,
    chains: u64,
    serial: u64,
    counters: Counters,
}

impl State {
    fn new_chain(&mut self) -> u64 {
        self.chains += 1;
        self.chains
    }

    /// A token nobody guessed: a serial number (unique) and 64 random bits.
    fn new_token(&mut self, kind: &str) -> String {
        self.serial += 1;
        format!("mock-{kind}-{}-{:016x}", self.serial, fastrand::u64(..))
    }

    fn new_access_token(&mut self, chain: Option<u64>) -> String {
        let token = self.new_token("access");
        self.access.insert(
            token.clone(),
            Access {
                issued: self.clock.now(),
                lifetime: self.lifetime,
                served: 0,
                invalid: false,
                chain,
            },
        );
        token
    }

    fn new_refresh_token(&mut self, client_id: &str, chain: u64, scope: &str) -> String {
        let token = self.new_token("refresh");
        self.refresh.insert(
            token.clone(),
            Refresh {
                client_id: client_id.to_string(),
                chain,
                scope: scope.to_string(),
                used: false,
            },
        );
        token
    }

    fn valid(&self, token: &str) -> bool {
        self.access.get(token).is_some_and(|a| {
            !a.invalid
                && self.clock.now().saturating_duration_since(a.issued) < a.lifetime
                && self.expire_after.is_none_or(|n| a.served < n)
        })
    }
}

/// What a request carried that a hostile server would quote back.
struct Echo {
    body: String,
    authorization: Option<String>,
}

async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<Mutex<State>>,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // A connection that failed before it was accepted (reset, too many files):
                // the next one may well work.
                Err(_) => continue,
            },
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(respond(&state, request).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

type Answer = Response<Full<Bytes>>;

async fn respond(state: &Mutex<State>, request: Request<Incoming>) -> Answer {
    let (parts, body) = request.into_parts();
    let authorization = parts
        .headers
        .get(AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "The request body is too large.",
                None,
            );
        }
    };
    let echo = Echo {
        body: String::from_utf8_lossy(&body).into_owned(),
        authorization,
    };
    let path = parts.uri.path();
    let mut state = lock(state);
    if path == "/oauth/tokens" {
        return token(&mut state, &parts.method, &body, &echo);
    }
    if path.starts_with("/api/v2/") {
        return api(&mut state, &parts.method, path, parts.uri.query(), &echo);
    }
    let echo = state.reflect_secrets.then_some(&echo);
    api_error(
        StatusCode::NOT_FOUND,
        "RecordNotFound",
        "No such endpoint.",
        echo,
    )
}

/// `POST /oauth/tokens`.
fn token(state: &mut State, method: &Method, body: &[u8], echo: &Echo) -> Answer {
    let echo_on = state.reflect_secrets.then_some(echo);
    if method != Method::POST {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "Use POST.",
            echo_on,
        );
    }
    state.counters.token_requests += 1;
    let request: Option<serde_json::Map<String, Value>> = serde_json::from_slice(body).ok();
    let text = |name: &str| {
        request
            .as_ref()
            .and_then(|r| r.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let grant = text("grant_type");
    let known_grant = grant
        .as_deref()
        .and_then(|g| g.parse::<OAuthGrantType>().ok());
    if let Some(grant) = known_grant {
        *state.counters.by_grant.entry(grant).or_default() += 1;
    }
    if let Some(refresh_token) = text("refresh_token")
        && known_grant == Some(OAuthGrantType::RefreshToken)
    {
        state.counters.refresh_presented.push(refresh_token);
    }
    if let Some(status) = state.failures.pop_front() {
        let mut answer = error(
            status,
            if status == StatusCode::TOO_MANY_REQUESTS {
                "APIRateLimitExceeded"
            } else {
                "server_error"
            },
            "A failure the test asked for.",
            echo_on,
        );
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            answer
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("0"));
        }
        return answer;
    }
    let bad_request =
        |code: &str, description: &str| error(StatusCode::BAD_REQUEST, code, description, echo_on);
    if request.is_none() {
        return bad_request("invalid_request", "The body must be a JSON object.");
    }
    let Some(grant_text) = grant else {
        return bad_request("invalid_request", "grant_type is required.");
    };
    let Some(grant) = known_grant else {
        return bad_request(
            "unsupported_grant_type",
            &format!(
                "The grant type {} is not supported.",
                Value::String(grant_text.chars().take(64).collect())
            ),
        );
    };

    // The client: a known identifier, and its secret (a public client with PKCE may leave
    // the secret out of an authorization code request).
    let client_id = text("client_id").unwrap_or_default();
    let secret = text("client_secret");
    let public_pkce = grant == OAuthGrantType::AuthorizationCode
        && secret.is_none()
        && text("code_verifier").is_some();
    let client_ok = state.clients.iter().any(|(id, expected)| {
        *id == client_id && (public_pkce || secret.as_deref() == Some(expected.as_str()))
    });
    if !client_ok {
        state.counters.unauthorized += 1;
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed due to unknown client, no client authentication \
             included, or unsupported authentication method.",
            echo_on,
        );
    }
    let number = |name: &str| {
        request
            .as_ref()
            .and_then(|r| r.get(name))
            .map(Value::as_u64)
    };
    match number("expires_in") {
        None => {}
        Some(Some(s)) if (301..172_800).contains(&s) => {}
        Some(_) => {
            return bad_request(
                "invalid_request",
                "expires_in must be more than 300 and less than 172800 seconds.",
            );
        }
    }
    let refresh_lifetime = match number("refresh_token_expires_in") {
        None => DEFAULT_REFRESH_LIFETIME_SECS,
        Some(Some(s)) if (604_800..=7_776_000).contains(&s) => s,
        Some(_) => {
            return bad_request(
                "invalid_request",
                "refresh_token_expires_in must be from 604800 to 7776000 seconds.",
            );
        }
    };
    let invalid_grant = || {
        bad_request(
            "invalid_grant",
            "The provided authorization grant is invalid, expired, revoked, does not match \
             the redirection URI used in the authorization request, or was issued to another \
             client.",
        )
    };
    let requested_scope = text("scope").unwrap_or_else(|| "read".to_string());
    let (scope, chain) = match grant {
        OAuthGrantType::ClientCredentials => (requested_scope, None),
        OAuthGrantType::AuthorizationCode => {
            let Some(code) = text("code") else {
                return bad_request("invalid_request", "code is required.");
            };
            let verifier = text("code_verifier");
            let accepted = match (state.codes.get(&code), verifier.as_deref()) {
                (Some(Pkce::Verifier(expected)), Some(given)) => expected == given,
                (Some(Pkce::S256(challenge)), Some(given)) => s256(given) == *challenge,
                _ => false,
            };
            if !accepted {
                return invalid_grant();
            }
            state.codes.remove(&code);
            (requested_scope, Some(state.new_chain()))
        }
        OAuthGrantType::RefreshToken => {
            let Some(presented) = text("refresh_token") else {
                return bad_request("invalid_request", "refresh_token is required.");
            };
            let Some(refresh) = state
                .refresh
                .get_mut(&presented)
                .filter(|r| !r.used && r.client_id == client_id)
            else {
                return invalid_grant();
            };
            refresh.used = true;
            let (chain, scope) = (refresh.chain, refresh.scope.clone());
            // A refresh ends the access tokens issued before it in the chain.
            for access in state.access.values_mut() {
                if access.chain == Some(chain) {
                    access.invalid = true;
                }
            }
            (scope, Some(chain))
        }
    };
    let access_token = state.new_access_token(chain);
    let mut answer = json!({
        "access_token": access_token,
        "token_type": "bearer",
        "scope": scope,
        "expires_in": state.lifetime.as_secs(),
    });
    if let Some(chain) = chain {
        let refresh_token = state.new_refresh_token(&client_id, chain, &scope);
        answer["refresh_token"] = json!(refresh_token);
        answer["refresh_token_expires_in"] = json!(refresh_lifetime);
    }
    let mut response = json_answer(StatusCode::OK, &answer);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Everything under `/api/v2/`.
fn api(state: &mut State, method: &Method, path: &str, query: Option<&str>, echo: &Echo) -> Answer {
    state.counters.api_requests += 1;
    let echo_on = state.reflect_secrets.then_some(echo);
    let token = echo
        .authorization
        .as_deref()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = token.filter(|t| state.valid(t)) else {
        state.counters.unauthorized += 1;
        return api_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            INVALID_TOKEN,
            echo_on,
        );
    };
    if let Some(access) = state.access.get_mut(token) {
        access.served += 1;
    }
    let not_found = || {
        api_error(
            StatusCode::NOT_FOUND,
            "RecordNotFound",
            "Not found",
            echo_on,
        )
    };
    if method != Method::GET {
        return not_found();
    }
    let route = path.strip_suffix(".json").unwrap_or(path);
    match route.strip_prefix("/api/v2/users") {
        Some("") => users_page(state, query, echo_on),
        Some("/me") => json_answer(StatusCode::OK, &json!({ "user": user(&state.base_url, 1) })),
        Some(rest) => match rest
            .strip_prefix('/')
            .and_then(|id| id.parse::<i64>().ok())
            .filter(|id| *id > 0)
        {
            Some(id) => json_answer(
                StatusCode::OK,
                &json!({ "user": user(&state.base_url, id) }),
            ),
            None => not_found(),
        },
        None => not_found(),
    }
}

/// A user as `show_user` answers it.
fn user(base_url: &str, id: i64) -> Value {
    json!({
        "id": id,
        "url": format!("{base_url}/api/v2/users/{id}.json"),
        "name": format!("User {id}"),
        "email": format!("user{id}@example.com"),
        "role": "end-user",
        "active": true,
        "verified": true,
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
    })
}

/// `GET /api/v2/users`: cursor pages (`page[size]`, default 100; `page[after]`) over users 1
/// to `state.users`, with `meta` and `links` as Zendesk sends them.
fn users_page(state: &State, query: Option<&str>, echo: Option<&Echo>) -> Answer {
    let mut size = 100u64;
    let mut start = 0u64;
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let invalid = |what: &str| {
            api_error(
                StatusCode::BAD_REQUEST,
                "InvalidPaginationParameter",
                what,
                echo,
            )
        };
        match name.as_ref() {
            "page[size]" => match value.parse::<u64>() {
                Ok(n) if (1..=100).contains(&n) => size = n,
                _ => return invalid("page[size] must be a number between 1 and 100"),
            },
            "page[after]" => match value.strip_prefix("cursor-").map(str::parse::<u64>) {
                Some(Ok(n)) => start = n,
                _ => return invalid("page[after] is not a cursor of this listing"),
            },
            _ => {}
        }
    }
    let end = start.saturating_add(size).min(state.users);
    let users: Vec<Value> = (start.saturating_add(1)..=end)
        .filter_map(|id| i64::try_from(id).ok())
        .map(|id| user(&state.base_url, id))
        .collect();
    let has_more = end < state.users;
    let after = has_more.then(|| format!("cursor-{end}"));
    let next = after.as_ref().map(|cursor| {
        format!(
            "{}/api/v2/users.json?page%5Bafter%5D={cursor}&page%5Bsize%5D={size}",
            state.base_url
        )
    });
    json_answer(
        StatusCode::OK,
        &json!({
            "users": users,
            "meta": {
                "has_more": has_more,
                "after_cursor": after,
                "before_cursor": (start > 0).then(|| format!("before-{start}")),
            },
            "links": { "next": next, "prev": null },
        }),
    )
}

/// `base64url(sha256(verifier))` without padding: the S256 code challenge (RFC 7636).
fn s256(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

fn json_answer(status: StatusCode, body: &Value) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An OAuth error answer from the token endpoint: `{"error", "error_description"}`.
fn error(status: StatusCode, code: &str, description: &str, echo: Option<&Echo>) -> Answer {
    error_with(status, code, "error_description", description, echo)
}

/// An error answer from the API: `{"error", "description"}`, as Zendesk's API sends them.
fn api_error(status: StatusCode, code: &str, description: &str, echo: Option<&Echo>) -> Answer {
    error_with(status, code, "description", description, echo)
}

/// `{"error": code, <key>: description}`; with `echo`, the request's body and `Authorization`
/// header quoted back in the description and in `request_body` and `authorization`.
fn error_with(
    status: StatusCode,
    code: &str,
    key: &str,
    description: &str,
    echo: Option<&Echo>,
) -> Answer {
    let mut body = json!({ "error": code });
    match echo {
        Some(echo) => {
            body[key] = json!(format!(
                "{description} Request body: {}; Authorization: {}",
                echo.body,
                echo.authorization.as_deref().unwrap_or("(none)")
            ));
            body["request_body"] = json!(echo.body);
            body["authorization"] = json!(echo.authorization);
        }
        None => body[key] = json!(description),
    }
    json_answer(status, &body)
}

#[cfg(test)]
mod tests {
    use super::s256;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
