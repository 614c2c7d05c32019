//! The panic hook `init()` installs: a panic becomes one structured `error`
//! event (target `obs::panic`) whose message and backtrace pass the same
//! redaction and length cap as every log value, counted in
//! `obs_panics_total`, instead of raw text on stderr.
//!
//! A hook installed before `init()` (Sentry's, the user's own) still runs
//! after ours. The standard library's default hook does not: it would print
//! the raw message — a password in a format string, an e-mail in an error —
//! to stderr, outside the JSON log stream and unredacted.

use std::cell::Cell;
use std::panic::PanicHookInfo;
use std::sync::OnceLock;

use crate::leaves::redact;
use crate::leaves::text;
use crate::metric_core::metrics::Counter;
use crate::metric_core::registry::own_counter;

type Hook = Box<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

thread_local! {
    /// Set while this thread runs the hook: a panic inside it (a broken
    /// writer) must not recurse.
    static IN_HOOK: Cell<bool> = const { Cell::new(false) };
}

/// Installs the hook, keeping the previous one unless it is the standard
/// library's default.
pub(crate) fn install() {
    panics(); // the counter exists at zero from start-up
    let previous = std::panic::take_hook();
    // With no hook set, `take_hook` hands out the default one: ask for it
    // again to tell whether `previous` was that default.
    let default = std::panic::take_hook();
    // Both are boxes of the same zero-sized function item when `previous`
    // is the default: same (dangling) data pointer, same vtable.
    let was_default = std::ptr::eq(
        std::ptr::from_ref::<dyn Fn(&PanicHookInfo<'_>) + Sync + Send>(&*previous),
        std::ptr::from_ref::<dyn Fn(&PanicHookInfo<'_>) + Sync + Send>(&*default),
    );
    drop(default);
    let chained: Option<Hook> = (!was_default).then_some(previous);
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        if let Some(hook) = &chained {
            hook(info);
        }
    }));
}

/// How long a panic waits for its log line to be written.
const PANIC_FLUSH: std::time::Duration = std::time::Duration::from_millis(500);

fn report(info: &PanicHookInfo<'_>) {
    if IN_HOOK.with(|h| h.replace(true)) {
        return;
    }
    panics().inc();
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic payload that is not text)");
    let message = redact::redact(message);
    let message = text::cap(&message);
    let (file, line, column) = info
        .location()
        .map_or(("?", 0, 0), |l| (l.file(), l.line(), l.column()));
    let thread = std::thread::current();
    let thread = thread.name().unwrap_or("unnamed");
    // Captured only when RUST_BACKTRACE asks for it, as the default hook.
    let backtrace = std::backtrace::Backtrace::capture();
    let backtrace = (backtrace.status() == std::backtrace::BacktraceStatus::Captured)
        .then(|| text::cap(&redact::redact(&backtrace.to_string())).into_owned());
    tracing::error!(
        target: "obs::panic",
        file,
        line,
        column,
        thread,
        backtrace = backtrace.as_deref(),
        "panicked: {message}"
    );
    // The line may be waiting for the log writer thread, and a panic can
    // end the process (`panic = "abort"`, or the main thread): give the
    // writer a moment to write it.
    super::queue::flush_installed(PANIC_FLUSH);
    IN_HOOK.with(|h| h.set(false));
}

/// `obs_panics_total`.
fn panics() -> &'static Counter {
    static PANICS: OnceLock<&'static Counter> = OnceLock::new();
    own_counter(
        &PANICS,
        "obs_panics_total",
        "Panics anywhere in the process, caught or not, since start.",
    )
}
