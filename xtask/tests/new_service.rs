//! `cargo xtask new-service` on a small spec (`new-service/widgets.yaml`: four operations, one
//! a listing in page-number pages (`x-pagination`); a bearer token, HTTP Basic, or an API key
//! in a header or the query), in a scratch copy of the workspace: what it writes generates
//! clean (`generate --check`), a second run changes nothing, the result is formatted, the new
//! client and mock crates build and pass their own tests and doctests (a constructor per
//! scheme; the listing streamed across the mocks' pages), the CLI compiles with the service
//! wired in (`--all` on the listing) and passes its unit tests, and the tests crate's request
//! snapshots and response corpus, which the command wrote, pass, with no hand edit.
//!
//! The copy lives at `target/xtask-new-service/workspace`, synced file by file: a file new to
//! the copy gets the workspace file's modification time, a changed one the present, an
//! unchanged one keeps its own. It builds into `target/xtask-new-service/target`, first
//! seeded with hard links to this target's compiled crates and copies of its fingerprints:
//! with the times kept, cargo finds the workspace's crates that new-service leaves alone
//! (api-runtime, the other clients) fresh too, and compiles only what the new service
//! changes. (The scratch cannot build into this target itself: its crates have the same
//! relative paths, so the same artifact names, and would overwrite this build's.)
//!
//! Fresh, that is, when each cargo command resolves dependency features as the workspace's
//! test build (`cargo test --workspace --all-targets`) did: cargo picks them for the packages
//! a command selects, and `-p widgets-api`, `-p tests` or `check -p user-apis-cli` would each
//! compile tokio, rustls, reqwest, the runtime and the clients again with features of their
//! own. So every build here is `cargo test --workspace` with a target filter, as is the
//! recording step of new-service, and the test binaries run directly; and no command here
//! sees the variables cargo sets for this test, which ring's build script watches.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace this test belongs to.
fn root() -> PathBuf {
    PathBuf::from(env!("WORKSPACE_ROOT"))
}

/// `target/` of this build (the xtask binary is `target/debug/xtask`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_xtask"))
        .parent()
        .and_then(Path::parent)
        .expect("the xtask binary is in target/<profile>/")
        .to_path_buf()
}

/// The workspace's files as git sees them: tracked and untracked but not ignored.
fn workspace_files(root: &Path) -> Vec<String> {
    let output = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git ls-files failed");
    String::from_utf8(output.stdout)
        .expect("UTF-8 paths")
        .split('\0')
        .filter(|p| !p.is_empty() && root.join(p).is_file())
        .map(str::to_string)
        .collect()
}

/// Every file under `dir` but `target/`, with its content.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("a directory") {
            let path = entry.expect("an entry").path();
            let rel = path.strip_prefix(base).expect("under base").to_path_buf();
            if rel.starts_with("target") || rel.starts_with(".git") {
                continue;
            }
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.insert(rel, std::fs::read(&path).expect("a file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Makes `copy` hold exactly the workspace's files, rewriting only those that differ. A file
/// new to the copy takes the workspace file's modification time, so that the fingerprints
/// seeded from this build find it as old as what they were built from; one rewritten gets the
/// present, so that cargo rebuilds what the last run compiled from other content.
fn sync(root: &Path, copy: &Path) {
    let files = workspace_files(root);
    let keep: std::collections::BTreeSet<PathBuf> = files.iter().map(PathBuf::from).collect();
    if copy.is_dir() {
        for rel in tree(copy).into_keys() {
            if !keep.contains(&rel) {
                std::fs::remove_file(copy.join(&rel)).expect("remove a stale file");
            }
        }
    }
    for rel in &files {
        let content = std::fs::read(root.join(rel)).expect("a workspace file");
        let to = copy.join(rel);
        if std::fs::read(&to).ok().as_deref() == Some(content.as_slice()) {
            continue;
        }
        let new = !to.exists();
        std::fs::create_dir_all(to.parent().expect("a parent")).expect("a directory");
        std::fs::write(&to, content).expect("a copied file");
        if new {
            let modified = std::fs::metadata(root.join(rel))
                .and_then(|m| m.modified())
                .expect("a modification time");
            std::fs::File::options()
                .write(true)
                .open(&to)
                .and_then(|f| f.set_modified(modified))
                .expect("the time set");
        }
    }
}

/// A target directory whose compiled dependencies are hard links to this build's (rustc and
/// the linker replace an output rather than write into it), so that only the workspace's
/// crates compile in it.
fn seed_target(from: &Path, to: &Path) {
    if to.join("debug").is_dir() {
        return;
    }
    std::fs::create_dir_all(to.join("debug")).expect("the scratch target");
    let status = Command::new("cp")
        .arg("-al")
        .arg(from.join("debug/deps"))
        .arg(to.join("debug/deps"))
        .status()
        .expect("cp runs");
    assert!(status.success(), "cannot seed the scratch target");
    for dir in [".fingerprint", "build"] {
        let status = Command::new("cp")
            .arg("-a")
            .arg(from.join("debug").join(dir))
            .arg(to.join("debug").join(dir))
            .status()
            .expect("cp runs");
        assert!(status.success(), "cannot copy target/debug/{dir}");
    }
}

/// A command run in the scratch workspace as a shell there would run it: `WORKSPACE_ROOT` is
/// the copy, it builds into the scratch target, and none of the variables cargo sets for this
/// test (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, …) is passed on: ring's build script reruns
/// when they change, and with it rustls, reqwest, the runtime and every client.
fn command(program: &Path, dir: &Path, target: &Path) -> Command {
    let mut command = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || matches!(
                name,
                "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE" | "OUT_DIR"
            )
        {
            command.env_remove(name);
        }
    }
    command
        .current_dir(dir)
        .env("WORKSPACE_ROOT", dir)
        .env("CARGO_TARGET_DIR", target)
        // The scratch crates are small and rebuilt whole: no incremental state on disk.
        .env("CARGO_INCREMENTAL", "0")
        // Snapshots are checked, never written, but where new-service records them.
        .env("INSTA_UPDATE", "no");
    command
}

/// Its output, after asserting that it succeeded.
fn output(mut command: Command) -> String {
    let output = command.output().expect("the command runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "`{command:?}` failed in the scratch workspace:\n{text}"
    );
    text
}

/// Runs `program args` in `dir` as the scratch workspace's own command; its output.
fn run(program: &Path, args: &[&str], dir: &Path, target: &Path) -> String {
    let mut command = command(program, dir, target);
    command.args(args);
    output(command)
}

/// A test binary cargo built: its target's name and kind (`lib`, `bin`, `test`), and its
/// package's directory (where `cargo test` runs it).
struct TestBinary {
    target: String,
    kind: String,
    dir: PathBuf,
    executable: PathBuf,
}

/// Builds `targets` of the scratch workspace as `cargo test --workspace --all-targets` selects
/// packages and resolves features (so that everything the new service does not change is found
/// fresh in the seeded target), without running them; the test binaries built.
fn build_tests(cargo: &Path, targets: &[&str], dir: &Path, target: &Path) -> Vec<TestBinary> {
    let mut args = vec![
        "test",
        "--offline",
        "--workspace",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ];
    args.extend(targets);
    let out = run(cargo, &args, dir, target);
    out.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["profile"]["test"] == true)
        .filter_map(|m| {
            let manifest = PathBuf::from(m["manifest_path"].as_str()?);
            Some(TestBinary {
                target: m["target"]["name"].as_str()?.to_string(),
                kind: m["target"]["kind"][0].as_str()?.to_string(),
                dir: manifest.parent()?.to_path_buf(),
                executable: PathBuf::from(m["executable"].as_str()?),
            })
        })
        .collect()
}

/// Runs `binary` with `args` as `cargo test` would (in its package's directory); its output.
fn test_command(binary: &TestBinary, args: &[&str], dir: &Path, target: &Path) -> Command {
    let mut command = command(&binary.executable, dir, target);
    command
        .args(args)
        .current_dir(&binary.dir)
        .env("CARGO_MANIFEST_DIR", &binary.dir);
    command
}

#[test]
fn a_new_service_from_a_small_spec_generates_clean_and_its_crates_pass_their_tests() {
    let root = root();
    let scratch = target_dir().join("xtask-new-service");
    let copy = scratch.join("workspace");
    let target = scratch.join("target");
    sync(&root, &copy);
    seed_target(&target_dir(), &target);
    let xtask = PathBuf::from(env!("CARGO_BIN_EXE_xtask"));
    let spec = root.join("xtask/tests/new-service/widgets.yaml");
    let spec = spec.to_str().expect("a UTF-8 path");

    let out = run(
        &xtask,
        &["new-service", "widgets", "--spec", spec],
        &copy,
        &target,
    );
    for file in [
        "specs/widgets.yaml",
        "crates/widgets-api/src/auth.rs",
        "crates/widgets-api-mock/src/lib.rs",
        "Cargo.toml",
        "crates/user-apis/Cargo.toml",
        "crates/user-apis-cli/src/main.rs",
        "README.md",
    ] {
        assert!(
            out.contains(&format!("wrote {file}")),
            "{file} not written:\n{out}"
        );
    }
    let read = |file: &str| {
        std::fs::read_to_string(copy.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    };
    let auth = read("crates/widgets-api/src/auth.rs");
    for constructor in [
        "pub fn with_bearer_token(token: &str)",
        "pub fn with_basic_auth(username: &str, password: &str)",
        "pub fn with_api_key(api_key: &str)",
        "Credentials::api_key_header(\"X-Api-Key\", api_key)",
        "pub fn with_query_api_key(query_key: &str)",
        "Credentials::api_key_query(\"api_key\", query_key)",
        "pub fn with_client_credentials(",
        "Credentials::client_credentials(",
        // A relative token URL, resolved against the spec's server.
        "\"https://api.widgets.example/oauth/token\"",
    ] {
        assert!(auth.contains(constructor), "{constructor}:\n{auth}");
    }
    let readme = read("README.md");
    assert!(
        readme.contains("| [`widgets-api`](crates/widgets-api) | 4 operations"),
        "the crate table's row"
    );
    // The listing: its streams, the CLI's `--all` and the mocks' page scenario.
    assert!(
        read("crates/widgets-api/src/generated.rs").contains(
            "::api_runtime::page_number_pagination!(\n    crate::builder::ListWidgets<'a>,"
        ),
        "the client's .pages()/.stream()"
    );
    assert!(
        read("crates/user-apis-cli/src/generated/widgets.rs")
            .contains("CliCommand::ListWidgets => Some(crate::services::Paging::Resumable)"),
        "the CLI's --all"
    );
    assert!(
        read("crates/widgets-api-mock/src/generated.rs").contains("fn list_widgets_in_pages("),
        "the mocks' page scenario"
    );
    // The request snapshots, recorded from what each call sent, and the corpus from the spec.
    for file in [
        "tests/tests/snapshots/widgets__create_widget.snap",
        "tests/tests/snapshots/widgets__delete_widget.snap",
        "tests/tests/snapshots/widgets__get_widget.snap",
        "tests/tests/snapshots/widgets__list_widgets.snap",
        "tests/corpus/widgets/create_widget/spec-example.json",
        "tests/corpus/widgets/get_widget/spec-example.json",
        "tests/corpus/widgets/list_widgets/spec-example.json",
    ] {
        assert!(
            out.contains(&format!("wrote {file}")),
            "{file} not written:\n{out}"
        );
    }
    let snapshot = read("tests/tests/snapshots/widgets__list_widgets.snap");
    for sent in [
        "\"path\": \"/v1/widgets\"",
        "\"page=2\"",
        "\"per_page=50\"",
        "\"authorization\": \"Bearer [redacted]\"",
    ] {
        assert!(snapshot.contains(sent), "{sent}:\n{snapshot}");
    }
    // What the service has no example for is left to write, by name: here, nothing.
    assert!(
        !out.contains("no entry for") && !out.contains("no body for"),
        "{out}"
    );

    // Everything generated is what `generate` writes; a second run changes nothing.
    run(&xtask, &["generate", "--check"], &copy, &target);
    let before = tree(&copy);
    run(
        &xtask,
        &["new-service", "widgets", "--spec", spec],
        &copy,
        &target,
    );
    assert!(before == tree(&copy), "a second new-service changed files");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let cargo = Path::new(&cargo);
    // What it wrote and edited is laid out as `cargo fmt` would.
    run(cargo, &["fmt", "--check"], &copy, &target);
    // The tests crate's request snapshots and corpus, with every service's, as CI runs them
    // (a snapshot that differs or is missing fails). Their binary is the one new-service built
    // to record the snapshots (fresh here); most of their time is spent waiting, so the rest
    // builds and runs meanwhile.
    let built = build_tests(cargo, &["--test", "integration"], &copy, &target);
    let integration = test_command(
        binary(&built, &copy.join("tests"), "test", "integration"),
        &["requests::", "corpus::"],
        &copy,
        &target,
    );
    let integration = std::thread::spawn(move || output(integration));
    // The listing streams across the mocks' pages (a probe written into the copy only).
    std::fs::create_dir_all(copy.join("crates/widgets-api-mock/tests")).expect("a directory");
    std::fs::write(
        copy.join("crates/widgets-api-mock/tests/pages.rs"),
        PAGES_PROBE,
    )
    .expect("the probe");
    // The libraries' unit tests (the new crates'), the probe, and the CLI with the service's
    // command.
    let built = build_tests(
        cargo,
        &["--lib", "--bin", "user-apis", "--test", "pages"],
        &copy,
        &target,
    );
    std::fs::remove_file(copy.join("crates/widgets-api-mock/tests/pages.rs")).expect("removed");
    for (package, kind, name) in [
        ("crates/widgets-api", "lib", "widgets_api"),
        ("crates/widgets-api-mock", "lib", "widgets_api_mock"),
        ("crates/widgets-api-mock", "test", "pages"),
        ("crates/user-apis-cli", "bin", "user-apis"),
    ] {
        let out = output(test_command(
            binary(&built, &copy.join(package), kind, name),
            &[],
            &copy,
            &target,
        ));
        assert!(out.contains("test result: ok."), "{out}");
    }
    // The new crates' examples (their READMEs') and the facade's, with the new module, as CI
    // runs doctests (the libraries are fresh from the build above). The crates new-service
    // leaves alone (the other services' clients and mocks) are excluded: their doctests are
    // this workspace's own, and excluding them leaves every dependency's features as the
    // workspace build resolved them (api-runtime, the facade, the CLI and the tests crate,
    // whose dev-dependencies add features, stay selected), so nothing is compiled again.
    let untouched: Vec<String> = std::fs::read_dir(copy.join("crates"))
        .expect("the copy's crates")
        .filter_map(|entry| Some(entry.ok()?.file_name().to_str()?.to_string()))
        .filter(|name| {
            !name.starts_with("widgets-")
                && !matches!(name.as_str(), "api-runtime" | "user-apis" | "user-apis-cli")
        })
        .collect();
    let mut args = vec!["test", "--offline", "--workspace", "--doc"];
    for name in &untouched {
        args.extend(["--exclude", name]);
    }
    let out = run(cargo, &args, &copy, &target);
    for crate_name in ["widgets_api", "widgets_api_mock", "user_apis"] {
        assert!(out.contains(&format!("Doc-tests {crate_name}\n")), "{out}");
    }
    let out = integration.join().expect("the integration tests ran");
    assert!(
        out.contains("every_operation_sends_the_request_its_snapshot_shows ... ok"),
        "{out}"
    );
    assert!(
        out.contains("every_corpus_body_decodes_through_its_operation ... ok"),
        "{out}"
    );
}

/// The test binary of the target `name` of `kind` of the package in `dir`, which must have been
/// built.
fn binary<'a>(built: &'a [TestBinary], dir: &Path, kind: &str, name: &str) -> &'a TestBinary {
    built
        .iter()
        .find(|b| b.dir == dir && b.kind == kind && b.target == name)
        .unwrap_or_else(|| panic!("the {kind} `{name}` of {} was not built", dir.display()))
}

/// A test of the new mock crate, written into the copy: `list_widgets().stream()` reads every
/// widget across the pages `list_widgets_in_pages` serves.
const PAGES_PROBE: &str = r#"
use futures::TryStreamExt;
use widgets_api_mock::prelude::*;

#[test]
fn the_listing_streams_every_page() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let server = MockServer::start_async().await;
        let widgets: Vec<widgets_api_mock::types::Widget> = (1..=5)
            .map(|id| serde_json::from_value(serde_json::json!({"id": id, "name": "w"})).unwrap())
            .collect();
        server.list_widgets_in_pages(&widgets, 2);
        let client = widgets_api_mock::client(&server);
        let got: Vec<i64> = client
            .list_widgets()
            .stream()
            .map_ok(|w| w.id)
            .try_collect()
            .await
            .expect("every page");
        assert_eq!(got, [1, 2, 3, 4, 5]);
    });
}
"#;
