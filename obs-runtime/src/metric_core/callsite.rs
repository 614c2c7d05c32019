//! The run-time side of `#[instrumented]`.
//!
//! Every annotated function holds one `static` [`CallSite`], registered in a
//! link-time distributed slice so the registry knows it before `main` runs.
//! The site's cells are allocated on first use (a call or a scrape, whichever
//! comes first); after that a call costs a `OnceLock` read, two clock reads
//! and relaxed atomic adds: one bucket and one nanosecond sum (the call count
//! of `_calls_total` is the histogram's count, so it needs no add of its own).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::{Debug, Display};
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::task::{Context, Poll};

use crate::leaves::labels::LabelValue;
use crate::leaves::schema::MAX_SERIES_PER_METRIC;
use crate::metric_core::encode::HistogramSnapshot;
use crate::metric_core::encode::{Kind, Sink};
use crate::metric_core::metrics::cell::{Bounds, HistogramCell};
use crate::metric_core::metrics::{Dynamic, NewCell, default_max_series};

/// Every `#[instrumented]` call site in the program.
#[linkme::distributed_slice]
pub static CALL_SITES: [CallSite];

pub(crate) fn all() -> &'static [CallSite] {
    &CALL_SITES
}

/// How a call ended; the `result` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Outcome {
    /// Returned normally (for a `Result`, an `Ok`).
    Ok = 0,
    /// Returned an `Err`.
    Error = 1,
    /// An async call whose future was dropped before it completed.
    Cancelled = 2,
    /// Panicked.
    Panic = 3,
}

impl Outcome {
    const ALL: [Self; 4] = [Self::Ok, Self::Error, Self::Cancelled, Self::Panic];

    /// The `result` label value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
            Self::Panic => "panic",
        }
    }
}

/// A label whose value comes from an argument.
#[derive(Debug, Clone, Copy)]
pub struct ArgLabel {
    name: &'static str,
    cardinality: usize,
    value_at: fn(usize) -> Option<&'static str>,
}

/// An argument label, typed by the argument. The generated code holds one
/// in a `const` per label; only [`TypedLabel::new`] requires `LabelValue`,
/// so an unbounded type (`String`) gives exactly one error, at the type.
pub struct TypedLabel<T: ?Sized> {
    meta: ArgLabel,
    read: fn(&T) -> (usize, &'static str),
}

fn read_label<T: LabelValue + ?Sized>(value: &T) -> (usize, &'static str) {
    (value.ordinal(), value.label_value())
}

impl<T: ?Sized> TypedLabel<T> {
    /// Label `name`, taken from an argument of type `T`.
    #[must_use]
    pub const fn new(name: &'static str) -> Self
    where
        T: LabelValue,
    {
        Self {
            meta: ArgLabel {
                name,
                cardinality: T::CARDINALITY,
                value_at: T::value_at,
            },
            read: read_label::<T>,
        }
    }

    /// The untyped description, for the call site's `static`.
    #[must_use]
    pub const fn meta(&self) -> ArgLabel {
        self.meta
    }

    /// The argument's ordinal and rendered value.
    #[inline]
    pub fn read(&self, value: &T) -> (usize, &'static str) {
        (self.read)(value)
    }
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
    /// Whether the function returns a `Result`, so `error` series exist from the start.
    pub returns_result: bool,
}

/// The series of one label combination: a duration histogram per outcome
/// and the in-flight gauge.
#[derive(Debug)]
struct Series {
    by_outcome: [HistogramCell; 4],
    in_flight: AtomicI64,
}

impl Series {
    fn new(bounds: &Bounds) -> Self {
        Self {
            by_outcome: std::array::from_fn(|_| HistogramCell::new(bounds)),
            in_flight: AtomicI64::new(0),
        }
    }
}

impl NewCell for Series {
    type Layout = Bounds;
    fn new_cell(bounds: &Bounds) -> Self {
        Self::new(bounds)
    }
}

#[derive(Debug)]
struct SiteState {
    /// The process's TSC clock, kept here so a call reads it without
    /// another `OnceLock` load.
    clock: &'static quanta::Clock,
    /// The `result` field of the site's span, once a span was seen.
    result_field: OnceLock<Option<tracing::field::Field>>,
    bounds: Bounds,
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
    meta: CallSiteMeta,
    /// Number of fixed combinations; 0 when an argument label is open.
    fixed_len: usize,
    state: OnceLock<SiteState>,
}

impl CallSite {
    /// A call site; evaluated at compile time into the function's `static`.
    #[must_use]
    pub const fn new(meta: CallSiteMeta) -> Self {
        let mut fixed_len = 1usize;
        let mut i = 0;
        while i < meta.arg_labels.len() {
            let c = meta.arg_labels[i].cardinality;
            fixed_len = match fixed_len.checked_mul(c) {
                // A product of enums too large to preallocate is kept like an
                // open set: bounded, and allocated as values are seen.
                Some(n) if n <= MAX_SERIES_PER_METRIC => n,
                _ => 0,
            };
            i += 1;
        }
        Self {
            meta,
            fixed_len,
            state: OnceLock::new(),
        }
    }

    #[inline]
    fn state(&self) -> &SiteState {
        self.state.get_or_init(|| {
            let bounds = Bounds::new(self.meta.buckets);
            let fixed = (0..self.fixed_len).map(|_| Series::new(&bounds)).collect();
            let open = Dynamic::new(&bounds, default_max_series());
            SiteState {
                clock: crate::leaves::clock::clock(),
                result_field: OnceLock::new(),
                bounds,
                fixed,
                open,
            }
        })
    }

    /// Index of a fixed combination from the values' ordinals (row-major).
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
        let series = if self.fixed_len == 1 {
            // No argument label (the common case): skip the index loop.
            &state.fixed[0]
        } else if self.fixed_len > 0 {
            &state.fixed[self.fixed_index(ordinals)]
        } else {
            state.open.get(self.meta.base, &state.bounds, values)
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
            span,
            // Last, so the body is timed and the set-up is not.
            start: state.clock.raw(),
        }
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
    fn combinations(&'static self) -> Vec<(Vec<String>, &'static Series)> {
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
    fn is_open(&self) -> bool {
        self.fixed_len == 0
    }
}

/// Times one call and records it when dropped: the outcome set by the
/// generated code, or `panic` when dropped during unwinding.
#[derive(Debug)]
pub struct CallGuard {
    series: &'static Series,
    state: &'static SiteState,
    in_flight: bool,
    /// Raw clock reading at the start of the call.
    start: u64,
    outcome: Cell<Outcome>,
    span: tracing::Span,
}

impl CallGuard {
    /// The call's span (disabled when `span = false` or nobody listens).
    #[must_use]
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Marks the call as returned normally.
    pub fn succeed(&self) {
        self.outcome.set(Outcome::Ok);
    }

    /// Marks the call as failed. With a listening span, sets the
    /// OpenTelemetry error status and records an `exception` event carrying
    /// the error's type and text, both redacted of secrets.
    pub fn fail(&self, error: Option<&dyn Display>, error_type: &'static str) {
        self.outcome.set(Outcome::Error);
        if self.span.is_disabled() {
            return;
        }
        self.span.record("otel.status_code", "ERROR");
        let text = error.map(ToString::to_string).unwrap_or_default();
        let text = crate::leaves::redact::redact(&text);
        if error.is_some() {
            self.span.record("otel.status_description", &*text);
        }
        tracing::event!(
            parent: &self.span,
            tracing::Level::ERROR,
            "exception.type" = error_type,
            "exception.message" = &*text,
            "exception"
        );
    }
}

impl Drop for CallGuard {
    #[inline]
    fn drop(&mut self) {
        let clock = self.state.clock;
        let nanos = clock.delta_as_nanos(self.start, clock.raw());
        let outcome = if std::thread::panicking() {
            Outcome::Panic
        } else {
            self.outcome.get()
        };
        self.series.by_outcome[outcome as usize].observe_ns(&self.state.bounds, nanos);
        if self.in_flight {
            self.series.in_flight.fetch_sub(1, Relaxed);
        }
        if !self.span.is_disabled() {
            record_result(&self.span, &self.state.result_field, outcome);
        }
    }
}

/// Records the `result` field of a call's span. Out of line, so the metric
/// path of every call keeps a small frame; the field is looked up by name
/// once per call site rather than on every call.
#[inline(never)]
fn record_result(
    span: &tracing::Span,
    field: &OnceLock<Option<tracing::field::Field>>,
    outcome: Outcome,
) {
    let Some(meta) = span.metadata() else {
        return;
    };
    let fields = meta.fields();
    // One span callsite per call site, so the field found first fits every
    // later span; checked anyway, since a field of another callsite would
    // be ignored by the subscriber.
    let Some(field) = field
        .get_or_init(|| fields.field("result"))
        .as_ref()
        .filter(|f| f.callsite() == meta.callsite())
    else {
        span.record("result", outcome.as_str());
        return;
    };
    let value = outcome.as_str();
    span.record_all(&fields.value_set(&[(field, Some(&value as &dyn tracing::Value))]));
}

pin_project_lite::pin_project! {
    /// The future of an instrumented `async fn`: enters the span on every
    /// poll and settles the outcome when the inner future completes. Dropped
    /// before that, the call counts as `cancelled`.
    pub struct Timed<F: Future> {
        #[pin]
        inner: F,
        guard: CallGuard,
        settle: fn(&F::Output, &CallGuard),
    }
}

impl<F: Future> Timed<F> {
    /// Wraps the body's future.
    pub fn new(guard: CallGuard, inner: F, settle: fn(&F::Output, &CallGuard)) -> Self {
        Self {
            inner,
            guard,
            settle,
        }
    }
}

impl<F: Future> Future for Timed<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = this.guard.span.enter();
        // Left in place if the poll unwinds, so the later drop knows.
        this.guard.outcome.set(Outcome::Panic);
        match this.inner.poll(cx) {
            Poll::Ready(output) => {
                this.guard.outcome.set(Outcome::Ok);
                (this.settle)(&output, this.guard);
                Poll::Ready(output)
            }
            Poll::Pending => {
                this.guard.outcome.set(Outcome::Cancelled);
                Poll::Pending
            }
        }
    }
}

/// Wraps a return value for outcome classification by autoderef: the
/// generated code calls `(&&&&Probe(&value)).settle(&guard)`, and method
/// resolution picks the most specific of the `Settle*` impls below.
#[derive(Debug)]
pub struct Probe<'a, T>(pub &'a T);

/// `Result<T, E>` with `E: Display`: the span gets the error's text.
pub trait SettleDisplay {
    /// Records the outcome on the guard.
    fn settle(&self, guard: &CallGuard);
}

impl<T, E: Display> SettleDisplay for &&&Probe<'_, Result<T, E>> {
    fn settle(&self, guard: &CallGuard) {
        match self.0 {
            Ok(_) => guard.succeed(),
            Err(e) => guard.fail(Some(e), std::any::type_name::<E>()),
        }
    }
}

/// `Result<T, E>` with `E: Debug` only.
pub trait SettleDebug {
    /// Records the outcome on the guard.
    fn settle(&self, guard: &CallGuard);
}

struct DebugAsDisplay<'a, E>(&'a E);

impl<E: Debug> Display for DebugAsDisplay<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Debug::fmt(self.0, f)
    }
}

impl<T, E: Debug> SettleDebug for &&Probe<'_, Result<T, E>> {
    fn settle(&self, guard: &CallGuard) {
        match self.0 {
            Ok(_) => guard.succeed(),
            Err(e) => guard.fail(Some(&DebugAsDisplay(e)), std::any::type_name::<E>()),
        }
    }
}

/// `Result<T, E>` with an error that can't be printed.
pub trait SettleResult {
    /// Records the outcome on the guard.
    fn settle(&self, guard: &CallGuard);
}

impl<T, E> SettleResult for &Probe<'_, Result<T, E>> {
    fn settle(&self, guard: &CallGuard) {
        match self.0 {
            Ok(_) => guard.succeed(),
            Err(_) => guard.fail(None, std::any::type_name::<E>()),
        }
    }
}

/// Anything else (`Option`, `()`, `impl Trait`, a generic `T`): a normal
/// return is `ok`.
pub trait SettleOther {
    /// Records the outcome on the guard.
    fn settle(&self, guard: &CallGuard);
}

impl<T> SettleOther for Probe<'_, T> {
    fn settle(&self, guard: &CallGuard) {
        guard.succeed();
    }
}

type Row<'a> = (Vec<(&'a str, &'a str)>, HistogramSnapshot, &'static [f64]);

/// Overflow counts of the call sites that have open argument labels, by
/// their calls family.
pub(crate) fn overflows() -> Vec<(String, u64)> {
    all()
        .iter()
        .filter(|site| site.is_open())
        .map(|site| {
            (
                format!("{}_calls_total", site.meta.base),
                site.state().open.overflowed(),
            )
        })
        .collect()
}

/// Writes every call site's families, grouped by base name.
pub(crate) fn collect_all(sink: &mut dyn Sink) {
    let mut by_base: BTreeMap<&'static str, Vec<&'static CallSite>> = BTreeMap::new();
    for site in all() {
        by_base.entry(site.meta.base).or_default().push(site);
    }
    for (base, sites) in by_base {
        // Rows keyed by their labels, so two sites that render the same
        // label set (methods of the same name on two types in one module)
        // merge into one series instead of producing a duplicate.
        // Rendered first, so the rows below can borrow the label values.
        let combinations: Vec<_> = sites
            .iter()
            .map(|site| (&site.meta, site.combinations()))
            .collect();
        let mut rows: BTreeMap<Vec<(&str, &str)>, Row<'_>> = BTreeMap::new();
        let mut gauges: BTreeMap<Vec<(&str, &str)>, i64> = BTreeMap::new();
        for (meta, combos) in &combinations {
            for (values, series) in combos {
                let mut user: Vec<(&str, &str)> = meta.labels.to_vec();
                user.extend(
                    meta.arg_labels
                        .iter()
                        .map(|l| l.name)
                        .zip(values.iter().map(String::as_str)),
                );
                let mut common = vec![("function", meta.function), ("module", meta.module)];
                if meta.in_flight {
                    let key: Vec<_> = common.iter().copied().chain(user.iter().copied()).collect();
                    *gauges.entry(key).or_default() += series.in_flight.load(Relaxed);
                }
                for outcome in Outcome::ALL {
                    let cell = &series.by_outcome[outcome as usize];
                    let always = outcome == Outcome::Ok
                        || (outcome == Outcome::Error && meta.returns_result);
                    if !always && cell.count() == 0 {
                        continue;
                    }
                    common.truncate(2);
                    common.push(("result", outcome.as_str()));
                    let labels: Vec<_> =
                        common.iter().copied().chain(user.iter().copied()).collect();
                    let snap = cell.snapshot();
                    match rows.get_mut(&labels) {
                        Some(row) if row.2 == meta.buckets => {
                            for (a, b) in row.1.cumulative.iter_mut().zip(&snap.cumulative) {
                                *a += b;
                            }
                            row.1.sum += snap.sum;
                        }
                        Some(_) => {}
                        None => {
                            rows.insert(labels.clone(), (labels, snap, meta.buckets));
                        }
                    }
                }
            }
        }
        let calls = format!("{base}_calls_total");
        sink.family(
            &calls,
            "Calls of instrumented functions, by result (ok, error, cancelled, panic).",
            Kind::Counter,
        );
        for (labels, snap, _) in rows.values() {
            sink.counter(&calls, labels, snap.count());
        }
        let duration = format!("{base}_duration_seconds");
        sink.family(
            &duration,
            "Duration of calls of instrumented functions in seconds, by result.",
            Kind::Histogram,
        );
        for (labels, snap, bounds) in rows.values() {
            sink.histogram(&duration, labels, bounds, snap);
        }
        if !gauges.is_empty() {
            let in_flight = format!("{base}_in_flight");
            sink.family(
                &in_flight,
                "Calls of instrumented functions currently running.",
                Kind::Gauge,
            );
            for (labels, value) in gauges {
                #[allow(clippy::cast_precision_loss)]
                sink.gauge(&in_flight, &labels, value as f64);
            }
        }
    }
}
