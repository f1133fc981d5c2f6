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
