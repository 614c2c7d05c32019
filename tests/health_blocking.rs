//! A check that blocks its thread (a synchronous sleep inside an `async fn`,
//! the mistake a careless user makes) fails at its deadline, is never
//! reported as passing because it returned `Ok` late, and does not stall
//! the runtime that serves the probe.
//!
//! Its own test binary: the blocking check is registered at link time and
//! would slow every readiness probe of another binary.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use obs_runtime::health::{Health, HealthConfig, Probe};
use obs_runtime::health_check;

/// How long the check holds its thread: well past its 1 s timeout.
const BLOCKED_FOR: Duration = Duration::from_secs(3);

static BLOCK: AtomicBool = AtomicBool::new(true);

#[health_check("blocking", timeout = "1s")]
async fn blocking() -> Result<(), String> {
    if BLOCK.load(SeqCst) {
        // The attack itself: a synchronous sleep where an `.await` belongs.
        std::thread::sleep(BLOCKED_FOR);
    }
    Ok(())
}

#[test]
fn a_blocking_check_fails_at_its_deadline_without_stalling_the_caller_and_a_late_ok_is_a_failure() {
    // One worker, as in a small service: if the check ran here, nothing
    // else could run until it let go.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ticks = AtomicUsize::new(0);
    let (report, waited) = runtime.block_on(async {
        let health = Health::new(HealthConfig::default());
        let ticker = async {
            loop {
                tokio::time::sleep(Duration::from_millis(20)).await;
                ticks.fetch_add(1, SeqCst);
            }
        };
        let started = Instant::now();
        let probe = async { health.report(Probe::Readiness).await };
        tokio::select! {
            report = probe => (report, started.elapsed()),
            () = ticker => unreachable!("the ticker never ends"),
        }
    });
    let check = &report.checks()[0];
    assert_eq!(check.name(), "blocking");
    assert_eq!(report.http_status(), 503, "{}", report.to_json());
    assert!(
        check
            .output()
            .is_some_and(|o| o.contains("timed out after 1s")),
        "{}",
        report.to_json()
    );
    // The probe answered near the 1 s deadline, not after the 3 s block
    // (generous margin for a loaded machine).
    assert!(waited < Duration::from_millis(2_500), "waited {waited:?}");
    // The caller's only worker kept running other tasks meanwhile.
    assert!(ticks.load(SeqCst) >= 10, "{} ticks", ticks.load(SeqCst));

    // The run itself returns Ok 2 s past its deadline: recorded as a
    // failure, not a pass.
    runtime.block_on(async {
        tokio::time::sleep(BLOCKED_FOR).await;
        let text = obs_runtime::encode_text();
        let status = text
            .lines()
            .find(|l| l.starts_with("health_check_status{") && l.contains(r#"check="blocking""#))
            .unwrap_or_default()
            .to_owned();
        assert!(
            status.ends_with(" 0"),
            "late Ok recorded as pass: {status:?}"
        );
        BLOCK.store(false, SeqCst);
    });
}
