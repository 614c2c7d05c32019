//! Sampling over a real OTLP/HTTP receiver: `parentbased_traceidratio` at
//! 0.1 keeps about a tenth of root traces, exports every child of a kept
//! root and none of a dropped one, always honours a remote parent that was
//! sampled and never exports under one that was not.

#[path = "otlp/receiver.rs"]
mod receiver;

use std::time::Duration;

use obs_runtime::instrumented;
use obs_runtime::trace::{SamplerChoice, SpanExport, propagation};

#[instrumented(metric = "ts_root")]
fn root_call(i: u32) -> u32 {
    child_call(i)
}

#[instrumented(metric = "ts_inner")]
fn child_call(i: u32) -> u32 {
    i
}

#[instrumented(metric = "ts_child")]
fn handle_remote(i: u32) -> u32 {
    i
}

#[test]
fn a_tenth_of_roots_and_every_sampled_remote_parent() {
    const ROOTS: u32 = 10_000;
    const REMOTE: u32 = 200;
    let rx = receiver::start();
    let guard = obs_runtime::Builder::from_env()
        .span_export(SpanExport::OtlpHttp {
            endpoint: format!("http://{}", rx.http),
        })
        .sampler(SamplerChoice::ParentBasedTraceIdRatio(0.1))
        .log_writer(std::io::sink)
        .try_init()
        .expect("init");
    for i in 0..ROOTS {
        root_call(i);
        // Let the export worker keep up, so no sampled span is dropped.
        if i % 1_000 == 999 {
            guard.flush();
        }
    }
    for i in 0..REMOTE {
        let mut headers = http::HeaderMap::new();
        let traceparent = format!(
            "00-{:032x}-{:016x}-01",
            0xabc0_0000_u128 + u128::from(i),
            0x1000 + u64::from(i)
        );
        headers.insert("traceparent", traceparent.parse().unwrap());
        let span = tracing::info_span!("incoming");
        propagation::continue_from(&span, &headers);
        span.in_scope(|| handle_remote(i));
    }
    // Callers that did not sample (flags 00): nothing of theirs leaves.
    for i in 0..REMOTE {
        let mut headers = http::HeaderMap::new();
        let traceparent = format!(
            "00-{:032x}-{:016x}-00",
            0xdef0_0000_u128 + u128::from(i),
            0x2000 + u64::from(i)
        );
        headers.insert("traceparent", traceparent.parse().unwrap());
        let span = tracing::info_span!("incoming_unsampled");
        propagation::continue_from(&span, &headers);
        span.in_scope(|| handle_remote(i));
    }
    guard.flush();
    let spans = rx.store.wait_for(Duration::from_secs(20), |s| {
        s.iter().filter(|x| x.name == "handle_remote").count() >= REMOTE as usize
    });
    let roots = spans.iter().filter(|s| s.name == "root_call").count();
    let share = roots as f64 / f64::from(ROOTS);
    eprintln!("sampled {roots} of {ROOTS} root calls: {share:.4}");
    assert!((0.08..=0.12).contains(&share), "sampled share {share}");
    // Every kept root's child is exported, under it; no child without its
    // root.
    let children: Vec<_> = spans.iter().filter(|s| s.name == "child_call").collect();
    assert_eq!(children.len(), roots, "one child per kept root");
    for child in &children {
        assert!(
            spans.iter().any(|r| r.name == "root_call"
                && r.trace_id == child.trace_id
                && r.span_id == child.parent_span_id),
            "a child without its root: {child:?}"
        );
    }
    let remote = spans.iter().filter(|s| s.name == "handle_remote").count();
    assert_eq!(
        remote, REMOTE as usize,
        "every sampled remote parent is honoured, and no unsampled one"
    );
    assert!(
        !spans
            .iter()
            .any(|s| s.trace_id.starts_with("000000000000000000000000def")
                || s.name == "incoming_unsampled"),
        "a span of an unsampled caller was exported"
    );
    let dropped = obs_runtime::encode_text();
    assert!(
        dropped.contains("obs_telemetry_dropped_spans_total 0\n"),
        "{dropped}"
    );
}
