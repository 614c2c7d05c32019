//! The job families: runs, durations, queue wait, retries, in flight,
//! queue depth (set, or read at scrape time) and worker heartbeats. Their
//! labels are open strings, so each family is a capped map.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::LabelSet;
use crate::leaves::labels::LabelSetKind;
use crate::metric_core::encode::{Collect, Description, Sink};
use crate::metric_core::metrics::{Counter, Gauge, Histogram, UpDownGauge};
use crate::metric_core::registry::{global, register_or_unexposed};

/// Bucket bounds of `job_duration_seconds` and `job_queue_wait_seconds`, in
/// seconds: jobs run from milliseconds (an e-mail) to an hour (a report),
/// and wait from nothing to minutes behind a backlog.
///
/// ```
/// assert_eq!(obs_runtime::jobs::JOB_BUCKETS.last(), Some(&3600.0));
/// ```
pub const JOB_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
    1800.0, 3600.0,
];

/// `queue`, `job_name`, `result`. Written by hand: the derive refuses `result`,
/// which obs reserves for its own outcome labels — as this one is, with
/// the values of [`super::RESULTS`]. Filled by `with_values`.
pub(super) struct RunLabels;

impl LabelSet for RunLabels {
    const NAMES: &'static [&'static str] = &["queue", "job_name", "result"];
    const KIND: LabelSetKind<Self> = LabelSetKind::Open;

    fn value_of(&self, _: usize) -> &'static str {
        ""
    }
}

#[derive(LabelSet)]
#[label(crate = "crate")]
pub(super) struct JobLabels {
    queue: &'static str,
    job_name: &'static str,
}

#[derive(LabelSet)]
#[label(crate = "crate")]
pub(super) struct QueueLabels {
    queue: &'static str,
}

#[derive(LabelSet)]
#[label(crate = "crate")]
pub(super) struct WorkerLabels {
    queue: &'static str,
    worker: &'static str,
}

/// Reads a queue's depth at scrape time.
pub(super) type DepthReader = Arc<dyn Fn() -> f64 + Send + Sync>;

/// `job_queue_depth`: a gauge, plus the readers of queues whose depth is
/// read when scraped; each reader sets its queue's series just before the
/// gauge is written, so the scrape shows the depth of that moment.
pub(super) struct Depth {
    pub(super) gauge: Gauge<QueueLabels>,
    readers: Mutex<Vec<(Arc<str>, DepthReader)>>,
}

impl Depth {
    /// Reads `queue`'s depth with `read` from now on, in place of an
    /// earlier reader of the same queue.
    pub(super) fn read_with(&self, queue: &Arc<str>, read: DepthReader) {
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        readers.retain(|(q, _)| q != queue);
        readers.push((queue.clone(), read));
    }

    /// Stops reading `queue` at scrape time: the gauge keeps what it has
    /// and what [`Gauge::with_values`] sets.
    pub(super) fn stop_reading(&self, queue: &str) {
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        readers.retain(|(q, _)| &**q != queue);
    }

    fn refresh(&self) {
        // Read outside the lock: a reader may take long, or scrape.
        let readers = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for (queue, read) in readers {
            // A reader that panics leaves its series as it was; the scrape
            // goes on.
            if let Ok(depth) = catch_unwind(AssertUnwindSafe(|| read())) {
                self.gauge.with_values(&[&queue]).set(depth);
            } else {
                tracing::warn!(target: "obs::jobs", queue = &*queue, "queue depth reader panicked");
            }
        }
    }
}

impl Collect for Depth {
    fn names(&self) -> Vec<String> {
        self.gauge.names()
    }

    fn collect(&self, sink: &mut dyn Sink) {
        self.refresh();
        self.gauge.collect(sink);
    }

    fn describe(&self) -> Vec<Description> {
        self.gauge.describe()
    }

    fn overflowed(&self) -> Option<u64> {
        self.gauge.overflowed()
    }
}

/// The job metrics, registered once for the program.
pub(super) struct JobMetrics {
    pub(super) runs: &'static Counter<RunLabels>,
    pub(super) duration: &'static Histogram<RunLabels>,
    pub(super) wait: &'static Histogram<JobLabels>,
    pub(super) retries: &'static Counter<JobLabels>,
    pub(super) in_flight: &'static UpDownGauge<JobLabels>,
    pub(super) depth: &'static Depth,
    pub(super) heartbeat: &'static Gauge<WorkerLabels>,
}

pub(super) fn metrics() -> &'static JobMetrics {
    static METRICS: OnceLock<JobMetrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let name = |n: &'static str| Cow::Borrowed(n);
        JobMetrics {
            runs: register_or_unexposed(
                "job metric",
                || {
                    Counter::unchecked(
                        name("job_runs_total"),
                        name("Job runs by result: ok, error, panic, cancelled (dropped before the end), retry (failed, to be tried again)."),
                    )
                },
                Counter::register_own,
            ),
            duration: register_or_unexposed(
                "job metric",
                || {
                    Histogram::unchecked(
                        name("job_duration_seconds"),
                        name("Duration of job runs, from start to end, by result."),
                        JOB_BUCKETS,
                    )
                },
                Histogram::register_own,
            ),
            wait: register_or_unexposed(
                "job metric",
                || {
                    Histogram::unchecked(
                        name("job_queue_wait_seconds"),
                        name("Time jobs waited in their queue, from enqueue to the start of the run."),
                        JOB_BUCKETS,
                    )
                },
                Histogram::register_own,
            ),
            retries: register_or_unexposed(
                "job metric",
                || {
                    Counter::unchecked(
                        name("job_retries_total"),
                        name("Job runs that were a retry of an earlier attempt."),
                    )
                },
                Counter::register_own,
            ),
            in_flight: register_or_unexposed(
                "job metric",
                || {
                    UpDownGauge::unchecked(
                        name("job_in_flight"),
                        name("Job runs in progress now."),
                    )
                },
                UpDownGauge::register,
            ),
            depth: register_or_unexposed(
                "job metric",
                || Depth {
                    gauge: Gauge::unchecked(
                        name("job_queue_depth"),
                        name("Jobs waiting in the queue, as the program sets or reads it."),
                    ),
                    readers: Mutex::new(Vec::new()),
                },
                |depth| global().register_owned(depth, None),
            ),
            heartbeat: register_or_unexposed(
                "job metric",
                || {
                    Gauge::unchecked(
                        name("job_worker_last_seen_timestamp_seconds"),
                        name("When the worker was last seen (a heartbeat, or a run starting or ending), in Unix seconds."),
                    )
                },
                Gauge::register_own,
            ),
        }
    })
}
