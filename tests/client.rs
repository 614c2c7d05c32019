//! Outbound calls through `client::ObsClientLayer` (around hyper-util's
//! legacy client) and `client::ObsMiddleware` (reqwest-middleware) to real
//! axum servers on loopback, under `init()`'s pipeline exporting to a real
//! OTLP receiver: the server receives `traceparent` and the current
//! request's `X-Request-ID`, the client span and the server span share the
//! trace, `url.full` is redacted, refused connections and timeouts become
//! `error_type` series, and no path or query reaches a label.

#[path = "otlp/receiver.rs"]
mod receiver;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{any, get};
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use obs_runtime::client::{BoxError, ObsClientLayer, ObsClientService};
use obs_runtime::trace::SpanExport;
use tower::{Layer as _, ServiceExt as _};

type HyperClient = Client<HttpConnector, Empty<Bytes>>;

/// `init()` once for the binary, exporting to one receiver.
fn telemetry() -> &'static (receiver::Receiver, obs_runtime::ObsGuard) {
    static TELEMETRY: OnceLock<(receiver::Receiver, obs_runtime::ObsGuard)> = OnceLock::new();
    TELEMETRY.get_or_init(|| {
        let rx = receiver::start();
        let guard = obs_runtime::Builder::from_env()
            .span_export(SpanExport::OtlpGrpc {
                endpoint: format!("http://{}", rx.grpc),
            })
            .try_init()
            .expect("init");
        (rx, guard)
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn hyper_client() -> HyperClient {
    Client::builder(TokioExecutor::new()).build_http()
}

fn obs_client() -> ObsClientService<HyperClient> {
    ObsClientLayer::new().layer(hyper_client())
}

/// The headers each request to `/echo` arrived with.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<HeaderMap>>>);

impl Seen {
    fn all(&self) -> Vec<HeaderMap> {
        self.0.lock().unwrap().clone()
    }
}

/// A real axum server under `ObsLayer` on a free loopback port: `/echo`
/// keeps the request's headers, `/fail` answers 503, `/front` calls
/// `/echo` through the obs client (so it goes out inside a request), once
/// as is and once with a caller's own `X-Request-ID`.
async fn start_server() -> (SocketAddr, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Seen::default();
    let app = Router::new()
        .route(
            "/echo",
            any(|State(seen): State<Seen>, headers: HeaderMap| async move {
                seen.0.lock().unwrap().push(headers);
                "echo"
            }),
        )
        .route("/fail", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
        .route(
            "/front",
            get(move || async move {
                let client = obs_client();
                let url = format!("http://ada:hunter2@{addr}/echo?token=abc123&user=ada");
                let first = client
                    .clone()
                    .oneshot(http::Request::get(url.as_str()).body(Empty::new()).unwrap())
                    .await
                    .map_err(|e| e.to_string())?;
                let own = client
                    .oneshot(
                        http::Request::get(format!("http://{addr}/echo"))
                            .header("x-request-id", "callers-own")
                            .body(Empty::new())
                            .unwrap(),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>(format!("{} {}", first.status(), own.status()))
            }),
        )
        .with_state(seen.clone())
        .layer(obs_runtime::http::ObsLayer::new());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

/// A server that accepts connections and never answers.
async fn start_silent_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The value of the exposition line that starts with `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn duration_count(port: u16, method: &str, status: &str, error_type: &str) -> Option<f64> {
    sample(
        &obs_runtime::encode_text(),
        &format!(
            "http_client_request_duration_seconds_count{{http_request_method=\"{method}\",server_address=\"127.0.0.1\",server_port=\"{port}\",http_response_status_code=\"{status}\",error_type=\"{error_type}\"}}"
        ),
    )
}

fn active(port: u16, method: &str) -> Option<f64> {
    sample(
        &obs_runtime::encode_text(),
        &format!(
            "http_client_active_requests{{http_request_method=\"{method}\",server_address=\"127.0.0.1\",server_port=\"{port}\"}}"
        ),
    )
}

/// No label of a client family carries a path or a query.
fn assert_no_path_or_query_in_labels() {
    for line in obs_runtime::encode_text()
        .lines()
        .filter(|l| l.starts_with("http_client_"))
    {
        let labels = line.split_once('{').map_or("", |(_, rest)| rest);
        for needle in ["/echo", "/front", "token", "abc123", "?", "hunter2", "ada"] {
            assert!(!labels.contains(needle), "{needle} in {line}");
        }
    }
}

#[test]
fn trace_context_and_request_id_go_out_and_the_trace_is_shared() {
    let (rx, guard) = telemetry();
    let rt = runtime();
    let (addr, seen) = rt.block_on(start_server());
    let incoming_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    // A plain (uninstrumented) client calls `/front`, as another service
    // would; `/front` calls `/echo` through the obs client.
    let response = rt
        .block_on(
            hyper_client().request(
                http::Request::get(format!("http://{addr}/front"))
                    .header(
                        "traceparent",
                        format!("00-{incoming_trace}-00f067aa0ba902b7-01"),
                    )
                    .header("x-request-id", "req-fwd-7")
                    .body(Empty::new())
                    .unwrap(),
            ),
        )
        .unwrap();
    assert_eq!(response.status(), 200);

    let echoed = seen.all();
    assert_eq!(echoed.len(), 2, "{echoed:#?}");
    let first = &echoed[0];
    assert_eq!(
        first["x-request-id"], "req-fwd-7",
        "the request's id is forwarded"
    );
    let traceparent = first["traceparent"].to_str().unwrap();
    assert!(
        !first.contains_key("tracestate"),
        "no empty tracestate: {first:?}"
    );
    assert_eq!(
        traceparent.split('-').nth(1),
        Some(incoming_trace),
        "the outgoing call continues the request's trace: {traceparent}"
    );
    assert_eq!(
        echoed[1]["x-request-id"], "callers-own",
        "a caller's own id is kept"
    );

    guard.flush();
    let spans = rx.store.wait_for(Duration::from_secs(20), |s| {
        s.iter().filter(|s| s.name == "GET /echo").count() >= 2
            && s.iter().filter(|s| s.name == "GET" && s.kind == 3).count() >= 2
    });
    let front = spans
        .iter()
        .find(|s| s.name == "GET /front" && s.trace_id == incoming_trace)
        .unwrap_or_else(|| panic!("{spans:#?}"));
    let client = spans
        .iter()
        .find(|s| {
            s.name == "GET"
                && s.kind == 3
                && s.trace_id == incoming_trace
                && s.attributes
                    .get("url.full")
                    .is_some_and(|u| u.contains("token"))
        })
        .unwrap_or_else(|| panic!("no client span in {spans:#?}"));
    let echo = spans
        .iter()
        .find(|s| s.name == "GET /echo" && s.parent_span_id == client.span_id)
        .unwrap_or_else(|| panic!("no server span under the client span in {spans:#?}"));
    assert_eq!(echo.trace_id, client.trace_id, "one trace across the call");
    assert_eq!(echo.kind, 2);
    assert_eq!(
        client.parent_span_id, front.span_id,
        "the client span is a child of the request's server span"
    );
    assert_eq!(
        traceparent.split('-').nth(2),
        Some(client.span_id.as_str()),
        "the header names the client span as the parent"
    );
    let attr = |k: &str| client.attributes.get(k).map(String::as_str);
    assert_eq!(attr("http.request.method"), Some("GET"));
    assert_eq!(attr("server.address"), Some("127.0.0.1"));
    assert_eq!(attr("server.port"), Some(addr.port().to_string().as_str()));
    assert_eq!(attr("http.response.status_code"), Some("200"));
    assert_eq!(
        attr("url.full"),
        Some(
            format!(
                "http://[CREDENTIALS]@127.0.0.1:{}/echo?token=[REDACTED]&user=[REDACTED]",
                addr.port()
            )
            .as_str()
        )
    );
    for span in &spans {
        for value in span.attributes.values() {
            assert!(
                !value.contains("hunter2") && !value.contains("abc123"),
                "{span:#?}"
            );
        }
    }

    assert_eq!(duration_count(addr.port(), "GET", "200", ""), Some(2.0));
    assert_eq!(active(addr.port(), "GET"), Some(0.0));
    assert_no_path_or_query_in_labels();
}

#[test]
fn refused_connections_timeouts_and_server_errors_become_error_types() {
    telemetry();
    let rt = runtime();
    rt.block_on(async {
        // Refused: nothing listens on the port.
        let port = closed_port();
        let err = obs_client()
            .oneshot(
                http::Request::get(format!("http://127.0.0.1:{port}/x?q=1"))
                    .body(Empty::new())
                    .unwrap(),
            )
            .await
            .expect_err("refused");
        assert_eq!(obs_runtime::client::error_type(&*err), "connect", "{err:?}");
        assert_eq!(duration_count(port, "GET", "", "connect"), Some(1.0));
        assert_eq!(active(port, "GET"), Some(0.0));

        // A timeout inside the layer: the call fails with tower's Elapsed.
        let silent = start_silent_server().await;
        let client = ObsClientLayer::new().layer(
            tower::timeout::TimeoutLayer::new(Duration::from_millis(200)).layer(hyper_client()),
        );
        let started = std::time::Instant::now();
        let err = client
            .oneshot(
                http::Request::post(format!("http://{silent}/slow"))
                    .body(Empty::new())
                    .unwrap(),
            )
            .await
            .expect_err("timed out");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(obs_runtime::client::error_type(&*err), "timeout");
        assert_eq!(
            duration_count(silent.port(), "POST", "", "timeout"),
            Some(1.0)
        );

        // A timeout outside the layer drops the call: `cancelled`.
        let client =
            tower::timeout::TimeoutLayer::new(Duration::from_millis(200)).layer(obs_client());
        let err: BoxError = client
            .oneshot(
                http::Request::put(format!("http://{silent}/slow"))
                    .body(Empty::new())
                    .unwrap(),
            )
            .await
            .expect_err("timed out");
        assert_eq!(obs_runtime::client::error_type(&*err), "timeout");
        assert_eq!(
            duration_count(silent.port(), "PUT", "", "cancelled"),
            Some(1.0)
        );
        assert_eq!(active(silent.port(), "PUT"), Some(0.0));

        // An answer of 503 is an error of type "503"; an unknown method
        // is `_OTHER`.
        let (addr, _) = start_server().await;
        let response = obs_client()
            .oneshot(
                http::Request::get(format!("http://{addr}/fail"))
                    .body(Empty::new())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(duration_count(addr.port(), "GET", "503", "503"), Some(1.0));
        let response = obs_client()
            .oneshot(
                http::Request::builder()
                    .method("PURGE")
                    .uri(format!("http://{addr}/echo"))
                    .body(Empty::new())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(duration_count(addr.port(), "_OTHER", "200", ""), Some(1.0));
    });
    assert_no_path_or_query_in_labels();
}

#[test]
fn reqwest_middleware_records_propagates_and_classifies() {
    telemetry();
    let rt = runtime();
    rt.block_on(async {
        let (addr, seen) = start_server().await;
        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(obs_runtime::client::ObsMiddleware::new())
            .build();
        let response = client
            .get(format!("http://{addr}/echo?token=abc123"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let headers = seen.all();
        assert_eq!(headers.len(), 1);
        let traceparent = headers[0]["traceparent"].to_str().unwrap();
        assert_eq!(traceparent.len(), 55, "{traceparent}");
        // No request in progress: nothing forwarded, so the server's layer
        // made an id of its own (32 hex digits).
        assert_eq!(headers[0]["x-request-id"].len(), 32, "{headers:?}");
        assert_eq!(duration_count(addr.port(), "GET", "200", ""), Some(1.0));

        let port = closed_port();
        let err = client
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .expect_err("refused");
        assert!(err.is_connect(), "{err:?}");
        assert_eq!(duration_count(port, "GET", "", "connect"), Some(1.0));

        let silent = start_silent_server().await;
        let err = client
            .delete(format!("http://{silent}/slow"))
            .timeout(Duration::from_millis(200))
            .send()
            .await
            .expect_err("timed out");
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(
            duration_count(silent.port(), "DELETE", "", "timeout"),
            Some(1.0)
        );
        assert_eq!(active(silent.port(), "DELETE"), Some(0.0));
    });
    assert_no_path_or_query_in_labels();
}
