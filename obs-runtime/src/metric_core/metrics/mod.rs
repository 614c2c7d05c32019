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
mod collect;
pub(crate) mod exemplar;
mod family;
// Loom models of the cells and the bounded family (`scripts/loom`).
#[cfg(all(test, obs_loom))]
mod loom_cell;
#[cfg(all(test, obs_loom))]
mod loom_family;

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use crate::leaves::labels::LabelSet;
use crate::leaves::schema;

use cell::{Bounds, CounterCell, GaugeCell, HistogramCell, UpDownCell};
use family::Family;
pub(crate) use family::default_max_series;
pub use family::set_default_max_series;
pub(crate) use family::{Dynamic, NewCell};

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
    /// The label set has more than [`schema::MAX_LABELS`] labels.
    TooManyLabels,
    /// The bucket list is not valid.
    InvalidBuckets(&'static str),
}

impl fmt::Display for MetricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName { name, reason } => {
                write!(f, "invalid metric name `{name}`: {reason}")
            }
            Self::InvalidLabel { label, reason } => write!(f, "invalid label `{label}`: {reason}"),
            Self::TooManyLabels => {
                write!(f, "a metric may have at most {} labels", schema::MAX_LABELS)
            }
            Self::InvalidBuckets(reason) => write!(f, "invalid buckets: {reason}"),
        }
    }
}

impl std::error::Error for MetricError {}

fn check<L: LabelSet>(name: &str, rule: Option<&'static str>) -> Result<(), MetricError> {
    if let Some(reason) = rule {
        return Err(MetricError::InvalidName {
            name: name.to_owned(),
            reason,
        });
    }
    if L::NAMES.len() > schema::MAX_LABELS {
        return Err(MetricError::TooManyLabels);
    }
    for &label in L::NAMES {
        if let Some(reason) = schema::check_label_name(label) {
            return Err(MetricError::InvalidLabel { label, reason });
        }
    }
    Ok(())
}

/// What the three metric types share: a family of cells keyed by `L`.
macro_rules! metric_common {
    ($ty:ident, $handle:ident, $cell:ty) => {
        impl<L: LabelSet> $ty<L> {
            /// Sets this metric's series limit, for label sets whose values
            /// are only known at run time (default 10,000, see
            /// [`set_default_max_series`]). Fixed label sets ignore it.
            #[must_use]
            pub fn with_max_series(mut self, limit: usize) -> Self {
                self.family.set_max_series(limit);
                self
            }

            /// The series of one label combination: an array index for
            /// label sets of fixed cardinality, a capped lookup otherwise.
            #[inline]
            pub fn with(&self, labels: L) -> $handle<'_> {
                $handle::new(&self.family, self.family.get(&labels))
            }

            /// The series of label values known only as strings at run time
            /// (route templates, tenant tiers), in the order of
            /// [`LabelSet::NAMES`]. Only meaningful for label sets of open
            /// cardinality.
            ///
            /// Never panics. What obs can't keep as a series of its own goes
            /// to the one series whose labels all read `__overflow__`
            /// ([`schema::OVERFLOW_VALUE`]), is counted in
            /// [`overflowed`](Self::overflowed) and
            /// `obs_cardinality_overflow_total`, and is logged at most once
            /// a minute per metric and cause: a new combination past the
            /// series limit; a number of values other than the number of
            /// labels (cut or padded, they would merge with another series
            /// or write one without some labels); and a value equal to
            /// `__overflow__`, so that series is never ambiguous.
            #[inline]
            pub fn with_values(&self, values: &[&str]) -> $handle<'_> {
                $handle::new(&self.family, self.family.get_by_values(values))
            }

            /// The metric's name.
            #[must_use]
            pub fn name(&self) -> &str {
                &self.family.name
            }

            /// How many series the metric holds now (the overflow series not
            /// counted).
            #[must_use]
            pub fn series(&self) -> usize {
                self.family.series()
            }

            /// Label combinations that went to the overflow series; `None`
            /// for label sets of fixed cardinality.
            #[must_use]
            pub fn overflowed(&self) -> Option<u64> {
                self.family.overflowed()
            }
        }

        impl<L: LabelSet> fmt::Debug for $ty<L> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("name", &self.family.name)
                    .finish_non_exhaustive()
            }
        }
    };
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
    family: Family<CounterCell>,
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

impl<'a> CounterHandle<'a> {
    fn new(_: &'a Family<CounterCell>, cell: &'a CounterCell) -> Self {
        Self(cell)
    }

    /// Adds one. Inside a sampled span, the increment is kept as the
    /// series' exemplar (written in `OpenMetrics`).
    #[inline]
    pub fn inc(&self) {
        self.0.add_traced(1);
    }

    /// Adds `n` (kept as the exemplar inside a sampled span).
    #[inline]
    pub fn inc_by(&self, n: u64) {
        self.0.add_traced(n);
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
    /// ```
    /// use obs_runtime::metrics::Counter;
    /// let c = Counter::<()>::new("doc_registered_total", "Registered.").unwrap().register().unwrap();
    /// c.inc();
    /// assert!(obs_runtime::encode_text().contains("doc_registered_total 1"));
    /// ```
    ///
    /// # Errors
    /// When the name or a label name breaks a rule of [`schema`].
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
    ) -> Result<Self, MetricError> {
        let name = name.into();
        check::<L>(&name, schema::check_counter_name(&name))?;
        Ok(Self::unchecked(name, help.into()))
    }

    /// For derived metric sets, whose names the compiler checked already.
    pub(crate) fn unchecked(name: Cow<'static, str>, help: Cow<'static, str>) -> Self {
        Self {
            family: Family::new::<L>(name, help, ()),
            labels: PhantomData,
        }
    }
}

impl Counter<()> {
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.with(()).inc();
    }

    /// Adds `n`.
    #[inline]
    pub fn inc_by(&self, n: u64) {
        self.with(()).inc_by(n);
    }

    /// The current value.
    #[must_use]
    pub fn get(&self) -> u64 {
        self.with(()).get()
    }
}

metric_common!(Counter, CounterHandle, CounterCell);

/// A value that goes up and down, such as queue depth or pool size.
///
/// ```
/// let g = obs_runtime::metrics::Gauge::<()>::new("doc_queue_depth", "Jobs waiting.").unwrap();
/// g.set(4.0);
/// g.dec();
/// assert_eq!(g.get(), 3.0);
/// ```
pub struct Gauge<L: LabelSet = ()> {
    family: Family<GaugeCell>,
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

impl<'a> GaugeHandle<'a> {
    fn new(_: &'a Family<GaugeCell>, cell: &'a GaugeCell) -> Self {
        Self(cell)
    }

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
    /// ```
    /// use obs_runtime::metrics::Gauge;
    /// let g = Gauge::<()>::new("doc_registered_gauge", "Registered.").unwrap().register().unwrap();
    /// g.set(2.5);
    /// assert!(obs_runtime::encode_text().contains("doc_registered_gauge 2.5"));
    /// ```
    ///
    /// # Errors
    /// When the name or a label name breaks a rule of [`schema`].
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
    ) -> Result<Self, MetricError> {
        let name = name.into();
        check::<L>(&name, schema::check_gauge_name(&name))?;
        Ok(Self::unchecked(name, help.into()))
    }

    pub(crate) fn unchecked(name: Cow<'static, str>, help: Cow<'static, str>) -> Self {
        Self {
            family: Family::new::<L>(name, help, ()),
            labels: PhantomData,
        }
    }
}

impl Gauge<()> {
    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        self.with(()).set(v);
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.with(()).inc();
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.with(()).dec();
    }

    /// Adds `delta`, which may be negative.
    #[inline]
    pub fn add(&self, delta: f64) {
        self.with(()).add(delta);
    }

    /// The current value.
    #[must_use]
    pub fn get(&self) -> f64 {
        self.with(()).get()
    }
}

metric_common!(Gauge, GaugeHandle, GaugeCell);

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
    family: Family<HistogramCell>,
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

impl<'a> HistogramHandle<'a> {
    fn new(family: &'a Family<HistogramCell>, cell: &'a HistogramCell) -> Self {
        Self {
            bounds: &family.layout,
            cell,
        }
    }

    /// Records one value. NaN is ignored. Inside a sampled span, the value
    /// is kept as its bucket's exemplar (written in `OpenMetrics`).
    #[inline]
    pub fn observe(&self, v: f64) {
        self.cell.observe_traced(self.bounds, v);
    }

    /// Records a duration in seconds, summed as integer nanoseconds (kept
    /// as its bucket's exemplar inside a sampled span).
    #[inline]
    pub fn observe_duration(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        match exemplar::sampled() {
            None => self.cell.observe_ns(self.bounds, ns),
            Some(ids) => self.cell.observe_ns_exemplar(self.bounds, ns, ids),
        }
    }

    /// Records a duration given in nanoseconds, for callers that time with
    /// raw clock readings; `exemplar`: the sampled span it was made in.
    #[inline]
    // Only the HTTP layer (feature `tower`) observes raw nanoseconds.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn observe_ns(&self, ns: u64, exemplar: Option<exemplar::TraceIds>) {
        match exemplar {
            None => self.cell.observe_ns(self.bounds, ns),
            Some(ids) => self.cell.observe_ns_exemplar(self.bounds, ns, ids),
        }
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
    /// When the name, a label name or the bucket list breaks a rule of
    /// [`schema`].
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        buckets: &[f64],
    ) -> Result<Self, MetricError> {
        let name = name.into();
        check::<L>(&name, schema::check_metric_name(&name))?;
        if let Some(reason) = schema::check_buckets(buckets) {
            return Err(MetricError::InvalidBuckets(reason));
        }
        Ok(Self::unchecked(name, help.into(), buckets))
    }

    pub(crate) fn unchecked(
        name: Cow<'static, str>,
        help: Cow<'static, str>,
        buckets: &[f64],
    ) -> Self {
        Self {
            family: Family::new::<L>(name, help, Bounds::new(buckets)),
            labels: PhantomData,
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
        self.with(()).count()
    }
}

metric_common!(Histogram, HistogramHandle, HistogramCell);

// Only the HTTP layer (feature `tower`) keeps an up-down gauge so far: a
// count of what is in progress, exported as at least 0 (see its `collect`).
#[cfg_attr(not(feature = "tower"), allow(dead_code))]
pub(crate) struct UpDownGauge<L: LabelSet> {
    family: Family<UpDownCell>,
    labels: PhantomData<fn(L)>,
}

#[cfg_attr(not(feature = "tower"), allow(dead_code))]
impl<L: LabelSet> UpDownGauge<L> {
    pub(crate) fn unchecked(name: Cow<'static, str>, help: Cow<'static, str>) -> Self {
        Self {
            family: Family::new::<L>(name, help, ()),
            labels: PhantomData,
        }
    }

    /// The series of run-time label values, as [`Gauge::with_values`].
    #[inline]
    pub(crate) fn with_values(&self, values: &[&str]) -> &UpDownCell {
        self.family.get_by_values(values)
    }
}
