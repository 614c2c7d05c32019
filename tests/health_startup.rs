//! `health_check_status` is in the first scrape, before any probe, for
//! every registered check: that scrape starts one run of each, and a probe
//! arriving meanwhile joins the run instead of starting another; the
//! global settings can still be configured after it.
//!
//! Its own test binary: the claim is about a process where nothing has
//! probed yet.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use obs_runtime::health::{self, HealthConfig, Probe};
use obs_runtime::health_check;

static SLOW_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Takes long enough for a probe to arrive while its start-up run goes.
#[health_check("su_slow", timeout = "2s")]
async fn su_slow() -> Result<(), String> {
    SLOW_RUNS.fetch_add(1, SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(())
}

#[health_check("su_broken", critical = false)]
async fn su_broken() -> Result<(), String> {
    Err("never works".to_owned())
}

#[health_check("su_alive", kind = "liveness")]
async fn su_alive() -> Result<(), String> {
    Ok(())
}

fn status_line(text: &str, check: &str) -> Option<String> {
    text.lines()
        .find(|l| {
            l.starts_with("health_check_status{") && l.contains(&format!("check=\"{check}\""))
        })
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_scrape_shows_every_check_and_starts_its_run() {
    // Before any probe: every check has its status series.
    let first = obs_runtime::encode_text();
    for (check, kind) in [
        ("su_slow", "readiness"),
        ("su_broken", "readiness"),
        ("su_alive", "liveness"),
    ] {
        let line = status_line(&first, check)
            .unwrap_or_else(|| panic!("no health_check_status for {check}:\n{first}"));
        assert!(line.contains(&format!("kind=\"{kind}\"")), "{line}");
        assert!(
            first.contains(&format!(
                "health_check_duration_seconds_count{{check=\"{check}\"}}"
            )),
            "no duration series for {check}:\n{first}"
        );
    }
    // The slow check's run is still going: it reads 0 until it passes.
    let slow = status_line(&first, "su_slow").unwrap();
    assert!(slow.ends_with(" 0"), "{slow}");

    // The scrape fixed no global setting: `configure` still takes effect.
    assert!(
        health::configure(HealthConfig::default().version("9.9.9")).is_ok(),
        "the first scrape made the global instance"
    );

    // A probe now joins the start-up run rather than starting a second.
    let report = health::report(Probe::Readiness).await;
    assert_eq!(report.http_status(), 200, "{}", report.to_json());
    assert!(
        report.to_json().contains(r#""version":"9.9.9""#),
        "{}",
        report.to_json()
    );
    assert_eq!(SLOW_RUNS.load(SeqCst), 1, "the probe ran the check again");

    // The start-up runs land in the gauge (awaited, with a generous deadline).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = obs_runtime::encode_text();
        let values: Vec<Option<String>> = ["su_slow", "su_broken", "su_alive"]
            .iter()
            .map(|c| status_line(&text, c))
            .collect();
        let ends = |i: usize, v: &str| {
            values
                .get(i)
                .and_then(Option::as_ref)
                .is_some_and(|l| l.ends_with(v))
        };
        // su_alive is liveness: no probe ran it, only the start-up run.
        if ends(0, " 1") && ends(1, " 0.5") && ends(2, " 1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "start-up runs never landed:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        SLOW_RUNS.load(SeqCst),
        1,
        "later scrapes start no more runs"
    );
}
