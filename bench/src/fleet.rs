//! Many workers, one account: 4 processes (`bench fleet-worker`, this binary again) × 8
//! tasks × 100 calls in all per process against one server window of 50 requests per 2 s
//! (per 250 ms with `--quick`), side by side in one run: the rate-limit state shared
//! through a real Redis (`redis-server` on a free loopback port), and each process pacing
//! alone by the headers. The server counts what it served and the 429s it answered.
//!
//! The minimum is the window's: 400 calls are 8 windows, 7 waited out (14 s).
//!
//! And what the store costs a call: `show_user` calls one at a time on an unlimited route,
//! paced in-process and through Redis, interleaved, against one Redis round trip (`PING`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zendesk_api::{ClientConfig, RateLimits, RedisStore};

use crate::report::Row;
use crate::{Failure, stats};

const PROCESSES: usize = 4;
const TASKS: usize = 8;
const CALLS_PER_PROCESS: usize = 100;
const LIMIT: usize = 50;

/// A `redis-server` on a free loopback port, without persistence, stopped on drop.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Result<Self, Failure> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("fleet: cannot start redis-server ({e}); `cargo xtask bench` installs it")
            })?;
        let redis = Self { child, port };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
                let mut buf = [0u8; 16];
                if stream.write_all(b"PING\r\n").is_ok() && stream.read(&mut buf)? > 0 {
                    return Ok(redis);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("fleet: redis-server did not answer within 10 s".into())
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `bench fleet-worker BASE_URL START_MS [REDIS_URL PREFIX]`: one process of the fleet.
/// Prints `{"ok", "failed", "elapsed_ms"}`.
pub fn worker(args: &[String]) -> Result<(), String> {
    let (base, start_ms, redis) = match args {
        [base, start] => (base, start, None),
        [base, start, url, prefix] => (base, start, Some((url, prefix))),
        _ => return Err("fleet-worker BASE_URL START_MS [REDIS_URL PREFIX]".into()),
    };
    let start_ms: u64 = start_ms.parse().map_err(|_| "START_MS: a number")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut limits = RateLimits::default();
    if let Some((url, prefix)) = redis {
        let store = RedisStore::new(url.as_str()).map_err(|e| e.to_string())?;
        limits = limits.with_redis(store.with_key_prefix(prefix.as_str()));
    }
    let credentials = zendesk_api::api_token_credentials("bench@example.com", "token")
        .map_err(|e| e.to_string())?;
    let client = zendesk_api::Client::with_config(
        credentials,
        ClientConfig::new()
            .base_url(base.as_str())
            .rate_limits(limits),
    )
    .map_err(|e| e.to_string())?;
    let (ok, failed, elapsed) = runtime.block_on(async move {
        let start = UNIX_EPOCH + Duration::from_millis(start_ms);
        if let Ok(wait) = start.duration_since(SystemTime::now()) {
            tokio::time::sleep(wait).await;
        }
        let started = Instant::now();
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (client, next) = (client.clone(), next.clone());
                tokio::spawn(async move {
                    let (mut ok, mut failed) = (0u64, 0u64);
                    while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                        < CALLS_PER_PROCESS
                    {
                        match client.show_user().user_id(35436).send().await {
                            Ok(_) => ok += 1,
                            Err(_) => failed += 1,
                        }
                    }
                    (ok, failed)
                })
            })
            .collect();
        let (mut ok, mut failed) = (0, 0);
        for task in tasks {
            let (o, f) = task.await.unwrap_or((0, CALLS_PER_PROCESS as u64));
            ok += o;
            failed += f;
        }
        (ok, failed, started.elapsed())
    });
    println!(
        r#"{{"ok":{ok},"failed":{failed},"elapsed_ms":{}}}"#,
        elapsed.as_millis()
    );
    Ok(())
}

/// What the fleet did, and what the server counted.
struct Run {
    elapsed: Duration,
    failed: u64,
    served: u64,
    refused: u64,
}

fn run(base: &str, window: Duration, tag: &str, redis: Option<&Redis>) -> Result<Run, Failure> {
    let prefix = format!("{base}/rate/{LIMIT}/{}/{tag}", window.as_millis());
    let exe = std::env::current_exe()?;
    let start = SystemTime::now() + Duration::from_millis(300);
    let start_ms = start.duration_since(UNIX_EPOCH)?.as_millis().to_string();
    let key_prefix = format!("bench-{tag}-{}", std::process::id());
    let children: Vec<Child> = (0..PROCESSES)
        .map(|_| {
            let mut command = Command::new(&exe);
            command.args(["fleet-worker", &prefix, &start_ms]);
            if let Some(redis) = redis {
                command.args([redis.url(), key_prefix.clone()]);
            }
            command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    let mut elapsed = Duration::ZERO;
    let mut failed = 0;
    for child in children {
        let output = child.wait_with_output()?;
        if !output.status.success() {
            return Err(format!("fleet: a worker failed ({})", output.status).into());
        }
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        let count = |name: &str| {
            report[name]
                .as_u64()
                .ok_or(format!("fleet: a worker's report has no `{name}`"))
        };
        elapsed = elapsed.max(Duration::from_millis(count("elapsed_ms")?));
        failed += count("failed")?;
    }
    let stats: serde_json::Value = stats_route::get_json(&format!("{prefix}/stats"))?;
    let count = |name: &str| stats[name].as_u64().ok_or(format!("stats: no `{name}`"));
    Ok(Run {
        elapsed,
        failed,
        served: count("served")?,
        refused: count("refused")?,
    })
}

/// A plain blocking GET of the stats route (reqwest's blocking client is not built here).
mod stats_route {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use crate::Failure;

    pub fn get_json(url: &str) -> Result<serde_json::Value, Failure> {
        let rest = url
            .strip_prefix("http://")
            .ok_or("stats: not an http URL")?;
        let (host, path) = rest.split_at(rest.find('/').ok_or("stats: no path")?);
        let mut stream = TcpStream::connect(host)?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic stats\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .ok_or("stats: no body")?;
        Ok(serde_json::from_str(body.trim())?)
    }
}

/// The extra time a call spends when paced through Redis: `show_user` one at a time on an
/// unlimited route, in-process and through Redis interleaved in rounds, and `PING`.
async fn cost(quick: bool, base: &str, redis: &Redis) -> Result<[Duration; 3], Failure> {
    let rounds = if quick { 5 } else { 20 };
    let per_round = if quick { 20 } else { 100 };
    let credentials = zendesk_api::api_token_credentials("bench@example.com", "token")?;
    let config = ClientConfig::new().base_url(base);
    let here = zendesk_api::Client::with_config(credentials.clone(), config.clone())?;
    let store =
        RedisStore::new(redis.url())?.with_key_prefix(format!("bench-cost-{}", std::process::id()));
    let shared = zendesk_api::Client::with_config(
        credentials,
        config.rate_limits(RateLimits::default().with_redis(store)),
    )?;
    let mut connection = ::redis::Client::open(redis.url())?
        .get_multiplexed_async_connection()
        .await?;
    let (mut local, mut remote, mut ping) = (Vec::new(), Vec::new(), Vec::new());
    // Warm both: connections, and the scripts loaded into Redis.
    here.show_user().user_id(1).send().await?;
    shared.show_user().user_id(1).send().await?;
    for _ in 0..rounds {
        for _ in 0..per_round {
            let t = Instant::now();
            here.show_user().user_id(1).send().await?;
            local.push(t.elapsed());
            let t = Instant::now();
            shared.show_user().user_id(1).send().await?;
            remote.push(t.elapsed());
            let t = Instant::now();
            let _: String = ::redis::cmd("PING").query_async(&mut connection).await?;
            ping.push(t.elapsed());
        }
    }
    Ok([
        stats::median(&mut local),
        stats::median(&mut remote),
        stats::median(&mut ping),
    ])
}

/// The shared and the alone fleet, each against a fresh window, the store's cost per call,
/// and their rows.
pub fn fleet(
    quick: bool,
    base: String,
    runtime: &tokio::runtime::Runtime,
) -> Result<Vec<Row>, Failure> {
    let window = if quick {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(2)
    };
    let calls = PROCESSES * CALLS_PER_PROCESS;
    let minimum = window * ((calls / LIMIT) as u32 - 1);
    let redis = Redis::start()?;
    let tag = |what: &str| format!("fleet-{what}-{}", std::process::id());
    let shared = run(&base, window, &tag("shared"), Some(&redis))?;
    let alone = run(&base, window, &tag("alone"), None)?;
    // A failed call always stops the bench. 429s stop a full run only: `--quick` (a 250 ms
    // window, to keep the harness working) is too short for the spacing to hold on a busy
    // machine, and its row shows the count.
    if shared.failed > 0 || (!quick && shared.refused > 0) {
        return Err(format!(
            "fleet: sharing through Redis, the fleet met {} responses 429 and {} failed calls",
            shared.refused, shared.failed
        )
        .into());
    }
    let [local, remote, ping] = runtime.block_on(cost(quick, &base, &redis))?;
    let of_minimum = |run: &Run| run.elapsed.as_secs_f64() / minimum.as_secs_f64();
    let what = |how: &str| {
        format!(
            "{calls} × `show_user` from {PROCESSES} processes × {TASKS} tasks, server window \
             {LIMIT} per {}: {how}",
            stats::time(window)
        )
    };
    let detail = |run: &Run| {
        format!(
            "{} responses 429 · {} retries · {} calls failed · minimum {}",
            run.refused,
            (run.served + run.refused).saturating_sub(calls as u64),
            run.failed,
            stats::time(minimum)
        )
    };
    let extra = remote.saturating_sub(local);
    Ok(vec![
        Row::new(
            "fleet",
            &what("state shared through Redis (`RateLimits::with_redis`)"),
            stats::time(shared.elapsed),
            detail(&shared),
            format!("**{:.3}×** the minimum", of_minimum(&shared)),
        ),
        Row::new(
            "fleet",
            &what("each process paced alone by the headers (default `RateLimits`)"),
            stats::time(alone.elapsed),
            detail(&alone),
            format!(
                "{:.3}× the minimum; shared: {:.3}× its time",
                of_minimum(&alone),
                shared.elapsed.as_secs_f64() / alone.elapsed.as_secs_f64()
            ),
        ),
        Row::new(
            "fleet",
            "one `show_user` call at a time, unlimited route: paced through Redis vs in-process (median)",
            stats::time(remote),
            format!(
                "in-process {} · Redis round trip (`PING`) {}",
                stats::time(local),
                stats::time(ping)
            ),
            format!(
                "**+{}** a call = {:.2} Redis round trips",
                stats::time(extra),
                extra.as_secs_f64() / ping.as_secs_f64().max(1e-9)
            ),
        ),
    ])
}
