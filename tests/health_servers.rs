//! Readiness against real dependencies: a PostgreSQL and a Redis server
//! started on loopback for this test, checked through the ready-made
//! `SELECT 1` and `PING` checks, then stopped under the probe's feet.

#[path = "health_support/http.rs"]
mod http;
#[path = "health_support/servers.rs"]
mod servers;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use obs_runtime::health::deadpool_postgres::{self, tokio_postgres::NoTls};
use obs_runtime::health::{self, CheckError, Health, HealthConfig, Observed, deadpool_redis};
use obs_runtime::health_check;

static DB: OnceLock<deadpool_postgres::Pool> = OnceLock::new();
static CACHE: OnceLock<deadpool_redis::Pool> = OnceLock::new();

#[health_check("database", timeout = "2s")]
async fn database() -> Result<(), CheckError> {
    let pool = DB
        .get()
        .ok_or_else(|| CheckError::new("no database pool yet"))?;
    health::postgres(pool).await
}

#[health_check("redis", timeout = "1s")]
async fn redis() -> Result<(), CheckError> {
    let pool = CACHE
        .get()
        .ok_or_else(|| CheckError::new("no redis pool yet"))?;
    health::redis(pool).await
}

#[health_check("disk", critical = false)]
async fn disk() -> Result<Observed, CheckError> {
    health::disk_space(std::env::temp_dir(), 100.0)
}

#[health_check("memory", kind = "liveness", critical = false)]
async fn memory() -> Result<Observed, CheckError> {
    health::process_memory(u64::MAX)
}

const TTL: Duration = Duration::from_millis(300);

fn check<'a>(body: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    body["checks"]
        .get(name)
        .unwrap_or_else(|| panic!("no check `{name}` in {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_real_postgres_and_redis() {
    let mut pg = servers::Postgres::start();
    let mut redis_server = servers::Redis::start();

    let mut config = deadpool_postgres::Config::new();
    config.host = Some("127.0.0.1".to_owned());
    config.port = Some(pg.port);
    config.user = Some("postgres".to_owned());
    config.dbname = Some("postgres".to_owned());
    let pool = config
        .create_pool(Some(deadpool_postgres::Runtime::Tokio1), NoTls)
        .expect("postgres pool");
    assert!(DB.set(pool).is_ok());
    let pool = deadpool_redis::Config::from_url(format!("redis://127.0.0.1:{}", redis_server.port))
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .expect("redis pool");
    assert!(CACHE.set(pool).is_ok());

    let health = Arc::new(Health::new(
        HealthConfig::default().ttl(TTL).version("9.9.9"),
    ));
    let addr = http::serve(health::axum::router_with(health)).await;

    // Both up.
    let up = http::get(addr, "/readyz").await;
    let body = up.json();
    assert_eq!(up.status, 200, "{body}");
    assert_eq!(body["status"], "pass");
    assert_eq!(body["version"], "9.9.9");
    for (name, timeout_ms) in [("database", 2_000), ("redis", 1_000)] {
        let c = check(&body, name);
        assert_eq!(c["status"], "pass", "{name}: {c}");
        assert_eq!(c["kind"], "readiness");
        let ms = c["response_ms"].as_u64().expect("response_ms is a number");
        assert!(ms < timeout_ms, "{name} took {ms} ms");
    }
    let disk = check(&body, "disk");
    assert_eq!(disk["observed_unit"], "percent");
    assert!(
        disk["observed_value"]
            .as_f64()
            .is_some_and(|v| (0.0..=100.0).contains(&v))
    );
    assert!(
        body["checks"].get("memory").is_none(),
        "a liveness check ran in readiness"
    );
    assert_eq!(up.headers["content-type"], "application/health+json");

    // Redis goes away: once the cached pass has expired, readiness fails
    // fast, within the check's 1 s timeout plus 200 ms.
    redis_server.stop();
    tokio::time::sleep(TTL + Duration::from_millis(50)).await;
    let started = Instant::now();
    let down = http::get(addr, "/readyz").await;
    let elapsed = started.elapsed();
    let body = down.json();
    assert_eq!(down.status, 503, "{body}");
    assert!(
        elapsed <= Duration::from_millis(1_200),
        "answered after {elapsed:?}"
    );
    assert_eq!(body["status"], "fail");
    assert_eq!(check(&body, "redis")["status"], "fail");
    assert!(
        check(&body, "redis")["output"]
            .as_str()
            .is_some_and(|o| !o.is_empty())
    );
    assert_eq!(check(&body, "database")["status"], "pass");

    // Every dependency down: liveness does not care.
    pg.stop();
    tokio::time::sleep(TTL + Duration::from_millis(50)).await;
    let live = http::get(addr, "/livez").await;
    let body = live.json();
    assert_eq!(live.status, 200, "{body}");
    assert_eq!(check(&body, "memory")["observed_unit"], "bytes");
    assert!(body["checks"].get("database").is_none());
    let started = Instant::now();
    let ready = http::get(addr, "/readyz").await;
    let body = ready.json();
    assert_eq!(ready.status, 503, "{body}");
    assert_eq!(check(&body, "database")["status"], "fail");
    assert!(
        started.elapsed() <= Duration::from_millis(2_200),
        "answered after {:?}",
        started.elapsed()
    );
    let all = http::get(addr, "/health").await;
    assert_eq!(all.status, 503);
    assert!(
        all.json()["checks"].get("memory").is_some(),
        "/health shows every kind"
    );

    // The metrics follow the runs.
    let text = obs_runtime::encode_text();
    assert!(
        text.contains(r#"health_check_status{check="redis",kind="readiness"} 0"#),
        "{text}"
    );
    assert!(
        text.contains(r#"health_check_status{check="memory",kind="liveness"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"health_check_duration_seconds_count{check="database"}"#),
        "{text}"
    );
}
