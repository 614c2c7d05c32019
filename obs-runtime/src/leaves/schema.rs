//! The label schema, naming rules, bucket presets and limits: the single source
//! of truth for every rule that `obs` enforces.
//!
//! The macros of `obs-macros` keep no copy of these rules. For every metric
//! name, label name and bucket list they expand, they emit a `const` item that
//! calls the `const fn`s of this module, spanned at the user's tokens, so a
//! broken rule is a compile error whose message comes from here. The same
//! functions serve run-time input (metrics registered by name at run time).
//!
//! Each check returns `Option<&'static str>`: `None` when the input is fine,
//! otherwise a message that names the rule and says what to write instead.
//!
//! ```
//! use obs_runtime::schema;
//!
//! assert!(schema::check_label_name("cache").is_none());
//! let why = schema::check_label_name("user_id").unwrap();
//! assert!(why.contains("unbounded"));
//! assert_eq!(schema::bucket_preset("latency").unwrap().len(), 10);
//! ```

/// Most series one metric may hold before the cardinality guard folds new
/// label combinations into an overflow series.
pub const MAX_SERIES_PER_METRIC: usize = 10_000;

/// Longest label or metric name, in bytes.
pub const MAX_NAME_LEN: usize = 128;

/// Most labels one metric may carry.
pub const MAX_LABELS: usize = 16;

/// The value every dynamic label takes in the series that collects the
/// label combinations past a metric's series limit.
pub const OVERFLOW_VALUE: &str = "__overflow__";

/// Longest label value, in bytes; longer values are cut at a UTF-8 boundary.
pub const MAX_LABEL_VALUE_LEN: usize = 1_024;

/// Most bounds an explicit bucket list may have (`+Inf` not counted).
pub const MAX_BUCKETS: usize = 32;

/// Label names that may never be used, each with the reason and the fix.
///
/// Matching is case-insensitive and treats `-` like `_`, so `User-ID` is
/// caught as `user_id`.
pub const FORBIDDEN_LABELS: &[(&str, &str)] = &[
    (
        "user_id",
        "label `user_id` is forbidden: user ids are unbounded (one series per user) and personal data; label by a bounded attribute such as a plan or tier, and put the id in a span field",
    ),
    (
        "session_id",
        "label `session_id` is forbidden: session ids are unbounded and identify a person; record the id in a span field instead",
    ),
    (
        "request_id",
        "label `request_id` is forbidden: every request would create a new series; request ids belong in spans and log lines, which carry them already",
    ),
    (
        "trace_id",
        "label `trace_id` is forbidden: every trace would create a new series; link metrics to traces with exemplars instead",
    ),
    (
        "span_id",
        "label `span_id` is forbidden: every span would create a new series; span ids belong in traces and log lines",
    ),
    (
        "email",
        "label `email` is forbidden: e-mail addresses are personal data and unbounded; label by a bounded attribute such as a domain class or a plan",
    ),
    (
        "full_path",
        "label `full_path` is forbidden: raw paths carry ids and are unbounded; label by the route template (`/users/{id}`)",
    ),
    (
        "url",
        "label `url` is forbidden: URLs carry ids, query strings and secrets and are unbounded; label by the route template or the upstream's name",
    ),
    (
        "path",
        "label `path` is forbidden: a raw path carries ids and is unbounded; label by the route template (`route = \"/users/{id}\"`)",
    ),
    (
        "ip",
        "label `ip` is forbidden: addresses are personal data and unbounded; label by a bounded class such as a region or network zone",
    ),
    (
        "client_ip",
        "label `client_ip` is forbidden: client addresses are personal data and unbounded; label by a bounded class such as a region",
    ),
    (
        "token",
        "label `token` is forbidden: a token is a secret and unbounded; never put it in telemetry (label by the token's kind instead)",
    ),
    (
        "password",
        "label `password` is forbidden: a password is a secret; never put it in telemetry",
    ),
];

/// Label names that Prometheus reserves.
pub const RESERVED_LABELS: &[(&str, &str)] = &[
    (
        "le",
        "label `le` is reserved: Prometheus uses it for histogram bucket bounds; choose another name",
    ),
    (
        "quantile",
        "label `quantile` is reserved: Prometheus uses it for summary quantiles; choose another name",
    ),
];

/// Label names that `#[instrumented]` sets itself and a user can't reuse.
pub const OWN_LABELS: &[(&str, &str)] = &[
    (
        "function",
        "label `function` is set by obs itself (the instrumented function's name); choose another name",
    ),
    (
        "module",
        "label `module` is set by obs itself (the function's module path); choose another name",
    ),
    (
        "result",
        "label `result` is set by obs itself (`ok`, `error`, `cancelled`, `panic`); choose another name",
    ),
];

/// Argument names that mark a value as a secret or personal data. An
/// argument whose name contains one of them (ignoring case, `-` equal to
/// `_`) may be listed in `fields(..)` only as `redact(name)`.
pub const SENSITIVE_FIELDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "auth",
    "cookie",
    "session",
    "email",
    "phone",
    "ssn",
    "card",
    "card_number",
    "cvv",
    "iban",
];

/// Suffixes that `#[instrumented]` appends to a base name, which the base name
/// must therefore not carry already.
pub const ADDED_SUFFIXES: &[&str] = &[
    "_total",
    "_seconds",
    "_calls",
    "_bucket",
    "_count",
    "_sum",
    "_in_flight",
];

/// Bucket presets by name, in seconds except `bytes`.
///
/// | preset    | bounds | meant for |
/// |-----------|--------|-----------|
/// | `latency` | 0.01 … 10 s (10 bounds) | ordinary function and RPC latency |
/// | `ai`      | 0.1 … 60 s (8 bounds) | LLM and other model calls, which take seconds |
/// | `http`    | 0.005 … 10 s (14 bounds) | the OpenTelemetry `http.server.request.duration` boundaries |
/// | `db`      | 0.0005 … 5 s (12 bounds) | database queries: sub-millisecond hits up to slow scans |
/// | `bytes`   | 64 B … 64 MiB, powers of 4 (11 bounds) | payload and message sizes |
pub const BUCKET_PRESETS: &[(&str, &[f64])] = &[
    ("latency", LATENCY),
    ("ai", AI),
    ("http", HTTP),
    ("db", DB),
    ("bytes", BYTES),
];

/// The `latency` preset.
pub const LATENCY: &[f64] = &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// The `ai` preset.
pub const AI: &[f64] = &[0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// The `http` preset: OpenTelemetry's advisory boundaries for
/// `http.server.request.duration`.
pub const HTTP: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
/// The `db` preset.
pub const DB: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
/// The `bytes` preset.
pub const BYTES: &[f64] = &[
    64.0,
    256.0,
    1_024.0,
    4_096.0,
    16_384.0,
    65_536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
];

/// The buckets of `#[instrumented]` when none are named.
pub const DEFAULT_BUCKETS: &[f64] = LATENCY;

/// Message for an unknown preset; it lists the valid ones.
pub const UNKNOWN_PRESET: &str = "unknown bucket preset: use one of \"latency\", \"ai\", \"http\", \"db\", \"bytes\", or an explicit list such as `buckets = [0.1, 0.5, 1.0]`";

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Compares a user's label name with a rule's name: ASCII case-insensitive,
/// `-` equal to `_`.
const fn loosely_eq(user: &[u8], rule: &[u8]) -> bool {
    if user.len() != rule.len() {
        return false;
    }
    let mut i = 0;
    while i < user.len() {
        let mut c = user[i].to_ascii_lowercase();
        if c == b'-' {
            c = b'_';
        }
        if c != rule[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn ends_with(s: &[u8], suffix: &[u8]) -> bool {
    if s.len() < suffix.len() {
        return false;
    }
    let start = s.len() - suffix.len();
    let mut i = 0;
    while i < suffix.len() {
        if s[start + i] != suffix[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn find_reason(name: &[u8], table: &[(&str, &'static str)]) -> Option<&'static str> {
    let mut i = 0;
    while i < table.len() {
        if loosely_eq(name, table[i].0.as_bytes()) {
            return Some(table[i].1);
        }
        i += 1;
    }
    None
}

/// Checks the shape shared by metric and label names: `[a-z_][a-z0-9_]*`, at
/// most [`MAX_NAME_LEN`] bytes, not starting `__`.
///
/// ```
/// assert!(obs_runtime::schema::check_name_syntax("http_route").is_none());
/// assert!(obs_runtime::schema::check_name_syntax("HttpRoute").is_some());
/// ```
#[must_use]
pub const fn check_name_syntax(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    if b.is_empty() {
        return Some("a name can't be empty: use snake_case such as `http_requests`");
    }
    if b.len() > MAX_NAME_LEN {
        return Some("a name may be at most 128 bytes long: shorten it");
    }
    if b.len() >= 2 && b[0] == b'_' && b[1] == b'_' {
        return Some(
            "names starting with `__` are reserved for Prometheus itself: drop the leading underscores",
        );
    }
    if b[0].is_ascii_digit() {
        return Some(
            "a name can't start with a digit: names must match [a-z_][a-z0-9_]* (for example `p2p_peers` rather than `2p_peers`)",
        );
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_uppercase() {
            return Some(
                "names are snake_case: upper-case letters are not allowed, write `http_requests` rather than `HttpRequests`",
            );
        }
        if c == b'-' || c == b'.' || c == b' ' {
            return Some(
                "names must match [a-z_][a-z0-9_]*: write `_` instead of `-`, `.` or a space",
            );
        }
        if !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_') {
            return Some(
                "names must match [a-z_][a-z0-9_]*: only lower-case ASCII letters, digits and `_` are allowed",
            );
        }
        i += 1;
    }
    None
}

/// Checks a user-chosen label name: syntax, then forbidden (unbounded or
/// personal), reserved, and the labels obs sets itself.
///
/// ```
/// use obs_runtime::schema::check_label_name;
/// assert!(check_label_name("table").is_none());
/// assert!(check_label_name("Client-IP").is_some());
/// assert!(check_label_name("le").is_some());
/// assert!(check_label_name("result").is_some());
/// ```
#[must_use]
pub const fn check_label_name(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    // Forbidden names are matched loosely first, so `User-ID` gets the reason
    // why it is forbidden rather than a lecture on upper case.
    if let Some(reason) = find_reason(b, FORBIDDEN_LABELS) {
        return Some(reason);
    }
    if let Some(reason) = find_reason(b, RESERVED_LABELS) {
        return Some(reason);
    }
    if let Some(reason) = find_reason(b, OWN_LABELS) {
        return Some(reason);
    }
    check_name_syntax(name)
}

/// Whether `name` contains `needle` with the loose matching of
/// [`SENSITIVE_FIELDS`].
const fn loosely_contains(name: &[u8], needle: &[u8]) -> bool {
    if needle.len() > name.len() {
        return false;
    }
    let mut start = 0;
    while start + needle.len() <= name.len() {
        let mut i = 0;
        let mut all = true;
        while i < needle.len() {
            let mut c = name[start + i].to_ascii_lowercase();
            if c == b'-' {
                c = b'_';
            }
            if c != needle[i] {
                all = false;
                break;
            }
            i += 1;
        }
        if all {
            return true;
        }
        start += 1;
    }
    false
}

/// Checks an argument listed in `fields(..)`, which records its value into
/// every span: a sensitive name must be written `redact(name)`.
///
/// ```
/// use obs_runtime::schema::check_recorded_field;
/// assert!(check_recorded_field("order_id").is_none());
/// assert!(check_recorded_field("user_password").is_some());
/// assert!(check_recorded_field("ApiKey").is_some());
/// ```
#[must_use]
pub const fn check_recorded_field(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    let mut i = 0;
    while i < SENSITIVE_FIELDS.len() {
        if loosely_contains(b, SENSITIVE_FIELDS[i].as_bytes()) {
            return Some(
                "this argument's name marks it as a secret or personal data (password, token, api key, auth, cookie, session, email, phone, ssn, card, cvv, iban), and `fields(..)` would copy its value into every span: write `redact(name)` to record \"[REDACTED]\" instead, or leave it out",
            );
        }
        i += 1;
    }
    None
}

/// Checks the base name given to `#[instrumented(metric = "...")]`: name
/// syntax, and none of the suffixes obs appends.
///
/// ```
/// use obs_runtime::schema::check_base_name;
/// assert!(check_base_name("db_query").is_none());
/// assert!(check_base_name("db_query_total").is_some());
/// ```
#[must_use]
pub const fn check_base_name(name: &str) -> Option<&'static str> {
    if let Some(reason) = check_name_syntax(name) {
        return Some(reason);
    }
    let b = name.as_bytes();
    let mut i = 0;
    while i < ADDED_SUFFIXES.len() {
        if ends_with(b, ADDED_SUFFIXES[i].as_bytes()) {
            return Some(
                "a base name must not end in a suffix obs adds (`_total`, `_seconds`, `_calls`, `_bucket`, `_count`, `_sum`, `_in_flight`): `metric = \"db_query\"` produces `db_query_calls_total` and `db_query_duration_seconds`",
            );
        }
        i += 1;
    }
    // The histogram's series add up to this many bytes; keep the longest
    // generated name within the limit.
    if b.len() + "_duration_seconds_bucket".len() > MAX_NAME_LEN {
        return Some(
            "a base name may be at most 104 bytes long, so that `<base>_duration_seconds_bucket` stays within 128: shorten it",
        );
    }
    None
}

/// Checks a complete metric name (as registered at run time).
///
/// ```
/// assert!(obs_runtime::schema::check_metric_name("jobs_total").is_none());
/// assert!(obs_runtime::schema::check_metric_name("jobs-total").is_some());
/// ```
#[must_use]
pub const fn check_metric_name(name: &str) -> Option<&'static str> {
    check_name_syntax(name)
}

/// Checks a counter's name: name syntax, and the `_total` suffix that
/// Prometheus conventions give every counter.
///
/// ```
/// assert!(obs_runtime::schema::check_counter_name("jobs_total").is_none());
/// assert!(obs_runtime::schema::check_counter_name("jobs").is_some());
/// ```
#[must_use]
pub const fn check_counter_name(name: &str) -> Option<&'static str> {
    if let Some(reason) = check_name_syntax(name) {
        return Some(reason);
    }
    if !ends_with(name.as_bytes(), b"_total") {
        return Some(
            "a counter's name ends in `_total`, as Prometheus conventions require: write `jobs_processed_total`",
        );
    }
    None
}

/// Checks a gauge's name: name syntax, and no suffix that belongs to
/// another type (`_total` to counters; `_bucket`, `_count`, `_sum` to
/// histograms).
///
/// ```
/// assert!(obs_runtime::schema::check_gauge_name("queue_depth").is_none());
/// assert!(obs_runtime::schema::check_gauge_name("queue_depth_total").is_some());
/// ```
#[must_use]
pub const fn check_gauge_name(name: &str) -> Option<&'static str> {
    if let Some(reason) = check_name_syntax(name) {
        return Some(reason);
    }
    let b = name.as_bytes();
    if ends_with(b, b"_total") {
        return Some(
            "a gauge's name can't end in `_total`, which marks a counter: name what it measures, such as `queue_depth` or `pool_connections_active`",
        );
    }
    if ends_with(b, b"_bucket") || ends_with(b, b"_count") || ends_with(b, b"_sum") {
        return Some(
            "names ending in `_bucket`, `_count` or `_sum` clash with the series of histograms: choose another name",
        );
    }
    None
}

/// Checks a histogram's name against its unit: without a unit it measures
/// time and ends in `_seconds`; with `unit = "bytes"` it ends in `_bytes`.
///
/// ```
/// use obs_runtime::schema::check_histogram_name;
/// assert!(check_histogram_name("query_duration_seconds", "").is_none());
/// assert!(check_histogram_name("query_duration", "").is_some());
/// assert!(check_histogram_name("payload_size_bytes", "bytes").is_none());
/// ```
#[must_use]
pub const fn check_histogram_name(name: &str, unit: &str) -> Option<&'static str> {
    if let Some(reason) = check_name_syntax(name) {
        return Some(reason);
    }
    let b = name.as_bytes();
    if ends_with(b, b"_total") {
        return Some("a histogram's name can't end in `_total`, which marks a counter");
    }
    let u = unit.as_bytes();
    if u.is_empty() {
        if !ends_with(b, b"_seconds") {
            return Some(
                "a histogram measures time in seconds, so its name ends in `_seconds` (`request_duration_seconds`); for another unit say it: `#[metric(unit = \"bytes\")]` and end the name in `_bytes`",
            );
        }
        return None;
    }
    if let Some(reason) = check_name_syntax(unit) {
        return Some(reason);
    }
    if !ends_with(b, u) || b.len() <= u.len() || b[b.len() - u.len() - 1] != b'_' {
        return Some(
            "a histogram's name ends in its unit: with `unit = \"bytes\"` write `payload_size_bytes`",
        );
    }
    None
}

/// Checks a label value written in the source (an enum variant's rendered
/// name or a `rename`): non-empty, at most [`MAX_LABEL_VALUE_LEN`] bytes, no
/// control characters, and not the overflow marker.
///
/// ```
/// use obs_runtime::schema::check_label_value;
/// assert!(check_label_value("half_open").is_none());
/// assert!(check_label_value("").is_some());
/// assert!(check_label_value("a\nb").is_some());
/// ```
#[must_use]
pub const fn check_label_value(value: &str) -> Option<&'static str> {
    let b = value.as_bytes();
    if b.is_empty() {
        return Some(
            "a label value can't be empty: Prometheus treats an empty value as a missing label",
        );
    }
    if b.len() > MAX_LABEL_VALUE_LEN {
        return Some("a label value may be at most 1,024 bytes long");
    }
    if bytes_eq(b, OVERFLOW_VALUE.as_bytes()) {
        return Some(
            "`__overflow__` is the value obs gives series past a metric's limit: choose another value",
        );
    }
    let mut i = 0;
    while i < b.len() {
        if b[i] < 0x20 || b[i] == 0x7f {
            return Some(
                "a label value can't contain control characters such as newlines or tabs: remove them, or write `_` or `-` in their place",
            );
        }
        i += 1;
    }
    None
}

/// Looks a bucket preset up by name.
///
/// ```
/// assert_eq!(obs_runtime::schema::bucket_preset("ai").unwrap()[0], 0.1);
/// assert!(obs_runtime::schema::bucket_preset("fast").is_none());
/// ```
#[must_use]
pub const fn bucket_preset(name: &str) -> Option<&'static [f64]> {
    let mut i = 0;
    while i < BUCKET_PRESETS.len() {
        if bytes_eq(name.as_bytes(), BUCKET_PRESETS[i].0.as_bytes()) {
            return Some(BUCKET_PRESETS[i].1);
        }
        i += 1;
    }
    None
}

/// Checks an explicit bucket list: non-empty, at most [`MAX_BUCKETS`] bounds,
/// finite, positive and strictly increasing.
///
/// ```
/// use obs_runtime::schema::check_buckets;
/// assert!(check_buckets(&[0.1, 0.5, 1.0]).is_none());
/// assert!(check_buckets(&[1.0, 0.5]).is_some());
/// assert!(check_buckets(&[]).is_some());
/// ```
#[must_use]
pub const fn check_buckets(bounds: &[f64]) -> Option<&'static str> {
    if bounds.is_empty() {
        return Some(
            "a bucket list can't be empty: give bounds such as `buckets = [0.1, 0.5, 1.0]` or a preset such as `buckets = \"latency\"`",
        );
    }
    if bounds.len() > MAX_BUCKETS {
        return Some(
            "a bucket list may have at most 32 bounds: every bound is one more series per label combination",
        );
    }
    let mut i = 0;
    while i < bounds.len() {
        let b = bounds[i];
        if b.is_nan() || b.is_infinite() {
            return Some(
                "bucket bounds must be finite: `+Inf` is always added for you, and NaN is never a bound",
            );
        }
        if b <= 0.0 {
            return Some(
                "bucket bounds must be positive: durations and sizes are never negative or zero",
            );
        }
        if i > 0 && b <= bounds[i - 1] {
            return Some(
                "bucket bounds must be strictly increasing, with no duplicates: sort them, for example `[0.1, 0.5, 1.0]`",
            );
        }
        i += 1;
    }
    None
}

/// Longest health check name, in bytes.
pub const MAX_HEALTH_CHECK_NAME_LEN: usize = 64;

/// Longest timeout a health check may have, in milliseconds (60 s). A check
/// that takes longer answers a probe that Kubernetes gave up on long ago.
pub const MAX_HEALTH_CHECK_TIMEOUT_MS: u64 = 60_000;

/// The timeout of a health check that names none, in milliseconds.
pub const DEFAULT_HEALTH_CHECK_TIMEOUT_MS: u64 = 1_000;

/// Checks a health check's name, which appears in URLs (`/readyz/<name>`),
/// in `?exclude=<name>` and as the `check` label value: 1 to 64 bytes of
/// lower-case ASCII letters, digits, `_` and `-`, starting with a letter.
///
/// ```
/// use obs_runtime::schema::check_health_check_name;
/// assert!(check_health_check_name("database").is_none());
/// assert!(check_health_check_name("redis-cache").is_none());
/// assert!(check_health_check_name("Database").is_some());
/// assert!(check_health_check_name("").is_some());
/// ```
#[must_use]
pub const fn check_health_check_name(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    if b.is_empty() {
        return Some(
            "a health check's name can't be empty: name the dependency it checks, such as `#[health_check(\"database\")]`",
        );
    }
    if b.len() > MAX_HEALTH_CHECK_NAME_LEN {
        return Some("a health check's name may be at most 64 bytes long: shorten it");
    }
    if !b[0].is_ascii_lowercase() {
        return Some(
            "a health check's name starts with a lower-case letter: write `\"database\"` or `\"redis-cache\"`",
        );
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-') {
            return Some(
                "a health check's name is made of lower-case letters, digits, `_` and `-`, because it appears in URLs (`/readyz/<name>`) and as a metric label: write `\"redis-cache\"` rather than `\"Redis Cache\"`",
            );
        }
        i += 1;
    }
    None
}

/// Parses a health check's timeout: a whole number followed, with no space,
/// by `ms`, `s` or `m`; more than zero and at most 60 s. Returns the
/// milliseconds, or the rule the text breaks.
///
/// ```
/// use obs_runtime::schema::parse_health_timeout;
/// assert_eq!(parse_health_timeout("250ms"), Ok(250));
/// assert_eq!(parse_health_timeout("2s"), Ok(2_000));
/// assert_eq!(parse_health_timeout("1m"), Ok(60_000));
/// assert!(parse_health_timeout("2 s").is_err());
/// assert!(parse_health_timeout("2x").is_err());
/// assert!(parse_health_timeout("90s").is_err());
/// ```
///
/// # Errors
/// The message of the rule the text breaks, with the fix.
pub const fn parse_health_timeout(text: &str) -> Result<u64, &'static str> {
    const SHAPE: &str = "a health check's timeout is a whole number followed by `ms`, `s` or `m`, with no space: `timeout = \"250ms\"`, `\"2s\"` or `\"1m\"`";
    let b = text.as_bytes();
    let mut i = 0;
    let mut value: u64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        value = match value.checked_mul(10) {
            Some(v) => match v.checked_add((b[i] - b'0') as u64) {
                Some(v) => v,
                None => return Err(TIMEOUT_TOO_LONG),
            },
            None => return Err(TIMEOUT_TOO_LONG),
        };
        i += 1;
    }
    if i == 0 {
        return Err(SHAPE);
    }
    let unit_ms: u64 = if i + 2 == b.len() && b[i] == b'm' && b[i + 1] == b's' {
        1
    } else if i + 1 == b.len() && b[i] == b's' {
        1_000
    } else if i + 1 == b.len() && b[i] == b'm' {
        60_000
    } else {
        return Err(SHAPE);
    };
    let Some(ms) = value.checked_mul(unit_ms) else {
        return Err(TIMEOUT_TOO_LONG);
    };
    if ms == 0 {
        return Err(
            "a health check's timeout must be more than zero: a check needs time to answer, such as `timeout = \"500ms\"`",
        );
    }
    if ms > MAX_HEALTH_CHECK_TIMEOUT_MS {
        return Err(TIMEOUT_TOO_LONG);
    }
    Ok(ms)
}

const TIMEOUT_TOO_LONG: &str = "a health check's timeout may be at most 60s: a probe that waits longer has already been given up on by Kubernetes (its `timeoutSeconds`), so fail fast and let the next probe try again, for example `timeout = \"2s\"`";

/// A Kubernetes probe; also the `kind` of a check, which says which probe
/// runs it.
///
/// ```
/// use obs_runtime::health::Probe;
/// assert_eq!(Probe::Readiness.as_str(), "readiness");
/// assert_eq!(Probe::default(), Probe::Readiness);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Probe {
    /// Can the service take traffic? Dependencies are checked here.
    #[default]
    Readiness,
    /// Is the process alive, or stuck for good and due for a restart?
    Liveness,
    /// Has start-up work (migrations, warm-up) finished?
    Startup,
}

impl Probe {
    /// `readiness`, `liveness` or `startup`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Readiness => "readiness",
            Self::Liveness => "liveness",
            Self::Startup => "startup",
        }
    }
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Message for an unknown health check `kind`; it lists the valid ones.
pub const UNKNOWN_HEALTH_KIND: &str = "unknown health check kind: use \"readiness\" (the default: a dependency the service needs to serve traffic), \"liveness\" (the process itself is stuck and must be restarted) or \"startup\" (start-up work such as migrations is done)";

/// The probe a health check's `kind` names: `readiness`, `liveness` or
/// `startup`.
///
/// ```
/// use obs_runtime::{health::Probe, schema::health_check_kind};
/// assert_eq!(health_check_kind("liveness"), Some(Probe::Liveness));
/// assert_eq!(health_check_kind("ready"), None);
/// ```
#[must_use]
pub const fn health_check_kind(kind: &str) -> Option<Probe> {
    let b = kind.as_bytes();
    if bytes_eq(b, b"readiness") {
        Some(Probe::Readiness)
    } else if bytes_eq(b, b"liveness") {
        Some(Probe::Liveness)
    } else if bytes_eq(b, b"startup") {
        Some(Probe::Startup)
    } else {
        None
    }
}

/// Cuts a label value to at most [`MAX_LABEL_VALUE_LEN`] bytes, on a UTF-8
/// character boundary.
///
/// ```
/// let long = "é".repeat(600); // 1,200 bytes
/// let cut = obs_runtime::schema::truncate_label_value(&long);
/// assert_eq!(cut.len(), 1_024);
/// assert!(cut.chars().all(|c| c == 'é'));
/// ```
#[must_use]
pub fn truncate_label_value(value: &str) -> &str {
    if value.len() <= MAX_LABEL_VALUE_LEN {
        return value;
    }
    let mut end = MAX_LABEL_VALUE_LEN;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_names_match_loosely() {
        for name in ["user_id", "USER_ID", "User-Id", "client-ip", "Password"] {
            assert!(check_label_name(name).is_some(), "{name} passed");
        }
        assert!(check_label_name("tenant_tier").is_none());
    }

    #[test]
    fn reserved_and_own_names() {
        for name in ["le", "quantile", "__name__", "function", "module", "result"] {
            assert!(check_label_name(name).is_some(), "{name} passed");
        }
    }

    #[test]
    fn name_syntax() {
        assert!(check_name_syntax("a_1").is_none());
        assert!(check_name_syntax("_private").is_none());
        for bad in ["", "1a", "a-b", "a.b", "Ab", "__x", "ü"] {
            assert!(check_name_syntax(bad).is_some(), "{bad:?} passed");
        }
        assert!(check_name_syntax(&"a".repeat(128)).is_none());
        assert!(check_name_syntax(&"a".repeat(129)).is_some());
    }

    #[test]
    fn base_names_carry_no_added_suffix() {
        for bad in ["x_total", "x_seconds", "x_calls", "x_count"] {
            assert!(check_base_name(bad).is_some(), "{bad} passed");
        }
        assert!(check_base_name("total_work").is_none());
    }

    #[test]
    fn presets_are_valid_bucket_lists() {
        for (name, bounds) in BUCKET_PRESETS {
            assert_eq!(check_buckets(bounds), None, "preset {name}");
        }
    }

    #[test]
    fn bucket_list_rules() {
        assert!(check_buckets(&[0.5, 0.5]).is_some());
        assert!(check_buckets(&[-1.0, 1.0]).is_some());
        assert!(check_buckets(&[0.0]).is_some());
        assert!(check_buckets(&[1.0, f64::INFINITY]).is_some());
        assert!(check_buckets(&[f64::NAN]).is_some());
        assert!(check_buckets(&[1.0; 33]).is_some());
        let many: Vec<f64> = (1..=32).map(f64::from).collect();
        assert!(check_buckets(&many).is_none());
    }

    #[test]
    fn health_timeouts() {
        assert_eq!(parse_health_timeout("60s"), Ok(60_000));
        assert_eq!(parse_health_timeout("60000ms"), Ok(60_000));
        for bad in [
            "",
            "s",
            "2",
            "2 s",
            " 2s",
            "2x",
            "2S",
            "1.5s",
            "61s",
            "2m",
            "0ms",
            "99999999999999999999s",
        ] {
            assert!(parse_health_timeout(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn health_check_names() {
        for good in ["db", "redis-cache", "disk_space", "s3"] {
            assert!(check_health_check_name(good).is_none(), "{good} refused");
        }
        for bad in ["", "Db", "1db", "-db", "a b", "a/b", "a.b"] {
            assert!(check_health_check_name(bad).is_some(), "{bad:?} passed");
        }
        assert!(check_health_check_name(&"a".repeat(65)).is_some());
    }

    #[test]
    fn truncation_keeps_short_values_and_char_boundaries() {
        assert_eq!(truncate_label_value("abc"), "abc");
        let s = format!("{}€", "a".repeat(1_023)); // the euro sign straddles 1,024
        assert_eq!(truncate_label_value(&s).len(), 1_023);
    }
}
