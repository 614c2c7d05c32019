//! The rules of a metric set's members by the kind of metric each is: the
//! name's suffix, and which options a kind takes.
//!
//! The kind comes from the member's type through a trait the metric types
//! implement, never from the type's name, so an alias of a `Counter` is a
//! counter here too.

use super::names::{check_counter_name, check_gauge_name, check_histogram_name};

/// What kind of metric a metric set's member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A monotonic count; its name ends in `_total`.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// A distribution in buckets; its name ends in its unit.
    Histogram,
}

/// Where in the program's source a metric is declared: the file (as the
/// compiler names it, relative to the package for a workspace member) and
/// the line of the `#[instrumented]` attribute, of the struct deriving
/// `MetricSet`, or of the call to `register()`.
///
/// ```
/// use obs_runtime::schema::SourceLocation;
/// let here = SourceLocation::new(file!(), line!());
/// assert!(here.to_string().ends_with(&format!(":{}", line!() - 1)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceLocation {
    /// The source file, `file!()`.
    pub file: &'static str,
    /// The line, `line!()`.
    pub line: u32,
}

impl SourceLocation {
    /// A location from `file!()` and `line!()`.
    #[must_use]
    pub const fn new(file: &'static str, line: u32) -> Self {
        Self { file, line }
    }

    /// The location of the caller of a `#[track_caller]` function.
    #[must_use]
    #[track_caller]
    pub fn caller() -> Self {
        let at = std::panic::Location::caller();
        Self::new(at.file(), at.line())
    }
}

impl core::fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Checks a member's full name against its kind: a counter ends in
/// `_total`, a histogram in `_seconds` or its `unit`, a gauge in neither.
///
/// ```
/// use obs_runtime::schema::{check_metric_member, MetricKind};
/// assert!(check_metric_member(MetricKind::Counter, "hits_total", "").is_none());
/// assert!(check_metric_member(MetricKind::Counter, "hits", "").is_some());
/// assert!(check_metric_member(MetricKind::Histogram, "size_bytes", "bytes").is_none());
/// ```
#[must_use]
pub const fn check_metric_member(kind: MetricKind, name: &str, unit: &str) -> Option<&'static str> {
    match kind {
        MetricKind::Counter => check_counter_name(name),
        MetricKind::Gauge => check_gauge_name(name),
        MetricKind::Histogram => check_histogram_name(name, unit),
    }
}

/// Checks that a member given `buckets` is a histogram.
#[must_use]
pub const fn check_member_buckets(kind: MetricKind) -> Option<&'static str> {
    match kind {
        MetricKind::Histogram => None,
        MetricKind::Counter | MetricKind::Gauge => Some(
            "only a `Histogram` has buckets: remove `buckets` from this field, or make it a `Histogram` if it records a distribution",
        ),
    }
}

/// Checks that a member given a `unit` is a histogram.
#[must_use]
pub const fn check_member_unit(kind: MetricKind) -> Option<&'static str> {
    match kind {
        MetricKind::Histogram => None,
        MetricKind::Counter | MetricKind::Gauge => Some(
            "`unit` is for histograms: a counter ends in `_total`, and a gauge names its unit in its name",
        ),
    }
}
