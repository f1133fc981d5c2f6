//! `--trace` and `USER_APIS_TRACE`: the spans of one run on stderr, nothing else changed,
//! and no credential in them.

use std::process::{Command, Output, Stdio};

use serde_json::json;
use zendesk_api::types;
use zendesk_api_mock::prelude::*;

const EMAIL: &str = "agent@acme.example";
const TOKEN: &str = "cli-trace-secret-token-81c3";

fn user_apis(server: &MockServer) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_user-apis"));
    cmd.env_clear()
        .env("ZENDESK_BASE_URL", server.base_url())
        .env("ZENDESK_EMAIL", EMAIL)
        .env("ZENDESK_API_TOKEN", TOKEN)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn show_user_42(server: &MockServer) {
    let user: types::User =
        serde_json::from_value(json!({ "id": 42, "name": "ada", "email": "ada@acme.example" }))
            .expect("a valid user");
    server.show_user(|when, then| {
        when.user_id(42);
        then.ok(&types::UserResponse { user });
    });
}

fn run(cmd: &mut Command) -> (Output, String) {
    let output = cmd.output().expect("user-apis runs");
    let stderr = String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8");
    assert!(!stderr.contains(TOKEN), "the token is on stderr: {stderr}");
    (output, stderr)
}

#[test]
fn trace_prints_the_call_and_attempt_spans_to_stderr() {
    let server = MockServer::start();
    show_user_42(&server);
    for (how, cmd) in [
        ("--trace", {
            let mut cmd = user_apis(&server);
            cmd.args(["--trace", "zendesk", "show-user", "--user-id", "42"]);
            cmd
        }),
        ("--trace after the operation", {
            let mut cmd = user_apis(&server);
            cmd.args(["zendesk", "show-user", "--user-id", "42", "--trace"]);
            cmd
        }),
        ("USER_APIS_TRACE=1", {
            let mut cmd = user_apis(&server);
            cmd.env("USER_APIS_TRACE", "1")
                .args(["zendesk", "show-user", "--user-id", "42"]);
            cmd
        }),
    ] {
        let mut cmd = cmd;
        let (output, stderr) = run(&mut cmd);
        assert!(output.status.success(), "{how}: {stderr}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("\"ada\""),
            "{how}: stdout unchanged: {stdout}"
        );
        let closes: Vec<&str> = stderr.lines().filter(|l| l.contains(" close ")).collect();
        assert_eq!(
            closes.len(),
            2,
            "{how}: one attempt and one call span: {stderr}"
        );
        let attempt = closes[0];
        for part in [
            "user_apis.attempt{",
            "otel.name=GET /api/v2/users/{user_id}",
            "otel.kind=\"client\"",
            "http.request.method=\"GET\"",
            "url.template=\"/api/v2/users/{user_id}\"",
            "http.response.status_code=200",
        ] {
            assert!(
                attempt.contains(part),
                "{how}: `{part}` missing from {attempt}"
            );
        }
        let full_url = format!("url.full={}/api/v2/users/42", server.base_url());
        assert!(attempt.contains(&full_url), "{how}: {attempt}");
        let call = closes[1];
        for part in [
            "user_apis.call{",
            "otel.name=zendesk.show_user",
            "user_apis.attempts=1",
            // Real time: a limiter that lets the call go at once is no wait.
            "user_apis.rate_limit.wait=0.0",
            "user_apis.outcome=\"success\"",
        ] {
            assert!(call.contains(part), "{how}: `{part}` missing from {call}");
        }
    }
}

#[test]
fn without_trace_stderr_stays_empty() {
    let server = MockServer::start();
    show_user_42(&server);
    for value in [None, Some("0"), Some("false")] {
        let mut cmd = user_apis(&server);
        if let Some(value) = value {
            cmd.env("USER_APIS_TRACE", value);
        }
        let (output, stderr) = run(cmd.args(["zendesk", "show-user", "--user-id", "42"]));
        assert!(output.status.success(), "{stderr}");
        assert_eq!(stderr, "", "USER_APIS_TRACE={value:?}");
    }
}

#[test]
fn a_failed_call_traces_its_error_type() {
    let server = MockServer::start();
    server.show_user(|when, then| {
        when.user_id(7);
        then.not_found(
            &serde_json::from_value(json!({ "error": "RecordNotFound" })).expect("an error body"),
        );
    });
    let (output, stderr) =
        run(user_apis(&server).args(["--trace", "zendesk", "show-user", "--user-id", "7"]));
    assert_eq!(output.status.code(), Some(16), "{stderr}");
    for part in [
        "http.response.status_code=404",
        "error.type=\"404\"",
        "otel.status_code=\"ERROR\"",
        "user_apis.outcome=\"status\"",
    ] {
        assert!(stderr.contains(part), "`{part}` missing from {stderr}");
    }
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("user-apis: "),
        "the error line comes last: {stderr}"
    );
}
