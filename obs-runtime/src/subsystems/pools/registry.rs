//! The pools of the program: each one's name, how to read it, and what
//! the timed gets and Redis checks last learnt about it.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::leaves::redact;
use crate::metric_core::metrics::HistogramHandle;

use super::metrics;
use super::snapshot::{PoolSnapshot, PoolStatus};

/// Most pools a program may register: each adds a handful of series, and
/// a program has a few pools, not one per tenant.
pub const MAX_POOLS: usize = 64;

/// Longest pool name, in bytes.
pub const MAX_POOL_NAME_LEN: usize = 128;

/// Why [`register`](super::register) refused a pool.
///
/// ```
/// use obs_runtime::pools::{self, PoolSnapshot, RegisterError};
///
/// let err = pools::register("", pools::from_fn(PoolSnapshot::default)).unwrap_err();
/// assert!(matches!(err, RegisterError::InvalidName { .. }));
/// assert!(err.to_string().contains("can't be empty"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterError {
    /// The name breaks a rule of [`check_pool_name`].
    InvalidName {
        /// The rejected name, redacted of anything that looks secret.
        name: String,
        /// The rule it breaks and what to write instead.
        reason: &'static str,
    },
    /// Another pool is registered under this name.
    Duplicate(String),
    /// This very pool (a clone of it) is registered already, under the
    /// name given.
    AlreadyRegistered(String),
    /// [`MAX_POOLS`] pools are registered already.
    TooMany,
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName { name, reason } => write!(f, "invalid pool name {name:?}: {reason}"),
            Self::Duplicate(name) => write!(
                f,
                "a pool named {name:?} is registered already: each pool needs a name of its own (`pool_name` tells them apart), or call `pools::unregister` first"
            ),
            Self::AlreadyRegistered(name) => write!(
                f,
                "this pool is registered already, as {name:?}: one pool is exposed under one name"
            ),
            Self::TooMany => write!(
                f,
                "{MAX_POOLS} pools are registered already: register long-lived pools, not one per tenant or request"
            ),
        }
    }
}

impl std::error::Error for RegisterError {}

/// Checks a pool name, the `pool_name` label of every pool metric: 1 to
/// [`MAX_POOL_NAME_LEN`] bytes of ASCII letters, digits, `_`, `-`, `.`,
/// `:` and `/`, starting with a letter or digit (so OpenTelemetry's
/// suggested `server.address:port/db.namespace` fits), and nothing a
/// connection string would carry: no `@`, no `://`, nothing the redaction
/// detectors would hide.
///
/// ```
/// use obs_runtime::pools::check_pool_name;
///
/// assert!(check_pool_name("main_db").is_ok());
/// assert!(check_pool_name("db.internal:5432/orders").is_ok());
/// assert!(check_pool_name("Main DB").is_err());
/// assert!(check_pool_name("postgres://app:hunter2@db/orders").is_err());
/// ```
///
/// # Errors
/// The rule the name breaks, and what to write instead.
pub fn check_pool_name(name: &str) -> Result<(), &'static str> {
    let b = name.as_bytes();
    let Some(first) = b.first() else {
        return Err("a pool name can't be empty: name the pool, such as \"main_db\"");
    };
    if b.len() > MAX_POOL_NAME_LEN {
        return Err("a pool name may be at most 128 bytes long: shorten it");
    }
    if name.contains("://") || b.contains(&b'@') {
        return Err(
            "a pool name is a label on every pool series, and this one looks like a connection string: name the pool (\"main_db\") or its address (\"db.internal:5432/orders\"), never its URL or credentials",
        );
    }
    if !first.is_ascii_alphanumeric() {
        return Err("a pool name starts with an ASCII letter or digit: write \"main_db\"");
    }
    if !b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':' | b'/'))
    {
        return Err(
            "a pool name is made of ASCII letters, digits, `_`, `-`, `.`, `:` and `/`: write \"main_db\" rather than \"main db\"",
        );
    }
    if redact::redact(name) != name {
        return Err(
            "a pool name leaves the process in every scrape, and this one holds what looks like personal data or a secret: choose a plain name",
        );
    }
    Ok(())
}

/// What the last outcome said of a Redis server.
const UNKNOWN: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

/// One registered pool.
pub(super) struct Entry {
    pub(super) name: Box<str>,
    pool: Box<dyn PoolStatus>,
    /// The address of a deadpool pool's shared state (its manager's), to
    /// find the entry of a pool by a clone of it; `None` for other pools.
    identity: Option<usize>,
    /// A Redis pool, which `redis_connected` is written for.
    pub(super) redis: bool,
    connected: AtomicU8,
    pub(super) wait: HistogramHandle<'static>,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("redis", &self.redis)
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// The pool's state, or `None` when reading it panicked (a poisoned
    /// lock in the pool, a bug in a custom `status`): a scrape never fails
    /// for one pool.
    pub(super) fn read(&self) -> Option<PoolSnapshot> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.pool.status())).ok()
    }

    /// Records whether the server answered.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(super) fn set_connected(&self, connected: bool) {
        self.connected
            .store(if connected { UP } else { DOWN }, Relaxed);
    }

    /// 1 or 0 once an outcome is known.
    pub(super) fn connected(&self) -> Option<f64> {
        match self.connected.load(Relaxed) {
            UP => Some(1.0),
            DOWN => Some(0.0),
            _ => None,
        }
    }
}

static POOLS: RwLock<Vec<Arc<Entry>>> = RwLock::new(Vec::new());

// Every update is one push or one remove: a panic elsewhere under the
// lock can't leave the list half written.
fn read() -> RwLockReadGuard<'static, Vec<Arc<Entry>>> {
    POOLS.read().unwrap_or_else(PoisonError::into_inner)
}

fn write() -> RwLockWriteGuard<'static, Vec<Arc<Entry>>> {
    POOLS.write().unwrap_or_else(PoisonError::into_inner)
}

/// The registered pools, copied out so no pool is read under the lock.
pub(super) fn all() -> Vec<Arc<Entry>> {
    read().clone()
}

/// The entry of the pool whose shared state is at `identity`.
#[cfg_attr(not(any(feature = "postgres", feature = "redis")), allow(dead_code))]
pub(super) fn find(identity: usize) -> Option<Arc<Entry>> {
    read()
        .iter()
        .find(|e| e.identity == Some(identity))
        .cloned()
}

/// What the registry needs to know of a pool beyond its status: its
/// identity and whether it is a Redis pool, for the deadpool pools this
/// crate knows.
fn kind_of(pool: &dyn Any) -> (Option<usize>, bool) {
    #[cfg(feature = "postgres")]
    if let Some(pool) = pool.downcast_ref::<deadpool_postgres::Pool>() {
        return (Some(super::deadpool::identity(pool.manager())), false);
    }
    #[cfg(feature = "redis")]
    if let Some(pool) = pool.downcast_ref::<deadpool_redis::Pool>() {
        return (Some(super::deadpool::identity(pool.manager())), true);
    }
    let _ = pool;
    (None, false)
}

/// Adds a pool; see [`register`](super::register).
pub(super) fn add<P: PoolStatus + 'static>(
    name: &str,
    pool: P,
) -> Result<Arc<Entry>, RegisterError> {
    check_pool_name(name).map_err(|reason| RegisterError::InvalidName {
        name: redact::redact(name).into_owned(),
        reason,
    })?;
    let (identity, redis) = kind_of(&pool);
    let families = metrics::families();
    let mut pools = write();
    if pools.iter().any(|e| &*e.name == name) {
        return Err(RegisterError::Duplicate(name.to_owned()));
    }
    if let Some(other) = pools
        .iter()
        .find(|e| identity.is_some() && e.identity == identity)
    {
        return Err(RegisterError::AlreadyRegistered(other.name.to_string()));
    }
    if pools.len() >= MAX_POOLS {
        return Err(RegisterError::TooMany);
    }
    let entry = Arc::new(Entry {
        name: name.into(),
        pool: Box::new(pool),
        identity,
        redis,
        connected: AtomicU8::new(UNKNOWN),
        // The series exists, at zero, from registration on.
        wait: families.wait.with_values(&[name]),
    });
    pools.push(Arc::clone(&entry));
    Ok(entry)
}

/// Removes the pool named `name`; see [`unregister`](super::unregister).
pub(super) fn remove(name: &str) -> bool {
    let taken = {
        let mut pools = write();
        let at = pools.iter().position(|e| &*e.name == name);
        at.map(|i| pools.remove(i))
    };
    // The pool's clone is dropped here, outside the lock.
    taken.is_some()
}

#[cfg(test)]
mod tests {
    use super::check_pool_name;

    #[test]
    fn pool_names() {
        for good in [
            "main_db",
            "cache",
            "Orders-DB",
            "db.internal:5432/orders",
            "1st",
        ] {
            assert!(check_pool_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "main db",
            "_db",
            "db\n",
            "pool{x}",
            "postgres://app:hunter2@db/orders",
            "app@db",
            "jane.doe@example.com",
            "caché",
            "4111111111111111",
        ] {
            assert!(check_pool_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_pool_name(&"a".repeat(128)).is_ok());
        assert!(check_pool_name(&"a".repeat(129)).is_err());
    }
}
