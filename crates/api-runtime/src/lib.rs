//! The hand-written runtime shared by the user-apis clients (`zendesk-api`, `cerego-api`,
//! `sendauth-api`).
//!
//! Generated code stays generated; everything that makes it fit for production lives here,
//! once, and reaches each client through its `ClientHooks` impl and its constructor:
//!
//! - [`Credentials`]: Basic and Bearer, sensitive headers, redacted `Debug`.
//! - [`ClientConfig`]: base URL, [`RetryPolicy`], [`Timeouts`], body limit, TLS roots.
//! - [`Runtime`]: the `pre` / `exec` / `post` hooks: path guards, retries with backoff,
//!   jitter and `Retry-After`, per-attempt and whole-call timeouts, a tracing span per
//!   attempt, error bodies kept whatever their format.
//! - [`ApiError`]: one error type with status, headers, raw body, operation and kind.
//! - [`paginate`]: pagination as `futures::Stream`s that stop on a repeated cursor.

mod config;
mod credentials;
mod error;
mod guard;
mod hooks;
pub mod paginate;
mod runtime;
mod tls;

pub use config::{ClientConfig, DEFAULT_MAX_BODY_BYTES, RetryPolicy, Timeouts, validate_base_url};
pub use credentials::{Credentials, Scheme};
pub use error::{ApiError, ConfigError, ErrorKind, retry_after};
pub use guard::UnsafePathParameter;
pub use runtime::{BodyTooLarge, OperationSpec, ResponseContext, Runtime};

/// Re-exported so client crates and users name one version.
pub use progenitor_client;
pub use reqwest;
