//! Log lines per second through the obs formatter, JSON and console, one
//! thread, into a sink, and through `tracing-subscriber`'s own JSON
//! formatter (the peer stack's, which redacts nothing) with the same
//! events; and the JSON line inside two enclosing spans, with and without
//! fields of their own (what the log context costs per line: the spans'
//! fields are rendered once, when recorded, so only the copy is per line).
//! (The span of an instrumented call against
//! `#[tracing::instrument]` is measured in `call_overhead`.)

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use obs_runtime::log::LogFormat;
use tracing_subscriber::layer::SubscriberExt as _;

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
    // The same event two spans deep: spans without fields (the scope walk
    // alone), then spans with four context fields between them.
    let subscriber = tracing_subscriber::registry()
        .with(obs_runtime::log::layer(LogFormat::Json, std::io::sink));
    tracing::subscriber::with_default(subscriber, || {
        let outer = tracing::info_span!("mission");
        let inner = tracing::info_span!(parent: &outer, "step");
        inner.in_scope(|| {
            g.bench_function("json_in_2_spans_no_fields", |b| {
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
        let outer = tracing::info_span!("mission", mission_id = "m-4211", tenant = "acme");
        let inner = tracing::info_span!(parent: &outer, "step", step = 2_u64, user = "u-17");
        inner.in_scope(|| {
            g.bench_function("json_in_2_spans_with_context", |b| {
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
    });
    let peer = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::sink),
    );
    tracing::subscriber::with_default(peer, || {
        g.bench_function("tracing_subscriber_json", |b| {
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
    g.finish();
}

criterion_group!(benches, log_throughput);
criterion_main!(benches);
