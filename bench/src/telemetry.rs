//! What the spans and metrics cost a call (`show_user`, one at a time): the same client with
//! its telemetry on and off (`ClientConfig::telemetry(false)`: no span opened, nothing
//! measured, the closest to compiled out), first with no subscriber and no meter provider
//! (what every user pays; the bench builds api-runtime with its `metrics` feature, so the
//! no-op meter is on the path), then under a subscriber that builds and drops every span
//! (tracing-subscriber's registry alone: span data, parents, enter and exit, no field
//! visited), then under one that also writes every span's fields (the fmt layer, to a sink).
//!
//! The pairs run one after the other, so that no subscriber exists while the first pair
//! runs (a scoped subscriber, once made, changes what every span callsite checks); within a
//! pair the variants are interleaved round by round and compared by paired ratios, as in
//! `calls.rs`.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use tracing::Dispatch;
use tracing::instrument::WithSubscriber;
use tracing_subscriber::layer::SubscriberExt;

use crate::report::Row;
use crate::stats;
use crate::{Clients, Failure, cpu};

type CallFuture = Pin<Box<dyn Future<Output = Result<(), Failure>> + Send>>;

/// One `show_user` through `client`, under `dispatch` when given.
fn call(client: &zendesk_api::Client, dispatch: Option<&Dispatch>) -> CallFuture {
    let call = crate::calls::show_user(client.clone());
    match dispatch {
        Some(dispatch) => Box::pin(call.with_subscriber(dispatch.clone())),
        None => Box::pin(call),
    }
}

/// Per round, per variant: the batch's median wall time and its CPU time.
struct Measured {
    median: Duration,
    cpu_per_call: Duration,
    rounds: Vec<(Duration, Duration)>,
}

/// `on` and `off` interleaved, round by round, each round starting with the other one.
async fn pair(
    quick: bool,
    on: &zendesk_api::Client,
    off: &zendesk_api::Client,
    dispatch: Option<&Dispatch>,
) -> Result<[Measured; 2], Failure> {
    let (warmup, rounds, batch) = if quick { (20, 3, 20) } else { (300, 200, 100) };
    let clients = [on, off];
    for client in clients {
        for _ in 0..warmup {
            call(client, dispatch).await?;
        }
    }
    let mut samples: [Vec<Duration>; 2] = Default::default();
    let mut per_round: [Vec<(Duration, Duration)>; 2] = Default::default();
    let mut cpu_total = [Duration::ZERO; 2];
    for round in 0..rounds {
        for k in 0..2 {
            let i = (round + k) % 2;
            let started_cpu = cpu::process();
            let mut this_batch = Vec::with_capacity(batch);
            for _ in 0..batch {
                let started = Instant::now();
                call(clients[i], dispatch).await?;
                this_batch.push(started.elapsed());
            }
            let spent = cpu::process().saturating_sub(started_cpu);
            cpu_total[i] += spent;
            samples[i].extend_from_slice(&this_batch);
            per_round[i].push((stats::median(&mut this_batch), spent));
        }
    }
    let calls = (rounds * batch) as u32;
    let [mut s_on, mut s_off] = samples;
    let [r_on, r_off] = per_round;
    Ok([
        Measured {
            median: stats::median(&mut s_on),
            cpu_per_call: cpu_total[0] / calls,
            rounds: r_on,
        },
        Measured {
            median: stats::median(&mut s_off),
            cpu_per_call: cpu_total[1] / calls,
            rounds: r_off,
        },
    ])
}

/// `on` against `off`: wall time and (in bold, the figure the budget of 1.02× is about)
/// client CPU, paired by round.
fn versus(on: &Measured, off: &Measured, baseline: &str) -> String {
    let wall = |m: &Measured| m.rounds.iter().map(|r| r.0).collect::<Vec<_>>();
    let cpu = |m: &Measured| m.rounds.iter().map(|r| r.1).collect::<Vec<_>>();
    format!(
        "{} {baseline} (**CPU {}**)",
        stats::paired_spread(&wall(on), &wall(off)),
        stats::paired_spread(&cpu(on), &cpu(off)),
    )
}

fn detail(m: &Measured) -> String {
    format!("client CPU {}/call", stats::time(m.cpu_per_call))
}

/// The six rows: no subscriber, a registry, a registry with the fmt layer; each with
/// telemetry on and off.
pub async fn telemetry(quick: bool, clients: Clients) -> Result<Vec<Row>, Failure> {
    let on = &clients.zendesk;
    let off = &clients.zendesk_telemetry_off;
    let [bare_on, bare_off] = pair(quick, on, off, None).await?;

    let registry = Dispatch::new(tracing_subscriber::registry());
    let [reg_on, reg_off] = pair(quick, on, off, Some(&registry)).await?;
    drop(registry);
    let fmt = Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink)),
    );
    let [sub_on, sub_off] = pair(quick, on, off, Some(&fmt)).await?;
    drop(fmt);
    // No subscriber is left: let every callsite go back to "never", for the sections after.
    tracing::callsite::rebuild_interest_cache();

    let section = "telemetry";
    Ok(vec![
        Row::new(
            section,
            "Zendesk `show_user`, no subscriber, no meter provider (`metrics` feature on): \
             telemetry on, what every user pays",
            stats::time(bare_on.median),
            detail(&bare_on),
            versus(&bare_on, &bare_off, "telemetry off"),
        ),
        Row::new(
            section,
            "Zendesk `show_user`, no subscriber, `ClientConfig::telemetry(false)`",
            stats::time(bare_off.median),
            detail(&bare_off),
            "baseline".into(),
        ),
        Row::new(
            section,
            "Zendesk `show_user`, a subscriber that builds and drops every span \
             (`tracing_subscriber::registry()`): telemetry on",
            stats::time(reg_on.median),
            detail(&reg_on),
            versus(&reg_on, &reg_off, "telemetry off"),
        ),
        Row::new(
            section,
            "Zendesk `show_user`, the same registry, `ClientConfig::telemetry(false)`",
            stats::time(reg_off.median),
            detail(&reg_off),
            "baseline".into(),
        ),
        Row::new(
            section,
            "Zendesk `show_user`, a subscriber that also writes every span's fields \
             (registry + fmt layer to a sink): telemetry on",
            stats::time(sub_on.median),
            detail(&sub_on),
            versus(&sub_on, &sub_off, "telemetry off"),
        ),
        Row::new(
            section,
            "Zendesk `show_user`, the same subscriber, `ClientConfig::telemetry(false)`",
            stats::time(sub_off.median),
            detail(&sub_off),
            "baseline".into(),
        ),
    ])
}
