//! The table: one row per measurement, printed as Markdown and written into BENCHMARKS.md
//! between two markers (the prose around them is kept).

use std::path::Path;

/// One line of the table.
pub struct Row {
    /// per call, decode, pagination, concurrency, generation, build.
    pub section: &'static str,
    /// What was measured.
    pub what: String,
    /// The headline number (a median unless it says otherwise).
    pub median: String,
    /// Throughput, percentiles, memory.
    pub detail: String,
    /// Against the baseline measured in the same run.
    pub ratio: String,
}

impl Row {
    /// A row.
    pub fn new(
        section: &'static str,
        what: &str,
        median: String,
        detail: String,
        ratio: String,
    ) -> Self {
        Self {
            section,
            what: what.to_string(),
            median,
            detail,
            ratio,
        }
    }
}

/// The rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| section | what | median | throughput / detail | vs baseline (same run) |\n\
         |---|---|---:|---|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.section, r.what, r.median, r.detail, r.ratio
        ));
    }
    out
}

const BEGIN: &str =
    "<!-- bench:begin: written by `cargo xtask bench`; edit outside the markers -->";
const END: &str = "<!-- bench:end -->";

/// Replaces the generated part of `path` (between the markers) with `generated`, keeping
/// everything else; creates the file if it does not exist.
pub fn write(path: &Path, generated: &str) -> Result<(), String> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{BEGIN}\n{generated}{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{block}{}", &old[..b], &old[e + END.len()..])
        }
        _ if old.is_empty() => format!("# Benchmarks\n\n{block}\n"),
        _ => format!("{old}\n{block}\n"),
    };
    std::fs::write(path, new).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prose_around_the_markers_is_kept() {
        let dir = std::env::temp_dir().join(format!("bench-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("B.md");
        write(&path, "one\n").unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("intro\n{first}\noutro\n")).unwrap();
        write(&path, "two\n").unwrap();
        let second = std::fs::read_to_string(&path).unwrap();
        assert!(second.starts_with("intro\n# Benchmarks"), "{second}");
        assert!(
            second.contains("two\n") && !second.contains("one\n"),
            "{second}"
        );
        assert!(second.ends_with("\noutro\n"), "{second}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
