//! Seed 004, BaliBlissed: the travel API's monitoring plan (Prometheus,
//! structlog, OpenTelemetry, Kubernetes probes, four Grafana dashboards)
//! on obs. `examples/seeds/seed_baliblissed.parity` maps every line of the
//! team's document to what here meets it.
//!
//! ```sh
//! cargo run --example seed_baliblissed            # http://127.0.0.1:8080, PORT overrides
//! curl -s localhost:8080/api/destinations/ubud; curl -s -X POST localhost:8080/api/ai/itinerary
//! curl -s localhost:8080/health/ready; curl -s localhost:8080/metrics
//! cargo run --example seed_baliblissed -- --export <dir>   # rules, dashboards, compose; then exits
//! ```
//!
//! No server needed: destinations live in an embedded table, the cache is
//! in-process and the AI provider is a stub on loopback. `DATABASE_URL`
//! (PostgreSQL), `REDIS_URL` and `AI_API_HEALTH_URL` make the readiness
//! checks ask the real ones; `METRICS_ADDR` (`0.0.0.0:9090`) serves
//! `/metrics` and the probes on an internal port too; `OTEL_*` and `OBS_ENV`
//! configure traces and logs as `README.md` says (production: JSON lines,
//! 10 % of root traces).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Path};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use obs_runtime::export::{Alert, Dashboard, ExportOptions, Query};
use obs_runtime::health::{self, CheckError, Observed};
use obs_runtime::http::{InstrumentatorOptions, ObsLayer, RouteLabel};
use obs_runtime::metrics::{Counter, Gauge, Histogram};
use obs_runtime::{LabelSet, LabelValue, MetricSet, health_check, instrumented};

// ---- metrics: 004 "Custom Metrics", named as "Metrics Naming Conventions" says

#[derive(LabelValue, Clone, Copy, PartialEq, Eq)]
enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(LabelValue, Clone, Copy)]
enum Breaker {
    AiCircuitBreaker,
}

/// The team's `circuit_breaker_state{breaker="ai_circuit_breaker"}` is one
/// gauge whose value codes the state; here one series per state, 1 for the
/// current one, so a panel or alert reads a state by name, not by a code.
#[derive(LabelSet, Clone, Copy)]
struct BreakerLabels {
    breaker: Breaker,
    state: BreakerState,
}

/// Named as the document's naming section asks (`baliblissed_cache_hits_total`,
/// …); its PromQL examples drop the namespace (`cache_hits_total`,
/// `circuit_breaker_state`), so the dashboards below query these names.
#[derive(MetricSet)]
#[metrics(prefix = "baliblissed")]
struct Metrics {
    /// Destination lookups answered from the cache.
    cache_hits_total: Counter,
    /// Destination lookups that went to the database.
    cache_misses_total: Counter,
    /// All destination lookups: the denominator of the hit rate, which the
    /// team computes as `hits / (hits + misses)`.
    cache_lookups_total: Counter,
    /// Time to answer one AI request (the team's `AI_LATENCY_BUCKETS`).
    #[metric(buckets = "ai")]
    ai_request_duration_seconds: Histogram,
    /// Tokens the AI provider billed.
    ai_tokens_used_total: Counter,
    /// The AI circuit breaker: 1 for its current state, 0 for the others.
    circuit_breaker_state: Gauge<BreakerLabels>,
    /// Share of the disk in use, as the team's `psutil` gauges read it
    /// (set by the disk check).
    disk_used_ratio: Gauge,
    /// Memory the cache uses: Redis's `used_memory` with `REDIS_URL`, else
    /// the in-process cache's entries.
    redis_memory_used_bytes: Gauge,
}

// ---- destinations: the embedded table and the cache ---------------------

#[derive(Clone, serde::Serialize)]
struct Destination {
    slug: String,
    island: &'static str,
}

#[derive(Debug)]
struct Unknown;

impl std::fmt::Display for Unknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no such destination")
    }
}

const DESTINATIONS: [(&str, &str); 4] = [
    ("ubud", "Bali"),
    ("uluwatu", "Bali"),
    ("gili-air", "Lombok"),
    ("nusa-penida", "Nusa Penida"),
];

fn cache() -> &'static Mutex<HashMap<String, Destination>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Destination>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// The database query: a child span of the request's trace, and
/// `db_query_calls_total`/`db_query_duration_seconds` on the `db` buckets.
#[instrumented(metric = "db_query", buckets = "db", labels(table = "destinations"))]
async fn load_destination(slug: &str) -> Result<Destination, Unknown> {
    tokio::time::sleep(Duration::from_micros(300)).await;
    let (slug, island) = DESTINATIONS
        .iter()
        .find(|(s, _)| *s == slug)
        .ok_or(Unknown)?;
    Ok(Destination {
        slug: (*slug).to_owned(),
        island,
    })
}

async fn destination(Path(slug): Path<String>) -> Result<Json<Destination>, StatusCode> {
    let m = Metrics::global();
    m.cache_lookups_total.inc();
    let cached = cache()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&slug)
        .cloned();
    if let Some(found) = cached {
        m.cache_hits_total.inc();
        return Ok(Json(found));
    }
    m.cache_misses_total.inc();
    let found = load_destination(&slug).await.map_err(|e| {
        tracing::info!("destination {slug:?}: {e}");
        StatusCode::NOT_FOUND
    })?;
    tracing::info!(slug = %found.slug, "destination cached");
    cache()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(slug, found.clone());
    Ok(Json(found))
}

// ---- the AI assistant behind its circuit breaker ---------------------------

static CALLS: AtomicU64 = AtomicU64::new(0);
static FAILURES_IN_A_ROW: AtomicU64 = AtomicU64::new(0);

fn set_breaker(now: BreakerState) {
    for state in [
        BreakerState::Closed,
        BreakerState::Open,
        BreakerState::HalfOpen,
    ] {
        let labels = BreakerLabels {
            breaker: Breaker::AiCircuitBreaker,
            state,
        };
        let on = if state == now { 1.0 } else { 0.0 };
        Metrics::global().circuit_breaker_state.with(labels).set(on);
    }
}

/// A simulated completion: every 8th call fails; three failures in a row
/// open the breaker, and the next call is refused (half-open) and closes it.
async fn itinerary() -> Result<Json<serde_json::Value>, (StatusCode, &'static str)> {
    let m = Metrics::global();
    if FAILURES_IN_A_ROW.load(Relaxed) >= 3 {
        FAILURES_IN_A_ROW.store(0, Relaxed);
        set_breaker(BreakerState::HalfOpen);
        return Err((StatusCode::SERVICE_UNAVAILABLE, "AI assistant unavailable"));
    }
    let n = CALLS.fetch_add(1, Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(5 + n % 20)).await;
    m.ai_request_duration_seconds
        .observe_duration(started.elapsed());
    if n % 8 == 7 {
        if FAILURES_IN_A_ROW.fetch_add(1, Relaxed) >= 2 {
            set_breaker(BreakerState::Open);
        }
        tracing::warn!("AI provider failed");
        return Err((StatusCode::BAD_GATEWAY, "AI provider failed"));
    }
    FAILURES_IN_A_ROW.store(0, Relaxed);
    set_breaker(BreakerState::Closed);
    let tokens = 300 + n % 200;
    m.ai_tokens_used_total.inc_by(tokens);
    tracing::info!(tokens, "itinerary written");
    Ok(Json(serde_json::json!({ "days": 3, "tokens": tokens })))
}

/// 004 "Include context (User ID, IP) where available": recorded once on a
/// span, they reach every line below it (sanitized, as structlog's context
/// variables).
async fn trips(
    Path(user_id): Path<u64>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Json<serde_json::Value> {
    let span = tracing::info_span!("trips", user_id, client_ip = %peer.ip());
    let _entered = span.enter();
    tracing::info!("trips listed");
    Json(serde_json::json!({ "user_id": user_id, "trips": [] }))
}

// ---- readiness: 004 "Phase 4" and HEALTH_CHECK_TIMEOUTS ---------------------

static POSTGRES: OnceLock<health::deadpool_postgres::Pool> = OnceLock::new();
static REDIS: OnceLock<health::deadpool_redis::Pool> = OnceLock::new();
static AI_HEALTH_URL: OnceLock<String> = OnceLock::new();

/// `SELECT 1` on PostgreSQL with `DATABASE_URL`, else a lookup in the
/// embedded table.
#[health_check("database", timeout = "2s")]
async fn database() -> Result<(), CheckError> {
    match POSTGRES.get() {
        Some(pool) => health::postgres(pool).await,
        None => load_destination("ubud")
            .await
            .map(drop)
            .map_err(|e| CheckError::new(e.to_string())),
    }
}

/// Redis's `INFO memory` (a ping that also reads `used_memory`) with
/// `REDIS_URL`; else the in-process cache, always there.
#[health_check("redis", timeout = "1s")]
async fn redis() -> Result<Observed, CheckError> {
    let bytes = match REDIS.get() {
        Some(pool) => {
            let mut conn = pool
                .get()
                .await
                .map_err(|e| CheckError::new(e.to_string()))?;
            let info: String = health::deadpool_redis::redis::cmd("INFO")
                .arg("memory")
                .query_async(&mut conn)
                .await
                .map_err(|e| CheckError::new(e.to_string()))?;
            info.lines()
                .find_map(|l| l.strip_prefix("used_memory:")?.trim().parse::<f64>().ok())
                .ok_or_else(|| CheckError::new("INFO memory without used_memory"))?
        }
        #[allow(clippy::cast_precision_loss)]
        None => (cache().lock().map_or(0, |c| c.len()) * 256) as f64,
    };
    Metrics::global().redis_memory_used_bytes.set(bytes);
    Ok(Observed::new(bytes, "bytes"))
}

/// The AI provider's health endpoint (`AI_API_HEALTH_URL`, else the stub).
#[health_check("external_api", timeout = "3s")]
async fn external_api() -> Result<Observed, CheckError> {
    let url = AI_HEALTH_URL
        .get()
        .ok_or_else(|| CheckError::new("AI provider not configured yet"))?;
    health::http_get(url.as_str()).await
}

/// Warns above 90 % used; the gauge is set either way.
#[health_check("disk", critical = false)]
async fn disk() -> Result<Observed, CheckError> {
    let used = health::disk_space(std::env::temp_dir(), 100.0)?;
    Metrics::global().disk_used_ratio.set(used.value() / 100.0);
    if used.value() > 90.0 {
        return Err(CheckError::new(format!("disk {}% used", used.value())));
    }
    Ok(used)
}

#[health_check("memory", critical = false)]
async fn memory() -> Result<Observed, CheckError> {
    health::process_memory(1 << 30)
}

/// The AI provider stands in as a stub on loopback when no real one is named.
async fn start_ai_stub() -> std::io::Result<String> {
    if let Ok(url) = std::env::var("AI_API_HEALTH_URL") {
        return Ok(url);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let stub = Router::new().route("/health", get(|| async { "ok" }));
    tokio::spawn(async move { axum::serve(listener, stub).await });
    Ok(format!("http://{addr}/health"))
}

fn connect_dependencies() {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let mut config = health::deadpool_postgres::Config::new();
        config.url = Some(url);
        let tls = health::deadpool_postgres::tokio_postgres::NoTls;
        match config.create_pool(Some(health::deadpool_postgres::Runtime::Tokio1), tls) {
            Ok(pool) => {
                let _ = obs_runtime::pools::register("database", pool.clone());
                let _ = POSTGRES.set(pool);
            }
            Err(e) => tracing::warn!("DATABASE_URL unusable ({e}); checking the embedded table"),
        }
    }
    if let Ok(url) = std::env::var("REDIS_URL") {
        let config = health::deadpool_redis::Config::from_url(url);
        match config.create_pool(Some(health::deadpool_redis::Runtime::Tokio1)) {
            Ok(pool) => {
                let _ = obs_runtime::pools::register("redis", pool.clone());
                let _ = REDIS.set(pool);
            }
            Err(e) => tracing::warn!("REDIS_URL unusable ({e}); checking the in-process cache"),
        }
    }
}

// ---- alerts and dashboards: 004 "Phase 6" and the pre-deployment checklist

const JOB: &str = "baliblissed-backend";

/// The request latency the team's queries read, on its `LATENCY_BUCKETS`
/// (the instrumentator's own 0.1/0.5/1 s could not tell a p99 of 2 s from
/// one of 1).
const HTTP_LATENCY: &str = "http_request_duration_seconds";

/// 004 "Histogram Buckets Configuration": `LATENCY_BUCKETS`.
const LATENCY_BUCKETS: &[f64] = &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

fn export_options() -> ExportOptions {
    let errors = || {
        Query::ratio(
            r#"http_requests_total{status="5xx"}"#,
            "http_requests_total",
        )
    };
    ExportOptions::default()
        .job(JOB)
        .alert(
            Alert::above("BaliBlissedHighErrorRate", errors(), "0.05")
                .for_("5m")
                .summary("{{ $labels.job }}: more than 5 % of requests answer 5xx")
                .runbook("API Overview's error rate, then ERROR lines by request_id."),
        )
        .alert(
            Alert::above(
                "BaliBlissedHighLatencyP99",
                Query::quantile(HTTP_LATENCY, "0.99"),
                "2",
            )
            .for_("5m")
            .summary("{{ $labels.job }}: p99 latency above 2 s")
            .runbook("AI Service first: slow AI calls and an open breaker show there."),
        )
        .dashboard(
            Dashboard::new("API Overview")
                .panel("Request rate (RPS)", Query::rate("http_requests_total"))
                .panel("Error rate", errors())
                .panel("P95 latency", Query::quantile(HTTP_LATENCY, "0.95"))
                .panel("P99 latency", Query::quantile(HTTP_LATENCY, "0.99")),
        )
        .dashboard(
            Dashboard::new("AI Service")
                .panel(
                    "Token usage",
                    Query::rate("baliblissed_ai_tokens_used_total"),
                )
                .panel(
                    "Circuit breaker status",
                    Query::value(
                        r#"baliblissed_circuit_breaker_state{breaker="ai_circuit_breaker"}"#,
                    )
                    .by(&["state"]),
                )
                .panel(
                    "AI request p95 latency",
                    Query::quantile("baliblissed_ai_request_duration_seconds", "0.95"),
                ),
        )
        .dashboard(
            Dashboard::new("Cache Performance")
                .panel(
                    "Hit rate",
                    Query::ratio(
                        "baliblissed_cache_hits_total",
                        "baliblissed_cache_lookups_total",
                    ),
                )
                .panel(
                    "Redis memory",
                    Query::value("baliblissed_redis_memory_used_bytes"),
                ),
        )
        .dashboard(
            Dashboard::new("Infrastructure")
                .panel("CPU", Query::rate("node_cpu_seconds_total").by(&["mode"]))
                .panel("Memory", Query::value("node_memory_MemAvailable_bytes"))
                .panel("Disk usage", Query::value("baliblissed_disk_used_ratio"))
                .panel("Service CPU", Query::rate("process_cpu_seconds_total"))
                .panel(
                    "Service memory",
                    Query::value("process_resident_memory_bytes"),
                ),
        )
}

// ---- main ---------------------------------------------------------------------

fn app() -> Router {
    Router::new()
        .route("/api/destinations/{slug}", get(destination))
        .route("/api/ai/itinerary", post(itinerary))
        .route("/api/users/{user_id}/trips", get(trips))
        // The instrumentator's families, which the team's queries read,
        // with the route as `endpoint` ("SAFE_LABELS") and the team's
        // latency buckets; the status stays grouped (`5xx`), as the
        // queries' `status=~"5.."` expects.
        .layer(
            ObsLayer::new().instrumentator(
                InstrumentatorOptions::default()
                    .route_label(RouteLabel::Endpoint)
                    .latency_buckets(LATENCY_BUCKETS),
            ),
        )
        .merge(obs_runtime::http::routes())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // 004 "System Stats (CPU/Memory)": the host's, under node_exporter's names.
    obs_runtime::host::register(&["/"]).map_err(std::io::Error::other)?;
    let mut args = std::env::args().skip(1);
    if let Some(flag) = args.next() {
        let dir = args.next().filter(|_| flag == "--export");
        let dir =
            dir.ok_or_else(|| std::io::Error::other("usage: seed_baliblissed [--export <dir>]"))?;
        let _app = app();
        obs_runtime::export::write_bundle_with(dir.as_ref(), &export_options())?;
        println!("monitoring bundle of {JOB} written to {dir}");
        return Ok(());
    }
    let _guard = obs_runtime::Builder::from_env()
        .service_name(JOB)
        .service_namespace("baliblissed")
        .service_version("1.0.0")
        .init();
    let _ = health::configure(health::HealthConfig::default().version("1.0.0"));
    connect_dependencies();
    let _ = AI_HEALTH_URL.set(start_ai_stub().await?);
    set_breaker(BreakerState::Closed);
    // 004 "Metrics Endpoint Security, Option 2": also on an internal port.
    if let Ok(addr) = std::env::var("METRICS_ADDR") {
        let addr = obs_runtime::http::serve_internal(addr).await?;
        println!("metrics and probes on http://{addr}");
    }
    let port =
        std::env::var("PORT").map_or(Ok(8080), |p| p.parse().map_err(std::io::Error::other))?;
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    println!("baliblissed on http://{}", listener.local_addr()?);
    let app = app().into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let term = async {
                match term.as_mut() {
                    Some(t) => drop(t.recv().await),
                    None => std::future::pending().await,
                }
            };
            tokio::select! { _ = tokio::signal::ctrl_c() => {}, () = term => {} }
        })
        .await
}
