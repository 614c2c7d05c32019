//! Error tracking against a real Sentry envelope endpoint on loopback
//! (`sentry_support/endpoint.rs`), used as the DSN. `init()` installs a
//! global subscriber once per process, so each scenario runs in a child
//! process (this binary, re-run with `OBS_SENTRY_SCENARIO` set and the
//! `SENTRY_*` variables pointing at the parent's endpoint); the child
//! prints what it knows (span ids, request ids, counters) and the parent
//! checks what the endpoint received.

#[path = "sentry_support/endpoint.rs"]
mod endpoint;
#[path = "redaction_support/pii.rs"]
mod pii;
#[path = "otlp/receiver.rs"]
mod receiver;

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use endpoint::{Endpoint, Mode};
use obs_runtime::instrumented;
use obs_runtime::trace::SpanExport;
use tower::ServiceExt as _;

const TRACEPARENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused: {}", self.0)
    }
}

impl std::error::Error for Refused {}

impl axum::response::IntoResponse for Refused {
    fn into_response(self) -> axum::response::Response {
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

#[instrumented(metric = "es_charge")]
async fn charge(card: String) -> Result<u32, Refused> {
    tokio::task::yield_now().await;
    Err(Refused(format!(
        "card {card} declined, token=tok-9f8e7d6c5b4a"
    )))
}

/// The handler: returns the inner function's error (two instrumented
/// frames, one error).
#[instrumented(metric = "es_checkout")]
async fn checkout() -> Result<String, Refused> {
    tracing::info!("checkout started");
    let n = charge("4111 1111 1111 1111".into()).await?;
    Ok(n.to_string())
}

/// A failing readiness check: its probe answers 503, and sends nothing.
#[obs_runtime::health_check("es_database")]
async fn database() -> Result<(), String> {
    Err("database unreachable: password=hunter2".to_owned())
}

fn app() -> Router {
    Router::new()
        .route("/checkout", get(checkout))
        .route(
            "/plain500",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down") }),
        )
        .route("/bad", get(|| async { (StatusCode::BAD_REQUEST, "bad") }))
        // The real probes: `/readyz` fails with the check below.
        .merge(obs_runtime::health::axum::router_with(std::sync::Arc::new(
            obs_runtime::health::Health::new(obs_runtime::health::HealthConfig::default()),
        )))
        .layer(obs_runtime::http::ObsLayer::new())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn call(rt: &tokio::runtime::Runtime, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = rt
        .block_on(app().oneshot(request.body(Body::empty()).unwrap()))
        .unwrap();
    let id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status().as_u16(), id)
}

fn scrape(name: &str) -> f64 {
    obs_runtime::encode_text()
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(-1.0)
}

/// Runs `test` in a child with `env`; returns the `KEY value` lines it
/// printed.
fn run_child(test: &str, env: &[(&str, &str)]) -> HashMap<String, String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("OBS_SENTRY_SCENARIO", test)
        .env("OBS_ENV", "production")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A child that hangs (a deadlock in a layer) fails the test instead of
    // holding the suite.
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("child {test} still running after 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child {test} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    stdout
        .lines()
        .filter_map(|l| l.split_once("CHILD ").map(|(_, rest)| rest))
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Runs `test` in a child whose DSN is a fresh answering endpoint, with no
/// span export and `env` on top; returns what the child printed and every
/// event the endpoint received (the child flushed before it exited, and
/// the endpoint records an event before answering: nothing more comes).
fn events_of(
    test: &str,
    env: &[(&str, &str)],
) -> (HashMap<String, String>, Vec<serde_json::Value>) {
    let ep = Endpoint::start(Mode::Answer);
    let dsn = ep.dsn();
    let mut all = vec![
        ("SENTRY_DSN", dsn.as_str()),
        ("OTEL_TRACES_EXPORTER", "none"),
    ];
    all.extend_from_slice(env);
    let child = run_child(test, &all);
    (child, ep.events())
}

/// The child's pipeline: from its environment, logs into a sink.
fn child_init() -> obs_runtime::ObsGuard {
    obs_runtime::Builder::from_env()
        .log_writer(std::io::sink)
        .try_init()
        .unwrap()
}

fn in_child(test: &str) -> bool {
    std::env::var("OBS_SENTRY_SCENARIO").is_ok_and(|s| s == test)
}

fn exception(event: &serde_json::Value) -> &serde_json::Value {
    &event["exception"]["values"][0]
}

#[test]
fn handler_error_is_one_event_linked_to_its_trace_and_4xx_and_probes_send_nothing() {
    const NAME: &str =
        "handler_error_is_one_event_linked_to_its_trace_and_4xx_and_probes_send_nothing";
    if in_child(NAME) {
        let rx = receiver::start();
        let guard = obs_runtime::Builder::from_env()
            .service_name("shop")
            .service_version("1.2.3")
            .span_export(SpanExport::OtlpGrpc {
                endpoint: format!("http://{}", rx.grpc),
            })
            .log_writer(std::io::sink)
            .try_init()
            .unwrap();
        let rt = runtime();
        let traceparent = format!("00-{TRACEPARENT_TRACE}-00f067aa0ba902b7-01");
        let (status, id) = call(
            &rt,
            "/checkout?token=tok-q-5e4d3c2b1a&sku=7",
            &[
                ("traceparent", traceparent.as_str()),
                ("x-request-id", "req-checkout-1"),
                ("cookie", "sid=cookie-5e4d3c2b1a"),
                ("authorization", "Bearer hdr-5e4d3c2b1a9f8e7d"),
                ("user-agent", "shop-client/2.0"),
            ],
        );
        assert_eq!(status, 500);
        println!("CHILD checkout_request_id {id}");
        let (status, id) = call(&rt, "/plain500", &[]);
        assert_eq!(status, 503);
        println!("CHILD plain500_request_id {id}");
        assert_eq!(call(&rt, "/missing", &[]).0, 404);
        assert_eq!(call(&rt, "/bad", &[]).0, 400);
        assert_eq!(call(&rt, "/readyz", &[]).0, 503);
        guard.flush();
        let spans = rx.store.wait_for(Duration::from_secs(20), |s| {
            s.iter().any(|s| s.name == "checkout")
        });
        let handler = spans.iter().find(|s| s.name == "checkout").unwrap();
        println!("CHILD handler_trace {}", handler.trace_id);
        println!("CHILD handler_span {}", handler.span_id);
        println!("CHILD dropped {}", scrape("obs_errors_dropped_total"));
        drop(guard);
        return;
    }
    let ep = Endpoint::start(Mode::Answer);
    let child = run_child(
        NAME,
        &[
            ("SENTRY_DSN", ep.dsn().as_str()),
            ("SENTRY_ENVIRONMENT", "staging"),
        ],
    );
    // The child flushed before it exited and the endpoint records an event
    // before answering, so nothing more can arrive: count now.
    let events = ep.wait_for(2);
    assert!(events.len() >= 2, "{events:#?}");
    let events = ep.events();
    assert_eq!(ep.seen.lock().unwrap().rejected, Vec::<String>::new());
    assert!(
        ep.seen.lock().unwrap().gzipped >= 1,
        "bodies come gzip-compressed"
    );
    assert_eq!(
        events.len(),
        2,
        "the error and the plain 5xx only: {events:#?}"
    );
    assert_eq!(child["dropped"], "0");

    let error = events
        .iter()
        .find(|e| e["tags"]["request_id"] == "req-checkout-1")
        .unwrap_or_else(|| panic!("no event of the checkout request: {events:#?}"));
    let ex = exception(error);
    assert!(ex["type"].as_str().unwrap().ends_with("Refused"), "{ex}");
    let value = ex["value"].as_str().unwrap();
    assert!(
        value.starts_with("refused: card [CARD] declined"),
        "{value}"
    );
    assert!(!value.contains("tok-9f8e7d6c5b4a"), "{value}");
    assert_eq!(error["contexts"]["trace"]["trace_id"], TRACEPARENT_TRACE);
    assert_eq!(
        error["contexts"]["trace"]["trace_id"],
        child["handler_trace"].as_str()
    );
    assert_eq!(
        error["contexts"]["trace"]["span_id"],
        child["handler_span"].as_str()
    );
    assert_eq!(error["release"], "shop@1.2.3");
    assert_eq!(error["environment"], "staging");
    assert_eq!(error["transaction"], "checkout");
    // The request: method, query with its secret redacted, the user agent
    // and no other header; the cookie and the credentials never arrive.
    let request = &error["request"];
    assert_eq!(request["method"], "GET", "{error:#}");
    let query = request["query_string"].as_str().unwrap_or_default();
    assert!(
        query.contains("sku=7") && !query.contains("tok-q-"),
        "{request}"
    );
    assert_eq!(
        request["headers"]["User-Agent"], "shop-client/2.0",
        "{request}"
    );
    assert_eq!(
        request["headers"].as_object().map(|h| h.len()),
        Some(1),
        "{request}"
    );
    assert_eq!(error["tags"]["url.path"], "/checkout");
    let raw = error.to_string();
    assert!(!raw.contains("5e4d3c2b1a"), "{raw}");
    let crumbs = error["breadcrumbs"]["values"].as_array().unwrap();
    assert!(
        crumbs.iter().any(|c| c["message"] == "checkout started"),
        "{crumbs:#?}"
    );

    let plain = events
        .iter()
        .find(|e| e["tags"]["request_id"] == child["plain500_request_id"].as_str())
        .unwrap_or_else(|| panic!("no event of the plain 5xx: {events:#?}"));
    assert_eq!(plain["message"], "GET /plain500 answered 503");
    assert_eq!(plain["tags"]["http.response.status_code"], "503");
    assert_eq!(plain["release"], "shop@1.2.3");
}

#[test]
fn a_panic_arrives_once_with_its_stack_trace() {
    const NAME: &str = "a_panic_arrives_once_with_its_stack_trace";
    if in_child(NAME) {
        let guard = obs_runtime::Builder::from_env()
            .service_name("shop")
            .service_version("1.2.3")
            .log_writer(std::io::sink)
            .try_init()
            .unwrap();
        let worker = std::thread::spawn(|| {
            let _span = tracing::info_span!("nightly_import").entered();
            tracing::info!("import started");
            panic!("import failed: password=hunter2 for ada@example.com");
        });
        assert!(worker.join().is_err());
        drop(guard);
        return;
    }
    let ep = Endpoint::start(Mode::Answer);
    run_child(NAME, &[("SENTRY_DSN", ep.dsn().as_str())]);
    let events = ep.wait_for(1);
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event["level"], "fatal");
    let ex = exception(event);
    assert_eq!(ex["type"], "panic");
    assert_eq!(ex["mechanism"]["handled"], false);
    let value = ex["value"].as_str().unwrap();
    assert!(value.starts_with("import failed"), "{value}");
    let frames = ex["stacktrace"]["frames"]
        .as_array()
        .expect("a stack trace");
    assert!(!frames.is_empty());
    let raw = String::from_utf8_lossy(&ep.seen.lock().unwrap().bodies.concat()).into_owned();
    assert!(
        !raw.contains("hunter2") && !raw.contains("ada@example.com"),
        "{raw}"
    );
    let crumbs = event["breadcrumbs"]["values"].as_array().unwrap();
    assert!(
        crumbs.iter().any(|c| c["message"] == "import started"),
        "{crumbs:#?}"
    );
    assert_eq!(event["release"], "shop@1.2.3");
}

/// Corpus samples sent as `error!` events (message and field).
const CORPUS_EVENTS: usize = 200;

#[test]
fn no_secret_of_the_redaction_corpus_reaches_the_endpoint() {
    const NAME: &str = "no_secret_of_the_redaction_corpus_reaches_the_endpoint";
    if in_child(NAME) {
        let guard = obs_runtime::Builder::from_env()
            .log_writer(std::io::sink)
            // The user's hook filters and enriches; what it adds is
            // scrubbed after it, and the user it sets is removed.
            .error_hook(|mut event| {
                if event.message.as_deref() == Some("drop me") {
                    return None;
                }
                event.user = Some(obs_runtime::errors::protocol::User {
                    email: Some("hook.user@example.com".into()),
                    ..Default::default()
                });
                event
                    .tags
                    .insert("hook".into(), "enriched, password=hook-pa55w0rd".into());
                Some(event)
            })
            .try_init()
            .unwrap();
        let rt = runtime();
        tracing::error!("drop me");
        let (status, _) = call(
            &rt,
            "/checkout?access_token=qs-s3cr3t-value",
            &[
                ("cookie", "session=sess-0042-QWERTY"),
                ("authorization", "Bearer 9f8e7d6c5b4aXyZ"),
            ],
        );
        assert_eq!(status, 500);
        tracing::error!(
            password = "hunter2-Sup3rSecret",
            card = 4_111_111_111_111_111_i64,
            user = "grace.hopper@example.org",
            "login failed for ada.lovelace@example.com with Bearer 9f8e7d6c5b4aXyZ"
        );
        let samples = pii::pii_corpus();
        for (i, (_, message, field)) in samples[..CORPUS_EVENTS].iter().enumerate() {
            tracing::error!(sample = i, note = field.as_str(), "{message}");
            // Within the queue's bound: this test is about scrubbing.
            if i % 16 == 15 {
                guard.flush();
            }
        }
        guard.flush();
        println!("CHILD dropped {}", scrape("obs_errors_dropped_total"));
        drop(guard);
        return;
    }
    let ep = Endpoint::start(Mode::Answer);
    let child = run_child(NAME, &[("SENTRY_DSN", ep.dsn().as_str())]);
    assert_eq!(child["dropped"], "0");
    let events = ep.wait_for(2 + CORPUS_EVENTS);
    assert_eq!(events.len(), 2 + CORPUS_EVENTS);
    let raw = String::from_utf8_lossy(&ep.seen.lock().unwrap().bodies.concat()).into_owned();
    for secret in [
        "hunter2-Sup3rSecret",
        "4111111111111111",
        "4111 1111 1111 1111",
        "grace.hopper@example.org",
        "ada.lovelace@example.com",
        "9f8e7d6c5b4aXyZ",
        "sess-0042-QWERTY",
        "qs-s3cr3t-value",
        "tok-9f8e7d6c5b4a",
        "hook.user@example.com",
        "hook-pa55w0rd",
        "drop me",
    ] {
        assert!(!raw.contains(secret), "{secret} reached the endpoint");
    }
    assert!(
        events
            .iter()
            .all(|e| e["tags"]["hook"] == "enriched, password=[REDACTED]" && e["user"].is_null()),
        "the hook's tag on every event, its user on none"
    );
    let samples = pii::pii_corpus();
    let samples = &samples[..CORPUS_EVENTS];
    let outputs: Vec<(usize, String)> = events
        .iter()
        .filter_map(|e| {
            let i = e["extra"]["sample"].as_str()?.parse().ok()?;
            Some((i, e.to_string()))
        })
        .collect();
    assert_eq!(outputs.len(), CORPUS_EVENTS);
    let leaks = pii::count_leaks(samples, outputs.iter().map(|(i, t)| (*i, t.as_str())));
    assert_eq!(leaks, 0, "corpus secrets reached the endpoint");
}

/// Events sent while the endpoint can't take them.
const FLOOD: usize = 100;

fn flood_child(name: &str) {
    let guard = child_init();
    let rt = runtime();
    // The request completes although the endpoint never answers (or is
    // not there): reporting its 5xx did not wait for the network.
    let (status, _) = call(&rt, "/plain500", &[]);
    assert_eq!(status, 503);
    for i in 0..FLOOD {
        tracing::error!(attempt = i, "{name}: payment service unreachable");
    }
    let (status, _) = call(&rt, "/plain500", &[]);
    assert_eq!(status, 503);
    let start = Instant::now();
    drop(guard);
    println!("CHILD shutdown_ms {}", start.elapsed().as_millis());
    println!("CHILD dropped {}", scrape("obs_errors_dropped_total"));
}

#[test]
fn a_closed_port_costs_counted_drops_and_a_bounded_shutdown() {
    const NAME: &str = "a_closed_port_costs_counted_drops_and_a_bounded_shutdown";
    if in_child(NAME) {
        flood_child(NAME);
        return;
    }
    let child = run_child(
        NAME,
        &[
            ("SENTRY_DSN", endpoint::closed_port_dsn().as_str()),
            ("OTEL_TRACES_EXPORTER", "none"),
        ],
    );
    let dropped: f64 = child["dropped"].parse().unwrap();
    // Every event: refused connections, or a full queue.
    assert_eq!(dropped, (FLOOD + 2) as f64, "{child:?}");
    let shutdown: u64 = child["shutdown_ms"].parse().unwrap();
    // The deadline is 2 s (plus scheduling slack); without it, the hung
    // request and the 32 queued behind it would hold it for minutes.
    assert!(
        shutdown <= 3_000,
        "shutdown took {shutdown} ms, the deadline is 2 s"
    );
}

#[test]
fn a_hanging_endpoint_costs_counted_drops_and_a_bounded_shutdown() {
    const NAME: &str = "a_hanging_endpoint_costs_counted_drops_and_a_bounded_shutdown";
    if in_child(NAME) {
        flood_child(NAME);
        return;
    }
    let ep = Endpoint::start(Mode::Hang);
    let child = run_child(
        NAME,
        &[
            ("SENTRY_DSN", ep.dsn().as_str()),
            ("OTEL_TRACES_EXPORTER", "none"),
        ],
    );
    let seen = ep.seen.lock().unwrap();
    assert!(seen.connections >= 1, "the client reached the endpoint");
    assert!(seen.events.is_empty());
    drop(seen);
    let dropped: f64 = child["dropped"].parse().unwrap();
    // One envelope on the wire, at most the queue's 32 waiting: the rest
    // dropped at once.
    assert!(dropped >= (FLOOD + 2 - 1 - 32) as f64, "{child:?}");
    let shutdown: u64 = child["shutdown_ms"].parse().unwrap();
    // The deadline is 2 s (plus scheduling slack); without it, the hung
    // request and the 32 queued behind it would hold it for minutes.
    assert!(
        shutdown <= 3_000,
        "shutdown took {shutdown} ms, the deadline is 2 s"
    );
}

#[instrumented(metric = "es_parse")]
fn parse_amount(text: &str) -> Result<u32, std::num::ParseIntError> {
    text.parse()
}

#[instrumented(metric = "es_validate")]
fn validate(text: &str) -> Result<u32, std::num::ParseIntError> {
    let amount = parse_amount(text)?;
    Ok(amount)
}

#[instrumented(metric = "es_submit")]
fn submit(text: &str) -> Result<u32, std::num::ParseIntError> {
    validate(text)
}

/// Handles the error of the function it calls and returns `Ok`.
#[instrumented(metric = "es_tolerant")]
fn tolerant(text: &str) -> Result<u32, std::num::ParseIntError> {
    Ok(parse_amount(text).unwrap_or(0))
}

#[test]
fn an_instrumented_error_is_reported_once_however_many_frames_return_it() {
    const NAME: &str = "an_instrumented_error_is_reported_once_however_many_frames_return_it";
    if in_child(NAME) {
        let guard = child_init();
        // Three frames return the same error: one event, at `submit`.
        assert!(submit("12x").is_err());
        // The outer frame handles it: one event, from `parse_amount`.
        assert_eq!(tolerant("7y").unwrap(), 0);
        // Success sends nothing.
        assert_eq!(submit("12").unwrap(), 12);
        guard.flush();
        drop(guard);
        return;
    }
    let (_, events) = events_of(NAME, &[]);
    assert_eq!(events.len(), 2, "{events:#?}");
    let transactions: Vec<&str> = events
        .iter()
        .map(|e| e["transaction"].as_str().unwrap_or(""))
        .collect();
    assert!(transactions.contains(&"submit"), "{transactions:?}");
    assert!(transactions.contains(&"parse_amount"), "{transactions:?}");
    for event in &events {
        let ex = exception(event);
        assert!(
            ex["type"].as_str().unwrap().ends_with("ParseIntError"),
            "{ex}"
        );
        assert_eq!(ex["value"], "invalid digit found in string");
    }
}

/// No span of its own: its error goes to the instrumented frame it runs
/// in, or is reported here when there is none.
#[instrumented(metric = "es_quiet_parse", span = false)]
fn quiet_parse(text: &str) -> Result<u32, std::num::ParseIntError> {
    text.parse()
}

#[instrumented(metric = "es_loud_submit")]
fn loud_submit(text: &str) -> Result<u32, std::num::ParseIntError> {
    quiet_parse(text)
}

#[instrumented(metric = "es_loud_tolerant")]
fn loud_tolerant(text: &str) -> Result<u32, std::num::ParseIntError> {
    Ok(quiet_parse(text).unwrap_or(0))
}

/// The transactions of `events`, sorted.
fn transactions(events: &[serde_json::Value]) -> Vec<String> {
    let mut names: Vec<String> = events
        .iter()
        .map(|e| e["transaction"].as_str().unwrap_or("").to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_error_without_a_span_is_reported_once() {
    const NAME: &str = "an_error_without_a_span_is_reported_once";
    if in_child(NAME) {
        let guard = child_init();
        // `span = false`, called on its own: one event, named after it.
        assert!(quiet_parse("1x").is_err());
        // Returned on by an instrumented frame: one event, at that frame.
        assert!(loud_submit("2x").is_err());
        // Handled by the frame it ran in: one event, named after itself.
        assert_eq!(loud_tolerant("3x").unwrap(), 0);
        // `RUST_LOG=warn` (set by the parent) disables every INFO span; the
        // frames are kept for error tracking, so three frames returning the
        // same error still make one event, at the outermost.
        assert!(submit("12x").is_err());
        assert_eq!(submit("12").unwrap(), 12);
        assert_eq!(quiet_parse("4").unwrap(), 4);
        guard.flush();
        drop(guard);
        return;
    }
    let (_, events) = events_of(NAME, &[("RUST_LOG", "warn")]);
    assert_eq!(
        transactions(&events),
        ["loud_submit", "quiet_parse", "quiet_parse", "submit"],
        "{events:#?}"
    );
    for event in &events {
        let ex = exception(event);
        assert!(
            ex["type"].as_str().unwrap().ends_with("ParseIntError"),
            "{ex}"
        );
    }
}

/// Fails, and says so at ERROR first: a probe's noise, never an event.
#[obs_runtime::health_check("es_noisy_cache")]
async fn noisy_cache() -> Result<(), String> {
    tracing::error!("cache ping failed");
    Err("cache down".to_owned())
}

fn probe_app() -> Router {
    Router::new()
        .route(
            "/internal/ping",
            get(|| async {
                tracing::error!("ping handler complains");
                "pong"
            }),
        )
        .route(
            "/work",
            get(|| async {
                tracing::error!("work failed");
                "done"
            }),
        )
        .merge(obs_runtime::health::axum::router_with(std::sync::Arc::new(
            obs_runtime::health::Health::new(obs_runtime::health::HealthConfig::default()),
        )))
        .layer(obs_runtime::http::ObsLayer::new().exclude("/internal/ping"))
}

#[test]
fn errors_logged_by_probes_and_excluded_paths_send_nothing() {
    const NAME: &str = "errors_logged_by_probes_and_excluded_paths_send_nothing";
    if in_child(NAME) {
        let guard = child_init();
        let rt = runtime();
        let get = |path: &str| {
            rt.block_on(probe_app().oneshot(Request::get(path).body(Body::empty()).unwrap()))
                .unwrap()
                .status()
                .as_u16()
        };
        assert_eq!(get("/internal/ping"), 200);
        assert_eq!(get("/readyz"), 503);
        assert_eq!(get("/readyz"), 503);
        // The control: the same `error!` on a path that is not excluded.
        assert_eq!(get("/work"), 200);
        guard.flush();
        drop(guard);
        return;
    }
    let (_, events) = events_of(NAME, &[]);
    let messages: Vec<&str> = events
        .iter()
        .map(|e| e["message"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(messages, ["work failed"], "{events:#?}");
}

#[test]
fn error_events_are_sampled_at_sentry_sample_rate() {
    const NAME: &str = "error_events_are_sampled_at_sentry_sample_rate";
    const ERRORS: usize = 400;
    if in_child(NAME) {
        let guard = child_init();
        for i in 0..ERRORS {
            assert!(quiet_parse("5x").is_err());
            // Below the transport's queue: a full queue would drop, and
            // this test is about sampling.
            if i % 16 == 15 {
                guard.flush();
            }
        }
        guard.flush();
        println!("CHILD dropped {}", scrape("obs_errors_dropped_total"));
        drop(guard);
        return;
    }
    for (rate, low, high) in [("0", 0, 0), ("0.25", 55, 145), ("1", ERRORS, ERRORS)] {
        let (child, events) = events_of(NAME, &[("SENTRY_SAMPLE_RATE", rate)]);
        assert_eq!(child["dropped"], "0", "rate {rate}");
        let n = events.len();
        // 0.25 of 400: mean 100, standard deviation 8.7; the bounds are
        // more than 5 deviations out.
        assert!(
            (low..=high).contains(&n),
            "SENTRY_SAMPLE_RATE={rate}: {n} events of {ERRORS}, expected {low} to {high}"
        );
    }
}
