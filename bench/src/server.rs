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
//!
//! Bodies are built once; a page is the shared users array with its own cursor around it.
//! A request without `Authorization` gets 401, so every client is checked to send one.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;

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
