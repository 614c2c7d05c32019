use obs_runtime::MetricSet;
use obs_runtime::metrics::Counter;

#[derive(MetricSet)]
#[metrics(prefix = "app")]
struct AppMetrics {
    /// Errors, by type.
    #[metric(help = "Errors")]
    errors_total: Counter,
}

fn main() {}
