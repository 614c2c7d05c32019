//! Seed 003, EUCORA: a deployment control plane (Django + Celery in the
//! team's Python) rolling apps out ring by ring through device-management
//! connectors, on obs. The team's document, row by row:
//! `examples/seeds/seed_eucora.parity`, checked by `tests/seed_eucora.rs`.
//!
//! ```sh
//! cargo run --example seed_eucora      # http://127.0.0.1:8000 (PORT, HOST)
//! curl -s -X POST 'localhost:8000/api/v1/deployments?app=firefox&ring=canary&connector=jamf'
//! curl -s localhost:8000/api/v1/metrics/                  # the team's path; /metrics too
//! cargo run --example seed_eucora -- --export /tmp/eucora  # the monitoring bundle
//! ```
//!
//! No server is needed: the connectors' API is an in-process loopback
//! service, the database an embedded store, the Celery broker an in-process
//! queue. `DATABASE_URL` (PostgreSQL), `REDIS_URL` (the broker), `SENTRY_DSN`
//! and `OTEL_EXPORTER_OTLP_ENDPOINT` switch the real ones on.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use obs_runtime::export::{Alert, Dashboard, ExportOptions, Query as Q, Severity};
use obs_runtime::health::{self, CheckError, Observed};
use obs_runtime::metrics::{Counter, Gauge, Histogram};
use obs_runtime::{LabelSet, LabelValue, MetricSet, health_check, instrumented};

// ---- metrics (003 "P3.1b"): the team's names, labels from its record_* calls ----

#[derive(LabelValue, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Ring {
    Lab,
    Canary,
    Pilot,
    Department,
    Global,
}

#[derive(LabelValue, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
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

/// Deployments, promotions and connector calls.
#[derive(LabelValue, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    Failure,
}

/// The team's `service` label, renamed: their prometheus.yml puts
/// `service=eucora-control-plane` on every series (here a constant label,
/// which a family label of that name would clash with).
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
enum ErrorType {
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
enum TaskStatus {
    Success,
    Failure,
    Timeout,
}

#[derive(LabelValue, Clone, Copy)]
enum Task {
    ExecuteDeployment,
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
struct GateLabels {
    ring: &'static str,
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
    error_type: ErrorType,
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
    status: Outcome,
}

/// EUCORA's metrics module. The HTTP families come from `ObsLayer`, the
/// query histogram from `#[instrumented]`, the minute-long histograms from
/// `Durations`.
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
    /// Deployments waiting for a CAB approval (DeploymentApprovalBacklog
    /// needs it; the team's list names no metric for it).
    deployment_pending_approvals: Gauge,
    /// Ring promotions, by rings and status.
    ring_promotion_total: Counter<PromotionLabels>,
    /// Share of promotions into a ring that passed its gate (a ring's
    /// series starts with its first promotion, not at 0 below the alert).
    promotion_gate_success_rate: Gauge<GateLabels>,
    /// 1 for a breaker's state, 0 for the others (the team's one series
    /// valued 0/1/2 can't be summed, nor alerted on with a threshold).
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

/// Work that takes minutes, registered at run time rather than in `Eucora`:
/// obs gives every metric-set histogram in seconds the generic p95 > 1 s and
/// p99 > 2 s alerts (`latency_limits`, shared with the HTTP routes and
/// `db_query`, where the team wants 1 s), which these breach by design.
/// Their own alerts are HighDeploymentLatency and HighConnectorLatency.
struct Durations {
    deployment: &'static Histogram<RingLabels>,
    task: &'static Histogram<TaskLabels>,
    connector: &'static Histogram<ConnectorOpLabels>,
}
static DURATIONS: OnceLock<Durations> = OnceLock::new();

fn register_durations() -> std::io::Result<()> {
    fn register<L: LabelSet>(
        name: &'static str,
        help: &'static str,
        buckets: &[f64],
    ) -> std::io::Result<&'static Histogram<L>> {
        let h = Histogram::new(name, help, buckets).map_err(std::io::Error::other)?;
        h.register().map_err(std::io::Error::other)
    }
    let minutes = [30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0];
    let calls = [0.05, 0.25, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0];
    let _ = DURATIONS.set(Durations {
        deployment: register("deployment_duration_seconds", "Deployment time.", &minutes)?,
        task: register("celery_task_duration_seconds", "Celery task time.", &calls)?,
        connector: register(
            "connector_operation_duration_seconds",
            "Connector calls.",
            &calls,
        )?,
    });
    Ok(())
}

fn flag(on: bool) -> f64 {
    f64::from(u8::from(on))
}

fn outcome(ok: bool) -> Outcome {
    if ok {
        Outcome::Success
    } else {
        Outcome::Failure
    }
}

// ---- the connectors: an in-process API, called through the measured client ----

static CONNECTOR_API: OnceLock<String> = OnceLock::new();

/// The device-management APIs: every 4th Jamf call fails with a 503.
async fn start_connector_api() -> std::io::Result<()> {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let deploy = |Path((c, _)): Path<(String, String)>| async move {
        match c == "jamf" && CALLS.fetch_add(1, Relaxed) % 4 == 3 {
            true => StatusCode::SERVICE_UNAVAILABLE,
            false => StatusCode::OK,
        }
    };
    let api = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/{connector}/{operation}", post(deploy));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let _ = CONNECTOR_API.set(format!("http://{}", listener.local_addr()?));
    tokio::spawn(async move { axum::serve(listener, api).await });
    Ok(())
}

fn http() -> &'static reqwest_middleware::ClientWithMiddleware {
    static CLIENT: OnceLock<reqwest_middleware::ClientWithMiddleware> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let inner = reqwest::Client::builder().timeout(Duration::from_secs(60));
        reqwest_middleware::ClientBuilder::new(inner.build().unwrap_or_default())
            .with(obs_runtime::client::ObsMiddleware::new())
            .build()
    })
}

/// Consecutive failures per connector: 3 open its breaker; an open breaker
/// fails the next call at once and half-opens; a success closes it.
static STREAKS: [AtomicU32; 5] = [const { AtomicU32::new(0) }; 5];

/// One connector call, recorded as the team's `record_connector_operation`,
/// `update_connector_health` and `update_circuit_breaker_state`.
async fn connector_call(
    component: Component,
    connector_type: ConnectorType,
    operation: Operation,
) -> Result<(), ErrorType> {
    let (m, name) = (Eucora::global(), connector_type.label_value());
    let base = CONNECTOR_API.get().map_or("", String::as_str);
    let url = format!("{base}/{name}/{}", operation.label_value());
    let streak = &STREAKS[connector_type.ordinal()];
    let open = streak.load(Relaxed) >= 3;
    let started = Instant::now();
    let result = match open {
        true => Err(ErrorType::CircuitOpen),
        false => match http().post(url).send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(_) => Err(ErrorType::ServerError),
            Err(_) => Err(ErrorType::Timeout),
        },
    };
    let status = outcome(result.is_ok());
    if let Some(d) = DURATIONS.get() {
        let labels = ConnectorOpLabels {
            connector_type,
            operation,
            status,
        };
        d.connector.with(labels).observe_duration(started.elapsed());
    }
    m.connector_health
        .with(ConnectorLabels { connector_type })
        .set(flag(result.is_ok()));
    let failures = match (open, result.is_ok()) {
        (true, _) => 2,
        (false, true) => 0,
        (false, false) => streak.load(Relaxed) + 1,
    };
    streak.store(failures, Relaxed);
    let now = match (open, failures) {
        (true, _) => BreakerState::HalfOpen,
        (false, 3..) => BreakerState::Open,
        _ => BreakerState::Closed,
    };
    for state in [
        BreakerState::Closed,
        BreakerState::Open,
        BreakerState::HalfOpen,
    ] {
        let labels = BreakerLabels {
            component,
            connector_type,
            state,
        };
        m.circuit_breaker_state.with(labels).set(flag(state == now));
    }
    if let Err(error_type) = result {
        let labels = BreakerFailureLabels {
            component,
            connector_type,
            error_type,
        };
        m.circuit_breaker_failures_total.with(labels).inc();
        tracing::warn!(connector = name, "connector call failed");
    }
    result
}

/// The inventory poller: every connector's status every 15 s, which keeps
/// `connector_health` and the breakers current.
async fn poll_connectors() {
    loop {
        for c in CONNECTORS {
            let _ = connector_call(Component::Inventory, c, Operation::Status).await;
        }
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
}

// ---- the database: PostgreSQL with DATABASE_URL, else an embedded store ----

static POSTGRES: OnceLock<health::deadpool_postgres::Pool> = OnceLock::new();
static REDIS: OnceLock<health::deadpool_redis::Pool> = OnceLock::new();

/// `record_db_query(query_type, duration)`: `db_query_duration_seconds`
/// by `query_type` (and obs's `function`, `module`, `result`), a span each.
#[instrumented(metric = "db_query", buckets = "db", labels(query_type = query_type))]
async fn db_query(query_type: QueryType) -> Result<(), String> {
    if let Some(pool) = POSTGRES.get() {
        let client = pool.get().await.map_err(|e| e.to_string())?;
        client
            .query_one("SELECT 1", &[])
            .await
            .map_err(|e| e.to_string())?;
    } else {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    tracing::info!(query_type = query_type.label_value(), "query ran");
    Ok(())
}

fn connect_dependencies() {
    use health::{deadpool_postgres as pg, deadpool_redis as redis};
    let m = Eucora::global();
    m.db_connection_pool_size.set(10.0);
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let config = pg::Config {
            url: Some(url),
            ..pg::Config::new()
        };
        match config.create_pool(Some(pg::Runtime::Tokio1), pg::tokio_postgres::NoTls) {
            Ok(pool) => {
                m.db_connection_pool_size.set(pool.status().max_size as f64);
                let _ = obs_runtime::pools::register("database", pool.clone());
                let _ = POSTGRES.set(pool);
            }
            Err(e) => tracing::warn!("DATABASE_URL unusable ({e}); using the embedded store"),
        }
    }
    if let Ok(url) = std::env::var("REDIS_URL") {
        match redis::Config::from_url(url).create_pool(Some(redis::Runtime::Tokio1)) {
            Ok(pool) => {
                let _ = obs_runtime::pools::register("celery_broker", pool.clone());
                let _ = REDIS.set(pool);
            }
            Err(e) => tracing::warn!("REDIS_URL unusable ({e}); using the in-process queue"),
        }
    }
}

// ---- the Celery task: a deployment, run by obs's jobs in the request's trace ----

fn tasks() -> &'static obs_runtime::jobs::Queue {
    static Q: OnceLock<obs_runtime::jobs::Queue> = OnceLock::new();
    Q.get_or_init(|| {
        let q = obs_runtime::jobs::Queue::new("celery");
        q.declare("execute_deployment");
        q
    })
}

/// Promotions into each ring: passed, tried.
static GATES: [(AtomicU32, AtomicU32); 5] = [const { (AtomicU32::new(0), AtomicU32::new(0)) }; 5];

/// `execute_deployment`: the connector deploys (retried twice), the
/// database records it, the promotion into the ring is counted.
async fn execute_deployment(app: &'static str, ring: Ring, connector: ConnectorType) -> bool {
    let (m, started) = (Eucora::global(), Instant::now());
    let mut result = connector_call(Component::Deployments, connector, Operation::Deploy).await;
    for retry_number in [RetryNumber::First, RetryNumber::Second] {
        if result.is_ok() {
            break;
        }
        let labels = RetryLabels {
            task_name: Task::ExecuteDeployment,
            retry_number,
        };
        m.celery_task_retries_total.with(labels).inc();
        result = connector_call(Component::Deployments, connector, Operation::Deploy).await;
    }
    let status = outcome(result.is_ok());
    let recorded = db_query(QueryType::Insert).await.is_ok();
    m.deployment_total
        .with(DeploymentLabels { status, ring, app })
        .inc();
    if let Some(d) = DURATIONS.get() {
        d.deployment
            .with(RingLabels { ring })
            .observe_duration(started.elapsed());
    }
    let from_ring = match ring {
        Ring::Lab | Ring::Canary => Ring::Lab,
        Ring::Pilot => Ring::Canary,
        Ring::Department => Ring::Pilot,
        Ring::Global => Ring::Department,
    };
    let to_ring = ring;
    m.ring_promotion_total
        .with(PromotionLabels {
            from_ring,
            to_ring,
            status,
        })
        .inc();
    let (passed, tried) = &GATES[ring.ordinal()];
    let passed = passed.fetch_add(u32::from(result.is_ok()), Relaxed) + u32::from(result.is_ok());
    let rate = f64::from(passed) / f64::from(tried.fetch_add(1, Relaxed) + 1);
    let gate = GateLabels {
        ring: ring.label_value(),
    };
    m.promotion_gate_success_rate.with(gate).set(rate);
    if result.is_ok() {
        m.deployment_time_to_compliance_seconds
            .set(started.elapsed().as_secs_f64());
    }
    tracing::info!(app, ring = ring.label_value(), "deployment executed");
    result.is_ok() && recorded
}

// ---- the API ----

#[derive(serde::Deserialize)]
struct Intent {
    app: Option<String>,
    ring: Option<Ring>,
    connector: Option<ConnectorType>,
}

const APPS: [&str; 3] = ["7-zip", "firefox", "vscode"];
type Answer = Result<Json<serde_json::Value>, (StatusCode, String)>;

/// `POST /api/v1/deployments`: scores the risk; 75 or more waits for the
/// CAB, anything else runs as a task, awaited (Celery's `.delay().get()`).
async fn create_deployment(Query(intent): Query<Intent>) -> Answer {
    static N: AtomicU64 = AtomicU64::new(0);
    static PENDING: AtomicU64 = AtomicU64::new(0);
    let wanted = |a: &&str| intent.app.as_deref().is_none_or(|x| x == *a);
    let Some(app) = APPS.iter().copied().find(wanted) else {
        return Err((StatusCode::BAD_REQUEST, "unknown app".to_owned()));
    };
    let (ring, m) = (intent.ring.unwrap_or(Ring::Lab), Eucora::global());
    let score = [23.0, 47.0, 82.0, 35.0, 61.0][(N.fetch_add(1, Relaxed) % 5) as usize];
    m.risk_score
        .with(RiskLabels {
            requires_cab: score >= 75.0,
        })
        .observe(score);
    db_query(QueryType::Select)
        .await
        .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e))?;
    if score >= 75.0 {
        m.deployment_pending_approvals
            .set((PENDING.fetch_add(1, Relaxed) + 1) as f64);
        return Ok(Json(
            serde_json::json!({ "app": app, "status": "awaiting_cab" }),
        ));
    }
    let carrier = tasks().enqueue_carrier();
    let connector = intent.connector.unwrap_or(ConnectorType::Intune);
    let task = tokio::spawn(async move {
        let (worker, started) = (tasks().worker("celery-1"), Instant::now());
        let deploy = tokio::time::timeout(Duration::from_secs(1800), async {
            execute_deployment(app, ring, connector)
                .await
                .then_some(())
                .ok_or("failure")
        });
        let job = tasks()
            .job("execute_deployment")
            .carrier(&carrier)
            .worker(&worker);
        let result = job
            .run(async { deploy.await.map_err(|_| "timeout")? })
            .await;
        let status = match &result {
            Ok(()) => TaskStatus::Success,
            Err(obs_runtime::jobs::JobError::Failed("timeout")) => TaskStatus::Timeout,
            Err(_) => TaskStatus::Failure,
        };
        if let Some(d) = DURATIONS.get() {
            let labels = TaskLabels {
                task_name: Task::ExecuteDeployment,
                status,
            };
            d.task.with(labels).observe_duration(started.elapsed());
        }
        result.is_ok()
    });
    let status = if task.await.unwrap_or(false) {
        "deployed"
    } else {
        "failed"
    };
    Ok(Json(
        serde_json::json!({ "app": app, "ring": ring.label_value(), "status": status }),
    ))
}

async fn list_deployments() -> Answer {
    db_query(QueryType::Select)
        .await
        .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e))?;
    Ok(Json(serde_json::json!({ "apps": APPS })))
}

/// The team's scrape path, `/api/v1/metrics/`: obs's `/metrics`, its
/// allowlist and format negotiation included, under another name.
async fn team_metrics(mut request: axum::extract::Request) -> axum::response::Response {
    use tower::ServiceExt as _;
    *request.uri_mut() = axum::http::Uri::from_static("/metrics");
    let metrics = obs_runtime::http::metrics_router(obs_runtime::http::MetricsConfig::default());
    match metrics.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

// ---- health checks (the document names none: its dependencies, obs's timeouts) ----

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

/// The connectors' API, an external API in production.
#[health_check("connectors", timeout = "3s", critical = false)]
async fn connectors() -> Result<Observed, CheckError> {
    let base = CONNECTOR_API
        .get()
        .ok_or_else(|| CheckError::new("not started"))?;
    health::http_get(format!("{base}/health")).await
}

// ---- alerts and dashboards (003 "Alert Rules", "Grafana Dashboards") ----

fn export_options() -> ExportOptions {
    let by_connector = |q: Q| q.by(&["connector_type"]);
    let breaker =
        |s: &str| by_connector(Q::value(format!("circuit_breaker_state{{state=\"{s}\"}}")));
    let p95 = |h: &str| Q::quantile(h, "0.95");
    let deployed = Q::ratio(r#"deployment_total{status="success"}"#, "deployment_total");
    let backlog = Q::value("deployment_pending_approvals");
    let risk = Q::quantile("risk_score", "0.75");
    let api = p95("http_server_request_duration_seconds").by(&["http_route"]);
    let http_5xx = Q::ratio(
        r#"http_requests_total{status="5xx"}"#,
        "http_requests_total",
    );
    let calls = "connector_operation_duration_seconds";
    let failed = format!(r#"{calls}_count{{status="failure"}}"#);
    let failures = by_connector(Q::ratio(failed, format!("{calls}_count")));
    let gates = Q::value("promotion_gate_success_rate").by(&["ring"]);
    let critical = |a: Alert| a.severity(Severity::Critical);
    // HighTaskFailureRate (> 5 % in 5 min) is obs's ObsJobFailureRatio as it
    // comes. HighAPILatency and SlowDatabaseQueries (p95 > 1 s) are also
    // ObsHttpHighLatencyP95's and ObsHighLatencyP95's defaults, but obs writes
    // no rule tests for those two; declared here, they get theirs.
    ExportOptions::default()
        .job("eucora-control-plane")
        .alert(critical(Alert::above(
            "CircuitBreakerOpen",
            breaker("open"),
            "0",
        )))
        .alert(Alert::above("CircuitBreakerHalfOpen", breaker("half_open"), "0").for_("5m"))
        .alert(Alert::below("LowDeploymentSuccessRate", deployed, "0.97").for_("15m"))
        .alert(Alert::above("DeploymentApprovalBacklog", backlog, "5").for_("15m"))
        .alert(
            Alert::above(
                "HighDeploymentLatency",
                p95("deployment_duration_seconds").by(&["ring"]),
                "600",
            )
            .for_("10m"),
        )
        .alert(Alert::above("HighRiskScoreDistribution", risk, "75").for_("15m"))
        .alert(Alert::above("HighAPILatency", api, "1").for_("5m"))
        .alert(Alert::above("HighHTTPErrorRate", http_5xx, "0.01").for_("5m"))
        .alert(
            critical(Alert::below(
                "ConnectorUnhealthy",
                by_connector(Q::value("connector_health")),
                "1",
            ))
            .for_("1m"),
        )
        .alert(Alert::above("HighConnectorLatency", by_connector(p95(calls)), "30").for_("5m"))
        .alert(Alert::above("ConnectorOperationFailures", failures, "0.05").for_("5m"))
        .alert(
            Alert::above("SlowDatabaseQueries", p95("db_query_duration_seconds"), "1").for_("5m"),
        )
        .alert(Alert::below("LowPromotionGateSuccessRate", gates, "0.95").for_("15m"))
        .dashboard(operations_dashboard())
}

/// The eight panels of `grafana-dashboard.json`; a panel holds one query, so
/// their second series are panels of their own.
fn operations_dashboard() -> Dashboard {
    let latency = |q: &str| Q::quantile("http_request_duration_seconds", q).by(&["endpoint"]);
    let durations = |q: &str| Q::quantile("deployment_duration_seconds", q).by(&["ring"]);
    let deployed = r#"deployment_total{status="success"}"#;
    let open = r#"circuit_breaker_state{state="open"}"#;
    let task_time = Q::quantile("celery_task_duration_seconds", "0.95").by(&["status"]);
    Dashboard::new("EUCORA Operations")
        .panel(
            "Deployment Rate",
            Q::rate("deployment_total").by(&["ring", "status"]),
        )
        .panel(
            "Connector Health Status",
            Q::value("connector_health").by(&["connector_type"]),
        )
        .panel(
            "Deployment & Promotion Success Rates",
            Q::ratio(deployed, "deployment_total").by(&["ring"]),
        )
        .panel(
            "Promotion gate success rate",
            Q::value("promotion_gate_success_rate").by(&["ring"]),
        )
        .panel(
            "Circuit Breaker State Changes",
            Q::value(open).by(&["connector_type"]),
        )
        .panel("Deployment Duration Percentiles", durations("0.95"))
        .panel("Deployment Duration p99", durations("0.99"))
        .panel("API Response Latency", latency("0.95"))
        .panel("API Response Latency p50", latency("0.5"))
        .panel("API Response Latency p99", latency("0.99"))
        .panel("Celery Task Execution Time", task_time)
        .panel(
            "System Error Rates",
            Q::rate(r#"job_runs_total{result="error"}"#).by(&["job_name"]),
        )
        .panel(
            "Circuit breaker triggers",
            Q::rate("circuit_breaker_failures_total").by(&["connector_type"]),
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
    use obs_runtime::http::{InstrumentatorOptions, ObsLayer, RouteLabel};
    // The team's http_requests_total{method,endpoint,status}; statuses grouped
    // (`5xx`) as the instrumentator writes them, which `status=~"5.."` matches.
    let names = InstrumentatorOptions::default().route_label(RouteLabel::Endpoint);
    Router::new()
        .route(
            "/api/v1/deployments",
            post(create_deployment).get(list_deployments),
        )
        .layer(ObsLayer::new().instrumentator(names))
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
        return obs_runtime::export::write_bundle_with(dir.as_ref(), &export_options());
    }
    let _guard = obs_runtime::Builder::from_env()
        .service_name("eucora-control-plane")
        .service_version(env!("CARGO_PKG_VERSION"))
        .init();
    connect_dependencies();
    start_connector_api().await?;
    tokio::spawn(poll_connectors());
    let port = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|e| std::io::Error::other(format!("PORT={p:?}: {e}")))?,
        Err(_) => 8000,
    };
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    println!("eucora on http://{}", listener.local_addr()?);
    // SIGTERM or Ctrl-C: stop accepting, finish the requests, then the guard flushes.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let stop = async move {
        tokio::select! { _ = term.recv() => {}, _ = tokio::signal::ctrl_c() => {} }
    };
    let service = app().into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(stop)
        .await
}
