//! Shutdown within its deadline against a collector that accepts
//! connections and never answers: `ObsGuard::flush` and its drop return
//! within their documented 5 s, and the example service exits within 10 s
//! of SIGTERM (Kubernetes kills at 30 s), with spans and an OTLP metrics
//! push both waiting on it.

#[path = "otlp/receiver.rs"]
mod receiver;
mod service_support;

use std::time::Duration;

use obs_runtime::log::{Captured, LogFormat};
use obs_runtime::trace::SpanExport;

/// The documented deadline, and the margin a loaded machine gets on top.
const DEADLINE: Duration = Duration::from_secs(5);
const MARGIN: Duration = Duration::from_secs(3);

#[test]
fn the_guard_flushes_and_shuts_down_within_its_deadline() {
    let collector = receiver::silent_collector();
    let guard = obs_runtime::Builder::from_env()
        .span_export(SpanExport::OtlpGrpc {
            endpoint: format!("http://{collector}"),
        })
        .log_format(LogFormat::Json)
        .log_writer(Captured::default())
        .try_init()
        .expect("init");
    for i in 0..100 {
        tracing::info_span!("work", i).in_scope(|| tracing::info!("step"));
    }
    receiver::bounded_flush_and_drop(guard, DEADLINE + MARGIN);
}

#[test]
fn the_example_exits_within_ten_seconds_of_sigterm() {
    let collector = receiver::silent_collector();
    let endpoint = format!("http://{collector}");
    let mut service = service_support::ExampleService::start_with(&[
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_TRACES_SAMPLER", "always_on"),
        // Metrics pushed to the same silent collector: the last push
        // shares the guard's deadline with the spans.
        ("OTEL_METRICS_EXPORTER", "otlp"),
    ]);
    // Spans to export: requests through ObsLayer.
    for _ in 0..20 {
        let _ = service_support::get(service.addr, "/users/1");
    }
    let took = service.terminate(Duration::from_secs(30));
    let took = took.expect("the example still ran 30 s after SIGTERM");
    assert!(
        took < Duration::from_secs(10),
        "exited {took:?} after SIGTERM"
    );
}
