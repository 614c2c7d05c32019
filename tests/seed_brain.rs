//! Seed 001 (BRAiN): every row of `examples/seeds/seed_brain.parity`
//! checked against `examples/seed_brain.rs`, and what the list's kinds
//! can't express: endpoint normalization, the values refreshed at scrape
//! time, the mission worker's retries and failures, the scrape setup of the
//! bundle, BRAiN's file logging variables, Sentry's filtering, and trace
//! sampling by environment (100 % in development, 10 % in production) with
//! missions in the trace of the request that queued them, and the real
//! PostgreSQL and Redis behind `DATABASE_URL` and `REDIS_URL`.

#[path = "seed_support/parity.rs"]
mod parity;
#[path = "otlp/receiver.rs"]
mod receiver;
#[path = "sentry_support/endpoint.rs"]
#[allow(dead_code)]
mod sentry;
#[path = "health_support/servers.rs"]
#[allow(dead_code)]
mod servers;
#[path = "service_support/mod.rs"]
mod service_support;

use std::time::Duration;

use service_support::{ExampleService, example_binary_named, get, request, wait_for};

fn start(env: &[(&str, &str)], log: Option<&std::path::Path>) -> ExampleService {
    ExampleService::start_example(&example_binary_named("seed_brain"), env, log)
}

/// The value of the first sample of the scrape whose line starts with `series`.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn scrape(service: &ExampleService) -> String {
    get(service.addr, "/metrics").expect("scrape").text()
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("seed-brain-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn brain_parity() {
    parity::check("seed_brain");
}

#[test]
fn endpoints_normalized_values_refreshed_and_missions_retried() {
    let service = start(&[], None);
    let addr = service.addr;
    // 25 missions: the 7th, 17th fail their first attempt, the 25th all three.
    for i in 0..25 {
        let r = request(addr, "POST", "/api/missions?priority=high", &[]).unwrap();
        assert_eq!(r.status, 200, "mission {i}: {}", r.text());
    }
    for id in [3, 4] {
        assert_eq!(
            get(addr, &format!("/api/missions/{id}")).unwrap().status,
            200
        );
    }
    let done = wait_for(Duration::from_secs(30), || {
        let s = scrape(&service);
        let finished = sample(&s, "brain_missions_total{status=\"completed\"}")?
            + sample(&s, "brain_missions_total{status=\"failed\"}")?;
        (finished >= 25.0).then_some(s)
    })
    .expect("25 missions finished within 30 s");
    assert_eq!(
        sample(&done, "brain_missions_total{status=\"failed\"}"),
        Some(1.0)
    );
    // 2 retries for mission 25, 1 each for missions 7 and 17, plus any
    // attempt whose LLM call failed (every 20th call).
    assert!(sample(&done, "brain_missions_retries_total").unwrap() >= 4.0);
    // "Endpoint Normalization": ids become the route template.
    assert!(
        done.lines()
            .any(|l| l.starts_with("brain_http_requests_total")
                && l.contains("endpoint=\"/api/missions/{id}\"")
                && l.ends_with(" 2")),
        "no normalized endpoint:\n{done}"
    );
    assert!(!done.contains("endpoint=\"/api/missions/3\""));
    // "Auto-updates uptime, pool status, health checks": a later scrape
    // shows a later uptime and the readiness (1: every check passes; under
    // a loaded machine a check may have timed out a moment).
    let up = sample(&done, "brain_app_uptime_seconds ").unwrap();
    let later = wait_for(Duration::from_secs(20), || {
        let s = scrape(&service);
        let newer = sample(&s, "brain_app_uptime_seconds ")? > up;
        (newer && sample(&s, "brain_app_health_status ")? == 1.0).then_some(())
    });
    assert!(
        later.is_some(),
        "uptime stayed at {up} or readiness never passed"
    );
    assert_eq!(sample(&done, "brain_db_pool_size "), Some(10.0));
    assert_eq!(sample(&done, "brain_redis_connected "), Some(1.0));
    assert_eq!(sample(&done, "brain_mission_worker_active "), Some(1.0));
}

#[test]
fn bundle_scrapes_like_brain() {
    let dir = temp_dir("bundle");
    let out = std::process::Command::new(example_binary_named("seed_brain"))
        .arg("--export")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // "job_name: 'brain-backend', metrics_path: '/metrics', scrape_interval: 15s".
    let prometheus = std::fs::read_to_string(dir.join("prometheus/prometheus.yml")).unwrap();
    for want in [
        "job_name: \"brain-backend\"",
        "metrics_path: /metrics",
        "scrape_interval: 15s",
    ] {
        assert!(prometheus.contains(want), "no `{want}` in:\n{prometheus}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn file_logging_with_brains_variables() {
    let dir = temp_dir("logs");
    let logs = dir.join("brain");
    let service = start(
        &[
            ("ENABLE_FILE_LOGGING", "true"),
            ("LOG_DIR", logs.to_str().unwrap()),
            ("RUST_LOG", "info"),
        ],
        None,
    );
    let lines = |file: &str| -> Vec<serde_json::Value> {
        std::fs::read_to_string(logs.join(file))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    assert_eq!(get(service.addr, "/api/health").unwrap().status, 200);
    let access = wait_for(Duration::from_secs(10), || {
        lines("obs.log")
            .into_iter()
            .find(|l| l["http.route"] == "/api/health")
    });
    let access = access.expect("a JSON access line for /api/health in LOG_DIR/obs.log");
    assert!(access["request_id"].is_string(), "{access}");
    // Mission 25 fails its three attempts: one ERROR line, in errors.log
    // too, with the mission's context; nothing but errors there.
    for _ in 0..25 {
        assert_eq!(
            request(service.addr, "POST", "/api/missions", &[])
                .unwrap()
                .status,
            200
        );
    }
    let failed = wait_for(Duration::from_secs(30), || {
        lines("errors.log")
            .into_iter()
            .find(|l| l["mission_id"] == 25)
    });
    let failed = failed.expect("mission 25's failure in LOG_DIR/errors.log");
    assert_eq!(failed["level"], "ERROR", "{failed}");
    assert!(lines("errors.log").iter().all(|l| l["level"] == "ERROR"));
    // Nested context: a mission's line carries its own span's fields and
    // the request id of the request that queued it (through the job).
    let started = lines("obs.log")
        .into_iter()
        .find(|l| l["message"] == "mission started" && l["mission_id"] == 1)
        .expect("mission 1's first line");
    assert_eq!(started["component"], "mission_worker", "{started}");
    assert!(started["request_id"].is_string(), "{started}");
    assert_eq!(started["service.name"], "brain", "{started}");
    drop(service);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sentry_gets_5xx_not_4xx_nor_probes() {
    let endpoint = sentry::Endpoint::start(sentry::Mode::Answer);
    let dsn = endpoint.dsn();
    let service = start(&[("SENTRY_DSN", dsn.as_str())], None);
    let addr = service.addr;
    // A 404 and the probes first: events leave in order, so one of theirs
    // would arrive before the 502's.
    assert_eq!(get(addr, "/api/missions/999999").unwrap().status, 404);
    assert_eq!(get(addr, "/readyz").unwrap().status, 200);
    // The 20th LLM call fails: its agent call answers 502.
    let statuses: Vec<u16> = (0..20)
        .map(|_| {
            request(addr, "POST", "/api/agents/coder/call?provider=openai", &[])
                .unwrap()
                .status
        })
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 502).count(),
        1,
        "{statuses:?}"
    );
    let events = endpoint.wait_for(1);
    assert!(!events.is_empty(), "no Sentry event for the 502");
    let first = events[0].to_string();
    assert!(
        first.contains("502"),
        "the first event is not the 502: {first}"
    );
    // Environment tagging and release tracking.
    assert_eq!(events[0]["environment"], "production", "{first}");
    assert_eq!(events[0]["release"], "brain@0.1.0", "{first}");
    assert!(
        events
            .iter()
            .all(|e| !e.to_string().contains("999999") && !e.to_string().contains("readyz")),
        "{events:?}"
    );
}

#[test]
fn traces_sampled_all_in_development_a_tenth_in_production() {
    let rx = receiver::start();
    let endpoint = format!("http://{}", rx.http);
    let env = |obs_env| {
        [
            ("OBS_ENV", obs_env),
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "200"),
            // Spans are `tracing` spans: at `warn` (the default of the
            // test services) the server spans would not exist.
            ("RUST_LOG", "info"),
        ]
    };
    let server_spans = |name: &str, service: &str| {
        rx.store
            .spans()
            .into_iter()
            .filter(|s| {
                s.kind == 2
                    && s.name == name
                    && s.resource.get("service.name").is_some_and(|n| n == service)
            })
            .count()
    };

    // Development: every request is traced, and a mission's run is in the
    // trace of the request that queued it ("transaction tracking for
    // background tasks").
    let dev = start(&env("development"), None);
    for _ in 0..20 {
        assert_eq!(
            request(dev.addr, "GET", "/api/health", &[]).unwrap().status,
            200
        );
    }
    assert_eq!(
        request(dev.addr, "POST", "/api/missions", &[])
            .unwrap()
            .status,
        200
    );
    let spans = rx.store.wait_for(Duration::from_secs(30), |spans| {
        spans.iter().filter(|s| s.name == "GET /api/health").count() >= 20
            && spans.iter().any(|s| s.name == "run_mission")
    });
    assert_eq!(server_spans("GET /api/health", "brain"), 20);
    let queued = spans
        .iter()
        .find(|s| s.name == "POST /api/missions")
        .expect("the request's span");
    let run = spans
        .iter()
        .find(|s| s.name == "run_mission")
        .expect("the mission's span");
    assert_eq!(
        run.trace_id, queued.trace_id,
        "the mission left the request's trace"
    );
    drop(dev);

    // Production: about a tenth (200 requests: 20 expected; 1 to 60 is
    // far outside chance). SIGTERM: the example flushes its spans on the
    // way out, so the count is final.
    let mut prod = start(&env("production"), None);
    for id in 0..200 {
        request(prod.addr, "GET", &format!("/api/missions/{id}"), &[]).unwrap();
    }
    assert!(
        prod.terminate(Duration::from_secs(20)).is_some(),
        "no exit on SIGTERM"
    );
    let kept = server_spans("GET /api/missions/{id}", "brain");
    assert!(
        (1..=60).contains(&kept),
        "{kept} of 200 requests traced in production"
    );
}

#[test]
fn real_postgres_and_redis_when_their_urls_are_set() {
    let pg = servers::Postgres::start();
    let mut redis = servers::Redis::start();
    let db = format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port);
    let cache = format!("redis://127.0.0.1:{}", redis.port);
    let service = start(&[("DATABASE_URL", &db), ("REDIS_URL", &cache)], None);
    let r = request(service.addr, "POST", "/api/missions", &[]).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(get(service.addr, "/readyz").unwrap().status, 200);
    // The queries ran on PostgreSQL, the pool gauges read its pool.
    let s = wait_for(Duration::from_secs(20), || {
        let s = scrape(&service);
        let inserted = sample(
            &s,
            "brain_db_queries_total{operation=\"insert\",success=\"true\"}",
        )?;
        let updated = sample(
            &s,
            "brain_db_queries_total{operation=\"update\",success=\"true\"}",
        )?;
        (inserted >= 1.0 && updated >= 1.0).then_some(s)
    })
    .expect("the mission's insert and update on PostgreSQL");
    assert!(sample(&s, "brain_db_pool_size ").unwrap() >= 1.0, "{s}");
    assert_eq!(sample(&s, "brain_redis_connected "), Some(1.0));
    // Redis gone: the gauge ObsRedisDown reads drops to 0, readiness fails.
    redis.stop();
    let down = wait_for(Duration::from_secs(20), || {
        let s = scrape(&service);
        (sample(&s, "brain_redis_connected ")? == 0.0).then_some(())
    });
    assert!(
        down.is_some(),
        "brain_redis_connected stayed 1 with Redis stopped"
    );
    assert_eq!(get(service.addr, "/readyz").unwrap().status, 503);
}
