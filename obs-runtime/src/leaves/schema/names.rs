//! Naming rules: the shape of metric and label names, the label names that
//! are forbidden (unbounded or personal), reserved by Prometheus or set by
//! obs itself, the argument names that mark a secret, and label values
//! written in the source.

use super::limits::{MAX_LABEL_VALUE_LEN, MAX_NAME_LEN, OVERFLOW_VALUE};
use super::text::{bytes_eq, ends_with, find_reason, loosely_eq, strip_suffix};

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
    "passphrase",
    "passcode",
    "csrf",
    "xsrf",
    "sessid",
    "private_key",
    "privatekey",
];

/// Short words that mark a name as sensitive only as a whole word of it, so
/// that `x-pass`, `db_pass`, `dbPass`, `X-OTP` and `totp_code` are sensitive
/// but `bypass`, `compass`, `passenger`, `passed` and `footprint` are not.
/// The words of a name are split at every byte that is not an ASCII letter
/// or digit, between a lower-case letter and an upper-case one
/// (`dbPass`), before the last capital of a run followed by a lower-case
/// letter (`XPass`), and between letters and digits (`otp6`); compared
/// ignoring ASCII case.
pub const SENSITIVE_NAME_WORDS: &[&str] = &["pass", "pwd", "otp", "totp", "hotp"];

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
    if let [b'_', b'_', ..] = b {
        return Some(
            "names starting with `__` are reserved for Prometheus itself: drop the leading underscores",
        );
    }
    if let [b'0'..=b'9', ..] = b {
        return Some(
            "a name can't start with a digit: names must match [a-z_][a-z0-9_]* (for example `p2p_peers` rather than `2p_peers`)",
        );
    }
    let mut rest = b;
    while let [c, tail @ ..] = rest {
        let c = *c;
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
        rest = tail;
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
    let mut rest = name;
    loop {
        let Some((head, _)) = rest.split_at_checked(needle.len()) else {
            return false;
        };
        if loosely_eq(head, needle) {
            return true;
        }
        let [_, tail @ ..] = rest else {
            return false;
        };
        rest = tail;
    }
}

/// Whether a word of `name` may start at `i` (or the word before it end):
/// see [`SENSITIVE_NAME_WORDS`].
const fn word_boundary(name: &[u8], i: usize) -> bool {
    if i == 0 {
        return true;
    }
    let Some((head, rest)) = name.split_at_checked(i) else {
        return true;
    };
    let ([.., before], [at, after @ ..]) = (head, rest) else {
        return true;
    };
    let (before, at) = (*before, *at);
    if !before.is_ascii_alphanumeric() || !at.is_ascii_alphanumeric() {
        return true;
    }
    if before.is_ascii_digit() != at.is_ascii_digit() {
        return true;
    }
    if before.is_ascii_lowercase() && at.is_ascii_uppercase() {
        return true;
    }
    // `XPass`: the `P` starts a word, the run of capitals before it another.
    matches!(after, [next, ..] if next.is_ascii_lowercase())
        && before.is_ascii_uppercase()
        && at.is_ascii_uppercase()
}

/// Whether `word` is a whole word of `name`, ignoring ASCII case.
const fn contains_word(name: &[u8], word: &[u8]) -> bool {
    let mut start = 0;
    let mut rest = name;
    while let Some((head, _)) = rest.split_at_checked(word.len()) {
        if word_boundary(name, start)
            && word_boundary(name, start + word.len())
            && head.eq_ignore_ascii_case(word)
        {
            return true;
        }
        let [_, tail @ ..] = rest else {
            return false;
        };
        rest = tail;
        start += 1;
    }
    false
}

/// Whether `name` marks a secret or personal data: it contains one of
/// [`SENSITIVE_FIELDS`] (ignoring case, `-` equal to `_`), or one of
/// [`SENSITIVE_NAME_WORDS`] as a whole word.
///
/// ```
/// use obs_runtime::schema::is_sensitive_field;
/// assert!(is_sensitive_field("X-Pass"));
/// assert!(is_sensitive_field("x-csrf"));
/// assert!(!is_sensitive_field("bypass_cache"));
/// ```
#[must_use]
pub const fn is_sensitive_field(name: &str) -> bool {
    let b = name.as_bytes();
    let mut fields = SENSITIVE_FIELDS;
    while let [field, tail @ ..] = fields {
        if loosely_contains(b, field.as_bytes()) {
            return true;
        }
        fields = tail;
    }
    let mut words = SENSITIVE_NAME_WORDS;
    while let [word, tail @ ..] = words {
        if contains_word(b, word.as_bytes()) {
            return true;
        }
        words = tail;
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
    if is_sensitive_field(name) {
        return Some(
            "this argument's name marks it as a secret or personal data (password, token, api key, auth, cookie, session, email, phone, ssn, card, cvv, iban), and `fields(..)` would copy its value into every span: write `redact(name)` to record \"[REDACTED]\" instead, or leave it out",
        );
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
    let mut suffixes = ADDED_SUFFIXES;
    while let [suffix, tail @ ..] = suffixes {
        if ends_with(b, suffix.as_bytes()) {
            return Some(
                "a base name must not end in a suffix obs adds (`_total`, `_seconds`, `_calls`, `_bucket`, `_count`, `_sum`, `_in_flight`): `metric = \"db_query\"` produces `db_query_calls_total` and `db_query_duration_seconds`",
            );
        }
        suffixes = tail;
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
    // `<something>_<unit>`: the name without its unit ends in `_`.
    let Some([.., b'_']) = strip_suffix(b, u) else {
        return Some(
            "a histogram's name ends in its unit: with `unit = \"bytes\"` write `payload_size_bytes`",
        );
    };
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
    let mut rest = b;
    while let [c, tail @ ..] = rest {
        if *c < 0x20 || *c == 0x7f {
            return Some(
                "a label value can't contain control characters such as newlines or tabs: remove them, or write `_` or `-` in their place",
            );
        }
        rest = tail;
    }
    None
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
    fn short_sensitive_words_match_whole_words_only() {
        for name in [
            "x-pass",
            "db_pass",
            "dbPass",
            "XPass",
            "PASS",
            "x-otp",
            "otp6",
            "TOTPCode",
            "mysql_pwd",
        ] {
            assert!(is_sensitive_field(name), "{name} passed");
            assert!(check_recorded_field(name).is_some(), "{name} passed");
        }
        for name in [
            "bypass",
            "compass",
            "passenger",
            "passed",
            "footprint",
            "laptop",
            "hotpath",
            "status",
        ] {
            assert!(!is_sensitive_field(name), "{name} flagged");
        }
    }

    #[test]
    fn base_names_carry_no_added_suffix() {
        for bad in ["x_total", "x_seconds", "x_calls", "x_count"] {
            assert!(check_base_name(bad).is_some(), "{bad} passed");
        }
        assert!(check_base_name("total_work").is_none());
    }

    #[test]
    fn sensitive_words_anywhere_in_a_recorded_field() {
        for bad in [
            "password",
            "old_password",
            "PASSWORD_hash",
            "x-api-key",
            "apikey",
        ] {
            assert!(check_recorded_field(bad).is_some(), "{bad} passed");
        }
        for good in ["", "p", "order_id", "passwor"] {
            assert!(check_recorded_field(good).is_none(), "{good} refused");
        }
    }

    #[test]
    fn a_histogram_name_ends_in_underscore_and_its_unit() {
        assert!(check_histogram_name("payload_bytes", "bytes").is_none());
        for bad in ["bytes", "payloadbytes", "payload_bytes_x", "_bytes_"] {
            assert!(check_histogram_name(bad, "bytes").is_some(), "{bad} passed");
        }
        assert!(check_histogram_name("_bytes", "bytes").is_none());
    }

    #[test]
    fn label_values_without_control_characters() {
        assert!(check_label_value("a b").is_none());
        for bad in ["\t", "a\u{7f}", "x\ny", "__overflow__"] {
            assert!(check_label_value(bad).is_some(), "{bad:?} passed");
        }
    }
}
