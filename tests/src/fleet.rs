//! Support for the fleet tests (`tests/tests/fleet.rs`): a real `redis-server` on a free
//! loopback port, a loopback server that enforces one rate-limit window for every process
//! calling it, and the worker processes (`src/bin/fleet_worker.rs`) that call it.
//!
//! `redis-server` comes from Debian's package: `cargo xtask test` installs it when it is not
//! on `PATH`. It runs without persistence (`--save '' --appendonly no`) in a temporary
//! directory, and is stopped when its [`RedisServer`] is dropped.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::specs;

/// A `redis-server` on 127.0.0.1, on a port of its own, without persistence.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    extra: Vec<String>,
    dir: PathBuf,
    tls: bool,
}

impl RedisServer {
    /// Starts one and waits until it answers.
    ///
    /// # Panics
    ///
    /// When `redis-server` is not installed (`cargo xtask test` installs it), or does not
    /// answer within 10 s.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts one with more arguments (`--requirepass`, `--tls-port` …).
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    pub fn start_with(extra: &[&str]) -> Self {
        let port = free_port();
        let mut server = Self {
            child: None,
            port,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            dir: Self::dir(port),
            tls: false,
        };
        server.launch();
        server
    }

    /// Starts one that speaks TLS only (no plain port), with this certificate and key (PEM
    /// files), not asking clients for certificates.
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    pub fn start_tls(certificate: &std::path::Path, key: &std::path::Path) -> Self {
        let port = free_port();
        let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
        let mut server = Self {
            child: None,
            port,
            extra: vec![
                "--port".into(),
                "0".into(),
                "--tls-port".into(),
                port.to_string(),
                "--tls-cert-file".into(),
                path(certificate),
                "--tls-key-file".into(),
                path(key),
                "--tls-auth-clients".into(),
                "no".into(),
            ],
            dir: Self::dir(port),
            tls: true,
        };
        server.launch();
        server
    }

    fn dir(port: u16) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("user-apis-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        dir
    }

    fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--loglevel", "warning"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): install it with `apt-get install \
                     redis-server`, as `cargo xtask test` does"
                )
            });
        self.child = Some(child);
        // Asked up to 500 times, 20 ms apart.
        let mut tries = 0;
        loop {
            // Any answer to PING (+PONG, or -NOAUTH with a password) means it listens.
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                if self.tls {
                    // It listens; a TLS client will say the rest.
                    return;
                }
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 64];
                if stream.write_all(b"PING\r\n").is_ok() && stream.read(&mut buf).unwrap_or(0) > 0 {
                    return;
                }
            }
            tries += 1;
            assert!(
                tries < 500,
                "redis-server did not answer on port {} after {tries} tries",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops it (SIGKILL): everything it held is lost, as in a crash.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// A connection for the test itself (to read what the store wrote, or to write hostile
    /// values into it).
    ///
    /// # Panics
    ///
    /// When it cannot connect.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .expect("a URL")
            .get_multiplexed_async_connection()
            .await
            .expect("connects to the test Redis")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A loopback Zendesk that enforces one window of `limit` requests per `length` for every
/// caller together (the window starting at the first request after the previous one ended,
/// as Zendesk's do), with `ratelimit-*` headers (the reset to the millisecond) and 429 +
/// `Retry-After` over the limit, on `show_user`; and `incremental_user_export`, not limited,
/// each request's arrival recorded.
#[derive(Debug)]
pub struct WindowServer {
    limit: u32,
    length: Duration,
    user: Value,
    export: Value,
    window: Mutex<(Option<Instant>, u32)>,
    served: AtomicU32,
    refused: AtomicU32,
    exports: Mutex<Vec<Instant>>,
}

impl WindowServer {
    /// A window of `limit` requests per `length`.
    pub fn new(limit: u32, length: Duration) -> Arc<Self> {
        Arc::new(Self {
            limit,
            length,
            user: specs::success_example("zendesk", "show_user"),
            export: specs::success_example("zendesk", "incremental_user_export"),
            window: Mutex::new((None, 0)),
            served: AtomicU32::new(0),
            refused: AtomicU32::new(0),
            exports: Mutex::new(Vec::new()),
        })
    }

    /// Serves it on a loopback port.
    pub async fn mount(self: &Arc<Self>) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path_regex("^/api/v2/users/[0-9]+$"))
            .respond_with(Limited(self.clone()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v2/incremental/users/cursor"))
            .respond_with(Export(self.clone()))
            .mount(&server)
            .await;
        server
    }

    /// `show_user` requests answered 200.
    pub fn served(&self) -> u32 {
        self.served.load(Ordering::Relaxed)
    }

    /// `show_user` requests answered 429.
    pub fn refused(&self) -> u32 {
        self.refused.load(Ordering::Relaxed)
    }

    /// When each export request arrived, in order.
    pub fn export_arrivals(&self) -> Vec<Instant> {
        self.exports.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

struct Limited(Arc<WindowServer>);

impl Respond for Limited {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let server = &self.0;
        let now = Instant::now();
        let mut window = server.window.lock().unwrap_or_else(|e| e.into_inner());
        let start = match window.0 {
            Some(start) if now < start + server.length => start,
            _ => {
                *window = (Some(now), 0);
                now
            }
        };
        let left = start + server.length - now;
        let reset = format!("{:.3}", (left.as_secs_f64() * 1000.0).ceil() / 1000.0);
        let over = window.1 >= server.limit;
        if !over {
            window.1 += 1;
        }
        let remaining = (server.limit - window.1).to_string();
        drop(window);
        let template = if over {
            server.refused.fetch_add(1, Ordering::Relaxed);
            ResponseTemplate::new(429)
                .insert_header("retry-after", reset.as_str())
                .set_body_string("Too Many Requests")
        } else {
            server.served.fetch_add(1, Ordering::Relaxed);
            ResponseTemplate::new(200).set_body_json(&server.user)
        };
        template
            .insert_header("ratelimit-limit", server.limit.to_string().as_str())
            .insert_header("ratelimit-remaining", remaining.as_str())
            .insert_header("ratelimit-reset", reset.as_str())
    }
}

struct Export(Arc<WindowServer>);

impl Respond for Export {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        if let Ok(mut arrivals) = self.0.exports.lock() {
            arrivals.push(Instant::now());
        }
        ResponseTemplate::new(200).set_body_json(&self.0.export)
    }
}

/// What one worker process is to do.
#[derive(Debug, Clone)]
pub struct Job {
    /// The server's base URL.
    pub base_url: String,
    /// The shared store (`None`: each process paces alone).
    pub redis: Option<(String, String)>,
    /// Tasks in the process, sharing one client.
    pub tasks: usize,
    /// Calls the process makes in all.
    pub calls: usize,
    /// `show_user` or `incremental_user_export`.
    pub operation: &'static str,
    /// The export's budget in requests a minute, when set.
    pub export_per_minute: Option<u32>,
    /// Attempts per call (the retry policy's, default otherwise).
    pub attempts: Option<u32>,
}

/// What a worker reported, and what it logged.
#[derive(Debug)]
pub struct Report {
    /// Calls that succeeded.
    pub ok: u64,
    /// Calls that failed.
    pub failed: u64,
    /// From the common start to the last call's end.
    pub elapsed: Duration,
    /// The first errors, one line each.
    pub errors: Vec<String>,
    /// Its tracing output (INFO and above).
    pub log: String,
}

impl Report {
    /// Lines of its log at WARN level.
    pub fn warnings(&self) -> Vec<&str> {
        self.log.lines().filter(|l| l.contains(" WARN ")).collect()
    }
}

/// A worker process, started.
#[derive(Debug)]
pub struct Worker {
    child: Child,
}

impl Worker {
    /// Starts the worker binary on `job`; it begins its calls at `start` (Unix time), so
    /// that every process of a fleet starts together.
    ///
    /// # Panics
    ///
    /// When the binary cannot be started.
    pub fn start(binary: &str, job: &Job, start: SystemTime) -> Self {
        let mut env: HashMap<&str, String> = HashMap::new();
        env.insert("FLEET_BASE_URL", job.base_url.clone());
        env.insert("FLEET_TASKS", job.tasks.to_string());
        env.insert("FLEET_CALLS", job.calls.to_string());
        env.insert("FLEET_OPERATION", job.operation.to_string());
        let at = start.duration_since(UNIX_EPOCH).unwrap_or_default();
        env.insert("FLEET_START_MS", at.as_millis().to_string());
        if let Some((url, prefix)) = &job.redis {
            env.insert("FLEET_REDIS_URL", url.clone());
            env.insert("FLEET_REDIS_PREFIX", prefix.clone());
        }
        if let Some(n) = job.export_per_minute {
            env.insert("FLEET_EXPORT_PER_MINUTE", n.to_string());
        }
        if let Some(n) = job.attempts {
            env.insert("FLEET_ATTEMPTS", n.to_string());
        }
        let child = Command::new(binary)
            .envs(env)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the worker starts");
        Self { child }
    }

    /// Waits for it (60 s at most, then kills it) and reads its report.
    ///
    /// # Panics
    ///
    /// When it does not end in time, fails, or prints no report.
    pub async fn report(self) -> Report {
        let mut child = self.child;
        let waited = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if started.elapsed() > Duration::from_secs(60) {
                    let _ = child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let mut out = String::new();
            let mut log = String::new();
            if let Some(mut s) = child.stdout.take() {
                let _ = s.read_to_string(&mut out);
            }
            if let Some(mut s) = child.stderr.take() {
                let _ = s.read_to_string(&mut log);
            }
            (child.wait(), out, log)
        })
        .await
        .expect("no panic");
        let (status, out, log) = waited;
        let status = status.expect("the worker's status");
        assert!(status.success(), "worker failed ({status}):\n{out}\n{log}");
        let line = out.lines().last().unwrap_or_default();
        let report: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("no report ({e}): {out}\n{log}"));
        let count = |name: &str| report[name].as_u64().unwrap_or(u64::MAX);
        Report {
            ok: count("ok"),
            failed: count("failed"),
            elapsed: Duration::from_millis(count("elapsed_ms")),
            errors: report["errors"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            log,
        }
    }
}

/// Starts `processes` workers on `job`, to begin their calls together at the instant
/// returned (shortly from now).
pub fn start_fleet(binary: &str, job: &Job, processes: usize) -> (Vec<Worker>, SystemTime) {
    let start = SystemTime::now() + Duration::from_millis(500);
    let workers = (0..processes)
        .map(|_| Worker::start(binary, job, start))
        .collect();
    (workers, start)
}

/// Runs `processes` workers on `job`, starting together, and returns their reports.
pub async fn run_fleet(binary: &str, job: &Job, processes: usize) -> Vec<Report> {
    let (workers, _) = start_fleet(binary, job, processes);
    let mut reports = Vec::new();
    for worker in workers {
        reports.push(worker.report().await);
    }
    reports
}
