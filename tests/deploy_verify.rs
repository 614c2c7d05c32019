//! The deployment verification CLI (`examples/obs_deploy.rs`) against real
//! processes: three example services (a baseline, a canary that behaves
//! like it, and one that regresses), a real Prometheus scraping all three
//! every second as three jobs, and the CLI run as a process, its exit
//! status and report checked.

#[path = "otlp/pki.rs"]
mod pki;
#[path = "service_support/mod.rs"]
mod service_support;
#[path = "health_support/tls.rs"]
mod tls;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use service_support::prometheus::Prometheus;
use service_support::{ExampleService, example_binary_named, free_port, get, wait_for};

/// Runs the CLI: (exit code, stdout).
fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(example_binary_named("obs_deploy"))
        .args(args)
        .output()
        .expect("run obs_deploy");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (
        out.status.code().expect("exit code"),
        format!("{stdout}{stderr}"),
    )
}

/// Requests `path` on `addr` until `stop` is set, a few dozen a second.
fn traffic(
    addr: SocketAddr,
    path: &'static str,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let _ = get(addr, path);
            // Pacing, not waiting for a condition: a steady load that
            // leaves the shared cores to the services and Prometheus.
            std::thread::sleep(Duration::from_millis(20));
        }
    })
}

#[test]
fn verify_and_canary_against_real_services_and_prometheus() {
    let baseline = ExampleService::start();
    let alike = ExampleService::start();
    let regressed = ExampleService::start();

    // verify: a healthy instance passes with the default series and with
    // a family of the example's own.
    let url = format!("http://{}", alike.addr);
    let (code, report) = run(&["verify", &url]);
    assert_eq!(code, 0, "{report}");
    for line in [
        "ok    readiness: GET /readyz answered 200",
        "ok    metrics: valid Prometheus text 0.0.4",
        "ok    http_server_request_duration_seconds: histogram",
        "ok    health_check_status: gauge",
        "ok    obs_build_info: gauge",
        "PASS",
    ] {
        assert!(report.contains(line), "{line:?} missing from:\n{report}");
    }
    let (code, report) = run(&["verify", &url, "--require", "llm_tokens_total"]);
    assert_eq!(code, 0, "{report}");
    // A series the service does not expose fails, and says which.
    let (code, report) = run(&["verify", &url, "--require", "checkout_orders_total"]);
    assert_eq!(code, 1, "{report}");
    assert!(
        report.contains("FAIL  checkout_orders_total: not exposed"),
        "{report}"
    );
    // Nothing listening: readiness and metrics both fail.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let (code, report) = run(&["verify", &nowhere]);
    assert_eq!(code, 1, "{report}");
    assert!(report.contains("FAIL  readiness"), "{report}");
    assert!(report.contains("FAIL  metrics"), "{report}");
    // A URL that answers, but not as an obs service: /readyz is 404.
    let (code, report) = run(&["verify", &format!("{url}/nothing-here")]);
    assert_eq!(code, 1, "{report}");
    assert!(
        report.contains("FAIL  readiness: GET /readyz answered 404"),
        "{report}"
    );
    // Bad usage is exit 2, not a verdict.
    let (code, report) = run(&["verify", "ftp://example.invalid"]);
    assert_eq!(code, 2, "{report}");
    assert!(report.contains("an http:// or https:// URL"), "{report}");
    // https (seed 002's deploy_url): through a TLS front on loopback whose
    // certificate only `--ca` makes trusted.
    let pki = pki::generate("deploy-verify");
    let front = format!("https://localhost:{}", tls_front(&pki, alike.addr).port());
    let ca = pki.ca.to_str().expect("utf-8 path");
    let (code, report) = run(&["verify", &front, "--ca", ca]);
    assert_eq!(code, 0, "{report}");
    assert!(report.contains(&format!("verify {front}")), "{report}");
    assert!(
        report.contains("ok    metrics: valid Prometheus text 0.0.4"),
        "{report}"
    );
    let (code, report) = run(&["verify", &front]);
    assert_eq!(code, 1, "an untrusted certificate must fail: {report}");
    assert!(report.contains("FAIL  readiness"), "{report}");

    // canary: one Prometheus, one job per instance.
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n{}",
        [
            ("baseline", baseline.addr),
            ("canary-alike", alike.addr),
            ("canary-regressed", regressed.addr),
        ]
        .iter()
        .map(|(job, addr)| {
            format!("  - job_name: {job}\n    static_configs:\n      - targets: ['{addr}']\n")
        })
        .collect::<String>()
    );
    let prometheus = Prometheus::with_config(
        "deploy-verify",
        &config,
        &["--storage.tsdb.path=data"],
        &[],
        &[],
    );
    let stop = Arc::new(AtomicBool::new(false));
    // The baseline and the alike canary serve the same cached lookups;
    // the regressed one serves /ask, slower, and every 25th answer is 503.
    let drivers = [
        traffic(baseline.addr, "/users/7", stop.clone()),
        traffic(alike.addr, "/users/7", stop.clone()),
        traffic(regressed.addr, "/ask", stop.clone()),
    ];
    let has = |promql: String| {
        let p = &prometheus;
        move || {
            p.try_query(&promql).ok().filter(|r| {
                r.first()
                    .and_then(|s| s["value"][1].as_str())
                    .and_then(|v| v.parse::<f64>().ok())
                    .is_some_and(|v| v > 0.0)
            })
        }
    };
    for job in ["baseline", "canary-alike", "canary-regressed"] {
        let q =
            format!(r#"sum(rate(http_server_request_duration_seconds_count{{job="{job}"}}[30s]))"#);
        assert!(
            wait_for(Duration::from_secs(60), has(q)).is_some(),
            "prometheus has no request rate of {job}: {}",
            prometheus.log()
        );
    }
    let q = r#"sum(rate(http_server_request_duration_seconds_count{job="canary-regressed",http_response_status_code=~"5.."}[30s]))"#;
    assert!(
        wait_for(Duration::from_secs(60), has(q.to_owned())).is_some(),
        "prometheus has no 5xx of the regressed canary"
    );

    let prom = format!("http://{}", prometheus.addr);
    let compare = |canary: &str, extra: &[&str]| {
        let mut args = vec![
            "canary",
            "--prometheus",
            &prom,
            "--canary",
            canary,
            "--baseline",
            r#"job="baseline""#,
            "--max-ratio",
            "1.2",
            "--for",
            "30s",
            "--verbose",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    // Alike: the same route, the same latency, no errors. The median, not
    // the p95: on a shared machine the tail of a 1 ms route is scheduling
    // noise that a bucket boundary can turn into a ratio of 2.
    let (code, report) = compare(r#"job="canary-alike""#, &["--quantile", "0.5"]);
    println!("{report}");
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("ok    latency: p50"), "{report}");
    assert!(
        report.contains("ok    errors: 5xx canary 0.0000, baseline 0"),
        "{report}"
    );
    assert!(report.contains("PASS"), "{report}");
    // The PromQL the README documents.
    assert!(
        report.contains(r#"histogram_quantile(0.5, sum by (le) (rate(http_server_request_duration_seconds_bucket{job="canary-alike"}[30s])))"#),
        "{report}"
    );
    // Regressed: 4 % of answers are 503 against none, over the budget.
    let (code, report) = compare(r#"{job="canary-regressed"}"#, &[]);
    println!("{report}");
    assert_eq!(code, 1, "{report}");
    assert!(report.contains("FAIL  errors: 5xx canary 0.0"), "{report}");
    assert!(report.contains("FAIL: the canary regressed"), "{report}");
    // A canary nobody sends requests to: no traffic, a failure.
    let (code, report) = compare(r#"job="canary-absent""#, &[]);
    assert_eq!(code, 1, "{report}");
    assert!(
        report.contains("no traffic: the canary served no requests"),
        "{report}"
    );
    // A Prometheus that is not there: a failure that says so.
    let (code, report) = run(&[
        "canary",
        "--prometheus",
        &nowhere,
        "--canary",
        r#"job="canary-alike""#,
        "--baseline",
        r#"job="baseline""#,
    ]);
    assert_eq!(code, 1, "{report}");
    assert!(report.contains("FAIL  prometheus"), "{report}");

    stop.store(true, Ordering::Relaxed);
    for d in drivers {
        d.join().expect("traffic thread");
    }
}

/// A TLS front on loopback (certificate of `pki`, for `localhost`) that
/// passes each request on to `backend` in clear and the answer back.
fn tls_front(pki: &pki::Pki, backend: SocketAddr) -> SocketAddr {
    use std::io::{Read as _, Write as _};

    tls::serve_tls(&pki.server_cert, &pki.server_key, move |request| {
        let mut plain = std::net::TcpStream::connect(backend).ok()?;
        let mut answer = Vec::new();
        plain.write_all(request).ok()?;
        plain.read_to_end(&mut answer).ok()?;
        Some(answer)
    })
}
