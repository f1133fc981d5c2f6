//! Managed Zendesk OAuth tokens against a loopback authorization server: renewal ahead of
//! expiry, single flight under concurrency, one renewal and one replay on `401
//! invalid_token`, refresh-token rotation through a store, faults of the token endpoint, and
//! no secret in anything the client shows.
//!
//! Time is the test's own ([`ManualClock`]): token lifetimes pass when the test says so, and
//! no test sleeps.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{Value, json};
use tests::capture::Capture;
use tests::fault_server::{Fault, FaultServer, Received};
use user_apis::zendesk::{
    self, Client, ClientConfig, ClientCredentials, ErrorKind, ManualClock, OAuthClient,
    RetryPolicy, StoreError, TokenSet, TokenStore,
};

const CLIENT_ID: &str = "user_sync";
const CLIENT_SECRET: &str = "client-s3cr3t-value";
const LIFETIME: u64 = 1800;

/// What the authorization server knows: the tokens it issued and which are still good.
#[derive(Default)]
struct Authority {
    issued: usize,
    valid: HashSet<String>,
    refresh: HashSet<String>,
    /// Refresh tokens presented, in order.
    presented: Vec<String>,
    grants: Vec<String>,
    /// Answers for the next token requests, before issuing.
    token_faults: Vec<Fault>,
    /// Error bodies repeat the request (a hostile server or proxy).
    echo: bool,
}

struct OAuthServer {
    server: FaultServer,
    authority: Arc<Mutex<Authority>>,
}

impl OAuthServer {
    async fn start() -> Self {
        let authority = Arc::new(Mutex::new(Authority::default()));
        let state = authority.clone();
        let server = FaultServer::start(move |request: &Received, _| {
            answer(&mut state.lock().unwrap(), request)
        })
        .await;
        Self { server, authority }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Authority> {
        self.authority.lock().unwrap()
    }

    /// Every access token issued so far stops working.
    fn expire_all(&self) {
        self.lock().valid.clear();
    }

    fn token_requests(&self) -> usize {
        self.lock().grants.len()
    }

    fn refresh_token(&self) -> String {
        let mut authority = self.lock();
        authority.issued += 1;
        let token = format!("refresh-{}", authority.issued);
        authority.refresh.insert(token.clone());
        token
    }

    fn config(&self, clock: &ManualClock) -> ClientConfig {
        ClientConfig::new()
            .base_url(self.server.url())
            .clock(clock.clock())
            .retry(RetryPolicy::default().with_jitter(false))
    }

    fn client_credentials(&self, clock: &ManualClock) -> Client {
        let client = OAuthClient::new(CLIENT_ID, CLIENT_SECRET).unwrap();
        let grant = ClientCredentials::new(client, "users:read users:write")
            .unwrap()
            .with_lifetime(Duration::from_secs(LIFETIME));
        Client::with_client_credentials_config(grant, self.config(clock)).unwrap()
    }
}

fn answer(authority: &mut Authority, request: &Received) -> Fault {
    let echo = |authority: &Authority, status: u16, error: &str| {
        let mut body = json!({"error": error, "description": "refused"});
        if authority.echo {
            body["request"] = Value::String(String::from_utf8_lossy(&request.body).into());
            body["authorization"] =
                Value::String(request.header("authorization").unwrap_or("").into());
        }
        Fault::json(status, &body)
    };
    if request.path() == "/oauth/tokens" {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let grant = body["grant_type"].as_str().unwrap_or("").to_string();
        authority.grants.push(grant.clone());
        if !authority.token_faults.is_empty() {
            return authority.token_faults.remove(0);
        }
        if body["client_id"] != CLIENT_ID || body["client_secret"] != CLIENT_SECRET {
            return echo(authority, 401, "invalid_client");
        }
        authority.issued += 1;
        let access = format!("access-{}", authority.issued);
        let mut answer = json!({
            "access_token": access,
            "token_type": "bearer",
            "scope": body["scope"],
            "expires_in": body["expires_in"],
        });
        if grant == "refresh_token" {
            let presented = body["refresh_token"].as_str().unwrap_or("").to_string();
            authority.presented.push(presented.clone());
            if !authority.refresh.remove(&presented) {
                return echo(authority, 400, "invalid_grant");
            }
            let next = format!("refresh-{}", authority.issued);
            authority.refresh.insert(next.clone());
            answer["refresh_token"] = Value::String(next);
            // The previous access tokens are deleted with the refresh token.
            authority.valid.clear();
        }
        authority.valid.insert(access);
        return Fault::json(200, &answer);
    }
    let token = request
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    if !authority.valid.contains(token) {
        return echo(authority, 401, "invalid_token");
    }
    let id: u64 = request
        .path()
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or(1);
    Fault::json(
        200,
        &json!({"user": {"id": id, "name": format!("User {id}")}}),
    )
}

async fn show(client: &Client, id: i64) -> Result<i64, zendesk::ApiError> {
    Ok(client
        .show_user()
        .user_id(id)
        .send()
        .await?
        .into_inner()
        .user
        .id)
}

async fn concurrently(client: &Client, calls: i64) -> usize {
    let tasks: Vec<_> = (0..calls)
        .map(|id| {
            let client = client.clone();
            tokio::spawn(async move { show(&client, id + 1).await })
        })
        .collect();
    let mut failed = 0;
    for (id, task) in (1..).zip(tasks) {
        match task.await.expect("no panic") {
            Ok(got) => assert_eq!(got, id),
            Err(error) => {
                eprintln!("{error}");
                failed += 1;
            }
        }
    }
    failed
}

/// 64 tasks at once, across three token lifetimes: every call succeeds, and there is one
/// token request per lifetime — renewed ahead of expiry, once however many calls wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_across_three_lifetimes_need_one_token_each() {
    let server = OAuthServer::start().await;
    let clock = ManualClock::new();
    let client = server.client_credentials(&clock);
    for lifetime in 1..=3 {
        assert_eq!(concurrently(&client, 64).await, 0, "lifetime {lifetime}");
        assert_eq!(server.token_requests(), lifetime);
        // The token's lifetime passes; the server forgets it at the same moment.
        clock.advance(Duration::from_secs(LIFETIME));
        server.expire_all();
    }
    assert_eq!(server.token_requests(), 3);
    assert!(
        server
            .lock()
            .grants
            .iter()
            .all(|g| g == "client_credentials")
    );
    // Every token request asked for the configured lifetime.
    let asked: Vec<Value> = (server.server.received().iter())
        .filter(|r| r.path() == "/oauth/tokens")
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["expires_in"].clone())
        .collect();
    assert!(asked.iter().all(|e| *e == json!(LIFETIME)), "{asked:?}");
}

/// A token revoked mid-run: the calls that meet the 401 cause one renewal and are replayed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_renewed_once_and_the_calls_replayed() {
    let server = OAuthServer::start().await;
    let clock = ManualClock::new();
    let client = server.client_credentials(&clock);
    assert_eq!(concurrently(&client, 8).await, 0);
    server.expire_all();
    assert_eq!(concurrently(&client, 64).await, 0);
    assert_eq!(
        server.token_requests(),
        2,
        "one renewal for every refused call"
    );
    let refused = (server.server.received().iter())
        .filter(|r| r.path() != "/oauth/tokens")
        .count()
        - 8
        - 64;
    assert!(
        refused >= 1,
        "some calls met the revoked token and were replayed"
    );
    // Nothing was slept: a replay does not back off.
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
}

/// A 401 right after a fresh token goes back to the caller: no renewal loop.
#[tokio::test]
async fn a_fresh_token_refused_is_returned_not_renewed_again() {
    let server = OAuthServer::start().await;
    let clock = ManualClock::new();
    // The server issues tokens but never accepts them.
    let client = server.client_credentials(&clock);
    server.lock().token_faults = vec![Fault::json(
        200,
        &json!({"access_token": "never-valid", "token_type": "bearer", "expires_in": 1800}),
    )];
    let error = show(&client, 1).await.expect_err("refused");
    assert!(error.is_unauthorized(), "{error}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(server.token_requests(), 1);
    // The next call renews once, replays once, and returns the 401 it still gets.
    server.lock().token_faults = vec![Fault::json(
        200,
        &json!({"access_token": "also-never-valid", "expires_in": 1800}),
    )];
    let error = show(&client, 1).await.expect_err("refused again");
    assert!(error.is_unauthorized(), "{error}");
    assert_eq!(server.token_requests(), 2);
    assert_eq!(error.attempts(), Some(2));
}

/// The token endpoint fails with 500, then answers: the call succeeds within its deadline,
/// after the policy's backoff.
#[tokio::test]
async fn a_token_endpoint_500_is_retried() {
    let server = OAuthServer::start().await;
    server.lock().token_faults = vec![Fault::json(500, &json!({"error": "server_error"}))];
    let clock = ManualClock::new();
    let client = server.client_credentials(&clock);
    assert_eq!(show(&client, 7).await.expect("retried"), 7);
    assert_eq!(server.token_requests(), 2);
    assert_eq!(
        clock.sleeps(),
        vec![RetryPolicy::default().initial_backoff()]
    );
}

/// A refused client is one auth error after one token request: no retry, no loop; it names
/// the token endpoint and keeps the status and body.
#[tokio::test]
async fn invalid_client_is_one_auth_error() {
    let server = OAuthServer::start().await;
    let clock = ManualClock::new();
    let client = OAuthClient::new(CLIENT_ID, "wrong-secret-value").unwrap();
    let grant = ClientCredentials::new(client, "read").unwrap();
    let client = Client::with_client_credentials_config(grant, server.config(&clock)).unwrap();
    let error = show(&client, 1).await.expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Auth, "{error}");
    assert!(error.is_unauthorized());
    assert!(!error.is_retryable());
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(error.operation(), Some("show_user"));
    assert_eq!(error.attempts(), Some(0), "the call itself was never sent");
    let shown = error.to_string();
    assert!(shown.contains("/oauth/tokens"), "{shown}");
    assert!(shown.contains("invalid_client"), "{shown}");
    assert!(
        String::from_utf8_lossy(error.body()).contains("invalid_client"),
        "the body is kept"
    );
    assert_eq!(server.token_requests(), 1);
    assert!(clock.sleeps().is_empty());
    assert_eq!(server.server.requests(), 1, "only the token request");
}

/// What a test store saw, and whether it fails.
#[derive(Debug, Default)]
struct RecordingStore {
    saved: Mutex<Vec<TokenSet>>,
    failures_left: AtomicUsize,
}

impl TokenStore for RecordingStore {
    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if self
                .failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err("the database is read-only".into());
            }
            self.saved.lock().unwrap().push(tokens.clone());
            Ok(())
        })
    }
}

fn refresh_client(server: &OAuthServer, clock: &ManualClock, store: Arc<RecordingStore>) -> Client {
    let initial = TokenSet::new("initial-access", &server.refresh_token()).unwrap();
    server.lock().valid.insert("initial-access".into());
    let client = OAuthClient::new(CLIENT_ID, CLIENT_SECRET).unwrap();
    Client::with_refresh_token_config(client, initial, store, server.config(clock)).unwrap()
}

/// Each refresh token is used once, and each rotation is stored once, in order, before its
/// access token is used.
#[tokio::test]
async fn refresh_tokens_rotate_through_the_store_in_order() {
    let server = OAuthServer::start().await;
    let clock = ManualClock::new();
    let store = Arc::new(RecordingStore::default());
    let client = refresh_client(&server, &clock, store.clone());
    assert_eq!(
        show(&client, 1).await.unwrap(),
        1,
        "the initial access token"
    );
    assert_eq!(server.token_requests(), 0);
    for _ in 0..3 {
        server.expire_all();
        assert_eq!(show(&client, 2).await.unwrap(), 2);
        clock.advance(Duration::from_secs(2 * LIFETIME));
        assert_eq!(show(&client, 3).await.unwrap(), 3);
    }
    let presented = server.lock().presented.clone();
    let saved: Vec<String> = (store.saved.lock().unwrap().iter())
        .map(|set| set.refresh_token().to_string())
        .collect();
    assert_eq!(presented.len(), 6);
    assert_eq!(
        presented.iter().collect::<HashSet<_>>().len(),
        6,
        "each once"
    );
    // Each presented token (after the first) is the one stored just before.
    assert_eq!(presented[1..], saved[..5]);
    assert_eq!(saved.len(), 6);
}

/// The store fails, then works: the call fails saying so, the new set stays in memory, and
/// it is stored before any later call uses it — nothing is lost, no token request repeated.
#[tokio::test]
async fn a_failing_store_loses_nothing() {
    let server = OAuthServer::start().await;
    let clock = ManualClock::new();
    let store = Arc::new(RecordingStore {
        failures_left: AtomicUsize::new(1),
        ..RecordingStore::default()
    });
    let client = refresh_client(&server, &clock, store.clone());
    server.expire_all();
    let error = show(&client, 1).await.expect_err("the store failed");
    assert_eq!(error.kind(), ErrorKind::Auth, "{error}");
    assert!(error.to_string().contains("token store"), "{error}");
    assert!(store.saved.lock().unwrap().is_empty());
    assert_eq!(server.token_requests(), 1);
    assert_eq!(show(&client, 2).await.expect("stored now"), 2);
    assert_eq!(
        server.token_requests(),
        1,
        "the kept set was used, not a new grant"
    );
    let saved = store.saved.lock().unwrap().clone();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].refresh_token(), "refresh-2");
}

/// A hostile server echoes the token request and the `Authorization` header in its errors:
/// no secret appears in `Display`, `Debug` or a TRACE-level log of the whole run, while
/// `body()` keeps the bytes as received.
#[tokio::test]
async fn no_secret_is_shown_even_when_the_server_echoes_it() {
    let capture = Capture::start();
    let server = OAuthServer::start().await;
    server.lock().echo = true;
    let clock = ManualClock::new();
    let client = server.client_credentials(&clock);
    show(&client, 1).await.expect("a token");
    server.expire_all();
    // The replayed call is refused again: the second token is revoked before it is used.
    server.lock().token_faults = vec![Fault::json(
        200,
        &json!({"access_token": "access-revoked-xyz", "expires_in": 1800}),
    )];
    let refused = show(&client, 2).await.expect_err("401 after renewal");
    // The token endpoint echoes the client secret in a 500.
    let other = OAuthServer::start().await;
    other.lock().echo = true;
    let client = OAuthClient::new(CLIENT_ID, "wrong-s3cr3t-value").unwrap();
    let grant = ClientCredentials::new(client, "read").unwrap();
    let client = Client::with_client_credentials_config(grant, other.config(&clock)).unwrap();
    let echoed = show(&client, 1).await.expect_err("invalid_client");
    assert!(
        String::from_utf8_lossy(echoed.body()).contains("wrong-s3cr3t-value"),
        "body() is the bytes as received"
    );
    assert!(
        String::from_utf8_lossy(refused.body()).contains("access-revoked-xyz"),
        "body() is the bytes as received"
    );
    let shown = format!(
        "{refused} {refused:?} {echoed} {echoed:?} {client:?} {}",
        capture.text()
    );
    for secret in [
        CLIENT_SECRET,
        "wrong-s3cr3t-value",
        "access-1",
        "access-revoked-xyz",
    ] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(shown.contains("<redacted>"), "{shown}");
}

/// The authorization-code flow with PKCE against the mock OAuth server: the authorize URL's
/// S256 challenge is registered with the code, the exchange sends the verifier (the server
/// refuses any other), and the token set it returns drives a refresh-token client.
#[tokio::test]
async fn the_code_exchange_sends_the_verifier_of_the_authorize_url() {
    use zendesk_api_mock::oauth::{MOCK_OAUTH_CLIENT_ID, MOCK_OAUTH_CLIENT_SECRET, OAuthServer};
    let server = OAuthServer::start().await.expect("a loopback server");
    let request = zendesk::authorization_request(
        server.base_url(),
        MOCK_OAUTH_CLIENT_ID,
        "https://sync.example/callback",
        "users:read",
    )
    .unwrap();
    let url = user_apis::runtime::reqwest::Url::parse(request.url()).unwrap();
    let challenge = (url.query_pairs())
        .find(|(k, _)| k == "code_challenge")
        .map(|(_, v)| v.into_owned())
        .expect("a challenge");
    server.authorization_code_s256("code-1", &challenge);
    let client = OAuthClient::new(MOCK_OAUTH_CLIENT_ID, MOCK_OAUTH_CLIENT_SECRET).unwrap();
    let config = || ClientConfig::new().base_url(server.base_url());
    // Another verifier is refused: the server checks it against the challenge.
    let other = zendesk::authorization_request(server.base_url(), "x", "y", "z").unwrap();
    server.authorization_code_s256("code-2", &challenge);
    let refused = Client::exchange_authorization_code(
        config(),
        &client,
        "code-2",
        "https://sync.example/callback",
        other.verifier(),
    )
    .await
    .expect_err("wrong verifier");
    assert_eq!(refused.kind(), ErrorKind::Auth, "{refused}");
    assert!(refused.to_string().contains("invalid_grant"), "{refused}");
    let tokens = Client::exchange_authorization_code(
        config(),
        &client,
        "code-1",
        "https://sync.example/callback",
        request.verifier(),
    )
    .await
    .expect("the right verifier");
    assert!(!tokens.refresh_token().is_empty());
    let store = Arc::new(RecordingStore::default());
    let api = Client::with_refresh_token_config(client, tokens, store.clone(), config()).unwrap();
    assert_eq!(api.show_user().user_id(5).send().await.unwrap().user.id, 5);
    server.expire_all();
    assert_eq!(api.show_user().user_id(6).send().await.unwrap().user.id, 6);
    assert_eq!(
        store.saved.lock().unwrap().len(),
        1,
        "the rotated set was stored"
    );
    assert_eq!(server.refresh_tokens_presented().len(), 1);
}
