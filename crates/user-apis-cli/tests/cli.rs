//! `user-apis` end to end: the binary as a spawned process against typed mock servers.
//!
//! Every run goes through `run`, which also checks that no credential (nor its Basic
//! encoding) appears on stdout or stderr.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use zendesk_api::types;
use zendesk_api_mock::prelude::*;

const EMAIL: &str = "agent@acme.example";
const TOKEN: &str = "cli-test-secret-token-5f2a";

/// The binary with credentials in its environment (and nothing inherited that could change
/// them), pointed at `server`.
fn user_apis(server: &MockServer) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_user-apis"));
    cmd.env_clear()
        .env("ZENDESK_BASE_URL", server.base_url())
        .env("ZENDESK_EMAIL", EMAIL)
        .env("ZENDESK_API_TOKEN", TOKEN)
        .stdin(Stdio::null());
    cmd
}

/// Runs `cmd` (with `stdin` piped in, if any) and checks that no secret leaked.
fn run(cmd: &mut Command, stdin: Option<&str>) -> Output {
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the user-apis binary starts");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(text.as_bytes())
            .expect("stdin takes the body");
    }
    let output = child.wait_with_output().expect("user-apis runs");
    let basic = base64(format!("{EMAIL}/token:{TOKEN}").as_bytes());
    for (name, stream) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(stream);
        assert!(!text.contains(TOKEN), "the API token is on {name}: {text}");
        assert!(
            !text.contains(&basic),
            "the Basic credentials are on {name}: {text}"
        );
    }
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn user(id: i64, name: &str) -> types::User {
    serde_json::from_value(
        json!({ "id": id, "name": name, "email": format!("{name}@acme.example") }),
    )
    .expect("a valid user")
}

#[test]
fn base64_matches_the_rfc_4648_vectors() {
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(b"fooba"), "Zm9vYmE=");
    assert_eq!(base64(b"foob"), "Zm9vYg==");
}

#[test]
fn list_users_all_prints_every_user_of_every_cursor_page_once() {
    let server = MockServer::start();
    let users: Vec<types::User> = (1..=7).map(|id| user(id, &format!("user{id}"))).collect();
    let pages = server.list_users_in_cursor_pages(&users, 3);
    assert_eq!(pages.len(), 3);

    let output = run(
        user_apis(&server).args(["zendesk", "list-users", "--page-size", "3", "--all"]),
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON document a line"))
        .collect();
    let ids: Vec<i64> = lines
        .iter()
        .map(|u| u["id"].as_i64().expect("an id"))
        .collect();
    assert_eq!(
        ids,
        (1..=7).collect::<Vec<_>>(),
        "every user once, in order"
    );
    for page in &pages {
        assert_eq!(page.calls(), 1, "each page is fetched once");
    }
    // No progress line: stderr is not a terminal.
    assert_eq!(stderr(&output), "");
}

#[test]
fn show_user_prints_the_response_as_compact_json_when_piped() {
    let server = MockServer::start();
    let ada = user(42, "ada");
    let mock = server.show_user(|when, then| {
        when.user_id(42);
        then.ok(&types::UserResponse { user: ada.clone() });
    });
    let output = run(
        user_apis(&server).args(["zendesk", "show-user", "--user-id", "42"]),
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "compact JSON when piped: {text}");
    let printed: Value = serde_json::from_str(&text).expect("JSON on stdout");
    assert_eq!(
        printed,
        json!({ "user": serde_json::to_value(&ada).expect("a user") })
    );
    mock.assert();
}

#[test]
fn a_tag_update_sends_the_json_body_from_a_file_or_stdin() {
    let server = MockServer::start();
    let body = types::TagsRequest {
        tags: vec!["vip".into(), "beta".into()],
    };
    let mock = server.add_user_tags(|when, then| {
        when.user_id(42).body(&body);
        then.ok(&types::TagsResponse {
            tags: vec!["beta".into(), "staff".into(), "vip".into()],
        });
    });
    let file = std::env::temp_dir().join(format!("user-apis-cli-tags-{}.json", std::process::id()));
    std::fs::write(&file, r#"{"tags": ["vip", "beta"]}"#).expect("a temporary file");
    let from_file = run(
        user_apis(&server)
            .args(["zendesk", "add-user-tags", "--user-id", "42", "--json-body"])
            .arg(&file),
        None,
    );
    let _ = std::fs::remove_file(&file);
    assert!(from_file.status.success(), "{}", stderr(&from_file));
    let printed: Value = serde_json::from_str(&stdout(&from_file)).expect("JSON on stdout");
    assert_eq!(printed, json!({ "tags": ["beta", "staff", "vip"] }));

    let from_stdin = run(
        user_apis(&server).args([
            "zendesk",
            "add-user-tags",
            "--user-id",
            "42",
            "--json-body",
            "-",
        ]),
        Some(r#"{"tags": ["vip", "beta"]}"#),
    );
    assert!(from_stdin.status.success(), "{}", stderr(&from_stdin));
    assert_eq!(mock.calls(), 2, "both requests carried the body");
}

#[test]
fn a_body_that_is_not_the_operations_json_fails_before_any_request() {
    let server = MockServer::start();
    let mock = server.add_user_tags(|_, then| {
        then.ok(&types::TagsResponse { tags: vec![] });
    });
    let output = run(
        user_apis(&server).args([
            "zendesk",
            "add-user-tags",
            "--user-id",
            "42",
            "--json-body",
            "-",
        ]),
        Some(r#"{"tags": "vip"}"#),
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("failed to parse -"),
        "{}",
        stderr(&output)
    );
    assert_eq!(mock.calls(), 0);
}

#[test]
fn a_bulk_create_waits_for_its_job_with_wait() {
    let server = MockServer::start();
    let job = server.job_completes(
        "job-ok",
        vec![
            serde_json::from_value(json!({ "id": 101, "index": 0, "status": "Created" }))
                .expect("a job result"),
        ],
    );
    server.create_many_users_answers_job(&job);
    let body = r#"{"users": [{"name": "Grace", "email": "grace@acme.example"}]}"#;
    let output = run(
        user_apis(&server).args(["zendesk", "create-many-users", "--json-body", "-", "--wait"]),
        Some(body),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let printed: Value = serde_json::from_str(&stdout(&output)).expect("JSON on stdout");
    assert_eq!(printed["job_status"]["status"], "completed");
    assert_eq!(printed["job_status"]["results"][0]["id"], 101);
}

#[test]
fn a_failed_bulk_job_exits_13_with_its_message() {
    let server = MockServer::start();
    let job = server.job_fails("job-bad", "Too many users in one request");
    server.create_many_users_answers_job(&job);
    let output = run(
        user_apis(&server).args(["zendesk", "create-many-users", "--json-body", "-", "--wait"]),
        Some(r#"{"users": [{"name": "Grace"}]}"#),
    );
    assert_eq!(output.status.code(), Some(13), "{}", stderr(&output));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("create_many_users") && err.contains("job-bad failed"),
        "{err}"
    );
    assert!(err.contains("Too many users in one request"), "{err}");
}

#[test]
fn a_404_exits_16_with_one_line_naming_operation_status_request_id_and_message() {
    let server = MockServer::start();
    server.show_user(|when, then| {
        when.user_id(7);
        then.not_found(
            &serde_json::from_value(
                json!({ "error": "RecordNotFound", "description": "Not found" }),
            )
            .expect("an error body"),
        )
        .into_inner()
        .header("x-request-id", "req-8f3c");
    });
    let output = run(
        user_apis(&server).args(["zendesk", "show-user", "--user-id", "7"]),
        None,
    );
    assert_eq!(output.status.code(), Some(16));
    assert_eq!(stdout(&output), "");
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    for part in ["show_user", "404", "req-8f3c", "RecordNotFound"] {
        assert!(err.contains(part), "`{part}` missing from: {err}");
    }
}

#[test]
fn a_429_is_retried_after_retry_after_and_fails_with_17_when_it_asks_too_long() {
    let server = MockServer::start();
    // Once rate limited for a second, then answering: the command succeeds.
    let count = server.rate_limited_then(
        1,
        1,
        |when: operations::CountUsersWhen| when,
        Reply::json(200, &json!({ "count": { "value": 12 } })),
    );
    let output = run(user_apis(&server).args(["zendesk", "count-users"]), None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(count.calls(), 2);

    // Rate limited for longer than the client waits (60 s): the call fails at once.
    server.script(
        |when: operations::CountDeletedUsersWhen| when,
        [Reply::rate_limited(3600)],
    );
    let output = run(
        user_apis(&server).args(["zendesk", "count-deleted-users"]),
        None,
    );
    assert_eq!(output.status.code(), Some(17));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("count_deleted_users") && err.contains("429"),
        "{err}"
    );
}

#[test]
fn missing_credentials_exit_3_before_any_request() {
    let server = MockServer::start();
    let mut cmd = user_apis(&server);
    cmd.env_remove("ZENDESK_API_TOKEN")
        .args(["zendesk", "count-users"]);
    let output = run(&mut cmd, None);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("ZENDESK_API_TOKEN"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn help_never_shows_a_credential() {
    let server = MockServer::start();
    for args in [
        vec!["--help"],
        vec!["zendesk", "--help"],
        vec!["zendesk", "list-users", "--help"],
        vec!["zendesk", "show-user", "-h"],
    ] {
        let output = run(user_apis(&server).args(&args), None);
        assert!(output.status.success(), "{args:?}");
        assert!(stdout(&output).contains("Usage"), "{args:?}");
    }
    let output = run(
        user_apis(&server).args(["zendesk", "show-user", "--help"]),
        None,
    );
    assert!(stdout(&output).contains("[env: ZENDESK_API_TOKEN]"));
}

/// The OAuth token operation (`x-cli: false` in the spec) is no command: it would print
/// tokens. The other operations are.
#[test]
fn the_oauth_token_operation_is_not_a_command() {
    let server = MockServer::start();
    let token = server.create_token_for_grant_type(|_, then| {
        then.ok(&types::OAuthTokenResponse {
            access_token: "cli-test-access-token".into(),
            expires_in: None,
            refresh_token: None,
            refresh_token_expires_in: None,
            scope: None,
            token_type: None,
        });
    });
    let output = run(user_apis(&server).args(["zendesk", "--help"]), None);
    assert!(output.status.success());
    let help = stdout(&output);
    assert!(help.contains("show-user"), "{help}");
    assert!(!help.contains("create-token"), "{help}");
    let output = run(
        user_apis(&server).args([
            "zendesk",
            "create-token-for-grant-type",
            "--grant-type",
            "client_credentials",
        ]),
        None,
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("create-token-for-grant-type"),
        "{}",
        stderr(&output)
    );
    assert!(!stdout(&output).contains("cli-test-access-token"));
    assert_eq!(token.calls(), 0);
}

#[test]
fn completions_are_printed_for_each_shell() {
    let server = MockServer::start();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef user-apis"),
        ("fish", "complete -c user-apis"),
    ] {
        let output = run(user_apis(&server).args(["completions", shell]), None);
        assert!(output.status.success(), "{shell}");
        let script = stdout(&output);
        assert!(
            script.contains(marker),
            "{shell}: {}",
            &script[..script.len().min(200)]
        );
        assert!(script.contains("list-users"), "{shell}");
    }
}

#[test]
fn sendauth_get_user_and_all_pages() {
    use sendauth_api_mock::prelude::{MockServerExt as _, PageScenarios as _};
    let server = MockServer::start();
    let users: Vec<sendauth_api::types::User> = (1..=5u32)
        .map(|n| {
            serde_json::from_value(json!({
                "id": format!("00000000-0000-4000-8000-{n:012}"), "role": "user",
                "username": format!("u{n}"), "firstName": "U", "lastName": "Ser",
                "hasPasskeys": false, "createdAt": "2026-01-05T09:00:00Z"
            }))
            .expect("a valid SendAuth user")
        })
        .collect();
    server.list_users_in_pages(&users, 2);
    let first = users[0].clone();
    server.get_user(|when, then| {
        when.user_id(&first.id);
        then.ok(&first);
    });
    let sendauth = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_user-apis"));
        cmd.env_clear()
            .env("SENDAUTH_BASE_URL", server.base_url())
            .env("SENDAUTH_USERNAME", "api-user")
            .env("SENDAUTH_PASSWORD", TOKEN)
            .args(args);
        run(&mut cmd, None)
    };
    let all = sendauth(&["sendauth", "list-users", "--per-page", "2", "--all"]);
    assert!(all.status.success(), "{}", stderr(&all));
    assert_eq!(stdout(&all).lines().count(), 5);
    let one = sendauth(&["sendauth", "get-user", "--user-id", &first.id.to_string()]);
    assert!(one.status.success(), "{}", stderr(&one));
    let printed: Value = serde_json::from_str(&stdout(&one)).expect("JSON on stdout");
    assert_eq!(printed["username"], "u1");
}

/// Runs `args` (a shell command line) under a pseudo-terminal with `script`, so that the
/// progress line is drawn as a user sees it; returns everything written and the exit code.
fn on_a_terminal(server: &MockServer, args: &str) -> (String, Option<i32>) {
    let binary = env!("CARGO_BIN_EXE_user-apis");
    let output = Command::new("script")
        .args(["-qec", &format!("{binary} {args}"), "/dev/null"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("TERM", "xterm")
        .env("ZENDESK_BASE_URL", server.base_url())
        .env("ZENDESK_EMAIL", EMAIL)
        .env("ZENDESK_API_TOKEN", TOKEN)
        .stdin(Stdio::null())
        .output()
        .expect("`script` (util-linux) runs the binary on a pseudo-terminal");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        !text.contains(TOKEN),
        "the API token is on the terminal: {text}"
    );
    (text, output.status.code())
}

#[test]
fn enum_flags_list_their_values_and_refuse_an_unlisted_one_before_any_request() {
    let server = MockServer::start();
    let help = run(
        user_apis(&server).args(["zendesk", "list-users", "--help"]),
        None,
    );
    let text = stdout(&help);
    assert!(
        text.contains("[possible values: end-user, agent, admin]"),
        "{text}"
    );
    let mut listing = server.mock(|when, then| {
        when.path("/api/v2/users");
        then.status(200).json_body(json!({ "users": [] }));
    });
    let refused = run(
        user_apis(&server).args(["zendesk", "list-users", "--single-role", "wizard"]),
        None,
    );
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let err = stderr(&refused);
    assert!(
        err.contains(
            "--single-role: `wizard` is not a value the spec lists (end-user, agent, admin)"
        ) && err.contains("--allow-unknown-values"),
        "{err}"
    );
    assert_eq!(listing.calls(), 0, "refused before any request");
    listing.delete();

    // Sent anyway when asked for, as given.
    let wizard = server.mock(|when, then| {
        when.path("/api/v2/users").query_param("role", "wizard");
        then.status(200).json_body(json!({ "users": [] }));
    });
    let sent = run(
        user_apis(&server).args([
            "zendesk",
            "list-users",
            "--single-role",
            "wizard",
            "--allow-unknown-values",
        ]),
        None,
    );
    assert!(sent.status.success(), "{}", stderr(&sent));
    assert_eq!(wizard.calls(), 1);
}

#[test]
fn a_value_outside_the_specs_range_is_refused_before_any_request() {
    let server = MockServer::start();
    let listing = server.mock(|when, then| {
        when.path("/api/v2/users");
        then.status(200).json_body(json!({ "users": [] }));
    });
    let output = run(
        user_apis(&server).args(["zendesk", "list-users", "--page-size", "500"]),
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("--page-size") && err.contains("1..=100"),
        "{err}"
    );
    assert_eq!(listing.calls(), 0);
}

#[test]
fn configuration_messages_name_flags_and_variables_never_rust_items() {
    let server = MockServer::start();
    let mut cmd = user_apis(&server);
    cmd.env_remove("ZENDESK_BASE_URL")
        .env("ZENDESK_SUBDOMAIN", "acme.zendesk.com")
        .args(["zendesk", "count-users"]);
    let output = run(&mut cmd, None);
    assert_eq!(output.status.code(), Some(3));
    let err = stderr(&output);
    assert!(
        err.contains("ZENDESK_SUBDOMAIN (--subdomain) `acme.zendesk.com` contains a dot")
            && err.contains("ZENDESK_BASE_URL (--base-url)"),
        "{err}"
    );
    assert!(
        !err.contains("ClientConfig") && !err.contains("::"),
        "{err}"
    );
}

#[test]
fn an_empty_variable_is_reported_as_empty_not_as_unset() {
    let server = MockServer::start();
    let mut cmd = user_apis(&server);
    cmd.env("ZENDESK_API_TOKEN", "")
        .args(["zendesk", "count-users"]);
    let output = run(&mut cmd, None);
    assert_eq!(output.status.code(), Some(3));
    let err = stderr(&output);
    assert!(err.contains("ZENDESK_API_TOKEN is set but empty"), "{err}");

    let mut cmd = user_apis(&server);
    cmd.env_remove("ZENDESK_API_TOKEN")
        .args(["zendesk", "count-users"]);
    let output = run(&mut cmd, None);
    assert_eq!(output.status.code(), Some(3));
    let err = stderr(&output);
    assert!(
        err.contains("ZENDESK_EMAIL is set but ZENDESK_API_TOKEN (--api-token) is not"),
        "{err}"
    );
}

#[test]
fn two_ways_of_authenticating_warn_and_name_the_one_used() {
    let server = MockServer::start();
    let bearer = server.mock(|when, then| {
        when.path("/api/v2/users/count")
            .header("authorization", "Bearer oauth-access-token-7d1e");
        then.status(200)
            .json_body(json!({ "count": { "value": 1 } }));
    });
    let mut cmd = user_apis(&server);
    cmd.env("ZENDESK_OAUTH_TOKEN", "oauth-access-token-7d1e")
        .args(["zendesk", "count-users"]);
    let output = run(&mut cmd, None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(bearer.calls(), 1, "the OAuth token wins");
    let err = stderr(&output);
    assert!(
        err.contains("warning: zendesk: credentials given more than one way; using ZENDESK_OAUTH_TOKEN, ignoring ZENDESK_EMAIL and ZENDESK_API_TOKEN"),
        "{err}"
    );
    assert!(!err.contains("oauth-access-token-7d1e"), "{err}");
    // The precedence is documented where the flags are.
    let help = run(user_apis(&server).args(["zendesk", "--help"]), None);
    assert!(
        stdout(&help).contains("Credentials: ZENDESK_CLIENT_ID (--client-id) and ZENDESK_CLIENT_SECRET (--client-secret) and ZENDESK_OAUTH_SCOPE (--oauth-scope), or ZENDESK_OAUTH_TOKEN (--oauth-token), or ZENDESK_EMAIL (--email) and ZENDESK_API_TOKEN (--api-token); the first that is set is used"),
        "{}",
        stdout(&help)
    );
}

#[test]
fn exit_codes_tell_auth_missing_rate_limited_client_and_server_errors_apart() {
    let server = MockServer::start();
    let help = stdout(&run(user_apis(&server).arg("--help"), None));
    for (status, code, listed) in [
        (401u16, 15, "15  unauthorized or forbidden"),
        (403, 15, "15  unauthorized or forbidden"),
        (404, 16, "16  not found"),
        (422, 18, "18  another client error status"),
        (500, 19, "19  a server error status"),
    ] {
        assert!(
            help.contains(listed),
            "`{listed}` missing from --help: {help}"
        );
        let id = i64::from(status);
        server.show_user(|when, then| {
            when.user_id(id);
            then.into_inner().status(status).body("{}");
        });
        let output = run(
            user_apis(&server).args(["zendesk", "show-user", "--user-id", &id.to_string()]),
            None,
        );
        assert_eq!(
            output.status.code(),
            Some(code),
            "HTTP {status}: {}",
            stderr(&output)
        );
    }
    assert!(help.contains("8   another HTTP status"), "{help}");
    assert!(help.contains("17  rate limited (HTTP 429)"), "{help}");
    assert!(help.contains("7   transport"), "{help}");
}

#[test]
fn a_retry_wait_longer_than_a_second_says_what_it_waits_for() {
    let server = MockServer::start();
    server.rate_limited_then(
        1,
        2,
        |when: operations::CountUsersWhen| when,
        Reply::json(200, &json!({ "count": { "value": 12 } })),
    );
    let output = run(user_apis(&server).args(["zendesk", "count-users"]), None);
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert_eq!(
        err.trim_end(),
        "user-apis: count_users: HTTP 429 Too Many Requests; waiting 2.0 s before attempt 2"
    );
}

#[test]
fn version_prints_the_binary_name_and_version() {
    let server = MockServer::start();
    for flag in ["--version", "-V"] {
        let output = run(user_apis(&server).arg(flag), None);
        assert!(output.status.success());
        assert_eq!(stdout(&output), "user-apis 0.1.0\n", "{flag}");
    }
}

#[test]
fn wait_shows_the_polls_and_the_jobs_progress() {
    let server = MockServer::start();
    let job = |status: &str, progress: i64| json!({ "job_status": { "id": "job-7", "status": status, "progress": progress, "total": 2 } });
    server.create_many_users(|_, then| {
        then.into_inner().status(200).json_body(job("queued", 0));
    });
    server.script(
        |when: operations::ShowJobStatusWhen| when,
        [
            Reply::json(200, &job("working", 1)),
            Reply::json(200, &job("working", 1)),
            Reply::json(200, &job("completed", 2)),
        ],
    );
    let body = std::env::temp_dir().join(format!("user-apis-wait-{}.json", std::process::id()));
    std::fs::write(&body, r#"{"users": [{"name": "Grace"}, {"name": "Ada"}]}"#)
        .expect("a body file");
    let (text, code) = on_a_terminal(
        &server,
        &format!(
            "zendesk create-many-users --json-body {} --wait",
            body.display()
        ),
    );
    let _ = std::fs::remove_file(&body);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("job job-7 working 1/2"), "{text}");
    assert!(text.contains("2 polls"), "{text}");
}

#[test]
fn a_failed_all_clears_its_progress_line_before_the_error() {
    let server = MockServer::start();
    let users: Vec<types::User> = (1..=3).map(|id| user(id, &format!("user{id}"))).collect();
    server.mock(|when, then| {
        when.path("/api/v2/users")
            .query_param_missing("page[after]");
        then.status(200).json_body(json!({
            "users": users, "meta": { "has_more": true, "after_cursor": "c1" }
        }));
    });
    server.script(
        |when: operations::ListUsersWhen| when.page_after("c1"),
        [Reply::text(503, "Service Unavailable")],
    );
    let (text, code) = on_a_terminal(&server, "zendesk list-users --page-size 3 --all");
    assert_eq!(code, Some(19), "{text}");
    let error = text
        .rfind("user-apis: list_users")
        .expect("the error is printed");
    let before = &text[..error];
    let drawn = before.rfind(" items").expect("the progress line was drawn");
    let cleared = before.rfind("\u{1b}[2K").unwrap_or(0);
    assert!(
        cleared > drawn,
        "the progress line is left above the error: {text:?}"
    );
}

/// A listing page with one user the model refuses: `--all` writes every good user to stdout,
/// the odd one to stderr (its reason with the JSON path, and its JSON), and exits 11 at the
/// end.
#[test]
fn list_all_writes_an_odd_item_to_stderr_and_goes_on() {
    let server = MockServer::start();
    let page = json!({
        "rows": [
            {"id": "00000000-0000-4000-8000-000000000001", "username": "u1",
             "firstName": "U", "lastName": "One"},
            {"id": "00000000-0000-4000-8000-000000000002", "username": "u2",
             "firstName": "U", "lastName": "Two", "permissionGroups": ["admins"]},
            {"id": "00000000-0000-4000-8000-000000000003", "username": "u3",
             "firstName": "U", "lastName": "Three"}
        ],
        "total": 3
    });
    server.mock(|when, then| {
        when.method("GET").path("/api/v1/users");
        then.status(200)
            .header("content-type", "application/json")
            .body(page.to_string());
    });
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_user-apis"));
    cmd.env_clear()
        .env("SENDAUTH_BASE_URL", server.base_url())
        .env("SENDAUTH_USERNAME", "api-user")
        .env("SENDAUTH_PASSWORD", TOKEN)
        .args(["sendauth", "list-users", "--per-page", "3", "--all"]);
    let output = run(&mut cmd, None);
    assert_eq!(output.status.code(), Some(11), "{}", stderr(&output));
    let names: Vec<String> = stdout(&output)
        .lines()
        .map(|line| {
            let user: Value = serde_json::from_str(line).expect("one JSON user a line");
            user["username"].as_str().expect("a username").to_string()
        })
        .collect();
    assert_eq!(names, ["u1", "u3"], "every good user, in order");
    let err = stderr(&output);
    assert!(err.contains("rows[1].permissionGroups[0]"), "{err}");
    assert!(
        err.contains(r#""username":"u2""#),
        "the odd item's JSON: {err}"
    );
    assert!(err.contains("1 item(s) did not match the spec"), "{err}");
}

/// A spent rate-limit window between two pages: the wait for its reset (2 s) is said on
/// stderr before the next page is fetched.
#[test]
fn a_long_rate_limit_wait_is_said_on_stderr() {
    let server = MockServer::start();
    let page = |id: i64, next: Option<&str>| {
        json!({
            "users": [{"id": id, "name": format!("user{id}")}],
            "meta": {"has_more": next.is_some(), "after_cursor": next},
        })
        .to_string()
    };
    let second = server.mock(|when, then| {
        when.method("GET")
            .path("/api/v2/users")
            .query_param("page[after]", "c1");
        then.status(200)
            .header("content-type", "application/json")
            .body(page(2, None));
    });
    let first = server.mock(|when, then| {
        when.method("GET")
            .path("/api/v2/users")
            .query_param_missing("page[after]");
        then.status(200)
            .header("content-type", "application/json")
            .header("ratelimit-limit", "1")
            .header("ratelimit-remaining", "0")
            .header("ratelimit-reset", "2")
            .body(page(1, Some("c1")));
    });
    let output = run(
        user_apis(&server).args(["zendesk", "list-users", "--all"]),
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 2);
    first.assert();
    second.assert();
    let err = stderr(&output);
    assert!(
        err.contains("user-apis: list_users: the rate limit allows the next request in"),
        "{err}"
    );
}

/// A SendAuth user id that is not a UUID is refused before any I/O, saying a UUID is
/// expected.
#[test]
fn a_user_id_that_is_not_a_uuid_says_a_uuid_is_expected() {
    let server = MockServer::start();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_user-apis"));
    cmd.env_clear()
        .env("SENDAUTH_BASE_URL", server.base_url())
        .env("SENDAUTH_USERNAME", "api-user")
        .env("SENDAUTH_PASSWORD", TOKEN)
        .args(["sendauth", "get-user", "--user-id", "42"]);
    let output = run(&mut cmd, None);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("--user-id"), "{err}");
    assert!(err.contains("expected a UUID"), "{err}");
}

/// The position a failed `--all` printed on stderr: the word after `--resume`.
fn printed_position(err: &str) -> String {
    let line = err
        .lines()
        .find(|line| line.contains("run the same command with --resume "))
        .unwrap_or_else(|| panic!("stderr says how to go on: {err}"));
    line.rsplit(' ').next().expect("a position").to_string()
}

/// A cursor page of `ids` from the mock, leading to `after`.
fn cursor_page(ids: std::ops::RangeInclusive<i64>, after: Option<&str>) -> Value {
    let users: Vec<types::User> = ids.map(|id| user(id, &format!("user{id}"))).collect();
    json!({
        "users": users,
        "meta": { "has_more": after.is_some(), "after_cursor": after },
    })
}

fn ids(output: &Output) -> Vec<i64> {
    stdout(output)
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).expect("one JSON document a line")["id"]
                .as_i64()
                .expect("an id")
        })
        .collect()
}

/// A `--all` whose second page fails (a deploy: 503 after the retries) prints the users of
/// the first page, exits 19 and says on stderr the exact `--resume` to go on; the same
/// command with it prints every other user, each once.
#[test]
fn a_failed_all_prints_its_resume_position_and_resume_goes_on_from_it() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.path("/api/v2/users")
            .query_param_missing("page[after]");
        then.status(200)
            .json_body(cursor_page(1..=3, Some("c1/+=")));
    });
    server.script(
        |when: operations::ListUsersWhen| when.page_after("c2"),
        [Reply::json(200, &cursor_page(7..=8, None))],
    );
    let mut down = server.mock(|when, then| {
        when.path("/api/v2/users")
            .query_param("page[after]", "c1/+=");
        then.status(503).body("Service Unavailable");
    });
    let args = ["zendesk", "list-users", "--page-size", "3", "--all"];
    let first = run(user_apis(&server).args(args), None);
    assert_eq!(first.status.code(), Some(19), "{}", stderr(&first));
    assert_eq!(ids(&first), [1, 2, 3]);
    let position = printed_position(&stderr(&first));
    assert!(position.starts_with("list_users:cursor:"), "{position}");

    down.delete();
    server.script(
        |when: operations::ListUsersWhen| when.page_after("c1/+="),
        [Reply::json(200, &cursor_page(4..=6, Some("c2")))],
    );
    let second = run(
        user_apis(&server).args(args).args(["--resume", &position]),
        None,
    );
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(
        ids(&second),
        [4, 5, 6, 7, 8],
        "from the failed page on, once"
    );
}

/// SendAuth's page numbers: the position names the page and the rows before it.
#[test]
fn a_failed_sendauth_all_resumes_at_its_page() {
    let server = MockServer::start();
    let row = |n: u32| {
        json!({"id": format!("00000000-0000-4000-8000-{n:012}"), "username": format!("u{n}"),
               "firstName": "U", "lastName": format!("{n}")})
    };
    let page = |n: u32| json!({"rows": [row(2 * n - 1), row(2 * n)], "total": 6});
    for n in [1, 3] {
        server.mock(|when, then| {
            when.path("/api/v1/users")
                .query_param("page", n.to_string());
            then.status(200).json_body(page(n));
        });
    }
    let mut down = server.mock(|when, then| {
        when.path("/api/v1/users").query_param("page", "2");
        then.status(404).body("{}");
    });
    let sendauth = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_user-apis"));
        cmd.env_clear()
            .env("SENDAUTH_BASE_URL", server.base_url())
            .env("SENDAUTH_USERNAME", "api-user")
            .env("SENDAUTH_PASSWORD", TOKEN)
            .args(["sendauth", "list-users", "--per-page", "2", "--all"])
            .args(extra);
        run(&mut cmd, None)
    };
    let names = |output: &Output| -> Vec<String> {
        stdout(output)
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).unwrap()["lastName"].to_string())
            .collect()
    };
    let first = sendauth(&[]);
    assert_eq!(first.status.code(), Some(16), "{}", stderr(&first));
    assert_eq!(names(&first), ["\"1\"", "\"2\""]);
    let position = printed_position(&stderr(&first));
    assert_eq!(position, "list_users:page:2:2");

    down.delete();
    server.mock(|when, then| {
        when.path("/api/v1/users").query_param("page", "2");
        then.status(200).json_body(page(2));
    });
    let second = sendauth(&["--resume", &position]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(names(&second), ["\"3\"", "\"4\"", "\"5\"", "\"6\""]);
}

/// A malformed `--resume` is refused before any request (exit 4, naming what is wrong), a
/// position of another listing too, and `--resume` needs `--all` (exit 2).
#[test]
fn a_resume_position_that_does_not_fit_is_refused_before_any_request() {
    let server = MockServer::start();
    let any = server.mock(|when, then| {
        when.any_request();
        then.status(500);
    });
    for (position, says) in [
        ("list_users:page:zero", "is not a whole number"),
        ("list_users:cursor:%%", "is not a resume position"),
        ("list_tags:page:2", "not of `list_users`"),
    ] {
        let output = run(
            user_apis(&server).args(["zendesk", "list-users", "--all", "--resume", position]),
            None,
        );
        assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
        assert!(stderr(&output).contains(says), "{}", stderr(&output));
    }
    let output = run(
        user_apis(&server).args(["zendesk", "list-users", "--resume", "list_users:page:2"]),
        None,
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(any.calls(), 0);
}

/// An export page from the mock: `ids`, its cursor, whether it ends the export.
fn export_page(
    ids: std::ops::RangeInclusive<i64>,
    cursor: &str,
    end: bool,
) -> types::IncrementalUserPage {
    serde_json::from_value(json!({
        "users": ids.map(|id| user(id, &format!("user{id}"))).collect::<Vec<_>>(),
        "after_cursor": cursor,
        "end_of_stream": end,
    }))
    .expect("an export page")
}

/// `incremental-user-export --all` follows the cursor to `end_of_stream`, each user once,
/// and ends by saying on stderr the `--cursor` to start the next export from; a run from that
/// cursor prints only what changed since. A failure says the `--cursor` of the last page
/// written.
#[test]
fn the_export_all_follows_its_cursor_to_the_end_and_gives_the_next_start() {
    let server = MockServer::start();
    server.incremental_user_export(|when, then| {
        when.start_time(1_700_000_000i64);
        then.ok(&export_page(1..=2, "x1", false));
    });
    server.incremental_user_export(|when, then| {
        when.cursor("x1");
        then.ok(&export_page(3..=4, "x2", false));
    });
    server.incremental_user_export(|when, then| {
        when.cursor("x2");
        then.ok(&export_page(5..=5, "x3==", true));
    });
    let export = |extra: &[&str]| {
        run(
            user_apis(&server)
                .args(["zendesk", "incremental-user-export", "--all"])
                .args(["--requests-per-minute", "30"])
                .args(extra),
            None,
        )
    };
    let nightly = export(&["--start-time", "1700000000"]);
    assert!(nightly.status.success(), "{}", stderr(&nightly));
    assert_eq!(ids(&nightly), [1, 2, 3, 4, 5], "every page, each user once");
    assert!(
        stderr(&nightly).contains("start the next one with --cursor x3=="),
        "{}",
        stderr(&nightly)
    );

    // The next night: one change since, then the end.
    server.incremental_user_export(|when, then| {
        when.cursor("x3==");
        then.ok(&export_page(6..=6, "x4", true));
    });
    let next = export(&["--cursor", "x3=="]);
    assert!(next.status.success(), "{}", stderr(&next));
    assert_eq!(ids(&next), [6]);
    assert!(stderr(&next).contains("--cursor x4"), "{}", stderr(&next));

    // A failure after a page: the cursor of the last page written.
    server.incremental_user_export(|when, then| {
        when.cursor("x4");
        then.ok(&export_page(7..=7, "x5", false));
    });
    server.mock(|when, then| {
        when.path("/api/v2/incremental/users/cursor")
            .query_param("cursor", "x5");
        then.status(404).body("{}");
    });
    let cut = export(&["--cursor", "x4"]);
    assert_eq!(cut.status.code(), Some(16), "{}", stderr(&cut));
    assert_eq!(ids(&cut), [7]);
    assert!(
        stderr(&cut).contains("run it again with --cursor x5"),
        "{}",
        stderr(&cut)
    );

    let neither = export(&[]);
    assert_eq!(neither.status.code(), Some(4), "{}", stderr(&neither));
    assert!(
        stderr(&neither).contains("--start-time"),
        "{}",
        stderr(&neither)
    );
}
