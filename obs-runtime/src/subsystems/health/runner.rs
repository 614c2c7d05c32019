//! Runs checks: each in its own task, under its own timeout, with panics
//! caught, and with one run shared by every probe inside the TTL.
//!
//! A check's slot holds the receiver of its latest run. A probe that finds a
//! run still going, or one that finished less than a TTL ago, waits on that
//! receiver; otherwise it starts a run. The run lives in a task of its own,
//! so a probe whose client hangs up does not cancel the run the others wait
//! on.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use super::registry::{CheckFuture, CheckOutcome, RegisteredCheck};
use super::{Observed, metrics};

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

type Latest = watch::Receiver<Option<RunResult>>;

/// The cache of one check.
#[derive(Default)]
pub(crate) struct Slot {
    latest: Mutex<Option<Latest>>,
}

impl Slot {
    /// The run to wait for: the current one when it is still going or
    /// fresh, otherwise a new one. Must be called within a Tokio runtime.
    pub(crate) fn run(&self, check: &'static RegisteredCheck, ttl: Duration) -> Latest {
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(rx) = latest.as_ref() {
            let reusable = match &*rx.borrow() {
                // Still running, unless its task is gone without a result
                // (its runtime shut down): then it will never finish.
                None => rx.has_changed().is_ok(),
                Some(done) => done.finished.elapsed() < ttl,
            };
            if reusable {
                return rx.clone();
            }
        }
        let (tx, rx) = watch::channel(None);
        tokio::spawn(run_once(check, tx));
        *latest = Some(rx.clone());
        rx
    }
}

/// Waits for a run's result.
pub(crate) async fn wait(mut rx: Latest) -> RunResult {
    match rx.wait_for(Option::is_some).await {
        Ok(done) => match &*done {
            Some(result) => result.clone(),
            None => abandoned(),
        },
        Err(_) => abandoned(),
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
    let outcome = match catch_unwind(AssertUnwindSafe(|| check.start())) {
        Ok(run) => tokio::time::timeout(timeout, CatchUnwind(run)).await,
        Err(panic) => Ok(Err(panic)),
    };
    let duration = started.elapsed();
    let (passed, output, observed) = match outcome {
        Ok(Ok(CheckOutcome(Ok(observed)))) => (true, None, observed),
        Ok(Ok(CheckOutcome(Err(reason)))) => (false, Some(reason), None),
        Ok(Err(panic)) => (
            false,
            Some(format!("the check panicked: {}", panic_message(&*panic))),
            None,
        ),
        Err(_) => (
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

    use std::sync::atomic::{AtomicBool, Ordering};

    static FIRST_RUN_HANGS: AtomicBool = AtomicBool::new(true);

    #[crate::health_check("runner_abandoned", timeout = "1m", crate = "crate")]
    async fn abandoned_check() -> Result<(), String> {
        if FIRST_RUN_HANGS.swap(false, Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        Ok(())
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn a_run_lost_with_its_runtime_is_started_again() {
        let check = crate::subsystems::health::registered()
            .iter()
            .find(|c| c.name() == "runner_abandoned")
            .unwrap();
        let slot = Slot::default();
        let ttl = Duration::from_secs(60);
        let first = runtime();
        first.block_on(async {
            let rx = slot.run(check, ttl);
            tokio::task::yield_now().await;
            assert!(rx.borrow().is_none(), "the first run hangs");
        });
        // The run's task goes with its runtime, before it sent a result.
        drop(first);
        let result = runtime().block_on(async { wait(slot.run(check, ttl)).await });
        assert!(result.passed, "{:?}", result.output);
    }

    #[test]
    fn timeouts_read_as_written() {
        assert_eq!(format_timeout(Duration::from_millis(250)), "250ms");
        assert_eq!(format_timeout(Duration::from_secs(2)), "2s");
        assert_eq!(format_timeout(Duration::from_secs(60)), "1m");
        assert_eq!(format_timeout(Duration::from_millis(1_500)), "1500ms");
    }
}
