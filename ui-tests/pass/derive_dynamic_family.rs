use obs_runtime::metrics::Counter;
use obs_runtime::{LabelSet, LabelSetKind, LabelValue, MetricSet};

#[derive(LabelValue, Clone, Copy)]
enum Status {
    Success,
    Failure,
}

// `connector` comes from configuration, known only at run time but compiled
// in as `&'static str`: a bounded dynamic family.
#[derive(LabelSet, Clone, Copy)]
struct ConnectorLabels {
    connector: &'static str,
    status: Status,
}

#[derive(MetricSet)]
#[metrics(prefix = "ui_connector")]
struct ConnectorMetrics {
    /// Operations against a connector, by outcome.
    #[metric(max_series = 2)]
    operations_total: Counter<ConnectorLabels>,
}

fn main() {
    assert!(matches!(ConnectorLabels::KIND, LabelSetKind::Open));
    let m = ConnectorMetrics::global();
    for connector in ["intune", "jamf", "sccm", "landscape"] {
        m.operations_total
            .with(ConnectorLabels {
                connector,
                status: Status::Success,
            })
            .inc();
    }
    m.operations_total
        .with(ConnectorLabels {
            connector: "intune",
            status: Status::Failure,
        })
        .inc();

    let text = obs_runtime::encode_text();
    assert!(
        text.contains("ui_connector_operations_total{connector=\"intune\",status=\"success\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("obs_cardinality_overflow_total{metric=\"ui_connector_operations_total\"}"),
        "{text}"
    );
    assert!(!text.contains("connector=\"landscape\""), "{text}");
}
