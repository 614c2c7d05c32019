//! Registration of metrics and metric-set members: `register()` on each
//! metric type, the `Metric` trait a set's fields are known by, and obs's
//! own counters.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::leaves::labels::LabelSet;
use crate::leaves::schema::{MetricKind, SourceLocation};
use crate::metric_core::encode::Collect;
use crate::metric_core::metrics::{Counter, Gauge, Histogram, UpDownGauge};

use super::{RegistryError, global};

/// Registration lives here, not in `metrics`: the metric types describe
/// themselves to a sink and never reach up to the registry.
macro_rules! registrable {
    ($($ty:ident),*) => {$(
        impl<L: LabelSet + 'static> $ty<L> {
            /// Registers the metric in the global registry for the life of
            /// the program, so `encode_text()` exposes it.
            ///
            /// The catalog records the caller's file and line as where the
            /// metric is declared.
            ///
            /// # Errors
            /// When a metric of the same name is registered already.
            #[track_caller]
            pub fn register(self) -> Result<&'static Self, RegistryError> {
                global().register_owned(self, Some(SourceLocation::caller()))
            }

            /// [`register`](Self::register) for obs's own families, which
            /// have no place in the program's source.
            #[allow(dead_code, reason = "not every type has families of obs's own")]
            pub(crate) fn register_own(self) -> Result<&'static Self, RegistryError> {
                global().register_owned(self, None)
            }
        }
    )*};
}
registrable!(Counter, Gauge, Histogram);

impl<L: LabelSet + 'static> UpDownGauge<L> {
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn register(self) -> Result<&'static Self, RegistryError> {
        global().register_owned(self, None)
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

/// Registers a family of obs itself that `make` builds. If a user took the
/// name already, obs keeps counting in an unexposed copy and says so once
/// (with `what`, e.g. "HTTP client metric"), rather than failing the
/// requests, calls or jobs it measures.
pub(crate) fn register_or_unexposed<T: Collect + 'static>(
    what: &str,
    make: impl Fn() -> T,
    register: impl FnOnce(T) -> Result<&'static T, RegistryError>,
) -> &'static T {
    register(make()).unwrap_or_else(|e| {
        tracing::warn!(target: "obs::metrics", "{what} not exposed: {e}");
        Box::leak(Box::new(make()))
    })
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
            .register_own()
            .unwrap_or_else(|_| Box::leak(Box::new(make())))
    })
}
