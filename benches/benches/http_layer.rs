//! One request through the hello-world axum router of `scripts/bench-http`,
//! in process: no socket, no hyper, no wrk. What the wrk run measures as a
//! share of throughput, this measures as nanoseconds and allocations per
//! request, with much less noise: the router alone, and the router under
//! `ObsLayer` with no subscriber (metrics and request ids; spans and the
//! access line disabled, as in the wrk run's `obs` server).
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
    g.finish();
}

criterion_group!(benches, http_request);
criterion_main!(benches);
