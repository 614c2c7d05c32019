//! Cost of one call of an instrumented empty function, against the same
//! function bare and against the floor: a TSC clock pair plus the two relaxed
//! atomic adds of an integer-nanosecond histogram.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use criterion::{Criterion, criterion_group, criterion_main};
use obs_runtime::instrumented;

#[inline(never)]
fn bare() {
    black_box(());
}

#[inline(never)]
#[instrumented(metric = "bench_empty_nospan", span = false)]
fn instrumented_no_span() {
    black_box(());
}

#[inline(never)]
#[instrumented(metric = "bench_empty")]
fn instrumented_default() {
    black_box(());
}

fn call_overhead(c: &mut Criterion) {
    let mut g = c.benchmark_group("empty_sync_fn");
    g.bench_function("bare", |b| b.iter(bare));
    g.bench_function("floor_tsc_pair_and_two_adds", |b| {
        let bucket = AtomicU64::new(0);
        let sum = AtomicU64::new(0);
        b.iter(|| {
            let start = quanta::Instant::now();
            black_box(());
            let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
            bucket.fetch_add(1, Relaxed);
            sum.fetch_add(ns, Relaxed);
        });
    });
    g.bench_function("instrumented_span_false", |b| b.iter(instrumented_no_span));
    g.bench_function("instrumented_no_subscriber", |b| {
        b.iter(instrumented_default)
    });
    g.finish();
}

criterion_group!(benches, call_overhead);
criterion_main!(benches);
