//! `ObsLayer::metric_names(HttpMetricNames::Instrumentator)`: after
//! requests, the scrape carries the `prometheus-fastapi-instrumentator`
//! families with their labels (grouped statuses, `none` for unmatched
//! paths, its buckets), beside the OpenTelemetry ones; the in-progress
//! gauge goes up during a request and back to 0 after, also for a request
//! whose caller went away.
//!
//! With `instrumentator(InstrumentatorOptions::default().route_label(
//! RouteLabel::Endpoint).exact_status(true))` the route is under
//! `endpoint` and the status exact (`200`), unmatched paths still `none`.
//!
//! Its own test binary: the families are process-wide (the `endpoint`
//! spelling runs in a child process of its own).

#[path = "otlp/child.rs"]
mod child;

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use obs_runtime::http::{HttpMetricNames, InstrumentatorOptions, ObsLayer, RouteLabel};
use tower::ServiceExt as _;

static GATE: tokio::sync::Notify = tokio::sync::Notify::const_new();

fn app() -> Router {
    Router::new()
        .route(
            "/items/{id}",
            get(|Path(id): Path<u64>| async move { format!("item {id}") }),
        )
        .route(
            "/items",
            post(|body: String| async move { body.len().to_string() }),
        )
        .route(
            "/boom",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down") }),
        )
        .route(
            "/held",
            get(|| async {
                GATE.notified().await;
                "released"
            }),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "nothing here") })
        .layer(ObsLayer::new().metric_names(HttpMetricNames::Instrumentator))
}

async fn send(req: Request<Body>) -> StatusCode {
    let response = app().oneshot(req).await.unwrap();
    let status = response.status();
    let _ = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    status
}

fn get_req(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn line(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scrape_carries_the_instrumentator_families() {
    for id in 1..=3 {
        assert_eq!(send(get_req(&format!("/items/{id}"))).await, StatusCode::OK);
    }
    let post = Request::post("/items")
        .header("content-length", "11")
        .body(Body::from("hello world"))
        .unwrap();
    assert_eq!(send(post).await, StatusCode::OK);
    assert_eq!(
        send(get_req("/boom")).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(send(get_req("/no/such/thing")).await, StatusCode::NOT_FOUND);

    let text = obs_runtime::encode_text();
    for family in [
        "# TYPE http_requests_total counter",
        "# TYPE http_request_duration_seconds histogram",
        "# TYPE http_request_duration_highr_seconds histogram",
        "# TYPE http_request_size_bytes histogram",
        "# TYPE http_response_size_bytes histogram",
        "# TYPE http_requests_in_progress gauge",
        // The OpenTelemetry families stay.
        "# TYPE http_server_request_duration_seconds histogram",
    ] {
        assert!(text.contains(family), "{family} missing:\n{text}");
    }
    let total = |handler: &str, method: &str, status: &str| {
        line(
            &text,
            &format!(
                r#"http_requests_total{{handler="{handler}",method="{method}",status="{status}"}}"#
            ),
        )
    };
    assert_eq!(total("/items/{id}", "GET", "2xx"), Some(3.0), "{text}");
    assert_eq!(total("/items", "POST", "2xx"), Some(1.0), "{text}");
    assert_eq!(total("/boom", "GET", "5xx"), Some(1.0), "{text}");
    assert_eq!(
        total("none", "GET", "4xx"),
        Some(1.0),
        "unmatched is `none`:\n{text}"
    );
    // The instrumentator's low-resolution buckets, by handler and method.
    for le in ["0.1", "0.5", "1", "+Inf"] {
        let prefix = format!(
            r#"http_request_duration_seconds_bucket{{handler="/items/{{id}}",method="GET",le="{le}"}}"#
        );
        assert_eq!(line(&text, &prefix), Some(3.0), "{prefix}:\n{text}");
    }
    assert!(
        !text.contains(
            r#"http_request_duration_seconds_bucket{handler="/items/{id}",method="GET",le="0.25"}"#
        ),
        "only the instrumentator's buckets"
    );
    // The high-resolution histogram has no labels and sees every request.
    assert_eq!(
        line(&text, "http_request_duration_highr_seconds_count"),
        Some(6.0),
        "{text}"
    );
    assert!(text.contains(r#"http_request_duration_highr_seconds_bucket{le="0.075"}"#));
    // Sizes from Content-Length, by handler.
    assert_eq!(
        line(&text, r#"http_request_size_bytes_sum{handler="/items"}"#),
        Some(11.0),
        "{text}"
    );
    assert_eq!(
        line(&text, r#"http_response_size_bytes_sum{handler="/boom"}"#),
        Some(4.0),
        "{text}"
    );
    assert_eq!(
        line(
            &text,
            r#"http_requests_in_progress{handler="/items/{id}",method="GET"}"#
        ),
        Some(0.0),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_progress_counts_a_held_request_and_returns_to_zero_when_dropped() {
    let held = tokio::spawn(app().oneshot(get_req("/held")));
    let gauge = r#"http_requests_in_progress{handler="/held",method="GET"}"#;
    let deadline = Instant::now() + Duration::from_secs(10);
    while line(&obs_runtime::encode_text(), gauge) != Some(1.0) {
        assert!(Instant::now() < deadline, "{}", obs_runtime::encode_text());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The caller goes away: not counted as a response, out of the gauge.
    held.abort();
    let _ = held.await;
    let text = obs_runtime::encode_text();
    assert_eq!(line(&text, gauge), Some(0.0), "{text}");
    assert!(
        !text.contains(r#"http_requests_total{handler="/held""#),
        "{text}"
    );
}

#[test]
fn the_route_label_can_be_endpoint_and_statuses_exact() {
    child::in_own_process("the_route_label_can_be_endpoint_and_statuses_exact", || {
        let app = || {
            Router::new()
                .route(
                    "/orders/{id}",
                    get(|Path(id): Path<u64>| async move { format!("order {id}") }),
                )
                .route("/gone", get(|| async { (StatusCode::GONE, "gone") }))
                .fallback(|| async { (StatusCode::NOT_FOUND, "nothing here") })
                .layer(
                    ObsLayer::new().instrumentator(
                        InstrumentatorOptions::default()
                            .route_label(RouteLabel::Endpoint)
                            .exact_status(true)
                            .latency_buckets(&[0.1, 0.5, 1.0, 2.5, 5.0]),
                    ),
                )
        };
        // Registered with the layer: the scrape shows the families before
        // any request.
        let _ = app();
        assert!(obs_runtime::encode_text().contains("# TYPE http_requests_total counter"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            for (uri, want) in [
                ("/orders/1", StatusCode::OK),
                ("/orders/2", StatusCode::OK),
                ("/gone", StatusCode::GONE),
                ("/no/such/thing", StatusCode::NOT_FOUND),
            ] {
                let response = app().oneshot(get_req(uri)).await.unwrap();
                assert_eq!(response.status(), want, "{uri}");
                let _ = axum::body::to_bytes(response.into_body(), 1 << 20).await;
            }
        });
        let text = obs_runtime::encode_text();
        let total = |endpoint: &str, status: &str| {
            line(
                &text,
                &format!(
                    r#"http_requests_total{{endpoint="{endpoint}",method="GET",status="{status}"}}"#
                ),
            )
        };
        assert_eq!(total("/orders/{id}", "200"), Some(2.0), "{text}");
        assert_eq!(total("/gone", "410"), Some(1.0), "{text}");
        assert_eq!(
            total("none", "404"),
            Some(1.0),
            "unmatched is `none`:\n{text}"
        );
        assert_eq!(total("/orders/{id}", "2xx"), None, "exact, not grouped");
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("http_") && l.contains("handler=")),
            "no `handler` label:\n{text}"
        );
        for series in [
            r#"http_request_duration_seconds_count{endpoint="/orders/{id}",method="GET"}"#,
            r#"http_request_size_bytes_count{endpoint="/orders/{id}"}"#,
            r#"http_response_size_bytes_count{endpoint="/orders/{id}"}"#,
        ] {
            assert_eq!(line(&text, series), Some(2.0), "{series}:\n{text}");
        }
        assert_eq!(
            line(
                &text,
                r#"http_requests_in_progress{endpoint="/orders/{id}",method="GET"}"#
            ),
            Some(0.0),
            "{text}"
        );
        // The team's latency buckets, not the instrumentator's 0.1/0.5/1.
        for le in ["0.1", "2.5", "5", "+Inf"] {
            let series = format!(
                r#"http_request_duration_seconds_bucket{{endpoint="/orders/{{id}}",method="GET",le="{le}"}}"#
            );
            assert_eq!(line(&text, &series), Some(2.0), "{series}:\n{text}");
        }
        runtime.shutdown_timeout(Duration::from_secs(1));
    });
}
