//! The grant against a real token endpoint and API on loopback (wiremock), time on a
//! `ManualClock`.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::time::ManualClock;

const SECRET: &str = "s3cr3t:secret+/";

/// The API call the tests make.
static LIST_THINGS: OperationSpec = OperationSpec {
    id: "list_things",
    method: "GET",
    path: "/things",
    string_path_params: &[],
    authenticated: true,
};

fn token(access_token: &str, expires_in: Option<u64>) -> ResponseTemplate {
    let mut body = json!({"access_token": access_token, "token_type": "bearer"});
    if let Some(secs) = expires_in {
        body["expires_in"] = json!(secs);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

/// The token endpoint answers `answers` in turn (the last one from then on); the API
/// answers 200 to each bearer token in `tokens`.
async fn server(answers: Vec<ResponseTemplate>, tokens: &[&str]) -> MockServer {
    let server = MockServer::start().await;
    let last = answers.len() - 1;
    for (i, answer) in answers.into_iter().enumerate() {
        let mock = Mock::given(method("POST")).and(path("/oauth/token"));
        let mock = mock.respond_with(answer);
        let mock = if i < last {
            mock.up_to_n_times(1)
        } else {
            mock
        };
        mock.mount(&server).await;
    }
    for token in tokens {
        Mock::given(method("GET"))
            .and(path("/things"))
            .and(header("authorization", format!("Bearer {token}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token": token})))
            .mount(&server)
            .await;
    }
    server
}

/// A client of `server`'s API on `clock`, with tokens from its `/oauth/token`.
fn client(server: &MockServer, clock: &ManualClock, lifetime: Option<Duration>) -> Caller {
    crate::tls::ensure_crypto_provider();
    let config = ClientConfig::new()
        .base_url(server.uri())
        .clock(clock.clock())
        .retry(crate::RetryPolicy::disabled());
    let mut grant = ClientCredentials::with_config(
        &format!("{}/oauth/token", server.uri()),
        "sync client",
        SECRET,
        " users:read   users:write ",
        &config,
    )
    .expect("a grant");
    if let Some(lifetime) = lifetime {
        grant = grant.default_lifetime(lifetime);
    }
    let (base, http, runtime) = config
        .build("test", None, Some(grant.into_credentials()), &[])
        .expect("a runtime");
    Caller {
        url: format!("{base}/things"),
        http,
        runtime,
    }
}

struct Caller {
    url: String,
    http: reqwest::Client,
    runtime: Runtime,
}

impl Caller {
    /// `GET /things`: the token the API saw.
    async fn call(&self) -> Result<String, ApiError> {
        let build = || self.http.get(&self.url).build();
        let answer = self
            .runtime
            .send_json::<serde_json::Value>(&self.http, &build, &LIST_THINGS)
            .await?;
        Ok(answer.into_inner()["token"].as_str().unwrap().to_string())
    }
}

async fn token_requests(server: &MockServer) -> Vec<wiremock::Request> {
    let requests = server.received_requests().await.unwrap();
    requests
        .into_iter()
        .filter(|r| r.url.path() == "/oauth/token")
        .collect()
}

#[tokio::test]
async fn a_token_is_fetched_once_reused_and_renewed_after_its_expiry() {
    let server = server(
        vec![token("token-1", Some(600)), token("token-2", Some(600))],
        &["token-1", "token-2"],
    )
    .await;
    let clock = ManualClock::new();
    let caller = client(&server, &clock, None);
    for _ in 0..3 {
        assert_eq!(caller.call().await.unwrap(), "token-1");
    }
    assert_eq!(
        token_requests(&server).await.len(),
        1,
        "one token for three calls"
    );
    // Renewed within the last 60 s (+ up to 15 s of jitter) of its 600 s: not before 525 s.
    clock.advance(Duration::from_secs(524));
    assert_eq!(caller.call().await.unwrap(), "token-1");
    clock.advance(Duration::from_secs(76));
    assert_eq!(caller.call().await.unwrap(), "token-2");
    assert_eq!(caller.call().await.unwrap(), "token-2");
    assert_eq!(token_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn the_request_is_a_form_with_the_client_in_http_basic() {
    let server = server(vec![token("token-1", Some(600))], &["token-1"]).await;
    let caller = client(&server, &ManualClock::new(), None);
    caller.call().await.unwrap();
    let requests = token_requests(&server).await;
    let sent = &requests[0];
    assert_eq!(sent.method.as_str(), "POST");
    assert_eq!(
        sent.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    // RFC 6749 §2.3.1: each part form-encoded, then `id:secret` in base64.
    let expected = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode("sync+client:s3cr3t%3Asecret%2B%2F")
    };
    assert_eq!(sent.headers["authorization"], format!("Basic {expected}"));
    assert_eq!(
        String::from_utf8_lossy(&sent.body),
        "grant_type=client_credentials&scope=users%3Aread+users%3Awrite"
    );
}

#[tokio::test]
async fn without_expires_in_a_token_lives_the_default_lifetime() {
    let server = server(
        vec![token("token-1", None), token("token-2", None)],
        &["token-1", "token-2"],
    )
    .await;
    let clock = ManualClock::new();
    let caller = client(&server, &clock, Some(Duration::from_secs(1000)));
    assert_eq!(caller.call().await.unwrap(), "token-1");
    // 1000 s: renewed within the last 100 s (+ up to 25 s), not before 875 s.
    clock.advance(Duration::from_secs(874));
    assert_eq!(caller.call().await.unwrap(), "token-1");
    clock.advance(Duration::from_secs(126));
    assert_eq!(caller.call().await.unwrap(), "token-2");
}

#[tokio::test]
async fn invalid_client_is_an_auth_error_that_shows_no_secret() {
    let refusal = ResponseTemplate::new(401).set_body_json(json!({
        "error": "invalid_client",
        "error_description": format!("client authentication failed for secret {SECRET}"),
    }));
    let server = server(vec![refusal], &[]).await;
    let caller = client(&server, &ManualClock::new(), None);
    let error = caller.call().await.expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Auth, "{error}");
    assert!(!error.is_retryable());
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("invalid_client"), "{shown}");
    assert!(shown.contains("/oauth/token"), "{shown}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
    let basic = token_requests(&server).await[0].headers["authorization"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!shown.contains(&basic["Basic ".len()..]), "{shown}");
    // Not cached: the next call asks again.
    caller.call().await.expect_err("refused again");
    assert_eq!(token_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_token_that_is_not_bearer_is_refused() {
    let mac = ResponseTemplate::new(200).set_body_json(json!({
        "access_token": "s3cr3t-mac-token",
        "token_type": "mac",
        "expires_in": 600,
    }));
    let server = server(vec![mac], &["s3cr3t-mac-token"]).await;
    let caller = client(&server, &ManualClock::new(), None);
    let error = caller.call().await.expect_err("not bearer");
    assert_eq!(error.kind(), ErrorKind::Auth, "{error}");
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("token_type is `mac`, not Bearer"), "{shown}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
    // The API never saw the token.
    let api_calls = server.received_requests().await.unwrap();
    assert!(api_calls.iter().all(|r| r.url.path() == "/oauth/token"));
}

#[test]
fn bad_settings_are_refused_and_debug_hides_the_secret() {
    crate::tls::ensure_crypto_provider();
    let url = "https://auth.example.com/oauth/token";
    let grant = ClientCredentials::new(url, "sync", SECRET, "read").unwrap();
    let printed = format!("{grant:?}");
    assert!(!printed.contains("s3cr3t"), "{printed}");
    assert!(printed.contains("sync"), "{printed}");
    assert_eq!(grant.scope(), Some("read"));
    assert_eq!(
        ClientCredentials::new(url, "sync", SECRET, "  ")
            .unwrap()
            .scope(),
        None,
        "no scope: the server's default"
    );
    for (token_url, id, secret, scope, field) in [
        ("ftp://auth.example.com/token", "sync", SECRET, "", "http"),
        (
            "https://u:p@auth.example.com/token",
            "sync",
            SECRET,
            "",
            "credentials",
        ),
        (url, "", SECRET, "", "client_id"),
        (url, "sync", "", "", "client_secret"),
        (url, "sync", "s3cr3t\r\nX: 1", "", "client_secret"),
        (url, "sync", SECRET, "read\nwrite", "scope"),
    ] {
        let error = ClientCredentials::new(token_url, id, secret, scope).unwrap_err();
        let shown = error.to_string();
        assert!(shown.contains(field), "{field}: {shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
}
