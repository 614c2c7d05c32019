use obs_runtime::metrics::Counter;
use obs_runtime::{LabelSet, LabelValue, MetricSet};

// `Other(String)` would make one series per distinct string.
#[derive(LabelValue, Clone)]
enum Provider {
    OpenAi,
    Anthropic,
    Other(String),
}

// Only the variant is reported: the set and the metrics using `Provider`
// add no errors of their own.
#[derive(LabelSet, Clone)]
struct LlmLabels {
    provider: Provider,
}

#[derive(MetricSet)]
#[metrics(prefix = "llm")]
struct LlmMetrics {
    /// Requests, by provider.
    requests_total: Counter<LlmLabels>,
}

fn main() {}
