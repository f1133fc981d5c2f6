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
use crate::{Clients, Failure, Settings, cpu};

/// The Zendesk user id every `show_user` asks for.
pub const USER_ID: i64 = 35436;
/// The SendAuth user id every `get_user` asks for.
const SENDAUTH_ID: uuid::Uuid = uuid::Uuid::from_u128(0x3f1c9a52_7d4e_4b8a_9c21_5e6f7a8b9c0d);

/// One way of making the call, shared so the variants can sit in one list.
type Call = Arc<
    dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = Result<(), Failure>> + Send>> + Send + Sync,
>;

struct Variant {
    name: &'static str,
    call: Call,
    samples: Vec<Duration>,
    /// Client-process CPU time over every measured call.
    cpu: Duration,
    /// Per round: the batch's median wall time and its CPU time, for paired ratios.
    rounds: Vec<(Duration, Duration)>,
}

fn variant<F, Fut>(name: &'static str, f: F) -> Variant
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Failure>> + Send + 'static,
{
    Variant {
        name,
        call: Arc::new(move || Box::pin(f())),
        samples: Vec::new(),
        cpu: Duration::ZERO,
        rounds: Vec::new(),
    }
}

/// Sequential calls, interleaved: every round runs a batch of each variant in turn, so slow
/// drift (CPU frequency, a neighbour's build) is spread over all of them alike. Runs as a
/// task on the runtime's workers, as application code does.
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

pub async fn per_call(quick: bool, clients: Clients) -> Result<Vec<Row>, Failure> {
    let zendesk = clients.zendesk.clone();
    let zendesk_no_retry = clients.zendesk_no_retry.clone();
    let sendauth = clients.sendauth.clone();
    let hand = clients.hand.clone();
    let hand_sa = clients.hand.clone();
    let hand_timeout = clients.hand.clone();
    let hand_same_http = clients.hand_same_http.clone();
    let bare = clients.bare.clone();
    let bearer = clients.zendesk_bearer.clone();
    let oauth = clients.zendesk_oauth.clone();
    let show = show_user;
    let mut variants = vec![
        variant("bearer", move || show(bearer.clone())),
        variant("oauth", move || show(oauth.clone())),
        variant("generated", move || show(zendesk.clone())),
        variant("hand", move || {
            let hand = hand.clone();
            async move {
                black_box(hand.show_user(USER_ID).await?);
                Ok(())
            }
        }),
        variant("hand-timeout", move || {
            let hand = hand_timeout.clone();
            async move {
                let timeout = Some(Duration::from_secs(30));
                black_box(hand.show_user_with(USER_ID, timeout).await?);
                Ok(())
            }
        }),
        variant("hand-same-http", move || {
            let hand = hand_same_http.clone();
            async move {
                black_box(hand.show_user(USER_ID).await?);
                Ok(())
            }
        }),
        variant("hyper", move || {
            let bare: Bare = bare.clone();
            async move {
                black_box(bare.show_user(USER_ID).await?);
                Ok(())
            }
        }),
        variant("generated-no-retry", move || show(zendesk_no_retry.clone())),
        variant("sendauth-generated", move || {
            let client = sendauth.clone();
            async move {
                let user = client
                    .get_user()
                    .user_id(SENDAUTH_ID)
                    .send()
                    .await?
                    .into_inner();
                black_box(user);
                Ok(())
            }
        }),
        variant("sendauth-hand", move || {
            let hand: Hand = hand_sa.clone();
            async move {
                black_box(hand.get_sendauth_user(SENDAUTH_ID).await?);
                Ok(())
            }
        }),
    ];
    let (warmup, rounds, batch) = if quick { (20, 3, 20) } else { (300, 100, 100) };
    for v in &mut variants {
        for _ in 0..warmup {
            (v.call)().await?;
        }
    }
    let n = variants.len();
    for round in 0..rounds {
        // Each round starts with the next variant, so none always runs first or last.
        for k in 0..n {
            let v = &mut variants[(round + k) % n];
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
    let mut medians = std::collections::HashMap::new();
    let mut cpus = std::collections::HashMap::new();
    let mut per_round = std::collections::HashMap::new();
    for v in &mut variants {
        medians.insert(v.name, stats::median(&mut v.samples));
        cpus.insert(v.name, v.cpu / (rounds * batch) as u32);
        per_round.insert(v.name, v.rounds.clone());
    }
    // Paired: the median over rounds of the ratio between two variants' batches in the same
    // round, which cancels what drifts from one round to the next.
    let paired = |name: &str, base: &str, pick: fn(&(Duration, Duration)) -> Duration| {
        let a: Vec<Duration> = per_round[name].iter().map(pick).collect();
        let b: Vec<Duration> = per_round[base].iter().map(pick).collect();
        stats::paired_ratio(&a, &b)
    };
    let p99 = |name: &str, variants: &mut Vec<Variant>| {
        let v = variants
            .iter_mut()
            .find(|v| v.name == name)
            .expect("variant");
        stats::time(quantile(&mut v.samples, 0.99))
    };
    let m = |name: &str| medians[name];
    let c = |name: &str| cpus[name];
    let detail = |name: &str, variants: &mut Vec<Variant>| {
        format!(
            "p99 {} · client CPU {}/call · {} one at a time",
            p99(name, variants),
            stats::time(c(name)),
            stats::rate(1.0, m(name), "calls")
        )
    };
    let versus = |name: &str, base: &str, bold: bool| {
        let (b1, b2) = if bold { ("**", "**") } else { ("", "") };
        format!(
            "{b1}{:.3}×{b2} {} (CPU {:.3}×)",
            paired(name, base, |r| r.0),
            if base == "hand" || base == "sendauth-hand" {
                "hand-written"
            } else {
                base
            },
            paired(name, base, |r| r.1)
        )
    };
    let rows = vec![
        Row::new(
            "per call",
            "Zendesk `show_user`, generated client (default config: 4 attempts)",
            stats::time(m("generated")),
            detail("generated", &mut variants),
            versus("generated", "hand", true),
        ),
        Row::new(
            "per call",
            "Zendesk `show_user`, generated client, `RetryPolicy::disabled()`",
            stats::time(m("generated-no-retry")),
            detail("generated-no-retry", &mut variants),
            versus("generated-no-retry", "hand", false),
        ),
        Row::new(
            "per call",
            "Zendesk `show_user`, hand-written reqwest + serde",
            stats::time(m("hand")),
            detail("hand", &mut variants),
            "baseline".into(),
        ),
        Row::new(
            "per call",
            "Zendesk `show_user`, hand-written reqwest + serde, 30 s request timeout",
            stats::time(m("hand-timeout")),
            detail("hand-timeout", &mut variants),
            versus("hand-timeout", "hand", false),
        ),
        Row::new(
            "per call",
            "Zendesk `show_user`, hand-written, on the generated client's `reqwest::Client`",
            stats::time(m("hand-same-http")),
            detail("hand-same-http", &mut variants),
            versus("hand-same-http", "hand", false),
        ),
        Row::new(
            "per call",
            "Zendesk `show_user`, bare hyper client + serde",
            stats::time(m("hyper")),
            detail("hyper", &mut variants),
            versus("hyper", "hand", false),
        ),
        Row::new(
            "per call",
            "Zendesk `show_user`, generated client, fixed bearer token",
            stats::time(m("bearer")),
            detail("bearer", &mut variants),
            versus("bearer", "hand", false),
        ),
        Row::new(
            "per call",
            "Zendesk `show_user`, generated client, managed OAuth token (cached, renewed ahead of expiry)",
            stats::time(m("oauth")),
            detail("oauth", &mut variants),
            versus("oauth", "bearer", true),
        ),
        Row::new(
            "per call",
            "SendAuth `get_user`, generated client",
            stats::time(m("sendauth-generated")),
            detail("sendauth-generated", &mut variants),
            versus("sendauth-generated", "sendauth-hand", true),
        ),
        Row::new(
            "per call",
            "SendAuth `get_user`, hand-written reqwest + serde",
            stats::time(m("sendauth-hand")),
            detail("sendauth-hand", &mut variants),
            "baseline".into(),
        ),
    ];
    Ok(rows)
}

/// `total` calls with `in_flight` tasks, each taking the next call as it finishes one.
/// Returns the wall time and every call's latency.
async fn saturate<F, Fut>(
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
    let generated = |client: zendesk_api::Client| move || show_user(client.clone());
    let by_hand = |hand: Hand| {
        move || {
            let hand = hand.clone();
            async move {
                black_box(hand.show_user(USER_ID).await?);
                Ok(())
            }
        }
    };
    let variants = [
        (
            "generated client (default config: 32 idle connections kept)",
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
            "hand-written, on the generated client's `reqwest::Client`",
            variant("hand-same-http", by_hand(clients.hand_same_http.clone())),
        ),
        (
            "hand-written reqwest + serde, 30 s request timeout",
            variant("hand-timeout", {
                let hand = clients.hand.clone();
                move || {
                    let hand = hand.clone();
                    async move {
                        let timeout = Some(Duration::from_secs(30));
                        black_box(hand.show_user_with(USER_ID, timeout).await?);
                        Ok(())
                    }
                }
            }),
        ),
        (
            "hand-written reqwest + serde (reqwest defaults)",
            variant("hand", by_hand(clients.hand.clone())),
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
                "{bold}{:.3}×{bold} hand-written wall time (CPU {:.3}×)",
                stats::paired_ratio(&walls(rounds), &walls(base)),
                stats::paired_ratio(&cpus(rounds), &cpus(base))
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
