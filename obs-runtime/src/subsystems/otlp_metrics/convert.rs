//! The registry walk, as OTLP: `OtlpSink` is one more [`Sink`], beside the
//! text and `OpenMetrics` ones, so the push carries exactly the families a
//! scrape writes, under the same names.
//!
//! - A counter is a monotonic cumulative `Sum` (integer points for obs's
//!   own counters, double points for a foreign collector's), a gauge (and
//!   an `untyped` foreign series) a `Gauge`.
//! - A histogram is an explicit-bucket `Histogram` with the family's
//!   bounds: `explicit_bounds` are the finite bounds (no `+Inf`), and
//!   `bucket_counts` hold one count per bucket, the differences of the
//!   scrape's cumulative `le` counts, `+Inf`'s bucket last.
//! - A foreign summary is a `Summary` (its quantiles, `_sum` and `_count`).
//! - An exemplar the walk hands over (the trace of one observation, for a
//!   bucket or a counter) becomes an OTLP exemplar on the series' point:
//!   `trace_id` and `span_id` as bytes, its value and time, any other
//!   label as a filtered attribute.
//! - The unit is the name's unit suffix in UCUM (`_seconds` → `s`,
//!   `_bytes` → `By`); labels become string attributes, their values
//!   passed through the redaction boundary like span attributes.

use std::borrow::Cow;

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar as OtlpExemplar, Gauge, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, Sum, Summary, SummaryDataPoint, exemplar, metric, number_data_point,
    summary_data_point,
};

use crate::leaves::redact::redact_field;
use crate::metric_core::encode::{Exemplar, HistogramSnapshot, Kind, Sink};
use crate::metric_core::openmetrics::unit_of;
use crate::metric_core::registry::{exposed_name, exposition};

/// The UCUM unit of a Prometheus unit suffix, as the OpenTelemetry
/// Collector's Prometheus translator spells it.
fn ucum(unit: &str) -> &'static str {
    match unit {
        "seconds" => "s",
        "bytes" => "By",
        "ratio" => "1",
        "meters" => "m",
        "grams" => "g",
        "joules" => "J",
        "volts" => "V",
        "amperes" => "A",
        "celsius" => "Cel",
        _ => "",
    }
}

/// Builds the metrics of one export from a registry walk.
#[derive(Debug)]
pub(crate) struct OtlpSink {
    /// Process (or registration) start: the start of every cumulative series.
    start_nanos: u64,
    /// When the walk began: every point's time.
    now_nanos: u64,
    metrics: Vec<Metric>,
    kind: Kind,
    family: String,
    points: usize,
}

/// The point's attributes: its labels, then the registry's constant
/// labels (a series label of the same name wins).
fn attributes(labels: &[(&str, &str)]) -> Vec<KeyValue> {
    let constant = exposition()
        .map(|e| e.labels.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|(k, _)| !labels.iter().any(|(l, _)| l == k))
        .map(|(k, v)| (k.as_str(), v.as_str()));
    labels
        .iter()
        .copied()
        .chain(constant)
        .map(|(k, v)| KeyValue {
            key: k.to_owned(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(match redact_field(k, v) {
                    Cow::Borrowed(v) => v.to_owned(),
                    Cow::Owned(v) => v,
                })),
            }),
            ..KeyValue::default()
        })
        .collect()
}

impl OtlpSink {
    pub(crate) fn new(start_nanos: u64, now_nanos: u64) -> Self {
        Self {
            start_nanos,
            now_nanos,
            metrics: Vec::new(),
            kind: Kind::Untyped,
            family: String::new(),
            points: 0,
        }
    }

    /// The metrics, and how many data points they hold (what a failed
    /// export drops).
    pub(crate) fn finish(self) -> (Vec<Metric>, usize) {
        (self.metrics, self.points)
    }

    fn data(&mut self) -> Option<&mut metric::Data> {
        self.metrics.last_mut().and_then(|m| m.data.as_mut())
    }

    fn number(&self, labels: &[(&str, &str)], value: number_data_point::Value) -> NumberDataPoint {
        NumberDataPoint {
            attributes: attributes(labels),
            start_time_unix_nano: self.start_nanos,
            time_unix_nano: self.now_nanos,
            value: Some(value),
            ..NumberDataPoint::default()
        }
    }

    fn push_number(&mut self, labels: &[(&str, &str)], value: number_data_point::Value) {
        let point = self.number(labels, value);
        match self.data() {
            Some(metric::Data::Sum(sum)) => sum.data_points.push(point),
            Some(metric::Data::Gauge(gauge)) => gauge.data_points.push(point),
            _ => return,
        }
        self.points += 1;
    }

    /// A sample of a foreign summary: a quantile, `_sum` or `_count`,
    /// merged into the point of its labels (without `quantile`).
    fn summary_sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let family = self.family.clone();
        let (part, own): (&str, Vec<(&str, &str)>) = if name == family {
            (
                "quantile",
                labels
                    .iter()
                    .copied()
                    .filter(|(k, _)| *k != "quantile")
                    .collect(),
            )
        } else if name.strip_prefix(family.as_str()) == Some("_sum") {
            ("sum", labels.to_vec())
        } else if name.strip_prefix(family.as_str()) == Some("_count") {
            ("count", labels.to_vec())
        } else {
            return;
        };
        let attrs = attributes(&own);
        let (start, now) = (self.start_nanos, self.now_nanos);
        let Some(metric::Data::Summary(summary)) = self.data() else {
            return;
        };
        let mut added = false;
        let point = if let Some(p) = summary
            .data_points
            .iter_mut()
            .find(|p| p.attributes == attrs)
        {
            p
        } else {
            summary.data_points.push(SummaryDataPoint {
                attributes: attrs,
                start_time_unix_nano: start,
                time_unix_nano: now,
                ..SummaryDataPoint::default()
            });
            added = true;
            let Some(p) = summary.data_points.last_mut() else {
                return;
            };
            p
        };
        match part {
            "quantile" => {
                let q = labels
                    .iter()
                    .find(|(k, _)| *k == "quantile")
                    .and_then(|(_, q)| q.parse::<f64>().ok());
                if let Some(quantile) = q {
                    point
                        .quantile_values
                        .push(summary_data_point::ValueAtQuantile { quantile, value });
                }
            }
            "sum" => point.sum = value,
            _ => {
                // A count is a whole number written as a float.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let count = value.max(0.0) as u64;
                point.count = count;
            }
        }
        if added {
            self.points += 1;
        }
    }
}

/// Bytes from hexadecimal text; `None` unless it is exactly `len` bytes.
fn hex_bytes(text: &str, len: usize) -> Option<Vec<u8>> {
    if text.len() != len * 2 {
        return None;
    }
    (0..len)
        .map(|i| {
            text.get(i * 2..i * 2 + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

/// An exemplar in OTLP: `trace_id` (16 bytes) and `span_id` (8) from
/// their hex labels — `None` when either is missing or malformed, as OTLP
/// wants both or a valid pair —, the rest of its labels as attributes.
fn otlp_exemplar(e: &Exemplar<'_>, now_nanos: u64) -> Option<OtlpExemplar> {
    let label = |key: &str| e.labels.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let trace_id = hex_bytes(label("trace_id")?, 16)?;
    let span_id = hex_bytes(label("span_id")?, 8)?;
    let others: Vec<(&str, &str)> = e
        .labels
        .iter()
        .copied()
        .filter(|(k, _)| *k != "trace_id" && *k != "span_id")
        .collect();
    let time_unix_nano = e
        .timestamp
        .filter(|t| t.is_finite() && *t > 0.0)
        .map_or(now_nanos, |t| {
            // Seconds since the epoch, well within u64 nanoseconds.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let nanos = (t * 1e9) as u64;
            nanos
        });
    Some(OtlpExemplar {
        filtered_attributes: attributes(&others),
        time_unix_nano,
        span_id,
        trace_id,
        value: Some(exemplar::Value::AsDouble(e.value)),
    })
}

/// The number of data points of `metric`.
fn points_of(metric: &Metric) -> usize {
    match &metric.data {
        Some(metric::Data::Sum(d)) => d.data_points.len(),
        Some(metric::Data::Gauge(d)) => d.data_points.len(),
        Some(metric::Data::Histogram(d)) => d.data_points.len(),
        Some(metric::Data::Summary(d)) => d.data_points.len(),
        Some(metric::Data::ExponentialHistogram(d)) => d.data_points.len(),
        None => 0,
    }
}

/// The first `n` points of `metric`, moved into a metric of their own with
/// the same name, description, unit and kind.
fn take_points(metric: &mut Metric, n: usize) -> Metric {
    fn first<T>(points: &mut Vec<T>, n: usize) -> Vec<T> {
        let rest = points.split_off(n.min(points.len()));
        std::mem::replace(points, rest)
    }
    let data = match &mut metric.data {
        Some(metric::Data::Sum(d)) => Some(metric::Data::Sum(Sum {
            data_points: first(&mut d.data_points, n),
            aggregation_temporality: d.aggregation_temporality,
            is_monotonic: d.is_monotonic,
        })),
        Some(metric::Data::Gauge(d)) => Some(metric::Data::Gauge(Gauge {
            data_points: first(&mut d.data_points, n),
        })),
        Some(metric::Data::Histogram(d)) => Some(metric::Data::Histogram(Histogram {
            data_points: first(&mut d.data_points, n),
            aggregation_temporality: d.aggregation_temporality,
        })),
        Some(metric::Data::Summary(d)) => Some(metric::Data::Summary(Summary {
            data_points: first(&mut d.data_points, n),
        })),
        // Never built here; moved whole.
        Some(metric::Data::ExponentialHistogram(_)) | None => metric.data.take(),
    };
    Metric {
        name: metric.name.clone(),
        description: metric.description.clone(),
        unit: metric.unit.clone(),
        data,
        ..Metric::default()
    }
}

/// Splits one push into requests of at most `max_points` points each (a
/// family larger than that is split across requests, its points in
/// order), so that a large registry stays under the collector's message
/// size limit (4 MiB by default for gRPC). Each batch comes with its
/// number of points.
pub(crate) fn split(metrics: Vec<Metric>, max_points: usize) -> Vec<(Vec<Metric>, usize)> {
    let max_points = max_points.max(1);
    let mut batches: Vec<(Vec<Metric>, usize)> = vec![(Vec::new(), 0)];
    for mut metric in metrics {
        loop {
            let Some((batch, count)) = batches.last_mut() else {
                return batches;
            };
            let room = max_points - *count;
            let points = points_of(&metric);
            if points <= room {
                *count += points;
                batch.push(metric);
                break;
            }
            if room > 0 {
                batch.push(take_points(&mut metric, room));
                *count += room;
            }
            batches.push((Vec::new(), 0));
        }
    }
    batches
}

impl Sink for OtlpSink {
    fn wants_exemplars(&self) -> bool {
        true
    }

    fn family(&mut self, name: &str, help: &str, kind: Kind) {
        self.kind = kind;
        name.clone_into(&mut self.family);
        let data = match kind {
            Kind::Counter => metric::Data::Sum(Sum {
                data_points: Vec::new(),
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            }),
            Kind::Gauge | Kind::Untyped => metric::Data::Gauge(Gauge {
                data_points: Vec::new(),
            }),
            Kind::Histogram => metric::Data::Histogram(Histogram {
                data_points: Vec::new(),
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            }),
            Kind::Summary => metric::Data::Summary(Summary {
                data_points: Vec::new(),
            }),
        };
        self.metrics.push(Metric {
            name: exposed_name(name).into_owned(),
            description: help.to_owned(),
            unit: unit_of(name).map(ucum).unwrap_or_default().to_owned(),
            data: Some(data),
            ..Metric::default()
        });
    }

    fn counter(&mut self, _: &str, labels: &[(&str, &str)], value: u64) {
        let value = i64::try_from(value).map_or_else(
            // Past `i64::MAX` only a double can hold it (approximately).
            #[allow(clippy::cast_precision_loss)]
            |_| number_data_point::Value::AsDouble(value as f64),
            number_data_point::Value::AsInt,
        );
        self.push_number(labels, value);
    }

    fn gauge(&mut self, _: &str, labels: &[(&str, &str)], value: f64) {
        self.push_number(labels, number_data_point::Value::AsDouble(value));
    }

    fn histogram(
        &mut self,
        _: &str,
        labels: &[(&str, &str)],
        bounds: &[f64],
        snap: &HistogramSnapshot,
    ) {
        let mut previous = 0u64;
        let bucket_counts: Vec<u64> = snap
            .cumulative
            .iter()
            .map(|&c| {
                // Cumulative counts never decrease; saturate if a racing
                // read ever made one look so.
                let n = c.saturating_sub(previous);
                previous = previous.max(c);
                n
            })
            .collect();
        let point = HistogramDataPoint {
            attributes: attributes(labels),
            start_time_unix_nano: self.start_nanos,
            time_unix_nano: self.now_nanos,
            count: snap.count(),
            sum: Some(snap.sum),
            bucket_counts,
            explicit_bounds: bounds.to_vec(),
            ..HistogramDataPoint::default()
        };
        if let Some(metric::Data::Histogram(h)) = self.data() {
            h.data_points.push(point);
            self.points += 1;
        }
    }

    fn counter_with_exemplar(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        value: u64,
        exemplar: Option<&Exemplar<'_>>,
    ) {
        self.counter(name, labels, value);
        let now = self.now_nanos;
        if let Some(e) = exemplar.and_then(|e| otlp_exemplar(e, now))
            && let Some(metric::Data::Sum(sum)) = self.data()
            && let Some(point) = sum.data_points.last_mut()
        {
            point.exemplars.push(e);
        }
    }

    fn histogram_with_exemplars(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        bounds: &[f64],
        snap: &HistogramSnapshot,
        exemplars: &[Option<Exemplar<'_>>],
    ) {
        self.histogram(name, labels, bounds, snap);
        let now = self.now_nanos;
        let converted: Vec<OtlpExemplar> = exemplars
            .iter()
            .flatten()
            .filter_map(|e| otlp_exemplar(e, now))
            .collect();
        if !converted.is_empty()
            && let Some(metric::Data::Histogram(h)) = self.data()
            && let Some(point) = h.data_points.last_mut()
        {
            point.exemplars = converted;
        }
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        match self.kind {
            Kind::Summary => self.summary_sample(name, labels, value),
            _ => self.push_number(labels, number_data_point::Value::AsDouble(value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_becomes_per_bucket_counts_and_finite_bounds() {
        let mut sink = OtlpSink::new(1, 2);
        sink.family("t_duration_seconds", "Time.", Kind::Histogram);
        sink.histogram(
            "t_duration_seconds",
            &[("result", "ok")],
            &[0.1, 1.0],
            &HistogramSnapshot {
                cumulative: vec![2, 5, 6],
                sum: 3.5,
            },
        );
        let (metrics, points) = sink.finish();
        assert_eq!(points, 1);
        assert_eq!(metrics[0].unit, "s");
        let Some(metric::Data::Histogram(h)) = &metrics[0].data else {
            panic!("{metrics:?}")
        };
        assert_eq!(h.aggregation_temporality, 2, "cumulative");
        let p = &h.data_points[0];
        assert_eq!(p.bucket_counts, vec![2, 3, 1]);
        assert_eq!(p.explicit_bounds, vec![0.1, 1.0]);
        assert_eq!((p.count, p.sum), (6, Some(3.5)));
        assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (1, 2));
    }

    #[test]
    fn counters_are_monotonic_sums_and_sensitive_labels_are_redacted() {
        let mut sink = OtlpSink::new(0, 0);
        sink.family("t_calls_total", "Calls.", Kind::Counter);
        sink.counter("t_calls_total", &[("password", "hunter2")], 7);
        sink.family("t_temp", "Temperature.", Kind::Gauge);
        sink.gauge("t_temp", &[], 21.5);
        let (metrics, points) = sink.finish();
        assert_eq!(points, 2);
        let Some(metric::Data::Sum(s)) = &metrics[0].data else {
            panic!()
        };
        assert!(s.is_monotonic);
        assert_eq!(
            s.data_points[0].value,
            Some(number_data_point::Value::AsInt(7))
        );
        let v = s.data_points[0].attributes[0].value.clone().unwrap().value;
        assert_eq!(v, Some(any_value::Value::StringValue("[REDACTED]".into())));
        assert_eq!(metrics[1].unit, "");
        assert!(matches!(metrics[1].data, Some(metric::Data::Gauge(_))));
    }

    #[test]
    fn a_push_is_split_in_requests_of_bounded_points_keeping_every_family() {
        let mut sink = OtlpSink::new(0, 0);
        sink.family("a_total", "A.", Kind::Counter);
        for i in 0..5u64 {
            sink.counter("a_total", &[("i", &i.to_string())], i);
        }
        sink.family("empty", "No series.", Kind::Gauge);
        sink.family("b", "B.", Kind::Gauge);
        for i in 0..3u64 {
            #[allow(clippy::cast_precision_loss)]
            sink.gauge("b", &[("i", &i.to_string())], i as f64);
        }
        let (metrics, points) = sink.finish();
        assert_eq!(points, 8);
        let batches = split(metrics, 3);
        let counts: Vec<usize> = batches.iter().map(|b| b.1).collect();
        assert_eq!(counts, vec![3, 3, 2]);
        for (batch, n) in &batches {
            assert_eq!(batch.iter().map(points_of).sum::<usize>(), *n);
        }
        let names: Vec<Vec<&str>> = batches
            .iter()
            .map(|b| b.0.iter().map(|m| m.name.as_str()).collect())
            .collect();
        assert_eq!(
            names,
            vec![vec!["a_total"], vec!["a_total", "empty", "b"], vec!["b"]]
        );
        let Some(metric::Data::Sum(s)) = &batches[1].0[0].data else {
            panic!()
        };
        assert!(s.is_monotonic && s.aggregation_temporality == 2);
        assert_eq!(
            s.data_points[1].value,
            Some(number_data_point::Value::AsInt(4)),
            "points in order"
        );
        assert_eq!(
            split(Vec::new(), 3).len(),
            1,
            "an empty push is one request"
        );
    }

    #[test]
    fn exemplars_carry_their_trace_as_bytes_and_bad_ids_are_left_out() {
        let ids = [
            ("trace_id", "0af7651916cd43dd8448eb211c80319c"),
            ("span_id", "b7ad6b7169203331"),
        ];
        let good = Exemplar {
            labels: &ids,
            value: 0.042,
            timestamp: Some(1_700_000_000.5),
        };
        let bad_ids = [("trace_id", "xyz"), ("span_id", "b7ad6b7169203331")];
        let bad = Exemplar {
            labels: &bad_ids,
            value: 1.0,
            timestamp: None,
        };
        let mut sink = OtlpSink::new(1, 2);
        sink.family("t_seconds", "T.", Kind::Histogram);
        sink.histogram_with_exemplars(
            "t_seconds",
            &[],
            &[0.1],
            &HistogramSnapshot {
                cumulative: vec![1, 2],
                sum: 1.042,
            },
            &[Some(good), Some(bad)],
        );
        sink.family("t_total", "T.", Kind::Counter);
        sink.counter_with_exemplar("t_total", &[], 3, Some(&good));
        let (metrics, _) = sink.finish();
        let Some(metric::Data::Histogram(h)) = &metrics[0].data else {
            panic!()
        };
        let e = &h.data_points[0].exemplars;
        assert_eq!(e.len(), 1, "the malformed one is left out: {e:?}");
        assert_eq!(e[0].trace_id, hex_bytes(ids[0].1, 16).unwrap());
        assert_eq!(e[0].trace_id[0], 0x0a);
        assert_eq!(e[0].span_id.len(), 8);
        assert_eq!(e[0].value, Some(exemplar::Value::AsDouble(0.042)));
        assert_eq!(e[0].time_unix_nano, 1_700_000_000_500_000_000);
        let Some(metric::Data::Sum(s)) = &metrics[1].data else {
            panic!()
        };
        assert_eq!(s.data_points[0].exemplars.len(), 1);
    }

    #[test]
    fn a_foreign_summary_is_one_point_per_label_set() {
        let mut sink = OtlpSink::new(0, 0);
        sink.family("rpc", "RPCs.", Kind::Summary);
        sink.sample("rpc", &[("m", "a"), ("quantile", "0.5")], 1.0);
        sink.sample("rpc", &[("m", "a"), ("quantile", "0.9")], 2.0);
        sink.sample("rpc_sum", &[("m", "a")], 10.0);
        sink.sample("rpc_count", &[("m", "a")], 4.0);
        let (metrics, points) = sink.finish();
        assert_eq!(points, 1);
        let Some(metric::Data::Summary(s)) = &metrics[0].data else {
            panic!()
        };
        let p = &s.data_points[0];
        assert_eq!((p.count, p.sum, p.quantile_values.len()), (4, 10.0, 2));
    }
}
