use obs_runtime::instrumented;

#[instrumented(
    metric = "ui_all",
    buckets = [0.001, 0.1, 1, 10.0],
    labels(kind = "user", admin = admin),
    fields(id, redact(password)),
    span = "load_user",
    level = "debug",
    in_flight = true,
    crate = "::obs_runtime"
)]
fn load(id: u64, password: &str, admin: bool) -> Result<u64, String> {
    if password.is_empty() { Err("no password".to_owned()) } else { Ok(id) }
}

#[instrumented(metric = "ui_all_db", buckets = "db", span = false, level = "trace")]
fn query() -> u8 {
    1
}

#[instrumented(buckets = "bytes", span = true, level = "warn", in_flight = false)]
fn size() -> usize {
    64
}

#[instrumented(buckets = "ai", level = "error")]
fn think() {}

#[instrumented(buckets = "http", level = "info")]
fn serve() {}

fn main() {
    assert_eq!(load(7, "hunter2", true), Ok(7));
    assert!(load(7, "", false).is_err());
    assert_eq!(query(), 1);
    assert_eq!(size(), 64);
    think();
    serve();

    let text = obs_runtime::encode_text();
    assert!(text.contains("# TYPE ui_all_in_flight gauge"), "{text}");
    assert!(text.contains("# TYPE ui_all_db_calls_total counter"), "{text}");
    assert!(text.contains(r#"le="0.001""#), "{text}");
    assert!(text.contains(r#"le="0.0005""#), "{text}"); // the `db` preset
}
