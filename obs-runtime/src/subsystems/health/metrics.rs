//! `health_check_status{check,kind}` and
//! `health_check_duration_seconds{check}`, written after every run.

use std::sync::OnceLock;

use super::registry::{HEALTH_CHECKS, RegisteredCheck};
use super::runner::RunResult;
use crate::leaves::labels::LabelSet;
use crate::metric_core::metrics::{Gauge, Histogram};
use crate::metric_core::registry::METRIC_SETS;

/// The gauge's name.
pub(crate) const STATUS: &str = "health_check_status";
/// The histogram's name.
pub(crate) const DURATION: &str = "health_check_duration_seconds";

/// The labels of a family keyed by check names known only at link time:
/// an open set, held in the capped dynamic family and filled with
/// `with_values`.
pub(crate) struct Named<const N: usize>;

impl LabelSet for Named<1> {
    const NAMES: &'static [&'static str] = &["check"];
    const CARDINALITY: usize = 0;
    fn ordinal(&self) -> usize {
        0
    }
    fn value_at(_: usize, _: usize) -> &'static str {
        ""
    }
    fn value_of(&self, _: usize) -> &'static str {
        ""
    }
}

impl LabelSet for Named<2> {
    const NAMES: &'static [&'static str] = &["check", "kind"];
    const CARDINALITY: usize = 0;
    fn ordinal(&self) -> usize {
        0
    }
    fn value_at(_: usize, _: usize) -> &'static str {
        ""
    }
    fn value_of(&self, _: usize) -> &'static str {
        ""
    }
}

struct HealthMetrics {
    status: Option<&'static Gauge<Named<2>>>,
    duration: Option<&'static Histogram<Named<1>>>,
}

fn global() -> &'static HealthMetrics {
    static METRICS: OnceLock<HealthMetrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        // Registration fails only when the program registered these names
        // itself; then the health metrics stay out of the scrape rather
        // than take it down.
        let status = Gauge::<Named<2>>::new(
            STATUS,
            "Result of the latest run of a health check: 1 pass, 0.5 warn (a non-critical check failed), 0 fail.",
        )
        .ok()
        .and_then(|g| g.register().ok());
        let duration = Histogram::<Named<1>>::new(
            DURATION,
            "Duration of health check runs, timeouts included.",
            crate::leaves::schema::LATENCY,
        )
        .ok()
        .and_then(|h| h.register().ok());
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
            let _ = duration.with_values(&[check.name()]);
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
            .with_values(&[check.name(), check.kind().as_str()])
            .set(status_value(check, result));
    }
    if let Some(duration) = metrics.duration {
        duration
            .with_values(&[check.name()])
            .observe_duration(result.duration);
    }
}
