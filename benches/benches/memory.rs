//! Bytes per series: what the heap holds after creating 10,000 counter
//! series and 1,000 histogram series (11 buckets), divided by the count,
//! for obs's fixed-cardinality and dynamic families, and for `prometheus`
//! and `prometheus-client` holding the same series. Not a timing: it counts
//! allocations, so it prints and records (`obs-extra/memory.tsv`) and runs
//! the same with or without `--test`.

use benches::{BUCKETS_11, CountingAlloc, record};
use obs_runtime::metrics::{Counter, Histogram};
use obs_runtime::{Combinations, LabelSet, LabelSetKind};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

const COUNTERS: usize = 10_000;
const HISTOGRAMS: usize = 1_000;

/// A fixed-cardinality label set of 10,000 values, written by hand as a
/// user could (a derive would need enums of 100 variants).
#[derive(Clone, Copy)]
struct Slot(usize);

impl LabelSet for Slot {
    const NAMES: &'static [&'static str] = &["slot"];
    const KIND: LabelSetKind<Self> = LabelSetKind::Bounded(Combinations {
        cardinality: COUNTERS,
        ordinal: |slot| slot.0,
        value_at: |_, _| "slot",
    });

    fn value_of(&self, _: usize) -> &'static str {
        "slot"
    }
}

/// The same for 1,000 histogram series.
#[derive(Clone, Copy)]
struct HSlot(usize);

impl LabelSet for HSlot {
    const NAMES: &'static [&'static str] = &["slot"];
    const KIND: LabelSetKind<Self> = LabelSetKind::Bounded(Combinations {
        cardinality: HISTOGRAMS,
        ordinal: |slot| slot.0,
        value_at: |_, _| "slot",
    });

    fn value_of(&self, _: usize) -> &'static str {
        "slot"
    }
}

#[derive(LabelSet)]
struct Pair {
    shard: &'static str,
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct ClientPair {
    shard: String,
    route: String,
}

/// The label values of series `i`, formatted before counting starts.
fn labels(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            (
                format!("shard-{}", i / 100),
                format!("/api/v1/route/{}", i % 100),
            )
        })
        .collect()
}

/// Live heap bytes per series added by `f`, which must keep what it makes.
fn per_series<T>(n: usize, f: impl FnOnce() -> T) -> (f64, T) {
    let (kept, spent) = ALLOC.count(f);
    let live = spent.live();
    (live as f64 / n as f64, kept)
}

fn main() {
    let counter_labels = labels(COUNTERS);
    let histogram_labels = labels(HISTOGRAMS);
    let mut rows = Vec::new();
    let mut row = |name: &str, bytes: f64| rows.push((name.to_owned(), bytes, "bytes/series"));

    let (b, fixed) = per_series(COUNTERS, || {
        let c = Counter::<Slot>::new("mem_fixed_total", "Fixed.").unwrap();
        c.with(Slot(7)).inc();
        c
    });
    row("obs_counter_fixed", b);
    let (b, dynamic) = per_series(COUNTERS, || {
        let c = Counter::<Pair>::new("mem_dynamic_total", "Dynamic.").unwrap();
        for (s, r) in &counter_labels {
            c.with_values(&[s, r]).inc();
        }
        c
    });
    row("obs_counter_dynamic_2_labels", b);
    let (b, hfixed) = per_series(HISTOGRAMS, || {
        let h = Histogram::<HSlot>::new("mem_fixed_seconds", "Fixed.", &BUCKETS_11).unwrap();
        h.with(HSlot(3)).observe(0.1);
        h
    });
    row("obs_histogram_fixed", b);
    let (b, hdynamic) = per_series(HISTOGRAMS, || {
        let h = Histogram::<Pair>::new("mem_dynamic_seconds", "Dynamic.", &BUCKETS_11).unwrap();
        for (s, r) in &histogram_labels {
            h.with_values(&[s, r]).observe(0.1);
        }
        h
    });
    row("obs_histogram_dynamic_2_labels", b);

    let (b, prom) = per_series(COUNTERS, || {
        let c = prometheus::IntCounterVec::new(
            prometheus::Opts::new("mem_prom_total", "Prom."),
            &["shard", "route"],
        )
        .unwrap();
        for (s, r) in &counter_labels {
            c.with_label_values(&[s, r]).inc();
        }
        c
    });
    row("prometheus_counter_2_labels", b);
    let (b, hprom) = per_series(HISTOGRAMS, || {
        let h = prometheus::HistogramVec::new(
            prometheus::HistogramOpts::new("mem_prom_seconds", "Prom.")
                .buckets(BUCKETS_11.to_vec()),
            &["shard", "route"],
        )
        .unwrap();
        for (s, r) in &histogram_labels {
            h.with_label_values(&[s, r]).observe(0.1);
        }
        h
    });
    row("prometheus_histogram_2_labels", b);
    let (b, client) = per_series(COUNTERS, || {
        let c = prometheus_client::metrics::family::Family::<
            ClientPair,
            prometheus_client::metrics::counter::Counter,
        >::default();
        for (s, r) in &counter_labels {
            c.get_or_create(&ClientPair {
                shard: s.clone(),
                route: r.clone(),
            })
            .inc();
        }
        c
    });
    row("prometheus_client_counter_2_labels", b);
    let (b, hclient) = per_series(HISTOGRAMS, || {
        type H = prometheus_client::metrics::histogram::Histogram;
        let h = prometheus_client::metrics::family::Family::<ClientPair, H, fn() -> H>::new_with_constructor(
            || H::new(BUCKETS_11.into_iter()),
        );
        for (s, r) in &histogram_labels {
            h.get_or_create(&ClientPair {
                shard: s.clone(),
                route: r.clone(),
            })
            .observe(0.1);
        }
        h
    });
    row("prometheus_client_histogram_2_labels", b);
    record("memory", &rows);
    std::hint::black_box((
        fixed, dynamic, hfixed, hdynamic, prom, hprom, client, hclient,
    ));
}
