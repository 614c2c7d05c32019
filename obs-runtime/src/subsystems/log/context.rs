//! Log context from enclosing spans, as structlog's context variables: the
//! fields a span records (`info_span!("mission", mission_id = %id)`, and
//! later `span.record(..)`) reach every log line emitted inside it.
//!
//! Each field is sanitized (the same [`redact`] boundary as event fields)
//! and rendered once, when the span records it, into the span's
//! extensions; an event only copies the rendered text. The innermost span
//! wins when two record the same name, and an event's own field wins over
//! both.
//!
//! Left out: obs's own spans (target `obs::…`: the HTTP, client and job
//! spans, whose request id and trace ids are on the line already and whose
//! semantic-convention attributes are on the span), the names a line
//! carries itself (`message`, `request_id`, `trace_id`, `span_id`,
//! `service.name`, …), and the bookkeeping of `#[instrumented]` spans
//! (`code.*`, `otel.*`, `result`). The fields given in
//! `#[instrumented(fields(..))]` do flow.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::leaves::json::json_string;
use crate::leaves::redact;

/// A field name that a span never passes on to log lines.
fn left_out(name: &str) -> bool {
    matches!(
        name,
        "message"
            | "request_id"
            | "trace_id"
            | "span_id"
            | "timestamp"
            | "level"
            | "target"
            | "service.name"
            | "result"
    ) || name.starts_with("otel.")
        || name.starts_with("code.")
        || name.starts_with("log.")
}

/// One recorded field, sanitized and rendered as it is written: a line
/// only copies it.
#[derive(Debug, Clone)]
struct ContextField {
    name: &'static str,
    /// `,"tenant":"acme"` (escaped, quoted) or `,"attempt":3`.
    json: String,
    /// ` tenant="acme"`, for the console (JSON escaping leaves no control
    /// character).
    pretty: String,
}

/// The log context a span contributes, kept in its extensions.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpanContext {
    fields: Vec<ContextField>,
}

impl SpanContext {
    /// Sets `name` to `value` (a JSON value), replacing an earlier value
    /// of that name.
    fn set(&mut self, name: &'static str, value: &str) {
        let mut json = String::with_capacity(name.len() + value.len() + 4);
        json.push(',');
        json_string(&mut json, name);
        json.push(':');
        json.push_str(value);
        let pretty = format!(" {name}={value}");
        let field = ContextField { name, json, pretty };
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == name) {
            *f = field;
        } else {
            self.fields.push(field);
        }
    }

    /// Sets every field of `other` here.
    fn merge(&mut self, other: Self) {
        for field in other.fields {
            if let Some(f) = self.fields.iter_mut().find(|f| f.name == field.name) {
                *f = field;
            } else {
                self.fields.push(field);
            }
        }
    }
}

/// Collects the fields of a span worth passing on.
#[derive(Default)]
struct Collect(SpanContext);

impl Collect {
    fn text(&mut self, field: &Field, value: &str) {
        let name = field.name();
        if left_out(name) {
            return;
        }
        let redacted = redact::redact_field(name, value);
        let capped = crate::leaves::text::cap(&redacted);
        let mut json = String::with_capacity(capped.len() + 2);
        json_string(&mut json, &capped);
        self.0.set(name, &json);
    }

    fn raw(&mut self, field: &Field, value: &dyn fmt::Display) {
        let name = field.name();
        if left_out(name) {
            return;
        }
        let mut json = String::new();
        let _ = write!(json, "{value}");
        self.0.set(name, &json);
    }
}

impl Visit for Collect {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if left_out(field.name()) {
            return;
        }
        let text = format!("{value:?}");
        // `#[instrumented(fields(name))]` records an argument's Debug: a
        // string's quotes are not part of its value.
        let text = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(inner) => inner,
            None => &text,
        };
        self.text(field, text);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.raw(field, &value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.raw(field, &value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.raw(field, &value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.raw(field, &value);
        } else {
            // JSON has no NaN or infinity.
            self.text(field, &value.to_string());
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.text(field, &value.to_string());
    }
}

/// Whether spans of `meta` can contribute: not obs's own, and with at
/// least one field that is not left out.
fn may_contribute(meta: &tracing::Metadata<'_>) -> bool {
    !meta.target().starts_with("obs::") && meta.fields().iter().any(|f| !left_out(f.name()))
}

/// Renders and keeps each span's context fields (see the module
/// documentation).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ContextLayer;

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for ContextLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !may_contribute(attrs.metadata()) {
            return;
        }
        let mut collect = Collect::default();
        attrs.record(&mut collect);
        if collect.0.fields.is_empty() {
            return;
        }
        if let Some(span) = ctx.span(id) {
            // `replace`: a subscriber may stack two obs log layers.
            span.extensions_mut().replace(collect.0);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut collect = Collect::default();
        values.record(&mut collect);
        // Most records (`result`, `otel.status_code` of every instrumented
        // call) keep nothing: no span lookup then.
        if collect.0.fields.is_empty() {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        if span.metadata().target().starts_with("obs::") {
            return;
        }
        let mut extensions = span.extensions_mut();
        if let Some(context) = extensions.get_mut::<SpanContext>() {
            context.merge(collect.0);
        } else {
            extensions.insert(collect.0);
        }
    }
}

/// The names written so far by [`write`]: on the stack up to 16.
#[derive(Default)]
pub(crate) struct Seen {
    inline: [&'static str; 16],
    len: usize,
    spill: Vec<&'static str>,
}

impl Seen {
    fn contains(&self, name: &str) -> bool {
        self.inline.iter().take(self.len).any(|n| *n == name) || self.spill.contains(&name)
    }

    fn push(&mut self, name: &'static str) {
        if let Some(slot) = self.inline.get_mut(self.len) {
            *slot = name;
            self.len += 1;
        } else {
            self.spill.push(name);
        }
    }
}

/// Appends one span's context as JSON members, or ` key=value` pairs when
/// `json` is false; a name the event has itself, or in `seen` (recorded by
/// an inner span, written already), is skipped. Called for each span in
/// scope, innermost first.
pub(crate) fn write(
    out: &mut String,
    json: bool,
    event: &Event<'_>,
    context: &SpanContext,
    seen: &mut Seen,
) {
    for f in &context.fields {
        if seen.contains(f.name) || event.metadata().fields().field(f.name).is_some() {
            continue;
        }
        seen.push(f.name);
        out.push_str(if json { &f.json } else { &f.pretty });
    }
}

#[cfg(test)]
mod tests {
    use crate::subsystems::log::{LogFormat, capture};
    use tracing_subscriber::layer::SubscriberExt as _;

    #[test]
    fn console_lines_carry_the_context_escaped() {
        let (layer, lines) = capture(LogFormat::Pretty);
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("job", tenant = "ac\x1b[31mme", token = "t-1", n = 3);
            span.in_scope(|| tracing::info!("working"));
            // obs's own spans pass nothing on.
            tracing::info_span!(target: "obs::http", "HTTP request", http.route = "/x")
                .in_scope(|| tracing::info!("served"));
        });
        let got = lines.lines();
        let working = got.iter().find(|l| l.contains("working")).unwrap();
        assert!(
            working.ends_with(r#" working tenant="ac\u001b[31mme" token="[REDACTED]" n=3"#),
            "{working}"
        );
        let served = got.iter().find(|l| l.contains("served")).unwrap();
        assert!(!served.contains("http.route"), "{served}");
    }
}
