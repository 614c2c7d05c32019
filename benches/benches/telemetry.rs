//! Log lines per second through the obs formatter, JSON and console, one
//! thread, into a sink, and through `tracing-subscriber`'s own JSON
//! formatter (the peer stack's, which redacts nothing) with the same
//! events. (The span of an instrumented call against
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
