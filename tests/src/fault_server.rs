//! A fault-injection HTTP/1.1 server on loopback, written on raw TCP with tokio so that it can
//! misbehave in ways a well-behaved server library never would: close in the middle of the
//! headers or of the body, stall after the headers, trickle a body, send far more than any
//! real page, break chunked encoding, send broken or non-UTF-8 JSON, redirect elsewhere.
//!
//! Each request is answered with the [`Fault`] a responder picks for it (from the request and
//! its index), and the server counts what it saw: connections accepted, connections open at
//! once (and the most ever open), requests received in full, and every request as read off
//! the wire ([`Received`]), so a test can assert how many attempts reached it and what they
//! carried.
//!
//! ```no_run
//! # async fn demo() {
//! use tests::fault_server::{Fault, FaultServer};
//! // The first request gets a 503 with `Retry-After: 0`, every later one a JSON user.
//! let server = FaultServer::script(vec![
//!     Fault::retry_after(503, "0"),
//!     Fault::json(200, &serde_json::json!({"user": {"id": 1, "name": "Ada"}})),
//! ])
//! .await;
//! // … point a client at server.url() …
//! assert_eq!(server.requests(), 2);
//! # }
//! ```

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use user_apis::runtime::reqwest;

/// The largest request head the server reads; a longer one ends the connection.
const MAX_HEAD: usize = 64 * 1024;

/// The size of each write of a large body.
const WRITE_CHUNK: usize = 64 * 1024;

/// A request as the server read it off the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The method, as sent.
    pub method: String,
    /// The request target, as sent: path and query, still percent-encoded.
    pub target: String,
    /// The headers in the order sent; names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked if it came chunked).
    pub body: Vec<u8>,
}

impl Received {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path part of the target, still percent-encoded.
    pub fn path(&self) -> &str {
        self.target.split(['?', '#']).next().unwrap_or("")
    }

    /// The query part of the target, if any, still percent-encoded.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// The query as decoded `(name, value)` pairs, in sent order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let url = format!("http://h{}", self.target);
        match reqwest::Url::parse(&url) {
            Ok(url) => url.query_pairs().into_owned().collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// How a large body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length` announces the full (large) size.
    ContentLength,
    /// `Transfer-Encoding: chunked`, no size announced.
    Chunked,
    /// Neither: the body runs until the server closes the connection.
    CloseDelimited,
}

/// What the server does in answer to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A complete, well-framed response (`Content-Length`); the connection stays open for the
    /// next request.
    Reply {
        /// The status code.
        status: u16,
        /// Headers besides `Content-Length`.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// These bytes as they are, then the connection is closed.
    Raw(Vec<u8>),
    /// Half a status line and header block, then the connection is closed.
    CloseDuringHeaders,
    /// A 200 announcing a JSON body of 1,000 bytes, 20 of them, then the connection is closed.
    CloseMidBody,
    /// A 200 announcing a body of 1,000 bytes, then nothing until the client goes away.
    StallAfterHeaders,
    /// A 200 whose body (`total` bytes, announced) arrives `chunk` bytes every `every`.
    Trickle {
        /// Bytes per write.
        chunk: usize,
        /// The pause before each write.
        every: Duration,
        /// The body's size.
        total: usize,
    },
    /// A 200 (or `status`) with a body of `len` bytes, far larger than any real page, framed
    /// as `framing`; written until the client stops reading.
    Huge {
        /// The status code.
        status: u16,
        /// The body's size.
        len: u64,
        /// How the body is delimited.
        framing: Framing,
    },
    /// A chunked 200 whose second chunk has a size line that is not hexadecimal.
    BrokenChunked,
}

impl Fault {
    /// A complete response with a content type.
    pub fn reply(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self::Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::reply(status, "application/json", value.to_string())
    }

    /// A response without a body (`Content-Length: 0`).
    pub fn empty(status: u16) -> Self {
        Self::Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The HTML page a proxy answers with when the service behind it is down.
    pub fn html_502() -> Self {
        Self::reply(
            502,
            "text/html",
            "<html><head><title>502 Bad Gateway</title></head>\
             <body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
        )
    }

    /// A plain-text `status` (429 or 503) with `Retry-After: after`.
    pub fn retry_after(status: u16, after: &str) -> Self {
        Self::Reply {
            status,
            headers: vec![
                ("content-type".into(), "text/plain".into()),
                ("retry-after".into(), after.into()),
            ],
            body: b"slow down".to_vec(),
        }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Self::Reply {
            status,
            headers: vec![("location".into(), location.into())],
            body: Vec::new(),
        }
    }

    /// A complete response whose JSON body is syntactically broken.
    pub fn malformed_json(status: u16) -> Self {
        Self::reply(
            status,
            "application/json",
            r#"{"user": {"id": 35436,, "name": "Roger" ]"#,
        )
    }

    /// A complete response whose JSON body stops half-way (the HTTP framing is intact).
    pub fn truncated_json(status: u16) -> Self {
        Self::reply(
            status,
            "application/json",
            r#"{"user": {"id": 35436, "name": "Rog"#,
        )
    }

    /// A complete response whose JSON body has a string that is not UTF-8.
    pub fn invalid_utf8(status: u16) -> Self {
        let mut body = br#"{"user": {"id": 35436, "name": ""#.to_vec();
        body.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
        body.extend_from_slice(br#""}}"#);
        Self::reply(status, "application/json", body)
    }
}

/// Picks the answer to a request, from the request and its index (0 for the first request
/// the server received, across all connections).
pub type Responder = Arc<dyn Fn(&Received, usize) -> Fault + Send + Sync>;

/// A connection's byte stream: plain TCP, or TLS over it.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Turns an accepted TCP connection into the stream requests are read from (a TLS
/// handshake, say). An error ends the connection without a request.
pub type Wrap = Arc<dyn Fn(TcpStream) -> BoxFuture<'static, io::Result<Box<dyn Io>>> + Send + Sync>;

#[derive(Default)]
struct Counters {
    connections: AtomicUsize,
    open: AtomicUsize,
    max_open: AtomicUsize,
    requests: AtomicUsize,
    received: Mutex<Vec<Received>>,
}

struct Shared {
    counters: Counters,
    respond: Responder,
}

/// Decrements the open-connection count however the connection task ends.
struct OpenGuard(Arc<Shared>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.counters.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running fault-injection server. Dropping it stops it and closes its connections;
/// [`shutdown`](Self::shutdown) does the same and waits until every socket is closed.
pub struct FaultServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for FaultServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultServer")
            .field("addr", &self.addr)
            .field("connections", &self.connections())
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

impl FaultServer {
    /// A server on `127.0.0.1` (a free port) answering each request with `respond`.
    pub async fn start(
        respond: impl Fn(&Received, usize) -> Fault + Send + Sync + 'static,
    ) -> Self {
        Self::start_with(IpAddr::V4(Ipv4Addr::LOCALHOST), None, Arc::new(respond)).await
    }

    /// A server answering every request with `fault`.
    pub async fn always(fault: Fault) -> Self {
        Self::start(move |_, _| fault.clone()).await
    }

    /// A server answering request `i` with `faults[i]`, and every request after the last
    /// with the last one.
    ///
    /// # Panics
    ///
    /// If `faults` is empty.
    pub async fn script(faults: Vec<Fault>) -> Self {
        assert!(!faults.is_empty(), "a script needs at least one fault");
        Self::start(move |_, i| faults[i.min(faults.len() - 1)].clone()).await
    }

    /// A server on `ip` (any loopback address), with each accepted connection passed through
    /// `wrap` first (for TLS).
    ///
    /// # Panics
    ///
    /// If no port can be bound on `ip`.
    pub async fn start_with(ip: IpAddr, wrap: Option<Wrap>, respond: Responder) -> Self {
        let listener = TcpListener::bind(SocketAddr::new(ip, 0))
            .await
            .unwrap_or_else(|e| panic!("cannot bind a loopback port on {ip}: {e}"));
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            respond,
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared.clone(), wrap, stopped));
        Self {
            addr,
            shared,
            stop,
            task: Some(task),
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}`, a base URL for a client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.counters.connections.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.shared.counters.open.load(Ordering::SeqCst)
    }

    /// The most connections that were ever open at once.
    pub fn max_open_connections(&self) -> usize {
        self.shared.counters.max_open.load(Ordering::SeqCst)
    }

    /// Requests received in full (head and body) so far.
    pub fn requests(&self) -> usize {
        self.shared.counters.requests.load(Ordering::SeqCst)
    }

    /// Every request received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.shared
            .counters
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Stops accepting, closes every connection and waits until all are closed.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    wrap: Option<Wrap>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let counters = &shared.counters;
                counters.connections.fetch_add(1, Ordering::SeqCst);
                let open = counters.open.fetch_add(1, Ordering::SeqCst) + 1;
                counters.max_open.fetch_max(open, Ordering::SeqCst);
                let guard = OpenGuard(shared.clone());
                let shared = shared.clone();
                let wrap = wrap.clone();
                connections.spawn(async move {
                    let _guard = guard;
                    let _ = tcp.set_nodelay(true);
                    let io: Box<dyn Io> = match wrap {
                        Some(wrap) => match wrap(tcp).await {
                            Ok(io) => io,
                            Err(_) => return,
                        },
                        None => Box::new(tcp),
                    };
                    serve(io, &shared).await;
                });
            }
            // Reap finished connection tasks so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// Whether the connection can carry another request.
enum Next {
    KeepAlive,
    Close,
}

async fn serve(mut io: Box<dyn Io>, shared: &Shared) {
    let mut buf = Vec::with_capacity(8192);
    loop {
        let Some(request) = read_request(&mut io, &mut buf).await else {
            return;
        };
        let index = shared.counters.requests.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut received) = shared.counters.received.lock() {
            received.push(request.clone());
        }
        let fault = (shared.respond)(&request, index);
        let head_only = request.method == "HEAD";
        match answer(&mut io, fault, head_only).await {
            Ok(Next::KeepAlive) => continue,
            Ok(Next::Close) | Err(_) => {
                let _ = io.shutdown().await;
                return;
            }
        }
    }
}

/// Reads one request; `None` when the client closed the connection or sent garbage.
async fn read_request(io: &mut Box<dyn Io>, buf: &mut Vec<u8>) -> Option<Received> {
    let head_end = loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            break end;
        }
        if buf.len() > MAX_HEAD || !fill(io, buf).await {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.splitn(3, ' ');
    let method = request_line.next()?.to_string();
    let target = request_line.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut request = Received {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    if request
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"))
    {
        request.body = read_chunked(io, buf).await?;
    } else {
        let len: usize = request
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < len {
            if !fill(io, buf).await {
                return None;
            }
        }
        request.body = buf.drain(..len).collect();
    }
    Some(request)
}

async fn read_chunked(io: &mut Box<dyn Io>, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(end) = find(buf, b"\r\n") {
                break end;
            }
            if !fill(io, buf).await {
                return None;
            }
        };
        let line = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        buf.drain(..line_end + 2);
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        while buf.len() < size + 2 {
            if !fill(io, buf).await {
                return None;
            }
        }
        body.extend(buf.drain(..size));
        buf.drain(..2);
        if size == 0 {
            return Some(body);
        }
    }
}

/// Reads more bytes into `buf`; false at end of stream or on error.
async fn fill(io: &mut Box<dyn Io>, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8192];
    match io.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn status_line(status: u16) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Whatever");
    format!("HTTP/1.1 {status} {reason}\r\n")
}

async fn answer(io: &mut Box<dyn Io>, fault: Fault, head_only: bool) -> io::Result<Next> {
    match fault {
        Fault::Reply {
            status,
            headers,
            body,
        } => {
            let mut out = status_line(status);
            for (name, value) in &headers {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
            out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
            let mut bytes = out.into_bytes();
            if !head_only {
                bytes.extend_from_slice(&body);
            }
            io.write_all(&bytes).await?;
            io.flush().await?;
            Ok(Next::KeepAlive)
        }
        Fault::Raw(bytes) => {
            io.write_all(&bytes).await?;
            io.flush().await?;
            Ok(Next::Close)
        }
        Fault::CloseDuringHeaders => {
            io.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: applica")
                .await?;
            io.flush().await?;
            Ok(Next::Close)
        }
        Fault::CloseMidBody => {
            io.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n\
                  {\"user\": {\"id\": 354",
            )
            .await?;
            io.flush().await?;
            Ok(Next::Close)
        }
        Fault::StallAfterHeaders => {
            io.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n",
            )
            .await?;
            io.flush().await?;
            // Nothing more, until the client gives up and closes (or the server stops).
            let mut sink = [0u8; 1024];
            while matches!(io.read(&mut sink).await, Ok(n) if n > 0) {}
            Ok(Next::Close)
        }
        Fault::Trickle {
            chunk,
            every,
            total,
        } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {total}\r\n\r\n"
            );
            io.write_all(head.as_bytes()).await?;
            io.flush().await?;
            let mut sent = 0;
            while sent < total {
                tokio::time::sleep(every).await;
                let n = chunk.max(1).min(total - sent);
                io.write_all(&vec![b' '; n]).await?;
                io.flush().await?;
                sent += n;
            }
            Ok(Next::Close)
        }
        Fault::Huge {
            status,
            len,
            framing,
        } => {
            let mut head = status_line(status);
            head.push_str("content-type: application/json\r\n");
            match framing {
                Framing::ContentLength => head.push_str(&format!("content-length: {len}\r\n")),
                Framing::Chunked => head.push_str("transfer-encoding: chunked\r\n"),
                Framing::CloseDelimited => head.push_str("connection: close\r\n"),
            }
            head.push_str("\r\n");
            io.write_all(head.as_bytes()).await?;
            let mut opening = vec![b'a'; WRITE_CHUNK];
            opening[..9].copy_from_slice(b"{\"pad\": \"");
            let filler = vec![b'a'; WRITE_CHUNK];
            let mut left = len;
            let mut first = true;
            while left > 0 {
                let n = usize::try_from(left.min(WRITE_CHUNK as u64)).unwrap_or(WRITE_CHUNK);
                let data = if first { &opening[..n] } else { &filler[..n] };
                first = false;
                if framing == Framing::Chunked {
                    io.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                    io.write_all(data).await?;
                    io.write_all(b"\r\n").await?;
                } else {
                    io.write_all(data).await?;
                }
                left -= n as u64;
            }
            if framing == Framing::Chunked {
                io.write_all(b"0\r\n\r\n").await?;
            }
            io.flush().await?;
            Ok(Next::Close)
        }
        Fault::BrokenChunked => {
            io.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n\
                  9\r\n{\"user\": \r\nzz\r\n{\"id\": 1}}\r\n0\r\n\r\n",
            )
            .await?;
            io.flush().await?;
            Ok(Next::Close)
        }
    }
}
