//! `cargo xtask bench [--quick] [--only SECTION,...]`: runs the `bench` binary (the bench/
//! workspace member), which measures calls, decoding, pagination, concurrency, generation
//! and builds side by side against hand-written baselines and prints one table.
//!
//! The full run builds it in release and writes BENCHMARKS.md; `--quick` builds it in the
//! dev profile, runs every benchmark briefly, writes nothing, and is a step of
//! `cargo xtask test` so that the harness never rots. xtask itself does not depend on the
//! client crates (generation must keep working when generated code is broken): it only runs
//! cargo, and hands the bench binary its own path to time `generate` with.

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    run_with(args, false)
}

/// `--quick`, as the last step of `cargo xtask test` (see [`run_built_as_tests`]).
pub(crate) fn quick_after_tests() -> Result<(), String> {
    run_with(&["--quick".to_string()], true)
}

fn run_with(args: &[String], after_tests: bool) -> Result<(), String> {
    let args = crate::args::Args::parse(
        "bench",
        args,
        &["--quick"],
        &[(
            "--only",
            "a list: calls,instructions,profile,decode,pagination,concurrency,pacing,fleet,telemetry,generation,build",
        )],
    )?;
    let quick = args.flag("--quick");
    let only = args.value("--only");
    // The fleet section runs a real Redis; the instructions section, callgrind.
    let wants = |section: &str| {
        only.as_deref()
            .is_none_or(|list| list.split(',').any(|s| s == section))
    };
    let mut tools = Vec::new();
    if wants("fleet") {
        tools.push(crate::process::REDIS);
    }
    if wants("instructions") {
        tools.push(crate::process::VALGRIND);
    }
    crate::process::ensure_installed(&tools)?;
    let xtask = frozen_self()?.to_string_lossy().into_owned();
    let mut bench_args: Vec<String> = vec!["--xtask".into(), xtask];
    if quick {
        bench_args.push("--quick".into());
    } else if only.is_none() {
        let out = crate::workspace::root().join("BENCHMARKS.md");
        bench_args.extend(["--out".into(), out.to_string_lossy().into_owned()]);
    }
    if let Some(only) = only {
        bench_args.extend(["--only".into(), only]);
    }
    if quick && after_tests {
        return run_built_as_tests(&bench_args);
    }
    let mut command: Vec<String> = ["run", "--quiet", "--package", "bench"]
        .into_iter()
        .map(String::from)
        .collect();
    if !quick {
        command.push("--release".into());
    }
    command.push("--".into());
    command.extend(bench_args);
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    crate::process::cargo(&command, &[])
}

/// The quick run inside `cargo xtask test`: the bench binary is built by a `cargo build` that
/// resolves features as the test step's `cargo test --workspace --all-targets` did (every
/// member, test targets included, all of them fresh by then), so it links the libraries that
/// step compiled. `cargo run -p bench` would resolve features for the bench alone and compile
/// tokio, reqwest, the runtime and the clients once more.
fn run_built_as_tests(bench_args: &[String]) -> Result<(), String> {
    let output = crate::process::cargo_command()
        .args([
            "build",
            "--quiet",
            "--workspace",
            "--tests",
            "--bin",
            "bench",
        ])
        .args(["--message-format", "json-render-diagnostics"])
        .current_dir(crate::workspace::root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("building the bench exited with {}", output.status));
    }
    let bench = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        // The binary itself, not its unit-test harness (`--tests` builds that too).
        .filter(|message| {
            message["target"]["name"] == "bench" && message["profile"]["test"] == false
        })
        .find_map(|message| message["executable"].as_str().map(String::from))
        .ok_or("cargo built no bench executable")?;
    let mut command = std::process::Command::new(&bench);
    crate::process::without_run_env(&mut command);
    let status = command
        .args(bench_args)
        .current_dir(crate::workspace::root())
        .status()
        .map_err(|e| format!("cannot run {bench}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the bench exited with {status}"))
    }
}

/// A copy of this xtask binary for the bench to time. `cargo test --workspace`, earlier in
/// `cargo xtask test`, may rebuild `target/debug/xtask` while this process runs (the
/// workspace unifies dependency features differently from `cargo run -p xtask`), which
/// replaces the file under the running binary; the copy is taken from the running process
/// itself (`/proc/self/exe` where it exists).
fn frozen_self() -> Result<std::path::PathBuf, String> {
    let running = std::path::Path::new("/proc/self/exe");
    let source = if running.exists() {
        running.to_path_buf()
    } else {
        std::env::current_exe().map_err(|e| format!("cannot find xtask itself: {e}"))?
    };
    let dir = crate::workspace::root().join("target").join("xtask-bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let copy = dir.join("xtask");
    std::fs::copy(&source, &copy)
        .map_err(|e| format!("cannot copy xtask to {}: {e}", copy.display()))?;
    Ok(copy)
}
