//! `health_check_status{check,kind}` and
//! `health_check_duration_seconds{check}`, written after every run.
//!
//! Both exist for every registered check from the first scrape: that scrape
//! also starts one run of each check that has never run (on the checks'
//! runtime, in the global [`Health`](super::Health)'s cache — which exists
//! before that instance, so `configure` still works after a scrape — so a
//! probe arriving meanwhile joins it). Until that run ends — at most the
//! check's timeout — the status reads 0, as a pod is not ready until its
//! first readiness probe passes; an alert on
//! `absent(health_check_status{check="…"})` then means the check is gone,
//! never that it has not run yet.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use obs_macros::LabelSet;

use super::registry::{HEALTH_CHECKS, RegisteredCheck};
use super::runner::RunResult;
use crate::leaves::schema::Probe;
use crate::metric_core::metrics::{Gauge, Histogram};
use crate::metric_core::registry::METRIC_SETS;

/// The gauge's name.
pub(crate) const STATUS: &str = "health_check_status";
/// The histogram's name.
pub(crate) const DURATION: &str = "health_check_duration_seconds";

/// The labels of `health_check_duration_seconds`. Check names are known
/// only at link time, so the set is open: a capped map, every registered
/// check's series made at zero before the first probe.
#[derive(LabelSet)]
#[label(crate = "crate")]
struct CheckLabels {
    check: &'static str,
}

/// The labels of `health_check_status`.
#[derive(LabelSet)]
#[label(crate = "crate")]
struct StatusLabels {
    check: &'static str,
    kind: Probe,
}

struct HealthMetrics {
    status: Option<&'static Gauge<StatusLabels>>,
    duration: Option<&'static Histogram<CheckLabels>>,
}

fn global() -> &'static HealthMetrics {
    static METRICS: OnceLock<HealthMetrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        // Registration fails only when the program registered these names
        // itself; then the health metrics stay out of the scrape rather
        // than take it down.
        let status = Gauge::<StatusLabels>::new(
            STATUS,
            "Result of the latest run of a health check: 1 pass, 0.5 warn (a non-critical check failed), 0 fail.",
        )
        .ok()
        .and_then(|g| g.register_own().ok());
        let duration = Histogram::<CheckLabels>::new(
            DURATION,
            "Duration of health check runs, timeouts included.",
            crate::leaves::schema::LATENCY,
        )
        .ok()
        .and_then(|h| h.register_own().ok());
        HealthMetrics { status, duration }
    })
}

/// Runs before every scrape: the metrics exist, with a status and a
/// duration series per check, before the first probe; the first call also
/// starts the start-up runs.
#[linkme::distributed_slice(METRIC_SETS)]
static HEALTH_METRICS: fn() = register;

/// Whether each registered check (by its index in [`HEALTH_CHECKS`]) has
/// finished a run, in any [`Health`](super::Health) instance.
fn ran() -> &'static [AtomicBool] {
    static RAN: OnceLock<Box<[AtomicBool]>> = OnceLock::new();
    RAN.get_or_init(|| {
        HEALTH_CHECKS
            .iter()
            .map(|_| AtomicBool::new(false))
            .collect()
    })
}

fn index_of(check: &RegisteredCheck) -> Option<usize> {
    HEALTH_CHECKS.iter().position(|c| std::ptr::eq(c, check))
}

/// Whether `check` has finished a run.
pub(crate) fn has_run(check: &RegisteredCheck) -> bool {
    index_of(check)
        .and_then(|i| ran().get(i))
        .is_some_and(|r| r.load(Ordering::Acquire))
}

fn register() {
    static STARTED: AtomicBool = AtomicBool::new(false);
    let metrics = global();
    for check in HEALTH_CHECKS {
        if let Some(duration) = metrics.duration {
            let _ = duration.with(CheckLabels {
                check: check.name(),
            });
        }
        // Made, not set: a run that already finished keeps its value.
        if let Some(status) = metrics.status {
            let _ = status.with(StatusLabels {
                check: check.name(),
                kind: check.kind(),
            });
        }
    }
    // The series exist first, so a start-up run that ends at once is not
    // overwritten by them.
    if !STARTED.swap(true, Ordering::AcqRel) {
        super::service::start_unrun();
    }
}

/// The gauge's value for a run: 1 pass, 0.5 warn, 0 fail.
pub(crate) fn status_value(check: &RegisteredCheck, result: &RunResult) -> f64 {
    match (result.passed, check.critical()) {
        (true, _) => 1.0,
        (false, false) => 0.5,
        (false, true) => 0.0,
    }
}

pub(crate) fn record(check: &RegisteredCheck, result: &RunResult) {
    if let Some(ran) = index_of(check).and_then(|i| ran().get(i)) {
        ran.store(true, Ordering::Release);
    }
    let metrics = global();
    if let Some(status) = metrics.status {
        status
            .with(StatusLabels {
                check: check.name(),
                kind: check.kind(),
            })
            .set(status_value(check, result));
    }
    if let Some(duration) = metrics.duration {
        duration
            .with(CheckLabels {
                check: check.name(),
            })
            .observe_duration(result.duration);
    }
}
