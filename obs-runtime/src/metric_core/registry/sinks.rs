//! The sinks the registry writes through besides the text format: the
//! `prometheus` crate's protobuf families (for `Bridge` and foreign
//! collectors) and the descriptions the catalog reads.

use prometheus::core::{Collector, Desc};
use prometheus::proto;

use crate::metric_core::encode::{Description, HistogramSnapshot, Kind, Sink};

use super::{exposed_name, exposition, global};

fn pairs(metric: &proto::Metric) -> Vec<(&str, &str)> {
    metric
        .get_label()
        .iter()
        .map(|l| (l.name(), l.value()))
        .collect()
}

/// Feeds a `prometheus` crate family through our sink.
pub(super) fn write_foreign(sink: &mut dyn Sink, family: &proto::MetricFamily) {
    let name = family.name();
    let kind = match family.get_field_type() {
        proto::MetricType::COUNTER => Kind::Counter,
        proto::MetricType::GAUGE => Kind::Gauge,
        proto::MetricType::HISTOGRAM => Kind::Histogram,
        proto::MetricType::SUMMARY => Kind::Summary,
        proto::MetricType::UNTYPED => Kind::Untyped,
    };
    sink.family(name, family.help(), kind);
    for m in family.get_metric() {
        let labels = pairs(m);
        match kind {
            Kind::Counter => sink.sample(name, &labels, m.get_counter().get_value()),
            Kind::Gauge => sink.sample(name, &labels, m.get_gauge().get_value()),
            #[allow(deprecated)] // the plain model still carries untyped values
            Kind::Untyped => sink.sample(name, &labels, m.get_untyped().get_value()),
            Kind::Histogram => {
                let h = m.get_histogram();
                let finite: Vec<&proto::Bucket> = h
                    .get_bucket()
                    .iter()
                    .filter(|b| b.upper_bound().is_finite())
                    .collect();
                let bounds: Vec<f64> = finite.iter().map(|b| b.upper_bound()).collect();
                let mut cumulative: Vec<u64> =
                    finite.iter().map(|b| b.cumulative_count()).collect();
                cumulative.push(h.get_sample_count());
                let snap = HistogramSnapshot {
                    cumulative,
                    sum: h.get_sample_sum(),
                };
                sink.histogram(name, &labels, &bounds, &snap);
            }
            Kind::Summary => {
                let s = m.get_summary();
                for q in s.get_quantile() {
                    let mut with_q = labels.clone();
                    let quantile = q.quantile().to_string();
                    with_q.push(("quantile", &quantile));
                    sink.sample(name, &with_q, q.value());
                }
                #[allow(clippy::cast_precision_loss)]
                let count = s.sample_count() as f64;
                sink.sample(&format!("{name}_sum"), &labels, s.sample_sum());
                sink.sample(&format!("{name}_count"), &labels, count);
            }
        }
    }
}

/// Describes what a scrape writes, from the scrape itself: for the
/// families that are no `Collect` (process metrics, foreign collectors).
#[derive(Default)]
pub(super) struct DescribeSink {
    families: Vec<Description>,
    /// Whether the last family has seen a series (its labels are known).
    seen: bool,
}

impl DescribeSink {
    fn series(&mut self, labels: &[(&str, &str)], bounds: &[f64]) {
        if self.seen {
            return;
        }
        self.seen = true;
        if let Some(f) = self.families.last_mut() {
            f.labels = labels
                .iter()
                .filter(|(k, _)| *k != "quantile")
                .map(|(k, _)| (*k).to_owned())
                .collect();
            f.buckets = bounds.to_vec();
        }
    }

    pub(super) fn done(self) -> Vec<Description> {
        self.families
    }
}

impl Sink for DescribeSink {
    fn family(&mut self, name: &str, help: &str, kind: Kind) {
        self.seen = false;
        self.families.push(Description {
            name: name.to_owned(),
            kind,
            help: help.to_owned(),
            labels: Vec::new(),
            values: None,
            buckets: Vec::new(),
        });
    }

    fn counter(&mut self, _: &str, labels: &[(&str, &str)], _: u64) {
        self.series(labels, &[]);
    }

    fn gauge(&mut self, _: &str, labels: &[(&str, &str)], _: f64) {
        self.series(labels, &[]);
    }

    fn histogram(
        &mut self,
        _: &str,
        labels: &[(&str, &str)],
        bounds: &[f64],
        _: &HistogramSnapshot,
    ) {
        self.series(labels, bounds);
    }

    fn sample(&mut self, _: &str, labels: &[(&str, &str)], _: f64) {
        self.series(labels, &[]);
    }
}

/// Builds `prometheus` protocol families, for the `Collector` implementation.
#[derive(Default)]
pub(super) struct ProtoSink {
    families: Vec<proto::MetricFamily>,
}

impl ProtoSink {
    fn push(&mut self, labels: &[(&str, &str)], fill: impl FnOnce(&mut proto::Metric)) {
        let constant = exposition()
            .map(|e| e.labels.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|(k, _)| !labels.iter().any(|(l, _)| l == k))
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let mut m = proto::Metric::from_label(
            labels
                .iter()
                .copied()
                .chain(constant)
                .map(|(k, v)| {
                    let mut p = proto::LabelPair::default();
                    p.set_name(k.to_owned());
                    p.set_value(crate::leaves::schema::truncate_label_value(v).to_owned());
                    p
                })
                .collect(),
        );
        fill(&mut m);
        if let Some(f) = self.families.last_mut() {
            f.mut_metric().push(m);
        }
    }
}

impl Sink for ProtoSink {
    fn family(&mut self, name: &str, help: &str, kind: Kind) {
        let mut f = proto::MetricFamily::default();
        f.set_name(exposed_name(name).into_owned());
        f.set_help(help.to_owned());
        f.set_field_type(match kind {
            Kind::Counter => proto::MetricType::COUNTER,
            Kind::Gauge => proto::MetricType::GAUGE,
            Kind::Histogram => proto::MetricType::HISTOGRAM,
            Kind::Summary => proto::MetricType::SUMMARY,
            Kind::Untyped => proto::MetricType::UNTYPED,
        });
        self.families.push(f);
    }

    fn counter(&mut self, _: &str, labels: &[(&str, &str)], value: u64) {
        #[allow(clippy::cast_precision_loss)]
        let v = value as f64;
        self.push(labels, |m| {
            let mut c = proto::Counter::default();
            c.set_value(v);
            m.set_counter(c);
        });
    }

    fn gauge(&mut self, _: &str, labels: &[(&str, &str)], value: f64) {
        self.push(labels, |m| {
            let mut g = proto::Gauge::default();
            g.set_value(value);
            m.set_gauge(g);
        });
    }

    fn histogram(
        &mut self,
        _: &str,
        labels: &[(&str, &str)],
        bounds: &[f64],
        snap: &HistogramSnapshot,
    ) {
        self.push(labels, |m| {
            let mut h = proto::Histogram::default();
            h.set_sample_count(snap.count());
            h.set_sample_sum(snap.sum);
            h.set_bucket(
                bounds
                    .iter()
                    .zip(&snap.cumulative)
                    .map(|(b, c)| {
                        let mut bucket = proto::Bucket::default();
                        bucket.set_upper_bound(*b);
                        bucket.set_cumulative_count(*c);
                        bucket
                    })
                    .collect(),
            );
            m.set_histogram(h);
        });
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.gauge(name, labels, value);
    }
}

/// The global registry as a `prometheus` collector: register it in an
/// existing `prometheus::Registry` to expose obs metrics through it.
///
/// ```
/// let prom = prometheus::Registry::new();
/// prom.register(Box::new(obs_runtime::registry::Bridge)).unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Bridge;

impl Collector for Bridge {
    /// Declares no descriptors (an "unchecked" collector): call sites and
    /// run-time metrics are not all known when it is registered.
    fn desc(&self) -> Vec<&Desc> {
        Vec::new()
    }

    /// Everything obs holds except foreign collectors, which the `prometheus`
    /// registry that scrapes this bridge is expected to hold itself.
    fn collect(&self) -> Vec<proto::MetricFamily> {
        let mut sink = ProtoSink::default();
        global().collect_own(&mut sink);
        sink.families
    }
}
