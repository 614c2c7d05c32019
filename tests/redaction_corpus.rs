//! Redaction against generated corpora: over a thousand secrets and personal
//! data of every kind `obs_runtime::redact` detects, embedded in log
//! messages and in ordinary fields, must never reach `redact`'s output nor
//! the JSON or console log lines; a thousand ordinary log messages must come
//! out (nearly) unchanged; a message can't forge a log line.
//!
//! The corpora come from a fixed-seed xorshift generator, so every run
//! checks the same strings and a failure reproduces.

use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::cell::Cell;

use obs_runtime::redact::redact;

#[path = "redaction_support/pii.rs"]
mod pii;

use pii::*;

const CLEAN_SAMPLES: usize = 1_500;

// ---------------------------------------------------------------------------
// Allocation counting: `redact` must not allocate when nothing matched.

struct CountingAlloc;

thread_local! {
    // Per thread, so that tests running in parallel don't count each other.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: defers every operation to the system allocator; the counter is a
// const-initialized thread local without destructor, which never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through `alloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn pii_corpus_covers_every_detector() {
    let samples = pii_corpus();
    assert!(samples.len() >= 1_000);
    for kind in [
        "email",
        "card",
        "ssn",
        "phone",
        "jwt",
        "bearer",
        "basic",
        "aws_key",
        "url_credentials",
        "query_parameter",
        "key_value",
        "api_key",
        "private_key",
        "iban",
        "config",
        "cli_option",
        "authorization",
        "header_line",
    ] {
        let n = samples.iter().filter(|s| s.0.kind == kind).count();
        assert!(n >= 100, "{kind}: {n} samples");
    }
}

#[test]
fn pii_never_survives_redact() {
    let samples = pii_corpus();
    let redacted: Vec<(String, String)> = samples
        .iter()
        .map(|(_, m, f)| (redact(m).into_owned(), redact(f).into_owned()))
        .collect();
    let leaks = count_leaks(
        &samples,
        redacted
            .iter()
            .enumerate()
            .map(|(i, (m, _))| (i, m.as_str())),
    ) + count_leaks(
        &samples,
        redacted
            .iter()
            .enumerate()
            .map(|(i, (_, f))| (i, f.as_str())),
    );
    eprintln!(
        "redact: {} PII samples in messages and fields, {leaks} survived",
        samples.len()
    );
    assert_eq!(leaks, 0);
    // Redacting twice changes nothing more.
    for (m, f) in &redacted {
        assert_eq!(redact(m), m.as_str());
        assert_eq!(redact(f), f.as_str());
    }
}

// ---------------------------------------------------------------------------
// Ordinary log messages

fn uuid(r: &mut Rng) -> String {
    format!(
        "{}-{}-4{}-{}{}-{}",
        r.string_of(HEX, 8),
        r.string_of(HEX, 4),
        r.string_of(HEX, 3),
        r.pick(&["8", "9", "a", "b"]),
        r.string_of(HEX, 3),
        r.string_of(HEX, 12)
    )
}

fn timestamp(r: &mut Rng) -> String {
    let date = format!(
        "20{:02}-{:02}-{:02}",
        r.range(20, 30),
        r.range(1, 12),
        r.range(1, 28)
    );
    let time = format!("{:02}:{:02}:{:02}", r.below(24), r.below(60), r.below(60));
    match r.below(4) {
        0 => format!("{date}T{time}Z"),
        1 => format!("{date}T{time}.{}Z", r.digits(6)),
        2 => format!("{date}T{time}+{:02}:00", r.range(1, 12)),
        _ => format!("{date} {time}.{}", r.digits(3)),
    }
}

/// An order number that is not a valid card number.
fn order_number(r: &mut Rng) -> String {
    let len = r.range(5, 19);
    let mut n = format!("{}{}", r.digit_in(1, 9), r.digits(len - 1));
    if len >= 13 && luhn_valid(&n) {
        let last = n.pop().unwrap();
        n.push(if last == '9' {
            '0'
        } else {
            char::from(u8::try_from(last).unwrap() + 1)
        });
    }
    n
}

fn duration(r: &mut Rng) -> String {
    match r.below(5) {
        0 => format!("{}ms", r.range(1, 99_999)),
        1 => format!("{}.{}s", r.below(60), r.digits(3)),
        2 => format!("{}m{}s", r.below(60), r.below(60)),
        3 => format!("{}µs", r.range(1, 999)),
        _ => format!("{}h{:02}m", r.below(48), r.below(60)),
    }
}

fn clean_message(r: &mut Rng) -> String {
    match r.below(26) {
        0 => format!(
            "release v{}.{}.{} deployed",
            r.below(10),
            r.below(40),
            r.below(200)
        ),
        1 => format!(
            "upgraded serde from 1.0.{} to 1.0.{}",
            r.below(230),
            r.below(230)
        ),
        2 => format!("request {} completed in {}", uuid(r), duration(r)),
        3 => format!("job started at {}", timestamp(r)),
        4 => format!(
            "order {} shipped in {} parcels",
            order_number(r),
            r.range(1, 9)
        ),
        5 => format!(
            "processed {} records in {}",
            r.range(1, 9_999_999),
            duration(r)
        ),
        6 => format!(
            "GET /api/v1/users/{}/orders?page={}&limit={} -> 200",
            r.range(1, 999_999),
            r.below(50),
            r.range(10, 100)
        ),
        7 => format!(
            "fetching https://api.example.com/v2/items/{}?include=owner&sort=-created_at",
            r.range(1, 99_999_999)
        ),
        8 => format!("listening on localhost:{}", r.range(1024, 65_535)),
        9 => format!(
            "commit {} built, artifact sha256:{}",
            r.string_of(HEX, 40),
            r.string_of(HEX, 64)
        ),
        10 => format!(
            "cache hit ratio {}.{}% over {} lookups",
            r.below(100),
            r.below(100),
            r.range(1, 50_000_000)
        ),
        11 => format!(
            "epoch_ms=17{} latency_ns={}",
            r.digits(11),
            r.range(1_000, 999_999_999)
        ),
        12 => format!(
            "window {:02}:{:02}-{:02}:{:02} on {}",
            r.below(24),
            r.below(60),
            r.below(24),
            r.below(60),
            timestamp(r)
        ),
        13 => format!(
            "retrying in {} (attempt {}/{})",
            duration(r),
            r.range(1, 5),
            5
        ),
        14 => format!(
            "user {} logged in from region eu-west-{}",
            r.pick(NAMES),
            r.range(1, 3)
        ),
        15 => format!(
            "trace_id={} span_id={}",
            r.string_of(HEX, 32),
            r.string_of(HEX, 16)
        ),
        16 => format!(
            "bytes_sent={} bytes_received={}",
            r.range(0, 4_000_000_000),
            r.range(0, 4_000_000_000)
        ),
        17 => format!(
            "SELECT * FROM orders WHERE id = {} LIMIT 50",
            order_number(r)
        ),
        18 => format!(
            "version {}.{}.{}-rc.{}+build.{}",
            r.below(5),
            r.below(20),
            r.below(10),
            r.range(1, 9),
            r.digits(8)
        ),
        19 => format!(
            "invoice INV-{}-{:06} due {}",
            r.range(2020, 2030),
            r.below(1_000_000),
            timestamp(r)
        ),
        20 => format!(
            "plan=basic tier={} seats={}",
            r.pick(&["gold", "free"]),
            r.range(1, 500)
        ),
        21 => format!(
            "the bearer token for client {} was rotated after {}",
            r.pick(NAMES),
            duration(r)
        ),
        22 => format!(
            "rate limited: {} requests per {}s, queue depth {}",
            r.range(100, 10_000),
            r.range(1, 60),
            r.range(0, 99_999)
        ),
        23 => format!(
            "ISBN 978-{}-{}-{}-{}",
            r.digit_in(0, 9),
            r.digits(2),
            r.digits(6),
            r.digit_in(0, 9)
        ),
        24 => format!(
            "resize {}x{} -> {}x{} took {}",
            r.range(1, 8_000),
            r.range(1, 8_000),
            r.range(1, 4_000),
            r.range(1, 4_000),
            duration(r)
        ),
        _ => format!(
            "checksum crc32={} md5={} for {}.tar.gz",
            r.string_of(HEX, 8),
            r.string_of(HEX, 32),
            r.string_of(LOWER, 8)
        ),
    }
}

#[test]
fn clean_corpus_is_left_alone() {
    let mut r = Rng::new(0x5eed_1e55_c1ea_4e55);
    let messages: Vec<String> = (0..CLEAN_SAMPLES).map(|_| clean_message(&mut r)).collect();
    let mut changed = 0;
    for message in &messages {
        let before = allocations();
        let out = redact(message);
        let allocated = allocations() - before;
        match out {
            Cow::Borrowed(same) => {
                assert_eq!(same, message.as_str());
                assert_eq!(allocated, 0, "redact allocated for unchanged {message:?}");
            }
            Cow::Owned(other) => {
                changed += 1;
                eprintln!("changed: {message:?} -> {other:?}");
            }
        }
    }
    let rate = changed as f64 / messages.len() as f64;
    eprintln!(
        "clean corpus: {changed} of {} messages changed, false-positive rate {:.3}%",
        messages.len(),
        rate * 100.0
    );
    assert!(rate < 0.01, "false-positive rate {rate}");
}

// ---------------------------------------------------------------------------
// The log layer

fn log_lines(format: obs_runtime::log::LogFormat, emit: impl FnOnce()) -> Vec<String> {
    use tracing_subscriber::layer::SubscriberExt as _;
    let (layer, captured) = obs_runtime::log::capture::<tracing_subscriber::Registry>(format);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, emit);
    captured.lines()
}

fn parse_json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

fn pii_never_reaches_logs(format: obs_runtime::log::LogFormat) {
    let samples = pii_corpus();
    let lines = log_lines(format, || {
        for (_, message, field) in &samples {
            tracing::info!(note = %field, "{}", message);
        }
    });
    assert_eq!(lines.len(), samples.len(), "one line per event");
    if format == obs_runtime::log::LogFormat::Json {
        for line in &lines {
            let json = parse_json(line);
            assert!(
                json["message"].is_string() && json["note"].is_string(),
                "{line}"
            );
        }
    }
    // The timestamp is left out of the search: its digits change from run to
    // run, and could contain the last digits of a generated number.
    let without_time: Vec<String> = lines
        .iter()
        .map(|line| match format {
            obs_runtime::log::LogFormat::Json => {
                let mut json = parse_json(line);
                json["timestamp"] = serde_json::Value::Null;
                json.to_string()
            }
            obs_runtime::log::LogFormat::Pretty => line
                .split_once(' ')
                .map_or(line.clone(), |(_, rest)| rest.to_owned()),
        })
        .collect();
    let leaks = count_leaks(
        &samples,
        without_time.iter().map(String::as_str).enumerate(),
    );
    eprintln!(
        "{format:?} log lines: {} PII samples, {leaks} survived",
        samples.len()
    );
    assert_eq!(leaks, 0);
}

#[test]
fn pii_never_reaches_json_logs() {
    pii_never_reaches_logs(obs_runtime::log::LogFormat::Json);
}

#[test]
fn pii_never_reaches_console_logs() {
    pii_never_reaches_logs(obs_runtime::log::LogFormat::Pretty);
}

#[test]
fn sensitive_field_names_are_redacted() {
    use obs_runtime::log::LogFormat;
    let emit = || {
        tracing::info!(
            password = "hunter2",
            api_key = %"k-9f8e7d6c5b4a",
            card_number = "4111 1111 1111 1111",
            user_email = "ada@example.com",
            order_id = 1234567,
            "login for {}",
            "ada"
        );
    };
    let json = log_lines(LogFormat::Json, emit);
    assert_eq!(json.len(), 1);
    let event = parse_json(&json[0]);
    for name in ["password", "api_key", "card_number", "user_email"] {
        assert_eq!(event[name], "[REDACTED]", "{name} in {event}");
    }
    assert_eq!(event["order_id"], 1_234_567);
    assert_eq!(event["message"], "login for ada");
    let pretty = log_lines(LogFormat::Pretty, emit);
    assert_eq!(pretty.len(), 1);
    for line in [&json[0], &pretty[0]] {
        // The whole card number: its first digits alone can occur in the
        // line's timestamp (`…:22.411154Z`).
        for secret in [
            "hunter2",
            "k-9f8e7d6c5b4a",
            "4111 1111 1111 1111",
            "1111 1111",
            "ada@example.com",
        ] {
            assert!(!line.contains(secret), "{secret} in {line}");
        }
    }
    assert!(
        pretty[0].contains(r#"password="[REDACTED]""#),
        "{}",
        pretty[0]
    );
}

#[test]
fn messages_cannot_forge_log_lines() {
    use obs_runtime::log::LogFormat;
    let forged = "done\n{\"level\":\"error\",\"message\":\"forged\"}\r\n\u{1b}[2J\u{2028}next";
    for format in [LogFormat::Json, LogFormat::Pretty] {
        let lines = log_lines(format, || {
            tracing::info!(note = %forged, "{}", forged);
            tracing::warn!("{}", forged);
        });
        assert_eq!(lines.len(), 2, "{format:?}: one line per event: {lines:#?}");
        for line in &lines {
            assert!(
                !line.contains("\u{1b}[2J") && !line.contains('\u{2028}'),
                "{format:?}: {line:?}"
            );
            if format == LogFormat::Json {
                assert_eq!(parse_json(line)["message"], forged);
            } else {
                assert!(
                    line.contains(
                        r#"done\n{"level":"error","message":"forged"}\r\n\u{1b}[2J\u{2028}next"#
                    ),
                    "{line}"
                );
            }
        }
    }
}
