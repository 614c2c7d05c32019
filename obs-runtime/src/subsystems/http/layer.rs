//! [`ObsLayer`]: request metrics, request ids, a server span and an access
//! log line for every request of a tower service (axum, hyper, tonic).

use std::sync::OnceLock;

use super::compat::{HttpMetricNames, InstrumentatorOptions};
use super::metrics::register_metrics;
use super::objectives::{self, RouteObjectiveError};
use super::route::SeriesCache;
use super::service::ObsService;
use crate::leaves::schema::Objective;

/// Paths that get no metrics, span or log line by default: the scrape
/// and the probes ([`PROBE_PATHS`](crate::health::PROBE_PATHS), and below
/// them), which would otherwise drown the service's own traffic.
pub const METRICS_PATH: &str = "/metrics";

/// Which paths get no instrumentation.
#[derive(Debug, Clone)]
pub(super) struct Exclusions {
    pub(super) exact: Vec<String>,
}

impl Exclusions {
    pub(super) fn contains(&self, path: &str) -> bool {
        self.exact.iter().any(|e| {
            // `/readyz` also covers the single-check paths `/readyz/<name>`.
            path == e
                || path
                    .strip_prefix(e.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

/// The tower layer: for each request, `http_server_request_duration_seconds`
/// (its `_count` counts requests), `http_server_active_requests`, the
/// request and response body size histograms, a request id, a server span
/// named `METHOD route` that continues an incoming `traceparent`, and one
/// access-log event (target `obs::access`) with sanitized headers.
///
/// Labels are OpenTelemetry's HTTP attributes as Prometheus spells them:
/// `http_request_method` (`_OTHER` outside the standard set), `http_route`
/// (the router's template, never the raw path; [`UNMATCHED_ROUTE`](super::UNMATCHED_ROUTE) when no
/// route matched), `http_response_status_code` and `error_type` (the status
/// code on 5xx, `cancelled` when the caller went away first, empty
/// otherwise). The families are bounded by the cardinality guard.
///
/// Objectives per route and for the whole service are declared on the
/// layer ([`slo`](Self::slo), [`default_slo`](Self::default_slo)); the
/// generated alerts, dashboards and docs are computed from these families.
///
/// With axum, add the layer with `Router::layer` after the routes and the
/// `fallback` (axum applies a layer to what the router holds at that point,
/// and it is inside the router that `MatchedPath` is known); routes merged
/// afterwards, such as [`routes`](crate::http::routes), stay uninstrumented.
///
/// ```
/// use axum::{Router, routing::get};
///
/// let app: Router = Router::new()
///     .route("/users/{id}", get(|| async { "ada" }))
///     .layer(obs_runtime::http::ObsLayer::new());
/// ```
#[derive(Debug, Clone)]
pub struct ObsLayer {
    /// Shared by every service the layer makes, by plain reference: axum
    /// clones a route's service for each request, and a reference-counted
    /// list would cost two contended atomic operations per request.
    pub(super) exclusions: &'static Exclusions,
    pub(super) names: HttpMetricNames,
    /// How the instrumentator's families are labelled, when asked for.
    pub(super) compat: InstrumentatorOptions,
}

impl Default for ObsLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl ObsLayer {
    /// The layer with the default exclusions: [`METRICS_PATH`] and the
    /// health probes.
    ///
    /// ```
    /// let _layer = obs_runtime::http::ObsLayer::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        static DEFAULT: OnceLock<Exclusions> = OnceLock::new();
        register_metrics();
        Self {
            exclusions: DEFAULT.get_or_init(|| Exclusions {
                exact: std::iter::once(METRICS_PATH)
                    .chain(crate::subsystems::health::PROBE_PATHS.iter().copied())
                    .map(str::to_owned)
                    .collect(),
            }),
            names: HttpMetricNames::OpenTelemetry,
            compat: InstrumentatorOptions::default(),
        }
    }

    /// Which names the request metrics are written under: OpenTelemetry's
    /// (the default), or also those of `prometheus-fastapi-instrumentator`,
    /// so a service moving from Python keeps its dashboards and alerts
    /// (see [`HttpMetricNames`]), labelled as [`instrumentator`](Self::instrumentator)
    /// says (`handler` and grouped statuses by default). The families are
    /// registered when the layer wraps a router.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use obs_runtime::http::{HttpMetricNames, ObsLayer};
    ///
    /// let app: Router = Router::new()
    ///     .route("/doc/items/{id}", get(|| async { "ok" }))
    ///     .layer(ObsLayer::new().metric_names(HttpMetricNames::Instrumentator));
    /// assert!(obs_runtime::encode_text().contains("# TYPE http_requests_total counter"));
    /// ```
    #[must_use]
    pub fn metric_names(self, names: HttpMetricNames) -> Self {
        Self { names, ..self }
    }

    /// Writes the instrumentator's families (as
    /// [`metric_names`](Self::metric_names)`(HttpMetricNames::Instrumentator)`)
    /// labelled as `options` say: the route under `handler` or `endpoint`,
    /// the status grouped (`2xx`) or exact (`200`).
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use obs_runtime::http::{InstrumentatorOptions, ObsLayer, RouteLabel};
    ///
    /// let app: Router = Router::new()
    ///     .route("/doc/orders/{id}", get(|| async { "ok" }))
    ///     .layer(ObsLayer::new().instrumentator(
    ///         InstrumentatorOptions::default()
    ///             .route_label(RouteLabel::Endpoint)
    ///             .exact_status(true),
    ///     ));
    /// assert!(obs_runtime::encode_text().contains("# TYPE http_requests_total counter"));
    /// ```
    #[must_use]
    pub fn instrumentator(self, options: InstrumentatorOptions) -> Self {
        Self {
            names: HttpMetricNames::Instrumentator,
            compat: options,
            ..self
        }
    }

    /// Also leaves `path` (and the paths below it) uninstrumented.
    ///
    /// The list is kept for the life of the program, as layers are built
    /// once at start-up: each call holds on to a copy of a few paths.
    ///
    /// ```
    /// let _layer = obs_runtime::http::ObsLayer::new().exclude("/internal/ping");
    /// ```
    #[must_use]
    pub fn exclude(self, path: impl Into<String>) -> Self {
        let mut exclusions = self.exclusions.clone();
        exclusions.exact.push(path.into());
        Self {
            exclusions: Box::leak(Box::new(exclusions)),
            ..self
        }
    }

    /// Declares an objective for the requests of `route`, a template as
    /// the router writes it (`"/users/{id}"`), usually made with
    /// [`slo!`](crate::slo), which checks it at compile time.
    ///
    /// A request answered with a 5xx status, or failed by the service
    /// without a response (`error_type="_OTHER"`), is a bad event; any
    /// other status a good one; a request whose caller went away before
    /// the response (`error_type="cancelled"`) is not an event, as
    /// `cancelled` calls of functions. A handler that panics is answered
    /// 500 (bad) by a panic-catching layer inside this one
    /// (tower-http's `CatchPanic`); without one the connection is dropped
    /// and the request counts as `cancelled`. The latency SLI counts the requests answered
    /// within the bound (at or under it: its bucket) among all of them.
    ///
    /// The objective is declared for the whole program when this is
    /// called: [`catalog()`](crate::catalog()) and the exports (`ObsSlo*`
    /// burn-rate alerts per route, recording rules, the Objectives
    /// dashboard, `docs/metrics.md`) see it once the router is built, so
    /// a program that exports its rules builds its router first. A second
    /// objective for the same route replaces the first.
    ///
    /// # Errors
    /// A `route` that is not a template in the router's syntax (`/users/:id`,
    /// `users/{id}`, an unclosed `{`), or an objective built by hand that
    /// `slo!` would have refused (such as a latency that is not a bucket
    /// bound of `http_server_request_duration_seconds`).
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use obs_runtime::{http::ObsLayer, slo};
    ///
    /// let layer = ObsLayer::new()
    ///     .slo("/doc/users/{id}", slo!(success = "99.9%", latency = "250ms", percentile = "99%"))?
    ///     .default_slo(slo!(success = "99.5%"))?;
    /// let app: Router = Router::new()
    ///     .route("/doc/users/{id}", get(|| async { "ada" }))
    ///     .layer(layer);
    /// let catalog = obs_runtime::catalog();
    /// let users = catalog.route_objectives().iter().find(|r| r.route == "/doc/users/{id}").unwrap();
    /// assert_eq!(users.objective.latency_ms, Some(250));
    /// # Ok::<(), obs_runtime::http::RouteObjectiveError>(())
    /// ```
    pub fn slo(self, route: &str, objective: Objective) -> Result<Self, RouteObjectiveError> {
        objectives::declare(route, objective)?;
        Ok(self)
    }

    /// Declares the objective of every route without one of its own
    /// ([`slo`](Self::slo)), the service-wide default. Its rules are
    /// written once, for all those routes together, and computed per
    /// `http_route`: each route's requests are held to the objective on
    /// their own, and an alert's `http_route` label says which route burns.
    /// Requests no route matched (`http_route="unmatched"`) are left out:
    /// they are scanners and typos, not the service. The same definitions
    /// of good and bad events as [`slo`](Self::slo); a later call replaces
    /// an earlier one.
    ///
    /// # Errors
    /// An objective built by hand that `slo!` would have refused.
    ///
    /// ```
    /// let _layer = obs_runtime::http::ObsLayer::new()
    ///     .default_slo(obs_runtime::slo!(success = "99.5%", period = "28d"))?;
    /// # Ok::<(), obs_runtime::http::RouteObjectiveError>(())
    /// ```
    pub fn default_slo(self, objective: Objective) -> Result<Self, RouteObjectiveError> {
        objectives::declare_default(objective)?;
        Ok(self)
    }
}

impl<S> tower_layer::Layer<S> for ObsLayer {
    type Service = ObsService<S>;

    fn layer(&self, inner: S) -> ObsService<S> {
        ObsService {
            inner,
            exclusions: self.exclusions,
            cache: SeriesCache::next(),
            instrumentator: (self.names == HttpMetricNames::Instrumentator).then(|| {
                // Registered here, once the options are settled, so a
                // scrape shows the families before the first request.
                super::compat::register_for(self.compat);
                self.compat
            }),
        }
    }
}
