//! The `ClientHooks` impl every generated client uses, written once.

/// Implements `progenitor_client::ClientHooks<Runtime>` for a generated `Client` whose inner
/// type is [`Runtime`](crate::Runtime): `pre`, `exec` and `post` go to the runtime.
///
/// Invoke it in the client crate, next to `mod generated;` (it reads the generated struct's
/// crate-private `inner` and `client` fields).
#[macro_export]
macro_rules! impl_client_hooks {
    ($client:ty) => {
        impl $crate::progenitor_client::ClientHooks<$crate::Runtime> for $client {
            async fn pre<E>(
                &self,
                request: &mut $crate::reqwest::Request,
                info: &$crate::progenitor_client::OperationInfo,
            ) -> ::std::result::Result<(), $crate::progenitor_client::Error<E>> {
                self.inner.pre(request, info).await
            }

            async fn exec(
                &self,
                request: $crate::reqwest::Request,
                info: &$crate::progenitor_client::OperationInfo,
            ) -> $crate::reqwest::Result<$crate::reqwest::Response> {
                self.inner.exec(&self.client, request, info).await
            }

            async fn post<E>(
                &self,
                result: &$crate::reqwest::Result<$crate::reqwest::Response>,
                info: &$crate::progenitor_client::OperationInfo,
            ) -> ::std::result::Result<(), $crate::progenitor_client::Error<E>> {
                self.inner.post(result, info).await
            }
        }
    };
}
