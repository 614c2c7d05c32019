//! One run of a job: its span, its metrics, and what becomes of a panic or
//! a cancellation.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use tracing::Instrument as _;

use super::carrier::{TraceCarrier, now_micros};
use super::metrics::{JobMetrics, metrics};
use super::{Queue, Worker};
use crate::leaves::clock::clock;
use crate::metric_core::metrics::cell::UpDownCell;

/// How a job's span relates to the span that enqueued it (read from the
/// [`TraceCarrier`]).
///
/// ```
/// use obs_runtime::jobs::Parenting;
///
/// assert_eq!(Parenting::default(), Parenting::Child);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Parenting {
    /// The job's span is a child of the enqueuing span, in its trace: one
    /// trace shows the request and the work it started (the default).
    #[default]
    Child,
    /// The job's span starts a trace of its own (or continues the worker's
    /// current span) and links to the enqueuing span, as OpenTelemetry's
    /// messaging conventions suggest for batches and long-delayed work.
    Link,
}

/// Why a run did not return a value.
///
/// ```
/// use obs_runtime::jobs::JobError;
///
/// let e: JobError<std::io::Error> = JobError::Panicked("index out of bounds".to_owned());
/// assert_eq!(e.to_string(), "job panicked: index out of bounds");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum JobError<E> {
    /// The job returned this error (result `error`, or `retry` when more
    /// attempts are left).
    Failed(E),
    /// The job panicked (result `panic`); the panic's message. The worker
    /// lives on.
    Panicked(String),
}

impl<E: fmt::Display> fmt::Display for JobError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed(e) => write!(f, "job failed: {e}"),
            Self::Panicked(message) => write!(f, "job panicked: {message}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for JobError<E> {}

/// One run of a job of a [`Queue`], configured then [`run`](Self::run).
///
/// ```
/// use obs_runtime::jobs::{JobError, Parenting, Queue, TraceCarrier};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let queue = Queue::new("doc_run_queue");
/// let carrier = TraceCarrier::capture();
/// let worker = queue.worker("w1");
/// let outcome = queue
///     .job("resize_image")
///     .carrier(&carrier)
///     .worker(&worker)
///     .parenting(Parenting::Link)
///     .attempt(2)
///     .max_attempts(3)
///     .run(async { Err::<(), _>("image store down") })
///     .await;
/// assert!(matches!(outcome, Err(JobError::Failed("image store down"))));
///
/// let text = obs_runtime::encode_text();
/// assert!(text.contains(r#"job_runs_total{queue="doc_run_queue",job_name="resize_image",result="retry"} 1"#));
/// assert!(text.contains(r#"job_retries_total{queue="doc_run_queue",job_name="resize_image"} 1"#));
/// # });
/// ```
#[derive(Debug)]
#[must_use = "a job runs only when `run` is awaited"]
pub struct Job<'q> {
    queue: &'q Queue,
    name: &'q str,
    carrier: Option<&'q TraceCarrier>,
    worker: Option<&'q Worker>,
    attempt: u32,
    max_attempts: u32,
    parenting: Parenting,
}

impl<'q> Job<'q> {
    pub(super) fn new(queue: &'q Queue, name: &'q str) -> Self {
        Self {
            queue,
            name,
            carrier: None,
            worker: None,
            attempt: 1,
            max_attempts: 1,
            parenting: Parenting::Child,
        }
    }

    /// The carrier captured at enqueue: the run continues its trace, its
    /// log lines carry its request id, and its enqueue time gives
    /// `job_queue_wait_seconds`. Without one the run starts a trace of its
    /// own and no wait is observed.
    pub fn carrier(mut self, carrier: &'q TraceCarrier) -> Self {
        self.carrier = Some(carrier);
        self
    }

    /// The worker that runs the job: its heartbeat
    /// (`job_worker_last_seen_timestamp_seconds`) is set as the run starts
    /// and ends.
    pub fn worker(mut self, worker: &'q Worker) -> Self {
        self.worker = Some(worker);
        self
    }

    /// Which attempt this run is, from 1 (the default). A run with an
    /// attempt above 1 is a retry: it counts in `job_retries_total`.
    pub fn attempt(mut self, attempt: u32) -> Self {
        self.attempt = attempt.max(1);
        self
    }

    /// How many attempts the job gets (default 1). A run that fails before
    /// its last attempt counts as result `retry`, the last one as `error`.
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// Child of, or linked to, the enqueuing span (default
    /// [`Parenting::Child`]).
    pub fn parenting(mut self, parenting: Parenting) -> Self {
        self.parenting = parenting;
        self
    }

    /// Runs `job` in the job's span, counting it.
    ///
    /// The span is named after the job (`otel.name`, kind consumer) with
    /// `messaging.destination.name` (the queue), `messaging.operation.type
    /// = "process"`, `job.name`, `job.attempt`, `job.result` and the
    /// carrier's `request_id`. `Ok` is result `ok`; `Err` is `error`, or
    /// `retry` before the last attempt; a panic inside `job` is caught, is
    /// `panic`, and comes back as [`JobError::Panicked`]; a run dropped
    /// before its end (its task aborted, a timeout) is `cancelled`.
    ///
    /// # Errors
    /// [`JobError::Failed`] with the job's error, [`JobError::Panicked`]
    /// when it panicked.
    pub async fn run<F, T, E>(self, job: F) -> Result<T, JobError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        let span = self.span();
        let mut running = Running::start(&self, span.clone());
        let outcome = CatchUnwind { job }.instrument(span).await;
        match outcome {
            Ok(Ok(value)) => {
                running.finish("ok", None);
                Ok(value)
            }
            Ok(Err(e)) => {
                let result = if self.attempt < self.max_attempts {
                    "retry"
                } else {
                    "error"
                };
                running.finish(result, Some(short_type_name::<E>()));
                Err(JobError::Failed(e))
            }
            Err(payload) => {
                running.finish("panic", Some("panic"));
                Err(JobError::Panicked(panic_message(payload.as_ref())))
            }
        }
    }

    fn span(&self) -> tracing::Span {
        let request_id = self.carrier.and_then(|c| c.request_id.as_deref());
        let span = tracing::info_span!(
            target: "obs::jobs",
            "job",
            otel.name = self.name,
            otel.kind = "consumer",
            otel.status_code = tracing::field::Empty,
            messaging.destination.name = self.queue.name(),
            messaging.operation.type = "process",
            job.name = self.name,
            job.attempt = self.attempt,
            job.worker = self.worker.map(Worker::name),
            job.result = tracing::field::Empty,
            error.type = tracing::field::Empty,
            request_id = request_id,
        );
        #[cfg(feature = "otlp")]
        if let Some(carrier) = self.carrier {
            attach(&span, carrier, self.parenting);
        }
        span
    }
}

/// Makes `span` a child of, or links it to, the carrier's context.
#[cfg(feature = "otlp")]
fn attach(span: &tracing::Span, carrier: &TraceCarrier, parenting: Parenting) {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    if span.is_disabled() || carrier.traceparent.is_none() {
        return;
    }
    let mut headers = http::HeaderMap::new();
    for (name, value) in carrier.to_headers() {
        if matches!(name, "traceparent" | "tracestate" | "baggage")
            && let Ok(value) = http::HeaderValue::from_str(&value)
        {
            headers.insert(name, value);
        }
    }
    let cx = crate::subsystems::trace::propagation::extract(&headers);
    match parenting {
        Parenting::Child => {
            // An error only means the span is disabled or started already.
            let _ = span.set_parent(cx);
        }
        Parenting::Link => {
            let linked = cx.span().span_context().clone();
            if linked.is_valid() {
                span.add_link(linked);
            }
        }
    }
}

/// A run in progress: what it counts at its end, whichever end that is.
struct Running<'a> {
    metrics: &'static JobMetrics,
    queue: &'a str,
    job: &'a str,
    worker: Option<&'a Worker>,
    in_flight: &'static UpDownCell,
    started: u64,
    span: tracing::Span,
    finished: bool,
}

impl<'a> Running<'a> {
    fn start(job: &Job<'a>, span: tracing::Span) -> Self {
        let metrics = metrics();
        let queue = job.queue.name();
        let labels = [queue, job.name];
        if let Some(waited) = job.carrier.and_then(|c| c.waited_micros(now_micros())) {
            #[allow(clippy::cast_precision_loss, reason = "a wait of 2^52 µs is 142 years")]
            metrics
                .wait
                .with_values(&labels)
                .observe(waited as f64 / 1e6);
        }
        if job.attempt > 1 {
            metrics.retries.with_values(&labels).inc();
        }
        let in_flight = metrics.in_flight.with_values(&labels);
        in_flight.inc();
        if let Some(worker) = job.worker {
            worker.heartbeat();
        }
        Self {
            metrics,
            queue,
            job: job.name,
            worker: job.worker,
            in_flight,
            started: clock().raw(),
            span,
            finished: false,
        }
    }

    fn finish(&mut self, result: &'static str, error_type: Option<&str>) {
        let elapsed = clock().delta(self.started, clock().raw());
        self.finished = true;
        self.in_flight.dec();
        let labels = [self.queue, self.job, result];
        self.metrics.runs.with_values(&labels).inc();
        self.metrics
            .duration
            .with_values(&labels)
            .observe_duration(elapsed);
        if let Some(worker) = self.worker {
            worker.heartbeat();
        }
        self.span.record("job.result", result);
        if let Some(error_type) = error_type {
            self.span.record("otel.status_code", "ERROR");
            self.span.record("error.type", error_type);
        } else if result == "ok" {
            self.span.record("otel.status_code", "OK");
        }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.finish("cancelled", None);
        }
    }
}

pin_project_lite::pin_project! {
    /// `job`, with a panic in any of its polls caught and returned.
    struct CatchUnwind<F> {
        #[pin]
        job: F,
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let job = self.project().job;
        // The job is never polled again after a panic: its state may be
        // broken, and the run ends here.
        match catch_unwind(AssertUnwindSafe(|| job.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_owned()
    }
}

/// The error type's name without its module path (`Timeout`, not
/// `my_app::mail::Timeout`), as `error.type`.
fn short_type_name<E>() -> &'static str {
    let full = std::any::type_name::<E>();
    // Generic arguments keep their paths; only the outer path is cut.
    let head = full.split('<').next().unwrap_or(full);
    match head.rfind("::") {
        Some(i) => full.get(i + 2..).unwrap_or(full),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_named_without_their_module() {
        struct Timeout;
        assert_eq!(short_type_name::<Timeout>(), "Timeout");
        assert_eq!(short_type_name::<&str>(), "&str");
        assert_eq!(short_type_name::<std::io::Error>(), "Error");
        assert!(short_type_name::<Vec<std::io::Error>>().starts_with("Vec<"));
    }
}
