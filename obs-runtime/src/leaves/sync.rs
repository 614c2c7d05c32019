//! The synchronisation primitives of the structures threads share: the
//! sharded metric cells, the bounded label family and the health checks'
//! single-flight slot. They take their atomics and locks from here, not from
//! `std::sync`, so that `scripts/loom` can build them on loom's instead
//! (`--cfg obs_loom`) and check every interleaving of the real code.
//!
//! A normal build gets `std`'s types under the same names: nothing changes
//! in it. Statics stay on `std` wherever they are (loom's types are created
//! inside a model, never in a `static`).

#[cfg(not(obs_loom))]
pub(crate) use std::sync::{Mutex, RwLock, atomic::AtomicU64};

#[cfg(obs_loom)]
pub(crate) use loom::sync::{Mutex, RwLock, atomic::AtomicU64};

/// Runs a loom model with a preemption bound of `bound`, unless
/// `LOOM_MAX_PREEMPTIONS` asks for another: enough to find a lost update
/// or a missed re-check, small enough that a model runs in seconds.
#[cfg(all(test, obs_loom))]
pub(crate) fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = builder.preemption_bound.or(Some(bound));
    builder.check(f);
}
