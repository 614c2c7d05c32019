//! deadpool's Postgres and Redis pools (features `postgres`, `redis`):
//! their status read at scrape time, their timed get, and what tells
//! whether a Redis server answers.

#[cfg(any(feature = "postgres", feature = "redis"))]
use std::future::Future;

#[cfg(any(feature = "postgres", feature = "redis"))]
use super::registry;
#[cfg(any(feature = "postgres", feature = "redis"))]
use super::snapshot::{PoolSnapshot, PoolStatus};
#[cfg(any(feature = "postgres", feature = "redis"))]
use super::timed::{TimedGet, WaitTimer};

/// The identity of a deadpool pool: the address of its manager, which
/// lives in the state every clone of the pool shares. Stable while the
/// registry holds a clone, so two registered pools never share it.
#[cfg(any(feature = "postgres", feature = "redis"))]
pub(super) fn identity<M>(manager: &M) -> usize {
    std::ptr::from_ref(manager).addr()
}

/// Read at scrape time: `Pool::status()` takes the pool's lock for a few
/// loads, and asks nothing of the server.
///
/// ```
/// use obs_runtime::health::deadpool_postgres::{Config, Runtime, tokio_postgres::NoTls};
/// use obs_runtime::pools::PoolStatus;
///
/// let mut config = Config::new();
/// config.dbname = Some("app".to_owned());
/// config.pool = Some(obs_runtime::health::deadpool_postgres::PoolConfig::new(4));
/// let pool = config.create_pool(Some(Runtime::Tokio1), NoTls).unwrap();
/// let status = pool.status();   // deadpool's own `status`
/// let snapshot = PoolStatus::status(&pool);
/// assert_eq!((snapshot.max, snapshot.idle, snapshot.used, snapshot.pending), (4, 0, 0, 0));
/// # let _ = status;
/// ```
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl PoolStatus for deadpool_postgres::Pool {
    fn status(&self) -> PoolSnapshot {
        let s = deadpool_postgres::Pool::status(self);
        PoolSnapshot::from_deadpool(s.max_size, s.size, s.available, s.waiting)
    }
}

/// `get()`, timed into the registration's wait-time histogram.
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl TimedGet for deadpool_postgres::Pool {
    type Connection = deadpool_postgres::Object;
    type Error = deadpool_postgres::PoolError;

    fn timed_get(&self) -> impl Future<Output = Result<Self::Connection, Self::Error>> + Send {
        let entry = registry::find(identity(self.manager()));
        async move {
            let _timer = WaitTimer::start(entry);
            self.get().await
        }
    }
}

/// Read at scrape time, as for Postgres.
///
/// ```
/// use obs_runtime::health::deadpool_redis::{Config, Runtime};
/// use obs_runtime::pools::PoolStatus;
///
/// let pool = Config::from_url("redis://127.0.0.1:1").create_pool(Some(Runtime::Tokio1)).unwrap();
/// assert_eq!(PoolStatus::status(&pool).used, 0);
/// ```
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
impl PoolStatus for deadpool_redis::Pool {
    fn status(&self) -> PoolSnapshot {
        let s = deadpool_redis::Pool::status(self);
        PoolSnapshot::from_deadpool(s.max_size, s.size, s.available, s.waiting)
    }
}

/// `get()`, timed; its outcome also sets `redis_connected`: a connection
/// handed out was pinged (a recycled one) or just opened, so the server
/// answered; a failure other than waiting too long for a free connection
/// means it did not.
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
impl TimedGet for deadpool_redis::Pool {
    type Connection = deadpool_redis::Connection;
    type Error = deadpool_redis::PoolError;

    fn timed_get(&self) -> impl Future<Output = Result<Self::Connection, Self::Error>> + Send {
        let entry = registry::find(identity(self.manager()));
        async move {
            let timer = WaitTimer::start(entry.clone());
            let got = self.get().await;
            drop(timer);
            if let Some(entry) = entry
                && let Some(connected) = reached_server(&got)
            {
                entry.set_connected(connected);
            }
            got
        }
    }
}

/// What a get's outcome says of the server: `None` when it says nothing
/// (every connection was busy until the wait timed out).
#[cfg(feature = "redis")]
fn reached_server<T>(got: &Result<T, deadpool_redis::PoolError>) -> Option<bool> {
    match got {
        Ok(_) => Some(true),
        Err(deadpool_redis::PoolError::Timeout(deadpool_redis::TimeoutType::Wait)) => None,
        Err(_) => Some(false),
    }
}

/// For a Redis pool being registered: a clone to probe once.
#[cfg(feature = "redis")]
pub(super) fn redis_pool(pool: &dyn std::any::Any) -> Option<deadpool_redis::Pool> {
    pool.downcast_ref::<deadpool_redis::Pool>().cloned()
}

/// Makes `redis_connected` known from registration on: hooks the Redis
/// health check (`health::redis`, which readiness probes run every few
/// seconds) to the registry, and runs one `PING` on the caller's tokio
/// runtime when there is one. Nothing polls after that: the gauge is the
/// last outcome of a timed get, a health check or this probe.
#[cfg(feature = "redis")]
pub(super) fn watch_redis(pool: deadpool_redis::Pool) {
    crate::subsystems::health::REDIS_PING_HOOK.get_or_init(|| heard_ping);
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let _ = crate::subsystems::health::redis(&pool).await;
        });
    }
}

#[cfg(feature = "redis")]
fn heard_ping(pool: &deadpool_redis::Pool, connected: bool) {
    if let Some(entry) = registry::find(identity(pool.manager())) {
        entry.set_connected(connected);
    }
}
