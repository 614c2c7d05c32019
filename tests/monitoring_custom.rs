//! The program's own alerts and dashboards (`obs_runtime::export::{Alert,
//! Dashboard, Query}`), judged by the real tools: this program registers a
//! few families as a seed service would, declares an alert of every form
//! and direction and a dashboard with a panel of every form, and then
//! - the bundle written with them passes `promtool check rules --lint=all`
//!   and `promtool test rules`: every custom alert has a generated case
//!   that fires with its exact labels and annotations and one that stays
//!   silent, and each has a runbook heading its `runbook_url` points to;
//! - the custom dashboard validates against Grafana's schema with the
//!   generated boards' conventions (variables, filters, `$__rate_interval`);
//! - a real Prometheus scraping this process while the families are fed
//!   answers every custom panel's query with data, and evaluates every
//!   custom rule without an error;
//! - invalid entries fail the bundle with `InvalidInput` naming them, write
//!   nothing, and are left out (with a comment) of the text functions;
//! - without custom entries, every file is what it was.

mod service_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use obs_runtime::LabelSet;
use obs_runtime::export::{self, Alert, Dashboard, ExportOptions, Query, Severity};
use obs_runtime::metrics::{Counter, Gauge, Histogram};
use serde_json::Value;
use service_support::prometheus::{Prometheus, panel_queries, rule_failures};
use service_support::promtool;

const JOB: &str = "custom-service";
const SCHEMA: &str = include_str!("data/grafana-dashboard.schema.json");

#[derive(LabelSet, Clone, Copy)]
struct Mission {
    status: &'static str,
}

#[derive(LabelSet, Clone, Copy)]
struct Error {
    kind: &'static str,
}

#[derive(LabelSet, Clone, Copy)]
struct Endpoint {
    endpoint: &'static str,
}

/// The families of the test, registered once for the process.
struct Families {
    missions: &'static Counter<Mission>,
    errors: &'static Counter<Error>,
    latency: &'static Histogram<Endpoint>,
    pool: &'static Gauge<()>,
    redis: &'static Gauge<()>,
    heartbeat: &'static Gauge<()>,
}

fn register() -> &'static Families {
    static FAMILIES: std::sync::OnceLock<Families> = std::sync::OnceLock::new();
    FAMILIES.get_or_init(|| Families {
        missions: Counter::new("custom_missions_total", "Missions by outcome.")
            .unwrap()
            .register()
            .unwrap(),
        errors: Counter::new("custom_errors_total", "Errors by kind.")
            .unwrap()
            .register()
            .unwrap(),
        latency: Histogram::new(
            "custom_request_duration_seconds",
            "Request durations.",
            &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
        )
        .unwrap()
        .register()
        .unwrap(),
        pool: Gauge::new("custom_db_pool_utilization_ratio", "Pool use.")
            .unwrap()
            .register()
            .unwrap(),
        redis: Gauge::new("custom_redis_connected", "Redis reachable.")
            .unwrap()
            .register()
            .unwrap(),
        heartbeat: Gauge::new(
            "custom_worker_heartbeat_timestamp_seconds",
            "The mission worker's last beat.",
        )
        .unwrap()
        .register()
        .unwrap(),
    })
}

impl Families {
    fn feed(&self) {
        self.missions.with(Mission { status: "ok" }).inc_by(9);
        self.missions.with(Mission { status: "failed" }).inc();
        self.errors.with(Error { kind: "llm" }).inc();
        for endpoint in ["/missions", "/health"] {
            self.latency.with(Endpoint { endpoint }).observe(0.3);
        }
        self.pool.with(()).set(0.4);
        self.redis.with(()).set(1.0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        self.heartbeat.with(()).set(now.as_secs_f64());
    }
}

/// An alert of every form and direction, and a dashboard with a panel of
/// every form.
fn options() -> ExportOptions {
    register();
    ExportOptions::default()
        .job(JOB)
        .alert(
            Alert::above(
                "CustomMissionFailureRate",
                Query::ratio(
                    r#"custom_missions_total{status="failed"}"#,
                    "custom_missions_total",
                ),
                "0.1",
            )
            .for_("5m")
            .summary("{{ $labels.job }}: more than 10 % of missions fail")
            .runbook("The mission worker's logs: which step fails?"),
        )
        .alert(
            Alert::below(
                "CustomMissionSuccessLow",
                Query::ratio(
                    r#"custom_missions_total{status="ok"}"#,
                    "custom_missions_total",
                ),
                "0.5",
            )
            .for_("10m")
            .severity(Severity::Critical),
        )
        .alert(
            Alert::above(
                "CustomSlowRequests",
                Query::quantile("custom_request_duration_seconds", "0.95").by(&["endpoint"]),
                "1",
            )
            .for_("5m")
            .description("p95 of {{ $labels.endpoint }} above 1 s."),
        )
        .alert(Alert::below(
            "CustomFastRequestsOnly",
            Query::quantile("custom_request_duration_seconds", "0.5"),
            "0.2",
        ))
        .alert(Alert::above(
            "CustomDbPoolHigh",
            Query::value("custom_db_pool_utilization_ratio"),
            "0.8",
        ))
        .alert(
            Alert::below(
                "CustomRedisDown",
                Query::value("custom_redis_connected"),
                "1",
            )
            .for_("1m")
            .severity(Severity::Critical),
        )
        .alert(Alert::above(
            "CustomErrorsRising",
            Query::rate(r#"custom_errors_total{kind="llm"}"#),
            "0.5",
        ))
        .alert(
            Alert::below(
                "CustomMissionsStalled",
                Query::rate("custom_missions_total"),
                "0.01",
            )
            .for_("15m"),
        )
        .alert(Alert::above(
            "CustomRequestFlood",
            Query::rate("custom_request_duration_seconds_count").by(&["endpoint"]),
            "100",
        ))
        .alert(
            Alert::absent(
                "CustomMissionWorkerStopped",
                "custom_worker_heartbeat_timestamp_seconds",
            )
            .for_("5m"),
        )
        .alert(Alert::absent(
            "CustomNoMissions",
            r#"custom_missions_total{status="ok"}"#,
        ))
        .alert(
            Alert::above(
                "CustomWorkerHeartbeatOld",
                Query::age("custom_worker_heartbeat_timestamp_seconds"),
                "300",
            )
            .for_("1m")
            .severity(Severity::Critical),
        )
        .dashboard(
            Dashboard::new("Custom overview")
                .description("The seed's own board.")
                .panel(
                    "Mission rate",
                    Query::rate("custom_missions_total").by(&["status"]),
                )
                .panel(
                    "Mission failure ratio",
                    Query::ratio(
                        r#"custom_missions_total{status="failed"}"#,
                        "custom_missions_total",
                    ),
                )
                .panel(
                    "p95 latency",
                    Query::quantile("custom_request_duration_seconds", "0.95").by(&["endpoint"]),
                )
                .panel("DB pool", Query::value("custom_db_pool_utilization_ratio"))
                .panel(
                    "LLM errors",
                    Query::rate(r#"custom_errors_total{kind="llm"}"#),
                )
                .panel(
                    "Worker heartbeat age",
                    Query::age("custom_worker_heartbeat_timestamp_seconds"),
                ),
        )
}

const NAMES: [&str; 12] = [
    "CustomMissionFailureRate",
    "CustomMissionSuccessLow",
    "CustomSlowRequests",
    "CustomFastRequestsOnly",
    "CustomDbPoolHigh",
    "CustomRedisDown",
    "CustomErrorsRising",
    "CustomMissionsStalled",
    "CustomRequestFlood",
    "CustomMissionWorkerStopped",
    "CustomNoMissions",
    "CustomWorkerHeartbeatOld",
];

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("obs-custom-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The test cases of `rules_test.yml`, split at each case.
fn cases_of<'t>(tests: &'t str, alert: &str) -> Vec<&'t str> {
    tests
        .split("  - name: ")
        .filter(|c| c.contains(&format!("alertname: {alert}\n")))
        .collect()
}

#[test]
fn the_bundle_with_custom_alerts_passes_promtool() {
    let options = options();
    options.validate().unwrap();
    let dir = tempdir("bundle");
    export::write_bundle_with(&dir, &options).unwrap();
    let rules = read(&dir, "prometheus/rules.yml");
    let tests = read(&dir, "prometheus/rules_test.yml");
    let docs = read(&dir, "docs/metrics.md");
    assert!(!rules.contains("# Left out"), "{rules}");
    assert!(rules.contains("  - name: custom\n"));
    for name in NAMES {
        assert!(rules.contains(&format!("- alert: {name}\n")), "{name}");
        let cases = cases_of(&tests, name);
        assert!(
            cases.iter().any(|c| c.contains("exp_labels:")),
            "{name} has a firing case:\n{tests}"
        );
        assert!(
            cases.iter().any(|c| c.contains("exp_alerts: []")),
            "{name} has a silent case"
        );
        let anchor = format!("docs/metrics.md#alert-{}", name.to_ascii_lowercase());
        assert!(
            rules.contains(&format!("runbook_url: \"{anchor}\"")),
            "{name}"
        );
        assert!(docs.contains(&format!("### Alert: {name}\n")), "{name}");
    }
    // The forms, as the plan writes them (expression lines unindented).
    let flat: String = rules
        .lines()
        .map(str::trim_start)
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        "sum by (job) (rate(custom_missions_total{status=\"failed\"}[5m])) or 0 * sum by (job) (rate(custom_missions_total[5m]))",
        ") > 0.1\nand on (job)\nsum by (job) (increase(custom_missions_total[5m])) >= 10",
        "histogram_quantile(0.95, sum by (le, job, endpoint) (rate(custom_request_duration_seconds_bucket[5m]))) > 1",
        "max by (job, instance) (custom_db_pool_utilization_ratio) > 0.8",
        "min by (job, instance) (custom_redis_connected) < 1",
        "sum by (job) (rate(custom_errors_total{kind=\"llm\"}[5m])) > 0.5\nand on (job)",
        "sum by (job) (rate(custom_missions_total[5m])) < 0.01\n",
        "absent(custom_worker_heartbeat_timestamp_seconds{job=\"custom-service\"})",
        "absent(custom_missions_total{job=\"custom-service\", status=\"ok\"})",
        "time() - max by (job, instance) (custom_worker_heartbeat_timestamp_seconds) > 300",
    ] {
        assert!(flat.contains(needle), "{needle:?} in\n{rules}");
    }
    // The low-traffic case of a ratio, and the runbook text given.
    assert!(
        cases_of(&tests, "CustomMissionFailureRate")
            .iter()
            .any(|c| c.contains("at low traffic is silent"))
    );
    assert!(docs.contains("What to check first: The mission worker's logs: which step fails?"));
    let out = promtool(
        &["check", "rules", "--lint=all", "rules.yml"],
        &dir.join("prometheus"),
    );
    assert!(out.contains("SUCCESS"), "{out}");
    let out = promtool(
        &["test", "rules", "rules_test.yml"],
        &dir.join("prometheus"),
    );
    assert!(out.contains("SUCCESS"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every panel of a dashboard.
fn panels(dashboard: &Value) -> &Vec<Value> {
    dashboard["panels"].as_array().unwrap()
}

fn custom_dashboard(options: &ExportOptions) -> Value {
    let all = export::grafana_dashboards_with(options);
    let (_, text) = all
        .iter()
        .find(|(file, _)| file == "custom-overview.json")
        .unwrap_or_else(|| panic!("{:?}", all.iter().map(|(f, _)| f).collect::<Vec<_>>()));
    serde_json::from_str(text).unwrap()
}

#[test]
fn the_custom_dashboard_follows_grafanas_schema_and_the_boards_conventions() {
    let options = options();
    let dashboard = custom_dashboard(&options);
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::draft7::new(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&dashboard)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(dashboard["title"], "Custom overview");
    assert_eq!(dashboard["uid"], "custom-overview");
    assert_eq!(dashboard["description"], "The seed's own board.");
    assert_eq!(dashboard["schemaVersion"], 39);
    let vars: Vec<&str> = dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(vars, ["datasource", "job", "instance"]);
    let titles: Vec<&str> = panels(&dashboard)
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Mission rate",
            "Mission failure ratio",
            "p95 latency",
            "DB pool",
            "LLM errors",
            "Worker heartbeat age"
        ]
    );
    let mut ids = Vec::new();
    for panel in panels(&dashboard) {
        ids.push(panel["id"].as_u64().unwrap());
        assert_eq!(panel["datasource"]["uid"], "${datasource}");
        for t in panel["targets"].as_array().unwrap() {
            let expr = t["expr"].as_str().unwrap();
            assert!(
                expr.contains("job=~\"$job\", instance=~\"$instance\""),
                "unfiltered {expr}"
            );
            if expr.contains('[') {
                assert!(expr.contains("[$__rate_interval]"), "{expr}");
            }
        }
    }
    ids.dedup();
    assert_eq!(ids.len(), 6);
    // Units follow the form and the family.
    let unit = |i: usize| panels(&dashboard)[i]["fieldConfig"]["defaults"]["unit"].clone();
    assert_eq!(
        [unit(0), unit(1), unit(2), unit(3), unit(5)],
        ["ops", "percentunit", "s", "percentunit", "s"]
    );
    // The bundle carries it beside the generated boards.
    let files = export::bundle_files(&options);
    assert!(
        files
            .iter()
            .any(|(p, _)| p == "grafana/dashboards/custom-overview.json")
    );
    assert!(
        files
            .iter()
            .any(|(p, _)| p == "grafana/dashboards/obs-overview.json")
    );
}

#[test]
fn every_custom_panel_answers_and_every_custom_rule_evaluates_on_prometheus() {
    let options = options();
    let families = register();
    families.feed();
    let stop = Arc::new(AtomicBool::new(false));
    let (addr, server) = service_support::serve_metrics(Arc::clone(&stop));
    let feeder =
        service_support::repeat_until(Arc::clone(&stop), Duration::from_millis(50), move || {
            families.feed()
        });
    let rules = export::prometheus_rules_with(&options);
    let prometheus = Prometheus::start_with_rules("custom", JOB, addr, Some(&rules));
    let instance = addr.to_string();
    let dashboard = custom_dashboard(&options);
    let panels: Vec<(String, Vec<String>)> = panels(&dashboard)
        .iter()
        .map(|panel| {
            let exprs = panel_queries(panel["targets"].as_array().unwrap(), JOB, &instance);
            (panel["title"].as_str().unwrap().to_owned(), exprs)
        })
        .collect();
    let (mut failures, empty) = prometheus.check_panels(&panels);
    let evaluated = prometheus
        .evaluated_rules(|g| g["name"] == "custom")
        .expect("Prometheus evaluated every custom rule within 60 s");
    assert_eq!(evaluated.len(), NAMES.len());
    failures.extend(rule_failures(&evaluated));
    // The healthy feed breaches nothing but the failure ratio (10 % is not
    // above 10 %) — so no custom alert is pending or firing but those the
    // feed really breaches: the heartbeat is present, Redis is up.
    let firing = prometheus
        .try_query("ALERTS{alertname=~\"Custom.*\"}")
        .unwrap();
    let names: Vec<&str> = firing
        .iter()
        .map(|s| s["metric"]["alertname"].as_str().unwrap())
        .collect();
    for quiet in [
        "CustomRedisDown",
        "CustomMissionWorkerStopped",
        "CustomNoMissions",
        "CustomDbPoolHigh",
        "CustomSlowRequests",
        "CustomWorkerHeartbeatOld",
    ] {
        assert!(!names.contains(&quiet), "{quiet} in {names:?}");
    }
    stop.store(true, Relaxed);
    feeder.join().unwrap();
    server.join().unwrap();
    eprintln!(
        "{} custom panels answered, {} custom rules healthy",
        panels.len(),
        evaluated.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        empty.is_empty(),
        "panels without data: {empty:#?}\n{}",
        prometheus.log()
    );
}

#[test]
fn invalid_entries_fail_the_bundle_by_name_and_are_left_out_of_the_text() {
    let options = options()
        .alert(Alert::above(
            "CustomTypo",
            Query::rate("custom_mission_total"),
            "1",
        ))
        .alert(Alert::above(
            "CustomWrongKind",
            Query::rate("custom_db_pool_utilization_ratio"),
            "1",
        ))
        .alert(Alert::above(
            "ObsTargetDown",
            Query::value("custom_redis_connected"),
            "1",
        ))
        .dashboard(Dashboard::new("Broken").panel(
            "Regex",
            Query::rate(r#"custom_missions_total{status=~"f.*"}"#),
        ));
    let err = options.validate().unwrap_err();
    let text = err.to_string();
    for needle in [
        "alert `CustomTypo`: `custom_mission_total` is not a metric of this program",
        "alert `CustomWrongKind`: `custom_db_pool_utilization_ratio` is a gauge; Query::rate reads a counter",
        "alert `ObsTargetDown`: the name is taken by a generated alert",
        "panel `Regex` of dashboard `Broken`: selector",
        "only equality matchers",
    ] {
        assert!(text.contains(needle), "{needle:?} in\n{text}");
    }
    assert_eq!(err.problems().len(), 4);
    let dir = tempdir("invalid");
    let io = export::write_bundle_with(&dir, &options).unwrap_err();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
    assert!(io.to_string().contains("CustomTypo"), "{io}");
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "nothing is written"
    );
    let _ = std::fs::remove_dir_all(&dir);
    // The text functions leave them out and say why, and keep the rest.
    let rules = export::prometheus_rules_with(&options);
    assert!(
        rules.contains("# Left out: alert `CustomTypo`: `custom_mission_total` is not a metric")
    );
    assert!(!rules.contains("- alert: CustomTypo"));
    assert_eq!(rules.matches("- alert: ObsTargetDown").count(), 1);
    assert!(rules.contains("- alert: CustomRedisDown"));
    let tests = export::rule_tests_with(&options);
    assert!(tests.contains("# Left out: alert `CustomWrongKind`"));
    assert!(!tests.contains("alertname: CustomTypo"));
    let docs = export::metrics_markdown_with(&options);
    assert!(docs.contains("<!-- Left out: alert `CustomTypo`"));
    assert!(!docs.contains("### Alert: CustomTypo"));
    let boards = export::grafana_dashboards_with(&options);
    let (_, broken) = boards.iter().find(|(f, _)| f == "broken.json").unwrap();
    assert!(broken.contains("Left out: panel `Regex`"));
}

#[test]
fn without_custom_entries_every_file_is_as_before() {
    register();
    let plain = ExportOptions::default().job(JOB);
    assert_eq!(plain.validate(), Ok(()));
    assert_eq!(
        export::grafana_dashboards_with(&plain),
        export::grafana_dashboards()
    );
    let rules = export::prometheus_rules_with(&plain);
    assert!(!rules.contains("name: custom") && !rules.contains("# Left out"));
    let with = options();
    // The custom group comes last; everything before it is unchanged.
    let custom = export::prometheus_rules_with(&with);
    assert!(
        custom.starts_with(&rules),
        "the generated rules are untouched"
    );
    let tests = export::rule_tests_with(&plain);
    assert!(export::rule_tests_with(&with).starts_with(&tests));
}
