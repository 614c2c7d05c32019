use obs_runtime::MetricSet;
use obs_runtime::metrics::Counter;

#[derive(MetricSet)]
#[metrics(prefix = "cache")]
struct CacheMetrics {
    /// Lookups answered from the cache.
    hits: Counter,
}

fn main() {}
