#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

#[allow(missing_docs, clippy::all, unused_imports)]
mod generated;

use api_mock::MockServer;

pub use api_mock::{Script, TypedThen, TypedWhen, httpmock};
pub use generated::{MockServerExt, PageScenarios, operations};

/// The client crate this crate mocks, for code that reaches it only through the facade
/// (`user_apis::sendauth`): `sendauth_api_mock::types::…` names the same types.
pub use sendauth_api;
/// The client's types (`sendauth_api::types`), for building answers.
pub use sendauth_api::types;

/// What a test needs in scope: the server, scripted replies, the scenario and typed-mock
/// methods (their traits are also imported unnamed), and the typed matchers as `operations` and
/// `sendauth_operations`.
///
/// Cerego's prelude imports together with either of the others: each crate's methods stay
/// in scope. `operations` then names two modules: use `sendauth_operations` (or
/// `sendauth_api_mock::operations`), and `sendauth_api_mock::client(&server)` for the client.
/// (Zendesk's and SendAuth's mock methods share names, `list_users` …: import one of those
/// two preludes per module.)
pub mod prelude {
    pub use crate::{
        MockServerExt, MockServerExt as SendAuthMockServerExt, PageScenarios,
        PageScenarios as SendAuthPageScenarios, operations, operations as sendauth_operations,
    };
    // Unnamed too: the methods stay in scope whatever else is glob-imported.
    pub use crate::{MockServerExt as _, PageScenarios as _};
    pub use api_mock::{Mock, MockServer, Reply, Scenarios, Script, TypedThen, TypedWhen};
}

/// The user name [`client`] authenticates with (HTTP Basic).
pub const MOCK_USERNAME: &str = "mock-user";
/// The password [`client`] authenticates with (HTTP Basic).
pub const MOCK_PASSWORD: &str = "mock-password";

/// A `sendauth_api::Client` for `server`: HTTP Basic with [`MOCK_USERNAME`] and
/// [`MOCK_PASSWORD`], the server's base URL, and the default retry policy with a 1 ms first
/// backoff, so a scripted 5xx does not wait out the production backoff (a `Retry-After` is
/// still honoured).
pub fn client(server: &MockServer) -> sendauth_api::Client {
    api_mock::client(
        server,
        sendauth_api::Credentials::basic(MOCK_USERNAME, MOCK_PASSWORD),
        sendauth_api::Client::with_config,
    )
}
