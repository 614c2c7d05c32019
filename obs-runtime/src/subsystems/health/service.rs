//! [`Health`]: the registered checks with a cache of their results, the
//! global instance, and the selection a probe runs.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::registry::{self, DuplicateCheck, RegisteredCheck};
use super::report::{self, CheckReport, HealthReport};
use super::{HealthConfig, Probe, ShowReasons, Status, runner};

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
    // `endpoint` reads the TTL for `Cache-Control` and asks `select` whether
    // a single check exists.
    pub(super) config: HealthConfig,
    slots: Slots,
}

/// A [`Health`]'s cache: its own, or — for the global instance — the
/// process's, which exists before that instance does, so the start-up runs
/// of the first scrape can fill it without fixing the global settings
/// before [`configure`] is called.
enum Slots {
    Own(Box<[runner::Slot]>),
    Global,
}

fn global_slots() -> &'static [runner::Slot] {
    static SLOTS: OnceLock<Box<[runner::Slot]>> = OnceLock::new();
    SLOTS.get_or_init(new_slots)
}

fn new_slots() -> Box<[runner::Slot]> {
    registry::HEALTH_CHECKS
        .iter()
        .map(|_| runner::Slot::default())
        .collect()
}

impl Slots {
    fn get(&self, i: usize) -> Option<&runner::Slot> {
        match self {
            Self::Own(slots) => slots.get(i),
            Self::Global => global_slots().get(i),
        }
    }
}

/// Starts one run of every check that has never run, in the global
/// instance's cache, without waiting: the start-up runs behind
/// `health_check_status`'s first values (see the `metrics` module). A probe
/// of the global instance arriving meanwhile joins them.
pub(crate) fn start_unrun() {
    for (i, check) in registry::HEALTH_CHECKS.iter().enumerate() {
        if super::metrics::has_run(check) {
            continue;
        }
        if let Some(slot) = global_slots().get(i) {
            // No result to reuse (the check never ran): a zero TTL only
            // means a run still going is joined.
            slot.start(check, Duration::ZERO);
        }
    }
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
    GLOBAL.get_or_init(|| Arc::new(Health::global_with(config.take().unwrap_or_default())));
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
        Self {
            config,
            slots: Slots::Own(new_slots()),
        }
    }

    /// The global instance: the process's cache, these settings.
    fn global_with(config: HealthConfig) -> Self {
        Self {
            config,
            slots: Slots::Global,
        }
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
            .get_or_init(|| Arc::new(Self::global_with(HealthConfig::default())))
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
    pub(super) fn select(
        selection: Selection<'_>,
    ) -> Option<Vec<(usize, &'static RegisteredCheck)>> {
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
                    timeout: Duration::ZERO,
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
            .map(|&(i, check)| {
                // One slot per registered check (`new`); without one, the
                // check would still run, uncached.
                let latest = match self.slots.get(i) {
                    Some(slot) => slot.run(check, ttl),
                    None => runner::Slot::default().run(check, ttl),
                };
                (check, latest)
            })
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
                timeout: check.timeout(),
                output: result.output.as_deref().map(report::clean_reason),
                observed: result.observed,
                time: result.finished_at,
            });
        }
        checks.sort_by_key(|c| c.name);
        HealthReport::new(checks, notes, version)
    }
}
