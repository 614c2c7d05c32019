//! A batch span processor with a bounded queue whose drops are counted.
//!
//! The SDK's own batch processor counts drops privately; ours exposes them
//! as `obs_telemetry_dropped_spans_total`, counts spans lost to failed
//! exports too, and warns at most once a minute. The queue is bounded twice:
//! by spans (`max_queue`, as the SDK's) and by bytes (`max_queue_bytes`,
//! `OBS_BSP_MAX_QUEUE_BYTES`): each span's size is estimated when it ends
//! (its struct, and the strings and values of its name, attributes, events
//! and links) and counted from then until its batch's export is over, so
//! a stalled collector holds at most that many bytes of spans, whatever
//! the spans carry. Export runs on a worker
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
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::Status;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter, SpanProcessor};

use crate::leaves::redact::{memo, redact};
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
    /// The estimated bytes of the spans ended and not yet exported (queued,
    /// batched, or in the export under way), at most.
    pub(crate) max_queue_bytes: usize,
    pub(crate) max_batch: usize,
    pub(crate) interval: Duration,
    pub(crate) export_timeout: Duration,
}

/// The default of `max_queue_bytes` (`OBS_BSP_MAX_QUEUE_BYTES`): 2 MiB,
/// room for a batch of 512 spans in its export and about as many again
/// queued meanwhile, at the 1.6 KiB of memory a server span with its
/// access event took in `tests/pipeline_memory.rs`. (1 MiB dropped spans
/// there while the collector answered, on a loaded machine.)
pub(crate) const DEFAULT_QUEUE_BYTES: usize = 2 << 20;

impl Default for BatchLimits {
    /// The OpenTelemetry SDK defaults: 2,048 queued spans, batches of 512,
    /// every 5 s, 30 s to export; and [`DEFAULT_QUEUE_BYTES`].
    fn default() -> Self {
        Self {
            max_queue: 2_048,
            max_queue_bytes: DEFAULT_QUEUE_BYTES,
            max_batch: 512,
            interval: Duration::from_secs(5),
            export_timeout: Duration::from_secs(30),
        }
    }
}

/// An estimate of the heap and inline bytes a finished span holds: its
/// struct, its name, and each attribute, event and link with their keys
/// and values (string lengths, a value's inline size). Not the allocator's
/// exact count (no capacity slack, no allocation headers), but it grows
/// as the span does, which is what bounds the queue.
pub(crate) fn estimated_size(span: &SpanData) -> usize {
    fn attributes(attributes: &[KeyValue]) -> usize {
        attributes
            .iter()
            .map(|kv| {
                let value = match &kv.value {
                    Value::String(s) => s.as_str().len(),
                    Value::Array(Array::String(items)) => items
                        .iter()
                        .map(|s| s.as_str().len() + std::mem::size_of::<StringValue>())
                        .sum(),
                    Value::Array(Array::Bool(items)) => items.len(),
                    Value::Array(Array::I64(items)) => items.len() * 8,
                    Value::Array(Array::F64(items)) => items.len() * 8,
                    _ => 0,
                };
                std::mem::size_of::<KeyValue>() + kv.key.as_str().len() + value
            })
            .sum()
    }
    let events: usize = span
        .events
        .events
        .iter()
        .map(|e| {
            std::mem::size_of::<opentelemetry::trace::Event>()
                + e.name.len()
                + attributes(&e.attributes)
        })
        .sum();
    let links: usize = span
        .links
        .links
        .iter()
        .map(|l| std::mem::size_of::<opentelemetry::trace::Link>() + attributes(&l.attributes))
        .sum();
    let status = match &span.status {
        Status::Error { description } => description.len(),
        _ => 0,
    };
    std::mem::size_of::<SpanData>()
        + span.name.len()
        + attributes(&span.attributes)
        + events
        + links
        + status
}

/// The estimated bytes of ended spans not yet exported, against the budget.
#[derive(Debug)]
struct Budget {
    held: AtomicUsize,
    max: usize,
}

impl Budget {
    /// Takes `bytes` if they fit; `false` (nothing taken) if not.
    fn take(&self, bytes: usize) -> bool {
        self.held
            .fetch_update(Relaxed, Relaxed, |held| {
                held.checked_add(bytes).filter(|total| *total <= self.max)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: usize) {
        let _ = self
            .held
            .fetch_update(Relaxed, Relaxed, |held| Some(held.saturating_sub(bytes)));
    }
}

enum Message {
    /// A span and its estimated size, taken from the budget.
    Span(Box<SpanData>, usize),
    Flush(SyncSender<()>),
    Shutdown(SyncSender<()>),
}

/// The processor; see the module documentation.
#[derive(Debug)]
pub(crate) struct BoundedBatch {
    queue: SyncSender<Message>,
    budget: Arc<Budget>,
    /// Spans sent and not yet taken by the worker.
    queued: Arc<AtomicUsize>,
    /// The worker is woken when this many spans wait, not for each span:
    /// a wake-up per span was a context switch per sampled request, and on
    /// a server with one core it preempted the request threads thousands
    /// of times a second. Otherwise it wakes at each export interval, and
    /// at once for a flush or a shutdown.
    wake_at: usize,
    worker_thread: std::thread::Thread,
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
        let budget = Arc::new(Budget {
            held: AtomicUsize::new(0),
            max: limits.max_queue_bytes,
        });
        let worker_budget = Arc::clone(&budget);
        let queued = Arc::new(AtomicUsize::new(0));
        let worker_queued = Arc::clone(&queued);
        let worker = std::thread::Builder::new()
            .name("obs-span-export".into())
            .spawn(move || {
                let channel = Channel {
                    rx: &rx,
                    queued: &worker_queued,
                };
                run_worker(make_exporter, &resource, limits, &channel, &worker_budget);
            })?;
        Ok(Self {
            queue,
            budget,
            queued,
            // Half the queue at most, so the queue never fills while the
            // worker sleeps.
            wake_at: limits.max_batch.min(limits.max_queue / 2).max(1),
            worker_thread: worker.thread().clone(),
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
        self.worker_thread.unpark();
        done.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .map_err(|_| OTelSdkError::Timeout(timeout))
    }
}

impl Drop for BoundedBatch {
    /// Lets the worker go at once when the processor is dropped without a
    /// shutdown: it finds the queue disconnected, exports what it holds and
    /// ends.
    fn drop(&mut self) {
        let (gone, _) = mpsc::sync_channel(1);
        drop(std::mem::replace(&mut self.queue, gone));
        self.worker_thread.unpark();
    }
}

/// The worker's end of the queue, and the count of spans in it.
struct Channel<'a> {
    rx: &'a Receiver<Message>,
    queued: &'a AtomicUsize,
}

impl Channel<'_> {
    /// The next message, waiting until `until` at most (or until woken).
    fn next(&self, until: Instant) -> Result<Message, RecvTimeoutError> {
        loop {
            match self.rx.try_recv() {
                Ok(message) => {
                    if matches!(message, Message::Span(..)) {
                        self.queued.fetch_sub(1, Relaxed);
                    }
                    return Ok(message);
                }
                Err(mpsc::TryRecvError::Disconnected) => {
                    return Err(RecvTimeoutError::Disconnected);
                }
                Err(mpsc::TryRecvError::Empty) => {}
            }
            let now = Instant::now();
            if now >= until {
                return Err(RecvTimeoutError::Timeout);
            }
            // Woken early by a full batch's worth of spans, a flush or a
            // shutdown (an unpark before this call is not lost).
            std::thread::park_timeout(until - now);
        }
    }
}

fn run_worker<E: SpanExporter, F: FnOnce() -> Result<E, String>>(
    make_exporter: F,
    resource: &Resource,
    limits: BatchLimits,
    rx: &Channel<'_>,
    budget: &Budget,
) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        // No runtime, no export: drain and count, so callers never block.
        while let Ok(m) = rx.next(Instant::now() + Duration::from_hours(1)) {
            if let Message::Span(_, bytes) = m {
                budget.give_back(bytes);
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
    // The budget the spans in `batch` took, given back once their export
    // is over (and the exporter has let go of them).
    let batch_bytes = std::cell::Cell::new(0usize);
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
                drop(spans);
                budget.give_back(batch_bytes.take());
                drop_spans(n, &format!("no exporter: {why}"));
                return;
            }
        };
        let result = rt.block_on(async {
            tokio::time::timeout(limits.export_timeout, exporter.export(spans)).await
        });
        budget.give_back(batch_bytes.take());
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => drop_spans(n, &format!("export failed: {e}")),
            Err(_) => drop_spans(n, "export timed out"),
        }
    };
    loop {
        match rx.next(next_export) {
            Ok(Message::Span(mut span, bytes)) => {
                redact_span(&mut span);
                batch.push(*span);
                batch_bytes.set(batch_bytes.get().saturating_add(bytes));
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
        let bytes = estimated_size(&span);
        if !self.budget.take(bytes) {
            drop_spans(
                1,
                "export queue over its byte budget, OBS_BSP_MAX_QUEUE_BYTES",
            );
            return;
        }
        // Redacted by the worker, before the span is batched for export.
        // Counted before it is sent, so the worker never takes more than
        // was counted.
        let waiting = self.queued.fetch_add(1, Relaxed) + 1;
        let sent = self.queue.try_send(Message::Span(Box::new(span), bytes));
        if sent.is_ok() && waiting == self.wake_at {
            self.worker_thread.unpark();
        }
        if let Err(e) = sent {
            self.queued.fetch_sub(1, Relaxed);
            self.budget.give_back(bytes);
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

fn redact_attributes(attributes: &mut [KeyValue]) {
    for attribute in attributes {
        // Spans repeat the same few dozen keys: the verdicts are
        // remembered on this thread (the export worker).
        if memo::is_sensitive_name(attribute.key.as_str()) {
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
    use super::*;
    use opentelemetry::InstrumentationScope;
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceId, TraceState};
    use std::sync::Condvar;
    use std::sync::atomic::Ordering::SeqCst;

    /// An exporter whose every export waits until the test opens it: a
    /// collector that stalls.
    #[derive(Debug, Clone, Default)]
    struct Stalled {
        open: Arc<(Mutex<bool>, Condvar)>,
        got: Arc<AtomicUsize>,
    }

    impl Stalled {
        fn release(&self) {
            let (open, wake) = &*self.open;
            *open.lock().unwrap_or_else(PoisonError::into_inner) = true;
            wake.notify_all();
        }
    }

    impl SpanExporter for Stalled {
        fn export(
            &self,
            batch: Vec<SpanData>,
        ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
            let this = self.clone();
            async move {
                let (open, wake) = &*this.open;
                let mut is_open = open.lock().unwrap_or_else(PoisonError::into_inner);
                while !*is_open {
                    is_open = wake.wait(is_open).unwrap_or_else(PoisonError::into_inner);
                }
                this.got.fetch_add(batch.len(), SeqCst);
                Ok(())
            }
        }
    }

    fn span(text: usize) -> SpanData {
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(7_u128),
                SpanId::from(7_u64),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: "budget".into(),
            start_time: SystemTime::now(),
            end_time: SystemTime::now(),
            attributes: vec![KeyValue::new("payload", "x".repeat(text))],
            dropped_attributes_count: 0,
            events: opentelemetry_sdk::trace::SpanEvents::default(),
            links: opentelemetry_sdk::trace::SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("test").build(),
        }
    }

    #[test]
    fn a_span_is_estimated_by_what_it_carries() {
        let small = estimated_size(&span(10));
        let large = estimated_size(&span(10_010));
        assert_eq!(large - small, 10_000);
        assert!(small > std::mem::size_of::<SpanData>());
    }

    #[test]
    fn a_stalled_collector_holds_no_more_than_the_byte_budget() {
        let per_span = estimated_size(&span(2_000));
        let limits = BatchLimits {
            // The count does not bind: only the bytes do.
            max_queue: 10_000,
            max_queue_bytes: 20 * per_span,
            max_batch: 4,
            interval: Duration::from_millis(5),
            export_timeout: Duration::from_mins(1),
        };
        let exporter = Stalled::default();
        let to_worker = exporter.clone();
        let processor = BoundedBatch::start(
            move || Ok(to_worker),
            Resource::builder_empty().build(),
            limits,
        )
        .unwrap();
        let dropped_before = dropped_spans().get();
        for _ in 0..100 {
            processor.on_end(span(2_000));
            assert!(processor.budget.held.load(SeqCst) <= limits.max_queue_bytes);
        }
        // Nothing was exported (the collector stalls), so nothing was given
        // back: exactly the 20 spans that fit are held, the rest dropped
        // and counted.
        assert_eq!(processor.budget.held.load(SeqCst), 20 * per_span);
        assert!(dropped_spans().get() - dropped_before >= 80);
        exporter.release();
        processor.force_flush().unwrap();
        assert_eq!(exporter.got.load(SeqCst), 20, "the spans that fit");
        assert_eq!(processor.budget.held.load(SeqCst), 0, "all given back");
        // The budget is free again once the collector answers.
        processor.on_end(span(2_000));
        processor.force_flush().unwrap();
        assert_eq!(exporter.got.load(SeqCst), 21);
        processor
            .shutdown_with_timeout(Duration::from_secs(5))
            .unwrap();
    }

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
