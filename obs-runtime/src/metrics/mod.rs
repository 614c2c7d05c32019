//! Counters, gauges and histograms, keyed by a [`LabelSet`].
//!
//! Each metric owns one cell per label combination in a fixed array, so
//! `with(labels)` is an index computation and every update a relaxed atomic
//! operation. All combinations exist at zero from the start, which lets
//! `rate()` and absence alerts work from the first scrape.
//!
//! ```
//! use obs_runtime::metrics::{Counter, Histogram};
//!
//! let jobs = Counter::<()>::new("doc_jobs_done_total", "Jobs finished.").unwrap();
//! jobs.inc();
//! jobs.inc_by(2);
//! assert_eq!(jobs.get(), 3);
//!
//! let size = Histogram::<()>::new("doc_job_size_bytes", "Job payload size.", obs_runtime::schema::BYTES).unwrap();
//! size.observe(512.0);
//! ```

pub(crate) mod cell;

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use crate::encode::{Kind, Sink};
use crate::labels::LabelSet;
use crate::registry::{self, Collect, RegistryError};
use crate::schema;
use cell::{Bounds, CounterCell, GaugeCell, HistogramCell};

/// Why a metric could not be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricError {
    /// The metric name breaks a naming rule; the message says which.
    InvalidName {
        /// The rejected name.
        name: String,
        /// The rule it breaks and what to write instead.
        reason: &'static str,
    },
    /// A label name of the label set breaks a rule.
    InvalidLabel {
        /// The rejected label name.
        label: &'static str,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The bucket list is not valid.
    InvalidBuckets(&'static str),
    /// The label set has no fixed cardinality; such metrics need the bounded
    /// dynamic family.
    UnboundedLabels,
}

impl fmt::Display for MetricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName { name, reason } => write!(f, "invalid metric name `{name}`: {reason}"),
            Self::InvalidLabel { label, reason } => write!(f, "invalid label `{label}`: {reason}"),
            Self::InvalidBuckets(reason) => write!(f, "invalid buckets: {reason}"),
            Self::UnboundedLabels => f.write_str(
                "the label set has no fixed cardinality: use enums, bools or fixed literals as label values",
            ),
        }
    }
}

impl std::error::Error for MetricError {}

/// What every metric knows about itself.
#[derive(Debug)]
struct Desc {
    name: Cow<'static, str>,
    help: Cow<'static, str>,
}

fn check<L: LabelSet>(name: &str, counter: bool) -> Result<(), MetricError> {
    let rule = if counter {
        schema::check_counter_name(name)
    } else {
        schema::check_metric_name(name)
    };
    if let Some(reason) = rule {
        return Err(MetricError::InvalidName {
            name: name.to_owned(),
            reason,
        });
    }
    for &label in L::NAMES {
        if let Some(reason) = schema::check_label_name(label) {
            return Err(MetricError::InvalidLabel { label, reason });
        }
    }
    if L::CARDINALITY == 0 {
        return Err(MetricError::UnboundedLabels);
    }
    Ok(())
}

/// Writes the label pairs of the combination at `ordinal`.
fn labels_of<L: LabelSet>(ordinal: usize) -> Vec<(&'static str, &'static str)> {
    L::NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| (*name, L::value_at(ordinal, i)))
        .collect()
}

/// A monotonically increasing count, such as requests served or bytes sent.
///
/// Names end in `_total`. Generic over a [`LabelSet`]; `Counter<()>` (the
/// default) has one series and can be incremented directly.
///
/// ```
/// let c = obs_runtime::metrics::Counter::<()>::new("doc_counter_total", "Things counted.").unwrap();
/// c.inc();
/// assert_eq!(c.get(), 1);
/// ```
pub struct Counter<L: LabelSet = ()> {
    desc: Desc,
    cells: Box<[CounterCell]>,
    labels: PhantomData<fn(L)>,
}

/// A handle on one series of a [`Counter`], cheap to keep and reuse.
///
/// ```
/// let c = obs_runtime::metrics::Counter::<()>::new("doc_handle_total", "Handles.").unwrap();
/// let hits = c.with(());
/// hits.inc();
/// assert_eq!(hits.get(), 1);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CounterHandle<'a>(&'a CounterCell);

impl CounterHandle<'_> {
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.0.add(1);
    }

    /// Adds `n`.
    #[inline]
    pub fn inc_by(&self, n: u64) {
        self.0.add(n);
    }

    /// The current value.
    #[must_use]
    pub fn get(&self) -> u64 {
        self.0.get()
    }
}

impl<L: LabelSet> Counter<L> {
    /// Creates a counter that is not registered anywhere (see
    /// [`register`](Self::register)).
    ///
    /// # Errors
    /// When the name or a label name breaks a rule of [`schema`], or the
    /// label set is unbounded.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
    ) -> Result<Self, MetricError> {
        let name = name.into();
        check::<L>(&name, true)?;
        Ok(Self {
            desc: Desc {
                name,
                help: help.into(),
            },
            cells: (0..L::CARDINALITY).map(|_| CounterCell::new()).collect(),
            labels: PhantomData,
        })
    }

    /// Registers the counter in the global registry for the life of the
    /// program, so `encode_text()` exposes it.
    ///
    /// ```
    /// use obs_runtime::metrics::Counter;
    /// let c = Counter::<()>::new("doc_registered_total", "Registered.").unwrap().register().unwrap();
    /// c.inc();
    /// assert!(obs_runtime::encode_text().contains("doc_registered_total 1"));
    /// ```
    ///
    /// # Errors
    /// When a metric of the same name is registered already.
    pub fn register(self) -> Result<&'static Self, RegistryError>
    where
        L: 'static,
    {
        registry::global().register_owned(self)
    }

    /// The series of one label combination.
    #[inline]
    pub fn with(&self, labels: L) -> CounterHandle<'_> {
        CounterHandle(&self.cells[labels.ordinal()])
    }

    /// The metric's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.desc.name
    }
}

impl Counter<()> {
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.cells[0].add(1);
    }

    /// Adds `n`.
    #[inline]
    pub fn inc_by(&self, n: u64) {
        self.cells[0].add(n);
    }

    /// The current value.
    #[must_use]
    pub fn get(&self) -> u64 {
        self.cells[0].get()
    }
}

impl<L: LabelSet> fmt::Debug for Counter<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Counter")
            .field("name", &self.desc.name)
            .finish_non_exhaustive()
    }
}

impl<L: LabelSet> Collect for Counter<L> {
    fn names(&self) -> Vec<String> {
        vec![self.desc.name.to_string()]
    }

    fn collect(&self, sink: &mut dyn Sink) {
        sink.family(&self.desc.name, &self.desc.help, Kind::Counter);
        for (ordinal, cell) in self.cells.iter().enumerate() {
            sink.counter(&self.desc.name, &labels_of::<L>(ordinal), cell.get());
        }
    }
}

/// A value that goes up and down, such as queue depth or pool size.
///
/// ```
/// let g = obs_runtime::metrics::Gauge::<()>::new("doc_queue_depth", "Jobs waiting.").unwrap();
/// g.set(4.0);
/// g.dec();
/// assert_eq!(g.get(), 3.0);
/// ```
pub struct Gauge<L: LabelSet = ()> {
    desc: Desc,
    cells: Box<[GaugeCell]>,
    labels: PhantomData<fn(L)>,
}

/// A handle on one series of a [`Gauge`].
///
/// ```
/// let g = obs_runtime::metrics::Gauge::<()>::new("doc_gauge_handle", "Handles.").unwrap();
/// g.with(()).set(2.0);
/// assert_eq!(g.with(()).get(), 2.0);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct GaugeHandle<'a>(&'a GaugeCell);

impl GaugeHandle<'_> {
    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        self.0.set(v);
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.0.add(1.0);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.0.add(-1.0);
    }

    /// Adds `delta`, which may be negative.
    #[inline]
    pub fn add(&self, delta: f64) {
        self.0.add(delta);
    }

    /// The current value.
    #[must_use]
    pub fn get(&self) -> f64 {
        self.0.get()
    }
}

impl<L: LabelSet> Gauge<L> {
    /// Creates a gauge that is not registered anywhere.
    ///
    /// # Errors
    /// When the name or a label name breaks a rule of [`schema`].
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
    ) -> Result<Self, MetricError> {
        let name = name.into();
        check::<L>(&name, false)?;
        Ok(Self {
            desc: Desc {
                name,
                help: help.into(),
            },
            cells: (0..L::CARDINALITY).map(|_| GaugeCell::new()).collect(),
            labels: PhantomData,
        })
    }

    /// Registers the gauge in the global registry for the life of the program.
    ///
    /// ```
    /// use obs_runtime::metrics::Gauge;
    /// let g = Gauge::<()>::new("doc_registered_gauge", "Registered.").unwrap().register().unwrap();
    /// g.set(2.5);
    /// assert!(obs_runtime::encode_text().contains("doc_registered_gauge 2.5"));
    /// ```
    ///
    /// # Errors
    /// When a metric of the same name is registered already.
    pub fn register(self) -> Result<&'static Self, RegistryError>
    where
        L: 'static,
    {
        registry::global().register_owned(self)
    }

    /// The series of one label combination.
    #[inline]
    pub fn with(&self, labels: L) -> GaugeHandle<'_> {
        GaugeHandle(&self.cells[labels.ordinal()])
    }
}

impl Gauge<()> {
    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        self.cells[0].set(v);
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.cells[0].add(1.0);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.cells[0].add(-1.0);
    }

    /// Adds `delta`, which may be negative.
    #[inline]
    pub fn add(&self, delta: f64) {
        self.cells[0].add(delta);
    }

    /// The current value.
    #[must_use]
    pub fn get(&self) -> f64 {
        self.cells[0].get()
    }
}

impl<L: LabelSet> fmt::Debug for Gauge<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gauge")
            .field("name", &self.desc.name)
            .finish_non_exhaustive()
    }
}

impl<L: LabelSet> Collect for Gauge<L> {
    fn names(&self) -> Vec<String> {
        vec![self.desc.name.to_string()]
    }

    fn collect(&self, sink: &mut dyn Sink) {
        sink.family(&self.desc.name, &self.desc.help, Kind::Gauge);
        for (ordinal, cell) in self.cells.iter().enumerate() {
            sink.gauge(&self.desc.name, &labels_of::<L>(ordinal), cell.get());
        }
    }
}

/// A distribution of observed values in fixed buckets, such as latencies.
///
/// ```
/// use obs_runtime::{metrics::Histogram, schema};
/// let h = Histogram::<()>::new("doc_wait_seconds", "Wait time.", schema::LATENCY).unwrap();
/// h.observe(0.2);
/// h.observe_duration(std::time::Duration::from_millis(30));
/// assert_eq!(h.count(), 2);
/// ```
pub struct Histogram<L: LabelSet = ()> {
    desc: Desc,
    bounds: Bounds,
    cells: Box<[HistogramCell]>,
    labels: PhantomData<fn(L)>,
}

/// A handle on one series of a [`Histogram`].
///
/// ```
/// use obs_runtime::{metrics::Histogram, schema};
/// let h = Histogram::<()>::new("doc_hist_handle_seconds", "Handles.", schema::DB).unwrap();
/// h.with(()).observe(0.003);
/// assert_eq!(h.with(()).count(), 1);
/// ```
#[derive(Clone, Copy)]
pub struct HistogramHandle<'a> {
    bounds: &'a Bounds,
    cell: &'a HistogramCell,
}

impl fmt::Debug for HistogramHandle<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HistogramHandle").finish_non_exhaustive()
    }
}

impl HistogramHandle<'_> {
    /// Records one value. NaN is ignored.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.cell.observe(self.bounds, v);
    }

    /// Records a duration in seconds, summed as integer nanoseconds.
    #[inline]
    pub fn observe_duration(&self, d: Duration) {
        self.cell
            .observe_ns(self.bounds, u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    /// How many values were recorded.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.cell.count()
    }
}

impl<L: LabelSet> Histogram<L> {
    /// Creates a histogram with the given upper bounds (`+Inf` is added).
    ///
    /// # Errors
    /// When the name, a label name or the bucket list breaks a rule of
    /// [`schema`].
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        buckets: &[f64],
    ) -> Result<Self, MetricError> {
        let name = name.into();
        check::<L>(&name, false)?;
        if let Some(reason) = schema::check_buckets(buckets) {
            return Err(MetricError::InvalidBuckets(reason));
        }
        let bounds = Bounds::new(buckets);
        let cells = (0..L::CARDINALITY)
            .map(|_| HistogramCell::new(&bounds))
            .collect();
        Ok(Self {
            desc: Desc {
                name,
                help: help.into(),
            },
            bounds,
            cells,
            labels: PhantomData,
        })
    }

    /// Registers the histogram in the global registry for the life of the
    /// program.
    ///
    /// ```
    /// use obs_runtime::{metrics::Histogram, schema};
    /// let h = Histogram::<()>::new("doc_registered_seconds", "Registered.", schema::AI)
    ///     .unwrap()
    ///     .register()
    ///     .unwrap();
    /// h.observe(3.0);
    /// assert!(obs_runtime::encode_text().contains("doc_registered_seconds_count 1"));
    /// ```
    ///
    /// # Errors
    /// When a metric of the same name is registered already.
    pub fn register(self) -> Result<&'static Self, RegistryError>
    where
        L: 'static,
    {
        registry::global().register_owned(self)
    }

    /// The series of one label combination.
    #[inline]
    pub fn with(&self, labels: L) -> HistogramHandle<'_> {
        HistogramHandle {
            bounds: &self.bounds,
            cell: &self.cells[labels.ordinal()],
        }
    }
}

impl Histogram<()> {
    /// Records one value. NaN is ignored.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.with(()).observe(v);
    }

    /// Records a duration in seconds, summed as integer nanoseconds.
    #[inline]
    pub fn observe_duration(&self, d: Duration) {
        self.with(()).observe_duration(d);
    }

    /// How many values were recorded.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.cells[0].count()
    }
}

impl<L: LabelSet> fmt::Debug for Histogram<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Histogram")
            .field("name", &self.desc.name)
            .finish_non_exhaustive()
    }
}

impl<L: LabelSet> Collect for Histogram<L> {
    fn names(&self) -> Vec<String> {
        vec![self.desc.name.to_string()]
    }

    fn collect(&self, sink: &mut dyn Sink) {
        sink.family(&self.desc.name, &self.desc.help, Kind::Histogram);
        for (ordinal, cell) in self.cells.iter().enumerate() {
            sink.histogram(
                &self.desc.name,
                &labels_of::<L>(ordinal),
                &self.bounds.upper,
                &cell.snapshot(),
            );
        }
    }
}
