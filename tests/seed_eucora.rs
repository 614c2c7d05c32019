//! Seed 003, EUCORA: `examples/seed_eucora.rs` against the team's document
//! (`examples/seeds/seed_eucora.parity`), plus what the list has no kind
//! for: the correlation through the Celery-style task to the database, the
//! team's metrics path, a dead collector, and the bundle as they deploy it.

#[path = "seed_support/parity.rs"]
mod parity;
#[path = "health_support/servers.rs"]
mod servers;
#[path = "service_support/mod.rs"]
mod service_support;

use std::path::Path;
use std::time::Duration;

use service_support::{ExampleService, example_binary_named, free_port, request, wait_for};

#[test]
fn eucora_parity() {
    parity::check("seed_eucora");
}

/// The example with its output in `dir/out.log`.
fn start(dir: &Path, env: &[(&str, &str)]) -> ExampleService {
    std::fs::create_dir_all(dir).unwrap();
    let binary = example_binary_named("seed_eucora");
    ExampleService::start_example(&binary, env, Some(&dir.join("out.log")))
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("obs-eucora-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// JSON log lines of the example that carry `trace_id`.
fn lines_of_trace(log: &Path, trace_id: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["trace_id"] == trace_id)
        .collect()
}

/// 003 L32: "Correlation IDs propagate through HTTP -> Celery -> DB calls";
/// L28 W3C TraceContext; L308 the X-Correlation-ID header.
#[test]
fn correlation_flows_from_http_through_the_task_to_the_database() {
    let dir = scratch("correlation");
    let service = start(&dir, &[("RUST_LOG", "info")]);
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let answer = request(
        service.addr,
        "POST",
        "/api/v1/deployments?app=firefox&ring=pilot",
        &[
            ("traceparent", &traceparent),
            ("X-Correlation-ID", "change-4711"),
        ],
    )
    .expect("an answer");
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.text().contains("\"deployed\""), "{}", answer.text());
    assert_eq!(answer.header("x-correlation-id"), Some("change-4711"));

    let log = dir.join("out.log");
    let messages = wait_for(Duration::from_secs(10), || {
        let lines = lines_of_trace(&log, trace_id);
        let has = |m: &str| lines.iter().any(|l| l["message"] == m);
        (has("deployment executed") && has("query ran")).then_some(lines)
    })
    .unwrap_or_else(|| {
        panic!(
            "no task and query lines of trace {trace_id}:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    for line in &messages {
        assert_eq!(line["request_id"], "change-4711", "{line}");
    }
    // The insert runs inside the task, on another tokio task than the request.
    assert!(
        messages
            .iter()
            .any(|l| l["message"] == "query ran" && l["query_type"] == "insert"),
        "{messages:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// 003 L105-115: `GET /api/v1/metrics/`, no authentication, HELP and TYPE
/// for every family; the same exposition as `/metrics`.
#[test]
fn metrics_endpoint_at_the_team_path() {
    let dir = scratch("path");
    let service = start(&dir, &[]);
    let team = request(service.addr, "GET", "/api/v1/metrics/", &[]).expect("an answer");
    assert_eq!(team.status, 200);
    let content_type = team.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = team.text();
    for family in [
        "deployment_total counter",
        "risk_score histogram",
        "circuit_breaker_state gauge",
        "celery_task_duration_seconds histogram",
        "connector_operation_duration_seconds histogram",
    ] {
        let name = family.split(' ').next().unwrap_or_default();
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "no HELP of {name}"
        );
        assert!(
            text.contains(&format!("# TYPE {family}\n")),
            "no TYPE {family}"
        );
    }
    let ours = request(service.addr, "GET", "/metrics", &[]).expect("an answer");
    let types = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with("# TYPE "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(types(&text), types(&ours.text()));
    // OpenMetrics for a scraper that asks for it.
    let om = request(
        service.addr,
        "GET",
        "/api/v1/metrics/",
        &[("Accept", "application/openmetrics-text; version=1.0.0")],
    )
    .expect("an answer");
    let content_type = om.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// 003 L29, L41, L279: tracing works without an OTLP collector: requests are
/// answered and the spans that can't leave are counted, not queued forever.
#[test]
fn collector_down_degrades_gracefully() {
    let dir = scratch("collector");
    let dead = format!("http://127.0.0.1:{}", free_port());
    let service = start(
        &dir,
        &[
            ("RUST_LOG", "info"),
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_TRACES_SAMPLER", "always_on"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &dead),
        ],
    );
    for _ in 0..3 {
        let answer = request(service.addr, "POST", "/api/v1/deployments", &[]).expect("an answer");
        assert_eq!(answer.status, 200, "{}", answer.text());
    }
    assert_eq!(
        request(service.addr, "GET", "/livez", &[]).map(|r| r.status),
        Some(200)
    );
    let dropped = wait_for(Duration::from_secs(60), || {
        let text = request(service.addr, "GET", "/metrics", &[])?.text();
        let line = text
            .lines()
            .find(|l| l.starts_with("obs_telemetry_dropped_spans_total"))?;
        let n: f64 = line.rsplit(' ').next()?.parse().ok()?;
        (n > 0.0).then_some(n)
    });
    assert!(
        dropped.is_some(),
        "the spans the dead collector never got are not counted"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// 003 L126-132 and L194-207: the bundle scrapes the job the team named
/// every 15 s, and its Compose file runs Prometheus on 9090 and Grafana on
/// 3000 with the data source and the dashboards provisioned.
#[test]
fn bundle_as_the_team_deploys_it() {
    let dir = scratch("bundle");
    let out = std::process::Command::new(example_binary_named("seed_eucora"))
        .arg("--export")
        .arg(&dir)
        .output()
        .expect("run --export");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read =
        |p: &str| std::fs::read_to_string(dir.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let prometheus = read("prometheus/prometheus.yml");
    assert!(
        prometheus.contains("job_name: \"eucora-control-plane\""),
        "{prometheus}"
    );
    assert!(prometheus.contains("scrape_interval: 15s"), "{prometheus}");
    let compose = read("docker-compose.yaml");
    for needle in ["prometheus:", "\"9090:9090\"", "grafana:", "\"3000:3000\""] {
        assert!(
            compose.contains(needle),
            "no {needle} in docker-compose.yaml"
        );
    }
    assert!(read("grafana/provisioning/datasources/prometheus.yaml").contains("prometheus"));
    let board: serde_json::Value =
        serde_json::from_str(&read("grafana/dashboards/eucora-operations.json")).expect("JSON");
    assert_eq!(board["title"], "EUCORA Operations");
    // L188 one hour by default; L189 legends; L191 tooltips with the values.
    assert_eq!(board["time"]["from"], "now-1h");
    for panel in board["panels"].as_array().expect("panels") {
        assert_eq!(panel["options"]["legend"]["showLegend"], true, "{panel}");
        assert_eq!(panel["options"]["tooltip"]["mode"], "multi", "{panel}");
    }
    let provider = read("grafana/provisioning/dashboards/obs.yaml");
    assert!(provider.contains("providers"), "{provider}");
    // Every custom alert has its runbook entry.
    let runbook = read("docs/metrics.md");
    for alert in [
        "CircuitBreakerOpen",
        "ConnectorUnhealthy",
        "LowPromotionGateSuccessRate",
    ] {
        assert!(runbook.contains(alert), "no runbook entry for {alert}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// With `DATABASE_URL` and `REDIS_URL` the example runs on a real PostgreSQL
/// (queries, pool metrics, `db_connection_pool_size` as the pool's size) and
/// a real Redis broker, and readiness follows them.
#[test]
fn real_database_and_broker_when_configured() {
    let dir = scratch("servers");
    let mut pg = servers::Postgres::start();
    let redis = servers::Redis::start();
    let database_url = format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port);
    let redis_url = format!("redis://127.0.0.1:{}", redis.port);
    let service = start(
        &dir,
        &[("DATABASE_URL", &database_url), ("REDIS_URL", &redis_url)],
    );
    let answer = request(service.addr, "POST", "/api/v1/deployments", &[]).expect("an answer");
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.text().contains("\"deployed\""), "{}", answer.text());
    let ready = request(service.addr, "GET", "/readyz", &[]).expect("an answer");
    assert_eq!(ready.status, 200, "{}", ready.text());

    let scrape = request(service.addr, "GET", "/metrics", &[])
        .expect("a scrape")
        .text();
    let value = |prefix: &str| -> f64 {
        let line = scrape.lines().find(|l| l.starts_with(prefix));
        let line = line.unwrap_or_else(|| panic!("no {prefix} in the scrape"));
        line.rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    let max = value("db_client_connection_max{pool_name=\"database\"");
    assert!(max >= 1.0, "pool max {max}");
    assert_eq!(value("db_connection_pool_size"), max);
    assert!(
        scrape.contains("pool_name=\"celery_broker\""),
        "no broker pool metrics"
    );
    assert!(
        scrape.contains("db_query_calls_total{") && scrape.contains("query_type=\"insert\""),
        "no insert query counted"
    );

    // The database goes away: readiness fails on it (after the 1 s cache).
    pg.stop();
    let failing = wait_for(Duration::from_secs(10), || {
        let r = request(service.addr, "GET", "/readyz", &[])?;
        (r.status == 503 && r.text().contains("\"database\":{\"status\":\"fail\"")).then_some(r)
    });
    assert!(failing.is_some(), "readiness does not follow PostgreSQL");
    let _ = std::fs::remove_dir_all(&dir);
}
