//! How each metric type describes itself to a scrape: the `Collect`
//! implementations, apart from the types, as prometheus-client keeps its
//! encoding apart from its metrics.

use super::{Counter, Gauge, Histogram, UpDownGauge};
use crate::leaves::labels::LabelSet;
use crate::metric_core::encode::{Collect, Description, Kind, Sink};

/// A family's description: label names, and for a bounded label set the
/// values each label takes, read from its combinations.
fn describe<L: LabelSet>(name: &str, help: &str, kind: Kind, buckets: &[f64]) -> Description {
    let values = L::KIND.cardinality().map(|combinations| {
        (0..L::NAMES.len())
            .map(|label| {
                let mut seen: Vec<&'static str> = Vec::new();
                for ordinal in 0..combinations {
                    if let Some(v) = L::KIND.value_at(ordinal, label)
                        && !seen.contains(&v)
                    {
                        seen.push(v);
                    }
                }
                seen
            })
            .collect()
    });
    Description {
        name: name.to_owned(),
        kind,
        help: help.to_owned(),
        labels: L::NAMES.iter().map(|n| (*n).to_owned()).collect(),
        values,
        buckets: buckets.to_vec(),
    }
}

impl<L: LabelSet> Collect for Counter<L> {
    fn describe(&self) -> Vec<Description> {
        vec![describe::<L>(
            &self.family.name,
            &self.family.help,
            Kind::Counter,
            &[],
        )]
    }

    fn names(&self) -> Vec<String> {
        vec![self.family.name.to_string()]
    }

    fn collect(&self, sink: &mut dyn Sink) {
        let name = &self.family.name;
        sink.family(name, &self.family.help, Kind::Counter);
        let exemplars = sink.wants_exemplars();
        self.family
            .for_each::<L>(|labels, cell| match cell.exemplar().filter(|_| exemplars) {
                None => sink.counter(name, labels, cell.get()),
                Some(recorded) => super::exemplar::written(&[Some(recorded)], |e| {
                    sink.counter_with_exemplar(
                        name,
                        labels,
                        cell.get(),
                        e.first().and_then(Option::as_ref),
                    );
                }),
            });
    }

    fn overflowed(&self) -> Option<u64> {
        self.family.overflowed()
    }
}

impl<L: LabelSet> Collect for Gauge<L> {
    fn describe(&self) -> Vec<Description> {
        vec![describe::<L>(
            &self.family.name,
            &self.family.help,
            Kind::Gauge,
            &[],
        )]
    }

    fn names(&self) -> Vec<String> {
        vec![self.family.name.to_string()]
    }

    fn collect(&self, sink: &mut dyn Sink) {
        let name = &self.family.name;
        sink.family(name, &self.family.help, Kind::Gauge);
        self.family
            .for_each::<L>(|labels, cell| sink.gauge(name, labels, cell.get()));
    }

    fn overflowed(&self) -> Option<u64> {
        self.family.overflowed()
    }
}

/// A gauge that only moves by whole steps from the code that owns it (the
/// HTTP layer's requests in flight): sharded integer cells, so the two
/// updates of every request don't contend for one line. Exposed as a
/// Prometheus gauge, as OpenTelemetry exposes its up-down counters.
impl<L: LabelSet> Collect for UpDownGauge<L> {
    fn describe(&self) -> Vec<Description> {
        vec![describe::<L>(
            &self.family.name,
            &self.family.help,
            Kind::Gauge,
            &[],
        )]
    }

    fn names(&self) -> Vec<String> {
        vec![self.family.name.to_string()]
    }

    fn collect(&self, sink: &mut dyn Sink) {
        let name = &self.family.name;
        sink.family(name, &self.family.help, Kind::Gauge);
        // What is in progress can't be negative. A scrape adds the shards
        // one after another, so it can read one request's decrement (on
        // another thread's shard) without its increment: the loom model of
        // the cell shows -1 for a moment. That reads as 0, not as -1.
        #[allow(clippy::cast_precision_loss)]
        self.family
            .for_each::<L>(|labels, cell| sink.gauge(name, labels, cell.get().max(0) as f64));
    }

    fn overflowed(&self) -> Option<u64> {
        self.family.overflowed()
    }
}

impl<L: LabelSet> Collect for Histogram<L> {
    fn describe(&self) -> Vec<Description> {
        vec![describe::<L>(
            &self.family.name,
            &self.family.help,
            Kind::Histogram,
            &self.family.layout.upper,
        )]
    }

    fn names(&self) -> Vec<String> {
        vec![self.family.name.to_string()]
    }

    fn collect(&self, sink: &mut dyn Sink) {
        let name = &self.family.name;
        sink.family(name, &self.family.help, Kind::Histogram);
        let bounds = &self.family.layout.upper;
        let mut snap = crate::metric_core::encode::HistogramSnapshot::default();
        let exemplars = sink.wants_exemplars();
        self.family.for_each::<L>(|labels, cell| {
            cell.snapshot_into(&mut snap);
            let recorded = if exemplars {
                cell.exemplars()
            } else {
                Vec::new()
            };
            if recorded.is_empty() {
                sink.histogram(name, labels, bounds, &snap);
            } else {
                super::exemplar::written(&recorded, |e| {
                    sink.histogram_with_exemplars(name, labels, bounds, &snap, e);
                });
            }
        });
    }

    fn overflowed(&self) -> Option<u64> {
        self.family.overflowed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_core::encode::TextSink;

    #[test]
    fn an_up_down_gauge_never_exports_below_zero() {
        let gauge = UpDownGauge::<()>::unchecked("test_active".into(), "Active.".into());
        let cell = gauge.with_values(&[]);
        // A decrement seen without its increment, as a scrape racing two
        // shards can: the cell says -1, the scrape 0.
        cell.dec();
        assert_eq!(cell.get(), -1);
        let mut sink = TextSink::with_capacity(256);
        gauge.collect(&mut sink);
        assert!(sink.out.contains("\ntest_active 0\n"), "{}", sink.out);
        cell.inc();
        cell.inc();
        let mut sink = TextSink::with_capacity(256);
        gauge.collect(&mut sink);
        assert!(sink.out.contains("\ntest_active 1\n"), "{}", sink.out);
    }
}
