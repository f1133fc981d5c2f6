//! `cargo xtask lint [--only NAME]`: every spec checked by Redocly CLI (a full OpenAPI 3.0
//! validator: structure, references, examples against their schemas, operation rules) with the
//! committed ruleset `.redocly.yaml`. Any problem fails: the ruleset makes every rule it keeps
//! an error, and says on its line why it turns one off.

use std::process::Stdio;
use std::time::Instant;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let only = crate::args::Args::parse(
        "lint",
        args,
        &[],
        &[("--only", "a service name (zendesk, cerego, sendauth)")],
    )?
    .value("--only");
    let services = crate::workspace::services(only.as_deref())?;
    let tools = crate::node_tools::ensure()?;
    let root = crate::workspace::root();
    let started = Instant::now();
    // The config's `apis` section names each spec after its service; the ignore file beside
    // the config is read from the same directory.
    let output = tools
        .command("redocly")
        .arg("lint")
        .arg("--config")
        .arg(root.join(".redocly.yaml"))
        .arg("--format=stylish")
        .args(services.iter().map(|s| s.name.as_str()))
        .current_dir(&root)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run redocly: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        return Err(format!(
            "Redocly CLI found problems ({}):\n{}",
            output.status,
            report(&text)
        ));
    }
    let ignored = text
        .lines()
        .find(|l| l.contains("explicitly ignored"))
        .map(|l| format!(" ({})", l.trim().trim_end_matches('.')))
        .unwrap_or_default();
    for service in &services {
        println!(
            "linted {}: no problems",
            crate::workspace::relative(&service.spec_path)
        );
    }
    println!(
        "redocly lint: {} spec(s) clean in {:.1?}{ignored}",
        services.len(),
        started.elapsed()
    );
    Ok(())
}

/// Redocly's output without the box-drawn banners (Node version notices) around it.
fn report(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with(['║', '╔', '╚']))
        .collect::<Vec<_>>()
        .join("\n")
}
