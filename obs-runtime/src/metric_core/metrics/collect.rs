//! How each metric type describes itself to a scrape: the `Collect`
//! implementations, apart from the types, as prometheus-client keeps its
//! encoding apart from its metrics.

use super::{Counter, Gauge, Histogram, UpDownGauge};
use crate::leaves::labels::LabelSet;
use crate::metric_core::encode::{Collect, Kind, Sink};

impl<L: LabelSet> Collect for Counter<L> {
    fn names(&self) -> Vec<String> {
        vec![self.family.name.to_string()]
    }

    fn collect(&self, sink: &mut dyn Sink) {
        let name = &self.family.name;
        sink.family(name, &self.family.help, Kind::Counter);
        self.family
            .for_each::<L>(|labels, cell| sink.counter(name, labels, cell.get()));
    }

    fn overflowed(&self) -> Option<u64> {
        self.family.overflowed()
    }
}

impl<L: LabelSet> Collect for Gauge<L> {
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
    fn names(&self) -> Vec<String> {
        vec![self.family.name.to_string()]
    }

    fn collect(&self, sink: &mut dyn Sink) {
        let name = &self.family.name;
        sink.family(name, &self.family.help, Kind::Gauge);
        #[allow(clippy::cast_precision_loss)]
        self.family
            .for_each::<L>(|labels, cell| sink.gauge(name, labels, cell.get() as f64));
    }

    fn overflowed(&self) -> Option<u64> {
        self.family.overflowed()
    }
}

impl<L: LabelSet> Collect for Histogram<L> {
    fn names(&self) -> Vec<String> {
        vec![self.family.name.to_string()]
    }

    fn collect(&self, sink: &mut dyn Sink) {
        let name = &self.family.name;
        sink.family(name, &self.family.help, Kind::Histogram);
        let bounds = &self.family.layout.upper;
        let mut snap = crate::metric_core::encode::HistogramSnapshot::default();
        self.family.for_each::<L>(|labels, cell| {
            cell.snapshot_into(&mut snap);
            sink.histogram(name, labels, bounds, &snap);
        });
    }

    fn overflowed(&self) -> Option<u64> {
        self.family.overflowed()
    }
}
