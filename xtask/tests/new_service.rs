//! `cargo xtask new-service` on a small spec (`new-service/widgets.yaml`: three operations, a
//! bearer token or HTTP Basic), in a scratch copy of the workspace: what it writes generates
//! clean (`generate --check`), a second run changes nothing, the result is formatted, the new
//! client and mock crates build and pass their own tests, and the facade, the CLI and the
//! tests crate compile with the service wired in, with no hand edit.
//!
//! The copy lives at `target/xtask-new-service/workspace`, synced file by file (a file whose
//! content did not change keeps its time, so cargo does not rebuild what did not change), and
//! builds into `target/xtask-new-service/target`, first seeded with hard links to this
//! target's compiled dependencies: only the workspace's own crates compile there.

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

/// Makes `copy` hold exactly the workspace's files, rewriting only those that differ.
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
        std::fs::create_dir_all(to.parent().expect("a parent")).expect("a directory");
        std::fs::write(&to, content).expect("a copied file");
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

/// Runs `program args` in `dir` as the scratch workspace's own command; its output on
/// failure.
fn run(program: &Path, args: &[&str], dir: &Path, target: &Path) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("WORKSPACE_ROOT", dir)
        .env("CARGO_TARGET_DIR", target)
        // The scratch crates are small and rebuilt whole: no incremental state on disk.
        .env("CARGO_INCREMENTAL", "0")
        .output()
        .expect("the command runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "`{} {}` failed in the scratch workspace:\n{text}",
        program.display(),
        args.join(" ")
    );
    text
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
    let auth = std::fs::read_to_string(copy.join("crates/widgets-api/src/auth.rs")).unwrap();
    assert!(
        auth.contains("pub fn with_bearer_token(token: &str)")
            && auth.contains("pub fn with_basic_auth(username: &str, password: &str)"),
        "a constructor per scheme:\n{auth}"
    );
    let readme = std::fs::read_to_string(copy.join("README.md")).unwrap();
    assert!(
        readme.contains("| [`widgets-api`](crates/widgets-api) | 3 operations"),
        "the crate table's row"
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
    run(
        cargo,
        &[
            "test",
            "--offline",
            "-p",
            "widgets-api",
            "-p",
            "widgets-api-mock",
        ],
        &copy,
        &target,
    );
    // The wiring compiles: the facade's feature, the CLI's command, the tests crate's client
    // and catalogue entries.
    run(
        cargo,
        &["check", "--offline", "-p", "user-apis-cli", "-p", "tests"],
        &copy,
        &target,
    );
}
