//! promtool test cases for custom alerts, made from each alert's form:
//! synthetic series that breach the threshold (the alert fires with its
//! labels and annotations), series on the healthy side (silent), and, for
//! the forms with a traffic minimum, a breach at low traffic (silent).
//! Margins are wide (twice the threshold, half of it, one unit past it),
//! so the cases don't hang on float rounding.

use std::borrow::Cow;

use super::super::ExportOptions;
use super::super::rule_tests::{Case, Series};
use super::super::rules::escape;
use super::check::{CheckedAlert, CheckedCondition, Direction, Metric, Resolved};
use super::forms::{exposed, rule};
use super::syntax::Decimal;

/// The instance of every test series.
const INSTANCE: &str = "localhost:8080";

/// Labels in order, each once.
type Labels = Vec<(String, String)>;

fn put(labels: &mut Labels, k: &str, v: &str) {
    match labels.iter_mut().find(|(key, _)| key == k) {
        Some(pair) => v.clone_into(&mut pair.1),
        None => labels.push((k.to_owned(), v.to_owned())),
    }
}

/// `name{k="v",…}` for the test file.
fn series_name(name: &str, labels: &Labels) -> String {
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{name}{{{}}}", inner.join(","))
}

/// The exposed name of `m`'s series with `suffix`.
fn name(m: &Metric, suffix: &str) -> String {
    format!("{}{suffix}", exposed(&m.selector.name))
}

/// A per-minute increment in promtool's notation.
fn number(x: f64) -> String {
    format!("{x}")
}

/// What the cases of one alert share.
struct Ctx<'a> {
    c: &'a CheckedAlert,
    options: &'a ExportOptions,
    /// The scrape labels and the `by` labels with their values.
    base: Labels,
    /// Samples per series.
    n: u64,
    eval: String,
}

impl Ctx<'_> {
    /// The series labels of `m`: the base, then its matchers.
    fn labels(&self, m: &Metric) -> Labels {
        let mut labels = self.base.clone();
        for (k, v) in &m.selector.matchers {
            put(&mut labels, k, v);
        }
        labels
    }

    /// A counter series of `m` growing by `per_minute`.
    fn counter(&self, m: &Metric, labels: &Labels, per_minute: f64) -> Series {
        Series(
            series_name(&name(m, ""), labels),
            format!("0+{}x{}", number(per_minute), self.n),
        )
    }

    /// The labels the alert fires with.
    fn fired(&self) -> Labels {
        let mut out: Labels = match &self.c.condition {
            CheckedCondition::Absent(m) => {
                let mut l = vec![("job".to_owned(), self.options.job.clone())];
                l.extend(m.selector.matchers.iter().cloned());
                l
            }
            CheckedCondition::Threshold { .. } => self
                .base
                .iter()
                .filter(|(k, _)| self.c.labels.contains(k))
                .cloned()
                .collect(),
        };
        out.push((
            "severity".to_owned(),
            self.c.alert.severity.as_str().to_owned(),
        ));
        out.sort();
        out
    }

    fn case(&self, what: &str, series: Vec<Series>, fires: bool) -> Case {
        let name = &self.c.alert.name;
        Case {
            name: format!("{name}: {what}"),
            series,
            eval: self.eval.clone(),
            alertname: Cow::Owned(name.clone()),
            fires: fires.then(|| self.fired()),
            alert: fires.then(|| rule(self.c, self.options)),
        }
    }

    /// Whether a low-traffic case exists: at least two events must be
    /// required.
    fn low(&self) -> Option<f64> {
        let min = self.options.min_events;
        (min >= 2).then(|| f64::from(min - 1) / 10.0)
    }
}

/// A value of a label that is not `v`: another known value, or `other`.
fn other_value(m: &Metric, label: &str, v: &str) -> String {
    m.info
        .label(label)
        .and_then(|l| l.values.as_ref())
        .and_then(|values| values.iter().find(|x| **x != v))
        .map_or_else(
            || {
                if v == "other" {
                    "other_value".to_owned()
                } else {
                    "other".to_owned()
                }
            },
            |x| (*x).to_owned(),
        )
}

fn ratio_series(
    ctx: &Ctx<'_>,
    bad: &Metric,
    total: &Metric,
    bad_n: f64,
    total_n: f64,
) -> Vec<Series> {
    let bad_labels = {
        let mut l = ctx.labels(total);
        for (k, v) in &bad.selector.matchers {
            put(&mut l, k, v);
        }
        l
    };
    if bad.selector.name == total.selector.name {
        // The bad events are part of the total: the rest are events with
        // another value of each label the bad selector adds.
        let mut rest = ctx.labels(total);
        for (k, v) in &bad.selector.matchers {
            if !total.selector.matchers.iter().any(|(tk, _)| tk == k) {
                put(&mut rest, k, &other_value(bad, k, v));
            }
        }
        vec![
            ctx.counter(bad, &bad_labels, bad_n),
            ctx.counter(total, &rest, total_n - bad_n),
        ]
    } else {
        vec![
            ctx.counter(bad, &ctx.labels(bad), bad_n),
            ctx.counter(total, &ctx.labels(total), total_n),
        ]
    }
}

/// A histogram's series with every observation in bucket `from` (the
/// bucket count: `+Inf`), `per_minute` of them.
fn histogram(ctx: &Ctx<'_>, m: &Metric, from: usize, per_minute: f64) -> Vec<Series> {
    let labels = ctx.labels(m);
    let grow = format!("0+{}x{}", number(per_minute), ctx.n);
    let flat = format!("0x{}", ctx.n);
    let mut out: Vec<Series> = m
        .info
        .buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut l = labels.clone();
            put(&mut l, "le", &super::super::decimal::bound(*b));
            let values = if i >= from {
                grow.clone()
            } else {
                flat.clone()
            };
            Series(series_name(&name(m, "_bucket"), &l), values)
        })
        .collect();
    let mut inf = labels.clone();
    put(&mut inf, "le", "+Inf");
    out.push(Series(series_name(&name(m, "_bucket"), &inf), grow.clone()));
    out.push(Series(series_name(&name(m, "_count"), &labels), grow));
    out
}

/// The first bucket whose every observation is at or above `t` (`+Inf`,
/// whose quantile is the highest bound, when that bound is above it).
fn bucket_at_or_above(buckets: &[f64], t: f64) -> Option<usize> {
    let lower = |i: usize| {
        if i == 0 {
            0.0
        } else {
            buckets.get(i - 1).copied().unwrap_or(f64::MAX)
        }
    };
    (0..=buckets.len()).find(|i| {
        if *i == buckets.len() {
            lower(*i) > t
        } else {
            lower(*i) >= t
        }
    })
}

fn threshold_cases(ctx: &Ctx<'_>, out: &mut Vec<Case>) {
    let CheckedCondition::Threshold {
        query,
        direction,
        threshold,
    } = &ctx.c.condition
    else {
        return;
    };
    let above = *direction == Direction::Above;
    match &query.form {
        Resolved::Rate(m) => rate_cases(ctx, m, above, threshold.as_f64(), out),
        Resolved::Ratio { bad, total } => {
            ratio_cases(ctx, bad, total, above, threshold.as_f64(), out);
        }
        Resolved::Quantile { histogram: m, q } => {
            quantile_cases(ctx, m, q.as_f64(), above, threshold.as_f64(), out);
        }
        Resolved::Value(m) => value_cases(ctx, m, above, *threshold, out),
        Resolved::Age(m) => age_cases(ctx, m, above, out),
    }
}

fn rate_cases(ctx: &Ctx<'_>, m: &Metric, above: bool, t: f64, out: &mut Vec<Case>) {
    let min = f64::from(ctx.options.min_events);
    let per_minute = t * 60.0;
    let high = ((2.0 * per_minute).ceil() + 1.0).max((min / 5.0).ceil() + 1.0);
    let low = (per_minute / 2.0).floor();
    let series = |k: f64| vec![ctx.counter(m, &ctx.labels(m), k)];
    let (breach, healthy) = if above { (high, low) } else { (low, high) };
    out.push(ctx.case(
        &format!("{} events a minute fire", number(breach)),
        series(breach),
        true,
    ));
    out.push(ctx.case(
        &format!("{} events a minute are silent", number(healthy)),
        series(healthy),
        false,
    ));
    // Above the rate, below the traffic minimum.
    let trickle = (f64::midpoint(per_minute, min / 5.0) * 1_000.0).round() / 1_000.0;
    if above && trickle > per_minute && trickle * 5.0 < min {
        out.push(ctx.case(
            &format!(
                "{} events a minute, under the traffic minimum, are silent",
                number(trickle)
            ),
            series(trickle),
            false,
        ));
    }
}

fn ratio_cases(
    ctx: &Ctx<'_>,
    bad: &Metric,
    total: &Metric,
    above: bool,
    t: f64,
    out: &mut Vec<Case>,
) {
    let n = f64::from(ctx.options.min_events).max(100.0);
    let high = n.min((2.0 * t * n).ceil().max((t * n).floor() + 1.0));
    let low = (t * n / 2.0).floor();
    let (breach, healthy) = if above { (high, low) } else { (low, high) };
    out.push(ctx.case(
        &format!(
            "{} of {} events a minute (a ratio of {}) fire",
            number(breach),
            number(n),
            number(breach / n)
        ),
        ratio_series(ctx, bad, total, breach, n),
        true,
    ));
    out.push(ctx.case(
        &format!(
            "{} of {} events a minute (a ratio of {}) are silent",
            number(healthy),
            number(n),
            number(healthy / n)
        ),
        ratio_series(ctx, bad, total, healthy, n),
        false,
    ));
    if let Some(trickle) = ctx.low() {
        let bad_n = if above { trickle } else { 0.0 };
        out.push(ctx.case(
            "the same share at low traffic is silent",
            ratio_series(ctx, bad, total, bad_n, trickle),
            false,
        ));
    }
}

fn quantile_cases(ctx: &Ctx<'_>, m: &Metric, q: f64, above: bool, t: f64, out: &mut Vec<Case>) {
    let buckets = &m.info.buckets;
    let first = buckets.first().copied().unwrap_or(0.0);
    let slow = bucket_at_or_above(buckets, t);
    // All in the first bucket: the quantile is its bound times q.
    let fast = (first * q < t || (above && first * q <= t)).then_some(0);
    let (breach, healthy) = if above { (slow, fast) } else { (fast, slow) };
    let k = f64::from(ctx.options.min_events).max(60.0);
    if let Some(from) = breach {
        out.push(ctx.case(
            "observations past the threshold fire",
            histogram(ctx, m, from, k),
            true,
        ));
        if let Some(trickle) = ctx.low() {
            out.push(ctx.case(
                "the same observations at low traffic are silent",
                histogram(ctx, m, from, trickle),
                false,
            ));
        }
    }
    if let Some(from) = healthy {
        out.push(ctx.case(
            "observations on the healthy side are silent",
            histogram(ctx, m, from, k),
            false,
        ));
    }
}

fn value_cases(ctx: &Ctx<'_>, m: &Metric, above: bool, threshold: Decimal, out: &mut Vec<Case>) {
    // One unit past the threshold, or 0 when the threshold is between 0
    // and 1 (a gauge that reads 0 is the usual "down").
    let past = |toward_zero: bool| -> Decimal {
        if toward_zero && threshold.mantissa > 0 && threshold.as_f64() < 1.0 {
            Decimal {
                mantissa: 0,
                scale: threshold.scale,
            }
        } else if toward_zero {
            threshold.plus(-1)
        } else {
            threshold.plus(1)
        }
    };
    let (breach, healthy) = if above {
        (past(false), past(true))
    } else {
        (past(true), past(false))
    };
    let series = |v: Decimal| {
        vec![Series(
            series_name(&name(m, ""), &ctx.labels(m)),
            format!("{}x{}", v.text(), ctx.n),
        )]
    };
    out.push(ctx.case(
        &format!("a value of {} fires", breach.text()),
        series(breach),
        true,
    ));
    out.push(ctx.case(
        &format!("a value of {} is silent", healthy.text()),
        series(healthy),
        false,
    ));
}

/// A timestamp that stays at 0 (as old as the evaluation time, which the
/// cases make longer than the threshold) or follows the clock (age 0).
fn age_cases(ctx: &Ctx<'_>, m: &Metric, above: bool, out: &mut Vec<Case>) {
    let series = |values: String| vec![Series(series_name(&name(m, ""), &ctx.labels(m)), values)];
    let stuck = format!("0x{}", ctx.n);
    let beating = format!("0+60x{}", ctx.n);
    let (breach, healthy) = if above {
        (stuck, beating)
    } else {
        (beating, stuck)
    };
    out.push(ctx.case(
        &format!(
            "a timestamp {} fires",
            if above {
                "that stopped"
            } else {
                "that keeps up"
            }
        ),
        series(breach),
        true,
    ));
    out.push(ctx.case(
        &format!(
            "a timestamp {} is silent",
            if above {
                "that keeps up"
            } else {
                "that stopped"
            }
        ),
        series(healthy),
        false,
    ));
}

fn absent_cases(ctx: &Ctx<'_>, out: &mut Vec<Case>) {
    let CheckedCondition::Absent(m) = &ctx.c.condition else {
        return;
    };
    let up = vec![
        ("instance".to_owned(), INSTANCE.to_owned()),
        ("job".to_owned(), ctx.options.job.clone()),
    ];
    out.push(ctx.case(
        "no series fires",
        vec![Series(series_name("up", &up), format!("1x{}", ctx.n))],
        true,
    ));
    out.push(ctx.case(
        "a series present is silent",
        vec![Series(
            series_name(&name(m, m.present_suffix()), &ctx.labels(m)),
            format!("1x{}", ctx.n),
        )],
        false,
    ));
}

/// The value a `by` label takes in the series: a matcher's, a known
/// value, or `a`.
fn by_value(c: &CheckedAlert, label: &str) -> String {
    let metrics: Vec<&Metric> = match &c.condition {
        CheckedCondition::Absent(m) => vec![m],
        CheckedCondition::Threshold { query, .. } => match &query.form {
            Resolved::Rate(m) | Resolved::Value(m) | Resolved::Age(m) => vec![m],
            Resolved::Quantile { histogram, .. } => vec![histogram],
            Resolved::Ratio { bad, total } => vec![total, bad],
        },
    };
    for m in &metrics {
        if let Some((_, v)) = m.selector.matchers.iter().find(|(k, _)| k == label) {
            return v.clone();
        }
    }
    metrics
        .iter()
        .find_map(|m| {
            m.info
                .label(label)
                .and_then(|l| l.values.as_ref())
                .and_then(|v| v.first())
        })
        .map_or_else(|| "a".to_owned(), |v| (*v).to_owned())
}

/// The cases of every checked custom alert.
pub(crate) fn cases(alerts: &[CheckedAlert], options: &ExportOptions) -> Vec<Case> {
    let mut out = Vec::new();
    for c in alerts {
        let mut eval = 10 + c.for_seconds.div_ceil(60);
        // An age case's stopped timestamp must grow past the threshold
        // (seconds) before `for` starts.
        if let CheckedCondition::Threshold {
            query, threshold, ..
        } = &c.condition
            && matches!(query.form, Resolved::Age(_))
        {
            let mantissa = u64::try_from(threshold.mantissa.max(0)).unwrap_or(0);
            let seconds = mantissa.div_ceil(10u64.pow(threshold.scale));
            eval += seconds.div_ceil(60) + 1;
        }
        let mut base = vec![
            ("job".to_owned(), options.job.clone()),
            ("instance".to_owned(), INSTANCE.to_owned()),
        ];
        for label in &c.labels {
            if label != "job" && label != "instance" {
                base.push((label.clone(), by_value(c, label)));
            }
        }
        let ctx = Ctx {
            c,
            options,
            base,
            n: eval + 5,
            eval: format!("{eval}m"),
        };
        threshold_cases(&ctx, &mut out);
        absent_cases(&ctx, &mut out);
    }
    out
}
