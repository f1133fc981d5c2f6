//! Running cargo and the system tools the checks need, for the commands that drive them
//! (`test`, `bench`, `contract`, `newest`).

use std::process::Command;

/// The workspace members that are not published: left out of packaging and of the
/// newest-versions check.
pub(crate) const UNPUBLISHED: &[&str] = &["tests", "xtask", "bench"];

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

/// `cargo` (the one that runs xtask), with what `cargo run` told xtask about itself
/// removed from its environment (see [`without_run_env`]).
pub(crate) fn cargo_command() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    without_run_env(&mut command);
    command
}

/// Removes the variables `cargo run` sets for xtask (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`,
/// …) from a cargo command's environment. Build scripts such as ring's ask to be rerun when
/// they change, and cargo compares them with its own environment: a cargo started by xtask
/// would find ring "changed" against a build made from a shell, and compile ring, rustls,
/// reqwest and every client again (and the shell's next build the same, the other way).
pub(crate) fn without_run_env(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let set_by_run = name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || matches!(
                name,
                "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE" | "OUT_DIR"
            );
        if set_by_run {
            command.env_remove(name);
        }
    }
}

/// Runs the tests crate's `integration` binary with the libtest `args` (filters, flags) and
/// `envs`. It is built as `cargo test --workspace` builds it: cargo picks dependency features
/// for the packages a command selects, so `-p tests` alone would compile the runtime, the
/// clients and their dependencies again instead of finding them fresh after the workspace
/// build.
pub(crate) fn integration_tests(args: &[&str], envs: &[(&str, &str)]) -> Result<(), String> {
    let mut all = vec![
        "test",
        "--quiet",
        "--workspace",
        "--test",
        "integration",
        "--",
    ];
    all.extend(args);
    cargo(&all, envs)
}

pub(crate) fn cargo(args: &[&str], envs: &[(&str, &str)]) -> Result<(), String> {
    let status = cargo_command()
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(crate::workspace::root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` exited with {status}", args.join(" ")))
    }
}
