//! The example service: an axum app wired the way the README says, shaped
//! like the services obs replaces.
//!
//! ```sh
//! cargo run --example service                # http://127.0.0.1:8080, PORT overrides
//! curl -s localhost:8080/users/7
//! curl -s -X POST localhost:8080/scan
//! curl -s 'localhost:8080/ask?provider=anthropic'
//! curl -s -X POST localhost:8080/orders/42        # an outbound call, then a queued job
//! curl -s localhost:8080/metrics
//! curl -s localhost:8080/readyz
//! cargo run --example service -- --export examples/monitoring   # writes the bundle, then exits
//! ```
//!
//! It needs no server: users live in an embedded in-memory store and the
//! cache is in-process. With `DATABASE_URL` (PostgreSQL) or `REDIS_URL`
//! set, readiness also checks those servers and `/metrics` shows their
//! connection pools (`db_client_connection_*`, `redis_connected`). Logs and traces follow the
//! `OTEL_*` and `OBS_ENV` variables (`OTEL_TRACES_EXPORTER=console` prints
//! spans); without a collector, spans are dropped and counted. It listens
//! on 127.0.0.1 unless `HOST` says otherwise (`0.0.0.0` in a container).
//!
//! `--export <dir>` writes its monitoring bundle (Prometheus, Alertmanager,
//! Collector, Compose and fleet files, see `obs_runtime::export::write_bundle`)
//! and exits without serving; `examples/monitoring/` is that bundle, kept
//! current by `tests/monitoring_bundle.rs`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use obs_runtime::health::{self, CheckError, Observed};
use obs_runtime::metrics::{Counter, Gauge, Histogram};
use obs_runtime::{LabelSet, LabelValue, MetricSet, health_check, instrumented};

// ---- metric sets ------------------------------------------------------

#[derive(LabelValue, Clone, Copy, PartialEq, Eq, Debug, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Provider {
    Ollama,
    Openai,
    Anthropic,
}

#[derive(LabelValue, Clone, Copy)]
enum Direction {
    Input,
    Output,
}

#[derive(LabelSet, Clone, Copy)]
struct TokenLabels {
    provider: Provider,
    direction: Direction,
}

#[derive(LabelValue, Clone, Copy)]
enum BreakerState {
    Closed,
    HalfOpen,
    Open,
}

#[derive(LabelSet, Clone, Copy)]
struct BreakerLabels {
    state: BreakerState,
}

/// What the `/ask` route spends, as the seeds' AI teams count it.
#[derive(MetricSet)]
#[metrics(prefix = "llm")]
struct LlmMetrics {
    /// Tokens sent and received, by provider.
    tokens_total: Counter<TokenLabels>,
    /// The circuit breaker in front of the providers: 1 for its current
    /// state, 0 for the others.
    circuit_breaker_state: Gauge<BreakerLabels>,
}

#[derive(LabelValue, Clone, Copy)]
enum Cache {
    Users,
}

#[derive(LabelSet, Clone, Copy)]
struct CacheLabels {
    cache: Cache,
}

/// The in-process user cache.
#[derive(MetricSet)]
#[metrics(prefix = "cache")]
struct CacheMetrics {
    /// Lookups answered from the cache.
    hits_total: Counter<CacheLabels>,
    /// Lookups that went to the store.
    misses_total: Counter<CacheLabels>,
    /// Entries held.
    entries: Gauge<CacheLabels>,
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

/// Scans and what the policy decided, as the seeds' scanning team counts them.
#[derive(MetricSet)]
#[metrics(prefix = "scan")]
struct ScanMetrics {
    /// Scans run.
    runs_total: Counter,
    /// Policy decisions, by outcome.
    policy_decisions_total: Counter<DecisionLabels>,
    /// Time a policy decision takes, by outcome.
    #[metric(buckets = "latency")]
    decision_seconds: Histogram<DecisionLabels>,
}

// ---- the "database" and the cache ---------------------------------------

#[derive(Clone, serde::Serialize)]
struct User {
    id: u64,
    name: String,
    plan: &'static str,
}

#[derive(Debug)]
struct NotFound(u64);

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no user {}", self.0)
    }
}

fn cache() -> &'static Mutex<HashMap<u64, User>> {
    static CACHE: OnceLock<Mutex<HashMap<u64, User>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The embedded store: users 1 to 10,000 exist.
#[instrumented(metric = "db_query", buckets = "db", labels(table = "users"))]
async fn load_user(id: u64) -> Result<User, NotFound> {
    tokio::time::sleep(Duration::from_micros(200)).await;
    if (1..=10_000).contains(&id) {
        let plan = if id.is_multiple_of(10) { "pro" } else { "free" };
        Ok(User {
            id,
            name: format!("user-{id}"),
            plan,
        })
    } else {
        Err(NotFound(id))
    }
}

// The lookup's objective: 99.5 % of lookups succeed and 99 % finish within
// 250 ms (a bound of the default `latency` buckets); alerts, dashboards and
// docs are generated from it (`--export`).
#[instrumented(
    metric = "user_lookup",
    slo(success = "99.5%", latency = "250ms", percentile = "99%")
)]
async fn find_user(id: u64) -> Result<User, NotFound> {
    let metrics = CacheMetrics::global();
    let labels = CacheLabels {
        cache: Cache::Users,
    };
    if let Some(user) = cache()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&id)
    {
        metrics.hits_total.with(labels).inc();
        return Ok(user.clone());
    }
    metrics.misses_total.with(labels).inc();
    let user = load_user(id).await?;
    let mut cache = cache()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if cache.len() >= 1_000 {
        cache.clear();
    }
    cache.insert(id, user.clone());
    #[allow(clippy::cast_precision_loss)]
    metrics.entries.with(labels).set(cache.len() as f64);
    Ok(user)
}

async fn get_user(Path(id): Path<u64>) -> Result<Json<User>, (StatusCode, String)> {
    find_user(id)
        .await
        .map(Json)
        .map_err(|e| (StatusCode::NOT_FOUND, e.to_string()))
}

// ---- scans ----------------------------------------------------------------

static SCANS: AtomicU64 = AtomicU64::new(0);

#[instrumented(metric = "policy_scan")]
fn scan_document() -> Decision {
    let n = SCANS.fetch_add(1, Relaxed);
    match n % 20 {
        0 => Decision::Deny,
        7 => Decision::Escalate,
        _ => Decision::Allow,
    }
}

async fn scan() -> Json<serde_json::Value> {
    let metrics = ScanMetrics::global();
    metrics.runs_total.inc();
    let started = std::time::Instant::now();
    let decision = scan_document();
    let labels = DecisionLabels { decision };
    metrics
        .decision_seconds
        .with(labels)
        .observe_duration(started.elapsed());
    metrics.policy_decisions_total.with(labels).inc();
    let name = match decision {
        Decision::Allow => "allow",
        Decision::Deny => "deny",
        Decision::Escalate => "escalate",
    };
    Json(serde_json::json!({ "decision": name }))
}

// ---- the "LLM" -------------------------------------------------------------

#[derive(Debug)]
struct ProviderDown;

impl std::fmt::Display for ProviderDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("provider unavailable (circuit open)")
    }
}

static FAILURES: AtomicU32 = AtomicU32::new(0);

fn set_breaker(state: BreakerState) {
    let gauge = &LlmMetrics::global().circuit_breaker_state;
    for s in [
        BreakerState::Closed,
        BreakerState::HalfOpen,
        BreakerState::Open,
    ] {
        let on = std::mem::discriminant(&s) == std::mem::discriminant(&state);
        gauge
            .with(BreakerLabels { state: s })
            .set(if on { 1.0 } else { 0.0 });
    }
}

/// A simulated completion: a few milliseconds, every 25th call fails, and
/// three failures in a row open the breaker for the next call.
#[instrumented(metric = "llm_request", buckets = "ai", labels(provider = provider))]
async fn complete(provider: Provider, prompt_tokens: u64) -> Result<u64, ProviderDown> {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let n = CALLS.fetch_add(1, Relaxed);
    if FAILURES.load(Relaxed) >= 3 {
        FAILURES.store(0, Relaxed);
        set_breaker(BreakerState::HalfOpen);
        return Err(ProviderDown);
    }
    tokio::time::sleep(Duration::from_millis(2 + n % 5)).await;
    if n % 25 == 24 {
        FAILURES.fetch_add(1, Relaxed);
        set_breaker(BreakerState::Open);
        return Err(ProviderDown);
    }
    FAILURES.store(0, Relaxed);
    set_breaker(BreakerState::Closed);
    let tokens = LlmMetrics::global();
    tokens
        .tokens_total
        .with(TokenLabels {
            provider,
            direction: Direction::Input,
        })
        .inc_by(prompt_tokens);
    let answer = 40 + n % 60;
    tokens
        .tokens_total
        .with(TokenLabels {
            provider,
            direction: Direction::Output,
        })
        .inc_by(answer);
    Ok(answer)
}

#[derive(serde::Deserialize)]
struct AskQuery {
    provider: Option<Provider>,
    q: Option<String>,
}

async fn ask(
    Query(query): Query<AskQuery>,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    let provider = query.provider.unwrap_or(Provider::Ollama);
    let prompt_tokens = query
        .q
        .as_deref()
        .map_or(12, |q| 1 + q.split_whitespace().count() as u64);
    match complete(provider, prompt_tokens).await {
        Ok(tokens) => Ok(Json(
            serde_json::json!({ "answer": "42", "tokens": tokens }),
        )),
        Err(e) => Err((StatusCode::SERVICE_UNAVAILABLE, e.to_string())),
    }
}

// ---- health checks -----------------------------------------------------------

static POSTGRES: OnceLock<health::deadpool_postgres::Pool> = OnceLock::new();
static REDIS: OnceLock<health::deadpool_redis::Pool> = OnceLock::new();

/// PostgreSQL when `DATABASE_URL` is set; otherwise the embedded store,
/// which answers a lookup.
#[health_check("database", timeout = "2s")]
async fn database() -> Result<(), CheckError> {
    if let Some(pool) = POSTGRES.get() {
        return health::postgres(pool).await;
    }
    load_user(1)
        .await
        .map(drop)
        .map_err(|e| CheckError::new(e.to_string()))
}

/// Redis when `REDIS_URL` is set; otherwise the in-process cache, which is
/// always there.
#[health_check("cache", timeout = "1s")]
async fn cache_check() -> Result<(), CheckError> {
    match REDIS.get() {
        Some(pool) => health::redis(pool).await,
        None => Ok(()),
    }
}

#[health_check("disk", timeout = "1s", critical = false)]
async fn disk() -> Result<Observed, CheckError> {
    health::disk_space(std::env::temp_dir(), 95.0)
}

#[health_check("memory", kind = "liveness", critical = false)]
async fn memory() -> Result<Observed, CheckError> {
    health::process_memory(2 << 30)
}

fn connect_dependencies() {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let mut config = health::deadpool_postgres::Config::new();
        config.url = Some(url);
        match config.create_pool(
            Some(health::deadpool_postgres::Runtime::Tokio1),
            health::deadpool_postgres::tokio_postgres::NoTls,
        ) {
            Ok(pool) => {
                // Its connections (used, idle, max, waiting) are read at
                // each scrape as db_client_connection_*{pool_name="database"}.
                if let Err(e) = obs_runtime::pools::register("database", pool.clone()) {
                    tracing::warn!("database pool metrics: {e}");
                }
                let _ = POSTGRES.set(pool);
            }
            Err(e) => {
                tracing::warn!("DATABASE_URL unusable ({e}); checking the embedded store instead")
            }
        }
    }
    if let Ok(url) = std::env::var("REDIS_URL") {
        match health::deadpool_redis::Config::from_url(url)
            .create_pool(Some(health::deadpool_redis::Runtime::Tokio1))
        {
            Ok(pool) => {
                // Also redis_connected{pool_name="cache"}.
                if let Err(e) = obs_runtime::pools::register("cache", pool.clone()) {
                    tracing::warn!("cache pool metrics: {e}");
                }
                let _ = REDIS.set(pool);
            }
            Err(e) => {
                tracing::warn!("REDIS_URL unusable ({e}); checking the in-process cache instead")
            }
        }
    }
}

// ---- orders: an outbound call and a background job ------------------------

/// The inventory service the orders route calls: a second axum service in
/// this process, on its own loopback port, under its own `ObsLayer`, so its
/// server span continues the caller's trace (the client layer sends
/// `traceparent`) and its log lines carry the caller's request id.
async fn start_inventory() -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route(
            "/stock/{sku}",
            get(|Path(sku): Path<u32>| async move {
                tracing::info!(sku, "stock looked up");
                Json(serde_json::json!({ "sku": sku, "available": sku % 7 != 0 }))
            }),
        )
        .layer(obs_runtime::http::ObsLayer::new());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("inventory service stopped: {e}");
        }
    });
    Ok(addr)
}

type HttpClient = obs_runtime::client::ObsClientService<
    tower::timeout::Timeout<
        hyper_util::client::legacy::Client<
            hyper_util::client::legacy::connect::HttpConnector,
            http_body_util::Empty<axum::body::Bytes>,
        >,
    >,
>;

/// What the orders route needs: the inventory's address, the measured
/// client, and the receipts queue's sending side.
struct Orders {
    inventory: SocketAddr,
    client: HttpClient,
    receipts: tokio::sync::mpsc::Sender<Receipt>,
}

static ORDERS: OnceLock<Orders> = OnceLock::new();

/// A message on the receipts queue: the order, and the trace context and
/// request id of the request that placed it, as text.
struct Receipt {
    sku: u32,
    carrier: String,
}

/// The receipts queue: `job_*{queue="receipts"}`; created before `--export`
/// too, so the bundle holds the jobs' alerts and panels.
fn receipts_queue() -> &'static obs_runtime::jobs::Queue {
    static QUEUE: OnceLock<obs_runtime::jobs::Queue> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let queue = obs_runtime::jobs::Queue::new("receipts");
        queue.declare("send_receipt");
        queue
    })
}

/// Every outbound call goes through `ObsClientLayer` (outside a 2 s
/// timeout, so a hung inventory is `error_type="timeout"`).
fn http_client() -> HttpClient {
    use tower::Layer as _;
    let inner = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    obs_runtime::client::ObsClientLayer::new()
        .layer(tower::timeout::Timeout::new(inner, Duration::from_secs(2)))
}

/// Starts the inventory service and the receipts worker.
async fn start_orders() -> std::io::Result<()> {
    let inventory = start_inventory().await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Receipt>(1_000);
    let queue = receipts_queue();
    let depth = tx.downgrade();
    queue.depth_from(move || {
        depth
            .upgrade()
            .map_or(0, |s| s.max_capacity() - s.capacity())
    });
    let worker = queue.worker("receipts-1");
    tokio::spawn(async move {
        while let Some(receipt) = rx.recv().await {
            let carrier =
                obs_runtime::jobs::TraceCarrier::parse(&receipt.carrier).unwrap_or_default();
            let sent = receipts_queue()
                .job("send_receipt")
                .carrier(&carrier)
                .worker(&worker)
                .run(send_receipt(receipt.sku))
                .await;
            if let Err(e) = sent {
                tracing::warn!("receipt not sent: {e}");
            }
        }
    });
    let _ = ORDERS.set(Orders {
        inventory,
        client: http_client(),
        receipts: tx,
    });
    Ok(())
}

/// The job: its log line carries the request id of the order's request.
async fn send_receipt(sku: u32) -> Result<(), std::io::Error> {
    tokio::time::sleep(Duration::from_millis(2)).await;
    tracing::info!(sku, "receipt sent");
    Ok(())
}

/// `POST /orders/{sku}`: asks the inventory (an outbound call), then queues
/// the receipt (a background job) and answers at once.
async fn place_order(
    Path(sku): Path<u32>,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    use tower::ServiceExt as _;
    let unavailable = |e: String| (StatusCode::SERVICE_UNAVAILABLE, e);
    let orders = ORDERS
        .get()
        .ok_or_else(|| unavailable("orders are not started".to_owned()))?;
    let request = axum::http::Request::get(format!("http://{}/stock/{sku}", orders.inventory))
        .body(http_body_util::Empty::new())
        .map_err(|e| unavailable(e.to_string()))?;
    let answer = orders
        .client
        .clone()
        .oneshot(request)
        .await
        .map_err(|e| unavailable(format!("inventory: {e}")))?;
    if !answer.status().is_success() {
        return Err(unavailable(format!(
            "inventory answered {}",
            answer.status()
        )));
    }
    let carrier = receipts_queue().enqueue_carrier();
    orders
        .receipts
        .try_send(Receipt {
            sku,
            carrier: carrier.to_string(),
        })
        .map_err(|e| unavailable(format!("receipts queue: {e}")))?;
    Ok(Json(serde_json::json!({ "sku": sku, "status": "placed" })))
}

// ---- main ------------------------------------------------------------------------

/// The service's objectives for its HTTP routes: `/users/{id}` answers
/// 99.9 % of requests without a 5xx and 99 % within 250 ms (a bucket bound
/// of `http_server_request_duration_seconds`, checked at compile time);
/// every other route, 99.5 % without a 5xx, judged route by route. They
/// are declared when the layer is built, so `--export` builds the router
/// first (and `tests/dashboards_prometheus.rs` builds it to see them).
pub(crate) fn layer() -> Result<obs_runtime::http::ObsLayer, obs_runtime::http::RouteObjectiveError>
{
    obs_runtime::http::ObsLayer::new()
        .slo(
            "/users/{id}",
            obs_runtime::slo!(success = "99.9%", latency = "250ms", percentile = "99%"),
        )?
        .default_slo(obs_runtime::slo!(success = "99.5%"))
}

fn app() -> std::io::Result<Router> {
    let routes = Router::new()
        .route("/users/{id}", get(get_user))
        .route("/scan", post(scan).get(scan))
        .route("/ask", get(ask))
        .route("/orders/{sku}", post(place_order))
        // Before `.layer(..)`, so unmatched paths are counted too (under
        // the one route `unmatched`).
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page") });
    // `OBS_EXAMPLE_WITHOUT_LAYER=1` leaves the layer out, only to measure
    // what it costs (scripts/bench-http-example).
    let routes = if std::env::var_os("OBS_EXAMPLE_WITHOUT_LAYER").is_some() {
        routes
    } else {
        routes.layer(layer().map_err(std::io::Error::other)?)
    };
    Ok(routes.merge(obs_runtime::http::routes()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The job Prometheus scrapes the example as, the same on every machine
/// (the default would be the executable's name).
const JOB: &str = "example-service";

/// `--export <dir>`: the bundle's folder, if asked for.
fn export_dir() -> std::io::Result<Option<std::path::PathBuf>> {
    let mut args = std::env::args_os().skip(1);
    match args.next() {
        None => Ok(None),
        Some(flag) if flag == "--export" => match (args.next(), args.next()) {
            (Some(dir), None) => Ok(Some(dir.into())),
            _ => Err(std::io::Error::other("usage: service [--export <dir>]")),
        },
        Some(other) => Err(std::io::Error::other(format!(
            "unknown argument {other:?}; usage: service [--export <dir>]"
        ))),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    if let Some(dir) = export_dir()? {
        // The route objectives are declared by the layer: build it first;
        // the receipts queue and the client layer register their families.
        let _app = app()?;
        let _ = receipts_queue();
        let _client = http_client();
        let options = obs_runtime::export::ExportOptions::default().job(JOB);
        obs_runtime::export::write_bundle_with(&dir, &options)?;
        println!("monitoring bundle of {JOB} written to {}", dir.display());
        return Ok(());
    }
    let _guard = obs_runtime::Builder::from_env()
        .service_name(JOB)
        .service_version(env!("CARGO_PKG_VERSION"))
        .init();
    connect_dependencies();
    start_orders().await?;
    set_breaker(BreakerState::Closed);
    let port = match std::env::var("PORT") {
        Ok(p) => p
            .parse::<u16>()
            .map_err(|e| std::io::Error::other(format!("PORT={p:?}: {e}")))?,
        Err(_) => 8080,
    };
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    let addr = listener.local_addr()?;
    println!("example service on http://{addr}");
    println!(
        "  try    http://{addr}/users/7   http://{addr}/ask?provider=anthropic   POST http://{addr}/scan"
    );
    println!("         POST http://{addr}/orders/42");
    println!("  look   http://{addr}/metrics   http://{addr}/readyz   http://{addr}/livez");
    axum::serve(
        listener,
        app()?.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    println!("example service stopped");
    Ok(())
}
