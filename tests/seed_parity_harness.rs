//! The parity harness of the seed ports reads what it checks correctly:
//! the scrape's families and labels, the rules' thresholds, the
//! dashboards' variables, the lists' shape.

#[path = "seed_support/parity.rs"]
mod parity;
#[path = "service_support/mod.rs"]
mod service_support;

use std::time::Duration;

#[test]
fn families_carry_type_and_the_label_names_of_their_samples() {
    let scrape = "# HELP a_total A.\n# TYPE a_total counter\na_total{method=\"GET\",status=\"2xx\"} 1\n\
                  # TYPE h_seconds histogram\nh_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\nh_seconds_sum{route=\"/x\"} 0.05\n\
                  h_seconds_count{route=\"/x\"} 1\n# TYPE g gauge\ng{path=\"a \\\"b\\\", c=d\",mount=\"/\"} 2\n";
    let f = parity::families(scrape);
    assert_eq!(f["a_total"].0, "counter");
    assert_eq!(
        f["a_total"].1.iter().collect::<Vec<_>>(),
        ["method", "status"]
    );
    assert_eq!(f["h_seconds"].0, "histogram");
    assert_eq!(
        f["h_seconds"].1.iter().collect::<Vec<_>>(),
        ["route"],
        "le is implied"
    );
    assert_eq!(
        f["g"].1.iter().collect::<Vec<_>>(),
        ["mount", "path"],
        "an escaped quote and a comma inside a value end no label"
    );
}

#[test]
fn alert_rules_give_each_alert_its_expression_and_for() {
    let rules = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/monitoring/prometheus/rules.yml"
    ))
    .unwrap();
    let alerts = parity::alert_rules(&rules);
    let (expr, for_) = &alerts["ObsHttpHighErrorRatio"];
    assert!(expr.contains(") > 0.05"), "{expr}");
    assert!(
        expr.contains("and on (job, http_route)"),
        "the whole block: {expr}"
    );
    assert_eq!(for_.as_deref(), Some("5m"));
    assert!(!expr.contains("severity"), "labels are not the expression");
    assert!(alerts.len() >= 10, "{:?}", alerts.keys());
}

#[test]
fn dashboard_variables_become_concrete_selectors() {
    let q = parity::concrete(
        "sum by (route) (rate(x_total{job=~\"$job\", instance=~\"$instance\", route=~\"${route}\", q=~\"$queue\"}[$__rate_interval]))",
        "seed",
        "127.0.0.1:1",
    );
    assert_eq!(
        q,
        "sum by (route) (rate(x_total{job=~\"seed\", instance=~\"127.0.0.1:1\", route=~\".*\", q=~\".*\"}[1m]))"
    );
}

#[test]
fn durations_read_as_prometheus_writes_them() {
    assert_eq!(parity::duration("500ms"), Duration::from_millis(500));
    assert_eq!(parity::duration("2s"), Duration::from_secs(2));
    assert_eq!(parity::duration("5m"), Duration::from_secs(300));
    assert_eq!(parity::duration("1.5s"), Duration::from_millis(1500));
}
