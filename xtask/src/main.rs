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
//! ```

mod bench;
mod cli_gen;
mod contract;
mod docs;
mod generate;
mod lenient;
mod lint;
mod mocks;
mod naming;
mod node_tools;
mod open_enum;
mod review;
mod rewrite;
mod rust_names;
mod served_spec;
mod tables;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  generate [--check] [--only NAME]   regenerate crates/<NAME>-api from specs/<NAME>.yaml
                                     (--check: compare with the committed files, change nothing)
  test                               generate --check, fmt, clippy and the whole test suite
  bench [--quick] [--only SECTIONS]  benchmarks vs hand-written code; writes BENCHMARKS.md
                                     (--quick: seconds, debug build, writes nothing)
  lint [--only NAME]                 lint specs/*.yaml with Redocly CLI (.redocly.yaml)
  contract                           run every operation against Prism mock servers
                                     (CONTRACT_SPEC_<SERVICE>=file serves another spec)
  review [--base REF] [--out FILE] [--deny-breaking]
                                     report every operation, parameter, field and enum value
                                     changed in specs/ since REF (default: the merge-base with
                                     main; HEAD~1 on main), each classified breaking or
                                     compatible for HTTP callers (Optic) and for the Rust API
                                     (--out: write the Markdown report to FILE;
                                     --deny-breaking: fail when a breaking change is not
                                     acknowledged in specs/CHANGELOG.md)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("generate") => generate::run(&args[1..]),
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("lint") => lint::run(&args[1..]),
        Some("contract") => contract::run(&args[1..]),
        Some("review") => review::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
        None => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (`WORKSPACE_ROOT`, set for every crate of the workspace by
/// `.cargo/config.toml`).
pub(crate) fn workspace_root() -> PathBuf {
    PathBuf::from(env!("WORKSPACE_ROOT"))
}

/// A subcommand's arguments: flags (`--check`) and options with a value (`--only NAME`).
pub(crate) struct Args {
    flags: Vec<&'static str>,
    values: Vec<(&'static str, String)>,
}

impl Args {
    /// Parses `args` for `command`, which accepts the `flags` and the `options` (each option
    /// paired with what its value is, for the error message).
    pub(crate) fn parse(
        command: &str,
        args: &[String],
        flags: &[&'static str],
        options: &[(&'static str, &str)],
    ) -> Result<Self, String> {
        let mut parsed = Self {
            flags: Vec::new(),
            values: Vec::new(),
        };
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if let Some(flag) = flags.iter().find(|f| **f == arg.as_str()) {
                parsed.flags.push(flag);
            } else if let Some((option, what)) = options.iter().find(|(o, _)| *o == arg.as_str()) {
                let value = iter
                    .next()
                    .ok_or_else(|| format!("{command}: {option} needs {what}"))?;
                parsed.values.push((option, value.clone()));
            } else {
                return Err(format!("{command}: unknown argument `{arg}`"));
            }
        }
        Ok(parsed)
    }

    /// Whether `flag` was given.
    pub(crate) fn flag(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }

    /// The value of `option`, if given (the last one wins).
    pub(crate) fn value(&self, option: &str) -> Option<String> {
        self.values
            .iter()
            .rev()
            .find(|(o, _)| *o == option)
            .map(|(_, v)| v.clone())
    }
}
