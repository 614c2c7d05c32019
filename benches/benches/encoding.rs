//! One scrape of 10,000 counter series with 2 labels plus 1,000 histogram
//! series with 11 buckets (about 1 MB of text), by obs's `encode_text()`
//! and by each peer's text encoder holding the same series; and the same
//! scrape as OpenMetrics 1.0.0, by obs's `encode_openmetrics()` against
//! prometheus-client's encoder (whose text encoder writes OpenMetrics). Besides the
//! time, it records the bytes each one writes and the allocations one
//! scrape makes (`obs-extra/encoding.tsv`).

use std::hint::black_box;

use benches::{BUCKETS_11, CountingAlloc, record};
use criterion::{Criterion, criterion_group, criterion_main};
use measured::metric::group::MetricGroup as _;
use obs_runtime::LabelSet;
use obs_runtime::metrics::{Counter, Histogram};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

const A: usize = 100;
const B: usize = 100;
const HISTOGRAMS: usize = 1_000;

#[derive(LabelSet)]
struct Pair {
    shard: &'static str,
    route: &'static str,
}

fn values(prefix: &str, n: usize) -> Vec<&'static str> {
    (0..n)
        .map(|i| &*Box::leak(format!("{prefix}{i}").into_boxed_str()))
        .collect()
}

/// The series: `(shard, route, value)` of each counter and `(shard, route)`
/// of each histogram, with the observations every library records.
struct Data {
    counters: Vec<(&'static str, &'static str, u64)>,
    histograms: Vec<(&'static str, &'static str)>,
    observations: [f64; 4],
}

fn data() -> Data {
    let shards = values("shard-", A);
    let routes = values("/api/v1/route/", B);
    let mut counters = Vec::with_capacity(A * B);
    for (i, s) in shards.iter().enumerate() {
        for (j, r) in routes.iter().enumerate() {
            counters.push((*s, *r, (i * B + j) as u64));
        }
    }
    let histograms = (0..HISTOGRAMS)
        .map(|i| (shards[i / 10], routes[i % 10]))
        .collect();
    Data {
        counters,
        histograms,
        observations: [0.003, 0.07, 0.4, 12.0],
    }
}

fn obs(d: &Data) -> impl Fn() -> usize {
    let requests = Counter::<Pair>::new("enc_requests_total", "Requests served.")
        .unwrap()
        .register()
        .unwrap();
    let latency = Histogram::<Pair>::new(
        "enc_latency_seconds",
        "Request latency in seconds.",
        &BUCKETS_11,
    )
    .unwrap()
    .register()
    .unwrap();
    for (s, r, v) in &d.counters {
        requests.with_values(&[s, r]).inc_by(*v);
    }
    for (s, r) in &d.histograms {
        for o in d.observations {
            latency.with_values(&[s, r]).observe(o);
        }
    }
    || obs_runtime::encode_text().len()
}

fn prometheus_registry(d: &Data) -> prometheus::Registry {
    let registry = prometheus::Registry::new();
    let requests = prometheus::IntCounterVec::new(
        prometheus::Opts::new("enc_requests_total", "Requests served."),
        &["shard", "route"],
    )
    .unwrap();
    let latency = prometheus::HistogramVec::new(
        prometheus::HistogramOpts::new("enc_latency_seconds", "Request latency in seconds.")
            .buckets(BUCKETS_11.to_vec()),
        &["shard", "route"],
    )
    .unwrap();
    registry.register(Box::new(requests.clone())).unwrap();
    registry.register(Box::new(latency.clone())).unwrap();
    for (s, r, v) in &d.counters {
        requests.with_label_values(&[s, r]).inc_by(*v);
    }
    for (s, r) in &d.histograms {
        for o in d.observations {
            latency.with_label_values(&[s, r]).observe(o);
        }
    }
    registry
}

fn prometheus_text(registry: &prometheus::Registry) -> usize {
    let mut out = String::new();
    prometheus::TextEncoder::new()
        .encode_utf8(&registry.gather(), &mut out)
        .unwrap();
    out.len()
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct ClientPair {
    shard: &'static str,
    route: &'static str,
}

fn client_registry(d: &Data) -> prometheus_client::registry::Registry {
    use prometheus_client::metrics::counter::Counter;
    use prometheus_client::metrics::family::Family;
    use prometheus_client::metrics::histogram::Histogram;
    let mut registry = prometheus_client::registry::Registry::default();
    let requests = Family::<ClientPair, Counter>::default();
    let latency = Family::<ClientPair, Histogram, fn() -> Histogram>::new_with_constructor(|| {
        Histogram::new(BUCKETS_11.into_iter())
    });
    // prometheus-client adds the `_total` suffix itself.
    registry.register("enc_requests", "Requests served.", requests.clone());
    registry.register(
        "enc_latency_seconds",
        "Request latency in seconds.",
        latency.clone(),
    );
    for (s, r, v) in &d.counters {
        requests
            .get_or_create(&ClientPair { shard: s, route: r })
            .inc_by(*v);
    }
    for (s, r) in &d.histograms {
        for o in d.observations {
            latency
                .get_or_create(&ClientPair { shard: s, route: r })
                .observe(o);
        }
    }
    registry
}

#[derive(Clone, Copy, measured::LabelGroup)]
#[label(set = MeasuredPairSet)]
struct MeasuredPair {
    #[label(fixed_with = indexmap::IndexSet<&'static str>)]
    shard: &'static str,
    #[label(fixed_with = indexmap::IndexSet<&'static str>)]
    route: &'static str,
}

#[derive(measured::MetricGroup)]
#[metric(new(shards: indexmap::IndexSet<&'static str>, routes: indexmap::IndexSet<&'static str>))]
struct MeasuredGroup {
    /// Requests served.
    #[metric(label_set = MeasuredPairSet::new(shards.clone(), routes.clone()))]
    enc_requests_total: measured::CounterVec<MeasuredPairSet>,
    /// Request latency in seconds.
    #[metric(label_set = MeasuredPairSet::new(shards, routes))]
    #[metric(metadata = measured::metric::histogram::Thresholds::with_buckets(BUCKETS_11))]
    enc_latency_seconds: measured::HistogramVec<MeasuredPairSet, 11>,
}

fn measured_group(d: &Data) -> MeasuredGroup {
    let shards: indexmap::IndexSet<&'static str> = d.counters.iter().map(|c| c.0).collect();
    let routes: indexmap::IndexSet<&'static str> = d.counters.iter().map(|c| c.1).collect();
    let group = MeasuredGroup::new(shards, routes);
    for (s, r, v) in &d.counters {
        group
            .enc_requests_total
            .inc_by(MeasuredPair { shard: s, route: r }, *v);
    }
    for (s, r) in &d.histograms {
        for o in d.observations {
            group
                .enc_latency_seconds
                .observe(MeasuredPair { shard: s, route: r }, o);
        }
    }
    group
}

fn metrics_recorder(d: &Data) -> metrics_exporter_prometheus::PrometheusHandle {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&BUCKETS_11)
        .unwrap()
        .build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        metrics::describe_counter!("enc_requests_total", "Requests served.");
        metrics::describe_histogram!("enc_latency_seconds", "Request latency in seconds.");
        for (s, r, v) in &d.counters {
            metrics::counter!("enc_requests_total", "shard" => *s, "route" => *r).increment(*v);
        }
        for (s, r) in &d.histograms {
            for o in d.observations {
                metrics::histogram!("enc_latency_seconds", "shard" => *s, "route" => *r).record(o);
            }
        }
    });
    // The recorder keeps its state in the handle.
    drop(recorder);
    handle
}

/// Bytes written and allocations made by one scrape.
fn measure(name: &str, scrape: &dyn Fn() -> usize, rows: &mut Vec<(String, f64, &str)>) {
    scrape(); // a first scrape may size buffers
    let (bytes, spent) = ALLOC.count(scrape);
    rows.push((format!("{name}.bytes"), bytes as f64, "bytes"));
    rows.push((
        format!("{name}.allocations"),
        spent.allocations as f64,
        "allocations",
    ));
    rows.push((format!("{name}.allocated"), spent.allocated as f64, "bytes"));
}

fn encoding(c: &mut Criterion) {
    // `OBS_BENCH_EXPOSITION=1`: the same scrape with a registry prefix and
    // two constant labels, to see what they cost (bytes, allocations, time).
    if std::env::var_os("OBS_BENCH_EXPOSITION").is_some() {
        obs_runtime::registry::configure(
            obs_runtime::registry::Exposition::default()
                .prefix("bench")
                .constant_label("service", "bench")
                .constant_label("environment", "production"),
        )
        .unwrap();
    }
    let d = data();
    let ours = obs(&d);
    let prom = prometheus_registry(&d);
    let client = client_registry(&d);
    let measured = measured_group(&d);
    let metrics = metrics_recorder(&d);

    let prom_scrape = || prometheus_text(&prom);
    let client_scrape = || {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &client).unwrap();
        out.len()
    };
    let measured_scrape = || {
        let mut enc = measured::text::BufferedTextEncoder::new();
        measured.collect_group_into(&mut enc).unwrap();
        enc.finish().len()
    };
    let metrics_scrape = || metrics.render().len();
    let ours_openmetrics = || obs_runtime::encode_openmetrics().len();

    let mut rows = Vec::new();
    measure("obs_encode_text", &ours, &mut rows);
    measure("prometheus_gather_text_encoder", &prom_scrape, &mut rows);
    measure("prometheus_client_text", &client_scrape, &mut rows);
    measure("obs_encode_openmetrics", &ours_openmetrics, &mut rows);
    measure("measured_text", &measured_scrape, &mut rows);
    measure(
        "metrics_exporter_prometheus_render",
        &metrics_scrape,
        &mut rows,
    );
    record("encoding", &rows);

    let mut g = c.benchmark_group("encode_10k_counters_1k_histograms");
    g.sample_size(20);
    g.bench_function("obs_encode_text", |b| b.iter(|| black_box(ours())));
    g.bench_function("prometheus_gather_text_encoder", |b| {
        b.iter(|| black_box(prom_scrape()));
    });
    g.bench_function("prometheus_gather_only", |b| {
        b.iter(|| black_box(prom.gather()));
    });
    g.bench_function("prometheus_client_text", |b| {
        b.iter(|| black_box(client_scrape()));
    });
    g.bench_function("measured_text", |b| b.iter(|| black_box(measured_scrape())));
    g.bench_function("metrics_exporter_prometheus_render", |b| {
        b.iter(|| black_box(metrics_scrape()));
    });
    g.finish();

    // OpenMetrics: obs's 0.0.4 and OpenMetrics writers over the same walk,
    // and prometheus-client's OpenMetrics encoder (its only text encoder).
    let mut g = c.benchmark_group("encode_openmetrics_10k_counters_1k_histograms");
    g.sample_size(20);
    g.bench_function("obs_encode_openmetrics", |b| {
        b.iter(|| black_box(ours_openmetrics()));
    });
    g.bench_function("obs_encode_text", |b| b.iter(|| black_box(ours())));
    g.bench_function("prometheus_client_openmetrics", |b| {
        b.iter(|| black_box(client_scrape()));
    });
    g.finish();
}

criterion_group!(benches, encoding);
criterion_main!(benches);
