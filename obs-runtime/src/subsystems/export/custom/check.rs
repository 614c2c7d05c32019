//! Custom alerts and dashboards checked against the catalog: every
//! selector resolved to a family of the right kind, every threshold,
//! duration, name and title valid. What passes is `Checked*`, what the
//! generators write from; every problem is one sentence naming the alert
//! or panel.

use super::syntax::{self, Decimal, Selector};
use super::{Alert, Condition, Dashboard, Form, Query};
use crate::leaves::schema::MetricKind;
use crate::subsystems::catalog::{Catalog, MetricInfo};

/// Which series of a family a selector reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// The family itself (a histogram: its base name).
    Whole,
    /// A histogram's `_count` or `_sum`, read as a counter.
    Counter,
}

/// A selector resolved in the catalog.
#[derive(Debug, Clone)]
pub(crate) struct Metric {
    pub(crate) selector: Selector,
    pub(crate) info: MetricInfo,
    pub(crate) part: Part,
}

/// A query with its families resolved.
#[derive(Debug, Clone)]
pub(crate) enum Resolved {
    Rate(Metric),
    Ratio { bad: Metric, total: Metric },
    Quantile { histogram: Metric, q: Decimal },
    Value(Metric),
    Age(Metric),
}

/// A checked [`Query`]: its form and the labels kept besides `job` (and
/// `instance` for values).
#[derive(Debug, Clone)]
pub(crate) struct CheckedQuery {
    pub(crate) form: Resolved,
    pub(crate) by: Vec<String>,
}

impl CheckedQuery {
    /// The labels the query's series keep: `job`, `instance` for a value,
    /// then the `by` labels.
    pub(crate) fn kept(&self) -> Vec<String> {
        let mut out = vec!["job".to_owned()];
        if matches!(self.form, Resolved::Value(_) | Resolved::Age(_)) {
            out.push("instance".to_owned());
        }
        out.extend(self.by.iter().cloned());
        out
    }
}

/// Above or below the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Above,
    Below,
}

impl Direction {
    pub(crate) fn op(self) -> &'static str {
        match self {
            Self::Above => ">",
            Self::Below => "<",
        }
    }

    pub(crate) fn word(self) -> &'static str {
        match self {
            Self::Above => "above",
            Self::Below => "below",
        }
    }
}

/// A checked condition.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // a handful per program, built once
pub(crate) enum CheckedCondition {
    Threshold {
        query: CheckedQuery,
        direction: Direction,
        threshold: Decimal,
    },
    Absent(Metric),
}

/// An alert that passed every check.
#[derive(Debug, Clone)]
pub(crate) struct CheckedAlert {
    pub(crate) alert: Alert,
    pub(crate) condition: CheckedCondition,
    /// `for`, in seconds (0: none).
    pub(crate) for_seconds: u64,
    /// The labels it fires with, besides `severity`.
    pub(crate) labels: Vec<String>,
}

/// A dashboard whose title passed; `panels` are those that passed,
/// `left_out` says why the others did not.
#[derive(Debug, Clone)]
pub(crate) struct CheckedDashboard {
    pub(crate) title: String,
    pub(crate) slug: String,
    pub(crate) description: Option<String>,
    pub(crate) panels: Vec<(String, CheckedQuery)>,
    pub(crate) left_out: Vec<String>,
}

/// Everything checked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checked {
    pub(crate) alerts: Vec<CheckedAlert>,
    pub(crate) dashboards: Vec<CheckedDashboard>,
    /// Every problem, in declaration order.
    pub(crate) problems: Vec<String>,
    /// The problems of alerts, for the rules file's comments.
    pub(crate) alert_problems: Vec<String>,
}

/// What kind a form reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Counter,
    Histogram,
    Gauge,
    Any,
}

fn kind_word(kind: MetricKind) -> &'static str {
    match kind {
        MetricKind::Counter => "a counter",
        MetricKind::Gauge => "a gauge",
        MetricKind::Histogram => "a histogram",
    }
}

fn list(labels: &[String]) -> String {
    if labels.is_empty() {
        "none".to_owned()
    } else {
        labels.join(", ")
    }
}

/// Resolves `text` in `catalog` as `want` for `reader` (the form's name,
/// for messages).
fn metric(catalog: &Catalog, text: &str, want: Want, reader: &str) -> Result<Metric, String> {
    let selector = syntax::selector(text)?;
    let name = selector.name.as_str();
    let (info, part) = if let Some(info) = catalog.metric(name) {
        (info, Part::Whole)
    } else {
        let base = name
            .strip_suffix("_count")
            .or_else(|| name.strip_suffix("_sum"));
        match base.and_then(|b| catalog.metric(b)) {
            Some(info) if info.kind == MetricKind::Histogram => (info, Part::Counter),
            _ => {
                let mut hint = String::new();
                if let Some(b) = name.strip_suffix("_bucket")
                    && catalog.metric(b).is_some()
                {
                    hint = format!("; for a histogram's quantile use Query::quantile(\"{b}\", …)");
                } else if catalog.metric(&format!("{name}_total")).is_some() {
                    hint = format!("; did you mean `{name}_total`?");
                }
                return Err(format!(
                    "`{name}` is not a metric of this program (register it, or declare it in a MetricSet, before exporting){hint}"
                ));
            }
        }
    };
    let ok = match (want, part) {
        (Want::Any, _) | (Want::Counter, Part::Counter) => true,
        (_, Part::Counter) => false,
        (Want::Counter, Part::Whole) => info.kind == MetricKind::Counter,
        (Want::Histogram, Part::Whole) => info.kind == MetricKind::Histogram,
        (Want::Gauge, Part::Whole) => info.kind == MetricKind::Gauge,
    };
    if !ok {
        let is = if part == Part::Counter {
            "a histogram's count".to_owned()
        } else {
            kind_word(info.kind).to_owned()
        };
        let expected = match want {
            Want::Counter => "a counter (or a histogram's `_count`)",
            Want::Histogram => "a histogram (by its base name)",
            Want::Gauge => "a gauge",
            Want::Any => "any metric",
        };
        return Err(format!("`{name}` is {is}; {reader} reads {expected}"));
    }
    let labels: Vec<String> = info.labels.iter().map(|l| l.name.clone()).collect();
    for (label, value) in &selector.matchers {
        let Some(known) = info.label(label) else {
            return Err(format!(
                "`{label}` is not a label of `{}` (its labels: {})",
                info.name,
                list(&labels)
            ));
        };
        if let Some(values) = &known.values
            && !values.iter().any(|v| v == value)
        {
            return Err(format!(
                "`{label}` of `{}` is one of {}, never \"{value}\"",
                info.name,
                values.join(", ")
            ));
        }
    }
    Ok(Metric {
        selector,
        info: info.clone(),
        part,
    })
}

/// The labels of `m` named in `by`, checked; `job` is always kept.
fn by_labels(by: &[String], metrics: &[&Metric], value: bool) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for label in by {
        if label == "job" || (value && label == "instance") || out.contains(label) {
            continue;
        }
        if label == "instance" {
            out.push(label.clone());
            continue;
        }
        for m in metrics {
            if m.info.label(label).is_none() {
                let labels: Vec<String> = m.info.labels.iter().map(|l| l.name.clone()).collect();
                return Err(format!(
                    "by: `{label}` is not a label of `{}` (its labels: {})",
                    m.info.name,
                    list(&labels)
                ));
            }
        }
        out.push(label.clone());
    }
    Ok(out)
}

/// Checks a query.
fn query(catalog: &Catalog, q: &Query) -> Result<CheckedQuery, String> {
    let (form, by) = match &q.form {
        Form::Rate(sel) => {
            let m = metric(catalog, sel, Want::Counter, "Query::rate")?;
            let by = by_labels(&q.by, &[&m], false)?;
            (Resolved::Rate(m), by)
        }
        Form::Ratio { bad, total } => {
            let bad = metric(catalog, bad, Want::Counter, "Query::ratio")?;
            let total = metric(catalog, total, Want::Counter, "Query::ratio")?;
            if bad.selector.name == total.selector.name {
                let narrows = total
                    .selector
                    .matchers
                    .iter()
                    .all(|m| bad.selector.matchers.contains(m))
                    && bad.selector.matchers.len() > total.selector.matchers.len();
                if !narrows {
                    return Err(format!(
                        "Query::ratio of one metric: the bad selector must keep the total's matchers and add at least one (bad `{}`, total `{}`)",
                        selector_text(&bad.selector),
                        selector_text(&total.selector)
                    ));
                }
            }
            let by = by_labels(&q.by, &[&bad, &total], false)?;
            if bad.selector.name == total.selector.name
                && let Some(fixed) = by
                    .iter()
                    .find(|l| bad.selector.matchers.iter().any(|(k, _)| k == *l))
                && !total.selector.matchers.iter().any(|(k, _)| k == fixed)
            {
                return Err(format!(
                    "by: the bad selector fixes `{fixed}`, so the ratio per `{fixed}` would only be 0 or 1: leave `{fixed}` out of `by`"
                ));
            }
            (Resolved::Ratio { bad, total }, by)
        }
        Form::Quantile {
            histogram,
            q: quantile,
        } => {
            let m = metric(catalog, histogram, Want::Histogram, "Query::quantile")?;
            let level = syntax::decimal(quantile).map_err(|e| format!("quantile {e}"))?;
            if level.mantissa <= 0 || level.as_f64() >= 1.0 {
                return Err(format!(
                    "the quantile `{quantile}` is not between 0 and 1 (as `0.95`)"
                ));
            }
            if m.info.buckets.is_empty() {
                return Err(format!("`{}` has no buckets", m.info.name));
            }
            let by = by_labels(&q.by, &[&m], false)?;
            (
                Resolved::Quantile {
                    histogram: m,
                    q: level,
                },
                by,
            )
        }
        Form::Value(sel) => {
            let m = metric(catalog, sel, Want::Gauge, "Query::value")?;
            let by = by_labels(&q.by, &[&m], true)?;
            (Resolved::Value(m), by)
        }
        Form::Age(sel) => {
            let m = metric(catalog, sel, Want::Gauge, "Query::age")?;
            let by = by_labels(&q.by, &[&m], true)?;
            (Resolved::Age(m), by)
        }
    };
    Ok(CheckedQuery { form, by })
}

/// `name{l="v",…}` as written back.
pub(crate) fn selector_text(s: &Selector) -> String {
    if s.matchers.is_empty() {
        return s.name.clone();
    }
    let inner: Vec<String> = s
        .matchers
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", super::super::rules::escape(v)))
        .collect();
    format!("{}{{{}}}", s.name, inner.join(","))
}

/// `x` to six decimals at most, without trailing zeros.
fn short(x: f64) -> String {
    let text = format!("{x:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Whether `threshold` can be breached, and can be met, by the form.
fn check_threshold(
    query: &CheckedQuery,
    direction: Direction,
    threshold: Decimal,
) -> Result<(), String> {
    let v = threshold.as_f64();
    match (&query.form, direction) {
        (Resolved::Rate(_), Direction::Above) if v < 0.0 => {
            Err("a rate is never negative: the threshold must be 0 or more".to_owned())
        }
        (Resolved::Rate(_), Direction::Below) if v <= 0.0 => {
            Err("a rate is never below 0: the threshold must be above 0".to_owned())
        }
        (Resolved::Ratio { .. }, Direction::Above) if !(0.0..1.0).contains(&v) => Err(
            "a ratio is between 0 and 1: `above` needs a threshold from 0 to under 1 (0.1 is 10 %)"
                .to_owned(),
        ),
        (Resolved::Ratio { .. }, Direction::Below) if v <= 0.0 || v > 1.0 => Err(
            "a ratio is between 0 and 1: `below` needs a threshold above 0 and at most 1"
                .to_owned(),
        ),
        (Resolved::Age(_), _) if !(0.0..=86_400.0).contains(&v) => {
            Err("an age threshold is seconds, from 0 to a day (86400)".to_owned())
        }
        (Resolved::Age(_), Direction::Below) if v <= 0.0 => {
            Err("an age is never below 0: the threshold must be above 0".to_owned())
        }
        (
            Resolved::Quantile {
                histogram,
                q: level,
            },
            direction,
        ) => {
            let buckets = &histogram.info.buckets;
            let (Some(lowest), Some(highest)) = (buckets.first(), buckets.last()) else {
                return Err(format!("`{}` has no buckets", histogram.info.name));
            };
            let floor = short(lowest * level.as_f64());
            let floor_value = lowest * level.as_f64();
            match direction {
                Direction::Above if v >= *highest => Err(format!(
                    "the quantile of `{}` can't exceed its highest bucket bound ({highest}): the threshold {} would never fire",
                    histogram.info.name,
                    threshold.text()
                )),
                Direction::Above if floor_value > v => Err(format!(
                    "the quantile of `{}` is never below {floor} (its first bucket bound, {lowest}, times the quantile): the threshold {} would fire on any traffic",
                    histogram.info.name,
                    threshold.text()
                )),
                Direction::Below if floor_value >= v => Err(format!(
                    "the quantile of `{}` can't go below {floor} (its first bucket bound, {lowest}, times the quantile): the threshold {} would never fire",
                    histogram.info.name,
                    threshold.text()
                )),
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// Checks one alert.
fn alert(catalog: &Catalog, a: &Alert) -> Result<CheckedAlert, Vec<String>> {
    let mut problems = Vec::new();
    if let Err(e) = syntax::check_alert_name(&a.name) {
        problems.push(e);
    }
    let for_seconds = match &a.for_ {
        None => 0,
        Some(d) => match syntax::duration(d) {
            Ok(s) if s > syntax::MAX_FOR_SECONDS => {
                problems.push(format!(
                    "for `{d}` is longer than a day (the rule tests evaluate every minute)"
                ));
                0
            }
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("for: {e}"));
                0
            }
        },
    };
    let condition = match &a.condition {
        Condition::Above(q, t) | Condition::Below(q, t) => {
            let direction = if matches!(a.condition, Condition::Above(..)) {
                Direction::Above
            } else {
                Direction::Below
            };
            let threshold = syntax::decimal(t).map_err(|e| format!("threshold {e}"));
            match (query(catalog, q), threshold) {
                (Ok(query), Ok(threshold)) => match check_threshold(&query, direction, threshold) {
                    Ok(()) => Some(CheckedCondition::Threshold {
                        query,
                        direction,
                        threshold,
                    }),
                    Err(e) => {
                        problems.push(e);
                        None
                    }
                },
                (q, t) => {
                    problems.extend(q.err());
                    problems.extend(t.err());
                    None
                }
            }
        }
        Condition::Absent(sel) => match metric(catalog, sel, Want::Any, "Alert::absent") {
            Ok(m) => Some(CheckedCondition::Absent(m)),
            Err(e) => {
                problems.push(e);
                None
            }
        },
    };
    let labels: Vec<String> = match &condition {
        Some(CheckedCondition::Threshold { query, .. }) => query.kept(),
        Some(CheckedCondition::Absent(m)) => std::iter::once("job".to_owned())
            .chain(m.selector.matchers.iter().map(|(k, _)| k.clone()))
            .collect(),
        None => Vec::new(),
    };
    if condition.is_some() {
        for (what, text) in [("summary", &a.summary), ("description", &a.description)] {
            if let Some(text) = text
                && let Err(e) = syntax::check_template(text, &labels)
            {
                problems.push(format!("the {what} {e}"));
            }
        }
    }
    match condition {
        Some(condition) if problems.is_empty() => Ok(CheckedAlert {
            alert: a.clone(),
            condition,
            for_seconds,
            labels,
        }),
        _ => Err(problems),
    }
}

/// Checks a dashboard: `Err` when it can't be written at all.
fn dashboard(
    catalog: &Catalog,
    d: &Dashboard,
    taken: &[String],
) -> Result<CheckedDashboard, String> {
    let title = d.title.trim();
    if title.is_empty() {
        return Err("the title is empty".to_owned());
    }
    let slug = syntax::slug(title);
    if slug.is_empty() {
        return Err("the title has no letters or digits to name its file with".to_owned());
    }
    if taken.contains(&slug) {
        return Err(format!(
            "its file `{slug}.json` is already taken (by a generated dashboard or another custom one): choose another title"
        ));
    }
    if d.panels.is_empty() {
        return Err("it has no panels".to_owned());
    }
    let mut panels: Vec<(String, CheckedQuery)> = Vec::new();
    let mut left_out = Vec::new();
    for p in &d.panels {
        let panel_title = p.title.trim();
        let result = if panel_title.is_empty() {
            Err("the panel title is empty".to_owned())
        } else if panels.iter().any(|(t, _)| t == panel_title) {
            Err("another panel of this dashboard has the same title".to_owned())
        } else {
            query(catalog, &p.query)
        };
        match result {
            Ok(q) => panels.push((panel_title.to_owned(), q)),
            Err(e) => left_out.push(format!("panel `{}` of dashboard `{title}`: {e}", p.title)),
        }
    }
    Ok(CheckedDashboard {
        title: title.to_owned(),
        slug,
        description: d.description.clone(),
        panels,
        left_out,
    })
}

/// Checks the custom alerts and dashboards of `options`; `generated` are
/// the names of the generated alerts, `files` the generated dashboards'
/// file stems.
pub(crate) fn check(
    catalog: &Catalog,
    alerts: &[Alert],
    dashboards: &[Dashboard],
    generated: &[&str],
    files: &[String],
) -> Checked {
    let mut out = Checked::default();
    let mut names: Vec<String> = generated.iter().map(|n| n.to_ascii_lowercase()).collect();
    for a in alerts {
        let mut problems = Vec::new();
        let lower = a.name.to_ascii_lowercase();
        if !a.name.is_empty() && names.contains(&lower) {
            let what = if generated.iter().any(|g| g.eq_ignore_ascii_case(&a.name)) {
                "a generated alert"
            } else {
                "another custom alert"
            };
            problems.push(format!(
                "the name is taken by {what} (names are compared ignoring case: the runbook anchors must differ)"
            ));
        }
        match alert(catalog, a) {
            Ok(checked) if problems.is_empty() => out.alerts.push(checked),
            Ok(_) => {}
            Err(more) => problems.extend(more),
        }
        names.push(lower);
        for p in problems {
            let line = format!("alert `{}`: {p}", a.name);
            out.problems.push(line.clone());
            out.alert_problems.push(line);
        }
    }
    let mut taken: Vec<String> = files.to_vec();
    for d in dashboards {
        match dashboard(catalog, d, &taken) {
            Ok(checked) => {
                taken.push(checked.slug.clone());
                out.problems.extend(checked.left_out.iter().cloned());
                out.dashboards.push(checked);
            }
            Err(e) => out.problems.push(format!("dashboard `{}`: {e}", d.title)),
        }
    }
    out
}
