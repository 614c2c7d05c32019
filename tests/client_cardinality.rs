//! 10,000 outbound calls through `client::ObsClientLayer`, each to another
//! loopback address (`127.0.x.y`, a closed port: refused at once), with a
//! query string of its own: the client families stay within their series
//! cap, the rest is counted in the overflow series, no call is lost and
//! no query reaches a label. A binary of its own: the cap is the
//! process's, set before the families exist.

use axum::body::Bytes;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use obs_runtime::client::ObsClientLayer;
use tower::{Layer as _, ServiceExt as _};

const CAP: usize = 500;
const CALLS: u32 = 10_000;

#[test]
fn ten_thousand_hosts_stay_within_the_series_cap() {
    obs_runtime::metrics::set_default_max_series(CAP);
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = ObsClientLayer::new()
        .layer(Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>());
    let failures = rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        let mut failures = 0u32;
        for i in 0..CALLS {
            // 127.0.0.1 .. 127.0.39.250: every address is loopback.
            let host = format!("127.0.{}.{}", i / 250, i % 250 + 1);
            let uri = format!("http://{host}:{port}/item?secret=s{i}");
            let call = client
                .clone()
                .oneshot(http::Request::get(uri).body(Empty::new()).unwrap());
            tasks.spawn(call);
            // At most 64 calls at once: quick, and no descriptor shortage.
            if tasks.len() >= 64 {
                failures += u32::from(tasks.join_next().await.unwrap().unwrap().is_err());
            }
        }
        while let Some(result) = tasks.join_next().await {
            failures += u32::from(result.unwrap().is_err());
        }
        failures
    });
    assert_eq!(failures, CALLS, "every call is refused, none panics");

    let text = obs_runtime::encode_text();
    let counts: Vec<(&str, f64)> = text
        .lines()
        .filter(|l| l.starts_with("http_client_request_duration_seconds_count{"))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            (series, value.parse().unwrap())
        })
        .collect();
    let (overflow, kept): (Vec<_>, Vec<_>) = counts
        .iter()
        .partition(|(series, _)| series.contains("__overflow__"));
    assert!(kept.len() <= CAP, "{} series kept", kept.len());
    assert_eq!(overflow.len(), 1, "one overflow series");
    let total: f64 = counts.iter().map(|(_, n)| n).sum();
    assert_eq!(total, f64::from(CALLS), "every call counted once");
    assert!(
        kept.iter()
            .all(|(series, _)| series.contains("error_type=\"connect\"")),
        "{kept:?}"
    );
    let gauges = text
        .lines()
        .filter(|l| l.starts_with("http_client_active_requests{"))
        .count();
    assert!(gauges <= CAP + 1, "{gauges} active-request series");
    assert!(
        text.lines()
            .filter(|l| l.starts_with("obs_cardinality_overflow_total"))
            .any(|l| l.contains("http_client_request_duration_seconds")),
        "the overflow is counted"
    );
    for line in text.lines().filter(|l| l.starts_with("http_client_")) {
        assert!(
            !line.contains("secret") && !line.contains("/item"),
            "{line}"
        );
    }
}
