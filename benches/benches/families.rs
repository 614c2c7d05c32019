//! One update of a labelled metric: obs's fixed-cardinality family (an
//! array index), its bounded dynamic family (a hashed lookup under a read
//! lock), against `measured` (fixed cardinality, the same idea),
//! `prometheus` (a hashed lookup, or a child kept by the caller) and
//! `prometheus-client` (a hashed lookup under a read lock), in one run.

use std::hint::black_box;

use benches::BUCKETS_11;
use criterion::{Criterion, criterion_group, criterion_main};
use obs_runtime::metrics::{Counter, Histogram};
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

/// The same label set for `measured`, whose derives use the same
/// attribute names as ours, so they can't share one type.
mod peer {
    #[allow(dead_code)]
    #[derive(Clone, Copy, measured::FixedCardinalityLabel)]
    pub enum Cache {
        Session,
        Profile,
        Catalog,
    }

    #[allow(dead_code)]
    #[derive(Clone, Copy, measured::FixedCardinalityLabel)]
    pub enum Outcome {
        Hit,
        Miss,
    }

    #[derive(Clone, Copy, measured::LabelGroup)]
    #[label(set = FixedSet)]
    pub struct Fixed {
        pub cache: Cache,
        pub outcome: Outcome,
    }

    pub const KEY: Fixed = Fixed {
        cache: Cache::Profile,
        outcome: Outcome::Miss,
    };
}
use peer::FixedSet;

#[derive(LabelSet, Clone, Copy)]
struct Open {
    cache: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct ClientLabels {
    cache: &'static str,
    outcome: &'static str,
}

#[derive(measured::MetricGroup)]
#[metric(new())]
struct MeasuredGroup {
    /// Fixed.
    measured_fixed_total: measured::CounterVec<FixedSet>,
    /// Fixed.
    #[metric(metadata = measured::metric::histogram::Thresholds::with_buckets(BUCKETS_11))]
    measured_fixed_seconds: measured::HistogramVec<FixedSet, 11>,
    /// Plain.
    measured_plain_total: measured::Counter,
    /// Plain.
    #[metric(metadata = measured::metric::histogram::Thresholds::with_buckets(BUCKETS_11))]
    measured_plain_seconds: measured::Histogram<11>,
}

const KEY: Fixed = Fixed {
    cache: Cache::Profile,
    outcome: Outcome::Miss,
};

fn counters(c: &mut Criterion) {
    let fixed = Counter::<Fixed>::new("bench_fixed_total", "Fixed.").unwrap();
    let open = Counter::<Open>::new("bench_open_total", "Open.").unwrap();
    let plain = Counter::<()>::new("bench_plain_total", "Plain.").unwrap();
    let prom = prometheus::IntCounterVec::new(
        prometheus::Opts::new("bench_prom_total", "Prom."),
        &["cache", "outcome"],
    )
    .unwrap();
    let prom_plain = prometheus::IntCounter::new("bench_prom_plain_total", "Prom.").unwrap();
    let client = prometheus_client::metrics::family::Family::<
        ClientLabels,
        prometheus_client::metrics::counter::Counter,
    >::default();
    let measured = MeasuredGroup::new();
    for cache in ["session", "profile", "catalog"] {
        for outcome in ["hit", "miss"] {
            open.with(Open { cache, outcome }).inc();
            prom.with_label_values(&[cache, outcome]).inc();
            client.get_or_create(&ClientLabels { cache, outcome }).inc();
        }
    }
    let mut g = c.benchmark_group("counter_inc");
    g.bench_function("obs_unlabelled", |b| b.iter(|| black_box(&plain).inc()));
    g.bench_function("obs_fixed_with_inc", |b| {
        b.iter(|| fixed.with(black_box(KEY)).inc());
    });
    g.bench_function("obs_fixed_kept_handle_inc", |b| {
        let handle = fixed.with(KEY);
        b.iter(|| black_box(&handle).inc());
    });
    g.bench_function("obs_dynamic_hit_inc", |b| {
        b.iter(|| {
            open.with(black_box(Open {
                cache: "profile",
                outcome: "miss",
            }))
            .inc();
        });
    });
    g.bench_function("measured_unlabelled", |b| {
        b.iter(|| black_box(&measured.measured_plain_total).inc());
    });
    g.bench_function("measured_fixed_inc", |b| {
        b.iter(|| measured.measured_fixed_total.inc(black_box(peer::KEY)));
    });
    g.bench_function("prometheus_int_counter_inc", |b| {
        b.iter(|| black_box(&prom_plain).inc());
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
    g.bench_function("prometheus_client_get_or_create_inc", |b| {
        b.iter(|| {
            client
                .get_or_create(black_box(&ClientLabels {
                    cache: "profile",
                    outcome: "miss",
                }))
                .inc();
        });
    });
    g.finish();
}

fn histograms(c: &mut Criterion) {
    let fixed = Histogram::<Fixed>::new("bench_fixed_seconds", "Fixed.", &BUCKETS_11).unwrap();
    let plain = Histogram::<()>::new("bench_plain_seconds", "Plain.", &BUCKETS_11).unwrap();
    let prom = prometheus::Histogram::with_opts(
        prometheus::HistogramOpts::new("bench_prom_seconds", "Prom.").buckets(BUCKETS_11.to_vec()),
    )
    .unwrap();
    let prom_vec = prometheus::HistogramVec::new(
        prometheus::HistogramOpts::new("bench_prom_vec_seconds", "Prom.")
            .buckets(BUCKETS_11.to_vec()),
        &["cache", "outcome"],
    )
    .unwrap();
    let client = prometheus_client::metrics::histogram::Histogram::new(BUCKETS_11.into_iter());
    let client_family = prometheus_client::metrics::family::Family::<
        ClientLabels,
        prometheus_client::metrics::histogram::Histogram,
        fn() -> prometheus_client::metrics::histogram::Histogram,
    >::new_with_constructor(|| {
        prometheus_client::metrics::histogram::Histogram::new(BUCKETS_11.into_iter())
    });
    let measured = MeasuredGroup::new();
    // A value in the middle of the buckets, so each library searches.
    let v = 0.07;
    let mut g = c.benchmark_group("histogram_observe");
    g.bench_function("obs_unlabelled", |b| {
        b.iter(|| plain.observe(black_box(v)));
    });
    g.bench_function("obs_fixed_with_observe", |b| {
        b.iter(|| fixed.with(black_box(KEY)).observe(black_box(v)));
    });
    g.bench_function("measured_unlabelled", |b| {
        b.iter(|| measured.measured_plain_seconds.observe(black_box(v)));
    });
    g.bench_function("measured_fixed_observe", |b| {
        b.iter(|| {
            measured
                .measured_fixed_seconds
                .observe(black_box(peer::KEY), black_box(v));
        });
    });
    g.bench_function("prometheus_observe", |b| {
        b.iter(|| prom.observe(black_box(v)));
    });
    g.bench_function("prometheus_with_label_values_observe", |b| {
        b.iter(|| {
            prom_vec
                .with_label_values(black_box(&["profile", "miss"]))
                .observe(black_box(v));
        });
    });
    g.bench_function("prometheus_client_observe", |b| {
        b.iter(|| client.observe(black_box(v)));
    });
    g.bench_function("prometheus_client_get_or_create_observe", |b| {
        b.iter(|| {
            client_family
                .get_or_create(black_box(&ClientLabels {
                    cache: "profile",
                    outcome: "miss",
                }))
                .observe(black_box(v));
        });
    });
    g.finish();
}

criterion_group!(benches, counters, histograms);
criterion_main!(benches);
