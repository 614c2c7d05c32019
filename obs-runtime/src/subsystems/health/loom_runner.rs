//! Loom models of a health check's single-flight slot (`scripts/loom`,
//! `--cfg obs_loom`): the real `Slot::join_or_start` (the decision under
//! the slot's lock) on loom's mutex, with runs the model controls in place
//! of the `watch` channels and tasks of tokio, which loom can't run.
//!
//! What it promises (`runner.rs`, ARCHITECTURE.md "A probe"): a probe joins
//! the latest run while it is going or finished less than a TTL ago, and
//! otherwise starts one. So runs never overlap, concurrent probes share one
//! run and all get its result, a probe after a run finished gets it again
//! within the TTL and a fresh run past it, and an abandoned run (its task
//! gone without a result) is never handed out again.

use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use loom::sync::atomic::AtomicUsize;
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use super::runner::{Flight, RunState, Slot};
use crate::leaves::sync::model;

/// How a model's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The check's result: the run's number.
    Result(usize),
    /// The run's task went away without a result.
    Abandoned,
}

struct Run {
    id: usize,
    started: Instant,
    ending: Mutex<Option<Ending>>,
    ended: Condvar,
}

/// A run handle, cloned to every probe that joins it, as the checks'
/// `watch` receivers are.
#[derive(Clone)]
struct Handle(Arc<Run>);

impl Flight for Handle {
    fn state(&self) -> RunState {
        match *self.0.ending.lock().unwrap() {
            None => RunState::Running,
            Some(Ending::Abandoned) => RunState::Abandoned,
            // With a TTL of zero or an hour, when exactly does not matter.
            Some(Ending::Result(_)) => RunState::Finished(self.0.started),
        }
    }
}

impl Handle {
    fn wait(&self) -> Ending {
        let mut ending = self.0.ending.lock().unwrap();
        loop {
            if let Some(done) = *ending {
                return done;
            }
            ending = self.0.ended.wait(ending).unwrap();
        }
    }

    fn end(&self, how: Ending) {
        *self.0.ending.lock().unwrap() = Some(how);
        self.0.ended.notify_all();
    }
}

/// One check: its slot, how many runs were started, how many are going.
#[derive(Default)]
struct Check {
    slot: Slot<Handle>,
    started: AtomicUsize,
    running: AtomicUsize,
}

impl Check {
    /// A probe: joins or starts a run, carries out the run it started (as
    /// the run's task would, after the slot's lock is released), and waits
    /// for the run it got. `abandon` ends the run numbered so without a
    /// result.
    fn probe(&self, ttl: Duration, abandon: Option<usize>) -> (usize, Ending) {
        let mut mine = false;
        let run = self.slot.join_or_start(ttl, || {
            mine = true;
            let before = self.running.fetch_add(1, SeqCst);
            assert_eq!(before, 0, "a run started while another was going");
            Handle(Arc::new(Run {
                id: self.started.fetch_add(1, SeqCst) + 1,
                started: Instant::now(),
                ending: Mutex::new(None),
                ended: Condvar::new(),
            }))
        });
        if mine {
            self.running.fetch_sub(1, SeqCst);
            if abandon == Some(run.0.id) {
                run.end(Ending::Abandoned);
            } else {
                run.end(Ending::Result(run.0.id));
            }
        }
        (run.0.id, run.wait())
    }
}

fn probes(
    check: &Arc<Check>,
    n: usize,
    ttl: Duration,
    abandon: Option<usize>,
) -> Vec<(usize, Ending)> {
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let check = Arc::clone(check);
            thread::spawn(move || check.probe(ttl, abandon))
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

// `Duration::from_hours` is newer than the crate's minimum Rust (1.88).
#[allow(clippy::duration_suboptimal_units)]
const HOUR: Duration = Duration::from_secs(3600);

/// Three concurrent probes within the TTL: one run, its result for all;
/// a probe after it finished gets the same result without a new run.
#[test]
fn loom_health_concurrent_probes_share_one_run() {
    model(2, || {
        let check = Arc::new(Check::default());
        for (id, ending) in probes(&check, 3, HOUR, None) {
            assert_eq!((id, ending), (1, Ending::Result(1)));
        }
        assert_eq!(check.started.load(SeqCst), 1, "more than one run");
        assert_eq!(
            check.probe(HOUR, None),
            (1, Ending::Result(1)),
            "not cached"
        );
        assert_eq!(check.started.load(SeqCst), 1);
    });
}

/// With a TTL of zero, a finished run is never joined: concurrent probes
/// share the run still going (runs never overlap), and a probe after the
/// others finished starts a fresh one.
#[test]
fn loom_health_past_the_ttl_a_probe_runs_afresh() {
    model(3, || {
        let check = Arc::new(Check::default());
        let got = probes(&check, 2, Duration::ZERO, None);
        for &(id, ending) in &got {
            assert_eq!(
                ending,
                Ending::Result(id),
                "a probe got another run's result"
            );
        }
        let runs = check.started.load(SeqCst);
        assert!((1..=2).contains(&runs));
        let (id, ending) = check.probe(Duration::ZERO, None);
        assert_eq!((id, ending), (runs + 1, Ending::Result(runs + 1)));
    });
}

/// The first run is abandoned by its task. A probe that joined it while it
/// was going learns that; one that comes after starts another, and a probe
/// after both never gets the abandoned run back, however long the TTL.
#[test]
fn loom_health_an_abandoned_run_is_replaced() {
    model(3, || {
        let check = Arc::new(Check::default());
        for (id, ending) in probes(&check, 2, HOUR, Some(1)) {
            match id {
                1 => assert_eq!(ending, Ending::Abandoned),
                _ => assert_eq!((id, ending), (2, Ending::Result(2))),
            }
        }
        assert_eq!(check.probe(HOUR, Some(1)), (2, Ending::Result(2)));
        assert_eq!(check.started.load(SeqCst), 2);
    });
}
