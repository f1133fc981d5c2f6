//! Running cargo and the system tools the checks need, for the commands that drive them
//! (`test`, `bench`, `contract`, `newest`).

use std::process::Command;

/// The workspace members that are not published: left out of packaging and of the
/// newest-versions check.
pub(crate) const UNPUBLISHED: &[&str] = &["tests", "xtask", "bench"];

/// Installs Debian's `redis-server` package unless `redis-server` already runs, non-interactively
/// (`apt-get` as root, as on CI's fresh machines).
pub(crate) fn ensure_redis_server() -> Result<(), String> {
    let installed = || {
        Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if installed() {
        println!("redis-server is installed");
        return Ok(());
    }
    println!("redis-server is not on PATH: installing Debian's package");
    for args in [
        &["update", "-q"][..],
        &[
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "redis-server",
        ][..],
    ] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| {
                format!(
                    "cannot run apt-get ({e}): install redis-server yourself \
                     (`apt-get install redis-server`, as root)"
                )
            })?;
        if !status.success() {
            return Err(format!(
                "`apt-get {}` exited with {status} (it needs root); install redis-server \
                 yourself",
                args.join(" ")
            ));
        }
    }
    if installed() {
        Ok(())
    } else {
        Err("redis-server is still not on PATH after `apt-get install redis-server`".into())
    }
}

pub(crate) fn cargo(args: &[&str], envs: &[(&str, &str)]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
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
