//! `user-apis zendesk` with OAuth client credentials: the real binary against the mock OAuth
//! server, across token expiries, and what it says when the variables are incomplete or
//! mixed with token variables.

use std::process::{Command, Output, Stdio};

use serde_json::Value;
use zendesk_api_mock::oauth::{MOCK_OAUTH_CLIENT_ID, MOCK_OAUTH_CLIENT_SECRET, OAuthServer};

/// The binary with nothing inherited from the environment, with `vars` set.
fn user_apis(vars: &[(&str, &str)], args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_user-apis"))
        .env_clear()
        .envs(vars.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the user-apis binary runs");
    for stream in [&output.stdout, &output.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(
            !text.contains(MOCK_OAUTH_CLIENT_SECRET),
            "the client secret is printed: {text}"
        );
        assert!(!text.contains("Bearer "), "a token is printed: {text}");
    }
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `--all` over four token expiries: every user printed once, the client renewing its token
/// on each `401 invalid_token` and replaying the page request.
#[test]
fn list_users_all_runs_through_token_expiries() {
    let server = OAuthServer::builder()
        .users(10)
        .start_blocking()
        .expect("a loopback server");
    // Each access token serves one API request, then Zendesk answers 401 invalid_token.
    server.expire_after_requests(1);
    let output = user_apis(
        &[
            ("ZENDESK_BASE_URL", server.base_url()),
            ("ZENDESK_CLIENT_ID", MOCK_OAUTH_CLIENT_ID),
            ("ZENDESK_CLIENT_SECRET", MOCK_OAUTH_CLIENT_SECRET),
            ("ZENDESK_OAUTH_SCOPE", "users:read"),
        ],
        &["zendesk", "list-users", "--page-size", "2", "--all"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let ids: Vec<i64> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let user: Value = serde_json::from_str(line).expect("one JSON user a line");
            user["id"].as_i64().expect("an id")
        })
        .collect();
    assert_eq!(
        ids,
        (1..=10).collect::<Vec<_>>(),
        "every user once, in order"
    );
    // Five pages: the first token serves page one; each later page meets a 401 once.
    assert_eq!(server.token_requests(), 5);
    assert_eq!(server.unauthorized(), 4);
}

#[test]
fn a_missing_oauth_variable_is_named_before_any_request() {
    let output = user_apis(
        &[
            ("ZENDESK_SUBDOMAIN", "acme"),
            ("ZENDESK_CLIENT_ID", "sync"),
            ("ZENDESK_OAUTH_SCOPE", "read"),
        ],
        &["zendesk", "show-user", "--user-id", "1"],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("ZENDESK_CLIENT_SECRET"), "{message}");
    assert!(message.contains("is missing"), "{message}");
}

#[test]
fn oauth_and_api_token_variables_together_are_refused() {
    let output = user_apis(
        &[
            ("ZENDESK_SUBDOMAIN", "acme"),
            ("ZENDESK_CLIENT_ID", "sync"),
            ("ZENDESK_CLIENT_SECRET", MOCK_OAUTH_CLIENT_SECRET),
            ("ZENDESK_OAUTH_SCOPE", "read"),
            ("ZENDESK_EMAIL", "agent@acme.example"),
            ("ZENDESK_API_TOKEN", "old-api-token"),
        ],
        &["zendesk", "show-user", "--user-id", "1"],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("ZENDESK_API_TOKEN"), "{message}");
    assert!(message.contains("ZENDESK_CLIENT_ID"), "{message}");
    assert!(!message.contains("old-api-token"), "{message}");
}

#[test]
fn help_lists_the_oauth_variables_first_and_no_token_command() {
    let output = user_apis(&[], &["zendesk", "--help"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let help = String::from_utf8_lossy(&output.stdout);
    let at = |name: &str| {
        help.find(name)
            .unwrap_or_else(|| panic!("{name} in {help}"))
    };
    assert!(at("ZENDESK_CLIENT_ID") < at("ZENDESK_CLIENT_SECRET"));
    assert!(at("ZENDESK_CLIENT_SECRET") < at("ZENDESK_OAUTH_SCOPE"));
    assert!(at("ZENDESK_OAUTH_SCOPE") < at("ZENDESK_API_TOKEN"));
    assert!(!help.contains("create-token-for-grant-type"), "{help}");
}
