//! The generated monitoring of the work families — outbound HTTP calls,
//! background jobs, connection pools, Redis and batch pushes — judged by
//! promtool: this program registers every family under the names and
//! labels obs's parts use (and `push::mark_success` registers its own), so
//! the catalog holds them, and then
//! - `promtool check rules --lint=all` accepts the rules, and `promtool
//!   test rules` passes the generated cases: every new alert fires on a
//!   breach with its exact labels and annotations, and healthy, low and
//!   zero traffic stay silent;
//! - a hand-written scenario (not generated) pages and warns on the new
//!   alerts as the seeds' thresholds say;
//! - the "Jobs and dependencies" dashboard validates against Grafana's
//!   schema, and every query of it and of `docs/metrics.md`'s sections on
//!   these families parses (promtool checks them as recording rules);
//! - a real Prometheus scraping this process while the families are fed
//!   shows data in every panel of the dashboard and evaluates every rule
//!   without an error;
//! - the runbook has an entry for every new alert.

mod service_support;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use obs_runtime::LabelSet;
use obs_runtime::export::{self, ExportOptions, RULES_FILE};
use obs_runtime::metrics::{Counter, Gauge, Histogram};
use obs_runtime::schema;
use service_support::prometheus::{Prometheus, panel_queries, rule_failures};
use service_support::promtool;

#[derive(LabelSet, Clone, Copy)]
struct ClientCall {
    http_request_method: &'static str,
    server_address: &'static str,
    server_port: &'static str,
    http_response_status_code: &'static str,
    error_type: &'static str,
}

#[derive(LabelSet, Clone, Copy)]
struct ClientActive {
    http_request_method: &'static str,
    server_address: &'static str,
    server_port: &'static str,
}

#[derive(LabelSet, Clone, Copy)]
struct Job {
    queue: &'static str,
    job_name: &'static str,
}

#[derive(LabelSet, Clone, Copy)]
struct Queue {
    queue: &'static str,
}

#[derive(LabelSet, Clone, Copy)]
struct Worker {
    queue: &'static str,
    worker: &'static str,
}

#[derive(LabelSet, Clone, Copy)]
struct Pool {
    pool_name: &'static str,
}

/// The handles of every work family, to feed them.
struct Families {
    client: &'static Histogram<ClientCall>,
    active: &'static Gauge<ClientActive>,
    runs: prometheus::IntCounterVec,
    durations: prometheus::HistogramVec,
    waits: &'static Histogram<Job>,
    retries: &'static Counter<Job>,
    in_flight: &'static Gauge<Job>,
    depth: &'static Gauge<Queue>,
    heartbeat: &'static Gauge<Worker>,
    connections: prometheus::IntGaugeVec,
    pool: [&'static Gauge<Pool>; 3],
    pool_wait: &'static Histogram<Pool>,
}

/// Every work family, registered once for the process.
fn register() -> &'static Families {
    static FAMILIES: std::sync::OnceLock<Families> = std::sync::OnceLock::new();
    FAMILIES.get_or_init(|| {
        let job_waits = [1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0];
        let client = Histogram::<ClientCall>::new(
            "http_client_request_duration_seconds",
            "Duration of outbound HTTP calls.",
            schema::HTTP,
        )
        .unwrap()
        .register()
        .unwrap();
        let active =
            Gauge::<ClientActive>::new("http_client_active_requests", "Outbound calls in flight.")
                .unwrap()
                .register()
                .unwrap();
        // `result` is obs's own label to the LabelSet check (obs's jobs
        // set it from the run's outcome), and `_count` a histogram's
        // suffix to the gauge name check: these families come through the
        // `prometheus` bridge here.
        let runs = prometheus::IntCounterVec::new(
            prometheus::Opts::new("job_runs_total", "Job runs, by result."),
            &["queue", "job_name", "result"],
        )
        .unwrap();
        let durations = prometheus::HistogramVec::new(
            prometheus::HistogramOpts::new("job_duration_seconds", "Job run durations.")
                .buckets(schema::LATENCY.to_vec()),
            &["queue", "job_name", "result"],
        )
        .unwrap();
        let connections = prometheus::IntGaugeVec::new(
            prometheus::Opts::new("db_client_connection_count", "Connections by state."),
            &["pool_name", "state"],
        )
        .unwrap();
        // A foreign family is described by its series: one each.
        runs.with_label_values(&["mail", "send", "ok"]).inc();
        durations
            .with_label_values(&["mail", "send", "ok"])
            .observe(0.2);
        connections.with_label_values(&["main", "used"]).set(1);
        for collector in [
            Box::new(runs.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(durations.clone()),
            Box::new(connections.clone()),
        ] {
            obs_runtime::registry::global()
                .register_collector(collector)
                .unwrap();
        }
        let waits =
            Histogram::<Job>::new("job_queue_wait_seconds", "Enqueue to start.", &job_waits)
                .unwrap()
                .register()
                .unwrap();
        let retries = Counter::<Job>::new("job_retries_total", "Job retries.")
            .unwrap()
            .register()
            .unwrap();
        let in_flight = Gauge::<Job>::new("job_in_flight", "Jobs running.")
            .unwrap()
            .register()
            .unwrap();
        let depth = Gauge::<Queue>::new("job_queue_depth", "Jobs waiting.")
            .unwrap()
            .register()
            .unwrap();
        let heartbeat = Gauge::<Worker>::new(
            "job_worker_last_seen_timestamp_seconds",
            "Worker heartbeats.",
        )
        .unwrap()
        .register()
        .unwrap();
        let pool = [
            ("db_client_connection_max", "Pool size."),
            ("db_client_connection_pending_requests", "Waiting callers."),
            ("redis_connected", "Redis reachable."),
        ]
        .map(|(name, help)| Gauge::<Pool>::new(name, help).unwrap().register().unwrap());
        let pool_wait = Histogram::<Pool>::new(
            "db_client_connection_wait_time_seconds",
            "Connection waits.",
            schema::DB,
        )
        .unwrap()
        .register()
        .unwrap();
        // The batch family, registered by push as a program uses it.
        obs_runtime::push::mark_success();
        Families {
            client,
            active,
            runs,
            durations,
            waits,
            retries,
            in_flight,
            depth,
            heartbeat,
            connections,
            pool,
            pool_wait,
        }
    })
}

impl Families {
    /// One round of work: calls, runs, waits and heartbeats, as the
    /// instrumented parts record them.
    fn feed(&self) {
        let call = |code, error_type| ClientCall {
            http_request_method: "GET",
            server_address: "payments.internal",
            server_port: "443",
            http_response_status_code: code,
            error_type,
        };
        self.client.with(call("200", "")).observe(0.04);
        self.client.with(call("", "timeout")).observe(5.0);
        self.active
            .with(ClientActive {
                http_request_method: "GET",
                server_address: "payments.internal",
                server_port: "443",
            })
            .set(2.0);
        for result in ["ok", "ok", "error", "retry"] {
            self.runs.with_label_values(&["mail", "send", result]).inc();
            self.durations
                .with_label_values(&["mail", "send", result])
                .observe(0.3);
        }
        let job = Job {
            queue: "mail",
            job_name: "send",
        };
        self.waits.with(job).observe(2.0);
        self.retries.with(job).inc();
        self.in_flight.with(job).set(1.0);
        self.depth.with(Queue { queue: "mail" }).set(7.0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            .floor();
        self.heartbeat
            .with(Worker {
                queue: "mail",
                worker: "w-1",
            })
            .set(now);
        self.connections.with_label_values(&["main", "used"]).set(3);
        self.connections.with_label_values(&["main", "idle"]).set(7);
        let main = Pool { pool_name: "main" };
        let [max, pending, redis] = self.pool;
        max.with(main).set(10.0);
        pending.with(main).set(0.0);
        redis.with(Pool { pool_name: "cache" }).set(1.0);
        self.pool_wait.with(main).observe(0.001);
        obs_runtime::push::mark_success();
    }
}

const NEW_ALERTS: [&str; 7] = [
    "ObsOutboundErrorRatio",
    "ObsJobFailureRatio",
    "ObsJobQueueWaitP95",
    "ObsJobWorkerStale",
    "ObsDbPoolSaturation",
    "ObsRedisDown",
    "ObsBatchStale",
];

fn options() -> ExportOptions {
    ExportOptions::default().job("worker-service")
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("obs-work-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_catalog_holds_every_work_family() {
    let _ = register();
    let catalog = obs_runtime::catalog();
    for name in [
        "http_client_request_duration_seconds",
        "http_client_active_requests",
        "job_runs_total",
        "job_duration_seconds",
        "job_queue_wait_seconds",
        "job_retries_total",
        "job_in_flight",
        "job_queue_depth",
        "job_worker_last_seen_timestamp_seconds",
        "db_client_connection_count",
        "db_client_connection_max",
        "db_client_connection_pending_requests",
        "db_client_connection_wait_time_seconds",
        "redis_connected",
        "last_success_timestamp_seconds",
    ] {
        assert!(catalog.metric(name).is_some(), "{name} not in the catalog");
    }
    let runs = catalog.metric("job_runs_total").unwrap();
    assert!(runs.label("job_name").is_some() && runs.label("job").is_none());
    assert_eq!(
        catalog
            .metric("last_success_timestamp_seconds")
            .unwrap()
            .source,
        obs_runtime::MetricSource::Push
    );
}

#[test]
fn promtool_accepts_the_new_rules_and_their_generated_tests_pass() {
    let _ = register();
    let dir = tempdir("generated");
    let rules = export::prometheus_rules_with(&options());
    let tests = export::rule_tests_with(&options());
    std::fs::write(dir.join(RULES_FILE), &rules).unwrap();
    std::fs::write(dir.join("rules_test.yml"), &tests).unwrap();
    let checked = promtool(
        &["check", "rules", "--lint=all", "--lint-fatal", RULES_FILE],
        &dir,
    );
    assert!(checked.contains("SUCCESS"), "{checked}");
    let tested = promtool(&["test", "rules", "rules_test.yml"], &dir);
    assert!(tested.contains("SUCCESS"), "{tested}");
    for group in ["obs-outbound", "obs-jobs", "obs-pools", "obs-batch"] {
        assert!(rules.contains(&format!("- name: {group}\n")), "{group}");
    }
    // Every new alert: its labels, annotations and runbook; a case where
    // it fires and one where it stays silent.
    for alert in NEW_ALERTS {
        let rule = rules
            .split("- alert: ")
            .find(|r| r.starts_with(&format!("{alert}\n")))
            .unwrap_or_else(|| panic!("no {alert} in\n{rules}"));
        for key in ["severity: ", "summary: ", "description: ", "runbook_url: "] {
            assert!(rule.contains(key), "{key} missing in {rule}");
        }
        let anchor = format!("docs/metrics.md#alert-{}", alert.to_ascii_lowercase());
        assert!(rule.contains(&anchor), "{rule}");
        let cases: Vec<&str> = tests
            .split("  - name: ")
            .filter(|c| c.contains(&format!("alertname: {alert}\n")))
            .collect();
        assert!(
            cases.iter().any(|c| c.contains("exp_labels:")),
            "{alert} never fires in the tests"
        );
        assert!(
            cases.iter().any(|c| c.contains("exp_alerts: []")),
            "{alert} is never shown silent"
        );
    }
    // The scrape job stays in every grouping; the job's own name is
    // `job_name`, never a second `job`.
    assert!(rules.contains("sum by (job, queue, job_name)"), "{rules}");
    assert!(rules.contains("sum by (job, server_address)"), "{rules}");
    assert!(
        rules.contains("sum by (job, instance, pool_name)"),
        "{rules}"
    );
    assert!(!rules.contains("0000000"), "inexact decimal in {rules}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Written by hand from the seeds' thresholds, so a generator bug can't
/// hide in a generated test.
const SCENARIO: &str = r#"
rule_files:
  - rules.yml
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # 8 of 100 runs a minute fail (error or panic): above 5 %. The
      # retries of another job are no failures.
      - series: 'job_runs_total{job="worker-service",instance="w:1",queue="mail",job_name="send",result="ok"}'
        values: '0+92x30'
      - series: 'job_runs_total{job="worker-service",instance="w:1",queue="mail",job_name="send",result="error"}'
        values: '0+6x30'
      - series: 'job_runs_total{job="worker-service",instance="w:1",queue="mail",job_name="send",result="panic"}'
        values: '0+2x30'
      - series: 'job_runs_total{job="worker-service",instance="w:1",queue="mail",job_name="digest",result="ok"}'
        values: '0+50x30'
      - series: 'job_runs_total{job="worker-service",instance="w:1",queue="mail",job_name="digest",result="retry"}'
        values: '0+50x30'
      # Calls to one server fail 4 times in 100 (below 5 %), to the other
      # 20 times.
      - series: 'http_client_request_duration_seconds_count{job="worker-service",instance="w:1",http_request_method="GET",server_address="a.internal",server_port="443",http_response_status_code="200"}'
        values: '0+96x30'
      - series: 'http_client_request_duration_seconds_count{job="worker-service",instance="w:1",http_request_method="GET",server_address="a.internal",server_port="443",error_type="timeout"}'
        values: '0+4x30'
      - series: 'http_client_request_duration_seconds_count{job="worker-service",instance="w:1",http_request_method="POST",server_address="b.internal",server_port="80",http_response_status_code="200"}'
        values: '0+80x30'
      - series: 'http_client_request_duration_seconds_count{job="worker-service",instance="w:1",http_request_method="POST",server_address="b.internal",server_port="80",http_response_status_code="503",error_type="503"}'
        values: '0+20x30'
      # 9 of 10 connections used; Redis gone after 10 minutes.
      - series: 'db_client_connection_count{job="worker-service",instance="w:1",pool_name="main",state="used"}'
        values: '9x30'
      - series: 'db_client_connection_count{job="worker-service",instance="w:1",pool_name="main",state="idle"}'
        values: '1x30'
      - series: 'db_client_connection_max{job="worker-service",instance="w:1",pool_name="main"}'
        values: '10x30'
      - series: 'redis_connected{job="worker-service",instance="w:1",pool_name="cache"}'
        values: '1x10 0x20'
    alert_rule_test:
      - eval_time: 15m
        alertname: ObsJobFailureRatio
        exp_alerts:
          - exp_labels: {severity: warning, job: worker-service, queue: mail, job_name: send}
            exp_annotations:
              summary: "job send on queue mail fails more than 5% of its runs"
              description: "Runs of send (queue mail, worker-service) ended in error or panic on more than 5% of the runs finished in 5 minutes (job_runs_total; retried and cancelled runs are not counted)."
              runbook_url: "docs/metrics.md#alert-obsjobfailureratio"
      - eval_time: 15m
        alertname: ObsOutboundErrorRatio
        exp_alerts:
          - exp_labels: {severity: warning, job: worker-service, server_address: b.internal}
            exp_annotations:
              summary: "calls to b.internal fail more than 5%"
              description: "More than 5% of the outbound HTTP calls of worker-service to b.internal failed over 5 minutes: an error_type (a 5xx answer, a timeout, a refused connection, …) on http_client_request_duration_seconds_count."
              runbook_url: "docs/metrics.md#alert-obsoutbounderrorratio"
      - eval_time: 15m
        alertname: ObsDbPoolSaturation
        exp_alerts:
          - exp_labels: {severity: warning, job: worker-service, instance: "w:1", pool_name: main}
            exp_annotations:
              summary: "pool main is more than 80% used"
              description: "More than 80% of the connections of pool main on w:1 (worker-service) have been in use for 5 minutes (db_client_connection_count{state=\"used\"} over db_client_connection_max): callers will soon wait for connections."
              runbook_url: "docs/metrics.md#alert-obsdbpoolsaturation"
      # Down from 11m: pending then, paging from 12m.
      - eval_time: 11m
        alertname: ObsRedisDown
        exp_alerts: []
      - eval_time: 13m
        alertname: ObsRedisDown
        exp_alerts:
          - exp_labels: {severity: critical, job: worker-service, instance: "w:1", pool_name: cache}
            exp_annotations:
              summary: "Redis of pool cache is unreachable"
              description: "w:1 (worker-service) has had no connection to Redis through pool cache for a minute (redis_connected is 0)."
              runbook_url: "docs/metrics.md#alert-obsredisdown"
  # A worker beating until 4m, then silent: stale after 9m, paging a
  # minute later; the other worker beats on.
  - interval: 1m
    input_series:
      - series: 'job_worker_last_seen_timestamp_seconds{job="worker-service",instance="w:1",queue="mail",worker="w-1"}'
        values: '0+60x4 240x20'
      - series: 'job_worker_last_seen_timestamp_seconds{job="worker-service",instance="w:1",queue="mail",worker="w-2"}'
        values: '0+60x24'
    alert_rule_test:
      - eval_time: 9m
        alertname: ObsJobWorkerStale
        exp_alerts: []
      - eval_time: 12m
        alertname: ObsJobWorkerStale
        exp_alerts:
          - exp_labels: {severity: critical, job: worker-service, instance: "w:1", queue: mail, worker: w-1}
            exp_annotations:
              summary: "worker w-1 of queue mail stopped for 5m"
              description: "Worker w-1 of queue mail on w:1 (worker-service) has not sent a heartbeat (job_worker_last_seen_timestamp_seconds) for more than 5m."
              runbook_url: "docs/metrics.md#alert-obsjobworkerstale"
  # A nightly batch that last succeeded at 10m: 24 h later it warns, not
  # before.
  - interval: 10m
    input_series:
      - series: 'last_success_timestamp_seconds{job="nightly_report",instance=""}'
        values: '600x160'
    alert_rule_test:
      - eval_time: 1440m
        alertname: ObsBatchStale
        exp_alerts: []
      - eval_time: 1460m
        alertname: ObsBatchStale
        exp_alerts:
          - exp_labels: {severity: warning, job: nightly_report}
            exp_annotations:
              summary: "batch job nightly_report has not succeeded for 24h"
              description: "The last success of batch job nightly_report (last_success_timestamp_seconds, set by obs_runtime::push on a successful push) is more than 24h old."
              runbook_url: "docs/metrics.md#alert-obsbatchstale"
"#;

#[test]
fn a_hand_written_scenario_fires_the_new_alerts_as_the_seeds_say() {
    let _ = register();
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

const SCHEMA: &str = include_str!("data/grafana-dashboard.schema.json");

/// The queries of the work dashboard, with Grafana's variables as a
/// Prometheus would see them.
fn work_dashboard() -> serde_json::Value {
    let (_, text) = export::grafana_dashboards()
        .into_iter()
        .find(|(file, _)| file == "obs-work.json")
        .expect("the work dashboard, as the families are registered");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_work_dashboard_validates_and_every_query_parses() {
    let _ = register();
    let dashboard = work_dashboard();
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::draft7::new(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&dashboard)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let text = dashboard.to_string();
    for family in [
        "http_client_request_duration_seconds_bucket",
        "http_client_active_requests",
        "job_runs_total",
        "job_duration_seconds_bucket",
        "job_queue_wait_seconds_bucket",
        "job_retries_total",
        "job_in_flight",
        "job_queue_depth",
        "job_worker_last_seen_timestamp_seconds",
        "db_client_connection_count",
        "db_client_connection_max",
        "db_client_connection_pending_requests",
        "db_client_connection_wait_time_seconds_bucket",
        "redis_connected",
        "last_success_timestamp_seconds",
    ] {
        assert!(text.contains(family), "no panel reads {family}");
    }
    let mut exprs = Vec::new();
    let mut ids = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        ids.push(panel["id"].as_u64().unwrap());
        let Some(targets) = panel["targets"].as_array() else {
            continue;
        };
        assert!(!targets.is_empty(), "{}", panel["title"]);
        for t in targets {
            let expr = t["expr"].as_str().unwrap();
            assert!(
                expr.contains("job=~\"$job\", instance=~\"$instance\""),
                "unfiltered {expr}"
            );
            if expr.contains('[') {
                assert!(expr.contains("[$__rate_interval]"), "{expr}");
            }
            exprs.push(
                expr.replace("$__rate_interval", "1m")
                    .replace("$job", ".*")
                    .replace("$instance", ".*"),
            );
        }
    }
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "panel ids are unique");
    // And the docs' ready queries of these families.
    let markdown = export::metrics_markdown_with(&options());
    let mut in_block: Option<String> = None;
    for line in markdown.lines() {
        match (&mut in_block, line) {
            (None, "```promql") => in_block = Some(String::new()),
            (Some(block), "```") => {
                exprs.push(std::mem::take(block));
                in_block = None;
            }
            (Some(block), line) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    // promtool parses every expression as a recording rule.
    let mut file = String::from("groups:\n  - name: queries\n    rules:\n");
    for (i, expr) in exprs.iter().enumerate() {
        file.push_str(&format!(
            "      - record: obs_test:query_{i}\n        expr: |-\n"
        ));
        for line in expr.lines() {
            file.push_str(&format!("          {line}\n"));
        }
    }
    let dir = tempdir("queries");
    std::fs::write(dir.join("queries.yml"), file).unwrap();
    let checked = promtool(&["check", "rules", "queries.yml"], &dir);
    assert!(checked.contains("SUCCESS"), "{checked}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_runbook_explains_every_new_alert() {
    let _ = register();
    let markdown = export::metrics_markdown_with(&options());
    for alert in NEW_ALERTS {
        let heading = format!("### Alert: {alert}\n");
        let at = markdown
            .find(&heading)
            .unwrap_or_else(|| panic!("no runbook for {alert}"));
        let entry = &markdown[at..];
        let entry = &entry[..entry[heading.len()..]
            .find("### ")
            .map_or(entry.len(), |end| end + heading.len())];
        assert!(entry.contains("What it means: "), "{entry}");
        assert!(!entry.contains("An alert generated by obs."), "{entry}");
        assert!(entry.contains("What to check first: "), "{entry}");
    }
    assert!(markdown.contains("### `job_runs_total`"));
    assert!(markdown.contains("background jobs (`obs_runtime::jobs`)"));
    assert!(
        markdown.contains(
            "sum by (queue, job_name) (rate(job_runs_total{result=~\"error|panic\"}[5m]))"
        )
    );
}

#[test]
fn every_work_panel_shows_data_and_every_rule_evaluates_on_prometheus() {
    let families = register();
    families.feed();
    let stop = Arc::new(AtomicBool::new(false));
    let (addr, server) = service_support::serve_metrics(Arc::clone(&stop));
    let feeder =
        service_support::repeat_until(Arc::clone(&stop), Duration::from_millis(50), move || {
            families.feed()
        });
    let rules = export::prometheus_rules_with(&options());
    let prometheus = Prometheus::start_with_rules("work", "worker-service", addr, Some(&rules));
    let instance = addr.to_string();
    let dashboard = work_dashboard();
    let mut panels = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        let Some(targets) = panel["targets"].as_array() else {
            continue;
        };
        let exprs = panel_queries(targets, "worker-service", &instance);
        panels.push((panel["title"].as_str().unwrap().to_owned(), exprs));
    }
    assert!(panels.len() >= 15, "{} panels", panels.len());
    let (mut failures, empty) = prometheus.check_panels(&panels);
    // Every rule evaluated, none with an error.
    let rules = prometheus
        .evaluated_rules(|_| true)
        .expect("Prometheus evaluated every rule within 60 s");
    let evaluated = rules.len();
    failures.extend(rule_failures(&rules));
    stop.store(true, Relaxed);
    feeder.join().unwrap();
    server.join().unwrap();
    eprintln!(
        "{} panels of obs-work.json evaluated, {evaluated} rules healthy",
        panels.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        empty.is_empty(),
        "panels without data: {empty:#?}\n{}",
        prometheus.log()
    );
    assert!(evaluated >= NEW_ALERTS.len(), "{rules:#?}");
}
