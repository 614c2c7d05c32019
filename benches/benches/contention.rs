//! Cost per operation per thread when 1 and 2 threads update the same
//! call site, the same family series, the same histogram. On a 2-core
//! machine two threads are all the parallelism there is; a cache line
//! written by both moves between the cores on every write.
//!
//! Each sample starts the threads together at a barrier; every thread does
//! the same number of operations and the time reported is the mean of the
//! threads' own times, so one figure reads as "ns per operation per thread".

use std::hint::black_box;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use benches::BUCKETS_11;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use obs_runtime::instrumented;
use obs_runtime::metrics::{Counter, Histogram};

#[inline(never)]
#[instrumented(metric = "bench_contended", span = false)]
fn contended_call() {
    black_box(());
}

/// Runs `op(thread)` `iters` times on each of `threads` threads at once.
fn run(threads: usize, iters: u64, op: &(dyn Fn(usize) + Sync)) -> Duration {
    let barrier = Barrier::new(threads);
    let total: Duration = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        op(t);
                    }
                    start.elapsed()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    total / u32::try_from(threads).unwrap()
}

/// One operation of a case; the argument is the thread's number.
type Op<'a> = Box<dyn Fn(usize) + Sync + 'a>;

#[repr(align(128))]
#[derive(Default)]
struct Padded(AtomicU64);

fn contention(c: &mut Criterion) {
    let counter = Counter::<()>::new("bench_contended_total", "Contended.").unwrap();
    let histogram =
        Histogram::<()>::new("bench_contended_seconds", "Contended.", &BUCKETS_11).unwrap();
    let shared = AtomicU64::new(0);
    let shards: [Padded; 2] = Default::default();
    let prom_counter = prometheus::IntCounter::new("bench_prom_total", "Prom.").unwrap();
    let prom_histogram = prometheus::Histogram::with_opts(
        prometheus::HistogramOpts::new("bench_prom_seconds", "Prom.").buckets(BUCKETS_11.to_vec()),
    )
    .unwrap();
    let measured_histogram = measured::Histogram::<11>::with_metadata(
        measured::metric::histogram::Thresholds::with_buckets(BUCKETS_11),
    );
    let v = 0.07;
    let cases: Vec<(&str, Op<'_>)> = vec![
        ("obs_call_site", Box::new(|_| contended_call())),
        (
            "obs_histogram_observe",
            Box::new(|_| histogram.observe(black_box(v))),
        ),
        ("obs_counter_series_inc", Box::new(|_| counter.inc())),
        (
            "shared_atomic_add",
            Box::new(|_| {
                shared.fetch_add(1, Relaxed);
            }),
        ),
        (
            "padded_shard_per_thread_add",
            Box::new(|t| {
                shards[t % 2].0.fetch_add(1, Relaxed);
            }),
        ),
        (
            "prometheus_int_counter_inc",
            Box::new(|_| prom_counter.inc()),
        ),
        (
            "prometheus_histogram_observe",
            Box::new(|_| prom_histogram.observe(black_box(v))),
        ),
        (
            "measured_histogram_observe",
            Box::new(|_| measured_histogram.observe(black_box(v))),
        ),
    ];
    let mut g = c.benchmark_group("contention");
    for (name, op) in &cases {
        for threads in [1, 2] {
            g.bench_with_input(BenchmarkId::new(*name, threads), &threads, |b, &threads| {
                b.iter_custom(|iters| run(threads, iters, op.as_ref()));
            });
        }
    }
    g.finish();
}

criterion_group!(benches, contention);
criterion_main!(benches);
