//! Background jobs: runs counted and timed by queue, job and result, queue
//! wait, retries, work in flight, queue depth and worker heartbeats, with
//! the trace and the request id carried from the code that enqueued the
//! job to the worker that runs it.
//!
//! Any queue works — a `tokio::sync::mpsc` channel, a database table,
//! Redis, AMQP: the enqueuing side captures a [`TraceCarrier`] and sends it
//! with the message (as text or header pairs); the worker hands it to the
//! run.
//!
//! ```
//! use obs_runtime::jobs::{Queue, TraceCarrier};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let queue = Queue::new("doc_emails");
//! let (tx, mut rx) = tokio::sync::mpsc::channel::<(String, String)>(100);
//! // A weak sender: the reader lives as long as the program, and must not
//! // keep the channel open.
//! let sender = tx.downgrade();
//! queue.depth_from(move || sender.upgrade().map_or(0, |s| s.max_capacity() - s.capacity()));
//!
//! // Where the job is enqueued (inside a request's span, say):
//! let carrier = queue.enqueue_carrier();
//! tx.send(("ada@example.com".to_owned(), carrier.to_string())).await.unwrap();
//!
//! // The worker, on a task of its own:
//! let worker_queue = queue.clone();
//! let worker = tokio::spawn(async move {
//!     let me = worker_queue.worker("w1");
//!     while let Some((to, carrier)) = rx.recv().await {
//!         let carrier = TraceCarrier::parse(&carrier).unwrap_or_default();
//!         let sent = worker_queue
//!             .job("send_email")
//!             .carrier(&carrier)
//!             .worker(&me)
//!             .run(async { Ok::<_, std::io::Error>(to.len()) })
//!             .await;
//!         assert!(sent.is_ok());
//!     }
//! });
//! drop(tx);
//! worker.await.unwrap();
//!
//! let text = obs_runtime::encode_text();
//! assert!(text.contains(r#"job_runs_total{queue="doc_emails",job_name="send_email",result="ok"} 1"#));
//! assert!(text.contains(r#"job_queue_wait_seconds_count{queue="doc_emails",job_name="send_email"} 1"#));
//! assert!(text.contains(r#"job_queue_depth{queue="doc_emails"} 0"#));
//! # });
//! ```
//!
//! # Metrics
//! | name | type | labels |
//! |---|---|---|
//! | `job_runs_total` | counter | `queue`, `job_name` (not `job`, which Prometheus sets to the scrape job), `result` (`ok`, `error`, `panic`, `cancelled`, `retry`) |
//! | `job_duration_seconds` | histogram ([`JOB_BUCKETS`]) | `queue`, `job_name`, `result` |
//! | `job_queue_wait_seconds` | histogram ([`JOB_BUCKETS`]) | `queue`, `job_name` |
//! | `job_retries_total` | counter | `queue`, `job_name` |
//! | `job_in_flight` | gauge | `queue`, `job_name` |
//! | `job_queue_depth` | gauge | `queue` |
//! | `job_worker_last_seen_timestamp_seconds` | gauge (Unix seconds) | `queue`, `worker` |
//!
//! The families are registered when the first [`Queue`] is made, so the
//! catalog and the exports know them. Queue, job and worker names are run
//! time strings: each family keeps at most its series limit (10,000 by
//! default) and sends further combinations to its `__overflow__` series,
//! counted in `obs_cardinality_overflow_total`.
//!
//! # Trace continuity
//! [`TraceCarrier::capture`] reads the current span: its W3C context and
//! baggage (feature `otlp`), the request id a span in scope recorded (the
//! HTTP layer's request span, or any span with a `request_id` field), and
//! the time. The run's span is a child of that context, or linked to it
//! ([`Parenting`]); it records the `request_id`, so every log line of the
//! job carries the request's id.

mod carrier;
mod metrics;
mod run;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use carrier::{CarrierError, MAX_CARRIER_LEN, TraceCarrier};
pub use metrics::JOB_BUCKETS;
pub use run::{Job, JobError, Parenting};

/// The values of the `result` label of `job_runs_total` and
/// `job_duration_seconds`.
///
/// ```
/// assert!(obs_runtime::jobs::RESULTS.contains(&"retry"));
/// ```
pub const RESULTS: [&str; 5] = ["ok", "error", "panic", "cancelled", "retry"];

/// A named queue of jobs: the `queue` label of every job metric.
///
/// Cheap to clone (one shared name); the producer and each worker keep a
/// copy.
///
/// ```
/// let queue = obs_runtime::jobs::Queue::new("doc_queue");
/// queue.set_depth(3);
/// assert!(obs_runtime::encode_text().contains(r#"job_queue_depth{queue="doc_queue"} 3"#));
/// ```
#[derive(Clone)]
pub struct Queue {
    name: Arc<str>,
}

impl fmt::Debug for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue").field("name", &self.name).finish()
    }
}

impl Queue {
    /// The queue `name`. Registers the job families (once for the program)
    /// and starts the queue's `job_queue_depth` series at 0.
    pub fn new(name: impl Into<String>) -> Self {
        let queue = Self {
            name: Arc::from(name.into()),
        };
        queue.set_depth(0);
        queue
    }

    /// The queue's name.
    ///
    /// ```
    /// assert_eq!(obs_runtime::jobs::Queue::new("doc_name").name(), "doc_name");
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The carrier to send with a job enqueued now: [`TraceCarrier::capture`].
    ///
    /// ```
    /// let queue = obs_runtime::jobs::Queue::new("doc_enqueue");
    /// let message = queue.enqueue_carrier().to_string();
    /// assert!(message.contains("enqueued_at_micros="));
    /// ```
    #[must_use]
    pub fn enqueue_carrier(&self) -> TraceCarrier {
        TraceCarrier::capture()
    }

    /// Starts every series of the job `name` at zero — runs and durations
    /// of each result, wait, retries, in flight — so a ratio such as
    /// `rate(job_runs_total{result="error"}[5m])` reads 0, not nothing,
    /// before the first failure. Runs create their own series otherwise;
    /// call this at start-up for the jobs an alert watches.
    ///
    /// ```
    /// let queue = obs_runtime::jobs::Queue::new("doc_declare");
    /// queue.declare("nightly_sync");
    /// let text = obs_runtime::encode_text();
    /// assert!(text.contains(r#"job_runs_total{queue="doc_declare",job_name="nightly_sync",result="error"} 0"#));
    /// assert!(text.contains(r#"job_in_flight{queue="doc_declare",job_name="nightly_sync"} 0"#));
    /// ```
    pub fn declare(&self, name: &str) {
        let m = metrics::metrics();
        let job = [&*self.name, name];
        for result in RESULTS {
            let labels = [&*self.name, name, result];
            m.runs.with_values(&labels);
            m.duration.with_values(&labels);
        }
        m.wait.with_values(&job);
        m.retries.with_values(&job);
        m.in_flight.with_values(&job);
    }

    /// A run of the job `name`, to configure and [`run`](Job::run).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let queue = obs_runtime::jobs::Queue::new("doc_job");
    /// let n = queue.job("count").run(async { Ok::<_, std::io::Error>(2) }).await;
    /// assert_eq!(n.unwrap(), 2);
    /// # });
    /// ```
    pub fn job<'q>(&'q self, name: &'q str) -> Job<'q> {
        Job::new(self, name)
    }

    /// Runs the job `name` with the carrier from its enqueue, as a child
    /// of the enqueuing span: `queue.job(name).carrier(carrier).run(job)`.
    ///
    /// # Errors
    /// As [`Job::run`]: the job's error, or its panic.
    ///
    /// ```
    /// use obs_runtime::jobs::{JobError, Queue, TraceCarrier};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let queue = Queue::new("doc_queue_run");
    /// let carrier = TraceCarrier::capture();
    /// let outcome = queue
    ///     .run("explode", &carrier, async {
    ///         if carrier.request_id.is_none() {
    ///             panic!("no request");
    ///         }
    ///         Ok::<_, std::io::Error>(())
    ///     })
    ///     .await;
    /// assert!(matches!(outcome, Err(JobError::Panicked(m)) if m == "no request"));
    /// # });
    /// ```
    pub async fn run<F, T, E>(
        &self,
        name: &str,
        carrier: &TraceCarrier,
        job: F,
    ) -> Result<T, JobError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        self.job(name).carrier(carrier).run(job).await
    }

    /// Sets `job_queue_depth` for this queue, for queues whose length the
    /// program knows as it changes.
    ///
    /// ```
    /// let queue = obs_runtime::jobs::Queue::new("doc_set_depth");
    /// queue.set_depth(12);
    /// assert!(obs_runtime::encode_text().contains(r#"job_queue_depth{queue="doc_set_depth"} 12"#));
    /// ```
    pub fn set_depth(&self, depth: usize) {
        #[allow(clippy::cast_precision_loss, reason = "exact below 2^53 jobs")]
        metrics::metrics()
            .depth
            .gauge
            .with_values(&[&self.name])
            .set(depth as f64);
    }

    /// Reads `job_queue_depth` with `read` at each scrape, in place of an
    /// earlier reader of this queue: for a channel's length, a table's row
    /// count, a broker's queue size. A reader that panics leaves the last
    /// value and the scrape goes on. Keep it quick: it runs inside the
    /// scrape.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let queue = obs_runtime::jobs::Queue::new("doc_depth_from");
    /// let waiting = Arc::new(AtomicUsize::new(0));
    /// let read = waiting.clone();
    /// queue.depth_from(move || read.load(Ordering::Relaxed));
    /// waiting.store(7, Ordering::Relaxed);
    /// assert!(obs_runtime::encode_text().contains(r#"job_queue_depth{queue="doc_depth_from"} 7"#));
    /// ```
    pub fn depth_from(&self, read: impl Fn() -> usize + Send + Sync + 'static) {
        #[allow(clippy::cast_precision_loss, reason = "exact below 2^53 jobs")]
        let read = Arc::new(move || read() as f64);
        metrics::metrics().depth.read_with(&self.name, read);
    }

    /// Stops the reader of [`depth_from`](Self::depth_from); the gauge
    /// keeps its last value until [`set_depth`](Self::set_depth).
    ///
    /// ```
    /// let queue = obs_runtime::jobs::Queue::new("doc_stop_depth");
    /// queue.depth_from(|| 4);
    /// queue.stop_depth_reader();
    /// queue.set_depth(1);
    /// assert!(obs_runtime::encode_text().contains(r#"job_queue_depth{queue="doc_stop_depth"} 1"#));
    /// ```
    pub fn stop_depth_reader(&self) {
        metrics::metrics().depth.stop_reading(&self.name);
    }

    /// Counts one retry of `job` in `job_retries_total`, for programs that
    /// retry outside [`Job::attempt`] (a broker's redelivery, say).
    ///
    /// ```
    /// let queue = obs_runtime::jobs::Queue::new("doc_retry");
    /// queue.count_retry("sync");
    /// assert!(obs_runtime::encode_text().contains(r#"job_retries_total{queue="doc_retry",job_name="sync"} 1"#));
    /// ```
    pub fn count_retry(&self, job: &str) {
        metrics::metrics()
            .retries
            .with_values(&[&self.name, job])
            .inc();
    }

    /// The worker `name` of this queue, seen now: its
    /// `job_worker_last_seen_timestamp_seconds` series starts at the
    /// current time.
    ///
    /// ```
    /// let worker = obs_runtime::jobs::Queue::new("doc_worker").worker("w1");
    /// worker.heartbeat();
    /// assert!(obs_runtime::encode_text().contains(r#"job_worker_last_seen_timestamp_seconds{queue="doc_worker",worker="w1"} 1"#));
    /// ```
    pub fn worker(&self, name: impl Into<String>) -> Worker {
        let worker = Worker {
            queue: self.clone(),
            name: Arc::from(name.into()),
        };
        worker.heartbeat();
        worker
    }
}

/// A worker of a [`Queue`], whose heartbeat says it is alive: the alert
/// "worker not seen for 5 minutes" reads
/// `time() - job_worker_last_seen_timestamp_seconds > 300`.
///
/// Runs given the worker ([`Job::worker`]) beat as they start and end; a
/// worker idle for long beats on its own ([`heartbeat`](Self::heartbeat)),
/// from its receive loop or a timer.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let worker = obs_runtime::jobs::Queue::new("doc_idle").worker("w1");
/// let mut beat = tokio::time::interval(std::time::Duration::from_millis(1));
/// for _ in 0..2 {
///     beat.tick().await;
///     worker.heartbeat();
/// }
/// # });
/// ```
#[derive(Clone)]
pub struct Worker {
    queue: Queue,
    name: Arc<str>,
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("queue", &self.queue.name)
            .field("name", &self.name)
            .finish()
    }
}

impl Worker {
    /// Sets the worker's last-seen time to now.
    ///
    /// ```
    /// obs_runtime::jobs::Queue::new("doc_beat").worker("w2").heartbeat();
    /// ```
    pub fn heartbeat(&self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        metrics::metrics()
            .heartbeat
            .with_values(&[&self.queue.name, &self.name])
            .set(now);
    }

    /// The worker's name.
    ///
    /// ```
    /// assert_eq!(obs_runtime::jobs::Queue::new("doc_wname").worker("w3").name(), "w3");
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The worker's queue.
    ///
    /// ```
    /// let worker = obs_runtime::jobs::Queue::new("doc_wqueue").worker("w4");
    /// assert_eq!(worker.queue().name(), "doc_wqueue");
    /// ```
    #[must_use]
    pub fn queue(&self) -> &Queue {
        &self.queue
    }
}
