//! The loopback server: hyper's HTTP/1.1 server on 127.0.0.1, in a child process of its own
//! (`bench serve`) so that its CPU time and allocations are not counted in the client's.
//!
//! Routes (an optional `/p{N}` path prefix sets the number of pages a listing has):
//!
//! | path | answer |
//! |---|---|
//! | `GET /api/v2/users/{id}` | Zendesk `{"user": …}` |
//! | `GET [/p{N}]/api/v2/users?page[after]=c{k}` | Zendesk cursor page k+1 of N, 100 users |
//! | `GET /api/v1/users/{uuid}` | a SendAuth user |
//! | `GET [/p{N}]/api/v1/users?page={k}` | SendAuth `{rows, total}`, page k of N |
//! | `GET /rate/{limit}/{ms}/{tag}/api/v2/users/{id}` | the Zendesk user, within a rate-limit window |
//! | `GET /rate/{limit}/{ms}/{tag}/stats` | `{"served": n, "refused": m}` of that window |
//!
//! A rate-limited route (one window per `{limit}/{ms}/{tag}`) serves at most `limit` requests
//! per window of `ms` milliseconds, the window starting at the first request after the
//! previous one ended, as Zendesk's per-minute windows do. Every answer carries
//! `ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset` (seconds to the window's
//! end, rounded up: whole seconds for whole-second windows, as Zendesk sends them,
//! milliseconds otherwise); a request over the limit gets 429 with the same `Retry-After`.
//!
//! Bodies are built once; a page is the shared users array with its own cursor around it.
//! A request without `Authorization` gets 401, so every client is checked to send one.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::payloads;

/// Pages a listing has when the path has no `/p{N}` prefix.
const DEFAULT_PAGES: u64 = 10;

struct Bodies {
    zendesk_user: Bytes,
    zendesk_users: String,
    sendauth_user: Bytes,
    sendauth_rows: String,
    windows: Mutex<HashMap<String, Window>>,
}

/// One rate-limit window's state and what it answered.
#[derive(Default)]
struct Window {
    start: Option<Instant>,
    count: u64,
    served: u64,
    refused: u64,
}

/// Runs the server until standard input closes (the parent exited or dropped the pipe).
/// Prints `listening <addr>` on the first line of standard output.
pub fn serve() -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    std::thread::spawn(|| {
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        while let Ok(n) = stdin.read(&mut sink) {
            if n == 0 {
                break;
            }
        }
        std::process::exit(0);
    });
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let bodies = Arc::new(Bodies {
            zendesk_user: payloads::zendesk_user_response().into(),
            zendesk_users: payloads::zendesk_users_array(),
            sendauth_user: payloads::sendauth_user_response().into(),
            sendauth_rows: payloads::sendauth_rows_array(),
            windows: Mutex::new(HashMap::new()),
        });
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening {addr}").map_err(|e| e.to_string())?;
            out.flush().map_err(|e| e.to_string())?;
        }
        loop {
            let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
            let _ = stream.set_nodelay(true);
            let bodies = bodies.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let response = respond(&bodies, &request);
                    async move { Ok::<_, Infallible>(response) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

fn respond(bodies: &Bodies, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    if !request.headers().contains_key(hyper::header::AUTHORIZATION) {
        return json(
            StatusCode::UNAUTHORIZED,
            r#"{"error":"Couldn't authenticate you"}"#,
        );
    }
    let path = request.uri().path();
    if let Some(rest) = path.strip_prefix("/rate/") {
        return rate_limited(bodies, rest);
    }
    let query = request.uri().query().unwrap_or("");
    let (pages, rest) = match path
        .strip_prefix("/p")
        .and_then(|p| p.split_once('/'))
        .and_then(|(n, rest)| Some((n.parse::<u64>().ok()?, rest)))
    {
        Some((n, rest)) => (n, &path[path.len() - rest.len() - 1..]),
        None => (DEFAULT_PAGES, path),
    };
    let prefix = &path[..path.len() - rest.len()];
    match rest {
        "/api/v2/users" => {
            // page[after]=c{k} is the cursor of page k: this is page k + 1.
            let page = query_value(query, &["page%5Bafter%5D", "page[after]"])
                .and_then(|c| c.strip_prefix('c')?.parse::<u64>().ok())
                .map_or(1, |k| k + 1);
            let host = request
                .headers()
                .get(hyper::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1");
            let next_base = format!("http://{host}{prefix}");
            let body = payloads::zendesk_page(&bodies.zendesk_users, page, pages, &next_base);
            json_bytes(StatusCode::OK, body.into())
        }
        p if p.starts_with("/api/v2/users/") => {
            json_bytes(StatusCode::OK, bodies.zendesk_user.clone())
        }
        "/api/v1/users" => {
            let page = query_value(query, &["page"])
                .and_then(|p| p.parse::<u64>().ok())
                .unwrap_or(1);
            let body = payloads::sendauth_page(&bodies.sendauth_rows, page, pages);
            json_bytes(StatusCode::OK, body.into())
        }
        p if p.starts_with("/api/v1/users/") => {
            json_bytes(StatusCode::OK, bodies.sendauth_user.clone())
        }
        _ => json(StatusCode::NOT_FOUND, r#"{"error":"RecordNotFound"}"#),
    }
}

/// `{limit}/{ms}/{tag}/api/v2/users/{id}` or `{limit}/{ms}/{tag}/stats`.
fn rate_limited(bodies: &Bodies, rest: &str) -> Response<Full<Bytes>> {
    let mut parts = rest.splitn(4, '/');
    let (Some(limit), Some(ms), Some(tag), Some(tail)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return json(StatusCode::NOT_FOUND, r#"{"error":"RecordNotFound"}"#);
    };
    let (Ok(limit), Ok(ms)) = (limit.parse::<u64>(), ms.parse::<u64>()) else {
        return json(StatusCode::NOT_FOUND, r#"{"error":"RecordNotFound"}"#);
    };
    let key = format!("{limit}/{ms}/{tag}");
    let mut windows = bodies.windows.lock().unwrap_or_else(|e| e.into_inner());
    let window = windows.entry(key).or_default();
    if tail == "stats" {
        let body = format!(
            r#"{{"served":{},"refused":{}}}"#,
            window.served, window.refused
        );
        return json_bytes(StatusCode::OK, body.into());
    }
    if !tail.starts_with("api/v2/users/") {
        return json(StatusCode::NOT_FOUND, r#"{"error":"RecordNotFound"}"#);
    }
    let length = Duration::from_millis(ms);
    let now = Instant::now();
    let start = match window.start {
        Some(start) if now < start + length => start,
        _ => {
            window.start = Some(now);
            window.count = 0;
            now
        }
    };
    let left = (start + length - now).as_secs_f64();
    let reset = if ms % 1000 == 0 {
        format!("{}", left.ceil())
    } else {
        format!("{:.3}", (left * 1000.0).ceil() / 1000.0)
    };
    let over = window.count >= limit;
    let mut response = if over {
        window.refused += 1;
        let mut response = json(
            StatusCode::TOO_MANY_REQUESTS,
            r#"{"error":"TooManyRequests"}"#,
        );
        response.headers_mut().insert(
            hyper::header::RETRY_AFTER,
            hyper::header::HeaderValue::from_str(&reset).expect("digits"),
        );
        response
    } else {
        window.count += 1;
        window.served += 1;
        json_bytes(StatusCode::OK, bodies.zendesk_user.clone())
    };
    let remaining = limit - window.count;
    drop(windows);
    for (name, value) in [
        ("ratelimit-limit", limit.to_string()),
        ("ratelimit-remaining", remaining.to_string()),
        ("ratelimit-reset", reset),
    ] {
        response.headers_mut().insert(
            name,
            hyper::header::HeaderValue::from_str(&value).expect("digits"),
        );
    }
    response
}

fn query_value<'q>(query: &'q str, names: &[&str]) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| names.contains(k))
        .map(|(_, v)| v)
}

fn json(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    json_bytes(status, Bytes::from_static(body.as_bytes()))
}

fn json_bytes(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// The server child process, ended when this is dropped.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Server {
    /// Starts `bench serve` (this executable) and waits for its address.
    pub fn start() -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the server: {e}"))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("server: no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("server: {e}"))?;
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("server printed {line:?} instead of its address"))?;
        Ok(Self { addr, child, stdin })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Closing stdin makes the server exit; kill it (by its own pid) if it did not.
        drop(self.stdin.take());
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
