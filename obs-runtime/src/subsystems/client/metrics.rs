//! The HTTP client families (`http_client_request_duration_seconds`,
//! `http_client_active_requests`), named and labelled as OpenTelemetry's
//! HTTP client conventions are in Prometheus.

use std::sync::OnceLock;

use crate::LabelSet;
use crate::leaves::schema;
use crate::metric_core::metrics::{Histogram, UpDownGauge};
use crate::metric_core::registry::register_or_unexposed;

/// Labels of the duration histogram. Open: the server's address is known
/// at run time, so the family is a capped map filled by `with_values`; no
/// path or query is ever a label.
#[derive(LabelSet)]
#[label(crate = "crate")]
pub(super) struct CallLabels {
    http_request_method: &'static str,
    server_address: &'static str,
    server_port: &'static str,
    http_response_status_code: &'static str,
    error_type: &'static str,
}

/// Labels of the active-requests gauge.
#[derive(LabelSet)]
#[label(crate = "crate")]
pub(super) struct ActiveLabels {
    http_request_method: &'static str,
    server_address: &'static str,
    server_port: &'static str,
}

/// The HTTP client metrics, registered once for the program.
pub(super) struct ClientMetrics {
    pub(super) duration: &'static Histogram<CallLabels>,
    pub(super) active: &'static UpDownGauge<ActiveLabels>,
}

pub(super) fn metrics() -> &'static ClientMetrics {
    static METRICS: OnceLock<ClientMetrics> = OnceLock::new();
    METRICS.get_or_init(|| ClientMetrics {
        duration: register_or_unexposed(
            "HTTP client metric",
            || {
                Histogram::<CallLabels>::unchecked(
                    "http_client_request_duration_seconds".into(),
                    "Duration of HTTP client requests, until the response head arrived or the call failed.".into(),
                    schema::HTTP,
                )
            },
            Histogram::register_own,
        ),
        active: register_or_unexposed(
            "HTTP client metric",
            || {
                UpDownGauge::<ActiveLabels>::unchecked(
                    "http_client_active_requests".into(),
                    "HTTP client requests waiting for their response head now.".into(),
                )
            },
            UpDownGauge::register,
        ),
    })
}

/// Makes sure the client families exist (empty) before the first call,
/// so a scrape, the catalog and the exports see them.
pub(crate) fn register_metrics() {
    metrics();
}
