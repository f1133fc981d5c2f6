//! `cargo xtask contract`: every operation of every client against Prism.
//!
//! Starts one `prism mock` per spec, in parallel, on a free loopback port (127.0.0.1 only) with
//! request validation on and `--errors` (an invalid request gets a 422, never a success), waits
//! until each answers, then runs `cargo test --workspace --test integration -- contract:: --ignored` with
//! `CONTRACT_URL_<SERVICE>` and `CONTRACT_SPEC_<SERVICE>` set. What the tests check is in
//! `tests/tests/contract.rs`. The servers are stopped on every path (a `Drop` guard kills
//! them, also when a test fails or xtask panics); Prism's logs are kept when something fails.
//!
//! `CONTRACT_SPEC_<SERVICE>=path/to/spec.yaml` makes Prism serve another spec for that service
//! (a vendor's, say); the operations it lacks are reported as skipped by name, and that spec's
//! own examples are checked against its own schemas first (Redocly CLI), so that the tests can
//! tell the served spec's problems from the client's.
//!
//! Prism serves the spec with the response corpus (`tests/corpus/`) added as named examples
//! (see `served_spec.rs`); `CONTRACT_CORPUS_<SERVICE>` names the manifest of what was added.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::node_tools::NodeTools;

/// How long Prism may take to load a spec and listen.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("contract: unknown argument `{arg}`"));
    }
    let services = crate::workspace::services(None)?;
    let tools = crate::node_tools::ensure()?;
    let logs = std::env::temp_dir().join(format!("user-apis-contract-{}", std::process::id()));
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;

    let started = Instant::now();
    let mut specs = Vec::new();
    let mut env = Vec::new();
    for service in &services {
        let served = spec_for(&service.name, &service.spec_path)?;
        let key = service.name.to_uppercase();
        if served != service.spec_path {
            let (problems, count) =
                crate::served_spec::example_problems(&tools, &service.name, &served, &logs)?;
            println!(
                "{}: {count} example(s) of {} break their own schema (Redocly CLI)",
                service.name,
                display(&served)
            );
            env.push((
                format!("CONTRACT_EXAMPLE_PROBLEMS_{key}"),
                problems.to_string_lossy().into_owned(),
            ));
        }
        let with_corpus =
            crate::served_spec::with_corpus(&service.name, &served, &service.spec_path, &logs)?;
        println!(
            "{}: {} corpus bodies added to the served spec as examples{}",
            service.name,
            with_corpus.added,
            with_corpus
                .not_added
                .iter()
                .map(|n| format!("\n  not added: {n}"))
                .collect::<String>()
        );
        env.push((
            format!("CONTRACT_CORPUS_{key}"),
            with_corpus.manifest.to_string_lossy().into_owned(),
        ));
        env.push((
            format!("CONTRACT_SPEC_{key}"),
            served.to_string_lossy().into_owned(),
        ));
        specs.push((service.name.clone(), with_corpus.spec));
    }
    // Start every server first, then wait for each: they load their specs in parallel.
    let mut servers = Vec::new();
    for (name, spec) in &specs {
        servers.push(Prism::spawn(&tools, name, spec, &logs)?);
    }
    for server in &mut servers {
        server.wait_ready(&tools, READY_TIMEOUT)?;
    }
    println!(
        "prism ready in {:.1?}: {}",
        started.elapsed(),
        servers
            .iter()
            .map(|s| format!("{} http://{} ({})", s.service, s.addr, display(&s.spec)))
            .collect::<Vec<_>>()
            .join(", ")
    );

    for server in &servers {
        let key = server.service.to_uppercase();
        env.push((
            format!("CONTRACT_URL_{key}"),
            format!("http://{}", server.addr),
        ));
    }
    // The failures name the operation and what Prism said; a backtrace would only bury that.
    env.push(("RUST_BACKTRACE".to_string(), "0".to_string()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let result = crate::process::integration_tests(
        &["contract::", "--ignored", "--nocapture", "--test-threads=8"],
        &env,
    );
    // Stop the servers before reporting (the guard would, too).
    drop(servers);
    match result {
        Ok(()) => {
            let _ = std::fs::remove_dir_all(&logs);
            Ok(())
        }
        Err(e) => Err(format!(
            "{e}\nPrism's logs (one line per request, with its validation messages) are in {}",
            logs.display()
        )),
    }
}

/// The spec Prism serves for `service`: `CONTRACT_SPEC_<SERVICE>`, relative to the current
/// directory, or the project's own.
fn spec_for(service: &str, own: &Path) -> Result<PathBuf, String> {
    let key = format!("CONTRACT_SPEC_{}", service.to_uppercase());
    let Some(path) = std::env::var_os(&key) else {
        return Ok(own.to_path_buf());
    };
    let path = PathBuf::from(path);
    let path = std::fs::canonicalize(&path)
        .map_err(|e| format!("{key}={}: cannot read it: {e}", path.display()))?;
    println!("{service}: Prism serves {} ({key})", path.display());
    Ok(path)
}

fn display(path: &Path) -> String {
    let root = crate::workspace::root();
    path.strip_prefix(&root)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}

/// A running `prism mock`, killed when dropped.
struct Prism {
    service: String,
    spec: PathBuf,
    addr: SocketAddr,
    log: PathBuf,
    child: Child,
    attempts: u32,
}

impl Prism {
    fn spawn(tools: &NodeTools, service: &str, spec: &Path, logs: &Path) -> Result<Self, String> {
        let log = logs.join(format!("{service}.log"));
        let (addr, child) = start(tools, spec, &log)?;
        Ok(Self {
            service: service.to_string(),
            spec: spec.to_path_buf(),
            addr,
            log,
            child,
            attempts: 1,
        })
    }

    /// Waits until the server answers an HTTP request. If it exited because another process
    /// took its port in the meantime, starts it again on another one.
    fn wait_ready(&mut self, tools: &NodeTools, timeout: Duration) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if answers(self.addr) {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                if log.contains("EADDRINUSE") && self.attempts < 3 {
                    let (addr, child) = start(tools, &self.spec, &self.log)?;
                    self.addr = addr;
                    self.child = child;
                    self.attempts += 1;
                    continue;
                }
                return Err(format!(
                    "prism for {} ({}) exited with {status} before it listened:\n{}",
                    self.service,
                    display(&self.spec),
                    tail(&log, 40)
                ));
            }
            if started.elapsed() > timeout {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                return Err(format!(
                    "prism for {} did not answer on {} within {timeout:?}:\n{}",
                    self.service,
                    self.addr,
                    tail(&log, 40)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `prism mock` on a free loopback port, its output going to `log`.
fn start(tools: &NodeTools, spec: &Path, log: &Path) -> Result<(SocketAddr, Child), String> {
    let addr = free_port()?;
    let out = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let child = tools
        .command("prism")
        .arg("mock")
        .arg(spec)
        .args(["--host", "127.0.0.1", "--port", &addr.port().to_string()])
        // Violations are errors: an invalid request is answered 422 (or the spec's own 4xx
        // response with an `sl-violations` header), never with a success.
        .args(["--errors", "--multiprocess=false"])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start prism: {e}"))?;
    Ok((addr, child))
}

/// A loopback port nobody listens on now.
fn free_port() -> Result<SocketAddr, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// Whether an HTTP server on `addr` answers a request (any status).
fn answers(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /__ready HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
