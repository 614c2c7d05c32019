//! Monitoring as code: the program's alert rules and their tests, written
//! from the [`catalog`](crate::catalog()) of what it declares, so they
//! can't drift from the code.
//!
//! ```
//! #[obs_runtime::instrumented(metric = "doc_export_pay", slo(success = "99.9%"))]
//! fn pay() -> Result<(), String> { Ok(()) }
//!
//! let rules = obs_runtime::export::prometheus_rules();
//! assert!(rules.contains("alert: ObsSloFastBurn"));
//! assert!(rules.contains("> 0.0144"), "14.4 × the 0.1% budget, exact");
//! let tests = obs_runtime::export::rule_tests();
//! assert!(tests.contains("alertname: ObsSloFastBurn"));
//! ```
//!
//! The program's own alerts and dashboards join them ([`Alert`],
//! [`Dashboard`], [`Query`]), checked against the catalog when the bundle
//! is written:
//!
//! ```
//! use obs_runtime::export::{Alert, Dashboard, ExportOptions, Query, Severity};
//! use obs_runtime::metrics::{Counter, Gauge, Histogram};
//!
//! #[derive(obs_runtime::LabelSet, Clone, Copy)]
//! struct Outcome {
//!     status: &'static str,
//! }
//! #[derive(obs_runtime::LabelSet, Clone, Copy)]
//! struct Kind {
//!     kind: &'static str,
//! }
//! let missions = Counter::<Outcome>::new("doc_brain_missions_total", "Missions.")?.register()?;
//! Counter::<Kind>::new("doc_brain_errors_total", "Errors.")?.register()?;
//! Histogram::<()>::new("doc_brain_request_duration_seconds", "Requests.", &[0.1, 0.5, 1.0, 5.0])?
//!     .register()?;
//! Gauge::<()>::new("doc_brain_db_pool_utilization_ratio", "Pool use.")?.register()?;
//! Gauge::<()>::new("doc_brain_redis_connected", "Redis up.")?.register()?;
//! Gauge::<()>::new("doc_brain_worker_heartbeat_timestamp_seconds", "Beats.")?.register()?;
//! missions.with(Outcome { status: "failed" }).inc();
//!
//! let options = ExportOptions::default()
//!     .job("brain")
//!     .alert(
//!         Alert::above(
//!             "BrainMissionFailureRate",
//!             Query::ratio(r#"doc_brain_missions_total{status="failed"}"#, "doc_brain_missions_total"),
//!             "0.1",
//!         )
//!         .for_("5m")
//!         .severity(Severity::Warning)
//!         .summary("{{ $labels.job }}: more than 10 % of missions fail"),
//!     )
//!     .alert(
//!         Alert::above(
//!             "BrainSlowRequests",
//!             Query::quantile("doc_brain_request_duration_seconds", "0.95"),
//!             "1",
//!         )
//!         .for_("5m"),
//!     )
//!     .alert(Alert::above("BrainDbPoolHigh", Query::value("doc_brain_db_pool_utilization_ratio"), "0.8"))
//!     .alert(Alert::below("BrainRedisDown", Query::value("doc_brain_redis_connected"), "1").for_("1m"))
//!     .alert(Alert::above("BrainErrorsRising", Query::rate(r#"doc_brain_errors_total{kind="llm"}"#), "0.5"))
//!     .alert(Alert::absent("BrainWorkerStopped", "doc_brain_worker_heartbeat_timestamp_seconds").for_("5m"))
//!     .dashboard(
//!         Dashboard::new("BRAiN overview")
//!             .panel("Mission rate", Query::rate("doc_brain_missions_total").by(&["status"]))
//!             .panel("p95 latency", Query::quantile("doc_brain_request_duration_seconds", "0.95"))
//!             .panel("DB pool", Query::value("doc_brain_db_pool_utilization_ratio")),
//!     );
//! options.validate()?;
//! let dir = std::env::temp_dir().join(format!("obs-doc-custom-{}", std::process::id()));
//! obs_runtime::export::write_bundle_with(&dir, &options)?;
//! let rules = std::fs::read_to_string(dir.join("prometheus/rules.yml"))?;
//! assert!(rules.contains("- alert: BrainMissionFailureRate"));
//! assert!(dir.join("grafana/dashboards/brain-overview.json").exists());
//! std::fs::remove_dir_all(&dir)?;
//!
//! // A typo is refused, by name, and nothing is written.
//! let typo = options.alert(Alert::above("Typo", Query::rate("doc_brain_error_total"), "1"));
//! let err = obs_runtime::export::write_bundle_with(&dir, &typo).unwrap_err();
//! assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
//! assert!(err.to_string().starts_with("alert `Typo`: `doc_brain_error_total` is not a metric"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bundle;
mod custom;
mod decimal;
mod docs;
mod exposed;
mod grafana;
mod json;
mod rule_tests;
mod rules;
mod work;

pub use bundle::{bundle_files, write_bundle, write_bundle_with};
pub use custom::{Alert, Dashboard, ExportError, Query, Severity};

use crate::subsystems::catalog::{Catalog, catalog};

/// A latency limit in seconds, to the millisecond (at least 1 ms).
fn limit_seconds(d: std::time::Duration) -> String {
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1);
    decimal::decimal(ms, 3)
}

/// The file name the rule tests load the rules from.
pub const RULES_FILE: &str = "rules.yml";

/// What the generated files are tuned with. Every threshold is documented
/// in the alert it sets.
///
/// ```
/// let options = obs_runtime::export::ExportOptions::default()
///     .job("checkout")
///     .min_events(20);
/// let rules = obs_runtime::export::prometheus_rules_with(&options);
/// assert!(rules.contains("up{job=\"checkout\"} == 0"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    pub(crate) job: String,
    pub(crate) runbook_base: String,
    pub(crate) min_events: u32,
    pub(crate) error_ratio_percent: u32,
    pub(crate) p95_seconds: String,
    pub(crate) p99_seconds: String,
    pub(crate) job_failure_percent: u32,
    pub(crate) queue_wait_p95_seconds: String,
    pub(crate) worker_stale_seconds: u64,
    pub(crate) pool_saturation_percent: u32,
    pub(crate) outbound_error_percent: u32,
    pub(crate) batch_stale_seconds: u64,
    pub(crate) alerts: Vec<Alert>,
    pub(crate) dashboards: Vec<Dashboard>,
    /// Metric-set histograms with limits of their own (`None`: no
    /// latency alerts).
    pub(crate) histogram_limits: Vec<(String, Option<[String; 2]>)>,
}

impl Default for ExportOptions {
    /// Job: the executable's name; runbooks in `docs/metrics.md`; an alert
    /// needs 10 events in its window; error ratio above 5 %, p95 above 1 s
    /// and p99 above 2 s (the seeds' thresholds), for functions and HTTP
    /// routes alike. For the work families (the seeds' Celery and
    /// dependency alerts): job failures above 5 % of finished runs, a queue
    /// wait p95 above 60 s, a worker heartbeat older than 5 minutes, a
    /// connection pool above 80 % used, outbound calls failing above 5 %,
    /// and a batch job without a success for 24 hours.
    fn default() -> Self {
        let job = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "service".to_owned());
        Self {
            job,
            runbook_base: "docs/metrics.md".to_owned(),
            min_events: 10,
            error_ratio_percent: 5,
            p95_seconds: "1".to_owned(),
            p99_seconds: "2".to_owned(),
            job_failure_percent: 5,
            queue_wait_p95_seconds: "60".to_owned(),
            worker_stale_seconds: 300,
            pool_saturation_percent: 80,
            outbound_error_percent: 5,
            batch_stale_seconds: 86_400,
            alerts: Vec::new(),
            dashboards: Vec::new(),
            histogram_limits: Vec::new(),
        }
    }
}

impl ExportOptions {
    /// The Prometheus `job` the service is scraped as.
    #[must_use]
    pub fn job(mut self, job: impl Into<String>) -> Self {
        self.job = job.into();
        self
    }

    /// Where runbooks live: each alert's `runbook_url` is this plus
    /// `#<anchor>`.
    #[must_use]
    pub fn runbook_base(mut self, base: impl Into<String>) -> Self {
        self.runbook_base = base.into();
        self
    }

    /// How many events an alert's window must hold before it may fire (at
    /// least 1): one failed call in a quiet hour never pages.
    #[must_use]
    pub fn min_events(mut self, events: u32) -> Self {
        self.min_events = events.max(1);
        self
    }

    /// The error ratio, in whole percent (1–99), above which
    /// `ObsHighErrorRatio` warns.
    #[must_use]
    pub fn error_ratio_percent(mut self, percent: u32) -> Self {
        self.error_ratio_percent = percent.clamp(1, 99);
        self
    }

    /// The latency quantiles above which `ObsHighLatencyP95`/`P99` (per
    /// metric base) and `ObsHttpHighLatencyP95`/`P99` (per route) warn,
    /// to the millisecond (at least 1 ms each).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// #[obs_runtime::instrumented(metric = "doc_limits_pay")]
    /// fn pay() {}
    ///
    /// let options = obs_runtime::export::ExportOptions::default()
    ///     .latency_limits(Duration::from_millis(500), Duration::from_millis(1_500));
    /// let rules = obs_runtime::export::prometheus_rules_with(&options);
    /// assert!(rules.contains("{{ $labels.function }}: p95 latency above 0.5s"));
    /// assert!(rules.contains("{{ $labels.function }}: p99 latency above 1.5s"));
    /// ```
    #[must_use]
    pub fn latency_limits(mut self, p95: std::time::Duration, p99: std::time::Duration) -> Self {
        self.p95_seconds = limit_seconds(p95);
        self.p99_seconds = limit_seconds(p99);
        self
    }

    /// The p95 and p99 limits of one metric-set histogram's
    /// `ObsMetricSetLatencyP95`/`P99`, over those of
    /// [`latency_limits`](Self::latency_limits): a deployment that takes
    /// minutes is not slow at 1 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use obs_runtime::metrics::Histogram;
    ///
    /// #[derive(obs_runtime::MetricSet)]
    /// struct DocDeploys {
    ///     /// Deployment time.
    ///     #[metric(buckets = [30.0, 60.0, 300.0, 600.0, 1800.0])]
    ///     doc_deploy_duration_seconds: Histogram,
    /// }
    /// let _ = DocDeploys::global();
    ///
    /// let options = obs_runtime::export::ExportOptions::default().histogram_latency_limits(
    ///     "doc_deploy_duration_seconds",
    ///     Duration::from_secs(300),
    ///     Duration::from_secs(600),
    /// );
    /// let rules = obs_runtime::export::prometheus_rules_with(&options);
    /// assert!(rules.contains("doc_deploy_duration_seconds: p95 above 300s"));
    /// ```
    #[must_use]
    pub fn histogram_latency_limits(
        mut self,
        metric: &str,
        p95: std::time::Duration,
        p99: std::time::Duration,
    ) -> Self {
        self.histogram_limits.retain(|(m, _)| m != metric);
        self.histogram_limits.push((
            metric.to_owned(),
            Some([limit_seconds(p95), limit_seconds(p99)]),
        ));
        self
    }

    /// No `ObsMetricSetLatencyP95`/`P99` for one metric-set histogram
    /// (one measuring something other than waiting, say).
    ///
    /// ```
    /// use obs_runtime::metrics::Histogram;
    ///
    /// #[derive(obs_runtime::MetricSet)]
    /// struct DocBatches {
    ///     /// Time a batch spends in the queue.
    ///     doc_batch_age_seconds: Histogram,
    /// }
    /// let _ = DocBatches::global();
    ///
    /// let options = obs_runtime::export::ExportOptions::default()
    ///     .without_latency_alerts("doc_batch_age_seconds");
    /// let rules = obs_runtime::export::prometheus_rules_with(&options);
    /// assert!(!rules.contains("doc_batch_age_seconds: p95"));
    /// ```
    #[must_use]
    pub fn without_latency_alerts(mut self, metric: &str) -> Self {
        self.histogram_limits.retain(|(m, _)| m != metric);
        self.histogram_limits.push((metric.to_owned(), None));
        self
    }

    /// The p95 and p99 limits of a metric-set histogram, in seconds;
    /// `None` when it has no latency alerts.
    pub(crate) fn limits_of(&self, metric: &str) -> Option<[&str; 2]> {
        match self.histogram_limits.iter().find(|(m, _)| m == metric) {
            Some((_, Some([p95, p99]))) => Some([p95.as_str(), p99.as_str()]),
            Some((_, None)) => None,
            None => Some([self.p95_seconds.as_str(), self.p99_seconds.as_str()]),
        }
    }

    /// The share of a job's finished runs (`ok`, `error`, `panic`), in
    /// whole percent (1–99), that may end in `error` or `panic` before
    /// `ObsJobFailureRatio` warns (default 5).
    ///
    /// ```
    /// let options = obs_runtime::export::ExportOptions::default().job_failure_ratio_percent(10);
    /// let _rules = obs_runtime::export::prometheus_rules_with(&options);
    /// ```
    #[must_use]
    pub fn job_failure_ratio_percent(mut self, percent: u32) -> Self {
        self.job_failure_percent = percent.clamp(1, 99);
        self
    }

    /// The p95 of `job_queue_wait_seconds` (enqueue to start) above which
    /// `ObsJobQueueWaitP95` warns after 10 minutes, to the millisecond
    /// (default 60 s, at least 1 ms).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let options = obs_runtime::export::ExportOptions::default()
    ///     .queue_wait_p95(Duration::from_secs(30));
    /// let _rules = obs_runtime::export::prometheus_rules_with(&options);
    /// ```
    #[must_use]
    pub fn queue_wait_p95(mut self, limit: std::time::Duration) -> Self {
        let ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX).max(1);
        self.queue_wait_p95_seconds = decimal::decimal(ms, 3);
        self
    }

    /// How old a worker's heartbeat
    /// (`job_worker_last_seen_timestamp_seconds`) may get before
    /// `ObsJobWorkerStale` pages, in whole seconds (default 5 minutes, at
    /// least 1 s).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// #[derive(obs_runtime::LabelSet)]
    /// struct Worker {
    ///     queue: &'static str,
    ///     worker: &'static str,
    /// }
    ///
    /// // Registered by `obs_runtime::jobs` as workers start; here by hand
    /// // (unless jobs did already).
    /// let _ = obs_runtime::metrics::Gauge::<Worker>::new(
    ///     "job_worker_last_seen_timestamp_seconds",
    ///     "Worker heartbeats.",
    /// )
    /// .unwrap()
    /// .register();
    /// let options = obs_runtime::export::ExportOptions::default()
    ///     .worker_stale_after(Duration::from_secs(120));
    /// let rules = obs_runtime::export::prometheus_rules_with(&options);
    /// assert!(rules.contains("time() - job_worker_last_seen_timestamp_seconds > 120"));
    /// assert!(rules.contains("stopped for 2m"));
    /// ```
    #[must_use]
    pub fn worker_stale_after(mut self, age: std::time::Duration) -> Self {
        self.worker_stale_seconds = age.as_secs().max(1);
        self
    }

    /// The share of a connection pool's maximum in use, in whole percent
    /// (1–99), above which `ObsDbPoolSaturation` warns after 5 minutes
    /// (default 80).
    ///
    /// ```
    /// let options = obs_runtime::export::ExportOptions::default().pool_saturation_percent(90);
    /// let _rules = obs_runtime::export::prometheus_rules_with(&options);
    /// ```
    #[must_use]
    pub fn pool_saturation_percent(mut self, percent: u32) -> Self {
        self.pool_saturation_percent = percent.clamp(1, 99);
        self
    }

    /// The share of outbound HTTP calls to one `server_address` that may
    /// fail, in whole percent (1–99), before `ObsOutboundErrorRatio` warns
    /// (default 5).
    ///
    /// ```
    /// let options = obs_runtime::export::ExportOptions::default().outbound_error_ratio_percent(2);
    /// let _rules = obs_runtime::export::prometheus_rules_with(&options);
    /// ```
    #[must_use]
    pub fn outbound_error_ratio_percent(mut self, percent: u32) -> Self {
        self.outbound_error_percent = percent.clamp(1, 99);
        self
    }

    /// How long a batch job may go without a success
    /// (`last_success_timestamp_seconds`) before `ObsBatchStale` warns, in
    /// whole seconds (default 24 hours, at least 1 s).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let options = obs_runtime::export::ExportOptions::default()
    ///     .batch_stale_after(Duration::from_secs(2 * 86_400));
    /// let _rules = obs_runtime::export::prometheus_rules_with(&options);
    /// ```
    #[must_use]
    pub fn batch_stale_after(mut self, age: std::time::Duration) -> Self {
        self.batch_stale_seconds = age.as_secs().max(1);
        self
    }

    /// Adds an alert of the program's own; see [`Alert`]. It is checked
    /// against the catalog when the bundle is written (or by
    /// [`validate`](Self::validate)).
    ///
    /// ```
    /// use obs_runtime::export::{Alert, ExportOptions, Query, Severity};
    /// use obs_runtime::metrics::Gauge;
    ///
    /// Gauge::<()>::new("doc_queue_depth", "Jobs waiting.").unwrap().register().unwrap();
    /// let options = ExportOptions::default()
    ///     .job("worker")
    ///     .alert(
    ///         Alert::above("QueueBacklog", Query::value("doc_queue_depth"), "100")
    ///             .for_("10m")
    ///             .severity(Severity::Critical),
    ///     );
    /// options.validate().unwrap();
    /// let rules = obs_runtime::export::prometheus_rules_with(&options);
    /// assert!(rules.contains("- alert: QueueBacklog"));
    /// assert!(rules.contains("max by (job, instance) (doc_queue_depth) > 100"));
    /// let tests = obs_runtime::export::rule_tests_with(&options);
    /// assert!(tests.contains("alertname: QueueBacklog"));
    /// ```
    #[must_use]
    pub fn alert(mut self, alert: Alert) -> Self {
        self.alerts.push(alert);
        self
    }

    /// Adds a dashboard of the program's own; see [`Dashboard`].
    ///
    /// ```
    /// use obs_runtime::export::{Dashboard, ExportOptions, Query};
    /// use obs_runtime::metrics::Counter;
    ///
    /// Counter::<()>::new("doc_orders_total", "Orders.").unwrap().register().unwrap();
    /// let options = ExportOptions::default().dashboard(
    ///     Dashboard::new("Orders").panel("Order rate", Query::rate("doc_orders_total")),
    /// );
    /// let boards = obs_runtime::export::grafana_dashboards_with(&options);
    /// let (_, orders) = boards.iter().find(|(file, _)| file == "orders.json").unwrap();
    /// assert!(orders.contains("rate(doc_orders_total{job=~\\\"$job\\\""));
    /// ```
    #[must_use]
    pub fn dashboard(mut self, dashboard: Dashboard) -> Self {
        self.dashboards.push(dashboard);
        self
    }

    /// Checks the custom alerts and dashboards against this program's
    /// [`catalog`](crate::catalog()) — what [`write_bundle_with`] does
    /// before writing anything — so a program can refuse to start with a
    /// broken one.
    ///
    /// ```
    /// use obs_runtime::export::{Alert, ExportOptions, Query};
    ///
    /// let options = ExportOptions::default()
    ///     .alert(Alert::above("Typo", Query::rate("doc_no_such_total"), "1"));
    /// let err = options.validate().unwrap_err();
    /// assert!(err.to_string().contains("`doc_no_such_total` is not a metric of this program"));
    /// ```
    ///
    /// # Errors
    ///
    /// Every problem found, one line each, naming the alert or panel.
    pub fn validate(&self) -> Result<(), ExportError> {
        let checked = self.checked(&catalog());
        if checked.problems.is_empty() {
            Ok(())
        } else {
            Err(ExportError {
                problems: checked.problems,
            })
        }
    }

    /// The custom entries checked against `catalog`.
    pub(crate) fn checked(&self, catalog: &Catalog) -> custom::Checked {
        if self.alerts.is_empty() && self.dashboards.is_empty() {
            return custom::Checked::default();
        }
        let generated = rules::generated(catalog, self);
        let files: Vec<String> = grafana::dashboards(catalog)
            .into_iter()
            .map(|(file, _)| file.trim_end_matches(".json").to_owned())
            .collect();
        custom::check(
            catalog,
            &self.alerts,
            &self.dashboards,
            &generated.alert_names(),
            &files,
        )
    }

    pub(crate) fn runbook(&self, anchor: &str) -> String {
        format!("{}#{anchor}", self.runbook_base)
    }
}

/// The alerting and recording rules of this program, as one Prometheus
/// rules file (YAML); see [`rules`](self) for what it holds.
#[must_use]
pub fn prometheus_rules() -> String {
    prometheus_rules_with(&ExportOptions::default())
}

/// [`prometheus_rules`] with `options`.
#[must_use]
pub fn prometheus_rules_with(options: &ExportOptions) -> String {
    let families = exposed::families();
    exposed::rename(rules::build(&catalog(), options).yaml(), families.as_ref())
}

/// A `promtool test rules` file for [`prometheus_rules`], which it loads
/// as [`RULES_FILE`] from the same folder.
#[must_use]
pub fn rule_tests() -> String {
    rule_tests_with(&ExportOptions::default())
}

/// [`rule_tests`] with `options` (the same as the rules').
#[must_use]
pub fn rule_tests_with(options: &ExportOptions) -> String {
    let catalog = catalog();
    let rules = rules::build(&catalog, options);
    let families = exposed::families();
    exposed::rename(
        rule_tests::write(&rules, &catalog, options, RULES_FILE),
        families.as_ref(),
    )
}

/// The Grafana dashboards of this program, as `(file name, JSON)`: the
/// service overview (HTTP requests by route), the `#[instrumented]`
/// functions, objectives and health checks, and the runtime with a row per
/// metric set; `obs-work.json` ("Jobs and dependencies": outbound calls,
/// jobs, connection pools, Redis, batch jobs) when the program registered
/// any of those families. Each picks its Prometheus data source through a
/// `${datasource}` variable and filters by `job` and `instance`, so the
/// files load through Grafana's file provisioning as they are (see
/// [`grafana_provisioning`]).
///
/// ```
/// #[obs_runtime::instrumented(metric = "doc_dash_pay")]
/// fn pay() {}
///
/// let dashboards = obs_runtime::export::grafana_dashboards();
/// let (_, functions) = dashboards
///     .iter()
///     .find(|(file, _)| file == "obs-functions.json")
///     .unwrap();
/// assert!(functions.contains("doc_dash_pay_calls_total"));
/// assert!(functions.contains("$__rate_interval"));
/// ```
#[must_use]
pub fn grafana_dashboards() -> Vec<(String, String)> {
    let families = exposed::families();
    grafana::dashboards(&catalog())
        .into_iter()
        .map(|(file, json)| (file, exposed::rename(json, families.as_ref())))
        .collect()
}

/// [`grafana_dashboards`] and the custom [`Dashboard`]s of `options`, each
/// as `<slug of its title>.json`. A panel that fails its checks is left
/// out and named in the dashboard's description; a dashboard whose title
/// fails is left out ([`ExportOptions::validate`] says why).
///
/// ```
/// use obs_runtime::export::{Dashboard, ExportOptions, Query};
///
/// let options = ExportOptions::default().dashboard(
///     Dashboard::new("Process").panel("Memory", Query::value("process_resident_memory_bytes")),
/// );
/// let boards = obs_runtime::export::grafana_dashboards_with(&options);
/// assert!(boards.iter().any(|(file, json)| file == "process.json" && json.contains("\"Memory\"")));
/// ```
#[must_use]
pub fn grafana_dashboards_with(options: &ExportOptions) -> Vec<(String, String)> {
    let catalog = catalog();
    let families = exposed::families();
    let mut out = grafana::dashboards(&catalog);
    out.extend(grafana::custom(&options.checked(&catalog).dashboards));
    // The names as exposed, as `grafana_dashboards` writes them.
    out.into_iter()
        .map(|(file, json)| (file, exposed::rename(json, families.as_ref())))
        .collect()
}

/// Grafana's provisioning files for [`grafana_dashboards`], as
/// `(path, YAML)`: `grafana/provisioning/datasources/prometheus.yaml` (a
/// default Prometheus data source at `prometheus_url`) and
/// `grafana/provisioning/dashboards/obs.yaml` (a file provider reading
/// `/var/lib/grafana/dashboards/obs`, where the dashboards go).
///
/// ```
/// let files = obs_runtime::export::grafana_provisioning("http://prometheus:9090");
/// assert_eq!(files[0].0, "grafana/provisioning/datasources/prometheus.yaml");
/// assert!(files[0].1.contains("url: \"http://prometheus:9090\""));
/// ```
#[must_use]
pub fn grafana_provisioning(prometheus_url: &str) -> Vec<(String, String)> {
    grafana::provisioning(prometheus_url)
}

/// `docs/metrics.md`: every metric (type, labels and their values, help,
/// unit, source, ready Prometheus queries), every objective, and every alert with what
/// it means and what to check first — the runbook the alerts'
/// `runbook_url`s point to.
///
/// ```
/// #[obs_runtime::instrumented(metric = "doc_md_pay", slo(success = "99%"))]
/// fn pay() -> Result<(), String> { Ok(()) }
///
/// let md = obs_runtime::export::metrics_markdown();
/// assert!(md.contains("### `doc_md_pay_calls_total`"));
/// assert!(md.contains("### Alert: ObsSloFastBurn"));
/// ```
#[must_use]
pub fn metrics_markdown() -> String {
    metrics_markdown_with(&ExportOptions::default())
}

/// [`metrics_markdown`] with `options` (the same as the rules'), so the
/// runbook matches the rules' job and thresholds.
///
/// ```
/// #[obs_runtime::instrumented(metric = "doc_md_with_pay")]
/// fn pay() -> Result<(), String> { Ok(()) }
///
/// let options = obs_runtime::export::ExportOptions::default().error_ratio_percent(2);
/// let md = obs_runtime::export::metrics_markdown_with(&options);
/// assert!(md.contains("### Alert: ObsTargetDown"));
/// assert!(md.contains("> 0.02"));
/// ```
#[must_use]
pub fn metrics_markdown_with(options: &ExportOptions) -> String {
    let catalog = catalog();
    let rules = rules::build(&catalog, options);
    let families = exposed::families();
    exposed::rename(docs::write(&catalog, &rules), families.as_ref())
}
