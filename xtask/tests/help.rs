//! Every `cargo xtask` command answers `--help` (and `-h`) with its usage, running nothing.

use std::process::Command;

fn xtask(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("the xtask binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The commands `cargo xtask --help` lists: the first word of each synopsis line.
fn commands() -> Vec<String> {
    let (ok, stdout, stderr) = xtask(&["--help"]);
    assert!(ok, "cargo xtask --help failed: {stderr}");
    let listed: Vec<String> = stdout
        .lines()
        .skip_while(|line| *line != "commands:")
        .skip(1)
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect();
    assert!(listed.len() >= 7, "too few commands listed: {stdout}");
    listed
}

#[test]
fn every_command_answers_help_with_its_usage() {
    for command in commands() {
        for flag in ["--help", "-h"] {
            let (ok, stdout, stderr) = xtask(&[&command, flag]);
            assert!(ok, "cargo xtask {command} {flag} failed: {stderr}");
            assert!(
                stdout.starts_with(&format!("usage: cargo xtask {command}")),
                "cargo xtask {command} {flag} printed: {stdout}"
            );
        }
    }
}

#[test]
fn help_after_other_arguments_still_runs_nothing() {
    let (ok, stdout, _) = xtask(&["review", "--base", "HEAD~1", "--help"]);
    assert!(ok);
    assert!(stdout.starts_with("usage: cargo xtask review"), "{stdout}");
}

#[test]
fn an_unknown_command_fails_with_the_usage() {
    let (ok, _, stderr) = xtask(&["frobnicate"]);
    assert!(!ok);
    assert!(stderr.contains("unknown command `frobnicate`"), "{stderr}");
    assert!(stderr.contains("usage: cargo xtask"), "{stderr}");
}
