use obs_runtime::MetricSet;
use obs_runtime::metrics::Histogram;

#[derive(MetricSet)]
#[metrics(prefix = "ai")]
struct AiMetrics {
    /// Time to answer one request; the unit is not in the name.
    request_time: Histogram,
}

fn main() {}
