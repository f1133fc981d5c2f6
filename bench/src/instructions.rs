//! What a call costs in instructions, counted by callgrind: deterministic where wall and CPU
//! time are not (a 2% change is lost in ±5% of noise, not in an instruction count).
//!
//! Each variant runs in a worker process of its own (`bench instructions-worker VARIANT
//! CALLS BASE_URL`) under `valgrind --tool=callgrind`, on a current-thread runtime, against
//! the loopback server (a separate process, not counted). A worker builds every client,
//! warms up, then makes `CALLS` calls; it runs twice, with two call counts, and the
//! difference of the two totals divided by the difference of the counts is the cost of one
//! call: start-up, client construction, warm-up and exit cancel out.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tracing::instrument::WithSubscriber;

use crate::report::Row;
use crate::{Failure, stats};

/// One measured variant: its name on the worker's command line and its row's text.
struct Variant {
    name: &'static str,
    what: &'static str,
}

/// The baseline first, then the generated call (the two `--quick` runs).
const VARIANTS: &[Variant] = &[
    Variant {
        name: "hand",
        what: "hand-written reqwest + serde `GET /api/v2/users/{id}` (baseline)",
    },
    Variant {
        name: "generated",
        what: "generated Zendesk `show_user`, default configuration (retries, pacing, spans \
               with no subscriber)",
    },
    Variant {
        name: "hand-same-http",
        what: "the same hand-written code on the generated client's `reqwest::Client`",
    },
    Variant {
        name: "hand-timeout",
        what: "the hand-written call with a per-request timeout (`RequestBuilder::timeout`), \
               as every generated attempt has",
    },
    Variant {
        name: "generated-no-retry",
        what: "generated `show_user`, `RetryPolicy::disabled()`",
    },
    Variant {
        name: "telemetry-off",
        what: "generated `show_user`, `ClientConfig::telemetry(false)`",
    },
    Variant {
        name: "oauth",
        what: "generated `show_user`, a managed OAuth token (checked per attempt)",
    },
    Variant {
        name: "registry",
        what: "generated `show_user` under `tracing_subscriber::registry()` (every span built \
               and dropped)",
    },
    Variant {
        name: "registry-telemetry-off",
        what: "the same registry, `ClientConfig::telemetry(false)`",
    },
    Variant {
        name: "hand-64",
        what: "hand-written, 64 calls in flight on one thread (the baseline of the next row)",
    },
    Variant {
        name: "generated-64",
        what: "generated `show_user`, 64 calls in flight on one thread",
    },
];

/// How many calls the `-64` variants keep in flight.
const IN_FLIGHT: usize = 64;

/// Calls before counting starts (both runs make them), and the two measured counts.
const WARMUP: usize = 50;

/// `bench instructions-worker VARIANT CALLS BASE_URL`: the calls of one variant.
pub fn worker(args: &[String]) -> Result<(), String> {
    let [variant, calls, base] = args else {
        return Err("instructions-worker needs VARIANT CALLS BASE_URL".into());
    };
    let calls: usize = calls
        .parse()
        .map_err(|e| format!("instructions-worker: CALLS `{calls}`: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let client = WorkerClient::new(variant, base).map_err(|e| e.to_string())?;
    let registry = tracing::Dispatch::new(tracing_subscriber::registry());
    let in_flight = if variant.ends_with("-64") {
        IN_FLIGHT
    } else {
        1
    };
    runtime
        .block_on(async move {
            // One at a time, or (the `-64` variants) `IN_FLIGHT` at a time on the one thread:
            // what concurrency adds in instructions (wake-ups, the pool's and the limiter's
            // bookkeeping).
            let total = WARMUP + calls;
            if in_flight == 1 {
                for _ in 0..total {
                    client.call(&registry).await?;
                }
                return Ok(());
            }
            for start in (0..total).step_by(in_flight) {
                let batch = (start..total.min(start + in_flight)).map(|_| client.call(&registry));
                for result in futures::future::join_all(batch).await {
                    result?;
                }
            }
            Ok::<(), Failure>(())
        })
        .map_err(|e| e.to_string())
}

/// The one client a worker measures, and how it calls it. Only that client is built: each
/// `reqwest::Client` loads the system's root certificates, ten times the instructions of
/// the calls a `--quick` worker makes, and all of it under callgrind.
enum WorkerClient {
    /// Hand-written reqwest + serde.
    Hand(crate::hand::Hand),
    /// The hand-written call with a per-request timeout.
    HandTimeout(crate::hand::Hand),
    /// A generated Zendesk client, no subscriber.
    Generated(zendesk_api::Client),
    /// A generated Zendesk client under `tracing_subscriber::registry()`.
    UnderRegistry(zendesk_api::Client),
}

impl WorkerClient {
    /// One call of the variant.
    async fn call(&self, registry: &tracing::Dispatch) -> Result<(), Failure> {
        match self {
            WorkerClient::Hand(hand) => {
                std::hint::black_box(hand.show_user(crate::calls::USER_ID).await?);
            }
            WorkerClient::HandTimeout(hand) => {
                let timeout = Some(Duration::from_secs(30));
                std::hint::black_box(hand.show_user_with(crate::calls::USER_ID, timeout).await?);
            }
            WorkerClient::Generated(zendesk) => crate::calls::show_user(zendesk.clone()).await?,
            WorkerClient::UnderRegistry(zendesk) => {
                crate::calls::show_user(zendesk.clone())
                    .with_subscriber(registry.clone())
                    .await?
            }
        }
        Ok(())
    }

    fn new(variant: &str, base: &str) -> Result<Self, Failure> {
        use crate::{hand_client, zendesk_client};
        let telemetry_off = |config: zendesk_api::ClientConfig| config.telemetry(false);
        Ok(match variant {
            "hand" => Self::Hand(hand_client(base)?),
            "hand-same-http" => Self::Hand(crate::hand_same_http(
                base,
                &zendesk_client(base, |config| config)?,
            )?),
            "hand-timeout" => Self::HandTimeout(hand_client(base)?),
            "hand-64" => Self::Hand(hand_client(base)?),
            "generated-64" => Self::Generated(zendesk_client(base, |config| config)?),
            "generated" => Self::Generated(zendesk_client(base, |config| config)?),
            "generated-no-retry" => Self::Generated(zendesk_client(base, |config| {
                config.retry(zendesk_api::RetryPolicy::disabled())
            })?),
            "telemetry-off" => Self::Generated(zendesk_client(base, telemetry_off)?),
            "oauth" => Self::Generated(crate::zendesk_oauth_client(base)?),
            "registry" => Self::UnderRegistry(zendesk_client(base, |config| config)?),
            "registry-telemetry-off" => Self::UnderRegistry(zendesk_client(base, telemetry_off)?),
            other => return Err(format!("unknown variant `{other}`").into()),
        })
    }
}

/// `valgrind --version`, or `None` when valgrind cannot run here.
fn valgrind() -> Option<String> {
    let out = Command::new("valgrind").arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The total instructions (`Ir`) of one worker run under callgrind; its profile is kept in
/// `profile`.
fn count(variant: &str, calls: usize, base: &str, profile: &Path) -> Result<u64, Failure> {
    let exe = std::env::current_exe()?;
    let out = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", profile.display()))
        .arg(exe)
        .args(["instructions-worker", variant, &calls.to_string(), base])
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "the {variant} worker under callgrind failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join(" / ")
        )
        .into());
    }
    let text = std::fs::read_to_string(profile)?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals: ")
                .or_else(|| l.strip_prefix("summary: "))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no instruction total in {}", profile.display()).into())
}

/// Instructions per call of every variant, and where their profiles are (for
/// `callgrind_annotate`).
pub fn instructions(quick: bool, base: &str) -> Result<(Vec<Row>, Vec<String>), Failure> {
    let Some(version) = valgrind() else {
        let note = "instructions: skipped (valgrind is not installed; `cargo xtask bench` \
                    installs Debian's package)"
            .to_string();
        eprintln!("{note}");
        return Ok((Vec::new(), vec![note]));
    };
    let (low, high) = if quick { (5, 25) } else { (200, 1200) };
    let variants: &[Variant] = if quick { &VARIANTS[..2] } else { VARIANTS };
    let dir = profiles_dir()?;
    let mut per_call = Vec::new();
    for v in variants {
        let run = |calls: usize| {
            count(
                v.name,
                calls,
                base,
                &dir.join(format!("{}-{calls}.out", v.name)),
            )
        };
        // `--quick` (a step of `cargo xtask test`) runs a variant's two workers side by side:
        // each is mostly its client's construction and warm-up, and the counts do not depend
        // on the load. The full run keeps them one after the other, alone on the machine.
        let (few, many) = if quick {
            std::thread::scope(|s| {
                let few = s.spawn(|| run(low));
                let many = run(high);
                (
                    few.join()
                        .unwrap_or_else(|_| Err("a worker thread panicked".into())),
                    many,
                )
            })
        } else {
            (run(low), run(high))
        };
        let (few, many) = (few?, many?);
        let per = many.saturating_sub(few) as f64 / (high - low) as f64;
        eprintln!("instructions: {} {per:.0}/call", v.name);
        per_call.push(per);
    }
    let baseline = per_call[0];
    let of = |name: &str| position(variants, name).map(|i| per_call[i]);
    let rows = variants
        .iter()
        .zip(&per_call)
        .map(|(v, per)| {
            let mut ratio = match (v.name, of("hand-64")) {
                (name, _) if name == VARIANTS[0].name => "baseline".to_string(),
                ("generated-64", Some(hand)) => {
                    format!("**{:.3}× hand-written at 64 in flight**", per / hand)
                }
                _ => format!("**{:.3}× hand**", per / baseline),
            };
            // Spans on against the same setting with telemetry off, as the telemetry
            // section pairs them.
            let pair = match v.name {
                "generated" => of("telemetry-off"),
                "registry" => of("registry-telemetry-off"),
                _ => None,
            };
            if let Some(off) = pair {
                ratio.push_str(&format!(" ({:.3}× telemetry off)", per / off));
            }
            Row::new(
                "instructions",
                v.what,
                format!("{} instr", stats::thousands(*per as u64)),
                format!("per call, {low}→{high} calls under callgrind"),
                ratio,
            )
        })
        .collect();
    let note = format!(
        "instructions: {version}; profiles in {} (`callgrind_annotate --inclusive=yes FILE`)",
        dir.display()
    );
    Ok((rows, vec![note]))
}

fn position(variants: &[Variant], name: &str) -> Option<usize> {
    variants.iter().position(|v| v.name == name)
}

/// `target/callgrind`, created.
fn profiles_dir() -> Result<PathBuf, Failure> {
    let dir = crate::workspace_root().join("target").join("callgrind");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
