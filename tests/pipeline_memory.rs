//! Memory under the whole production pipeline (issue 19): the example
//! service with JSON access lines, spans sampled at
//! `parentbased_traceidratio` 0.1 and exported over OTLP/gRPC to a real
//! receiver on loopback, driven by wrk for 60 s; from second 20 to 40 the
//! receiver stalls (takes the exports, answers none). Resident memory,
//! sampled every second, stays within 10 % of what it was after a 10 s
//! warm-up until the stall; the stall fills the bounded export queue, a
//! one-time step of a few MiB (14 % of a 29 MiB debug build: the issue's
//! "< 10 % after warm-up" is not met by that step, see BENCHMARKS.md), and
//! from then on memory is flat again (< 10 %) through the stall, its end
//! and the 20 s after. When the receiver answers again, spans reach it
//! again.

#[path = "otlp/receiver.rs"]
mod receiver;
mod service_support;

use std::process::Command;
use std::time::{Duration, Instant};

use service_support::{ExampleService, tool};

const RUN: Duration = Duration::from_secs(60);
const WARM_UP: Duration = Duration::from_secs(10);
const STALL_FROM: Duration = Duration::from_secs(20);
const STALL_UNTIL: Duration = Duration::from_secs(40);

/// What a full export queue may add: 2,048 queued spans and a batch of
/// 512 in flight, at about 1.6 KiB each as measured here, twice over.
const QUEUE_BOUND: u64 = 8 << 20;
/// How long the queue takes to fill once the receiver stalls (it took 3 s
/// at 3,500 requests/s in a debug build).
const QUEUE_FILLS: Duration = Duration::from_secs(5);

fn peak_between(samples: &[(Duration, u64)], from: Duration, to: Duration) -> u64 {
    samples
        .iter()
        .filter(|(at, _)| *at >= from && *at < to)
        .map(|(_, rss)| *rss)
        .max()
        .unwrap_or(0)
}

#[allow(clippy::cast_precision_loss)]
fn growth(from: u64, to: u64) -> f64 {
    to as f64 / from as f64
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn resident_memory_stays_flat_through_a_stalled_collector() {
    let rx = receiver::start();
    let endpoint = format!("http://{}", rx.grpc);
    let service = ExampleService::start_with(&[
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
        // The access line is written at info (to stderr, here /dev/null).
        ("RUST_LOG", "info"),
        ("OBS_ENV", "production"),
    ]);
    let url = format!("http://{}/users/42", service.addr);
    let wrk = std::thread::spawn({
        let seconds = RUN.as_secs();
        move || {
            Command::new(tool("wrk", "wrk"))
                .args(["-t2", "-c32", &format!("-d{seconds}s"), &url])
                .output()
                .expect("run wrk")
        }
    });

    let started = Instant::now();
    let mut samples: Vec<(Duration, u64)> = Vec::new();
    let mut stalled = false;
    let mut spans_before_stall = 0;
    let mut spans_at_release = 0;
    let mut second = 1;
    while started.elapsed() < RUN {
        // Sampled on the second, whatever the sampling itself took.
        let next = started + Duration::from_secs(second);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        second += 1;
        let at = started.elapsed();
        if !stalled && at >= STALL_FROM && at < STALL_UNTIL {
            spans_before_stall = rx.store.spans().len();
            rx.store.hold();
            stalled = true;
        } else if stalled && at >= STALL_UNTIL {
            rx.store.release();
            stalled = false;
            // What the stall held is answered and kept now; what comes
            // after it is the proof that export resumed.
            std::thread::sleep(Duration::from_millis(200));
            spans_at_release = rx.store.spans().len();
        }
        samples.push((at, service.resident_bytes()));
    }
    rx.store.release();

    let out = wrk.join().expect("wrk thread");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wrk failed: {report}");
    assert!(
        !report.contains("Non-2xx or 3xx"),
        "error responses: {report}"
    );

    let warm = samples
        .iter()
        .find(|(at, _)| *at >= WARM_UP)
        .map(|(_, rss)| *rss)
        .expect("a sample after the warm-up");
    let (peak_at, peak) = samples
        .iter()
        .filter(|(at, _)| *at >= WARM_UP)
        .max_by_key(|(_, rss)| *rss)
        .copied()
        .expect("samples");
    let last = samples.last().map(|(_, rss)| *rss).expect("samples");
    let metrics = service_support::get(service.addr, "/metrics")
        .expect("metrics")
        .text();
    let rps = report
        .lines()
        .find(|l| l.starts_with("Requests/sec"))
        .unwrap_or_default();
    eprintln!(
        "{rps}; resident after warm-up {} KiB, peak {} KiB at {:.0} s, at the end {} KiB; \
         spans received: {spans_before_stall} before the stall, {spans_at_release} at release, \
         {} in all; dropped spans counted: {}; per second (KiB): {:?}",
        warm / 1024,
        peak / 1024,
        peak_at.as_secs_f64(),
        last / 1024,
        rx.store.spans().len(),
        metric(&metrics, "obs_telemetry_dropped_spans_total"),
        samples.iter().map(|(_, r)| r / 1024).collect::<Vec<_>>(),
    );

    // Flat while the receiver answers: a healthy pipeline under load does
    // not grow.
    let before_stall = peak_between(&samples, WARM_UP, STALL_FROM);
    assert!(
        growth(warm, before_stall) < 1.10,
        "resident memory grew {:.1} % between the warm-up and the stall",
        (growth(warm, before_stall) - 1.0) * 100.0
    );
    // The stall fills the export queue (2,048 spans) and holds one batch
    // in flight (512): one bounded step, about 4 MiB here. Twice that is
    // the bound; a queue that grew with the stall would pass it.
    assert!(
        peak.saturating_sub(warm) < QUEUE_BOUND,
        "resident memory grew {} KiB after the warm-up (peak at {peak_at:?}), more than the full export queue accounts for",
        peak.saturating_sub(warm) / 1024
    );
    // Once the queue is full, flat again: through the rest of the stall,
    // the release and the 20 s after it.
    let queue_full = samples
        .iter()
        .find(|(at, _)| *at >= STALL_FROM + QUEUE_FILLS)
        .map(|(_, rss)| *rss)
        .expect("a sample in the stall");
    let after = peak_between(&samples, STALL_FROM + QUEUE_FILLS, RUN);
    assert!(
        growth(queue_full, after) < 1.10,
        "resident memory grew {:.1} % after the export queue filled",
        (growth(queue_full, after) - 1.0) * 100.0
    );
    assert!(
        spans_before_stall > 0,
        "no span reached the receiver before the stall"
    );
    let resumed = rx
        .store
        .wait_for(Duration::from_secs(15), |s| s.len() > spans_at_release);
    assert!(
        resumed.len() > spans_at_release,
        "no span reached the receiver after the stall ended ({spans_at_release} by then)"
    );
}
