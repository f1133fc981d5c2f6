//! The three services: their credential flags (or environment variables), their clients, and
//! what the CLI adds to the generated commands (`--all` on listings, `--wait` on bulk jobs).

use clap::{Arg, ArgMatches, Command};
use user_apis::{ApiError, ClientConfig, Credentials, ErrorKind, cerego, sendauth, zendesk};

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

/// A flag that can also come from an environment variable, whose value `--help` never shows.
fn credential(id: &'static str, env: &'static str, help: &'static str) -> Arg {
    Arg::new(id)
        .long(id)
        .env(env)
        .hide_env_values(true)
        .global(true)
        .value_name(env)
        .help(help)
}

fn value<'a>(matches: &'a ArgMatches, id: &str) -> Option<&'a str> {
    matches
        .get_one::<String>(id)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

fn config(base_url: Option<&str>) -> Result<ClientConfig, ConfigProblem> {
    let config = match base_url {
        Some(url) => ClientConfig::new().base_url(url),
        None => ClientConfig::new(),
    };
    shared_rate_limits(config, std::env::var("USER_APIS_REDIS_URL").ok())
}

/// `USER_APIS_REDIS_URL`: the rate-limit budget shared through Redis with every other
/// process that names it (the default key prefix), so that several CLIs and services on one
/// account do not spend it more than once. The URL's password is never shown.
fn shared_rate_limits(
    config: ClientConfig,
    redis_url: Option<String>,
) -> Result<ClientConfig, ConfigProblem> {
    let Some(url) = redis_url.filter(|url| !url.is_empty()) else {
        return Ok(config);
    };
    #[cfg(feature = "redis")]
    {
        let store = user_apis::RedisStore::new(url)
            .map_err(|e| ConfigProblem(format!("USER_APIS_REDIS_URL: {e}")))?;
        Ok(config.rate_limits(user_apis::RateLimits::default().with_redis(store)))
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = (config, url);
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
        assert!(shared_rate_limits(ClientConfig::new(), None).is_ok());
        assert!(shared_rate_limits(ClientConfig::new(), Some(String::new())).is_ok());
        let url = "redis://:cli-s3cret@127.0.0.1:6379/0".to_string();
        let bad = "redis://:cli-s3cret@[::1".to_string();
        #[cfg(feature = "redis")]
        {
            let config = shared_rate_limits(ClientConfig::new(), Some(url)).expect("a URL");
            let shown = format!("{config:?}");
            assert!(shown.contains("RedisStore"), "{shown}");
            assert!(!shown.contains("cli-s3cret"), "{shown}");
            let err = shared_rate_limits(ClientConfig::new(), Some(bad)).expect_err("bad");
            assert!(
                err.to_string().starts_with("USER_APIS_REDIS_URL: "),
                "{err}"
            );
            assert!(!err.to_string().contains("cli-s3cret"), "{err}");
        }
        #[cfg(not(feature = "redis"))]
        for url in [url, bad] {
            let err = shared_rate_limits(ClientConfig::new(), Some(url)).expect_err("no redis");
            assert!(err.to_string().contains("`redis` feature"), "{err}");
            assert!(!err.to_string().contains("cli-s3cret"), "{err}");
        }
    }
}

fn invalid(service: &str, e: impl std::fmt::Display) -> anyhow::Error {
    ConfigProblem(format!("{service}: {e}")).into()
}

/// `user-apis zendesk …`
pub mod zendesk_cli {
    use super::*;
    use generated::zendesk::{Cli, CliCommand};

    /// The credential flags of `user-apis zendesk`.
    pub fn args(command: Command) -> Command {
        command
            .arg(credential(
                "client-id",
                "ZENDESK_CLIENT_ID",
                "The OAuth client's identifier, for client-credentials tokens that the CLI \
                 obtains and renews itself (with --client-secret and --oauth-scope).",
            ))
            .arg(credential(
                "client-secret",
                "ZENDESK_CLIENT_SECRET",
                "The OAuth client's secret (with --client-id).",
            ))
            .arg(credential(
                "oauth-scope",
                "ZENDESK_OAUTH_SCOPE",
                "The scopes to ask for, space-separated: `read write`, `users:read users:write` \
                 (with --client-id).",
            ))
            .arg(credential(
                "subdomain",
                "ZENDESK_SUBDOMAIN",
                "The account's subdomain: `acme` for https://acme.zendesk.com.",
            ))
            .arg(credential(
                "email",
                "ZENDESK_EMAIL",
                "The agent's email, for an API token.",
            ))
            .arg(credential(
                "api-token",
                "ZENDESK_API_TOKEN",
                "An API token (with --email). Zendesk API tokens stop working on 2027-04-30; \
                 use --client-id instead.",
            ))
            .arg(credential(
                "oauth-token",
                "ZENDESK_OAUTH_TOKEN",
                "An OAuth access token (instead of --email and --api-token).",
            ))
            .arg(credential(
                "base-url",
                "ZENDESK_BASE_URL",
                "Another base URL (a sandbox, a proxy, a test server) instead of the subdomain's.",
            ))
    }

    /// How the flags say to authenticate.
    enum Auth<'a> {
        ClientCredentials {
            id: &'a str,
            secret: &'a str,
            scope: &'a str,
        },
        Fixed(Credentials),
    }

    fn auth(m: &ArgMatches) -> anyhow::Result<Auth<'_>> {
        let oauth = [
            ("client-id", "ZENDESK_CLIENT_ID"),
            ("client-secret", "ZENDESK_CLIENT_SECRET"),
            ("oauth-scope", "ZENDESK_OAUTH_SCOPE"),
        ];
        let oauth_set: Vec<_> = oauth
            .iter()
            .filter(|(id, _)| value(m, id).is_some())
            .collect();
        let others = [
            ("oauth-token", "ZENDESK_OAUTH_TOKEN"),
            ("api-token", "ZENDESK_API_TOKEN"),
        ];
        if !oauth_set.is_empty() {
            if let Some((flag, env)) = others.iter().find(|(id, _)| value(m, id).is_some()) {
                return Err(ConfigProblem(format!(
                    "zendesk: both OAuth client credentials ({}) and {env} (--{flag}) are set; \
                     unset one of them",
                    oauth_set
                        .iter()
                        .map(|(_, env)| *env)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .into());
            }
            if let Some((flag, env)) = oauth.iter().find(|(id, _)| value(m, id).is_none()) {
                return Err(ConfigProblem(format!(
                    "zendesk: {env} (--{flag}) is missing: OAuth client credentials need \
                     ZENDESK_CLIENT_ID, ZENDESK_CLIENT_SECRET and ZENDESK_OAUTH_SCOPE"
                ))
                .into());
            }
            let get = |id| value(m, id).unwrap_or_default();
            return Ok(Auth::ClientCredentials {
                id: get("client-id"),
                secret: get("client-secret"),
                scope: get("oauth-scope"),
            });
        }
        let credentials = match (
            value(m, "oauth-token"),
            value(m, "email"),
            value(m, "api-token"),
        ) {
            (Some(token), _, _) => Credentials::bearer(token),
            (None, Some(email), Some(token)) => zendesk::api_token_credentials(email, token),
            _ => {
                return Err(ConfigProblem(
                    "zendesk: no credentials: set ZENDESK_CLIENT_ID, ZENDESK_CLIENT_SECRET and \
                     ZENDESK_OAUTH_SCOPE (OAuth client credentials), or ZENDESK_OAUTH_TOKEN, or \
                     ZENDESK_EMAIL and ZENDESK_API_TOKEN (or the matching flags)"
                        .into(),
                )
                .into());
            }
        }
        .map_err(|e| invalid("zendesk", e))?;
        Ok(Auth::Fixed(credentials))
    }

    /// The client the flags describe.
    pub fn client(m: &ArgMatches) -> anyhow::Result<zendesk::Client> {
        let auth = auth(m)?;
        let base_url = match (value(m, "base-url"), value(m, "subdomain")) {
            (Some(url), _) => url.to_string(),
            (None, Some(subdomain)) => {
                zendesk::subdomain_url(subdomain).map_err(|e| invalid("zendesk", e))?
            }
            (None, None) => {
                return Err(ConfigProblem(
                    "zendesk: no account: set ZENDESK_SUBDOMAIN or ZENDESK_BASE_URL (or \
                     --subdomain or --base-url)"
                        .into(),
                )
                .into());
            }
        };
        let config = config(Some(&base_url))?;
        match auth {
            Auth::Fixed(credentials) => zendesk::Client::with_config(credentials, config),
            Auth::ClientCredentials { id, secret, scope } => {
                let client =
                    zendesk::OAuthClient::new(id, secret).map_err(|e| invalid("zendesk", e))?;
                let grant = zendesk::ClientCredentials::new(client, scope)
                    .map_err(|e| invalid("zendesk", e))?;
                zendesk::Client::with_client_credentials_config(grant, config)
            }
        }
        .map_err(|e| invalid("zendesk", e))
    }

    /// Listings `--all` streams, page after page.
    pub fn streams(cmd: CliCommand) -> bool {
        matches!(
            cmd,
            CliCommand::ListUsers
                | CliCommand::ListDeletedUsers
                | CliCommand::ListTags
                | CliCommand::SearchUsers
                | CliCommand::ShowUserComplianceDeletionStatuses
        )
    }

    /// Bulk operations whose job `--wait` waits for.
    pub fn waits(cmd: CliCommand) -> bool {
        matches!(
            cmd,
            CliCommand::CreateManyUsers
                | CliCommand::CreateOrUpdateManyUsers
                | CliCommand::UpdateManyUsers
                | CliCommand::DestroyManyUsers
        )
    }

    /// Runs one command: `--all`, `--wait`, or the plain call.
    pub async fn run(
        client: zendesk::Client,
        cmd: CliCommand,
        m: &ArgMatches,
    ) -> anyhow::Result<()> {
        let cli = Cli::new(client.clone(), Output);
        if m.get_flag_opt("all") {
            return match cmd {
                CliCommand::ListUsers => Output::all(cli.request_list_users(m)?.stream()).await,
                CliCommand::ListDeletedUsers => {
                    Output::all(cli.request_list_deleted_users(m)?.stream()).await
                }
                CliCommand::ListTags => Output::all(cli.request_list_tags(m)?.stream()).await,
                CliCommand::SearchUsers => Output::all(cli.request_search_users(m)?.stream()).await,
                CliCommand::ShowUserComplianceDeletionStatuses => {
                    Output::all(
                        cli.request_show_user_compliance_deletion_statuses(m)?
                            .stream(),
                    )
                    .await
                }
                _ => cli.execute(cmd, m).await,
            };
        }
        if m.get_flag_opt("wait") {
            let job = match cmd {
                CliCommand::CreateManyUsers => cli.request_create_many_users(m)?.send().await?,
                CliCommand::CreateOrUpdateManyUsers => {
                    cli.request_create_or_update_many_users(m)?.send().await?
                }
                CliCommand::UpdateManyUsers => cli.request_update_many_users(m)?.send().await?,
                CliCommand::DestroyManyUsers => cli.request_destroy_many_users(m)?.send().await?,
                _ => return cli.execute(cmd, m).await,
            }
            .into_inner()
            .job_status;
            return wait(&client, cmd.operation_id(), job).await;
        }
        cli.execute(cmd, m).await
    }

    /// Polls the job until it ends (with the client's bulk backoff), a spinner on stderr;
    /// prints the final job status. A failed or killed job is an error of kind `Job`.
    async fn wait(
        client: &zendesk::Client,
        operation: &'static str,
        job: zendesk::types::JobStatus,
    ) -> anyhow::Result<()> {
        let spinner = progress("polls");
        spinner.set_message(format!("job {}", job.id));
        let done = client
            .wait_for_job(job, &zendesk::BulkOptions::default())
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

    /// The credential flags of `user-apis cerego`.
    pub fn args(command: Command) -> Command {
        command
            .arg(credential(
                "api-key",
                "CEREGO_API_KEY",
                "The partner API key (sent as a bearer token).",
            ))
            .arg(credential(
                "base-url",
                "CEREGO_BASE_URL",
                "Another base URL instead of https://partners.cerego.com.",
            ))
    }

    /// The client the flags describe.
    pub fn client(m: &ArgMatches) -> anyhow::Result<cerego::Client> {
        let key = value(m, "api-key").ok_or_else(|| {
            ConfigProblem("cerego: no credentials: set CEREGO_API_KEY (or --api-key)".into())
        })?;
        let credentials = Credentials::bearer(key).map_err(|e| invalid("cerego", e))?;
        cerego::Client::with_config(credentials, config(value(m, "base-url"))?)
            .map_err(|e| invalid("cerego", e))
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

    /// The credential flags of `user-apis sendauth`.
    pub fn args(command: Command) -> Command {
        command
            .arg(credential(
                "username",
                "SENDAUTH_USERNAME",
                "The API user name (HTTP Basic).",
            ))
            .arg(credential(
                "password",
                "SENDAUTH_PASSWORD",
                "The API password (HTTP Basic).",
            ))
            .arg(credential(
                "base-url",
                "SENDAUTH_BASE_URL",
                "Another base URL instead of https://app.sendauth.com.",
            ))
    }

    /// The client the flags describe.
    pub fn client(m: &ArgMatches) -> anyhow::Result<sendauth::Client> {
        let (Some(username), Some(password)) = (value(m, "username"), value(m, "password")) else {
            return Err(ConfigProblem(
                "sendauth: no credentials: set SENDAUTH_USERNAME and SENDAUTH_PASSWORD (or \
                 --username and --password)"
                    .into(),
            )
            .into());
        };
        let credentials =
            Credentials::basic(username, password).map_err(|e| invalid("sendauth", e))?;
        sendauth::Client::with_config(credentials, config(value(m, "base-url"))?)
            .map_err(|e| invalid("sendauth", e))
    }

    /// Listings `--all` streams, page after page.
    pub fn streams(cmd: CliCommand) -> bool {
        matches!(
            cmd,
            CliCommand::ListUsers
                | CliCommand::ListDeletedUsers
                | CliCommand::GetUserAudits
                | CliCommand::GetUserTransactions
        )
    }

    /// Runs one command: `--all` or the plain call.
    pub async fn run(
        client: sendauth::Client,
        cmd: CliCommand,
        m: &ArgMatches,
    ) -> anyhow::Result<()> {
        let cli = Cli::new(client, Output);
        if m.get_flag_opt("all") {
            return match cmd {
                CliCommand::ListUsers => Output::all(cli.request_list_users(m)?.stream()).await,
                CliCommand::ListDeletedUsers => {
                    Output::all(cli.request_list_deleted_users(m)?.stream()).await
                }
                CliCommand::GetUserAudits => {
                    Output::all(cli.request_get_user_audits(m)?.stream()).await
                }
                CliCommand::GetUserTransactions => {
                    Output::all(cli.request_get_user_transactions(m)?.stream()).await
                }
                _ => cli.execute(cmd, m).await,
            };
        }
        cli.execute(cmd, m).await
    }
}

/// `get_flag` for a flag only some commands define.
trait FlagOpt {
    fn get_flag_opt(&self, id: &str) -> bool;
}

impl FlagOpt for ArgMatches {
    fn get_flag_opt(&self, id: &str) -> bool {
        self.try_get_one::<bool>(id)
            .ok()
            .flatten()
            .copied()
            .unwrap_or(false)
    }
}
