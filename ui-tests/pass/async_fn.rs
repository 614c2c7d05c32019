use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use obs_runtime::instrumented;

/// Polls a future to completion on this thread (std only).
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// Returns `Pending` once before completing, so the instrumented future is
/// polled more than once.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

#[instrumented]
async fn double(x: u32) -> u32 {
    YieldOnce(false).await;
    x * 2
}

#[instrumented]
async fn unit() {}

#[instrumented]
async fn borrowed(bytes: &[u8]) -> Option<&u8> {
    YieldOnce(false).await;
    bytes.first()
}

fn main() {
    assert_eq!(block_on(double(21)), 42);
    block_on(unit());
    assert_eq!(block_on(borrowed(b"ab")), Some(&b'a'));
}
