//! Constructors: API token or OAuth credentials, and the account's base URL.
//!
//! (They sit in the first module by name so that the docs list them before the operations.)

use crate::{Client, ClientConfig, ConfigError, Credentials, generated};

impl Client {
    /// A client for `https://{subdomain}.zendesk.com` authenticated with an API token
    /// (HTTP Basic, username `{email}/token`), with the default retry policy and timeouts.
    ///
    /// Zendesk retires API tokens: none can be created since 2026-10-27, and every API token
    /// stops working on 2027-04-30. Use [`Client::with_client_credentials`] (OAuth) instead:
    /// the client obtains and renews its access tokens itself.
    ///
    /// Fails with a clear error if the subdomain is not a valid host label or a credential
    /// is empty or contains control characters. For another host (a sandbox, a proxy, a
    /// test server), see [`Client::with_config`].
    pub fn with_api_token(
        subdomain: &str,
        email: &str,
        api_token: &str,
    ) -> Result<Self, ConfigError> {
        Self::with_config(
            api_token_credentials(email, api_token)?,
            ClientConfig::new().base_url(subdomain_url(subdomain)?),
        )
    }

    /// A client for `https://{subdomain}.zendesk.com` authenticated with a fixed OAuth access
    /// token (`Authorization: Bearer`). Zendesk's access tokens expire (30 minutes by
    /// default): for a client that renews its token, use
    /// [`Client::with_client_credentials`] or [`Client::with_refresh_token`].
    pub fn with_oauth_token(subdomain: &str, access_token: &str) -> Result<Self, ConfigError> {
        Self::with_config(
            Credentials::bearer(access_token)?,
            ClientConfig::new().base_url(subdomain_url(subdomain)?),
        )
    }
}

api_runtime::impl_client!(
    Client,
    /// A client with explicit credentials and configuration. Zendesk has no default host:
    /// the config must carry a base URL, from [`subdomain_url`] or a full URL (a sandbox,
    /// a proxy, a host-mapped domain, a test server). With an API token, build the
    /// credentials with [`api_token_credentials`]:
    ///
    /// ```
    /// # fn main() -> Result<(), zendesk_api::ConfigError> {
    /// use zendesk_api::{ClientConfig, Client, api_token_credentials};
    ///
    /// let client = Client::with_config(
    ///     api_token_credentials("agent@acme.com", "api-token")?,
    ///     ClientConfig::new().base_url("https://support.acme.example"),
    /// )?;
    /// assert_eq!(client.base_url(), "https://support.acme.example");
    /// # Ok(())
    /// # }
    /// ```
    service: "zendesk",
    default_base_url: None,
    operations: generated::OPERATIONS,
    operation_rate_limits: crate::incremental::OPERATION_RATE_LIMITS,
    request_id_headers: &["x-zendesk-request-id"],
);

/// API token credentials: HTTP Basic with username `{email}/token` and the token as password.
pub fn api_token_credentials(email: &str, api_token: &str) -> Result<Credentials, ConfigError> {
    if email.is_empty() {
        return Err(ConfigError::InvalidCredential {
            field: "email",
            reason: "is empty",
        });
    }
    Credentials::basic(&format!("{email}/token"), api_token).map_err(|e| match e {
        ConfigError::InvalidCredential {
            field: "username",
            reason,
        } => ConfigError::InvalidCredential {
            field: "email",
            reason,
        },
        ConfigError::InvalidCredential {
            field: "password",
            reason,
        } => ConfigError::InvalidCredential {
            field: "api_token",
            reason,
        },
        other => other,
    })
}

/// `https://{subdomain}.zendesk.com`, once `subdomain` is checked to be a DNS host label:
/// 1 to 63 ASCII letters, digits and hyphens, not starting or ending with a hyphen.
/// Letters are lowered (host names are case-insensitive).
pub fn subdomain_url(subdomain: &str) -> Result<String, ConfigError> {
    let invalid = |reason: &'static str| ConfigError::InvalidSubdomain {
        subdomain: subdomain.chars().take(80).collect(),
        reason,
    };
    if subdomain.is_empty() {
        return Err(invalid("is empty"));
    }
    if subdomain.len() > 63 {
        return Err(invalid("is longer than 63 characters"));
    }
    if subdomain.contains('.') {
        return Err(invalid(
            "contains a dot: give only the subdomain (`acme` for acme.zendesk.com), or set a full base URL with ClientConfig::base_url",
        ));
    }
    if !subdomain
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(invalid(
            "may contain only ASCII letters, digits and hyphens",
        ));
    }
    if subdomain.starts_with('-') || subdomain.ends_with('-') {
        return Err(invalid("may not start or end with a hyphen"));
    }
    Ok(format!(
        "https://{}.zendesk.com",
        subdomain.to_ascii_lowercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_must_be_host_labels() {
        assert_eq!(subdomain_url("acme").unwrap(), "https://acme.zendesk.com");
        assert_eq!(
            subdomain_url("Acme-Support2").unwrap(),
            "https://acme-support2.zendesk.com"
        );
        for (bad, why) in [
            ("", "empty"),
            ("acme.zendesk.com", "dot"),
            ("ac me", "letters"),
            ("acme/evil", "letters"),
            ("-acme", "hyphen"),
            ("acme-", "hyphen"),
            ("évian", "letters"),
        ] {
            let err = subdomain_url(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        assert!(subdomain_url(&"a".repeat(64)).is_err());
        assert!(subdomain_url(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn api_token_errors_name_the_zendesk_field() {
        let err = api_token_credentials("me@x.com", "tok\r\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("api_token"), "{err}");
        let err = api_token_credentials("", "tok").unwrap_err().to_string();
        assert!(err.contains("email"), "{err}");
        let err = api_token_credentials("a:b@x.com", "tok")
            .unwrap_err()
            .to_string();
        assert!(err.contains("email"), "{err}");
    }

    #[test]
    fn a_client_without_base_url_is_refused() {
        let creds = Credentials::bearer("t").unwrap();
        let err = Client::with_config(creds, ClientConfig::new()).unwrap_err();
        assert!(err.to_string().contains("base URL"), "{err}");
    }
}
