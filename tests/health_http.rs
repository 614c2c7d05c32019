//! `health::http_get` against a real HTTP/1.1 server on loopback: a 200
//! passes, a 503 fails with its status and the start of its body, a server
//! slower than the check's timeout fails just before that timeout with a
//! reason of its own, and an endless body is read only up to the limit,
//! then the connection is dropped. Over `https://`, against a rustls server
//! on loopback whose certificate a CA made at test time signed: trusted
//! with `ca_pem` it passes, with the system's store alone it fails saying
//! the certificate is not trusted.
//!
//! Its own test binary: its checks are registered at link time.

#[path = "otlp/pki.rs"]
mod pki;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use obs_runtime::health::{self, CheckError, Health, HealthConfig, Observed, Probe, Status};
use obs_runtime::health_check;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

static SERVER: OnceLock<SocketAddr> = OnceLock::new();
/// Bytes of the endless body the server managed to write.
static ENDLESS_WRITTEN: AtomicUsize = AtomicUsize::new(0);
/// Set when the server's write of the endless body failed: the client hung up.
static ENDLESS_CLOSED: AtomicBool = AtomicBool::new(false);

fn url(path: &str) -> String {
    format!("http://{}{path}", SERVER.get().expect("server started"))
}

#[health_check("hh_ok", timeout = "2s")]
async fn hh_ok() -> Result<Observed, CheckError> {
    health::http_get(url("/ok")).await
}

#[health_check("hh_down", timeout = "2s")]
async fn hh_down() -> Result<Observed, CheckError> {
    // The key in the query never reaches the reason.
    health::http_get(url("/down?api_key=hunter2")).await
}

#[health_check("hh_slow", timeout = "1s")]
async fn hh_slow() -> Result<Observed, CheckError> {
    health::http_get(url("/slow")).await
}

#[health_check("hh_endless", timeout = "2s")]
async fn hh_endless() -> Result<Observed, CheckError> {
    health::http_get(url("/endless"))
        .max_body_bytes(8 * 1024)
        .await
}

async fn respond(mut socket: tokio::net::TcpStream) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request).into_owned();
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let plain = |status: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    if path == "/ok" {
        let _ = socket.write_all(plain("200 OK", "UP").as_bytes()).await;
    } else if path.starts_with("/down") {
        let _ = socket
            .write_all(plain("503 Service Unavailable", "database down\n").as_bytes())
            .await;
    } else if path == "/slow" {
        // Slower than any check's timeout here; the client hangs up first.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let _ = socket.write_all(plain("200 OK", "late").as_bytes()).await;
    } else if path == "/endless" {
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("{:x}\r\n{}\r\n", 4096, "x".repeat(4096));
        loop {
            if socket.write_all(chunk.as_bytes()).await.is_err() {
                ENDLESS_CLOSED.store(true, SeqCst);
                return;
            }
            ENDLESS_WRITTEN.fetch_add(4096, SeqCst);
        }
    } else {
        let _ = socket
            .write_all(plain("404 Not Found", "").as_bytes())
            .await;
    }
}

/// The server, on a thread and runtime of its own: it outlives whichever
/// test started it.
async fn start_server() {
    SERVER.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                while let Ok((socket, _)) = listener.accept().await {
                    tokio::spawn(respond(socket));
                }
            });
        });
        addr
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_checks_follow_status_timeout_and_body_limit() {
    start_server().await;
    let health = Health::new(HealthConfig::default());
    let started = Instant::now();
    let report = health.report(Probe::Readiness).await;
    let elapsed = started.elapsed();
    let json = report.to_json();
    let check = |name: &str| {
        report
            .check(name)
            .unwrap_or_else(|| panic!("{name}: {json}"))
    };

    assert_eq!(check("hh_ok").status(), Status::Pass, "{json}");
    assert_eq!(
        check("hh_ok").observed().map(Observed::unit),
        Some("seconds")
    );

    let down = check("hh_down");
    assert_eq!(down.status(), Status::Fail, "{json}");
    let reason = down.output().unwrap_or_default();
    assert!(
        reason.contains("answered 503 Service Unavailable") && reason.contains("database down"),
        "{reason}"
    );
    assert!(
        !reason.contains("hunter2") && !reason.contains("api_key"),
        "{reason}"
    );

    // Its own reason, just before the check's 1 s: not the runner's.
    let slow = check("hh_slow");
    assert_eq!(slow.status(), Status::Fail, "{json}");
    let reason = slow.output().unwrap_or_default();
    assert!(
        reason.contains("gave no complete answer within"),
        "{reason}"
    );
    assert!(
        slow.response_time() < Duration::from_secs(1),
        "{:?}",
        slow.response_time()
    );

    // The endless body: passes on its 200, having read only the limit.
    assert_eq!(check("hh_endless").status(), Status::Pass, "{json}");
    // All checks ran concurrently: the probe took about the slow one's
    // timeout, not the 5 s its server sleeps (generous margin).
    assert!(elapsed < Duration::from_secs(3), "probe took {elapsed:?}");

    // The client hung up on the endless body: the server's write failed
    // (awaited), after far less than it would have written.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ENDLESS_CLOSED.load(SeqCst) {
        assert!(
            Instant::now() < deadline,
            "the endless body is still being read"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let written = ENDLESS_WRITTEN.load(SeqCst);
    assert!(
        written < 64 << 20,
        "{written} bytes written before the hang-up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_needles_and_urls_outside_a_check() {
    start_server().await;
    // A custom status set: 503 accepted.
    let passed = health::http_get(url("/down"))
        .expect_status(|s| s == 503)
        .await;
    assert!(passed.is_ok(), "{passed:?}");
    // A needle beyond the bytes read is not found, and the reason says why.
    let err = health::http_get(url("/endless"))
        .max_body_bytes(100)
        .body_contains("y")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("without \"y\" (in the first 100 bytes read)"),
        "{err}"
    );
    let found = health::http_get(url("/ok")).body_contains("UP").await;
    assert!(found.is_ok(), "{found:?}");
    // Its own timeout outside a check.
    let started = Instant::now();
    let err = health::http_get(url("/slow"))
        .timeout(Duration::from_millis(200))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("within 200ms"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    // Refused URLs.
    for bad in ["ftp://example.com/", "not a url", "/relative"] {
        let err = health::http_get(bad).await.unwrap_err().to_string();
        assert!(!err.is_empty(), "{bad}");
    }
    let err = health::http_get("ftp://example.com/")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("http:// or https://host[:port]/path URLs only"),
        "{err}"
    );
}

/// A TLS server on loopback that answers `connections` connections with
/// `200 ok`, then ends.
fn tls_server(pki: &pki::Pki, connections: usize) -> (SocketAddr, std::thread::JoinHandle<()>) {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::{Read as _, Write as _};

    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let chain = CertificateDer::pem_slice_iter(pki.server_cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(pki.server_key.as_bytes()).unwrap();
    let config = std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        for _ in 0..connections {
            let Ok((conn, _)) = listener.accept() else {
                return;
            };
            conn.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let session = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(session, conn);
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            // A client that refused the certificate ends the handshake here.
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            if request.starts_with(b"GET /ok ") {
                let _ = tls.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nstatus ok",
                );
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        }
    });
    (addr, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_checks_trust_the_given_ca_and_refuse_an_unknown_certificate() {
    let pki = pki::generate("health-https");
    let (addr, server) = tls_server(&pki, 2);
    let url = format!("https://localhost:{}/ok", addr.port());

    let passed = health::http_get(&url)
        .ca_pem(pki.ca_pem.as_bytes())
        .body_contains("status ok")
        .timeout(Duration::from_secs(10))
        .check()
        .await;
    assert!(passed.is_ok(), "{passed:?}");

    // The system's store does not know the test's CA.
    let refused = health::http_get(&url)
        .timeout(Duration::from_secs(10))
        .check()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("certificate is not trusted") && refused.contains("UnknownIssuer"),
        "{refused}"
    );
    assert!(
        refused.starts_with(&format!("GET {url} failed")),
        "{refused}"
    );
    server.join().unwrap();

    // A CA that holds no certificate: said before connecting.
    let bad = health::http_get(&url)
        .ca_pem(b"not a certificate".to_vec())
        .check()
        .await
        .unwrap_err()
        .to_string();
    assert!(bad.contains("holds no PEM certificate"), "{bad}");
}
