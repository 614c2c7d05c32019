//! The program's own alerts and dashboards, declared in code beside the
//! generated ones and held to the same guarantees: every [`Alert`] becomes
//! a rule in the `custom` group of `rules.yml` with promtool tests made
//! from its form (a breach that fires, a healthy case that stays silent, a
//! low-traffic case for guarded forms), and a runbook heading in
//! `docs/metrics.md`; every [`Dashboard`] becomes one more JSON file in
//! `grafana/dashboards`, on the same `${datasource}`, `job` and `instance`
//! variables as the generated boards.
//!
//! A [`Query`] names metrics by selector — `name` or `name{label="value",…}`,
//! equality matchers only — and each selector must name a family of the
//! [`catalog`](crate::catalog()) of the kind its form reads: a counter for
//! [`Query::rate`] and [`Query::ratio`] (or a histogram's `_count`/`_sum`),
//! a histogram for [`Query::quantile`], a gauge for [`Query::value`]; any
//! kind for [`Alert::absent`]. The matchers' labels must be the family's,
//! and a label with known values must be matched to one of them.
//!
//! | form | rule expression (per `job` and the [`Query::by`] labels) |
//! |---|---|
//! | `rate(c)` | `sum by (job) (rate(c[5m])) > T`, with at least [`min_events`](super::ExportOptions::min_events) events in 5 m when it is `above` |
//! | `ratio(bad, total)` | `sum(rate(bad[5m])) / sum(rate(total[5m])) > T`, 0 when nothing was bad, no series without traffic, the traffic minimum |
//! | `quantile(h, q)` | `histogram_quantile(q, sum by (le, job) (rate(h_bucket[5m]))) > T`, the traffic minimum |
//! | `value(g)` | `max by (job, instance) (g) > T` (`min` for [`Alert::below`]) |
//! | `absent(sel)` | `absent(sel{job="<job>"})` |
//!
//! In dashboards the same forms read `$__rate_interval` and filter by the
//! `job` and `instance` variables.
//!
//! Invalid entries make [`write_bundle_with`](super::write_bundle_with)
//! fail with an [`io::Error`](std::io::Error) of kind `InvalidInput` naming
//! each and why, and [`ExportOptions::validate`](super::ExportOptions::validate)
//! return an [`ExportError`]; the functions that return text
//! ([`prometheus_rules_with`](super::prometheus_rules_with), …) leave them
//! out and say so in a comment.

mod check;
mod forms;
mod syntax;
mod tests_gen;

use std::fmt;

pub(crate) use check::{
    Checked, CheckedAlert, CheckedDashboard, CheckedQuery, Metric, Resolved, check,
};
pub(crate) use forms::{rule, runbook, what};
pub(crate) use tests_gen::cases;

/// How urgent an [`Alert`] is: the bundle's Alertmanager pages on
/// `critical` and opens a ticket on `warning`.
///
/// ```
/// use obs_runtime::export::Severity;
/// assert_eq!(Severity::Critical.as_str(), "critical");
/// assert_eq!(Severity::default(), Severity::Warning);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Severity {
    /// Pages someone now.
    Critical,
    /// Opens a ticket (the default).
    #[default]
    Warning,
}

impl Severity {
    /// The `severity` label's value.
    ///
    /// ```
    /// assert_eq!(obs_runtime::export::Severity::Warning.as_str(), "warning");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Warning => "warning",
        }
    }
}

/// What an alert or a panel reads. A selector is `name` or
/// `name{label="value",…}` (equality matchers only); selectors are checked
/// against the catalog when the bundle is exported. In rules:
///
/// | form | rule expression (per `job` and the [`Query::by`] labels) |
/// |---|---|
/// | `rate(c)` | `sum by (job) (rate(c[5m])) > T`, with at least [`min_events`](super::ExportOptions::min_events) events in 5 m when it is `above` |
/// | `ratio(bad, total)` | `sum(rate(bad[5m])) / sum(rate(total[5m])) > T`, 0 when nothing was bad, no series without traffic, the traffic minimum |
/// | `quantile(h, q)` | `histogram_quantile(q, sum by (le, job) (rate(h_bucket[5m]))) > T`, the traffic minimum |
/// | `value(g)` | `max by (job, instance) (g) > T` (`min` for [`Alert::below`]) |
/// | `age(g)` | `time() - max by (job, instance) (g) > T`, in seconds |
/// | `absent(sel)` | `absent(sel{job="<job>"})` |
///
/// In dashboards the same forms read `$__rate_interval` and filter by the
/// `job` and `instance` variables.
///
/// ```
/// use obs_runtime::export::Query;
///
/// let failures = Query::ratio(r#"missions_total{status="failed"}"#, "missions_total");
/// let p95 = Query::quantile("http_request_duration_seconds", "0.95").by(&["endpoint"]);
/// let pool = Query::value("db_pool_utilization_ratio");
/// let errors = Query::rate(r#"errors_total{type="llm"}"#);
/// # let _ = (failures, p95, pool, errors);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub(crate) form: Form,
    pub(crate) by: Vec<String>,
}

/// The forms a [`Query`] takes, with their selectors as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Form {
    Rate(String),
    Ratio { bad: String, total: String },
    Quantile { histogram: String, q: String },
    Value(String),
    Age(String),
}

impl Query {
    /// Events per second of a counter (or of a histogram's `_count`),
    /// summed per `job`.
    ///
    /// ```
    /// let q = obs_runtime::export::Query::rate(r#"brain_errors_total{type="llm"}"#);
    /// # let _ = q;
    /// ```
    #[must_use]
    pub fn rate(counter: impl Into<String>) -> Self {
        Self::of(Form::Rate(counter.into()))
    }

    /// The share of `bad` events among `total` ones, both counters: 0 when
    /// nothing was bad, no value without traffic (never NaN). With one
    /// metric, `bad` narrows `total` with more matchers.
    ///
    /// ```
    /// let q = obs_runtime::export::Query::ratio(
    ///     r#"brain_missions_total{status="failed"}"#,
    ///     "brain_missions_total",
    /// );
    /// # let _ = q;
    /// ```
    #[must_use]
    pub fn ratio(bad: impl Into<String>, total: impl Into<String>) -> Self {
        Self::of(Form::Ratio {
            bad: bad.into(),
            total: total.into(),
        })
    }

    /// The `q` quantile (a decimal between 0 and 1, as `"0.95"`) of a
    /// histogram, by its base name (no `_bucket`).
    ///
    /// ```
    /// let q = obs_runtime::export::Query::quantile("http_request_duration_seconds", "0.95");
    /// # let _ = q;
    /// ```
    #[must_use]
    pub fn quantile(histogram: impl Into<String>, q: impl Into<String>) -> Self {
        Self::of(Form::Quantile {
            histogram: histogram.into(),
            q: q.into(),
        })
    }

    /// A gauge's value, per `job` and `instance` (an alert above a
    /// threshold reads the highest series, below it the lowest).
    ///
    /// ```
    /// let q = obs_runtime::export::Query::value("brain_db_pool_utilization_ratio");
    /// # let _ = q;
    /// ```
    #[must_use]
    pub fn value(gauge: impl Into<String>) -> Self {
        Self::of(Form::Value(gauge.into()))
    }

    /// Seconds since the Unix time a gauge holds (a heartbeat or a last
    /// success, `…_timestamp_seconds`), per `job` and `instance`, from the
    /// latest series: `time() - max by (job, instance) (g)`. Thresholds are
    /// seconds, at most a day.
    ///
    /// ```
    /// let q = obs_runtime::export::Query::age("worker_heartbeat_timestamp_seconds");
    /// # let _ = q;
    /// ```
    #[must_use]
    pub fn age(timestamp_gauge: impl Into<String>) -> Self {
        Self::of(Form::Age(timestamp_gauge.into()))
    }

    /// Keeps these labels of the metric besides `job` (and `instance` for
    /// [`value`](Self::value) and [`age`](Self::age)): an alert fires per
    /// combination, a panel draws a line per combination.
    ///
    /// ```
    /// let q = obs_runtime::export::Query::rate("http_requests_total").by(&["endpoint", "method"]);
    /// # let _ = q;
    /// ```
    #[must_use]
    pub fn by(mut self, labels: &[&str]) -> Self {
        self.by = labels.iter().map(|l| (*l).to_owned()).collect();
        self
    }

    fn of(form: Form) -> Self {
        Self {
            form,
            by: Vec::new(),
        }
    }
}

/// When an [`Alert`] fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Condition {
    Above(Query, String),
    Below(Query, String),
    Absent(String),
}

/// An alert of the program's own, written into `rules.yml` (group
/// `custom`) with its promtool tests and a runbook heading.
///
/// Thresholds are exact decimals (`"0.1"`, `"1"`, `"-2.5"`), compared with
/// `>` ([`above`](Self::above)) or `<` ([`below`](Self::below)). The
/// summary and description may use `{{ $labels.<name> }}` of the labels
/// the alert fires with (`job`, the [`Query::by`] labels, `instance` for
/// values, the selector's labels for [`absent`](Self::absent)); without
/// them, obs writes both from the query.
///
/// ```
/// use obs_runtime::export::{Alert, Query, Severity};
///
/// let alert = Alert::above(
///     "BrainMissionFailureRate",
///     Query::ratio(r#"brain_missions_total{status="failed"}"#, "brain_missions_total"),
///     "0.1",
/// )
/// .for_("5m")
/// .severity(Severity::Warning)
/// .summary("{{ $labels.job }}: more than 10 % of missions fail");
/// # let _ = alert;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub(crate) name: String,
    pub(crate) condition: Condition,
    pub(crate) for_: Option<String>,
    pub(crate) severity: Severity,
    pub(crate) summary: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) runbook: Option<String>,
}

impl Alert {
    /// Fires when `query` is above `threshold`.
    ///
    /// ```
    /// use obs_runtime::export::{Alert, Query};
    /// let a = Alert::above("SlowRequests", Query::quantile("http_request_duration_seconds", "0.95"), "1");
    /// # let _ = a;
    /// ```
    #[must_use]
    pub fn above(name: impl Into<String>, query: Query, threshold: impl Into<String>) -> Self {
        Self::of(name, Condition::Above(query, threshold.into()))
    }

    /// Fires when `query` is below `threshold`.
    ///
    /// ```
    /// use obs_runtime::export::{Alert, Query};
    /// let a = Alert::below("RedisDown", Query::value("redis_connected"), "1").for_("1m");
    /// # let _ = a;
    /// ```
    #[must_use]
    pub fn below(name: impl Into<String>, query: Query, threshold: impl Into<String>) -> Self {
        Self::of(name, Condition::Below(query, threshold.into()))
    }

    /// Fires when no series matches `selector` for the exported `job`
    /// (a histogram is looked for by its `_count`): the process that
    /// writes it stopped, or never started.
    ///
    /// ```
    /// use obs_runtime::export::Alert;
    /// let a = Alert::absent("WorkerStopped", "worker_heartbeat_timestamp_seconds").for_("5m");
    /// # let _ = a;
    /// ```
    #[must_use]
    pub fn absent(name: impl Into<String>, selector: impl Into<String>) -> Self {
        Self::of(name, Condition::Absent(selector.into()))
    }

    /// How long the condition must hold before the alert fires: a
    /// Prometheus duration (`"30s"`, `"5m"`, `"1h30m"`), at most a day.
    /// Without it, the alert fires at the first evaluation that breaches.
    ///
    /// ```
    /// # use obs_runtime::export::{Alert, Query};
    /// let a = Alert::above("Busy", Query::value("queue_depth"), "100").for_("10m");
    /// # let _ = a;
    /// ```
    #[must_use]
    pub fn for_(mut self, duration: impl Into<String>) -> Self {
        self.for_ = Some(duration.into());
        self
    }

    /// Critical pages, warning (the default) opens a ticket.
    ///
    /// ```
    /// # use obs_runtime::export::{Alert, Query, Severity};
    /// let a = Alert::below("Down", Query::value("redis_connected"), "1").severity(Severity::Critical);
    /// # let _ = a;
    /// ```
    #[must_use]
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// The one-line `summary` annotation.
    ///
    /// ```
    /// # use obs_runtime::export::{Alert, Query};
    /// let a = Alert::above("Busy", Query::value("queue_depth"), "100")
    ///     .summary("{{ $labels.instance }}: more than 100 jobs waiting");
    /// # let _ = a;
    /// ```
    #[must_use]
    pub fn summary(mut self, text: impl Into<String>) -> Self {
        self.summary = Some(text.into());
        self
    }

    /// The `description` annotation, also the runbook's "What it means".
    ///
    /// ```
    /// # use obs_runtime::export::{Alert, Query};
    /// let a = Alert::above("Busy", Query::value("queue_depth"), "100")
    ///     .description("The workers don't keep up with the jobs enqueued.");
    /// # let _ = a;
    /// ```
    #[must_use]
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// The runbook's "What to check first" for this alert in
    /// `docs/metrics.md` (where its `runbook_url` points).
    ///
    /// ```
    /// # use obs_runtime::export::{Alert, Query};
    /// let a = Alert::above("Busy", Query::value("queue_depth"), "100")
    ///     .runbook("Are the workers running? Their logs and the queue's oldest job.");
    /// # let _ = a;
    /// ```
    #[must_use]
    pub fn runbook(mut self, what_to_check: impl Into<String>) -> Self {
        self.runbook = Some(what_to_check.into());
        self
    }

    /// The alert's name (its `alertname`).
    ///
    /// ```
    /// # use obs_runtime::export::{Alert, Query};
    /// assert_eq!(Alert::absent("Gone", "up_total").name(), "Gone");
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    fn of(name: impl Into<String>, condition: Condition) -> Self {
        Self {
            name: name.into(),
            condition,
            for_: None,
            severity: Severity::default(),
            summary: None,
            description: None,
            runbook: None,
        }
    }
}

/// One panel of a [`Dashboard`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Panel {
    pub(crate) title: String,
    pub(crate) query: Query,
}

/// A dashboard of the program's own: one more file in
/// `grafana/dashboards`, named after the title's slug (`"BRAiN overview"`
/// → `brain-overview.json`), panels laid out two per line, each a time
/// series of its [`Query`].
///
/// ```
/// use obs_runtime::export::{Dashboard, Query};
///
/// let board = Dashboard::new("BRAiN overview")
///     .description("Requests, latency and the database pool.")
///     .panel("Request rate", Query::rate("http_requests_total"))
///     .panel("p95 latency", Query::quantile("http_request_duration_seconds", "0.95"));
/// # let _ = board;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) panels: Vec<Panel>,
}

impl Dashboard {
    /// An empty dashboard titled `title`.
    ///
    /// ```
    /// let board = obs_runtime::export::Dashboard::new("Missions");
    /// assert_eq!(board.title(), "Missions");
    /// ```
    #[must_use]
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            description: None,
            panels: Vec::new(),
        }
    }

    /// The dashboard's description.
    ///
    /// ```
    /// let board = obs_runtime::export::Dashboard::new("Missions").description("Mission outcomes.");
    /// # let _ = board;
    /// ```
    #[must_use]
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Adds a panel titled `title` that draws `query`.
    ///
    /// ```
    /// use obs_runtime::export::{Dashboard, Query};
    /// let board = Dashboard::new("Missions")
    ///     .panel("Failure ratio", Query::ratio(r#"missions_total{status="failed"}"#, "missions_total"));
    /// # let _ = board;
    /// ```
    #[must_use]
    pub fn panel(mut self, title: impl Into<String>, query: Query) -> Self {
        self.panels.push(Panel {
            title: title.into(),
            query,
        });
        self
    }

    /// The title.
    ///
    /// ```
    /// assert_eq!(obs_runtime::export::Dashboard::new("X").title(), "X");
    /// ```
    #[must_use]
    pub fn title(&self) -> &str {
        &self.title
    }
}

/// What is wrong with the custom alerts and dashboards of an
/// [`ExportOptions`](super::ExportOptions): one line per problem, each
/// naming the alert or panel and why.
///
/// ```
/// use obs_runtime::export::{Alert, ExportOptions, Query};
///
/// let options = ExportOptions::default()
///     .alert(Alert::above("Bad name!", Query::value("no_such_gauge"), "ten"));
/// let err = options.validate().unwrap_err();
/// assert_eq!(err.problems().len(), 3);
/// assert!(err.to_string().contains("alert `Bad name!`"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportError {
    pub(crate) problems: Vec<String>,
}

impl ExportError {
    /// Each problem, as one sentence naming what it is about.
    ///
    /// ```
    /// use obs_runtime::export::{Dashboard, ExportOptions};
    /// let err = ExportOptions::default().dashboard(Dashboard::new(" ")).validate().unwrap_err();
    /// assert!(err.problems()[0].contains("title is empty"));
    /// ```
    #[must_use]
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => f.write_str(one),
            many => {
                write!(
                    f,
                    "{} problems in the custom alerts and dashboards:",
                    many.len()
                )?;
                for p in many {
                    write!(f, "\n- {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ExportError {}

impl From<ExportError> for std::io::Error {
    fn from(e: ExportError) -> Self {
        Self::new(std::io::ErrorKind::InvalidInput, e)
    }
}
#[cfg(test)]
mod tests;
