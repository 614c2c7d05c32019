//! The HTTP server families (`http_server_request_duration_seconds`,
//! the request and response size histograms, `http_server_active_requests`),
//! named and labelled as OpenTelemetry's HTTP semantic conventions are in
//! Prometheus.

use std::sync::OnceLock;

use crate::LabelSet;
use crate::leaves::schema;
use crate::metric_core::metrics::{Histogram, UpDownGauge};
use crate::metric_core::registry::register_or_unexposed;

/// Labels of the request histograms, spelled as OpenTelemetry's HTTP
/// attributes are in Prometheus. Open: routes and status codes are known
/// at run time, so the families are capped maps, filled by `with_values`.
#[derive(LabelSet)]
#[label(crate = "crate")]
pub(super) struct RequestLabels {
    http_request_method: &'static str,
    http_route: &'static str,
    http_response_status_code: &'static str,
    error_type: &'static str,
}

/// Labels of the active-requests gauge.
#[derive(LabelSet)]
#[label(crate = "crate")]
pub(super) struct ActiveLabels {
    http_request_method: &'static str,
    http_route: &'static str,
}

/// The HTTP server metrics, registered once for the program.
pub(super) struct HttpMetrics {
    pub(super) duration: &'static Histogram<RequestLabels>,
    pub(super) request_size: &'static Histogram<RequestLabels>,
    pub(super) response_size: &'static Histogram<RequestLabels>,
    pub(super) active: &'static UpDownGauge<ActiveLabels>,
}

pub(super) fn metrics() -> &'static HttpMetrics {
    static METRICS: OnceLock<HttpMetrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let histogram = |name: &'static str, help: &'static str, buckets: &'static [f64]| {
            register_or_unexposed(
                "HTTP metric",
                || Histogram::<RequestLabels>::unchecked(name.into(), help.into(), buckets),
                Histogram::register,
            )
        };
        HttpMetrics {
            duration: histogram(
                "http_server_request_duration_seconds",
                "Duration of HTTP server requests, until the response head is ready.",
                schema::HTTP,
            ),
            request_size: histogram(
                "http_server_request_size_bytes",
                "Size of HTTP server request bodies, from Content-Length or the body's exact size.",
                schema::BYTES,
            ),
            response_size: histogram(
                "http_server_response_size_bytes",
                "Size of HTTP server response bodies, from Content-Length or the bytes sent.",
                schema::BYTES,
            ),
            active: register_or_unexposed(
                "HTTP metric",
                || {
                    UpDownGauge::<ActiveLabels>::unchecked(
                        "http_server_active_requests".into(),
                        "HTTP server requests being handled now.".into(),
                    )
                },
                UpDownGauge::register,
            ),
        }
    })
}

/// Makes sure the HTTP families exist (empty) before the first request.
pub(crate) fn register_metrics() {
    metrics();
}

/// The standard methods, in the order of their cache slots; anything
/// else is `_OTHER`, as the OpenTelemetry conventions say (methods are
/// unbounded).
pub(super) const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER",
];

/// The method's label and its index in [`METHODS`].
pub(crate) fn method_label(method: &http::Method) -> (usize, &'static str) {
    use http::Method;
    // Standard methods compare as enum tags, not as text.
    let i = match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::POST => 2,
        Method::PUT => 3,
        Method::DELETE => 4,
        Method::CONNECT => 5,
        Method::OPTIONS => 6,
        Method::TRACE => 7,
        Method::PATCH => 8,
        _ => 9,
    };
    (i, method_at(i))
}

/// The label of method slot `index` (from [`method_label`]); `_OTHER` past
/// the standard methods.
pub(crate) fn method_at(index: usize) -> &'static str {
    METHODS.get(index).copied().unwrap_or("_OTHER")
}

/// How many status codes per method a service keeps handles for; further
/// ones are looked up in the families each time.
pub(super) const STATUS_SLOTS: usize = 4;
