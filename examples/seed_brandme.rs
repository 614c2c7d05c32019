//! Seed 000, Brand.Me Labs (Observability Phase 4): the garment-provenance
//! platform's metrics, tracing, logging and alert plan on obs.
//! `examples/seeds/seed_brandme.parity` maps every line of the team's
//! document to what here meets it.
//!
//! ```sh
//! cargo run --example seed_brandme                # http://127.0.0.1:8080, PORT overrides
//! curl -s -X POST localhost:8080/scan; curl -s localhost:8080/garments/7
//! curl -s localhost:8080/metrics; curl -s localhost:8080/readyz
//! cargo run --example seed_brandme -- --export <dir>   # rules, dashboards, compose; then exits
//! ```
//!
//! The gateway calls the policy service over HTTP, as Brand.Me's services
//! call each other: here the policy service runs in the same process on
//! its own loopback port, under its own `ObsLayer`, so the call carries the
//! trace (`traceparent`) and the correlation id across. Garments live in an
//! embedded table; with `DATABASE_URL` the database check asks PostgreSQL.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use obs_runtime::export::{Alert, Dashboard, ExportOptions, Query};
use obs_runtime::health::{self, CheckError, Observed};
use obs_runtime::http::{InstrumentatorOptions, ObsLayer, RouteLabel};
use obs_runtime::metrics::{Counter, Gauge, Histogram};
use obs_runtime::{LabelSet, LabelValue, MetricSet, health_check, instrumented};

// ---- metrics: 000 "Metrics Exposed" ------------------------------------------

#[derive(LabelValue, Clone, Copy)]
enum Operation {
    Select,
    Insert,
}

#[derive(LabelSet, Clone, Copy)]
struct OperationLabels {
    operation: Operation,
}

#[derive(LabelValue, Clone, Copy)]
enum TargetService {
    Policy,
}

#[derive(LabelValue, Clone, Copy)]
enum CallStatus {
    Ok,
    Error,
}

#[derive(LabelSet, Clone, Copy)]
struct CallLabels {
    target_service: TargetService,
    status: CallStatus,
}

#[derive(LabelSet, Clone, Copy)]
struct TargetLabels {
    target_service: TargetService,
}

#[derive(LabelValue, Clone, Copy)]
enum Decision {
    Allow,
    Deny,
    Escalate,
}

#[derive(LabelSet, Clone, Copy)]
struct DecisionLabels {
    decision: Decision,
}

/// "Errors by type": `error_type`, as OpenTelemetry's `error.type`.
#[derive(LabelValue, Clone, Copy)]
enum ErrorType {
    NotFound,
    Upstream,
}

#[derive(LabelSet, Clone, Copy)]
struct ErrorLabels {
    error_type: ErrorType,
}

/// The team's names as they are: they already follow the conventions.
#[derive(MetricSet)]
struct Metrics {
    /// Database connections in use.
    db_connections_active: Gauge,
    /// Database query latency, by operation.
    #[metric(buckets = "db")]
    db_query_duration_seconds: Histogram<OperationLabels>,
    /// Calls to other Brand.Me services, by target and outcome.
    service_calls_total: Counter<CallLabels>,
    /// Latency of calls to other Brand.Me services.
    #[metric(buckets = "latency")]
    service_call_duration_seconds: Histogram<TargetLabels>,
    /// Garment scan events.
    scans_total: Counter,
    /// Policy decisions, by decision.
    policy_decisions_total: Counter<DecisionLabels>,
    /// Scans escalated to a human reviewer.
    escalations_total: Counter,
    /// Error occurrences, by type.
    errors_total: Counter<ErrorLabels>,
}

/// The connection pool the alert's threshold is a share of.
const POOL_SIZE: u32 = 20;

// ---- the gateway ----------------------------------------------------------------

/// One statement on the embedded store, timed as the team's histogram.
async fn db(operation: Operation) {
    let m = Metrics::global();
    m.db_connections_active.inc();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_micros(400)).await;
    m.db_query_duration_seconds
        .with(OperationLabels { operation })
        .observe_duration(started.elapsed());
    m.db_connections_active.dec();
}

/// A garment by id: a span (an error span for a missing one).
#[instrumented(labels(table = "garments"))]
async fn query_garment(id: u64) -> Result<serde_json::Value, &'static str> {
    db(Operation::Select).await;
    if id == 0 {
        return Err("no garment 0");
    }
    Ok(serde_json::json!({ "id": id, "brand": "Brand.Me", "provenance": "verified" }))
}

async fn garment(Path(id): Path<u64>) -> Result<Json<serde_json::Value>, StatusCode> {
    query_garment(id).await.map(Json).map_err(|e| {
        let labels = ErrorLabels {
            error_type: ErrorType::NotFound,
        };
        Metrics::global().errors_total.with(labels).inc();
        tracing::warn!("garment lookup failed: {e}");
        StatusCode::NOT_FOUND
    })
}

/// Every call between services goes through obs's middleware: the client
/// span, `traceparent` and `X-Request-ID` on the way out.
fn policy_client() -> &'static reqwest_middleware::ClientWithMiddleware {
    static CLIENT: OnceLock<reqwest_middleware::ClientWithMiddleware> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(obs_runtime::client::ObsMiddleware::new())
            .build()
    })
}

static POLICY_URL: OnceLock<String> = OnceLock::new();

/// `POST /scan`: a garment scan, judged by the policy service.
async fn scan() -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    let m = Metrics::global();
    m.scans_total.inc();
    let url = POLICY_URL.get().map_or("", String::as_str);
    let started = Instant::now();
    let answer = async {
        let response = policy_client().post(format!("{url}/decide")).send().await?;
        let response = response.error_for_status()?;
        Ok::<_, reqwest_middleware::Error>(response.text().await?)
    }
    .await;
    let target_service = TargetService::Policy;
    m.service_call_duration_seconds
        .with(TargetLabels { target_service })
        .observe_duration(started.elapsed());
    let status = if answer.is_ok() {
        CallStatus::Ok
    } else {
        CallStatus::Error
    };
    m.service_calls_total
        .with(CallLabels {
            target_service,
            status,
        })
        .inc();
    let decision = answer.map_err(|e| {
        let labels = ErrorLabels {
            error_type: ErrorType::Upstream,
        };
        m.errors_total.with(labels).inc();
        tracing::error!("policy service: {e}");
        (
            StatusCode::BAD_GATEWAY,
            "policy service unavailable".to_owned(),
        )
    })?;
    db(Operation::Insert).await;
    if decision == "escalate" {
        m.escalations_total.inc();
    }
    tracing::info!(%decision, "scan recorded");
    Ok(Json(serde_json::json!({ "decision": decision })))
}

// ---- the policy service ------------------------------------------------------------

async fn decide() -> &'static str {
    static N: AtomicU64 = AtomicU64::new(0);
    let decision = match N.fetch_add(1, Relaxed) % 10 {
        3 => Decision::Deny,
        7 => Decision::Escalate,
        _ => Decision::Allow,
    };
    Metrics::global()
        .policy_decisions_total
        .with(DecisionLabels { decision })
        .inc();
    let name = match decision {
        Decision::Allow => "allow",
        Decision::Deny => "deny",
        Decision::Escalate => "escalate",
    };
    tracing::info!(decision = name, "policy decided");
    name
}

async fn start_policy() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/decide", post(decide))
        .layer(layer())
        .merge(obs_runtime::http::routes());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}"))
}

// ---- health: the components behind health_check_status ------------------------

static POSTGRES: OnceLock<health::deadpool_postgres::Pool> = OnceLock::new();

/// `SELECT 1` on PostgreSQL with `DATABASE_URL`, else the embedded table.
#[health_check("database", timeout = "2s")]
async fn database() -> Result<(), CheckError> {
    match POSTGRES.get() {
        Some(pool) => health::postgres(pool).await,
        None => query_garment(1).await.map(drop).map_err(CheckError::new),
    }
}

/// The policy service answers its liveness probe.
#[health_check("policy", timeout = "3s")]
async fn policy() -> Result<Observed, CheckError> {
    let url = POLICY_URL
        .get()
        .ok_or_else(|| CheckError::new("not started"))?;
    health::http_get(format!("{url}/health/live")).await
}

fn connect_database() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        return;
    };
    let mut config = health::deadpool_postgres::Config::new();
    config.url = Some(url);
    config.pool = Some(health::deadpool_postgres::PoolConfig::new(
        POOL_SIZE as usize,
    ));
    let tls = health::deadpool_postgres::tokio_postgres::NoTls;
    match config.create_pool(Some(health::deadpool_postgres::Runtime::Tokio1), tls) {
        Ok(pool) => {
            let _ = obs_runtime::pools::register("database", pool.clone());
            let _ = POSTGRES.set(pool);
        }
        Err(e) => tracing::warn!("DATABASE_URL unusable ({e}); checking the embedded table"),
    }
}

// ---- alerts and dashboards: 000 "Alert Rules", "Grafana dashboard creation"

const JOB: &str = "brandme-gateway";

fn export_options() -> ExportOptions {
    let ratio = |bad: &str, total: &str| Query::ratio(bad, total);
    let errors = ratio(
        r#"http_requests_total{status="5xx"}"#,
        "http_requests_total",
    );
    let call_errors = ratio(
        r#"service_calls_total{status="error"}"#,
        "service_calls_total",
    );
    let p95 = |histogram: &str| Query::quantile(histogram, "0.95");
    ExportOptions::default()
        .job(JOB)
        .alert(Alert::above("BrandMeHighErrorRate", errors.clone(), "0.05").for_("5m"))
        .alert(
            Alert::above(
                "BrandMeServiceCallErrors",
                call_errors.by(&["target_service"]),
                "0.05",
            )
            .for_("5m"),
        )
        .alert(
            // 80 % of the pool, as obs's own pool alert.
            Alert::above(
                "BrandMeDbConnectionsHigh",
                Query::value("db_connections_active"),
                "16",
            )
            .for_("5m"),
        )
        .dashboard(
            Dashboard::new("Brand.Me services")
                .panel(
                    "Request rate",
                    Query::rate("http_requests_total").by(&["endpoint"]),
                )
                .panel("Error ratio", errors)
                .panel("p95 latency", p95("http_request_duration_seconds"))
                .panel(
                    "Database connections",
                    Query::value("db_connections_active"),
                )
                .panel(
                    "Database query p95",
                    p95("db_query_duration_seconds").by(&["operation"]),
                )
                .panel(
                    "Service calls",
                    Query::rate("service_calls_total").by(&["status"]),
                )
                .panel("Service call p95", p95("service_call_duration_seconds"))
                .panel("Scans", Query::rate("scans_total"))
                .panel(
                    "Policy decisions",
                    Query::rate("policy_decisions_total").by(&["decision"]),
                )
                .panel("Escalations", Query::rate("escalations_total"))
                .panel(
                    "Errors by type",
                    Query::rate("errors_total").by(&["error_type"]),
                )
                .panel(
                    "Health checks",
                    Query::value("health_check_status").by(&["check"]),
                ),
        )
}

// ---- main ------------------------------------------------------------------------

/// The instrumentator's families as Brand.Me labels them: `endpoint`, and a
/// `service` label on every family (the registry's constant label).
fn layer() -> ObsLayer {
    let options = InstrumentatorOptions::default().route_label(RouteLabel::Endpoint);
    ObsLayer::new().instrumentator(options)
}

fn app() -> Router {
    Router::new()
        .route("/scan", post(scan))
        .route("/garments/{id}", get(garment))
        .layer(layer())
        .merge(obs_runtime::http::routes())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let service = obs_runtime::registry::Exposition::default().constant_label("service", JOB);
    obs_runtime::registry::configure(service).map_err(std::io::Error::other)?;
    let mut args = std::env::args().skip(1);
    if let Some(flag) = args.next() {
        let dir = args.next().filter(|_| flag == "--export");
        let dir =
            dir.ok_or_else(|| std::io::Error::other("usage: seed_brandme [--export <dir>]"))?;
        let _app = app();
        let _client = policy_client();
        obs_runtime::export::write_bundle_with(dir.as_ref(), &export_options())?;
        println!("monitoring bundle of {JOB} written to {dir}");
        return Ok(());
    }
    let _guard = obs_runtime::Builder::from_env()
        .service_name(JOB)
        .service_namespace("brandme")
        .service_version(env!("CARGO_PKG_VERSION"))
        .init();
    connect_database();
    let _ = POLICY_URL.set(start_policy().await?);
    let port =
        std::env::var("PORT").map_or(Ok(8080), |p| p.parse().map_err(std::io::Error::other))?;
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    println!("brandme gateway on http://{}", listener.local_addr()?);
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
