//! `ObsLayer` through `tower::ServiceExt::oneshot` on an axum router:
//! labels use the route template, 404 and 500 paths, request ids kept,
//! replaced and echoed, excluded paths leave no series, `_OTHER` methods, a
//! dropped request still counted (and `cancelled` in its instrumented
//! handler), the active gauge back to 0; `/metrics` behind its allowlist,
//! through the connect-info extension and through a real loopback listener.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path};
use axum::http::{Request, StatusCode};
use axum::routing::get;
use obs_runtime::http::{MetricsConfig, ObsLayer, RequestId};
use obs_runtime::instrumented;
use tower::ServiceExt as _;

#[instrumented(metric = "hl_slow_handler")]
async fn slow_work() -> Result<(), std::io::Error> {
    tokio::time::sleep(Duration::from_secs(30)).await;
    Ok(())
}

fn app() -> Router {
    Router::new()
        .route("/hl/users/{id}", get(|Path(id): Path<u64>| async move { format!("user {id}") }))
        .route("/hl/boom", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }))
        .route(
            "/hl/echo-id",
            get(|axum::Extension(id): axum::Extension<RequestId>| async move { id.as_str().to_owned() }),
        )
        .route(
            "/hl/id-header",
            get(|headers: axum::http::HeaderMap| async move {
                headers
                    .get("x-request-id")
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default()
            }),
        )
        .route(
            "/hl/slow",
            get(|| async {
                let _ = slow_work().await;
                "done"
            }),
        )
        .route("/metrics", get(|| async { "not instrumented" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "nothing here") })
        .layer(ObsLayer::new())
}

async fn call(method: &str, uri: &str, headers: &[(&str, &str)]) -> axum::response::Response {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    app()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

/// The value of the series whose line starts with `prefix` (labels
/// included), or `None`.
fn value(prefix: &str) -> Option<f64> {
    obs_runtime::encode_text()
        .lines()
        .find_map(|l| l.strip_prefix(prefix)?.strip_prefix(' ')?.parse().ok())
}

fn count(method: &str, route: &str, status: &str, error: &str) -> f64 {
    let p = format!(
        r#"http_server_request_duration_seconds_count{{http_request_method="{method}",http_route="{route}",http_response_status_code="{status}",error_type="{error}"}}"#
    );
    value(&p).unwrap_or(0.0)
}

#[tokio::test]
async fn labels_use_the_template_and_status() {
    let before = count("GET", "/hl/users/{id}", "200", "");
    for id in [1, 2, 3] {
        let r = call("GET", &format!("/hl/users/{id}"), &[]).await;
        assert_eq!(r.status(), 200);
    }
    assert_eq!(count("GET", "/hl/users/{id}", "200", ""), before + 3.0);
    let text = obs_runtime::encode_text();
    assert!(!text.contains("/hl/users/1"), "never the raw path");
    assert!(text.contains(r#"http_server_response_size_bytes_count{http_request_method="GET",http_route="/hl/users/{id}",http_response_status_code="200",error_type=""}"#));

    let r = call("GET", "/hl/boom", &[]).await;
    assert_eq!(r.status(), 500);
    assert_eq!(
        count("GET", "/hl/boom", "500", "500"),
        1.0,
        "5xx carries error_type"
    );

    let before = count("GET", "unmatched", "404", "");
    let r = call("GET", "/hl/nothing/here/123", &[]).await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        count("GET", "unmatched", "404", ""),
        before + 1.0,
        "one fixed route for unmatched paths"
    );
}

#[tokio::test]
async fn methods_outside_the_standard_set_are_other() {
    let r = call("PURGE", "/hl/users/9", &[]).await;
    assert_eq!(r.status(), 405);
    assert!(
        count("_OTHER", "/hl/users/{id}", "405", "") >= 1.0,
        "{}",
        obs_runtime::encode_text()
    );
    assert!(!obs_runtime::encode_text().contains("PURGE"));
}

#[tokio::test]
async fn request_ids_are_kept_replaced_and_echoed() {
    let r = call("GET", "/hl/echo-id", &[("x-request-id", "abc-123.retry_1")]).await;
    assert_eq!(r.headers()["x-request-id"], "abc-123.retry_1");
    let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
    assert_eq!(&body[..], b"abc-123.retry_1", "handlers see the same id");

    let r = call("GET", "/hl/echo-id", &[("x-correlation-id", "corr-9")]).await;
    assert_eq!(r.headers()["x-request-id"], "corr-9");
    let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
    assert_eq!(&body[..], b"corr-9");

    // Handlers that pass the header on (rather than the extension) see
    // the id the response carries, made here when the caller sent none.
    let r = call("GET", "/hl/id-header", &[]).await;
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
    assert_eq!((id.len(), &body[..]), (32, id.as_bytes()));
    let r = call("GET", "/hl/id-header", &[("x-correlation-id", "corr-10")]).await;
    let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
    assert_eq!(&body[..], b"corr-10");

    let hostile = "bad id\"with spaces";
    let r = call("GET", "/hl/echo-id", &[("x-request-id", hostile)]).await;
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id, hostile);
    assert_eq!(id.len(), 32, "a generated id: {id}");
    let too_long = "a".repeat(129);
    let r = call("GET", "/hl/echo-id", &[("x-request-id", &too_long)]).await;
    assert_ne!(r.headers()["x-request-id"], too_long.as_str());
}

#[tokio::test]
async fn a_correlation_id_is_echoed_under_the_name_it_came_in() {
    // Came as X-Correlation-ID: back under both names.
    let r = call("GET", "/hl/echo-id", &[("x-correlation-id", "corr-77")]).await;
    assert_eq!(r.headers()["x-correlation-id"], "corr-77");
    assert_eq!(r.headers()["x-request-id"], "corr-77");
    // Came as X-Request-ID (which wins when both are valid): no
    // correlation header added, none echoed.
    let r = call("GET", "/hl/echo-id", &[("x-request-id", "req-78")]).await;
    assert_eq!(r.headers()["x-request-id"], "req-78");
    assert!(r.headers().get("x-correlation-id").is_none());
    let r = call(
        "GET",
        "/hl/echo-id",
        &[("x-request-id", "req-79"), ("x-correlation-id", "corr-79")],
    )
    .await;
    assert_eq!(r.headers()["x-request-id"], "req-79");
    assert!(r.headers().get("x-correlation-id").is_none());
    // An invalid X-Request-ID beside a valid X-Correlation-ID: the
    // correlation id is kept, and echoed under its own name.
    let r = call(
        "GET",
        "/hl/echo-id",
        &[("x-request-id", "bad id"), ("x-correlation-id", "corr-80")],
    )
    .await;
    assert_eq!(r.headers()["x-request-id"], "corr-80");
    assert_eq!(r.headers()["x-correlation-id"], "corr-80");
    // A hostile correlation id is replaced, and never echoed.
    let r = call("GET", "/hl/echo-id", &[("x-correlation-id", "bad\"id")]).await;
    assert_eq!(r.headers()["x-request-id"].len(), 32);
    assert!(r.headers().get("x-correlation-id").is_none());
}

#[tokio::test]
async fn excluded_paths_leave_no_series() {
    let r = call("GET", "/metrics", &[]).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("x-request-id").is_none(),
        "excluded paths pass straight through"
    );
    assert!(!obs_runtime::encode_text().contains(r#"http_route="/metrics""#));
}

#[tokio::test]
async fn a_dropped_request_is_counted_and_the_gauge_returns_to_zero() {
    let active =
        || value(r#"http_server_active_requests{http_request_method="GET",http_route="/hl/slow"}"#);
    let request = Request::get("/hl/slow").body(Body::empty()).unwrap();
    let pending = tokio::spawn(app().oneshot(request));
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        while active() != Some(1.0) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(seen.is_ok(), "the request is in flight");
    // The client goes away: the server drops the request's future.
    pending.abort();
    let _ = pending.await;
    assert_eq!(active(), Some(0.0));
    assert_eq!(
        count("GET", "/hl/slow", "", "cancelled"),
        1.0,
        "{}",
        obs_runtime::encode_text()
    );
    let handler = obs_runtime::encode_text()
        .lines()
        .find(|l| {
            l.starts_with("hl_slow_handler_calls_total") && l.contains(r#"result="cancelled""#)
        })
        .map(str::to_owned);
    assert!(
        handler.is_some_and(|l| l.ends_with(" 1")),
        "the instrumented handler was cancelled"
    );
}

fn metrics_request(peer: Option<&str>, forwarded: Option<&str>) -> Request<Body> {
    let mut req = Request::get("/metrics").header("accept-encoding", "identity");
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    let mut req = req.body(Body::empty()).unwrap();
    if let Some(p) = peer {
        req.extensions_mut()
            .insert(ConnectInfo(p.parse::<SocketAddr>().unwrap()));
    }
    req
}

#[tokio::test]
async fn metrics_allowlist_through_connect_info() {
    let endpoint = obs_runtime::http::metrics_router(MetricsConfig::default());
    for (peer, status) in [
        (Some("127.0.0.1:5000"), 200),
        (Some("10.2.3.4:5000"), 200),
        (Some("[fd00::1]:5000"), 200),
        (Some("203.0.113.7:5000"), 403),
        (None, 403),
    ] {
        let r = endpoint
            .clone()
            .oneshot(metrics_request(peer, None))
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{peer:?}");
        if status == 200 {
            assert_eq!(
                r.headers()["content-type"],
                "text/plain; version=0.0.4; charset=utf-8"
            );
        }
    }
    // A forged X-Forwarded-For is ignored unless proxies are trusted.
    let forged = metrics_request(Some("203.0.113.7:5000"), Some("127.0.0.1"));
    assert_eq!(
        endpoint.clone().oneshot(forged).await.unwrap().status(),
        403
    );
    // Behind an ingress in the cluster network, an internet client arrives
    // from the ingress's private address with a forwarding header: the
    // default refuses it, and says why.
    let through_ingress = metrics_request(Some("10.0.0.2:80"), Some("203.0.113.7"));
    let r = endpoint.clone().oneshot(through_ingress).await.unwrap();
    assert_eq!(r.status(), 403, "an internet client through an ingress");
    let body = axum::body::to_bytes(r.into_body(), 4096).await.unwrap();
    assert!(
        String::from_utf8_lossy(&body).contains("came through a proxy"),
        "{body:?}"
    );
    let behind_proxy =
        obs_runtime::http::metrics_router(MetricsConfig::default().trusted_proxies(1));
    let r = behind_proxy
        .clone()
        .oneshot(metrics_request(Some("10.0.0.2:80"), Some("203.0.113.7")))
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "the proxy vouches for an outside caller");
    let r = behind_proxy
        .oneshot(metrics_request(Some("10.0.0.2:80"), Some("192.168.1.9")))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn metrics_allowlist_on_a_real_listener_and_gzip() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let get = |addr: SocketAddr, gzip: bool| async move {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let enc = if gzip {
            "Accept-Encoding: gzip\r\n"
        } else {
            ""
        };
        let req = format!("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{enc}\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.unwrap();
        raw
    };
    let serve = |config: MetricsConfig| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = obs_runtime::http::metrics_router(config)
            .into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    };
    let open = serve(MetricsConfig::default()).await;
    let raw = get(open, false).await;
    assert!(
        raw.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    let raw = get(open, true).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("content-encoding: gzip"), "{text}");
    let body = &raw[raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    assert_eq!(&body[..2], &[0x1f, 0x8b], "a gzip stream");

    let closed = serve(MetricsConfig::default().allowlist("10.0.0.0/8".parse().unwrap())).await;
    let raw = get(closed, false).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 403"), "{text}");
    assert!(
        text.contains("127.0.0.1 is not in the metrics allowlist"),
        "{text}"
    );
}

#[tokio::test]
async fn serve_internal_answers_metrics_and_probes_on_its_own_port() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let addr = obs_runtime::http::serve_internal("127.0.0.1:0")
        .await
        .expect("bind");
    for (path, status) in [
        ("/metrics", "200"),
        ("/livez", "200"),
        ("/readyz/no-such-check", "404"),
    ] {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(
            text.starts_with(&format!("HTTP/1.1 {status}")),
            "{path}: {text}"
        );
        if path == "/metrics" {
            assert!(
                text.contains("# TYPE process_resident_memory_bytes gauge"),
                "{text}"
            );
        }
    }
}
