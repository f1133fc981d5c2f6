//! Build times (dev profile, as `cargo build` runs while developing): of each client crate
//! alone and of the facade with one feature and with all, from an empty target directory
//! (dependencies included), of our crates alone (dependencies already built), and after an
//! edit.
//!
//! Everything happens in a snapshot of the workspace under `target/bench-build/` with its own
//! target directory, so the shared target directory's caches and the files other people are
//! editing are left alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::report::Row;
use crate::{Failure, Settings, stats, workspace_root};

/// What is built: the row's name (`{operations}`: the operation count of the crate's spec),
/// the `cargo build` arguments, our crates it compiles (cleaned for the "ours only" column) and
/// the file an edit touches.
struct Target {
    name: &'static str,
    args: &'static [&'static str],
    ours: &'static [&'static str],
    edit: &'static str,
}

/// The row's name, `{operations}` replaced by the number of operations in the spec of the
/// crate it builds (`specs/<svc>.yaml` for `<svc>-api`): counted, never typed by hand.
fn label(target: &Target) -> Result<String, Failure> {
    if !target.name.contains("{operations}") {
        return Ok(target.name.to_string());
    }
    let service = target
        .args
        .get(1)
        .and_then(|krate| krate.strip_suffix("-api"))
        .ok_or_else(|| format!("{}: not a client crate", target.name))?;
    let spec = workspace_root()
        .join("specs")
        .join(format!("{service}.yaml"));
    let text = std::fs::read_to_string(&spec)
        .map_err(|e| format!("cannot read {}: {e}", spec.display()))?;
    let operations = text
        .lines()
        .filter(|line| line.trim_start().starts_with("operationId:"))
        .count();
    Ok(target.name.replace("{operations}", &operations.to_string()))
}

const TARGETS: &[Target] = &[
    Target {
        name: "`api-runtime` (hand-written, the baseline)",
        args: &["-p", "api-runtime"],
        ours: &["api-runtime"],
        edit: "crates/api-runtime/src/lib.rs",
    },
    Target {
        name: "`cerego-api` ({operations} operations)",
        args: &["-p", "cerego-api"],
        ours: &["api-runtime", "cerego-api"],
        edit: "crates/cerego-api/src/lib.rs",
    },
    Target {
        name: "`sendauth-api` ({operations} operations)",
        args: &["-p", "sendauth-api"],
        ours: &["api-runtime", "sendauth-api"],
        edit: "crates/sendauth-api/src/lib.rs",
    },
    Target {
        name: "`zendesk-api` ({operations} operations)",
        args: &["-p", "zendesk-api"],
        ours: &["api-runtime", "zendesk-api"],
        edit: "crates/zendesk-api/src/lib.rs",
    },
    Target {
        name: "`user-apis`, feature `zendesk` only",
        args: &[
            "-p",
            "user-apis",
            "--no-default-features",
            "--features",
            "zendesk",
        ],
        ours: &["api-runtime", "zendesk-api", "user-apis"],
        edit: "crates/api-runtime/src/lib.rs",
    },
    Target {
        name: "`user-apis`, all features",
        args: &["-p", "user-apis"],
        ours: &[
            "api-runtime",
            "zendesk-api",
            "cerego-api",
            "sendauth-api",
            "user-apis",
        ],
        edit: "crates/api-runtime/src/lib.rs",
    },
];

/// What the snapshot copies: enough for `cargo build -p` of any member.
const SNAPSHOT: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    ".cargo",
    "crates",
    "tests",
    "xtask",
    "bench",
    "specs",
];

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    if from.is_file() {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, to)?;
        return Ok(());
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" || name == "node_modules" || name == "snapshots" {
            continue;
        }
        copy_dir(&entry.path(), &to.join(name))?;
    }
    Ok(())
}

struct Builder {
    ws: PathBuf,
    target: PathBuf,
}

impl Builder {
    fn cargo(&self, args: &[&str]) -> Result<Duration, Failure> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let started = Instant::now();
        let output = Command::new(cargo)
            .args(args)
            .arg("--quiet")
            .current_dir(&self.ws)
            .env("CARGO_TARGET_DIR", &self.target)
            .stdin(Stdio::null())
            .output()?;
        let elapsed = started.elapsed();
        if !output.status.success() {
            return Err(format!(
                "cargo {} failed in {}:\n{}",
                args.join(" "),
                self.ws.display(),
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        Ok(elapsed)
    }

    fn build(&self, target: &Target) -> Result<Duration, Failure> {
        let mut args = vec!["build"];
        args.extend_from_slice(target.args);
        self.cargo(&args)
    }

    /// Appends a comment to `file`: a real edit, which rustc must recompile.
    fn edit(&self, file: &str, n: usize) -> Result<(), Failure> {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.ws.join(file))?;
        writeln!(f, "// bench edit {n}")?;
        Ok(())
    }
}

/// The build rows (the full run only; `--quick` says why it skips them).
pub fn builds(settings: &Settings) -> Result<(Vec<Row>, Vec<String>), Failure> {
    if settings.quick {
        let reason = "build: skipped with --quick (a cold build of the dependencies takes \
                      minutes on this machine; `cargo xtask bench` measures it)";
        eprintln!("{reason}");
        return Ok((Vec::new(), vec![reason.to_string()]));
    }
    let root = workspace_root();
    let base = root.join("target/bench-build");
    let builder = Builder {
        ws: base.join("ws"),
        target: base.join("target"),
    };
    if builder.ws.exists() {
        std::fs::remove_dir_all(&builder.ws)?;
    }
    for item in SNAPSHOT {
        copy_dir(&root.join(item), &builder.ws.join(item))?;
    }
    // Cold builds take a minute each and are measured once; the rest is the median of three.
    let repeats = 3;
    let mut rows = Vec::new();
    let mut results = Vec::new();
    for (i, target) in TARGETS.iter().enumerate() {
        // Cold: an empty target directory (the first row's deps are timed the same way).
        if builder.target.exists() {
            std::fs::remove_dir_all(&builder.target)?;
        }
        let load = crate::load_average();
        let name = label(target)?;
        eprintln!("build: {name} (cold, load average {load})");
        let cold = builder.build(target)?;
        // Ours only: the dependencies stay built, our crates are compiled from nothing.
        let mut clean = vec!["clean"];
        for krate in target.ours {
            clean.extend(["-p", krate]);
        }
        let mut ours = Vec::new();
        for _ in 0..repeats {
            builder.cargo(&clean)?;
            ours.push(builder.build(target)?);
        }
        let ours = stats::median(&mut ours);
        // After an edit: a comment appended, rustc's incremental cache warm.
        let mut edited = Vec::new();
        for n in 0..repeats {
            builder.edit(target.edit, i * repeats + n)?;
            edited.push(builder.build(target)?);
        }
        let edited = stats::median(&mut edited);
        results.push((cold, ours, edited));
        let (base_cold, base_ours, base_edit) = results[if i >= 5 { 4 } else { 0 }];
        let against = if i == 0 {
            "baseline".to_string()
        } else if i >= 5 {
            format!(
                "cold {:.2}×, ours only {:.2}×, after an edit {:.2}× feature `zendesk` only",
                stats::ratio(cold, base_cold),
                stats::ratio(ours, base_ours),
                stats::ratio(edited, base_edit)
            )
        } else {
            format!(
                "ours only: {:.2}× `api-runtime`",
                stats::ratio(ours, base_ours)
            )
        };
        rows.push(Row::new(
            "build",
            &name,
            format!("cold {}", stats::time(cold)),
            format!(
                "ours only {} · after an edit to `{}` {} · load average {load} before the cold build",
                stats::time(ours),
                target.edit.trim_start_matches("crates/"),
                stats::time(edited)
            ),
            against,
        ));
    }
    std::fs::remove_dir_all(&base)?;
    Ok((rows, Vec::new()))
}
