//! Wait times: the handle [`register`](super::register) returns, which
//! times any pool's get, and [`TimedGet`], the timed get of the deadpool
//! pools. Pools report how many callers wait, not how long: the time is
//! taken here, around the get.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::registry::Entry;

/// A registered pool: its name, and the timing of its gets for pools this
/// crate has no [`TimedGet`] for. Cheap to clone; it outlives
/// [`unregister`](super::unregister) harmlessly (its waits are still
/// recorded, under the old name).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use obs_runtime::pools::{self, PoolSnapshot};
///
/// let handle = pools::register("doc_handle_pool", pools::from_fn(|| PoolSnapshot::new(4, 4, 0, 0))).unwrap();
/// assert_eq!(handle.name(), "doc_handle_pool");
/// // Time the get of a pool of another crate (here, a ready future).
/// let conn: Result<u32, ()> = handle.timed(async { Ok(7) }).await;
/// assert_eq!(conn, Ok(7));
/// assert!(obs_runtime::encode_text()
///     .contains(r#"db_client_connection_wait_time_seconds_count{pool_name="doc_handle_pool"} 1"#));
/// # }
/// ```
#[derive(Clone)]
pub struct PoolHandle {
    pub(super) entry: Arc<Entry>,
}

impl fmt::Debug for PoolHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolHandle")
            .field("name", &self.entry.name)
            .finish()
    }
}

impl PoolHandle {
    /// The pool's name, its `pool_name` label.
    ///
    /// ```
    /// use obs_runtime::pools::{self, PoolSnapshot};
    /// let h = pools::register("doc_named_pool", pools::from_fn(PoolSnapshot::default)).unwrap();
    /// assert_eq!(h.name(), "doc_named_pool");
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.entry.name
    }

    /// Awaits `get` (a pool's get of a connection) and records how long it
    /// took in `db_client_connection_wait_time_seconds`: when it completes,
    /// with a connection or an error, or when it is dropped unfinished (a
    /// caller that gave up waited too).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::pools::{self, PoolSnapshot};
    /// let h = pools::register("doc_timed_pool", pools::from_fn(PoolSnapshot::default)).unwrap();
    /// let err: Result<(), &str> = h.timed(async { Err("timed out") }).await;
    /// assert!(err.is_err());
    /// # }
    /// ```
    pub async fn timed<F: Future>(&self, get: F) -> F::Output {
        let _timer = WaitTimer::start(Some(Arc::clone(&self.entry)));
        get.await
    }

    /// Records one wait measured elsewhere.
    ///
    /// ```
    /// use obs_runtime::pools::{self, PoolSnapshot};
    /// let h = pools::register("doc_observed_pool", pools::from_fn(PoolSnapshot::default)).unwrap();
    /// h.observe_wait(std::time::Duration::from_millis(3));
    /// assert!(obs_runtime::encode_text()
    ///     .contains(r#"db_client_connection_wait_time_seconds_count{pool_name="doc_observed_pool"} 1"#));
    /// ```
    pub fn observe_wait(&self, waited: Duration) {
        self.entry.wait.observe_duration(waited);
    }
}

/// Records the time since its start as one wait when dropped, so a get
/// cancelled mid-wait counts too.
pub(super) struct WaitTimer {
    entry: Option<Arc<Entry>>,
    start: Instant,
}

impl WaitTimer {
    /// Starts timing a wait of `entry`'s pool; `None` (a pool not
    /// registered) records nothing.
    pub(super) fn start(entry: Option<Arc<Entry>>) -> Self {
        Self {
            entry,
            start: Instant::now(),
        }
    }
}

impl Drop for WaitTimer {
    fn drop(&mut self) {
        if let Some(entry) = &self.entry {
            entry.wait.observe_duration(self.start.elapsed());
        }
    }
}

/// A pool's `get`, timed: the wait lands in
/// `db_client_connection_wait_time_seconds{pool_name}` of the pool's
/// registration (found by the pool's identity, so any clone of a
/// registered pool works), and a Redis pool's outcome sets
/// `redis_connected`. On a pool that is not registered it is a plain
/// `get`.
///
/// Implemented for `deadpool_postgres::Pool` (feature `postgres`) and
/// `deadpool_redis::Pool` (feature `redis`); another pool's get is timed
/// by [`PoolHandle::timed`].
///
/// ```
/// use obs_runtime::pools::TimedGet;
///
/// // With `pools::register("main_db", pool.clone())` done once at start-up:
/// async fn connection<P: TimedGet>(pool: &P) -> Result<P::Connection, P::Error> {
///     pool.timed_get().await
/// }
/// ```
pub trait TimedGet {
    /// What the get hands out.
    type Connection;
    /// Why the get failed.
    type Error;

    /// Gets a connection as the pool's `get` does, timing the wait.
    fn timed_get(&self) -> impl Future<Output = Result<Self::Connection, Self::Error>> + Send;
}
