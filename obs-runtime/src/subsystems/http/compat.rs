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

#[derive(LabelSet)]
#[label(crate = "crate")]
pub(super) struct TotalLabels {
    handler: &'static str,
    method: &'static str,
    status: &'static str,
}

#[derive(LabelSet)]
#[label(crate = "crate")]
pub(super) struct HandlerMethod {
    handler: &'static str,
    method: &'static str,
}

#[derive(LabelSet)]
#[label(crate = "crate")]
pub(super) struct HandlerLabels {
    handler: &'static str,
}

pub(super) struct CompatMetrics {
    pub(super) total: &'static Counter<TotalLabels>,
    pub(super) duration: &'static Histogram<HandlerMethod>,
    pub(super) duration_highr: &'static Histogram<()>,
    pub(super) request_size: &'static Histogram<HandlerLabels>,
    pub(super) response_size: &'static Histogram<HandlerLabels>,
    pub(super) in_progress: &'static UpDownGauge<HandlerMethod>,
}

/// The families, registered on the first layer that asks for them.
pub(super) fn metrics() -> &'static CompatMetrics {
    static METRICS: OnceLock<CompatMetrics> = OnceLock::new();
    METRICS.get_or_init(|| {
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
                        LOWR,
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
    })
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
    pub(super) in_progress: &'static UpDownCell,
    /// The request's `Content-Length`, 0 without one.
    pub(super) request_size: u64,
}

impl Compat {
    pub(super) fn start(method: &str, route: &str, request_size: u64) -> Self {
        let in_progress = metrics().in_progress.with_values(&[handler(route), method]);
        in_progress.inc();
        Self {
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
        status: u16,
        seconds: f64,
        response_size: u64,
    ) {
        let m = metrics();
        let handler = handler(route);
        m.total
            .with_values(&[handler, method, grouped(status)])
            .inc();
        m.duration.with_values(&[handler, method]).observe(seconds);
        m.duration_highr.observe(seconds);
        #[allow(clippy::cast_precision_loss)]
        {
            m.request_size
                .with_values(&[handler])
                .observe(self.request_size as f64);
            m.response_size
                .with_values(&[handler])
                .observe(response_size as f64);
        }
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
        Counter::<TotalLabels>::new("http_requests_total", "h").unwrap();
        Histogram::<HandlerMethod>::new("http_request_duration_seconds", "h", LOWR).unwrap();
        Histogram::<()>::new("http_request_duration_highr_seconds", "h", HIGHR).unwrap();
        Histogram::<HandlerLabels>::new("http_request_size_bytes", "h", schema::BYTES).unwrap();
        Histogram::<HandlerLabels>::new("http_response_size_bytes", "h", schema::BYTES).unwrap();
        crate::metric_core::metrics::Gauge::<HandlerMethod>::new("http_requests_in_progress", "h")
            .unwrap();
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
