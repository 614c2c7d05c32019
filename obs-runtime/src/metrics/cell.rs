//! The atomic storage behind every series. Updates are relaxed atomic adds
//! and stores: no lock, no allocation, no formatting.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// One counter series.
#[derive(Debug, Default)]
pub(crate) struct CounterCell(AtomicU64);

impl CounterCell {
    pub(crate) const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// One gauge series: an `f64` kept as its bits.
#[derive(Debug, Default)]
pub(crate) struct GaugeCell(AtomicU64);

impl GaugeCell {
    pub(crate) const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    #[inline]
    pub(crate) fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Relaxed);
    }

    #[inline]
    pub(crate) fn add(&self, delta: f64) {
        // A gauge has no integer fast path: its value may be any f64.
        let _ = self.0.fetch_update(Relaxed, Relaxed, |bits| {
            Some((f64::from_bits(bits) + delta).to_bits())
        });
    }

    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Relaxed))
    }
}

/// The bucket layout shared by every series of one histogram.
#[derive(Debug)]
pub(crate) struct Bounds {
    /// Upper bounds in the metric's unit, strictly increasing, `+Inf` implied.
    pub(crate) upper: Box<[f64]>,
    /// The same bounds in integer nanoseconds, for durations.
    upper_ns: Box<[u64]>,
}

impl Bounds {
    // Bounds are positive (the schema checks), and the saturating
    // float-to-int conversion is what we want past u64 nanoseconds.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub(crate) fn new(upper: &[f64]) -> Self {
        let upper_ns = upper.iter().map(|b| (b * 1e9).ceil() as u64).collect();
        Self {
            upper: upper.into(),
            upper_ns,
        }
    }

    /// Index of the bucket a value falls in (`le` is inclusive).
    #[inline]
    fn index(&self, v: f64) -> usize {
        self.upper.partition_point(|b| *b < v)
    }

    #[inline]
    fn index_ns(&self, ns: u64) -> usize {
        self.upper_ns.partition_point(|b| *b < ns)
    }
}

/// One histogram series. Bucket counts are stored per bucket (not
/// cumulative) so an observation touches one counter; the count of the
/// series is their sum. Durations add integer nanoseconds to `sum_ns`, other
/// values add to the `f64` sum in `sum_bits`.
#[derive(Debug)]
pub(crate) struct HistogramCell {
    counts: Box<[AtomicU64]>,
    sum_ns: AtomicU64,
    sum_bits: AtomicU64,
}

/// A consistent-enough reading of one histogram series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistogramSnapshot {
    /// Cumulative counts, one per bound, then `+Inf`.
    pub(crate) cumulative: Vec<u64>,
    pub(crate) sum: f64,
}

impl HistogramSnapshot {
    pub(crate) fn count(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }
}

impl HistogramCell {
    pub(crate) fn new(bounds: &Bounds) -> Self {
        Self {
            counts: (0..=bounds.upper.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            sum_ns: AtomicU64::new(0),
            sum_bits: AtomicU64::new(0),
        }
    }

    #[inline]
    pub(crate) fn observe(&self, bounds: &Bounds, v: f64) {
        if v.is_nan() {
            // NaN falls in no bucket and would poison the sum for good.
            return;
        }
        self.counts[bounds.index(v)].fetch_add(1, Relaxed);
        let _ = self.sum_bits.fetch_update(Relaxed, Relaxed, |bits| {
            Some((f64::from_bits(bits) + v).to_bits())
        });
    }

    #[inline]
    pub(crate) fn observe_ns(&self, bounds: &Bounds, ns: u64) {
        self.counts[bounds.index_ns(ns)].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
    }

    pub(crate) fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Relaxed)).sum()
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0u64;
        let cumulative = self
            .counts
            .iter()
            .map(|c| {
                running = running.wrapping_add(c.load(Relaxed));
                running
            })
            .collect();
        // Nanoseconds convert exactly up to 2^53 ns (104 days of summed time).
        #[allow(clippy::cast_precision_loss)]
        let sum =
            self.sum_ns.load(Relaxed) as f64 * 1e-9 + f64::from_bits(self.sum_bits.load(Relaxed));
        HistogramSnapshot { cumulative, sum }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_inclusive_upper_bounds() {
        let b = Bounds::new(&[0.1, 1.0]);
        let h = HistogramCell::new(&b);
        for v in [0.05, 0.1, 0.5, 1.0, 7.0] {
            h.observe(&b, v);
        }
        let s = h.snapshot();
        assert_eq!(s.cumulative, vec![2, 4, 5]);
        assert!((s.sum - 8.65).abs() < 1e-9);
        h.observe(&b, f64::NAN);
        assert_eq!(h.count(), 5);
    }

    #[test]
    fn nanosecond_observations_use_the_same_bounds() {
        let b = Bounds::new(&[0.001, 0.01]);
        let h = HistogramCell::new(&b);
        h.observe_ns(&b, 1_000_000); // exactly 1 ms: in the first bucket
        h.observe_ns(&b, 1_000_001);
        h.observe_ns(&b, 20_000_000);
        let s = h.snapshot();
        assert_eq!(s.cumulative, vec![1, 2, 3]);
        assert!((s.sum - 0.022_000_001).abs() < 1e-12);
    }

    #[test]
    fn gauge_adds_and_sets() {
        let g = GaugeCell::new();
        g.add(1.5);
        g.add(-0.5);
        assert!((g.get() - 1.0).abs() < f64::EPSILON);
        g.set(-3.0);
        assert!((g.get() + 3.0).abs() < f64::EPSILON);
    }
}
