//! The three services: their credential flags (or environment variables), their clients, and
//! what the CLI adds to the generated commands (`--all` on listings, `--wait` on bulk jobs).

use clap::{Arg, ArgMatches, Command};
use serde::Serialize;
use user_apis::runtime::paginate::{self, Paginated};
use user_apis::{
    ApiError, ClientConfig, ConfigError, Credentials, ErrorKind, RateLimits, ResumePosition,
    cerego, sendauth, zendesk,
};

use crate::generated;
use crate::output::{Output, progress};

/// A missing or invalid credential or base URL: exit code 3, before any request.
#[derive(Debug)]
pub struct ConfigProblem(pub String);

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigProblem {}

/// A credential or base-URL flag of a service: its id (`--api-token`), the environment
/// variable it also reads, its help, and the library's name for what it holds (in a
/// `ConfigError`), so that every message speaks of flags and variables.
struct Flag {
    id: &'static str,
    env: &'static str,
    help: &'static str,
    field: &'static str,
}

/// A flag that can also come from an environment variable, whose value `--help` never shows.
fn credential(flag: &Flag) -> Arg {
    Arg::new(flag.id)
        .long(flag.id)
        .env(flag.env)
        .hide_env_values(true)
        .global(true)
        .value_name(flag.env)
        .help(flag.help)
}

/// One way to give a service what it needs (credentials, or an account): flags that go
/// together, all needed.
struct Method {
    ids: &'static [&'static str],
}

/// What a service reads, in the order `--help` lists it.
struct Service {
    name: &'static str,
    flags: &'static [Flag],
    /// The ways to authenticate, the first complete one wins.
    credentials: &'static [Method],
    /// The ways to name the host, the first complete one wins; none: the service's default.
    account: &'static [Method],
}

impl Service {
    fn flag(&self, id: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.id == id)
    }

    /// `ZENDESK_API_TOKEN (--api-token)`.
    fn both(&self, id: &str) -> String {
        match self.flag(id) {
            Some(flag) => format!("{} (--{})", flag.env, flag.id),
            None => format!("--{id}"),
        }
    }

    /// How a value given for `id` was given: `--api-token` or `ZENDESK_API_TOKEN`.
    fn source(&self, m: &ArgMatches, id: &str) -> String {
        match (m.value_source(id), self.flag(id)) {
            (Some(clap::parser::ValueSource::EnvVariable), Some(flag)) => flag.env.to_string(),
            _ => format!("--{id}"),
        }
    }

    /// The value of `id`, `None` when unset; an empty value is an error of its own (an
    /// exported but empty variable is a mistake, not an absence).
    fn value<'a>(&self, m: &'a ArgMatches, id: &str) -> anyhow::Result<Option<&'a str>> {
        match m.try_get_one::<String>(id).ok().flatten() {
            None => Ok(None),
            Some(v) if v.trim().is_empty() => Err(self.problem(format!(
                "{} is set but empty: give it a value, or unset it",
                self.source(m, id)
            ))),
            Some(v) => Ok(Some(v.as_str())),
        }
    }

    fn problem(&self, message: String) -> anyhow::Error {
        ConfigProblem(format!("{}: {message}", self.name)).into()
    }

    /// `A and B, or C`: the methods in words.
    fn describe(&self, methods: &[Method]) -> String {
        methods
            .iter()
            .map(|m| {
                m.ids
                    .iter()
                    .map(|id| self.both(id))
                    .collect::<Vec<_>>()
                    .join(" and ")
            })
            .collect::<Vec<_>>()
            .join(", or ")
    }

    /// The values of the first complete method, `None` when no flag of any is set. Refuses a
    /// method half given (an email without a token) and warns when several are given,
    /// naming the one used.
    fn choose<'a>(
        &self,
        m: &'a ArgMatches,
        methods: &[Method],
        what: &str,
    ) -> anyhow::Result<Option<(usize, Vec<&'a str>)>> {
        let mut chosen: Option<(usize, Vec<&'a str>)> = None;
        let mut ignored = Vec::new();
        for (index, method) in methods.iter().enumerate() {
            let mut values = Vec::new();
            let mut missing = Vec::new();
            for id in method.ids {
                match self.value(m, id)? {
                    Some(v) => values.push(v),
                    None => missing.push(*id),
                }
            }
            if values.is_empty() {
                continue;
            }
            if !missing.is_empty() {
                if chosen.is_some() {
                    ignored.push(index);
                    continue;
                }
                let given: Vec<String> = method
                    .ids
                    .iter()
                    .filter(|id| !missing.contains(id))
                    .map(|id| self.source(m, id))
                    .collect();
                let missing: Vec<String> = missing.iter().map(|id| self.both(id)).collect();
                return Err(self.problem(format!(
                    "{} is set but {} is not",
                    given.join(" and "),
                    missing.join(" and ")
                )));
            }
            if chosen.is_some() {
                ignored.push(index);
            } else {
                chosen = Some((index, values));
            }
        }
        if let Some((index, _)) = &chosen
            && !ignored.is_empty()
        {
            let name = |i: usize| {
                methods[i]
                    .ids
                    .iter()
                    .filter(|id| matches!(self.value(m, id), Ok(Some(_))))
                    .map(|id| self.source(m, id))
                    .collect::<Vec<_>>()
                    .join(" and ")
            };
            let others: Vec<String> = ignored.iter().map(|i| name(*i)).collect();
            eprintln!(
                "user-apis: warning: {}: {} given more than one way; using {}, ignoring {} \
                 (unset what you do not mean to use)",
                self.name,
                what,
                name(*index),
                others.join(" and ")
            );
        }
        Ok(chosen)
    }

    /// `--help` text: which flags are read and which wins.
    fn precedence(&self) -> String {
        let mut text = format!(
            "Credentials: {}; the first that is set is used (a warning names any other also \
             set). A flag wins over its environment variable; an empty variable is an error, \
             not an absence.",
            self.describe(self.credentials)
        );
        if !self.account.is_empty() {
            text.push_str(&format!(
                "\nAccount: {}; the first that is set is used.",
                self.describe(self.account)
            ));
        }
        text
    }

    /// A `ConfigError` in the shell's terms: the flag and variable, never a Rust name.
    fn config_error(&self, e: ConfigError) -> anyhow::Error {
        let by_field = |field: &str| {
            self.flags
                .iter()
                .find(|f| f.field == field)
                .map(|f| self.both(f.id))
        };
        let base_url = by_field("base_url").unwrap_or_else(|| "--base-url".into());
        let shell = |reason: &str| reason.replace("ClientConfig::base_url", &base_url);
        let message = match &e {
            ConfigError::InvalidCredential { field, reason } => match by_field(field) {
                Some(flag) => format!("{flag} {}", shell(reason)),
                None => format!("the credentials: {} {}", field, shell(reason)),
            },
            ConfigError::InvalidBaseUrl { url, reason } => {
                format!("{base_url} `{url}` cannot be used: {}", shell(reason))
            }
            ConfigError::InvalidSubdomain { subdomain, reason } => format!(
                "{} `{subdomain}` {}",
                by_field("subdomain").unwrap_or_else(|| "--subdomain".into()),
                shell(reason)
            ),
            other => shell(&other.to_string()),
        };
        self.problem(message)
    }
}

fn config(base_url: Option<&str>, limits: RateLimits) -> Result<ClientConfig, ConfigProblem> {
    let config = match base_url {
        Some(url) => ClientConfig::new().base_url(url),
        None => ClientConfig::new(),
    };
    shared_rate_limits(config, limits, std::env::var("USER_APIS_REDIS_URL").ok())
}

/// `USER_APIS_REDIS_URL`: the rate-limit budget shared through Redis with every other
/// process that names it (the default key prefix), so that several CLIs and services on one
/// account do not spend it more than once. The URL's password is never shown.
fn shared_rate_limits(
    config: ClientConfig,
    limits: RateLimits,
    redis_url: Option<String>,
) -> Result<ClientConfig, ConfigProblem> {
    let Some(url) = redis_url.filter(|url| !url.is_empty()) else {
        return Ok(config.rate_limits(limits));
    };
    #[cfg(feature = "redis")]
    {
        let store = user_apis::RedisStore::new(url)
            .map_err(|e| ConfigProblem(format!("USER_APIS_REDIS_URL: {e}")))?;
        Ok(config.rate_limits(limits.with_redis(store)))
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = (config, limits, url);
        Err(ConfigProblem(
            "USER_APIS_REDIS_URL is set, but this user-apis was built without the `redis` \
             feature (install it with `--features redis`)"
                .into(),
        ))
    }
}

#[cfg(test)]
mod redis_url_tests {
    use super::*;

    #[test]
    fn user_apis_redis_url_shares_the_budget_or_says_why_not() {
        assert!(shared_rate_limits(ClientConfig::new(), RateLimits::default(), None).is_ok());
        assert!(
            shared_rate_limits(
                ClientConfig::new(),
                RateLimits::default(),
                Some(String::new())
            )
            .is_ok()
        );
        let url = "redis://:cli-s3cret@127.0.0.1:6379/0".to_string();
        let bad = "redis://:cli-s3cret@[::1".to_string();
        #[cfg(feature = "redis")]
        {
            let config = shared_rate_limits(ClientConfig::new(), RateLimits::default(), Some(url))
                .expect("a URL");
            let shown = format!("{config:?}");
            assert!(shown.contains("RedisStore"), "{shown}");
            assert!(!shown.contains("cli-s3cret"), "{shown}");
            let err = shared_rate_limits(ClientConfig::new(), RateLimits::default(), Some(bad))
                .expect_err("bad");
            assert!(
                err.to_string().starts_with("USER_APIS_REDIS_URL: "),
                "{err}"
            );
            assert!(!err.to_string().contains("cli-s3cret"), "{err}");
        }
        #[cfg(not(feature = "redis"))]
        for url in [url, bad] {
            let err = shared_rate_limits(ClientConfig::new(), RateLimits::default(), Some(url))
                .expect_err("no redis");
            assert!(err.to_string().contains("`redis` feature"), "{err}");
            assert!(!err.to_string().contains("cli-s3cret"), "{err}");
        }
    }
}

/// How `--all` follows a command's pages (the generated `CliCommand::paging`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// A listing that goes on from a `--resume` position after a failure.
    Resumable,
    /// The incremental export, which follows its own cursor and goes on from `--cursor`.
    Export,
}

/// `--all`: every item of the listing `request`, from its start or from `--resume`.
pub async fn all<'a, B>(request: B, operation: &'static str, m: &ArgMatches) -> anyhow::Result<()>
where
    B: Paginated<'a>,
    B::Item: Serialize,
{
    let from = match m.try_get_one::<String>(RESUME).ok().flatten() {
        Some(text) => Some(
            text.parse::<ResumePosition>()
                .map_err(|e| e.with_operation(operation))?,
        ),
        None => None,
    };
    Output::all(paginate::listing_items(request.page_items_from(from))).await
}

/// The flag that takes back where a failed `--all` stopped.
pub const RESUME: &str = "resume";

/// The operation of the incremental user export, whose `--all` follows its own cursor.
const EXPORT: &str = "incremental_user_export";

/// The flag of the export's budget.
pub const EXPORT_RATE: &str = "requests-per-minute";

/// The credential flags of `service` on `command`, and their precedence in its `--help`.
fn with_flags(command: Command, service: &Service) -> Command {
    service
        .flags
        .iter()
        .fold(command, |command, flag| command.arg(credential(flag)))
        .after_help(service.precedence())
}

/// `user-apis zendesk …`
pub mod zendesk_cli {
    use super::*;
    use generated::zendesk::{Cli, CliCommand};

    /// What `user-apis zendesk` reads, and in which order.
    const SERVICE: Service = Service {
        name: "zendesk",
        flags: &[
            Flag {
                id: "client-id",
                env: "ZENDESK_CLIENT_ID",
                help: "The OAuth client's identifier, for client-credentials tokens that the CLI \
                       obtains and renews itself (with --client-secret and --oauth-scope).",
                field: "client_id",
            },
            Flag {
                id: "client-secret",
                env: "ZENDESK_CLIENT_SECRET",
                help: "The OAuth client's secret (with --client-id).",
                field: "client_secret",
            },
            Flag {
                id: "oauth-scope",
                env: "ZENDESK_OAUTH_SCOPE",
                help: "The scopes to ask for, space-separated: `read write`, \
                       `users:read users:write` (with --client-id).",
                field: "scope",
            },
            Flag {
                id: "subdomain",
                env: "ZENDESK_SUBDOMAIN",
                help: "The account's subdomain: `acme` for https://acme.zendesk.com.",
                field: "subdomain",
            },
            Flag {
                id: "email",
                env: "ZENDESK_EMAIL",
                help: "The agent's email, for an API token.",
                field: "email",
            },
            Flag {
                id: "api-token",
                env: "ZENDESK_API_TOKEN",
                help: "An API token (with --email). Zendesk API tokens stop working on \
                       2027-04-30: use --client-id instead.",
                field: "api_token",
            },
            Flag {
                id: "oauth-token",
                env: "ZENDESK_OAUTH_TOKEN",
                help: "An OAuth access token (instead of --email and --api-token).",
                field: "token",
            },
            Flag {
                id: "base-url",
                env: "ZENDESK_BASE_URL",
                help: "Another base URL (a sandbox, a proxy, a test server) instead of the \
                       subdomain's.",
                field: "base_url",
            },
        ],
        credentials: &[
            Method {
                ids: &["client-id", "client-secret", "oauth-scope"],
            },
            Method {
                ids: &["oauth-token"],
            },
            Method {
                ids: &["email", "api-token"],
            },
        ],
        account: &[
            Method { ids: &["base-url"] },
            Method {
                ids: &["subdomain"],
            },
        ],
    };

    /// The credential flags of `user-apis zendesk`.
    pub fn args(command: Command) -> Command {
        with_flags(command, &SERVICE)
    }

    /// How the flags say to authenticate.
    enum Auth {
        /// OAuth client credentials: tokens obtained and renewed by the client.
        ClientCredentials(zendesk::ClientCredentials),
        Fixed(Credentials),
    }

    /// The client the flags describe.
    pub fn client(m: &ArgMatches) -> anyhow::Result<zendesk::Client> {
        let service = &SERVICE;
        let credentials = match service.choose(m, service.credentials, "credentials")? {
            Some((0, values)) => {
                let client = zendesk::OAuthClient::new(values[0], values[1])
                    .map_err(|e| service.config_error(e))?;
                let grant = zendesk::ClientCredentials::new(client, values[2])
                    .map_err(|e| service.config_error(e))?;
                Ok(Auth::ClientCredentials(grant))
            }
            Some((1, values)) => Credentials::bearer(values[0]).map(Auth::Fixed),
            Some((_, values)) => {
                zendesk::api_token_credentials(values[0], values[1]).map(Auth::Fixed)
            }
            None => {
                return Err(service.problem(format!(
                    "no credentials: set {}",
                    service.describe(service.credentials)
                )));
            }
        }
        .map_err(|e| service.config_error(e))?;
        let base_url = match service.choose(m, service.account, "the account")? {
            Some((0, values)) => values[0].to_string(),
            Some((_, values)) => {
                zendesk::subdomain_url(values[0]).map_err(|e| service.config_error(e))?
            }
            None => {
                return Err(service.problem(format!(
                    "no account: set {}",
                    service.describe(service.account)
                )));
            }
        };
        let mut limits = RateLimits::default();
        if let Ok(Some(n)) = m.try_get_one::<u32>(EXPORT_RATE) {
            limits = limits.with_operation_requests_per_minute(EXPORT, *n);
        }
        let config = config(Some(&base_url), limits)?;
        match credentials {
            Auth::Fixed(credentials) => zendesk::Client::with_config(credentials, config),
            Auth::ClientCredentials(grant) => {
                zendesk::Client::with_client_credentials_config(grant, config)
            }
        }
        .map_err(|e| service.config_error(e))
    }

    /// Runs one command: `--all`, `--wait`, or the plain call.
    pub async fn run(
        client: zendesk::Client,
        cmd: CliCommand,
        m: &ArgMatches,
    ) -> anyhow::Result<()> {
        let cli = Cli::new(client.clone(), Output);
        if m.get_flag_opt("all")
            && let Some(result) = cli.all(cmd, m).await
        {
            return result;
        }
        if m.get_flag_opt("wait")
            && let Some(job) = cli.send_job(cmd, m).await
        {
            return wait(&client, cmd.operation_id(), job?).await;
        }
        cli.execute(cmd, m).await
    }

    /// `--all` on the incremental user export: every page from `--start-time` or `--cursor`
    /// to the one that says `end_of_stream`, within the export's budget (the client paces
    /// it), each user one NDJSON line; then, on stderr, the cursor to start from next time.
    /// A failure says on stderr the `--cursor` to go on from, after the last page written.
    pub async fn export_all(client: &zendesk::Client, m: &ArgMatches) -> anyhow::Result<()> {
        let cursor = m.try_get_one::<String>("cursor").ok().flatten();
        let start_time = m.try_get_one::<i64>("start-time").ok().flatten();
        let start = match (cursor, start_time) {
            (Some(cursor), None) => zendesk::ExportStart::after(cursor.clone()),
            (None, Some(time)) => zendesk::ExportStart::Since(*time),
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_request(
                    EXPORT,
                    "give --start-time for a first export or --cursor to go on from an earlier                      one, not both"
                        .into(),
                )
                .into());
            }
            (None, None) => {
                return Err(ApiError::invalid_request(
                    EXPORT,
                    "give --start-time (a Unix time) for a first export, or --cursor to go on                      from an earlier one"
                        .into(),
                )
                .into());
            }
        };
        let mut export = client.export_users(start);
        if let Ok(Some(per_page)) = m.try_get_one::<std::num::NonZeroU32>("per-page") {
            export = export.per_page(per_page.get());
        }
        let mut last = cursor.cloned();
        let mut lines = Output::lines("users");
        let mut pages = export.pages();
        while let Some(page) = futures::StreamExt::next(&mut pages).await {
            match page {
                Ok(page) => {
                    for user in &page.users {
                        lines.write(user)?;
                    }
                    if let Some(cursor) = page.cursor {
                        last = Some(cursor);
                    }
                }
                Err(err) => {
                    lines.clear();
                    if let Some(cursor) = &last {
                        eprintln!(
                            "user-apis: the export stopped after the last page written; to \
                             go on from there, run it again with --cursor {}",
                            shell_word(cursor)
                        );
                    }
                    return Err(err.into());
                }
            }
        }
        let written = lines.finish()?;
        match &last {
            Some(cursor) => eprintln!(
                "user-apis: the export is up to date ({written} user(s)); start the next one \
                 with --cursor {}",
                shell_word(cursor)
            ),
            None => eprintln!("user-apis: the export is up to date ({written} user(s))"),
        }
        Ok(())
    }

    /// `word` as one shell word: as is when it is made of safe characters, else quoted.
    fn shell_word(word: &str) -> String {
        let safe = |c: char| c.is_ascii_alphanumeric() || "-_.:/=+@%,".contains(c);
        if !word.is_empty() && word.chars().all(safe) {
            word.to_string()
        } else {
            format!("'{}'", word.replace('\'', "'\\''"))
        }
    }

    /// `job 8b7c… working 40/100`: what the spinner says of a job.
    fn job_progress(job: &zendesk::types::JobStatus) -> String {
        let mut text = format!("job {} {}", job.id, job.status);
        match (job.progress, job.total) {
            (Some(done), Some(total)) => text.push_str(&format!(" {done}/{total}")),
            (Some(done), None) => text.push_str(&format!(" {done} done")),
            _ => {}
        }
        text
    }

    /// Polls the job until it ends (with the client's bulk backoff), a spinner on stderr;
    /// prints the final job status. A failed or killed job is an error of kind `Job`.
    async fn wait(
        client: &zendesk::Client,
        operation: &'static str,
        job: zendesk::types::JobStatus,
    ) -> anyhow::Result<()> {
        let spinner = progress("polls");
        spinner.set_message(job_progress(&job));
        let done = client
            .wait_for_job_with_progress(job, &zendesk::BulkOptions::default(), |job, polls| {
                spinner.set_position(u64::from(polls));
                spinner.set_message(job_progress(job));
            })
            .await;
        spinner.finish_and_clear();
        let done = done?;
        Output::json(&zendesk::types::JobStatusResponse {
            job_status: done.clone(),
        })?;
        match done.status {
            zendesk::types::JobState::Failed | zendesk::types::JobState::Killed => {
                Err(ApiError::new(
                    ErrorKind::Job,
                    format!(
                        "job {} {}: {}",
                        done.id,
                        done.status,
                        done.message.as_deref().unwrap_or("no message")
                    ),
                )
                .with_operation(operation)
                .into())
            }
            _ => Ok(()),
        }
    }
}

/// `user-apis cerego …`
pub mod cerego_cli {
    use super::*;
    use generated::cerego::{Cli, CliCommand};

    /// What `user-apis cerego` reads.
    const SERVICE: Service = Service {
        name: "cerego",
        flags: &[
            Flag {
                id: "api-key",
                env: "CEREGO_API_KEY",
                help: "The partner API key (sent as a bearer token).",
                field: "API key",
            },
            Flag {
                id: "base-url",
                env: "CEREGO_BASE_URL",
                help: "Another base URL instead of https://partners.cerego.com.",
                field: "base_url",
            },
        ],
        credentials: &[Method { ids: &["api-key"] }],
        account: &[],
    };

    /// The credential flags of `user-apis cerego`.
    pub fn args(command: Command) -> Command {
        with_flags(command, &SERVICE)
    }

    /// The client the flags describe.
    pub fn client(m: &ArgMatches) -> anyhow::Result<cerego::Client> {
        let service = &SERVICE;
        let Some((_, values)) = service.choose(m, service.credentials, "credentials")? else {
            return Err(service.problem(format!(
                "no credentials: set {}",
                service.describe(service.credentials)
            )));
        };
        let credentials =
            cerego::api_key_credentials(values[0]).map_err(|e| service.config_error(e))?;
        cerego::Client::with_config(
            credentials,
            config(service.value(m, "base-url")?, RateLimits::default())?,
        )
        .map_err(|e| service.config_error(e))
    }

    /// Runs one command (Cerego has no listings or bulk jobs).
    pub async fn run(
        client: cerego::Client,
        cmd: CliCommand,
        m: &ArgMatches,
    ) -> anyhow::Result<()> {
        Cli::new(client, Output).execute(cmd, m).await
    }
}

/// `user-apis sendauth …`
pub mod sendauth_cli {
    use super::*;
    use generated::sendauth::{Cli, CliCommand};

    /// What `user-apis sendauth` reads.
    const SERVICE: Service = Service {
        name: "sendauth",
        flags: &[
            Flag {
                id: "username",
                env: "SENDAUTH_USERNAME",
                help: "The API user name (HTTP Basic).",
                field: "username",
            },
            Flag {
                id: "password",
                env: "SENDAUTH_PASSWORD",
                help: "The API password (HTTP Basic).",
                field: "password",
            },
            Flag {
                id: "base-url",
                env: "SENDAUTH_BASE_URL",
                help: "Another base URL instead of https://app.sendauth.com.",
                field: "base_url",
            },
        ],
        credentials: &[Method {
            ids: &["username", "password"],
        }],
        account: &[],
    };

    /// The credential flags of `user-apis sendauth`.
    pub fn args(command: Command) -> Command {
        with_flags(command, &SERVICE)
    }

    /// The client the flags describe.
    pub fn client(m: &ArgMatches) -> anyhow::Result<sendauth::Client> {
        let service = &SERVICE;
        let Some((_, values)) = service.choose(m, service.credentials, "credentials")? else {
            return Err(service.problem(format!(
                "no credentials: set {}",
                service.describe(service.credentials)
            )));
        };
        let credentials =
            Credentials::basic(values[0], values[1]).map_err(|e| service.config_error(e))?;
        sendauth::Client::with_config(
            credentials,
            config(service.value(m, "base-url")?, RateLimits::default())?,
        )
        .map_err(|e| service.config_error(e))
    }

    /// Runs one command: `--all` or the plain call.
    pub async fn run(
        client: sendauth::Client,
        cmd: CliCommand,
        m: &ArgMatches,
    ) -> anyhow::Result<()> {
        let cli = Cli::new(client, Output);
        if m.get_flag_opt("all")
            && let Some(result) = cli.all(cmd, m).await
        {
            return result;
        }
        cli.execute(cmd, m).await
    }
}

/// `get_flag` for a flag only some commands define.
pub trait FlagOpt {
    /// Whether the flag `id` is set; `false` where the command does not define it.
    fn get_flag_opt(&self, id: &str) -> bool;
}

impl FlagOpt for ArgMatches {
    /// Whether the flag `id` is set; `false` where the command does not define it.
    fn get_flag_opt(&self, id: &str) -> bool {
        self.try_get_one::<bool>(id)
            .ok()
            .flatten()
            .copied()
            .unwrap_or(false)
    }
}
