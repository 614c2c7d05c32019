//! The `prometheus-fastapi-instrumentator` families, written beside the
//! OpenTelemetry ones when a layer asks for them
//! ([`HttpMetricNames::Instrumentator`]), so the dashboards and alerts of
//! a service moving from Python keep working on day one.
//!
//! As the instrumentator's defaults write them: `http_requests_total`
//! `{handler,method,status}` with the status grouped (`2xx`, `4xx`, `5xx`;
//! a query's `status=~"5.."` matches `5xx` too),
//! `http_request_duration_seconds{handler,method}` on its buckets 0.1, 0.5
//! and 1 s, `http_request_duration_highr_seconds` without labels on its 21
//! finer buckets, `http_request_size_bytes{handler}` and
//! `http_response_size_bytes{handler}` from the `Content-Length` headers (0
//! without one), and `http_requests_in_progress{handler,method}`. The
//! handler is the route template; a request no route matched is `none`.
//! The size families are histograms where the instrumentator has summaries
//! without quantiles: the same `_sum` and `_count` series.

use std::sync::OnceLock;

use crate::LabelSet;
use crate::leaves::schema;
use crate::metric_core::metrics::cell::UpDownCell;
use crate::metric_core::metrics::{Counter, Histogram, UpDownGauge};
use crate::metric_core::registry::register_or_unexposed;

/// Which names and labels [`ObsLayer`](super::ObsLayer) writes its request
/// metrics under.
///
/// ```
/// use obs_runtime::http::{HttpMetricNames, ObsLayer};
///
/// let _layer = ObsLayer::new().metric_names(HttpMetricNames::Instrumentator);
/// assert_eq!(HttpMetricNames::default(), HttpMetricNames::OpenTelemetry);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HttpMetricNames {
    /// OpenTelemetry's HTTP semantic conventions as Prometheus spells them
    /// (`http_server_request_duration_seconds{http_request_method,
    /// http_route,http_response_status_code,error_type}`, …): the default,
    /// and what obs's objectives, alerts and dashboards are computed from.
    #[default]
    OpenTelemetry,
    /// Also the families of `prometheus-fastapi-instrumentator` (the
    /// Python client's conventions): `http_requests_total{handler,method,
    /// status}`, `http_request_duration_seconds{handler,method}`,
    /// `http_request_duration_highr_seconds`, `http_request_size_bytes`,
    /// `http_response_size_bytes` (`{handler}`) and
    /// `http_requests_in_progress{handler,method}`. The OpenTelemetry
    /// families stay, as obs's generated rules read them.
    Instrumentator,
}

/// The instrumentator's `latency_lowr_buckets`.
pub(super) const LOWR: &[f64] = &[0.1, 0.5, 1.0];
/// The instrumentator's `latency_highr_buckets`.
pub(super) const HIGHR: &[f64] = &[
    0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0,
    7.5, 10.0, 30.0, 60.0,
];

/// What the instrumentator calls a request no route matched.
pub(super) const UNTEMPLATED: &str = "none";

/// The name of the label that holds the route template in the
/// instrumentator's families.
///
/// ```
/// use obs_runtime::http::RouteLabel;
/// assert_eq!(RouteLabel::default(), RouteLabel::Handler);
/// assert_eq!(RouteLabel::Endpoint.name(), "endpoint");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RouteLabel {
    /// `handler`, as prometheus-fastapi-instrumentator names it.
    #[default]
    Handler,
    /// `endpoint`, as services that wrote their Python middleware by hand
    /// often named it (`http_requests_total{method,endpoint,status}`).
    Endpoint,
}

impl RouteLabel {
    /// The label's name.
    ///
    /// ```
    /// assert_eq!(obs_runtime::http::RouteLabel::Handler.name(), "handler");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Handler => "handler",
            Self::Endpoint => "endpoint",
        }
    }
}

/// How the instrumentator's families are labelled: the route label's name
/// and whether the status is grouped (`2xx`, the instrumentator's default)
/// or exact (`200`). Hand it to
/// [`ObsLayer::instrumentator`](super::ObsLayer::instrumentator).
///
/// Both stay bounded: the route label holds route templates only (`none`
/// for a request no route matched), an exact status is one of at most
/// 500 codes.
///
/// ```
/// use obs_runtime::http::{InstrumentatorOptions, RouteLabel};
/// let options = InstrumentatorOptions::default()
///     .route_label(RouteLabel::Endpoint)
///     .exact_status(true);
/// assert_eq!(options.route_label_name(), "endpoint");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct InstrumentatorOptions {
    route_label: RouteLabel,
    exact_status: bool,
    latency_buckets: Option<&'static [f64]>,
}

impl InstrumentatorOptions {
    /// The route label's name: `handler` (the default) or `endpoint`. The
    /// families are the process's: the first layer to register them fixes
    /// the label; a layer that asks for the other name later is told so in
    /// a warning and counts unexposed.
    ///
    /// ```
    /// use obs_runtime::http::{InstrumentatorOptions, RouteLabel};
    /// let o = InstrumentatorOptions::default().route_label(RouteLabel::Endpoint);
    /// assert_eq!(o.route_label_name(), "endpoint");
    /// ```
    #[must_use]
    pub fn route_label(self, label: RouteLabel) -> Self {
        Self {
            route_label: label,
            ..self
        }
    }

    /// `status="200"` rather than the instrumentator's `status="2xx"`.
    ///
    /// ```
    /// let o = obs_runtime::http::InstrumentatorOptions::default().exact_status(true);
    /// assert!(o.is_exact_status());
    /// ```
    #[must_use]
    pub fn exact_status(self, exact: bool) -> Self {
        Self {
            exact_status: exact,
            ..self
        }
    }

    /// The bounds of `http_request_duration_seconds`, in seconds, as the
    /// instrumentator's `latency_lowr_buckets` sets them (default 0.1,
    /// 0.5, 1): a team whose alerts read a p99 above 2 s needs bounds
    /// above it. Like the route label, the first layer to register the
    /// families fixes them; bounds that are not finite, positive and
    /// strictly increasing are refused with a warning, and the default
    /// kept.
    ///
    /// ```
    /// let o = obs_runtime::http::InstrumentatorOptions::default()
    ///     .latency_buckets(&[0.1, 0.25, 0.5, 1.0, 2.5, 5.0]);
    /// assert_eq!(o.latency_bounds(), &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0]);
    /// ```
    #[must_use]
    pub fn latency_buckets(self, bounds: &'static [f64]) -> Self {
        Self {
            latency_buckets: Some(bounds),
            ..self
        }
    }

    /// The bounds `http_request_duration_seconds` gets from these options.
    ///
    /// ```
    /// let o = obs_runtime::http::InstrumentatorOptions::default();
    /// assert_eq!(o.latency_bounds(), &[0.1, 0.5, 1.0]);
    /// ```
    #[must_use]
    pub fn latency_bounds(&self) -> &'static [f64] {
        match self.latency_buckets {
            Some(b)
                if !b.is_empty()
                    && b.iter().all(|x| x.is_finite() && *x > 0.0)
                    && b.windows(2).all(|w| w.first() < w.get(1)) =>
            {
                b
            }
            Some(b) => {
                tracing::warn!(
                    target: "obs",
                    bounds = ?b,
                    "instrumentator latency buckets refused: they must be finite, positive and strictly increasing; keeping 0.1, 0.5, 1"
                );
                LOWR
            }
            None => LOWR,
        }
    }

    /// The route label's name.
    ///
    /// ```
    /// assert_eq!(obs_runtime::http::InstrumentatorOptions::default().route_label_name(), "handler");
    /// ```
    #[must_use]
    pub fn route_label_name(&self) -> &'static str {
        self.route_label.name()
    }

    pub(super) fn label(self) -> RouteLabel {
        self.route_label
    }

    /// Whether statuses are exact.
    ///
    /// ```
    /// assert!(!obs_runtime::http::InstrumentatorOptions::default().is_exact_status());
    /// ```
    #[must_use]
    pub fn is_exact_status(&self) -> bool {
        self.exact_status
    }
}

/// The label sets of one spelling of the route label: the families'
/// label names come from their label set types.
macro_rules! label_sets {
    ($module:ident, $route:ident) => {
        pub(super) mod $module {
            use crate::LabelSet;

            #[derive(LabelSet)]
            #[label(crate = "crate")]
            pub(in super::super) struct Total {
                $route: &'static str,
                method: &'static str,
                status: &'static str,
            }

            #[derive(LabelSet)]
            #[label(crate = "crate")]
            pub(in super::super) struct RouteMethod {
                $route: &'static str,
                method: &'static str,
            }

            #[derive(LabelSet)]
            #[label(crate = "crate")]
            pub(in super::super) struct Route {
                $route: &'static str,
            }
        }
    };
}
label_sets!(by_handler, handler);
label_sets!(by_endpoint, endpoint);

pub(super) struct CompatMetrics<
    T: LabelSet + 'static,
    RM: LabelSet + 'static,
    R: LabelSet + 'static,
> {
    pub(super) total: &'static Counter<T>,
    pub(super) duration: &'static Histogram<RM>,
    pub(super) duration_highr: &'static Histogram<()>,
    pub(super) request_size: &'static Histogram<R>,
    pub(super) response_size: &'static Histogram<R>,
    pub(super) in_progress: &'static UpDownGauge<RM>,
}

/// The families of one spelling, whatever its label names: what a request
/// records into.
pub(super) trait Families: Sync {
    /// The in-progress cell of a route and method.
    fn in_progress(&'static self, route: &str, method: &str) -> &'static UpDownCell;
    /// Records one answered request.
    fn record(
        &'static self,
        route: &str,
        method: &str,
        status: &str,
        seconds: f64,
        sizes: (u64, u64),
    );
}

impl<T, RM, R> Families for CompatMetrics<T, RM, R>
where
    T: LabelSet + 'static,
    RM: LabelSet + 'static,
    R: LabelSet + 'static,
{
    fn in_progress(&'static self, route: &str, method: &str) -> &'static UpDownCell {
        self.in_progress.with_values(&[route, method])
    }

    fn record(
        &'static self,
        route: &str,
        method: &str,
        status: &str,
        seconds: f64,
        (request_size, response_size): (u64, u64),
    ) {
        self.total.with_values(&[route, method, status]).inc();
        self.duration.with_values(&[route, method]).observe(seconds);
        self.duration_highr.observe(seconds);
        #[allow(clippy::cast_precision_loss)]
        {
            self.request_size
                .with_values(&[route])
                .observe(request_size as f64);
            self.response_size
                .with_values(&[route])
                .observe(response_size as f64);
        }
    }
}

fn register<T, RM, R>() -> CompatMetrics<T, RM, R>
where
    T: LabelSet + 'static,
    RM: LabelSet + 'static,
    R: LabelSet + 'static,
{
    const WHAT: &str = "instrumentator HTTP metric";
    CompatMetrics {
        total: register_or_unexposed(
            WHAT,
            || {
                Counter::unchecked(
                    "http_requests_total".into(),
                    "Total number of requests by method, status and handler.".into(),
                )
            },
            Counter::register,
        ),
        duration: register_or_unexposed(
            WHAT,
            || {
                Histogram::unchecked(
                    "http_request_duration_seconds".into(),
                    "Latency with only few buckets by handler and method.".into(),
                    LATENCY_BOUNDS.get().copied().unwrap_or(LOWR),
                )
            },
            Histogram::register,
        ),
        duration_highr: register_or_unexposed(
            WHAT,
            || {
                Histogram::unchecked(
                    "http_request_duration_highr_seconds".into(),
                    "Latency with many buckets but no API specific labels.".into(),
                    HIGHR,
                )
            },
            Histogram::register,
        ),
        request_size: register_or_unexposed(
            WHAT,
            || {
                Histogram::unchecked(
                    "http_request_size_bytes".into(),
                    "Content length of incoming requests by handler.".into(),
                    schema::BYTES,
                )
            },
            Histogram::register,
        ),
        response_size: register_or_unexposed(
            WHAT,
            || {
                Histogram::unchecked(
                    "http_response_size_bytes".into(),
                    "Content length of outgoing responses by handler.".into(),
                    schema::BYTES,
                )
            },
            Histogram::register,
        ),
        in_progress: register_or_unexposed(
            WHAT,
            || {
                UpDownGauge::unchecked(
                    "http_requests_in_progress".into(),
                    "Number of HTTP requests in progress.".into(),
                )
            },
            UpDownGauge::register,
        ),
    }
}

/// The bounds of `http_request_duration_seconds`, fixed by the first
/// layer that registers the families.
static LATENCY_BOUNDS: OnceLock<&'static [f64]> = OnceLock::new();

/// Registers the families of `options` (the first layer's bounds win; a
/// later layer asking for others is told so).
pub(super) fn register_for(options: InstrumentatorOptions) {
    let wanted = options.latency_bounds();
    let fixed = *LATENCY_BOUNDS.get_or_init(|| wanted);
    if fixed != wanted {
        tracing::warn!(
            target: "obs",
            fixed = ?fixed,
            wanted = ?wanted,
            "http_request_duration_seconds already has other bounds; this layer's are not used"
        );
    }
    let _ = metrics(options.label());
}

/// The families of `label`, registered on the first layer that asks for
/// them.
pub(super) fn metrics(label: RouteLabel) -> &'static dyn Families {
    type ByHandler = CompatMetrics<by_handler::Total, by_handler::RouteMethod, by_handler::Route>;
    type ByEndpoint =
        CompatMetrics<by_endpoint::Total, by_endpoint::RouteMethod, by_endpoint::Route>;
    static HANDLER: OnceLock<ByHandler> = OnceLock::new();
    static ENDPOINT: OnceLock<ByEndpoint> = OnceLock::new();
    match label {
        RouteLabel::Handler => HANDLER.get_or_init(register),
        RouteLabel::Endpoint => ENDPOINT.get_or_init(register),
    }
}

/// `2xx`, `4xx`, …: the instrumentator's grouped status.
pub(super) fn grouped(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        5 => "5xx",
        _ => "none",
    }
}

/// The handler label of a route.
pub(super) fn handler(route: &str) -> &str {
    if route == schema::UNMATCHED_ROUTE {
        UNTEMPLATED
    } else {
        route
    }
}

/// A request in flight under the instrumentator's names: in the
/// in-progress gauge until dropped, however the request ends.
pub(super) struct Compat {
    families: &'static dyn Families,
    exact_status: bool,
    pub(super) in_progress: &'static UpDownCell,
    /// The request's `Content-Length`, 0 without one.
    pub(super) request_size: u64,
}

impl Compat {
    pub(super) fn start(
        options: InstrumentatorOptions,
        method: &str,
        route: &str,
        request_size: u64,
    ) -> Self {
        let families = metrics(options.route_label);
        let in_progress = families.in_progress(handler(route), method);
        in_progress.inc();
        Self {
            families,
            exact_status: options.exact_status,
            in_progress,
            request_size,
        }
    }

    /// Records a response: the instrumentator counts only requests that
    /// got one.
    pub(super) fn finish(
        &self,
        method: &str,
        route: &str,
        status: http::StatusCode,
        seconds: f64,
        response_size: u64,
    ) {
        let status = if self.exact_status {
            status.as_str()
        } else {
            grouped(status.as_u16())
        };
        self.families.record(
            handler(route),
            method,
            status,
            seconds,
            (self.request_size, response_size),
        );
    }
}

impl Drop for Compat {
    fn drop(&mut self) {
        self.in_progress.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names, labels and buckets pass the rules every metric of obs
    /// passes (the families are built unchecked, as obs's own are).
    #[test]
    fn the_instrumentator_names_pass_the_schema() {
        use by_endpoint as e;
        use by_handler as h;
        Counter::<h::Total>::new("http_requests_total", "h").unwrap();
        Counter::<e::Total>::new("http_requests_total", "h").unwrap();
        Histogram::<h::RouteMethod>::new("http_request_duration_seconds", "h", LOWR).unwrap();
        Histogram::<e::RouteMethod>::new("http_request_duration_seconds", "h", LOWR).unwrap();
        Histogram::<()>::new("http_request_duration_highr_seconds", "h", HIGHR).unwrap();
        Histogram::<h::Route>::new("http_request_size_bytes", "h", schema::BYTES).unwrap();
        Histogram::<e::Route>::new("http_response_size_bytes", "h", schema::BYTES).unwrap();
        crate::metric_core::metrics::Gauge::<h::RouteMethod>::new("http_requests_in_progress", "h")
            .unwrap();
        assert_eq!(
            <e::Total as LabelSet>::NAMES,
            ["endpoint", "method", "status"]
        );
    }

    #[test]
    fn statuses_are_grouped_and_unmatched_is_none() {
        assert_eq!(grouped(204), "2xx");
        assert_eq!(grouped(503), "5xx");
        assert_eq!(grouped(0), "none");
        assert_eq!(handler(schema::UNMATCHED_ROUTE), "none");
        assert_eq!(handler("/users/{id}"), "/users/{id}");
    }
}
