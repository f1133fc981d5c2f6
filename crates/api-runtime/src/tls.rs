//! TLS: rustls with the ring provider, certificates checked against the system's roots.

/// Installs ring as the process's rustls crypto provider unless one is installed already.
///
/// reqwest is built without a provider of its own (that keeps aws-lc and its C build out of
/// the tree) and needs one before a `reqwest::Client` is built. If the application installed
/// a provider first, that one is kept.
pub(crate) fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing one is fine: a provider is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
