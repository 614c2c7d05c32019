//! Seed 002 (Berrys_AgentsV2) ported: `examples/seed_berrys.rs` checked
//! against `examples/seeds/seed_berrys.parity`, plus the rows the list has
//! no kind for: trace context across two services, redaction of the
//! request logger's fields, `/health` and one check alone, and the
//! guide's deployment verification run on the port.

#[path = "seed_support/parity.rs"]
mod parity;
#[path = "otlp/pki.rs"]
mod pki;
#[path = "service_support/mod.rs"]
mod service_support;
#[path = "health_support/tls.rs"]
mod tls;

use std::path::PathBuf;
use std::time::Duration;

use service_support::{ExampleService, example_binary_named, get, request, wait_for};

#[test]
fn berrys_parity() {
    parity::check("seed_berrys");
}

/// The port with its output in a file of its own.
fn start(name: &str) -> (ExampleService, PathBuf) {
    start_with(name, &[])
}

fn start_with(name: &str, env: &[(&str, &str)]) -> (ExampleService, PathBuf) {
    let log = std::env::temp_dir().join(format!("obs-berrys-{name}-{}.log", std::process::id()));
    let mut all = vec![("RUST_LOG", "info")];
    all.extend_from_slice(env);
    let service =
        ExampleService::start_example(&example_binary_named("seed_berrys"), &all, Some(&log));
    (service, log)
}

fn json_lines(log: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// L24, L199-209, L405-408: `inject_context_into_headers` on the way out,
/// `extract_context_from_headers` on the way in; L166-170, L401: the
/// request logger's fields, the session id redacted.
#[test]
fn trace_context_crosses_to_the_other_service() {
    let (service, log) = start("trace");
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace}-00f067aa0ba902b7-01");
    let r = request(
        service.addr,
        "GET",
        "/call",
        &[
            ("traceparent", &traceparent),
            ("x-request-id", "berrys-req-1"),
        ],
    )
    .expect("GET /call");
    assert_eq!(r.status, 200, "{}", r.text());
    // The other service's own line: the caller's trace and request id.
    let line = wait_for(Duration::from_secs(10), || {
        json_lines(&log)
            .into_iter()
            .find(|l| l["message"] == "endpoint called")
    })
    .expect("other-service logged the call");
    assert_eq!(line["trace_id"], trace, "{line}");
    assert_eq!(line["request_id"], "berrys-req-1", "{line}");
    assert_eq!(line["service.name"], "api-gateway", "{line}");
    // Both access lines, the caller's and the callee's, in the one trace.
    let routes = wait_for(Duration::from_secs(10), || {
        let routes: Vec<String> = json_lines(&log)
            .into_iter()
            .filter(|l| l["target"] == "obs::access" && l["trace_id"] == trace)
            .filter_map(|l| l["http.route"].as_str().map(str::to_owned))
            .collect();
        (routes.len() >= 2).then_some(routes)
    })
    .expect("two access lines in the trace");
    assert!(routes.contains(&"/call".to_owned()), "{routes:?}");
    assert!(routes.contains(&"/endpoint".to_owned()), "{routes:?}");

    let r = request(
        service.addr,
        "GET",
        "/users",
        &[("x-user-id", "456"), ("x-session-id", "session-789")],
    )
    .expect("GET /users");
    assert_eq!(r.status, 200);
    let line = wait_for(Duration::from_secs(10), || {
        json_lines(&log)
            .into_iter()
            .find(|l| l["message"] == "Processing request")
    })
    .expect("the request logger's line");
    assert_eq!(line["user_id"], "456", "{line}");
    assert_eq!(line["ip_address"], "127.0.0.1", "{line}");
    assert_eq!(line["session_id"], "[REDACTED]", "{line}");
    assert!(line["request_id"].is_string(), "{line}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !text.contains("session-789"),
        "the session id leaked:\n{text}"
    );
    drop(service);
    let _ = std::fs::remove_file(&log);
}

/// L68 `/health`, L228 `check_health()`, L231 `check_health("database")`.
#[test]
fn health_all_and_one() {
    let (service, log) = start("health");
    let all = get(service.addr, "/health").expect("GET /health");
    assert_eq!(all.status, 200, "{}", all.text());
    let body: serde_json::Value = serde_json::from_slice(&all.body).expect("health+json");
    let mut names: Vec<&String> = body["checks"].as_object().expect("checks").keys().collect();
    names.sort();
    assert_eq!(names, ["api", "database", "redis"], "{body}");
    assert_eq!(body["checks"]["api"]["critical"], false, "{body}");
    let one = get(service.addr, "/readyz/database").expect("GET /readyz/database");
    assert_eq!(one.status, 200, "{}", one.text());
    let body: serde_json::Value = serde_json::from_slice(&one.body).expect("health+json");
    let names: Vec<&String> = body["checks"].as_object().expect("checks").keys().collect();
    assert_eq!(names, ["database"], "{body}");
    assert_eq!(body["checks"]["database"]["timeout_ms"], 2000, "{body}");
    drop(service);
    let _ = std::fs::remove_file(&log);
}

/// L26, L359-368 (`verify_health`, `verify_metrics`), L426: the guide's
/// post-deploy check, run by `examples/obs_deploy.rs` on the port. The
/// canary comparison (L374-384) is `tests/deploy_verify.rs`.
#[test]
fn deployment_verification_passes_on_the_port() {
    let (service, log) = start("verify");
    let url = format!("http://{}", service.addr);
    let mut args = vec!["verify".to_owned(), url.clone()];
    for family in [
        "berrys_agents_api_requests_total",
        "berrys_agents_active_connections",
        "berrys_agents_response_size_bytes",
        "berrys_agents_function_execution_duration_seconds",
        "berrys_agents_cpu_usage_ratio",
        "berrys_agents_health_check_status",
        "berrys_agents_http_server_request_duration_seconds",
        "obs_build_info",
    ] {
        args.push("--require".to_owned());
        args.push(family.to_owned());
    }
    let out = std::process::Command::new(example_binary_named("obs_deploy"))
        .args(&args)
        .output()
        .expect("run obs_deploy");
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(
        report.contains(
            "ok    readiness: GET /readyz answered 200 (api pass, database pass, redis pass)"
        ),
        "{report}"
    );
    assert!(report.contains("PASS: 10 checks"), "{report}");
    // A family the port does not have fails the deploy.
    let out = std::process::Command::new(example_binary_named("obs_deploy"))
        .args([
            "verify",
            &url,
            "--require",
            "berrys_agents_cpu_usage_percent",
        ])
        .output()
        .expect("run obs_deploy");
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("FAIL  berrys_agents_cpu_usage_percent: not exposed"),
        "{report}"
    );
    drop(service);
    let _ = std::fs::remove_file(&log);
}

/// L187 `@trace("process_request")` around the timed `process_data`, L193
/// `start_as_current_span("operation_name")` with L194
/// `set_attribute("key", "value")`, all under the request's server span:
/// read from the console span exporter, every span sampled.
#[test]
fn spans_nest_as_the_guide_traces() {
    let (service, log) = start_with(
        "spans",
        &[
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_TRACES_SAMPLER", "always_on"),
        ],
    );
    let r = request(service.addr, "POST", "/process", &[]).expect("POST /process");
    assert_eq!(r.status, 200);
    // name -> (span_id, parent_span_id, the whole line)
    let field = |line: &str, key: &str| -> Option<String> {
        let start = line.find(&format!(" {key}="))? + key.len() + 2;
        let rest = &line[start..];
        let value = rest.split(' ').next()?;
        Some(value.trim_matches('"').to_owned())
    };
    let spans = wait_for(Duration::from_secs(10), || {
        let text = std::fs::read_to_string(&log).ok()?;
        let spans: std::collections::HashMap<String, (String, String, String)> = text
            .lines()
            .filter(|l| l.starts_with("span name="))
            .filter_map(|l| {
                let name = l
                    .strip_prefix("span name=\"")?
                    .split('"')
                    .next()?
                    .to_owned();
                Some((
                    name,
                    (
                        field(l, "span_id")?,
                        field(l, "parent_span_id")?,
                        l.to_owned(),
                    ),
                ))
            })
            .collect();
        [
            "process_data",
            "process_request",
            "operation_name",
            "POST /process",
        ]
        .iter()
        .all(|n| spans.contains_key(*n))
        .then_some(spans)
    })
    .expect("the four spans of POST /process on the console");
    let parent_of = |child: &str, parent: &str| {
        assert_eq!(
            spans[child].1, spans[parent].0,
            "{child} is not a child of {parent}: {spans:?}"
        );
    };
    parent_of("process_data", "process_request");
    parent_of("process_request", "operation_name");
    parent_of("operation_name", "POST /process");
    assert!(
        spans["operation_name"].2.contains(r#"key="value""#),
        "{spans:?}"
    );
    assert!(
        spans["process_data"].2.contains(r#"result="ok""#),
        "{spans:?}"
    );
    drop(service);
    let _ = std::fs::remove_file(&log);
}

/// L141-142 `log_to_console=True, log_file="service.log"`: the same JSON
/// lines on stdout and in `OBS_LOG_DIR`'s file.
#[test]
fn log_file_beside_the_console() {
    let dir = std::env::temp_dir().join(format!("obs-berrys-logdir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("log dir");
    let (service, log) = start_with("logdir", &[("OBS_LOG_DIR", dir.to_str().expect("utf-8"))]);
    let r = request(service.addr, "GET", "/users", &[("x-user-id", "456")]).expect("GET /users");
    assert_eq!(r.status, 200);
    let processing = |text: String| {
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|l| l["message"] == "Processing request")
    };
    let on_console = wait_for(Duration::from_secs(10), || {
        processing(std::fs::read_to_string(&log).ok()?)
    })
    .expect("the line on stdout");
    let in_file = wait_for(Duration::from_secs(10), || {
        let text: String = std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .collect();
        processing(text)
    })
    .expect("the line in OBS_LOG_DIR");
    // The same line, each writer stamping its own copy.
    let without_time = |mut line: serde_json::Value| {
        line.as_object_mut().map(|o| o.remove("timestamp"));
        line
    };
    assert_eq!(without_time(on_console), without_time(in_file.clone()));
    assert_eq!(in_file["user_id"], "456", "{in_file}");
    drop(service);
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_dir_all(&dir);
}

/// L297-298 (`cooldown_period`), L419-422 (severities, escalation paths,
/// alert response procedures) and L313 (request tracing): what the exported
/// bundle holds beside the rules the parity list checks.
#[test]
fn bundle_routes_severities_and_documents_alerts() {
    let dir = std::env::temp_dir().join(format!("obs-berrys-bundle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = std::process::Command::new(example_binary_named("seed_berrys"))
        .arg("--export")
        .arg(&dir)
        .output()
        .expect("run seed_berrys --export");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |path: &str| std::fs::read_to_string(dir.join(path)).expect(path);
    let alertmanager = read("alertmanager/alertmanager.yml");
    for want in [
        "receiver: page",
        "'severity=\"critical\"'",
        "receiver: ticket",
        "'severity=\"warning\"'",
        "repeat_interval:",
    ] {
        assert!(
            alertmanager.contains(want),
            "{want} missing:\n{alertmanager}"
        );
    }
    let rules = read("prometheus/rules.yml");
    let docs = read("docs/metrics.md");
    let alerts: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("- alert: "))
        .collect();
    assert!(alerts.contains(&"HighCpuUsage"), "{alerts:?}");
    for alert in &alerts {
        assert!(
            docs.contains(&format!("### Alert: {alert}")),
            "no runbook for {alert}"
        );
    }
    assert_eq!(
        rules.matches("runbook_url:").count(),
        rules.matches("- alert:").count(),
        "an alert without a runbook_url"
    );
    assert!(
        read("docker-compose.yaml").contains("jaeger"),
        "no trace UI in the compose file"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// L27, L311-312: the two dashboards show data, not only valid queries:
/// every panel query of "System Overview" and "Service Dashboard" has a
/// series on a real Prometheus that scraped the port after traffic, so a
/// panel querying a name the scrape does not expose (the prefix missed)
/// fails here.
#[test]
fn dashboards_show_the_scraped_series() {
    let (service, log) = start("panels");
    for (method, path) in [("GET", "/users"), ("POST", "/process"), ("GET", "/call")] {
        let r = request(service.addr, method, path, &[]).expect("request");
        assert_eq!(r.status, 200, "{method} {path}");
    }
    let dir = std::env::temp_dir().join(format!("obs-berrys-panels-bundle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = std::process::Command::new(example_binary_named("seed_berrys"))
        .arg("--export")
        .arg(&dir)
        .output()
        .expect("run seed_berrys --export");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prometheus = service_support::prometheus::Prometheus::start(
        "berrys-panels-prometheus",
        "seed_berrys",
        service.addr,
    );
    let scraped = wait_for(Duration::from_secs(60), || {
        prometheus
            .try_query(r#"count_over_time(up{job="seed_berrys"}[1m]) >= 3"#)
            .ok()
            .filter(|r| !r.is_empty())
    });
    assert!(scraped.is_some(), "no scrapes: {}", prometheus.log());
    let instance = service.addr.to_string();
    for file in ["system-overview.json", "service-dashboard.json"] {
        let text = std::fs::read_to_string(dir.join("grafana/dashboards").join(file)).expect(file);
        let board: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let panels = board["panels"].as_array().expect("panels");
        assert!(!panels.is_empty(), "{file}");
        for panel in panels {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"].as_str().expect("expr");
                let q = parity::concrete(expr, "seed_berrys", &instance);
                let result = prometheus.try_query(&q);
                assert!(
                    result.as_ref().is_ok_and(|r| !r.is_empty()),
                    "{file} panel {}: {q} gave {result:?}",
                    panel["title"]
                );
            }
        }
    }
    drop(service);
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_dir_all(&dir);
}

/// L246 `check_external_service(url)` pointed at a dependency that is down,
/// L413/L415 "Return detailed information about failures", "meaningful
/// status messages": the non-critical `api` check warns (the service stays
/// ready) and says what failed, to a loopback caller.
#[test]
fn a_failing_dependency_says_why() {
    let nowhere = format!("http://127.0.0.1:{}/health", service_support::free_port());
    let (service, log) = start_with("failing", &[("BERRYS_API_HEALTH_URL", &nowhere)]);
    let ready = get(service.addr, "/readyz").expect("GET /readyz");
    assert_eq!(ready.status, 200, "{}", ready.text());
    let body: serde_json::Value = serde_json::from_slice(&ready.body).expect("health+json");
    assert_eq!(body["status"], "warn", "{body}");
    let api = &body["checks"]["api"];
    assert_eq!(api["status"], "warn", "{body}");
    let reason = api["output"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&nowhere),
        "the reason names the URL: {body}"
    );
    assert_eq!(body["checks"]["database"]["status"], "pass", "{body}");
    // Its status series reads the warning.
    let scrape = get(service.addr, "/metrics").expect("scrape").text();
    assert!(
        scrape.lines().any(
            |l| l.starts_with("berrys_agents_health_check_status{check=\"api\"")
                && l.ends_with(" 0.5")
        ),
        "{scrape}"
    );
    drop(service);
    let _ = std::fs::remove_file(&log);
}

/// L246 `check_external_service("https://api.example.com/health")`: the
/// `api` check over TLS, trusting the CA `BERRYS_API_CA_FILE` names, against
/// a real TLS server on loopback.
#[test]
fn the_external_api_check_speaks_https() {
    let pki = pki::generate("berrys-api");
    let addr = https_health_server(&pki);
    let url = format!("https://localhost:{}/health", addr.port());
    let ca = pki.ca.to_str().expect("utf-8 path").to_owned();
    let (service, log) = start_with(
        "https",
        &[("BERRYS_API_HEALTH_URL", &url), ("BERRYS_API_CA_FILE", &ca)],
    );
    let body = wait_for(Duration::from_secs(10), || {
        let r = get(service.addr, "/readyz/api")?;
        let body: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
        (body["checks"]["api"]["status"] == "pass").then_some(body)
    });
    assert!(
        body.is_some(),
        "the api check did not pass over https: {:?}",
        get(service.addr, "/readyz/api").map(|r| r.text())
    );
    drop(service);
    let _ = std::fs::remove_file(&log);
}

/// A TLS server on loopback (certificate of `pki`, for `localhost`)
/// answering every `GET /health` with `200 ok`, for the test's lifetime.
fn https_health_server(pki: &pki::Pki) -> std::net::SocketAddr {
    tls::serve_tls(&pki.server_cert, &pki.server_key, |request| {
        request.starts_with(b"GET /health ").then(|| {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_vec()
        })
    })
}
