//! The workspace's integration tests, one module per file of this directory, linked into one
//! test binary: each binary of its own would link the clients, tokio, rustls and the test
//! servers again (TESTING.md, "Where the time goes"). `load.rs` stays a binary of its own: it
//! counts the process's file descriptors, which tests running beside it would disturb.
//!
//! One file's tests: `cargo test -p tests --test integration <module>::` (e.g. `faults::`).

mod contract;
mod corpus;
mod decoders;
mod errors;
mod examples;
mod faults;
mod fleet;
mod forward_compat;
mod incremental;
mod mock_preludes;
mod oauth;
mod pacing;
mod pagination;
mod proxy;
mod readme;
mod reliability;
mod requests;
mod resume;
mod runtime;
mod security;
mod structure;
mod telemetry;

/// Every `.rs` file of this directory runs: a module above, or `load.rs`, a test binary of its
/// own in `Cargo.toml` (with `autotests = false`, cargo compiles no file it is not told of, so
/// a new file in neither place would never run).
#[test]
fn every_test_file_is_compiled() {
    let dir = tests::specs::root().join("tests/tests");
    let modules = include_str!("integration.rs");
    let manifest = std::fs::read_to_string(tests::specs::root().join("tests/Cargo.toml"))
        .expect("tests/Cargo.toml");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/tests") {
        let path = entry.expect("an entry").path();
        let (Some(stem), Some("rs")) = (
            path.file_stem().and_then(|s| s.to_str()),
            path.extension().and_then(|e| e.to_str()),
        ) else {
            continue;
        };
        let as_module = modules.lines().any(|l| l == format!("mod {stem};"));
        let as_binary = manifest.contains(&format!("path = \"tests/{stem}.rs\""));
        if !as_module && !as_binary {
            missing.push(stem.to_string());
        }
    }
    assert!(missing.is_empty(), "never compiled: {missing:?}");
}
