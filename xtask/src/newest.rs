//! `cargo xtask newest`: the publishable crates build warning-free with the newest versions
//! their `Cargo.toml` allows, as a user who adds them to a project today resolves them.
//!
//! The committed `Cargo.lock` pins what CI builds; a user's build resolves afresh. So a copy
//! of the workspace (in `target/newest-versions/`, without `.git` and `target/`) gets
//! `cargo update` (ignoring `rust-version`, as a user without one does) and `cargo check` of
//! every publishable crate with stable Rust, sharing the workspace's target directory, so
//! only the crates whose version changed (and the workspace's own) are compiled. Any warning
//! fails it: a deprecation in a new release shows here before a user sees it.

use std::path::Path;
use std::process::Command;

/// What the copy leaves out: build output, git metadata, Node tools, the fuzz workspace.
const SKIPPED: &[&str] = &["target", ".git", ".tools", "node_modules", "fuzz"];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("newest: unknown argument `{arg}`"));
    }
    let root = crate::workspace::root();
    let target = root.join("target");
    let scratch = target.join("newest-versions");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)
            .map_err(|e| format!("cannot clear {}: {e}", scratch.display()))?;
    }
    copy_tree(&root, &scratch)?;
    cargo(
        &scratch,
        &target,
        &["update"],
        &[("CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS", "allow")],
    )?;
    let mut check = vec!["check", "--workspace"];
    for member in crate::process::UNPUBLISHED {
        check.extend(["--exclude", member]);
    }
    let output = cargo(&scratch, &target, &check, &[])?;
    let warnings: Vec<&str> = output
        .lines()
        .filter(|line| line.starts_with("warning"))
        // cargo's per-crate summary (`warning: `x` (lib) generated 1 warning`) is not one.
        .filter(|line| !line.contains(") generated "))
        .collect();
    if warnings.is_empty() {
        println!("newest: the publishable crates build without a warning with the newest versions");
        Ok(())
    } else {
        Err(format!(
            "{} warning(s) with the newest versions the manifests allow (see above)",
            warnings.len()
        ))
    }
}

/// Runs stable `cargo` in `dir` with `target` as the target directory; returns its stderr
/// (also printed), or an error when it fails.
fn cargo(
    dir: &Path,
    target: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Result<String, String> {
    let mut command = Command::new("cargo");
    crate::process::without_run_env(&mut command);
    let output = command
        .args(args)
        .envs(envs.iter().copied())
        // Stable Rust, whichever toolchain runs xtask (rustup reads it; without rustup the
        // one `cargo` there is).
        .env("RUSTUP_TOOLCHAIN", "stable")
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprint!("{stderr}");
    if output.status.success() {
        Ok(stderr)
    } else {
        Err(format!(
            "`cargo {}` in {} exited with {}",
            args.join(" "),
            dir.display(),
            output.status
        ))
    }
}

/// Copies `from` into `to`, but for [`SKIPPED`] at the top level.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    fn copy(from: &Path, to: &Path, top: bool) -> Result<(), String> {
        std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
        let entries =
            std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| e.to_string())?;
            let name = entry.file_name();
            if top && SKIPPED.iter().any(|s| name == *s) {
                continue;
            }
            let kind = entry.file_type().map_err(|e| e.to_string())?;
            let (source, dest) = (entry.path(), to.join(&name));
            if kind.is_dir() {
                copy(&source, &dest, false)?;
            } else if kind.is_file() {
                std::fs::copy(&source, &dest)
                    .map_err(|e| format!("cannot copy {}: {e}", source.display()))?;
            }
        }
        Ok(())
    }
    copy(from, to, true)
}
