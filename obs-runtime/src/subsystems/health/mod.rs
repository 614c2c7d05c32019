//! Health checks and the Kubernetes probes that run them.
//!
//! A check is an `async fn` marked [`#[health_check]`](crate::health_check);
//! it registers itself at link time, so every probe knows every check from
//! start-up. A probe ([`report`]) runs its checks concurrently, each in its
//! own task under its own timeout; a check that panics or times out is a
//! failure, never a crash or a hang. Results are cached for a TTL (1 s by
//! default) with single flight: however many probes arrive inside the TTL,
//! each check runs at most once.
//!
//! | probe | endpoint | runs the checks of kind | on failure Kubernetes… |
//! |---|---|---|---|
//! | [`Probe::Liveness`] | `/livez`, `/health/live` | `liveness` only (never dependencies unless marked so) | restarts the pod |
//! | [`Probe::Readiness`] | `/readyz`, `/health/ready` | `readiness` (the default kind) | stops routing traffic to it |
//! | [`Probe::Startup`] | `/startupz`, `/health/startup` | `startup` | holds the other probes back |
//! | all | `/healthz`, `/health` | every kind | (for people and dashboards) |
//!
//! The overall status follows the IETF draft "Health Check Response Format
//! for HTTP APIs": `pass`, `warn` (only non-critical checks failed) or
//! `fail`; HTTP 200 for `pass` and `warn`, 503 for `fail`.
//!
//! ```standalone_crate
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use obs_runtime::health::{self, Observed, Probe};
//! use obs_runtime::health_check;
//!
//! #[health_check("doc_disk", timeout = "250ms")]
//! async fn doc_disk() -> Result<Observed, std::io::Error> {
//!     Ok(Observed::new(45.0, "percent"))
//! }
//!
//! let report = health::report(Probe::Readiness).await;
//! assert_eq!(report.http_status(), 200);
//! let json = report.to_json();
//! assert!(json.contains(r#""doc_disk":{"status":"pass","kind":"readiness""#));
//! assert!(json.contains(r#""observed_value":45,"observed_unit":"percent""#));
//! # }
//! ```
//!
//! # Metrics
//! Every run sets `health_check_status{check,kind}` (1 pass, 0.5 warn — a
//! non-critical check failed —, 0 fail) and observes
//! `health_check_duration_seconds{check}` (timeouts included).
//!
//! # State
//! A check takes no arguments: the runner has nothing to give it. Reach
//! shared state, such as a connection pool, through a `static` the program
//! fills in `main` (a `OnceLock<Pool>`); until it is filled the check
//! reports its absence as a failure, which is what readiness should say.

mod builtin;
mod endpoint;
mod metrics;
mod registry;
mod report;
mod runner;

#[cfg(feature = "axum")]
pub mod axum;

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::leaves::access::Allowlist;
use crate::leaves::labels::LabelValue;

pub use builtin::{CheckError, disk_space, process_memory};
#[cfg(feature = "postgres")]
pub use builtin::{deadpool_postgres, postgres};
#[cfg(feature = "redis")]
pub use builtin::{deadpool_redis, redis};
pub use endpoint::{CONTENT_TYPE, HealthResponse};
pub use registry::{DuplicateCheck, RegisteredCheck};
pub use report::{CheckReport, HealthReport, REASON_WITHHELD};

pub(crate) mod private {
    pub use super::registry::{
        CheckFuture, CheckMeta, CheckOutcome, CheckReturn, HEALTH_CHECKS, RegisteredCheck,
        boxed_check,
    };
}

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

pub use crate::leaves::schema::Probe;

impl LabelValue for Probe {
    const CARDINALITY: usize = 3;

    fn label_value(&self) -> &'static str {
        self.as_str()
    }

    fn ordinal(&self) -> usize {
        *self as usize
    }

    fn value_at(ordinal: usize) -> Option<&'static str> {
        [Self::Readiness, Self::Liveness, Self::Startup]
            .get(ordinal)
            .map(|p| p.as_str())
    }
}

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

/// Who sees why a check failed. Reasons can name internal hosts and
/// ports, so by default only allowlisted callers (loopback) see them, as
/// kube-apiserver does; the others read `"output": "reason withheld"`.
///
/// ```
/// assert_eq!(obs_runtime::health::ShowReasons::default(), obs_runtime::health::ShowReasons::Allowlisted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShowReasons {
    /// Nobody.
    Never,
    /// Callers whose address the allowlist admits.
    #[default]
    Allowlisted,
    /// Everybody.
    Always,
}

/// How probes run and answer.
///
/// ```
/// use std::time::Duration;
/// use obs_runtime::health::{HealthConfig, ShowReasons};
///
/// let config = HealthConfig::default()
///     .ttl(Duration::from_millis(500))
///     .show_reasons(ShowReasons::Always)
///     .version("1.4.2");
/// assert_eq!(config.cache_ttl(), Duration::from_millis(500));
/// ```
#[derive(Debug, Clone)]
pub struct HealthConfig {
    ttl: Duration,
    reasons: ShowReasons,
    allowlist: Allowlist,
    version: Option<String>,
}

impl Default for HealthConfig {
    /// TTL 1 s, reasons shown to loopback callers, no version.
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(1),
            reasons: ShowReasons::Allowlisted,
            allowlist: Allowlist::loopback(),
            version: None,
        }
    }
}

impl HealthConfig {
    /// How long a check's result is reused before the next probe runs it
    /// again. Also the responses' `Cache-Control: max-age`.
    ///
    /// ```
    /// let config = obs_runtime::health::HealthConfig::default().ttl(std::time::Duration::from_secs(5));
    /// assert_eq!(config.cache_ttl().as_secs(), 5);
    /// ```
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Who sees failure reasons.
    ///
    /// ```
    /// use obs_runtime::health::{HealthConfig, ShowReasons};
    /// let config = HealthConfig::default().show_reasons(ShowReasons::Never);
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn show_reasons(mut self, reasons: ShowReasons) -> Self {
        self.reasons = reasons;
        self
    }

    /// The callers admitted by [`ShowReasons::Allowlisted`] (default:
    /// loopback).
    ///
    /// ```
    /// use obs_runtime::{access::Allowlist, health::HealthConfig};
    /// let config = HealthConfig::default().allowlist(Allowlist::loopback_and_private());
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn allowlist(mut self, allowlist: Allowlist) -> Self {
        self.allowlist = allowlist;
        self
    }

    /// The service's version, shown as `version` in every report
    /// (typically `env!("CARGO_PKG_VERSION")`).
    ///
    /// ```
    /// let config = obs_runtime::health::HealthConfig::default().version("1.2.3");
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The TTL of cached results.
    ///
    /// ```
    /// assert_eq!(obs_runtime::health::HealthConfig::default().cache_ttl().as_secs(), 1);
    /// ```
    #[must_use]
    pub fn cache_ttl(&self) -> Duration {
        self.ttl
    }
}

/// The health checks of the program with a cache of their results: what
/// the endpoints serve. [`Health::global`] is the one [`report`] uses; a
/// separate instance has its own cache and settings.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use obs_runtime::health::{Health, HealthConfig, Probe};
///
/// let health = Health::new(HealthConfig::default().version("2.0.0"));
/// let report = health.report(Probe::Liveness).await;
/// assert!(report.to_json().starts_with(r#"{"status":"pass","version":"2.0.0""#));
/// # }
/// ```
pub struct Health {
    config: HealthConfig,
    slots: Box<[runner::Slot]>,
}

impl fmt::Debug for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Health")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What a probe runs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Selection<'a> {
    Probe(Probe),
    All,
    One(Option<Probe>, &'a str),
}

static GLOBAL: OnceLock<Arc<Health>> = OnceLock::new();

/// Sets the settings of the global [`Health`] used by [`report`] and the
/// default router. Call it in `main`, before the first probe.
///
/// ```
/// use obs_runtime::health::{self, HealthConfig};
/// let _ = health::configure(HealthConfig::default().version(env!("CARGO_PKG_VERSION")));
/// ```
///
/// # Errors
/// When the global instance exists already (a probe ran, or `configure`
/// was called before); the settings are then not changed.
pub fn configure(config: HealthConfig) -> Result<(), HealthConfig> {
    let mut config = Some(config);
    GLOBAL.get_or_init(|| Arc::new(Health::new(config.take().unwrap_or_default())));
    match config {
        None => Ok(()),
        Some(refused) => Err(refused),
    }
}

/// Runs the checks of a probe (from the cache when fresh) and reports.
/// Must be called within a Tokio runtime.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use obs_runtime::health::{self, Probe};
/// let report = obs_runtime::health::report(Probe::Liveness).await;
/// assert_eq!(report.http_status(), 200);
/// # }
/// ```
pub async fn report(probe: Probe) -> HealthReport {
    Health::global().report(probe).await
}

/// Runs every check, whatever its kind: what `/healthz` shows.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let report = obs_runtime::health::report_all().await;
/// assert!(report.to_json().contains("\"checks\":{"));
/// # }
/// ```
pub async fn report_all() -> HealthReport {
    Health::global().report_all().await
}

/// Every registered check, sorted by name.
///
/// # Errors
/// When two checks share a name: the error names both locations. Call it
/// at start-up to refuse to run misconfigured.
///
/// ```
/// obs_runtime::health::validate().expect("health checks are misconfigured");
/// ```
pub fn validate() -> Result<&'static [&'static RegisteredCheck], DuplicateCheck> {
    registry::checks().map_err(Clone::clone)
}

/// Every registered check (also when names are duplicated).
///
/// ```
/// let names: Vec<&str> = obs_runtime::health::registered().iter().map(|c| c.name()).collect();
/// # let _ = names;
/// ```
#[must_use]
pub fn registered() -> &'static [RegisteredCheck] {
    &registry::HEALTH_CHECKS
}

impl Health {
    /// An instance with its own settings and cache.
    ///
    /// ```
    /// use obs_runtime::health::{Health, HealthConfig};
    /// let health = Health::new(HealthConfig::default());
    /// assert_eq!(health.config().cache_ttl().as_secs(), 1);
    /// ```
    #[must_use]
    pub fn new(config: HealthConfig) -> Self {
        let slots = registry::HEALTH_CHECKS
            .iter()
            .map(|_| runner::Slot::default())
            .collect();
        Self { config, slots }
    }

    /// The instance [`report`] and the default router use.
    ///
    /// ```
    /// use obs_runtime::health::Health;
    /// assert!(std::sync::Arc::ptr_eq(&Health::global(), &Health::global()));
    /// ```
    #[must_use]
    pub fn global() -> Arc<Self> {
        GLOBAL
            .get_or_init(|| Arc::new(Self::new(HealthConfig::default())))
            .clone()
    }

    /// The settings.
    ///
    /// ```
    /// let ttl = obs_runtime::health::Health::global().config().cache_ttl();
    /// assert!(ttl.as_millis() > 0);
    /// ```
    #[must_use]
    pub fn config(&self) -> &HealthConfig {
        &self.config
    }

    /// Runs the checks of a probe (from the cache when fresh) and reports.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{Health, HealthConfig, Probe};
    /// let health = Health::new(HealthConfig::default());
    /// let report = health.report(Probe::Startup).await;
    /// assert!(report.checks().iter().all(|c| c.kind() == Probe::Startup));
    /// # }
    /// ```
    pub async fn report(&self, probe: Probe) -> HealthReport {
        self.run(Selection::Probe(probe), &[]).await
    }

    /// Runs every check.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{Health, HealthConfig};
    /// let report = Health::new(HealthConfig::default()).report_all().await;
    /// assert_eq!(report.checks().len(), obs_runtime::health::registered().len());
    /// # }
    /// ```
    pub async fn report_all(&self) -> HealthReport {
        self.run(Selection::All, &[]).await
    }

    /// Whether a caller at `peer` may read failure reasons.
    ///
    /// ```
    /// use obs_runtime::health::{Health, HealthConfig};
    /// let health = Health::new(HealthConfig::default());
    /// assert!(health.reveals_reasons_to(Some("127.0.0.1".parse().unwrap())));
    /// assert!(!health.reveals_reasons_to(Some("203.0.113.5".parse().unwrap())));
    /// assert!(!health.reveals_reasons_to(None));
    /// ```
    #[must_use]
    pub fn reveals_reasons_to(&self, peer: Option<IpAddr>) -> bool {
        match self.config.reasons {
            ShowReasons::Never => false,
            ShowReasons::Always => true,
            ShowReasons::Allowlisted => peer.is_some_and(|ip| self.config.allowlist.contains(ip)),
        }
    }

    /// The checks a selection names, with their slot index; `None` when a
    /// single check was asked for and there is none of that name.
    fn select(selection: Selection<'_>) -> Option<Vec<(usize, &'static RegisteredCheck)>> {
        let all = registry::HEALTH_CHECKS.iter().enumerate();
        let picked: Vec<_> = match selection {
            Selection::Probe(probe) => all.filter(|(_, c)| c.kind() == probe).collect(),
            Selection::All => all.collect(),
            Selection::One(probe, name) => {
                let one: Vec<_> = all
                    .filter(|(_, c)| c.name() == name && probe.is_none_or(|p| c.kind() == p))
                    .collect();
                if one.is_empty() {
                    return None;
                }
                one
            }
        };
        Some(picked)
    }

    /// Runs a selection minus the excluded names. Unknown excluded names
    /// become notes; a duplicated check name fails the report.
    pub(crate) async fn run(&self, selection: Selection<'_>, exclude: &[&str]) -> HealthReport {
        // The configured version, or the one `init()` took from the resource.
        let version = self
            .config
            .version
            .clone()
            .or_else(crate::metric_core::process::service_version);
        if let Err(dup) = registry::checks() {
            return HealthReport::new(
                vec![CheckReport {
                    name: "health_checks",
                    kind: Probe::Startup,
                    critical: true,
                    status: Status::Fail,
                    duration: Duration::ZERO,
                    output: Some(dup.to_string()),
                    observed: None,
                    time: std::time::SystemTime::now(),
                }],
                Vec::new(),
                version,
            );
        }
        let Some(picked) = Self::select(selection) else {
            return HealthReport::new(Vec::new(), Vec::new(), version);
        };
        let mut notes = Vec::new();
        for name in exclude {
            if !registry::HEALTH_CHECKS.iter().any(|c| c.name() == *name) {
                notes.push(format!(
                    "exclude: no health check is named \"{}\"",
                    name.chars().take(64).collect::<String>()
                ));
            }
        }
        let picked: Vec<_> = picked
            .into_iter()
            .filter(|(_, c)| !exclude.contains(&c.name()))
            .collect();
        // Every run starts (or is joined) before the first wait, so the
        // checks run concurrently and the probe takes as long as the
        // slowest one.
        let ttl = self.config.ttl;
        let pending: Vec<_> = picked
            .iter()
            .map(|&(i, check)| (check, self.slots[i].run(check, ttl)))
            .collect();
        let mut checks = Vec::with_capacity(pending.len());
        for (check, rx) in pending {
            let result = runner::wait(rx).await;
            let status = match (result.passed, check.critical()) {
                (true, _) => Status::Pass,
                (false, false) => Status::Warn,
                (false, true) => Status::Fail,
            };
            checks.push(CheckReport {
                name: check.name(),
                kind: check.kind(),
                critical: check.critical(),
                status,
                duration: result.duration,
                output: result.output.as_deref().map(report::clean_reason),
                observed: result.observed,
                time: result.finished_at,
            });
        }
        checks.sort_by_key(|c| c.name);
        HealthReport::new(checks, notes, version)
    }
}
