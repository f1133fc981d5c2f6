//! Shared test support for the workspace tests in `tests/tests/`: the specs as data, a client
//! per service, the catalogue of every operation called with valid inputs, and a recorder
//! that turns a captured request into a snapshot; for the fault tests, a fault-injection
//! server and a tracing capture; an OpenTelemetry pipeline with in-memory exporters; the
//! corpus of realistic responses; for the fleet tests, a real Redis, a window shared by
//! several processes and the worker processes.

pub mod capture;
pub mod catalogue;
pub mod clients;
pub mod corpus;
pub mod decoders;
pub mod fault_server;
pub mod fleet;
pub mod otel;
#[path = "../../xtask/src/path_template.rs"]
pub mod path_template;
pub mod recorder;
pub mod schemas;
pub mod specs;

pub use catalogue::{Operation, catalogue};
pub use clients::{Clients, secrets};
