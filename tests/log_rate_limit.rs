//! The per-call-site log rate limit: a flood of one repeated event costs a
//! few lines and one summary, distinct events are never hidden behind it,
//! and the suppressed count is exposed.

use std::time::Duration;

use obs_runtime::log::{Captured, LogFormat, RateLimit};
use tracing_subscriber::layer::SubscriberExt as _;

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

fn missing_user(id: u32) {
    tracing::error!(user = id, "no such user");
}

#[test]
fn a_flood_from_one_call_site_is_cut_to_the_burst_and_summarised() {
    let lines = Captured::default();
    let interval = Duration::from_millis(300);
    let layer = obs_runtime::log::layer_with(
        LogFormat::Json,
        lines.clone(),
        Some(RateLimit::new(3, interval)),
    );
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for id in 0..1_000 {
            missing_user(id);
        }
        tracing::warn!("a different event");
        // The next interval: the first event of the flooded site is
        // preceded by the summary of what the last one dropped.
        std::thread::sleep(interval + Duration::from_millis(50));
        missing_user(1_000);
    });
    let got: Vec<serde_json::Value> = lines.lines().iter().map(|l| json(l)).collect();
    let floods = got
        .iter()
        .filter(|j| j["message"] == "no such user")
        .count();
    assert_eq!(
        floods, 4,
        "3 in the first interval, 1 in the next: {got:#?}"
    );
    assert!(
        got.iter().any(|j| j["message"] == "a different event"),
        "another call site is not limited by the flood"
    );
    let summary = got
        .iter()
        .find(|j| j["target"] == "obs::log")
        .unwrap_or_else(|| panic!("a summary line: {got:#?}"));
    assert_eq!(summary["suppressed"], 997);
    assert_eq!(summary["level"], "WARN");
    assert!(
        summary["message"]
            .as_str()
            .is_some_and(|m| m.contains("suppressed 997 events") && m.contains("log_rate_limit")),
        "{summary}"
    );
    // The summary comes right before the event that carried it.
    let at = got.iter().position(|j| j["target"] == "obs::log").unwrap();
    assert_eq!(got[at + 1]["user"], 1_000);
    let text = obs_runtime::encode_text();
    assert!(
        text.lines()
            .any(|l| l.starts_with("obs_log_events_suppressed_total ") && l.ends_with(" 997")),
        "{text}"
    );
}

#[test]
fn the_access_line_is_never_limited() {
    // One access line per request is what an access log is: a busy route
    // is no flood to cut.
    let lines = Captured::default();
    let layer = obs_runtime::log::layer_with(
        LogFormat::Json,
        lines.clone(),
        Some(RateLimit::new(3, Duration::from_secs(60))),
    );
    let subscriber = tracing_subscriber::registry().with(layer);
    // (Nothing else is logged: the suppressed counter is the process's,
    // and the test above counts it exactly.)
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..50 {
            tracing::info!(target: "obs::access", "GET /users/{{id}} 200");
        }
    });
    let got: Vec<serde_json::Value> = lines.lines().iter().map(|l| json(l)).collect();
    let access = got.iter().filter(|j| j["target"] == "obs::access").count();
    assert_eq!(access, 50, "a burst of 3 would have kept 3: {got:#?}");
    assert!(got.iter().all(|j| j["target"] != "obs::log"), "no summary");
}
