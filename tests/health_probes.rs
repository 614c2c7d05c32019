//! Probe behaviour through the axum router on loopback: single flight,
//! timeouts against a dependency that never answers, panics, non-critical
//! checks, liveness isolation, single checks, exclusions and who may read
//! failure reasons.
//!
//! The checks are global (registered at link time) and steered by statics,
//! so the tests take turns through `SERIAL`; each builds its own `Health`,
//! so no cached result crosses from one test to the next.

#[path = "health_support/http.rs"]
mod http;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use obs_runtime::access::Allowlist;
use obs_runtime::health::{
    self, CheckError, Health, HealthConfig, Probe, ShowReasons, deadpool_redis,
};
use obs_runtime::health_check;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

static COUNTED_RUNS: AtomicUsize = AtomicUsize::new(0);
static HEARTBEATS: AtomicUsize = AtomicUsize::new(0);
static COUNTED_FAILS: AtomicBool = AtomicBool::new(false);
static CACHE_COLD: AtomicBool = AtomicBool::new(false);
static PANIC: AtomicBool = AtomicBool::new(false);
static LEAK: AtomicBool = AtomicBool::new(false);
static HANGING: Mutex<Option<deadpool_redis::Pool>> = Mutex::new(None);

fn reset() {
    COUNTED_RUNS.store(0, SeqCst);
    HEARTBEATS.store(0, SeqCst);
    COUNTED_FAILS.store(false, SeqCst);
    CACHE_COLD.store(false, SeqCst);
    PANIC.store(false, SeqCst);
    LEAK.store(false, SeqCst);
    *HANGING.lock().unwrap() = None;
}

/// Counts its runs; takes a while, so concurrent probes overlap with it.
#[health_check("counted", timeout = "2s")]
async fn counted() -> Result<(), String> {
    COUNTED_RUNS.fetch_add(1, SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    if COUNTED_FAILS.load(SeqCst) {
        Err("counted is down".to_owned())
    } else {
        Ok(())
    }
}

#[health_check("optional_cache", critical = false)]
async fn optional_cache() -> Result<(), String> {
    if CACHE_COLD.load(SeqCst) {
        Err("cache is cold".to_owned())
    } else {
        Ok(())
    }
}

/// A Redis `PING` through a pool: against a listener that never answers,
/// it hangs until the timeout.
#[health_check("upstream", timeout = "300ms")]
async fn upstream() -> Result<(), CheckError> {
    let pool = HANGING.lock().unwrap().clone();
    match pool {
        Some(pool) => health::redis(&pool).await,
        None => Ok(()),
    }
}

#[health_check("billing", timeout = "250ms")]
async fn billing() -> Result<(), String> {
    if LEAK.load(SeqCst) {
        Err("connect to postgres://billing:hunter2@10.20.30.40:5432/billing failed".to_owned())
    } else {
        Ok(())
    }
}

#[health_check("migrations", kind = "startup")]
async fn migrations() -> Result<(), String> {
    assert!(!PANIC.load(SeqCst), "migration table is corrupt");
    Ok(())
}

#[health_check("heartbeat", kind = "liveness")]
async fn heartbeat() -> Result<(), String> {
    HEARTBEATS.fetch_add(1, SeqCst);
    Ok(())
}

async fn start(config: HealthConfig) -> SocketAddr {
    http::serve(health::axum::router_with(Arc::new(Health::new(config)))).await
}

fn status_of<'a>(body: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    &body["checks"][name]["status"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_probes_inside_the_ttl_run_each_check_once() {
    let _turn = SERIAL.lock().await;
    reset();
    let addr = start(HealthConfig::default().ttl(Duration::from_secs(30))).await;
    let probes: Vec<_> = (0..200)
        .map(|_| tokio::spawn(async move { http::get(addr, "/readyz").await }))
        .collect();
    for probe in probes {
        let response = probe.await.expect("probe task");
        assert_eq!(response.status, 200, "{}", response.body);
    }
    assert_eq!(
        COUNTED_RUNS.load(SeqCst),
        1,
        "200 probes inside one TTL ran the check more than once"
    );
}

#[tokio::test]
async fn results_are_reused_for_the_ttl_then_run_again() {
    let _turn = SERIAL.lock().await;
    reset();
    let ttl = Duration::from_millis(200);
    let addr = start(HealthConfig::default().ttl(ttl)).await;
    assert_eq!(http::get(addr, "/readyz").await.status, 200);
    assert_eq!(http::get(addr, "/readyz").await.status, 200);
    assert_eq!(COUNTED_RUNS.load(SeqCst), 1);
    // The TTL is the behaviour under test: wait it out.
    tokio::time::sleep(ttl + Duration::from_millis(20)).await;
    COUNTED_FAILS.store(true, SeqCst);
    let response = http::get(addr, "/readyz").await;
    assert_eq!(COUNTED_RUNS.load(SeqCst), 2);
    assert_eq!(response.status, 503);
    assert_eq!(
        response.json()["checks"]["counted"]["output"],
        "counted is down"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependency_that_never_answers_fails_at_its_timeout() {
    let _turn = SERIAL.lock().await;
    reset();
    // Accepts connections and never writes a byte.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hang_addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let pool = deadpool_redis::Config::from_url(format!("redis://{hang_addr}"))
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .unwrap();
    *HANGING.lock().unwrap() = Some(pool);
    let addr = start(HealthConfig::default()).await;

    let started = Instant::now();
    let response = tokio::time::timeout(Duration::from_secs(5), http::get(addr, "/readyz"))
        .await
        .expect("the endpoint hung");
    let elapsed = started.elapsed();
    let body = response.json();
    assert_eq!(response.status, 503, "{body}");
    assert_eq!(status_of(&body, "upstream"), "fail");
    assert_eq!(
        body["checks"]["upstream"]["output"],
        "timed out after 300ms"
    );
    assert!(
        elapsed >= Duration::from_millis(300),
        "failed before its timeout: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(1_300),
        "answered after {elapsed:?}"
    );
    assert_eq!(
        status_of(&body, "counted"),
        "pass",
        "the other checks still report"
    );
    held.abort();
}

#[tokio::test]
async fn liveness_runs_no_dependency_check() {
    let _turn = SERIAL.lock().await;
    reset();
    COUNTED_FAILS.store(true, SeqCst);
    LEAK.store(true, SeqCst);
    let addr = start(HealthConfig::default()).await;
    for path in ["/livez", "/health/live"] {
        let response = http::get(addr, path).await;
        let body = response.json();
        assert_eq!(response.status, 200, "{body}");
        let names: Vec<&String> = body["checks"].as_object().unwrap().keys().collect();
        assert_eq!(names, ["heartbeat"]);
    }
    assert_eq!(
        COUNTED_RUNS.load(SeqCst),
        0,
        "liveness ran a readiness check"
    );
    assert_eq!(
        HEARTBEATS.load(SeqCst),
        1,
        "the second probe reused the first result"
    );
    assert_eq!(http::get(addr, "/readyz").await.status, 503);
    assert_eq!(http::get(addr, "/health/ready").await.status, 503);
}

#[tokio::test]
async fn a_failing_non_critical_check_warns_with_200() {
    let _turn = SERIAL.lock().await;
    reset();
    CACHE_COLD.store(true, SeqCst);
    let addr = start(HealthConfig::default()).await;
    let response = http::get(addr, "/readyz").await;
    let body = response.json();
    assert_eq!(response.status, 200, "{body}");
    assert_eq!(body["status"], "warn");
    assert_eq!(status_of(&body, "optional_cache"), "warn");
    assert_eq!(body["checks"]["optional_cache"]["critical"], false);
    assert_eq!(body["checks"]["optional_cache"]["output"], "cache is cold");
    let report = Health::new(HealthConfig::default())
        .report(Probe::Readiness)
        .await;
    assert_eq!(report.http_status(), 200);
    assert_eq!(report.status(), health::Status::Warn);
}

#[tokio::test]
async fn a_panicking_check_is_a_failure_not_a_crash() {
    let _turn = SERIAL.lock().await;
    reset();
    PANIC.store(true, SeqCst);
    let addr = start(HealthConfig::default()).await;
    let response = http::get(addr, "/startupz").await;
    let body = response.json();
    assert_eq!(response.status, 503, "{body}");
    let output = body["checks"]["migrations"]["output"].as_str().unwrap();
    assert!(
        output.contains("panicked") && output.contains("migration table is corrupt"),
        "{output}"
    );
    assert_eq!(
        http::get(addr, "/livez").await.status,
        200,
        "the server survived"
    );
}

#[tokio::test]
async fn single_checks_exclusions_and_unknown_names() {
    let _turn = SERIAL.lock().await;
    reset();
    COUNTED_FAILS.store(true, SeqCst);
    let addr = start(HealthConfig::default()).await;

    let one = http::get(addr, "/readyz/optional_cache").await;
    let body = one.json();
    assert_eq!(one.status, 200, "{body}");
    assert_eq!(body["checks"].as_object().unwrap().len(), 1);
    assert_eq!(http::get(addr, "/readyz/counted").await.status, 503);

    let unknown = http::get(addr, "/readyz/nope").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("nope"), "{}", unknown.body);
    assert_eq!(
        http::get(addr, "/readyz/heartbeat").await.status,
        404,
        "heartbeat is a liveness check"
    );
    assert_eq!(http::get(addr, "/healthz/heartbeat").await.status, 200);

    let excluded = http::get(addr, "/readyz?exclude=counted&exclude=nope").await;
    let body = excluded.json();
    assert_eq!(excluded.status, 200, "{body}");
    assert!(body["checks"].get("counted").is_none());
    assert!(body["checks"].get("upstream").is_some());
    let notes = body["notes"]
        .as_array()
        .expect("a note on the unknown name");
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("\"nope\"")),
        "{notes:?}"
    );

    // From outside the allowlist, `exclude` can't turn a failing probe
    // into a passing one.
    let health = Health::new(HealthConfig::default());
    let outsider = health
        .respond(
            "/readyz",
            Some("exclude=counted"),
            Some("203.0.113.5".parse().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(outsider.status, 503, "{}", outsider.body);
    assert!(
        outsider.body.contains("exclude ignored"),
        "{}",
        outsider.body
    );
    let insider = health
        .respond(
            "/readyz",
            Some("exclude=counted"),
            Some("127.0.0.1".parse().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(insider.status, 200, "{}", insider.body);

    let all = http::get(addr, "/healthz?exclude=counted").await.json();
    for name in [
        "heartbeat",
        "migrations",
        "upstream",
        "billing",
        "optional_cache",
    ] {
        assert!(
            all["checks"].get(name).is_some(),
            "/healthz lacks {name}: {all}"
        );
    }
}

#[tokio::test]
async fn failure_reasons_are_redacted_and_shown_only_to_the_allowlist() {
    let _turn = SERIAL.lock().await;
    reset();
    LEAK.store(true, SeqCst);

    // Loopback is allowlisted by default: the reason shows, without the
    // password.
    let addr = start(HealthConfig::default().ttl(Duration::from_secs(5))).await;
    let response = http::get(addr, "/readyz").await;
    assert_eq!(response.status, 503);
    assert_eq!(response.headers["content-type"], "application/health+json");
    assert_eq!(response.headers["cache-control"], "max-age=5");
    let output = response.json()["checks"]["billing"]["output"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(output.contains("10.20.30.40"), "{output}");
    assert!(!output.contains("hunter2"), "the password leaked: {output}");

    for config in [
        HealthConfig::default().allowlist(Allowlist::none()),
        HealthConfig::default().show_reasons(ShowReasons::Never),
    ] {
        let addr = start(config).await;
        let body = http::get(addr, "/readyz").await.body;
        assert!(body.contains(r#""output":"reason withheld""#), "{body}");
        assert!(!body.contains("10.20.30.40"), "{body}");
    }
    let addr = start(
        HealthConfig::default()
            .allowlist(Allowlist::none())
            .show_reasons(ShowReasons::Always),
    )
    .await;
    assert!(
        http::get(addr, "/readyz")
            .await
            .body
            .contains("10.20.30.40")
    );
}

#[tokio::test]
async fn the_report_api_matches_the_endpoint() {
    let _turn = SERIAL.lock().await;
    reset();
    let report = health::report(Probe::Readiness).await;
    assert_eq!(report.http_status(), 200);
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["status"], "pass");
    let timestamp = json["timestamp"].as_str().unwrap();
    assert!(
        timestamp.len() == 24 && timestamp.ends_with('Z') && timestamp.as_bytes()[10] == b'T',
        "{timestamp}"
    );
    assert_eq!(json["checks"]["counted"]["kind"], "readiness");
    assert!(health::validate().is_ok());
    let text = obs_runtime::encode_text();
    assert!(
        text.contains(r#"health_check_status{check="counted",kind="readiness"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("# TYPE health_check_duration_seconds histogram"),
        "{text}"
    );
    // That first scrape started the checks no probe had run (liveness,
    // startup); they finish inside this turn, not in the next test's.
    let _ = health::report_all().await;
}
