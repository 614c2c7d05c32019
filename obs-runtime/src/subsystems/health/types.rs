//! The values probes and checks speak in: the probe paths, a status, a
//! measured value.

use std::fmt;

/// The probe endpoints: `/livez`, `/readyz`, `/startupz` and `/healthz`
/// (each also at `/<probe>/<check name>` for one check), and their aliases.
///
/// ```
/// assert!(obs_runtime::health::PROBE_PATHS.contains(&"/readyz"));
/// ```
pub const PROBE_PATHS: &[&str] = &[
    "/livez",
    "/readyz",
    "/startupz",
    "/healthz",
    "/health",
    "/health/live",
    "/health/ready",
    "/health/startup",
];

/// The status of a check or of a whole report, ordered from best to worst.
///
/// ```
/// use obs_runtime::health::Status;
/// assert!(Status::Fail > Status::Warn && Status::Warn > Status::Pass);
/// assert_eq!(Status::Warn.as_str(), "warn");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Healthy.
    Pass,
    /// A non-critical check failed: still serving.
    Warn,
    /// A critical check failed.
    Fail,
}

impl Status {
    /// `pass`, `warn` or `fail`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value a check measured, such as disk usage in percent; the report
/// shows it as `observed_value` and `observed_unit`.
///
/// ```
/// let used = obs_runtime::health::Observed::new(45.0, "percent");
/// assert_eq!(used.value(), 45.0);
/// assert_eq!(used.unit(), "percent");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    value: f64,
    unit: &'static str,
}

impl Observed {
    /// A measured value and its unit (`percent`, `bytes`, `seconds`, …).
    #[must_use]
    pub const fn new(value: f64, unit: &'static str) -> Self {
        Self { value, unit }
    }

    /// The value.
    #[must_use]
    pub const fn value(&self) -> f64 {
        self.value
    }

    /// The unit.
    #[must_use]
    pub const fn unit(&self) -> &'static str {
        self.unit
    }
}
