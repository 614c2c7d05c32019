//! The global filter while error tracking runs: `RUST_LOG` decides, except
//! that the spans of `#[instrumented]` calls and their `exception` events
//! are always kept. Error tracking reports an `Err` once, at the outermost
//! frame that returns it, and needs the frames for that; a filter such as
//! `RUST_LOG=warn` would otherwise disable every frame's span and leave
//! each frame to report the same error on its own.

use tracing::Metadata;
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::Context;

/// `RUST_LOG`'s filter, keeping what error tracking needs.
pub(crate) struct KeepFrames(pub(crate) EnvFilter);

/// The span of an `#[instrumented]` call (it declares the `result` field
/// the call guard records), or the `exception` event of one.
fn needed(meta: &Metadata<'_>) -> bool {
    let fields = meta.fields();
    if meta.is_span() {
        fields.field("result").is_some()
    } else {
        fields.field("exception.type").is_some()
    }
}

impl<S> tracing_subscriber::Layer<S> for KeepFrames
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if needed(meta) {
            Interest::always()
        } else {
            <EnvFilter as tracing_subscriber::Layer<S>>::register_callsite(&self.0, meta)
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        needed(meta) || <EnvFilter as tracing_subscriber::Layer<S>>::enabled(&self.0, meta, ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Frames are INFO spans, their exceptions ERROR events.
        <EnvFilter as tracing_subscriber::Layer<S>>::max_level_hint(&self.0)
            .map(|hint| hint.max(LevelFilter::INFO))
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.0.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.0.on_record(id, values, ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.0.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.0.on_exit(id, ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        self.0.on_close(id, ctx);
    }
}
