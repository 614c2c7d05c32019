// `crate = ".."` on every derive, for a renamed dependency, as
// `#[instrumented(crate = "..")]` has it; and a metric set's field typed
// by an alias, whose kind comes from the type, not the name written.
extern crate obs_runtime as my_obs;

use my_obs::metrics::{Counter, Histogram};
use my_obs::{LabelSet, LabelSetKind, LabelValue, MetricSet};

#[derive(LabelValue, Clone, Copy)]
#[label(crate = "::my_obs")]
enum Tier {
    Free,
    Paid,
}

#[derive(LabelSet, Clone, Copy)]
#[label(crate = "::my_obs")]
struct TierLabels {
    tier: Tier,
}

type Signups = Counter<TierLabels>;
type Latency = Histogram;

#[derive(MetricSet)]
#[metrics(prefix = "ui_renamed", crate = "::my_obs")]
struct Renamed {
    /// Sign-ups by tier.
    signups_total: Signups,
    /// Time to sign up.
    signup_seconds: Latency,
}

#[my_obs::instrumented(crate = "::my_obs", metric = "ui_renamed_call")]
fn call() {}

fn main() {
    assert_eq!(TierLabels::KIND.cardinality(), Some(2));
    assert!(matches!(TierLabels::KIND, LabelSetKind::Bounded(_)));
    let m = Renamed::global();
    m.signups_total.with(TierLabels { tier: Tier::Paid }).inc();
    m.signup_seconds.observe(0.2);
    call();
    let text = my_obs::encode_text();
    assert!(text.contains("ui_renamed_signups_total{tier=\"paid\"} 1\n"), "{text}");
    assert!(text.contains("ui_renamed_signups_total{tier=\"free\"} 0\n"), "{text}");
    assert!(text.contains("# TYPE ui_renamed_signup_seconds histogram\n"), "{text}");
}
