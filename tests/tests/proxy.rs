//! Proxies, deliberately: by default a client uses the proxies the environment names;
//! `ClientConfig::no_proxy()` ignores them; `ClientConfig::proxy(url)` sets one explicitly.
//! The "proxy" is a loopback server that records what reaches it (a forward proxy receives
//! the absolute URL as the request target). The environment is process-wide, so the check
//! that depends on it runs in a child process with its own environment.

use std::time::Duration;

use tests::fault_server::{Fault, FaultServer};
use user_apis::runtime::{ClientConfig, ConfigError, ErrorKind, RetryPolicy, Timeouts};

/// A base URL nothing listens on: a direct connection is refused at once.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    url
}

fn config(base: &str) -> ClientConfig {
    ClientConfig::new()
        .base_url(base)
        .retry(RetryPolicy::disabled())
        .timeouts(Timeouts::default().with_call(Duration::from_secs(10)))
}

async fn show_user(config: ClientConfig) -> Result<(), user_apis::ApiError> {
    tests::clients::zendesk_client(config)
        .show_user()
        .user_id(35436)
        .send()
        .await
        .map(drop)
}

/// The full name of `child_calls_through_the_environment` in this test binary: its path
/// below the crate root (`proxy::…` where this file is a module of a larger binary).
fn child_test() -> String {
    let name = "child_calls_through_the_environment";
    match module_path!().split_once("::") {
        Some((_crate, module)) => format!("{module}::{name}"),
        None => name.to_string(),
    }
}

/// Runs this test binary's `child_calls_through_the_environment` in a child process whose
/// environment names `proxy` as `HTTP_PROXY` (the environment is process-wide, and this
/// workspace forbids the `unsafe` that changing it in-process takes).
async fn run_child(proxy: &str, base: &str) -> std::process::Output {
    let exe = std::env::current_exe().expect("this test binary");
    let (proxy, base) = (proxy.to_string(), base.to_string());
    tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(exe);
        command
            .args(["--exact", &child_test(), "--ignored"])
            .args(["--nocapture", "--test-threads", "1"])
            .env("HTTP_PROXY", proxy)
            .env("PROXY_TEST_BASE", base);
        for name in [
            "http_proxy",
            "https_proxy",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
        ] {
            command.env_remove(name);
        }
        for name in ["no_proxy", "NO_PROXY"] {
            command.env_remove(name);
        }
        command.output().expect("the child runs")
    })
    .await
    .expect("joined")
}

/// The child's half of `environment_proxies_are_used_by_default`: run only by it (ignored
/// otherwise), with `HTTP_PROXY` and `PROXY_TEST_BASE` set.
#[tokio::test]
#[ignore = "run by environment_proxies_are_used_by_default in a child process"]
async fn child_calls_through_the_environment() {
    let base = std::env::var("PROXY_TEST_BASE").expect("run by the parent test");
    show_user(config(&base))
        .await
        .expect("through the environment's proxy");
    let err = show_user(config(&base).no_proxy())
        .await
        .expect_err("direct: nothing listens there");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
}

#[tokio::test]
async fn environment_proxies_are_used_by_default_and_no_proxy_ignores_them() {
    let ok = Fault::json(200, &tests::specs::success_example("zendesk", "show_user"));
    let proxy = FaultServer::always(ok).await;
    let base = closed_port_url();
    let output = run_child(&proxy.url(), &base).await;
    assert!(
        output.status.success(),
        "child: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "the child ran its test"
    );
    let received = proxy.received();
    assert_eq!(
        received.len(),
        1,
        "one call through the proxy, the no_proxy one direct"
    );
    assert_eq!(
        received[0].target,
        format!("{base}/api/v2/users/35436"),
        "a forward proxy gets the absolute URL"
    );
}

#[tokio::test]
async fn an_explicit_proxy_gets_every_request_and_its_credentials_stay_secret() {
    let ok = Fault::json(200, &tests::specs::success_example("zendesk", "show_user"));
    let proxy = FaultServer::always(ok).await;
    let base = closed_port_url();
    let with_user = proxy
        .url()
        .replace("http://", "http://proxy-user:proxy-s3cret@");
    show_user(config(&base).proxy(with_user))
        .await
        .expect("through the explicit proxy");
    let received = proxy.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].target, format!("{base}/api/v2/users/35436"));
    assert!(
        received[0].header("proxy-authorization").is_some(),
        "the proxy's credentials are sent to it"
    );

    // A proxy URL that cannot be used is a ConfigError that never shows its password.
    let err = user_apis::zendesk::Client::with_config(
        tests::clients::credentials("zendesk"),
        config(&base).proxy("ftp://proxy-user:proxy-s3cret@proxy.example"),
    )
    .expect_err("not an http proxy");
    assert!(matches!(err, ConfigError::InvalidProxy { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("s3cret"), "{err:?}");
    let debug = format!(
        "{:?}",
        config(&base).proxy("http://u:proxy-s3cret@p.example")
    );
    assert!(!debug.contains("s3cret"), "{debug}");
}
