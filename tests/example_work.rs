//! The example service beyond the request, run as a user runs it: with
//! real PostgreSQL and Redis behind `DATABASE_URL` and `REDIS_URL`, an
//! order (`POST /orders/{sku}`) makes an outbound call to the in-process
//! inventory service and queues a receipt job; `/metrics` shows the call,
//! the job and both connection pools, and the log lines of the inventory
//! and of the job carry the order request's trace and request id.

#[path = "health_support/servers.rs"]
#[allow(dead_code)]
mod servers;
mod service_support;

use std::time::Duration;

use service_support::{ExampleService, get, request, wait_for};

fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn orders_call_out_queue_a_job_and_the_pools_are_scraped() {
    let pg = servers::Postgres::start();
    let redis = servers::Redis::start();
    let database_url = format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port);
    let redis_url = format!("redis://127.0.0.1:{}", redis.port);
    let log_dir = std::env::temp_dir().join(format!("obs-example-work-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&log_dir);
    let service = ExampleService::start_with(&[
        ("DATABASE_URL", &database_url),
        ("REDIS_URL", &redis_url),
        ("RUST_LOG", "info"),
        ("OBS_LOG_DIR", log_dir.to_str().unwrap()),
    ]);

    let placed = request(
        service.addr,
        "POST",
        "/orders/42",
        &[("x-request-id", "order-req-42")],
    )
    .expect("an answer");
    assert_eq!(placed.status, 200, "{}", placed.text());
    assert!(placed.text().contains("placed"));

    // The job runs on the worker task after the answer: wait for it.
    let metrics = wait_for(Duration::from_secs(30), || {
        let m = get(service.addr, "/metrics")?.text();
        (value(
            &m,
            r#"job_runs_total{queue="receipts",job_name="send_receipt",result="ok"}"#,
        ) == Some(1.0))
        .then_some(m)
    })
    .expect("the receipt job ran once");
    assert_eq!(
        value(
            &metrics,
            r#"job_queue_wait_seconds_count{queue="receipts",job_name="send_receipt"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&metrics, r#"job_queue_depth{queue="receipts"}"#),
        Some(0.0)
    );
    assert!(metrics.contains(
        r#"job_worker_last_seen_timestamp_seconds{queue="receipts",worker="receipts-1"}"#
    ));
    // One outbound call, answered 200; no path in any label.
    let calls: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("http_client_request_duration_seconds_count{"))
        .collect();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].contains(r#"http_request_method="GET",server_address="127.0.0.1""#));
    assert!(calls[0].contains(r#"http_response_status_code="200",error_type="""#));
    assert!(calls[0].ends_with(" 1"), "{calls:?}");
    assert!(
        metrics
            .lines()
            .filter(|l| l.starts_with("http_client_"))
            .all(|l| !l.contains("stock")),
        "a path in an outbound call's label"
    );
    // The inventory's own server side counted the call under its route.
    assert!(metrics.contains(r#"http_route="/stock/{sku}""#));
    // The pools, read at this scrape.
    assert!(
        value(
            &metrics,
            r#"db_client_connection_max{pool_name="database"}"#
        )
        .is_some_and(|m| m >= 1.0),
        "{metrics}"
    );
    assert!(metrics.contains(r#"db_client_connection_count{pool_name="database",state="idle"}"#));
    assert!(metrics.contains(r#"db_client_connection_count{pool_name="cache",state="used"}"#));
    // The readiness probe pinged Redis (and the registration did): connected.
    assert_eq!(get(service.addr, "/readyz").map(|r| r.status), Some(200));
    let metrics = get(service.addr, "/metrics").unwrap().text();
    assert_eq!(
        value(&metrics, r#"redis_connected{pool_name="cache"}"#),
        Some(1.0),
        "{metrics}"
    );

    // The order's request id and trace reach the inventory's and the job's
    // log lines.
    let lines = wait_for(Duration::from_secs(30), || {
        let text: String = std::fs::read_dir(&log_dir)
            .ok()?
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .collect();
        let wanted: Vec<String> = text
            .lines()
            .filter(|l| l.contains("stock looked up") || l.contains("receipt sent"))
            .map(str::to_owned)
            .collect();
        (wanted.len() == 2).then_some(wanted)
    })
    .expect("both log lines written");
    let trace_of = |l: &str| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["request_id"], "order-req-42", "{l}");
        v["trace_id"].as_str().unwrap().to_owned()
    };
    assert_eq!(trace_of(&lines[0]), trace_of(&lines[1]));
    let _ = std::fs::remove_dir_all(&log_dir);
}
