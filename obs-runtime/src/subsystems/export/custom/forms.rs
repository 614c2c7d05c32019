//! Checked custom alerts as Prometheus rules: the expression of each form,
//! the default annotations, and the runbook text.

use std::borrow::Cow;

use super::super::ExportOptions;
use super::super::rules::{self, escape};
use super::check::{
    CheckedAlert, CheckedCondition, CheckedQuery, Direction, Metric, Part, Resolved,
};
use crate::leaves::schema::MetricKind;

/// A family's name as the program exposes it. The one place exported
/// rules and dashboards get their names from, so a registry-wide prefix
/// applies to every query once it exists.
pub(crate) fn exposed(name: &str) -> Cow<'_, str> {
    Cow::Borrowed(name)
}

impl Metric {
    /// `name<suffix>{extra…, matchers…}` as exposed (no braces without
    /// matchers).
    pub(crate) fn promql(&self, suffix: &str, extra: &[(&str, &str)]) -> String {
        let name = format!("{}{suffix}", exposed(&self.selector.name));
        let matchers: Vec<String> = extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .chain(self.selector.matchers.iter().cloned())
            .map(|(k, v)| format!("{k}=\"{}\"", escape(&v)))
            .collect();
        if matchers.is_empty() {
            name
        } else {
            format!("{name}{{{}}}", matchers.join(", "))
        }
    }

    /// What an absence is looked for in: a histogram by its `_count`.
    pub(crate) fn present_suffix(&self) -> &'static str {
        if self.part == Part::Whole && self.info.kind == MetricKind::Histogram {
            "_count"
        } else {
            ""
        }
    }
}

/// Text safe in an annotation: a selector's `{{` would open a template.
fn prose(text: &str) -> String {
    text.replace("{{", "{ {").replace("}}", "} }")
}

/// What a query reads, in words.
pub(crate) fn what(q: &CheckedQuery) -> String {
    let text = match &q.form {
        Resolved::Rate(m) => format!("the rate of {} (per second)", m.promql("", &[])),
        Resolved::Ratio { bad, total } => format!(
            "the share of {} in {}",
            bad.promql("", &[]),
            total.promql("", &[])
        ),
        Resolved::Quantile { histogram, q } => {
            format!("the {} quantile of {}", q.text(), histogram.promql("", &[]))
        }
        Resolved::Value(m) => format!("the value of {}", m.promql("", &[])),
        Resolved::Age(m) => format!("the age in seconds of {}", m.promql("", &[])),
    };
    prose(&text)
}

/// The series whose increase is the traffic guard, when the form has one.
fn counted(q: &CheckedQuery, direction: Direction) -> Option<String> {
    match (&q.form, direction) {
        (Resolved::Rate(m), Direction::Above) => Some(m.promql("", &[])),
        (Resolved::Ratio { total, .. }, _) => Some(total.promql("", &[])),
        (Resolved::Quantile { histogram, .. }, _) => Some(histogram.promql("_count", &[])),
        _ => None,
    }
}

/// The rule expression of a condition.
pub(crate) fn expr(condition: &CheckedCondition, options: &ExportOptions) -> String {
    match condition {
        CheckedCondition::Absent(m) => {
            format!(
                "absent({})",
                m.promql(m.present_suffix(), &[("job", &options.job)])
            )
        }
        CheckedCondition::Threshold {
            query,
            direction,
            threshold,
        } => {
            let by = query.kept().join(", ");
            let op = direction.op();
            let t = threshold.text();
            let sum = |sel: String| format!("sum by ({by}) (rate({sel}[5m]))");
            let main = match &query.form {
                Resolved::Rate(m) => format!("{} {op} {t}", sum(m.promql("", &[]))),
                Resolved::Ratio { bad, total } => {
                    let total = sum(total.promql("", &[]));
                    format!(
                        "(\n  ({} or 0 * {total})\n  /\n  ({total} > 0)\n) {op} {t}",
                        sum(bad.promql("", &[]))
                    )
                }
                Resolved::Quantile { histogram, q } => format!(
                    "histogram_quantile({}, sum by (le, {by}) (rate({}[5m]))) {op} {t}",
                    q.text(),
                    histogram.promql("_bucket", &[])
                ),
                Resolved::Age(m) => {
                    format!("time() - max by ({by}) ({}) {op} {t}", m.promql("", &[]))
                }
                Resolved::Value(m) => {
                    let agg = match direction {
                        Direction::Above => "max",
                        Direction::Below => "min",
                    };
                    format!("{agg} by ({by}) ({}) {op} {t}", m.promql("", &[]))
                }
            };
            match counted(query, *direction) {
                Some(sel) => format!(
                    "{main}\nand on ({by})\nsum by ({by}) (increase({sel}[5m])) >= {}",
                    options.min_events
                ),
                None => main,
            }
        }
    }
}

fn for_text(c: &CheckedAlert) -> String {
    match &c.alert.for_ {
        Some(d) if c.for_seconds > 0 => d.clone(),
        _ => "one evaluation".to_owned(),
    }
}

/// The default summary.
fn summary(c: &CheckedAlert) -> String {
    match &c.condition {
        CheckedCondition::Absent(m) => format!(
            "{{{{ $labels.job }}}}: no series of {}",
            prose(&m.promql(m.present_suffix(), &[]))
        ),
        CheckedCondition::Threshold {
            query,
            direction,
            threshold,
        } => format!(
            "{{{{ $labels.job }}}}: {} {} {}",
            what(query),
            direction.word(),
            threshold.text()
        ),
    }
}

/// The default description.
fn description(c: &CheckedAlert, options: &ExportOptions) -> String {
    let name = &c.alert.name;
    match &c.condition {
        CheckedCondition::Absent(m) => format!(
            "No series of {} has been scraped from job {{{{ $labels.job }}}} for {}: what writes it stopped, or never started ({name}, declared by the program).",
            prose(&m.promql(m.present_suffix(), &[])),
            for_text(c)
        ),
        CheckedCondition::Threshold {
            query,
            direction,
            threshold,
        } => {
            let guard = if counted(query, *direction).is_some() {
                format!(", with at least {} events in 5 minutes", options.min_events)
            } else {
                String::new()
            };
            let mut what = what(query);
            // A sentence starts with a capital, a metric's name keeps its
            // case: only prose ("the share of ...") is capitalised.
            if let Some(first) = what.get(..1).filter(|_| what.starts_with("the ")) {
                what = format!(
                    "{}{}",
                    first.to_uppercase(),
                    what.get(1..).unwrap_or_default()
                );
            }
            format!(
                "{what} has been {} {} for {}{guard} ({name}, declared by the program).",
                direction.word(),
                threshold.text(),
                for_text(c)
            )
        }
    }
}

/// The rule of a checked alert.
pub(crate) fn rule(c: &CheckedAlert, options: &ExportOptions) -> rules::Alert {
    let a = &c.alert;
    rules::Alert {
        name: Cow::Owned(a.name.clone()),
        expr: expr(&c.condition, options),
        for_: match &a.for_ {
            Some(d) if c.for_seconds > 0 => Cow::Owned(d.clone()),
            _ => Cow::Borrowed(""),
        },
        labels: vec![("severity", a.severity.as_str().to_owned())],
        summary: a.summary.clone().unwrap_or_else(|| summary(c)),
        description: a
            .description
            .clone()
            .unwrap_or_else(|| description(c, options)),
        runbook: options.runbook(&format!("alert-{}", a.name.to_ascii_lowercase())),
    }
}

/// The runbook of a checked alert: what it means, what to check first.
pub(crate) fn runbook(c: &CheckedAlert, options: &ExportOptions) -> (String, String) {
    let means = c
        .alert
        .description
        .clone()
        .unwrap_or_else(|| description(c, options));
    let check = c.alert.runbook.clone().unwrap_or_else(|| {
        "An alert the program declares itself (obs_runtime::export::Alert): its expression below in Prometheus's graph view, by `job`; the dashboards' panels of the same metric; recent deploys.".to_owned()
    });
    (means, check)
}
