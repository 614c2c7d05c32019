//! Telemetry costs: log lines per second through the obs JSON formatter
//! (one thread, into a sink), and the price of the span of an instrumented
//! call against `#[tracing::instrument]` on the same function, both under
//! `registry().with(<a no-op layer>)` (a bare `registry()` never frees
//! closed spans, so it is no fair subscriber).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use obs_runtime::instrumented;
use obs_runtime::log::LogFormat;
use tracing_subscriber::layer::SubscriberExt as _;

/// A layer that does nothing, so spans are created and closed for real.
struct Noop;
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Noop {}

#[inline(never)]
#[instrumented(metric = "bench_span_obs")]
fn add_obs(a: u64, b: u64) -> u64 {
    black_box(a) + black_box(b)
}

#[inline(never)]
#[instrumented(metric = "bench_span_off", span = false)]
fn add_obs_no_span(a: u64, b: u64) -> u64 {
    black_box(a) + black_box(b)
}

#[inline(never)]
#[tracing::instrument(skip_all)]
fn add_tracing(a: u64, b: u64) -> u64 {
    black_box(a) + black_box(b)
}

#[inline(never)]
fn add_bare(a: u64, b: u64) -> u64 {
    black_box(a) + black_box(b)
}

fn span_overhead(c: &mut Criterion) {
    let subscriber = tracing_subscriber::registry().with(Noop);
    tracing::subscriber::with_default(subscriber, || {
        let mut g = c.benchmark_group("span_per_call");
        g.bench_function("bare", |b| b.iter(|| add_bare(black_box(2), black_box(3))));
        g.bench_function("obs_instrumented", |b| {
            b.iter(|| add_obs(black_box(2), black_box(3)))
        });
        g.bench_function("obs_instrumented_span_false", |b| {
            b.iter(|| add_obs_no_span(black_box(2), black_box(3)))
        });
        g.bench_function("tracing_instrument_skip_all", |b| {
            b.iter(|| add_tracing(black_box(2), black_box(3)))
        });
        g.finish();
    });
}

fn log_throughput(c: &mut Criterion) {
    let mut g = c.benchmark_group("log_line");
    g.throughput(Throughput::Elements(1));
    for (name, format) in [("json", LogFormat::Json), ("console", LogFormat::Pretty)] {
        let subscriber =
            tracing_subscriber::registry().with(obs_runtime::log::layer(format, std::io::sink));
        tracing::subscriber::with_default(subscriber, || {
            g.bench_function(name, |b| {
                b.iter(|| {
                    tracing::info!(
                        order_id = 4_211_u64,
                        region = "eu-west-1",
                        retry = false,
                        "order placed"
                    );
                });
            });
        });
    }
    g.finish();
}

criterion_group!(benches, span_overhead, log_throughput);
criterion_main!(benches);
