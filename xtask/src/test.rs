//! `cargo xtask test`: every check CI runs, in the order that fails fastest.

use std::time::Instant;

use crate::process::{REDIS, UNPUBLISHED, VALGRIND, cargo, ensure_installed};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("test: unknown argument `{arg}`"));
    }
    let started = Instant::now();
    step("generate --check", || {
        crate::generate::run(&["--check".to_string()])
    })?;
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
    // Redocly CLI on every spec (installs the Node tools into .tools/node on first use: `npm
    // ci` is CPU work as much as network, and beside clippy on two cores it showed no gain
    // beyond the spread between runs; TESTING.md).
    step("cargo xtask lint", || crate::lint::run(&[]))?;
    // What the last commit changed in specs/, wire and Rust API (never fails on a breaking
    // change; the spec-change cases themselves run with xtask's tests).
    step(
        "cargo xtask review --base HEAD~1",
        crate::review::last_commit,
    )?;
    // Redis for the fleet tests and valgrind for the bench's instruction counts: Debian's
    // packages, installed here when they are not on PATH.
    step("redis-server, valgrind", || {
        ensure_installed(&[REDIS, VALGRIND])
    })?;
    // insta in CI mode: a new or changed snapshot fails instead of being written. Twice as
    // many test threads as cores (unless RUST_TEST_THREADS says otherwise): many tests wait on
    // loopback servers, Redis, child processes and the CLI's real pacing rather than compute,
    // and with one thread a core the CPU idles through those waits (TESTING.md).
    let threads = std::env::var("RUST_TEST_THREADS").unwrap_or_else(|_| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (2 * cores).to_string()
    });
    step("cargo test", || {
        cargo(
            &["test", "--workspace", "--all-targets"],
            &[
                ("INSTA_UPDATE", "no"),
                ("CI", "true"),
                ("RUST_TEST_THREADS", &threads),
            ],
        )
    })?;
    // Every operation of every client against Prism mock servers, one per spec.
    step("cargo xtask contract", || crate::contract::run(&[]))?;
    step("cargo test --doc", || {
        cargo(&["test", "--workspace", "--doc"], &[])
    })?;
    // The rendered docs: no broken intra-doc link, no bad HTML, no ambiguous link. The examples
    // are documented too, which has cargo resolve dependency features with the dev-dependencies,
    // as clippy's `--all-targets` did: rustdoc then reads the metadata clippy's check wrote
    // instead of checking reqwest, redis and everything above them again.
    step("cargo doc (warnings denied)", || {
        cargo(
            &[
                "doc",
                "--workspace",
                "--no-deps",
                "--lib",
                "--bins",
                "--examples",
                "--quiet",
            ],
            &[("RUSTDOCFLAGS", "-D warnings")],
        )
    })?;
    // A user resolves afresh: the newest versions the manifests allow must build clean.
    step("cargo xtask newest", || crate::newest::run(&[]))?;
    // Every publishable crate packages for a registry: metadata, README, every file it
    // includes. (`--no-verify`: building each package again from its tarball takes minutes
    // on two cores; the workspace build above compiles the same sources.) `--offline`: the
    // packages' lockfiles resolve from the registry index `cargo xtask newest` has just
    // refreshed (its `cargo update` asks for every dependency of these crates) instead of
    // asking the registry again, crate by crate: the same .crate files, byte for byte, in
    // a second instead of ten (TESTING.md).
    step("cargo package", || {
        cargo(
            &[
                "package",
                "--offline",
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
        crate::bench::quick_after_tests()
    })?;
    println!(
        "xtask test: every check passed in {:.0?}",
        started.elapsed()
    );
    Ok(())
}

fn step(name: &str, f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    println!("==> {name}");
    let started = Instant::now();
    f().map_err(|e| format!("{name} failed: {e}"))?;
    println!("<== {name} ok ({:.1?})", started.elapsed());
    Ok(())
}
