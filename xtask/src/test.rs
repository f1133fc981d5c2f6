//! `cargo xtask test`: every check CI runs, in the order that fails fastest.

use std::process::Command;
use std::time::Instant;

/// The workspace members that are not published: left out of packaging and of the
/// newest-versions check.
pub(crate) const UNPUBLISHED: &[&str] = &["tests", "xtask", "bench"];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("test: unknown argument `{arg}`"));
    }
    let started = Instant::now();
    step("generate --check", || {
        crate::generate::run(&["--check".to_string()])
    })?;
    // Redocly CLI on every spec (installs the Node tools into .tools/node on first use).
    step("cargo xtask lint", || crate::lint::run(&[]))?;
    // What the last commit changed in specs/, wire and Rust API (never fails on a breaking
    // change; the spec-change cases themselves run with xtask's tests).
    step(
        "cargo xtask review --base HEAD~1",
        crate::review::last_commit,
    )?;
    step("cargo fmt --check", || {
        cargo(&["fmt", "--all", "--check"], &[])
    })?;
    step("cargo clippy", || {
        cargo(
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--quiet",
                "--",
                "-D",
                "warnings",
            ],
            &[],
        )
    })?;
    // Redis for the fleet tests and valgrind for the bench's instruction counts: Debian's
    // packages, installed here when they are not on PATH.
    step("redis-server, valgrind", || {
        ensure_installed(&[REDIS, VALGRIND])
    })?;
    // insta in CI mode: a new or changed snapshot fails instead of being written.
    step("cargo test", || {
        cargo(
            &["test", "--workspace", "--all-targets"],
            &[("INSTA_UPDATE", "no"), ("CI", "true")],
        )
    })?;
    // Every operation of every client against Prism mock servers, one per spec.
    step("cargo xtask contract", || crate::contract::run(&[]))?;
    step("cargo test --doc", || {
        cargo(&["test", "--workspace", "--doc"], &[])
    })?;
    // The rendered docs: no broken intra-doc link, no bad HTML, no ambiguous link.
    step("cargo doc (warnings denied)", || {
        cargo(
            &["doc", "--workspace", "--no-deps", "--quiet"],
            &[("RUSTDOCFLAGS", "-D warnings")],
        )
    })?;
    // A user resolves afresh: the newest versions the manifests allow must build clean.
    step("cargo xtask newest", || crate::newest::run(&[]))?;
    // Every publishable crate packages for a registry: metadata, README, every file it
    // includes. (`--no-verify`: building each package again from its tarball takes minutes
    // on two cores; the workspace build above compiles the same sources.)
    step("cargo package", || {
        cargo(
            &[
                "package",
                "--workspace",
                "--exclude",
                UNPUBLISHED[0],
                "--exclude",
                UNPUBLISHED[1],
                "--exclude",
                UNPUBLISHED[2],
                "--no-verify",
                "--allow-dirty",
                "--quiet",
            ],
            &[],
        )
    })?;
    // Every benchmark, briefly (seconds, dev profile), so the harness never rots.
    step("cargo xtask bench --quick", || {
        crate::bench::run(&["--quick".to_string()])
    })?;
    println!(
        "xtask test: every check passed in {:.0?}",
        started.elapsed()
    );
    Ok(())
}

/// Debian's `redis-server`: the fleet tests (tests/tests/fleet.rs) and the bench's fleet
/// section start a real Redis.
pub(crate) const REDIS: (&str, &str) = ("redis-server", "redis-server");
/// Debian's `valgrind`: the bench's instructions section counts a call's instructions with
/// callgrind.
pub(crate) const VALGRIND: (&str, &str) = ("valgrind", "valgrind");

/// Installs the Debian package of every `(program, package)` whose program is not on PATH,
/// non-interactively, in one `apt-get` run (as root, as on CI's fresh machines).
pub(crate) fn ensure_installed(tools: &[(&str, &str)]) -> Result<(), String> {
    let installed = |program: &str| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let missing: Vec<(&str, &str)> = tools
        .iter()
        .copied()
        .filter(|(program, _)| !installed(program))
        .collect();
    for (program, _) in tools {
        if !missing.iter().any(|(m, _)| m == program) {
            println!("{program} is installed");
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = missing.iter().map(|(_, package)| *package).collect();
    let by_hand = format!("`apt-get install {}`, as root", packages.join(" "));
    println!(
        "not on PATH: {}; installing Debian's packages",
        missing
            .iter()
            .map(|(p, _)| *p)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
    install.extend(&packages);
    for args in [&["update", "-q"][..], &install[..]] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("cannot run apt-get ({e}): install them yourself ({by_hand})"))?;
        if !status.success() {
            return Err(format!(
                "`apt-get {}` exited with {status} (it needs root); install them yourself \
                 ({by_hand})",
                args.join(" ")
            ));
        }
    }
    match missing.iter().find(|(program, _)| !installed(program)) {
        None => Ok(()),
        Some((program, package)) => Err(format!(
            "{program} is still not on PATH after `apt-get install {package}`"
        )),
    }
}

fn step(name: &str, f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    println!("==> {name}");
    let started = Instant::now();
    f().map_err(|e| format!("{name} failed: {e}"))?;
    println!("<== {name} ok ({:.1?})", started.elapsed());
    Ok(())
}

pub(crate) fn cargo(args: &[&str], envs: &[(&str, &str)]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(crate::workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` exited with {status}", args.join(" ")))
    }
}
