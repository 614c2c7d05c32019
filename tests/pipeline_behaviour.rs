//! What the production pipeline's speed work must not break, each scenario
//! in its own child process (one `init()` per process):
//!
//! - unsampled requests still log W3C ids: the access line of a request
//!   whose caller's `traceparent` says "not sampled" carries that trace id,
//!   and the handler's own log line the same, while nothing is exported;
//! - a stalled log writer (one that never returns) drops and counts lines
//!   instead of holding requests up;
//! - log lines through the writer thread stay valid JSON, with the
//!   redaction corpus redacted.

#[path = "otlp/receiver.rs"]
mod receiver;

#[path = "redaction_support/pii.rs"]
mod pii;

use std::io;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use obs_runtime::instrumented;
use obs_runtime::log::{Captured, LogFormat};
use obs_runtime::trace::{SamplerChoice, SpanExport};
use tower::ServiceExt as _;

const SCENARIO: &str = "OBS_PIPELINE_SCENARIO";

#[instrumented(metric = "pb_work")]
fn work() -> u32 {
    tracing::info!("working");
    7
}

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { work().to_string() }))
        .layer(obs_runtime::http::ObsLayer::new())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn request(app: &Router, rt: &tokio::runtime::Runtime, traceparent: Option<&str>) -> u16 {
    let mut req = Request::get("/").header("host", "localhost");
    if let Some(tp) = traceparent {
        req = req.header("traceparent", tp);
    }
    let response = rt
        .block_on(app.clone().oneshot(req.body(Body::empty()).unwrap()))
        .unwrap();
    response.status().as_u16()
}

fn json_lines(logs: &Captured) -> Vec<serde_json::Value> {
    logs.lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn unsampled_requests_log_their_trace_id() {
    let rx = receiver::start();
    let logs = Captured::default();
    let guard = obs_runtime::Builder::from_env()
        .span_export(SpanExport::OtlpHttp {
            endpoint: format!("http://{}", rx.http),
        })
        .sampler(SamplerChoice::ParentBasedTraceIdRatio(0.1))
        .log_format(LogFormat::Json)
        .log_writer(logs.clone())
        .log_queue(Some(1024))
        .log_rate_limit(None)
        .try_init()
        .expect("init");
    let rt = runtime();
    let app = app();
    const TRACES: usize = 20;
    let trace_ids: Vec<String> = (0..TRACES)
        .map(|i| format!("{:032x}", 0x5eed_0000_u128 + i as u128))
        .collect();
    for id in &trace_ids {
        // Flags 00: the caller did not sample this trace.
        let tp = format!("00-{id}-00f067aa0ba902b7-00");
        assert_eq!(request(&app, &rt, Some(&tp)), 200);
    }
    guard.flush();
    let lines = json_lines(&logs);
    for id in &trace_ids {
        let of_trace: Vec<_> = lines
            .iter()
            .filter(|l| l["trace_id"].as_str() == Some(id.as_str()))
            .collect();
        let access = of_trace
            .iter()
            .find(|l| l["target"] == "obs::access")
            .unwrap_or_else(|| panic!("no access line with trace {id}: {lines:?}"));
        let handler = of_trace
            .iter()
            .find(|l| l["message"] == "working")
            .unwrap_or_else(|| panic!("no handler line with trace {id}: {lines:?}"));
        for line in [access, handler] {
            let span_id = line["span_id"].as_str().unwrap();
            assert_eq!(span_id.len(), 16, "{line}");
            assert!(span_id.bytes().all(|b| b.is_ascii_hexdigit()), "{line}");
            assert_ne!(span_id, "0000000000000000", "{line}");
        }
        // The handler's call is a span of its own inside the request's.
        assert_ne!(access["span_id"], handler["span_id"]);
    }
    // Roots of our own (no caller) also log ids when not sampled: 200
    // requests at 0.1 leave well over 100 unsampled.
    for _ in 0..200 {
        assert_eq!(request(&app, &rt, None), 200);
    }
    guard.flush();
    let lines = json_lines(&logs);
    let without_caller: Vec<_> = lines
        .iter()
        .filter(|l| l["target"] == "obs::access")
        .skip(TRACES)
        .collect();
    assert_eq!(without_caller.len(), 200);
    for line in &without_caller {
        let id = line["trace_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{line}"));
        assert_eq!(id.len(), 32, "{line}");
        assert_ne!(id, "00000000000000000000000000000000", "{line}");
    }
    // None of the caller's unsampled traces left the process.
    let spans = rx.store.spans();
    for id in &trace_ids {
        assert!(
            !spans.iter().any(|s| &s.trace_id == id),
            "an unsampled trace was exported: {id}"
        );
    }
    drop(guard);
}

/// A writer that blocks until released.
#[derive(Clone)]
struct Stalled(Arc<AtomicBool>);

struct StalledWriter(Arc<AtomicBool>);

impl io::Write for StalledWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        while !self.0.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Stalled {
    type Writer = StalledWriter;

    fn make_writer(&'a self) -> StalledWriter {
        StalledWriter(Arc::clone(&self.0))
    }
}

fn dropped_lines() -> u64 {
    let text = obs_runtime::encode_text();
    text.lines()
        .find_map(|l| l.strip_prefix("obs_log_lines_dropped_total "))
        .unwrap_or_else(|| panic!("no obs_log_lines_dropped_total in\n{text}"))
        .parse()
        .unwrap()
}

fn a_stalled_writer_drops_and_counts() {
    let released = Arc::new(AtomicBool::new(false));
    let guard = obs_runtime::Builder::from_env()
        .span_export(SpanExport::None)
        .log_format(LogFormat::Json)
        .log_writer(Stalled(Arc::clone(&released)))
        .log_queue(Some(16))
        .log_rate_limit(None)
        .try_init()
        .expect("init");
    assert_eq!(dropped_lines(), 0, "the counter exists at zero");
    let rt = runtime();
    let app = app();
    const REQUESTS: u64 = 500;
    let started = Instant::now();
    for _ in 0..REQUESTS {
        assert_eq!(request(&app, &rt, None), 200);
    }
    // A blocked write never returns until released: requests that waited
    // on it would never finish. The margin is for a loaded machine.
    assert!(started.elapsed() < Duration::from_secs(60));
    // Two lines a request (the handler's and the access line), at most 16
    // queued and one in the stalled write.
    let dropped = dropped_lines();
    assert!(dropped >= 2 * REQUESTS - 17, "dropped {dropped}");
    released.store(true, Ordering::Release);
    guard.flush();
    drop(guard);
}

fn redacted_json_through_the_writer_thread() {
    let logs = Captured::default();
    let guard = obs_runtime::Builder::from_env()
        .span_export(SpanExport::None)
        .log_format(LogFormat::Json)
        .log_writer(logs.clone())
        .log_queue(Some(pii::PII_SAMPLES * 2))
        .log_rate_limit(None)
        .try_init()
        .expect("init");
    let samples = pii::pii_corpus();
    for (i, (_, message, field)) in samples.iter().enumerate() {
        tracing::info!(sample = i, detail = %field, "{message}");
    }
    guard.flush();
    let lines = json_lines(&logs);
    assert_eq!(lines.len(), samples.len(), "every line arrived");
    let outputs: Vec<(usize, String)> = lines
        .iter()
        .map(|l| {
            let i = usize::try_from(l["sample"].as_u64().unwrap()).unwrap();
            // Everything but the timestamp, which holds digits.
            let mut l = l.clone();
            l.as_object_mut().unwrap().remove("timestamp");
            (i, l.to_string())
        })
        .collect();
    let leaks = pii::count_leaks(&samples, outputs.iter().map(|(i, s)| (*i, s.as_str())));
    assert_eq!(leaks, 0);
    drop(guard);
}

/// The parent: runs each scenario in a child process of its own.
#[test]
fn pipeline_behaviour() {
    if let Ok(scenario) = std::env::var(SCENARIO) {
        match scenario.as_str() {
            "unsampled" => unsampled_requests_log_their_trace_id(),
            "stalled" => a_stalled_writer_drops_and_counts(),
            "redacted" => redacted_json_through_the_writer_thread(),
            other => panic!("unknown scenario {other}"),
        }
        return;
    }
    for scenario in ["unsampled", "stalled", "redacted"] {
        let out = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "pipeline_behaviour",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(SCENARIO, scenario)
            .env("RUST_LOG", "info")
            .env_remove("OBS_LOG_QUEUE")
            .output()
            .expect("run the child");
        assert!(
            out.status.success(),
            "scenario {scenario} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
