//! The cost of a call: one `show_user` at a time (generated vs hand-written vs bare hyper),
//! and 10,000 calls at 64 in flight (generated vs hand-written).

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::hand::{Bare, Hand};
use crate::report::Row;
use crate::stats::{self, quantile};
use crate::{Clients, Failure, Settings, Workers, cpu};

/// The Zendesk user id every `show_user` asks for.
pub const USER_ID: i64 = 35436;
/// The SendAuth user id every `get_user` asks for.
const SENDAUTH_ID: uuid::Uuid = uuid::Uuid::from_u128(0x3f1c9a52_7d4e_4b8a_9c21_5e6f7a8b9c0d);

/// One way of making the call, shared so the variants can sit in one list.
type Call = Arc<dyn Fn() -> Boxed + Send + Sync>;

struct Variant {
    name: &'static str,
    call: Call,
    samples: Vec<Duration>,
    /// Client-process CPU time over every measured call.
    cpu: Duration,
    /// Per round: the batch's median wall time and its CPU time, for paired ratios.
    rounds: Vec<(Duration, Duration)>,
}

/// A call that returns its future boxed, as every variant's call does.
pub(crate) type Boxed = std::pin::Pin<Box<dyn Future<Output = Result<(), Failure>> + Send>>;

fn variant(name: &'static str, call: impl Fn() -> Boxed + Send + Sync + 'static) -> Variant {
    Variant {
        name,
        call: Arc::new(call),
        samples: Vec::new(),
        cpu: Duration::ZERO,
        rounds: Vec::new(),
    }
}

/// One Zendesk `show_user` through the generated `client`, its user decoded and kept from
/// the optimizer: the call every generated-client row measures.
pub async fn show_user(client: zendesk_api::Client) -> Result<(), Failure> {
    let user = client
        .show_user()
        .user_id(USER_ID)
        .send()
        .await?
        .into_inner();
    black_box(user);
    Ok(())
}

/// `show_user` through the generated `client`, as a variant's call.
pub(crate) fn generated(client: zendesk_api::Client) -> impl Fn() -> Boxed + Send + Sync + 'static {
    move || Box::pin(show_user(client.clone()))
}

/// `show_user` written by hand (`timeout`: a per-request timeout, as a careful hand-written
/// client sets), as a variant's call.
pub(crate) fn by_hand(
    hand: Hand,
    timeout: Option<Duration>,
) -> impl Fn() -> Boxed + Send + Sync + 'static {
    by_hand_as::<crate::hand::ZdUserResponse>(hand, timeout)
}

/// `show_user` written by hand, decoding into the generated client's model, as a variant's
/// call.
pub(crate) fn by_hand_into_model(hand: Hand) -> impl Fn() -> Boxed + Send + Sync + 'static {
    by_hand_as::<zendesk_api::types::UserResponse>(hand, None)
}

/// `show_user` written by hand, its body decoded into `M`.
fn by_hand_as<M: serde::de::DeserializeOwned + Send + 'static>(
    hand: Hand,
    timeout: Option<Duration>,
) -> impl Fn() -> Boxed + Send + Sync + 'static {
    move || {
        let hand = hand.clone();
        Box::pin(async move {
            black_box(hand.show_user_as::<M>(USER_ID, timeout).await?);
            Ok(())
        })
    }
}

/// What one row of the per-call table measures and compares with.
struct PerCall {
    variant: Variant,
    /// What the row says it measures.
    label: &'static str,
    /// The variant it is compared with (paired by round), and whether the ratio is a headline
    /// (bold); `None`: it is a baseline.
    versus: Option<(&'static str, bool)>,
}

fn per_call_row(
    name: &'static str,
    label: &'static str,
    versus: Option<(&'static str, bool)>,
    call: impl Fn() -> Boxed + Send + Sync + 'static,
) -> PerCall {
    PerCall {
        variant: variant(name, call),
        label,
        versus,
    }
}

/// Sequential calls, interleaved: every round runs a batch of each variant in turn, so slow
/// drift (CPU frequency, a neighbour's build) is spread over all of them alike. Runs as a
/// task on the runtime's workers, as application code does. On one thread
/// ([`Workers::One`]), only the generated call and the hand-written ones it is compared with.
pub async fn per_call(
    quick: bool,
    clients: Clients,
    workers: Workers,
) -> Result<Vec<Row>, Failure> {
    let sendauth = clients.sendauth.clone();
    let hand_sa = clients.hand.clone();
    let hand = Some(("hand", false));
    let mut table = vec![
        per_call_row(
            "generated",
            "Zendesk `show_user`, generated client (default config: 4 attempts)",
            Some(("hand", true)),
            generated(clients.zendesk.clone()),
        ),
        per_call_row(
            "generated-no-retry",
            "Zendesk `show_user`, generated client, `RetryPolicy::disabled()`",
            hand,
            generated(clients.zendesk_no_retry.clone()),
        ),
        per_call_row(
            "hand",
            "Zendesk `show_user`, hand-written reqwest + serde",
            None,
            by_hand(clients.hand.clone(), None),
        ),
        per_call_row(
            "hand-timeout",
            "Zendesk `show_user`, hand-written reqwest + serde, 30 s request timeout",
            hand,
            by_hand(clients.hand.clone(), Some(Duration::from_secs(30))),
        ),
        per_call_row(
            "hand-same-http",
            "Zendesk `show_user`, hand-written, on the generated client's `reqwest::Client`",
            hand,
            by_hand(clients.hand_same_http.clone(), None),
        ),
        per_call_row(
            "hyper",
            "Zendesk `show_user`, bare hyper client + serde",
            hand,
            {
                let bare: Bare = clients.bare.clone();
                move || {
                    let bare = bare.clone();
                    Box::pin(async move {
                        black_box(bare.show_user(USER_ID).await?);
                        Ok(())
                    })
                }
            },
        ),
        per_call_row(
            "bearer",
            "Zendesk `show_user`, generated client, fixed bearer token",
            hand,
            generated(clients.zendesk_bearer.clone()),
        ),
        per_call_row(
            "oauth",
            "Zendesk `show_user`, generated client, managed OAuth token (cached, renewed ahead of expiry)",
            Some(("bearer", true)),
            generated(clients.zendesk_oauth.clone()),
        ),
        per_call_row(
            "sendauth-generated",
            "SendAuth `get_user`, generated client",
            Some(("sendauth-hand", true)),
            move || {
                let client = sendauth.clone();
                Box::pin(async move {
                    let user = client
                        .get_user()
                        .user_id(SENDAUTH_ID)
                        .send()
                        .await?
                        .into_inner();
                    black_box(user);
                    Ok(())
                })
            },
        ),
        per_call_row(
            "sendauth-hand",
            "SendAuth `get_user`, hand-written reqwest + serde",
            None,
            move || {
                let hand: Hand = hand_sa.clone();
                Box::pin(async move {
                    black_box(hand.get_sendauth_user(SENDAUTH_ID).await?);
                    Ok(())
                })
            },
        ),
    ];
    if workers == Workers::One {
        let kept = ["generated", "hand", "hand-timeout", "hand-same-http"];
        table.retain(|row| kept.contains(&row.variant.name));
    }
    let (warmup, rounds, batch) = if quick { (20, 3, 20) } else { (300, 100, 100) };
    for row in &mut table {
        for _ in 0..warmup {
            (row.variant.call)().await?;
        }
    }
    let n = table.len();
    for round in 0..rounds {
        // Each round starts with the next variant, so none always runs first or last.
        for k in 0..n {
            let v = &mut table[(round + k) % n].variant;
            let cpu = cpu::process();
            let mut this_batch = Vec::with_capacity(batch);
            for _ in 0..batch {
                let started = Instant::now();
                (v.call)().await?;
                this_batch.push(started.elapsed());
            }
            let spent = cpu::process().saturating_sub(cpu);
            v.cpu += spent;
            v.samples.extend_from_slice(&this_batch);
            v.rounds.push((stats::median(&mut this_batch), spent));
        }
    }
    let per_round: std::collections::HashMap<&str, Vec<(Duration, Duration)>> = table
        .iter()
        .map(|row| (row.variant.name, row.variant.rounds.clone()))
        .collect();
    // Paired: the median over rounds of the ratio between two variants' batches in the same
    // round, which cancels what drifts from one round to the next.
    let paired = |name: &str, base: &str, pick: fn(&(Duration, Duration)) -> Duration| {
        let a: Vec<Duration> = per_round[name].iter().map(pick).collect();
        let b: Vec<Duration> = per_round[base].iter().map(pick).collect();
        stats::paired_spread(&a, &b)
    };
    let mut rows = Vec::with_capacity(n);
    for row in &mut table {
        let v = &mut row.variant;
        let median = stats::median(&mut v.samples);
        let cpu = v.cpu / (rounds * batch) as u32;
        let detail = format!(
            "p99 {} · client CPU {}/call · {} one at a time",
            stats::time(quantile(&mut v.samples, 0.99)),
            stats::time(cpu),
            stats::rate(1.0, median, "calls")
        );
        let versus = match row.versus {
            None => "baseline".to_string(),
            Some((base, bold)) => {
                let b = if bold { "**" } else { "" };
                format!(
                    "{b}{}{b} {} (CPU {})",
                    paired(v.name, base, |r| r.0),
                    if base == "hand" || base == "sendauth-hand" {
                        "hand-written"
                    } else {
                        base
                    },
                    paired(v.name, base, |r| r.1)
                )
            }
        };
        rows.push(Row::new(
            "per call",
            row.label,
            stats::time(median),
            detail,
            versus,
        ));
    }
    Ok(rows)
}

/// `total` calls with `in_flight` tasks, each taking the next call as it finishes one.
/// Returns the wall time and every call's latency.
pub(crate) async fn saturate<F, Fut>(
    total: usize,
    in_flight: usize,
    call: F,
) -> Result<(Duration, Vec<Duration>), Failure>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Failure>> + Send + 'static,
{
    let call = Arc::new(call);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(in_flight);
    for _ in 0..in_flight {
        let call = call.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(total / in_flight + 1);
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let sent = Instant::now();
                call().await?;
                latencies.push(sent.elapsed());
            }
            Ok::<_, Failure>(latencies)
        }));
    }
    let mut all = Vec::with_capacity(total);
    for task in tasks {
        all.extend(task.await??);
    }
    Ok((started.elapsed(), all))
}

/// 10,000 calls (640 with `--quick`) at 64 in flight: generated vs hand-written, plus the
/// generated client with a pool that keeps 64 idle connections and hand-written code on the
/// generated client's `reqwest::Client` (which tell the pool's share from the code's).
/// Each variant runs six times, in turns that rotate; latencies pooled, throughput over the
/// summed wall time.
pub async fn concurrency(settings: &Settings, clients: &Clients) -> Result<Vec<Row>, Failure> {
    let total = if settings.quick { 640 } else { 10_000 };
    let in_flight = 64;
    let repeats = if settings.quick { 1 } else { 6 };
    let variants = [
        (
            "generated client (default config: 128 idle connections kept)",
            variant("generated", generated(clients.zendesk.clone())),
        ),
        (
            "generated client, `pool_max_idle_per_host(64)`",
            variant(
                "generated-pool64",
                generated(clients.zendesk_pool64.clone()),
            ),
        ),
        (
            "generated client, `RetryPolicy::disabled()` (no request clone)",
            variant(
                "generated-no-retry",
                generated(clients.zendesk_no_retry.clone()),
            ),
        ),
        (
            "generated client, `RateLimits::disabled()` (no pacing)",
            variant(
                "generated-no-pacing",
                generated(clients.zendesk_no_pacing.clone()),
            ),
        ),
        (
            "hand-written, on the generated client's `reqwest::Client`",
            variant(
                "hand-same-http",
                by_hand(clients.hand_same_http.clone(), None),
            ),
        ),
        (
            "hand-written reqwest + serde, 30 s request timeout",
            variant(
                "hand-timeout",
                by_hand(clients.hand.clone(), Some(Duration::from_secs(30))),
            ),
        ),
        (
            "hand-written reqwest + serde (reqwest defaults)",
            variant("hand", by_hand(clients.hand.clone(), None)),
        ),
    ];
    let mut results = Vec::new();
    for (_, v) in &variants {
        // Warm the pool up to `in_flight` connections.
        let call = v.call.clone();
        saturate(in_flight * 4, in_flight, move || call()).await?;
        results.push((Duration::ZERO, Duration::ZERO, Vec::new()));
    }
    let n = variants.len();
    let mut per_round: Vec<Vec<(Duration, Duration)>> = vec![Vec::new(); n];
    for round in 0..repeats {
        // Each round starts with the next variant, so none always runs first or last.
        for k in 0..n {
            let i = (round + k) % n;
            let v = &variants[i].1;
            let (wall, cpu, lat) = &mut results[i];
            let call = v.call.clone();
            let cpu0 = cpu::process();
            let (w, l) = saturate(total, in_flight, move || call()).await?;
            let spent = cpu::process().saturating_sub(cpu0);
            *cpu += spent;
            *wall += w;
            lat.extend(l);
            per_round[i].push((w, spent));
        }
    }
    let calls = total * repeats;
    let base = &per_round[n - 1];
    let mut rows = Vec::new();
    for (((label, v), (wall, cpu, mut lat)), rounds) in variants.iter().zip(results).zip(&per_round)
    {
        let ratio = if v.name == "hand" {
            "baseline".to_string()
        } else {
            // Paired by round (the median of per-round ratios), as for single calls.
            let walls = |r: &[(Duration, Duration)]| r.iter().map(|x| x.0).collect::<Vec<_>>();
            let cpus = |r: &[(Duration, Duration)]| r.iter().map(|x| x.1).collect::<Vec<_>>();
            let bold = if v.name == "generated" { "**" } else { "" };
            format!(
                "{bold}{}{bold} hand-written wall time (CPU {})",
                stats::paired_spread(&walls(rounds), &walls(base)),
                stats::paired_spread(&cpus(rounds), &cpus(base))
            )
        };
        rows.push(Row::new(
            "concurrency",
            &format!(
                "{} × `show_user` at {in_flight} in flight, {label}",
                stats::thousands(total as u64)
            ),
            format!("p50 {}", stats::time(quantile(&mut lat, 0.5))),
            format!(
                "p99 {} · {} · client CPU {}/call",
                stats::time(quantile(&mut lat, 0.99)),
                stats::rate(calls as f64, wall, "calls"),
                stats::time(cpu / calls as u32)
            ),
            ratio,
        ));
    }
    Ok(rows)
}
