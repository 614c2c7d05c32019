//! The timing of one call: [`CallGuard`] for every call, [`Timed`] around
//! the future of an `async fn`.

use std::cell::Cell;
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll};

use super::outcome::Outcome;
use super::{Series, SiteState};
use crate::metric_core::metrics::exemplar::{self, TraceIds};

/// Times one call and records it when dropped: the outcome set by the
/// generated code, or `panic` when dropped during unwinding.
#[derive(Debug)]
pub struct CallGuard {
    pub(super) series: &'static Series,
    pub(super) state: &'static SiteState,
    pub(super) in_flight: bool,
    /// Raw clock reading at the start of the call.
    pub(super) start: u64,
    pub(super) outcome: Cell<Outcome>,
    /// The ids of the call's span when it is sampled, taken while the span
    /// is entered (when the call settles): its duration's exemplar.
    pub(super) exemplar: Cell<Option<TraceIds>>,
    pub(super) span: tracing::Span,
}

impl CallGuard {
    /// The call's span (disabled when `span = false` or nobody listens).
    #[must_use]
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Marks the call as returned normally.
    #[inline]
    pub fn succeed(&self) {
        self.outcome.set(Outcome::Ok);
        if !self.span.is_disabled() {
            self.exemplar.set(exemplar::sampled());
        }
    }

    /// Notes that the function returns a `Result`, for sites whose return
    /// type the macro could not name: their `error` series are written
    /// from now on. A load on a line the call reads anyway; the store
    /// happens once.
    #[inline]
    pub fn returned_result(&self) {
        if !self.state.returns_result.load(Relaxed) {
            self.state.returns_result.store(true, Relaxed);
        }
    }

    /// Marks the call as failed. With a listening span, sets the
    /// OpenTelemetry error status and records an `exception` event carrying
    /// the error's type and text, both redacted of secrets. Without one,
    /// the event is recorded only while error tracking runs (feature
    /// `sentry`), under the target `obs::exception`.
    pub fn fail(&self, error: Option<&dyn Display>, error_type: &'static str) {
        self.outcome.set(Outcome::Error);
        if self.span.is_disabled() {
            if super::REPORT_UNSPANNED_ERRORS.load(Relaxed) {
                unspanned_exception(self.state.function, error, error_type);
            }
            return;
        }
        self.exemplar.set(exemplar::sampled());
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

/// The `exception` event of a call whose span is disabled: in the current
/// span, so error tracking still sees it once, and at the outermost frame.
#[cold]
#[inline(never)]
fn unspanned_exception(function: &'static str, error: Option<&dyn Display>, error_type: &str) {
    let text = error.map(ToString::to_string).unwrap_or_default();
    let text = crate::leaves::redact::redact(&text);
    tracing::event!(
        target: "obs::exception",
        tracing::Level::ERROR,
        "code.function" = function,
        "exception.type" = error_type,
        "exception.message" = &*text,
        "exception"
    );
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
        let histogram = self.series.histogram(outcome);
        match self.exemplar.get() {
            None => histogram.observe_ns(&self.state.bounds, nanos),
            Some(ids) => histogram.observe_ns_exemplar(&self.state.bounds, nanos, ids),
        }
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
