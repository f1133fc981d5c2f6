//! Rate-limit pacing: 8 tasks make 400 `show_user` calls through one client against a
//! server window of 50 requests per 2 s (per 250 ms with `--quick`) that sends the
//! `ratelimit-*` headers, side by side in one run: the client paced by the headers (the
//! default) and the same client with `RateLimits::disabled()`, both with the default retry
//! policy. The server counts the requests it served and the 429s it answered.
//!
//! The minimum is what the window allows at best: the first 50 calls at once, then 50 more
//! each time a window ends, so 400 calls need 7 windows waited out (14 s).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use zendesk_api::{ClientConfig, RateLimits};

use crate::report::Row;
use crate::{Failure, stats};

const CALLS: usize = 400;
const TASKS: usize = 8;
const LIMIT: usize = 50;

/// One run: how long it took, what failed, and what the server counted.
struct Run {
    elapsed: Duration,
    failed: usize,
    served: u64,
    refused: u64,
}

impl Run {
    /// Requests beyond one per call.
    fn retries(&self) -> u64 {
        (self.served + self.refused).saturating_sub(CALLS as u64)
    }
}

async fn run(base: &str, window: Duration, tag: &str, limits: RateLimits) -> Result<Run, Failure> {
    let prefix = format!("{base}/rate/{LIMIT}/{}/{tag}", window.as_millis());
    let credentials = zendesk_api::api_token_credentials("bench@example.com", "token")?;
    let client = zendesk_api::Client::with_config(
        credentials,
        ClientConfig::new()
            .base_url(prefix.clone())
            .rate_limits(limits),
    )?;
    let failed = Arc::new(AtomicUsize::new(0));
    let (elapsed, _) = crate::calls::saturate(CALLS, TASKS, {
        let (client, failed) = (client.clone(), failed.clone());
        move || {
            let (client, failed) = (client.clone(), failed.clone());
            async move {
                if client.show_user().user_id(35436).send().await.is_err() {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }
        }
    })
    .await?;
    let stats: serde_json::Value = client
        .http_client()
        .get(format!("{prefix}/stats"))
        .header("authorization", "Basic stats")
        .send()
        .await?
        .json()
        .await?;
    let count = |name: &str| stats[name].as_u64().ok_or(format!("stats: no `{name}`"));
    Ok(Run {
        elapsed,
        failed: failed.load(Ordering::Relaxed),
        served: count("served")?,
        refused: count("refused")?,
    })
}

/// The paced and the unpaced run, each against a fresh window, and their rows.
pub async fn pacing(quick: bool, base: String) -> Result<Vec<Row>, Failure> {
    let window = if quick {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(2)
    };
    let minimum = window * ((CALLS / LIMIT) as u32 - 1);
    let paced = run(&base, window, "paced", RateLimits::default()).await?;
    let unpaced = run(&base, window, "unpaced", RateLimits::disabled()).await?;
    if paced.refused > 0 || paced.failed > 0 {
        return Err(format!(
            "pacing: the paced client met {} responses 429 and {} failed calls",
            paced.refused, paced.failed
        )
        .into());
    }
    let of_minimum = |run: &Run| run.elapsed.as_secs_f64() / minimum.as_secs_f64();
    let what = |how: &str| {
        format!(
            "{CALLS} × `show_user` from {TASKS} tasks, one client, server window {LIMIT} per {}: {how}",
            stats::time(window)
        )
    };
    let detail = |run: &Run| {
        format!(
            "{} responses 429 · {} retries · {} calls failed · minimum {}",
            run.refused,
            run.retries(),
            run.failed,
            stats::time(minimum)
        )
    };
    Ok(vec![
        Row::new(
            "pacing",
            &what("paced by the `ratelimit-*` headers (default `RateLimits`)"),
            stats::time(paced.elapsed),
            detail(&paced),
            format!("**{:.3}×** the minimum", of_minimum(&paced)),
        ),
        Row::new(
            "pacing",
            &what("`RateLimits::disabled()`, the retry policy alone"),
            stats::time(unpaced.elapsed),
            detail(&unpaced),
            format!(
                "{:.3}× the minimum; paced: {:.3}× its time",
                of_minimum(&unpaced),
                paced.elapsed.as_secs_f64() / unpaced.elapsed.as_secs_f64()
            ),
        ),
    ])
}
