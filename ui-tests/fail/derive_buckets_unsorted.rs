use obs_runtime::MetricSet;
use obs_runtime::metrics::Histogram;

#[derive(MetricSet)]
#[metrics(prefix = "deploy")]
struct DeployMetrics {
    /// Time from start to the last ring.
    #[metric(buckets = [60, 300, 30, 1800])]
    duration_seconds: Histogram,
}

fn main() {}
