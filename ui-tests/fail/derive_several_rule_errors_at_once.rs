use obs_runtime::metrics::{Counter, Gauge, Histogram};
use obs_runtime::{LabelSet, MetricSet};

#[derive(LabelSet, Clone, Copy)]
struct CallLabels {
    user_id: &'static str,
    le: &'static str,
}

// Every broken schema rule is reported in the same build.
#[derive(MetricSet)]
#[metrics(prefix = "svc")]
struct ServiceMetrics {
    /// Calls to other services.
    calls: Counter<CallLabels>,
    /// Connections in use.
    connections_total: Gauge,
    /// Call latency.
    #[metric(buckets = [1.0, 0.5])]
    call_duration: Histogram,
}

fn main() {}
