//! What error tracking adds to a request that has no error: one request
//! through the hello-world router under `ObsLayer`, inside `init()`'s
//! pipeline (JSON access lines into a sink, spans on, none exported). With
//! `SENTRY_DSN` set, the pipeline also holds the error layer (each access
//! line becomes a breadcrumb of its request, each closed span is looked at
//! for a pending error) and the layer checks the status for a 5xx; nothing
//! is sent. `init()` installs a global subscriber once per process, so the
//! two cases are two runs of this bench, one after the other:
//!
//! ```sh
//! cargo bench -p benches --bench errors
//! SENTRY_DSN=http://public@127.0.0.1:9/1 cargo bench -p benches --bench errors
//! ```

use std::hint::black_box;

use benches::http::{router, serve};
use criterion::{Criterion, criterion_group, criterion_main};

fn request(c: &mut Criterion) {
    let on = std::env::var_os("SENTRY_DSN").is_some();
    let _guard = obs_runtime::Builder::from_env()
        .log_format(obs_runtime::log::LogFormat::Json)
        .log_writer(std::io::sink)
        .span_export(obs_runtime::trace::SpanExport::None)
        .init();
    let mut app = router().layer(obs_runtime::http::ObsLayer::new());
    let name = if on {
        "request_with_error_tracking"
    } else {
        "request_without_error_tracking"
    };
    c.bench_function(name, |b| b.iter(|| black_box(serve(&mut app))));
}

criterion_group!(benches, request);
criterion_main!(benches);
