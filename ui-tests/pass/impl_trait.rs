use std::fmt::Display;

use obs_runtime::instrumented;

#[instrumented]
fn total(items: impl IntoIterator<Item = u32>) -> u32 {
    items.into_iter().sum()
}

#[instrumented]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[instrumented]
fn render(value: impl Display) -> Result<impl Display, std::fmt::Error> {
    Ok(format!("<{value}>"))
}

#[instrumented]
async fn later(x: impl Into<u64>) -> impl Display {
    x.into()
}

fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn main() {
    assert_eq!(total(vec![1, 2, 3]), 6);
    assert_eq!(evens(5).collect::<Vec<_>>(), [0, 2, 4]);
    assert_eq!(render(7).unwrap().to_string(), "<7>");
    assert_eq!(block_on(later(5u8)).to_string(), "5");
}
