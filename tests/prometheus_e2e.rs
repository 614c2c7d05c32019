//! End to end with a real Prometheus: the example service is scraped every
//! second, a few hundred requests later Prometheus's own API answers the
//! queries a dashboard would make, every `http_route` is a template, and
//! `promtool check metrics` finds nothing wrong with the exposition.

mod service_support;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use service_support::prometheus::Prometheus;
use service_support::{ExampleService, get, request, tool, wait_for};

/// The first sample of an instant query, as a number.
fn scalar(prometheus: &Prometheus, promql: &str) -> Option<f64> {
    let result = query(prometheus, promql);
    result.first()?["value"][1].as_str()?.parse().ok()
}

/// An instant query's result vector; a query error fails the test.
fn query(prometheus: &Prometheus, promql: &str) -> Vec<serde_json::Value> {
    prometheus
        .try_query(promql)
        .unwrap_or_else(|e| panic!("{promql}: {e}"))
}

#[test]
fn a_real_prometheus_scrapes_the_example_service() {
    let service = ExampleService::start();
    let prometheus = Prometheus::start("prometheus-e2e", "obs", service.addr);

    // A few hundred requests over every route, and some that match none,
    // spread over the scrapes so rate() sees them grow.
    let addr = service.addr;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let driver = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut sent = 0_u64;
            while sent < 300 || !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let i = sent;
                let path = match i % 5 {
                    0 | 1 => format!("/users/{}", 1 + i * 37 % 2_000),
                    2 => "/ask?provider=anthropic&q=how+are+you".to_owned(),
                    3 => format!("/no/such/page/{i}"),
                    _ => "/scan".to_owned(),
                };
                let method = if i % 5 == 4 { "POST" } else { "GET" };
                let r = request(addr, method, &path, &[]).expect("the service answers");
                assert!(
                    r.status < 500 || path.starts_with("/ask"),
                    "{path}: {}",
                    r.status
                );
                sent += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            sent
        })
    };

    let up = wait_for(Duration::from_secs(60), || {
        scalar(&prometheus, r#"up{job="obs"}"#).filter(|v| *v == 1.0)
    });
    assert_eq!(up, Some(1.0), "target not up: {}", prometheus.log());
    let rate = wait_for(Duration::from_secs(60), || {
        scalar(
            &prometheus,
            "sum(rate(http_server_request_duration_seconds_count[30s]))",
        )
        .filter(|v| *v > 0.0)
    });
    assert!(
        rate.is_some_and(|r| r > 0.0),
        "no request rate: {}",
        prometheus.log()
    );
    let p99 = scalar(
        &prometheus,
        "histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket[30s])))",
    );
    assert!(
        p99.is_some_and(f64::is_finite),
        "p99 is not a number: {p99:?}"
    );
    eprintln!(
        "request rate {:.1}/s, p99 {:.4} s",
        rate.unwrap(),
        p99.unwrap()
    );

    let routes = get(prometheus.addr, "/api/v1/label/http_route/values").expect("label values");
    let routes: serde_json::Value = serde_json::from_slice(&routes.body).unwrap();
    let routes: Vec<&str> = routes["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let mut expected = vec!["/ask", "/scan", "/users/{id}", "unmatched"];
    expected.sort_unstable();
    assert_eq!(routes, expected, "every http_route is a template");

    // What the business metrics and the instrumented functions say.
    let scans = scalar(&prometheus, "scan_runs_total").expect("scan_runs_total scraped");
    assert!(scans > 0.0);
    let lookups =
        scalar(&prometheus, r#"sum(user_lookup_calls_total{result="ok"})"#).expect("calls scraped");
    assert!(lookups > 0.0);

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = driver.join().expect("the request driver");
    eprintln!("{sent} requests driven");

    // promtool judges the exposition itself.
    let body = get(service.addr, "/metrics").expect("metrics").body;
    let mut promtool = Command::new(tool("promtool", "prometheus"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    promtool.stdin.take().unwrap().write_all(&body).unwrap();
    let out = promtool.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "promtool check metrics: exit {}, output {:?}",
        out.status,
        report.trim()
    );
    assert!(
        out.status.success() && report.trim().is_empty(),
        "promtool: {report}"
    );
}
