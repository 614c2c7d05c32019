use obs_runtime::MetricSet;
use obs_runtime::metrics::Histogram;

#[derive(MetricSet)]
#[metrics(prefix = "llm")]
struct LlmMetrics {
    /// Time to the last token.
    #[metric(buckets = "llm")]
    request_duration_seconds: Histogram,
}

fn main() {}
