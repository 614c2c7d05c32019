//! The run-time side of `#[instrumented]`.
//!
//! Every annotated function holds one `static` [`CallSite`], registered in a
//! link-time distributed slice so the registry knows it before `main` runs.
//! The site's cells are allocated on first use (a call or a scrape, whichever
//! comes first); after that a call costs a `OnceLock` read, two clock reads
//! and relaxed atomic adds: one bucket and one nanosecond sum (the call count
//! of `_calls_total` is the histogram's count, so it needs no add of its own).

//!
//! The folder splits by role: this file holds the site and its
//! registration, `args` the labels taken from arguments, `guard` the timing
//! of one call (`CallGuard`, `Timed`), `outcome` the `result` label and the
//! traits that classify a return value, `scrape` the families a scrape
//! writes.

mod args;
mod guard;
mod outcome;
mod scrape;

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::Relaxed};

use crate::leaves::schema::MAX_SERIES_PER_METRIC;
use crate::metric_core::metrics::cell::{Bounds, HistogramCell};
use crate::metric_core::metrics::{Dynamic, NewCell, default_max_series};

pub use args::{ArgLabel, TypedLabel};
pub use guard::{CallGuard, Timed};
pub use outcome::{
    ClassifyOther, ClassifyResult, Outcome, Probe, ReturnType, SettleDebug, SettleDisplay,
    SettleOther, SettleResult,
};
pub(crate) use scrape::{collect_all, overflows};

/// Whether an error returned where no span listens (`span = false`, or a
/// filter such as `RUST_LOG=warn` that disables the call's span) is still
/// told to the subscriber, as an `obs::exception` event: set while error
/// tracking runs, so the error reaches it either way.
pub(crate) static REPORT_UNSPANNED_ERRORS: AtomicBool = AtomicBool::new(false);

/// Every `#[instrumented]` call site in the program.
#[linkme::distributed_slice]
pub static CALL_SITES: [CallSite];

pub(crate) fn all() -> &'static [CallSite] {
    &CALL_SITES
}

/// What the macro knows about a call site.
#[derive(Debug)]
pub struct CallSiteMeta {
    /// Metric base name: `<base>_calls_total`, `<base>_duration_seconds`.
    pub base: &'static str,
    /// The `function` label.
    pub function: &'static str,
    /// The `module` label (`module_path!()`).
    pub module: &'static str,
    /// Labels with literal values.
    pub labels: &'static [(&'static str, &'static str)],
    /// Labels taken from arguments.
    pub arg_labels: &'static [ArgLabel],
    /// Histogram upper bounds, in seconds.
    pub buckets: &'static [f64],
    /// Whether `<base>_in_flight` is kept.
    pub in_flight: bool,
    /// Whether the function returns a `Result`, so `error` series exist
    /// from the start: asked of the return type's [`ClassifyResult`] impl
    /// when the site's state is made (first call or first scrape). `None`
    /// when the return type can't be named outside the function (it is
    /// generic, `Self` or `impl Trait`): then the first settled `Result`
    /// says so.
    pub returns_result: Option<fn() -> bool>,
    /// The function's objective, from `slo(..)`, checked at compile time.
    pub objective: Option<crate::leaves::schema::Objective>,
    /// Where the function is, for the catalog.
    pub location: crate::leaves::schema::SourceLocation,
}

/// The series of one label combination: a duration histogram per outcome
/// and the in-flight gauge.
#[derive(Debug)]
pub(super) struct Series {
    pub(super) by_outcome: [HistogramCell; Outcome::ALL.len()],
    pub(super) in_flight: AtomicI64,
}

impl Series {
    fn new(bounds: &Bounds) -> Self {
        Self {
            by_outcome: std::array::from_fn(|_| HistogramCell::new(bounds)),
            in_flight: AtomicI64::new(0),
        }
    }

    /// The histogram of the calls that ended with `outcome`.
    #[inline]
    #[allow(
        clippy::indexing_slicing,
        reason = "one cell per `Outcome`, whose discriminants are 0 to 3 (`repr(u8)`): always in bounds, and the compiler knows it, so no check is emitted, where a `match` would compile to a jump table on every call"
    )]
    pub(super) fn histogram(&self, outcome: Outcome) -> &HistogramCell {
        &self.by_outcome[outcome as usize]
    }
}

impl NewCell for Series {
    type Layout = Bounds;
    fn new_cell(bounds: &Bounds) -> Self {
        Self::new(bounds)
    }
}

#[derive(Debug)]
pub(super) struct SiteState {
    /// The process's TSC clock, kept here so a call reads it without
    /// another `OnceLock` load.
    pub(super) clock: &'static quanta::Clock,
    /// The `result` field of the site's span, once a span was seen.
    pub(super) result_field: OnceLock<Option<tracing::field::Field>>,
    pub(super) bounds: Bounds,
    /// The function's name, for the errors it returns where no span listens.
    pub(super) function: &'static str,
    /// Whether the function returns a `Result`: its `error` series are
    /// written at zero.
    pub(super) returns_result: AtomicBool,
    /// One entry per combination of argument label values, when they are all
    /// of known cardinality (a single entry when there are none).
    fixed: Box<[Series]>,
    /// Combinations seen so far, when some argument label is open: capped,
    /// like every dynamic family.
    open: Dynamic<Series>,
}

/// One `#[instrumented]` function.
#[derive(Debug)]
pub struct CallSite {
    pub(super) meta: CallSiteMeta,
    /// Number of fixed combinations; 0 when an argument label is open.
    fixed_len: usize,
    state: OnceLock<SiteState>,
}

impl CallSite {
    /// A call site; evaluated at compile time into the function's `static`.
    #[must_use]
    pub const fn new(meta: CallSiteMeta) -> Self {
        let mut fixed_len = 1usize;
        let mut labels = meta.arg_labels;
        while let [label, rest @ ..] = labels {
            fixed_len = match fixed_len.checked_mul(label.cardinality) {
                // A product of enums too large to preallocate is kept like an
                // open set: bounded, and allocated as values are seen.
                Some(n) if n <= MAX_SERIES_PER_METRIC => n,
                _ => 0,
            };
            labels = rest;
        }
        Self {
            meta,
            fixed_len,
            state: OnceLock::new(),
        }
    }

    #[inline]
    pub(super) fn state(&self) -> &SiteState {
        self.state.get_or_init(|| {
            let bounds = Bounds::new(self.meta.buckets);
            let fixed = (0..self.fixed_len).map(|_| Series::new(&bounds)).collect();
            let open = Dynamic::new(&bounds, default_max_series());
            SiteState {
                clock: crate::leaves::clock::clock(),
                result_field: OnceLock::new(),
                bounds,
                function: self.meta.function,
                returns_result: AtomicBool::new(self.meta.returns_result.is_some_and(|f| f())),
                fixed,
                open,
            }
        })
    }

    /// Index of a fixed combination from the values' ordinals (row-major).
    // Inlined into `enter`, where the ordinals are a slice of known length:
    // the loop unrolls (or vanishes, with no argument label), and the
    // series lookup keeps nothing live across a call.
    #[inline]
    fn fixed_index(&self, ordinals: &[usize]) -> usize {
        let mut index = 0;
        for (label, &ordinal) in self.meta.arg_labels.iter().zip(ordinals) {
            // A hand-written `LabelValue` may return an ordinal out of range;
            // clamp rather than panic in the host program.
            index = index * label.cardinality + ordinal.min(label.cardinality - 1);
        }
        index
    }

    /// Starts timing one call. `ordinals` and `values` describe the argument
    /// labels in declaration order.
    // Always inlined: built in the instrumented function, where the span is
    // made, the guard is written in place instead of copied (17 fewer
    // instructions a call under callgrind, about a tenth of the path).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub fn enter(
        &'static self,
        ordinals: &[usize],
        values: &[&'static str],
        span: tracing::Span,
        is_async: bool,
    ) -> CallGuard {
        let state: &'static SiteState = self.state();
        // `fixed` holds `fixed_len` series; matched on its own length, so
        // the series is read without a bounds check to fail.
        let series = match &*state.fixed {
            // No argument label (the common case): skip the index loop.
            [only] => only,
            // The index is below `fixed_len` (each ordinal is clamped), so
            // `last` is only ever the last combination itself.
            [init @ .., last] => init.get(self.fixed_index(ordinals)).unwrap_or(last),
            [] => state.open.get(self.meta.base, &state.bounds, values),
        };
        if self.meta.in_flight {
            series.in_flight.fetch_add(1, Relaxed);
        }
        CallGuard {
            series,
            state,
            in_flight: self.meta.in_flight,
            outcome: Cell::new(if is_async {
                Outcome::Cancelled
            } else {
                Outcome::Ok
            }),
            exemplar: Cell::new(None),
            span,
            // Last, so the body is timed and the set-up is not.
            start: state.clock.raw(),
        }
    }

    /// What the macro recorded of the function, for the catalog.
    pub(crate) fn meta(&self) -> &CallSiteMeta {
        &self.meta
    }

    /// The names of the labels taken from arguments, in order.
    pub(crate) fn arg_label_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.meta.arg_labels.iter().map(ArgLabel::name)
    }

    pub(crate) fn family_names(&self) -> Vec<String> {
        let base = self.meta.base;
        let mut names = vec![
            format!("{base}_calls_total"),
            format!("{base}_duration_seconds"),
        ];
        if self.meta.in_flight {
            names.push(format!("{base}_in_flight"));
        }
        names
    }

    /// Every combination of argument label values with its series.
    pub(super) fn combinations(&'static self) -> Vec<(Vec<String>, &'static Series)> {
        let state: &'static SiteState = self.state();
        if self.fixed_len > 0 {
            return state
                .fixed
                .iter()
                .enumerate()
                .map(|(index, series)| {
                    let mut rest = index;
                    let mut values = vec![String::new(); self.meta.arg_labels.len()];
                    for (slot, label) in values.iter_mut().zip(self.meta.arg_labels).rev() {
                        let value = (label.value_at)(rest % label.cardinality);
                        value
                            .unwrap_or(crate::leaves::schema::OVERFLOW_VALUE)
                            .clone_into(slot);
                        rest /= label.cardinality;
                    }
                    (values, series)
                })
                .collect();
        }
        let mut out = Vec::new();
        state
            .open
            .for_each(self.meta.arg_labels.len(), |values, series| {
                out.push((values.iter().map(|v| (*v).to_owned()).collect(), series));
            });
        out
    }

    /// Whether an argument label is open, so the site keeps a capped map.
    pub(super) fn is_open(&self) -> bool {
        self.fixed_len == 0
    }
}
