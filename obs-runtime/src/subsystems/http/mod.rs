//! HTTP services (feature `tower`; the endpoints need `axum`): the
//! [`ObsLayer`] that measures, traces and logs every request, request ids,
//! and with `axum` the operational endpoints: `/metrics` behind an IP
//! allowlist ([`MetricsConfig`]) and the health probes, mounted with
//! [`routes`] or served on an internal port with [`serve_internal`].
//!
//! ```
//! use axum::{Router, routing::get};
//!
//! let app: Router = Router::new()
//!     .route("/users/{id}", get(|| async { "ada" }))
//!     .layer(obs_runtime::http::ObsLayer::new());
//! ```

#[cfg(feature = "axum")]
mod endpoints;
mod layer;
mod request_id;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use endpoints::{
    MetricsConfig, TEXT_FORMAT, metrics_router, routes, routes_with, serve_internal,
};

pub use layer::{
    METRICS_PATH, ObsLayer, ObsService, ResponseBody, ResponseFuture, RouteTemplate,
    UNMATCHED_ROUTE,
};
pub use request_id::RequestId;
