//! The project's Node tools: Prism (`cargo xtask contract`), Redocly CLI (`cargo xtask lint`)
//! and Optic (`cargo xtask review`).
//!
//! Their exact versions are pinned in the committed `package.json` and `package-lock.json` at
//! the workspace root. On first use xtask copies both into `.tools/node/` (git-ignored) and runs
//! `npm ci` there: nothing is installed globally and nothing is done by hand; only `node` and
//! `npm` must be on `PATH` and the npm registry reachable. A stamp file records the sha256 of
//! the manifest, the lockfile and `node --version`; while it matches and the tools are there,
//! nothing is run again. A lock file keeps two concurrent xtask runs from installing at once.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

/// Where the tools are installed, relative to the workspace root.
const INSTALL_DIR: &str = ".tools/node";
/// The executables xtask runs, from `node_modules/.bin`.
const BINS: &[&str] = &["optic", "prism", "redocly"];
/// A lock older than this is left over from a killed run.
const STALE_LOCK: Duration = Duration::from_secs(15 * 60);

/// The installed tools.
pub(crate) struct NodeTools {
    dir: PathBuf,
}

impl NodeTools {
    /// A command running `node_modules/.bin/<name>`, with the tools' phone-home features off.
    pub(crate) fn command(&self, name: &str) -> Command {
        let mut command = Command::new(self.dir.join("node_modules/.bin").join(name));
        command
            // Redocly CLI sends usage telemetry and checks for updates unless told not to.
            .env("REDOCLY_TELEMETRY", "off")
            .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
            // Optic reports usage (Segment) and crashes (Sentry) unless told not to.
            .env("OPTIC_TELEMETRY_LEVEL", "off")
            .env("SCARF_ANALYTICS", "false")
            .env("NO_UPDATE_NOTIFIER", "1");
        command
    }
}

/// Installs the tools if the stamp does not match, and returns them.
pub(crate) fn ensure() -> Result<NodeTools, String> {
    let root = crate::workspace::root();
    let dir = root.join(INSTALL_DIR);
    let manifest = read(&root.join("package.json"))?;
    let lockfile = read(&root.join("package-lock.json"))?;
    let node_version = tool_version("node")?;
    let mut hasher = Sha256::new();
    for part in [&manifest[..], &lockfile[..], node_version.as_bytes()] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let hash = crate::workspace::hex(&hasher.finalize());
    let tools = NodeTools { dir: dir.clone() };
    let stamp = dir.join(".installed");
    if is_installed(&dir, &stamp, &hash) {
        return Ok(tools);
    }

    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let _lock = InstallLock::acquire(&root.join(".tools/node.lock"))?;
    // Another run may have installed them while this one waited for the lock.
    if is_installed(&dir, &stamp, &hash) {
        return Ok(tools);
    }
    let npm_version = tool_version("npm")?;
    println!(
        "installing the Node tools pinned in package-lock.json (Prism, Redocly CLI, Optic) into \
         {INSTALL_DIR} with npm {npm_version} and node {node_version}…"
    );
    let started = Instant::now();
    let _ = fs::remove_file(&stamp);
    fs::write(dir.join("package.json"), &manifest).map_err(|e| e.to_string())?;
    fs::write(dir.join("package-lock.json"), &lockfile).map_err(|e| e.to_string())?;
    // `npm ci` installs exactly the lockfile (and fails if it disagrees with package.json).
    // No install scripts: none of these packages needs one to work.
    let output = Command::new("npm")
        .args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(&dir)
        .env("npm_config_update_notifier", "false")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`npm ci` in {INSTALL_DIR} failed ({}); is the npm registry reachable?\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    for bin in BINS {
        let path = dir.join("node_modules/.bin").join(bin);
        if !path.exists() {
            return Err(format!(
                "`npm ci` succeeded but {} is missing",
                path.display()
            ));
        }
    }
    fs::write(&stamp, &hash).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    println!(
        "installed the Node tools into {INSTALL_DIR} in {:.1?}",
        started.elapsed()
    );
    Ok(tools)
}

fn is_installed(dir: &Path, stamp: &Path, hash: &str) -> bool {
    fs::read_to_string(stamp).is_ok_and(|s| s == hash)
        && BINS
            .iter()
            .all(|bin| dir.join("node_modules/.bin").join(bin).exists())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// `<tool> --version`, or an error that says what to install.
fn tool_version(tool: &str) -> Result<String, String> {
    let output = Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "`{tool}` is needed to install Prism, Redocly CLI and Optic (cargo xtask \
                 lint / contract / review) and could not be run: {e}. Install Node.js 20.19 or later with npm."
            )
        })?;
    if !output.status.success() {
        return Err(format!("`{tool} --version` failed ({})", output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// An exclusive lock held while installing: a file created with `create_new`, removed on drop.
struct InstallLock {
    path: PathBuf,
}

impl InstallLock {
    fn acquire(path: &Path) -> Result<Self, String> {
        let started = Instant::now();
        let mut told = false;
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(_) => {
                    return Ok(Self {
                        path: path.to_path_buf(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok())
                        .unwrap_or_default();
                    if age > STALE_LOCK {
                        let _ = fs::remove_file(path);
                        continue;
                    }
                    if started.elapsed() > STALE_LOCK {
                        return Err(format!(
                            "another run has held {} for too long; remove it if no xtask is running",
                            path.display()
                        ));
                    }
                    if !told {
                        println!("waiting for another run to finish installing the Node tools…");
                        told = true;
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
            }
        }
    }
}

impl Drop for InstallLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
