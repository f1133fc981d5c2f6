//! The files a new service starts with: its client crate and its mock crate, but for what
//! `cargo xtask generate` writes (`generated.rs`, `OPERATIONS.md`).

use super::{Auth, NewService};

/// Every file to create, by its path under the workspace root.
pub(super) fn files(s: &NewService) -> Vec<(String, String)> {
    let name = &s.name;
    vec![
        (format!("crates/{name}-api/Cargo.toml"), client_manifest(s)),
        (format!("crates/{name}-api/README.md"), client_readme(s)),
        (format!("crates/{name}-api/src/lib.rs"), client_lib(s)),
        (format!("crates/{name}-api/src/auth.rs"), client_auth(s)),
        (
            format!("crates/{name}-api-mock/Cargo.toml"),
            mock_manifest(s),
        ),
        (format!("crates/{name}-api-mock/README.md"), mock_readme(s)),
        (format!("crates/{name}-api-mock/src/lib.rs"), mock_lib(s)),
    ]
}

/// `text` inside a TOML basic string.
fn toml_string(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The constructor of a scheme: its name, its parameters, what it sends, how it fails.
pub(super) struct Constructor {
    pub method: &'static str,
    pub params: &'static [&'static str],
    pub what: String,
    pub fails: &'static str,
}

pub(super) fn constructor(auth: &Auth) -> Constructor {
    let key_fails = "Fails if the key is empty or contains a control character.";
    match auth {
        Auth::Basic => Constructor {
            method: "with_basic_auth",
            params: &["username", "password"],
            what: "HTTP Basic credentials (`Authorization: Basic …`)".into(),
            fails: "Fails if a part is empty, contains a control character, or the username \
                    contains `:`.",
        },
        Auth::Bearer => Constructor {
            method: "with_bearer_token",
            params: &["token"],
            what: "a bearer token (`Authorization: Bearer <token>`)".into(),
            fails: "Fails if the token is empty or contains whitespace or a control character.",
        },
        Auth::ApiKeyHeader(name) => Constructor {
            method: "with_api_key",
            params: &["api_key"],
            what: format!("an API key (in the `{name}` header)"),
            fails: key_fails,
        },
        Auth::ApiKeyQuery(name) => Constructor {
            method: "with_query_api_key",
            params: &["query_key"],
            what: format!("an API key (in the `{name}` query parameter)"),
            fails: key_fails,
        },
        Auth::OAuth2ClientCredentials(token_url) => Constructor {
            method: "with_client_credentials",
            params: &["client_id", "client_secret", "scope"],
            what: format!(
                "OAuth 2.0 bearer tokens from the client-credentials grant at `{token_url}`, \
                 which the client obtains and renews itself (`scope` space-separated, empty for \
                 the server's default)"
            ),
            fails: "Fails if the client id or secret is empty or contains a control character, \
                    or the scope contains a control character.",
        },
    }
}

/// The scheme of the mocks' and the tests' clients for `auth`: the mock server answers the
/// API's operations, not a token endpoint, so a client-credentials service's mocks and tests
/// send a fixed bearer token.
pub(super) fn fixed_scheme(auth: &Auth) -> &Auth {
    static BEARER: Auth = Auth::Bearer;
    match auth {
        Auth::OAuth2ClientCredentials(_) => &BEARER,
        other => other,
    }
}

/// The `Credentials` expression of a scheme, `args` its parameters' values in order.
pub(super) fn credentials(auth: &Auth, args: &[&str]) -> String {
    let args = args.join(", ");
    match auth {
        Auth::Basic => format!("Credentials::basic({args})"),
        Auth::Bearer => format!("Credentials::bearer({args})"),
        Auth::ApiKeyHeader(name) => format!("Credentials::api_key_header({name:?}, {args})"),
        Auth::ApiKeyQuery(name) => format!("Credentials::api_key_query({name:?}, {args})"),
        Auth::OAuth2ClientCredentials(token_url) => {
            format!("Credentials::client_credentials({token_url:?}, {args})")
        }
    }
}

/// The `[package]` keys both crates take from the workspace.
const INHERITED: &str = "version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
repository.workspace = true
keywords.workspace = true
";

fn client_manifest(s: &NewService) -> String {
    format!(
        r#"[package]
name = "{name}-api"
description = "Typed async client for the {title}."
{inherited}categories.workspace = true
readme = "README.md"

[features]
## Metrics by OpenTelemetry's HTTP client conventions, into the application's meter provider
## (api-runtime's `metrics` feature).
metrics = ["api-runtime/metrics"]
## Share the rate-limit budget of an account through Redis (`RateLimits::with_redis`).
redis = ["api-runtime/redis"]

[dependencies]
api-runtime.workspace = true
progenitor-client.workspace = true
reqwest.workspace = true
serde.workspace = true
serde_json.workspace = true
schemars.workspace = true
chrono.workspace = true
uuid.workspace = true
futures.workspace = true

[dev-dependencies]
tokio = {{ workspace = true, features = ["rt-multi-thread"] }}

[lints]
workspace = true
"#,
        name = s.name,
        title = toml_string(&s.title),
        inherited = INHERITED,
    )
}

/// The example call of the README: the first constructor, credentials from the environment.
fn example_client(s: &NewService, krate: &str) -> String {
    let c = constructor(s.primary());
    let upper = s.name.to_uppercase();
    let args: Vec<String> = c
        .params
        .iter()
        .map(|p| format!("&std::env::var(\"{upper}_{}\")?", p.to_uppercase()))
        .collect();
    format!(
        "use {krate}::Client;\n\n\
         # fn main() -> Result<(), Box<dyn std::error::Error>> {{\n\
         let client = Client::{}({})?;\n\
         # let _ = client;\n\
         # Ok(())\n\
         # }}",
        c.method,
        args.join(", ")
    )
}

fn client_readme(s: &NewService) -> String {
    let constructors: Vec<String> = s
        .auth
        .iter()
        .map(|a| {
            let c = constructor(a);
            format!(
                "- `Client::{}({})`: {}.",
                c.method,
                c.params.join(", "),
                c.what
            )
        })
        .collect();
    format!(
        "# {name}-api\n\n\
         A typed async client for the {title}, generated from\n\
         [`specs/{name}.yaml`]({repo}/blob/main/specs/{name}.yaml). Every operation is listed in\n\
         [`OPERATIONS.md`]({repo}/blob/main/crates/{name}-api/OPERATIONS.md).\n\n\
         ```toml\n\
         [dependencies]\n\
         {name}-api = {{ git = \"{repo}\" }}\n\
         ```\n\n\
         ```no_run\n{example}\n```\n\n\
         {constructors}\n\n\
         Every client also has `Client::with_config(credentials, ClientConfig)`, for another base\n\
         URL, a retry policy, timeouts or a body limit; requests go to `{base}` by default.\n",
        name = s.name,
        title = s.title,
        repo = repository(),
        example = example_client(s, &s.ident),
        constructors = constructors.join("\n"),
        base = s.base_url,
    )
}

/// The workspace's `repository` URL, for the links of READMEs that are also rustdoc.
fn repository() -> String {
    let manifest = crate::workspace::root().join("Cargo.toml");
    std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("repository = \""))
                .and_then(|v| v.strip_suffix('"'))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "https://github.com/user-apis/user-apis".to_string())
}

fn client_lib(s: &NewService) -> String {
    format!(
        r#"#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;
#[allow(missing_docs, clippy::all)]
mod generated;

/// A rate-limit budget shared through Redis by every process of a fleet (feature `redis`).
#[cfg(feature = "redis")]
pub use api_runtime::RedisStore;
pub use api_runtime::{{
    ApiError, ClientConfig, Clock, ConfigError, Credentials, ErrorKind, Listing, ManualClock,
    OptionalValue, RateLimits, ResumePosition, Resumed, RetryPolicy, Timeouts, UnknownValue,
    install_crypto_provider, reqwest,
}};
/// The `chrono` crate, at the version the models use.
pub use chrono;
/// The `futures` crate, at the version the listings' streams use.
pub use futures;
pub use generated::*;
/// The `serde_json` crate, at the version the models use.
pub use serde_json;
/// The `uuid` crate, at the version the models use.
pub use uuid;

/// The production base URL of the {title}.
pub const DEFAULT_BASE_URL: &str = "{base}";
"#,
        title = s.title,
        base = s.base_url,
    )
}

fn client_auth(s: &NewService) -> String {
    let mut methods = String::new();
    let mut tests = String::new();
    for auth in &s.auth {
        let c = constructor(auth);
        let params: Vec<String> = c.params.iter().map(|p| format!("{p}: &str")).collect();
        methods.push_str(&format!(
            "    /// A client for the real {title} with {what}, with the default retry policy\n    \
             /// and timeouts.\n    ///\n    /// {fails}\n    \
             pub fn {method}({params}) -> Result<Self, ConfigError> {{\n        \
             Self::with_config({credentials}?, ClientConfig::new())\n    }}\n",
            title = s.title,
            what = c.what,
            fails = c.fails,
            method = c.method,
            params = params.join(", "),
            credentials = credentials(auth, c.params),
        ));
        let secrets: Vec<String> = c.params.iter().map(|p| format!("\"s3cret-{p}\"")).collect();
        let empty: Vec<&str> = c.params.iter().map(|_| "\"\"").collect();
        tests.push_str(&format!(
            "\n    #[test]\n    fn {method}_refuses_an_empty_secret_and_calls_the_service() {{\n        \
             assert!(matches!(\n            Client::{method}({empty}),\n            \
             Err(ConfigError::InvalidCredential {{ .. }})\n        ));\n        \
             let client = Client::{method}({secrets}).expect(\"a client\");\n        \
             assert!(client.base_url().starts_with(DEFAULT_BASE_URL));\n    }}\n",
            method = c.method,
            empty = empty.join(", "),
            secrets = secrets.join(", "),
        ));
    }
    format!(
        r#"//! Constructors: the credentials the spec declares and the base URL.
//!
//! (They sit in the first module by name so that the docs list them before the operations.)

use crate::{{Client, ClientConfig, ConfigError, Credentials, DEFAULT_BASE_URL, generated}};

impl Client {{
{methods}}}

api_runtime::impl_client!(
    Client,
    /// A client with explicit credentials and configuration (another base URL, retry
    /// policy, timeouts, body limit, TLS roots). Without a base URL in `config`, requests go
    /// to [`DEFAULT_BASE_URL`].
    service: "{name}",
    default_base_url: Some(DEFAULT_BASE_URL),
    operations: generated::OPERATIONS,
);

#[cfg(test)]
mod tests {{
    use super::*;
{tests}}}
"#,
        name = s.name,
    )
}

fn mock_manifest(s: &NewService) -> String {
    format!(
        r#"[package]
name = "{name}-api-mock"
description = "Typed httpmock mocks of the {title} for testing code that uses {name}-api: one method per operation, plus rate limits and errors in one call."
{inherited}categories = ["development-tools::testing", "api-bindings"]
readme = "README.md"

[dependencies]
{name}-api.workspace = true
api-mock.workspace = true
httpmock.workspace = true
regex.workspace = true
serde_json.workspace = true
chrono.workspace = true
uuid.workspace = true

[dev-dependencies]
tokio = {{ workspace = true, features = ["rt-multi-thread"] }}
futures.workspace = true

[lints]
workspace = true
"#,
        name = s.name,
        title = toml_string(&s.title),
        inherited = INHERITED,
    )
}

/// The mock client's credentials: constants and the expression that builds them.
fn mock_credentials(s: &NewService) -> (String, String, String) {
    let krate = &s.ident;
    let scheme = fixed_scheme(s.primary());
    // (`fixed_scheme` has made a client-credentials service's scheme a bearer token.)
    let (consts, described, args): (_, _, &[&str]) = match scheme {
        Auth::Basic => (
            "/// The user name [`client`] authenticates with (HTTP Basic).\n\
             pub const MOCK_USERNAME: &str = \"mock-user\";\n\n\
             /// The password [`client`] authenticates with (HTTP Basic).\n\
             pub const MOCK_PASSWORD: &str = \"mock-password\";\n",
            "HTTP Basic with [`MOCK_USERNAME`] and [`MOCK_PASSWORD`]",
            &["MOCK_USERNAME", "MOCK_PASSWORD"],
        ),
        Auth::Bearer | Auth::OAuth2ClientCredentials(_) => (
            "/// The token [`client`] authenticates with (`Authorization: Bearer <token>`).\n\
             pub const MOCK_TOKEN: &str = \"mock-token\";\n",
            "[`MOCK_TOKEN`]",
            &["MOCK_TOKEN"],
        ),
        Auth::ApiKeyHeader(_) | Auth::ApiKeyQuery(_) => (
            "/// The API key [`client`] authenticates with.\n\
             pub const MOCK_API_KEY: &str = \"mock-api-key\";\n",
            "[`MOCK_API_KEY`]",
            &["MOCK_API_KEY"],
        ),
    };
    (
        consts.to_string(),
        format!("{krate}::{}", credentials(scheme, args)),
        described.to_string(),
    )
}

fn mock_lib(s: &NewService) -> String {
    let (consts, credentials, described) = mock_credentials(s);
    format!(
        r#"#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

#[allow(missing_docs, clippy::all, unused_imports)]
mod generated;

use api_mock::MockServer;

pub use api_mock::{{Script, TypedThen, TypedWhen, httpmock}};
pub use generated::{{MockServerExt, {pages}operations}};

/// The client crate this crate mocks, for code that reaches it only through the facade
/// (`user_apis::{name}`): `{name}_api_mock::types::…` names the same types.
pub use {krate};
/// The client's types (`{krate}::types`), for building answers.
pub use {krate}::types;

/// What a test needs in scope: the server, scripted replies, the scenario and typed-mock
/// methods (their trait is also imported unnamed), and the typed matchers as `operations` and
/// `{name}_operations`.
pub mod prelude {{
    pub use crate::{{MockServerExt, {pages}operations, operations as {name}_operations}};
    // Unnamed too: the methods stay in scope whatever else is glob-imported.
    pub use crate::{{MockServerExt as _{pages_unnamed}}};
    pub use api_mock::{{Mock, MockServer, Reply, Scenarios, Script, TypedThen, TypedWhen}};
}}

{consts}
/// A `{krate}::Client` for `server`: {described}, the server's base URL, and the default retry
/// policy with a 1 ms first backoff, so a scripted 5xx does not wait out the production
/// backoff (a `Retry-After` is still honoured).
pub fn client(server: &MockServer) -> {krate}::Client {{
    api_mock::client(server, {credentials}, {krate}::Client::with_config)
}}
"#,
        name = s.name,
        krate = s.ident,
        pages = if s.paginated { "PageScenarios, " } else { "" },
        pages_unnamed = if s.paginated {
            ", PageScenarios as _"
        } else {
            ""
        },
    )
}

fn mock_readme(s: &NewService) -> String {
    format!(
        "# {name}-api-mock\n\n\
         A typed fake of the {title} for testing code that uses\n\
         [`{name}-api`]({repo}/tree/main/crates/{name}-api): an [httpmock](https://docs.rs/httpmock)\n\
         server on loopback with one method per operation, generated from the same spec as the\n\
         client, and the failure scenarios a resilient caller must survive, each in one call.\n\n\
         ```toml\n\
         [dev-dependencies]\n\
         {name}-api-mock = {{ git = \"{repo}\" }}\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt\"] }}\n\
         ```\n\n\
         - `MockServer::start_async().await` (or `MockServer::start()`) starts a server;\n  \
         `{name}_api_mock::client(&server)` is a `{krate}::Client` pointed at it.\n\
         - `server.<operation>(|when, then| …)` mocks one operation: `when` has a method per path\n  \
         parameter and `body(&request)` to match the JSON body; `then` a method per documented\n  \
         response, each taking the operation's own response type.\n\
         - `server.rate_limited_then(…)`, `server.server_error_then(…)` and `server.script(…)`\n  \
         answer with a 429 (`Retry-After`), a 5xx or any sequence of `Reply`s first.\n\n\
         ```rust\n\
         use {name}_api_mock::prelude::*;\n\n\
         #[tokio::main(flavor = \"current_thread\")]\n\
         async fn main() {{\n    \
         let server = MockServer::start_async().await;\n    \
         let client = {name}_api_mock::client(&server);\n    \
         assert!(client.base_url().starts_with(\"http://127.0.0.1:\"));\n\
         }}\n\
         ```\n",
        name = s.name,
        title = s.title,
        krate = s.ident,
        repo = repository(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spec of one operation whose only scheme is `scheme` (YAML under `securitySchemes`).
    fn described(scheme: &str) -> Result<NewService, String> {
        let spec = yaml_serde::from_str(&format!(
            "openapi: 3.0.3\ninfo: {{title: Widgets API, version: '1'}}\n\
             servers: [{{url: 'https://api.widgets.test/v2'}}]\n\
             paths:\n  /w:\n    get:\n      operationId: list_w\n      responses:\n        \
             '204': {{description: none}}\n\
             components:\n  securitySchemes:\n{scheme}"
        ))
        .expect("a spec");
        super::super::describe("widgets", &spec, "specs/widgets.yaml")
    }

    fn client_credentials(token_url: &str) -> String {
        format!(
            "    oauth:\n      type: oauth2\n      flows:\n        clientCredentials:\n          \
             tokenUrl: {token_url}\n          scopes: {{read: Read widgets}}\n"
        )
    }

    #[test]
    fn a_client_credentials_flow_gets_a_constructor_with_its_token_url() {
        let s = described(&client_credentials("https://auth.widgets.test/oauth/token"))
            .expect("clientCredentials is taken");
        assert_eq!(
            s.auth,
            [Auth::OAuth2ClientCredentials(
                "https://auth.widgets.test/oauth/token".into()
            )]
        );
        let auth = client_auth(&s);
        assert!(
            auth.contains(
                "pub fn with_client_credentials(client_id: &str, client_secret: &str, scope: &str)"
            ),
            "{auth}"
        );
        assert!(
            auth.contains(
                "Self::with_config(Credentials::client_credentials(\
                 \"https://auth.widgets.test/oauth/token\", client_id, client_secret, scope)?, \
                 ClientConfig::new())"
            ),
            "{auth}"
        );
        // The generated crate's own test refuses empty secrets and builds with real ones.
        assert!(
            auth.contains("Client::with_client_credentials(\"\", \"\", \"\")"),
            "{auth}"
        );
        // The mock server has no token endpoint: the mocks send a fixed bearer token.
        let mock = mock_lib(&s);
        assert!(
            mock.contains("widgets_api::Credentials::bearer(MOCK_TOKEN)"),
            "{mock}"
        );
        assert!(!mock.contains("client_credentials"), "{mock}");
    }

    #[test]
    fn a_relative_token_url_is_resolved_against_the_server() {
        for (token_url, absolute) in [
            ("/oauth/token", "https://api.widgets.test/oauth/token"),
            ("oauth/token", "https://api.widgets.test/v2/oauth/token"),
        ] {
            let s = described(&client_credentials(token_url)).expect("taken");
            assert_eq!(s.auth, [Auth::OAuth2ClientCredentials(absolute.into())]);
        }
    }

    #[test]
    fn other_oauth2_flows_stay_refused_with_their_pointer() {
        let err = described(
            "    oauth:\n      type: oauth2\n      flows:\n        password:\n          \
             tokenUrl: https://api.widgets.test/token\n          scopes: {}\n",
        )
        .err()
        .expect("refused");
        assert!(
            err.contains(
                "`oauth` at #/components/securitySchemes/oauth is oauth2 without a \
                 clientCredentials flow"
            ),
            "{err}"
        );
    }
}
