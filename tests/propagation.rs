//! W3C Trace Context and Baggage on HTTP headers, round trip and hostile
//! input.

use obs_runtime::trace::propagation::{extract, inject};
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::trace::TraceContextExt as _;

#[test]
fn inject_after_extract_is_exact() {
    let mut incoming = http::HeaderMap::new();
    incoming.insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap(),
    );
    incoming.insert(
        "tracestate",
        "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7".parse().unwrap(),
    );
    incoming.insert("baggage", "tenant=gold,region=eu-west".parse().unwrap());
    let cx = extract(&incoming);
    let span = cx.span();
    let sc = span.span_context();
    assert!(sc.is_valid() && sc.is_remote() && sc.is_sampled());
    assert_eq!(
        sc.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
    assert_eq!(
        cx.baggage()
            .get("tenant")
            .map(ToString::to_string)
            .as_deref(),
        Some("gold")
    );

    let mut outgoing = http::HeaderMap::new();
    inject(&cx, &mut outgoing);
    assert_eq!(outgoing["traceparent"], incoming["traceparent"]);
    assert_eq!(outgoing["tracestate"], incoming["tracestate"]);
    let mut baggage: Vec<&str> = outgoing["baggage"].to_str().unwrap().split(',').collect();
    baggage.sort_unstable();
    assert_eq!(baggage, ["region=eu-west", "tenant=gold"]);

    let again = extract(&outgoing);
    assert_eq!(again.span().span_context(), sc);
}

#[test]
fn an_unsampled_parent_keeps_its_flag() {
    let mut h = http::HeaderMap::new();
    h.insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
            .parse()
            .unwrap(),
    );
    let cx = extract(&h);
    assert!(!cx.span().span_context().is_sampled());
    let mut out = http::HeaderMap::new();
    inject(&cx, &mut out);
    assert!(out["traceparent"].to_str().unwrap().ends_with("-00"));
}

#[test]
fn malformed_traceparents_are_ignored() {
    for bad in [
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", // trace id too short
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01", // span id too short
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // forbidden version
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // all-zero span id
        "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01", // not hex
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", // upper case
        "",
        "garbage",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra-fields",
    ] {
        let mut h = http::HeaderMap::new();
        h.insert("traceparent", bad.parse().unwrap());
        let cx = extract(&h);
        assert!(!cx.span().span_context().is_valid(), "accepted {bad:?}");
        let mut out = http::HeaderMap::new();
        inject(&cx, &mut out);
        assert!(!out.contains_key("traceparent"), "re-emitted {bad:?}");
    }
}
