//! The hand-written runtime shared by the user-apis clients (`zendesk-api`, `cerego-api`,
//! `sendauth-api`).
//!
//! Users meet it through the clients, which re-export what they need:
//!
//! - [`ApiError`]: the one error every call fails with, whichever way it runs (`.send()`, a
//!   pagination stream, a bulk helper), and [`ErrorKind`] to branch on.
//! - [`Credentials`], [`ClientConfig`], [`RetryPolicy`], [`Timeouts`] and [`RateLimits`] to
//!   build a client, and [`ConfigError`] when that fails; with the feature `redis`,
//!   `RedisStore` to share a rate-limit budget across processes.
//! - [`UnknownValue`]: what an open enum keeps of a value the client does not know.
//! - [`install_crypto_provider`]: call it before building a `reqwest::Client` of your own
//!   for [`ClientConfig::http_client`].
//!
//! Items hidden from these docs (the runtime the generated code calls, the operation table,
//! pagination and enum helpers, macros) serve the client crates and are not part of the
//! public API: they may change in any release.

mod client;
mod client_credentials;
mod config;
mod credentials;
#[doc(hidden)]
pub mod decode;
mod decode_error;
mod error;
mod guard;
mod lenient;
mod open_enum;
mod operation;
mod optional;
mod pacing;
#[doc(hidden)]
pub mod paginate;
mod range;
mod resume;
mod retry;
mod runtime;
mod telemetry;
mod time;
mod timeouts;
mod tls;
mod token;

pub use client_credentials::{ClientCredentials, DEFAULT_TOKEN_LIFETIME};
#[doc(hidden)]
pub use config::ServiceInfo;
pub use config::{ClientConfig, DEFAULT_MAX_BODY_BYTES};
pub use credentials::{Credentials, Scheme};
pub use error::{ApiError, ConfigError, ErrorKind};
pub use open_enum::UnknownValue;
#[doc(hidden)]
pub use operation::OperationSpec;
pub use optional::OptionalValue;
#[doc(hidden)]
pub use pacing::Budget;
#[cfg(feature = "redis")]
pub use pacing::{DEFAULT_KEY_PREFIX, DEFAULT_REDIS_TIMEOUT, RedisStore};
pub use pacing::{MAX_LEARNED_WAIT, RateLimits};
pub use paginate::{Listing, Resumed};
pub use resume::ResumePosition;
pub use retry::RetryPolicy;
#[doc(hidden)]
pub use runtime::Runtime;
pub use time::{Clock, ManualClock};
pub use timeouts::Timeouts;
pub use tls::install_crypto_provider;
pub use token::{
    AccessToken, MIN_RENEWAL_MARGIN, RenewalReason, TokenProvider, TokenRequest, oauth_refusal,
    renewal_margin,
};

/// Re-exported so that users name the same version as the clients (for
/// [`ClientConfig::add_root_certificate`] and [`ClientConfig::http_client`]).
pub use reqwest;

/// Re-exported (feature `metrics`) so that users name the same version as the clients (for
/// [`ClientConfig::meter_provider`]).
#[cfg(feature = "metrics")]
pub use opentelemetry;
/// The README's examples (the section "Many workers, one account"), compiled as doctests.
#[cfg(all(doctest, feature = "redis"))]
#[doc = include_str!("../README.md")]
pub struct Readme;

/// What the generated code and the client crates' macros need. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::open_enum::deserialize as deserialize_open_enum;
    pub use crate::range::{WholeNumber, within};
    /// Field deserializers of the generated models (`xtask/src/lenient.rs` adds them).
    pub mod de {
        pub use crate::lenient::*;
    }
    pub use progenitor_client;
    pub use schemars;
    pub use serde;
}
