//! TLS: rustls with the ring provider, certificates checked against the system's roots.

/// Installs ring as the process's rustls crypto provider, unless one is installed already.
///
/// The clients call it themselves when they build their `reqwest::Client`. Call it yourself
/// before you build a `reqwest::Client` of your own (for
/// [`ClientConfig::http_client`](crate::ClientConfig::http_client)): reqwest is built here
/// without a provider of its own (that keeps aws-lc and its C build out of the tree), and
/// `reqwest::Client::builder().build()` panics with "No rustls crypto provider is configured"
/// until one is installed. A provider the application installed first is kept.
///
/// Calling it again, or from several threads at once, is harmless.
///
/// ```
/// api_runtime::install_crypto_provider();
/// let http = api_runtime::reqwest::Client::builder().build()?;
/// # let _ = http;
/// # Ok::<(), api_runtime::reqwest::Error>(())
/// ```
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // rustls 0.23.48 deprecates its ring provider only because ring lacks post-quantum
        // key exchange; it has no other public constructor of it (its own crate-feature
        // fallback calls this one, and panics when another crate also enables aws-lc-rs).
        // Losing a race with another thread installing one is fine: a provider is installed.
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// [`install_crypto_provider`], as the runtime calls it before building a `reqwest::Client`.
pub(crate) fn ensure_crypto_provider() {
    install_crypto_provider();
}
