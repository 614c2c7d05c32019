//! `health_check_status{check,kind}` and
//! `health_check_duration_seconds{check}`, written after every run.

use std::sync::OnceLock;

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

/// Runs before every scrape: the metrics exist, with a duration series per
/// check at zero, before the first probe.
#[linkme::distributed_slice(METRIC_SETS)]
static HEALTH_METRICS: fn() = register;

fn register() {
    let metrics = global();
    if let Some(duration) = metrics.duration {
        for check in HEALTH_CHECKS {
            let _ = duration.with(CheckLabels {
                check: check.name(),
            });
        }
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
