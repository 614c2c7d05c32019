//! What a pool says about itself at one instant ([`PoolSnapshot`]), the
//! trait any pool implements to say it ([`PoolStatus`]), and deadpool's
//! four numbers mapped onto it.

use std::fmt;

/// One reading of a connection pool, in the terms of OpenTelemetry's
/// database client metrics: connections `idle` and `used` (their sum is
/// the pool's size), the `max` it may grow to, and the requests `pending`
/// for a connection.
///
/// The numbers need not be consistent with each other (pools read them
/// without one lock, and a custom pool may say anything): they are
/// exposed as given, and nothing here divides by them.
///
/// ```
/// use obs_runtime::pools::PoolSnapshot;
///
/// let s = PoolSnapshot::new(10, 3, 7, 0);
/// assert_eq!((s.max, s.idle, s.used, s.pending), (10, 3, 7, 0));
/// assert_eq!(s.size(), 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PoolSnapshot {
    /// The most connections the pool may hold (`db_client_connection_max`).
    pub max: u64,
    /// Open connections nobody holds (`state="idle"`).
    pub idle: u64,
    /// Open connections handed out (`state="used"`).
    pub used: u64,
    /// Requests waiting for a connection
    /// (`db_client_connection_pending_requests`).
    pub pending: u64,
}

impl PoolSnapshot {
    /// A reading from its four numbers.
    ///
    /// ```
    /// let s = obs_runtime::pools::PoolSnapshot::new(2, 0, 2, 3);
    /// assert_eq!(s.pending, 3);
    /// ```
    #[must_use]
    pub const fn new(max: u64, idle: u64, used: u64, pending: u64) -> Self {
        Self {
            max,
            idle,
            used,
            pending,
        }
    }

    /// The reading of a deadpool pool from its `Status` fields
    /// (`max_size`, `size`, `available`, `waiting`):
    /// `idle = available` (at most `size`), `used = size - idle`,
    /// `pending = waiting`. Saturating: a status read mid-update (an
    /// `available` above `size`) gives `used = 0`, never a wrapped number
    /// or a panic.
    ///
    /// ```
    /// use obs_runtime::pools::PoolSnapshot;
    ///
    /// // max 2, both connections out, three more callers queued.
    /// assert_eq!(PoolSnapshot::from_deadpool(2, 2, 0, 3), PoolSnapshot::new(2, 0, 2, 3));
    /// // An inconsistent status is clamped, not wrapped.
    /// assert_eq!(PoolSnapshot::from_deadpool(2, 1, 5, 0), PoolSnapshot::new(2, 1, 0, 0));
    /// ```
    #[must_use]
    pub fn from_deadpool(max_size: usize, size: usize, available: usize, waiting: usize) -> Self {
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let idle = available.min(size);
        Self::new(
            count(max_size),
            count(idle),
            count(size.saturating_sub(idle)),
            count(waiting),
        )
    }

    /// Open connections, idle and used (saturating).
    ///
    /// ```
    /// assert_eq!(obs_runtime::pools::PoolSnapshot::new(5, 1, 2, 0).size(), 3);
    /// ```
    #[must_use]
    pub const fn size(&self) -> u64 {
        self.idle.saturating_add(self.used)
    }
}

/// A pool whose state can be read at scrape time: implemented for
/// deadpool's Postgres and Redis pools (features `postgres`, `redis`),
/// and by any other pool in a few lines, or through [`from_fn`].
///
/// `status` runs on the scraping thread, inside the scrape: it must be
/// quick and must not block (read counters, never ask the server). A
/// panic in it is caught; the pool is then left out of that scrape.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
/// use obs_runtime::pools::{PoolSnapshot, PoolStatus};
///
/// struct MyPool { open: AtomicU64, busy: AtomicU64 }
///
/// impl PoolStatus for MyPool {
///     fn status(&self) -> PoolSnapshot {
///         let (open, busy) = (self.open.load(Relaxed), self.busy.load(Relaxed));
///         PoolSnapshot::new(16, open.saturating_sub(busy), busy, 0)
///     }
/// }
///
/// let pool = MyPool { open: AtomicU64::new(4), busy: AtomicU64::new(1) };
/// assert_eq!(pool.status().idle, 3);
/// ```
pub trait PoolStatus: Send + Sync {
    /// The pool's state now.
    fn status(&self) -> PoolSnapshot;
}

impl<P: PoolStatus + ?Sized> PoolStatus for std::sync::Arc<P> {
    fn status(&self) -> PoolSnapshot {
        (**self).status()
    }
}

/// A [`PoolStatus`] read by a closure: for a pool type of another crate
/// that this crate does not know.
///
/// ```
/// use obs_runtime::pools::{self, PoolSnapshot, PoolStatus};
///
/// let status = pools::from_fn(|| PoolSnapshot::new(8, 8, 0, 0));
/// assert_eq!(status.status().max, 8);
/// ```
pub fn from_fn<F>(read: F) -> FnStatus<F>
where
    F: Fn() -> PoolSnapshot + Send + Sync,
{
    FnStatus(read)
}

/// The [`PoolStatus`] made by [`from_fn`].
///
/// ```
/// let s: obs_runtime::pools::FnStatus<_> =
///     obs_runtime::pools::from_fn(obs_runtime::pools::PoolSnapshot::default);
/// # let _ = s;
/// ```
pub struct FnStatus<F>(F);

impl<F> fmt::Debug for FnStatus<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnStatus").finish_non_exhaustive()
    }
}

impl<F> PoolStatus for FnStatus<F>
where
    F: Fn() -> PoolSnapshot + Send + Sync,
{
    fn status(&self) -> PoolSnapshot {
        (self.0)()
    }
}

#[cfg(test)]
mod tests {
    use super::PoolSnapshot;

    #[test]
    fn deadpool_mapping() {
        // Idle pool of 2 open connections out of 4.
        assert_eq!(
            PoolSnapshot::from_deadpool(4, 2, 2, 0),
            PoolSnapshot::new(4, 2, 0, 0)
        );
        // Saturated: every connection out, callers queued.
        assert_eq!(
            PoolSnapshot::from_deadpool(2, 2, 0, 3),
            PoolSnapshot::new(2, 0, 2, 3)
        );
        // Half used.
        assert_eq!(
            PoolSnapshot::from_deadpool(10, 6, 4, 0),
            PoolSnapshot::new(10, 4, 2, 0)
        );
        // Nothing open yet.
        assert_eq!(
            PoolSnapshot::from_deadpool(16, 0, 0, 0),
            PoolSnapshot::new(16, 0, 0, 0)
        );
        // A closed deadpool pool reports max_size 0.
        assert_eq!(
            PoolSnapshot::from_deadpool(0, 0, 0, 0),
            PoolSnapshot::default()
        );
    }

    #[test]
    fn odd_statuses_saturate_instead_of_wrapping_or_panicking() {
        // More available than open (read mid-update): idle clamped to size.
        assert_eq!(
            PoolSnapshot::from_deadpool(2, 1, 5, 0),
            PoolSnapshot::new(2, 1, 0, 0)
        );
        // Size above max (a pool resized down while connections are out).
        assert_eq!(
            PoolSnapshot::from_deadpool(1, 3, 0, 0),
            PoolSnapshot::new(1, 0, 3, 0)
        );
        // Extremes.
        let max = usize::MAX;
        let wide = u64::try_from(max).unwrap_or(u64::MAX);
        assert_eq!(
            PoolSnapshot::from_deadpool(max, max, max, max),
            PoolSnapshot::new(wide, wide, 0, wide)
        );
        assert_eq!(
            PoolSnapshot::from_deadpool(0, max, 0, 0),
            PoolSnapshot::new(0, 0, wide, 0)
        );
        assert_eq!(PoolSnapshot::new(0, u64::MAX, u64::MAX, 0).size(), u64::MAX);
    }
}
