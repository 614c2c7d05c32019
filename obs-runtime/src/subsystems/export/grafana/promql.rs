//! The queries the panels share: rates, ratios and quantiles, every one
//! filtered by `job` and `instance` and on `$__rate_interval`.

use super::FILTER;
use super::board::{Query, q};

/// `sum by (by) (rate(sel[$__rate_interval]))`; `sel` is `name{matchers}`
/// or a bare name.
pub(super) fn rate(sel: &str, by: &str) -> String {
    let by = if by.is_empty() {
        String::new()
    } else {
        format!(" by ({by})")
    };
    format!("sum{by} (rate({}[$__rate_interval]))", filtered(sel))
}

/// `sel` with the dashboard filter added to its matchers.
pub(crate) fn filtered(sel: &str) -> String {
    match sel.split_once('{') {
        Some((name, rest)) if rest.trim() == "}" => format!("{name}{{{FILTER}}}"),
        Some((name, rest)) => format!("{name}{{{FILTER}, {rest}"),
        None => format!("{sel}{{{FILTER}}}"),
    }
}

/// Bad over all, per `by`: 0 (not absent) when nothing failed, absent only
/// when there was no traffic.
pub(super) fn ratio(bad: &str, total: &str, by: &str) -> String {
    let total = rate(total, by);
    format!(
        "(\n  {}\n  or\n  0 * {total}\n)\n/\n({total} > 0)",
        rate(bad, by)
    )
}

pub(super) fn quantiles(bucket: &str, by: &str, legend: &str) -> Vec<Query> {
    let by = if by.is_empty() {
        "le".to_owned()
    } else {
        format!("le, {by}")
    };
    [("0.5", "p50"), ("0.95", "p95"), ("0.99", "p99")]
        .into_iter()
        .map(|(quantile, p)| {
            q(
                format!("histogram_quantile({quantile}, {})", rate(bucket, &by)),
                format!("{p} {legend}").trim_end().to_owned(),
            )
        })
        .collect()
}
