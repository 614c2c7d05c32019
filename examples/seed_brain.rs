//! BRAiN (seed 001), an agent platform running missions on LLMs, ported to
//! obs: the metrics, logs, error tracking, health checks, alerts and
//! dashboards of its "Phase 2: Monitoring & Observability" document
//! (`metrics.py`, `logging.py`, `sentry.py`: 1,250+ lines of Python).
//! `examples/seeds/seed_brain.parity` lists every requirement of the
//! document and where this file meets it; `tests/seed_brain.rs` checks it.
//!
//! ```sh
//! cargo run --example seed_brain                       # http://127.0.0.1:8000, PORT overrides
//! curl -s -X POST 'localhost:8000/api/missions?priority=high'
//! curl -s -X POST 'localhost:8000/api/agents/coder/call?provider=anthropic'
//! curl -s localhost:8000/metrics                       # brain_* families
//! cargo run --example seed_brain -- --export /tmp/brain   # rules, alerts, 3 dashboards, then exit
//! ```
//!
//! No server is needed: the database is an embedded pool of 10 simulated
//! connections and the cache is in-process. `DATABASE_URL` (PostgreSQL)
//! and `REDIS_URL` make the queries, the pool gauges and the readiness
//! checks real; `SENTRY_DSN` reports errors; `OTEL_EXPORTER_OTLP_ENDPOINT`
//! exports traces (sampled 100 % in development, 10 % with
//! `OBS_ENV=production`: obs's default, the document's rates).
//! `ENABLE_FILE_LOGGING=true` writes JSON lines under `LOG_DIR` as BRAiN did
//! (`obs.log` 30 days, `errors.log` 90 days, rotated daily, gzipped).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use obs_runtime::export::{Alert, Dashboard, ExportOptions, Query as Q, Severity};
use obs_runtime::health::{self, CheckError, deadpool_postgres as pg, deadpool_redis as rd};
use obs_runtime::jobs::{Queue, TraceCarrier};
use obs_runtime::log::LogFiles;
use obs_runtime::metrics::{Counter, Gauge, Histogram};
use obs_runtime::{LabelSet, LabelValue, MetricSet, health_check};
use serde::Deserialize;
use tracing::Instrument as _;

// ---- metrics: the document's 50+ names, less `brain_` ----------------------
// The registry prefix `brain` (set in `main`) adds it at encode time to every
// family, the HTTP ones included, so `db_connections_active` is scraped as
// `brain_db_connections_active`. Every name of the document passes obs's
// rules as it is; labels the document leaves unnamed ("by type") are named
// here, enums all, so every series exists at zero from the first scrape.

#[derive(LabelValue, Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Provider {
    Ollama,
    #[label(rename = "openai")]
    OpenAi,
    Anthropic,
}

/// A model per provider: a model name from a request body would be an
/// unbounded label.
#[derive(LabelValue, Clone, Copy)]
enum Model {
    #[label(rename = "llama3.2")]
    Llama32,
    #[label(rename = "gpt-4o")]
    Gpt4o,
    #[label(rename = "claude-3-5-sonnet")]
    Claude35Sonnet,
}

#[derive(LabelSet, Clone, Copy)]
struct LlmLabels {
    provider: Provider,
    model: Model,
}

/// OpenTelemetry's `gen_ai.token.type`: prompt and completion tokens are
/// priced apart.
#[derive(LabelValue, Clone, Copy)]
enum TokenType {
    Input,
    Output,
}

#[derive(LabelSet, Clone, Copy)]
struct TokenLabels {
    provider: Provider,
    model: Model,
    token_type: TokenType,
}

#[derive(MetricSet)]
#[metrics(prefix = "llm")]
struct LlmMetrics {
    /// LLM requests, by provider and model.
    requests_total: Counter<LlmLabels>,
    /// Time from sending an LLM request to its last token.
    #[metric(buckets = "ai")]
    request_duration_seconds: Histogram<LlmLabels>,
    /// Tokens used, by provider, model and direction.
    tokens_used_total: Counter<TokenLabels>,
}

#[derive(LabelValue, Clone, Copy, Debug)]
enum DbOperation {
    Select,
    Insert,
    Update,
}

/// `track_db_query("select", duration=0.05, success=True)`.
#[derive(LabelSet, Clone, Copy)]
struct QueryLabels {
    operation: DbOperation,
    success: bool,
}

#[derive(LabelSet, Clone, Copy)]
struct DbOperationLabels {
    operation: DbOperation,
}

#[derive(MetricSet)]
#[metrics(prefix = "db")]
struct DbMetrics {
    /// Connections checked out of the pool.
    connections_active: Gauge,
    /// Connections open and waiting in the pool.
    connections_idle: Gauge,
    /// Connections the pool may keep open.
    pool_size: Gauge,
    /// Callers waiting beyond the pool size (SQLAlchemy's overflow; a
    /// deadpool pool queues them instead).
    pool_overflow: Gauge,
    /// Active connections over the pool size, 0 to 1. Not in the
    /// document's list: its "pool saturation > 80 %" alert divides the two
    /// gauges above, and an alert of obs's export API reads one family.
    pool_utilization_ratio: Gauge,
    /// Queries, by operation and outcome.
    queries_total: Counter<QueryLabels>,
    /// Query latency, by operation.
    #[metric(buckets = "db")]
    query_duration_seconds: Histogram<DbOperationLabels>,
}

#[derive(LabelValue, Clone, Copy)]
enum CacheOperation {
    Get,
    Set,
}

#[derive(LabelSet, Clone, Copy)]
struct CacheOpLabels {
    operation: CacheOperation,
    success: bool,
}

#[derive(LabelSet, Clone, Copy)]
struct CacheOperationLabels {
    operation: CacheOperation,
}

#[derive(MetricSet)]
#[metrics(prefix = "redis")]
struct RedisMetrics {
    /// Cache operations, by operation and outcome.
    operations_total: Counter<CacheOpLabels>,
    /// Cache operation latency, by operation.
    #[metric(buckets = "db")]
    operation_duration_seconds: Histogram<CacheOperationLabels>,
    /// Lookups answered from the cache.
    cache_hits_total: Counter,
    /// Lookups the cache could not answer.
    cache_misses_total: Counter,
    /// 1 while Redis answers (always 1 for the in-process cache), else 0.
    /// Why obs's own pool metrics are not used for Redis: they export a
    /// family of this very name (`redis_connected{pool_name}`), and one
    /// registry holds one family per name.
    connected: Gauge,
}

#[derive(LabelValue, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Priority {
    Low,
    Normal,
    High,
    Critical,
}

#[derive(LabelSet, Clone, Copy)]
struct PriorityLabels {
    priority: Priority,
}

#[derive(LabelValue, Clone, Copy)]
enum MissionStatus {
    Completed,
    Failed,
}

#[derive(LabelSet, Clone, Copy)]
struct StatusLabels {
    status: MissionStatus,
}

#[derive(LabelValue, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum AgentType {
    Planner,
    Coder,
    Researcher,
}

#[derive(LabelSet, Clone, Copy)]
struct AgentLabels {
    agent_type: AgentType,
}

#[derive(LabelValue, Clone, Copy)]
enum CallStatus {
    Success,
    Error,
}

#[derive(LabelSet, Clone, Copy)]
struct AgentCallLabels {
    agent_type: AgentType,
    status: CallStatus,
}

/// "Errors by type": `type` is a Rust keyword, and `error_type` is
/// OpenTelemetry's name (`error.type`) for the same thing.
#[derive(LabelValue, Clone, Copy)]
enum ErrorType {
    Database,
    Llm,
    Mission,
}

#[derive(LabelSet, Clone, Copy)]
struct ErrorLabels {
    error_type: ErrorType,
}

#[derive(MetricSet)]
struct BrainMetrics {
    /// Missions waiting to run, by priority.
    missions_queue_size: Gauge<PriorityLabels>,
    /// Missions finished, by status.
    missions_total: Counter<StatusLabels>,
    /// Time from a mission's start to its end.
    #[metric(buckets = [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900])]
    missions_duration_seconds: Histogram,
    /// Mission attempts run again after a failure.
    missions_retries_total: Counter,
    /// 1 while the mission worker runs, 0 once it stopped.
    mission_worker_active: Gauge,
    /// Agents working on a call now, by type.
    agents_active: Gauge<AgentLabels>,
    /// Agent calls, by type and outcome.
    agent_calls_total: Counter<AgentCallLabels>,
    /// Agent call latency, by type.
    #[metric(buckets = "ai")]
    agent_call_duration_seconds: Histogram<AgentLabels>,
    /// Application errors, by type.
    app_errors_total: Counter<ErrorLabels>,
    /// Seconds since the process started (the Prometheus way is
    /// `process_start_time_seconds`, which obs exports too).
    app_uptime_seconds: Gauge,
    /// Readiness: 1 pass, 0.5 warn (a non-critical check failed), 0 fail.
    app_health_status: Gauge,
}

fn error(error_type: ErrorType) {
    BrainMetrics::global()
        .app_errors_total
        .with(ErrorLabels { error_type })
        .inc();
}

// ---- the database: PostgreSQL, or 10 simulated connections --------------

const POOL_SIZE: usize = 10;
static POSTGRES: OnceLock<pg::Pool> = OnceLock::new();
static REDIS: OnceLock<rd::Pool> = OnceLock::new();

fn embedded() -> &'static tokio::sync::Semaphore {
    static CONNECTIONS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(POOL_SIZE);
    &CONNECTIONS
}

/// One query: `SELECT 1` on PostgreSQL, or 1–4 ms on an embedded connection.
async fn query(operation: DbOperation) -> Result<(), String> {
    let started = Instant::now();
    let span = tracing::info_span!("db.query", db.operation.name = ?operation);
    let result = async {
        match POSTGRES.get() {
            Some(pool) => match pool.get().await {
                Ok(client) => client
                    .simple_query("SELECT 1")
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
            None => match embedded().acquire().await {
                Ok(_connection) => {
                    tokio::time::sleep(Duration::from_millis(
                        1 + started.elapsed().subsec_nanos() as u64 % 4,
                    ))
                    .await;
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            },
        }
    }
    .instrument(span)
    .await;
    let db = DbMetrics::global();
    let success = result.is_ok();
    db.queries_total
        .with(QueryLabels { operation, success })
        .inc();
    db.query_duration_seconds
        .with(DbOperationLabels { operation })
        .observe_duration(started.elapsed());
    if !success {
        error(ErrorType::Database);
    }
    result
}

/// The pool gauges, read from the pool now (what BRAiN's `/metrics` did).
fn read_pool() {
    let (size, available, waiting) = match POSTGRES.get() {
        Some(pool) => {
            let s = pool.status();
            (s.max_size, s.available.min(s.size), s.waiting)
        }
        None => (POOL_SIZE, embedded().available_permits(), 0),
    };
    let db = DbMetrics::global();
    let active = size.saturating_sub(available) as f64;
    db.pool_size.set(size as f64);
    db.connections_active.set(active);
    db.connections_idle.set(available as f64);
    db.pool_overflow.set(waiting as f64);
    db.pool_utilization_ratio.set(active / size.max(1) as f64);
}

// ---- the cache ----------------------------------------------------------------

fn cache() -> &'static Mutex<HashMap<u64, &'static str>> {
    static CACHE: OnceLock<Mutex<HashMap<u64, &'static str>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// A cache operation on the in-process map (timed like a Redis call).
fn cached<T>(operation: CacheOperation, f: impl FnOnce(&mut HashMap<u64, &'static str>) -> T) -> T {
    let started = Instant::now();
    let out = f(&mut cache()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner));
    let redis = RedisMetrics::global();
    redis
        .operations_total
        .with(CacheOpLabels {
            operation,
            success: true,
        })
        .inc();
    redis
        .operation_duration_seconds
        .with(CacheOperationLabels { operation })
        .observe_duration(started.elapsed());
    out
}

// ---- agents and LLMs -----------------------------------------------------------

static CALLS: AtomicU64 = AtomicU64::new(0);

/// A simulated completion: 5–25 ms; every 20th call fails.
async fn llm(provider: Provider) -> Result<u64, String> {
    let model = match provider {
        Provider::Ollama => Model::Llama32,
        Provider::OpenAi => Model::Gpt4o,
        Provider::Anthropic => Model::Claude35Sonnet,
    };
    let n = CALLS.fetch_add(1, Relaxed);
    let started = Instant::now();
    let span = tracing::info_span!("llm.request", gen_ai.system = ?provider);
    tokio::time::sleep(Duration::from_millis(5 + n % 20))
        .instrument(span)
        .await;
    let m = LlmMetrics::global();
    let labels = LlmLabels { provider, model };
    m.requests_total.with(labels).inc();
    m.request_duration_seconds
        .with(labels)
        .observe_duration(started.elapsed());
    if n % 20 == 19 {
        error(ErrorType::Llm);
        return Err(format!("provider timed out after {:?}", started.elapsed()));
    }
    let (input, output) = (200 + n % 300, 40 + n % 60);
    let tokens = |token_type| TokenLabels {
        provider,
        model,
        token_type,
    };
    m.tokens_used_total
        .with(tokens(TokenType::Input))
        .inc_by(input);
    m.tokens_used_total
        .with(tokens(TokenType::Output))
        .inc_by(output);
    Ok(output)
}

/// An agent call: the agent thinks with an LLM.
async fn call_agent(agent_type: AgentType, provider: Provider) -> Result<u64, String> {
    let m = BrainMetrics::global();
    let labels = AgentLabels { agent_type };
    m.agents_active.with(labels).inc();
    let started = Instant::now();
    let result = llm(provider).await;
    m.agents_active.with(labels).dec();
    m.agent_call_duration_seconds
        .with(labels)
        .observe_duration(started.elapsed());
    let status = if result.is_ok() {
        CallStatus::Success
    } else {
        CallStatus::Error
    };
    m.agent_calls_total
        .with(AgentCallLabels { agent_type, status })
        .inc();
    result
}

// ---- missions: a background worker on obs's jobs module ---------------------

struct Mission {
    id: u64,
    priority: Priority,
    carrier: String,
}

static MISSIONS: OnceLock<tokio::sync::mpsc::Sender<Mission>> = OnceLock::new();

/// `job_*{queue="missions", job_name="run_mission"}`: runs, failures,
/// retries, queue wait, worker heartbeat; declared before `--export` too.
fn missions_queue() -> &'static Queue {
    static QUEUE: OnceLock<Queue> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let queue = Queue::new("missions");
        queue.declare("run_mission");
        queue
    })
}

/// One attempt: a planner call and a status write. Every 10th mission fails
/// its first attempt, every 25th all three.
async fn run_mission(id: u64, attempt: u32) -> Result<(), String> {
    // structlog's bound context: every line of the run carries these, and
    // the request id of the job's span around it (made here, at the first
    // poll, so the job's span is its parent).
    let span = tracing::info_span!("mission", mission_id = id, component = "mission_worker");
    async move {
        tracing::info!(attempt, "mission started");
        call_agent(AgentType::Planner, Provider::Ollama).await?;
        if id.is_multiple_of(25) || (id % 10 == 7 && attempt == 1) {
            return Err(format!("mission {id}: planner gave no plan"));
        }
        query(DbOperation::Update).await?;
        cached(CacheOperation::Set, |c| c.insert(id, "completed"));
        Ok(())
    }
    .instrument(span)
    .await
}

async fn mission_worker(mut rx: tokio::sync::mpsc::Receiver<Mission>) {
    let queue = missions_queue();
    let worker = queue.worker("mission-worker-1");
    let m = BrainMetrics::global();
    m.mission_worker_active.set(1.0);
    let mut idle = tokio::time::interval(Duration::from_secs(15));
    loop {
        let mission = tokio::select! {
            next = rx.recv() => match next { Some(mission) => mission, None => break },
            _ = idle.tick() => { worker.heartbeat(); continue }
        };
        m.missions_queue_size
            .with(PriorityLabels {
                priority: mission.priority,
            })
            .dec();
        let carrier = TraceCarrier::parse(&mission.carrier).unwrap_or_default();
        let started = Instant::now();
        let mut status = MissionStatus::Failed;
        for attempt in 1..=3 {
            let run = queue
                .job("run_mission")
                .carrier(&carrier)
                .worker(&worker)
                .attempt(attempt)
                .max_attempts(3)
                .run(run_mission(mission.id, attempt));
            match run.await {
                Ok(()) => {
                    status = MissionStatus::Completed;
                    break;
                }
                Err(e) if attempt < 3 => {
                    m.missions_retries_total.inc();
                    tracing::warn!(
                        mission_id = mission.id,
                        "mission attempt {attempt} failed, retrying: {e}"
                    );
                }
                Err(e) => {
                    error(ErrorType::Mission);
                    tracing::error!(mission_id = mission.id, "mission failed: {e}");
                }
            }
        }
        m.missions_total.with(StatusLabels { status }).inc();
        m.missions_duration_seconds
            .observe_duration(started.elapsed());
    }
    m.mission_worker_active.set(0.0);
}

// ---- routes ----------------------------------------------------------------------

static NEXT_MISSION: AtomicU64 = AtomicU64::new(1);
type Answer = Result<Json<serde_json::Value>, (StatusCode, String)>;

fn user(headers: &HeaderMap) -> String {
    headers
        .get("x-user-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("anonymous")
        .to_owned()
}

#[derive(Deserialize)]
struct NewMission {
    priority: Option<Priority>,
}

/// `POST /api/missions?priority=high`: queued, answered at once.
async fn create_mission(headers: HeaderMap, Query(q): Query<NewMission>) -> Answer {
    let id = NEXT_MISSION.fetch_add(1, Relaxed);
    let priority = q.priority.unwrap_or(Priority::Normal);
    let span = tracing::info_span!("mission", mission_id = id, user_id = %user(&headers), component = "missions_api");
    async move {
        query(DbOperation::Insert)
            .await
            .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e))?;
        let carrier = missions_queue().enqueue_carrier().to_string();
        let sent = MISSIONS.get().map(|tx| {
            tx.try_send(Mission {
                id,
                priority,
                carrier,
            })
        });
        if !matches!(sent, Some(Ok(()))) {
            return Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "mission queue full or stopped".to_owned(),
            ));
        }
        BrainMetrics::global()
            .missions_queue_size
            .with(PriorityLabels { priority })
            .inc();
        tracing::info!("mission queued");
        Ok(Json(
            serde_json::json!({ "mission_id": id, "status": "queued" }),
        ))
    }
    .instrument(span)
    .await
}

/// `GET /api/missions/{id}`: the cache, then the database.
async fn get_mission(headers: HeaderMap, Path(id): Path<u64>) -> Answer {
    let span = tracing::info_span!("mission", mission_id = id, user_id = %user(&headers), component = "missions_api");
    async move {
        let hit = cached(CacheOperation::Get, |c| c.get(&id).copied());
        let redis = RedisMetrics::global();
        let status = match hit {
            Some(status) => {
                redis.cache_hits_total.inc();
                status
            }
            None => {
                redis.cache_misses_total.inc();
                query(DbOperation::Select)
                    .await
                    .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e))?;
                if id >= NEXT_MISSION.load(Relaxed) {
                    return Err((StatusCode::NOT_FOUND, format!("no mission {id}")));
                }
                "queued"
            }
        };
        tracing::info!(status, "mission looked up");
        Ok(Json(
            serde_json::json!({ "mission_id": id, "status": status }),
        ))
    }
    .instrument(span)
    .await
}

#[derive(Deserialize)]
struct Call {
    provider: Option<Provider>,
}

/// `POST /api/agents/{agent}/call?provider=openai`: 502 when the LLM fails.
async fn agent_call(Path(agent): Path<AgentType>, Query(q): Query<Call>) -> Answer {
    match call_agent(agent, q.provider.unwrap_or(Provider::Ollama)).await {
        Ok(tokens) => Ok(Json(serde_json::json!({ "tokens": tokens }))),
        Err(e) => Err((StatusCode::BAD_GATEWAY, e)),
    }
}

// ---- health checks: the document gives no timeouts; these are the port's ----

#[health_check("database", timeout = "2s")]
async fn database() -> Result<(), CheckError> {
    match POSTGRES.get() {
        Some(pool) => health::postgres(pool).await,
        None => query(DbOperation::Select).await.map_err(CheckError::new),
    }
}

#[health_check("redis", timeout = "1s")]
async fn redis() -> Result<(), CheckError> {
    let result = match REDIS.get() {
        Some(pool) => health::redis(pool).await,
        None => Ok(()),
    };
    RedisMetrics::global()
        .connected
        .set(if result.is_ok() { 1.0 } else { 0.0 });
    result
}

#[health_check("mission_worker", timeout = "1s", critical = false)]
async fn mission_worker_check() -> Result<(), CheckError> {
    match MISSIONS.get() {
        Some(tx) if !tx.is_closed() => Ok(()),
        _ => Err(CheckError::new("the mission worker is not running")),
    }
}

/// BRAiN's `/metrics` refreshed uptime, pool and health on every scrape;
/// here a task does it every second.
async fn refresh(started: Instant) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let m = BrainMetrics::global();
        m.app_uptime_seconds.set(started.elapsed().as_secs_f64());
        read_pool();
        let status = match health::report(health::Probe::Readiness).await.status() {
            health::Status::Pass => 1.0,
            health::Status::Warn => 0.5,
            health::Status::Fail => 0.0,
        };
        m.app_health_status.set(status);
    }
}

fn connect() {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let config = pg::Config {
            url: Some(url),
            ..pg::Config::default()
        };
        match config.create_pool(Some(pg::Runtime::Tokio1), pg::tokio_postgres::NoTls) {
            Ok(pool) => {
                let _ = POSTGRES.set(pool);
            }
            Err(e) => tracing::warn!("DATABASE_URL unusable ({e}); using the embedded pool"),
        }
    }
    if let Ok(url) = std::env::var("REDIS_URL") {
        match rd::Config::from_url(url).create_pool(Some(rd::Runtime::Tokio1)) {
            Ok(pool) => {
                let _ = REDIS.set(pool);
            }
            Err(e) => tracing::warn!("REDIS_URL unusable ({e}); using the in-process cache"),
        }
    }
}

// ---- main: the application, its bundle, its logs ------------------------------

fn app() -> Router {
    use obs_runtime::http::{InstrumentatorOptions, ObsLayer, RouteLabel};
    // BRAiN's PrometheusMiddleware: `http_requests_total{method,endpoint,status}`
    // and the four other families, `endpoint` the route template (its
    // "UUIDs replaced with {id}"), status grouped (`5xx`) so the error
    // queries select it by equality.
    let layer = ObsLayer::new()
        .instrumentator(InstrumentatorOptions::default().route_label(RouteLabel::Endpoint));
    Router::new()
        .route(
            "/api/health",
            get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/api/missions", post(create_mission))
        .route("/api/missions/{id}", get(get_mission))
        .route("/api/agents/{agent}/call", post(agent_call))
        .layer(layer)
        .merge(obs_runtime::http::routes())
}

/// The document's alert rules and dashboards, beside obs's generated ones.
fn export_options() -> ExportOptions {
    let rate = |s: &str| Q::rate(s);
    let p95 = |h: &str| Q::quantile(h, "0.95");
    ExportOptions::default()
        .job("brain-backend")
        // Built in, read from obs's own families: HTTP 5xx ratio > 5 % and
        // p95 > 1 s per route for 5 m (the OpenTelemetry histogram: the
        // instrumentator's buckets stop at 1 s), the mission worker's
        // heartbeat older than 5 m, mission runs failing > 10 % for 5 m;
        // and `ObsRedisDown` (`redis_connected == 0` for 1 m) on the gauge below.
        .error_ratio_percent(5)
        .latency_limits(Duration::from_secs(1), Duration::from_secs(2))
        .worker_stale_after(Duration::from_secs(300))
        .job_failure_ratio_percent(10)
        // p95 over all routes, as BRAiN's rule (the built-in is per route,
        // and obs generates no promtool case for it).
        .alert(
            Alert::above(
                "BrainHighLatencyP95",
                p95("http_server_request_duration_seconds"),
                "1",
            )
            .for_("5m")
            .summary("p95 request latency above 1 s"),
        )
        .alert(
            Alert::above(
                "BrainDbPoolSaturation",
                Q::value("db_pool_utilization_ratio"),
                "0.8",
            )
            .for_("5m")
            .severity(Severity::Warning)
            .summary("The database pool is more than 80 % used"),
        )
        .alert(
            Alert::below(
                "BrainMissionWorkerStopped",
                Q::value("mission_worker_active"),
                "1",
            )
            .for_("5m")
            .severity(Severity::Critical)
            .summary("The mission worker has stopped"),
        )
        .alert(
            Alert::above(
                "BrainMissionFailureRate",
                Q::ratio(r#"missions_total{status="failed"}"#, "missions_total"),
                "0.1",
            )
            .for_("5m")
            .severity(Severity::Warning)
            .summary("More than 10 % of missions fail"),
        )
        .dashboard(
            Dashboard::new("BRAiN key metrics")
                .panel("Request rate (QPS)", rate("http_requests_total"))
                .panel(
                    "Error rate (%)",
                    Q::ratio(
                        r#"http_requests_total{status="5xx"}"#,
                        "http_requests_total",
                    ),
                )
                .panel(
                    "Latency P50",
                    Q::quantile("http_server_request_duration_seconds", "0.5"),
                )
                .panel("Latency P95", p95("http_server_request_duration_seconds"))
                .panel(
                    "Latency P99",
                    Q::quantile("http_server_request_duration_seconds", "0.99"),
                )
                .panel("Database connections", Q::value("db_connections_active"))
                .panel(
                    "Database connection pool usage",
                    Q::value("db_pool_utilization_ratio"),
                )
                .panel(
                    "Redis operations/sec",
                    rate("redis_operations_total").by(&["operation"]),
                )
                .panel(
                    "Redis cache hit ratio",
                    Q::ratio(
                        "redis_cache_hits_total",
                        r#"redis_operations_total{operation="get"}"#,
                    ),
                )
                .panel(
                    "Mission queue size",
                    Q::value("missions_queue_size").by(&["priority"]),
                )
                .panel(
                    "Active agents",
                    Q::value("agents_active").by(&["agent_type"]),
                )
                .panel(
                    "LLM token usage",
                    rate("llm_tokens_used_total").by(&["provider", "model"]),
                ),
        )
        .dashboard(
            Dashboard::new("BRAiN performance")
                .panel(
                    "Request duration by endpoint",
                    p95("http_request_duration_seconds").by(&["endpoint"]),
                )
                .panel(
                    "Database query duration",
                    p95("db_query_duration_seconds").by(&["operation"]),
                )
                .panel(
                    "Redis operation duration",
                    p95("redis_operation_duration_seconds").by(&["operation"]),
                )
                .panel(
                    "LLM request duration",
                    p95("llm_request_duration_seconds").by(&["provider", "model"]),
                )
                .panel("Mission execution time", p95("missions_duration_seconds")),
        )
        .dashboard(
            Dashboard::new("BRAiN errors")
                .panel(
                    "Errors by type",
                    rate("app_errors_total").by(&["error_type"]),
                )
                .panel(
                    "Errors by endpoint",
                    rate(r#"http_requests_total{status="5xx"}"#).by(&["endpoint"]),
                )
                .panel(
                    "Error rate trend",
                    Q::ratio(
                        r#"http_requests_total{status="5xx"}"#,
                        "http_requests_total",
                    ),
                ),
        )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    obs_runtime::registry::configure(obs_runtime::registry::Exposition::default().prefix("brain"))
        .map_err(std::io::Error::other)?;
    let mut args = std::env::args().skip(1);
    if let Some(flag) = args.next() {
        let (Some(dir), true) = (
            args.next().filter(|_| flag == "--export"),
            args.next().is_none(),
        ) else {
            return Err(std::io::Error::other("usage: seed_brain [--export <dir>]"));
        };
        // Everything the rules and dashboards read, declared first.
        let _app = app();
        let _ = (
            missions_queue(),
            BrainMetrics::global(),
            DbMetrics::global(),
        );
        let _ = (RedisMetrics::global(), LlmMetrics::global());
        obs_runtime::export::write_bundle_with(std::path::Path::new(&dir), &export_options())?;
        println!("BRAiN monitoring bundle written to {dir}");
        return Ok(());
    }
    // Logs: JSON lines with OBS_ENV=production, readable ones otherwise.
    // BRAiN's ENABLE_FILE_LOGGING/LOG_DIR kept: daily files, gzipped when
    // rotated, 30 days kept; the error lines alone in errors.log, 90 days.
    let mut builder = obs_runtime::Builder::from_env()
        .service_name("brain")
        .service_version(env!("CARGO_PKG_VERSION"));
    if std::env::var("ENABLE_FILE_LOGGING").is_ok_and(|v| v == "true") {
        let dir = std::path::PathBuf::from(
            std::env::var("LOG_DIR").unwrap_or_else(|_| "/var/log/brain".to_owned()),
        );
        let days = |n: u64| {
            LogFiles::daily()
                .max_age(Duration::from_secs(n * 86_400))
                .compress(true)
        };
        builder = builder
            .error_log_file(dir.join("errors.log"), days(90))
            .log_dir_with(dir, days(30));
    }
    let _guard = builder.init();
    connect();
    let (tx, rx) = tokio::sync::mpsc::channel(1_000);
    let depth = tx.downgrade();
    missions_queue().depth_from(move || {
        depth
            .upgrade()
            .map_or(0, |s| s.max_capacity() - s.capacity())
    });
    let _ = MISSIONS.set(tx);
    tokio::spawn(mission_worker(rx));
    tokio::spawn(refresh(Instant::now()));
    RedisMetrics::global().connected.set(1.0);
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|e| std::io::Error::other(format!("PORT={p:?}: {e}")))?,
        Err(_) => 8000,
    };
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    println!("BRAiN on http://{}", listener.local_addr()?);
    let app = app().into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            #[cfg(unix)]
            if let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                tokio::select! { _ = term.recv() => {}, _ = tokio::signal::ctrl_c() => {} }
                return;
            }
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
