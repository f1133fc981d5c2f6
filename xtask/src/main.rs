//! Project automation for user-apis.
//!
//! ```text
//! cargo xtask generate [--check] [--only NAME]   regenerate the clients from specs/
//! cargo xtask test                                every check CI runs
//! cargo xtask bench [--quick] [--only SECTIONS]   benchmarks against hand-written baselines
//! cargo xtask lint [--only NAME]                  Redocly CLI on specs/*.yaml
//! cargo xtask contract                            every operation against Prism
//! cargo xtask review [--base REF] [--out FILE] [--deny-breaking]
//!                                                 what each spec change breaks, wire and Rust
//! cargo xtask newest                              the publishable crates with the newest deps
//! cargo xtask new-service NAME --spec FILE        a new service's crates and wiring
//! ```
//!
//! Every command answers `--help`.

mod args;
mod bench;
mod cli_gen;
mod codegen;
mod contract;
mod docs;
mod error_bodies;
mod generate;
mod lenient;
mod lint;
mod mocks;
mod naming;
mod new_service;
mod newest;
mod node_tools;
mod open_enum;
mod paging_gen;
mod path_template;
mod process;
mod refusals;
mod review;
mod rewrite;
mod rust_names;
mod sensitive;
mod served_spec;
mod spec;
mod syntax;
mod tables;
mod test;
mod workspace;

use std::process::ExitCode;

/// Each command with its synopsis and what it does, for `--help`.
const COMMANDS: &[(&str, &str, &str)] = &[
    (
        "generate",
        "generate [--check] [--only NAME]",
        "regenerate crates/<NAME>-api from specs/<NAME>.yaml (and the mock crates, the CLI\n\
         modules, OPERATIONS.md); --check: compare with the committed files, change nothing\n\
         and fail with a diff when one is stale; --only NAME: one spec",
    ),
    (
        "test",
        "test",
        "every check CI runs: generate --check, lint, review, fmt, clippy, the whole test\n\
         suite, contract, doc tests, cargo doc with warnings denied, newest, cargo package,\n\
         bench --quick",
    ),
    (
        "bench",
        "bench [--quick] [--only SECTIONS]",
        "benchmarks vs hand-written code; writes BENCHMARKS.md\n\
         (--quick: seconds, debug build, writes nothing)",
    ),
    (
        "lint",
        "lint [--only NAME]",
        "lint specs/*.yaml with Redocly CLI (.redocly.yaml)",
    ),
    (
        "contract",
        "contract",
        "run every operation against Prism mock servers\n\
         (CONTRACT_SPEC_<SERVICE>=file serves another spec)",
    ),
    (
        "review",
        "review [--base REF] [--out FILE] [--deny-breaking]",
        "report every operation, parameter, field and enum value changed in specs/ since REF\n\
         (default: the merge-base with main; HEAD~1 on main), each classified breaking or\n\
         compatible for HTTP callers (Optic) and for the Rust API (--out: write the Markdown\n\
         report to FILE; --deny-breaking: fail when a breaking change is not acknowledged in\n\
         specs/CHANGELOG.md)",
    ),
    (
        "new-service",
        "new-service NAME --spec FILE",
        "a new service from its spec: specs/NAME.yaml, the crates NAME-api (a constructor per\n\
         security scheme) and NAME-api-mock, the workspace members, the facade's feature, the\n\
         CLI's command, the tests' decoder table and the README's rows; then generate",
    ),
    (
        "newest",
        "newest",
        "cargo update in a copy of the workspace (target/newest-versions), then cargo check of\n\
         the publishable crates with stable Rust, sharing target/; fails on any warning",
    ),
];

/// `cargo xtask --help`: every command.
fn usage() -> String {
    let mut out = String::from("usage: cargo xtask <command> [--help]\n\ncommands:\n");
    for (_, synopsis, what) in COMMANDS {
        out.push_str(&format!("  {synopsis}\n"));
        for line in what.lines() {
            out.push_str(&format!("      {line}\n"));
        }
    }
    out.trim_end().to_string()
}

/// `cargo xtask <command> --help`.
fn command_usage(command: &str) -> Option<String> {
    let (_, synopsis, what) = COMMANDS.iter().find(|(name, _, _)| *name == command)?;
    Some(format!("usage: cargo xtask {synopsis}\n\n{what}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str);
    // `cargo xtask <command> --help` (or -h) anywhere after the command: its usage, nothing run.
    if let Some(command) = command
        && args[1..].iter().any(|a| a == "--help" || a == "-h")
        && let Some(text) = command_usage(command)
    {
        println!("{text}");
        return ExitCode::SUCCESS;
    }
    let result = match command {
        Some("generate") => generate::run(&args[1..]),
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("lint") => lint::run(&args[1..]),
        Some("contract") => contract::run(&args[1..]),
        Some("review") => review::run(&args[1..]),
        Some("newest") => newest::run(&args[1..]),
        Some("new-service") => new_service::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{}", usage());
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{}", usage())),
        None => Err(usage()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
