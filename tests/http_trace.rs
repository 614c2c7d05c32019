//! A request through `ObsLayer` under `init()`'s pipeline, exported to a
//! real OTLP receiver: the server span continues the caller's
//! `traceparent`, is named `METHOD route` with the HTTP semantic-convention
//! attributes, parents the instrumented handler's span, and its access-log
//! line carries the trace, span and request ids and sanitized headers.

#[path = "otlp/receiver.rs"]
mod receiver;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::Request;
use axum::routing::get;
use obs_runtime::instrumented;
use obs_runtime::log::{Captured, LogFormat};
use obs_runtime::trace::SpanExport;
use tower::ServiceExt as _;

#[derive(Debug)]
struct Missing;

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no such order")
    }
}

#[instrumented(metric = "ht_load_order")]
async fn load_order(id: u64) -> Result<u64, Missing> {
    tracing::info!(id, "loading");
    if id == 0 { Err(Missing) } else { Ok(id) }
}

#[test]
fn server_spans_continue_traceparent_and_parent_the_handler() {
    let rx = receiver::start();
    let logs = Captured::default();
    let guard = obs_runtime::Builder::from_env()
        .span_export(SpanExport::OtlpGrpc {
            endpoint: format!("http://{}", rx.grpc),
        })
        .log_format(LogFormat::Json)
        .log_writer(logs.clone())
        .try_init()
        .expect("init");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/orders/{id}",
            get(|Path(id): Path<u64>| async move {
                load_order(id)
                    .await
                    .map(|n| n.to_string())
                    .map_err(|e| e.to_string())
            }),
        )
        .layer(obs_runtime::http::ObsLayer::new());
    let response = rt.block_on(
        app.clone().oneshot(
            Request::get("/orders/17?token=abc")
                .header(
                    "traceparent",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                )
                .header("x-request-id", "req-e2e-1")
                .header("authorization", "Bearer s3cr3t-t0ken-value")
                .header("user-agent", "probe/1.0")
                .body(Body::empty())
                .unwrap(),
        ),
    );
    assert_eq!(response.unwrap().status(), 200);
    guard.flush();
    let spans = rx.store.wait_for(Duration::from_secs(20), |s| s.len() >= 2);
    let server = spans
        .iter()
        .find(|s| s.name == "GET /orders/{id}")
        .unwrap_or_else(|| panic!("{spans:#?}"));
    let handler = spans
        .iter()
        .find(|s| s.name == "load_order")
        .unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(
        server.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736",
        "the caller's trace"
    );
    assert_eq!(
        server.parent_span_id, "00f067aa0ba902b7",
        "the caller's span is the parent"
    );
    assert_eq!(server.kind, 2, "a server span");
    assert_eq!(
        handler.parent_span_id, server.span_id,
        "the handler runs inside the server span"
    );
    let attr = |k: &str| server.attributes.get(k).map(String::as_str);
    assert_eq!(attr("http.request.method"), Some("GET"));
    assert_eq!(attr("http.route"), Some("/orders/{id}"));
    assert_eq!(attr("url.path"), Some("/orders/17"));
    assert_eq!(attr("http.response.status_code"), Some("200"));
    assert_eq!(attr("user_agent.original"), Some("probe/1.0"));
    assert_eq!(attr("request_id"), Some("req-e2e-1"));

    let lines = logs.lines();
    let access = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .find(|j| j["target"] == "obs::access")
        .unwrap_or_else(|| panic!("no access line in {lines:#?}"));
    assert_eq!(access["message"], "GET /orders/{id} 200");
    assert_eq!(access["trace_id"], server.trace_id.as_str());
    assert_eq!(access["span_id"], server.span_id.as_str());
    assert_eq!(access["request_id"], "req-e2e-1");
    let headers = access["headers"]
        .as_str()
        .expect("headers on the access line");
    assert!(
        headers.contains("authorization: [REDACTED]") && !headers.contains("s3cr3t"),
        "{headers}"
    );
    assert!(headers.contains("user-agent: probe/1.0"), "{headers}");
    let inner = lines
        .iter()
        .find(|l| l.contains("\"message\":\"loading\""))
        .expect("the handler's line");
    assert!(inner.contains("\"request_id\":\"req-e2e-1\""), "{inner}");

    // One request with a 300 KB header and a long query: its access line
    // stays a few kilobytes (each value capped), not 300 KB.
    let huge = "h".repeat(300_000);
    let query = "q".repeat(50_000);
    let response = rt.block_on(
        app.oneshot(
            Request::get(format!("/orders/18?{query}"))
                .header("x-request-id", "req-huge")
                .header("x-junk", huge.as_str())
                .body(Body::empty())
                .unwrap(),
        ),
    );
    assert_eq!(response.unwrap().status(), 200);
    let lines = logs.lines();
    let line = lines
        .iter()
        .find(|l| l.contains("obs::access") && l.contains("req-huge"))
        .unwrap_or_else(|| panic!("no access line for the huge request"));
    let max = obs_runtime::log::MAX_VALUE_LEN;
    assert!(line.len() < 4 * max, "{} bytes", line.len());
    assert!(line.contains("[truncated "), "the cut is marked");
    drop(guard);
}
