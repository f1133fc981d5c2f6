//! `cargo xtask bench`: what a call, a decode, a listing, the generator and a build cost,
//! measured side by side in one run against hand-written baselines.
//!
//! ```text
//! bench [--quick] [--xtask PATH] [--out FILE] [--only SECTION,...]
//! bench serve            the loopback server (started by the benchmarks themselves)
//! bench fleet-worker …   one process of the fleet section (started by it)
//! bench instructions-worker …  one variant's calls under callgrind (started by the
//!                              instructions section)
//! bench profile-worker …  one variant's calls under perf (started by the profile section)
//! ```
//!
//! Sections: `calls`, `instructions`, `profile`, `decode`, `pagination`, `concurrency`,
//! `pacing`, `fleet`, `telemetry`, `generation`, `build`.
//! Each prints its rows as it finishes; the whole table comes last and, with `--out`, goes
//! into that file (BENCHMARKS.md) between its markers with the machine it ran on.

#![recursion_limit = "256"] // the payloads' `json!` literals are deep

mod alloc;
mod builds;
mod calls;
mod cpu;
mod decode;
mod fleet;
mod generation;
mod hand;
mod instructions;
mod pacing;
mod paging;
mod payloads;
mod profile;
mod report;
mod server;
mod stats;
mod telemetry;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// Any failure: the benchmark stops and says why.
pub type Failure = Box<dyn std::error::Error + Send + Sync>;

const SECTIONS: &[&str] = &[
    "calls",
    "instructions",
    "profile",
    "decode",
    "pagination",
    "concurrency",
    "pacing",
    "fleet",
    "telemetry",
    "generation",
    "build",
];

/// What the command line asked for.
pub struct Settings {
    /// A few iterations of everything: seconds, for `cargo xtask test`.
    pub quick: bool,
    /// The built xtask binary, for the generation benchmark.
    pub xtask: Option<PathBuf>,
    /// Where to write the table (BENCHMARKS.md).
    pub out: Option<PathBuf>,
    /// The sections to run.
    pub only: Vec<String>,
}

/// The clients the call benchmarks share, all pointed at the loopback server.
#[derive(Clone)]
pub struct Clients {
    /// The generated Zendesk client, default configuration.
    pub zendesk: zendesk_api::Client,
    /// The generated Zendesk client with retries disabled (no request clone per call).
    pub zendesk_no_retry: zendesk_api::Client,
    /// The generated Zendesk client without pacing (`RateLimits::disabled()`): no limiter state
    /// locked per call.
    pub zendesk_no_pacing: zendesk_api::Client,
    /// The generated Zendesk client keeping 64 idle connections (the default is 32).
    pub zendesk_pool64: zendesk_api::Client,
    /// The generated Zendesk client with `ClientConfig::telemetry(false)`: no span, no metric.
    pub zendesk_telemetry_off: zendesk_api::Client,
    /// The generated SendAuth client, default configuration.
    pub sendauth: sendauth_api::Client,
    /// The generated Zendesk client with a fixed bearer token.
    pub zendesk_bearer: zendesk_api::Client,
    /// The generated Zendesk client with a managed OAuth token (renewed ahead of expiry).
    pub zendesk_oauth: zendesk_api::Client,
    /// reqwest + serde, by hand.
    pub hand: hand::Hand,
    /// The same hand-written code on the generated client's `reqwest::Client` (its pool,
    /// connect timeout and user agent settings).
    pub hand_same_http: hand::Hand,
    /// hyper + serde, by hand.
    pub bare: hand::Bare,
}

/// Which runtime the per-call section runs on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    /// The runtime's two worker threads, as the other sections run.
    Two,
    /// A current-thread runtime: the same calls without a second worker's wake-ups (whose CPU
    /// time varies from batch to batch and blurs a ratio) and without two threads sharing
    /// tokio's timer and I/O drivers.
    One,
}

/// Rows measured on a current-thread runtime, named so.
fn on_one_thread(mut rows: Vec<report::Row>) -> Vec<report::Row> {
    for row in &mut rows {
        row.what = format!("one thread (current-thread runtime): {}", row.what);
    }
    rows
}

/// The workspace root (`WORKSPACE_ROOT`, set by `.cargo/config.toml`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("WORKSPACE_ROOT"))
}

fn parse(args: &[String]) -> Result<Settings, String> {
    let mut settings = Settings {
        quick: false,
        xtask: None,
        out: None,
        only: SECTIONS.iter().map(|s| s.to_string()).collect(),
    };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = |name: &str| {
            iter.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--quick" => settings.quick = true,
            "--xtask" => settings.xtask = Some(value("--xtask")?.into()),
            "--out" => settings.out = Some(value("--out")?.into()),
            "--only" => {
                let list = value("--only")?;
                settings.only = list.split(',').map(str::to_string).collect();
                if let Some(bad) = settings
                    .only
                    .iter()
                    .find(|s| !SECTIONS.contains(&s.as_str()))
                {
                    return Err(format!(
                        "--only: unknown section `{bad}` (sections: {})",
                        SECTIONS.join(", ")
                    ));
                }
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(settings)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("serve") {
        server::serve()
    } else if args.first().map(String::as_str) == Some("fleet-worker") {
        fleet::worker(&args[1..])
    } else if args.first().map(String::as_str) == Some("instructions-worker") {
        instructions::worker(&args[1..])
    } else if args.first().map(String::as_str) == Some("profile-worker") {
        profile::worker(&args[1..])
    } else {
        parse(&args).and_then(|settings| run(&settings).map_err(|e| e.to_string()))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(settings: &Settings) -> Result<(), Failure> {
    let started = Instant::now();
    let wants = |s: &str| settings.only.iter().any(|o| o == s);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let load_at_start = load_average();
    eprintln!(
        "bench: {} run, {profile} profile, load average {load_at_start}",
        if settings.quick { "quick" } else { "full" }
    );
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut section = |name: &str, got: Vec<report::Row>| {
        eprint!("{}", report::table(&got));
        eprintln!("bench: {name} done at {:.1?}", started.elapsed());
        rows.extend(got);
    };

    let needs_server = [
        "calls",
        "instructions",
        "profile",
        "pagination",
        "concurrency",
        "pacing",
        "fleet",
        "telemetry",
    ]
    .iter()
    .any(|s| wants(s));
    if needs_server {
        let server = server::Server::start()?;
        let base = server.base_url();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let clients = clients(&base)?;
        let auth = clients.hand.auth.clone();
        // The per-call, concurrency and telemetry sections run again on one thread, with
        // clients of their own (a client's connections are tasks of the runtime that opened
        // them).
        let one_thread = if ["calls", "concurrency", "telemetry"]
            .iter()
            .any(|s| wants(s))
        {
            let one = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            Some((one, crate::clients(&base)?))
        } else {
            None
        };
        // The measured loops run as tasks on the runtime's workers, as application code does.
        if wants("calls") {
            let task = calls::per_call(settings.quick, clients.clone(), Workers::Two);
            section("calls", runtime.block_on(runtime.spawn(task))??);
            if let Some((one, own)) = &one_thread {
                let task = calls::per_call(settings.quick, own.clone(), Workers::One);
                section("calls", on_one_thread(one.block_on(task)?));
            }
        }
        if wants("instructions") {
            let (got, more) = instructions::instructions(settings.quick, &base)?;
            section("instructions", got);
            notes.extend(more);
        }
        if wants("profile") {
            let (got, more) = profile::profile(settings.quick, &base)?;
            section("profile", got);
            notes.extend(more);
        }
        if wants("pagination") {
            let task = paging::pagination(settings.quick, base.clone(), auth.clone());
            section("pagination", runtime.block_on(runtime.spawn(task))??);
        }
        if wants("concurrency") {
            section(
                "concurrency",
                runtime.block_on(calls::concurrency(settings, &clients))?,
            );
            if let Some((one, own)) = &one_thread {
                let task = calls::concurrency(settings, own);
                section("concurrency", on_one_thread(one.block_on(task)?));
            }
        }
        if wants("pacing") {
            let task = pacing::pacing(settings.quick, base.clone());
            section("pacing", runtime.block_on(runtime.spawn(task))??);
        }
        if wants("fleet") {
            section(
                "fleet",
                fleet::fleet(settings.quick, base.clone(), &runtime)?,
            );
        }
        // Last of the server's sections: it makes a subscriber, which the others never see.
        if wants("telemetry") {
            let task = telemetry::telemetry(settings.quick, clients.clone());
            section("telemetry", runtime.block_on(runtime.spawn(task))??);
            if let Some((one, own)) = &one_thread {
                let task = telemetry::telemetry(settings.quick, own.clone());
                section("telemetry", on_one_thread(one.block_on(task)?));
            }
        }
        drop(one_thread);
        drop(clients);
        drop(runtime);
        drop(server);
    }
    if wants("decode") {
        section("decode", decode::decode(settings)?);
    }
    if wants("generation") {
        match &settings.xtask {
            Some(xtask) => {
                let (got, more) = generation::generation(settings, xtask)?;
                section("generation", got);
                notes.extend(more);
            }
            None => {
                let reason = "generation: skipped (no --xtask PATH; `cargo xtask bench` passes it)";
                eprintln!("{reason}");
                notes.push(reason.to_string());
            }
        }
    }
    if wants("build") {
        let (got, more) = builds::builds(settings)?;
        section("build", got);
        notes.extend(more);
    }
    let order = |r: &report::Row| SECTIONS_ORDER.iter().position(|s| *s == r.section);
    rows.sort_by_key(order);

    let table = report::table(&rows);
    println!("\n{table}");
    for note in &notes {
        println!("note: {note}");
    }
    let machine = format!(
        "{} Load average (1 min) {load_at_start} at the start, {} at the end: the machine is \
         shared, and every ratio compares variants measured side by side, interleaved.",
        machine(),
        load_average()
    );
    println!("\n{machine}");
    if let Some(out) = &settings.out {
        let mut text = format!(
            "Measured by `cargo xtask bench` ({profile} profile) in {:.0?} on {}.\n\n{machine}\n\n{table}",
            started.elapsed(),
            chrono::Utc::now().format("%Y-%m-%d")
        );
        for note in &notes {
            text.push_str(&format!("\nNote: {note}\n"));
        }
        report::write(out, &text)?;
        eprintln!("bench: wrote {}", out.display());
    }
    eprintln!("bench: done in {:.1?}", started.elapsed());
    Ok(())
}

/// The table's section order.
const SECTIONS_ORDER: &[&str] = &[
    "per call",
    "instructions",
    "telemetry",
    "concurrency",
    "profile",
    "pacing",
    "fleet",
    "decode",
    "pagination",
    "generation",
    "build",
];

/// The access token of the bearer and managed-OAuth bench clients.
const BENCH_TOKEN: &str = "bench-access-token";

/// A token source answering at once with a token valid for an hour: what is measured is the
/// client's per-call token check, not a token endpoint.
#[derive(Debug)]
struct BenchTokens;

impl zendesk_api::TokenProvider for BenchTokens {
    fn fetch_token(
        &self,
        _request: zendesk_api::TokenRequest,
    ) -> futures::future::BoxFuture<'_, Result<zendesk_api::AccessToken, zendesk_api::ApiError>>
    {
        Box::pin(async {
            zendesk_api::AccessToken::bearer(BENCH_TOKEN, Some(Duration::from_secs(3600))).map_err(
                |e| zendesk_api::ApiError::new(zendesk_api::ErrorKind::Auth, e.to_string()),
            )
        })
    }
}

fn clients(base: &str) -> Result<Clients, Failure> {
    let zendesk = zendesk_client(base, |config| config)?;
    let zendesk_pool64 = zendesk_client(base, |config| config.pool_max_idle_per_host(64))?;
    let zendesk_telemetry_off = zendesk_client(base, |config| config.telemetry(false))?;
    let zendesk_no_pacing = zendesk_client(base, |config| {
        config.rate_limits(zendesk_api::RateLimits::disabled())
    })?;
    let zendesk_no_retry = zendesk_client(base, |config| {
        config.retry(zendesk_api::RetryPolicy::disabled())
    })?;
    let zendesk_bearer = zendesk_api::Client::with_config(
        zendesk_api::Credentials::bearer(BENCH_TOKEN)?,
        zendesk_api::ClientConfig::new().base_url(base),
    )?;
    let zendesk_oauth = zendesk_oauth_client(base)?;
    let sendauth = sendauth_api::Client::with_config(
        sendauth_api::Credentials::basic("bench", "password")?,
        sendauth_api::ClientConfig::new().base_url(base),
    )?;
    Ok(Clients {
        hand_same_http: hand_same_http(base, &zendesk)?,
        zendesk_bearer,
        zendesk_oauth,
        zendesk,
        zendesk_no_retry,
        zendesk_no_pacing,
        zendesk_pool64,
        zendesk_telemetry_off,
        sendauth,
        hand: hand_client(base)?,
        bare: hand::Bare::new(base, zendesk_auth()?.1),
    })
}

/// The API-token credentials of the Zendesk clients, and the `Authorization` header value
/// the hand-written clients send with them.
fn zendesk_auth() -> Result<(zendesk_api::Credentials, http::HeaderValue), Failure> {
    let credentials = zendesk_api::api_token_credentials("bench@example.com", "token")?;
    let header = credentials
        .header_value()
        .cloned()
        .ok_or("API-token credentials are fixed")?;
    Ok((credentials, header))
}

/// A generated Zendesk client with API-token credentials against `base`, its configuration
/// adjusted by `configure`. (Each client built loads the system's root certificates: the
/// instruction-count workers build only the one they measure.)
pub fn zendesk_client(
    base: &str,
    configure: impl FnOnce(zendesk_api::ClientConfig) -> zendesk_api::ClientConfig,
) -> Result<zendesk_api::Client, Failure> {
    let config = configure(zendesk_api::ClientConfig::new().base_url(base));
    Ok(zendesk_api::Client::with_config(zendesk_auth()?.0, config)?)
}

/// A generated Zendesk client with a managed OAuth token ([`BenchTokens`]).
pub fn zendesk_oauth_client(base: &str) -> Result<zendesk_api::Client, Failure> {
    Ok(zendesk_api::Client::with_config(
        zendesk_api::Credentials::from_provider(BenchTokens),
        zendesk_api::ClientConfig::new().base_url(base),
    )?)
}

/// reqwest + serde by hand, with the rustls crypto provider installed as the generated
/// clients install it.
pub fn hand_client(base: &str) -> Result<hand::Hand, Failure> {
    api_runtime::install_crypto_provider();
    Ok(hand::Hand::new(base, zendesk_auth()?.1))
}

/// The hand-written code on `zendesk`'s own `reqwest::Client`.
pub fn hand_same_http(base: &str, zendesk: &zendesk_api::Client) -> Result<hand::Hand, Failure> {
    Ok(hand::Hand {
        http: zendesk.http_client().clone(),
        base: base.to_string(),
        auth: zendesk_auth()?.1,
    })
}

/// `PROGRAM --version`, or `None` when the program is missing or fails: the tools a section
/// runs (valgrind, perf) and the compiler the run names.
pub fn tool_version(program: &str) -> Option<String> {
    let out = std::process::Command::new(program)
        .arg("--version")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `target/NAME/` in the workspace, created: where a section leaves its profiles.
pub fn profiles_dir(name: &str) -> Result<PathBuf, Failure> {
    let dir = workspace_root().join("target").join(name);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A tool's `output` when it succeeded; otherwise an error naming `what` failed, with the
/// last lines of its standard error on one line.
pub fn succeeded(
    output: std::process::Output,
    what: impl std::fmt::Display,
) -> Result<std::process::Output, Failure> {
    if output.status.success() {
        return Ok(output);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut last: Vec<&str> = stderr.lines().rev().take(5).collect();
    last.reverse();
    Err(format!("{what} failed: {}", last.join(" / ")).into())
}

/// The 1-minute load average (`/proc/loadavg`): how busy the machine was with other work.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// nproc, the CPU model, memory, the kernel and rustc: the machine the numbers are from.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or("unknown".to_string(), |kb| {
            format!("{:.1} GiB", kb as f64 / (1024.0 * 1024.0))
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or("unknown".into(), |s| s.trim().to_string());
    let rustc = tool_version(&std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .unwrap_or_else(|| "unknown".into());
    format!(
        "Machine: {cpus} CPUs (nproc), {model}, {memory} memory, Linux {kernel}, {rustc}. \
         Server and client share the machine: the server is a separate process on 127.0.0.1."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_tool_is_named_with_the_end_of_its_stderr() {
        let run = |script: &str| {
            std::process::Command::new("sh")
                .args(["-c", script])
                .output()
                .expect("sh runs")
        };
        let ok = succeeded(run("echo out"), "the tool").expect("a success passes");
        assert_eq!(String::from_utf8_lossy(&ok.stdout), "out\n");
        let script = "for i in 1 2 3 4 5 6 7; do echo line$i >&2; done; exit 3";
        let error = succeeded(run(script), "the tool").expect_err("a failure");
        assert_eq!(
            error.to_string(),
            "the tool failed: line3 / line4 / line5 / line6 / line7"
        );
    }
}
