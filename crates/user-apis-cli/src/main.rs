//! `user-apis`: every operation of the Zendesk, Cerego and SendAuth user APIs from a shell,
//! on the same clients as the library (auth, retries, timeouts, redaction).
//!
//! The commands and their `--help` are generated from `specs/` (`src/generated/`); this file
//! wires them to credentials, output and exit codes.

mod input;
mod output;
mod services;
mod waits;

/// One module per spec, written by `cargo xtask generate`.
#[allow(dead_code, unused_imports, unused_mut, unused_variables, clippy::all)]
mod generated {
    pub mod cerego;
    pub mod sendauth;
    pub mod zendesk;
}

use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};
use user_apis::{ApiError, ErrorKind};

use output::Output;
use services::{ConfigProblem, FlagOpt as _, cerego_cli, sendauth_cli, zendesk_cli};

/// Every exit code, with what it means: the table in `--help` (and the README).
const EXIT_CODES: &[(u8, &str)] = &[
    (0, "success"),
    (
        1,
        "another failure (an unreadable --json-body file, a closed stdout)",
    ),
    (
        2,
        "bad usage (an unknown command or flag, a missing required flag, a value the spec does \
         not allow)",
    ),
    (3, "missing, empty or invalid credentials or base URL"),
    (
        4,
        "invalid request: a value the operation refuses, before any I/O",
    ),
    (5, "no connection (DNS, TCP, TLS)"),
    (6, "timeout"),
    (7, "transport: the connection failed mid-request"),
    (8, "another HTTP status (a redirect not followed ...)"),
    (9, "the response body was too large"),
    (10, "the response body could not be read"),
    (11, "the response body is not what the spec describes"),
    (12, "a listing misbehaved (a repeated or missing cursor)"),
    (
        13,
        "a bulk job failed, was killed or did not finish in time",
    ),
    (14, "any other client error"),
    (
        15,
        "unauthorized or forbidden (HTTP 401, 403), or the OAuth token endpoint refused the \
         client: check the credentials",
    ),
    (16, "not found (HTTP 404)"),
    (
        17,
        "rate limited (HTTP 429) after the retries: try again later",
    ),
    (18, "another client error status (HTTP 4xx)"),
    (
        19,
        "a server error status (HTTP 5xx) after the retries: try again later",
    ),
];

/// `--help`'s exit-code table.
fn exit_code_help() -> String {
    let mut text = String::from("Exit codes:\n");
    for (code, meaning) in EXIT_CODES {
        text.push_str(&format!("  {code:<3} {meaning}\n"));
    }
    text.trim_end().to_string()
}

/// The exit code of a failed call (the table in `--help`).
fn exit_code(err: &ApiError) -> u8 {
    match err.kind() {
        ErrorKind::InvalidRequest => 4,
        ErrorKind::Connect => 5,
        ErrorKind::Timeout => 6,
        ErrorKind::Transport => 7,
        ErrorKind::Status => match err.status().map(|s| s.as_u16()) {
            Some(401 | 403) => 15,
            Some(404) => 16,
            Some(429) => 17,
            Some(400..=499) => 18,
            Some(500..=599) => 19,
            _ => 8,
        },
        ErrorKind::BodyTooLarge => 9,
        ErrorKind::Body => 10,
        ErrorKind::Decode => 11,
        ErrorKind::Pagination => 12,
        ErrorKind::Job => 13,
        ErrorKind::RateLimited => 17,
        ErrorKind::Auth => 15,
        _ => 14,
    }
}

/// The operations of one generated module as subcommands named like `list-users`, with
/// `--all` on the listings and `--wait` on the bulk operations.
macro_rules! operations {
    ($module:ident) => {
        generated::$module::CliCommand::iter().map(|cmd| {
            let mut command = generated::$module::Cli::<Output>::get_command(cmd)
                .name(cmd.operation_id().replace('_', "-"));
            let paging = cmd.paging();
            if let Some(paging) = paging {
                command = command.arg(Arg::new("all").long("all").action(ArgAction::SetTrue).help(
                    match paging {
                        services::Paging::Resumable => {
                            "Every item of every page, one JSON document a line (NDJSON); \
                                 a count on stderr when it is a terminal. On a failure, stderr \
                                 says how to go on from the last page written."
                        }
                        services::Paging::Export => {
                            "Every page of the export to the present (from --start-time, \
                                 or --cursor), paced to its budget, each user one JSON line; \
                                 then stderr gives the --cursor to start the next export from \
                                 (on a failure, the one to go on from)."
                        }
                    },
                ));
            }
            if paging == Some(services::Paging::Resumable) {
                command = command.arg(
                    Arg::new(services::RESUME)
                        .long(services::RESUME)
                        .value_name("POSITION")
                        .requires("all")
                        .help(
                            "With --all: go on from where a failed --all stopped, right after \
                             the last page it wrote (the position it printed on stderr). Give \
                             the same flags as that run.",
                        ),
                );
            }
            if paging == Some(services::Paging::Export) {
                command = command.arg(
                    Arg::new(services::EXPORT_RATE)
                        .long(services::EXPORT_RATE)
                        .value_name("N")
                        .value_parser(clap::value_parser!(u32).range(1..=30))
                        .help(
                            "The export's budget, which the client paces its requests to: 10 \
                             a minute (the default), 30 with Zendesk's High Volume add-on.",
                        ),
                );
            }
            if cmd.answers_job() {
                command = command.arg(
                    Arg::new("wait")
                        .long("wait")
                        .action(ArgAction::SetTrue)
                        .help(
                            "Wait for the job to end (polling show-job-status) and print its \
                             final status; a failed job exits with 13.",
                        ),
                );
            }
            command
        })
    };
}

fn command() -> Command {
    Command::new("user-apis")
        .version(env!("CARGO_PKG_VERSION"))
        .about(
            "Every operation of the Zendesk, Cerego and SendAuth user APIs, with the user-apis \
             clients' auth, retries and timeouts. Prints JSON on stdout (pretty on a terminal).",
        )
        .after_help(exit_code_help())
        .arg(
            Arg::new("allow-unknown-values")
                .long("allow-unknown-values")
                .global(true)
                .action(ArgAction::SetTrue)
                .help(
                    "Send a value the spec does not list for a flag whose values it lists \
                     (a role the service added since): refused by default, since a filter \
                     the server ignores would widen the operation to every record.",
                ),
        )
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(trace_arg())
        .subcommand(zendesk_cli::args(
            Command::new("zendesk")
                .about("Zendesk Support API v2: users, tags, job statuses.")
                .subcommand_required(true)
                .subcommands(operations!(zendesk)),
        ))
        .subcommand(cerego_cli::args(
            Command::new("cerego")
                .about("Cerego partner API v3: user tags.")
                .subcommand_required(true)
                .subcommands(operations!(cerego)),
        ))
        .subcommand(sendauth_cli::args(
            Command::new("sendauth")
                .about("SendAuth API v1: users.")
                .subcommand_required(true)
                .subcommands(operations!(sendauth)),
        ))
        .subcommand(
            Command::new("completions")
                .about("Prints a completion script for a shell.")
                .arg(
                    Arg::new("shell")
                        .required(true)
                        .value_parser(["bash", "zsh", "fish"]),
                ),
        )
}

/// `--trace` / `USER_APIS_TRACE=1`: the run's spans on stderr.
fn trace_arg() -> Arg {
    Arg::new("trace")
        .long("trace")
        .global(true)
        .action(ArgAction::SetTrue)
        .value_parser(clap::builder::BoolishValueParser::new())
        .env("USER_APIS_TRACE")
        .help(
            "Print the run's spans to stderr as they close: one per call (operation, \
             attempts, waits, outcome) and one per HTTP attempt (method, URL without \
             credentials, status, error type), with the retry events. Never a header or a body.",
        )
}

/// Sends the client's spans and events (target `api_runtime`, DEBUG and above) to stderr,
/// each span written when it closes, with its fields.
fn install_tracing(trace: bool) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::fmt::format::FmtSpan;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let spans = trace.then(|| {
        let only_the_clients = tracing_subscriber::filter::Targets::new().with_target(
            "api_runtime",
            tracing_subscriber::filter::LevelFilter::DEBUG,
        );
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_span_events(FmtSpan::CLOSE)
            .with_filter(only_the_clients)
    });
    // Only fails when a subscriber is already installed, which this binary never does.
    let _ = tracing_subscriber::registry()
        .with(waits::layer())
        .with(spans)
        .try_init();
}

/// The generated command named `name` (`list-users`) of a service.
macro_rules! find {
    ($module:ident, $name:expr) => {
        generated::$module::CliCommand::iter().find(|c| c.operation_id().replace('_', "-") == $name)
    };
}

async fn run(matches: ArgMatches) -> anyhow::Result<()> {
    let Some((service, service_matches)) = matches.subcommand() else {
        return Ok(());
    };
    if service == "completions" {
        let shell = match service_matches
            .get_one::<String>("shell")
            .map(String::as_str)
        {
            Some("zsh") => clap_complete::Shell::Zsh,
            Some("fish") => clap_complete::Shell::Fish,
            _ => clap_complete::Shell::Bash,
        };
        clap_complete::generate(shell, &mut command(), "user-apis", &mut std::io::stdout());
        return Ok(());
    }
    let Some((name, m)) = service_matches.subcommand() else {
        return Ok(());
    };
    refuse_unlisted_values(service, name, m)?;
    // Credentials are global flags: they may come before or after the operation.
    match service {
        "zendesk" => {
            let cmd =
                find!(zendesk, name).ok_or_else(|| anyhow::anyhow!("unknown command {name}"))?;
            zendesk_cli::run(zendesk_cli::client(m)?, cmd, m).await
        }
        "cerego" => {
            let cmd =
                find!(cerego, name).ok_or_else(|| anyhow::anyhow!("unknown command {name}"))?;
            cerego_cli::run(cerego_cli::client(m)?, cmd, m).await
        }
        "sendauth" => {
            let cmd =
                find!(sendauth, name).ok_or_else(|| anyhow::anyhow!("unknown command {name}"))?;
            sendauth_cli::run(sendauth_cli::client(m)?, cmd, m).await
        }
        other => Err(anyhow::anyhow!("unknown service {other}")),
    }
}

/// A value the spec does not list, for a flag whose values it lists: refused before any I/O
/// (exit 2) unless `--allow-unknown-values`.
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn refuse_unlisted_values(service: &str, operation: &str, m: &ArgMatches) -> anyhow::Result<()> {
    if m.get_flag_opt("allow-unknown-values") {
        return Ok(());
    }
    let root = command();
    let Some(leaf) = root
        .find_subcommand(service)
        .and_then(|s| s.find_subcommand(operation))
    else {
        return Ok(());
    };
    let unlisted = input::unlisted_values(leaf, m);
    let Some((flag, value, listed)) = unlisted.first() else {
        return Ok(());
    };
    Err(Usage(format!(
        "{flag}: `{value}` is not a value the spec lists ({}); add --allow-unknown-values to \
         send it anyway",
        listed.join(", ")
    ))
    .into())
}

fn main() -> ExitCode {
    let matches = command().get_matches();
    // Long retry waits are said on stderr (see `waits`); with `--trace`, the clients' spans
    // too.
    install_tracing(matches.get_flag("trace"));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("user-apis: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(matches)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(api) = err.downcast_ref::<ApiError>() {
                // One line: operation, kind, status, request id, attempts, the server's message.
                eprintln!("user-apis: {api}");
                if let Some(position) = api.resume_position() {
                    eprintln!(
                        "user-apis: to go on after the last page written, run the same command \
                         with --resume {position}"
                    );
                }
                ExitCode::from(exit_code(api))
            } else if let Some(config) = err.downcast_ref::<ConfigProblem>() {
                eprintln!("user-apis: {config}");
                ExitCode::from(3)
            } else if let Some(usage) = err.downcast_ref::<Usage>() {
                eprintln!("user-apis: {usage}");
                ExitCode::from(2)
            } else {
                eprintln!("user-apis: {err:#}");
                ExitCode::from(1)
            }
        }
    }
}
