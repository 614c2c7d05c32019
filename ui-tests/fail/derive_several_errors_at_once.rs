use obs_runtime::MetricSet;
use obs_runtime::metrics::{Counter, Gauge, Histogram};

// Every problem the derive itself sees is reported in the same build.
#[derive(MetricSet)]
#[metrics(prefix = "brain")]
struct BrainMetrics {
    missions_total: Counter,
    /// Missions waiting, by priority.
    queue_sizes: Vec<u64>,
    /// Workers running.
    #[metric(unit = "bytes")]
    workers_active: Gauge,
    /// Mission duration.
    #[metric(buckets = "db", buckets = "ai")]
    missions_duration_seconds: Histogram,
}

fn main() {}
