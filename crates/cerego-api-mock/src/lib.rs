#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

#[allow(missing_docs, clippy::all, unused_imports)]
mod generated;

use api_mock::MockServer;

pub use api_mock::{Script, TypedThen, TypedWhen, httpmock};
pub use generated::{MockServerExt, operations};

/// The client crate this crate mocks, for code that reaches it only through the facade
/// (`user_apis::cerego`): `cerego_api_mock::types::…` names the same types.
pub use cerego_api;
/// The client's types (`cerego_api::types`), for building answers.
pub use cerego_api::types;

/// What a test needs in scope: the server, scripted replies, the scenario and typed-mock
/// methods (their traits are also imported unnamed), and the typed matchers as `operations` and
/// `cerego_operations`.
///
/// Cerego's prelude imports together with either of the others: each crate's methods stay
/// in scope. `operations` then names two modules: use `cerego_operations` (or
/// `cerego_api_mock::operations`), and `cerego_api_mock::client(&server)` for the client.
/// (Zendesk's and SendAuth's mock methods share names, `list_users` …: import one of those
/// two preludes per module.)
pub mod prelude {
    pub use crate::{
        MockServerExt as CeregoMockServerExt, operations, operations as cerego_operations,
    };
    // `MockServerExt` under a name of its own, so that this prelude and another mock
    // crate's import together without a clash; unnamed too, to keep the methods in scope.
    pub use crate::MockServerExt as _;
    pub use api_mock::{Mock, MockServer, Reply, Scenarios, Script, TypedThen, TypedWhen};
}

/// The API key [`client`] authenticates with (`Authorization: Bearer <key>`).
pub const MOCK_API_KEY: &str = "mock-api-key";

/// A `cerego_api::Client` for `server`: [`MOCK_API_KEY`], the server's base URL, and the
/// default retry policy with a 1 ms first backoff, so a scripted 5xx does not wait out the
/// production backoff (a `Retry-After` is still honoured).
pub fn client(server: &MockServer) -> cerego_api::Client {
    api_mock::client(
        server,
        cerego_api::api_key_credentials(MOCK_API_KEY),
        cerego_api::Client::with_config,
    )
}
