//! The whole pipeline against a real OTLP/gRPC receiver: three instrumented
//! calls arrive as three spans with their parent links, names, status,
//! `result` attribute, `exception` event and the resource set through
//! `OTEL_*` variables; a JSON log line carries the exported span's ids.

#[path = "otlp/receiver.rs"]
mod receiver;

use std::time::Duration;

use obs_runtime::instrumented;

#[derive(Debug)]
struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined; contact ada@example.com")
    }
}

#[instrumented(metric = "tg_charge")]
async fn charge(amount: u32) -> Result<u32, Declined> {
    tokio::task::yield_now().await;
    tracing::info!(amount, "charging");
    if amount > 100 {
        Err(Declined)
    } else {
        Ok(amount)
    }
}

#[instrumented(metric = "tg_reserve")]
async fn reserve(amount: u32) -> Result<u32, Declined> {
    charge(amount).await
}

#[instrumented(metric = "tg_checkout")]
async fn checkout(amount: u32) -> Result<u32, Declined> {
    let handle = {
        use tracing::Instrument as _;
        // Propagated across `tokio::spawn` by the user, as documented.
        tokio::spawn(reserve(amount).in_current_span())
    };
    handle.await.expect("task")
}

#[test]
fn three_calls_arrive_as_three_linked_spans_with_the_resource() {
    let rx = receiver::start();
    // SAFETY: the only test of this binary sets the environment before any
    // other thread of ours reads it.
    unsafe {
        std::env::set_var("OTEL_SERVICE_NAME", "checkout-test");
        std::env::set_var(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.namespace=shop,deployment.environment.name=ci",
        );
        std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
        std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{}", rx.grpc));
        std::env::set_var("OBS_ENV", "production");
        // Production samples a tenth of new traces by default; this test
        // follows every span of one trace.
        std::env::set_var("OTEL_TRACES_SAMPLER", "parentbased_always_on");
    }
    let logs = obs_runtime::log::Captured::default();
    let guard = obs_runtime::Builder::from_env()
        .service_version("1.2.3")
        .log_writer(logs.clone())
        .try_init()
        .expect("init");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    assert!(rt.block_on(checkout(500)).is_err());
    guard.flush();
    let spans = rx.store.wait_for(Duration::from_secs(20), |s| s.len() >= 3);
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let by_name = |n: &str| {
        spans
            .iter()
            .find(|s| s.name == n)
            .unwrap_or_else(|| panic!("no span {n}: {spans:#?}"))
    };
    let (outer, middle, inner) = (by_name("checkout"), by_name("reserve"), by_name("charge"));
    assert_eq!(outer.parent_span_id, "", "checkout is the root");
    assert_eq!(middle.parent_span_id, outer.span_id);
    assert_eq!(inner.parent_span_id, middle.span_id);
    assert!(
        spans.iter().all(|s| s.trace_id == outer.trace_id),
        "one trace"
    );
    for s in [outer, middle, inner] {
        assert_eq!(s.status_code, 2, "{} is an error", s.name);
        assert_eq!(
            s.attributes.get("result").map(String::as_str),
            Some("error"),
            "{s:#?}"
        );
        assert_eq!(s.attributes.get("code.function"), Some(&s.name));
        // The error text is redacted before it reaches the span.
        assert_eq!(s.status_message, "card declined; contact [EMAIL]");
        let exception = s
            .events
            .iter()
            .find(|(n, _)| n == "exception")
            .expect("exception event");
        assert_eq!(
            exception.1.get("exception.message").map(String::as_str),
            Some("card declined; contact [EMAIL]")
        );
        assert!(
            exception
                .1
                .get("exception.type")
                .is_some_and(|t| t.ends_with("Declined"))
        );
    }
    let res = &inner.resource;
    assert_eq!(
        res.get("service.name").map(String::as_str),
        Some("checkout-test")
    );
    assert_eq!(
        res.get("service.version").map(String::as_str),
        Some("1.2.3")
    );
    assert_eq!(
        res.get("service.namespace").map(String::as_str),
        Some("shop")
    );
    assert_eq!(
        res.get("deployment.environment.name").map(String::as_str),
        Some("ci")
    );
    assert_eq!(
        res.get("process.pid"),
        Some(&std::process::id().to_string())
    );
    assert!(res.contains_key("host.name"), "{res:?}");
    assert_eq!(
        res.get("telemetry.sdk.language").map(String::as_str),
        Some("rust")
    );

    let line = logs
        .lines()
        .into_iter()
        .find(|l| l.contains("\"message\":\"charging\""))
        .expect("log line");
    let json: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
    assert_eq!(json["level"], "INFO");
    assert_eq!(json["amount"], 100 + 400);
    assert_eq!(json["trace_id"], inner.trace_id.as_str(), "{line}");
    assert_eq!(json["span_id"], inner.span_id.as_str(), "{line}");
    assert!(json["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    drop(guard);
}
