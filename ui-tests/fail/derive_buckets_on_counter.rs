use obs_runtime::MetricSet;
use obs_runtime::metrics::Counter;

#[derive(MetricSet)]
#[metrics(prefix = "llm")]
struct LlmMetrics {
    /// Tokens used.
    #[metric(buckets = "ai")]
    tokens_used_total: Counter,
}

fn main() {}
