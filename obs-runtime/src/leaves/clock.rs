//! The one clock calls and requests are timed with.

use std::sync::OnceLock;

/// The clock every call is timed with: the CPU's time-stamp counter (or the
/// architecture's equivalent) when it is invariant, calibrated once against
/// the monotonic clock; the monotonic clock otherwise. A reading is one
/// `rdtsc`; only the difference of two is scaled to nanoseconds.
pub(crate) fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}
