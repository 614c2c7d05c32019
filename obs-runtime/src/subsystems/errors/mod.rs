//! Error tracking (feature `sentry`): errors, panics, `error!` events and
//! 5xx responses become Sentry events, each carrying the OpenTelemetry
//! trace and span ids in `contexts.trace`, the request id, the release and
//! environment, and the request's recent log events as breadcrumbs — every
//! string redacted before it leaves.
//!
//! `init()` turns it on when `SENTRY_DSN` is set (silently off otherwise):
//!
//! | variable | values | default |
//! |---|---|---|
//! | `SENTRY_DSN` | `https://<key>@<host>/<project>` | none: off |
//! | `SENTRY_ENVIRONMENT` | the environment's name | `OBS_ENV`, else none |
//! | `SENTRY_RELEASE` | the release | `<service.name>@<service.version>` |
//! | `SENTRY_SAMPLE_RATE` | 0 to 1: the share of error events sent (set it per environment, e.g. lower in a noisy staging) | `1` |
//! | `SENTRY_TRACES_SAMPLE_RATE` | 0 to 1 (kept in the client's options; obs sends no transactions, spans go to OTLP) | `0` |
//! | `SENTRY_SEND_DEFAULT_PII` | `true` / `false`: keep the event's user | `false` |
//!
//! What becomes an event: an `Err` returned by an `#[instrumented]`
//! function, once, at the outermost instrumented frame that returned it; a
//! panic (through the panic hook, with its stack trace); an `error!` event;
//! a 5xx answered through `ObsLayer` when nothing was reported for that
//! request yet. Never a 4xx, never an excluded path (probes, `/metrics`)
//! or a health check: their `error!` events are logged, not reported.
//! While error tracking runs, the spans of `#[instrumented]` calls stay on
//! whatever `RUST_LOG` says, so the outermost frame is
//! known; a `span = false` call hands its error to the frame it runs in.
//!
//! Events leave through a bounded queue and one worker thread: a full
//! queue or an endpoint that is down, slow or refusing costs a drop counted
//! in `obs_errors_dropped_total`, never a wait in the code that reported.
//! `ObsGuard` flushes them, within a deadline, when dropped.

mod filter;
mod layer;
mod scrub;
mod transport;

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use sentry::protocol::{Breadcrumb, Context, Event, Exception, TraceContext};
use sentry::types::Dsn;

pub(crate) use filter::KeepFrames;
pub(crate) use layer::ErrorsLayer;
/// The event model of the `sentry` crate, for [`Builder::error_hook`](crate::Builder::error_hook).
pub use sentry::protocol;

/// What [`Builder::error_hook`](crate::Builder::error_hook) takes: the
/// event in, the event to send (or `None`) out.
pub type Hook =
    dyn Fn(protocol::Event<'static>) -> Option<protocol::Event<'static>> + Send + Sync + 'static;

/// How long [`crate::ObsGuard`] waits for queued events when dropped.
pub(crate) const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(2);
/// The deadline of one request to the endpoint.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Breadcrumbs kept per request (and outside requests).
pub(crate) const MAX_BREADCRUMBS: usize = 20;
/// Request ids that had an event, remembered so a 5xx isn't reported twice.
const REMEMBERED_REQUESTS: usize = 1024;

/// `SENTRY_*`, validated.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    dsn: Dsn,
    environment: Option<String>,
    release: Option<String>,
    traces_sample_rate: f32,
    sample_rate: f32,
    send_default_pii: bool,
}

/// Reads `SENTRY_*` through `get`; `None` without a DSN. A bad value gives
/// a warning and its default (a bad DSN: off).
pub(crate) fn config(
    get: &dyn Fn(&str) -> Option<String>,
    obs_env: Option<&str>,
    warnings: &mut Vec<String>,
) -> Option<Config> {
    let dsn = get("SENTRY_DSN").filter(|d| !d.trim().is_empty())?;
    let dsn = match dsn.trim().parse::<Dsn>() {
        Ok(dsn) => dsn,
        Err(e) => {
            // The DSN's key is no secret (it is in every browser bundle),
            // but the value is not repeated anyway.
            warnings.push(format!(
                "SENTRY_DSN is not a valid DSN ({e}); error tracking is off"
            ));
            return None;
        }
    };
    let nonempty = |k: &str| {
        get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let environment = nonempty("SENTRY_ENVIRONMENT").or_else(|| {
        obs_env
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
    });
    let mut rate = |name: &str, default: f32| match nonempty(name).map(|v| v.parse::<f32>()) {
        None => default,
        Some(Ok(r)) if (0.0..=1.0).contains(&r) => r,
        Some(_) => {
            warnings.push(format!(
                "{name} is not a number from 0 to 1; using {default}"
            ));
            default
        }
    };
    let traces_sample_rate = rate("SENTRY_TRACES_SAMPLE_RATE", 0.0);
    let sample_rate = rate("SENTRY_SAMPLE_RATE", 1.0);
    let send_default_pii = match nonempty("SENTRY_SEND_DEFAULT_PII").as_deref() {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => {
            warnings.push("SENTRY_SEND_DEFAULT_PII is not true or false; using false".into());
            false
        }
    };
    Some(Config {
        dsn,
        environment,
        release: nonempty("SENTRY_RELEASE"),
        traces_sample_rate,
        sample_rate,
        send_default_pii,
    })
}

static CLIENT: RwLock<Option<Arc<sentry::Client>>> = RwLock::new(None);

fn client() -> Option<Arc<sentry::Client>> {
    CLIENT.read().ok()?.clone()
}

/// Whether events are being sent.
pub(crate) fn enabled() -> bool {
    CLIENT.read().is_ok_and(|c| c.is_some())
}

/// Keeps the client; flushes and closes it, within its deadline, when
/// dropped.
pub(crate) struct ErrorsGuard(Arc<sentry::Client>);

impl std::fmt::Debug for ErrorsGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ErrorsGuard")
    }
}

impl ErrorsGuard {
    /// Waits up to `timeout` for the queued events.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        self.0.flush(Some(timeout))
    }
}

impl Drop for ErrorsGuard {
    fn drop(&mut self) {
        crate::metric_core::callsite::REPORT_UNSPANNED_ERRORS.store(false, Relaxed);
        if let Ok(mut slot) = CLIENT.write() {
            slot.take();
        }
        self.0.close(Some(SHUTDOWN_DEADLINE));
    }
}

/// Starts the client; `default_release` names the release when
/// `SENTRY_RELEASE` does not.
pub(crate) fn install(
    config: Config,
    default_release: String,
    hook: Option<Arc<Hook>>,
) -> std::io::Result<ErrorsGuard> {
    let transport = Arc::new(transport::Bounded::start(&config.dsn, REQUEST_TIMEOUT)?);
    let pii = config.send_default_pii;
    let options = sentry::ClientOptions {
        dsn: Some(config.dsn),
        release: Some(Cow::Owned(config.release.unwrap_or(default_release))),
        environment: config.environment.map(Cow::Owned),
        traces_sample_rate: config.traces_sample_rate,
        sample_rate: config.sample_rate,
        send_default_pii: pii,
        max_breadcrumbs: MAX_BREADCRUMBS,
        default_integrations: false,
        shutdown_timeout: SHUTDOWN_DEADLINE,
        before_send: Some(Arc::new(move |event| {
            // The user's hook first: what it adds is scrubbed too.
            let event = match &hook {
                Some(hook) => hook(event)?,
                None => event,
            };
            let scrubbed = scrub::scrub(event, pii);
            if scrubbed.is_none() {
                transport::dropped().inc();
            }
            scrubbed
        })),
        transport: Some(Arc::new(transport)),
        ..sentry::ClientOptions::default()
    };
    let client = Arc::new(sentry::Client::with_options(options));
    if let Ok(mut slot) = CLIENT.write() {
        *slot = Some(Arc::clone(&client));
    }
    crate::metric_core::callsite::REPORT_UNSPANNED_ERRORS.store(true, Relaxed);
    Ok(ErrorsGuard(client))
}

/// Where an event happened: the ids that link it to its trace and request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origin {
    pub(crate) trace: Option<(String, String)>,
    pub(crate) request_id: Option<String>,
    pub(crate) transaction: Option<String>,
    pub(crate) breadcrumbs: Vec<Breadcrumb>,
    /// The request served (method, query, user agent) and its path.
    pub(crate) request: Option<(sentry::protocol::Request, Option<String>)>,
}

impl Origin {
    /// The current span's trace ids, request id and breadcrumbs.
    pub(crate) fn current(transaction: Option<String>) -> Self {
        Self {
            trace: crate::subsystems::log::trace_ids(),
            request_id: crate::subsystems::log::current_request_id(),
            transaction,
            breadcrumbs: layer::current_breadcrumbs(),
            request: layer::current_request(),
        }
    }
}

static REPORTED: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

#[cfg(feature = "tower")]
fn reported(request_id: &str) -> bool {
    REPORTED
        .lock()
        .is_ok_and(|r| r.iter().any(|id| id == request_id))
}

/// Sends `event` from `origin`.
pub(crate) fn send(mut event: Event<'static>, origin: Origin) {
    let Some(client) = client() else {
        return;
    };
    if let Some((trace_id, span_id)) = &origin.trace
        && let (Ok(trace_id), Ok(span_id)) = (trace_id.parse(), span_id.parse())
    {
        let trace = TraceContext {
            trace_id,
            span_id,
            ..TraceContext::default()
        };
        event
            .contexts
            .insert("trace".into(), Context::Trace(Box::new(trace)));
    }
    if let Some(id) = origin.request_id {
        if let Ok(mut r) = REPORTED.lock() {
            if r.len() >= REMEMBERED_REQUESTS {
                r.pop_front();
            }
            r.push_back(id.clone());
        }
        event.tags.insert("request_id".into(), id);
    }
    if event.transaction.is_none() {
        event.transaction = origin.transaction;
    }
    event.breadcrumbs.values.extend(origin.breadcrumbs);
    if let Some((request, path)) = origin.request {
        if event.request.is_none() {
            event.request = Some(request);
        }
        if let Some(path) = path {
            event.tags.insert("url.path".into(), path);
        }
    }
    client.capture_event(event, None);
}

/// A 5xx answered through `ObsLayer`: an event unless one was reported for
/// the request already. Called inside the request's span.
#[cfg(feature = "tower")]
pub(crate) fn server_error(status: u16, method: &str, route: &str) {
    if !enabled() {
        return;
    }
    let origin = Origin::current(Some(format!("{method} {route}")));
    if origin.request_id.as_deref().is_some_and(reported) {
        return;
    }
    let mut event = Event {
        level: sentry::Level::Error,
        message: Some(format!("{method} {route} answered {status}")),
        logger: Some("obs::http".into()),
        ..Event::default()
    };
    event
        .tags
        .insert("http.response.status_code".into(), status.to_string());
    send(event, origin);
}

/// Reports an error the program handled itself, with the current trace
/// context, request id and breadcrumbs (a no-op unless `SENTRY_DSN` turned
/// error tracking on). Errors returned by `#[instrumented]` functions,
/// panics and `error!` events are reported without it.
///
/// ```
/// let parsed = "x".parse::<u32>();
/// if let Err(e) = &parsed {
///     obs_runtime::errors::capture_error(e);
/// }
/// ```
pub fn capture_error<E: std::error::Error + ?Sized>(error: &E) {
    if !enabled() {
        return;
    }
    let mut exception = Exception {
        ty: std::any::type_name::<E>().to_owned(),
        value: Some(error.to_string()),
        ..Exception::default()
    };
    exception.stacktrace = sentry::integrations::backtrace::current_stacktrace();
    let mut event = Event {
        level: sentry::Level::Error,
        ..Event::default()
    };
    event.exception.values.push(exception);
    send(event, Origin::current(None));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> (Option<Config>, Vec<String>) {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        let mut warnings = Vec::new();
        let config = config(
            &|k| map.get(k).map(|v| (*v).to_owned()),
            Some("production"),
            &mut warnings,
        );
        (config, warnings)
    }

    #[test]
    fn no_dsn_is_off_without_a_word() {
        let (config, warnings) = with(&[("SENTRY_ENVIRONMENT", "staging")]);
        assert!(config.is_none());
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_bad_dsn_is_off_with_a_warning() {
        let (config, warnings) = with(&[("SENTRY_DSN", "not a dsn")]);
        assert!(config.is_none());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("SENTRY_DSN"));
    }

    #[test]
    fn values_and_their_defaults() {
        let (config, warnings) = with(&[("SENTRY_DSN", "https://key@o1.ingest.example.com/7")]);
        let config = config.unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.environment.as_deref(), Some("production"), "OBS_ENV");
        assert_eq!(config.release, None, "the service's, at init");
        assert!(!config.send_default_pii);
        assert!(config.traces_sample_rate.abs() < f32::EPSILON);
        let (config, warnings) = with(&[
            ("SENTRY_DSN", "https://key@o1.ingest.example.com/7"),
            ("SENTRY_ENVIRONMENT", "staging"),
            ("SENTRY_RELEASE", "shop@2.0.0"),
            ("SENTRY_TRACES_SAMPLE_RATE", "0.25"),
            ("SENTRY_SEND_DEFAULT_PII", "TRUE"),
        ]);
        let config = config.unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.environment.as_deref(), Some("staging"));
        assert_eq!(config.release.as_deref(), Some("shop@2.0.0"));
        assert!((config.traces_sample_rate - 0.25).abs() < f32::EPSILON);
        assert!(config.send_default_pii);
        let (config, warnings) = with(&[
            ("SENTRY_DSN", "https://key@o1.ingest.example.com/7"),
            ("SENTRY_TRACES_SAMPLE_RATE", "2"),
            ("SENTRY_SEND_DEFAULT_PII", "yes"),
        ]);
        let config = config.unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(config.traces_sample_rate.abs() < f32::EPSILON);
        assert!(!config.send_default_pii);
        assert!(
            (config.sample_rate - 1.0).abs() < f32::EPSILON,
            "every error by default"
        );
        // The share of error events: a bad value warns and sends them all.
        let (config, warnings) = with(&[
            ("SENTRY_DSN", "https://key@o1.ingest.example.com/7"),
            ("SENTRY_SAMPLE_RATE", "0.1"),
        ]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!((config.unwrap().sample_rate - 0.1).abs() < f32::EPSILON);
        let (config, warnings) = with(&[
            ("SENTRY_DSN", "https://key@o1.ingest.example.com/7"),
            ("SENTRY_SAMPLE_RATE", "-0.5"),
        ]);
        assert_eq!(
            warnings,
            ["SENTRY_SAMPLE_RATE is not a number from 0 to 1; using 1"]
        );
        assert!((config.unwrap().sample_rate - 1.0).abs() < f32::EPSILON);
    }
}
