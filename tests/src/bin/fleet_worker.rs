//! One process of a fleet, for `tests/tests/fleet.rs`: a Zendesk client (sharing its
//! rate-limit state through Redis when `FLEET_REDIS_URL` is set), `FLEET_TASKS` tasks making
//! `FLEET_CALLS` calls in all, from the instant `FLEET_START_MS` (Unix milliseconds) on.
//! Prints one JSON line on stdout, `{"ok", "failed", "elapsed_ms", "errors"}`, and its
//! tracing output (INFO and above, no colours) on stderr.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tests::clients;
use user_apis::runtime::{ClientConfig, RateLimits, RedisStore, RetryPolicy};

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn number<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    var(name)
        .map(|v| v.parse().map_err(|_| format!("{name}: not a number")))
        .transpose()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    match run().await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("fleet_worker: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<serde_json::Value, String> {
    let base_url = var("FLEET_BASE_URL").ok_or("FLEET_BASE_URL is not set")?;
    let tasks: usize = number("FLEET_TASKS")?.unwrap_or(8);
    let calls: usize = number("FLEET_CALLS")?.unwrap_or(100);
    let operation = var("FLEET_OPERATION").unwrap_or_else(|| "show_user".into());
    let start_ms: u64 = number("FLEET_START_MS")?.unwrap_or(0);
    let mut limits = RateLimits::default();
    if let Some(n) = number::<u32>("FLEET_EXPORT_PER_MINUTE")? {
        limits = limits.with_operation_requests_per_minute("incremental_user_export", n);
    }
    if let Some(url) = var("FLEET_REDIS_URL") {
        let prefix = var("FLEET_REDIS_PREFIX").unwrap_or_else(|| "fleet".into());
        let store = RedisStore::new(url)
            .map_err(|e| e.to_string())?
            .with_key_prefix(prefix);
        limits = limits.with_redis(store);
    }
    let mut config = ClientConfig::new().base_url(base_url).rate_limits(limits);
    if let Some(attempts) = number::<u32>("FLEET_ATTEMPTS")? {
        config = config.retry(RetryPolicy::default().with_max_attempts(attempts));
    }
    let client = clients::zendesk_client(config);

    let start = UNIX_EPOCH + Duration::from_millis(start_ms);
    if let Ok(wait) = start.duration_since(SystemTime::now()) {
        tokio::time::sleep(wait).await;
    }
    let started = std::time::Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    let export = operation == "incremental_user_export";
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (client, next, ok, errors) =
                (client.clone(), next.clone(), ok.clone(), errors.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < calls {
                    let result = if export {
                        client
                            .incremental_user_export()
                            .start_time(1_332_034_771)
                            .send()
                            .await
                            .map(drop)
                    } else {
                        client.show_user().user_id(35436).send().await.map(drop)
                    };
                    match result {
                        Ok(()) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(error) => {
                            if let Ok(mut errors) = errors.lock() {
                                errors.push(error.to_string());
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.map_err(|e| format!("a task panicked: {e}"))?;
    }
    let elapsed = started.elapsed();
    let errors = errors.lock().map(|e| e.clone()).unwrap_or_default();
    Ok(serde_json::json!({
        "ok": ok.load(Ordering::Relaxed),
        "failed": errors.len(),
        "elapsed_ms": u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        "errors": errors.iter().take(5).collect::<Vec<_>>(),
    }))
}
