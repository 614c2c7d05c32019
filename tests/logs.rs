//! The log pipeline that `init()` installs: records of the `log` crate are
//! captured, a span's `request_id` reaches every event inside it, an event
//! outside any span carries no trace ids, and `log_dir` writes the same JSON
//! lines to a daily file.

use obs_runtime::log::{Captured, LogFormat};

fn parse(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

#[test]
fn log_crate_request_ids_and_daily_files() {
    let dir = std::env::temp_dir().join(format!("obs-logs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let lines = Captured::default();
    let guard = obs_runtime::Builder::from_env()
        .log_format(LogFormat::Json)
        .log_writer(lines.clone())
        .log_dir(&dir, 2)
        .span_export(obs_runtime::trace::SpanExport::None)
        .try_init()
        .expect("init");

    log::warn!(target: "legacy::billing", "invoice {} overdue", 42);
    tracing::info_span!("request", request_id = "req-7f3a").in_scope(|| {
        tracing::info_span!("inner").in_scope(|| tracing::info!(step = 2, "inside the request"));
    });
    tracing::info!("outside any span");

    let got = lines.lines();
    let find = |needle: &str| {
        got.iter()
            .map(|l| parse(l))
            .find(|j| j["message"] == needle)
            .unwrap_or_else(|| panic!("{needle}: {got:#?}"))
    };
    let legacy = find("invoice 42 overdue");
    assert_eq!(legacy["level"], "WARN");
    assert_eq!(legacy["target"], "legacy::billing");

    let inside = find("inside the request");
    assert_eq!(
        inside["request_id"], "req-7f3a",
        "the request id of an enclosing span"
    );
    assert_eq!(inside["step"], 2);
    assert_eq!(
        inside["trace_id"].as_str().map(str::len),
        Some(32),
        "{inside}"
    );
    assert_eq!(
        inside["span_id"].as_str().map(str::len),
        Some(16),
        "{inside}"
    );

    let outside = find("outside any span");
    assert!(
        outside.get("trace_id").is_none() && outside.get("request_id").is_none(),
        "{outside}"
    );

    // Dropping the guard flushes the background file writer.
    drop(guard);
    let files: Vec<_> = std::fs::read_dir(&dir)
        .expect("log dir")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("obs.") && name.ends_with(".log"), "{name}");
    let written = std::fs::read_to_string(&files[0]).unwrap();
    let in_file: Vec<serde_json::Value> = written.lines().map(parse).collect();
    for message in [
        "invoice 42 overdue",
        "inside the request",
        "outside any span",
    ] {
        assert!(
            in_file.iter().any(|j| j["message"] == message),
            "{message} not in {written}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
