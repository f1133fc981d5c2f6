#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

#[allow(missing_docs, clippy::all, unused_imports)]
mod generated;
pub mod oauth;

use api_mock::{MockServer, Reply, Scenarios};

pub use api_mock::{Script, TypedThen, TypedWhen, httpmock};
pub use generated::{JobScenarios, MockServerExt, PageScenarios, operations};
pub use oauth::{OAuthServer, OAuthServerBuilder};

/// The client crate this crate mocks, for code that reaches it only through the facade
/// (`user_apis::zendesk`): `zendesk_api_mock::types::…` names the same types.
pub use zendesk_api;
/// The client's types (`zendesk_api::types`), for building answers.
pub use zendesk_api::types;

/// What a test needs in scope: the server, scripted replies, the scenario and typed-mock
/// methods (their traits are also imported unnamed), and the typed matchers as `operations` and
/// `zendesk_operations`.
///
/// Cerego's prelude imports together with either of the others: each crate's methods stay
/// in scope. `operations` then names two modules: use `zendesk_operations` (or
/// `zendesk_api_mock::operations`), and `zendesk_api_mock::client(&server)` for the client.
/// (Zendesk's and SendAuth's mock methods share names, `list_users` …: import one of those
/// two preludes per module.)
pub mod prelude {
    pub use crate::{
        JobScenarios, MockServerExt, MockServerExt as ZendeskMockServerExt, OAuthServer,
        PageScenarios, PageScenarios as ZendeskPageScenarios, ZendeskScenarios, operations,
        operations as zendesk_operations,
    };
    // Unnamed too: the methods stay in scope whatever else is glob-imported.
    pub use crate::{
        JobScenarios as _, MockServerExt as _, PageScenarios as _, ZendeskScenarios as _,
    };
    pub use api_mock::{Mock, MockServer, Reply, Scenarios, Script, TypedThen, TypedWhen};
}

/// The API token [`client`] authenticates with (Basic `mock@example.com/token:<token>`).
pub const MOCK_API_TOKEN: &str = "mock-api-token";

/// A `zendesk_api::Client` for `server`: an API token for `mock@example.com`, the server's
/// base URL, and the default retry policy with a 1 ms first backoff, so a scripted 5xx does
/// not wait out the production backoff (a `Retry-After` is still honoured).
pub fn client(server: &MockServer) -> zendesk_api::Client {
    api_mock::client(
        server,
        zendesk_api::api_token_credentials("mock@example.com", MOCK_API_TOKEN),
        zendesk_api::Client::with_config,
    )
}

/// Zendesk scenarios beyond one answer: bulk jobs (listings across pages are
/// [`PageScenarios`]).
pub trait ZendeskScenarios {
    /// A bulk job `job_id` that `show_job_status` reports working, then completed with
    /// `results`. Returns the job as queued: answer the bulk call with it
    /// (`server.create_many_users_answers_job(&job)`, [`JobScenarios`]).
    fn job_completes(&self, job_id: &str, results: Vec<types::JobStatusResult>)
    -> types::JobStatus;

    /// A bulk job `job_id` that `show_job_status` reports working, then failed with `message`.
    /// Returns the job as queued: answer the bulk call with it.
    fn job_fails(&self, job_id: &str, message: &str) -> types::JobStatus;
}

impl ZendeskScenarios for MockServer {
    fn job_completes(
        &self,
        job_id: &str,
        results: Vec<types::JobStatusResult>,
    ) -> types::JobStatus {
        let total = results.len() as i64;
        let mut done = job(job_id, types::JobState::Completed, total, total, None);
        done.results = Some(types::JobStatusResults::List(types::JobStatusResultList(
            results,
        )));
        job_life(self, job_id, total, done)
    }

    fn job_fails(&self, job_id: &str, message: &str) -> types::JobStatus {
        let failed = job(
            job_id,
            types::JobState::Failed,
            0,
            0,
            Some(message.to_string()),
        );
        job_life(self, job_id, 0, failed)
    }
}

/// Mocks `show_job_status` for `job_id`: working, then `end`; returns the queued job.
fn job_life(
    server: &MockServer,
    job_id: &str,
    total: i64,
    end: types::JobStatus,
) -> types::JobStatus {
    {
        let working = job(job_id, types::JobState::Working, total / 2, total, None);
        let answer =
            |job: types::JobStatus| Reply::json(200, &types::JobStatusResponse { job_status: job });
        let id = job_id.to_string();
        server.script(
            |when: operations::ShowJobStatusWhen| when.job_status_id(&id),
            [answer(working), answer(end)],
        );
        job(job_id, types::JobState::Queued, 0, total, None)
    }
}

fn job(
    id: &str,
    status: types::JobState,
    progress: i64,
    total: i64,
    message: Option<String>,
) -> types::JobStatus {
    types::JobStatus {
        extra: Default::default(),
        id: id.to_string(),
        message,
        progress: Some(progress),
        results: None,
        status,
        total: Some(total),
        url: Some(format!(
            "https://example.zendesk.com/api/v2/job_statuses/{id}.json"
        )),
    }
}
