//! Load with `wrk` on loopback: ten seconds against `/users/{id}` bring no
//! errors, and the service's resident memory after the run stays within
//! 10 % of what it was after a two-second warm-up.

mod service_support;

use std::process::Command;

use service_support::{ExampleService, tool};

/// Runs wrk and returns its report; fails on socket errors or non-2xx.
fn wrk(url: &str, seconds: u32) -> String {
    let out = Command::new(tool("wrk", "wrk"))
        .args(["-t2", "-c32", &format!("-d{seconds}s"), "--latency", url])
        .output()
        .expect("run wrk");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "wrk failed: {report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!report.contains("Socket errors"), "socket errors: {report}");
    assert!(
        !report.contains("Non-2xx or 3xx"),
        "error responses: {report}"
    );
    assert!(report.contains("Requests/sec"), "{report}");
    report
}

#[test]
fn ten_seconds_of_load_without_errors_or_growth() {
    let service = ExampleService::start();
    let url = format!("http://{}/users/42", service.addr);
    wrk(&url, 2);
    let warm = service.resident_bytes();
    let report = wrk(&url, 10);
    let after = service.resident_bytes();
    let requests_per_second = report
        .lines()
        .find(|l| l.starts_with("Requests/sec"))
        .unwrap_or_default();
    eprintln!(
        "{requests_per_second}; resident after warm-up {} KiB, after the run {} KiB",
        warm / 1024,
        after / 1024
    );
    #[allow(clippy::cast_precision_loss)]
    let growth = after as f64 / warm as f64;
    assert!(
        growth < 1.10,
        "resident memory grew {:.1} % under load",
        (growth - 1.0) * 100.0
    );
    // The service still answers, and counted what it served.
    let metrics = service_support::get(service.addr, "/metrics")
        .expect("metrics")
        .text();
    assert!(
        metrics.lines().any(|l| l.starts_with(
            r#"http_server_request_duration_seconds_count{http_request_method="GET",http_route="/users/{id}",http_response_status_code="200""#
        )),
        "{metrics}"
    );
}
