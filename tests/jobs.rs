//! Background jobs under `init()`'s pipeline: a job enqueued by an axum
//! handler behind `ObsLayer` runs on a worker task fed by an mpsc channel;
//! in a real OTLP receiver its span continues the request's trace (child)
//! or links to it (link); its JSON log line carries the request id; and
//! the run, wait, retry, panic and cancellation series count what
//! happened. Each test has a queue of its own, so they run in parallel.

#[path = "otlp/receiver.rs"]
mod receiver;

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::Request;
use axum::routing::post;
use obs_runtime::jobs::{JobError, Parenting, Queue, TraceCarrier};
use obs_runtime::log::{Captured, LogFormat};
use obs_runtime::trace::SpanExport;
use tower::ServiceExt as _;

struct Setup {
    rx: receiver::Receiver,
    logs: Captured,
    guard: obs_runtime::ObsGuard,
}

/// One pipeline for the binary: `init()` installs a global subscriber.
fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let rx = receiver::start();
        let logs = Captured::default();
        let guard = obs_runtime::Builder::from_env()
            .span_export(SpanExport::OtlpGrpc {
                endpoint: format!("http://{}", rx.grpc),
            })
            .log_format(LogFormat::Json)
            .log_writer(logs.clone())
            .try_init()
            .expect("init");
        Setup { rx, logs, guard }
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The value of the series written exactly as `series` in the scrape.
fn value(series: &str) -> Option<f64> {
    obs_runtime::encode_text().lines().find_map(|line| {
        line.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .map(|v| v.parse().unwrap())
    })
}

fn runs(queue: &str, job: &str, result: &str) -> Option<f64> {
    value(&format!(
        r#"job_runs_total{{queue="{queue}",job_name="{job}",result="{result}"}}"#
    ))
}

const CHILD_TRACE: &str = "11111111111111111111111111111111";
const LINK_TRACE: &str = "22222222222222222222222222222222";

#[test]
fn a_job_enqueued_in_a_request_continues_its_trace_and_request_id() {
    let setup = setup();
    let rt = runtime();
    let queue = Queue::new("test_mail");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(String, String, Option<tokio::task::Id>)>(16);
    type Ack = (String, Option<tokio::task::Id>, Option<tokio::task::Id>);
    let (ack, mut acks) = tokio::sync::mpsc::channel::<Ack>(16);
    let sender = tx.downgrade();
    queue.depth_from(move || {
        sender
            .upgrade()
            .map_or(0, |s| s.max_capacity() - s.capacity())
    });

    // The worker: another task, reading the channel.
    let worker_queue = queue.clone();
    rt.spawn(async move {
        let me = worker_queue.worker("w-trace");
        while let Some((mode, text, enqueued_on)) = rx.recv().await {
            let carrier = TraceCarrier::parse(&text).expect("the carrier we wrote");
            let parenting = if mode == "link" {
                Parenting::Link
            } else {
                Parenting::Child
            };
            let ran_on = worker_queue
                .job("send_email")
                .carrier(&carrier)
                .worker(&me)
                .parenting(parenting)
                .run(async {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    tracing::info!(mode = mode.as_str(), "sending the e-mail");
                    Ok::<_, std::io::Error>(tokio::task::try_id())
                })
                .await
                .expect("the job succeeds");
            ack.send((mode, enqueued_on, ran_on)).await.unwrap();
        }
    });

    let app = Router::new()
        .route(
            "/send/{mode}",
            post(move |Path(mode): Path<String>| {
                let queue = queue.clone();
                let tx = tx.clone();
                async move {
                    let carrier = queue.enqueue_carrier();
                    tx.send((mode, carrier.to_string(), tokio::task::try_id()))
                        .await
                        .unwrap();
                    "queued"
                }
            }),
        )
        .layer(obs_runtime::http::ObsLayer::new());
    for (mode, trace, rid) in [
        ("child", CHILD_TRACE, "req-job-child"),
        ("link", LINK_TRACE, "req-job-link"),
    ] {
        let response = rt.block_on(
            app.clone().oneshot(
                Request::post(format!("/send/{mode}"))
                    .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
                    .header("x-request-id", rid)
                    .body(Body::empty())
                    .unwrap(),
            ),
        );
        assert_eq!(response.unwrap().status(), 200);
    }
    let done: Vec<_> = rt.block_on(async {
        let mut done = Vec::new();
        for _ in 0..2 {
            let got = tokio::time::timeout(Duration::from_secs(10), acks.recv())
                .await
                .expect("the worker ran the job")
                .unwrap();
            done.push(got);
        }
        done
    });
    for (mode, enqueued_on, ran_on) in &done {
        assert!(ran_on.is_some(), "{mode}: the job runs on a task");
        assert_ne!(enqueued_on, ran_on, "{mode}: not on the handler's");
    }

    setup.guard.flush();
    let spans = setup.rx.store.wait_for(Duration::from_secs(20), |s| {
        s.iter().filter(|s| s.name == "send_email").count() >= 2
            && s.iter().filter(|s| s.name == "POST /send/{mode}").count() >= 2
    });
    let find = |name: &str, trace: &str| {
        spans
            .iter()
            .find(|s| s.name == name && s.trace_id == trace)
            .unwrap_or_else(|| panic!("no {name} in {trace}: {spans:#?}"))
    };
    let child_server = find("POST /send/{mode}", CHILD_TRACE);
    let link_server = find("POST /send/{mode}", LINK_TRACE);
    let child_job = find("send_email", CHILD_TRACE);
    assert_eq!(
        child_job.parent_span_id, child_server.span_id,
        "the request's span is the job's parent"
    );
    assert_eq!(child_job.kind, 5, "a consumer span");
    let attr = |s: &receiver::Received, k: &str| s.attributes.get(k).cloned();
    assert_eq!(
        attr(child_job, "request_id").as_deref(),
        Some("req-job-child")
    );
    assert_eq!(
        attr(child_job, "messaging.destination.name").as_deref(),
        Some("test_mail")
    );
    assert_eq!(attr(child_job, "job.result").as_deref(), Some("ok"));
    assert_eq!(attr(child_job, "job.worker").as_deref(), Some("w-trace"));

    // Link: a trace of its own, linked to the request's span.
    let link_job = spans
        .iter()
        .find(|s| {
            s.name == "send_email"
                && s.attributes.get("request_id").map(String::as_str) == Some("req-job-link")
        })
        .unwrap_or_else(|| panic!("no linked job span: {spans:#?}"));
    assert_ne!(link_job.trace_id, LINK_TRACE, "a trace of its own");
    assert!(link_job.parent_span_id.is_empty(), "{link_job:?}");
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let links: Vec<(String, String)> = setup
        .rx
        .store
        .requests()
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .filter(|s| hex(&s.span_id) == link_job.span_id)
        .flat_map(|s| &s.links)
        .map(|l| (hex(&l.trace_id), hex(&l.span_id)))
        .collect();
    assert_eq!(
        links,
        vec![(LINK_TRACE.to_owned(), link_server.span_id.clone())],
        "linked to the request's span"
    );

    // The job's log lines carry the request id of the request that
    // enqueued it, and the job span's ids.
    let lines = setup.logs.lines();
    let line = |mode: &str| {
        lines
            .iter()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
            .find(|j| j["message"] == "sending the e-mail" && j["mode"] == mode)
            .unwrap_or_else(|| panic!("no job line for {mode}: {lines:#?}"))
    };
    let child_line = line("child");
    assert_eq!(child_line["request_id"], "req-job-child");
    assert_eq!(child_line["trace_id"], CHILD_TRACE);
    assert_eq!(child_line["span_id"], child_job.span_id.as_str());
    assert_eq!(line("link")["request_id"], "req-job-link");

    assert_eq!(runs("test_mail", "send_email", "ok"), Some(2.0));
    assert_eq!(
        value(r#"job_queue_wait_seconds_count{queue="test_mail",job_name="send_email"}"#),
        Some(2.0)
    );
    assert_eq!(
        value(r#"job_duration_seconds_count{queue="test_mail",job_name="send_email",result="ok"}"#),
        Some(2.0)
    );
    assert_eq!(
        value(r#"job_in_flight{queue="test_mail",job_name="send_email"}"#),
        Some(0.0)
    );
    assert_eq!(value(r#"job_queue_depth{queue="test_mail"}"#), Some(0.0));
    let seen =
        value(r#"job_worker_last_seen_timestamp_seconds{queue="test_mail",worker="w-trace"}"#)
            .expect("a heartbeat");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(seen <= now && seen > now - 60.0, "{seen} vs {now}");
}

#[test]
fn queue_wait_and_duration_are_observed_per_run() {
    setup();
    let rt = runtime();
    let queue = Queue::new("test_wait");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let depth = tx.clone();
    // Read at scrape time: three waiting now.
    let waiting = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let read = waiting.clone();
    queue.depth_from(move || read.load(std::sync::atomic::Ordering::Relaxed));
    for _ in 0..3 {
        depth.send(queue.enqueue_carrier().to_string()).unwrap();
        waiting.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    assert_eq!(value(r#"job_queue_depth{queue="test_wait"}"#), Some(3.0));
    std::thread::sleep(Duration::from_millis(60));
    rt.block_on(async {
        while let Ok(text) = rx.try_recv() {
            waiting.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            let carrier: TraceCarrier = text.parse().unwrap();
            queue
                .job("report")
                .carrier(&carrier)
                .run(async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<_, std::io::Error>(())
                })
                .await
                .unwrap();
        }
    });
    assert_eq!(value(r#"job_queue_depth{queue="test_wait"}"#), Some(0.0));
    let wait = |s: &str| {
        value(&format!(
            r#"job_queue_wait_seconds_{s}{{queue="test_wait",job_name="report"}}"#
        ))
    };
    assert_eq!(wait("count"), Some(3.0));
    assert!(wait("sum").unwrap() >= 3.0 * 0.06, "{:?}", wait("sum"));
    let duration = |s: &str| {
        value(&format!(
            r#"job_duration_seconds_{s}{{queue="test_wait",job_name="report",result="ok"}}"#
        ))
    };
    assert_eq!(duration("count"), Some(3.0));
    assert!(
        duration("sum").unwrap() >= 3.0 * 0.02,
        "{:?}",
        duration("sum")
    );
    // The wait of a run outside any bucket below 0.05 s.
    assert_eq!(
        value(r#"job_queue_wait_seconds_bucket{queue="test_wait",job_name="report",le="0.05"}"#),
        Some(0.0)
    );
    // Without a carrier there is no wait to observe.
    rt.block_on(
        queue
            .job("report")
            .run(async { Ok::<_, std::io::Error>(()) }),
    )
    .unwrap();
    assert_eq!(wait("count"), Some(3.0));
    assert_eq!(duration("count"), Some(4.0));
}

#[test]
fn a_panicking_job_counts_panic_and_the_worker_serves_the_next() {
    setup();
    let rt = runtime();
    let queue = Queue::new("test_panic");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(u32, String)>(8);
    let worker_queue = queue.clone();
    let worker = rt.spawn(async move {
        let me = worker_queue.worker("w-panic");
        let mut outcomes = Vec::new();
        while let Some((n, text)) = rx.recv().await {
            let carrier = TraceCarrier::parse(&text).unwrap();
            let outcome = worker_queue
                .job("crunch")
                .carrier(&carrier)
                .worker(&me)
                .run(async move {
                    tokio::task::yield_now().await;
                    assert_ne!(n, 2, "number {n} is cursed");
                    if n == 3 {
                        Err(format!("{n} is odd"))
                    } else {
                        Ok(n)
                    }
                })
                .await;
            outcomes.push(outcome);
        }
        outcomes
    });
    rt.block_on(async {
        for n in 1..=4 {
            tx.send((n, queue.enqueue_carrier().to_string()))
                .await
                .unwrap();
        }
    });
    drop(tx);
    let outcomes = rt.block_on(worker).expect("the worker task did not die");
    assert_eq!(outcomes.len(), 4, "every job was served: {outcomes:?}");
    assert!(matches!(outcomes[0], Ok(1)));
    match &outcomes[1] {
        Err(JobError::Panicked(message)) => assert!(message.contains("number 2 is cursed")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(&outcomes[2], Err(JobError::Failed(e)) if e == "3 is odd"));
    assert!(matches!(outcomes[3], Ok(4)));
    assert_eq!(runs("test_panic", "crunch", "ok"), Some(2.0));
    assert_eq!(runs("test_panic", "crunch", "panic"), Some(1.0));
    assert_eq!(runs("test_panic", "crunch", "error"), Some(1.0));
    assert_eq!(
        value(r#"job_duration_seconds_count{queue="test_panic",job_name="crunch",result="panic"}"#),
        Some(1.0)
    );
    assert_eq!(
        value(r#"job_in_flight{queue="test_panic",job_name="crunch"}"#),
        Some(0.0)
    );
}

#[test]
fn retries_count_each_retry_and_its_outcome() {
    setup();
    let rt = runtime();
    let queue = Queue::new("test_retry");
    queue.declare("sync");
    assert_eq!(runs("test_retry", "sync", "retry"), Some(0.0));
    assert_eq!(
        value(r#"job_retries_total{queue="test_retry",job_name="sync"}"#),
        Some(0.0)
    );
    let carrier = TraceCarrier::capture();
    // Fails twice, then succeeds on its third and last attempt.
    for attempt in 1..=3 {
        let outcome = rt.block_on(
            queue
                .job("sync")
                .carrier(&carrier)
                .attempt(attempt)
                .max_attempts(3)
                .run(async move {
                    if attempt < 3 {
                        Err("upstream busy")
                    } else {
                        Ok(attempt)
                    }
                }),
        );
        assert_eq!(outcome.is_ok(), attempt == 3);
    }
    assert_eq!(runs("test_retry", "sync", "retry"), Some(2.0));
    assert_eq!(runs("test_retry", "sync", "ok"), Some(1.0));
    assert_eq!(runs("test_retry", "sync", "error"), Some(0.0));
    assert_eq!(
        value(r#"job_retries_total{queue="test_retry",job_name="sync"}"#),
        Some(2.0)
    );
    // Out of attempts: the last failure is `error`.
    for attempt in 1..=2 {
        let outcome = rt.block_on(
            queue
                .job("sync")
                .attempt(attempt)
                .max_attempts(2)
                .run(async { Err::<(), _>("still busy") }),
        );
        assert!(matches!(outcome, Err(JobError::Failed("still busy"))));
    }
    assert_eq!(runs("test_retry", "sync", "retry"), Some(3.0));
    assert_eq!(runs("test_retry", "sync", "error"), Some(1.0));
    assert_eq!(
        value(r#"job_retries_total{queue="test_retry",job_name="sync"}"#),
        Some(3.0)
    );
    queue.count_retry("sync");
    assert_eq!(
        value(r#"job_retries_total{queue="test_retry",job_name="sync"}"#),
        Some(4.0)
    );
}

#[test]
fn a_run_dropped_before_its_end_is_cancelled() {
    setup();
    let rt = runtime();
    let queue = Queue::new("test_cancel");
    let started = std::sync::Arc::new(tokio::sync::Notify::new());
    let run_queue = queue.clone();
    let signal = started.clone();
    let task = rt.spawn(async move {
        run_queue
            .job("forever")
            .run(async move {
                signal.notify_one();
                std::future::pending::<Result<(), std::io::Error>>().await
            })
            .await
    });
    rt.block_on(started.notified());
    assert_eq!(
        value(r#"job_in_flight{queue="test_cancel",job_name="forever"}"#),
        Some(1.0)
    );
    task.abort();
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
    assert_eq!(runs("test_cancel", "forever", "cancelled"), Some(1.0));
    assert_eq!(
        value(r#"job_in_flight{queue="test_cancel",job_name="forever"}"#),
        Some(0.0)
    );
    // A timeout drops the run too.
    let timed_out = rt.block_on(async {
        tokio::time::timeout(
            Duration::from_millis(10),
            queue
                .job("forever")
                .run(std::future::pending::<Result<(), std::io::Error>>()),
        )
        .await
    });
    assert!(timed_out.is_err());
    assert_eq!(runs("test_cancel", "forever", "cancelled"), Some(2.0));
}
