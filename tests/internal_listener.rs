//! `serve_internal_with`: a slowloris connection (a partial request head,
//! then silence) is closed once its header read timeout passes, probes keep
//! answering meanwhile, and past the connection limit a probe waits for a
//! slot instead of piling up.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use obs_runtime::http::{InternalConfig, serve_internal_with};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_millis(600);
/// Scheduling slack on a loaded 2-core machine.
const MARGIN: Duration = Duration::from_secs(2);

/// A connection that sends half a request line and stops.
async fn slowloris(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    s
}

/// How long until the server closes `s` (reads nothing, then end of
/// stream or a reset), at most `limit`.
async fn closed_within(mut s: TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
    .map(|()| start.elapsed())
}

async fn livez(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    String::from_utf8_lossy(&raw).into_owned()
}

#[tokio::test]
async fn a_slowloris_connection_is_closed_and_probes_still_answer() {
    let config = InternalConfig::default().header_read_timeout(TIMEOUT);
    let addr = serve_internal_with("127.0.0.1:0", config).await.unwrap();
    let slow = slowloris(addr).await;
    let held = tokio::spawn(closed_within(slow, TIMEOUT + MARGIN));
    // While it hangs, a probe answers at once.
    let start = Instant::now();
    let answer = livez(addr).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(start.elapsed() < TIMEOUT, "{:?}", start.elapsed());
    let closed = held.await.unwrap().expect("the slow connection is closed");
    assert!(
        closed >= TIMEOUT - Duration::from_millis(100),
        "closed after {closed:?}: too early"
    );

    // A kept-alive connection must send its next head in time too.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = s.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    s.write_all(b"GET /livez HTTP/1.1\r\nHo").await.unwrap();
    assert!(
        closed_within(s, TIMEOUT + MARGIN).await.is_some(),
        "a stalled second head is closed"
    );
}

#[tokio::test]
async fn past_the_connection_limit_a_probe_waits_for_a_slot() {
    let config = InternalConfig::default()
        .header_read_timeout(TIMEOUT)
        .max_connections(2);
    let addr = serve_internal_with("127.0.0.1:0", config).await.unwrap();
    let held = [slowloris(addr).await, slowloris(addr).await];
    // Let the server take both.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let start = Instant::now();
    let answer = livez(addr).await;
    let waited = start.elapsed();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        waited >= TIMEOUT / 2 && waited < TIMEOUT + MARGIN,
        "answered after {waited:?}: the limit should have held it until a slow connection was closed"
    );
    drop(held);
}
