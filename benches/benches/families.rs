//! One increment of a labelled counter: a fixed-cardinality family (an
//! array index), a bounded dynamic family (a hashed lookup under a read
//! lock), and `prometheus`'s `IntCounterVec` (a hashed lookup, and a cached
//! child), measured in one run.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use obs_runtime::metrics::Counter;
use obs_runtime::{LabelSet, LabelValue};

// Only some values are used by the benchmark; the rest size the family.
#[allow(dead_code)]
#[derive(LabelValue, Clone, Copy)]
enum Cache {
    Session,
    Profile,
    Catalog,
}

#[allow(dead_code)]
#[derive(LabelValue, Clone, Copy)]
enum Outcome {
    Hit,
    Miss,
}

#[derive(LabelSet, Clone, Copy)]
struct Fixed {
    cache: Cache,
    outcome: Outcome,
}

#[derive(LabelSet, Clone, Copy)]
struct Open {
    cache: &'static str,
    outcome: &'static str,
}

fn families(c: &mut Criterion) {
    let fixed = Counter::<Fixed>::new("bench_fixed_total", "Fixed.").unwrap();
    let open = Counter::<Open>::new("bench_open_total", "Open.").unwrap();
    let prom = prometheus::IntCounterVec::new(
        prometheus::Opts::new("bench_prom_total", "Prom."),
        &["cache", "outcome"],
    )
    .unwrap();
    for cache in ["session", "profile", "catalog"] {
        for outcome in ["hit", "miss"] {
            open.with(Open { cache, outcome }).inc();
            prom.with_label_values(&[cache, outcome]).inc();
        }
    }
    let mut g = c.benchmark_group("labelled_counter_inc");
    g.bench_function("obs_fixed_with_inc", |b| {
        b.iter(|| {
            fixed
                .with(black_box(Fixed {
                    cache: Cache::Profile,
                    outcome: Outcome::Miss,
                }))
                .inc()
        });
    });
    g.bench_function("obs_fixed_kept_handle_inc", |b| {
        let handle = fixed.with(Fixed {
            cache: Cache::Profile,
            outcome: Outcome::Miss,
        });
        b.iter(|| black_box(&handle).inc());
    });
    g.bench_function("obs_dynamic_hit_inc", |b| {
        b.iter(|| {
            open.with(black_box(Open {
                cache: "profile",
                outcome: "miss",
            }))
            .inc()
        });
    });
    g.bench_function("prometheus_with_label_values_inc", |b| {
        b.iter(|| {
            prom.with_label_values(black_box(&["profile", "miss"]))
                .inc()
        });
    });
    g.bench_function("prometheus_cached_child_inc", |b| {
        let child = prom.with_label_values(&["profile", "miss"]);
        b.iter(|| black_box(&child).inc());
    });
    g.finish();
}

criterion_group!(benches, families);
criterion_main!(benches);
