//! Generation: `cargo xtask generate` without the build, by running the built xtask binary
//! (`generate --check`: the whole pipeline, in memory, compared with the committed files
//! instead of written), per spec and for all of them; against rustfmt alone on the same
//! generated file, the pipeline's last step.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::report::Row;
use crate::{Failure, Settings, stats, workspace_root};

fn time_command(mut command: Command) -> Result<(Duration, bool), Failure> {
    let started = Instant::now();
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() && !stdout.contains("checked ") {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    // A failing `--check` that still checked every spec only found stale files (someone's
    // spec edit in flight): the time is the pipeline's all the same.
    Ok((elapsed, output.status.success()))
}

fn generate(xtask: &Path, only: Option<&str>) -> Command {
    let mut command = Command::new(xtask);
    command.args(["generate", "--check"]);
    if let Some(name) = only {
        command.args(["--only", name]);
    }
    command.current_dir(workspace_root());
    command
}

fn rustfmt(file: &Path) -> Result<Command, Failure> {
    let cargo = std::env::var_os("CARGO").map(std::path::PathBuf::from);
    let beside = cargo
        .as_deref()
        .and_then(Path::parent)
        .map(|d| d.join("rustfmt"))
        .filter(|p| p.is_file());
    let mut command = Command::new(beside.unwrap_or_else(|| "rustfmt".into()));
    command.args(["--edition", "2024", "--emit", "stdout", "--quiet"]);
    command.stdin(
        std::fs::File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?,
    );
    command.stdout(Stdio::null());
    Ok(command)
}

/// The name of every spec (`specs/<name>.yaml`), sorted.
fn spec_names() -> Result<Vec<String>, Failure> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(workspace_root().join("specs"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "yaml")
            && let Some(name) = path.file_stem().and_then(|s| s.to_str())
        {
            names.push(name.to_string());
        }
    }
    names.sort();
    Ok(names)
}

/// The generation rows; `xtask` is the built xtask binary.
pub fn generation(settings: &Settings, xtask: &Path) -> Result<(Vec<Row>, Vec<String>), Failure> {
    let repeats = if settings.quick { 1 } else { 5 };
    // Every spec, each alone (the full run) and all at once (always: the number that
    // matters to a contributor, `cargo xtask generate`).
    let all_specs = spec_names()?;
    let specs: &[String] = if settings.quick { &[] } else { &all_specs };
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut stale = false;
    for spec in specs {
        let file = workspace_root().join(format!("crates/{spec}-api/src/generated.rs"));
        let lines = std::fs::read_to_string(&file)?.lines().count();
        let (mut gen_times, mut fmt_times) = (Vec::new(), Vec::new());
        for _ in 0..repeats {
            let (d, ok) = time_command(generate(xtask, Some(spec)))?;
            stale |= !ok;
            gen_times.push(d);
            let started = Instant::now();
            let status = rustfmt(&file)?.status()?;
            if !status.success() {
                return Err(format!("rustfmt failed on {}", file.display()).into());
            }
            fmt_times.push(started.elapsed());
        }
        let g = stats::median(&mut gen_times);
        let f = stats::median(&mut fmt_times);
        rows.push(Row::new(
            "generation",
            &format!(
                "`cargo xtask generate --only {spec}` (specs/{spec}.yaml → {} lines)",
                stats::thousands(lines as u64)
            ),
            stats::time(g),
            format!("rustfmt alone on the output: {}", stats::time(f)),
            format!(
                "rustfmt is {:.0}% of it",
                100.0 * f.as_secs_f64() / g.as_secs_f64().max(1e-9)
            ),
        ));
    }
    let mut all = Vec::new();
    for _ in 0..repeats {
        let (d, ok) = time_command(generate(xtask, None))?;
        stale |= !ok;
        all.push(d);
    }
    let lines: usize = all_specs
        .iter()
        .map(|spec| {
            let file = workspace_root().join(format!("crates/{spec}-api/src/generated.rs"));
            std::fs::read_to_string(file).map(|text| text.lines().count())
        })
        .sum::<Result<usize, _>>()?;
    rows.push(Row::new(
        "generation",
        &format!(
            "`cargo xtask generate`, all specs (→ {} client lines, with mocks, CLI, tables; build excluded)",
            stats::thousands(lines as u64)
        ),
        stats::time(stats::median(&mut all)),
        "one process, specs and their outputs on threads of their own".into(),
        "—".into(),
    ));
    if stale {
        notes.push(
            "generate --check reported stale files during the run (a spec edit in flight); \
             the timings are of the full pipeline all the same"
                .to_string(),
        );
    }
    Ok((rows, notes))
}
