//! Probe noise: the events of a health check or an excluded path (probes,
//! `/metrics`) are logged like any other, but error tracking leaves them
//! out — a failing probe is Kubernetes' business, not an error report.
//!
//! A thread-local flag, set while such work is polled: the request path of
//! everything else pays nothing for it.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

thread_local! {
    static IN_PROBE: Cell<bool> = const { Cell::new(false) };
}

/// Whether the code running on this thread is a probe's.
#[cfg_attr(
    not(feature = "sentry"),
    allow(dead_code, reason = "read by error tracking only")
)]
pub(crate) fn in_probe() -> bool {
    IN_PROBE.with(Cell::get)
}

/// Marks the thread as running a probe until dropped (restoring what was
/// there before, so scopes nest).
pub(crate) struct ProbeScope(bool);

impl ProbeScope {
    pub(crate) fn enter() -> Self {
        Self(IN_PROBE.with(|p| p.replace(true)))
    }
}

impl Drop for ProbeScope {
    fn drop(&mut self) {
        IN_PROBE.with(|p| p.set(self.0));
    }
}

pin_project! {
    /// A future whose every poll runs in a [`ProbeScope`].
    pub(crate) struct Probe<F> {
        #[pin]
        inner: F,
    }
}

impl<F> Probe<F> {
    pub(crate) fn new(inner: F) -> Self {
        Self { inner }
    }
}

impl<F: Future> Future for Probe<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _scope = ProbeScope::enter();
        self.project().inner.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_restore() {
        assert!(!in_probe());
        {
            let _outer = ProbeScope::enter();
            assert!(in_probe());
            {
                let _inner = ProbeScope::enter();
                assert!(in_probe());
            }
            assert!(in_probe(), "the inner scope restored the outer's flag");
        }
        assert!(!in_probe());
    }
}
