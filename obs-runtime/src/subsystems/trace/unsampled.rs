//! Unsampled spans at the price of a marker: `tracing-opentelemetry` builds
//! OpenTelemetry span data (a builder, an attribute vector with a value per
//! field, a span event per log event, a context) for every span, and only
//! at the end learns that 90 % of them are dropped. This layer wraps it and
//! keeps it away from what can't be exported:
//!
//! - once a span is entered its sampling decision is known (the wrapped
//!   layer makes it then and makes the span's context current); an
//!   unsampled one gets an [`Unsampled`] marker, and from then on its
//!   records, its events and the spans created inside it skip the wrapped
//!   layer;
//! - a span created inside an unsampled span is unsampled too (every
//!   sampler obs offers decides a child as its parent was, or on the same
//!   trace id): it never reaches the wrapped layer, and gets a marker with
//!   the trace id and a new span id, so log lines, error events and
//!   outgoing `traceparent` headers still carry W3C ids.
//!
//! - the root spans obs itself opens (an `#[instrumented]` call, the HTTP
//!   server span) are decided when created, with the configured sampler,
//!   on a trace id drawn here and the OpenTelemetry context current then
//!   (the server span is created with the incoming `traceparent`
//!   attached): a dropped one never reaches the wrapped layer; a kept one
//!   does, and the SDK is handed the same trace id ([`DecidedIds`]) so its
//!   own decision, made on the same inputs, is the same.
//!
//! A span created inside an unsampled span and then given a remote parent
//! (`set_parent`) stays unsampled: create such a span outside any span.
//! Roots of other call sites (your own `tracing` spans, which may get a
//! remote parent later) are decided by the SDK as before.

use std::any::TypeId;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry_sdk::trace::{
    IdGenerator, RandomIdGenerator, Sampler, SamplingDecision, ShouldSample as _,
};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

/// The W3C ids of a span that is not sampled, kept in its extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unsampled {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    /// The wrapped layer created the span (and still gets its enter, exit
    /// and close); `false` for a span created inside an unsampled one.
    owned: bool,
}

impl Unsampled {
    /// The span's context, not sampled, as it is propagated.
    pub(crate) fn span_context(&self) -> SpanContext {
        SpanContext::new(
            self.trace_id,
            self.span_id,
            TraceFlags::default(),
            false,
            TraceState::default(),
        )
    }
}

/// A root span obs decided to keep, with the trace id it was decided on.
#[derive(Debug, Clone, Copy)]
struct KeptRoot(TraceId);

thread_local! {
    /// The trace id the SDK is to give the root span it starts now.
    static NEXT_TRACE_ID: Cell<Option<TraceId>> = const { Cell::new(None) };
}

// The last span this thread marked, so the marker checks of its record,
// enter, exit and close (four registry lookups per unsampled call, a
// quarter of its cost) are a thread-local read. Sound because an entry is
// trusted only while no marked span has closed on a thread that did not
// hold it in its entry: a span closed on another thread than the one that
// marked it bumps `FOREIGN_CLOSES`, which voids every entry taken before,
// so a slot reused under the same id (the registry's ids carry a
// generation, but it wraps) never meets a stale entry. A miss falls back
// to the lookup.

/// Closes of marked spans that a thread's entry may still name.
static FOREIGN_CLOSES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The layer that marked it (ids are per subscriber), the span id, its
    /// marker, and `FOREIGN_CLOSES` when it was marked.
    static LAST_MARKED: Cell<Option<(Owner, u64, Unsampled, u64)>> = const { Cell::new(None) };
}

/// Which [`SkipUnsampled`] an entry belongs to: its address, stable while
/// its subscriber is installed.
type Owner = usize;

fn remember(owner: Owner, id: &Id, marker: Unsampled) {
    let epoch = FOREIGN_CLOSES.load(Ordering::Acquire);
    LAST_MARKED.with(|last| last.set(Some((owner, id.into_u64(), marker, epoch))));
}

/// The marker of `id` when this thread's entry holds it (`None`: not
/// known here, look it up).
fn recalled(owner: Owner, id: &Id) -> Option<Unsampled> {
    LAST_MARKED
        .with(Cell::get)
        .filter(|(by, of, _, epoch)| {
            *by == owner && *of == id.into_u64() && *epoch == FOREIGN_CLOSES.load(Ordering::Acquire)
        })
        .map(|(_, _, marker, _)| marker)
}

/// Drops this thread's entry if it names `id`; `true` if it did.
fn forget(owner: Owner, id: &Id) -> bool {
    LAST_MARKED.with(|last| match last.get() {
        Some((by, of, ..)) if by == owner && of == id.into_u64() => {
            last.set(None);
            true
        }
        _ => false,
    })
}

/// The SDK's id generator: random ids, except for a root span kept by
/// [`SkipUnsampled`], which gets the trace id it was sampled on.
#[derive(Debug, Default)]
pub(crate) struct DecidedIds(RandomIdGenerator);

impl IdGenerator for DecidedIds {
    fn new_trace_id(&self) -> TraceId {
        NEXT_TRACE_ID
            .with(Cell::take)
            .unwrap_or_else(|| self.0.new_trace_id())
    }

    fn new_span_id(&self) -> SpanId {
        self.0.new_span_id()
    }
}

/// Runs `f` with `root`'s trace id handed to the SDK, if the SDK starts
/// the span in it.
fn with_kept_root<R>(root: Option<KeptRoot>, f: impl FnOnce() -> R) -> R {
    let Some(KeptRoot(trace_id)) = root else {
        return f();
    };
    NEXT_TRACE_ID.with(|next| next.set(Some(trace_id)));
    let result = f();
    NEXT_TRACE_ID.with(|next| next.set(None));
    result
}

/// The call sites whose root spans are decided when created: obs's own,
/// which nobody re-parents later.
fn decided_early(meta: &tracing::Metadata<'_>) -> bool {
    let fields = meta.fields();
    meta.target() == "obs::http"
        || (fields.field("code.function").is_some() && fields.field("result").is_some())
}

/// The wrapper: see the module documentation.
pub(crate) struct SkipUnsampled<L> {
    inner: L,
    ids: RandomIdGenerator,
    sampler: Sampler,
}

impl<L> SkipUnsampled<L> {
    fn owner(&self) -> Owner {
        std::ptr::from_ref(self) as Owner
    }

    /// Wraps `inner`, whose tracer samples with `sampler` and generates ids
    /// with [`DecidedIds`].
    pub(crate) fn new(inner: L, sampler: Sampler) -> Self {
        Self {
            inner,
            ids: RandomIdGenerator::default(),
            sampler,
        }
    }
}

fn marker<S>(span: &SpanRef<'_, S>) -> Option<Unsampled>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    span.extensions().get::<Unsampled>().copied()
}

fn marker_of<S>(owner: Owner, id: &Id, ctx: &Context<'_, S>) -> Option<Unsampled>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    recalled(owner, id).or_else(|| ctx.span(id).and_then(|span| marker(&span)))
}

/// Marks `id` unsampled, in its extensions and in this thread's entry.
fn mark<S>(owner: Owner, id: &Id, ctx: &Context<'_, S>, marker: Unsampled)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if let Some(span) = ctx.span(id) {
        span.extensions_mut().replace(marker);
        remember(owner, id, marker);
    }
}

impl<S, L> Layer<S> for SkipUnsampled<L>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    L: Layer<S>,
{
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        self.inner.on_register_dispatch(subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.inner.on_layer(subscriber);
    }

    fn register_callsite(
        &self,
        metadata: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &tracing::Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.enabled(metadata, ctx)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let parent = if let Some(parent) = attrs.parent() {
            ctx.span(parent)
        } else if attrs.is_contextual() {
            ctx.lookup_current()
        } else {
            None
        };
        let of_parent = parent.as_ref().and_then(marker);
        let has_parent = parent.is_some();
        drop(parent);
        if let Some(of_parent) = of_parent {
            let marker = Unsampled {
                trace_id: of_parent.trace_id,
                span_id: self.ids.new_span_id(),
                owned: false,
            };
            mark(self.owner(), id, &ctx, marker);
            return;
        }
        // A new span under an id this thread's entry names is not that
        // entry's span (it closed): never trusted again.
        forget(self.owner(), id);
        if !has_parent && decided_early(attrs.metadata()) {
            let cx = if attrs.is_contextual() {
                opentelemetry::Context::current()
            } else {
                opentelemetry::Context::new()
            };
            let remote = cx.span().span_context().clone();
            let trace_id = if remote.is_valid() {
                remote.trace_id()
            } else {
                self.ids.new_trace_id()
            };
            let result = self.sampler.should_sample(
                Some(&cx),
                trace_id,
                attrs.metadata().name(),
                &SpanKind::Internal,
                &[],
                &[],
            );
            if result.decision == SamplingDecision::Drop {
                let marker = Unsampled {
                    trace_id,
                    span_id: self.ids.new_span_id(),
                    owned: false,
                };
                mark(self.owner(), id, &ctx, marker);
                return;
            }
            self.inner.on_new_span(attrs, id, ctx.clone());
            if !remote.is_valid()
                && let Some(span) = ctx.span(id)
            {
                span.extensions_mut().replace(KeptRoot(trace_id));
            }
            return;
        }
        self.inner.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if marker_of(self.owner(), id, &ctx).is_none() {
            self.inner.on_record(id, values, ctx);
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, S>) {
        if marker_of(self.owner(), id, &ctx).is_none() {
            self.inner.on_follows_from(id, follows, ctx);
        }
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let span = event.parent().and_then(|id| ctx.span(id)).or_else(|| {
            event
                .is_contextual()
                .then(|| ctx.lookup_current())
                .flatten()
        });
        let skip = span.as_ref().and_then(marker).is_some();
        drop(span);
        if !skip {
            self.inner.on_event(event, ctx);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        match recalled(self.owner(), id) {
            Some(Unsampled { owned: false, .. }) => return,
            Some(Unsampled { owned: true, .. }) => {
                self.inner.on_enter(id, ctx);
                return;
            }
            None => {}
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        match marker(&span) {
            Some(Unsampled { owned: false, .. }) => return,
            Some(Unsampled { owned: true, .. }) => {
                drop(span);
                self.inner.on_enter(id, ctx);
                return;
            }
            None => {}
        }
        let kept = span.extensions().get::<KeptRoot>().copied();
        drop(span);
        with_kept_root(kept, || self.inner.on_enter(id, ctx.clone()));
        if kept.is_some() {
            // Kept: sampled, by the SDK's decision on the same inputs.
            return;
        }
        // The wrapped layer has started the span and made its context the
        // current one: its sampling decision is known now.
        let context = opentelemetry::Context::map_current(|cx| cx.span().span_context().clone());
        if context.is_valid() && !context.is_sampled() {
            let marker = Unsampled {
                trace_id: context.trace_id(),
                span_id: context.span_id(),
                owned: true,
            };
            mark(self.owner(), id, &ctx, marker);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if !matches!(
            marker_of(self.owner(), id, &ctx),
            Some(Unsampled { owned: false, .. })
        ) {
            self.inner.on_exit(id, ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(recalled) = recalled(self.owner(), &id) {
            forget(self.owner(), &id);
            if recalled.owned {
                // Marked spans are never kept roots.
                self.inner.on_close(id, ctx);
            }
            return;
        }
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let marked = marker(&span);
        if marked.is_some() && !forget(self.owner(), &id) {
            // Another thread's entry may name it: void every entry.
            FOREIGN_CLOSES.fetch_add(1, Ordering::AcqRel);
        }
        if matches!(marked, Some(Unsampled { owned: false, .. })) {
            return;
        }
        // A span never entered is started here.
        let kept = span.extensions().get::<KeptRoot>().copied();
        drop(span);
        with_kept_root(kept, || self.inner.on_close(id, ctx));
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, S>) {
        self.inner.on_id_change(old, new, ctx);
    }

    // SAFETY: `Self` is answered with a pointer to `self`; every other type
    // is the wrapped layer's to answer (`tracing-opentelemetry` finds its
    // context accessor this way), with the same guarantee.
    #[allow(unsafe_code)]
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            Some(std::ptr::from_ref(self).cast())
        } else {
            // SAFETY: forwarded as is; see above.
            unsafe { self.inner.downcast_raw(id) }
        }
    }
}

/// The marker of `span`, when it is an unsampled span of the current
/// subscriber (built on `tracing_subscriber`'s registry, as `init()`'s).
pub(crate) fn unsampled(span: &tracing::Span) -> Option<Unsampled> {
    let id = span.id()?;
    tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let data = registry.span(&id)?;
        data.extensions().get::<Unsampled>().copied()
    })
}

/// The OpenTelemetry context of `span` for propagation: its own, or for an
/// unsampled span that the OpenTelemetry layer never saw, one that carries
/// its W3C ids, not sampled.
pub(crate) fn context_of(span: &tracing::Span) -> opentelemetry::Context {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    match unsampled(span) {
        Some(marker) => {
            opentelemetry::Context::new().with_remote_span_context(marker.span_context())
        }
        None => span.context(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_trusted_only_for_its_layer_its_id_and_until_a_foreign_close() {
        let id = Id::from_u64(7);
        let marker = Unsampled {
            trace_id: TraceId::from_bytes([1; 16]),
            span_id: SpanId::from_bytes([2; 8]),
            owned: false,
        };
        // Other tests may close marked spans on other threads meanwhile,
        // which voids the entry: retry until one round is undisturbed.
        let held = (0..100).any(|_| {
            remember(1, &id, marker);
            recalled(1, &id) == Some(marker)
        });
        assert!(held, "the entry was never recalled");
        assert_eq!(recalled(2, &id), None, "another layer's span");
        assert_eq!(recalled(1, &Id::from_u64(8)), None, "another span");
        // What `on_close` does for a marked span this thread's entry does
        // not hold: every entry taken before is void.
        FOREIGN_CLOSES.fetch_add(1, Ordering::AcqRel);
        assert_eq!(recalled(1, &id), None);
        remember(1, &id, marker);
        assert!(forget(1, &id));
        assert_eq!(recalled(1, &id), None);
        assert!(!forget(1, &id));
    }
}
