//! What a call costs in instructions, counted by callgrind: deterministic where wall and CPU
//! time are not (a 2% change is lost in ±5% of noise, not in an instruction count).
//!
//! Each variant runs in a worker process of its own (`bench instructions-worker VARIANT
//! CALLS BASE_URL`) under `valgrind --tool=callgrind`, on a current-thread runtime, against
//! the loopback server (a separate process, not counted). A worker builds its one client,
//! warms up, then makes `CALLS` calls; it runs twice, with two call counts, and the
//! difference of the two totals divided by the difference of the counts is the cost of one
//! call: start-up, client construction, warm-up and exit cancel out.
//!
//! A full run also simulates the caches and branch predictors for the generated call and
//! its hand-written baseline (`--cache-sim=yes --branch-sim=yes`): where CPU time differs by
//! more than the instructions, the misses say why, on a machine without hardware counters.

use std::path::Path;
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
        name: "hand-model",
        what: "the hand-written call decoding into the generated model \
               (`zendesk_api::types::UserResponse`)",
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
    /// The hand-written call decoding into the generated model.
    HandModel(crate::hand::Hand),
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
                let user = hand
                    .show_user_as::<crate::hand::ZdUserResponse>(crate::calls::USER_ID, timeout);
                std::hint::black_box(user.await?);
            }
            WorkerClient::HandModel(hand) => {
                let user = hand
                    .show_user_as::<zendesk_api::types::UserResponse>(crate::calls::USER_ID, None);
                std::hint::black_box(user.await?);
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
            "hand-model" => Self::HandModel(hand_client(base)?),
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

/// The totals of one worker run under callgrind, by event (`Ir`, and with `simulate` the
/// simulated caches' misses and the branches: `I1mr`, `D1mr`, `D1mw`, `Bcm`, `Bim`, …); its
/// profile is kept in `profile`.
fn count(
    variant: &str,
    calls: usize,
    base: &str,
    profile: &Path,
    simulate: bool,
) -> Result<Vec<(String, u64)>, Failure> {
    let exe = std::env::current_exe()?;
    let mut command = Command::new("valgrind");
    command
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", profile.display()));
    if simulate {
        command.args(["--cache-sim=yes", "--branch-sim=yes"]);
    }
    let out = command
        .arg(exe)
        .args(["instructions-worker", variant, &calls.to_string(), base])
        .output()?;
    crate::succeeded(out, format_args!("the {variant} worker under callgrind"))?;
    let text = std::fs::read_to_string(profile)?;
    let events = text.lines().find_map(|l| l.strip_prefix("events: "));
    let totals = text.lines().find_map(|l| {
        l.strip_prefix("totals: ")
            .or_else(|| l.strip_prefix("summary: "))
    });
    let (Some(events), Some(totals)) = (events, totals) else {
        return Err(format!("no totals in {}", profile.display()).into());
    };
    let counts: Vec<(String, u64)> = events
        .split_whitespace()
        .zip(totals.split_whitespace())
        .filter_map(|(event, total)| Some((event.to_string(), total.parse().ok()?)))
        .collect();
    if counts.first().is_none_or(|(event, _)| event != "Ir") {
        return Err(format!("no instruction total in {}", profile.display()).into());
    }
    Ok(counts)
}

/// The variants whose caches and branches a full run also simulates (twice as slow under
/// callgrind): the generated call and its hand-written baseline.
const SIMULATED: [&str; 2] = ["hand", "generated"];

/// Instructions per call of every variant, and where their profiles are (for
/// `callgrind_annotate`).
pub fn instructions(quick: bool, base: &str) -> Result<(Vec<Row>, Vec<String>), Failure> {
    let Some(version) = crate::tool_version("valgrind") else {
        let note = "instructions: skipped (valgrind is not installed; `cargo xtask bench` \
                    installs Debian's package)"
            .to_string();
        eprintln!("{note}");
        return Ok((Vec::new(), vec![note]));
    };
    let (low, high) = if quick { (5, 25) } else { (200, 1200) };
    let variants: &[Variant] = if quick { &VARIANTS[..2] } else { VARIANTS };
    let dir = crate::profiles_dir("callgrind")?;
    let mut per_call = Vec::new();
    // Per call, by event, of the simulated variants.
    let mut simulated: Vec<Vec<(String, f64)>> = Vec::new();
    for v in variants {
        let simulate = !quick && SIMULATED.contains(&v.name);
        let run = |calls: usize| {
            count(
                v.name,
                calls,
                base,
                &dir.join(format!("{}-{calls}.out", v.name)),
                simulate,
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
        let events: Vec<(String, f64)> = (many.iter().zip(&few))
            .map(|((event, m), (_, f))| {
                (
                    event.clone(),
                    m.saturating_sub(*f) as f64 / (high - low) as f64,
                )
            })
            .collect();
        let per = events[0].1;
        eprintln!("instructions: {} {per:.0}/call", v.name);
        per_call.push(per);
        if simulate {
            simulated.push(events);
        }
    }
    let baseline = per_call[0];
    let of = |name: &str| position(variants, name).map(|i| per_call[i]);
    let mut rows: Vec<Row> = variants
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
            // The same model decoded by the hand-written call: what is left is the runtime's.
            if let ("generated", Some(model)) = (v.name, of("hand-model")) {
                ratio.push_str(&format!(
                    "; {:.3}× the hand-written call into the same model",
                    per / model
                ));
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
    if let [hand, generated] = simulated.as_slice() {
        rows.push(cache_row(hand, generated, low, high));
    }
    let note = format!(
        "instructions: {version}; profiles in {} (`callgrind_annotate --inclusive=yes FILE`)",
        dir.display()
    );
    Ok((rows, vec![note]))
}

/// What the generated call costs beyond its instructions, from callgrind's simulated caches
/// (first-level instruction and data caches, the last level) and branch predictors, per call:
/// the generated `show_user` against the hand-written one.
fn cache_row(hand: &[(String, f64)], generated: &[(String, f64)], low: usize, high: usize) -> Row {
    let of = |events: &[(String, f64)], names: &[&str]| -> f64 {
        (events.iter())
            .filter(|(event, _)| names.contains(&event.as_str()))
            .map(|(_, n)| n)
            .sum()
    };
    let both = |names: &[&str]| (of(generated, names), of(hand, names));
    let ratio = |(g, h): (f64, f64)| g / h.max(1.0);
    let thousands = |n: f64| stats::thousands(n.round() as u64);
    let i1 = both(&["I1mr"]);
    let d1 = both(&["D1mr", "D1mw"]);
    let last = both(&["ILmr", "DLmr", "DLmw"]);
    let mispredicted = both(&["Bcm", "Bim"]);
    Row::new(
        "instructions",
        "generated `show_user` against the hand-written call: callgrind's simulated caches and \
         branch predictors (`--cache-sim=yes --branch-sim=yes`)",
        format!("{} vs {} I1 misses", thousands(i1.0), thousands(i1.1)),
        format!(
            "per call, {low}→{high} calls; D1 misses {} vs {}; last-level misses {} vs {}; \
             mispredicted branches {} vs {}",
            thousands(d1.0),
            thousands(d1.1),
            thousands(last.0),
            thousands(last.1),
            thousands(mispredicted.0),
            thousands(mispredicted.1)
        ),
        format!(
            "**{:.2}× I1 misses**, {:.2}× D1 misses, {:.2}× mispredicted branches",
            ratio(i1),
            ratio(d1),
            ratio(mispredicted)
        ),
    )
}

fn position(variants: &[Variant], name: &str) -> Option<usize> {
    variants.iter().position(|v| v.name == name)
}
