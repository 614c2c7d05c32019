use obs_runtime::MetricSet;
use obs_runtime::metrics::Counter;

#[derive(MetricSet)]
#[metrics(prefix = "queue")]
struct QueueMetrics {
    /// Jobs taken from the queue.
    taken_total: Counter,
    /// Recent queue sizes.
    sizes: Vec<u64>,
}

fn main() {}
