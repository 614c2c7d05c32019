//! The `tracing` side: `error!` events and panics become events, the
//! exception event of a failed `#[instrumented]` call becomes one event at
//! the outermost instrumented frame that returned the error, and `info!`
//! and `warn!` events become the breadcrumbs of their request (the root
//! span of their scope), at most [`MAX_BREADCRUMBS`] each.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Mutex;

use sentry::protocol::{Breadcrumb, Event, Exception, Mechanism};
use tracing::field::{Field, Visit};
use tracing::span::Id;
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::{MAX_BREADCRUMBS, Origin, enabled, send, transport};

/// The layer `init()` adds when error tracking is on.
#[derive(Debug, Default)]
pub(crate) struct ErrorsLayer;

/// Recent log events of one request, kept on its root span.
#[derive(Default)]
struct Crumbs(VecDeque<Breadcrumb>);

/// Breadcrumbs of events outside any span.
static LOOSE: Mutex<VecDeque<Breadcrumb>> = Mutex::new(VecDeque::new());

fn push(crumbs: &mut VecDeque<Breadcrumb>, crumb: Breadcrumb) {
    if crumbs.len() >= MAX_BREADCRUMBS {
        crumbs.pop_front();
    }
    crumbs.push_back(crumb);
}

/// The breadcrumbs of the current span's request.
pub(crate) fn current_breadcrumbs() -> Vec<Breadcrumb> {
    let found = tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let current = dispatch.current_span();
        let span = registry.span(current.id()?)?;
        let root = span.scope().from_root().next()?;
        let crumbs = root
            .extensions()
            .get::<Crumbs>()
            .map(|c| c.0.iter().cloned().collect())
            .unwrap_or_default();
        Some(crumbs)
    });
    found.unwrap_or_else(|| {
        LOOSE
            .lock()
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    })
}

/// What the server span of a request (`ObsLayer`) recorded, for an event's
/// `request`: values already redacted there, and no header but the user
/// agent, so no cookie or credential header can reach an event.
#[derive(Default, Clone)]
struct ServerRequest {
    method: Option<String>,
    path: Option<String>,
    query: Option<String>,
    user_agent: Option<String>,
}

impl Visit for ServerRequest {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value}", value = DebugText(value)));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let slot = match field.name() {
            "http.request.method" => &mut self.method,
            "url.path" => &mut self.path,
            "url.query" => &mut self.query,
            "user_agent.original" => &mut self.user_agent,
            _ => return,
        };
        *slot = Some(value.to_owned());
    }
}

/// A `Debug` value as its text (`%` fields arrive through `record_debug`).
struct DebugText<'a>(&'a dyn std::fmt::Debug);

impl std::fmt::Display for DebugText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

fn is_server_span(meta: &tracing::Metadata<'_>) -> bool {
    meta.target() == "obs::http" && meta.name() == "HTTP request"
}

/// The request the current span belongs to, as Sentry's `request`
/// interface: method, query string and user agent; its path as a tag.
pub(crate) fn current_request() -> Option<(sentry::protocol::Request, Option<String>)> {
    tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let current = dispatch.current_span();
        let span = registry.span(current.id()?)?;
        let found = span
            .scope()
            .find_map(|s| s.extensions().get::<ServerRequest>().cloned())?;
        let mut request = sentry::protocol::Request {
            method: found.method,
            query_string: found.query,
            ..sentry::protocol::Request::default()
        };
        if let Some(agent) = found.user_agent.filter(|a| !a.is_empty()) {
            request.headers.insert("User-Agent".into(), agent);
        }
        Some((request, found.path))
    })
}

/// An exception waiting for its frame to close: reported there unless an
/// outer instrumented frame returns it too.
struct Pending(Report);
/// An exception an inner frame returned, handed to this frame.
struct Inherited(Report);

struct Report {
    ty: String,
    value: String,
    origin: Origin,
}

impl Report {
    fn send(self) {
        let mut event = Event {
            level: sentry::Level::Error,
            ..Event::default()
        };
        event.exception.values.push(Exception {
            ty: self.ty,
            value: Some(self.value),
            mechanism: Some(Mechanism {
                ty: "instrumented".into(),
                handled: Some(true),
                ..Mechanism::default()
            }),
            ..Exception::default()
        });
        send(event, self.origin);
    }
}

/// The fields of one event, as text.
#[derive(Default)]
struct Fields {
    message: String,
    others: Vec<(&'static str, String)>,
}

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.others
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.others.push((field.name(), format!("{value:?}")));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.others.push((field.name(), value.to_owned()));
        }
    }
}

/// Whether `span` is the span of an `#[instrumented]` call (it declares the
/// `result` field the call guard records).
fn instrumented<S: for<'a> LookupSpan<'a>>(span: &SpanRef<'_, S>) -> bool {
    span.metadata().fields().field("result").is_some()
}

fn instrumented_parent<'a, S: for<'b> LookupSpan<'b>>(
    span: &SpanRef<'a, S>,
) -> Option<SpanRef<'a, S>> {
    span.scope().skip(1).find(|s| instrumented(s))
}

fn sentry_level(level: Level) -> sentry::Level {
    match level {
        Level::ERROR => sentry::Level::Error,
        Level::WARN => sentry::Level::Warning,
        Level::INFO => sentry::Level::Info,
        Level::DEBUG | Level::TRACE => sentry::Level::Debug,
    }
}

/// Keeps an `info!`/`warn!` event as a breadcrumb of its request.
fn breadcrumb<S>(event: &tracing::Event<'_>, level: Level, fields: Fields, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut crumb = Breadcrumb {
        ty: "default".into(),
        category: Some(event.metadata().target().to_owned()),
        level: sentry_level(level),
        message: Some(fields.message),
        ..Breadcrumb::default()
    };
    for (name, value) in fields.others {
        crumb.data.insert(name.to_owned(), value.into());
    }
    match ctx.event_scope(event).and_then(|s| s.from_root().next()) {
        Some(root) => {
            let mut ext = root.extensions_mut();
            if let Some(crumbs) = ext.get_mut::<Crumbs>() {
                push(&mut crumbs.0, crumb);
            } else {
                let mut crumbs = Crumbs::default();
                push(&mut crumbs.0, crumb);
                ext.insert(crumbs);
            }
        }
        None => {
            if let Ok(mut loose) = LOOSE.lock() {
                push(&mut loose, crumb);
            }
        }
    }
}

/// The `exception` event of an `#[instrumented]` call: reported at the
/// outermost frame that returns the error (see [`Pending`], [`Inherited`]).
fn exception<S>(event: &tracing::Event<'_>, ty: &str, fields: Fields, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let meta = event.metadata();
    let value = fields.get("exception.message").unwrap_or("").to_owned();
    let unspanned = meta.target() == "obs::exception";
    let span = if unspanned {
        // The nearest instrumented frame the call ran in.
        ctx.event_scope(event)
            .and_then(|mut scope| scope.find(|s| instrumented(s)))
    } else {
        ctx.event_span(event).filter(|s| instrumented(s))
    };
    let Some(span) = span else {
        if unspanned {
            // A call with no span of its own, outside every
            // instrumented frame: it is the outermost.
            Report {
                ty: ty.to_owned(),
                value,
                origin: Origin::current(fields.get("code.function").map(str::to_owned)),
            }
            .send();
            return;
        }
        message_event(meta, fields);
        return;
    };
    // The origin reads the span's extensions: made before they are
    // locked below.
    let report = Report {
        ty: ty.to_owned(),
        value,
        origin: Origin::current(Some(if unspanned {
            fields
                .get("code.function")
                .unwrap_or(span.name())
                .to_owned()
        } else {
            span.name().to_owned()
        })),
    };
    let mut ext = span.extensions_mut();
    if unspanned {
        // Handed to the frame it ran in, as an inner frame's error
        // is: reported when that frame closes, unless the frame (or
        // an outer one) returns it too.
        if ext.get_mut::<Pending>().is_none() && ext.get_mut::<Inherited>().is_none() {
            ext.insert(Inherited(report));
        }
        return;
    }
    // The same error, returned on by this frame.
    drop(ext.remove::<Inherited>());
    if instrumented_parent(&span).is_some() {
        ext.insert(Pending(report));
    } else {
        drop(ext);
        report.send();
    }
}

/// An `error!` event: a message event with its fields as `extra`.
fn message_event(meta: &tracing::Metadata<'_>, fields: Fields) {
    let mut sentry_event = Event {
        level: sentry::Level::Error,
        message: Some(fields.message),
        logger: Some(meta.target().to_owned()),
        ..Event::default()
    };
    for (name, value) in fields.others {
        sentry_event.extra.insert(name.to_owned(), value.into());
    }
    send(sentry_event, Origin::current(None));
}

impl<S> tracing_subscriber::Layer<S> for ErrorsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = *meta.level();
        if level > Level::INFO || transport::on_worker() || !enabled() {
            return;
        }
        // The access line closes its request: the event of that request
        // carries the route, status and request id already, and skipping it
        // keeps the cost of a request without an error low.
        if level != Level::ERROR && meta.target() == "obs::access" {
            return;
        }
        // A probe's events (a health check, an excluded path) are for
        // Kubernetes, not error reports; a panic is reported wherever.
        if meta.target() != "obs::panic" && crate::subsystems::log::probe::in_probe() {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        if level != Level::ERROR {
            breadcrumb(event, level, fields, &ctx);
            return;
        }
        if fields.message == "exception"
            && let Some(ty) = fields.get("exception.type")
        {
            let ty = ty.to_owned();
            exception(event, &ty, fields, &ctx);
            return;
        }
        if meta.target() == "obs::panic" {
            let message = fields
                .message
                .strip_prefix("panicked: ")
                .unwrap_or(&fields.message)
                .to_owned();
            let mut event = Event {
                level: sentry::Level::Fatal,
                ..Event::default()
            };
            event.exception.values.push(Exception {
                ty: "panic".into(),
                value: Some(message),
                stacktrace: sentry::integrations::backtrace::current_stacktrace(),
                mechanism: Some(Mechanism {
                    ty: "panic".into(),
                    handled: Some(false),
                    ..Mechanism::default()
                }),
                ..Exception::default()
            });
            for (name, value) in fields.others {
                event.extra.insert(name.to_owned(), value.into());
            }
            send(event, Origin::current(None));
            // A panic on the main thread is about to end the process: give
            // the event its chance. Elsewhere the program goes on (a caught
            // panic, a worker thread) and the guard flushes at exit.
            if std::thread::current().name() == Some("main")
                && let Some(client) = super::client()
            {
                client.flush(Some(super::SHUTDOWN_DEADLINE));
            }
            return;
        }
        message_event(meta, fields);
    }

    fn on_new_span(&self, attrs: &tracing::span::Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !is_server_span(attrs.metadata()) || !enabled() {
            return;
        }
        let mut request = ServerRequest::default();
        attrs.record(&mut request);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(request);
        }
    }

    fn on_record(&self, id: &Id, values: &tracing::span::Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && is_server_span(span.metadata())
            && let Some(request) = span.extensions_mut().get_mut::<ServerRequest>()
        {
            values.record(request);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let report = {
            let mut ext = span.extensions_mut();
            match ext.remove::<Pending>() {
                Some(Pending(r)) => Some(r),
                None => ext.remove::<Inherited>().map(|Inherited(r)| r),
            }
        };
        let Some(report) = report else {
            return;
        };
        match instrumented_parent(&span) {
            Some(parent) => {
                let mut ext = parent.extensions_mut();
                if ext.get_mut::<Pending>().is_none() && ext.get_mut::<Inherited>().is_none() {
                    ext.insert(Inherited(report));
                }
            }
            None => report.send(),
        }
    }
}
