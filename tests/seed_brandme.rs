//! Seed 000 (Brand.Me): the parity list `examples/seeds/seed_brandme.parity`
//! checked row by row, and the trace behaviour the list can't express —
//! a service call carries the trace and the correlation id to the policy
//! service, a failed lookup is an error in its span's trace, the
//! correlation id comes back under the name it came in — on the example
//! `seed_brandme` as a real process.

#[path = "seed_support/parity.rs"]
mod parity;
#[path = "otlp/receiver.rs"]
mod receiver;
#[path = "seed_support/seed.rs"]
mod seed;
#[path = "service_support/mod.rs"]
mod service_support;

use seed::Seed;

use std::time::Duration;

use service_support::{get, request};

/// Every row of `examples/seeds/seed_brandme.parity` met or out of scope.
#[test]
fn brandme_parity() {
    parity::check("seed_brandme");
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

/// 000 "Service call trace propagation", "Correlation IDs": the policy
/// service's line for the call has the gateway's trace id and request id.
#[test]
fn service_calls_carry_the_trace() {
    let seed = Seed::start("seed_brandme", &[]);
    let answer =
        request(seed.addr, "POST", "/scan", &[("X-Request-ID", "scan-0001")]).expect("an answer");
    assert_eq!(answer.status, 200, "{}", answer.text());
    let lines = seed.wait_for_log(|l| l.contains("scan recorded"));
    let find = |message: &str| {
        lines
            .iter()
            .map(|l| json(l))
            .find(|l| l["message"] == message)
            .unwrap_or_else(|| panic!("no {message:?} line in {lines:#?}"))
    };
    let (gateway, policy) = (find("scan recorded"), find("policy decided"));
    assert_eq!(gateway["request_id"], "scan-0001");
    assert_eq!(
        policy["request_id"], "scan-0001",
        "the correlation id crossed the call"
    );
    let trace_id = gateway["trace_id"].as_str().expect("a trace id");
    assert_eq!(trace_id.len(), 32);
    assert_eq!(policy["trace_id"], trace_id, "the trace crossed the call");
    assert_ne!(
        policy["span_id"], gateway["span_id"],
        "the policy service's own span"
    );
    let scrape = get(seed.addr, "/metrics").expect("scrape").text();
    assert!(
        scrape.contains(r#"service_calls_total{target_service="policy",status="ok",service="brandme-gateway"} 1"#),
        "{scrape}"
    );
    assert!(
        scrape.contains(r#"scans_total{service="brandme-gateway"} 1"#),
        "{scrape}"
    );
}

/// 000 "Error recording in spans": a failed lookup is an error event in
/// the request's trace, and an `errors_total` of its type.
#[test]
fn errors_are_recorded_in_their_trace() {
    let seed = Seed::start("seed_brandme", &[]);
    assert_eq!(seed.call("GET", "/garments/0").status, 404);
    let lines = seed.wait_for_log(|l| l.contains("garment lookup failed"));
    let lines: Vec<serde_json::Value> = lines.iter().map(|l| json(l)).collect();
    let warning = lines
        .iter()
        .find(|l| l["message"] == "garment lookup failed: no garment 0")
        .expect("the handler's line");
    let error = lines
        .iter()
        .find(|l| l["level"] == "ERROR" && l["trace_id"] == warning["trace_id"])
        .unwrap_or_else(|| panic!("no error in the request's trace: {lines:#?}"));
    assert_eq!(error["exception.message"], "no garment 0", "{error}");
    let scrape = get(seed.addr, "/metrics").expect("scrape").text();
    assert!(
        scrape.contains(r#"errors_total{error_type="not_found",service="brandme-gateway"} 1"#),
        "{scrape}"
    );
}

/// 000 "Correlation IDs": an `X-Correlation-ID` comes back under that name.
#[test]
fn correlation_id_is_echoed() {
    let seed = Seed::start("seed_brandme", &[]);
    let answer = request(
        seed.addr,
        "GET",
        "/garments/7",
        &[("X-Correlation-ID", "brandme-42")],
    )
    .expect("an answer");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-correlation-id"), Some("brandme-42"));
}

/// 000 "OpenTelemetry Tracing" on a real OTLP receiver: the scan's server
/// span, the client span of the call to the policy service under it, the
/// policy service's server span under that (one trace across the call),
/// and a failed garment lookup recorded as an error span.
#[test]
fn spans_cross_the_service_call_and_record_errors() {
    let rx = receiver::start();
    let endpoint = format!("http://{}", rx.http);
    let seed = Seed::start(
        "seed_brandme",
        &[
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_TRACES_SAMPLER", "parentbased_always_on"),
        ],
    );
    assert_eq!(seed.call("POST", "/scan").status, 200);
    assert_eq!(seed.call("GET", "/garments/0").status, 404);
    let spans = rx.store.wait_for(Duration::from_secs(20), |spans| {
        spans.iter().any(|s| s.name == "POST /decide")
            && spans.iter().any(|s| s.name == "query_garment")
    });
    let find = |name: &str, kind: i32| {
        spans
            .iter()
            .find(|s| s.name == name && s.kind == kind)
            .unwrap_or_else(|| panic!("no {name} span of kind {kind}: {spans:#?}"))
    };
    let scan = find("POST /scan", 2);
    let policy = find("POST /decide", 2);
    let call = spans
        .iter()
        .find(|s| s.kind == 3 && s.trace_id == scan.trace_id)
        .unwrap_or_else(|| panic!("no client span in the scan's trace: {spans:#?}"));
    assert_eq!(call.parent_span_id, scan.span_id, "the call under the scan");
    assert_eq!(policy.trace_id, scan.trace_id, "one trace across services");
    assert_eq!(
        policy.parent_span_id, call.span_id,
        "the policy span under the call"
    );
    let request = find("GET /garments/{id}", 2);
    let lookup = spans
        .iter()
        .find(|s| s.name == "query_garment" && s.trace_id == request.trace_id)
        .unwrap_or_else(|| panic!("no lookup span in the request's trace: {spans:#?}"));
    assert_eq!(lookup.status_code, 2, "an error span: {lookup:#?}");
    assert_eq!(lookup.resource["service.name"], "brandme-gateway");
}
