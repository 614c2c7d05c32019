//! Log context from enclosing spans, under `init()`: the fields a span
//! records reach every line below it and none outside, redacted, innermost
//! first, the event's own fields over both; `#[instrumented(fields(..))]`
//! fields too; `service.name` on every line. Each scenario runs in a child
//! process of its own (one global subscriber per process).

use std::process::Command;

use obs_runtime::instrumented;
use obs_runtime::log::{Captured, LogFormat};

const SCENARIO: &str = "OBS_LOG_CONTEXT_SCENARIO";

fn parse(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

fn find(lines: &[String], message: &str) -> serde_json::Value {
    lines
        .iter()
        .map(|l| parse(l))
        .find(|j| j["message"] == message)
        .unwrap_or_else(|| panic!("{message}: {lines:#?}"))
}

#[instrumented(metric = "lc_ship", fields(order_id, redact(card_number)))]
fn ship(order_id: &str, card_number: &str) -> u32 {
    let _ = card_number;
    tracing::info!("shipping");
    7
}

fn context_scenario() {
    let lines = Captured::default();
    let guard = obs_runtime::Builder::from_env()
        .log_format(LogFormat::Json)
        .log_writer(lines.clone())
        // A failed assertion shows on stderr, not in the captured lines.
        .panic_hook(false)
        .try_init()
        .expect("init");

    let mission = tracing::info_span!(
        "mission",
        mission_id = %format_args!("m-{}", 42),
        tenant = "acme",
        password = "hunter2",
        note = "ask ada@example.com",
        attempt = 3,
        user = tracing::field::Empty,
    );
    mission.in_scope(|| {
        tracing::info!("mission started");
        // Recorded later: lines after it carry it.
        tracing::Span::current().record("user", "u-17");
        tracing::info_span!("step", tenant = "beta", step = 2).in_scope(|| {
            tracing::warn!("inside the step");
            tracing::info!(tenant = "own", "own field wins");
        });
        ship("ord-9", "4111 1111 1111 1111");
    });
    tracing::info!("after the mission");
    guard.flush();

    let got = lines.lines();
    for line in &got {
        let json = parse(line);
        assert_eq!(json["service.name"], "log-context-test", "{line}");
        // No name twice in one object (serde_json keeps the last silently).
        let keys: Vec<&str> = line
            .match_indices("\":")
            .filter_map(|(i, _)| line[..i].rfind(['{', ',']).map(|s| &line[s + 2..i]))
            .collect();
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "a name twice: {line}");
    }

    let started = find(&got, "mission started");
    assert_eq!(started["mission_id"], "m-42");
    assert_eq!(started["tenant"], "acme");
    assert_eq!(started["attempt"], 3);
    assert_eq!(started["password"], "[REDACTED]", "a sensitive name");
    assert_eq!(started["note"], "ask [EMAIL]", "a secret in a value");
    assert!(started.get("user").is_none(), "not recorded yet: {started}");

    let step = find(&got, "inside the step");
    assert_eq!(step["tenant"], "beta", "the innermost span wins: {step}");
    assert_eq!(step["step"], 2);
    assert_eq!(step["mission_id"], "m-42");
    assert_eq!(step["user"], "u-17", "recorded after the span began");
    assert!(!step.to_string().contains("hunter2"), "{step}");

    let own = find(&got, "own field wins");
    assert_eq!(own["tenant"], "own");

    let shipping = find(&got, "shipping");
    assert_eq!(shipping["order_id"], "ord-9", "instrumented fields flow");
    assert_eq!(shipping["card_number"], "[REDACTED]");
    assert_eq!(shipping["mission_id"], "m-42");
    for bookkeeping in [
        "code.function",
        "code.namespace",
        "otel.status_code",
        "result",
    ] {
        assert!(shipping.get(bookkeeping).is_none(), "{shipping}");
    }
    assert_eq!(shipping["trace_id"].as_str().map(str::len), Some(32));

    let after = find(&got, "after the mission");
    for name in ["mission_id", "tenant", "user", "step", "order_id"] {
        assert!(after.get(name).is_none(), "outside the spans: {after}");
    }
    drop(guard);
}

/// The parent: runs each scenario in a child process of its own.
#[test]
fn log_context() {
    if let Ok(scenario) = std::env::var(SCENARIO) {
        match scenario.as_str() {
            "context" => context_scenario(),
            other => panic!("unknown scenario {other}"),
        }
        return;
    }
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "log_context", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, "context")
        .env("RUST_LOG", "info")
        .env("OTEL_SERVICE_NAME", "log-context-test")
        .env("OTEL_TRACES_EXPORTER", "none")
        .env("OBS_LOG_RATE_LIMIT", "off")
        .output()
        .expect("run the child");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
