//! Decoding: a 100-user page into the generated types, into hand-written structs and into
//! `serde_json::Value`, in MB/s. No I/O: the bytes are in memory.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::report::Row;
use crate::{Failure, Settings, hand, payloads, stats};

/// Decodes `bytes` with `decode` until `budget` is spent (at least `min` times); the median.
fn measure(
    bytes: &[u8],
    min: usize,
    budget: Duration,
    decode: impl Fn(&[u8]) -> Result<(), Failure>,
) -> Result<Duration, Failure> {
    for _ in 0..min.min(20) {
        decode(bytes)?;
    }
    let mut samples = Vec::new();
    let started = Instant::now();
    while samples.len() < min || started.elapsed() < budget {
        let t = Instant::now();
        decode(bytes)?;
        samples.push(t.elapsed());
    }
    Ok(stats::median(&mut samples))
}

fn mb_per_s(bytes: usize, d: Duration) -> String {
    format!(
        "{:.0} MB/s",
        bytes as f64 / 1e6 / d.as_secs_f64().max(1e-12)
    )
}

/// The decode rows: Zendesk `UserPage` and SendAuth `UserPage`, each against `Value`.
pub fn decode(settings: &Settings) -> Result<Vec<Row>, Failure> {
    let (min, budget) = if settings.quick {
        (5, Duration::ZERO)
    } else {
        (200, Duration::from_millis(1500))
    };
    let zendesk =
        payloads::zendesk_page(&payloads::zendesk_users_array(), 1, 2, "http://127.0.0.1:1");
    let sendauth = payloads::sendauth_page(&payloads::sendauth_rows_array(), 1, 2);

    // The three decoders agree before they are timed.
    let generated: zendesk_api::types::UserPage = serde_json::from_slice(&zendesk)?;
    let by_hand: hand::ZdUserPage = serde_json::from_slice(&zendesk)?;
    if generated.users.len() != payloads::PAGE_SIZE
        || by_hand.users.len() != payloads::PAGE_SIZE
        || generated.users[7].id != by_hand.users[7].id
    {
        return Err("the decoders disagree on the Zendesk page".into());
    }
    let sa: sendauth_api::types::UserPage = serde_json::from_slice(&sendauth)?;
    if sa.rows.map_or(0, |r| r.len()) != payloads::PAGE_SIZE {
        return Err("the SendAuth page has the wrong number of rows".into());
    }

    let mut rows = Vec::new();
    let mut block = |name: &str, bytes: &[u8], timings: Vec<(&str, Duration)>| {
        let value = timings.last().expect("Value last").1;
        for (who, d) in &timings {
            let ratio = if *who == "`serde_json::Value`" {
                "baseline".to_string()
            } else {
                format!("{:.2}× Value's speed", stats::ratio(value, *d))
            };
            rows.push(Row::new(
                "decode",
                &format!("{name} ({}) into {who}", stats::bytes(bytes.len() as u64)),
                stats::time(*d),
                mb_per_s(bytes.len(), *d),
                ratio,
            ));
        }
    };
    let zd = vec![
        (
            "`zendesk_api::types::UserPage` (generated)",
            measure(&zendesk, min, budget, |b| {
                black_box(serde_json::from_slice::<zendesk_api::types::UserPage>(b)?);
                Ok(())
            })?,
        ),
        (
            "hand-written structs",
            measure(&zendesk, min, budget, |b| {
                black_box(serde_json::from_slice::<hand::ZdUserPage>(b)?);
                Ok(())
            })?,
        ),
        (
            "`serde_json::Value`",
            measure(&zendesk, min, budget, |b| {
                black_box(serde_json::from_slice::<serde_json::Value>(b)?);
                Ok(())
            })?,
        ),
    ];
    block("Zendesk page of 100 users", &zendesk, zd);
    let sa = vec![
        (
            "`sendauth_api::types::UserPage` (generated)",
            measure(&sendauth, min, budget, |b| {
                black_box(serde_json::from_slice::<sendauth_api::types::UserPage>(b)?);
                Ok(())
            })?,
        ),
        (
            "hand-written structs",
            measure(&sendauth, min, budget, |b| {
                black_box(serde_json::from_slice::<hand::SaUserPage>(b)?);
                Ok(())
            })?,
        ),
        (
            "`serde_json::Value`",
            measure(&sendauth, min, budget, |b| {
                black_box(serde_json::from_slice::<serde_json::Value>(b)?);
                Ok(())
            })?,
        ),
    ];
    block("SendAuth page of 100 users", &sendauth, sa);
    Ok(rows)
}
