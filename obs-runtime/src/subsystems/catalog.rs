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

use crate::leaves::schema::{self, MetricKind, Objective, Probe};
use crate::metric_core::callsite;
use crate::metric_core::encode::{Description, Kind};
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

/// The unit of a metric, read from its name's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricUnit {
    /// `_seconds` (or `_seconds_total`).
    Seconds,
    /// `_bytes` (or `_bytes_total`).
    Bytes,
    /// A count of things: `_total` with no other unit.
    Count,
    /// Nothing in the name says.
    None,
}

impl MetricUnit {
    /// The unit of a metric called `name`.
    ///
    /// ```
    /// use obs_runtime::MetricUnit;
    /// assert_eq!(MetricUnit::of("process_cpu_seconds_total"), MetricUnit::Seconds);
    /// assert_eq!(MetricUnit::of("cache_hits_total"), MetricUnit::Count);
    /// assert_eq!(MetricUnit::of("cache_entries"), MetricUnit::None);
    /// ```
    #[must_use]
    pub fn of(name: &str) -> Self {
        let stem = name.strip_suffix("_total").unwrap_or(name);
        if stem.ends_with("_seconds") {
            Self::Seconds
        } else if stem.ends_with("_bytes") {
            Self::Bytes
        } else if stem.len() < name.len() {
            Self::Count
        } else {
            Self::None
        }
    }

    /// The unit's word, as the docs write it (`""` for none).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Seconds => "seconds",
            Self::Bytes => "bytes",
            Self::Count => "count",
            Self::None => "",
        }
    }
}

/// Where a metric family comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricSource {
    /// `#[instrumented]` functions of this base, as `(module, function)`.
    Functions(Vec<(&'static str, &'static str)>),
    /// A `#[derive(MetricSet)]` struct of this name.
    MetricSet(&'static str),
    /// Registered at run time by the program (`Counter::register`, …).
    Registered,
    /// A `prometheus` crate collector added to the registry.
    Foreign,
    /// The process metrics (`process_*`, `obs_build_info`).
    Process,
    /// The HTTP layer (`http::ObsLayer`, feature `tower`).
    Http,
    /// The health checks.
    Health,
    /// obs about itself (`obs_*`).
    Obs,
}

/// One label of a metric family.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LabelInfo {
    /// The label's name.
    pub name: String,
    /// Every value it can take, when the program knows them (a bounded
    /// label set, or a label of obs's own with fixed values).
    pub values: Option<Vec<&'static str>>,
}

/// A metric family the program exposes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetricInfo {
    /// The family name (for histograms, without `_bucket`/`_sum`/`_count`).
    pub name: String,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// The `# HELP` text.
    pub help: String,
    /// The labels every series carries.
    pub labels: Vec<LabelInfo>,
    /// Histogram bounds (empty for counters and gauges).
    pub buckets: Vec<f64>,
    /// The unit, from the name's suffix.
    pub unit: MetricUnit,
    /// Where it comes from.
    pub source: MetricSource,
}

impl MetricInfo {
    /// The label called `name`.
    #[must_use]
    pub fn label(&self, name: &str) -> Option<&LabelInfo> {
        self.labels.iter().find(|l| l.name == name)
    }

    fn new(
        name: &str,
        kind: MetricKind,
        help: &str,
        labels: &[(&str, Option<&[&'static str]>)],
        buckets: &[f64],
        source: MetricSource,
    ) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            help: help.to_owned(),
            labels: labels
                .iter()
                .map(|(n, v)| LabelInfo {
                    name: (*n).to_owned(),
                    values: v.map(<[_]>::to_vec),
                })
                .collect(),
            buckets: buckets.to_vec(),
            unit: MetricUnit::of(name),
            source,
        }
    }

    fn from_description(d: Description, source: MetricSource) -> Self {
        let kind = match d.kind {
            Kind::Counter => MetricKind::Counter,
            Kind::Histogram => MetricKind::Histogram,
            Kind::Gauge | Kind::Summary | Kind::Untyped => MetricKind::Gauge,
        };
        let labels = d
            .labels
            .into_iter()
            .enumerate()
            .map(|(i, name)| LabelInfo {
                name,
                values: d.values.as_ref().and_then(|v| v.get(i).cloned()),
            })
            .collect();
        Self {
            unit: MetricUnit::of(&d.name),
            name: d.name,
            kind,
            help: d.help,
            labels,
            buckets: d.buckets,
            source,
        }
    }
}

/// The values of `result`, the outcome of an `#[instrumented]` call.
pub const RESULTS: &[&str] = &["ok", "error", "cancelled", "panic"];

/// The HTTP server families: the labels of the request histograms.
const HTTP_LABELS: [(&str, Option<&[&str]>); 4] = [
    ("http_request_method", None),
    ("http_route", None),
    ("http_response_status_code", None),
    ("error_type", None),
];

/// obs's own families, known whether or not the program has used the part
/// that registers them yet (the HTTP layer registers its families when a
/// router is built, the span exporter its counter when it starts).
fn known_families() -> Vec<MetricInfo> {
    const PROBES: &[&str] = &["readiness", "liveness", "startup"];
    let mut out = Vec::new();
    if cfg!(feature = "tower") {
        for (name, help, buckets) in [
            (
                "http_server_request_duration_seconds",
                "Duration of HTTP server requests, until the response head is ready.",
                schema::HTTP,
            ),
            (
                "http_server_request_size_bytes",
                "Size of HTTP server request bodies, from Content-Length or the body's exact size.",
                schema::BYTES,
            ),
            (
                "http_server_response_size_bytes",
                "Size of HTTP server response bodies, from Content-Length or the bytes sent.",
                schema::BYTES,
            ),
        ] {
            out.push(MetricInfo::new(
                name,
                MetricKind::Histogram,
                help,
                &HTTP_LABELS,
                buckets,
                MetricSource::Http,
            ));
        }
        out.push(MetricInfo::new(
            "http_server_active_requests",
            MetricKind::Gauge,
            "HTTP server requests being handled now.",
            &HTTP_LABELS[..2],
            &[],
            MetricSource::Http,
        ));
    }
    out.push(MetricInfo::new(
        "health_check_status",
        MetricKind::Gauge,
        "Result of the latest run of a health check: 1 pass, 0.5 warn (a non-critical check failed), 0 fail.",
        &[("check", None), ("kind", Some(PROBES))],
        &[],
        MetricSource::Health,
    ));
    out.push(MetricInfo::new(
        "health_check_duration_seconds",
        MetricKind::Histogram,
        "Duration of health check runs, timeouts included.",
        &[("check", None)],
        schema::LATENCY,
        MetricSource::Health,
    ));
    for (name, help) in [
        (
            "obs_telemetry_dropped_spans_total",
            "Spans dropped before reaching the collector: export queue full, or export failed.",
        ),
        (
            "obs_panics_total",
            "Panics anywhere in the process, caught or not, since start.",
        ),
        (
            "obs_log_events_suppressed_total",
            "Log events dropped by the per-call-site rate limit.",
        ),
    ] {
        out.push(MetricInfo::new(
            name,
            MetricKind::Counter,
            help,
            &[],
            &[],
            MetricSource::Obs,
        ));
    }
    out
}

/// The source of an obs family registered at run time, by its name.
fn own_source(name: &str) -> MetricSource {
    if name.starts_with("http_server_") {
        MetricSource::Http
    } else if name.starts_with("health_check_") {
        MetricSource::Health
    } else if name.starts_with("obs_") {
        MetricSource::Obs
    } else {
        MetricSource::Registered
    }
}

/// The families of the `#[instrumented]` functions, one per base.
fn function_families(functions: &[FunctionInfo]) -> Vec<MetricInfo> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < functions.len() {
        let base = functions[i].base;
        let group: Vec<&FunctionInfo> = functions[i..]
            .iter()
            .take_while(|f| f.base == base)
            .collect();
        i += group.len();
        let sources =
            MetricSource::Functions(group.iter().map(|f| (f.module, f.function)).collect());
        let mut labels: Vec<(&str, Option<&[&'static str]>)> =
            vec![("function", None), ("module", None)];
        for f in &group {
            for name in f
                .labels
                .iter()
                .map(|(k, _)| *k)
                .chain(f.arg_labels.iter().copied())
            {
                if !labels.iter().any(|(n, _)| *n == name) {
                    labels.push((name, None));
                }
            }
        }
        let mut with_result = labels.clone();
        with_result.push(("result", Some(RESULTS)));
        out.push(MetricInfo::new(
            &format!("{base}_calls_total"),
            MetricKind::Counter,
            &format!("Calls of functions instrumented as `{base}`, by result."),
            &with_result,
            &[],
            sources.clone(),
        ));
        out.push(MetricInfo::new(
            &format!("{base}_duration_seconds"),
            MetricKind::Histogram,
            &format!("Duration of calls of functions instrumented as `{base}`, by result."),
            &with_result,
            group[0].buckets,
            sources.clone(),
        ));
        if group.iter().any(|f| f.in_flight) {
            out.push(MetricInfo::new(
                &format!("{base}_in_flight"),
                MetricKind::Gauge,
                &format!("Calls of functions instrumented as `{base}` running now."),
                &labels,
                &[],
                sources,
            ));
        }
    }
    out
}

/// What the program declares.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    functions: Vec<FunctionInfo>,
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
        metrics.push(MetricInfo::from_description(d, source));
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
    Catalog {
        functions,
        checks,
        metrics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_core::metrics::{Counter, Histogram};
    use crate::{LabelSet, LabelValue, MetricSet};

    // The variants are read through `LabelValue` only.
    #[allow(dead_code)]
    #[derive(LabelValue, Clone, Copy)]
    #[label(crate = "crate")]
    enum Tier {
        Free,
        Paid,
    }

    #[derive(LabelSet, Clone, Copy)]
    #[label(crate = "crate")]
    struct TierLabels {
        tier: Tier,
        cached: bool,
    }

    /// A set only this test declares.
    #[derive(MetricSet)]
    #[metrics(prefix = "catalog_test", crate = "crate")]
    struct CatalogTestMetrics {
        /// Orders placed.
        orders_total: Counter<TierLabels>,
        /// Time to place an order.
        #[metric(buckets = [0.1, 0.5])]
        order_seconds: Histogram,
    }

    #[test]
    fn metric_sets_describe_themselves_with_their_bounded_values() {
        let catalog = catalog();
        let orders = catalog.metric("catalog_test_orders_total").expect("listed");
        assert_eq!(orders.kind, MetricKind::Counter);
        assert_eq!(orders.help, "Orders placed.");
        assert_eq!(orders.unit, MetricUnit::Count);
        assert_eq!(orders.source, MetricSource::MetricSet("CatalogTestMetrics"));
        assert_eq!(
            orders.label("tier").unwrap().values.as_deref(),
            Some(&["free", "paid"][..])
        );
        assert_eq!(
            orders.label("cached").unwrap().values.as_deref(),
            Some(&["false", "true"][..])
        );
        let seconds = catalog
            .metric("catalog_test_order_seconds")
            .expect("listed");
        assert_eq!(seconds.kind, MetricKind::Histogram);
        assert_eq!(seconds.buckets, vec![0.1, 0.5]);
        assert_eq!(seconds.unit, MetricUnit::Seconds);
        let sets = catalog.metric_sets();
        let (_, members) = sets
            .iter()
            .find(|(name, _)| *name == "CatalogTestMetrics")
            .expect("the set");
        assert_eq!(members.len(), 2);
    }

    #[test]
    fn run_time_process_and_own_families_are_listed() {
        let gauge = crate::metrics::Gauge::<()>::new("catalog_test_queue_depth", "Jobs queued.")
            .unwrap()
            .register()
            .unwrap();
        gauge.set(1.0);
        let catalog = catalog();
        let queue = catalog.metric("catalog_test_queue_depth").expect("listed");
        assert_eq!(queue.source, MetricSource::Registered);
        assert_eq!(queue.kind, MetricKind::Gauge);
        let cpu = catalog
            .metric("process_cpu_seconds_total")
            .expect("process");
        assert_eq!(
            (cpu.kind, cpu.unit),
            (MetricKind::Counter, MetricUnit::Seconds)
        );
        assert!(catalog.metric("obs_build_info").is_some());
        assert!(catalog.metric("obs_cardinality_overflow_total").is_some());
        assert!(
            catalog
                .metric("obs_telemetry_dropped_spans_total")
                .is_some()
        );
        let status = catalog.metric("health_check_status").expect("health");
        assert_eq!(
            status.label("kind").unwrap().values.as_deref(),
            Some(&["readiness", "liveness", "startup"][..])
        );
        #[cfg(feature = "tower")]
        {
            let http = catalog
                .metric("http_server_request_duration_seconds")
                .expect("http");
            assert_eq!(http.source, MetricSource::Http);
            assert_eq!(http.buckets, schema::HTTP);
        }
        let names: Vec<&str> = catalog.metrics().iter().map(|m| m.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted, "sorted, each once");
    }

    #[crate::instrumented(metric = "catalog_test_fn", crate = "crate", in_flight = true)]
    fn work() {}

    #[test]
    fn functions_give_their_families() {
        work();
        let catalog = catalog();
        let calls = catalog.metric("catalog_test_fn_calls_total").unwrap();
        assert_eq!(
            calls.label("result").unwrap().values.as_deref(),
            Some(RESULTS)
        );
        match &calls.source {
            MetricSource::Functions(f) => assert!(f.iter().any(|(_, name)| *name == "work")),
            other => panic!("{other:?}"),
        }
        assert!(catalog.metric("catalog_test_fn_duration_seconds").is_some());
        assert!(catalog.metric("catalog_test_fn_in_flight").is_some());
    }
}
