use obs_runtime::metrics::Gauge;
use obs_runtime::{LabelSet, LabelValue, MetricSet};

#[derive(LabelValue, Clone, Copy, PartialEq, Eq)]
enum Breaker {
    #[label(rename = "CLOSED")]
    Closed,
    #[label(rename = "OPEN")]
    Open,
    #[label(rename = "HALF_OPEN")]
    HalfOpen,
}

#[derive(LabelValue, Clone, Copy)]
enum Model {
    #[label(rename = "gpt-4o")]
    Gpt4o,
    #[label(rename = "claude-3.5-sonnet")]
    Claude35Sonnet,
}

#[derive(LabelSet, Clone, Copy)]
struct BreakerLabels {
    breaker: Model,
    state: Breaker,
}

#[derive(MetricSet)]
#[metrics(prefix = "ui_circuit_breaker")]
struct BreakerMetrics {
    /// 1 for the breaker's current state, 0 for the others.
    state: Gauge<BreakerLabels>,
}

fn main() {
    assert_eq!(Breaker::HalfOpen.label_value(), "HALF_OPEN");
    assert_eq!(Model::Claude35Sonnet.label_value(), "claude-3.5-sonnet");
    assert_eq!(Breaker::COUNT, 3);

    let m = BreakerMetrics::global();
    for state in [Breaker::Closed, Breaker::Open, Breaker::HalfOpen] {
        let now = f64::from(u8::from(state == Breaker::Open));
        m.state
            .with(BreakerLabels {
                breaker: Model::Gpt4o,
                state,
            })
            .set(now);
    }
    let text = obs_runtime::encode_text();
    for line in [
        "ui_circuit_breaker_state{breaker=\"gpt-4o\",state=\"OPEN\"} 1\n",
        "ui_circuit_breaker_state{breaker=\"gpt-4o\",state=\"HALF_OPEN\"} 0\n",
        "ui_circuit_breaker_state{breaker=\"claude-3.5-sonnet\",state=\"CLOSED\"} 0\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}
