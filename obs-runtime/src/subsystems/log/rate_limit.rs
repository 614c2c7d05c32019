//! Per-call-site rate limiting of log events: the first `burst` events of a
//! call site in each `interval` are written, the rest are counted and
//! dropped, and the next event written from that call site is preceded by
//! one summary line saying how many were suppressed.
//!
//! A flood of one repeated event (a missing user requested 20,000 times, a
//! dependency down for every request) then costs a few lines per interval,
//! not one per occurrence, while distinct events are never hidden behind
//! each other. The count of everything suppressed is also exposed as
//! `obs_log_events_suppressed_total`. The HTTP layer's access line
//! (`obs::access`) is not limited: one line per request is what an access
//! log is, and `RUST_LOG=obs::access=off` is how to do without it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use tracing::Metadata;

use crate::metric_core::metrics::Counter;
use crate::metric_core::registry::own_counter;

/// How many events a call site may write per interval.
///
/// ```
/// use std::time::Duration;
/// use obs_runtime::log::RateLimit;
///
/// let limit = RateLimit::new(100, Duration::from_secs(10));
/// assert_eq!(limit.burst(), 100);
/// assert_eq!("20/1s".parse::<RateLimit>().unwrap(), RateLimit::new(20, Duration::from_secs(1)));
/// assert!("often".parse::<RateLimit>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    burst: u32,
    interval: Duration,
}

impl Default for RateLimit {
    /// 100 events per call site every 10 seconds.
    fn default() -> Self {
        Self::new(100, Duration::from_secs(10))
    }
}

impl RateLimit {
    /// The first `burst` events of each call site in every `interval`
    /// (`burst` at least 1, `interval` at least 1 ms).
    #[must_use]
    pub fn new(burst: u32, interval: Duration) -> Self {
        Self {
            burst: burst.max(1),
            interval: interval.max(Duration::from_millis(1)),
        }
    }

    /// Events written per call site and interval.
    #[must_use]
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The length of an interval.
    #[must_use]
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

/// Why a rate limit could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitError(String);

impl std::fmt::Display for RateLimitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid log rate limit {:?}: write `<events>/<interval>` such as `100/10s` (interval in ms, s or m), or `off`",
            self.0
        )
    }
}

impl std::error::Error for RateLimitError {}

impl std::str::FromStr for RateLimit {
    type Err = RateLimitError;

    /// `<events>/<interval>`: `100/10s`, `5/500ms`, `1000/1m`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || RateLimitError(s.to_owned());
        let (burst, interval) = s.trim().split_once('/').ok_or_else(err)?;
        let burst: u32 = burst.trim().parse().map_err(|_| err())?;
        let interval = interval.trim();
        let split = interval
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(err)?;
        let (n, unit) = interval.split_at(split);
        let n: u64 = n.parse().map_err(|_| err())?;
        let interval = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            _ => return Err(err()),
        };
        if burst == 0 || interval.is_zero() {
            return Err(err());
        }
        Ok(Self::new(burst, interval))
    }
}

/// One call site's current interval.
#[derive(Debug)]
struct Window {
    start: Instant,
    written: u32,
    suppressed: u64,
}

/// Call sites are told apart by a hash of their identity; FNV-1a, as the
/// keys are already well spread pointers or short strings.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// At most this many call sites are tracked; beyond it (a program with more
/// distinct log statements than this firing in one interval) windows that
/// have ended are forgotten first, and a new call site is let through.
const MAX_SITES: usize = 4_096;

/// What the limiter decided for one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Write it.
    Write,
    /// Write it, after a line saying `n` events of this call site were
    /// suppressed in the interval before.
    WriteAfterSuppressed(u64),
    /// Drop it.
    Suppress,
}

/// The limiter shared by the clones of a log layer.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: RateLimit,
    /// Whether suppressions count in `obs_log_events_suppressed_total`
    /// (not for a second layer that sees the same events).
    counted: bool,
    sites: Mutex<HashMap<u64, Window, BuildHasherDefault<Fnv>>>,
}

impl RateLimiter {
    pub(crate) fn new(limit: RateLimit, counted: bool) -> Self {
        Self {
            limit,
            counted,
            sites: Mutex::new(HashMap::default()),
        }
    }

    pub(crate) fn limit(&self) -> RateLimit {
        self.limit
    }

    /// The verdict for an event of `meta` (the normalized metadata for
    /// `log` records, whose call site is shared by all records of a level)
    /// at `now`.
    pub(crate) fn check(&self, meta: &Metadata<'_>, normalized: bool, now: Instant) -> Verdict {
        let key = site_key(meta, normalized);
        let mut sites = self.sites.lock().unwrap_or_else(PoisonError::into_inner);
        if sites.len() >= MAX_SITES && !sites.contains_key(&key) {
            let interval = self.limit.interval;
            sites.retain(|_, w| now.duration_since(w.start) < interval);
            if sites.len() >= MAX_SITES {
                return Verdict::Write;
            }
        }
        let window = sites.entry(key).or_insert(Window {
            start: now,
            written: 0,
            suppressed: 0,
        });
        let mut carried = 0;
        if now.duration_since(window.start) >= self.limit.interval {
            carried = window.suppressed;
            *window = Window {
                start: now,
                written: 0,
                suppressed: 0,
            };
        }
        if window.written < self.limit.burst {
            window.written += 1;
            if carried > 0 {
                Verdict::WriteAfterSuppressed(carried)
            } else {
                Verdict::Write
            }
        } else {
            window.suppressed += 1;
            drop(sites);
            if self.counted {
                suppressed_counter().inc();
            }
            Verdict::Suppress
        }
    }
}

fn site_key(meta: &Metadata<'_>, normalized: bool) -> u64 {
    let mut h = Fnv::default();
    if normalized {
        meta.target().hash(&mut h);
        meta.file().hash(&mut h);
        meta.line().hash(&mut h);
        meta.level().hash(&mut h);
    } else {
        meta.callsite().hash(&mut h);
    }
    h.finish()
}

/// `obs_log_events_suppressed_total`.
fn suppressed_counter() -> &'static Counter {
    static SUPPRESSED: OnceLock<&'static Counter> = OnceLock::new();
    own_counter(
        &SUPPRESSED,
        "obs_log_events_suppressed_total",
        "Log events dropped by the per-call-site rate limit.",
    )
}

#[cfg(test)]
// `Duration::from_mins` is newer than the crate's minimum Rust (1.88).
#[allow(clippy::duration_suboptimal_units)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(
            "5/500ms".parse::<RateLimit>().unwrap(),
            RateLimit::new(5, Duration::from_millis(500))
        );
        assert_eq!(
            "1000/1m".parse::<RateLimit>().unwrap(),
            RateLimit::new(1000, Duration::from_secs(60))
        );
        for bad in ["", "10", "0/1s", "10/0s", "10/1h", "x/1s", "10/s", "-1/1s"] {
            let err = bad.parse::<RateLimit>().unwrap_err();
            assert!(err.to_string().contains("100/10s"), "{bad}: {err}");
        }
    }
}
