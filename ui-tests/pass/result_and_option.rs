use std::io;

use obs_runtime::instrumented;

#[instrumented]
fn read_num(s: &str) -> Result<u32, io::Error> {
    if s.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty"));
    }
    let n: u32 = s.trim().parse().map_err(io::Error::other)?;
    Ok(n)
}

#[instrumented]
fn read_twice(a: &str, b: &str) -> io::Result<u32> {
    let x = read_num(a)?;
    let y = read_num(b)?;
    Ok(x + y)
}

#[instrumented]
fn head(xs: &[u32]) -> Option<u32> {
    let first = xs.first()?;
    if *first == 0 {
        return None;
    }
    Some(*first)
}

#[instrumented]
fn never_fails(n: u8) -> Result<u8, std::convert::Infallible> {
    Ok(n)
}

#[instrumented]
async fn fetch(s: &str) -> Result<u32, io::Error> {
    if s == "early" {
        return Ok(0);
    }
    let n = read_num(s)?;
    Ok(n * 10)
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
    assert_eq!(read_num("4").unwrap(), 4);
    assert_eq!(read_num("").unwrap_err().kind(), io::ErrorKind::InvalidInput);
    assert!(read_num("x").is_err());
    assert_eq!(read_twice("1", "2").unwrap(), 3);
    assert!(read_twice("1", "y").is_err());
    assert_eq!(head(&[3, 4]), Some(3));
    assert_eq!(head(&[0]), None);
    assert_eq!(head(&[]), None);
    assert_eq!(never_fails(1), Ok(1));
    assert_eq!(block_on(fetch("2")).unwrap(), 20);
    assert_eq!(block_on(fetch("early")).unwrap(), 0);
    assert!(block_on(fetch("z")).is_err());
}
