//! The one global registry every metric of the program lands in.
//!
//! Three kinds of member share one scrape:
//! - the call sites of `#[instrumented]`, known at link time through a
//!   distributed slice, so their series exist before the first call;
//! - metrics registered at run time ([`Counter::register`](crate::metrics::Counter::register) and friends);
//! - a user's own `prometheus` crate collectors ([`Registry::register_collector`]).
//!
//! The registry itself implements [`prometheus::core::Collector`], so it can
//! also be handed to an existing `prometheus::Registry`.
//!
//! ```
//! let counter = prometheus::IntCounter::new("doc_legacy_total", "Old counter.").unwrap();
//! obs_runtime::registry::global()
//!     .register_collector(Box::new(counter.clone()))
//!     .unwrap();
//! counter.inc();
//! assert!(obs_runtime::encode_text().contains("doc_legacy_total 1"));
//! ```

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use prometheus::core::{Collector, Desc};
use prometheus::proto;

use crate::leaves::labels::LabelSet;
use crate::leaves::schema::MetricKind;
use crate::metric_core::callsite;
use crate::metric_core::encode::{Collect, Description, HistogramSnapshot, Kind, Sink, TextSink};
use crate::metric_core::metrics::{Counter, Gauge, Histogram, UpDownGauge};

/// One function per `#[derive(MetricSet)]` type, which creates and
/// registers its global instance.
#[linkme::distributed_slice]
pub static METRIC_SETS: [fn()];

/// The family that counts, per metric, the label combinations refused by
/// the series limit.
pub const OVERFLOW_FAMILY: &str = "obs_cardinality_overflow_total";

const OVERFLOW_HELP: &str =
    "Label combinations refused by a metric's series limit and counted in its __overflow__ series.";

/// Why a registration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryError {
    /// A metric family of this name is registered already.
    Duplicate(String),
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Duplicate(name) => write!(
                f,
                "a metric named `{name}` is registered already: every metric name must be unique in the program"
            ),
        }
    }
}

impl std::error::Error for RegistryError {}

/// The program's metric registry; reach it through [`global`].
pub struct Registry {
    /// Length of the last text exposition, to size the next one.
    last_len: AtomicUsize,
    owned: Mutex<Vec<&'static dyn Collect>>,
    foreign: Mutex<Vec<Box<dyn Collector>>>,
    /// The metric set being registered now, if any, and the thread that
    /// registers it (a metric another thread registers meanwhile is no
    /// member).
    registering_set: Mutex<Option<(std::thread::ThreadId, &'static str)>>,
    /// Family name → the metric set it was registered by.
    set_of: Mutex<Vec<(String, &'static str)>>,
}

/// Where a described family comes from, as far as the registry knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A member of the metric set of this name.
    MetricSet(&'static str),
    /// Registered at run time (by the program or by obs itself).
    Registered,
    /// `process_*` and `obs_build_info`.
    Process,
    /// A `prometheus` crate collector.
    Foreign,
    /// Written by the registry itself (`obs_cardinality_overflow_total`).
    Registry,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

/// The global registry.
///
/// ```
/// let text = obs_runtime::registry::global().encode_text();
/// assert!(text.is_empty() || text.starts_with("# HELP"));
/// ```
pub fn global() -> &'static Registry {
    static GLOBAL: OnceLock<Registry> = OnceLock::new();
    GLOBAL.get_or_init(|| Registry {
        last_len: AtomicUsize::new(0),
        owned: Mutex::new(Vec::new()),
        foreign: Mutex::new(Vec::new()),
        registering_set: Mutex::new(None),
        set_of: Mutex::new(Vec::new()),
    })
}

/// A panic while holding one of these locks can't leave the lists half
/// written (every update is one `push`), so a poisoned lock is still sound.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Registry {
    /// Every family name in use, from all three kinds of member.
    fn names_in_use(
        owned: &[&'static dyn Collect],
        foreign: &[Box<dyn Collector>],
    ) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = std::iter::once(OVERFLOW_FAMILY)
            .chain(crate::metric_core::process::NAMES.iter().copied())
            .map(str::to_owned)
            .chain(
                callsite::all()
                    .iter()
                    .flat_map(callsite::CallSite::family_names),
            )
            .collect();
        names.extend(owned.iter().flat_map(|m| m.names()));
        names.extend(
            foreign
                .iter()
                .flat_map(|c| c.desc().into_iter().map(|d| d.fq_name.clone())),
        );
        names
    }

    /// Registers a metric that already lives in a `static` (a metric set's
    /// field).
    pub(crate) fn register_static(
        &self,
        metric: &'static dyn Collect,
    ) -> Result<(), RegistryError> {
        let mut owned = lock(&self.owned);
        let in_use = Self::names_in_use(&owned, &lock(&self.foreign));
        if let Some(dup) = metric.names().into_iter().find(|n| in_use.contains(n)) {
            return Err(RegistryError::Duplicate(dup));
        }
        owned.push(metric);
        if let Some((thread, set)) = *lock(&self.registering_set)
            && thread == std::thread::current().id()
        {
            lock(&self.set_of).extend(metric.names().into_iter().map(|n| (n, set)));
        }
        Ok(())
    }

    /// Runs `register` (a metric set's registration, one at a time)
    /// noting that what it registers belongs to the set `set`.
    pub(crate) fn in_set(&self, set: &'static str, register: impl FnOnce()) {
        *lock(&self.registering_set) = Some((std::thread::current().id(), set));
        register();
        *lock(&self.registering_set) = None;
    }

    /// Every family the registry holds, described, with where it comes
    /// from; metric sets are registered first, as before a scrape. The
    /// families of `#[instrumented]` call sites are the catalog's to
    /// describe: they are not in this list.
    pub(crate) fn describe(&self) -> Vec<(Description, Origin)> {
        for force in METRIC_SETS {
            force();
        }
        let owned: Vec<&'static dyn Collect> = lock(&self.owned).clone();
        let set_of = lock(&self.set_of).clone();
        let mut out: Vec<(Description, Origin)> = owned
            .iter()
            .flat_map(|m| m.describe())
            .map(|d| {
                let origin = set_of
                    .iter()
                    .find(|(n, _)| *n == d.name)
                    .map_or(Origin::Registered, |(_, set)| Origin::MetricSet(set));
                (d, origin)
            })
            .collect();
        let mut sink = DescribeSink::default();
        crate::metric_core::process::collect(&mut sink);
        out.extend(sink.done().into_iter().map(|d| (d, Origin::Process)));
        let mut sink = DescribeSink::default();
        for collector in lock(&self.foreign).iter() {
            for family in collector.collect() {
                write_foreign(&mut sink, &family);
            }
        }
        out.extend(sink.done().into_iter().map(|d| (d, Origin::Foreign)));
        out.push((
            Description {
                name: OVERFLOW_FAMILY.to_owned(),
                kind: Kind::Counter,
                help: OVERFLOW_HELP.to_owned(),
                labels: vec!["metric".to_owned()],
                values: None,
                buckets: Vec::new(),
            },
            Origin::Registry,
        ));
        out
    }

    pub(crate) fn register_owned<T: Collect + 'static>(
        &self,
        metric: T,
    ) -> Result<&'static T, RegistryError> {
        let leaked: &'static T = Box::leak(Box::new(metric));
        self.register_static(leaked)?;
        Ok(leaked)
    }

    /// Adds a `prometheus` crate collector (an `IntCounter`, a `HistogramVec`,
    /// a whole custom collector) to the scrape.
    ///
    /// ```
    /// let g = prometheus::Gauge::new("doc_foreign_gauge", "A gauge.").unwrap();
    /// g.set(7.0);
    /// obs_runtime::registry::global().register_collector(Box::new(g)).unwrap();
    /// assert!(obs_runtime::encode_text().contains("doc_foreign_gauge 7"));
    /// ```
    ///
    /// # Errors
    /// When one of its metric names is taken already.
    pub fn register_collector(&self, collector: Box<dyn Collector>) -> Result<(), RegistryError> {
        let owned = lock(&self.owned);
        let mut foreign = lock(&self.foreign);
        let in_use = Self::names_in_use(&owned, &foreign);
        for desc in collector.desc() {
            if in_use.contains(&desc.fq_name) {
                return Err(RegistryError::Duplicate(desc.fq_name.clone()));
            }
        }
        foreign.push(collector);
        Ok(())
    }

    /// Call sites and metrics registered at run time: what obs itself holds.
    fn collect_own(&self, sink: &mut dyn Sink) {
        // Metric sets declared anywhere register on first use; make sure
        // they all have, so their series are in the first scrape.
        for force in METRIC_SETS {
            force();
        }
        callsite::collect_all(sink);
        // Copied out so a metric's collect never runs under the lock.
        let owned: Vec<&'static dyn Collect> = lock(&self.owned).clone();
        for metric in &owned {
            metric.collect(sink);
        }
        // One series per metric that has a dynamic family, at zero from the
        // start, so an alert on it works before the first overflow.
        let mut overflow: Vec<(String, u64)> = callsite::overflows();
        overflow.extend(
            owned
                .iter()
                .filter_map(|m| Some((m.names().into_iter().next()?, m.overflowed()?))),
        );
        if !overflow.is_empty() {
            overflow.sort();
            sink.family(OVERFLOW_FAMILY, OVERFLOW_HELP, Kind::Counter);
            for (metric, n) in &overflow {
                sink.counter(OVERFLOW_FAMILY, &[("metric", metric)], *n);
            }
        }
    }

    fn collect_into(&self, sink: &mut dyn Sink) {
        self.collect_own(sink);
        crate::metric_core::process::collect(sink);
        let foreign = lock(&self.foreign);
        for collector in foreign.iter() {
            for family in collector.collect() {
                write_foreign(sink, &family);
            }
        }
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    #[must_use]
    pub fn encode_text(&self) -> String {
        // Sized from the last scrape, so a 1 MB exposition is written into
        // one allocation instead of twenty doublings.
        let hint = self.last_len.load(Relaxed);
        let mut sink = TextSink::with_capacity(hint + hint / 16);
        self.collect_into(&mut sink);
        self.last_len.store(sink.out.len(), Relaxed);
        sink.out
    }
}

fn pairs(metric: &proto::Metric) -> Vec<(&str, &str)> {
    metric
        .get_label()
        .iter()
        .map(|l| (l.name(), l.value()))
        .collect()
}

/// Feeds a `prometheus` crate family through our sink.
fn write_foreign(sink: &mut dyn Sink, family: &proto::MetricFamily) {
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
struct DescribeSink {
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

    fn done(self) -> Vec<Description> {
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
struct ProtoSink {
    families: Vec<proto::MetricFamily>,
}

impl ProtoSink {
    fn push(&mut self, labels: &[(&str, &str)], fill: impl FnOnce(&mut proto::Metric)) {
        let mut m = proto::Metric::from_label(
            labels
                .iter()
                .map(|(k, v)| {
                    let mut p = proto::LabelPair::default();
                    p.set_name((*k).to_owned());
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
        f.set_name(name.to_owned());
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

/// Registration lives here, not in `metrics`: the metric types describe
/// themselves to a sink and never reach up to the registry.
macro_rules! registrable {
    ($($ty:ident),*) => {$(
        impl<L: LabelSet + 'static> $ty<L> {
            /// Registers the metric in the global registry for the life of
            /// the program, so `encode_text()` exposes it.
            ///
            /// # Errors
            /// When a metric of the same name is registered already.
            pub fn register(self) -> Result<&'static Self, RegistryError> {
                global().register_owned(self)
            }
        }
    )*};
}
registrable!(Counter, Gauge, Histogram);

impl<L: LabelSet + 'static> UpDownGauge<L> {
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn register(self) -> Result<&'static Self, RegistryError> {
        global().register_owned(self)
    }
}

/// The three metric types, as `#[derive(MetricSet)]` sees its fields: the
/// kind decides the naming rule a field's name is checked against, read
/// from the type itself, so `type Hits = Counter<CacheLabels>;` is a
/// counter too. It lives with the registry because a member registers
/// itself, and the metric types never reach up to the registry.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a metric: a `MetricSet` field is a `Counter`, `Gauge` or `Histogram` from `obs_runtime::metrics`, optionally with a label set: `Counter<CacheLabels>`",
    label = "not a `Counter`, `Gauge` or `Histogram`"
)]
pub trait Metric: Sized {
    /// Counter, gauge or histogram.
    const KIND: MetricKind;

    /// A metric set's member, whose name the compiler checked already;
    /// `buckets` is read by histograms only.
    #[doc(hidden)]
    fn new_member(name: &'static str, help: &'static str, buckets: &[f64]) -> Self;

    /// Registers a metric set's member, logging a refusal (a name taken
    /// already) rather than failing.
    #[doc(hidden)]
    fn register_member(&'static self);
}

fn register_member<M: Collect + 'static>(metric: &'static M) {
    if let Err(e) = global().register_static(metric) {
        tracing::warn!("metric set not fully exposed: {e}");
    }
}

impl<L: LabelSet + 'static> Metric for Counter<L> {
    fn register_member(&'static self) {
        register_member(self);
    }

    const KIND: MetricKind = MetricKind::Counter;
    fn new_member(name: &'static str, help: &'static str, _: &[f64]) -> Self {
        Self::unchecked(Cow::Borrowed(name), Cow::Borrowed(help))
    }
}

impl<L: LabelSet + 'static> Metric for Gauge<L> {
    fn register_member(&'static self) {
        register_member(self);
    }

    const KIND: MetricKind = MetricKind::Gauge;
    fn new_member(name: &'static str, help: &'static str, _: &[f64]) -> Self {
        Self::unchecked(Cow::Borrowed(name), Cow::Borrowed(help))
    }
}

impl<L: LabelSet + 'static> Metric for Histogram<L> {
    fn register_member(&'static self) {
        register_member(self);
    }

    const KIND: MetricKind = MetricKind::Histogram;
    fn new_member(name: &'static str, help: &'static str, buckets: &[f64]) -> Self {
        Self::unchecked(Cow::Borrowed(name), Cow::Borrowed(help), buckets)
    }
}

/// A counter of obs itself (`obs_*_total`), registered once in `cell` and
/// at zero from its first use. Registration fails only if the name is
/// taken, a bug of ours; the counter still counts then, unexposed.
pub(crate) fn own_counter(
    cell: &'static OnceLock<&'static Counter>,
    name: &'static str,
    help: &'static str,
) -> &'static Counter {
    cell.get_or_init(|| {
        let make = || Counter::<()>::unchecked(name.into(), help.into());
        make()
            .register()
            .unwrap_or_else(|_| Box::leak(Box::new(make())))
    })
}
