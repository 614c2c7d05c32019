//! The generated alert rules, judged by promtool: `check rules` accepts
//! them, `test rules` passes the generated tests (every alert fires on a
//! breach, with its exact labels and annotations, and stays silent on
//! healthy and low traffic, with both spellings of `le`), and a scenario
//! written here by hand — not generated — shows a fast burn paging, a slow
//! burn only warning, healthy traffic and a lone error at low traffic
//! silent, and a latency burn paging.

mod service_support;

use obs_runtime::export::{self, ExportOptions, RULES_FILE};
use obs_runtime::{health_check, instrumented};
use service_support::promtool;

#[derive(Debug)]
struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("declined")
    }
}

#[instrumented(
    metric = "checkout",
    buckets = "latency",
    slo(success = "99.9%", latency = "250ms", percentile = "99%")
)]
fn checkout(amount: u64) -> Result<u64, Declined> {
    if amount == 0 {
        Err(Declined)
    } else {
        Ok(amount)
    }
}

// A whole-second bound: Prometheus 3 spells it `le="1.0"`.
#[instrumented(
    metric = "search",
    buckets = "latency",
    slo(latency = "1s", percentile = "95%", period = "7d")
)]
fn search() -> usize {
    1
}

#[instrumented(metric = "refund", slo(success = "99.5%", period = "28d"))]
fn refund() -> Result<(), Declined> {
    Ok(())
}

#[health_check("database", timeout = "2s")]
async fn database() -> Result<(), String> {
    Ok(())
}

#[health_check("cache", critical = false)]
async fn cache() -> Result<(), String> {
    Ok(())
}

/// The HTTP layer of the test's service: an objective for `/users/{id}`
/// (a whole-second latency bound, spelled `1` or `1.0`) and the default of
/// every other route. Declared when the layer is built, so before export.
fn layer() -> obs_runtime::http::ObsLayer {
    obs_runtime::http::ObsLayer::new()
        .slo(
            "/users/{id}",
            obs_runtime::slo!(success = "99.9%", latency = "1s", percentile = "99%"),
        )
        .and_then(|l| l.default_slo(obs_runtime::slo!(success = "99.5%")))
        .expect("valid route objectives")
}

fn options() -> ExportOptions {
    ExportOptions::default().job("checkout-service")
}

#[test]
fn promtool_accepts_the_rules_and_their_generated_tests_pass() {
    assert!(checkout(3).is_ok() && search() == 1 && refund().is_ok());
    let _layer = layer();
    let dir = tempdir("generated");
    let rules = export::prometheus_rules_with(&options());
    std::fs::write(dir.join(RULES_FILE), &rules).unwrap();
    std::fs::write(
        dir.join("rules_test.yml"),
        export::rule_tests_with(&options()),
    )
    .unwrap();
    let checked = promtool(&["check", "rules", RULES_FILE], &dir);
    assert!(checked.contains("SUCCESS"), "{checked}");
    let tested = promtool(&["test", "rules", "rules_test.yml"], &dir);
    assert!(tested.contains("SUCCESS"), "{tested}");

    // Exact decimals: 14.4 × 0.1 % and 6 × 0.5 %, never binary noise.
    assert!(rules.contains("> 0.0144"), "{rules}");
    assert!(rules.contains("> 0.03\n"), "{rules}");
    assert!(!rules.contains("0000000"), "inexact decimal in {rules}");
    // Both spellings of a whole-second bound.
    assert!(rules.contains(r#"le=~"1|1\\.0""#), "{rules}");
    // Every alert has a severity, a summary, a description and a runbook.
    for alert in rules.split("- alert: ").skip(1) {
        for key in ["severity: ", "summary: ", "description: ", "runbook_url: "] {
            assert!(alert.contains(key), "{key} missing in {alert}");
        }
    }
    let tests = export::rule_tests_with(&options());
    for case in [
        "checkout success: a fast burn pages",
        "checkout latency: a latency burn pages (le=0.25)",
        "search latency: a latency burn pages (le=1)",
        "search latency: a latency burn pages (le=1.0)",
        "refund success: one error at low traffic is silent",
        "health check database failing for 2m fires",
        "http_users_id success: a fast burn pages",
        "http_users_id latency: a latency burn pages (le=1.0)",
        "http_all_routes success: one error at low traffic is silent",
        "http route /rule-test/{id}: an error ratio of 10% warns",
        "http route /rule-test/{id}: events slower than 2s warn (p99)",
    ] {
        assert!(tests.contains(case), "no case {case:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Written by hand against the rules' contract, so a generator bug can't
/// hide in a generated test.
const SCENARIO: &str = r#"
rule_files:
  - rules.yml
evaluation_interval: 1m
tests:
  # 50 % of checkout calls fail: 500 × the 0.1 % budget.
  - interval: 1m
    input_series:
      - series: 'checkout_calls_total{job="checkout-service",function="checkout",module="prometheus_rules",result="ok"}'
        values: '0+100x240'
      - series: 'checkout_calls_total{job="checkout-service",function="checkout",module="prometheus_rules",result="error"}'
        values: '0+100x240'
    alert_rule_test:
      - eval_time: 30m
        alertname: ObsSloFastBurn
        exp_alerts:
          - exp_labels: {severity: critical, slo: checkout, sli: success, job: checkout-service}
            exp_annotations:
              summary: "checkout: the success error budget burns fast"
              description: "Objective: 99.9% of calls of checkout succeed over 30d. At this rate the period's error budget runs out early; see slo:sli_error:ratio_rate* for slo=\"checkout\"."
              runbook_url: "docs/metrics.md#slo-checkout"
  # 0.5 % fail: 5 × the budget, above the 3× ticket but below the 6×
  # and 14.4× pages.
  - interval: 1m
    input_series:
      - series: 'checkout_calls_total{job="checkout-service",function="checkout",module="prometheus_rules",result="ok"}'
        values: '0+995x240'
      - series: 'checkout_calls_total{job="checkout-service",function="checkout",module="prometheus_rules",result="error"}'
        values: '0+5x240'
    alert_rule_test:
      - eval_time: 3h
        alertname: ObsSloFastBurn
        exp_alerts: []
      - eval_time: 3h
        alertname: ObsSloSlowBurn
        exp_alerts:
          - exp_labels: {severity: warning, slo: checkout, sli: success, job: checkout-service}
            exp_annotations:
              summary: "checkout: the success error budget burns slowly"
              description: "Objective: 99.9% of calls of checkout succeed over 30d. At this rate the period's error budget runs out early; see slo:sli_error:ratio_rate* for slo=\"checkout\"."
              runbook_url: "docs/metrics.md#slo-checkout"
  # Healthy, and a lone error in a quiet hour: nothing.
  - interval: 1m
    input_series:
      - series: 'checkout_calls_total{job="checkout-service",function="checkout",module="prometheus_rules",result="ok"}'
        values: '0+100x240'
      - series: 'refund_calls_total{job="checkout-service",function="refund",module="prometheus_rules",result="error"}'
        values: '0x20 1x219'
      - series: 'refund_calls_total{job="checkout-service",function="refund",module="prometheus_rules",result="ok"}'
        values: '0x240'
    alert_rule_test:
      - eval_time: 2h
        alertname: ObsSloFastBurn
        exp_alerts: []
      - eval_time: 2h
        alertname: ObsSloSlowBurn
        exp_alerts: []
  # Search answers within 1 s only half the time against 95 %: 10 × the
  # budget, with Prometheus 3's spelling of the bound.
  - interval: 1m
    input_series:
      - series: 'search_duration_seconds_bucket{job="checkout-service",function="search",module="prometheus_rules",result="ok",le="1.0"}'
        values: '0+50x240'
      - series: 'search_duration_seconds_count{job="checkout-service",function="search",module="prometheus_rules",result="ok"}'
        values: '0+100x240'
    alert_rule_test:
      - eval_time: 70m
        alertname: ObsSloFastBurn
        exp_alerts:
          - exp_labels: {severity: critical, slo: search, sli: latency, job: checkout-service}
            exp_annotations:
              summary: "search: the latency error budget burns fast"
              description: "Objective: 95% of calls of search finish within 1s over 7d. At this rate the period's error budget runs out early; see slo:sli_error:ratio_rate* for slo=\"search\"."
              runbook_url: "docs/metrics.md#slo-search"
  # A third of /users/{id}'s requests answer 503, and another route's
  # fail as much: each route pages on its own objective, the other one
  # through the default, named by its http_route. 404s of unmatched paths
  # are good events, and the unmatched route is no route: silent.
  - interval: 1m
    input_series:
      - series: 'http_server_request_duration_seconds_count{job="checkout-service",instance="a:1",http_route="/users/{id}",http_request_method="GET",http_response_status_code="200"}'
        values: '0+100x240'
      - series: 'http_server_request_duration_seconds_count{job="checkout-service",instance="a:1",http_route="/users/{id}",http_request_method="GET",http_response_status_code="503",error_type="503"}'
        values: '0+50x240'
      # Every request of /users/{id} within its 1 s latency bound.
      - series: 'http_server_request_duration_seconds_bucket{job="checkout-service",instance="a:1",http_route="/users/{id}",http_request_method="GET",http_response_status_code="200",le="1"}'
        values: '0+100x240'
      - series: 'http_server_request_duration_seconds_bucket{job="checkout-service",instance="a:1",http_route="/users/{id}",http_request_method="GET",http_response_status_code="503",error_type="503",le="1"}'
        values: '0+50x240'
      - series: 'http_server_request_duration_seconds_count{job="checkout-service",instance="a:1",http_route="/orders",http_request_method="POST",http_response_status_code="201"}'
        values: '0+100x240'
      - series: 'http_server_request_duration_seconds_count{job="checkout-service",instance="a:1",http_route="/orders",http_request_method="POST",error_type="_OTHER"}'
        values: '0+50x240'
      - series: 'http_server_request_duration_seconds_count{job="checkout-service",instance="a:1",http_route="unmatched",http_request_method="GET",http_response_status_code="500",error_type="500"}'
        values: '0+100x240'
    alert_rule_test:
      - eval_time: 30m
        alertname: ObsSloFastBurn
        exp_alerts:
          - exp_labels: {severity: critical, slo: http_users_id, sli: success, job: checkout-service}
            exp_annotations:
              summary: "http_users_id: the success error budget burns fast"
              description: "Objective: 99.9% of requests to /users/{id} succeed over 30d. At this rate the period's error budget runs out early; see slo:sli_error:ratio_rate* for slo=\"http_users_id\"."
              runbook_url: "docs/metrics.md#slo-http_users_id"
          - exp_labels: {severity: critical, slo: http_all_routes, sli: success, job: checkout-service, http_route: /orders}
            exp_annotations:
              summary: "http_all_routes (/orders): the success error budget burns fast"
              description: "Objective: 99.5% of requests to /orders (the default of every route without its own objective) succeed over 30d. At this rate the period's error budget runs out early; see slo:sli_error:ratio_rate* for slo=\"http_all_routes\"."
              runbook_url: "docs/metrics.md#slo-http_all_routes"
      - eval_time: 30m
        alertname: ObsHttpHighErrorRatio
        exp_alerts:
          - exp_labels: {severity: warning, job: checkout-service, http_route: /orders}
            exp_annotations:
              summary: "/orders fails more than 5% of its requests"
              description: "route /orders of checkout-service answered with a 5xx status or failed without an answer on more than 5% of its requests over 5 minutes (http_server_request_duration_seconds_count)."
              runbook_url: "docs/metrics.md#alert-obshttphigherrorratio"
          - exp_labels: {severity: warning, job: checkout-service, http_route: "/users/{id}"}
            exp_annotations:
              summary: "/users/{id} fails more than 5% of its requests"
              description: "route /users/{id} of checkout-service answered with a 5xx status or failed without an answer on more than 5% of its requests over 5 minutes (http_server_request_duration_seconds_count)."
              runbook_url: "docs/metrics.md#alert-obshttphigherrorratio"
          - exp_labels: {severity: warning, job: checkout-service, http_route: unmatched}
            exp_annotations:
              summary: "unmatched fails more than 5% of its requests"
              description: "route unmatched of checkout-service answered with a 5xx status or failed without an answer on more than 5% of its requests over 5 minutes (http_server_request_duration_seconds_count)."
              runbook_url: "docs/metrics.md#alert-obshttphigherrorratio"
"#;

#[test]
fn a_hand_written_scenario_pages_warns_and_stays_quiet_as_it_should() {
    assert!(checkout(3).is_ok() && search() == 1 && refund().is_ok());
    let _layer = layer();
    let dir = tempdir("scenario");
    std::fs::write(
        dir.join(RULES_FILE),
        export::prometheus_rules_with(&options()),
    )
    .unwrap();
    std::fs::write(dir.join("scenario.yml"), SCENARIO).unwrap();
    let tested = promtool(&["test", "rules", "scenario.yml"], &dir);
    assert!(tested.contains("SUCCESS"), "{tested}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("obs-rules-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
