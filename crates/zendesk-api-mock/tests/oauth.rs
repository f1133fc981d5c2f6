//! The OAuth mock server, driven by the real client: grants, expiry, refresh chains, client
//! checks, faults and counters.

use std::time::Duration;

use futures::TryStreamExt;
use zendesk_api::types::{self, OAuthGrantType};
use zendesk_api::{ApiError, Client, ClientConfig, Credentials, RetryPolicy};
use zendesk_api_mock::OAuthServer;
use zendesk_api_mock::oauth::{MOCK_OAUTH_CLIENT_ID, MOCK_OAUTH_CLIENT_SECRET};

/// A client for `server` that sends `bearer` (the token endpoint ignores it), without retries.
fn client(server: &OAuthServer, bearer: &str) -> Client {
    Client::with_config(
        Credentials::bearer(bearer).expect("a valid token"),
        ClientConfig::new()
            .base_url(server.base_url())
            .retry(RetryPolicy::disabled()),
    )
    .expect("a loopback base URL")
}

/// Sends a token request built by `body` (on top of the default client's credentials).
async fn grant(
    server: &OAuthServer,
    body: impl FnOnce(types::builder::OAuthTokenRequest) -> types::builder::OAuthTokenRequest,
) -> Result<types::OAuthTokenResponse, ApiError> {
    client(server, "unused")
        .create_token_for_grant_type()
        .body_map(|b| {
            body(
                b.client_id(MOCK_OAUTH_CLIENT_ID)
                    .client_secret(MOCK_OAUTH_CLIENT_SECRET.to_string()),
            )
        })
        .send()
        .await
        .map(|r| r.into_inner())
}

async fn client_credentials(server: &OAuthServer) -> types::OAuthTokenResponse {
    grant(server, |b| {
        b.grant_type(OAuthGrantType::ClientCredentials)
            .scope("users:read".to_string())
    })
    .await
    .expect("client credentials are granted")
}

async fn refresh(server: &OAuthServer, token: &str) -> Result<types::OAuthTokenResponse, ApiError> {
    grant(server, |b| {
        b.grant_type(OAuthGrantType::RefreshToken)
            .refresh_token(token.to_string())
    })
    .await
}

/// `show_user` with `access_token`: the user's name, or the error.
async fn show_user(server: &OAuthServer, access_token: &str, id: i64) -> Result<String, ApiError> {
    let user = client(server, access_token)
        .show_user()
        .user_id(id)
        .send()
        .await?
        .into_inner()
        .user;
    Ok(user.name.unwrap_or_default())
}

/// The OAuth error code of a failed call (`error` of its body).
fn oauth_error(err: &ApiError) -> String {
    err.service_error::<types::OAuthError>()
        .map(|e| e.error)
        .unwrap_or_else(|| format!("no OAuth error body: {}", err.body_text()))
}

fn status(err: &ApiError) -> u16 {
    err.status().map(|s| s.as_u16()).unwrap_or_default()
}

#[tokio::test]
async fn client_credentials_give_a_token_the_api_accepts() {
    let server = OAuthServer::builder()
        .users(5)
        .start()
        .await
        .expect("starts");
    let token = client_credentials(&server).await;
    assert_eq!(token.token_type.as_deref(), Some("bearer"));
    assert_eq!(token.expires_in, Some(1800));
    assert_eq!(token.scope.as_deref(), Some("users:read"));
    assert_eq!(token.refresh_token, None);
    assert!(server.is_valid(&token.access_token));

    assert_eq!(
        show_user(&server, &token.access_token, 7).await.unwrap(),
        "User 7"
    );
    let api = client(&server, &token.access_token);
    let me = api
        .show_current_user()
        .send()
        .await
        .expect("me")
        .into_inner();
    assert_eq!(me.user.id, Some(1));
    let users: Vec<types::User> = api
        .list_users()
        .page_size(2u32)
        .stream()
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(
        users.iter().map(|u| u.id).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );

    // Another grant gives another token.
    let other = client_credentials(&server).await;
    assert_ne!(other.access_token, token.access_token);
    assert_eq!(server.token_requests(), 2);
    assert_eq!(
        server.token_requests_for(OAuthGrantType::ClientCredentials),
        2
    );
    assert_eq!(server.token_requests_for(OAuthGrantType::RefreshToken), 0);
    // show_user, me, three pages.
    assert_eq!(server.api_requests(), 5);
    assert_eq!(server.unauthorized(), 0);
}

#[tokio::test]
async fn the_api_refuses_a_missing_unknown_or_expired_token() {
    let server = OAuthServer::start().await.expect("starts");
    let token = client_credentials(&server).await.access_token;
    let err = show_user(&server, "not-a-token-it-issued", 1)
        .await
        .unwrap_err();
    assert_eq!(status(&err), 401, "{err}");
    let missing = client(&server, "unused")
        .http_client()
        .get(format!("{}/api/v2/users/1", server.base_url()))
        .send()
        .await
        .expect("answers");
    assert_eq!(missing.status().as_u16(), 401);
    assert_eq!(show_user(&server, &token, 1).await.unwrap(), "User 1");

    server.expire_all();
    let err = show_user(&server, &token, 1).await.unwrap_err();
    assert_eq!(status(&err), 401);
    let body: serde_json::Value = serde_json::from_slice(err.body()).expect("JSON");
    assert_eq!(body["error"], "invalid_token");
    assert!(body["description"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(!server.is_valid(&token));

    // A token issued after expire_all works.
    let fresh = client_credentials(&server).await.access_token;
    assert_eq!(show_user(&server, &fresh, 2).await.unwrap(), "User 2");
    assert_eq!(server.unauthorized(), 3);
    assert_eq!(server.api_requests(), 5);
}

#[tokio::test]
async fn a_refresh_token_works_once_and_ends_its_chain_s_access_token() {
    let server = OAuthServer::start().await.expect("starts");
    let first = server.issue_refresh_token();
    let one = refresh(&server, &first).await.expect("first refresh");
    let second = one.refresh_token.clone().expect("a new refresh token");
    assert_ne!(second, first);
    assert_eq!(one.refresh_token_expires_in, Some(2_592_000));
    assert_eq!(one.scope.as_deref(), Some("read write"));
    assert_eq!(
        show_user(&server, &one.access_token, 3).await.unwrap(),
        "User 3"
    );

    // The used refresh token is refused, and does not end the chain's current token.
    let err = refresh(&server, &first).await.unwrap_err();
    assert_eq!(
        (status(&err), oauth_error(&err)),
        (400, "invalid_grant".into())
    );
    assert!(server.is_valid(&one.access_token));
    let err = refresh(&server, "never-issued").await.unwrap_err();
    assert_eq!(oauth_error(&err), "invalid_grant");

    // The next refresh ends the access token before it.
    let two = refresh(&server, &second).await.expect("second refresh");
    assert!(!server.is_valid(&one.access_token));
    let err = show_user(&server, &one.access_token, 3).await.unwrap_err();
    assert_eq!(status(&err), 401);
    assert_eq!(
        show_user(&server, &two.access_token, 3).await.unwrap(),
        "User 3"
    );
    assert_eq!(
        server.refresh_tokens_presented(),
        [first.clone(), first, "never-issued".into(), second]
    );
    assert_eq!(server.token_requests_for(OAuthGrantType::RefreshToken), 4);

    // Expired access tokens do not stop a refresh.
    server.expire_all();
    let three = refresh(&server, &two.refresh_token.expect("a refresh token"))
        .await
        .expect("refresh after expiry");
    assert!(server.is_valid(&three.access_token));
}

#[tokio::test]
async fn an_unknown_client_or_a_wrong_secret_is_invalid_client() {
    let server = OAuthServer::builder()
        .client("sync-client", "right-secret")
        .start()
        .await
        .expect("starts");
    assert_eq!(server.client_id(), "sync-client");
    assert_eq!(server.client_secret(), "right-secret");
    let api = client(&server, "unused");
    let ask = |id: &'static str, secret: Option<&'static str>| {
        api.create_token_for_grant_type().body_map(move |b| {
            b.grant_type(OAuthGrantType::ClientCredentials)
                .client_id(id)
                .client_secret(secret.map(str::to_string))
        })
    };
    for (id, secret) in [
        ("sync-client", Some("wrong-secret")),
        ("sync-client", None),
        (MOCK_OAUTH_CLIENT_ID, Some(MOCK_OAUTH_CLIENT_SECRET)),
    ] {
        let err = ask(id, secret).send().await.unwrap_err();
        assert_eq!(
            (status(&err), oauth_error(&err)),
            (401, "invalid_client".into()),
            "{id} {secret:?}"
        );
    }
    assert_eq!(server.unauthorized(), 3);
    let ok = ask("sync-client", Some("right-secret"))
        .send()
        .await
        .expect("the right secret");
    assert!(server.is_valid(&ok.access_token));
}

#[tokio::test]
async fn an_authorization_code_works_once_with_its_pkce_verifier() {
    let server = OAuthServer::start().await.expect("starts");
    server.authorization_code("code-1", "verifier-1");
    // RFC 7636, appendix B: this verifier's S256 challenge.
    server.authorization_code_s256("code-2", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    let exchange = |code: &'static str, verifier: Option<&'static str>| {
        grant(&server, move |b| {
            b.grant_type(OAuthGrantType::AuthorizationCode)
                .code(code.to_string())
                .code_verifier(verifier.map(str::to_string))
                .redirect_uri("https://app.example.com/callback".to_string())
        })
    };
    for (code, verifier) in [
        ("code-1", Some("wrong")),
        ("code-1", None),
        ("code-2", Some("verifier-1")),
        ("unknown", Some("verifier-1")),
    ] {
        let err = exchange(code, verifier).await.unwrap_err();
        assert_eq!(oauth_error(&err), "invalid_grant", "{code} {verifier:?}");
    }
    let token = exchange("code-1", Some("verifier-1"))
        .await
        .expect("the right verifier");
    assert!(token.refresh_token.is_some());
    assert!(server.is_valid(&token.access_token));
    let err = exchange("code-1", Some("verifier-1")).await.unwrap_err();
    assert_eq!(oauth_error(&err), "invalid_grant", "a code works once");
    let s256 = exchange(
        "code-2",
        Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    )
    .await
    .expect("the verifier of the S256 challenge");
    // Its refresh token continues the flow.
    let next = refresh(&server, &s256.refresh_token.expect("a refresh token"))
        .await
        .expect("refresh");
    assert!(!server.is_valid(&s256.access_token));
    assert!(server.is_valid(&next.access_token));
    assert_eq!(
        server.token_requests_for(OAuthGrantType::AuthorizationCode),
        7
    );
}

#[tokio::test]
async fn tokens_expire_after_n_requests_when_revoked_or_when_their_lifetime_ends() {
    let server = OAuthServer::start().await.expect("starts");
    server.expire_after_requests(2);
    let token = client_credentials(&server).await.access_token;
    for id in [1, 2] {
        show_user(&server, &token, id)
            .await
            .expect("within the limit");
    }
    let err = show_user(&server, &token, 3).await.unwrap_err();
    assert_eq!(status(&err), 401);
    let next = client_credentials(&server).await.access_token;
    show_user(&server, &next, 3).await.expect("a new token");

    let issued = server.issue_access_token();
    assert!(server.revoke(&issued));
    assert!(!server.revoke("never-issued"));
    assert_eq!(
        status(&show_user(&server, &issued, 1).await.unwrap_err()),
        401
    );

    let short = OAuthServer::builder()
        .lifetime(Duration::ZERO)
        .start()
        .await
        .expect("starts");
    let token = client_credentials(&short).await;
    assert_eq!(token.expires_in, Some(0));
    assert!(!short.is_valid(&token.access_token));
}

#[tokio::test]
async fn injected_failures_come_first_then_the_real_answer() {
    let server = OAuthServer::start().await.expect("starts");
    server.fail_next_token_requests(1, 503);
    server.fail_next_token_requests(1, 429);
    let ask = || grant(&server, |b| b.grant_type(OAuthGrantType::ClientCredentials));
    let err = ask().await.unwrap_err();
    assert_eq!(status(&err), 503);
    assert_eq!(err.retry_after(), Some(Duration::ZERO));
    let err = ask().await.unwrap_err();
    assert_eq!(status(&err), 429);
    assert!(err.is_rate_limited());
    ask().await.expect("then the real answer");
    assert_eq!(server.token_requests(), 3);
}

#[tokio::test]
async fn malformed_token_requests_are_oauth_errors() {
    let server = OAuthServer::start().await.expect("starts");
    let http = client(&server, "unused").http_client().clone();
    let url = format!("{}/oauth/tokens", server.base_url());
    for (body, expected) in [
        ("not json", "invalid_request"),
        (r#"{"client_id": "x"}"#, "invalid_request"),
        (r#"{"grant_type": "password"}"#, "unsupported_grant_type"),
    ] {
        let response = http.post(&url).body(body).send().await.expect("answers");
        assert_eq!(response.status().as_u16(), 400, "{body}");
        let error: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(error["error"], expected, "{body}");
    }
    let err = grant(&server, |b| {
        b.grant_type(OAuthGrantType::ClientCredentials)
            .expires_in(300i64)
    })
    .await
    .unwrap_err();
    assert_eq!(oauth_error(&err), "invalid_request");
    let err = grant(&server, |b| b.grant_type(OAuthGrantType::RefreshToken))
        .await
        .unwrap_err();
    assert_eq!(oauth_error(&err), "invalid_request");
    let response = http
        .get(format!("{}/elsewhere", server.base_url()))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 404);
}

#[tokio::test]
async fn a_hostile_server_quotes_the_request_s_secrets_in_its_errors() {
    let server = OAuthServer::builder()
        .reflect_secrets(true)
        .start()
        .await
        .expect("starts");
    let err = client(&server, "bearer-sent-along")
        .create_token_for_grant_type()
        .body_map(|b| {
            b.grant_type(OAuthGrantType::ClientCredentials)
                .client_id(MOCK_OAUTH_CLIENT_ID)
                .client_secret("a-wrong-secret".to_string())
        })
        .send()
        .await
        .unwrap_err();
    let body = err.body_text();
    assert!(body.contains("a-wrong-secret"), "{body}");
    // The token endpoint takes no Authorization header: the client's own is not sent there.
    assert!(body.contains("Authorization: (none)"), "{body}");
    assert!(!body.contains("bearer-sent-along"), "{body}");
    let described = err
        .service_error::<types::OAuthError>()
        .and_then(|e| e.error_description)
        .unwrap_or_default();
    assert!(described.contains("a-wrong-secret"), "{described}");

    let err = show_user(&server, "an-expired-token", 1).await.unwrap_err();
    assert!(err.body_text().contains("Bearer an-expired-token"));

    server.reflect_secrets(false);
    let err = show_user(&server, "an-expired-token", 1).await.unwrap_err();
    assert!(!err.body_text().contains("an-expired-token"));
}

/// The server answers while the test thread blocks, without an async runtime of the test's.
#[test]
fn a_blocking_test_can_run_the_server() {
    let server = OAuthServer::builder().start_blocking().expect("starts");
    let token = server.issue_access_token();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let name = runtime
        .block_on(show_user(&server, &token, 4))
        .expect("answers");
    assert_eq!(name, "User 4");
    assert!(format!("{server:?}").contains(server.base_url()));
    assert!(!format!("{server:?}").contains(MOCK_OAUTH_CLIENT_SECRET));
}

/// A token older than its lifetime expires on the server's clock: the test's `ManualClock`,
/// moved by the test, never waited for.
#[tokio::test]
async fn tokens_expire_on_the_servers_clock() {
    let manual = zendesk_api::ManualClock::new();
    let server = OAuthServer::builder()
        .lifetime(Duration::from_secs(1800))
        .clock(manual.clock())
        .start()
        .await
        .expect("starts");
    let token = server.issue_access_token();
    manual.advance(Duration::from_secs(1799));
    assert!(server.is_valid(&token), "valid until its lifetime ends");
    manual.advance(Duration::from_secs(1));
    assert!(!server.is_valid(&token), "expired at its lifetime's end");
}
