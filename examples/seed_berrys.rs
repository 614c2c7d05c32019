//! Seed 002, Berrys_AgentsV2's "api-gateway", on obs: every metric, health
//! check, log, trace, alert and dashboard its monitoring guide names
//! (`examples/seeds/seed_berrys.parity` maps each line of the guide to the
//! code here; `tests/seed_berrys.rs` checks them).
//!
//! ```sh
//! cargo run --example seed_berrys                       # http://127.0.0.1:8080, PORT overrides
//! curl -s localhost:8080/users                          # counted, sized, logged with request context
//! curl -s -X POST localhost:8080/process                # process_data, timed, in a span of its own
//! curl -s localhost:8080/call                           # to "other-service", trace context injected
//! curl -s localhost:8080/health                         # check_health(); /readyz/database: one check
//! cargo run --example seed_berrys -- --export /tmp/berrys   # the bundle: rules, dashboards, runbooks
//! cargo run --example obs_deploy -- verify http://127.0.0.1:8080   # the guide's CI/CD verification
//! ```
//!
//! No server is needed: with `DATABASE_URL`, `REDIS_URL` or
//! `BERRYS_API_HEALTH_URL` (and `BERRYS_API_CA_FILE` for a private CA) set,
//! the checks ask those; without, the embedded store, the in-process cache
//! and this service's own `/livez` answer.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use obs_runtime::health::{self, CheckError, Observed};
use obs_runtime::metrics::{Counter, Gauge, Histogram};
use obs_runtime::{LabelSet, LabelValue, MetricSet, health_check, instrumented};
use tracing::Instrument as _;

// ---- metrics (guide: "Metrics Collection") ---------------------------------

#[derive(LabelValue, Clone, Copy)]
enum Endpoint {
    #[label(rename = "/users")]
    Users,
    #[label(rename = "/process")]
    Process,
    #[label(rename = "/call")]
    Call,
}

#[derive(LabelValue, Clone, Copy)]
enum Method {
    #[label(rename = "GET")]
    Get,
    #[label(rename = "POST")]
    Post,
}

#[derive(LabelSet, Clone, Copy)]
struct ApiLabels {
    endpoint: Endpoint,
    method: Method,
}

/// The guide's metrics, named as `increment_counter`, `gauge` and
/// `histogram` name them; `configure_metrics(prefix="berrys_agents")` is
/// the registry's prefix (see `configure_metrics` below).
#[derive(MetricSet)]
struct Berrys {
    /// API requests, by endpoint and method (`increment_counter("api_requests_total", …)`).
    api_requests_total: Counter<ApiLabels>,
    /// Connections being served now (`gauge("active_connections", 42,
    /// {"service": "api-gateway"})`): `service` is a constant label.
    active_connections: Gauge,
    /// Response body sizes (`histogram("response_size_bytes", …)`).
    #[metric(unit = "bytes", buckets = "bytes")]
    response_size_bytes: Histogram<ApiLabels>,
    /// The host's CPU use, 0 to 1, from `/proc/stat` every 5 s. Renamed from
    /// `cpu_usage_percent`: Prometheus measures fractions as ratios (so
    /// `> 0.9`, not `> 90`).
    cpu_usage_ratio: Gauge,
}

/// One connection served: `active_connections` up while it lives.
struct Serving;

impl Serving {
    fn new() -> Self {
        Berrys::global().active_connections.inc();
        Self
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        Berrys::global().active_connections.dec();
    }
}

fn counted(endpoint: Endpoint, method: Method, body: String) -> String {
    let m = Berrys::global();
    let labels = ApiLabels { endpoint, method };
    m.api_requests_total.with(labels).inc();
    #[allow(clippy::cast_precision_loss)]
    m.response_size_bytes
        .with(labels)
        .observe(body.len() as f64);
    body
}

/// `cpu_usage_ratio` from `/proc/stat`'s first line: busy share of the
/// jiffies since the last read (Linux; elsewhere it stays 0).
async fn sample_cpu() {
    let read = || -> Option<(u64, u64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        let idle = fields.get(3)? + fields.get(4).copied().unwrap_or(0);
        Some((fields.iter().sum(), idle))
    };
    let mut last = read();
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let now = read();
        if let (Some((t0, i0)), Some((t1, i1))) = (last, now)
            && t1 > t0
        {
            #[allow(clippy::cast_precision_loss)]
            let busy = 1.0 - (i1.saturating_sub(i0)) as f64 / (t1 - t0) as f64;
            Berrys::global().cpu_usage_ratio.set(busy.clamp(0.0, 1.0));
        }
        last = now;
    }
}

// ---- health checks (guide: "Health Checks") --------------------------------

static POSTGRES: OnceLock<health::deadpool_postgres::Pool> = OnceLock::new();
static REDIS: OnceLock<health::deadpool_redis::Pool> = OnceLock::new();
static SELF_ADDR: OnceLock<SocketAddr> = OnceLock::new();

/// `check_database_connection`: PostgreSQL (`SELECT 1`) with `DATABASE_URL`.
#[health_check("database", timeout = "2s")]
async fn database() -> Result<(), CheckError> {
    match POSTGRES.get() {
        Some(pool) => health::postgres(pool).await,
        None => Ok(()), // the embedded store: always there
    }
}

/// `check_redis_connection`: Redis (`PING`) with `REDIS_URL`.
#[health_check("redis", timeout = "1s")]
async fn redis() -> Result<(), CheckError> {
    match REDIS.get() {
        Some(pool) => health::redis(pool).await,
        None => Ok(()),
    }
}

/// `check_external_service`: `GET` on `BERRYS_API_HEALTH_URL` (2xx passes;
/// `https://` trusts the system's store, or only `BERRYS_API_CA_FILE`'s PEM
/// certificates), else on this service's own `/livez`. Not critical: a
/// third party being down warns instead of taking every replica out of
/// rotation.
#[health_check("api", timeout = "3s", critical = false)]
async fn api() -> Result<Observed, CheckError> {
    let url = match std::env::var("BERRYS_API_HEALTH_URL") {
        Ok(url) => url,
        Err(_) => {
            let addr = SELF_ADDR
                .get()
                .ok_or_else(|| CheckError::new("not listening yet"))?;
            format!("http://{addr}/livez")
        }
    };
    let get = health::http_get(url);
    match std::env::var_os("BERRYS_API_CA_FILE") {
        Some(file) => {
            let pem = std::fs::read(&file).map_err(|e| {
                CheckError::new(format!(
                    "BERRYS_API_CA_FILE {}: {e}",
                    file.to_string_lossy()
                ))
            })?;
            get.ca_pem(pem).await
        }
        None => get.await,
    }
}

fn connect_dependencies() {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let mut config = health::deadpool_postgres::Config::new();
        config.url = Some(url);
        match config.create_pool(
            Some(health::deadpool_postgres::Runtime::Tokio1),
            health::deadpool_postgres::tokio_postgres::NoTls,
        ) {
            Ok(pool) => drop(POSTGRES.set(pool)),
            Err(e) => tracing::warn!("DATABASE_URL unusable: {e}"),
        }
    }
    if let Ok(url) = std::env::var("REDIS_URL") {
        match health::deadpool_redis::Config::from_url(url)
            .create_pool(Some(health::deadpool_redis::Runtime::Tokio1))
        {
            Ok(pool) => drop(REDIS.set(pool)),
            Err(e) => tracing::warn!("REDIS_URL unusable: {e}"),
        }
    }
}

// ---- routes: logging and tracing (guide: "Structured Logging", "Distributed Tracing")

/// `GET /users`: `get_request_logger(request_id, user_id, session_id,
/// ip_address)` is a span: every line below it carries its fields (the
/// request id and trace id come from the layer's span), sanitized —
/// `session_id` is a credential and is written `[REDACTED]`.
async fn users(ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap) -> String {
    let _serving = Serving::new();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("anonymous")
            .to_owned()
    };
    let context = tracing::info_span!(
        "request_context",
        user_id = %header("x-user-id"),
        session_id = %header("x-session-id"),
        ip_address = %peer.ip(),
    );
    context.in_scope(|| tracing::info!("Processing request"));
    counted(
        Endpoint::Users,
        Method::Get,
        r#"[{"id":456,"name":"berry"}]"#.to_owned(),
    )
}

/// `@record_timer("function_execution_time", {"function": "process_data"})`:
/// `berrys_agents_function_execution_duration_seconds{function="process_data"}`
/// (and `_calls_total` by result), with a span. Renamed: an instrumented
/// function's timer is `<metric>_duration_seconds`, its unit in the name,
/// and obs sets `function` itself.
#[instrumented(metric = "function_execution")]
async fn process_data() -> Result<u64, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(3)).await;
    Ok(42)
}

/// `POST /process`: `tracer.start_as_current_span("operation_name",
/// kind=SERVER)` with `span.set_attribute("key", "value")`, and the traced
/// `process_request` inside it.
async fn process() -> String {
    let _serving = Serving::new();
    let span = tracing::info_span!("operation_name", otel.kind = "server", key = "value");
    // Created inside `operation_name`, so it is its child.
    let answer = async {
        process_data()
            .instrument(tracing::info_span!("process_request"))
            .await
    }
    .instrument(span)
    .await
    .unwrap_or_default();
    tracing::debug!("Debug message");
    tracing::info!(answer, "Info message");
    counted(
        Endpoint::Process,
        Method::Post,
        format!("{{\"answer\":{answer}}}"),
    )
}

/// The users service's failure, caused by an I/O error: a chain of two.
#[derive(Debug)]
struct UsersUnavailable(std::io::Error);

impl std::fmt::Display for UsersUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the users service is unavailable")
    }
}

impl std::error::Error for UsersUnavailable {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// `GET /fail`: `logger.error("Error message", exc_info=True)`: the error
/// with its chain in one line's `error` field, and a 500.
async fn fail() -> (StatusCode, &'static str) {
    let error = UsersUnavailable(std::io::Error::other("upstream closed the connection"));
    tracing::warn!("Warning message");
    // obs writes an error field's Display; the cause is a field of its own.
    tracing::error!(error = %error, error.cause = %error.0, "Error message");
    (StatusCode::INTERNAL_SERVER_ERROR, "failed")
}

type Client = reqwest_middleware::ClientWithMiddleware;

static CLIENT: OnceLock<(Client, SocketAddr)> = OnceLock::new();

/// "other-service": a second service in this process on its own port under
/// its own `ObsLayer`, which continues the caller's trace
/// (`extract_context_from_headers`).
async fn start_other_service() -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route(
            "/endpoint",
            get(|| async {
                tracing::info!(service = "other-service", "endpoint called");
                "ok"
            }),
        )
        .layer(obs_runtime::http::ObsLayer::new());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("other-service stopped: {e}");
        }
    });
    Ok(addr)
}

/// `GET /call`: `inject_context_into_headers(headers)` then
/// `requests.get(...)`: the middleware injects `traceparent` and
/// `X-Request-ID`, measures the call and spans it.
async fn call() -> Result<String, (StatusCode, String)> {
    let _serving = Serving::new();
    let (client, other) = CLIENT
        .get()
        .ok_or((StatusCode::SERVICE_UNAVAILABLE, "not started".to_owned()))?;
    let answer = client
        .get(format!("http://{other}/endpoint"))
        .send()
        .await
        .map_err(|e| (StatusCode::BAD_GATEWAY, format!("other-service: {e}")))?;
    let status = answer.status().as_u16();
    Ok(counted(
        Endpoint::Call,
        Method::Get,
        format!("{{\"other_service\":{status}}}"),
    ))
}

fn app() -> Router {
    Router::new()
        .route("/users", get(users))
        .route("/process", post(process))
        .route("/call", get(call))
        .route("/fail", get(fail))
        // Counted too, under the route `unmatched`.
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page") })
        .layer(obs_runtime::http::ObsLayer::new())
        // `/metrics`, `/health` (all checks), `/livez`, `/readyz`,
        // `/readyz/<name>` (`check_health("database")`).
        .merge(obs_runtime::http::routes())
}

// ---- alerts and dashboards (guide: "Alerting", "Dashboard Integration") ----

const JOB: &str = "api-gateway";

/// `configure_metrics(backend=PROMETHEUS, prefix="berrys_agents",
/// default_tags={"environment": …, "service": "api-gateway"})`: every
/// family but `process_*` and `obs_*` is exposed as `berrys_agents_…`
/// (the HTTP and health families too, as the shared package's middleware
/// recorded through the same prefix), and every series carries both tags.
/// The environment is `OBS_ENV`'s (production or development).
fn configure_metrics() -> std::io::Result<()> {
    let environment = match std::env::var("OBS_ENV") {
        Ok(env) if env == "production" => "production",
        _ => "development",
    };
    obs_runtime::registry::configure(
        obs_runtime::registry::Exposition::default()
            .prefix("berrys_agents")
            .constant_label("environment", environment)
            .constant_label("service", JOB),
    )
    .map_err(std::io::Error::other)
}

/// The guide's one rule, and its two named dashboards (the other three
/// are other tools' UIs: see the parity list), beside the generated
/// HTTP, health, process and objective rules and boards.
fn export_options() -> obs_runtime::export::ExportOptions {
    use obs_runtime::export::{Alert, Dashboard, ExportOptions, Query, Severity};
    // AlertRule("high_cpu_usage", "cpu_usage_percent", threshold_above(90),
    // WARNING): at the first evaluation that breaches, as `check(95)`;
    // `cooldown_period` is Alertmanager's repeat_interval.
    let cpu = Alert::above("HighCpuUsage", Query::value("cpu_usage_ratio"), "0.9")
        .severity(Severity::Warning)
        .summary("CPU usage is above 90%")
        .description("The host's CPU use (berrys_agents_cpu_usage_ratio) is above 0.9.")
        .runbook("Which process uses the CPU (top), and whether traffic rose with it.");
    let p95 = |h: &str| Query::quantile(h, "0.95");
    let overview = Dashboard::new("System Overview")
        .panel("Request rate by service", Query::rate("api_requests_total"))
        .panel(
            "p95 latency by service",
            p95("http_server_request_duration_seconds"),
        )
        .panel(
            "Health checks",
            Query::value("health_check_status").by(&["check"]),
        )
        .panel("CPU usage", Query::value("cpu_usage_ratio"));
    let service = Dashboard::new("Service Dashboard")
        .panel(
            "API requests by endpoint",
            Query::rate("api_requests_total").by(&["endpoint", "method"]),
        )
        .panel("Response size p95", p95("response_size_bytes"))
        .panel(
            "process_data p95",
            p95("function_execution_duration_seconds"),
        )
        .panel("Active connections", Query::value("active_connections"))
        .panel(
            "Outbound call p95",
            p95("http_client_request_duration_seconds"),
        );
    ExportOptions::default()
        .job(JOB)
        .alert(cpu)
        .dashboard(overview)
        .dashboard(service)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => drop(s.recv().await),
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {}
        [flag, dir] if flag == "--export" => {
            configure_metrics()?;
            // The families the rules and panels read exist before export.
            let _ = Berrys::global();
            let _ = app();
            let _ = obs_runtime::client::ObsMiddleware::new();
            obs_runtime::export::write_bundle_with(std::path::Path::new(dir), &export_options())?;
            println!("monitoring bundle of {JOB} written to {dir}");
            return Ok(());
        }
        _ => return Err(std::io::Error::other("usage: seed_berrys [--export <dir>]")),
    }
    // Listening first: the `api` check asks this address, and obs runs
    // every check once when the registry is first set up.
    let port = match std::env::var("PORT") {
        Ok(p) => p
            .parse::<u16>()
            .map_err(|e| std::io::Error::other(format!("PORT={p:?}: {e}")))?,
        Err(_) => 8080,
    };
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    let addr = listener.local_addr()?;
    let _ = SELF_ADDR.set(([127, 0, 0, 1], addr.port()).into());
    configure_metrics()?;
    // configure_logging(level=INFO, json_format=True, log_to_console=True,
    // log_file=..., service_name="api-gateway"): RUST_LOG (info),
    // OBS_ENV=production (JSON lines on stdout), OBS_LOG_DIR (files).
    let _guard = obs_runtime::Builder::from_env()
        .service_name(JOB)
        .service_version(env!("CARGO_PKG_VERSION"))
        .init();
    connect_dependencies();
    let other = start_other_service().await?;
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(obs_runtime::client::ObsMiddleware::new())
        .build();
    let _ = CLIENT.set((client, other));
    tokio::spawn(sample_cpu());
    println!("{JOB} on http://{addr}: /users  POST /process  /call  /fail  /health  /metrics");
    axum::serve(
        listener,
        app().into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}
