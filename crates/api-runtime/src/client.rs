//! What every generated client gets besides its operations, written once.

/// Adds the hand-written constructors and per-call overrides to a generated `Client`:
/// `with_config`, `with_retry`, `with_timeouts` and accessors. Used by the client crates;
/// not part of the public API.
///
/// `with_config`'s docs are the doc comments given before the service name; the default
/// base URL is `None` for a service without one (Zendesk: every account has its own host).
/// `operation_rate_limits` (optional) lists the operations with a rate limit of their own, in
/// requests a minute: the client's default per-operation budgets (see `RateLimits`).
/// `request_id_headers` (optional) names the service's own request-id response headers.
#[doc(hidden)]
#[macro_export]
macro_rules! impl_client {
    (
        $client:ident,
        $(#[$with_config_doc:meta])*
        service: $service:literal,
        default_base_url: $default_base_url:expr,
        operations: $operations:expr
        $(, operation_rate_limits: $budgets:expr)?
        $(, request_id_headers: $request_ids:expr)? $(,)?
    ) => {
        impl $client {
            $(#[$with_config_doc])*
            pub fn with_config(
                credentials: $crate::Credentials,
                config: $crate::ClientConfig,
            ) -> ::std::result::Result<Self, $crate::ConfigError> {
                let config = config
                    $(.service_rate_limits($budgets))?
                    $(.service_info($crate::ServiceInfo { request_id_headers: $request_ids }))?;
                let (base_url, http, runtime) =
                    config.build($service, $default_base_url, Some(credentials), $operations)?;
                Ok(Self::new_with_client(&base_url, http, runtime))
            }

            /// A clone of this client that runs its calls with another retry policy, for one
            /// call or a group of calls (`client.with_retry(RetryPolicy::disabled())`). It
            /// shares this client's connection pool, credentials, request-slot limit and rate
            /// limiter, and costs two reference-count increments and one small allocation.
            pub fn with_retry(&self, retry: $crate::RetryPolicy) -> Self {
                Self::new_with_client(&self.baseurl, self.client.clone(), self.inner.with_retry(retry))
            }

            /// A clone of this client that runs its calls with other timeouts; it shares this
            /// client's connection pool, credentials, request-slot limit and rate limiter. The
            /// connect
            /// timeout belongs to the connection pool and stays the client's.
            pub fn with_timeouts(&self, timeouts: $crate::Timeouts) -> Self {
                Self::new_with_client(
                    &self.baseurl,
                    self.client.clone(),
                    self.inner.with_timeouts(timeouts),
                )
            }

            /// A client without credentials whose calls are retried as a token endpoint's
            /// (every method as if idempotent, 500 included), for the client crate's OAuth
            /// token requests. Not part of the public API.
            #[doc(hidden)]
            pub fn token_endpoint_client(
                config: $crate::ClientConfig,
            ) -> ::std::result::Result<Self, $crate::ConfigError> {
                let (base_url, http, runtime) =
                    config.build($service, $default_base_url, None, $operations)?;
                Ok(Self::new_with_client(&base_url, http, runtime.for_token_endpoint()))
            }

            /// The base URL every request goes to.
            pub fn base_url(&self) -> &str {
                &self.baseurl
            }

            /// The `reqwest::Client` this client sends with (its connection pool and TLS
            /// settings), for other requests that should share them.
            pub fn http_client(&self) -> &$crate::reqwest::Client {
                &self.client
            }

            /// The retry policy this client's calls run with.
            pub fn retry_policy(&self) -> &$crate::RetryPolicy {
                self.inner.retry_policy()
            }

            /// The timeouts this client's calls run with.
            pub fn timeouts(&self) -> &$crate::Timeouts {
                self.inner.timeouts()
            }
        }
    };
}
