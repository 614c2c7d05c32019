//! Ready-made checks to call from a `#[health_check]` function: disk space,
//! process memory, and (features `postgres`, `redis`) a round trip to a
//! database or cache over a pool the program owns.

use std::fmt;
use std::path::Path;

use super::Observed;

/// Why a built-in check failed.
///
/// ```
/// let err = obs_runtime::health::CheckError::new("disk full");
/// assert_eq!(err.to_string(), "disk full");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError(String);

impl CheckError {
    /// A failure with its reason.
    #[must_use]
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckError {}

/// The share of the file system holding `path` that is in use, in percent
/// (as `df` counts it: blocks reserved for root are not available); fails
/// when it is above `max_used_percent`.
///
/// ```
/// use obs_runtime::health::{self, CheckError, Observed};
///
/// #[obs_runtime::health_check("doc_disk_space", critical = false)]
/// async fn disk() -> Result<Observed, CheckError> {
///     health::disk_space("/", 95.0)
/// }
///
/// let used = health::disk_space(".", 100.0).unwrap();
/// assert_eq!(used.unit(), "percent");
/// assert!((0.0..=100.0).contains(&used.value()));
/// assert!(health::disk_space("/no/such/dir", 90.0).is_err());
/// ```
///
/// # Errors
/// When usage is above the threshold, or the path can't be examined.
pub fn disk_space(path: impl AsRef<Path>, max_used_percent: f64) -> Result<Observed, CheckError> {
    let path = path.as_ref();
    let (total, available) = fs_space(path).map_err(|e| {
        CheckError(format!(
            "can't read the disk space of {}: {e}",
            path.display()
        ))
    })?;
    if total == 0 {
        return Err(CheckError(format!(
            "{} is on a file system of size zero",
            path.display()
        )));
    }
    #[allow(clippy::cast_precision_loss)]
    let used = (total - available.min(total)) as f64 * 100.0 / total as f64;
    let used = (used * 10.0).round() / 10.0;
    if used > max_used_percent {
        return Err(CheckError(format!(
            "disk usage of {} is {used}%, above the {max_used_percent}% limit",
            path.display()
        )));
    }
    Ok(Observed::new(used, "percent"))
}

/// Sizes of the file system holding a path, in bytes: what `statvfs`
/// says, as `node_exporter` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FsStat {
    /// `f_blocks`: the whole file system.
    pub(crate) size: u64,
    /// `f_bfree`: free, root's reserve included.
    pub(crate) free: u64,
    /// `f_bavail`: free to unprivileged users.
    pub(crate) avail: u64,
}

/// [`FsStat`] of the file system holding `path`.
#[cfg(unix)]
pub(crate) fn fs_stat(path: &Path) -> std::io::Result<FsStat> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "a NUL in the path"))?;
    // SAFETY: `statvfs` writes into the zeroed struct we own and reads the
    // NUL-terminated path, which outlives the call.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &raw mut stat) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[allow(clippy::useless_conversion)]
    let fragment = u64::from(stat.f_frsize);
    #[allow(clippy::useless_conversion)]
    let (blocks, free, available) = (
        u64::from(stat.f_blocks),
        u64::from(stat.f_bfree),
        u64::from(stat.f_bavail),
    );
    Ok(FsStat {
        size: blocks.saturating_mul(fragment),
        free: free.saturating_mul(fragment),
        avail: available.saturating_mul(fragment),
    })
}

#[cfg(not(unix))]
pub(crate) fn fs_stat(_: &Path) -> std::io::Result<FsStat> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "disk space is only measured on Unix",
    ))
}

/// Total and available bytes of the file system holding `path`.
fn fs_space(path: &Path) -> std::io::Result<(u64, u64)> {
    fs_stat(path).map(|s| (s.size, s.avail))
}

/// The resident memory of this process, in bytes; fails above
/// `max_resident_bytes`. Linux only (read from `/proc/self/statm`).
///
/// ```
/// use obs_runtime::health::{self, CheckError, Observed};
///
/// #[obs_runtime::health_check("doc_memory", kind = "liveness", critical = false)]
/// async fn memory() -> Result<Observed, CheckError> {
///     health::process_memory(2 << 30)
/// }
///
/// # if cfg!(target_os = "linux") {
/// let rss = health::process_memory(u64::MAX).unwrap();
/// assert_eq!(rss.unit(), "bytes");
/// assert!(rss.value() > 0.0);
/// assert!(health::process_memory(1).is_err());
/// # }
/// ```
///
/// # Errors
/// When the resident size is above the limit, or can't be read.
pub fn process_memory(max_resident_bytes: u64) -> Result<Observed, CheckError> {
    let resident = resident_bytes()
        .map_err(|e| CheckError(format!("can't read the process's memory use: {e}")))?;
    if resident > max_resident_bytes {
        return Err(CheckError(format!(
            "resident memory is {resident} bytes, above the {max_resident_bytes}-byte limit"
        )));
    }
    #[allow(clippy::cast_precision_loss)]
    Ok(Observed::new(resident as f64, "bytes"))
}

#[cfg(target_os = "linux")]
fn resident_bytes() -> std::io::Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| std::io::Error::other("unexpected /proc/self/statm"))?;
    // SAFETY: `sysconf` only reads a configuration value.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let page = u64::try_from(page).unwrap_or(4_096);
    Ok(pages * page)
}

#[cfg(not(target_os = "linux"))]
fn resident_bytes() -> std::io::Result<u64> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "process memory is only measured on Linux",
    ))
}

/// The pool crate [`postgres`] takes, re-exported so its version always
/// matches.
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use deadpool_postgres;

/// Runs `SELECT 1` over a connection from the pool. The pool's connection
/// string never reaches the report; error texts are redacted of passwords
/// anyway.
///
/// ```no_run,standalone_crate
/// use std::sync::OnceLock;
/// use obs_runtime::health::{self, CheckError, deadpool_postgres::Pool};
///
/// static DB: OnceLock<Pool> = OnceLock::new();
///
/// #[obs_runtime::health_check("database", timeout = "2s")]
/// async fn database() -> Result<(), CheckError> {
///     let pool = DB.get().ok_or_else(|| CheckError::new("no pool yet"))?;
///     health::postgres(pool).await
/// }
/// ```
///
/// # Errors
/// When no connection can be had or the query fails.
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub async fn postgres(pool: &deadpool_postgres::Pool) -> Result<(), CheckError> {
    let client = pool
        .get()
        .await
        .map_err(|e| CheckError(format!("no connection to PostgreSQL: {e}")))?;
    client
        .simple_query("SELECT 1")
        .await
        .map_err(|e| CheckError(format!("PostgreSQL did not answer `SELECT 1`: {e}")))?;
    Ok(())
}

/// The pool crate [`redis`] takes, re-exported so its version always
/// matches.
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use deadpool_redis;

/// Sends `PING` over a connection from the pool and expects `PONG`.
///
/// ```no_run,standalone_crate
/// use std::sync::OnceLock;
/// use obs_runtime::health::{self, CheckError, deadpool_redis::Pool};
///
/// static CACHE: OnceLock<Pool> = OnceLock::new();
///
/// #[obs_runtime::health_check("redis", timeout = "1s")]
/// async fn redis() -> Result<(), CheckError> {
///     let pool = CACHE.get().ok_or_else(|| CheckError::new("no pool yet"))?;
///     health::redis(pool).await
/// }
/// ```
///
/// # Errors
/// When no connection can be had or the answer is not `PONG`.
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub async fn redis(pool: &deadpool_redis::Pool) -> Result<(), CheckError> {
    let hear = |connected: bool| {
        if let Some(hook) = REDIS_PING_HOOK.get() {
            hook(pool, connected);
        }
    };
    let mut conn = match pool.get().await {
        Ok(conn) => conn,
        Err(e) => {
            // Every connection busy says nothing of the server.
            if !matches!(
                e,
                deadpool_redis::PoolError::Timeout(deadpool_redis::TimeoutType::Wait)
            ) {
                hear(false);
            }
            return Err(CheckError(format!("no connection to Redis: {e}")));
        }
    };
    let pong: Result<String, _> = deadpool_redis::redis::cmd("PING")
        .query_async(&mut conn)
        .await;
    hear(pong.is_ok());
    let pong = pong.map_err(|e| CheckError(format!("Redis did not answer `PING`: {e}")))?;
    if pong != "PONG" {
        return Err(CheckError(format!(
            "Redis answered `PING` with {pong:?} instead of \"PONG\""
        )));
    }
    Ok(())
}

/// Told the outcome of each [`redis`] check that says whether the server
/// answers: `pools`, a layer above, installs itself here to keep
/// `redis_connected` current without health knowing of it.
#[cfg(feature = "redis")]
pub(crate) static REDIS_PING_HOOK: std::sync::OnceLock<fn(&deadpool_redis::Pool, bool)> =
    std::sync::OnceLock::new();
