//! A dead collector never blocks or crashes the program: calls finish,
//! memory stays bounded, drops are counted; a collector that starts later
//! receives new spans.

#[path = "otlp/receiver.rs"]
mod receiver;

use std::time::{Duration, Instant};

use obs_runtime::instrumented;
use obs_runtime::trace::SpanExport;

#[instrumented(metric = "td_work")]
fn work(i: u64) -> u64 {
    i * 2
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    statm
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 4096
}

fn dropped() -> u64 {
    let text = obs_runtime::encode_text();
    text.lines()
        .find_map(|l| l.strip_prefix("obs_telemetry_dropped_spans_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn calls_finish_drops_are_counted_and_a_late_collector_gets_spans() {
    let port = receiver::free_port();
    let guard = obs_runtime::Builder::from_env()
        .span_export(SpanExport::OtlpGrpc {
            endpoint: format!("http://{port}"),
        })
        .log_writer(std::io::sink)
        .try_init()
        .expect("init");
    let before = resident_bytes();
    let started = Instant::now();
    for i in 0..10_000 {
        assert_eq!(work(i), i * 2);
    }
    let spent = started.elapsed();
    guard.flush();
    let grown = resident_bytes().saturating_sub(before);
    eprintln!(
        "10,000 calls with the collector down took {spent:?}; resident memory grew {} KiB",
        grown / 1024
    );
    // Generous: the calls themselves must not wait on the network.
    assert!(spent < Duration::from_secs(20), "calls took {spent:?}");
    assert!(grown < 64 << 20, "resident memory grew by {grown} bytes");
    assert!(
        dropped() > 0,
        "drops are counted in obs_telemetry_dropped_spans_total"
    );

    let rx = receiver::start_on(port);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut i = 0;
    loop {
        work(i);
        i += 1;
        guard.flush();
        if !rx.store.spans().is_empty() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        !rx.store.spans().is_empty(),
        "the collector started later receives new spans"
    );
}
