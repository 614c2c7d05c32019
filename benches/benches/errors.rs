//! What error tracking adds to a request that has no error: one request
//! through the hello-world router under `ObsLayer`, inside `init()`'s
//! pipeline (JSON access lines into a sink, spans on, none exported). With
//! `SENTRY_DSN` set, the pipeline also holds the error layer (each access
//! line becomes a breadcrumb of its request, each closed span is looked at
//! for a pending error) and the layer checks the status for a 5xx; nothing
//! is sent.
//!
//! `init()` installs a global subscriber once per process, so each sample
//! of a case runs in a child process of this bench (the same binary, with
//! `OBS_BENCH_ERRORS_CHILD` set): the child sets the pipeline up, warms up,
//! then times 200 requests per iteration criterion asks for and prints
//! the time per 200 (so a sample is the child's loop, not its start-up;
//! the figure criterion reports is the time of one request).
//! Both cases are thus measured in one criterion run, their samples
//! interleaved by criterion's own schedule:
//!
//! ```sh
//! cargo bench -p benches --bench errors
//! ```

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use benches::http::{router, serve};
use criterion::{Criterion, criterion_group, criterion_main};

const CHILD: &str = "OBS_BENCH_ERRORS_CHILD";
/// A DSN on a closed port: error tracking runs, nothing is ever sent.
const DSN: &str = "http://public@127.0.0.1:9/1";

/// Requests a child times per iteration criterion asks for, so the time of
/// a sample is the child's loop, not its start-up; the child reports the
/// time per `BATCH` requests.
const BATCH: u64 = 200;

/// In the child: `iters` × [`BATCH`] requests after a warm-up, timed; the
/// time printed is per batch of that many.
fn child(iters: u64) {
    let _guard = obs_runtime::Builder::from_env()
        .log_format(obs_runtime::log::LogFormat::Json)
        .log_writer(std::io::sink)
        .span_export(obs_runtime::trace::SpanExport::None)
        .init();
    let mut app = router().layer(obs_runtime::http::ObsLayer::new());
    for _ in 0..2_000 {
        black_box(serve(&mut app));
    }
    let start = Instant::now();
    for _ in 0..iters * BATCH {
        black_box(serve(&mut app));
    }
    println!(
        "OBS_BENCH_NANOS {}",
        start.elapsed().as_nanos() / u128::from(BATCH)
    );
}

/// Runs `iters` requests in a child, with or without error tracking.
fn timed_in_child(iters: u64, with_errors: bool) -> Duration {
    let mut command = Command::new(std::env::current_exe().expect("the bench binary"));
    command
        .arg("--bench")
        .env(CHILD, iters.to_string())
        .env_remove("SENTRY_DSN");
    if with_errors {
        command.env("SENTRY_DSN", DSN);
    }
    let out = command.output().expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let nanos = stdout
        .lines()
        .find_map(|l| l.strip_prefix("OBS_BENCH_NANOS "))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            panic!(
                "the child printed no timing\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    Duration::from_nanos(nanos)
}

fn request(c: &mut Criterion) {
    if let Some(iters) = std::env::var(CHILD).ok().and_then(|n| n.parse().ok()) {
        child(iters);
        std::process::exit(0);
    }
    let mut g = c.benchmark_group("request");
    g.bench_function("without_error_tracking", |b| {
        b.iter_custom(|iters| timed_in_child(iters, false));
    });
    g.bench_function("with_error_tracking", |b| {
        b.iter_custom(|iters| timed_in_child(iters, true));
    });
    g.finish();
}

criterion_group!(benches, request);
criterion_main!(benches);
