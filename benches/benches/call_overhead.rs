//! Cost of one call of an instrumented function, against the same function
//! bare, against the floor (what any timed call must pay), and against
//! every peer instrumenting the same function with the same outputs: a
//! call counter and a duration histogram.
//!
//! Groups run in the order below because `tracing` caches per process
//! whether anyone listens: the cases without a subscriber come first, then
//! those under a scoped `registry().with(<no-op layer>)`, and last the full
//! `obs_runtime::init()` pipeline, which installs itself for the process.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use autometrics::autometrics;
use benches::BUCKETS_11;
use criterion::{Criterion, criterion_group, criterion_main};
use obs_runtime::instrumented;
use tracing_subscriber::layer::SubscriberExt as _;

/// A layer that does nothing, so spans are created and closed for real (a
/// bare `registry()` never frees closed spans: no fair subscriber).
struct Noop;
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Noop {}

// ---- the functions -------------------------------------------------------

#[inline(never)]
fn empty_bare() {
    black_box(());
}

#[inline(never)]
#[instrumented(metric = "bench_empty_nospan", span = false)]
fn empty_obs_no_span() {
    black_box(());
}

#[inline(never)]
#[instrumented(metric = "bench_empty")]
fn empty_obs() {
    black_box(());
}

#[inline(never)]
#[tracing::instrument(skip_all)]
fn empty_tracing() {
    black_box(());
}

#[inline(never)]
#[autometrics]
fn empty_autometrics() {
    black_box(());
}

#[inline(never)]
fn add_bare(a: u64, b: u64) -> u64 {
    black_box(a) + black_box(b)
}

#[inline(never)]
#[instrumented(metric = "bench_add_nospan", span = false)]
fn add_obs_no_span(a: u64, b: u64) -> u64 {
    black_box(a) + black_box(b)
}

#[inline(never)]
#[instrumented(metric = "bench_add")]
fn add_obs(a: u64, b: u64) -> u64 {
    black_box(a) + black_box(b)
}

#[inline(never)]
#[tracing::instrument(skip_all)]
fn add_tracing(a: u64, b: u64) -> u64 {
    black_box(a) + black_box(b)
}

#[inline(never)]
#[autometrics]
fn add_autometrics(a: u64, b: u64) -> u64 {
    black_box(a) + black_box(b)
}

// ---- peers instrumenting `add` by hand, with a counter and a histogram ----

struct PromVecs {
    calls: prometheus::IntCounterVec,
    duration: prometheus::HistogramVec,
}

impl PromVecs {
    fn new() -> Self {
        let labels = &["function", "module", "result"];
        Self {
            calls: prometheus::IntCounterVec::new(
                prometheus::Opts::new("add_calls_total", "Calls."),
                labels,
            )
            .unwrap(),
            duration: prometheus::HistogramVec::new(
                prometheus::HistogramOpts::new("add_duration_seconds", "Duration.")
                    .buckets(BUCKETS_11.to_vec()),
                labels,
            )
            .unwrap(),
        }
    }

    /// The lookups a hand-instrumented function does on every call.
    #[inline(never)]
    fn add(&self, a: u64, b: u64) -> u64 {
        let labels = ["add", module_path!(), "ok"];
        let timer = self.duration.with_label_values(&labels).start_timer();
        let r = add_bare(a, b);
        timer.observe_duration();
        self.calls.with_label_values(&labels).inc();
        r
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct ClientLabels {
    function: &'static str,
    module: &'static str,
    result: &'static str,
}

type ClientHistogram = prometheus_client::metrics::histogram::Histogram;
type ClientHistogramFamily = prometheus_client::metrics::family::Family<
    ClientLabels,
    ClientHistogram,
    fn() -> ClientHistogram,
>;

struct ClientFamilies {
    calls: prometheus_client::metrics::family::Family<
        ClientLabels,
        prometheus_client::metrics::counter::Counter,
    >,
    duration: ClientHistogramFamily,
}

fn client_histogram() -> ClientHistogram {
    ClientHistogram::new(BUCKETS_11.into_iter())
}

impl ClientFamilies {
    fn new() -> Self {
        Self {
            calls: prometheus_client::metrics::family::Family::default(),
            duration: prometheus_client::metrics::family::Family::new_with_constructor(
                client_histogram,
            ),
        }
    }

    #[inline(never)]
    fn add(&self, a: u64, b: u64) -> u64 {
        let labels = ClientLabels {
            function: "add",
            module: module_path!(),
            result: "ok",
        };
        let start = std::time::Instant::now();
        let r = add_bare(a, b);
        self.duration
            .get_or_create(&labels)
            .observe(start.elapsed().as_secs_f64());
        self.calls.get_or_create(&labels).inc();
        r
    }
}

#[derive(Clone, Copy, measured::FixedCardinalityLabel)]
enum MeasuredFunction {
    Add,
}

#[derive(Clone, Copy, measured::FixedCardinalityLabel)]
enum MeasuredResult {
    Ok,
    Error,
}

#[derive(Clone, Copy, measured::LabelGroup)]
#[label(set = MeasuredLabelsSet)]
struct MeasuredLabels {
    function: MeasuredFunction,
    result: MeasuredResult,
}

#[derive(measured::MetricGroup)]
#[metric(new())]
struct MeasuredGroup {
    /// Calls.
    add_calls_total: measured::CounterVec<MeasuredLabelsSet>,
    /// Duration.
    #[metric(metadata = measured::metric::histogram::Thresholds::with_buckets(BUCKETS_11))]
    add_duration_seconds: measured::HistogramVec<MeasuredLabelsSet, 11>,
}

impl MeasuredGroup {
    #[inline(never)]
    fn add(&self, a: u64, b: u64) -> u64 {
        let labels = MeasuredLabels {
            function: MeasuredFunction::Add,
            result: MeasuredResult::Ok,
        };
        let start = std::time::Instant::now();
        let r = add_bare(a, b);
        self.add_duration_seconds
            .observe_duration_since(labels, start);
        self.add_calls_total.inc(labels);
        r
    }
}

#[inline(never)]
fn add_metrics_macros(a: u64, b: u64) -> u64 {
    let start = std::time::Instant::now();
    let r = add_bare(a, b);
    let labels = [
        ("function", "add"),
        ("module", module_path!()),
        ("result", "ok"),
    ];
    metrics::histogram!("add_duration_seconds", &labels).record(start.elapsed());
    metrics::counter!("add_calls_total", &labels).increment(1);
    r
}

// ---- the benchmarks ------------------------------------------------------

/// What a timed call can't avoid: clock reads and atomic adds.
fn floor(c: &mut Criterion) {
    let mut g = c.benchmark_group("floor");
    let counter = AtomicU64::new(0);
    g.bench_function("atomic_fetch_add", |b| {
        b.iter(|| black_box(&counter).fetch_add(1, Relaxed));
    });
    g.bench_function("std_instant_now", |b| b.iter(std::time::Instant::now));
    g.bench_function("std_instant_elapsed", |b| {
        b.iter(|| std::time::Instant::now().elapsed());
    });
    let clock = quanta::Clock::new();
    g.bench_function("tsc_read", |b| b.iter(|| clock.raw()));
    g.bench_function("tsc_pair", |b| {
        b.iter(|| {
            let start = clock.raw();
            clock.delta_as_nanos(start, clock.raw())
        });
    });
    // The floor of one instrumented call: a TSC pair, a bucket search over
    // 11 integer-nanosecond bounds, and two relaxed adds (bucket and sum).
    let bounds_ns: [u64; 11] = BUCKETS_11.map(|s| (s * 1e9) as u64);
    let buckets: [AtomicU64; 12] = Default::default();
    let sum = AtomicU64::new(0);
    g.bench_function("tsc_pair_histogram", |b| {
        b.iter(|| {
            let start = clock.raw();
            black_box(());
            let ns = clock.delta_as_nanos(start, clock.raw());
            let i = black_box(&bounds_ns).partition_point(|b| *b < ns);
            buckets[i].fetch_add(1, Relaxed);
            sum.fetch_add(ns, Relaxed);
        });
    });
    g.finish();
}

fn without_subscriber(c: &mut Criterion) {
    autometrics::prometheus_exporter::init();
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&BUCKETS_11)
        .unwrap()
        .build_recorder();
    metrics::set_global_recorder(recorder).unwrap();
    let prom = PromVecs::new();
    let client = ClientFamilies::new();
    let measured = MeasuredGroup::new();

    let mut g = c.benchmark_group("empty_fn");
    g.bench_function("bare", |b| b.iter(empty_bare));
    g.bench_function("obs_span_false", |b| b.iter(empty_obs_no_span));
    g.bench_function("obs_no_subscriber", |b| b.iter(empty_obs));
    g.bench_function("autometrics", |b| b.iter(empty_autometrics));
    g.finish();

    let mut g = c.benchmark_group("add_fn");
    let args = || (black_box(2), black_box(3));
    g.bench_function("bare", |b| b.iter(|| add_bare(args().0, args().1)));
    g.bench_function("obs_span_false", |b| {
        b.iter(|| add_obs_no_span(args().0, args().1));
    });
    g.bench_function("obs_no_subscriber", |b| {
        b.iter(|| add_obs(args().0, args().1));
    });
    g.bench_function("autometrics", |b| {
        b.iter(|| add_autometrics(args().0, args().1));
    });
    g.bench_function("prometheus_vec_lookups", |b| {
        b.iter(|| prom.add(args().0, args().1));
    });
    g.bench_function("prometheus_client_families", |b| {
        b.iter(|| client.add(args().0, args().1));
    });
    g.bench_function("measured_vecs", |b| {
        b.iter(|| measured.add(args().0, args().1));
    });
    g.bench_function("metrics_macros", |b| {
        b.iter(|| add_metrics_macros(args().0, args().1));
    });
    g.finish();
}

fn with_noop_subscriber(c: &mut Criterion) {
    let subscriber = tracing_subscriber::registry().with(Noop);
    tracing::subscriber::with_default(subscriber, || {
        let mut g = c.benchmark_group("empty_fn");
        g.bench_function("obs_registry_noop_layer", |b| b.iter(empty_obs));
        g.bench_function("tracing_instrument_registry_noop_layer", |b| {
            b.iter(empty_tracing);
        });
        g.finish();
        let mut g = c.benchmark_group("add_fn");
        let args = || (black_box(2), black_box(3));
        g.bench_function("obs_registry_noop_layer", |b| {
            b.iter(|| add_obs(args().0, args().1));
        });
        g.bench_function("tracing_instrument_registry_noop_layer", |b| {
            b.iter(|| add_tracing(args().0, args().1));
        });
        g.finish();
    });
}

/// A parent span the sampler decided as `sampled` says.
fn parent(sampled: bool) -> tracing::Span {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    loop {
        let span = tracing::info_span!("bench_parent");
        if span.context().span().span_context().is_sampled() == sampled {
            return span;
        }
    }
}

/// What an exemplar costs, under the full pipeline: a call (and a bare
/// histogram observation) in a sampled parent keeps one; in an unsampled
/// parent it pays the check alone.
fn exemplars(c: &mut Criterion) {
    let histogram = obs_runtime::metrics::Histogram::<()>::new(
        "bench_exemplar_seconds",
        "Observations of the exemplar bench.",
        obs_runtime::schema::LATENCY,
    )
    .unwrap();
    let sampled = parent(true);
    let unsampled = parent(false);
    let mut g = c.benchmark_group("exemplar");
    let d = Duration::from_micros(300);
    g.bench_function("observe_outside_spans", |b| {
        b.iter(|| histogram.observe_duration(black_box(d)));
    });
    g.bench_function("observe_in_unsampled_span", |b| {
        unsampled.in_scope(|| b.iter(|| histogram.observe_duration(black_box(d))));
    });
    g.bench_function("observe_in_sampled_span", |b| {
        sampled.in_scope(|| b.iter(|| histogram.observe_duration(black_box(d))));
    });
    g.bench_function("add_fn_in_unsampled_span", |b| {
        unsampled.in_scope(|| b.iter(|| add_obs(black_box(2), black_box(3))));
    });
    g.bench_function("add_fn_in_sampled_span", |b| {
        sampled.in_scope(|| b.iter(|| add_obs(black_box(2), black_box(3))));
    });
    g.finish();
}

/// `#[tracing::instrument]` under the peer stack's subscriber
/// (`benches::peer`: `tracing-opentelemetry` with the same sampler and
/// exporter as `obs_full_pipeline`, JSON lines into a sink): what a team
/// pays per call with the stack it assembles by hand.
fn peer_stack(c: &mut Criterion) {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let provider = benches::peer::tracer_provider(&format!("http://127.0.0.1:{closed_port}"));
    let subscriber = benches::peer::subscriber(&provider, std::io::sink);
    tracing::subscriber::with_default(subscriber, || {
        let mut g = c.benchmark_group("empty_fn");
        g.bench_function("tracing_instrument_peer_stack", |b| b.iter(empty_tracing));
        g.finish();
        let mut g = c.benchmark_group("add_fn");
        g.bench_function("tracing_instrument_peer_stack", |b| {
            b.iter(|| add_tracing(black_box(2), black_box(3)));
        });
        g.finish();
    });
    std::thread::spawn(move || drop(provider.shutdown()));
}

/// The whole `obs_runtime::init()` pipeline as a service runs it: env
/// filter, OpenTelemetry layer with a `parentbased_traceidratio` 0.1 sampler and an
/// OTLP exporter whose collector is absent (a closed port: export fails
/// fast and is counted as dropped), JSON logs into a sink.
fn full_pipeline(c: &mut Criterion) {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let guard = obs_runtime::Builder::from_env()
        .span_export(obs_runtime::trace::SpanExport::OtlpHttp {
            endpoint: format!("http://127.0.0.1:{closed_port}"),
        })
        .sampler(obs_runtime::trace::SamplerChoice::ParentBasedTraceIdRatio(
            benches::peer::SAMPLE_RATIO,
        ))
        .log_writer(std::io::sink)
        .init();
    let mut g = c.benchmark_group("empty_fn");
    g.bench_function("obs_full_pipeline", |b| b.iter(empty_obs));
    g.finish();
    let mut g = c.benchmark_group("add_fn");
    g.bench_function("obs_full_pipeline", |b| {
        b.iter(|| add_obs(black_box(2), black_box(3)));
    });
    g.finish();
    exemplars(c);
    // Flushing to a closed port must not hang the benchmark.
    std::thread::spawn(move || drop(guard));
    std::thread::sleep(Duration::from_millis(10));
}

criterion_group!(
    benches,
    floor,
    without_subscriber,
    with_noop_subscriber,
    peer_stack,
    full_pipeline
);
criterion_main!(benches);
