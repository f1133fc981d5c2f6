//! Hostile input and hostile servers: path parameters stay in their segment, query values stay
//! values, header injection is refused at construction, credentials never follow a redirect
//! to another host, TLS certificates are checked by default, and no secret appears in any
//! Debug, Display or tracing output (TRACE level, `log` records included).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::FutureExt;
use serde_json::{Value, json};
use tests::capture::Capture;
use tests::clients::{cerego_client, credentials, zendesk_client};
use tests::fault_server::{Fault, FaultServer, Io, Received, Wrap};
use tests::{Clients, secrets, specs};
use tokio_rustls::rustls;
use user_apis::runtime::reqwest;
use user_apis::runtime::{ApiError, ClientConfig, ErrorKind, RetryPolicy, Timeouts};
use user_apis::{cerego, sendauth, zendesk};

fn config(url: &str) -> ClientConfig {
    ClientConfig::new()
        .base_url(url)
        .retry(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5))
                .with_jitter(false)
                .with_max_retry_after(Duration::from_secs(1)),
        )
        .timeouts(
            Timeouts::default()
                .with_connect(Duration::from_secs(2))
                .with_attempt(Duration::from_secs(5))
                .with_call(Duration::from_secs(10)),
        )
}

/// The success body of `show_job_status`, with a known id.
fn job_status() -> Value {
    static BODY: OnceLock<Value> = OnceLock::new();
    BODY.get_or_init(|| {
        let mut body = specs::success_example("zendesk", "show_job_status");
        body["job_status"]["id"] = json!("8b726e606741012ffc2d782bcb7848fe");
        body
    })
    .clone()
}

/// The success body of cerego `update_user_tag`.
fn tag_document() -> Value {
    specs::success_example("cerego", "update_user_tag")
}

/// Decodes one percent-encoded path segment.
fn decode_segment(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = segment.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Values that must reach the server as one path segment, unchanged once decoded.
const HOSTILE_SEGMENTS: &[&str] = &[
    "a/b",
    "../x",
    "../../../admin",
    "./x",
    "%2e%2e",
    "%2E%2E%2Fadmin",
    "..%2f..%2f",
    "a?b=c",
    "?",
    "a#frag",
    "#",
    "a b",
    " ",
    "ünï/çødé",
    "名前",
    "...",
    ".hidden",
    "..a",
    "a\r\nX-Injected: 1",
    "a\0b",
    "{x}",
    "a;b=c",
    "%",
];

/// The one request `server` received, whose path must be `prefix` + one segment; returns the
/// decoded segment.
fn one_segment(server: &FaultServer, prefix: &str) -> (String, Received) {
    let received = server.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let request = received.into_iter().next().expect("one request");
    assert_eq!(
        request.query(),
        None,
        "nothing leaked into a query: {request:?}"
    );
    let rest = request
        .path()
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{} does not start with {prefix}", request.path()));
    assert!(!rest.contains('/'), "one segment: {rest}");
    (decode_segment(rest), request)
}

#[tokio::test]
async fn string_path_parameters_stay_in_their_segment() {
    let server = FaultServer::always(Fault::json(200, &job_status())).await;
    let zendesk = zendesk_client(config(&server.url()));
    let tags = FaultServer::always(Fault::json(200, &tag_document())).await;
    let cerego = cerego_client(config(&tags.url()));
    for value in HOSTILE_SEGMENTS.iter().copied() {
        let before = server.requests();
        zendesk
            .show_job_status()
            .job_status_id(value)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{value:?}: {}", e));
        let received = &server.received()[before..];
        assert_eq!(received.len(), 1, "{value:?}");
        let path = received[0].path();
        let segment = path
            .strip_prefix("/api/v2/job_statuses/")
            .unwrap_or_else(|| panic!("{value:?} → {path}"));
        assert!(!segment.contains('/'), "{value:?} → {path}");
        assert_eq!(
            received[0].query(),
            None,
            "{value:?} → {}",
            received[0].target
        );
        assert_eq!(decode_segment(segment), value, "{value:?} → {path}");

        let before = tags.requests();
        cerego
            .update_user_tag()
            .id(value)
            .body(cerego::types::UpdateUserTagRequest {
                value: "Nevada".into(),
            })
            .send()
            .await
            .unwrap_or_else(|e| panic!("{value:?}: {}", e));
        let received = &tags.received()[before..];
        assert_eq!(received.len(), 1, "{value:?}");
        assert_eq!(received[0].method, "PUT");
        let path = received[0].path();
        let segment = path
            .strip_prefix("/v3/partner_user_tags/")
            .unwrap_or_else(|| panic!("{value:?} → {path}"));
        assert!(!segment.contains('/'), "{value:?} → {path}");
        assert_eq!(decode_segment(segment), value, "{value:?} → {path}");
        // A CR/LF in a path parameter is encoded: never a header of its own.
        assert!(received[0].header("x-injected").is_none());
    }
}

/// With a base URL that has a path prefix, nothing climbs out of it either.
#[tokio::test]
async fn a_base_path_prefix_is_kept() {
    let server = FaultServer::always(Fault::json(200, &job_status())).await;
    let zendesk = zendesk_client(config(&format!("{}/proxy/zendesk", server.url())));
    zendesk
        .show_job_status()
        .job_status_id("../../../x")
        .send()
        .await
        .expect("sent");
    let (segment, _) = one_segment(&server, "/proxy/zendesk/api/v2/job_statuses/");
    assert_eq!(segment, "../../../x");
}

#[tokio::test]
async fn dot_segments_empty_values_and_backslashes_are_refused_before_any_io() {
    let server = FaultServer::always(Fault::json(200, &job_status())).await;
    let zendesk = zendesk_client(config(&server.url()));
    let cerego = cerego_client(config(&server.url()));
    for value in [".", "..", "", "a\\b", "..\\admin", "\\"] {
        let err = zendesk
            .show_job_status()
            .job_status_id(value)
            .send()
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{value:?}: {err}");
        assert!(
            err.to_string().contains("`job_status_id`"),
            "{value:?}: {err}"
        );
        assert!(err.to_string().contains("show_job_status"), "{err}");

        let err = cerego
            .update_user_tag()
            .id(value)
            .body(cerego::types::UpdateUserTagRequest { value: "x".into() })
            .send()
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{value:?}: {err}");
        assert!(err.to_string().contains("`id`"), "{value:?}: {err}");
    }
    assert_eq!(
        server.connections(),
        0,
        "a refused request made no connection"
    );
}

#[tokio::test]
async fn query_values_stay_values() {
    let page = json!({"users": [], "count": 0, "next_page": null, "previous_page": null});
    let server = FaultServer::always(Fault::json(200, &page)).await;
    let zendesk = zendesk_client(config(&server.url()));
    let hostile = [
        "a&role=admin",
        "x=y&z",
        "email:gil@example.com role:end-user",
        "100%",
        "#frag",
        "a+b",
        "line\r\nX-Injected: 1",
        "ünï",
    ];
    for value in hostile {
        let before = server.requests();
        zendesk
            .search_users()
            .query(value)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{value:?}: {}", e));
        let request = &server.received()[before];
        assert_eq!(request.path(), "/api/v2/users/search", "{value:?}");
        assert_eq!(
            request.query_pairs(),
            vec![("query".to_string(), value.to_string())],
            "{value:?} → {}",
            request.target
        );
        assert!(request.header("x-injected").is_none());
    }
}

#[tokio::test]
async fn header_injection_is_refused_at_construction() {
    for bad in [
        "s3cr3t\r\nX-Injected: 1",
        "s3cr3t\nx",
        "s3cr3t\r",
        "s3cr3t\0",
    ] {
        let refused = [
            (
                "api_token",
                zendesk::Client::with_api_token("acme", "agent@example.com", bad).map(drop),
            ),
            (
                "email",
                zendesk::Client::with_api_token("acme", bad, "token").map(drop),
            ),
            (
                "token",
                zendesk::Client::with_oauth_token("acme", bad).map(drop),
            ),
            ("API key", cerego::Client::with_api_key(bad).map(drop)),
            ("API key", cerego::api_key_credentials(bad).map(drop)),
            (
                "password",
                sendauth::Client::with_basic_auth("api-user", bad).map(drop),
            ),
            (
                "username",
                sendauth::Client::with_basic_auth(bad, "password").map(drop),
            ),
            // The user agent is a header too.
            (
                "HTTP client",
                zendesk::Client::with_config(
                    credentials("zendesk"),
                    ClientConfig::new()
                        .base_url("http://127.0.0.1:9")
                        .user_agent(bad),
                )
                .map(drop),
            ),
        ];
        for (field, result) in refused {
            let err = result.expect_err(field);
            assert!(err.to_string().contains(field), "{field}: {err}");
            assert!(
                !format!("{err} {err:?}").contains("s3cr3t"),
                "{field}: the value is not repeated: {err:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Redirects.

#[tokio::test]
async fn credentials_never_follow_a_redirect_to_another_host() {
    // Another host (127.0.0.2), another port on the same host, and another scheme.
    let elsewhere = FaultServer::start_with(
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
        None,
        Arc::new(|_, _| Fault::json(200, &job_status())),
    )
    .await;
    let same_host_other_port = FaultServer::always(Fault::json(200, &job_status())).await;
    let server = FaultServer::always(Fault::empty(500)).await;
    let targets = [
        format!("{}/api/v2/job_statuses/1", elsewhere.url()),
        format!("{}/api/v2/job_statuses/1", same_host_other_port.url()),
        format!("https://{}/api/v2/job_statuses/1", server.addr()),
    ];
    for (i, target) in targets.iter().enumerate() {
        let target = target.clone();
        let server = FaultServer::start(move |_, _| Fault::redirect(307, &target)).await;
        let zendesk = zendesk_client(config(&server.url()));
        let err = zendesk
            .show_job_status()
            .job_status_id("1")
            .send()
            .await
            .expect_err("not followed");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(307), "{i}: {err}");
        assert!(
            server.received()[0].header("authorization").is_some(),
            "the first hop carried the credentials"
        );
    }
    assert_eq!(elsewhere.connections(), 0);
    assert_eq!(same_host_other_port.connections(), 0);
}

/// A redirect within the same origin is followed (the credentials belong to that origin), up
/// to five hops; a loop ends with an error, not a hang.
#[tokio::test]
async fn same_origin_redirects_are_followed_with_a_limit() {
    let server = FaultServer::start(|request, _| {
        if request.path().ends_with("/moved") {
            Fault::json(200, &job_status())
        } else {
            Fault::redirect(302, "/api/v2/job_statuses/moved")
        }
    })
    .await;
    let zendesk = zendesk_client(config(&server.url()));
    let job = zendesk
        .show_job_status()
        .job_status_id("1")
        .send()
        .await
        .expect("followed");
    assert_eq!(
        job.into_inner().job_status.id,
        "8b726e606741012ffc2d782bcb7848fe"
    );
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].path(), "/api/v2/job_statuses/moved");
    assert_eq!(
        received[0].header("authorization"),
        received[1].header("authorization"),
        "same origin: same credentials"
    );

    let looping = FaultServer::always(Fault::redirect(302, "/api/v2/job_statuses/again")).await;
    let zendesk = zendesk_client(config(&looping.url()).retry(RetryPolicy::disabled()));
    let err = zendesk
        .show_job_status()
        .job_status_id("1")
        .send()
        .await
        .expect_err("a loop ends");
    assert!(err.to_string().contains("too many redirects"), "{err}");
    assert_eq!(looping.requests(), 6, "the request and five redirects");
}

/// The body of a `create_user` call.
fn new_user() -> zendesk::types::builder::UserCreateRequest {
    zendesk::types::UserCreateRequest::builder()
        .user(zendesk::types::UserCreate::builder().name("Roger Wilco"))
}

/// A 307 or 308 repeats the method and the body: never followed, so a `POST` answered by a
/// same-origin 307 loop reaches the server once, and the call fails with the 3xx and its
/// `Location`. A 303 after a `POST` is followed as a `GET` without the body.
#[tokio::test]
async fn a_post_is_never_multiplied_by_redirects() {
    for status in [307, 308] {
        let looping = FaultServer::always(Fault::redirect(status, "/api/v2/users")).await;
        let zendesk = zendesk_client(config(&looping.url()));
        let err = zendesk
            .create_user()
            .body(new_user())
            .send()
            .await
            .expect_err("not followed");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{err}");
        assert_eq!(err.headers()["location"], "/api/v2/users");
        assert_eq!(
            looping.requests(),
            1,
            "{status}: one POST reached the server"
        );
        // A GET is not followed either: the 3xx comes back with its Location.
        let err = zendesk
            .show_user()
            .user_id(1)
            .send()
            .await
            .expect_err("not followed");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{err}");
    }
    let see_other = FaultServer::start(|request, _| {
        if request.method == "POST" {
            Fault::redirect(303, "/api/v2/users/35436")
        } else {
            Fault::json(200, &tests::specs::success_example("zendesk", "show_user"))
        }
    })
    .await;
    let zendesk = zendesk_client(config(&see_other.url()));
    zendesk
        .create_user()
        .body(new_user())
        .send()
        .await
        .expect("followed as a GET");
    let received = see_other.received();
    let methods: Vec<&str> = received.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["POST", "GET"]);
    assert!(received[1].body.is_empty(), "the body is not sent again");
}

// ---------------------------------------------------------------------------------------------
// TLS.

struct TestPki {
    ca_pem: String,
    server_config: Arc<rustls::ServerConfig>,
}

/// A CA, and a certificate it signs for `names` (served by the TLS test server).
fn pki(names: &[&str]) -> TestPki {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "user-apis test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA");
    let server_key = rcgen::KeyPair::generate().expect("key");
    let server_cert =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("params")
            .signed_by(&server_key, &ca)
            .expect("server certificate");
    // The ring provider the clients use (api-runtime installs the same one). rustls 0.23.48
    // deprecates it only for its lack of post-quantum key exchange, which this loopback test
    // server does not need.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(
            vec![server_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .expect("server config");
    TestPki {
        ca_pem: ca.pem(),
        server_config: Arc::new(server_config),
    }
}

async fn tls_server(pki: &TestPki) -> FaultServer {
    let acceptor = tokio_rustls::TlsAcceptor::from(pki.server_config.clone());
    let wrap: Wrap = Arc::new(move |tcp| {
        let acceptor = acceptor.clone();
        async move {
            let stream = acceptor.accept(tcp).await?;
            Ok(Box::new(stream) as Box<dyn Io>)
        }
        .boxed()
    });
    FaultServer::start_with(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        Some(wrap),
        Arc::new(|_, _| Fault::json(200, &job_status())),
    )
    .await
}

async fn show_job(client: &zendesk::Client) -> Result<(), ApiError> {
    client
        .show_job_status()
        .job_status_id("1")
        .send()
        .await
        .map(drop)
}

#[tokio::test]
async fn tls_certificates_are_verified_by_default() {
    let pki = pki(&["localhost", "127.0.0.1"]);
    let server = tls_server(&pki).await;
    let url = format!("https://localhost:{}", server.addr().port());

    // A certificate from an unknown CA is refused: no request is sent.
    let err = show_job(&zendesk_client(config(&url)))
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert!(server.connections() >= 1, "the handshake was attempted");
    assert_eq!(
        server.requests(),
        0,
        "nothing was sent over an unverified connection"
    );

    // Trusted once its CA is added, by name and by IP address.
    let ca = reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).expect("PEM");
    for url in [url, format!("https://127.0.0.1:{}", server.addr().port())] {
        let client = zendesk_client(config(&url).add_root_certificate(ca.clone()));
        show_job(&client)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert!(received.iter().all(|r| r.header("authorization").is_some()));
}

#[tokio::test]
async fn a_trusted_ca_does_not_vouch_for_another_name() {
    let pki = pki(&["api.example.test"]);
    let server = tls_server(&pki).await;
    let ca = reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).expect("PEM");
    let url = format!("https://127.0.0.1:{}", server.addr().port());
    let err = show_job(&zendesk_client(config(&url).add_root_certificate(ca)))
        .await
        .expect_err("wrong name");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert_eq!(server.requests(), 0);
}

// ---------------------------------------------------------------------------------------------
// Secrets.

/// The forms a secret could leak in: as given, and the Basic credentials base64-encoded.
fn secret_forms() -> Vec<String> {
    let mut forms: Vec<String> = secrets::ALL.iter().map(|s| s.to_string()).collect();
    for credentials in ["zendesk", "sendauth", "cerego"].map(credentials) {
        let header = credentials
            .header_value()
            .expect("fixed credentials")
            .to_str()
            .expect("ascii")
            .to_string();
        let token = header.split_once(' ').map(|(_, t)| t.to_string());
        forms.extend(token);
    }
    forms
}

/// Every client, through every kind of failure, at TRACE level: the credentials reach the
/// server, and appear nowhere in what the process prints or logs.
#[tokio::test]
async fn no_secret_in_debug_display_or_traces() {
    let capture = Capture::start();
    let mut printed = String::new();
    fn record(printed: &mut String, label: &str, err: ApiError) {
        printed.push_str(&format!("{label}: {err}\n{err:?}\n"));
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            printed.push_str(&format!("  source: {s}\n  {s:?}\n"));
            source = s.source();
        }
    }

    // A server that fails in every way in turn, then answers 500 with JSON.
    let faults = [
        Fault::json(401, &json!({"error": "Couldn't authenticate you"})),
        Fault::html_502(),
        Fault::retry_after(429, "0"),
        Fault::CloseMidBody,
        Fault::malformed_json(200),
        Fault::CloseDuringHeaders,
    ];
    let server = FaultServer::start(move |_, i| {
        faults
            .get(i)
            .cloned()
            .unwrap_or_else(|| Fault::json(500, &json!({"error": "boom"})))
    })
    .await;
    let clients = Clients::with(|_| config(&server.url()).retry(RetryPolicy::disabled()));
    printed.push_str(&format!("{clients:?}\n"));
    for op in tests::catalogue() {
        if let Err(err) = (op.call)(&clients).await {
            record(&mut printed, op.id, err);
        }
    }
    // Raw progenitor errors, before conversion.
    let raw = clients
        .zendesk
        .show_user()
        .user_id(1)
        .send()
        .await
        .expect_err("500");
    printed.push_str(&format!("{raw}\n{raw:?}\n"));

    // A redirect elsewhere, a stalled server, TLS refused.
    let elsewhere = FaultServer::always(Fault::empty(200)).await;
    let target = format!("{}/steal", elsewhere.url());
    let redirecting = FaultServer::start(move |_, _| Fault::redirect(302, &target)).await;
    let clients = Clients::with(|_| config(&redirecting.url()));
    for op in tests::catalogue().iter().take(5) {
        if let Err(err) = (op.call)(&clients).await {
            record(&mut printed, op.id, err);
        }
    }
    let stalled = FaultServer::always(Fault::StallAfterHeaders).await;
    let clients =
        Clients::with(|_| config(&stalled.url()).attempt_timeout(Duration::from_millis(50)));
    for op in tests::catalogue().iter().take(3) {
        if let Err(err) = (op.call)(&clients).await {
            record(&mut printed, op.id, err);
        }
    }
    let pki = pki(&["localhost"]);
    let tls = tls_server(&pki).await;
    let clients = Clients::with(|_| config(&format!("https://localhost:{}", tls.addr().port())));
    for op in tests::catalogue().iter().take(3) {
        if let Err(err) = (op.call)(&clients).await {
            record(&mut printed, op.id, err);
        }
    }
    let traced = capture.text();
    drop(capture);

    // The test can fail: the credentials were sent (to every operation but the token
    // endpoint, which takes them in its body), and the capture saw the traffic.
    assert!(
        server
            .received()
            .iter()
            .filter(|r| r.path() != "/oauth/tokens")
            .all(|r| r.header("authorization").is_some_and(|v| !v.is_empty()))
    );
    assert!(server.requests() >= tests::catalogue().len());
    for expected in [
        tests::capture::CALL_SPAN,
        tests::capture::ATTEMPT_SPAN,
        "url.full=",
        "reqwest::connect",
        "rustls",
        "hyper_util",
    ] {
        assert!(traced.contains(expected), "the capture saw {expected}");
    }
    assert_eq!(elsewhere.connections(), 0);
    let everything = format!("{printed}\n{traced}");
    for secret in secret_forms() {
        assert!(
            !everything.contains(&secret),
            "secret {secret:?} leaked:\n{}",
            everything
                .lines()
                .filter(|l| l.contains(&secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// The OAuth token request and answer hold secrets (`x-sensitive` in the spec): their `Debug`,
/// their builders' and the operation builder's show every other field and never a secret.
#[tokio::test]
async fn oauth_token_types_never_show_a_secret_in_debug() {
    use secrets::*;
    use zendesk::types::{self, OAuthGrantType};
    let request_builder = types::OAuthTokenRequest::builder()
        .grant_type(OAuthGrantType::AuthorizationCode)
        .client_id(ZENDESK_OAUTH_CLIENT_ID)
        .client_secret(ZENDESK_OAUTH_CLIENT_SECRET.to_string())
        .code(ZENDESK_OAUTH_CODE.to_string())
        .code_verifier(ZENDESK_OAUTH_CODE_VERIFIER.to_string())
        .refresh_token(ZENDESK_OAUTH_REFRESH_TOKEN.to_string())
        .scope("users:read".to_string());
    let request = types::OAuthTokenRequest::try_from(request_builder.clone()).expect("valid");
    let answer = json!({
        "access_token": ZENDESK_OAUTH_ACCESS_TOKEN,
        "token_type": "bearer",
        "scope": "users:read",
        "expires_in": 1800,
        "refresh_token": ZENDESK_OAUTH_REFRESH_TOKEN,
        "refresh_token_expires_in": 2_592_000,
    });
    let response: types::OAuthTokenResponse =
        serde_json::from_value(answer.clone()).expect("decodes");
    let response_builder = types::builder::OAuthTokenResponse::from(response.clone());

    // The answer as a call returns it, and the operation builder holding the request.
    let server = FaultServer::always(Fault::json(200, &answer)).await;
    let zendesk = zendesk_client(config(&server.url()));
    let value = zendesk
        .create_token_for_grant_type()
        .body(request.clone())
        .send()
        .await
        .expect("the token answer decodes");
    let operation = zendesk.create_token_for_grant_type().body(request.clone());

    let printed = [
        ("OAuthTokenRequest", format!("{request:?}")),
        ("builder::OAuthTokenRequest", format!("{request_builder:?}")),
        ("OAuthTokenResponse", format!("{response:?}")),
        (
            "builder::OAuthTokenResponse",
            format!("{response_builder:?}"),
        ),
        ("ResponseValue<OAuthTokenResponse>", format!("{value:?}")),
        ("CreateTokenForGrantType", format!("{operation:?}")),
    ];
    for (what, text) in &printed {
        for secret in secrets::ALL {
            assert!(!text.contains(secret), "{what} shows a secret: {text}");
        }
        assert!(text.contains("<redacted>"), "{what}: {text}");
    }
    // Everything else is still shown, and whether an optional secret was set.
    let request_text = &printed[0].1;
    assert!(
        request_text.contains(ZENDESK_OAUTH_CLIENT_ID),
        "{request_text}"
    );
    assert!(request_text.contains("AuthorizationCode"), "{request_text}");
    assert!(
        request_text.contains(r#"client_secret: Some("<redacted>")"#),
        "{request_text}"
    );
    assert!(request_text.contains("expires_in: None"), "{request_text}");
    let response_text = &printed[2].1;
    assert!(
        response_text.contains(r#"access_token: "<redacted>""#),
        "{response_text}"
    );
    assert!(response_text.contains("2592000"), "{response_text}");
    // The values themselves are intact: the call sent them and decoded them.
    assert_eq!(value.access_token, ZENDESK_OAUTH_ACCESS_TOKEN);
    let sent = String::from_utf8_lossy(&server.received()[0].body).into_owned();
    for secret in [
        ZENDESK_OAUTH_CLIENT_SECRET,
        ZENDESK_OAUTH_CODE,
        ZENDESK_OAUTH_CODE_VERIFIER,
        ZENDESK_OAUTH_REFRESH_TOKEN,
    ] {
        assert!(sent.contains(secret), "the request did not carry {secret}");
    }
}

/// The other secrets the Zendesk spec marks `x-sensitive`: the current user's CSRF
/// `authenticity_token` and the password of a merge target; and, in a model with one, a field
/// the spec does not list (kept in `extra`): its name shows, its value does not.
#[test]
fn other_sensitive_fields_never_show_in_debug() {
    const CSRF: &str = "csrf-token-in-a-debug-test";
    const PASSWORD: &str = "merge-password-in-a-debug-test";
    const UNLISTED: &str = "session-secret-in-a-debug-test";
    let mut answer = specs::success_example("zendesk", "show_current_user");
    answer["user"]["authenticity_token"] = json!(CSRF);
    answer["user"]["session_token"] = json!(UNLISTED);
    let me: zendesk::types::CurrentUserResponse =
        serde_json::from_value(answer).expect("the example decodes");
    assert_eq!(me.user.authenticity_token.as_deref(), Some(CSRF));
    assert_eq!(me.user.extra["session_token"], json!(UNLISTED));
    let shown = format!("{me:?}");
    assert!(
        shown.contains("session_token") && !shown.contains(UNLISTED),
        "{shown}"
    );
    let me_builder = zendesk::types::builder::CurrentUser::from(me.user.clone());
    let merge = zendesk::types::UserMergeRequest {
        user: zendesk::types::UserMergeTarget {
            id: None,
            email: Some("roge@example.org".into()),
            password: Some(PASSWORD.into()),
        },
    };
    let merge_builder = zendesk::types::builder::UserMergeTarget::from(merge.user.clone());
    for (what, text, secret, shown) in [
        (
            "CurrentUserResponse",
            format!("{me:?}"),
            CSRF,
            "Roger Wilco",
        ),
        (
            "builder::CurrentUser",
            format!("{me_builder:?}"),
            CSRF,
            "Roger Wilco",
        ),
        (
            "UserMergeRequest",
            format!("{merge:?}"),
            PASSWORD,
            "roge@example.org",
        ),
        (
            "builder::UserMergeTarget",
            format!("{merge_builder:?}"),
            PASSWORD,
            "roge@example.org",
        ),
    ] {
        assert!(!text.contains(secret), "{what} shows a secret: {text}");
        assert!(
            text.contains("<redacted>") && text.contains(shown),
            "{what}: {text}"
        );
    }
}

/// The snapshot of a token request shows which secrets it sends, never their values: for
/// every grant type, each secret the body carried is `[redacted]` in its rendering.
#[tokio::test]
async fn token_request_snapshots_never_show_a_secret() {
    use zendesk::types::OAuthGrantType;
    let docs = specs::all_operations();
    let doc = docs
        .iter()
        .find(|d| d.service == "zendesk" && d.id == "create_token_for_grant_type")
        .expect("the spec has the token operation");
    for grant in [
        OAuthGrantType::ClientCredentials,
        OAuthGrantType::AuthorizationCode,
        OAuthGrantType::RefreshToken,
    ] {
        let server = tests::recorder::server_for(doc).await;
        let clients = Clients::new(&server.uri());
        clients
            .zendesk
            .create_token_for_grant_type()
            .body_map(|b| tests::catalogue::oauth_token_request(b, grant))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{grant}: {e}"));
        let requests = server.received_requests().await.unwrap_or_default();
        assert_eq!(requests.len(), 1, "{grant}");
        let sent = String::from_utf8_lossy(&requests[0].body).into_owned();
        let authorization = credentials("zendesk")
            .header_value()
            .expect("fixed credentials")
            .to_str()
            .expect("ascii")
            .to_string();
        let shown = tests::recorder::render(&requests[0], Some(&authorization)).to_string();
        let carried: Vec<&str> = secrets::ALL
            .iter()
            .copied()
            .filter(|s| sent.contains(s))
            .collect();
        assert!(
            carried.contains(&secrets::ZENDESK_OAUTH_CLIENT_SECRET),
            "{grant}: the client secret was not sent"
        );
        for secret in carried {
            assert!(
                !shown.contains(secret),
                "{grant}: {secret} reached the snapshot"
            );
        }
        assert!(
            shown.contains(r#""client_secret":"[redacted]""#),
            "{grant}: {shown}"
        );
    }
}

/// The same through OpenTelemetry: every client, every operation, through every kind of
/// failure and a retry, exported by the SDK (spans with their events, and every metric
/// point): the credentials reach the server, and no exported name, attribute or event
/// carries them.
#[tokio::test]
async fn no_secret_in_exported_spans_or_metrics() {
    let otel = tests::otel::Otel::install();
    let faults = [
        Fault::json(401, &json!({"error": "Couldn't authenticate you"})),
        Fault::html_502(),
        Fault::retry_after(429, "0"),
        Fault::CloseMidBody,
        Fault::malformed_json(200),
        Fault::CloseDuringHeaders,
    ];
    let server = FaultServer::start(move |_, i| {
        faults
            .get(i)
            .cloned()
            .unwrap_or_else(|| Fault::json(500, &json!({"error": "boom"})))
    })
    .await;
    let clients = Clients::with(|_| config(&server.url()).meter_provider(&otel.meter_provider));
    let mut failures = 0;
    for op in tests::catalogue() {
        failures += usize::from((op.call)(&clients).await.is_err());
    }
    let spans = otel.spans();
    let metrics = otel.metrics();
    let exported = tests::otel::exported_text(&spans, &metrics);

    // The test can fail: the credentials were sent, and the exporters saw every call.
    assert!(
        server
            .received()
            .iter()
            .filter(|r| r.path() != "/oauth/tokens")
            .all(|r| r.header("authorization").is_some_and(|v| !v.is_empty()))
    );
    assert_eq!(failures, tests::catalogue().len());
    assert!(
        spans.len() > 2 * tests::catalogue().len(),
        "call and attempt spans"
    );
    for expected in [
        "url.full=http://",
        "error.type=429",
        "error.type=transport",
        "http.client.request.duration",
        "user_apis.retries",
        "user_apis.rate_limit.exceeded",
    ] {
        assert!(
            exported.contains(expected),
            "exported {expected}:\n{exported}"
        );
    }
    for secret in secret_forms() {
        assert!(
            !exported.contains(&secret),
            "secret {secret:?} exported:\n{}",
            exported
                .lines()
                .filter(|l| l.contains(&secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
