//! A batch span processor with a bounded queue whose drops are counted.
//!
//! The SDK's own batch processor counts drops privately; ours exposes them
//! as `obs_telemetry_dropped_spans_total`, counts spans lost to failed
//! exports too, and warns at most once a minute. Export runs on a worker
//! thread that owns a small tokio runtime (the gRPC and HTTP exporters need
//! one), never on the thread that ended the span; a full queue drops the
//! span instead of blocking the caller.
//!
//! Spans are redacted here, on the worker thread before they are batched
//! for export (not on the thread that ended them, where redaction was a
//! quarter of a sampled request's cost): this is where span data leaves the
//! application, as the log layer is for log lines, and the one place every
//! exported span passes through — attributes recorded on
//! `#[instrumented]` or `tracing` spans, log events that became span events,
//! status descriptions and dynamic (`otel.name`) span names alike.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::Status;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter, SpanProcessor};

use crate::leaves::redact::{is_sensitive_name, redact};
use crate::metric_core::metrics::Counter;

/// The counter of spans that never reached the collector.
pub(crate) fn dropped_spans() -> &'static Counter {
    static DROPPED: OnceLock<&'static Counter> = OnceLock::new();
    DROPPED.get_or_init(|| {
        let make = || {
            Counter::<()>::unchecked(
                "obs_telemetry_dropped_spans_total".into(),
                "Spans dropped before reaching the collector: export queue full, or export failed."
                    .into(),
            )
        };
        // Registration only fails if the name is taken, a bug of ours; the
        // counter still counts then, unexposed.
        make()
            .register_own()
            .unwrap_or_else(|_| Box::leak(Box::new(make())))
    })
}

static LAST_WARNING: AtomicU64 = AtomicU64::new(0);

fn drop_spans(n: u64, why: &str) {
    dropped_spans().inc_by(n);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = LAST_WARNING.load(Relaxed);
    if now >= last + 60
        && LAST_WARNING
            .compare_exchange(last, now, Relaxed, Relaxed)
            .is_ok()
    {
        tracing::warn!(
            target: "obs::telemetry",
            dropped = n,
            "spans dropped ({why}); obs_telemetry_dropped_spans_total counts them all.{}",
            hint(why)
        );
    }
}

/// What to check, from the reason: a TLS failure is not a collector that
/// is down, and asking whether it is reachable would send the operator the
/// wrong way; a build without TLS says what to do in the reason itself.
pub(crate) fn hint(why: &str) -> &'static str {
    let lower = why.to_ascii_lowercase();
    if lower.contains("otlp-tls") {
        ""
    } else if ["certificate", "tls", "handshake", "unknownissuer"]
        .iter()
        .any(|k| lower.contains(k))
    {
        " Check TLS: the collector's certificate must chain to OTEL_EXPORTER_OTLP_CERTIFICATE \
         (or the system's store without it) and name the endpoint's host"
    } else {
        " Is the OTLP collector reachable?"
    }
}

/// Batching limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchLimits {
    pub(crate) max_queue: usize,
    pub(crate) max_batch: usize,
    pub(crate) interval: Duration,
    pub(crate) export_timeout: Duration,
}

impl Default for BatchLimits {
    /// The OpenTelemetry SDK defaults: 2,048 queued spans, batches of 512,
    /// every 5 s, 30 s to export.
    fn default() -> Self {
        Self {
            max_queue: 2_048,
            max_batch: 512,
            interval: Duration::from_secs(5),
            export_timeout: Duration::from_secs(30),
        }
    }
}

enum Message {
    Span(Box<SpanData>),
    Flush(SyncSender<()>),
    Shutdown(SyncSender<()>),
}

/// The processor; see the module documentation.
#[derive(Debug)]
pub(crate) struct BoundedBatch {
    queue: SyncSender<Message>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl BoundedBatch {
    /// Starts the worker. `make_exporter` runs on the worker thread, inside
    /// its tokio runtime; its error is the reason every span is then
    /// dropped, told in the drop warning (logged once the subscriber is up,
    /// unlike a warning from this thread at start-up).
    pub(crate) fn start<E, F>(
        make_exporter: F,
        resource: Resource,
        limits: BatchLimits,
    ) -> std::io::Result<Self>
    where
        E: SpanExporter + 'static,
        F: FnOnce() -> Result<E, String> + Send + 'static,
    {
        let (queue, rx) = mpsc::sync_channel(limits.max_queue.max(1));
        let worker = std::thread::Builder::new()
            .name("obs-span-export".into())
            .spawn(move || run_worker(make_exporter, &resource, limits, &rx))?;
        Ok(Self {
            queue,
            worker: Mutex::new(Some(worker)),
        })
    }

    fn request(&self, make: fn(SyncSender<()>) -> Message, timeout: Duration) -> OTelSdkResult {
        let (ack, done) = mpsc::sync_channel(1);
        let deadline = Instant::now() + timeout;
        let mut message = make(ack);
        // The queue may be full: retry until the deadline rather than block.
        loop {
            match self.queue.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Full(m)) if Instant::now() < deadline => {
                    message = m;
                    std::thread::yield_now();
                }
                Err(TrySendError::Full(_)) => return Err(OTelSdkError::Timeout(timeout)),
                Err(TrySendError::Disconnected(_)) => return Err(OTelSdkError::AlreadyShutdown),
            }
        }
        done.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .map_err(|_| OTelSdkError::Timeout(timeout))
    }
}

fn run_worker<E: SpanExporter, F: FnOnce() -> Result<E, String>>(
    make_exporter: F,
    resource: &Resource,
    limits: BatchLimits,
    rx: &Receiver<Message>,
) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        // No runtime, no export: drain and count, so callers never block.
        while let Ok(m) = rx.recv() {
            if let Message::Span(_) = m {
                drop_spans(1, "no export runtime");
            }
        }
        return;
    };
    let exporter = {
        let _entered = rt.enter();
        make_exporter().map(|mut e| {
            e.set_resource(resource);
            e
        })
    };
    let mut batch: Vec<SpanData> = Vec::with_capacity(limits.max_batch);
    let mut next_export = Instant::now() + limits.interval;
    let export = |batch: &mut Vec<SpanData>| {
        if batch.is_empty() {
            return;
        }
        let spans = std::mem::take(batch);
        let n = spans.len() as u64;
        let exporter = match &exporter {
            Ok(exporter) => exporter,
            Err(why) => {
                drop_spans(n, &format!("no exporter: {why}"));
                return;
            }
        };
        let result = rt.block_on(async {
            tokio::time::timeout(limits.export_timeout, exporter.export(spans)).await
        });
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => drop_spans(n, &format!("export failed: {e}")),
            Err(_) => drop_spans(n, "export timed out"),
        }
    };
    loop {
        let wait = next_export.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Message::Span(mut span)) => {
                redact_span(&mut span);
                batch.push(*span);
                if batch.len() >= limits.max_batch {
                    export(&mut batch);
                    next_export = Instant::now() + limits.interval;
                }
            }
            Ok(Message::Flush(ack)) => {
                // Everything queued before the flush request is in `batch`
                // by now: the channel is FIFO.
                export(&mut batch);
                let _ = ack.send(());
            }
            Ok(Message::Shutdown(ack)) => {
                export(&mut batch);
                if let Ok(e) = &exporter {
                    let _ = e.shutdown_with_timeout(limits.export_timeout);
                }
                let _ = ack.send(());
                return;
            }
            Err(RecvTimeoutError::Timeout) => {
                export(&mut batch);
                next_export = Instant::now() + limits.interval;
            }
            Err(RecvTimeoutError::Disconnected) => {
                export(&mut batch);
                return;
            }
        }
    }
}

impl SpanProcessor for BoundedBatch {
    fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        // Redacted by the worker, before the span is batched for export.
        if let Err(e) = self.queue.try_send(Message::Span(Box::new(span))) {
            let why = match e {
                TrySendError::Full(_) => "export queue full",
                TrySendError::Disconnected(_) => "exporter shut down",
            };
            drop_spans(1, why);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.request(Message::Flush, super::SHUTDOWN_TIMEOUT)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let result = self.request(Message::Shutdown, timeout);
        if result.is_ok()
            && let Some(worker) = self
                .worker
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
        {
            let _ = worker.join();
        }
        result
    }
}

// ---------------------------------------------------------------------------
// Redaction: the same rules as log lines (`crate::redact`)

/// What replaces the value of an attribute whose key is sensitive.
const REDACTED: &str = "[REDACTED]";

/// The smallest number with as many digits as the shortest card number.
const MIN_CARD_VALUE: u64 = 1_000_000_000_000;

/// Redacts every text of `span` that comes from the application. Text
/// without anything to hide is left as it is, without allocating.
fn redact_span(span: &mut SpanData) {
    redact_text(&mut span.name);
    redact_attributes(&mut span.attributes);
    for event in &mut span.events.events {
        redact_text(&mut event.name);
        redact_attributes(&mut event.attributes);
    }
    for link in &mut span.links.links {
        redact_attributes(&mut link.attributes);
    }
    if let Status::Error { description } = &mut span.status {
        redact_text(description);
    }
}

fn redact_text(text: &mut Cow<'static, str>) {
    if let Cow::Owned(clean) = redact(text) {
        *text = clean.into();
    }
}

/// Attribute names seen by this thread (the export worker) and whether
/// each is sensitive: spans repeat the same few dozen keys, and the full
/// name check costs thousands of instructions per key. Bounded; past the
/// bound a name is checked every time.
fn sensitive_key(name: &str) -> bool {
    use std::cell::RefCell;
    use std::collections::HashMap;
    const MAX_NAMES: usize = 4096;
    thread_local! {
        static VERDICTS: RefCell<HashMap<Box<str>, bool>> = RefCell::new(HashMap::new());
    }
    VERDICTS.with(|verdicts| {
        let Ok(mut verdicts) = verdicts.try_borrow_mut() else {
            return is_sensitive_name(name);
        };
        if let Some(&sensitive) = verdicts.get(name) {
            return sensitive;
        }
        let sensitive = is_sensitive_name(name);
        if verdicts.len() < MAX_NAMES {
            verdicts.insert(name.into(), sensitive);
        }
        sensitive
    })
}

fn redact_attributes(attributes: &mut [KeyValue]) {
    for attribute in attributes {
        if sensitive_key(attribute.key.as_str()) {
            attribute.value = Value::from(REDACTED);
            continue;
        }
        match &mut attribute.value {
            Value::String(text) => redact_string(text),
            Value::Array(Array::String(items)) => items.iter_mut().for_each(redact_string),
            // A card number recorded as a number: 13 digits or more (fewer
            // make no card, and most numbers are smaller).
            &mut Value::I64(n) if n.unsigned_abs() >= MIN_CARD_VALUE => {
                if let Cow::Owned(clean) = redact(&n.to_string()) {
                    attribute.value = Value::from(clean);
                }
            }
            _ => {}
        }
    }
}

fn redact_string(text: &mut StringValue) {
    if let Cow::Owned(clean) = redact(text.as_str()) {
        *text = clean.into();
    }
}

#[cfg(test)]
mod tests {
    use super::hint;

    #[test]
    fn the_drop_warning_points_at_tls_when_tls_failed() {
        assert!(
            hint("export failed: transport error: invalid peer certificate: UnknownIssuer")
                .contains("Check TLS")
        );
        assert!(hint("export failed: connection refused").contains("reachable"));
        let without = super::super::tls::unavailable_warning("https://c:4317");
        assert_eq!(hint(&without), "", "the reason says what to do");
    }
}
