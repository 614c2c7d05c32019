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

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::hash::{Hash as _, Hasher};

use tracing::callsite::Identifier;

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

/// What the spans of one call site can give log lines, decided once per
/// call site (per thread): most spans (every `#[instrumented]` call, obs's
/// own HTTP spans) give nothing, and their new spans and records are then
/// passed over without visiting a value or looking the span up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Site {
    /// The call site declares a `request_id` field.
    request_id: bool,
    /// Its spans can contribute log context ([`may_contribute`]).
    context: bool,
}

impl Site {
    fn of(meta: &tracing::Metadata<'_>) -> Self {
        Self {
            request_id: meta.fields().field("request_id").is_some(),
            context: may_contribute(meta),
        }
    }
}

/// Slots of the per-thread cache of call-site verdicts.
const SITE_SLOTS: usize = 64;

type SiteSlots = [Option<(Identifier, Site)>; SITE_SLOTS];

thread_local! {
    static SITES: RefCell<SiteSlots> = const { RefCell::new([const { None }; SITE_SLOTS]) };
}

/// A multiplicative hasher for a call site's address: enough to spread
/// statics over a few slots (a clash only costs a recomputation).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

fn slot_of(callsite: &Identifier) -> usize {
    let mut h = AddressHasher::default();
    callsite.hash(&mut h);
    // The top bits of the product are the well-mixed ones.
    (h.finish() >> 58) as usize % SITE_SLOTS
}

/// The cached verdict for `callsite`, if this thread has one.
fn cached(callsite: &Identifier) -> Option<Site> {
    let slot = slot_of(callsite);
    SITES
        .try_with(|sites| {
            let sites = sites.try_borrow().ok()?;
            match sites.get(slot) {
                Some(Some((cs, site))) if cs == callsite => Some(*site),
                _ => None,
            }
        })
        .ok()
        .flatten()
}

/// The verdict for `meta`'s call site, computed on a miss and kept.
pub(super) fn site_of(meta: &tracing::Metadata<'_>) -> Site {
    let callsite = meta.callsite();
    if let Some(site) = cached(&callsite) {
        return site;
    }
    let site = Site::of(meta);
    let slot = slot_of(&callsite);
    let _ = SITES.try_with(|sites| {
        if let Ok(mut sites) = sites.try_borrow_mut()
            && let Some(entry) = sites.get_mut(slot)
        {
            *entry = Some((callsite, site));
        }
    });
    site
}

/// Finds a `request_id` among a span's fields.
struct FindRequestId(Option<String>);

impl Visit for FindRequestId {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "request_id" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "request_id" {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

/// One visit of a span's values for what log lines take from it: the
/// request id and (when `context`) the context fields. The call site's
/// verdict is settled at the first value (from the cache, else through
/// `resolve`, which looks the span up); values of a site that gives
/// nothing are passed over.
struct Take<'r> {
    site: Option<Site>,
    resolve: &'r dyn Fn(&Field) -> Site,
    context: bool,
    request_id: FindRequestId,
    fields: Collect,
}

impl<'r> Take<'r> {
    fn new(site: Option<Site>, resolve: &'r dyn Fn(&Field) -> Site, context: bool) -> Self {
        Self {
            site,
            resolve,
            context,
            request_id: FindRequestId(None),
            fields: Collect::default(),
        }
    }

    /// Whether `field`'s value is worth a look: which of the two visitors
    /// want it.
    fn wants(&mut self, field: &Field) -> (bool, bool) {
        let site = if let Some(site) = self.site {
            site
        } else {
            let site = (self.resolve)(field);
            self.site = Some(site);
            site
        };
        (site.request_id, self.context && site.context)
    }
}

impl Visit for Take<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let (rid, ctx) = self.wants(field);
        if rid {
            self.request_id.record_str(field, value);
        }
        if ctx {
            self.fields.record_str(field, value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let (rid, ctx) = self.wants(field);
        if rid {
            self.request_id.record_debug(field, value);
        }
        if ctx {
            self.fields.record_debug(field, value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        let (rid, ctx) = self.wants(field);
        if rid {
            self.request_id.record_i64(field, value);
        }
        if ctx {
            self.fields.record_i64(field, value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        let (rid, ctx) = self.wants(field);
        if rid {
            self.request_id.record_u64(field, value);
        }
        if ctx {
            self.fields.record_u64(field, value);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        let (rid, ctx) = self.wants(field);
        if rid {
            self.request_id.record_bool(field, value);
        }
        if ctx {
            self.fields.record_bool(field, value);
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        let (rid, ctx) = self.wants(field);
        if rid {
            self.request_id.record_f64(field, value);
        }
        if ctx {
            self.fields.record_f64(field, value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let (rid, ctx) = self.wants(field);
        if rid {
            self.request_id.record_error(field, value);
        }
        if ctx {
            self.fields.record_error(field, value);
        }
    }
}

thread_local! {
    /// A request id handed over for the span created next on this thread
    /// ([`hand_request_id`]).
    static HANDED: std::cell::RefCell<Option<http::HeaderValue>> =
        const { std::cell::RefCell::new(None) };
}

/// Hands `id` to the span the caller creates next on this thread, if its
/// call site records a `request_id`: that span's fields are then not
/// visited to find it (the HTTP layer's server span, whose id the layer
/// holds already). Over when the returned guard is dropped.
#[cfg_attr(
    not(feature = "tower"),
    allow(
        dead_code,
        reason = "the HTTP layer (feature `tower`) is its one caller"
    )
)]
pub(crate) fn hand_request_id(id: &http::HeaderValue) -> Handed {
    let _ = HANDED.try_with(|handed| {
        if let Ok(mut handed) = handed.try_borrow_mut() {
            *handed = Some(id.clone());
        }
    });
    Handed(())
}

/// The hand-over of [`hand_request_id`], withdrawn when dropped.
#[cfg_attr(
    not(feature = "tower"),
    allow(dead_code, reason = "made by `hand_request_id` only")
)]
pub(crate) struct Handed(());

impl Drop for Handed {
    fn drop(&mut self) {
        let _ = HANDED.try_with(|handed| {
            if let Ok(mut handed) = handed.try_borrow_mut() {
                handed.take();
            }
        });
    }
}

/// The request id handed over for the span being created, if any.
fn handed() -> Option<http::HeaderValue> {
    HANDED
        .try_with(|handed| handed.try_borrow().ok().and_then(|h| h.clone()))
        .ok()
        .flatten()
}

/// A new span: its request id and (when `context`) its context fields,
/// kept in its extensions.
pub(super) fn on_new_span<S>(attrs: &Attributes<'_>, id: &Id, ctx: &Context<'_, S>, context: bool)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let site = site_of(attrs.metadata());
    if !(site.request_id || context && site.context) {
        return;
    }
    if site.request_id
        && !(context && site.context)
        && let Some(request_id) = handed()
    {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut()
                .replace(super::RequestId::Header(request_id));
        }
        return;
    }
    let resolve = |_: &Field| site;
    let mut take = Take::new(Some(site), &resolve, context);
    attrs.record(&mut take);
    keep(id, ctx, take);
}

/// A record on a span: as [`on_new_span`], merged into what the span
/// keeps.
pub(super) fn on_record<S>(id: &Id, values: &Record<'_>, ctx: &Context<'_, S>, context: bool)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    // A record carries no metadata: the first value's field names the
    // call site; a site not cached yet on this thread is found through
    // the span.
    let resolve = |field: &Field| {
        cached(&field.callsite()).unwrap_or_else(|| {
            ctx.metadata(id).map_or(
                Site {
                    request_id: false,
                    context: false,
                },
                site_of,
            )
        })
    };
    let mut take = Take::new(None, &resolve, context);
    values.record(&mut take);
    keep(id, ctx, take);
}

/// Writes what `take` found into the span's extensions.
fn keep<S>(id: &Id, ctx: &Context<'_, S>, take: Take<'_>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Take {
        request_id: FindRequestId(request_id),
        fields: Collect(found),
        ..
    } = take;
    if request_id.is_none() && found.fields.is_empty() {
        return;
    }
    let Some(span) = ctx.span(id) else {
        return;
    };
    let mut extensions = span.extensions_mut();
    if let Some(rid) = request_id {
        // `replace`, not `insert` (which panics on a second value): a
        // subscriber may stack two obs log layers (console and file).
        extensions.replace(super::RequestId::Text(rid));
    }
    if !found.fields.is_empty() {
        if let Some(context) = extensions.get_mut::<SpanContext>() {
            context.merge(found);
        } else {
            extensions.insert(found);
        }
    }
}

/// Keeps each span's request id and renders and keeps its context fields
/// (see the module documentation): the request-id layer and the context
/// layer in one, so each record is visited once.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ContextLayer;

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for ContextLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        on_new_span(attrs, id, &ctx, true);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        on_record(id, values, &ctx, true);
    }
}

/// The names written so far by [`write`]: on the stack up to 16, then in
/// a hash set, so a deep stack of spans with many fields stays linear.
#[derive(Default)]
pub(crate) struct Seen {
    inline: [&'static str; 16],
    len: usize,
    spill: std::collections::HashSet<&'static str>,
}

impl Seen {
    fn contains(&self, name: &str) -> bool {
        self.inline.iter().take(self.len).any(|n| *n == name) || self.spill.contains(name)
    }

    fn push(&mut self, name: &'static str) {
        if let Some(slot) = self.inline.get_mut(self.len) {
            *slot = name;
            self.len += 1;
        } else {
            self.spill.insert(name);
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
    fn seen_names_past_the_inline_slots_are_found() {
        let names: Vec<&'static str> = (0..200)
            .map(|i| &*Box::leak(format!("field_{i}").into_boxed_str()))
            .collect();
        let mut seen = super::Seen::default();
        for (i, name) in names.iter().enumerate() {
            assert!(!seen.contains(name), "{name} before it was pushed");
            seen.push(name);
            assert!(names.iter().take(i + 1).all(|n| seen.contains(n)));
        }
        assert!(!seen.contains("field_200"));
        assert_eq!(seen.len + seen.spill.len(), 200);
    }

    #[test]
    fn records_are_kept_by_call_site_even_when_the_site_is_not_cached() {
        use tracing::field::Empty;
        let (layer, lines) = capture(LogFormat::Json);
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("req", request_id = Empty, tenant = Empty);
            // This thread forgets every verdict: the records below find
            // their call site through the span.
            super::SITES.with(|s| *s.borrow_mut() = [const { None }; super::SITE_SLOTS]);
            span.record("request_id", "r-1");
            span.record("tenant", "acme");
            span.in_scope(|| tracing::info!("inside"));
            // obs's own spans keep their request id, and no context.
            let own = tracing::info_span!(target: "obs::http", "HTTP request", request_id = "r-2", user = Empty);
            own.record("user", "ada");
            own.in_scope(|| tracing::info!("served"));
            // A call site with neither: its records are passed over.
            let plain = tracing::info_span!("plain", result = Empty);
            plain.record("result", "ok");
            plain.in_scope(|| tracing::info!("plain"));
        });
        let got = lines.lines();
        let line = |m: &str| {
            got.iter()
                .find(|l| l.contains(&format!(r#""message":"{m}""#)))
                .cloned()
                .unwrap()
        };
        let inside = line("inside");
        assert!(inside.contains(r#""request_id":"r-1""#), "{inside}");
        assert!(inside.contains(r#""tenant":"acme""#), "{inside}");
        let served = line("served");
        assert!(served.contains(r#""request_id":"r-2""#), "{served}");
        assert!(!served.contains("ada"), "{served}");
        let plain = line("plain");
        assert!(
            !plain.contains("result") && !plain.contains("request_id"),
            "{plain}"
        );
    }

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
