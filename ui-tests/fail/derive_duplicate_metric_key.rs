use obs_runtime::MetricSet;
use obs_runtime::metrics::Histogram;

#[derive(MetricSet)]
#[metrics(prefix = "db")]
struct DbMetrics {
    /// Query latency.
    #[metric(buckets = "db")]
    #[metric(buckets = "latency")]
    query_duration_seconds: Histogram,
}

fn main() {}
