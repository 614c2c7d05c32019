//! Structured logs through `tracing-subscriber`: one JSON object per line in
//! production, a readable line in development.
//!
//! Every event carries `timestamp` (RFC 3339, UTC), `level`, `target`,
//! `message` and its fields; inside a span also `trace_id` and `span_id`
//! (with the `otlp` feature) and `request_id` when a span in scope recorded
//! one. Field values pass through [`crate::redact`]: a sensitive field name
//! gives `"[REDACTED]"`, other strings have e-mail addresses, card numbers,
//! tokens and the like replaced; then a value longer than [`MAX_VALUE_LEN`]
//! is cut, ending in `…[truncated N bytes]`. Console output escapes
//! control characters, so no message can forge a log line.
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt as _;
//!
//! let (layer, _lines) = obs_runtime::log::capture(obs_runtime::log::LogFormat::Json);
//! let subscriber = tracing_subscriber::registry().with(layer);
//! tracing::subscriber::with_default(subscriber, || {
//!     tracing::info!(password = "hunter2", "signed in as ada@example.com");
//! });
//! let line = &_lines.lines()[0];
//! assert!(line.contains(r#""password":"[REDACTED]""#));
//! assert!(line.contains("signed in as [EMAIL]"));
//! ```

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

pub(crate) mod context;
mod file;
pub(crate) mod panic;
pub(crate) mod probe;
pub(crate) mod queue;
mod rate_limit;

pub use crate::leaves::text::MAX_VALUE_LEN;
pub use file::LogFiles;
pub(crate) use file::{RollingFile, Tidier};
pub(crate) use queue::{FLUSH_DEADLINE, LogQueue, QUEUE_LINES};
pub use rate_limit::{RateLimit, RateLimitError};
use rate_limit::{RateLimiter, Verdict};

use crate::leaves::json::json_string;
use crate::leaves::redact;
use crate::leaves::text::{give_back, take_spare, write_f64, write_i64, write_u64};

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (production).
    Json,
    /// A readable line, coloured on a terminal (development).
    Pretty,
}

/// Writes `t` as RFC 3339 in UTC with microseconds: `2026-11-23T15:41:32.123456Z`.
pub(crate) fn rfc3339(out: &mut String, t: SystemTime) {
    crate::leaves::time::rfc3339(out, t, crate::leaves::time::Precision::Micros);
}

/// The `log.target`, `log.file`, … fields that carry a `log` record's
/// metadata, shown through the normalized metadata instead.
fn is_log_metadata(name: &str) -> bool {
    name.starts_with("log.")
}

/// The target of the HTTP layer's access line.
const ACCESS_TARGET: &str = "obs::access";

/// The request id of a span, kept when the span records a `request_id`
/// field, or handed over by the HTTP layer for its server span (the bytes
/// of the request's header, shared).
#[derive(Debug, Clone)]
enum RequestId {
    Text(String),
    Header(http::HeaderValue),
}

impl RequestId {
    fn as_str(&self) -> &str {
        match self {
            Self::Text(text) => text,
            Self::Header(value) => value.to_str().unwrap_or_default(),
        }
    }
}

/// Collects an event's fields, redacted, as JSON members or `key=value`.
struct Fields<'a> {
    format: LogFormat,
    out: &'a mut String,
    message: Option<String>,
    /// The event carries its own `request_id`: the span's is not repeated.
    has_request_id: bool,
}

impl Fields<'_> {
    fn member(&mut self, name: &str) {
        self.has_request_id |= name == "request_id";
        match self.format {
            LogFormat::Json => {
                self.out.push(',');
                json_string(self.out, name);
                self.out.push(':');
            }
            LogFormat::Pretty => {
                self.out.push(' ');
                self.out.push_str(name);
                self.out.push('=');
            }
        }
    }

    fn text(&mut self, name: &'static str, value: &str) {
        if is_log_metadata(name) {
            return;
        }
        let redacted = redact::redact_static_field(name, value);
        let value = crate::leaves::text::cap(&redacted);
        if name == "message" {
            let mut message = self.message.take().unwrap_or_else(|| take_spare(&MESSAGE));
            message.clear();
            message.push_str(&value);
            self.message = Some(message);
            return;
        }
        self.member(name);
        match self.format {
            LogFormat::Json => json_string(self.out, &value),
            LogFormat::Pretty => {
                let _ = write!(self.out, "{:?}", redact::escape_console(&value));
            }
        }
    }

    /// The message, kept as formatted when redaction and the cap leave it
    /// as it is (no second copy).
    fn message(&mut self, text: String) {
        let changed = {
            let redacted = redact::redact_static_field("message", &text);
            let value = crate::leaves::text::cap(&redacted);
            match (&redacted, &value) {
                (Cow::Borrowed(_), Cow::Borrowed(_)) => None,
                _ => Some(value.into_owned()),
            }
        };
        self.message = Some(changed.unwrap_or(text));
    }

    /// A number or a boolean, written as `Display` writes it (numbers
    /// without the formatting machinery).
    fn raw(&mut self, name: &str, value: Raw) {
        if is_log_metadata(name) {
            return;
        }
        self.member(name);
        match value {
            Raw::U64(v) => write_u64(self.out, v),
            Raw::I64(v) => write_i64(self.out, v),
            Raw::F64(v) => write_f64(self.out, v),
            Raw::Bool(v) => self.out.push_str(if v { "true" } else { "false" }),
        }
    }
}

thread_local! {
    /// The spare buffers of a thread's log lines: the line, its message,
    /// and a field's text rendered by `Debug`.
    static LINE: Cell<String> = const { Cell::new(String::new()) };
    static MESSAGE: Cell<String> = const { Cell::new(String::new()) };
    static FIELD: Cell<String> = const { Cell::new(String::new()) };
}

/// A field value written bare.
#[derive(Clone, Copy)]
enum Raw {
    U64(u64),
    I64(i64),
    F64(f64),
    Bool(bool),
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field.name(), value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `message` arrives as `format_args!`, whose Debug is the text.
        if field.name() == "message" {
            let mut text = take_spare(&MESSAGE);
            let _ = write!(text, "{value:?}");
            self.message(text);
        } else {
            let mut text = take_spare(&FIELD);
            let _ = write!(text, "{value:?}");
            self.text(field.name(), &text);
            give_back(&FIELD, text);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.raw(field.name(), Raw::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.raw(field.name(), Raw::U64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.raw(field.name(), Raw::Bool(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.raw(field.name(), Raw::F64(value));
        } else {
            // JSON has no NaN or infinity.
            self.text(field.name(), &value.to_string());
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.text(field.name(), &value.to_string());
    }
}

/// Keeps a span's `request_id`, so every event inside it can carry it.
#[derive(Debug, Default, Clone, Copy)]
pub struct RequestIdLayer;

/// The `request_id` the innermost span in scope recorded (kept by
/// [`RequestIdLayer`], as log lines find it), for work that takes it
/// elsewhere: a job's `TraceCarrier`, an outbound call's `X-Request-ID`.
/// `None` outside such a span, or when the subscriber is not built on
/// `tracing_subscriber`'s registry (obs's own, from `init()`).
pub(crate) fn current_request_id() -> Option<String> {
    tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let current = dispatch.current_span();
        let span = registry.span(current.id()?)?;
        span.scope().find_map(|s| {
            s.extensions()
                .get::<RequestId>()
                .map(|r| r.as_str().to_owned())
        })
    })
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for RequestIdLayer {
    // Spans whose call site has no `request_id` field (every
    // `#[instrumented]` call) are passed over, decided once per call site.
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        context::on_new_span(attrs, id, &ctx, false);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        context::on_record(id, values, &ctx, false);
    }
}

/// The `tracing-subscriber` event formatter of obs.
#[derive(Debug, Clone)]
pub struct ObsFormat {
    format: LogFormat,
    limiter: Option<Arc<RateLimiter>>,
    /// `,"service.name":"checkout"`, rendered once.
    service: String,
    /// The "suppressed N events" notice at the level of the events it
    /// stands for, not `WARN` (the error file holds `ERROR` lines only).
    notice_at_event_level: bool,
}

impl ObsFormat {
    /// A formatter for `format`.
    ///
    /// ```
    /// let _json = obs_runtime::log::ObsFormat::new(obs_runtime::log::LogFormat::Json);
    /// ```
    #[must_use]
    pub fn new(format: LogFormat) -> Self {
        Self {
            format,
            limiter: None,
            service: service_member(&default_service_name()),
            notice_at_event_level: false,
        }
    }

    /// The `service.name` every JSON line carries (default: what
    /// `OTEL_SERVICE_NAME` says, else `unknown_service:<executable>`, as
    /// the trace resource).
    ///
    /// ```
    /// use obs_runtime::log::{LogFormat, ObsFormat};
    /// let _named = ObsFormat::new(LogFormat::Json).service_name("checkout");
    /// ```
    #[must_use]
    pub fn service_name(mut self, name: &str) -> Self {
        self.service = service_member(name);
        self
    }

    /// Limits how many events each call site writes ([`RateLimit`]).
    ///
    /// ```
    /// use obs_runtime::log::{LogFormat, ObsFormat, RateLimit};
    /// let _limited = ObsFormat::new(LogFormat::Json).rate_limit(RateLimit::default());
    /// ```
    #[must_use]
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.limiter = Some(Arc::new(RateLimiter::new(limit, true)));
        self
    }

    fn notice_level(&self, meta: &tracing::Metadata<'_>) -> &'static str {
        if self.notice_at_event_level {
            meta.level().as_str()
        } else {
            "WARN"
        }
    }

    /// The line that stands for `n` events of `meta`'s call site dropped in
    /// the interval before.
    fn suppressed_line(&self, meta: &tracing::Metadata<'_>, n: u64) -> String {
        let interval = self
            .limiter
            .as_ref()
            .map_or(Duration::ZERO, |l| l.limit().interval());
        let site = format!(
            "{}:{}",
            meta.file().unwrap_or("?"),
            meta.line().unwrap_or(0)
        );
        let message = format!(
            "suppressed {n} events of {} at {site} in the last {}ms (log rate limit)",
            meta.target(),
            interval.as_millis()
        );
        let mut line = String::with_capacity(192);
        match self.format {
            LogFormat::Json => {
                line.push_str("{\"timestamp\":\"");
                rfc3339(&mut line, SystemTime::now());
                line.push_str("\",\"level\":\"");
                line.push_str(self.notice_level(meta));
                line.push_str("\",\"target\":\"obs::log\"");
                line.push_str(&self.service);
                line.push_str(",\"message\":");
                json_string(&mut line, &message);
                let _ = write!(line, ",\"suppressed\":{n},\"site\":");
                json_string(&mut line, &site);
                line.push('}');
            }
            LogFormat::Pretty => {
                rfc3339(&mut line, SystemTime::now());
                let _ = write!(line, " {:>5} obs::log: ", self.notice_level(meta));
                line.push_str(&redact::escape_console(&message));
            }
        }
        line
    }
}

/// The service name of the environment, as the trace resource computes it
/// when no name is given in code.
fn default_service_name() -> String {
    match std::env::var("OTEL_SERVICE_NAME") {
        Ok(name) if !name.trim().is_empty() => name.trim().to_owned(),
        _ => {
            let exe = std::env::current_exe()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_default();
            format!("unknown_service:{exe}")
        }
    }
}

/// `,"service.name":<name>`, capped like every value that leaves.
fn service_member(name: &str) -> String {
    let mut member = String::from(",\"service.name\":");
    json_string(&mut member, &crate::leaves::text::cap(name));
    member
}

fn level_color(level: Level) -> &'static str {
    match level {
        Level::ERROR => "\x1b[31m",
        Level::WARN => "\x1b[33m",
        Level::INFO => "\x1b[32m",
        Level::DEBUG => "\x1b[34m",
        Level::TRACE => "\x1b[35m",
    }
}

/// The W3C trace and span id of the current span, as 32 and 16 lowercase
/// hex digits (for error events, feature `sentry`).
#[cfg_attr(not(feature = "sentry"), allow(dead_code))]
pub(crate) fn trace_ids() -> Option<(String, String)> {
    current_ids().map(|ids| {
        let mut trace = String::with_capacity(32);
        let mut span = String::with_capacity(16);
        hex(&mut trace, &ids.trace);
        hex(&mut span, &ids.span);
        (trace, span)
    })
}

/// A span's W3C ids, as bytes: written as hex straight into a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpanIds {
    pub(crate) trace: [u8; 16],
    pub(crate) span: [u8; 8],
}

/// Lowercase hex of `bytes`, appended.
pub(crate) fn hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
}

#[cfg(feature = "otlp")]
fn current_ids() -> Option<SpanIds> {
    let id = tracing::dispatcher::get_default(|d| d.current_span().id().cloned());
    current_ids_of(id.as_ref())
}

/// The W3C ids of the current span, `current` its id (what the caller's
/// context says is current, without a `Span` handle to clone and drop).
#[cfg(feature = "otlp")]
fn current_ids_of(current: Option<&tracing::Id>) -> Option<SpanIds> {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    // An unsampled span's ids, without asking the OpenTelemetry layer.
    if let Some(marker) = crate::subsystems::trace::unsampled_id(current?) {
        return Some(SpanIds {
            trace: marker.trace_id.to_bytes(),
            span: marker.span_id.to_bytes(),
        });
    }
    let current = tracing::Span::current();
    if current.is_disabled() {
        return None;
    }
    let cx = current.context();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| SpanIds {
        trace: sc.trace_id().to_bytes(),
        span: sc.span_id().to_bytes(),
    })
}

#[cfg(not(feature = "otlp"))]
fn current_ids() -> Option<SpanIds> {
    None
}

#[cfg(not(feature = "otlp"))]
fn current_ids_of(_: Option<&tracing::Id>) -> Option<SpanIds> {
    None
}

/// One walk of the spans in scope, innermost first: the innermost that
/// keeps a request id (read from it when written, not copied), and the log
/// context, rendered (no allocation without context fields).
fn walk_scope<'a, S, N>(
    ctx: &'a FmtContext<'_, S, N>,
    event: &Event<'_>,
    json: bool,
) -> (Option<tracing_subscriber::registry::SpanRef<'a, S>>, String)
where
    S: Subscriber + for<'l> LookupSpan<'l>,
    N: for<'w> FormatFields<'w> + 'static,
{
    let mut request_id_span = None;
    let mut context = String::new();
    if let Some(scope) = ctx.event_scope() {
        let mut seen = context::Seen::default();
        for span in scope {
            let extensions = span.extensions();
            if let Some(fields) = extensions.get::<context::SpanContext>() {
                context::write(&mut context, json, event, fields, &mut seen);
            }
            let keeps_id = request_id_span.is_none() && extensions.get::<RequestId>().is_some();
            drop(extensions);
            if keeps_id {
                request_id_span = Some(span);
            }
        }
    }
    (request_id_span, context)
}

impl<S, N> FormatEvent<S, N> for ObsFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // Records of the `log` crate arrive with `log`'s own metadata; their
        // real target and level are in the normalized copy.
        let normalized = tracing_log::NormalizeEvent::normalized_metadata(event);
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        // The access line is one per request by design, not a flood: never
        // limited (`RUST_LOG=obs::access=off` turns it off).
        let verdict = match &self.limiter {
            Some(limiter) if meta.target() != ACCESS_TARGET => {
                limiter.check(meta, normalized.is_some(), Instant::now())
            }
            _ => Verdict::Write,
        };
        if verdict == Verdict::Suppress {
            return Ok(());
        }
        if let Verdict::WriteAfterSuppressed(n) = verdict {
            writeln!(writer, "{}", self.suppressed_line(meta, n))?;
        }
        let (request_id_span, context) = walk_scope(ctx, event, self.format == LogFormat::Json);
        let ids = current_ids_of(ctx.current_span().id());
        let mut line = line_buffer(context.len());
        match self.format {
            LogFormat::Json => {
                line.push_str("{\"timestamp\":\"");
                rfc3339(&mut line, SystemTime::now());
                line.push_str("\",\"level\":\"");
                line.push_str(meta.level().as_str());
                line.push_str("\",\"target\":");
                json_string(&mut line, meta.target());
                line.push_str(&self.service);
                let mut fields = Fields {
                    format: self.format,
                    out: &mut line,
                    message: None,
                    has_request_id: false,
                };
                event.record(&mut fields);
                let message = fields.message.take().unwrap_or_default();
                let request_id_span = request_id_span.filter(|_| !fields.has_request_id);
                line.push_str(",\"message\":");
                json_string(&mut line, &message);
                give_back(&MESSAGE, message);
                if let Some(ids) = &ids {
                    line.push_str(",\"trace_id\":\"");
                    hex(&mut line, &ids.trace);
                    line.push_str("\",\"span_id\":\"");
                    hex(&mut line, &ids.span);
                    line.push('"');
                }
                if let Some(span) = &request_id_span
                    && let Some(rid) = span.extensions().get::<RequestId>()
                {
                    line.push_str(",\"request_id\":");
                    json_string(&mut line, rid.as_str());
                }
                line.push_str(&context);
                line.push('}');
            }
            LogFormat::Pretty => {
                let ansi = writer.has_ansi_escapes();
                rfc3339(&mut line, SystemTime::now());
                line.push(' ');
                if ansi {
                    line.push_str(level_color(*meta.level()));
                }
                let _ = write!(line, "{:>5}", meta.level().as_str());
                if ansi {
                    line.push_str("\x1b[0m");
                }
                line.push(' ');
                line.push_str(meta.target());
                line.push_str(": ");
                let mut rest = String::new();
                let mut fields = Fields {
                    format: self.format,
                    out: &mut rest,
                    message: None,
                    has_request_id: false,
                };
                event.record(&mut fields);
                let message = fields.message.take().unwrap_or_default();
                let request_id_span = request_id_span.filter(|_| !fields.has_request_id);
                line.push_str(&redact::escape_console(&message));
                give_back(&MESSAGE, message);
                line.push_str(&rest);
                line.push_str(&context);
                if let Some(span) = &request_id_span
                    && let Some(rid) = span.extensions().get::<RequestId>()
                {
                    let _ = write!(
                        line,
                        " request_id={:?}",
                        redact::escape_console(rid.as_str())
                    );
                }
                if let Some(ids) = &ids {
                    line.push_str(" trace_id=");
                    hex(&mut line, &ids.trace);
                }
            }
        }
        write_line(&mut writer, line)
    }
}

/// The thread's spare line buffer, with room for a common line and its
/// log context.
fn line_buffer(context: usize) -> String {
    let mut line = take_spare(&LINE);
    line.reserve(512 + context);
    line
}

/// Writes `line` and its newline, and keeps the buffer for the next.
fn write_line(writer: &mut Writer<'_>, mut line: String) -> fmt::Result {
    line.push('\n');
    let written = writer.write_str(&line);
    give_back(&LINE, line);
    written
}

/// The fields formatter of the log layer: writes nothing.
///
/// `fmt::Layer` renders every new span's fields (and every later `record`)
/// into a string kept in the span, for event formatters that print span
/// fields. [`ObsFormat`] prints none (a line carries the trace and request
/// ids instead), so that rendering was a third of the cost of each
/// instrumented call under the full pipeline; event fields are written by
/// `ObsFormat` itself, not through this formatter.
struct NoSpanFields;

impl<'writer> tracing_subscriber::fmt::FormatFields<'writer> for NoSpanFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        _: Writer<'writer>,
        _: R,
    ) -> fmt::Result {
        Ok(())
    }
}

/// `tracing-subscriber`'s `fmt::Layer` for events only: it keeps a string of
/// formatted fields in every span and rewrites it on every record, for
/// formatters that print span fields; [`ObsFormat`] prints none, and with
/// no span events configured the layer has nothing else to do for spans.
/// That was a tenth of an unsampled instrumented call under `init()`.
struct EventsOnly<L> {
    inner: L,
    /// Only `ERROR` events reach `inner` (the error file).
    errors_only: bool,
}

impl<S, L> tracing_subscriber::Layer<S> for EventsOnly<L>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    L: tracing_subscriber::Layer<S>,
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

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        self.inner.max_level_hint()
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if self.errors_only && *event.metadata().level() != Level::ERROR {
            return;
        }
        self.inner.on_event(event, ctx);
    }

    // SAFETY: `Self` is answered with a pointer to `self`; every other type
    // is the wrapped layer's to answer, with the same guarantee.
    #[allow(unsafe_code)]
    unsafe fn downcast_raw(&self, id: std::any::TypeId) -> Option<*const ()> {
        if id == std::any::TypeId::of::<Self>() {
            Some(std::ptr::from_ref(self).cast())
        } else {
            // SAFETY: forwarded as is; see above.
            unsafe { self.inner.downcast_raw(id) }
        }
    }
}

/// Lines written by a [`capture`] layer.
#[derive(Debug, Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// The lines written so far.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt as _;
    ///
    /// let (layer, lines) = obs_runtime::log::capture(obs_runtime::log::LogFormat::Pretty);
    /// assert!(lines.lines().is_empty());
    /// let subscriber = tracing_subscriber::registry().with(layer);
    /// tracing::subscriber::with_default(subscriber, || tracing::warn!(attempt = 3, "retrying"));
    /// assert!(lines.lines()[0].ends_with("retrying attempt=3"));
    /// ```
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// A writer into a [`Captured`] buffer.
#[derive(Debug)]
pub struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = CaptureWriter;

    fn make_writer(&'a self) -> CaptureWriter {
        CaptureWriter(Arc::clone(&self.0))
    }
}

/// The obs log layer in `format`, writing to `writer`, with the request-id
/// layer. What [`crate::init()`] installs, for tests and custom setups.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt as _;
/// let layer = obs_runtime::log::layer(obs_runtime::log::LogFormat::Pretty, std::io::stderr);
/// let _subscriber = tracing_subscriber::registry().with(layer);
/// ```
pub fn layer<S, W>(
    format: LogFormat,
    writer: W,
) -> impl tracing_subscriber::Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    layer_with(format, writer, None)
}

/// [`layer`] with a per-call-site [`RateLimit`] (`None`: every event is
/// written).
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt as _;
/// use obs_runtime::log::{LogFormat, RateLimit};
/// let layer = obs_runtime::log::layer_with(LogFormat::Json, std::io::stderr, Some(RateLimit::default()));
/// let _subscriber = tracing_subscriber::registry().with(layer);
/// ```
pub fn layer_with<S, W>(
    format: LogFormat,
    writer: W,
    rate_limit: Option<RateLimit>,
) -> impl tracing_subscriber::Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    build_layer(format, writer, rate_limit, true)
}

/// How [`init`](crate::init()) builds one of its log layers.
pub(crate) struct LayerOptions<'a> {
    pub(crate) rate_limit: Option<RateLimit>,
    /// `service.name` of the resource.
    pub(crate) service: Option<&'a str>,
    /// A second layer beside the main one (files): its suppressions are
    /// not counted again, and the spans' request ids and context are kept
    /// by the main layer only.
    pub(crate) second: bool,
    /// Only `ERROR` events (the error file).
    pub(crate) errors_only: bool,
}

/// A log layer of [`init`](crate::init()).
pub(crate) fn init_layer<S, W>(
    format: LogFormat,
    writer: W,
    options: &LayerOptions<'_>,
) -> Box<dyn tracing_subscriber::Layer<S> + Send + Sync + 'static>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::Layer as _;
    let mut obs_format = ObsFormat::new(format);
    if let Some(name) = options.service {
        obs_format = obs_format.service_name(name);
    }
    if let Some(limit) = options.rate_limit {
        obs_format.limiter = Some(Arc::new(RateLimiter::new(limit, !options.second)));
    }
    obs_format.notice_at_event_level = options.errors_only;
    let fmt = EventsOnly {
        inner: fmt_layer(format, writer, obs_format),
        errors_only: options.errors_only,
    };
    if options.second {
        fmt.boxed()
    } else {
        // The context layer keeps the request ids too.
        context::ContextLayer.and_then(fmt).boxed()
    }
}

fn fmt_layer<S, W>(
    format: LogFormat,
    writer: W,
    obs_format: ObsFormat,
) -> tracing_subscriber::fmt::Layer<S, NoSpanFields, ObsFormat, W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .fmt_fields(NoSpanFields)
        .event_format(obs_format)
        .with_writer(writer)
        .with_ansi(
            format == LogFormat::Pretty && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        )
}

fn build_layer<S, W>(
    format: LogFormat,
    writer: W,
    rate_limit: Option<RateLimit>,
    count_suppressed: bool,
) -> impl tracing_subscriber::Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::Layer as _;
    let mut obs_format = ObsFormat::new(format);
    if let Some(limit) = rate_limit {
        obs_format.limiter = Some(Arc::new(RateLimiter::new(limit, count_suppressed)));
    }
    let fmt = EventsOnly {
        inner: fmt_layer(format, writer, obs_format),
        errors_only: false,
    };
    context::ContextLayer.and_then(fmt)
}

/// A log layer writing into memory, and the handle to read the lines.
///
/// ```
/// let (_layer, lines) = obs_runtime::log::capture::<tracing_subscriber::Registry>(obs_runtime::log::LogFormat::Json);
/// assert!(lines.lines().is_empty());
/// ```
#[must_use]
pub fn capture<S>(
    format: LogFormat,
) -> (
    impl tracing_subscriber::Layer<S> + Send + Sync + 'static,
    Captured,
)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let captured = Captured::default();
    (layer(format, captured.clone()), captured)
}
