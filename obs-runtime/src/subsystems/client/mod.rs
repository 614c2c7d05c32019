//! Outbound HTTP calls (feature `client`): [`ObsClientLayer`] for any
//! tower client (hyper-util's legacy `Client`, tonic channels, axum or
//! tower stacks) and, with feature `reqwest`, [`ObsMiddleware`] for
//! reqwest-middleware.
//!
//! Each call records, as OpenTelemetry's HTTP client conventions name
//! them in Prometheus:
//!
//! - `http_client_request_duration_seconds{http_request_method,
//!   server_address, server_port, http_response_status_code, error_type}`,
//!   a histogram with the server's bucket bounds (5 ms … 10 s), timed until
//!   the response head arrives; its `_count` counts calls. `error_type` is
//!   empty for an answer below 500, the status code for 5xx, and for a call
//!   with no answer `timeout`, `connect`, an I/O error's kind
//!   ([`error_type`]), `cancelled` (the caller stopped waiting) or `_OTHER`.
//! - `http_client_active_requests{http_request_method, server_address,
//!   server_port}`, the calls waiting for their answer.
//!
//! No path or query is a label; `server_address` is open, so both families
//! are capped (10,000 series each by default, then the overflow series and
//! `obs_cardinality_overflow_total`). Methods outside the standard ones
//! are `_OTHER`.
//!
//! Each call also opens a client span (`otel.kind = "client"`) named after
//! the method (`GET`), a child of the current span, with
//! `http.request.method`, `server.address`, `server.port`, `url.full`
//! (user name and password replaced by `[CREDENTIALS]`, every query value
//! by `[REDACTED]`, the rest through [`redact`](crate::redact::redact)),
//! `http.response.status_code` and `error.type`; with feature `otlp` its
//! context goes out as `traceparent`, `tracestate` and `baggage`. Inside a
//! request served through [`ObsLayer`](crate::http::ObsLayer) (or any span
//! that recorded a `request_id`, under obs's subscriber), the request's id
//! goes out as `X-Request-ID` unless the caller set one.
//!
//! ```
//! use tower_layer::Layer as _;
//!
//! // hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http()
//! // in a real program; any `Service<http::Request<_>>` here.
//! let inner = tower::service_fn(|_req: http::Request<String>| async {
//!     Ok::<_, std::io::Error>(http::Response::new(String::new()))
//! });
//! let client = obs_runtime::client::ObsClientLayer::new().layer(inner);
//! # let _ = client;
//! ```

// After tower-http's layout: the layer, the service, the response future;
// the call record both front ends share, the families it records into and
// the classification of failures.
mod call;
mod error;
mod future;
mod layer;
mod metrics;
#[cfg(feature = "reqwest")]
mod reqwest;
mod service;

pub use error::error_type;
pub use future::ResponseFuture;
pub use layer::ObsClientLayer;
// For the catalog, which lists obs's own families before their first use.
#[allow(
    unused_imports,
    reason = "the catalog's hook; the layer registers them too"
)]
pub(crate) use metrics::register_metrics;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use reqwest::ObsMiddleware;
pub use service::{BoxError, ObsClientService};
