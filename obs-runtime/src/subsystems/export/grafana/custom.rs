//! The program's own dashboards: one board per checked
//! [`Dashboard`](super::super::Dashboard), a time series per panel, two per
//! line, on the same variables and filters as the generated boards.

use std::fmt::Write as _;

use super::super::custom::{CheckedDashboard, CheckedQuery, Metric, Resolved, what};
use super::board::{Board, Query, Viz, q};
use super::promql::{filtered, rate, ratio};
use crate::leaves::schema::MetricKind;
use crate::subsystems::catalog::MetricUnit;

/// Grafana's unit for a family's values.
fn unit_of(m: &Metric) -> &'static str {
    match MetricUnit::of(&m.info.name) {
        MetricUnit::Seconds => "s",
        MetricUnit::Bytes => "bytes",
        _ if m.info.name.ends_with("_ratio") => "percentunit",
        _ => "short",
    }
}

/// A panel's query, legend and unit.
fn panel_query(query: &CheckedQuery) -> (Query, &'static str) {
    let kept = query.kept();
    let by = kept.join(", ");
    let legend: Vec<String> = kept.iter().map(|l| format!("{{{{{l}}}}}")).collect();
    let legend = legend.join(" ");
    match &query.form {
        Resolved::Rate(m) => (q(rate(&m.promql("", &[]), &by), legend), "ops"),
        Resolved::Ratio { bad, total } => (
            q(
                ratio(&bad.promql("", &[]), &total.promql("", &[]), &by),
                legend,
            ),
            "percentunit",
        ),
        Resolved::Quantile {
            histogram,
            q: quantile,
        } => (
            q(
                format!(
                    "histogram_quantile({}, {})",
                    quantile.text(),
                    rate(&histogram.promql("_bucket", &[]), &format!("le, {by}"))
                ),
                format!("p{} {legend}", quantile.text().trim_start_matches("0.")),
            ),
            unit_of(histogram),
        ),
        Resolved::Age(m) => (
            q(
                format!("time() - max by ({by}) ({})", filtered(&m.promql("", &[]))),
                legend,
            ),
            "s",
        ),
        Resolved::Value(m) => {
            let unit = if m.info.kind == MetricKind::Gauge {
                unit_of(m)
            } else {
                "short"
            };
            (
                q(
                    format!("max by ({by}) ({})", filtered(&m.promql("", &[]))),
                    legend,
                ),
                unit,
            )
        }
    }
}

/// The boards, as `(file name, JSON)`.
pub(crate) fn custom(dashboards: &[CheckedDashboard]) -> Vec<(String, String)> {
    dashboards
        .iter()
        .map(|d| {
            let mut description = d
                .description
                .clone()
                .unwrap_or_else(|| format!("{}: declared by the program.", d.title));
            for why in &d.left_out {
                let _ = write!(description, " Left out: {why}.");
            }
            let mut b = Board::new(d.slug.clone(), d.title.clone(), description);
            for (title, query) in &d.panels {
                let (promql, unit) = panel_query(query);
                let mut about = what(query);
                if let Some(first) = about.get(..1) {
                    about = format!(
                        "{}{}.",
                        first.to_uppercase(),
                        about.get(1..).unwrap_or_default()
                    );
                }
                b.panel(Viz::Series, 12, title.clone(), about, unit, vec![promql]);
            }
            b.finish()
        })
        .collect()
}
