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
// Ordinary text that resembles what the newer detectors look for

const LOOKALIKE_SAMPLES: usize = 3_000;
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Configuration as services log it: YAML, JSON, Python reprs, INI and
/// `.env` lines whose keys are ordinary, or sensitive-sounding with a
/// value that is no secret (a flag, a null), and prose shaped like a key.
fn config_lookalike(r: &mut Rng) -> String {
    match r.below(16) {
        0 => format!(
            "server:\n  port: {}\n  host: 0.0.0.0\n  log_level: {}",
            r.range(1024, 65_535),
            r.pick(&["info", "debug", "warn"])
        ),
        1 => "status: pass".to_owned(),
        2 => format!(
            r#"{{"status": "pass", "checks": {{"db": {{"status": "{}", "response_ms": {}}}}}}}"#,
            r.pick(&["pass", "warn", "fail"]),
            r.range(1, 900)
        ),
        3 => format!(
            r#"{{ "user":"{}", "retries" : {}, "passed": true }}"#,
            r.pick(NAMES),
            r.below(5)
        ),
        4 => format!(
            "{{'region': 'eu-west-{}', 'bypass_cache': {}, 'workers': {}}}",
            r.range(1, 3),
            r.pick(&["True", "False"]),
            r.range(1, 64)
        ),
        5 => format!(
            "auth:\n  enabled: {}\n  provider: oidc\n  auth_required: {}",
            r.pick(&["true", "false"]),
            r.pick(&["true", "false", "yes", "no"])
        ),
        6 => format!(
            "[server]\nport = {}\nworkers = {}\nbypass_proxy = false",
            r.range(1024, 65_535),
            r.range(1, 32)
        ),
        7 => format!(
            "LOG_LEVEL={} PORT={} RUST_BACKTRACE=1",
            r.pick(&["debug", "info"]),
            r.range(1024, 65_535)
        ),
        8 => format!(
            "auth: failed for user {} after {} attempts",
            r.pick(NAMES),
            r.range(1, 5)
        ),
        9 => "token: expired, please sign in again".to_owned(),
        10 => format!("password: reset link sent to user {}", r.pick(NAMES)),
        11 => format!(
            "session: {} active, {} idle",
            r.range(1, 500),
            r.range(0, 99)
        ),
        12 => format!(
            r#"{{"compass_heading": {}, "passenger_count": {}, "token": null}}"#,
            r.below(360),
            r.range(1, 9)
        ),
        13 => format!(
            "- name: {}\n  replicas: {}\n  auth_enabled: true",
            r.pick(&["api", "worker", "cron"]),
            r.range(1, 12)
        ),
        14 => format!(
            "retry_policy = {{ max_attempts = {}, backoff = \"{}\" }}",
            r.range(1, 9),
            r.pick(&["exponential", "linear"])
        ),
        _ => format!(
            "cache:\n  ttl: {}s\n  session_cookie_secure: true\n  token: ~",
            r.range(1, 3600)
        ),
    }
}

/// Command lines with ordinary options, and options named like secrets
/// that carry none (`--token-ttl`, `--password-stdin`, `--no-password`).
fn cli_lookalike(r: &mut Rng) -> String {
    match r.below(10) {
        0 => format!(
            "kubectl get pods --namespace {} --selector app=web --output wide",
            r.pick(&["prod", "staging"])
        ),
        1 => "cargo build --release --target x86_64-unknown-linux-gnu --locked".to_owned(),
        2 => format!(
            "docker run --rm --name api -p {0}:{0} --env-file .env registry.example.com/api:1.{1}",
            r.range(1024, 65_535),
            r.below(40)
        ),
        3 => format!(
            "aws s3 cp --region eu-west-{} s3://bucket/reports/{}.csv .",
            r.range(1, 3),
            r.range(1, 99_999)
        ),
        4 => format!(
            "deploy --token-ttl {} --session-timeout {}s --replicas {}",
            r.range(60, 86_400),
            r.range(10, 600),
            r.range(1, 9)
        ),
        5 => format!("docker login --username {} --password-stdin", r.pick(NAMES)),
        6 => "pg_dump --no-password --format=custom --file backup.dump app".to_owned(),
        7 => format!(
            "query --sort-key created_at --page-size {} --cursor-key id",
            r.range(10, 500)
        ),
        8 => format!(
            "curl --compressed --max-time {} --retry 3 https://api.example.com/v1/health",
            r.range(1, 60)
        ),
        _ => "terraform apply --auto-approve --parallelism 4 -var region=eu".to_owned(),
    }
}

/// Text around `Authorization` and schemes that holds no credential.
fn authorization_lookalike(r: &mut Rng) -> String {
    match r.below(8) {
        0 => r#"WWW-Authenticate: Digest realm="api", qop="auth", algorithm=SHA-256"#.to_owned(),
        1 => format!("authorization: denied for user {}", r.pick(NAMES)),
        2 => format!("authorization failed: token expired {} ago", duration(r)),
        3 => format!(
            "the digest of the payload is sha256:{}",
            r.string_of(HEX, 64)
        ),
        4 => format!("Token refresh scheduled in {}", duration(r)),
        5 => "checked Authorization header: present, scheme Bearer".to_owned(),
        6 => "WWW-Authenticate: Bearer realm=\"example\", error=\"invalid_token\"".to_owned(),
        _ => format!("Proxy-Authenticate: Negotiate, retrying in {}", duration(r)),
    }
}

/// Header dumps of ordinary headers.
fn header_lookalike(r: &mut Rng) -> String {
    match r.below(6) {
        0 => format!(
            "Content-Type: application/json\nX-Request-Id: {}\nAccept: */*",
            uuid(r)
        ),
        1 => format!(
            "X-Forwarded-For: 10.{}.{}.{}",
            r.below(256),
            r.below(256),
            r.below(256)
        ),
        2 => "Cache-Control: no-cache, no-store, max-age=0".to_owned(),
        3 => format!("X-RateLimit-Remaining: {}", r.below(1_000)),
        4 => format!("User-Agent: curl/8.{}.{}", r.below(12), r.below(5)),
        _ => format!(
            "traceparent: 00-{}-{}-01",
            r.string_of(HEX, 32),
            r.string_of(HEX, 16)
        ),
    }
}

/// Upper-case ids with a country code's letters: order and ticket
/// numbers, SKUs, container numbers, and random ids of an IBAN's shape and
/// length (which pass mod-97 one time in 97, so they are made to fail it).
fn iban_lookalike(r: &mut Rng) -> String {
    let country = r.pick(&["DE", "GB", "FR", "NL", "ES", "IT", "BE", "CH", "AT", "SE"]);
    match r.below(8) {
        0 => {
            let n = r.range(8, 20);
            format!(
                "order {country}{}{}",
                r.digits(2),
                r.string_of(UPPER_DIGITS, n)
            )
        }
        1 => format!("ticket {country}-{} escalated", r.range(1, 99_999)),
        2 => format!(
            "sku {country}{}{} restocked",
            r.digits(2),
            r.string_of(UPPER, 3)
        ),
        3 => format!("container MSCU{} gated in at {country}HAM", r.digits(7)),
        4 => format!(
            "shipment {country}{} {} {} in transit",
            r.digits(2),
            r.string_of(UPPER_DIGITS, 4),
            r.string_of(UPPER_DIGITS, 4)
        ),
        5 => {
            let n = r.range(12, 30);
            format!("batch {}{} processed", r.string_of(UPPER, 2), r.digits(n))
        }
        6 => {
            // Exactly an IBAN's shape: made to fail the check.
            let mut id = format!("DE{}{}", r.digit_in(1, 9), r.digits(19));
            if mod97_valid(&id) {
                id.pop();
                id.push(if id.ends_with('0') { '1' } else { '0' });
            }
            format!("reference {id}")
        }
        _ => format!("INC{} assigned to {country} desk", r.digits(7)),
    }
}

fn mod97_valid(iban: &str) -> bool {
    let (head, bban) = iban.split_at(4);
    bban.bytes().chain(head.bytes()).fold(0u32, |acc, c| {
        if c.is_ascii_digit() {
            (acc * 10 + u32::from(c - b'0')) % 97
        } else {
            (acc * 100 + u32::from(c - b'A') + 10) % 97
        }
    }) == 1
}

/// Sentences with the words the sensitive names and options are made of.
fn prose_lookalike(r: &mut Rng) -> String {
    match r.below(10) {
        0 => format!("all {} tests passed", r.range(1, 999)),
        1 => format!("token bucket refilled: {} tokens", r.range(1, 1_000)),
        2 => "bypass cache for /health".to_owned(),
        3 => format!("pass {} of {} complete", r.range(1, 5), 5),
        4 => format!("the passenger count is {}", r.range(1, 9)),
        5 => format!("compass heading {} degrees", r.below(360)),
        6 => format!("OTP sent via sms to user {}", r.pick(NAMES)),
        7 => format!(
            "CSRF check failed for /login from region eu-west-{}",
            r.range(1, 3)
        ),
        8 => "session expired; the password reset flow was started".to_owned(),
        _ => format!("passed the secret scanning stage in {}", duration(r)),
    }
}

/// Makes one sample of ordinary text.
type Generator = fn(&mut Rng) -> String;

const LOOKALIKES: &[(&str, Generator)] = &[
    ("config", config_lookalike),
    ("cli_option", cli_lookalike),
    ("authorization", authorization_lookalike),
    ("header_line", header_lookalike),
    ("iban", iban_lookalike),
    ("prose", prose_lookalike),
];

/// Ordinary text shaped like each newer detector's matches: per detector
/// and overall, under 1 % may change. Printed with `--nocapture`.
#[test]
fn lookalikes_are_left_alone() {
    let mut r = Rng::new(0x100c_a11c_e5c1_ea45);
    let mut total = 0;
    let mut total_changed = 0;
    for &(kind, generate) in LOOKALIKES {
        let n = LOOKALIKE_SAMPLES / LOOKALIKES.len();
        let mut changed = 0;
        for _ in 0..n {
            let message = generate(&mut r);
            if let Cow::Owned(other) = redact(&message) {
                changed += 1;
                eprintln!("changed [{kind}]: {message:?} -> {other:?}");
            }
        }
        let rate = f64::from(changed) / n as f64;
        eprintln!(
            "lookalikes [{kind}]: {changed} of {n} changed, false-positive rate {:.3}%",
            rate * 100.0
        );
        assert!(rate < 0.01, "{kind}: false-positive rate {rate}");
        total += n;
        total_changed += changed;
    }
    // With the ordinary messages of `clean_corpus_is_left_alone`.
    let mut r = Rng::new(0x5eed_1e55_c1ea_4e55);
    for _ in 0..CLEAN_SAMPLES {
        if matches!(redact(&clean_message(&mut r)), Cow::Owned(_)) {
            total_changed += 1;
        }
    }
    total += CLEAN_SAMPLES;
    let rate = f64::from(total_changed) / total as f64;
    eprintln!(
        "clean text overall: {total_changed} of {total} changed, false-positive rate {:.3}%",
        rate * 100.0
    );
    assert!(rate < 0.01, "overall false-positive rate {rate}");
}

/// Random strings of exactly an IBAN's shape pass mod-97 one time in 97:
/// the check's own limit, measured here rather than hidden. German shape
/// (`DE`, two digits, 18 digits), so the country rules let them all reach
/// the check.
#[test]
fn iban_shaped_random_ids_pass_one_time_in_97() {
    let mut r = Rng::new(0x1ba2_5eed);
    let n = 20_000;
    let changed = (0..n)
        .filter(|_| {
            let id = format!("DE{}{}", r.digit_in(0, 9), r.digits(19));
            matches!(redact(&format!("reference {id}")), Cow::Owned(_))
        })
        .count();
    let rate = changed as f64 / f64::from(n);
    eprintln!(
        "IBAN-shaped random ids: {changed} of {n} redacted ({:.3}%, 1/97 = 1.031%)",
        rate * 100.0
    );
    assert!((0.005..0.02).contains(&rate), "{rate}");
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
