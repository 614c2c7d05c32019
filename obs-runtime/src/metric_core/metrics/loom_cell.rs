//! Loom models of the sharded cells (`scripts/loom`, `--cfg obs_loom`): the
//! real `HistogramCell` and `UpDownCell` on loom's atomics, with the real
//! `thread_index` handing out shards in the order threads first record.
//!
//! What a scrape is promised (`cell.rs`, ARCHITECTURE.md "Sharded
//! histograms"): readers add the shards up, and the count of a series is the
//! sum of its buckets. So a snapshot taken while threads record has
//! cumulative buckets that never decrease, `_count` equal to the `+Inf`
//! bucket, a sum that is the sum of some of the observations (never a torn
//! or lost `f64`), and no bucket below what an earlier scrape saw; once the
//! writers are joined, every count and the sum are exact. Nothing ties the
//! sum to the count mid-flight (an observation adds its bucket, then its
//! sum), and the models assert no such thing.

use loom::sync::Arc;
use loom::thread;

use super::cell::{Bounds, HistogramCell, UpDownCell};
use crate::leaves::sync::model;
use crate::metric_core::encode::HistogramSnapshot;

/// Whether `sum` is the sum of some subset of `values`. Compared exactly:
/// the values are dyadic, so every partial sum is exact in any order.
#[allow(clippy::float_cmp)]
fn is_partial_sum(sum: f64, values: &[f64]) -> bool {
    (0..1u32 << values.len()).any(|mask| {
        let partial: f64 = values
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, v)| v)
            .sum();
        partial == sum
    })
}

/// What any snapshot must hold, whenever it is taken.
fn assert_consistent(snap: &HistogramSnapshot, buckets: usize, observed: &[f64]) {
    assert_eq!(snap.cumulative.len(), buckets);
    assert!(
        snap.cumulative.windows(2).all(|w| w[0] <= w[1]),
        "cumulative buckets decrease: {:?}",
        snap.cumulative
    );
    assert_eq!(snap.count(), snap.cumulative[buckets - 1]);
    assert!(snap.count() <= observed.len() as u64);
    assert!(
        is_partial_sum(snap.sum, observed),
        "sum {} is no sum of observations {observed:?}",
        snap.sum
    );
}

/// Three threads record into a two-shard series (so two of them share a
/// shard, and the `f64` sum of that shard is a contended compare-and-swap)
/// while the main thread scrapes twice.
#[test]
fn loom_histogram_scrape_while_recording() {
    const VALUES: [f64; 3] = [0.5, 2.0, 0.25];
    model(2, || {
        let bounds = Arc::new(Bounds::new(&[1.0]));
        let cell = Arc::new(HistogramCell::with_shards(&bounds, 2));
        let writers: Vec<_> = VALUES
            .iter()
            .map(|&v| {
                let (cell, bounds) = (Arc::clone(&cell), Arc::clone(&bounds));
                thread::spawn(move || cell.observe(&bounds, v))
            })
            .collect();
        let first = cell.snapshot();
        let second = cell.snapshot();
        assert_consistent(&first, 2, &VALUES);
        assert_consistent(&second, 2, &VALUES);
        for (a, b) in first.cumulative.iter().zip(&second.cumulative) {
            assert!(
                a <= b,
                "a later scrape went back: {first:?} then {second:?}"
            );
        }
        assert!(first.sum <= second.sum);
        for w in writers {
            w.join().unwrap();
        }
        let done = cell.snapshot();
        assert_eq!(done.cumulative, vec![2, 3]);
        assert_eq!(done.sum.to_bits(), 2.75_f64.to_bits(), "sum {}", done.sum);
        assert_eq!(cell.count(), 3);
    });
}

/// Both update paths on one shard: two threads observe `f64`s (the sum a
/// compare-and-swap loop) and one records nanoseconds (an integer add),
/// every write to the same slots. No add may be lost.
#[test]
fn loom_histogram_one_shard_loses_no_update() {
    model(3, || {
        let bounds = Arc::new(Bounds::new(&[1.0]));
        let cell = Arc::new(HistogramCell::with_shards(&bounds, 1));
        let floats: Vec<_> = [0.5, 0.25]
            .into_iter()
            .map(|v| {
                let (cell, bounds) = (Arc::clone(&cell), Arc::clone(&bounds));
                thread::spawn(move || cell.observe(&bounds, v))
            })
            .collect();
        cell.observe_ns(&bounds, 1_500_000_000);
        for w in floats {
            w.join().unwrap();
        }
        let done = cell.snapshot();
        assert_eq!(done.cumulative, vec![2, 3]);
        assert_eq!(done.sum.to_bits(), 2.25_f64.to_bits(), "sum {}", done.sum);
    });
}

/// An up-down count whose decrement runs on another thread than its
/// increment (a request dropped elsewhere than it started): the shards'
/// sum is exact once both are done. A scrape in between reads the shards
/// one after the other, so it may see the decrement and not yet the
/// increment: the model checks that such a read is off by at most the
/// steps in flight, never a huge (wrapped) count.
#[test]
fn loom_up_down_decrement_on_another_thread() {
    model(3, || {
        let cell = Arc::new(UpDownCell::with_shards(2));
        let handed = Arc::new(loom::sync::atomic::AtomicBool::new(false));
        let starter = {
            let (cell, handed) = (Arc::clone(&cell), Arc::clone(&handed));
            thread::spawn(move || {
                cell.inc();
                cell.inc();
                handed.store(true, std::sync::atomic::Ordering::Release);
            })
        };
        let finisher = {
            let (cell, handed) = (Arc::clone(&cell), Arc::clone(&handed));
            thread::spawn(move || {
                while !handed.load(std::sync::atomic::Ordering::Acquire) {
                    thread::yield_now();
                }
                cell.dec();
            })
        };
        let seen = cell.get();
        assert!((-1..=2).contains(&seen), "read {seen} mid-flight");
        starter.join().unwrap();
        finisher.join().unwrap();
        assert_eq!(cell.get(), 1);
    });
}
