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
#[derive(Debug, Clone, Default)]
pub struct ObsClientLayer {
    /// The server of a client bound to one (a tonic `Channel`), for
    /// requests whose URI is only a path.
    origin: Option<http::Uri>,
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
        Self { origin: None }
    }

    /// The layer for a client bound to one server, such as a tonic
    /// `Channel`: tonic's generated clients send requests whose URI is only
    /// the method's path, so without this the calls would have no
    /// `server_address`. A request that names its own authority keeps it.
    ///
    /// ```
    /// use tower::ServiceExt as _;
    /// use tower_layer::Layer as _;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let inner = tower::service_fn(|_req: http::Request<String>| async {
    ///     Ok::<_, std::io::Error>(http::Response::new(String::new()))
    /// });
    /// let server: http::Uri = "http://collector.internal:4317".parse().unwrap();
    /// let client = obs_runtime::client::ObsClientLayer::for_server(server).layer(inner);
    /// client
    ///     .oneshot(http::Request::post("/pkg.Service/Method").body(String::new()).unwrap())
    ///     .await
    ///     .unwrap();
    /// assert!(obs_runtime::encode_text().contains(
    ///     r#"server_address="collector.internal",server_port="4317",http_response_status_code="200""#
    /// ));
    /// # }
    /// ```
    #[must_use]
    pub fn for_server(server: http::Uri) -> Self {
        super::metrics::register_metrics();
        Self {
            origin: Some(server),
        }
    }
}

impl<S> tower_layer::Layer<S> for ObsClientLayer {
    type Service = ObsClientService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ObsClientService {
            inner,
            origin: self.origin.clone(),
        }
    }
}
