//! Seed 003, EUCORA: a deployment control plane (Django + Celery in the
//! team's Python) rolling apps out ring by ring through device-management
//! connectors, ported to obs. Its document is the parity list
//! `examples/seeds/seed_eucora.parity`, checked by `tests/seed_eucora.rs`.
//!
//! ```sh
//! cargo run --example seed_eucora                      # http://127.0.0.1:8000, PORT overrides
//! curl -s -X POST 'localhost:8000/api/v1/deployments?app=firefox&ring=canary&connector=jamf'
//! curl -s localhost:8000/api/v1/metrics/               # the team's path; /metrics too
//! cargo run --example seed_eucora -- --export /tmp/eucora   # the monitoring bundle, then exit
//! ```
//!
//! No server is needed: the connectors' API is an in-process loopback
//! service, the database an embedded store and the Celery broker an
//! in-process queue; `DATABASE_URL` (PostgreSQL), `REDIS_URL` (the broker),
//! `SENTRY_DSN` and `OTEL_EXPORTER_OTLP_ENDPOINT` switch the real ones on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use obs_runtime::export::{Alert, Dashboard, ExportOptions, Query as Q, Severity};
use obs_runtime::health::{self, CheckError, Observed};
use obs_runtime::metrics::{Counter, Gauge, Histogram};
use obs_runtime::{LabelSet, LabelValue, MetricSet, health_check, instrumented};

// ---- metrics (003 "P3.1b"): the team's names, labels from its record_* functions ----

#[derive(LabelValue, Clone, Copy, PartialEq, Eq, Hash, Debug, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Ring {
    Lab,
    Canary,
    Pilot,
    Department,
    Global,
}

#[derive(LabelValue, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    Failed,
}

#[derive(LabelValue, Clone, Copy, PartialEq, Eq, Debug, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum ConnectorType {
    Intune,
    Jamf,
    Sccm,
    Landscape,
    Ansible,
}
const CONNECTORS: [ConnectorType; 5] = [
    ConnectorType::Intune,
    ConnectorType::Jamf,
    ConnectorType::Sccm,
    ConnectorType::Landscape,
    ConnectorType::Ansible,
];

/// The team's `service` label, renamed: their prometheus.yml attaches
/// `service=eucora-control-plane` to every series, so a series label of
/// that name would come out as `exported_service`.
#[derive(LabelValue, Clone, Copy)]
enum Component {
    Deployments,
    Inventory,
}

#[derive(LabelValue, Clone, Copy, PartialEq, Eq)]
enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(LabelValue, Clone, Copy)]
enum ConnectorError {
    Timeout,
    ServerError,
    CircuitOpen,
}

#[derive(LabelValue, Clone, Copy)]
enum Operation {
    Deploy,
    Status,
}

#[derive(LabelValue, Clone, Copy)]
enum OpStatus {
    Success,
    Failure,
}

#[derive(LabelValue, Clone, Copy)]
enum Task {
    ExecuteDeployment,
}

#[derive(LabelValue, Clone, Copy)]
enum TaskStatus {
    Success,
    Failure,
    Timeout,
}

#[derive(LabelValue, Clone, Copy)]
enum RetryNumber {
    #[label(rename = "1")]
    First,
    #[label(rename = "2")]
    Second,
}

#[derive(LabelValue, Clone, Copy)]
enum QueryType {
    Select,
    Insert,
}

#[derive(LabelSet, Clone, Copy)]
struct DeploymentLabels {
    status: Outcome,
    ring: Ring,
    /// From the app catalog: a bounded run-time family.
    app: &'static str,
}
#[derive(LabelSet, Clone, Copy)]
struct RingLabels {
    ring: Ring,
}
#[derive(LabelSet, Clone, Copy)]
struct PromotionLabels {
    from_ring: Ring,
    to_ring: Ring,
    status: Outcome,
}
#[derive(LabelSet, Clone, Copy)]
struct RiskLabels {
    requires_cab: bool,
}
#[derive(LabelSet, Clone, Copy)]
struct BreakerLabels {
    component: Component,
    connector_type: ConnectorType,
    state: BreakerState,
}
#[derive(LabelSet, Clone, Copy)]
struct BreakerFailureLabels {
    component: Component,
    connector_type: ConnectorType,
    error_type: ConnectorError,
}
#[derive(LabelSet, Clone, Copy)]
struct TaskLabels {
    task_name: Task,
    status: TaskStatus,
}
#[derive(LabelSet, Clone, Copy)]
struct RetryLabels {
    task_name: Task,
    retry_number: RetryNumber,
}
#[derive(LabelSet, Clone, Copy)]
struct ConnectorLabels {
    connector_type: ConnectorType,
}
#[derive(LabelSet, Clone, Copy)]
struct ConnectorOpLabels {
    connector_type: ConnectorType,
    operation: Operation,
    status: OpStatus,
}

/// EUCORA's metrics module. HTTP metrics come from `ObsLayer` and the
/// database query histogram from `#[instrumented]` below.
#[derive(MetricSet)]
struct Eucora {
    /// Deployments, by status, ring and app.
    deployment_total: Counter<DeploymentLabels>,
    /// Time from a deployment intent to compliance.
    deployment_time_to_compliance_seconds: Gauge,
    /// Deployment risk scores, 0-100 (the team's `risk_score_distribution`:
    /// a histogram's name ends in its unit, and "distribution" is none).
    #[metric(unit = "score", buckets = [10, 25, 50, 75, 90, 100])]
    risk_score: Histogram<RiskLabels>,
    /// Deployments held for a CAB approval (DeploymentApprovalBacklog needs
    /// it; the team's metric list names none).
    deployment_pending_approvals: Gauge,
    /// Ring promotions, by rings and status.
    ring_promotion_total: Counter<PromotionLabels>,
    /// Share of promotions into a ring that passed its gate.
    promotion_gate_success_rate: Gauge<RingLabels>,
    /// 1 for a breaker's current state, 0 for the others (the team's one
    /// series valued 0/1/2 can't be summed or alerted on with a threshold).
    circuit_breaker_state: Gauge<BreakerLabels>,
    /// Failures behind the breakers (`circuit_breaker_failures`: a counter
    /// ends in `_total`).
    circuit_breaker_failures_total: Counter<BreakerFailureLabels>,
    /// Task retries, by task and retry number.
    celery_task_retries_total: Counter<RetryLabels>,
    /// Connections the database pool keeps.
    db_connection_pool_size: Gauge,
    /// 1 while a connector answers, 0 otherwise.
    connector_health: Gauge<ConnectorLabels>,
}

/// Work that takes minutes: deployments, Celery tasks, connector calls.
/// Registered at run time rather than in `Eucora`: obs gives every
/// metric-set histogram in seconds the generic p95 > 1 s and p99 > 2 s
/// alerts (`latency_limits`, shared with the HTTP routes and `db_query`,
/// where the team wants 1 s), which these breach by design; their own
/// alerts are HighDeploymentLatency (600 s) and HighConnectorLatency (30 s).
struct Durations {
    deployment: &'static Histogram<RingLabels>,
    task: &'static Histogram<TaskLabels>,
    connector: &'static Histogram<ConnectorOpLabels>,
}
static DURATIONS: OnceLock<Durations> = OnceLock::new();

fn register_durations() -> std::io::Result<()> {
    fn histogram<L: LabelSet>(name: &'static str, help: &'static str, buckets: &[f64]) -> std::io::Result<&'static Histogram<L>> {
        let h = Histogram::new(name, help, buckets).map_err(std::io::Error::other)?;
        h.register().map_err(std::io::Error::other)
    }
    let durations = Durations {
        deployment: histogram(
            "deployment_duration_seconds",
            "Deployment execution time, by ring.",
            &[30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0],
        )?,
        task: histogram(
            "celery_task_duration_seconds",
            "Celery task execution time, by task and status.",
            &[0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0],
        )?,
        connector: histogram(
            "connector_operation_duration_seconds",
            "Connector call latency, by connector, operation and status.",
            &[0.05, 0.25, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0],
        )?,
    };
    let _ = DURATIONS.set(durations);
    Ok(())
}

fn durations() -> Option<&'static Durations> {
    DURATIONS.get()
}

// ---- the connectors: an in-process API called through the measured client ----

static CONNECTOR_API: OnceLock<String> = OnceLock::new();

/// The device-management APIs: every 4th Jamf call fails with a 503.
async fn start_connector_api() -> std::io::Result<()> {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let api = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route(
            "/{connector}/{operation}",
            post(|Path((c, _)): Path<(String, String)>| async move {
                let failing = c == "jamf" && CALLS.fetch_add(1, Relaxed) % 4 == 3;
                if failing { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let _ = CONNECTOR_API.set(format!("http://{}", listener.local_addr()?));
    tokio::spawn(async move { axum::serve(listener, api).await });
    Ok(())
}

fn http() -> &'static reqwest_middleware::ClientWithMiddleware {
    static CLIENT: OnceLock<reqwest_middleware::ClientWithMiddleware> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let inner = reqwest::Client::builder().timeout(Duration::from_secs(30)).build();
        reqwest_middleware::ClientBuilder::new(inner.unwrap_or_default())
            .with(obs_runtime::client::ObsMiddleware::new())
            .build()
    })
}

/// Consecutive failures per connector: 3 open the breaker; while open, a
/// call fails at once and half-opens it, so the next one tests the
/// connector; a success closes it.
fn breakers() -> &'static Mutex<HashMap<&'static str, u32>> {
    static B: OnceLock<Mutex<HashMap<&'static str, u32>>> = OnceLock::new();
    B.get_or_init(Mutex::default)
}

fn set_breaker(component: Component, connector_type: ConnectorType, now: BreakerState) {
    for state in [BreakerState::Closed, BreakerState::Open, BreakerState::HalfOpen] {
        let labels = BreakerLabels { component, connector_type, state };
        Eucora::global().circuit_breaker_state.with(labels).set(f64::from(u8::from(state == now)));
    }
}

/// One connector call, measured as the team's `record_connector_operation`.
async fn connector_call(component: Component, connector_type: ConnectorType, operation: Operation) -> Result<(), ConnectorError> {
    let m = Eucora::global();
    let name = connector_type.label_value();
    let url = format!("{}/{name}/{}", CONNECTOR_API.get().map_or("", String::as_str), operation.label_value());
    // An open breaker answers at once, and lets the next call through (half-open).
    let open = breakers().lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(name).is_some_and(|s| *s >= 3);
    let started = Instant::now();
    let outcome = match if open { None } else { Some(http().post(url).send().await) } {
        None => Err(ConnectorError::CircuitOpen),
        Some(Ok(r)) if r.status().is_success() => Ok(()),
        Some(Ok(_)) => Err(ConnectorError::ServerError),
        Some(Err(_)) => Err(ConnectorError::Timeout),
    };
    let status = if outcome.is_ok() { OpStatus::Success } else { OpStatus::Failure };
    let labels = ConnectorOpLabels { connector_type, operation, status };
    if let Some(d) = durations() {
        d.connector.with(labels).observe_duration(started.elapsed());
    }
    m.connector_health.with(ConnectorLabels { connector_type }).set(f64::from(u8::from(outcome.is_ok())));
    let mut failures = breakers().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let streak = failures.entry(name).or_default();
    *streak = if open { 2 } else if outcome.is_ok() { 0 } else { *streak + 1 };
    let state = match (open, *streak) {
        (true, _) => BreakerState::HalfOpen,
        (false, 3..) => BreakerState::Open,
        _ => BreakerState::Closed,
    };
    set_breaker(component, connector_type, state);
    if let Err(error_type) = outcome {
        let labels = BreakerFailureLabels { component, connector_type, error_type };
        m.circuit_breaker_failures_total.with(labels).inc();
        tracing::warn!(connector = name, "connector call failed");
    }
    outcome
}

// ---- the database: PostgreSQL with DATABASE_URL, else an embedded store ----

static POSTGRES: OnceLock<health::deadpool_postgres::Pool> = OnceLock::new();
static REDIS: OnceLock<health::deadpool_redis::Pool> = OnceLock::new();

/// `record_db_query(query_type, duration)`: `db_query_duration_seconds`
/// with `query_type` (and obs's `function`, `module`, `result`), one span
/// per query.
#[instrumented(metric = "db_query", buckets = "db", labels(query_type = query_type))]
async fn db_query(query_type: QueryType) -> Result<(), String> {
    if let Some(pool) = POSTGRES.get() {
        let client = pool.get().await.map_err(|e| e.to_string())?;
        client.query_one("SELECT 1", &[]).await.map_err(|e| e.to_string())?;
    } else {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    tracing::info!(query_type = query_type.label_value(), "query ran");
    Ok(())
}

// ---- the Celery task: a deployment, run through obs's jobs with the request's trace ----

fn tasks() -> &'static obs_runtime::jobs::Queue {
    static Q: OnceLock<obs_runtime::jobs::Queue> = OnceLock::new();
    Q.get_or_init(|| {
        let q = obs_runtime::jobs::Queue::new("celery");
        q.declare("execute_deployment");
        q
    })
}

/// Promotions into each ring: (passed, attempted).
fn gates() -> &'static Mutex<HashMap<Ring, (u32, u32)>> {
    static G: OnceLock<Mutex<HashMap<Ring, (u32, u32)>>> = OnceLock::new();
    G.get_or_init(Mutex::default)
}

/// `execute_deployment`: the connector deploys (retried twice), the
/// database records it, the ring promotion is counted.
async fn execute_deployment(app: &'static str, ring: Ring, connector: ConnectorType) -> Result<Outcome, ConnectorError> {
    let m = Eucora::global();
    let started = Instant::now();
    let mut outcome = connector_call(Component::Deployments, connector, Operation::Deploy).await;
    for retry_number in [RetryNumber::First, RetryNumber::Second] {
        if outcome.is_ok() {
            break;
        }
        m.celery_task_retries_total.with(RetryLabels { task_name: Task::ExecuteDeployment, retry_number }).inc();
        outcome = connector_call(Component::Deployments, connector, Operation::Deploy).await;
    }
    let status = if outcome.is_ok() { Outcome::Success } else { Outcome::Failed };
    db_query(QueryType::Insert).await.map_err(|_| ConnectorError::ServerError)?;
    m.deployment_total.with(DeploymentLabels { status, ring, app }).inc();
    if let Some(d) = durations() {
        d.deployment.with(RingLabels { ring }).observe_duration(started.elapsed());
    }
    let from_ring = match ring {
        Ring::Lab | Ring::Canary => Ring::Lab,
        Ring::Pilot => Ring::Canary,
        Ring::Department => Ring::Pilot,
        Ring::Global => Ring::Department,
    };
    m.ring_promotion_total.with(PromotionLabels { from_ring, to_ring: ring, status }).inc();
    let mut gates = gates().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (passed, tried) = gates.entry(ring).or_default();
    *passed += u32::from(status == Outcome::Success);
    *tried += 1;
    m.promotion_gate_success_rate.with(RingLabels { ring }).set(f64::from(*passed) / f64::from(*tried));
    if status == Outcome::Success {
        m.deployment_time_to_compliance_seconds.set(started.elapsed().as_secs_f64());
    }
    tracing::info!(app, ring = ring.label_value(), "deployment executed");
    outcome.map(|()| status)
}

// ---- the API ----

#[derive(serde::Deserialize)]
struct Intent {
    app: Option<String>,
    ring: Option<Ring>,
    connector: Option<ConnectorType>,
}

const APPS: [&str; 3] = ["7-zip", "firefox", "vscode"];
static PENDING: AtomicU64 = AtomicU64::new(0);

/// `POST /api/v1/deployments`: scores the risk; a score of 75 or more waits
/// for the CAB, anything else runs as a task (awaited, as `.delay().get()`).
async fn create_deployment(Query(intent): Query<Intent>) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    static N: AtomicU64 = AtomicU64::new(0);
    let app = APPS
        .into_iter()
        .find(|a| intent.app.as_deref().is_none_or(|x| x == *a))
        .ok_or((StatusCode::BAD_REQUEST, "unknown app".to_owned()))?;
    let ring = intent.ring.unwrap_or(Ring::Lab);
    let score = [23.0, 47.0, 82.0, 35.0, 61.0][(N.fetch_add(1, Relaxed) % 5) as usize];
    let m = Eucora::global();
    m.risk_score.with(RiskLabels { requires_cab: score >= 75.0 }).observe(score);
    db_query(QueryType::Select).await.map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e))?;
    if score >= 75.0 {
        m.deployment_pending_approvals.set(PENDING.fetch_add(1, Relaxed) as f64 + 1.0);
        return Ok(Json(serde_json::json!({ "app": app, "status": "awaiting_cab", "risk_score": score })));
    }
    let carrier = tasks().enqueue_carrier();
    let connector = intent.connector.unwrap_or(ConnectorType::Intune);
    let run = tokio::spawn(async move {
        let worker = tasks().worker("celery-1");
        let started = Instant::now();
        let fut = tokio::time::timeout(Duration::from_secs(300), execute_deployment(app, ring, connector));
        let done = tasks().job("execute_deployment").carrier(&carrier).worker(&worker).run(async {
            fut.await.map_err(|_| "timeout")?.map_err(|_| "connector failed")
        });
        let result = done.await;
        let status = match &result {
            Ok(_) => TaskStatus::Success,
            Err(obs_runtime::jobs::JobError::Failed("timeout")) => TaskStatus::Timeout,
            Err(_) => TaskStatus::Failure,
        };
        let labels = TaskLabels { task_name: Task::ExecuteDeployment, status };
        if let Some(d) = durations() {
            d.task.with(labels).observe_duration(started.elapsed());
        }
        result.is_ok()
    });
    let ok = run.await.unwrap_or(false);
    let status = if ok { "deployed" } else { "failed" };
    Ok(Json(serde_json::json!({ "app": app, "ring": ring.label_value(), "status": status, "risk_score": score })))
}

async fn list_deployments() -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    db_query(QueryType::Select).await.map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e))?;
    Ok(Json(serde_json::json!({ "apps": APPS })))
}

async fn list_connectors() -> Json<serde_json::Value> {
    let text = obs_runtime::encode_text();
    let healthy: Vec<&str> = CONNECTORS
        .iter()
        .map(|c| c.label_value())
        .filter(|c| text.contains(&format!("connector_health{{connector_type=\"{c}\"}} 1")))
        .collect();
    Json(serde_json::json!({ "healthy": healthy }))
}

/// The team's scrape path, `/api/v1/metrics/`: obs's `/metrics` (its
/// allowlist and format negotiation included) under another name.
async fn team_metrics(mut request: axum::extract::Request) -> axum::response::Response {
    use tower::ServiceExt as _;
    *request.uri_mut() = axum::http::Uri::from_static("/metrics");
    let metrics = obs_runtime::http::metrics_router(obs_runtime::http::MetricsConfig::default());
    match metrics.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

// ---- health checks ----

/// PostgreSQL with `DATABASE_URL`, else the embedded store.
#[health_check("database", timeout = "2s")]
async fn database() -> Result<(), CheckError> {
    match POSTGRES.get() {
        Some(pool) => health::postgres(pool).await,
        None => Ok(()),
    }
}

/// The Celery broker: Redis with `REDIS_URL`, else the in-process queue.
#[health_check("celery_broker", timeout = "1s")]
async fn celery_broker() -> Result<(), CheckError> {
    match REDIS.get() {
        Some(pool) => health::redis(pool).await,
        None => Ok(()),
    }
}

/// The connectors' API (an external API in production).
#[health_check("connectors", timeout = "3s", critical = false)]
async fn connectors() -> Result<Observed, CheckError> {
    let base = CONNECTOR_API.get().ok_or_else(|| CheckError::new("connector API not started"))?;
    health::http_get(&format!("{base}/health")).await
}

fn connect_dependencies() {
    let m = Eucora::global();
    m.db_connection_pool_size.set(10.0);
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let mut config = health::deadpool_postgres::Config::new();
        config.url = Some(url);
        let tls = health::deadpool_postgres::tokio_postgres::NoTls;
        match config.create_pool(Some(health::deadpool_postgres::Runtime::Tokio1), tls) {
            Ok(pool) => {
                m.db_connection_pool_size.set(pool.status().max_size as f64);
                let _ = obs_runtime::pools::register("database", pool.clone());
                let _ = POSTGRES.set(pool);
            }
            Err(e) => tracing::warn!("DATABASE_URL unusable ({e}); using the embedded store"),
        }
    }
    if let Ok(url) = std::env::var("REDIS_URL") {
        match health::deadpool_redis::Config::from_url(url).create_pool(Some(health::deadpool_redis::Runtime::Tokio1)) {
            Ok(pool) => {
                let _ = obs_runtime::pools::register("celery_broker", pool.clone());
                let _ = REDIS.set(pool);
            }
            Err(e) => tracing::warn!("REDIS_URL unusable ({e}); using the in-process queue"),
        }
    }
}

/// The inventory poller: asks every connector for its status every 15 s,
/// which keeps `connector_health` and the breakers current.
async fn poll_connectors() {
    loop {
        for c in CONNECTORS {
            let _ = connector_call(Component::Inventory, c, Operation::Status).await;
        }
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
}

// ---- alerts and dashboards (003 "Alert Rules", "Grafana Dashboards") ----

fn export_options() -> ExportOptions {
    let q95 = |h: &str| Q::quantile(h, "0.95");
    ExportOptions::default()
        .job("eucora-control-plane")
        // HighTaskFailureRate (> 5 % in 5 min) is ObsJobFailureRatio's default.
        // HighAPILatency and SlowDatabaseQueries (p95 > 1 s) are also the defaults of
        // ObsHttpHighLatencyP95 and ObsHighLatencyP95, but obs writes no rule tests
        // for those two: declared here, they get theirs.
        .alert(
            Alert::above("HighAPILatency", q95("http_server_request_duration_seconds"), "1")
                .for_("5m")
                .summary("API requests take more than 1 s (p95)"),
        )
        .alert(
            Alert::above("SlowDatabaseQueries", q95("db_query_duration_seconds"), "1")
                .for_("5m")
                .summary("Database queries take more than 1 s (p95)"),
        )
        .alert(
            Alert::above("HighHTTPErrorRate", Q::ratio(r#"http_requests_total{status="5xx"}"#, "http_requests_total"), "0.01")
                .for_("5m")
                .summary("More than 1 % of API requests answer 5xx"),
        )
        .alert(
            Alert::above("CircuitBreakerOpen", Q::value(r#"circuit_breaker_state{state="open"}"#), "0")
                .severity(Severity::Critical)
                .summary("A connector's circuit breaker is open: its deployments stop"),
        )
        .alert(
            Alert::above("CircuitBreakerHalfOpen", Q::value(r#"circuit_breaker_state{state="half_open"}"#), "0")
                .for_("5m")
                .summary("A connector's circuit breaker is testing recovery"),
        )
        .alert(
            Alert::below("LowDeploymentSuccessRate", Q::ratio(r#"deployment_total{status="success"}"#, "deployment_total"), "0.97")
                .for_("15m")
                .summary("Fewer than 97 % of deployments succeed"),
        )
        .alert(
            Alert::above("DeploymentApprovalBacklog", Q::value("deployment_pending_approvals"), "5")
                .for_("15m")
                .summary("More than 5 deployments wait for a CAB approval"),
        )
        .alert(
            Alert::above("HighDeploymentLatency", q95("deployment_duration_seconds"), "600")
                .for_("10m")
                .summary("Deployments take more than 10 minutes (p95)"),
        )
        .alert(
            Alert::above("HighRiskScoreDistribution", Q::quantile("risk_score", "0.75"), "75")
                .for_("15m")
                .summary("A quarter of deployments score a risk above 75"),
        )
        .alert(
            Alert::below("ConnectorUnhealthy", Q::value("connector_health"), "1")
                .for_("1m")
                .severity(Severity::Critical)
                .summary("A connector is unavailable"),
        )
        .alert(
            Alert::above("HighConnectorLatency", q95("connector_operation_duration_seconds"), "30")
                .for_("5m")
                .summary("Connector calls take more than 30 s (p95)"),
        )
        .alert(
            Alert::above(
                "ConnectorOperationFailures",
                Q::ratio(
                    r#"connector_operation_duration_seconds_count{status="failure"}"#,
                    "connector_operation_duration_seconds_count",
                ),
                "0.05",
            )
            .for_("5m")
            .summary("More than 5 % of connector calls fail"),
        )
        .alert(
            Alert::below("LowPromotionGateSuccessRate", Q::value("promotion_gate_success_rate"), "0.95")
                .for_("15m")
                .summary("Fewer than 95 % of promotions pass a ring's gate"),
        )
        .dashboard(
            Dashboard::new("EUCORA Operations")
                .panel("Deployment Rate", Q::rate("deployment_total").by(&["ring", "status"]))
                .panel("Connector Health Status", Q::value("connector_health").by(&["connector_type"]))
                .panel(
                    "Deployment & Promotion Success Rates",
                    Q::ratio(r#"deployment_total{status="success"}"#, "deployment_total").by(&["ring"]),
                )
                .panel(
                    "Circuit Breaker State Changes",
                    Q::value(r#"circuit_breaker_state{state="open"}"#).by(&["connector_type"]),
                )
                .panel("Deployment Duration Percentiles", q95("deployment_duration_seconds").by(&["ring"]))
                .panel("API Response Latency", q95("http_request_duration_seconds").by(&["endpoint"]))
                .panel("Celery Task Execution Time", q95("celery_task_duration_seconds").by(&["status"]))
                .panel("System Error Rates", Q::rate(r#"job_runs_total{result="error"}"#).by(&["job_name"]))
                .panel("Circuit breaker triggers", Q::rate("circuit_breaker_failures_total").by(&["connector_type"]))
                .panel("Promotion gate success rate", Q::value("promotion_gate_success_rate").by(&["ring"]))
                .panel("Deployment Duration p99", Q::quantile("deployment_duration_seconds", "0.99").by(&["ring"]))
                .panel("API Response Latency p99", Q::quantile("http_request_duration_seconds", "0.99").by(&["endpoint"]))
                .panel("API Response Latency p50", Q::quantile("http_request_duration_seconds", "0.5").by(&["endpoint"])),
        )
}

// ---- main ----

/// The labels the team's prometheus.yml put on every series (003 L132), as
/// constant labels: `cluster` (`CLUSTER`), `environment` (`OBS_ENV`), `service`.
fn constant_labels() -> std::io::Result<()> {
    let var = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.to_owned());
    let exposition = obs_runtime::registry::Exposition::default()
        .constant_label("cluster", var("CLUSTER", "eucora-dev"))
        .constant_label("environment", var("OBS_ENV", "development"))
        .constant_label("service", "eucora-control-plane");
    obs_runtime::registry::configure(exposition).map_err(std::io::Error::other)
}

fn app() -> Router {
    let layer = obs_runtime::http::ObsLayer::new().metric_names(obs_runtime::http::HttpMetricNames::Instrumentator);
    Router::new()
        .route("/api/v1/deployments", post(create_deployment).get(list_deployments))
        .route("/api/v1/connectors", get(list_connectors))
        .layer(layer)
        .route("/api/v1/metrics/", get(team_metrics))
        .merge(obs_runtime::http::routes())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    constant_labels()?;
    register_durations()?;
    let mut args = std::env::args_os().skip(1);
    if let Some(flag) = args.next() {
        let (true, Some(dir)) = (flag == "--export", args.next()) else {
            return Err(std::io::Error::other("usage: seed_eucora [--export <dir>]"));
        };
        let _ = (app(), tasks(), http(), Eucora::global());
        obs_runtime::export::write_bundle_with(std::path::Path::new(&dir), &export_options())?;
        return Ok(());
    }
    let _guard = obs_runtime::Builder::from_env()
        .service_name("eucora-control-plane")
        .service_version(env!("CARGO_PKG_VERSION"))
        .init();
    connect_dependencies();
    start_connector_api().await?;
    tokio::spawn(poll_connectors());
    let port = match std::env::var("PORT") {
        Ok(p) => p.parse().map_err(|e| std::io::Error::other(format!("PORT={p:?}: {e}")))?,
        Err(_) => 8000,
    };
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    println!("eucora on http://{}", listener.local_addr()?);
    let service = app().into_make_service_with_connect_info::<std::net::SocketAddr>();
    // SIGTERM or Ctrl-C: stop accepting, finish the requests, then the guard flushes.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let stop = async move {
        tokio::select! { _ = term.recv() => {}, _ = tokio::signal::ctrl_c() => {} }
    };
    axum::serve(listener, service).with_graceful_shutdown(stop).await
}
