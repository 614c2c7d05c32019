//! [`ObsClientLayer`], the tower layer for outbound calls.

use super::service::ObsClientService;

/// A tower layer that measures, traces and propagates every outbound HTTP
/// call of the client it wraps: any `Service<http::Request<B>, Response =
/// http::Response<B2>>` whose error converts into a boxed error — hyper-util's
/// legacy `Client`, a tonic `Channel`, a `tower` stack, an axum `Router`
/// called in process.
///
/// Per call it records `http_client_request_duration_seconds` and
/// `http_client_active_requests`, opens a client span named after the
/// method, writes `traceparent`/`tracestate`/`baggage` (feature `otlp`)
/// and the current request's `X-Request-ID` into the request. The wrapped
/// service's error comes back boxed, as tower's own middleware does, after
/// being classified into `error_type`.
///
/// ```
/// use tower_layer::Layer as _;
///
/// let inner = tower::service_fn(|_req: http::Request<String>| async {
///     Ok::<_, std::io::Error>(http::Response::new(String::new()))
/// });
/// let client = obs_runtime::client::ObsClientLayer::new().layer(inner);
/// # let _ = client;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ObsClientLayer {
    _private: (),
}

impl ObsClientLayer {
    /// The layer; the client families are registered (empty) now, so a
    /// scrape shows them before the first call.
    ///
    /// ```
    /// let _layer = obs_runtime::client::ObsClientLayer::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        super::metrics::register_metrics();
        Self { _private: () }
    }
}

impl<S> tower_layer::Layer<S> for ObsClientLayer {
    type Service = ObsClientService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ObsClientService { inner }
    }
}
