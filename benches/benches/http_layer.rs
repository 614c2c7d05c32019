//! One request through the hello-world axum router of `scripts/bench-http`,
//! in process: no socket, no hyper, no wrk. What the wrk run measures as a
//! share of throughput, this measures as nanoseconds and allocations per
//! request, with much less noise: the router alone, and the router under
//! `ObsLayer` with no subscriber (metrics and request ids; spans and the
//! access line disabled, as in the wrk run's `obs` server), beside what a
//! team writes for that work by hand (`tower-http`'s request-id layers,
//! `axum-prometheus`'s metric layer); then the
//! production pipelines: the peer stack a team assembles by hand
//! (`benches::peer`, under its own subscriber) and `ObsLayer` under
//! `obs_runtime::init()` (JSON access line to a sink, spans sampled at
//! `parentbased_traceidratio` 0.1 and exported over OTLP/HTTP to a closed
//! port, as `call_overhead`'s `obs_full_pipeline`). The last installs
//! itself for the process, so it runs last.
//!
//! Each iteration builds the request (as hyper would have), calls the
//! router, polls the response future and drains the body, then drops it
//! all, so the layer's work at every stage is inside the timing.

use std::hint::black_box;

use axum::Router;
use benches::http::{router, serve};
use benches::{CountingAlloc, record};
use criterion::{Criterion, criterion_group, criterion_main};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

/// Allocations per request, counted over many requests.
fn allocations(app: &mut Router) -> f64 {
    const N: u32 = 10_000;
    serve(app);
    let ((), spent) = ALLOC.count(|| {
        for _ in 0..N {
            serve(app);
        }
    });
    #[allow(clippy::cast_precision_loss)]
    let per = spent.allocations as f64 / f64::from(N);
    per
}

/// A loopback URL where nothing listens: exports fail fast.
fn closed_endpoint() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(9, |a| a.port());
    format!("http://127.0.0.1:{port}")
}

fn http_request(c: &mut Criterion) {
    let mut plain = router();
    let mut layered = router().layer(obs_runtime::http::ObsLayer::new());
    // Any layer added with `Router::layer` makes axum box the route's
    // service and future once more; this one does nothing else.
    let mut noop = benches::http::with_noop_layer(router());
    record(
        "http_in_process",
        &[
            (
                "allocations_without_layer".into(),
                allocations(&mut plain),
                "per request",
            ),
            (
                "allocations_with_noop_layer".into(),
                allocations(&mut noop),
                "per request",
            ),
            (
                "allocations_with_obs_layer".into(),
                allocations(&mut layered),
                "per request",
            ),
        ],
    );
    let mut g = c.benchmark_group("http_request");
    g.bench_function("axum_hello", |b| b.iter(|| black_box(serve(&mut plain))));
    g.bench_function("axum_hello_noop_layer", |b| {
        b.iter(|| black_box(serve(&mut noop)))
    });
    g.bench_function("axum_hello_obs_layer", |b| {
        b.iter(|| black_box(serve(&mut layered)));
    });

    // What a team writes by hand for the same work, without a
    // subscriber as the layer above: request ids (tower-http) and request
    // metrics (axum-prometheus).
    let mut request_ids = benches::peer::with_request_ids(router());
    g.bench_function("axum_hello_peer_request_id", |b| {
        b.iter(|| black_box(serve(&mut request_ids)));
    });
    let mut metrics = benches::peer::with_metrics(router());
    g.bench_function("axum_hello_peer_metrics", |b| {
        b.iter(|| black_box(serve(&mut metrics)));
    });

    let endpoint = closed_endpoint();
    let provider = benches::peer::tracer_provider(&endpoint);
    let mut peer = benches::peer::layered(router());
    tracing::subscriber::with_default(benches::peer::subscriber(&provider, std::io::sink), || {
        g.bench_function("axum_hello_peer_stack", |b| {
            b.iter(|| black_box(serve(&mut peer)));
        });
    });
    let guard = obs_runtime::Builder::from_env()
        .log_format(obs_runtime::log::LogFormat::Json)
        .log_writer(std::io::sink)
        .span_export(obs_runtime::trace::SpanExport::OtlpHttp { endpoint })
        .sampler(obs_runtime::trace::SamplerChoice::ParentBasedTraceIdRatio(
            benches::peer::SAMPLE_RATIO,
        ))
        .init();
    g.bench_function("axum_hello_obs_production", |b| {
        b.iter(|| black_box(serve(&mut layered)));
    });
    g.finish();
    // Flushing to a closed port must not hang the benchmark.
    std::thread::spawn(move || {
        drop(guard);
        drop(provider.shutdown());
    });
}

criterion_group!(benches, http_request);
criterion_main!(benches);
