//! [`ObsMiddleware`], the same record for reqwest-middleware clients.

use http::Extensions;
use reqwest_middleware::{Middleware, Next};

use super::call::{Call, Target};

/// A reqwest-middleware [`Middleware`] recording each call as
/// [`ObsClientLayer`](super::ObsClientLayer) does: the `http_client_*`
/// families, the client span, `traceparent`/`tracestate`/`baggage` and
/// `X-Request-ID` on the way out. Failures are classified from
/// `reqwest::Error`'s `is_timeout`/`is_connect` and the error's sources.
///
/// ```
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(obs_runtime::client::ObsMiddleware::new())
///     .build();
/// # let _ = client;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ObsMiddleware {
    _private: (),
}

impl ObsMiddleware {
    /// The middleware; the client families are registered (empty) now.
    ///
    /// ```
    /// let _middleware = obs_runtime::client::ObsMiddleware::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        super::metrics::register_metrics();
        Self { _private: () }
    }
}

#[async_trait::async_trait]
impl Middleware for ObsMiddleware {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let mut call = {
            let url = req.url();
            let target = Target {
                scheme: url.scheme(),
                host: url.host_str().unwrap_or_default(),
                port: url.port_or_known_default(),
                userinfo: !url.username().is_empty() || url.password().is_some(),
                path: url.path(),
                query: url.query(),
            };
            Call::start(req.method(), &target)
        };
        call.write_headers(req.headers_mut());
        let span = call.span.clone();
        let result = tracing::Instrument::instrument(next.run(req, extensions), span).await;
        match &result {
            Ok(response) => call.answered(response.status()),
            Err(reqwest_middleware::Error::Reqwest(e)) => call.failed(e),
            Err(reqwest_middleware::Error::Middleware(e)) => call.failed(e.as_ref()),
        }
        result
    }
}
