//! What a scrape writes for the call sites: `<base>_calls_total`,
//! `<base>_duration_seconds` and `<base>_in_flight`, sites of one base
//! merged into one family.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;

use super::outcome::Outcome;
use super::{CallSite, all};
use crate::metric_core::encode::{HistogramSnapshot, Kind, Sink};
use crate::metric_core::metrics::exemplar::{self, Recorded};

/// A series: its labels, histogram, bounds and exemplars (empty when none
/// was kept, or the sink writes none).
type Row<'a> = (
    Vec<(&'a str, &'a str)>,
    HistogramSnapshot,
    &'static [f64],
    Vec<Option<Recorded>>,
);

/// Overflow counts of the call sites that have open argument labels, by
/// their calls family.
pub(crate) fn overflows() -> Vec<(String, u64)> {
    all()
        .iter()
        .filter(|site| site.is_open())
        .map(|site| {
            (
                format!("{}_calls_total", site.meta.base),
                site.state().open.overflowed(),
            )
        })
        .collect()
}

/// Writes every call site's families, grouped by base name.
pub(crate) fn collect_all(sink: &mut dyn Sink) {
    let mut by_base: BTreeMap<&'static str, Vec<&'static CallSite>> = BTreeMap::new();
    for site in all() {
        by_base.entry(site.meta.base).or_default().push(site);
    }
    let wants_exemplars = sink.wants_exemplars();
    for (base, sites) in by_base {
        // Rows keyed by their labels, so two sites that render the same
        // label set (methods of the same name on two types in one module)
        // merge into one series instead of producing a duplicate.
        // Rendered first, so the rows below can borrow the label values.
        let combinations: Vec<_> = sites
            .iter()
            .map(|site| (site, site.combinations()))
            .collect();
        let mut rows: BTreeMap<Vec<(&str, &str)>, Row<'_>> = BTreeMap::new();
        let mut gauges: BTreeMap<Vec<(&str, &str)>, i64> = BTreeMap::new();
        for (site, combos) in &combinations {
            let meta = &site.meta;
            let returns_result = site.state().returns_result.load(Relaxed);
            for (values, series) in combos {
                let mut user: Vec<(&str, &str)> = meta.labels.to_vec();
                user.extend(
                    meta.arg_labels
                        .iter()
                        .map(|l| l.name)
                        .zip(values.iter().map(String::as_str)),
                );
                let mut common = vec![("function", meta.function), ("module", meta.module)];
                if meta.in_flight {
                    let key: Vec<_> = common.iter().copied().chain(user.iter().copied()).collect();
                    *gauges.entry(key).or_default() += series.in_flight.load(Relaxed);
                }
                for outcome in Outcome::ALL {
                    let cell = series.histogram(outcome);
                    let always =
                        outcome == Outcome::Ok || (outcome == Outcome::Error && returns_result);
                    if !always && cell.count() == 0 {
                        continue;
                    }
                    common.truncate(2);
                    common.push(("result", outcome.as_str()));
                    let labels: Vec<_> =
                        common.iter().copied().chain(user.iter().copied()).collect();
                    let snap = cell.snapshot();
                    let exemplars = if wants_exemplars {
                        cell.exemplars()
                    } else {
                        Vec::new()
                    };
                    match rows.get_mut(&labels) {
                        Some(row) if row.2 == meta.buckets => {
                            for (a, b) in row.1.cumulative.iter_mut().zip(&snap.cumulative) {
                                *a += b;
                            }
                            row.1.sum += snap.sum;
                            merge_exemplars(&mut row.3, exemplars);
                        }
                        Some(_) => {}
                        None => {
                            rows.insert(labels.clone(), (labels, snap, meta.buckets, exemplars));
                        }
                    }
                }
            }
        }
        let calls = format!("{base}_calls_total");
        sink.family(
            &calls,
            "Calls of instrumented functions, by result (ok, error, cancelled, panic).",
            Kind::Counter,
        );
        for (labels, snap, _, _) in rows.values() {
            sink.counter(&calls, labels, snap.count());
        }
        let duration = format!("{base}_duration_seconds");
        sink.family(
            &duration,
            "Duration of calls of instrumented functions in seconds, by result.",
            Kind::Histogram,
        );
        for (labels, snap, bounds, exemplars) in rows.values() {
            if exemplars.is_empty() {
                sink.histogram(&duration, labels, bounds, snap);
            } else {
                exemplar::written(exemplars, |e| {
                    sink.histogram_with_exemplars(&duration, labels, bounds, snap, e);
                });
            }
        }
        if !gauges.is_empty() {
            let in_flight = format!("{base}_in_flight");
            sink.family(
                &in_flight,
                "Calls of instrumented functions currently running.",
                Kind::Gauge,
            );
            for (labels, value) in gauges {
                #[allow(clippy::cast_precision_loss)]
                sink.gauge(&in_flight, &labels, value as f64);
            }
        }
    }
}

/// Two sites' exemplars of one series: per bucket, the later one.
fn merge_exemplars(into: &mut Vec<Option<Recorded>>, from: Vec<Option<Recorded>>) {
    if into.is_empty() {
        *into = from;
        return;
    }
    for (a, b) in into.iter_mut().zip(from) {
        if let Some(b) = b
            && a.is_none_or(|a| a.timestamp < b.timestamp)
        {
            *a = Some(b);
        }
    }
}
