use obs_runtime::MetricSet;
use obs_runtime::metrics::{Counter, Gauge};

#[derive(MetricSet)]
#[metrics(prefix = "db_pool")]
struct PoolMetrics {
    /// Connections checked out.
    active: Gauge,
    idle: Gauge,
    /// Checkouts that waited for a connection.
    waits_total: Counter,
}

fn main() {
    // The set still has its `global()`: only the missing doc is reported.
    PoolMetrics::global().active.set(1.0);
}
