//! Client configuration: base URL, retry policy, timeouts, limits and TLS roots.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::credentials::Credentials;
use crate::error::ConfigError;
use crate::operation::OperationSpec;
use crate::pacing::{Limiter, RateLimits};
use crate::paginate::PageLimits;
use crate::retry::RetryPolicy;
use crate::runtime::{Runtime, RuntimeParts};
use crate::telemetry::{Telemetry, TelemetryParts};
use crate::time::Clock;
use crate::timeouts::Timeouts;

/// The default cap on a response body: 16 MiB, some 40 times the largest real page (100
/// Zendesk users with custom fields weigh about 400 KiB).
pub const DEFAULT_MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// Everything a client needs besides its credentials. Every knob has a documented default.
///
/// ```
/// use std::time::Duration;
/// use api_runtime::{ClientConfig, RetryPolicy};
///
/// let config = ClientConfig::new()
///     .base_url("http://127.0.0.1:8080")
///     .retry(RetryPolicy::default().with_max_attempts(2))
///     .call_timeout(Duration::from_secs(30));
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct ClientConfig {
    pub(crate) base_url: Option<String>,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeouts: Timeouts,
    pub(crate) max_body_bytes: u64,
    pub(crate) root_certificates: Vec<reqwest::Certificate>,
    pub(crate) user_agent: String,
    pub(crate) pool_max_idle_per_host: usize,
    pub(crate) max_concurrent_requests: Option<usize>,
    pub(crate) http_client: Option<reqwest::Client>,
    pub(crate) proxy: ProxySetting,
    pub(crate) page_limits: PageLimits,
    pub(crate) rate_limits: RateLimits,
    pub(crate) clock: Clock,
    pub(crate) service: ServiceInfo,
    /// Spans and metrics on (telemetry.rs).
    pub(crate) telemetry: bool,
    /// The meter the metrics go to; `None`: the global meter provider's.
    #[cfg(feature = "metrics")]
    pub(crate) meter: Option<opentelemetry::metrics::Meter>,
}

/// What a client crate tells the runtime about its service. Not part of the public API.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceInfo {
    /// The service's own request-id response headers (lower case), kept on errors and read
    /// by `ApiError::request_id` first.
    pub request_id_headers: &'static [&'static str],
}

/// Where requests go before they reach the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ProxySetting {
    /// The proxies the environment names (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, and
    /// `NO_PROXY` for exceptions), read when the client is built; none if it names none.
    Environment,
    /// Straight to the service, whatever the environment says.
    Direct,
    /// Through this proxy for every request.
    Url(String),
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            root_certificates: Vec::new(),
            user_agent: concat!("user-apis/", env!("CARGO_PKG_VERSION")).to_string(),
            pool_max_idle_per_host: 128,
            max_concurrent_requests: None,
            http_client: None,
            proxy: ProxySetting::Environment,
            page_limits: PageLimits::default(),
            rate_limits: RateLimits::default(),
            clock: Clock::real(),
            service: ServiceInfo::default(),
            telemetry: true,
            #[cfg(feature = "metrics")]
            meter: None,
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("root_certificates", &self.root_certificates.len())
            .field("user_agent", &self.user_agent)
            .field("pool_max_idle_per_host", &self.pool_max_idle_per_host)
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .field("http_client", &self.http_client.is_some())
            .field("page_limits", &self.page_limits)
            .field(
                "proxy",
                &match &self.proxy {
                    ProxySetting::Url(url) => format!("Url({})", without_userinfo(url)),
                    other => format!("{other:?}"),
                },
            )
            .field("rate_limits", &self.rate_limits)
            .field("clock", &self.clock)
            .field("telemetry", &self.telemetry)
            .finish()
    }
}

impl ClientConfig {
    /// The defaults: the service's real base URL, [`RetryPolicy::default`],
    /// [`Timeouts::default`], [`DEFAULT_MAX_BODY_BYTES`], the system's trusted roots.
    pub fn new() -> Self {
        Self::default()
    }

    /// Send requests to another base URL (a sandbox, a proxy, a test server). It must be an
    /// absolute `http` or `https` URL without query, fragment or credentials; a path prefix
    /// is kept.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Replace the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replace all timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The deadline for a whole call, retries included.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.call = timeout;
        self
    }

    /// The limit for one attempt.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.attempt = timeout;
        self
    }

    /// The largest response body accepted; a larger one fails the call with
    /// [`ErrorKind::BodyTooLarge`](crate::ErrorKind::BodyTooLarge) instead of being buffered.
    pub fn max_body_bytes(mut self, limit: u64) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Trust one more root certificate (a corporate proxy, a test server) besides the system's.
    pub fn add_root_certificate(mut self, certificate: reqwest::Certificate) -> Self {
        self.root_certificates.push(certificate);
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Idle connections kept per host (default 128: a client with up to 128 calls in flight
    /// reuses its connections instead of opening new ones). This bounds *idle* connections only; to
    /// bound open connections, see [`max_concurrent_requests`](Self::max_concurrent_requests).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// At most `max` requests of this client in flight at once (default: no limit); further
    /// calls wait for a slot, within their call deadline (a call whose deadline passes while
    /// it waits fails with [`ErrorKind::Timeout`](crate::ErrorKind::Timeout), unsent).
    ///
    /// A slot is held from sending a request to the last byte of its response. Over HTTP/1.1 a
    /// request in flight occupies one connection, so the connections open at once stay within
    /// `max` busy ones plus the idle ones the pool keeps
    /// ([`pool_max_idle_per_host`](Self::pool_max_idle_per_host)). reqwest and hyper have no cap
    /// on open connections of their own: the pool limits idle connections only, and a
    /// connector concurrency layer limits connection *attempts*, not connections.
    /// `max` is raised to at least 1; a value above what a semaphore can count
    /// (`usize::MAX >> 3`) is lowered to that.
    pub fn max_concurrent_requests(mut self, max: usize) -> Self {
        self.max_concurrent_requests = Some(max.max(1));
        self
    }

    /// The most pages one pagination stream fetches (default 100,000: ten million items at
    /// 100 a page). A listing that claims more after that many pages ends its stream with an
    /// [`ErrorKind::Pagination`](crate::ErrorKind::Pagination) error; `0` counts as `1`.
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.page_limits.max_pages = pages.max(1);
        self
    }

    /// The most empty pages in a row that may still claim more (default 3): a server that
    /// keeps answering empty pages with a next cursor ends the stream with an
    /// [`ErrorKind::Pagination`](crate::ErrorKind::Pagination) error.
    pub fn max_empty_pages(mut self, pages: u32) -> Self {
        self.page_limits.max_empty_pages = pages;
        self
    }

    /// Send every request through this proxy (an `http://` or `https://` URL; user
    /// name and password in it are sent to the proxy, and never shown in errors or `Debug`).
    ///
    /// By default the client uses the proxies the environment names when it is built
    /// (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, with `NO_PROXY` for exceptions), and none
    /// if it names none. A proxy sees the requests it forwards, and for `http://` base URLs
    /// their `Authorization` header too.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxySetting::Url(url.into());
        self
    }

    /// Connect straight to the service, whatever proxies the environment names.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxySetting::Direct;
        self
    }

    /// Use this `reqwest::Client` as it is (its own timeouts, TLS, proxies and pool); the
    /// connect timeout, user agent, pool size, proxy and root certificates of this config are
    /// then unused.
    ///
    /// Call [`install_crypto_provider`](crate::install_crypto_provider) before building it:
    /// the clients' reqwest has no TLS crypto provider of its own, and
    /// `reqwest::Client::builder().build()` panics ("No rustls crypto provider is
    /// configured") until one is installed. Build it with the re-exported
    /// [`reqwest`](crate::reqwest), so that it is the clients' version.
    ///
    /// ```
    /// use std::time::Duration;
    /// use api_runtime::{ClientConfig, reqwest};
    ///
    /// api_runtime::install_crypto_provider(); // before any reqwest::Client is built
    /// let http = reqwest::Client::builder()
    ///     .connect_timeout(Duration::from_secs(5))
    ///     .build()?;
    /// let config = ClientConfig::new().http_client(http);
    /// # let _ = config;
    /// # Ok::<(), reqwest::Error>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// How calls are paced to the services' rate limits (default: learned from the response
    /// headers, plus the client crate's per-operation budgets); see [`RateLimits`].
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// The clock every wait of the client goes through — retry backoffs, `Retry-After`, rate
    /// limiting, bulk-job polling, token renewal — and that call deadlines are measured on
    /// (default: [`Clock::real`]). Give a [`ManualClock`](crate::ManualClock)'s clock in tests
    /// to assert exact waits without waiting them. A manual clock moves only when the client
    /// sleeps or the test advances it, so time spent on I/O does not count against the call
    /// deadline there: per-attempt and connect timeouts, which run on real time, still bound
    /// a slow server.
    ///
    /// ```
    /// use api_runtime::{ClientConfig, ManualClock};
    ///
    /// let manual = ManualClock::new();
    /// let config = ClientConfig::new().clock(manual.clock());
    /// # let _ = config;
    /// ```
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Whether the client emits spans and metrics (default: `true`). Spans go to whatever
    /// `tracing` subscriber is installed and obey its filters (target `api_runtime`, level
    /// INFO); metrics (feature `metrics`) go to the meter provider. `false` turns both off
    /// for this client alone, whatever the subscriber and the meter provider: no span is
    /// opened, nothing is measured.
    pub fn telemetry(mut self, enabled: bool) -> Self {
        self.telemetry = enabled;
        self
    }

    /// The meter provider the client records its metrics into (feature `metrics`). Without
    /// it, the global one ([`opentelemetry::global::set_meter_provider`]) as it is when the
    /// client is built: install it first. The instruments are made once, when the client is
    /// built, and shared by its clones.
    ///
    /// ```
    /// use api_runtime::ClientConfig;
    /// use api_runtime::opentelemetry::metrics::NoopMeterProvider;
    ///
    /// let provider = NoopMeterProvider::new(); // an SDK's `SdkMeterProvider` in practice
    /// let config = ClientConfig::new().meter_provider(&provider);
    /// # let _ = config;
    /// ```
    #[cfg(feature = "metrics")]
    pub fn meter_provider<P>(mut self, provider: &P) -> Self
    where
        P: opentelemetry::metrics::MeterProvider + ?Sized,
    {
        self.meter = Some(provider.meter_with_scope(crate::telemetry::meter_scope()));
        self
    }

    /// What the client crate knows of its service. Not part of the public API.
    #[doc(hidden)]
    pub fn service_info(mut self, info: ServiceInfo) -> Self {
        self.service = info;
        self
    }

    /// The client crate's own per-operation rate-limit budgets. Not part of the public API.
    #[doc(hidden)]
    pub fn service_rate_limits(mut self, budgets: &'static [(&'static str, u32)]) -> Self {
        self.rate_limits = self.rate_limits.with_service_budgets(budgets);
        self
    }

    /// Builds the parts of a generated client: its base URL (this config's, else
    /// `default_base_url`), its `reqwest::Client` and its [`Runtime`]. Called by each client
    /// crate's constructors; not part of the public API.
    #[doc(hidden)]
    pub fn build(
        &self,
        service: &'static str,
        default_base_url: Option<&str>,
        credentials: Option<Credentials>,
        operations: &'static [OperationSpec],
    ) -> Result<(String, reqwest::Client, Runtime), ConfigError> {
        crate::tls::ensure_crypto_provider();
        let base_url = self
            .base_url
            .as_deref()
            .or(default_base_url)
            .ok_or(ConfigError::MissingBaseUrl { service })?;
        let base_url = validate_base_url(base_url)?;
        let (http, http_timeout) = match &self.http_client {
            Some(client) => (client.clone(), None),
            None => (self.build_http_client()?, Some(self.timeouts.attempt())),
        };
        let base_path = reqwest::Url::parse(&base_url)
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default();
        let slots = self.max_concurrent_requests.map(|max| {
            Arc::new(tokio::sync::Semaphore::new(
                max.clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
            ))
        });
        let pacing = Limiter::for_account(
            service,
            &account_of(&base_url),
            &self.rate_limits,
            operations,
            self.clock.clone(),
        )?;
        let runtime = Runtime::new(RuntimeParts {
            service,
            request_id_headers: self.service.request_id_headers,
            credentials,
            retry: self.retry.clone(),
            timeouts: self.timeouts.clone(),
            http_timeout,
            max_body_bytes: self.max_body_bytes,
            slots,
            operations,
            base_path,
            page_limits: self.page_limits,
            pacing,
            clock: self.clock.clone(),
            telemetry: Telemetry::new(TelemetryParts {
                on: self.telemetry,
                service,
                base_url: &base_url,
                #[cfg(feature = "metrics")]
                meter: self.meter.clone(),
            }),
        });
        Ok((base_url, http, runtime))
    }

    fn build_http_client(&self) -> Result<reqwest::Client, ConfigError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.timeouts.connect)
            // Each attempt's timeout (the runtime names a shorter one on the request when the
            // call's deadline is nearer).
            .timeout(self.timeouts.attempt())
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(self.user_agent.clone())
            .redirect(reqwest::redirect::Policy::custom(same_origin_redirects))
            .https_only(false);
        if !self.root_certificates.is_empty() {
            builder = builder.tls_certs_merge(self.root_certificates.iter().cloned());
        }
        builder = match &self.proxy {
            ProxySetting::Environment => builder,
            ProxySetting::Direct => builder.no_proxy(),
            ProxySetting::Url(url) => {
                let invalid = || ConfigError::InvalidProxy {
                    url: without_userinfo(url),
                };
                let parsed = reqwest::Url::parse(url).map_err(|_| invalid())?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(invalid());
                }
                builder.proxy(reqwest::Proxy::all(parsed).map_err(|_| invalid())?)
            }
        };
        builder
            .build()
            .map_err(|e| ConfigError::HttpClient(crate::error::chain(&e)))
    }
}

/// The account a base URL calls, as rate limits count it: its host, and its port when the
/// URL names one (`acme.zendesk.com`, `127.0.0.1:8080`).
fn account_of(base_url: &str) -> String {
    let Ok(url) = reqwest::Url::parse(base_url) else {
        return String::new();
    };
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// Redirects followed within one request.
const MAX_REDIRECTS: usize = 5;

/// The redirect policy: follow a redirect to the same origin (scheme, host and port), up to
/// [`MAX_REDIRECTS`]; never follow one to another origin. Credentials belong to the configured
/// service: a redirect elsewhere is handed back as the 3xx response it is (the call fails with
/// its status and `Location`), so that neither the credentials nor the request itself go to a
/// host the caller did not choose.
///
/// 307 and 308 are never followed: they repeat the method and the body, so following them
/// would send a `POST` (a write that is not safe to repeat) again on each hop. The call fails
/// with the 3xx and its `Location` instead. 301, 302 and 303 are followed as `GET`s without a
/// body (what reqwest, like browsers, does), so no redirect can multiply a write.
fn same_origin_redirects(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    let same_origin = attempt
        .previous()
        .first()
        .is_some_and(|first| first.origin() == attempt.url().origin());
    let repeats_the_request = matches!(attempt.status().as_u16(), 307 | 308);
    if !same_origin || repeats_the_request {
        attempt.stop()
    } else if attempt.previous().len() > MAX_REDIRECTS {
        attempt.error("too many redirects")
    } else {
        attempt.follow()
    }
}

/// `url` as it may be shown in an error: anything before an `@` in its authority (user
/// name and password) replaced by `***`, and at most 200 characters. Works on text, so that
/// a URL that does not parse is redacted too.
pub(crate) fn without_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let shown = match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => url.to_string(),
    };
    shown.chars().take(200).collect()
}

/// Checks a base URL and returns it without a trailing slash (paths are appended to it).
pub(crate) fn validate_base_url(url: &str) -> Result<String, ConfigError> {
    let parsed = reqwest::Url::parse(url);
    // Never repeat a password from the URL in an error, whether or not the URL parses.
    let shown = without_userinfo(url);
    let invalid = |reason: &'static str| ConfigError::InvalidBaseUrl {
        url: shown.clone(),
        reason,
    };
    let parsed = parsed.map_err(|_| invalid("is not an absolute URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("must use http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "must not carry credentials; pass them to the constructor",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(
            validate_base_url("https://acme.zendesk.com/").unwrap(),
            "https://acme.zendesk.com"
        );
        assert_eq!(
            validate_base_url("http://127.0.0.1:9000/prefix/").unwrap(),
            "http://127.0.0.1:9000/prefix"
        );
        for bad in [
            "acme.zendesk.com",
            "ftp://x.example",
            "https://x.example/?a=1",
            "https://x.example/#f",
        ] {
            let err = validate_base_url(bad).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
        let err = validate_base_url("https://user:s3cr3t@x.example").unwrap_err();
        assert!(err.to_string().contains("credentials"), "{err}");
        assert!(!format!("{err} {err:?}").contains("s3cr3t"), "{err:?}");
        // A URL that does not parse is redacted too.
        for bad in [
            "https://user:s3cr3t@exa mple.com",
            "https://user:s3cr3t@[::1/x",
            "user:s3cr3t@host",
            "https://a@b:s3cr3t@x.example:99999/",
        ] {
            let err = validate_base_url(bad).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("s3cr3t"), "{bad}: {shown}");
        }
    }
}
