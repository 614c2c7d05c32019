//! Everything the program declares, gathered at link time: every
//! `#[instrumented]` function with its metric families and objective, every
//! health check, and every metric family the program exposes. The one model
//! that alert rules, their tests, dashboards and docs are generated from,
//! so they can't drift from the code.
//!
//! ```
//! #[obs_runtime::instrumented(metric = "doc_catalog_pay", slo(success = "99.9%"))]
//! fn pay() -> Result<(), String> { Ok(()) }
//!
//! let catalog = obs_runtime::catalog();
//! let pay = catalog.functions().iter().find(|f| f.function == "pay").unwrap();
//! assert_eq!(pay.base, "doc_catalog_pay");
//! assert_eq!(pay.objective.unwrap().success_ppm, Some(999_000));
//! let calls = catalog.metric("doc_catalog_pay_calls_total").unwrap();
//! assert_eq!(calls.kind, obs_runtime::schema::MetricKind::Counter);
//! ```

use std::time::Duration;

use crate::leaves::schema::{Objective, Probe, SourceLocation};
use crate::metric_core::callsite;
use crate::metric_core::registry::{self, Origin};
use crate::subsystems::health;

/// An `#[instrumented]` function.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FunctionInfo {
    /// The metric base: `<base>_calls_total`, `<base>_duration_seconds`.
    pub base: &'static str,
    /// The `function` label.
    pub function: &'static str,
    /// The `module` label.
    pub module: &'static str,
    /// Labels with literal values.
    pub labels: Vec<(&'static str, &'static str)>,
    /// Labels whose values come from arguments.
    pub arg_labels: Vec<&'static str>,
    /// Histogram bounds, in seconds.
    pub buckets: &'static [f64],
    /// Whether `<base>_in_flight` is kept.
    pub in_flight: bool,
    /// The objective from `slo(..)`.
    pub objective: Option<Objective>,
    /// The file and line of its `#[instrumented]` attribute.
    pub location: SourceLocation,
}

impl FunctionInfo {
    /// `<base>_calls_total`.
    #[must_use]
    pub fn calls_metric(&self) -> String {
        format!("{}_calls_total", self.base)
    }

    /// `<base>_duration_seconds`.
    #[must_use]
    pub fn duration_metric(&self) -> String {
        format!("{}_duration_seconds", self.base)
    }

    /// A name for the function's objective and alerts, unique in the
    /// program: `<base>:<function>` when the base is shared, else the base.
    #[must_use]
    pub fn slo_name(&self) -> String {
        if self.base == self.function {
            self.base.to_owned()
        } else {
            format!("{}_{}", self.base, self.function)
        }
    }
}

/// An HTTP route's objective, declared with
/// [`ObsLayer::slo`](crate::http::ObsLayer::slo).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteObjective {
    /// The route template, the `http_route` label value.
    pub route: String,
    /// Its objective.
    pub objective: Objective,
}

impl RouteObjective {
    /// A name for the objective and its alerts, unique in the program:
    /// `http_` and the route's letters and digits, runs of anything else
    /// as one `_` (`/users/{id}` → `http_users_id`, `/` → `http_root`).
    ///
    /// ```
    /// # #[cfg(feature = "tower")] {
    /// obs_runtime::http::ObsLayer::new()
    ///     .slo("/doc/orders/{id}", obs_runtime::slo!(success = "99%"))
    ///     .unwrap();
    /// let catalog = obs_runtime::catalog();
    /// let orders = catalog.route_objectives().iter().find(|r| r.route == "/doc/orders/{id}").unwrap();
    /// assert_eq!(orders.slo_name(), "http_doc_orders_id");
    /// # }
    /// ```
    #[must_use]
    pub fn slo_name(&self) -> String {
        let mut name = String::from("http");
        for c in self.route.chars() {
            if c.is_ascii_alphanumeric() {
                name.push(c.to_ascii_lowercase());
            } else if !name.ends_with('_') {
                name.push('_');
            }
        }
        let name = name.trim_end_matches('_');
        if name == "http" {
            "http_root".to_owned()
        } else {
            name.to_owned()
        }
    }
}

/// The name of the service-wide default route objective's rules.
pub const DEFAULT_ROUTE_SLO: &str = "http_all_routes";

/// A health check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckInfo {
    /// Its name, the `check` label.
    pub name: &'static str,
    /// The probe that runs it.
    pub kind: Probe,
    /// How long a run may take.
    pub timeout: Duration,
    /// Whether a failure fails the probe (else it warns).
    pub critical: bool,
}

mod metrics;

pub use metrics::{LabelInfo, MetricInfo, MetricSource, MetricUnit, RESULTS};
use metrics::{function_families, known_families, own_source};

/// What the program declares.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    functions: Vec<FunctionInfo>,
    routes: Vec<RouteObjective>,
    default_route: Option<Objective>,
    checks: Vec<CheckInfo>,
    metrics: Vec<MetricInfo>,
}

impl Catalog {
    /// Every `#[instrumented]` function, by base name, then module, then
    /// function.
    #[must_use]
    pub fn functions(&self) -> &[FunctionInfo] {
        &self.functions
    }

    /// The functions that declare an objective.
    pub fn objectives(&self) -> impl Iterator<Item = (&FunctionInfo, Objective)> {
        self.functions
            .iter()
            .filter_map(|f| f.objective.map(|o| (f, o)))
    }

    /// The objectives of HTTP routes, by route, as declared with
    /// [`ObsLayer::slo`](crate::http::ObsLayer::slo) so far: the catalog
    /// sees them once the layer is built (empty without the `tower`
    /// feature).
    #[must_use]
    pub fn route_objectives(&self) -> &[RouteObjective] {
        &self.routes
    }

    /// The service-wide objective of every route without its own,
    /// declared with
    /// [`ObsLayer::default_slo`](crate::http::ObsLayer::default_slo); its
    /// rules are named [`DEFAULT_ROUTE_SLO`].
    #[must_use]
    pub fn default_route_objective(&self) -> Option<Objective> {
        self.default_route
    }

    /// Every health check, by name.
    #[must_use]
    pub fn checks(&self) -> &[CheckInfo] {
        &self.checks
    }

    /// Every metric family the program exposes, by name: the
    /// `#[instrumented]` families, metric sets, metrics registered at run
    /// time, foreign collectors, the process metrics and obs's own
    /// (HTTP, health, `obs_*`).
    ///
    /// ```
    /// use obs_runtime::schema::MetricKind;
    ///
    /// let catalog = obs_runtime::catalog();
    /// let rss = catalog.metric("process_resident_memory_bytes").unwrap();
    /// assert_eq!(rss.kind, MetricKind::Gauge);
    /// assert_eq!(rss.unit, obs_runtime::MetricUnit::Bytes);
    /// assert!(catalog.metrics().iter().any(|m| m.name == "health_check_status"));
    /// ```
    #[must_use]
    pub fn metrics(&self) -> &[MetricInfo] {
        &self.metrics
    }

    /// The metric family called `name`.
    #[must_use]
    pub fn metric(&self, name: &str) -> Option<&MetricInfo> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// The metric sets, by name, each with its families.
    ///
    /// ```
    /// use obs_runtime::metrics::Counter;
    ///
    /// /// Jobs of the doc example.
    /// #[derive(obs_runtime::MetricSet)]
    /// #[metrics(prefix = "doc_jobs")]
    /// struct JobMetrics {
    ///     /// Jobs run.
    ///     runs_total: Counter,
    /// }
    ///
    /// let catalog = obs_runtime::catalog();
    /// let sets = catalog.metric_sets();
    /// let (_, members) = sets.iter().find(|(name, _)| *name == "JobMetrics").unwrap();
    /// assert_eq!(members[0].name, "doc_jobs_runs_total");
    /// let runs = catalog.metric("doc_jobs_runs_total").unwrap();
    /// assert!(runs.label("tier").is_none());
    /// ```
    #[must_use]
    pub fn metric_sets(&self) -> Vec<(&'static str, Vec<&MetricInfo>)> {
        let mut sets: Vec<(&'static str, Vec<&MetricInfo>)> = Vec::new();
        for m in &self.metrics {
            if let MetricSource::MetricSet(set) = m.source {
                match sets.iter_mut().find(|(s, _)| *s == set) {
                    Some((_, members)) => members.push(m),
                    None => sets.push((set, vec![m])),
                }
            }
        }
        sets.sort_by_key(|(s, _)| *s);
        sets
    }

    /// A catalog of `metrics` alone, for the generators' tests: the
    /// global registry is shared by every test of the crate.
    #[cfg(test)]
    pub(crate) fn of_metrics(mut metrics: Vec<MetricInfo>) -> Self {
        metrics.sort_by(|a, b| a.name.cmp(&b.name));
        Self {
            functions: Vec::new(),
            routes: Vec::new(),
            default_route: None,
            checks: Vec::new(),
            metrics,
        }
    }

    /// The distinct metric bases of the functions, sorted.
    #[must_use]
    pub fn bases(&self) -> Vec<&'static str> {
        let mut bases: Vec<&'static str> = self.functions.iter().map(|f| f.base).collect();
        bases.dedup();
        bases
    }
}

/// The catalog of this program; see the module documentation.
#[must_use]
pub fn catalog() -> Catalog {
    let mut functions: Vec<FunctionInfo> = callsite::all()
        .iter()
        .map(|site| {
            let meta = site.meta();
            FunctionInfo {
                base: meta.base,
                function: meta.function,
                module: meta.module,
                labels: meta.labels.to_vec(),
                arg_labels: site.arg_label_names().collect(),
                buckets: meta.buckets,
                in_flight: meta.in_flight,
                objective: meta.objective,
                location: meta.location,
            }
        })
        .collect();
    functions.sort_by(|a, b| (a.base, a.module, a.function).cmp(&(b.base, b.module, b.function)));
    let mut checks: Vec<CheckInfo> = health::registered()
        .iter()
        .map(|c| CheckInfo {
            name: c.name(),
            kind: c.kind(),
            timeout: c.timeout(),
            critical: c.critical(),
        })
        .collect();
    checks.sort_by_key(|c| c.name);
    let mut metrics = function_families(&functions);
    for (d, origin) in registry::global().describe() {
        let source = match origin {
            Origin::MetricSet(set) => MetricSource::MetricSet(set),
            Origin::Registered => own_source(&d.name),
            Origin::Process => MetricSource::Process,
            Origin::Foreign => MetricSource::Foreign,
            Origin::Registry => MetricSource::Obs,
        };
        // Only the program's own families: obs's are where obs is.
        let location = match source {
            MetricSource::MetricSet(_) | MetricSource::Registered => {
                registry::global().location_of(&d.name)
            }
            _ => None,
        };
        let mut info = MetricInfo::from_description(d, source);
        info.location = location;
        metrics.push(info);
    }
    for known in known_families() {
        match metrics.iter_mut().find(|m| m.name == known.name) {
            // Registered already: the known labels' values fill the gaps.
            Some(m) => {
                for label in &mut m.labels {
                    if label.values.is_none() {
                        label.values = known.label(&label.name).and_then(|l| l.values.clone());
                    }
                }
            }
            None => metrics.push(known),
        }
    }
    metrics.sort_by(|a, b| a.name.cmp(&b.name));
    #[cfg(feature = "tower")]
    let (routes, default_route) = (
        crate::subsystems::http::route_objectives()
            .into_iter()
            .map(|(route, objective)| RouteObjective { route, objective })
            .collect(),
        crate::subsystems::http::default_objective(),
    );
    #[cfg(not(feature = "tower"))]
    let (routes, default_route) = (Vec::new(), None);
    Catalog {
        functions,
        routes,
        default_route,
        checks,
        metrics,
    }
}

#[cfg(test)]
mod tests;
