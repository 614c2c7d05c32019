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
//!   own decision, made on the same inputs, is the same. A root without a
//!   remote parent is decided on its trace id alone, as the SDK's
//!   samplers do, without calling the SDK's sampler.
//!
//! Markers are kept in a table of this layer's ([`Marks`], by span id),
//! not in the span's extensions, and the thread that marked a span last
//! remembers it, so the checks of its record, enter, exit and close take
//! no lock.
//!
//! A span created inside an unsampled span and then given a remote parent
//! (`set_parent`) stays unsampled: create such a span outside any span.
//! Roots of other call sites (your own `tracing` spans, which may get a
//! remote parent later) are decided by the SDK as before.

use std::any::TypeId;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry_sdk::trace::{
    IdGenerator, RandomIdGenerator, Sampler, SamplingDecision, ShouldSample as _,
};

use super::SamplerChoice;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The W3C ids of a span that is not sampled, kept in [`Marks`].
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

/// The markers of the open unsampled spans, by span id: a table of our own
/// rather than the span's extensions in the registry, where a marker cost
/// a boxed insertion into a map at creation and its free and the map's
/// clearing at close (about 500 instructions of an unsampled call, half
/// its cost above a no-op layer). A marker is removed when its span closes
/// (every layer sees every close, before the registry frees the id), so an
/// id reused later never finds a stale one.
///
/// Direct-mapped: each id has one slot, behind its own lock (threads
/// marking spans at once rarely meet on one); an id whose slot is taken
/// goes to a map, which is only looked at while it holds something.
pub(crate) struct Marks {
    slots: Box<[Mutex<Slot>]>,
    overflow: Mutex<HashMap<u64, Unsampled>>,
    /// Markers in `overflow`.
    overflowed: AtomicUsize,
}

/// A slot of [`Marks`]: a span id and its marker.
type Slot = Option<(u64, Unsampled)>;

/// Slots of [`Marks`]: a power of two, more than the unsampled spans a
/// busy service keeps open at once.
const SLOTS_LOG2: u32 = 10;

impl Marks {
    fn new() -> Self {
        Self {
            slots: (0..1usize << SLOTS_LOG2)
                .map(|_| Mutex::new(None))
                .collect(),
            overflow: Mutex::new(HashMap::new()),
            overflowed: AtomicUsize::new(0),
        }
    }

    fn slot(&self, id: u64) -> Option<std::sync::MutexGuard<'_, Slot>> {
        // Fibonacci hashing: the high bits of the product pick the slot.
        #[allow(clippy::cast_possible_truncation)]
        let at = (id.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - SLOTS_LOG2)) as usize;
        self.slots
            .get(at)
            .map(|slot| slot.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn overflow(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Unsampled>> {
        self.overflow.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(&self, id: &Id, marker: Unsampled) {
        let id = id.into_u64();
        if let Some(mut slot) = self.slot(id) {
            match &mut *slot {
                Some((of, held)) if *of == id => {
                    *held = marker;
                    return;
                }
                empty @ None => {
                    *empty = Some((id, marker));
                    drop(slot);
                    // Never in both places (see `remove`).
                    if self.overflowed.load(Ordering::Acquire) > 0
                        && self.overflow().remove(&id).is_some()
                    {
                        self.overflowed.fetch_sub(1, Ordering::AcqRel);
                    }
                    return;
                }
                Some(_) => {}
            }
        }
        if self.overflow().insert(id, marker).is_none() {
            self.overflowed.fetch_add(1, Ordering::AcqRel);
        }
    }

    pub(crate) fn get(&self, id: &Id) -> Option<Unsampled> {
        let id = id.into_u64();
        if let Some(slot) = self.slot(id)
            && let Some((of, marker)) = &*slot
            && *of == id
        {
            return Some(*marker);
        }
        if self.overflowed.load(Ordering::Acquire) == 0 {
            return None;
        }
        self.overflow().get(&id).copied()
    }

    fn remove(&self, id: &Id) -> Option<Unsampled> {
        let id = id.into_u64();
        let in_slot = self.slot(id).and_then(|mut slot| match &*slot {
            Some((of, _)) if *of == id => slot.take().map(|(_, marker)| marker),
            _ => None,
        });
        // An id is in the slot or in the map, never both: inserted in the
        // map only while the slot holds another id, and taken out of the
        // map when it is put in the slot.
        if in_slot.is_some() || self.overflowed.load(Ordering::Acquire) == 0 {
            return in_slot;
        }
        let removed = self.overflow().remove(&id);
        if removed.is_some() {
            self.overflowed.fetch_sub(1, Ordering::AcqRel);
        }
        removed
    }
}

/// A random id for an unsampled span (wyrand on a per-thread state seeded
/// from std's per-thread random hash keys): never exported, only logged
/// and propagated, and cheaper than the SDK's generator (its thread's
/// `SmallRng` behind a `RefCell`). Not zero: zero ids are invalid.
fn random_u64() -> u64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new(seed());
    }
    loop {
        let n = STATE.with(|state| {
            let x = state.get().wrapping_add(0xa076_1d64_78bd_642f);
            state.set(x);
            let t = u128::from(x) * u128::from(x ^ 0xe703_7ed1_a0b4_28db);
            #[allow(clippy::cast_possible_truncation)]
            let (hi, lo) = ((t >> 64) as u64, t as u64);
            hi ^ lo
        });
        if n != 0 {
            return n;
        }
    }
}

fn seed() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_usize(std::ptr::from_ref(&hasher).addr());
    hasher.finish()
}

fn new_trace_id() -> TraceId {
    TraceId::from((u128::from(random_u64()) << 64) | u128::from(random_u64()))
}

fn new_span_id() -> SpanId {
    SpanId::from(random_u64())
}

/// A root span obs decided to keep, with the trace id it was decided on.
#[derive(Debug, Clone, Copy)]
struct KeptRoot(TraceId);

thread_local! {
    /// The trace id the SDK is to give the root span it starts now.
    static NEXT_TRACE_ID: Cell<Option<TraceId>> = const { Cell::new(None) };
}

// The last span this thread marked, so the marker checks of its record,
// enter, exit and close (four lookups per unsampled call: once in the
// registry, now in `Marks` and its locks) are a thread-local read. Sound because an entry is
// trusted only while no marked span has closed on a thread that did not
// hold it in its entry: a span closed on another thread than the one that
// marked it bumps `FOREIGN_CLOSES`, which voids every entry taken before,
// so a slot reused under the same id (the registry's ids carry a
// generation, but it wraps) never meets a stale entry. A miss falls back
// to the table.

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
    sampler: Sampler,
    choice: SamplerChoice,
    marks: Marks,
}

impl<L> SkipUnsampled<L> {
    fn owner(&self) -> Owner {
        std::ptr::from_ref(self) as Owner
    }

    /// Wraps `inner`, whose tracer samples with `choice`'s sampler and
    /// generates ids with [`DecidedIds`].
    pub(crate) fn new(inner: L, choice: SamplerChoice) -> Self {
        Self {
            inner,
            sampler: choice.sampler(),
            choice,
            marks: Marks::new(),
        }
    }

    /// The marker of `id`: this thread's entry, or the table.
    fn marker_of(&self, id: &Id) -> Option<Unsampled> {
        recalled(self.owner(), id).or_else(|| self.marks.get(id))
    }

    /// Marks `id` unsampled, in the table and in this thread's entry.
    fn mark(&self, id: &Id, marker: Unsampled) {
        self.marks.insert(id, marker);
        remember(self.owner(), id, marker);
    }

    /// The sampler's decision for a root span without a remote parent, on
    /// `trace_id`: every choice obs offers decides such a root on the
    /// trace id alone, so the SDK's sampler (its parent context, its
    /// result with attributes and trace state, 200 instructions) is not
    /// needed for it.
    fn decide_root(&self, trace_id: TraceId) -> bool {
        match self.choice {
            SamplerChoice::AlwaysOn | SamplerChoice::ParentBasedAlwaysOn => true,
            SamplerChoice::AlwaysOff | SamplerChoice::ParentBasedAlwaysOff => false,
            SamplerChoice::TraceIdRatio(ratio) | SamplerChoice::ParentBasedTraceIdRatio(ratio) => {
                by_ratio(ratio, trace_id)
            }
        }
    }
}

/// The SDK's `TraceIdRatioBased` decision (`opentelemetry_sdk` 0.33,
/// `sample_based_on_probability`): kept when the last eight bytes of the
/// trace id, shifted right by one, fall under `ratio` of 2^63. The unit
/// test `a_root_is_decided_as_the_sdk_decides_it` holds it to the SDK's.
fn by_ratio(ratio: f64, trace_id: TraceId) -> bool {
    if ratio >= 1.0 {
        return true;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let bound = (ratio.max(0.0) * (1u64 << 63) as f64) as u64;
    #[allow(clippy::cast_possible_truncation)]
    let low = u128::from_be_bytes(trace_id.to_bytes()) as u64;
    (low >> 1) < bound
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
            Some(parent.clone())
        } else if attrs.is_contextual() {
            ctx.current_span().id().cloned()
        } else {
            None
        };
        let of_parent = parent.as_ref().and_then(|parent| self.marker_of(parent));
        if let Some(of_parent) = of_parent {
            let marker = Unsampled {
                trace_id: of_parent.trace_id,
                span_id: new_span_id(),
                owned: false,
            };
            self.mark(id, marker);
            return;
        }
        if parent.is_none() && decided_early(attrs.metadata()) {
            // The remote parent, when the current OpenTelemetry context
            // has one (the server span is created with the incoming
            // `traceparent` attached); the context is cloned only then.
            let remote = if attrs.is_contextual() {
                opentelemetry::Context::map_current(|cx| {
                    cx.has_active_span()
                        .then(|| cx.span().span_context().clone())
                })
                .filter(SpanContext::is_valid)
            } else {
                None
            };
            let (trace_id, keep) = match &remote {
                None => {
                    let trace_id = new_trace_id();
                    (trace_id, self.decide_root(trace_id))
                }
                Some(remote) => {
                    let result = self.sampler.should_sample(
                        Some(&opentelemetry::Context::current()),
                        remote.trace_id(),
                        attrs.metadata().name(),
                        &SpanKind::Internal,
                        &[],
                        &[],
                    );
                    (remote.trace_id(), result.decision != SamplingDecision::Drop)
                }
            };
            if !keep {
                let marker = Unsampled {
                    trace_id,
                    span_id: new_span_id(),
                    owned: false,
                };
                self.mark(id, marker);
                return;
            }
            // A new span under an id this thread's entry names is not that
            // entry's span (it closed): never trusted again. (A marked
            // span's entry replaces it.)
            forget(self.owner(), id);
            self.inner.on_new_span(attrs, id, ctx.clone());
            if remote.is_none()
                && let Some(span) = ctx.span(id)
            {
                span.extensions_mut().replace(KeptRoot(trace_id));
            }
            return;
        }
        forget(self.owner(), id);
        self.inner.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if self.marker_of(id).is_none() {
            self.inner.on_record(id, values, ctx);
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, S>) {
        if self.marker_of(id).is_none() {
            self.inner.on_follows_from(id, follows, ctx);
        }
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let span = if let Some(parent) = event.parent() {
            Some(parent.clone())
        } else if event.is_contextual() {
            ctx.current_span().id().cloned()
        } else {
            None
        };
        if span.and_then(|span| self.marker_of(&span)).is_none() {
            self.inner.on_event(event, ctx);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        match self.marker_of(id) {
            Some(Unsampled { owned: false, .. }) => return,
            Some(Unsampled { owned: true, .. }) => {
                self.inner.on_enter(id, ctx);
                return;
            }
            None => {}
        }
        let kept = ctx
            .span(id)
            .and_then(|span| span.extensions().get::<KeptRoot>().copied());
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
            self.mark(id, marker);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if !matches!(self.marker_of(id), Some(Unsampled { owned: false, .. })) {
            self.inner.on_exit(id, ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let marked = if let Some(recalled) = recalled(self.owner(), &id) {
            forget(self.owner(), &id);
            self.marks.remove(&id);
            Some(recalled)
        } else {
            let marked = self.marks.remove(&id);
            if marked.is_some() && !forget(self.owner(), &id) {
                // Another thread's entry may name it: void every entry.
                FOREIGN_CLOSES.fetch_add(1, Ordering::AcqRel);
            }
            marked
        };
        match marked {
            Some(Unsampled { owned: false, .. }) => {}
            // Marked spans are never kept roots.
            Some(Unsampled { owned: true, .. }) => self.inner.on_close(id, ctx),
            None => {
                // A span never entered is started here.
                let kept = ctx
                    .span(&id)
                    .and_then(|span| span.extensions().get::<KeptRoot>().copied());
                with_kept_root(kept, || self.inner.on_close(id, ctx));
            }
        }
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, S>) {
        self.inner.on_id_change(old, new, ctx);
    }

    // SAFETY: `Self` is answered with a pointer to `self`, `Marks` with one
    // to its field (valid as long as `self`, which the subscriber owns);
    // every other type is the wrapped layer's to answer
    // (`tracing-opentelemetry` finds its context accessor this way), with
    // the same guarantee.
    #[allow(unsafe_code)]
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            Some(std::ptr::from_ref(self).cast())
        } else if id == TypeId::of::<Marks>() {
            Some(std::ptr::from_ref(&self.marks).cast())
        } else {
            // SAFETY: forwarded as is; see above.
            unsafe { self.inner.downcast_raw(id) }
        }
    }
}

/// The marker of `span`, when it is an unsampled span of the current
/// subscriber (one with `init()`'s trace layer).
pub(crate) fn unsampled(span: &tracing::Span) -> Option<Unsampled> {
    unsampled_id(&span.id()?)
}

/// The marker of the span `id` of the current subscriber, when it is an
/// unsampled span (for a caller that has the id but no `Span` handle).
pub(crate) fn unsampled_id(id: &Id) -> Option<Unsampled> {
    tracing::dispatcher::get_default(|dispatch| dispatch.downcast_ref::<Marks>()?.get(id))
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

    #[test]
    fn a_root_is_decided_as_the_sdk_decides_it() {
        let choices = [
            SamplerChoice::AlwaysOn,
            SamplerChoice::AlwaysOff,
            SamplerChoice::ParentBasedAlwaysOn,
            SamplerChoice::ParentBasedAlwaysOff,
            SamplerChoice::TraceIdRatio(0.1),
            SamplerChoice::ParentBasedTraceIdRatio(0.1),
            SamplerChoice::ParentBasedTraceIdRatio(0.5),
            SamplerChoice::ParentBasedTraceIdRatio(0.0),
            SamplerChoice::ParentBasedTraceIdRatio(1.0),
            SamplerChoice::TraceIdRatio(-1.0),
        ];
        let edges = [
            TraceId::from_bytes([0; 16]),
            TraceId::from_bytes([0xff; 16]),
            TraceId::from(0x0ccc_cccc_cccc_cccc_u128 << 1),
            TraceId::from((0x0ccc_cccc_cccc_cccc_u128 << 1) + 2),
        ];
        for choice in choices {
            let layer = SkipUnsampled::new((), choice);
            let mut kept = 0;
            for trace_id in (0..2_000).map(|_| new_trace_id()).chain(edges) {
                let sdk = choice.sampler().should_sample(
                    Some(&opentelemetry::Context::new()),
                    trace_id,
                    "root",
                    &SpanKind::Internal,
                    &[],
                    &[],
                );
                let ours = layer.decide_root(trace_id);
                assert_eq!(
                    ours,
                    sdk.decision != SamplingDecision::Drop,
                    "{choice:?} on {trace_id}"
                );
                kept += usize::from(ours);
            }
            if choice == SamplerChoice::ParentBasedTraceIdRatio(0.5) {
                assert!((800..1_200).contains(&kept), "{kept} of 2,004 kept at 0.5");
            }
        }
    }

    #[test]
    fn a_marker_is_found_by_its_id_until_removed() {
        let marks = Marks::new();
        let marker = Unsampled {
            trace_id: TraceId::from_bytes([1; 16]),
            span_id: SpanId::from_bytes([2; 8]),
            owned: false,
        };
        let ids: Vec<Id> = (1..=1_000).map(|n| Id::from_u64(n * 4_099)).collect();
        for id in &ids {
            marks.insert(id, marker);
        }
        assert!(ids.iter().all(|id| marks.get(id) == Some(marker)));
        assert!(
            marks.overflowed.load(Ordering::Acquire) > 0,
            "1,000 ids in 1,024 slots meet"
        );
        assert_eq!(marks.get(&Id::from_u64(3)), None);
        for id in &ids {
            assert_eq!(marks.remove(id), Some(marker));
        }
        assert!(ids.iter().all(|id| marks.get(id).is_none()));
        assert_eq!(marks.overflowed.load(Ordering::Acquire), 0);
        // Inserted in the map while its slot was taken, then again once
        // the slot is free: in one place only, gone once removed.
        let a = Id::from_u64(1);
        let slot_of =
            |id: &Id| id.into_u64().wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - SLOTS_LOG2);
        let c = (2..u64::MAX)
            .map(Id::from_u64)
            .find(|c| slot_of(c) == slot_of(&a))
            .unwrap_or(Id::from_u64(2));
        marks.insert(&a, marker);
        marks.insert(&c, marker);
        assert_eq!(marks.overflowed.load(Ordering::Acquire), 1);
        marks.remove(&a);
        marks.insert(&c, marker);
        assert_eq!(marks.overflowed.load(Ordering::Acquire), 0);
        assert_eq!(marks.remove(&c), Some(marker));
        assert_eq!(marks.get(&c), None);
    }

    #[test]
    fn unsampled_ids_are_valid_and_differ() {
        let ids: std::collections::HashSet<_> = (0..10_000).map(|_| new_span_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| *id != SpanId::INVALID));
        let other = std::thread::spawn(new_trace_id).join().ok();
        assert_ne!(other, Some(new_trace_id()), "threads draw apart");
    }
}
