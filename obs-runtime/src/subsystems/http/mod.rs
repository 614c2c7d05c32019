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

// After tower-http's layout: the layer and its configuration, the service,
// the response future and body, the in-flight record, the route cache, the
// families they record into.
mod body;
mod compat;
#[cfg(feature = "axum")]
mod endpoints;
mod future;
mod in_flight;
mod layer;
mod metrics;
mod objectives;
mod request_id;
mod route;
mod service;
#[cfg(test)]
mod tests;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use endpoints::{
    InternalConfig, MetricsConfig, TEXT_FORMAT, metrics_router, routes, routes_with,
    serve_internal, serve_internal_with,
};

pub use body::{RequestBody, ResponseBody};
pub use compat::{HttpMetricNames, InstrumentatorOptions, RouteLabel};
pub use future::ResponseFuture;
pub use layer::{METRICS_PATH, ObsLayer};
pub use objectives::RouteObjectiveError;
pub(crate) use objectives::{default_objective, route_objectives};
pub use request_id::RequestId;
pub use route::{RouteTemplate, UNMATCHED_ROUTE};
pub use service::ObsService;
// For outbound calls (`subsystems::client`): one method rule and one
// request-id rule for both directions.
#[cfg(feature = "client")]
pub(crate) use metrics::method_label;
#[cfg(feature = "client")]
pub(crate) use request_id::{X_REQUEST_ID, is_valid as is_valid_request_id};
