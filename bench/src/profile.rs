//! Where the CPU goes at 64 calls in flight on two workers, the generated `show_user`
//! against the hand-written call: `perf record` with the kernel's `cpu-clock` software event
//! (it needs no hardware counters, which virtual machines often do not expose), grouped by
//! the crate each sampled function belongs to.
//!
//! Callgrind (the instructions section) counts one thread's instructions exactly but runs the
//! threads one at a time, so what two workers do to each other's caches never shows there;
//! this section samples the real run. Each variant runs in a worker process of its own
//! (`bench profile-worker`), started with sampling off: the worker builds its client, warms
//! the pool up, and asks perf (through `--control`'s FIFOs) to sample only its measured
//! calls.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use crate::report::Row;
use crate::{Failure, stats};

/// Samples a second per CPU (one sample: 250 µs of CPU time).
const FREQUENCY: u32 = 4_000;

/// Calls kept in flight, as the concurrency section's 64-in-flight rows.
const IN_FLIGHT: usize = 64;

/// The variants profiled: the baseline, the generated call, and the hand-written call
/// decoding into the generated model (what the model costs without the runtime).
const VARIANTS: [&str; 3] = ["hand", "generated", "hand-model"];

/// `bench profile-worker VARIANT CALLS BASE_URL CONTROL ACK`: `CALLS` calls of `VARIANT` at
/// 64 in flight on a two-worker runtime, perf's sampling enabled around them through its
/// control FIFO `CONTROL` (acknowledged on `ACK`).
pub fn worker(args: &[String]) -> Result<(), String> {
    let [variant, calls, base, control, ack] = args else {
        return Err("profile-worker needs VARIANT CALLS BASE_URL CONTROL ACK".into());
    };
    let calls: usize = calls
        .parse()
        .map_err(|e| format!("profile-worker: CALLS `{calls}`: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let call: Arc<dyn Fn() -> crate::calls::Boxed + Send + Sync> = match variant.as_str() {
        "hand" => Arc::new(crate::calls::by_hand(
            crate::hand_client(base).map_err(|e| e.to_string())?,
            None,
        )),
        "generated" => Arc::new(crate::calls::generated(
            crate::zendesk_client(base, |config| config).map_err(|e| e.to_string())?,
        )),
        "hand-model" => Arc::new(crate::calls::by_hand_into_model(
            crate::hand_client(base).map_err(|e| e.to_string())?,
        )),
        other => return Err(format!("profile-worker: unknown variant `{other}`")),
    };
    let run = |total: usize| {
        let call = call.clone();
        runtime.block_on(crate::calls::saturate(total, IN_FLIGHT, move || call()))
    };
    // The pool's connections opened and every path warm before perf samples.
    run(IN_FLIGHT * 4).map_err(|e| e.to_string())?;
    let mut perf = Control::open(Path::new(control), Path::new(ack))?;
    perf.send("enable")?;
    run(calls).map_err(|e| e.to_string())?;
    perf.send("disable")
}

/// perf's control FIFO and its acknowledgements.
struct Control {
    commands: std::fs::File,
    acks: BufReader<std::fs::File>,
}

impl Control {
    fn open(control: &Path, ack: &Path) -> Result<Self, String> {
        let open = |path: &Path, write: bool| {
            std::fs::OpenOptions::new()
                .read(!write)
                .write(write)
                .open(path)
                .map_err(|e| format!("profile-worker: {}: {e}", path.display()))
        };
        Ok(Self {
            commands: open(control, true)?,
            acks: BufReader::new(open(ack, false)?),
        })
    }

    /// Sends `command` and waits until perf has applied it.
    fn send(&mut self, command: &str) -> Result<(), String> {
        writeln!(self.commands, "{command}").map_err(|e| format!("perf control: {e}"))?;
        let mut ack = String::new();
        self.acks
            .read_line(&mut ack)
            .map_err(|e| format!("perf control: {e}"))?;
        // perf writes `ack\n` with the C string's terminating NUL.
        let ack = ack.trim_matches(|c: char| c == '\0' || c.is_whitespace());
        if ack != "ack" {
            return Err(format!(
                "perf control: `{}` instead of `ack`",
                ack.escape_debug()
            ));
        }
        Ok(())
    }
}

/// What a sampled function is counted as: the crates of one part of the call.
fn group(dso: &str, symbol: &str) -> &'static str {
    if dso.starts_with("[kernel") {
        return "the kernel (loopback sockets, epoll, waking threads)";
    }
    if dso.starts_with("libc") || dso.starts_with("libm") || dso.starts_with("ld-linux") {
        return "libc (malloc and free, memcpy)";
    }
    if dso.starts_with("[vdso]") {
        return "the clock (vDSO)";
    }
    if symbol.contains("Deserializ")
        || symbol.contains("serde")
        || symbol.contains("chrono::")
        || symbol.contains("lenient::")
        || symbol.contains("::de::")
    {
        return "JSON decoding (serde, serde_json, chrono; the models' derived visitors)";
    }
    // The crate: the first path segment, past `<`, `&`, `mut ` and `dyn `.
    let mut name = symbol;
    loop {
        let trimmed = name
            .trim_start_matches(['<', '&', ' '])
            .trim_start_matches("mut ")
            .trim_start_matches("dyn ");
        if trimmed == name {
            break;
        }
        name = trimmed;
    }
    let krate = name.split("::").next().unwrap_or_default();
    match krate {
        "api_runtime" | "zendesk_api" => "the runtime and the generated client",
        "hyper" | "hyper_util" | "http" | "http_body" | "http_body_util" | "httparse" => {
            "hyper and http (HTTP/1.1, the pool)"
        }
        "reqwest" | "url" | "idna" | "percent_encoding" | "form_urlencoded" | "tower" => {
            "reqwest and url"
        }
        "tokio" | "mio" => "tokio (scheduler, I/O and timer drivers)",
        "futures_util" | "futures_core" | "futures_channel" | "pin_project_lite" => "futures",
        "tracing" | "tracing_core" | "opentelemetry" => "tracing and OpenTelemetry (no-op)",
        "core" | "alloc" | "std" | "hashbrown" | "bytes" => "Rust's core, alloc, std and bytes",
        "bench" => "the bench's loop",
        _ => "other",
    }
}

/// Samples by group in one `perf record` data file.
fn samples(data: &Path) -> Result<BTreeMap<&'static str, u64>, Failure> {
    let out = Command::new("perf")
        .arg("report")
        .arg("-i")
        .arg(data)
        .args([
            "--no-children",
            "--sort",
            "dso,sym",
            "-F",
            "sample,dso,sym",
            "--field-separator",
            "\t",
            "--stdio",
        ])
        .output()?;
    let out = crate::succeeded(out, format_args!("perf report -i {}", data.display()))?;
    Ok(by_group(&String::from_utf8_lossy(&out.stdout)))
}

/// `perf report`'s tab-separated lines (samples, object, `[.] symbol`) summed by group.
fn by_group(report: &str) -> BTreeMap<&'static str, u64> {
    let mut groups = BTreeMap::new();
    for line in report.lines().filter(|l| !l.starts_with('#')) {
        let mut fields = line.split('\t');
        let (Some(n), Some(dso), Some(symbol)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Ok(n) = n.trim().parse::<u64>() else {
            continue;
        };
        let symbol = symbol.trim();
        let symbol = symbol.split_once("] ").map_or(symbol, |(_, s)| s);
        *groups.entry(group(dso.trim(), symbol)).or_default() += n;
    }
    groups
}

/// One worker under `perf record`, its data in `data`.
fn record(variant: &str, calls: usize, base: &str, dir: &Path, data: &Path) -> Result<(), Failure> {
    let (control, ack) = (dir.join("control.fifo"), dir.join("ack.fifo"));
    for fifo in [&control, &ack] {
        if !fifo.exists() {
            let made = Command::new("mkfifo").arg(fifo).status()?;
            if !made.success() {
                return Err(format!("mkfifo {} failed", fifo.display()).into());
            }
        }
    }
    let out = Command::new("perf")
        .args(["record", "-e", "cpu-clock", "-F", &FREQUENCY.to_string()])
        .args(["-D", "-1", "--control"])
        .arg(format!("fifo:{},{}", control.display(), ack.display()))
        .arg("-o")
        .arg(data)
        .arg("--")
        .arg(std::env::current_exe()?)
        .args(["profile-worker", variant, &calls.to_string(), base])
        .arg(&control)
        .arg(&ack)
        .output()?;
    crate::succeeded(out, format_args!("perf record of the {variant} worker"))?;
    Ok(())
}

/// The profile rows, or a note saying why there are none (perf is a tool a developer
/// installs, Debian's `linux-perf`; the tests do not need it, so a `--quick` run without it
/// skips the section).
pub fn profile(quick: bool, base: &str) -> Result<(Vec<Row>, Vec<String>), Failure> {
    let skipped = |why: String| {
        let note = format!("profile: skipped ({why})");
        eprintln!("{note}");
        Ok((Vec::new(), vec![note]))
    };
    let Some(version) = crate::tool_version("perf") else {
        return skipped("perf is not installed: Debian's package `linux-perf`".into());
    };
    let (rounds, calls) = if quick { (1, 640) } else { (7, 15_000) };
    let dir = crate::profiles_dir("perf")?;
    // Each round's samples by variant and group. A round runs the three variants back to
    // back, its order rotating: the totals are compared round by round, as the other
    // sections' are, and each group's samples are the median of the rounds, so that a round
    // the machine slowed down for does not weigh on the breakdown.
    let mut runs: Vec<[BTreeMap<&'static str, u64>; 3]> = Vec::new();
    for round in 0..rounds {
        let mut this_round: [BTreeMap<&'static str, u64>; 3] = Default::default();
        for k in 0..VARIANTS.len() {
            let i = (round + k) % VARIANTS.len();
            let data = dir.join(format!("{}-{round}.data", VARIANTS[i]));
            if let Err(error) = record(VARIANTS[i], calls, base, &dir, &data) {
                // perf refused (perf_event_paranoid, a container's seccomp): say so.
                return skipped(error.to_string());
            }
            this_round[i] = samples(&data)?;
        }
        runs.push(this_round);
    }
    Ok((
        rows(&runs, calls),
        vec![format!(
            "profile: {version}; data in {} (`perf report -i FILE --sort dso,sym`)",
            dir.display()
        )],
    ))
}

/// The median of `values` (0 for none).
fn median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    match values.len() {
        0 => 0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2,
    }
}

/// One row per group (its median over the rounds), the largest difference first, then the
/// totals, paired by round.
fn rows(runs: &[[BTreeMap<&'static str, u64>; 3]], calls: usize) -> Vec<Row> {
    let per_call = |samples: u64| {
        stats::time(std::time::Duration::from_secs_f64(
            samples as f64 / f64::from(FREQUENCY) / calls as f64,
        ))
    };
    let total = |run: &BTreeMap<&'static str, u64>| run.values().sum::<u64>();
    // Variant `i`'s samples in `group` (`None`: all of them), the median of the rounds.
    let typical = |i: usize, group: Option<&str>| {
        median(
            (runs.iter())
                .map(|run| match group {
                    Some(g) => run[i].get(g).copied().unwrap_or(0),
                    None => total(&run[i]),
                })
                .collect(),
        )
    };
    // Variant `i` against the hand-written call, round by round.
    let paired = |i: usize| -> Vec<f64> {
        (runs.iter())
            .map(|run| total(&run[i]) as f64 / total(&run[0]).max(1) as f64)
            .collect()
    };
    let (h_total, g_total, m_total) = (typical(0, None), typical(1, None), typical(2, None));
    let mut groups: Vec<&'static str> = (runs.iter())
        .flat_map(|run| run.iter().flat_map(|variant| variant.keys().copied()))
        .collect();
    groups.sort_unstable();
    groups.dedup();
    let delta = |g: &str| typical(1, Some(g)) as i64 - typical(0, Some(g)) as i64;
    let gap: i64 = groups.iter().map(|g| delta(g)).sum();
    groups.sort_by_key(|&g| std::cmp::Reverse(delta(g)));
    let what = |g: &str| {
        format!("64 in flight on two workers, CPU in {g}: generated `show_user` vs hand-written")
    };
    let mut rows: Vec<Row> = groups
        .into_iter()
        // A group sampled in some rounds only, whose medians are both none.
        .filter(|g| typical(0, Some(g)) + typical(1, Some(g)) > 0)
        .map(|g| {
            let (h, n) = (typical(0, Some(g)), typical(1, Some(g)));
            let share = if gap > 0 {
                format!(
                    " · {:+.0}% of the gap",
                    100.0 * delta(g) as f64 / gap as f64
                )
            } else {
                String::new()
            };
            Row::new(
                "profile",
                &what(g),
                format!("{}/call", per_call(n)),
                format!("hand-written {}/call · {n} vs {h} samples", per_call(h)),
                match h {
                    0 => format!("none in the hand-written call{share}"),
                    h => format!("{:.2}×{share}", n as f64 / h as f64),
                },
            )
        })
        .collect();
    rows.push(Row::new(
        "profile",
        "64 in flight on two workers, all the client's CPU (perf `cpu-clock`): the \
         hand-written call decoding into the generated model vs into its own structs",
        format!("{}/call", per_call(m_total)),
        format!(
            "hand-written {}/call · {m_total} vs {h_total} samples",
            per_call(h_total)
        ),
        stats::spread(&paired(2)),
    ));
    rows.push(Row::new(
        "profile",
        "64 in flight on two workers, all the client's CPU (perf `cpu-clock`): generated \
         `show_user` vs hand-written",
        format!("{}/call", per_call(g_total)),
        format!(
            "hand-written {}/call · {g_total} vs {h_total} samples at {FREQUENCY} Hz, the \
             median of {} rounds of {calls} calls each",
            per_call(h_total),
            runs.len()
        ),
        format!("**{}**", stats::spread(&paired(1))),
    ));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_summed_by_the_crate_of_their_function() {
        let report = "# comment\n\
            12\tbench\t[.] <&mut serde_json::de::Deserializer<R> as serde_core::de::Deserializer>::deserialize_map\n\
            5\tbench\t[.] <zendesk_api::generated::types::User as serde_core::de::Deserialize>::deserialize\n\
            7\tbench\t[.] zendesk_api::generated::builder::ShowUser::send::{{closure}}\n\
            3\tbench\t[.] <api_runtime::runtime::Attempt<F> as core::future::future::Future>::poll\n\
            9\t[kernel.kallsyms]\t[k] tcp_sendmsg\n\
            4\tlibc.so.6\t[.] malloc\n\
            2\tbench\t[.] tokio::runtime::time::wheel::Wheel::insert\n\
            1\tbench\t[.] <&mio::net::tcp::stream::TcpStream as std::io::Read>::read\n\
            not a line\n";
        let groups = by_group(report);
        let of = |prefix: &str| {
            groups
                .iter()
                .find(|(g, _)| g.starts_with(prefix))
                .map(|(_, n)| *n)
        };
        assert_eq!(of("JSON decoding"), Some(17));
        assert_eq!(of("the runtime"), Some(10));
        assert_eq!(of("the kernel"), Some(9));
        assert_eq!(of("libc"), Some(4));
        assert_eq!(of("tokio"), Some(3));
        assert_eq!(groups.values().sum::<u64>(), 43);
    }

    #[test]
    fn groups_are_the_median_of_the_rounds_and_totals_are_paired_by_round() {
        let round = |hand: u64, generated: u64, decode: u64| {
            let mut variants: [BTreeMap<&'static str, u64>; 3] = Default::default();
            variants[0].insert("tokio", hand);
            variants[0].insert("JSON decoding", 100);
            variants[1].insert("tokio", generated);
            variants[1].insert("JSON decoding", decode);
            variants[1].insert("the runtime", 5);
            variants[2].insert("tokio", hand);
            variants[2].insert("JSON decoding", 100);
            variants
        };
        // The third round ran slow for everyone: the medians and the paired ratios do not
        // take it as a difference. A group it alone sampled has medians of none: no row.
        let mut slow = round(400, 410, 100);
        slow[1].insert("tracing", 3);
        let runs = [round(100, 150, 110), round(100, 150, 110), slow];
        let rows = rows(&runs, 1_000);
        assert!(rows[0].what.contains("tokio"), "{}", rows[0].what);
        assert!(
            rows[0].ratio.starts_with("1.50× · +77% of the gap"),
            "{}",
            rows[0].ratio
        );
        assert!(
            rows[1].ratio.starts_with("1.10× · +15% of the gap"),
            "{}",
            rows[1].ratio
        );
        assert!(rows[2].what.contains("the runtime"), "{}", rows[2].what);
        assert_eq!(
            rows[2].ratio,
            "none in the hand-written call · +8% of the gap"
        );
        assert!(rows.iter().all(|r| !r.what.contains("tracing")));
        let total = &rows.last().expect("a total row").ratio;
        assert!(total.starts_with("**1.325× (range 1.036–1.325)"), "{total}");
    }
}
