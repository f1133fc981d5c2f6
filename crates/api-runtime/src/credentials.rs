//! Credentials: the `Authorization` header every request carries, or an API key in a header
//! or a query parameter of its own.
//!
//! A [`Credentials`] value holds the finished value, marked sensitive so that reqwest and
//! hyper never print it, and it has no `Display` and a redacting `Debug`: the secret cannot
//! reach a log line, an error message or a snapshot through this type. An API key sent in
//! the query is accepted only under a name that the spans' `url.full` redacts.

use std::fmt;
use std::sync::Arc;

use reqwest::header::{HeaderName, HeaderValue};

use crate::error::ConfigError;
use crate::token::{TokenProvider, check_secret_part, secret_header};

/// How a client authenticates. Build one with the constructor for your service's scheme, or
/// from a [`TokenProvider`] for tokens that the client renews itself.
#[derive(Clone)]
pub struct Credentials(Source);

#[derive(Clone)]
pub(crate) enum Source {
    /// A fixed value (`header`, marked sensitive), sent in `place`.
    Fixed {
        scheme: Scheme,
        place: Place,
        header: HeaderValue,
    },
    /// Bearer tokens from a provider, cached and renewed by the client.
    Provider(Arc<dyn TokenProvider>),
}

/// Where a fixed credential goes on each request.
#[derive(Clone, Debug)]
pub(crate) enum Place {
    /// The `Authorization` header.
    Authorization,
    /// A header of its own (an API key's `X-API-Key`).
    Header(HeaderName),
    /// A query parameter (an API key's `api_key`), appended to every request's URL.
    Query(Box<str>),
}

/// The authentication scheme of a [`Credentials`] value, safe to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheme {
    /// HTTP Basic (`Authorization: Basic base64(user:password)`).
    Basic,
    /// A bearer token (`Authorization: Bearer <token>`).
    Bearer,
    /// Bearer tokens that the client obtains and renews itself (OAuth).
    ManagedBearer,
    /// An API key in a header or a query parameter of its own.
    ApiKey,
}

impl Credentials {
    /// HTTP Basic credentials.
    ///
    /// Fails if either part is empty, contains a control character (CR and LF included, which
    /// could otherwise split a header), or the username contains `:` (which Basic cannot carry).
    pub fn basic(username: &str, password: &str) -> Result<Self, ConfigError> {
        check_secret_part("username", username)?;
        check_secret_part("password", password)?;
        if username.contains(':') {
            return Err(ConfigError::InvalidCredential {
                field: "username",
                reason: "contains ':', which HTTP Basic cannot carry",
            });
        }
        let encoded = base64(format!("{username}:{password}").as_bytes());
        let header = secret_header("password", password, &format!("Basic {encoded}"), false)?;
        Ok(Self(Source::Fixed {
            scheme: Scheme::Basic,
            place: Place::Authorization,
            header,
        }))
    }

    /// A fixed bearer token (an OAuth access token or an API key).
    ///
    /// Fails if the token is empty or contains whitespace or a control character.
    pub fn bearer(token: &str) -> Result<Self, ConfigError> {
        Ok(Self(Source::Fixed {
            scheme: Scheme::Bearer,
            place: Place::Authorization,
            header: crate::token::bearer_header(token)?,
        }))
    }

    /// An API key sent as the header `name` (`X-API-Key: <key>`) on every request.
    ///
    /// Fails if the key is empty or contains a control character, or `name` is not a header
    /// name (or is `Authorization`: use [`bearer`](Self::bearer) or [`basic`](Self::basic)).
    pub fn api_key_header(name: &str, key: &str) -> Result<Self, ConfigError> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .ok()
            .filter(|n| n != reqwest::header::AUTHORIZATION)
            .ok_or(ConfigError::InvalidCredential {
                field: "header name",
                reason: "is not a header name other than Authorization",
            })?;
        Ok(Self(Source::Fixed {
            scheme: Scheme::ApiKey,
            place: Place::Header(name),
            header: secret_header("API key", key, key, false)?,
        }))
    }

    /// An API key sent as the query parameter `name` (`?api_key=<key>`) on every request.
    ///
    /// Fails if the key is empty or contains a control character, or if `name` is empty or
    /// not a name whose value the spans' `url.full` shows as `REDACTED` (it must contain
    /// `key`, `token`, `secret`, `auth`, `code`, `credential`, `password` or `session`, or be
    /// `sig`): a key under another name would reach traces.
    pub fn api_key_query(name: &str, key: &str) -> Result<Self, ConfigError> {
        if name.is_empty() || !crate::telemetry::is_secret_query_name(name) {
            return Err(ConfigError::InvalidCredential {
                field: "query parameter name",
                reason: "is not a name whose value traces redact (such as `api_key`)",
            });
        }
        Ok(Self(Source::Fixed {
            scheme: Scheme::ApiKey,
            place: Place::Query(name.into()),
            header: secret_header("API key", key, key, false)?,
        }))
    }

    /// Bearer tokens from `provider`, which the client asks for a token when it has none,
    /// ahead of the current one's expiry, and once more when the server refuses it (401);
    /// see [`TokenProvider`].
    pub fn from_provider(provider: impl TokenProvider) -> Self {
        Self(Source::Provider(Arc::new(provider)))
    }

    /// The scheme, for diagnostics.
    pub fn scheme(&self) -> Scheme {
        match &self.0 {
            Source::Fixed { scheme, .. } => *scheme,
            Source::Provider(_) => Scheme::ManagedBearer,
        }
    }

    /// The fixed `Authorization` header value, marked sensitive (`None` for tokens from a
    /// provider, which change, and for an API key, which goes elsewhere).
    pub fn header_value(&self) -> Option<&HeaderValue> {
        match &self.0 {
            Source::Fixed {
                place: Place::Authorization,
                header,
                ..
            } => Some(header),
            Source::Fixed { .. } | Source::Provider(_) => None,
        }
    }

    pub(crate) fn source(&self) -> &Source {
        &self.0
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Credentials");
        out.field("scheme", &self.scheme());
        match &self.0 {
            Source::Fixed { .. } => out.field("secret", &"<redacted>"),
            Source::Provider(provider) => out.field("provider", provider),
        };
        out.finish()
    }
}

/// `text` form-encoded (`application/x-www-form-urlencoded`, as `Url::query_pairs_mut`
/// writes a query value and RFC 6749 Appendix B an OAuth client's identifier and secret).
pub(crate) fn form_encoded(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Standard base64 with padding (RFC 4648 §4), as HTTP Basic requires.
fn base64(input: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_encodes_like_rfc_7617() {
        // The example from RFC 7617 §2.
        let c = Credentials::basic("Aladdin", "open sesame").unwrap();
        let header = c.header_value().unwrap();
        assert_eq!(
            header.to_str().unwrap(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert!(header.is_sensitive());
    }

    #[test]
    fn base64_pads_every_remainder() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }

    #[test]
    fn header_injection_is_refused_at_construction() {
        for bad in ["tok\r\nX-Evil: 1", "tok\n", "tok\0"] {
            let err = Credentials::bearer(bad).unwrap_err();
            assert!(err.to_string().contains("token"), "{err}");
            let err = Credentials::basic("user", bad).unwrap_err();
            assert!(err.to_string().contains("password"), "{err}");
        }
        assert!(Credentials::bearer("").is_err());
        assert!(Credentials::bearer("two words").is_err());
        assert!(Credentials::basic("a:b", "pw").is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = Credentials::bearer("s3cr3t-token").unwrap();
        let printed = format!("{c:?} {:?}", c.header_value().unwrap());
        assert!(!printed.contains("s3cr3t"), "{printed}");
        let c = Credentials::basic("me@example.com/token", "s3cr3t").unwrap();
        let printed = format!("{c:?} {:?}", c.header_value().unwrap());
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert!(!printed.contains(&base64(b"me@example.com/token:s3cr3t")));
        for c in [
            Credentials::api_key_header("X-API-Key", "s3cr3t-key").unwrap(),
            Credentials::api_key_query("api_key", "s3cr3t-key").unwrap(),
        ] {
            let printed = format!("{c:?}");
            assert!(!printed.contains("s3cr3t"), "{printed}");
            assert_eq!(c.scheme(), Scheme::ApiKey);
            assert!(c.header_value().is_none(), "not an Authorization value");
        }
    }

    #[test]
    fn an_api_key_needs_a_usable_name_and_key() {
        assert!(Credentials::api_key_header("X-API-Key", "").is_err());
        assert!(Credentials::api_key_header("X-API-Key", "k\r\nX-Evil: 1").is_err());
        assert!(Credentials::api_key_header("bad name", "key").is_err());
        assert!(Credentials::api_key_header("Authorization", "key").is_err());
        assert!(Credentials::api_key_query("api_key", "").is_err());
        // A name traces would show is refused: the key would reach `url.full`.
        let err = Credentials::api_key_query("appid", "key").unwrap_err();
        assert!(err.to_string().contains("traces redact"), "{err}");
        assert!(Credentials::api_key_query("", "key").is_err());
        assert!(Credentials::api_key_query("apiKey", "key").is_ok());
    }
}
