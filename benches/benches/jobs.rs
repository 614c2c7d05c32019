//! One job run through `obs_runtime::jobs` against the bare call of the
//! same future, in process and with no subscriber (the job's span
//! disabled, as `http_layer` runs `ObsLayer`): what a run adds in metrics
//! (two label lookups in capped maps, in flight up and down, a counter and
//! a duration), the panic guard and the span check. Also the enqueue side:
//! capturing a `TraceCarrier` and writing it as text, and reading it back.
//!
//! Each future is polled once with a no-op waker: it is ready at once, so
//! no runtime's scheduling is in the timing.

use std::future::Future;
use std::hint::black_box;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, criterion_group, criterion_main};
use obs_runtime::jobs::{Queue, TraceCarrier};

/// Polls a future that is ready at once.
fn ready<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = std::pin::pin!(future);
    let Poll::Ready(out) = future.as_mut().poll(&mut cx) else {
        panic!("the job completes at once");
    };
    out
}

async fn work(n: u64) -> Result<u64, std::io::Error> {
    Ok(black_box(n).wrapping_mul(3))
}

fn jobs(c: &mut Criterion) {
    let queue = Queue::new("bench_queue");
    let worker = queue.worker("w1");
    let carrier = TraceCarrier::capture();
    let text = carrier.to_string();

    let mut g = c.benchmark_group("job_run");
    g.bench_function("bare_call", |b| b.iter(|| ready(work(black_box(7)))));
    g.bench_function("job_run", |b| {
        b.iter(|| ready(queue.job("bench_job").run(work(black_box(7)))));
    });
    g.bench_function("job_run_with_carrier_and_worker", |b| {
        b.iter(|| {
            ready(
                queue
                    .job("bench_job")
                    .carrier(&carrier)
                    .worker(&worker)
                    .run(work(black_box(7))),
            )
        });
    });
    g.finish();

    let mut g = c.benchmark_group("trace_carrier");
    g.bench_function("capture_and_to_string", |b| {
        b.iter(|| black_box(TraceCarrier::capture().to_string()));
    });
    g.bench_function("parse", |b| {
        b.iter(|| black_box(TraceCarrier::parse(black_box(&text))));
    });
    g.finish();
}

criterion_group!(benches, jobs);
criterion_main!(benches);
