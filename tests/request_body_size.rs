//! `http_server_request_size_bytes` records what the client delivered,
//! not what its `Content-Length` claims: requests through `ObsLayer`, in
//! process (`oneshot`) and over a loopback socket, with handlers that read
//! the body and handlers that don't.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::post;
use obs_runtime::http::ObsLayer;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tower::ServiceExt as _;

/// A claim no client can back: 9 PB.
const HUGE: &str = "9000000000000000";

fn app() -> Router {
    Router::new()
        .route("/rb/ignore", post(|| async { "ignored" }))
        .route(
            "/rb/read",
            post(|body: String| async move { format!("{} bytes", body.len()) }),
        )
        .route(
            "/rb/later",
            post(|body: Body| async move {
                // Read after the response is sent: the size is recorded
                // when the body is done, into the response's series.
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    axum::body::to_bytes(body, 1 << 20).await.unwrap();
                });
                "later"
            }),
        )
        .route("/rb/socket-ignore", post(|| async { "ignored" }))
        .route(
            "/rb/socket-read",
            post(|body: String| async move { format!("{} bytes", body.len()) }),
        )
        .layer(ObsLayer::new())
}

/// `(count, sum)` of the request size histogram of `route` answered 200.
fn request_size(route: &str) -> (f64, f64) {
    let text = obs_runtime::encode_text();
    let labels = format!(
        r#"{{http_request_method="POST",http_route="{route}",http_response_status_code="200",error_type=""}}"#
    );
    let get = |suffix: &str| {
        let prefix = format!("http_server_request_size_bytes_{suffix}{labels} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str())?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (get("count"), get("sum"))
}

async fn post_with_length(uri: &str, length: &str, body: &'static str) -> String {
    let req = Request::post(uri)
        .header("content-length", length)
        .body(Body::from(body))
        .unwrap();
    let response = app().oneshot(req).await.unwrap();
    assert_eq!(response.status(), 200);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn a_declared_length_is_not_taken_on_trust() {
    // The handler never reads the body: nothing was delivered to it.
    assert_eq!(post_with_length("/rb/ignore", HUGE, "abc").await, "ignored");
    assert_eq!(request_size("/rb/ignore"), (1.0, 0.0));

    // The handler reads it: the 3 bytes it got, not the 9 PB claimed.
    assert_eq!(post_with_length("/rb/read", HUGE, "abc").await, "3 bytes");
    assert_eq!(request_size("/rb/read"), (1.0, 3.0));

    // An honest body read to its end counts in full.
    let kib: &'static str = "x".repeat(1024).leak();
    assert_eq!(
        post_with_length("/rb/read", "1024", kib).await,
        "1024 bytes"
    );
    assert_eq!(request_size("/rb/read"), (2.0, 1027.0));

    assert_eq!(post_with_length("/rb/later", HUGE, "abcdef").await, "later");
    assert_eq!(request_size("/rb/later"), (0.0, 0.0), "not read yet");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while request_size("/rb/later") != (1.0, 6.0) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(request_size("/rb/later"), (1.0, 6.0));
}

/// Sends `head` and `body` over a fresh connection to `addr` and returns
/// what the server answered up to `needle`.
async fn exchange(addr: std::net::SocketAddr, raw: &[u8], needle: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(10), async {
        while !String::from_utf8_lossy(&got).contains(needle) {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("an answer within 10 s");
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn over_a_socket_the_claim_is_not_recorded() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app()).await });

    // 3 bytes sent of 9 PB declared, and the handler answers without
    // reading: the connection stays open, the body is never complete.
    let raw =
        format!("POST /rb/socket-ignore HTTP/1.1\r\nhost: t\r\ncontent-length: {HUGE}\r\n\r\nabc");
    let answer = exchange(addr, raw.as_bytes(), "ignored").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The body is dropped with the handler's request, before the answer.
    assert_eq!(request_size("/rb/socket-ignore"), (1.0, 0.0));

    // An honest body, read by the handler.
    let raw = "POST /rb/socket-read HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\n\r\nhello";
    let answer = exchange(addr, raw.as_bytes(), "5 bytes").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(request_size("/rb/socket-read"), (1.0, 5.0));
}
