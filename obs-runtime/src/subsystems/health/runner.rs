//! Runs checks: each in its own task, under its own timeout, with panics
//! caught, and with one run shared by every probe inside the TTL.
//!
//! A check's slot holds the receiver of its latest run. A probe that finds a
//! run still going, or one that finished less than a TTL ago, waits on that
//! receiver; otherwise it starts a run. The run lives in a task of its own,
//! so a probe whose client hangs up does not cancel the run the others wait
//! on.
//!
//! # Where checks run
//! Runs are tasks of a runtime of their own (`obs-health` threads, one per
//! registered check, at most 16), never of the service's runtime: a check
//! that blocks its thread (a synchronous call or sleep inside an `async fn`)
//! then stalls only its own thread, not the workers answering requests, and
//! single flight keeps it to one run per check. The probe waits no longer
//! than the check's timeout (plus a small margin) whatever the check does,
//! and a run that ends after its deadline is a failure even if it returned
//! `Ok`.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use super::registry::{CheckFuture, CheckOutcome, RegisteredCheck};
use super::{Observed, metrics};
use crate::leaves::sync::Mutex;
use crate::subsystems::log::probe::{Probe, ProbeScope};

/// One finished run of a check.
#[derive(Debug, Clone)]
pub(crate) struct RunResult {
    pub(crate) passed: bool,
    pub(crate) output: Option<String>,
    pub(crate) observed: Option<Observed>,
    pub(crate) duration: Duration,
    pub(crate) finished: Instant,
    pub(crate) finished_at: SystemTime,
}

/// A run to wait for, and how long a probe may wait for it.
pub(crate) struct Latest {
    rx: watch::Receiver<Option<RunResult>>,
    timeout: Duration,
}

/// How much longer than a check's timeout a probe waits for its run, for the
/// run's own timer to fire first when the check does yield.
const WAIT_MARGIN: Duration = Duration::from_millis(250);

/// The runtime checks run on; see the module documentation.
fn checks_runtime() -> Option<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let threads = super::registry::HEALTH_CHECKS.len().clamp(1, 16);
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name("obs-health")
                .enable_all()
                .build()
                .map_err(|e| {
                    tracing::warn!(target: "obs::health", "no thread for health checks ({e}): they run on the caller's runtime");
                })
                .ok()
        })
        .as_ref()
}

tokio::task_local! {
    /// When the run being polled must be done by: what a check's own
    /// timeouts (`http_get`'s) are capped by.
    static DEADLINE: Instant;
}

/// The deadline of the check run this is called from, if any.
#[cfg_attr(not(feature = "health-http"), allow(dead_code))]
pub(crate) fn deadline() -> Option<Instant> {
    DEADLINE.try_with(|d| *d).ok()
}

/// Where a run a slot holds is at.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RunState {
    /// Going: a probe joins it.
    Running,
    /// Its task is gone without a result (its runtime shut down): it will
    /// never finish, so a probe starts another.
    Abandoned,
    /// Finished then: joined while younger than the TTL.
    Finished(Instant),
}

/// A run as a slot holds it: a handle every probe that joins it gets a
/// clone of. The checks' runs are `watch` receivers; a loom model's, its
/// own.
pub(crate) trait Flight: Clone {
    fn state(&self) -> RunState;
}

impl Flight for watch::Receiver<Option<RunResult>> {
    fn state(&self) -> RunState {
        match &*self.borrow() {
            None if self.has_changed().is_ok() => RunState::Running,
            None => RunState::Abandoned,
            Some(done) => RunState::Finished(done.finished),
        }
    }
}

/// The cache of one check: single flight over its runs. Generic over the
/// run's handle so a loom model can drive the same decision with runs it
/// controls; the checks' slots are `Slot<watch::Receiver<..>>`.
pub(crate) struct Slot<F = watch::Receiver<Option<RunResult>>> {
    latest: Mutex<Option<F>>,
}

impl<F> Default for Slot<F> {
    fn default() -> Self {
        Self {
            latest: Mutex::new(None),
        }
    }
}

impl<F: Flight> Slot<F> {
    /// The run to join: the latest one when it is still going or finished
    /// less than `ttl` ago, otherwise a new one from `start`. The decision
    /// and the store of a new run are made under the slot's lock, so
    /// concurrent probes share one run; `start` must only launch the run,
    /// not wait for it.
    pub(crate) fn join_or_start(&self, ttl: Duration, start: impl FnOnce() -> F) -> F {
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(run) = latest.as_ref() {
            let reusable = match run.state() {
                RunState::Running => true,
                RunState::Abandoned => false,
                RunState::Finished(at) => at.elapsed() < ttl,
            };
            if reusable {
                return run.clone();
            }
        }
        let run = start();
        *latest = Some(run.clone());
        run
    }
}

impl Slot {
    /// The run to wait for: the current one when it is still going or
    /// fresh, otherwise a new one, started on the checks' runtime (or, if
    /// that runtime could not be built, the caller's: then this must be
    /// called within a Tokio runtime).
    pub(crate) fn run(&self, check: &'static RegisteredCheck, ttl: Duration) -> Latest {
        let rx = self.join_or_start(ttl, || {
            let (tx, rx) = watch::channel(None);
            match checks_runtime() {
                Some(runtime) => drop(runtime.spawn(run_once(check, tx))),
                None => drop(tokio::spawn(run_once(check, tx))),
            }
            rx
        });
        Latest {
            rx,
            timeout: check.timeout(),
        }
    }
}

impl Slot {
    /// Starts a run unless one is going or fresh, without waiting for it.
    /// Outside any Tokio runtime, and without the checks' own, nothing can
    /// run it: then nothing starts (no panic), and the first probe runs it.
    pub(crate) fn start(&self, check: &'static RegisteredCheck, ttl: Duration) {
        if checks_runtime().is_none() && tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        drop(self.run(check, ttl));
    }
}

/// Waits for a run's result, at most the check's timeout (and a margin):
/// a run still going then is reported as timed out.
pub(crate) async fn wait(latest: Latest) -> RunResult {
    let Latest { mut rx, timeout } = latest;
    let started = Instant::now();
    let done = tokio::time::timeout(timeout + WAIT_MARGIN, rx.wait_for(Option::is_some)).await;
    match done {
        Ok(Ok(done)) => match &*done {
            Some(result) => result.clone(),
            None => abandoned(),
        },
        Ok(Err(_)) => abandoned(),
        Err(_) => RunResult {
            passed: false,
            output: Some(format!(
                "timed out after {}; the check is still running (does it block its thread?)",
                format_timeout(timeout)
            )),
            observed: None,
            duration: started.elapsed(),
            finished: Instant::now(),
            finished_at: SystemTime::now(),
        },
    }
}

fn abandoned() -> RunResult {
    let now = Instant::now();
    RunResult {
        passed: false,
        output: Some("the check's run was abandoned (is the runtime shutting down?)".to_owned()),
        observed: None,
        duration: Duration::ZERO,
        finished: now,
        finished_at: SystemTime::now(),
    }
}

async fn run_once(check: &'static RegisteredCheck, tx: watch::Sender<Option<RunResult>>) {
    let started = Instant::now();
    let timeout = check.timeout();
    // A check's own `error!` events are probe noise to error tracking.
    let started_run = {
        let _probe = ProbeScope::enter();
        catch_unwind(AssertUnwindSafe(|| check.start()))
    };
    let outcome = match started_run {
        Ok(run) => {
            let run = DEADLINE.scope(started + timeout, Probe::new(CatchUnwind(run)));
            tokio::time::timeout(timeout, run).await
        }
        Err(panic) => Ok(Err(panic)),
    };
    let duration = started.elapsed();
    // A check that blocked its thread past the deadline finished before the
    // timer could fire; late is a failure whatever it returned.
    let outcome = if duration > timeout {
        Err(())
    } else {
        outcome.map_err(|_| ())
    };
    let (passed, output, observed) = match outcome {
        Ok(Ok(CheckOutcome(Ok(observed)))) => (true, None, observed),
        Ok(Ok(CheckOutcome(Err(reason)))) => (false, Some(reason), None),
        Ok(Err(panic)) => (
            false,
            Some(format!("the check panicked: {}", panic_message(&*panic))),
            None,
        ),
        Err(()) => (
            false,
            Some(format!("timed out after {}", format_timeout(timeout))),
            None,
        ),
    };
    let result = RunResult {
        passed,
        output,
        observed,
        duration,
        finished: Instant::now(),
        finished_at: SystemTime::now(),
    };
    metrics::record(check, &result);
    tx.send_replace(Some(result));
}

/// `250ms`, `2s`, `1m`: the timeout as it was most likely written.
pub(crate) fn format_timeout(timeout: Duration) -> String {
    let ms = timeout.as_millis();
    if ms >= 60_000 && ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms >= 1_000 && ms.is_multiple_of(1_000) {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "(a non-string panic payload)"
    }
}

/// Polls a check's future, turning a panic into a value.
struct CatchUnwind(CheckFuture);

impl Future for CatchUnwind {
    type Output = Result<CheckOutcome, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(outcome)) => Poll::Ready(Ok(outcome)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

#[cfg(test)]
// `Duration::from_mins` is newer than the crate's minimum Rust (1.88).
#[allow(clippy::duration_suboptimal_units)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_read_as_written() {
        assert_eq!(format_timeout(Duration::from_millis(250)), "250ms");
        assert_eq!(format_timeout(Duration::from_secs(2)), "2s");
        assert_eq!(format_timeout(Duration::from_secs(60)), "1m");
        assert_eq!(format_timeout(Duration::from_millis(1_500)), "1500ms");
    }

    fn result_at(finished: Instant) -> RunResult {
        RunResult {
            passed: true,
            output: None,
            observed: None,
            duration: Duration::ZERO,
            finished,
            finished_at: SystemTime::now(),
        }
    }

    /// The loom model drives `join_or_start` with runs of its own; this is
    /// the other half, what a check's `watch` receiver tells the slot.
    #[test]
    fn a_watch_receiver_reads_as_running_abandoned_or_finished() {
        let (tx, rx) = watch::channel(None);
        assert!(matches!(rx.state(), RunState::Running));
        let at = Instant::now();
        tx.send_replace(Some(result_at(at)));
        assert!(matches!(rx.state(), RunState::Finished(t) if t == at));
        drop(tx);
        assert!(
            matches!(rx.state(), RunState::Finished(_)),
            "a result outlives its sender"
        );
        let (tx, rx) = watch::channel::<Option<RunResult>>(None);
        drop(tx);
        assert!(matches!(rx.state(), RunState::Abandoned));
    }

    /// Through the watch receivers: a finished run is joined within the TTL
    /// and replaced past it, a run still going is joined whatever the TTL.
    #[test]
    fn the_slot_joins_fresh_runs_and_replaces_stale_ones() {
        type Sender = watch::Sender<Option<RunResult>>;
        fn start(senders: &mut Vec<Sender>) -> impl FnOnce() -> watch::Receiver<Option<RunResult>> {
            || {
                let (tx, rx) = watch::channel(None);
                senders.push(tx);
                rx
            }
        }
        let slot: Slot = Slot::default();
        let mut senders = Vec::new();
        let first = slot.join_or_start(Duration::ZERO, start(&mut senders));
        let joined = slot.join_or_start(Duration::ZERO, start(&mut senders));
        assert!(first.same_channel(&joined), "a run still going is joined");
        let done = senders.first().expect("one run started");
        done.send_replace(Some(result_at(Instant::now())));
        let cached = slot.join_or_start(Duration::from_secs(3600), start(&mut senders));
        assert!(first.same_channel(&cached), "fresh within the TTL");
        let fresh = slot.join_or_start(Duration::ZERO, start(&mut senders));
        assert!(!first.same_channel(&fresh), "stale past the TTL");
        assert_eq!(senders.len(), 2);
    }
}
