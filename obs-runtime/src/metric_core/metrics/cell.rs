//! The atomic storage behind every series. Updates are relaxed atomic adds
//! and stores: no lock, no allocation, no formatting.

use std::cell::Cell;
use std::sync::OnceLock;

use super::exemplar::{self, Exemplars, Recorded, TraceIds};
use crate::leaves::sync::AtomicU64;
use crate::metric_core::encode::HistogramSnapshot;
use std::sync::atomic::Ordering::Relaxed;

/// One counter series, and the exemplar of its last increment made inside
/// a sampled span.
#[derive(Debug, Default)]
pub(crate) struct CounterCell {
    value: AtomicU64,
    exemplar: Exemplars,
}

impl CounterCell {
    pub(crate) fn new() -> Self {
        Self {
            value: AtomicU64::new(0),
            exemplar: Exemplars::new(),
        }
    }

    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.value.fetch_add(n, Relaxed);
    }

    /// [`add`](Self::add), keeping the increment as the exemplar when it
    /// is made inside a sampled span.
    #[inline]
    pub(crate) fn add_traced(&self, n: u64) {
        self.add(n);
        if let Some(ids) = exemplar::sampled() {
            #[allow(clippy::cast_precision_loss)]
            self.exemplar.record(1, 0, ids, n as f64);
        }
    }

    pub(crate) fn get(&self) -> u64 {
        self.value.load(Relaxed)
    }

    /// The exemplar of the last increment made in a sampled span.
    pub(crate) fn exemplar(&self) -> Option<Recorded> {
        self.exemplar.get(0)
    }
}

/// One gauge series: an `f64` kept as its bits.
#[derive(Debug, Default)]
pub(crate) struct GaugeCell(AtomicU64);

impl GaugeCell {
    pub(crate) fn new() -> Self {
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
    ///
    /// A linear scan from the smallest bound, not a binary search: a list
    /// has at most 32 bounds (the schema's limit), latencies mostly fall in
    /// the first buckets, where the scan stops after one or two compares,
    /// and a wrong guess costs one branch miss either way. Client libraries
    /// of other languages make the same choice for short lists.
    #[inline]
    fn index(&self, v: f64) -> usize {
        self.upper
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(self.upper.len())
    }

    #[inline]
    fn index_ns(&self, ns: u64) -> usize {
        self.upper_ns
            .iter()
            .position(|b| ns <= *b)
            .unwrap_or(self.upper_ns.len())
    }
}

/// Slots in one cache-line pair: two lines, because the adjacent-line
/// prefetcher of x86 pulls lines in pairs, so two shards in neighbouring
/// lines would still bounce between cores.
const SLOTS_PER_BLOCK: usize = 16;

/// 128 bytes of counters, aligned so no two shards share a line pair.
#[derive(Debug)]
#[repr(align(128))]
struct Block([AtomicU64; SLOTS_PER_BLOCK]);

impl Block {
    fn new() -> Self {
        Self(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

/// How many shards a histogram is split into: the number of cores rounded
/// up to a power of two, at most 8. Two threads that record into the same
/// histogram at once then write to different cache lines (as long as they
/// have different [`thread_index`] modulo the shard count), instead of
/// bouncing one line between their cores at ~30 ns a write.
fn shard_count() -> usize {
    static SHARDS: OnceLock<usize> = OnceLock::new();
    *SHARDS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .clamp(1, 8)
            .next_power_of_two()
    })
}

/// A small number per thread, handed out in the order threads first record,
/// so threads started together get consecutive numbers and land in
/// different shards. A constant-initialised thread-local of a `Copy` type:
/// one load from the thread's own segment, no lazy-init check on the path.
/// Under loom (`--cfg obs_loom`) both are loom's, so each model execution
/// hands out indexes afresh, in the order its threads first record.
#[inline]
fn thread_index() -> usize {
    #[cfg(not(obs_loom))]
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    #[cfg(not(obs_loom))]
    thread_local! {
        static INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    #[cfg(obs_loom)]
    loom::lazy_static! {
        static ref NEXT: loom::sync::atomic::AtomicUsize = loom::sync::atomic::AtomicUsize::new(0);
    }
    #[cfg(obs_loom)]
    loom::thread_local! {
        static INDEX: Cell<usize> = Cell::new(usize::MAX);
    }
    INDEX.with(|i| {
        let v = i.get();
        if v != usize::MAX {
            return v;
        }
        let v = NEXT.fetch_add(1, Relaxed);
        i.set(v);
        v
    })
}

/// A count that goes up and down by whole steps, such as requests in
/// flight, split in shards like [`HistogramCell`]: an increment and the
/// matching decrement are each one relaxed add on the calling thread's own
/// line, where an `f64` gauge needs a compare-and-swap loop on a line every
/// thread shares. Shards hold two's-complement deltas; only their sum means
/// anything, so a decrement may run on another thread than its increment.
// Only the HTTP layer (feature `tower`) steps one so far.
#[cfg_attr(not(feature = "tower"), allow(dead_code))]
#[derive(Debug)]
pub(crate) struct UpDownCell {
    shards: Box<[Block]>,
    mask: usize,
}

#[cfg_attr(not(feature = "tower"), allow(dead_code))]
impl UpDownCell {
    pub(crate) fn new() -> Self {
        Self::with_shards(shard_count())
    }

    /// A cell of `shards` shards (a power of two); [`new`](Self::new)
    /// takes [`shard_count`], a loom model a count of its own.
    pub(crate) fn with_shards(shards: usize) -> Self {
        Self {
            shards: (0..shards).map(|_| Block::new()).collect(),
            mask: shards.saturating_sub(1),
        }
    }

    /// The calling thread's shard; never `None`, as `mask` is the shard
    /// count minus one (checked like an index, without a panic path).
    #[inline]
    fn mine(&self) -> Option<&AtomicU64> {
        self.shards
            .get(thread_index() & self.mask)
            .map(|block| &block.0[0])
    }

    #[inline]
    pub(crate) fn inc(&self) {
        if let Some(shard) = self.mine() {
            shard.fetch_add(1, Relaxed);
        }
    }

    #[inline]
    pub(crate) fn dec(&self) {
        if let Some(shard) = self.mine() {
            shard.fetch_sub(1, Relaxed);
        }
    }

    /// The sum of the shards.
    #[allow(clippy::cast_possible_wrap)]
    pub(crate) fn get(&self) -> i64 {
        self.shards
            .iter()
            .fold(0u64, |acc, b| acc.wrapping_add(b.0[0].load(Relaxed))) as i64
    }
}

/// One histogram series, split in shards (see [`shard_count`]). Each shard
/// holds, in one or more 128-byte blocks, the nanosecond sum, the `f64` sum
/// (as bits) and one count per bucket; bucket counts are per bucket, not
/// cumulative, so an observation touches one count and one sum, both in the
/// same line. Readers add the shards up: the count of the series is the sum
/// of every shard's buckets. With 11 bounds a shard is one block.
#[derive(Debug)]
pub(crate) struct HistogramCell {
    blocks: Box<[Block]>,
    /// Blocks per shard.
    stride: usize,
    /// Shard count minus one (a power of two minus one).
    mask: usize,
    /// Bucket counts, `+Inf` included.
    buckets: usize,
    /// The last observation of each bucket made inside a sampled span.
    exemplars: Exemplars,
}

const SUM_NS: usize = 0;
const SUM_BITS: usize = 1;
const FIRST_BUCKET: usize = 2;

impl HistogramCell {
    pub(crate) fn new(bounds: &Bounds) -> Self {
        Self::with_shards(bounds, shard_count())
    }

    /// A series of `shards` shards (a power of two); [`new`](Self::new)
    /// takes [`shard_count`], a loom model a count of its own.
    pub(crate) fn with_shards(bounds: &Bounds, shards: usize) -> Self {
        let buckets = bounds.upper.len() + 1;
        let stride = (FIRST_BUCKET + buckets).div_ceil(SLOTS_PER_BLOCK);
        Self {
            blocks: (0..shards * stride).map(|_| Block::new()).collect(),
            stride,
            mask: shards.saturating_sub(1),
            buckets,
            exemplars: Exemplars::new(),
        }
    }

    /// Slot `i` of `shard`. Never `None` for a shard up to `mask` and a
    /// slot below `FIRST_BUCKET + buckets`, which `new` allocates: checked
    /// like an index, without a panic path.
    #[inline]
    fn slot(&self, shard: usize, i: usize) -> Option<&AtomicU64> {
        let block = self.blocks.get(shard * self.stride + i / SLOTS_PER_BLOCK)?;
        block.0.get(i % SLOTS_PER_BLOCK)
    }

    /// Sum of slot `i` over the shards.
    fn total(&self, i: usize) -> u64 {
        (0..=self.mask).fold(0u64, |acc, s| {
            acc.wrapping_add(self.slot(s, i).map_or(0, |slot| slot.load(Relaxed)))
        })
    }

    /// [`observe_traced`](Self::observe_traced) without the exemplar, for
    /// the models and tests of the cell itself.
    #[cfg(test)]
    #[inline]
    pub(crate) fn observe(&self, bounds: &Bounds, v: f64) {
        if v.is_nan() {
            // NaN falls in no bucket and would poison the sum for good.
            return;
        }
        self.observe_at(bounds.index(v), v);
    }

    /// [`observe`](Self::observe), keeping the value as its bucket's
    /// exemplar when it is made inside a sampled span.
    #[inline]
    pub(crate) fn observe_traced(&self, bounds: &Bounds, v: f64) {
        if v.is_nan() {
            return;
        }
        let bucket = bounds.index(v);
        self.observe_at(bucket, v);
        if let Some(ids) = exemplar::sampled() {
            self.exemplars.record(self.buckets, bucket, ids, v);
        }
    }

    #[inline]
    fn observe_at(&self, bucket: usize, v: f64) {
        let shard = thread_index() & self.mask;
        if let Some(count) = self.slot(shard, FIRST_BUCKET + bucket) {
            count.fetch_add(1, Relaxed);
        }
        if let Some(sum) = self.slot(shard, SUM_BITS) {
            let _ = sum.fetch_update(Relaxed, Relaxed, |bits| {
                Some((f64::from_bits(bits) + v).to_bits())
            });
        }
    }

    #[inline]
    pub(crate) fn observe_ns(&self, bounds: &Bounds, ns: u64) {
        self.observe_ns_at(bounds.index_ns(ns), ns);
    }

    #[inline]
    fn observe_ns_at(&self, bucket: usize, ns: u64) {
        let shard = thread_index() & self.mask;
        if let Some(count) = self.slot(shard, FIRST_BUCKET + bucket) {
            count.fetch_add(1, Relaxed);
        }
        if let Some(sum) = self.slot(shard, SUM_NS) {
            sum.fetch_add(ns, Relaxed);
        }
    }

    /// [`observe_ns`](Self::observe_ns) made inside the sampled span `ids`:
    /// the duration (in seconds) becomes its bucket's exemplar.
    #[inline]
    pub(crate) fn observe_ns_exemplar(&self, bounds: &Bounds, ns: u64, ids: TraceIds) {
        let bucket = bounds.index_ns(ns);
        self.observe_ns_at(bucket, ns);
        #[allow(clippy::cast_precision_loss)]
        self.exemplars
            .record(self.buckets, bucket, ids, ns as f64 / 1e9);
    }

    /// The exemplars of the buckets, `+Inf` last; empty when none was ever
    /// kept.
    pub(crate) fn exemplars(&self) -> Vec<Option<Recorded>> {
        if !self.exemplars.any() {
            return Vec::new();
        }
        (0..self.buckets).map(|b| self.exemplars.get(b)).collect()
    }

    pub(crate) fn count(&self) -> u64 {
        (0..self.buckets).fold(0u64, |acc, b| {
            acc.wrapping_add(self.total(FIRST_BUCKET + b))
        })
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let mut snap = HistogramSnapshot::default();
        self.snapshot_into(&mut snap);
        snap
    }

    /// Reads the series into `snap`, reusing its buffer.
    pub(crate) fn snapshot_into(&self, snap: &mut HistogramSnapshot) {
        snap.cumulative.clear();
        let mut running = 0u64;
        for b in 0..self.buckets {
            running = running.wrapping_add(self.total(FIRST_BUCKET + b));
            snap.cumulative.push(running);
        }
        // Nanoseconds convert exactly up to 2^53 ns (104 days of summed
        // time); dividing by the exact 1e9, not multiplying by the inexact
        // 1e-9, gives the nearest double, so 53 ms prints as 0.053.
        #[allow(clippy::cast_precision_loss)]
        let ns = self.total(SUM_NS) as f64 / 1e9;
        let float: f64 = (0..=self.mask)
            .filter_map(|s| self.slot(s, SUM_BITS))
            .map(|slot| f64::from_bits(slot.load(Relaxed)))
            .sum();
        snap.sum = ns + float;
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
        let h = HistogramCell::new(&b);
        h.observe_ns(&b, 53_000_000);
        assert_eq!(
            h.snapshot().sum.to_string(),
            "0.053",
            "no float noise in the exposition"
        );
    }

    #[test]
    fn shards_add_up_exactly_across_threads() {
        let b = Bounds::new(&[0.001, 0.01]);
        let h = HistogramCell::new(&b);
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let (h, b) = (&h, &b);
                s.spawn(move || {
                    for _ in 0..10_000 {
                        h.observe_ns(b, 1_000_000 * t);
                        h.observe(b, 0.5);
                    }
                });
            }
        });
        let snap = h.snapshot();
        assert_eq!(h.count(), 80_000);
        // t = 0 and 1 ms land in the first bucket, 2 and 3 ms in the
        // second, every 0.5 s in +Inf.
        assert_eq!(snap.cumulative, vec![20_000, 40_000, 80_000]);
        assert!((snap.sum - (60.0 + 40_000.0 * 0.5)).abs() < 1e-6);
    }

    #[test]
    fn up_down_counts_sum_across_threads_even_when_a_decrement_moves() {
        let c = UpDownCell::new();
        c.dec();
        assert_eq!(
            c.get(),
            -1,
            "below zero reads as negative, not as a huge count"
        );
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        c.inc();
                    }
                });
            }
        });
        // Every increment undone on this thread, whatever shard it went to.
        for _ in 0..40_000 {
            c.dec();
        }
        assert_eq!(c.get(), -1);
        c.inc();
        assert_eq!(c.get(), 0);
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
