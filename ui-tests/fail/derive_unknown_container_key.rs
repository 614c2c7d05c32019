use obs_runtime::metrics::Counter;
use obs_runtime::{LabelSet, LabelValue, MetricSet};

// Each derive's own attribute lists every key it takes.
#[derive(LabelValue, Clone, Copy)]
#[label(krate = "obs")]
enum Tier {
    #[label(name = "free")]
    Free,
}

#[derive(LabelSet, Clone, Copy)]
#[label(prefix = "x")]
struct TierLabels {
    tier: Tier,
}

#[derive(MetricSet)]
#[metrics(prefix = "ui_keys", help = "Signups")]
struct Signups {
    /// Sign-ups by tier.
    signups_total: Counter<TierLabels>,
}

fn main() {}
