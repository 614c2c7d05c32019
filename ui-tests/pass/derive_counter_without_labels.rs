use obs_runtime::MetricSet;
use obs_runtime::metrics::{Counter, Gauge};

// No prefix: each metric is named after its field.
#[derive(MetricSet)]
struct Business {
    /// Garment scan events.
    scans_total: Counter,
    /// Escalations to a human reviewer.
    escalations_total: Counter,
    /// Seconds since the process started.
    #[metric(name = "ui_app_uptime_seconds")]
    uptime: Gauge,
}

fn main() {
    let m = Business::global();
    m.scans_total.inc();
    m.scans_total.inc_by(2);
    m.uptime.set(12.5);

    let text = obs_runtime::encode_text();
    for line in [
        "# TYPE scans_total counter\n",
        "scans_total 3\n",
        "escalations_total 0\n",
        "ui_app_uptime_seconds 12.5\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}
