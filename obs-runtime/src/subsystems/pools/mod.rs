//! Connection pool metrics, named as OpenTelemetry's database client
//! conventions are in Prometheus, read from the pools when `/metrics` is
//! scraped.
//!
#![cfg_attr(
    feature = "postgres",
    doc = r#"
```no_run
use obs_runtime::health::deadpool_postgres::{Config, Runtime, tokio_postgres::NoTls};
use obs_runtime::pools::{self, TimedGet};

# async fn run() -> Result<(), Box<dyn std::error::Error>> {
# let config = Config::new();   // DATABASE_URL's host, dbname, user …
let pool = config.create_pool(Some(Runtime::Tokio1), NoTls)?;
pools::register("main_db", pool.clone())?;   // once, at start-up
let client = pool.timed_get().await?;        // instead of `pool.get()`: the wait is timed
client.simple_query("SELECT 1").await?;
# Ok(()) }
```
"#
)]
//!
//! | metric | type | read |
//! |---|---|---|
//! | `db_client_connection_count{pool_name, state="idle"\|"used"}` | gauge | at scrape time, from the pool |
//! | `db_client_connection_max{pool_name}` | gauge | at scrape time |
//! | `db_client_connection_pending_requests{pool_name}` | gauge | at scrape time |
//! | `db_client_connection_wait_time_seconds{pool_name}` | histogram (the `db` buckets, 0.5 ms … 5 s) | each timed get |
//! | `redis_connected{pool_name}` | gauge, 1 or 0 | the last outcome of a timed get, a `health::redis` check, or the `PING` sent at registration |
//!
//! # Reading a pool
//! Nothing polls the pools: each scrape calls [`PoolStatus::status`] on
//! every registered pool, which for deadpool is `Pool::status()`, a few
//! loads under the pool's own lock. deadpool's numbers map as
//! `idle = available`, `used = size - available`, `pending = waiting`,
//! `max = max_size` ([`PoolSnapshot::from_deadpool`], saturating). Any
//! other pool implements [`PoolStatus`], or passes a closure through
//! [`from_fn`].
//!
//! The registry keeps a clone of each registered pool, so its state can
//! be read; [`unregister`] drops it, and its gauges leave the scrape.
//!
//! # Wait times
//! Pools count their waiting callers but do not time them, so the wait is
//! timed around the get: [`TimedGet::timed_get`] for deadpool pools (any
//! clone of a registered pool finds its registration), or
//! [`PoolHandle::timed`] around another pool's get. A get that fails or is
//! cancelled counts the time it waited: those are the waits that matter.
//!
//! # Is Redis up?
//! A scrape never talks to a server, so `redis_connected` is what the last
//! contact said: a timed get (a connection handed out was pinged by
//! deadpool-redis when recycled, or just opened), every
//! `health::redis` check (which a readiness probe
//! runs every few seconds), and one `PING` sent when the pool is
//! registered inside a tokio runtime. A get that timed out waiting for a
//! free connection says nothing of the server and changes nothing. Until
//! the first contact the series is absent. With neither timed gets nor a
//! health check, the value grows stale: give Redis a readiness check.
//!
//! # Timing queries
//! Pool metrics say how long a connection took to get; a query's own time
//! is `#[instrumented]`'s job. Name the base `db_client_operation` to get
//! OpenTelemetry's `db.client.operation.duration` under the name
//! Prometheus gives it, `db_client_operation_duration_seconds`, with the
//! `db` buckets and the conventions' attributes as literal labels:
//!
//! ```
//! use obs_runtime::instrumented;
//!
//! #[instrumented(
//!     metric = "db_client_operation",
//!     buckets = "db",
//!     labels(db_system_name = "postgresql", db_operation_name = "SELECT", db_collection_name = "users"),
//! )]
//! async fn load_user(id: u64) -> Result<u64, std::io::Error> {
//!     Ok(id)  // client.query_one("SELECT … FROM users WHERE id = $1", &[&id]).await
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! load_user(7).await.unwrap();
//! let text = obs_runtime::encode_text();
//! assert!(text.contains("# TYPE db_client_operation_duration_seconds histogram"));
//! assert!(text.contains("db_client_operation_calls_total{"));
//! # }
//! ```
//!
//! The series also carry `function`, `module` and `result` (`ok`,
//! `error`, …), where the conventions have `error.type`.

mod deadpool;
mod metrics;
mod registry;
mod snapshot;
mod timed;

pub use registry::{MAX_POOL_NAME_LEN, MAX_POOLS, RegisterError, check_pool_name};
pub use snapshot::{FnStatus, PoolSnapshot, PoolStatus, from_fn};
pub use timed::{PoolHandle, TimedGet};

/// Exposes a pool's metrics under `name` (its `pool_name` label) until
/// [`unregister`]: registers the pool families on first use, keeps a clone
/// of the pool to read at every scrape, and creates the pool's wait-time
/// series at zero. Returns the handle that times gets of pools without a
/// [`TimedGet`].
///
/// ```
/// use obs_runtime::pools::{self, PoolSnapshot, RegisterError};
///
/// pools::register("doc_cache_pool", pools::from_fn(|| PoolSnapshot::new(8, 5, 3, 0))).unwrap();
/// let text = obs_runtime::encode_text();
/// assert!(text.contains(r#"db_client_connection_count{pool_name="doc_cache_pool",state="idle"} 5"#));
/// assert!(text.contains(r#"db_client_connection_count{pool_name="doc_cache_pool",state="used"} 3"#));
/// assert!(text.contains(r#"db_client_connection_max{pool_name="doc_cache_pool"} 8"#));
/// assert!(text.contains(r#"db_client_connection_pending_requests{pool_name="doc_cache_pool"} 0"#));
/// assert!(text.contains(r#"db_client_connection_wait_time_seconds_count{pool_name="doc_cache_pool"} 0"#));
///
/// let again = pools::register("doc_cache_pool", pools::from_fn(PoolSnapshot::default));
/// assert!(matches!(again, Err(RegisterError::Duplicate(_))));
/// ```
///
/// # Errors
/// A name that breaks [`check_pool_name`], a name taken by another pool, a
/// deadpool pool registered already (under any name), or more than
/// [`MAX_POOLS`] pools.
pub fn register<P: PoolStatus + 'static>(name: &str, pool: P) -> Result<PoolHandle, RegisterError> {
    #[cfg(feature = "redis")]
    let redis = deadpool::redis_pool(&pool);
    let entry = registry::add(name, pool)?;
    #[cfg(feature = "redis")]
    if let Some(pool) = redis {
        deadpool::watch_redis(pool);
    }
    Ok(PoolHandle { entry })
}

/// Stops exposing the pool named `name` and drops the registry's clone of
/// it; `false` when no pool has that name. Its wait-time series stays (a
/// histogram's counts never go back).
///
/// ```
/// use obs_runtime::pools::{self, PoolSnapshot};
///
/// pools::register("doc_gone_pool", pools::from_fn(PoolSnapshot::default)).unwrap();
/// assert!(pools::unregister("doc_gone_pool"));
/// assert!(!pools::unregister("doc_gone_pool"));
/// assert!(!obs_runtime::encode_text().contains(r#"db_client_connection_max{pool_name="doc_gone_pool"}"#));
/// ```
#[allow(
    clippy::must_use_candidate,
    reason = "a caller closing a pool has no use for the answer"
)]
pub fn unregister(name: &str) -> bool {
    registry::remove(name)
}

/// Registers the pool families (empty until a pool is registered), so the
/// catalog can describe them before any pool exists.
#[allow(dead_code, reason = "for the catalog, which lists obs's own families")]
pub(crate) fn register_metrics() {
    metrics::families();
}
