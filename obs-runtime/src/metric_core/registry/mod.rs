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

use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use prometheus::core::Collector;

use crate::leaves::schema::SourceLocation;
use crate::metric_core::callsite;
use crate::metric_core::encode::{Collect, Description, Kind, Sink, TextSink};
use crate::metric_core::openmetrics::OpenMetricsSink;

mod exposition;
mod member;
mod sinks;

pub use exposition::{Exposition, ExpositionError, configure, exposed_name};
pub(crate) use exposition::{configure_from_env, exposition};

pub use member::Metric;
pub(crate) use member::{own_counter, register_or_unexposed};
pub use sinks::Bridge;
use sinks::{DescribeSink, write_foreign};

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
    /// The name would share its `OpenMetrics` family with a registered one:
    /// a counter `foo_total` is the family `foo`, so a gauge `foo` beside it
    /// would make a scrape with two families of one name.
    FamilyClash {
        /// The name refused.
        name: String,
        /// The registered name it clashes with.
        registered: String,
    },
    /// The family can't be exposed under the configured
    /// [`Exposition`]: a label of a constant label's name, or an exposed
    /// name another family has.
    Exposition(ExpositionError),
}

/// The `OpenMetrics` family a sample name belongs to: a counter's `_total`
/// is a suffix of its samples, not part of the family's name.
fn openmetrics_family(name: &str) -> &str {
    name.strip_suffix("_total").unwrap_or(name)
}

/// Why `name` can't join the names `in_use`, if it can't.
fn refusal(in_use: &BTreeSet<String>, name: &str) -> Option<RegistryError> {
    if in_use.contains(name) {
        return Some(RegistryError::Duplicate(name.to_owned()));
    }
    if let Some(e) = exposition()
        && !e.prefix.is_empty()
    {
        let exposed = exposed_name(name);
        if let Some(other) = in_use.iter().find(|n| exposed_name(n) == exposed) {
            return Some(RegistryError::Exposition(ExpositionError::Collision {
                exposed: exposed.into_owned(),
                names: (name.to_owned(), other.clone()),
            }));
        }
    }
    let family = openmetrics_family(name);
    in_use
        .iter()
        .find(|n| openmetrics_family(n) == family)
        .map(|registered| RegistryError::FamilyClash {
            name: name.to_owned(),
            registered: registered.clone(),
        })
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Duplicate(name) => write!(
                f,
                "a metric named `{name}` is registered already: every metric name must be unique in the program"
            ),
            Self::FamilyClash { name, registered } => write!(
                f,
                "`{name}` and the registered `{registered}` would be one OpenMetrics family `{}` (a counter's `_total` is not part of its family's name): rename one",
                openmetrics_family(name)
            ),
            Self::Exposition(e) => e.fmt(f),
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
    /// Family name → where the program declared it: the metric set's
    /// derive, or the call to `register()`.
    located: Mutex<Vec<(String, SourceLocation)>>,
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
        located: Mutex::new(Vec::new()),
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

    /// Every family name the registry holds (metric sets registered first):
    /// the names the exported files may query.
    pub(crate) fn family_names(&self) -> BTreeSet<String> {
        for force in METRIC_SETS {
            force();
        }
        Self::names_in_use(&lock(&self.owned), &lock(&self.foreign))
    }

    /// Registers a metric that already lives in a `static` (a metric set's
    /// field).
    pub(crate) fn register_static(
        &self,
        metric: &'static dyn Collect,
    ) -> Result<(), RegistryError> {
        let mut owned = lock(&self.owned);
        let in_use = Self::names_in_use(&owned, &lock(&self.foreign));
        if let Some(refused) = metric.names().iter().find_map(|n| refusal(&in_use, n)) {
            return Err(refused);
        }
        if let Some(e) = exposition() {
            for d in metric.describe() {
                exposition::check_family(e, &d.name, d.labels.iter().map(String::as_str))
                    .map_err(RegistryError::Exposition)?;
            }
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
    pub(crate) fn in_set(&self, set: &'static str, at: SourceLocation, register: impl FnOnce()) {
        let before = lock(&self.set_of).len();
        *lock(&self.registering_set) = Some((std::thread::current().id(), set));
        register();
        *lock(&self.registering_set) = None;
        let names: Vec<String> = lock(&self.set_of)
            .iter()
            .skip(before)
            .map(|(n, _)| n.clone())
            .collect();
        lock(&self.located).extend(names.into_iter().map(|n| (n, at)));
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
        at: Option<SourceLocation>,
    ) -> Result<&'static T, RegistryError> {
        let leaked: &'static T = Box::leak(Box::new(metric));
        self.register_static(leaked)?;
        if let Some(at) = at {
            lock(&self.located).extend(leaked.names().into_iter().map(|n| (n, at)));
        }
        Ok(leaked)
    }

    /// Where the program declared the family `name`, when it was
    /// registered with a location (a metric set, or `register()`).
    pub(crate) fn location_of(&self, name: &str) -> Option<SourceLocation> {
        lock(&self.located)
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, at)| *at)
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
            if let Some(refused) = refusal(&in_use, &desc.fq_name) {
                return Err(refused);
            }
            if let Some(e) = exposition() {
                let labels = desc.variable_labels.iter().map(String::as_str).chain(
                    desc.const_label_pairs
                        .iter()
                        .map(prometheus::proto::LabelPair::name),
                );
                exposition::check_family(e, &desc.fq_name, labels)
                    .map_err(RegistryError::Exposition)?;
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
            // The `metric` label names the family as the scrape shows it.
            if exposition().is_some_and(|e| !e.prefix.is_empty()) {
                for (name, _) in &mut overflow {
                    *name = exposed_name(name).into_owned();
                }
            }
            overflow.sort();
            sink.family(OVERFLOW_FAMILY, OVERFLOW_HELP, Kind::Counter);
            for (metric, n) in &overflow {
                sink.counter(OVERFLOW_FAMILY, &[("metric", metric)], *n);
            }
        }
    }

    /// Walks every metric into `sink`, as a scrape does: what the OTLP
    /// metrics push converts.
    #[cfg(feature = "otlp")]
    pub(crate) fn collect(&self, sink: &mut dyn Sink) {
        self.collect_into(sink);
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
        let mut sink = TextSink::with_capacity(hint + hint / 16).exposing(exposition());
        self.collect_into(&mut sink);
        self.last_len.store(sink.out.len(), Relaxed);
        sink.out
    }

    /// The same metrics as [`encode_text`](Self::encode_text), as
    /// `OpenMetrics` 1.0.0 text (serve it with
    /// [`OPENMETRICS_CONTENT_TYPE`](crate::encode::OPENMETRICS_CONTENT_TYPE)):
    /// counter families named without `_total`, `# UNIT` where the name
    /// ends in a unit, canonical `le` values, and the closing `# EOF`. No
    /// `_created` samples: obs keeps no creation time per series.
    ///
    /// ```
    /// let c = obs_runtime::metrics::Counter::<()>::new("doc_om_hits_total", "Hits.")
    ///     .unwrap()
    ///     .register()
    ///     .unwrap();
    /// c.inc();
    /// let text = obs_runtime::registry::global().encode_openmetrics();
    /// assert!(text.contains("# TYPE doc_om_hits counter\n"));
    /// assert!(text.contains("\ndoc_om_hits_total 1\n"));
    /// assert!(text.ends_with("# EOF\n"));
    /// ```
    #[must_use]
    pub fn encode_openmetrics(&self) -> String {
        // The text scrape's size plus room for `# UNIT` lines and `.0`s.
        let hint = self.last_len.load(Relaxed);
        let mut sink = OpenMetricsSink::with_capacity(hint + hint / 8).exposing(exposition());
        self.collect_into(&mut sink);
        sink.finish()
    }
}
