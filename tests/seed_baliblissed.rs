//! Seed 004 (BaliBlissed): the parity list `examples/seeds/seed_baliblissed.parity`
//! checked row by row, and what the list can't express — bucket bounds, the
//! cardinality rules, PII in the logs, the `/metrics` allowlist, liveness
//! without dependencies, a hung dependency, the document's own tests — on the
//! example `seed_baliblissed` as a real process.

#[path = "seed_support/parity.rs"]
mod parity;
#[path = "otlp/receiver.rs"]
mod receiver;
#[path = "seed_support/seed.rs"]
mod seed;
#[allow(dead_code)]
#[path = "health_support/servers.rs"]
mod servers;
#[path = "service_support/mod.rs"]
mod service_support;

use seed::Seed;

use std::time::{Duration, Instant};

use service_support::{get, request};

/// Every row of `examples/seeds/seed_baliblissed.parity` met or out of scope.
#[test]
fn baliblissed_parity() {
    parity::check("seed_baliblissed");
}

/// The document's `AI_LATENCY_BUCKETS`.
const AI_LATENCY_BUCKETS: [&str; 8] = ["0.1", "0.5", "1", "2.5", "5", "10", "30", "60"];

/// The `le` bounds of a histogram's first series, `+Inf` left out.
fn bounds(scrape: &str, histogram: &str) -> Vec<String> {
    let prefix = format!("{histogram}_bucket{{");
    let mut first_series = None;
    let mut out = Vec::new();
    for line in scrape.lines().filter(|l| l.starts_with(&prefix)) {
        let (labels, le) = line.rsplit_once("le=\"").expect("an le label");
        if *first_series.get_or_insert(labels) != labels {
            break;
        }
        let le = le.split('"').next().unwrap_or_default();
        if le != "+Inf" {
            out.push(le.to_owned());
        }
    }
    out
}

#[test]
fn buckets_are_the_documents() {
    let seed = Seed::start("seed_baliblissed", &[]);
    // One AI call and one API call, so both histograms have series.
    assert_eq!(seed.call("POST", "/api/ai/itinerary").status, 200);
    assert_eq!(seed.call("GET", "/api/destinations/ubud").status, 200);
    let scrape = get(seed.addr, "/metrics").expect("scrape").text();
    assert_eq!(
        bounds(&scrape, "baliblissed_ai_request_duration_seconds"),
        AI_LATENCY_BUCKETS
    );
    // LATENCY_BUCKETS, through the instrumentator option.
    assert_eq!(
        bounds(&scrape, "http_request_duration_seconds"),
        [
            "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"
        ]
    );
}

#[test]
fn cardinality_rules_are_the_documents() {
    use obs_runtime::schema;
    for label in ["user_id", "session_id", "request_id", "email", "full_path"] {
        assert!(
            schema::check_label_name(label).is_some(),
            "HIGH_CARDINALITY_LABELS: {label} must be refused"
        );
    }
    for label in ["method", "status_code", "endpoint", "service"] {
        assert_eq!(
            schema::check_label_name(label),
            None,
            "SAFE_LABELS: {label}"
        );
    }
    assert_eq!(schema::MAX_SERIES_PER_METRIC, 10_000);
    assert_eq!(schema::MAX_NAME_LEN, 128);
    assert_eq!(schema::MAX_LABEL_VALUE_LEN, 1_024);
}

#[test]
fn pii_never_reaches_the_logs() {
    let seed = Seed::start("seed_baliblissed", &[]);
    let secrets = [
        ("Authorization", "Bearer sk-live-51HbaliSecret"),
        ("Cookie", "session=c00kie-value-9911"),
        ("X-API-Key", "apikey-7f3a9c"),
        ("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0"),
    ];
    let answer = request(
        seed.addr,
        "GET",
        "/api/destinations/ubud?contact=ada.lovelace@example.com",
        &secrets,
    )
    .expect("an answer");
    assert_eq!(answer.status, 200);
    // A slug trying to forge a log line: a newline and a JSON object.
    let forged =
        "/api/destinations/x%0A%7B%22level%22%3A%22ERROR%22%2C%22message%22%3A%22forged%22%7D";
    assert_eq!(seed.call("GET", forged).status, 404);
    let lines = seed.wait_for_log(|l| l.contains("\"http.response.status_code\":\"404\""));
    let access = lines
        .iter()
        .find(|l| l.contains("\"obs::access\"") && l.contains("authorization"))
        .expect("the access line of the request with secrets");
    assert!(access.contains("[REDACTED]"), "{access}");
    for line in &lines {
        for (_, secret) in &secrets {
            let value = secret.rsplit([' ', '=']).next().unwrap_or(secret);
            assert!(!line.contains(value), "a secret in the logs: {line}");
        }
        assert!(
            !line.contains("ada.lovelace@example.com"),
            "an e-mail: {line}"
        );
        let parsed: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("every line one JSON object ({e}): {line}"));
        assert_ne!(parsed["message"], "forged", "a forged line: {line}");
    }
}

#[test]
fn metrics_endpoint_is_restricted() {
    let seed = Seed::start("seed_baliblissed", &[]);
    assert_eq!(get(seed.addr, "/metrics").expect("scrape").status, 200);
    // Through a proxy (an ingress), the caller is the public internet.
    let proxied = request(
        seed.addr,
        "GET",
        "/metrics",
        &[("X-Forwarded-For", "203.0.113.9")],
    )
    .expect("an answer");
    assert_eq!(proxied.status, 403, "{}", proxied.text());
    // Option 2: an internal port, beside the API's.
    let internal = format!("127.0.0.1:{}", service_support::free_port());
    let with_port = Seed::start("seed_baliblissed", &[("METRICS_ADDR", &internal)]);
    let scrape = get(internal.parse().expect("addr"), "/metrics").expect("internal scrape");
    assert_eq!(scrape.status, 200);
    assert!(scrape.text().contains("baliblissed_cache_hits_total"));
    drop(with_port);
}

#[test]
fn liveness_has_no_dependencies() {
    let seed = Seed::start("seed_baliblissed", &[]);
    let checks = |path: &str| -> (u16, serde_json::Value) {
        let answer = get(seed.addr, path).expect("an answer");
        let body: serde_json::Value = serde_json::from_slice(&answer.body).expect("JSON");
        (answer.status, body["checks"].clone())
    };
    let (status, live) = checks("/health/live");
    assert_eq!(status, 200);
    for dependency in ["database", "redis", "external_api"] {
        assert!(
            live.get(dependency).is_none(),
            "liveness runs {dependency}: {live}"
        );
    }
    let (status, ready) = checks("/health/ready");
    assert_eq!(status, 200, "{ready}");
    for (check, timeout_ms) in [
        ("database", 2_000),
        ("redis", 1_000),
        ("external_api", 3_000),
    ] {
        assert_eq!(ready[check]["status"], "pass", "{ready}");
        assert_eq!(ready[check]["timeout_ms"], timeout_ms, "{ready}");
    }
    // Non-critical: a full disk of the test machine warns, still 200.
    let disk = &ready["disk"];
    assert!(
        disk["observed_unit"] == "percent" || disk["status"] == "warn",
        "{ready}"
    );
    let (status, all) = checks("/health");
    assert_eq!(status, 200);
    assert!(
        all.get("database").is_some() && all.get("memory").is_some(),
        "{all}"
    );
}

/// "Return 503 Service Unavailable immediately if timeout exceeded; don't
/// let health checks hang": an AI provider that accepts and never answers.
#[test]
fn a_hung_dependency_fails_readiness_within_its_timeout() {
    let hung = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/health", hung.local_addr().expect("addr"));
    let seed = Seed::start("seed_baliblissed", &[("AI_API_HEALTH_URL", &url)]);
    let started = Instant::now();
    let answer = get(seed.addr, "/health/ready").expect("an answer");
    let took = started.elapsed();
    assert_eq!(answer.status, 503, "{}", answer.text());
    let body: serde_json::Value = serde_json::from_slice(&answer.body).expect("JSON");
    assert_eq!(body["checks"]["external_api"]["status"], "fail", "{body}");
    assert_eq!(body["checks"]["database"]["status"], "pass", "{body}");
    assert!(
        took < Duration::from_secs(10),
        "readiness took {took:?}; the check's timeout is 3 s"
    );
    // Liveness never waits for it.
    assert_eq!(get(seed.addr, "/health/live").expect("live").status, 200);
    drop(hung);
}

/// The document's "Testing Requirements", as it wrote them.
#[test]
fn the_documents_own_tests() {
    let seed = Seed::start("seed_baliblissed", &[]);
    seed.call("GET", "/api/destinations/ubud");
    // test_metrics_endpoint_returns_prometheus_format
    let response = get(seed.addr, "/metrics").expect("scrape");
    assert_eq!(response.status, 200);
    assert!(
        response
            .header("content-type")
            .unwrap_or_default()
            .contains("text/plain")
    );
    assert!(response.text().contains("http_requests_total"));
    // test_health_readiness_checks_dependencies
    let response = get(seed.addr, "/health/ready").expect("ready");
    assert_eq!(response.status, 200);
    let data: serde_json::Value = serde_json::from_slice(&response.body).expect("JSON");
    assert!(data.get("checks").is_some());
    assert_eq!(data["checks"]["database"]["status"], "pass");
}

/// With `DATABASE_URL` and `REDIS_URL`, readiness asks the real servers:
/// `SELECT 1` and Redis's `INFO memory`, whose `used_memory` is the Cache
/// Performance dashboard's "Redis memory"; a stopped Redis fails it.
#[test]
fn real_postgres_and_redis_back_the_checks() {
    let pg = servers::Postgres::start();
    let mut redis = servers::Redis::start();
    let database_url = format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port);
    let redis_url = format!("redis://127.0.0.1:{}", redis.port);
    let seed = Seed::start(
        "seed_baliblissed",
        &[("DATABASE_URL", &database_url), ("REDIS_URL", &redis_url)],
    );
    let ready = get(seed.addr, "/health/ready").expect("ready");
    let body: serde_json::Value = serde_json::from_slice(&ready.body).expect("JSON");
    assert_eq!(ready.status, 200, "{body}");
    let used = body["checks"]["redis"]["observed_value"]
        .as_f64()
        .expect("used_memory");
    assert!(
        used > 100_000.0,
        "a real Redis uses more than {used} bytes: {body}"
    );
    let scrape = get(seed.addr, "/metrics").expect("scrape").text();
    let gauge: f64 = scrape
        .lines()
        .find_map(|l| {
            l.strip_prefix("baliblissed_redis_memory_used_bytes ")?
                .parse()
                .ok()
        })
        .expect("the gauge");
    assert!(gauge > 100_000.0, "{gauge}");
    redis.stop();
    let failed = service_support::wait_for(Duration::from_secs(10), || {
        get(seed.addr, "/health/ready").filter(|r| r.status == 503)
    })
    .expect("readiness fails without Redis");
    let body: serde_json::Value = serde_json::from_slice(&failed.body).expect("JSON");
    assert_eq!(body["checks"]["redis"]["status"], "fail", "{body}");
    assert_eq!(body["checks"]["database"]["status"], "pass", "{body}");
}

/// 004 "Phase 3": a request's trace reaches its database call, `/metrics`
/// and the probes make no spans, and the resource names the service as the
/// team's `Resource.create` did; spans reach a real OTLP receiver.
#[test]
fn traces_reach_the_database_call_and_skip_probes() {
    let rx = receiver::start();
    let endpoint = format!("http://{}", rx.http);
    let seed = Seed::start(
        "seed_baliblissed",
        &[
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_TRACES_SAMPLER", "parentbased_always_on"),
        ],
    );
    for path in ["/metrics", "/health/ready", "/health/live", "/health"] {
        assert_eq!(seed.call("GET", path).status, 200, "{path}");
    }
    assert_eq!(seed.call("GET", "/api/destinations/uluwatu").status, 200);
    let spans = rx.store.wait_for(Duration::from_secs(20), |spans| {
        spans.iter().any(|s| s.name.starts_with("GET /api/"))
            && spans
                .iter()
                .filter(|s| s.name == "load_destination")
                .count()
                >= 2
    });
    let server = spans
        .iter()
        .find(|s| s.name == "GET /api/destinations/{slug}")
        .unwrap_or_else(|| panic!("no server span: {spans:#?}"));
    // (The database check's own lookup is a trace of its own.)
    let query = spans
        .iter()
        .find(|s| s.name == "load_destination" && s.trace_id == server.trace_id)
        .unwrap_or_else(|| panic!("no database span in the request's trace: {spans:#?}"));
    assert_eq!(
        query.parent_span_id, server.span_id,
        "the query under the request"
    );
    for span in &spans {
        assert!(
            !span.name.contains("/metrics") && !span.name.contains("/health"),
            "OTEL_PYTHON_FASTAPI_EXCLUDED_URLS: {}",
            span.name
        );
    }
    let resource = &server.resource;
    assert_eq!(
        resource["service.name"], "baliblissed-backend",
        "{resource:?}"
    );
    assert_eq!(resource["service.namespace"], "baliblissed", "{resource:?}");
    assert_eq!(resource["service.version"], "1.0.0", "{resource:?}");
    assert!(!resource["host.name"].is_empty(), "{resource:?}");
    assert_eq!(
        resource["deployment.environment.name"], "production",
        "{resource:?}"
    );
}

/// 004 "Sampling Strategy": in production, 10 % of root traces by default.
/// 300 requests: at 10 %, fewer than 3 or more than 90 sampled happens
/// far less than once in a billion runs.
#[test]
fn production_samples_a_tenth_of_root_traces() {
    let rx = receiver::start();
    let endpoint = format!("http://{}", rx.http);
    let seed = Seed::start(
        "seed_baliblissed",
        &[
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ],
    );
    for _ in 0..300 {
        assert_eq!(seed.call("GET", "/api/destinations/ubud").status, 200);
    }
    // One request more, sampled by its caller (remote parent sampled).
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let answer = request(
        seed.addr,
        "GET",
        "/api/destinations/ubud",
        &[("traceparent", parent)],
    )
    .expect("an answer");
    assert_eq!(answer.status, 200);
    let spans = rx.store.wait_for(Duration::from_secs(20), |spans| {
        spans
            .iter()
            .any(|s| s.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736")
    });
    let roots = spans
        .iter()
        .filter(|s| s.name.starts_with("GET /api/") && s.parent_span_id.is_empty())
        .count();
    assert!(
        (3..=90).contains(&roots),
        "{roots} of 300 root traces sampled"
    );
    assert!(
        spans
            .iter()
            .any(|s| s.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"),
        "a sampled caller's trace is always kept"
    );
}

/// 004 "Graceful Degradation", "Optional Tracing", checklist "app starts
/// without OTLP collector": nothing listens where the spans go.
#[test]
fn starts_and_serves_without_a_collector() {
    let nobody = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", nobody.local_addr().expect("addr"));
    drop(nobody);
    let seed = Seed::start(
        "seed_baliblissed",
        &[
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_TRACES_SAMPLER", "always_on"),
        ],
    );
    for _ in 0..20 {
        assert_eq!(seed.call("GET", "/api/destinations/ubud").status, 200);
    }
    assert_eq!(seed.call("GET", "/health/ready").status, 200);
}

/// 004 "Phase 5: Conditional Logging": readable lines in development, one
/// JSON object per line in production (every other test).
#[test]
fn development_logs_are_readable_lines() {
    let seed = Seed::start("seed_baliblissed", &[("OBS_ENV", "development")]);
    assert_eq!(seed.call("GET", "/api/destinations/gili-air").status, 200);
    let lines = seed.wait_for_log(|l| l.contains("destination cached"));
    let line = lines
        .iter()
        .find(|l| l.contains("destination cached"))
        .expect("the line");
    assert!(
        serde_json::from_str::<serde_json::Value>(line).is_err(),
        "not JSON in development: {line}"
    );
    assert!(line.contains("INFO") && line.contains("gili-air"), "{line}");
}
