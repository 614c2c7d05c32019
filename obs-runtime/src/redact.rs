//! Redaction of secrets and personal data in log text, and escaping of text
//! bound for a console.
//!
//! ```
//! use obs_runtime::redact::{escape_console, redact, redact_field};
//!
//! assert_eq!(redact("paid by ada@example.com"), "paid by [EMAIL]");
//! assert_eq!(redact_field("password", "hunter2"), "[REDACTED]");
//! assert_eq!(escape_console("one\ntwo"), "one\\ntwo");
//! ```
//!
//! # Sensitive names
//!
//! A field, header or parameter *name* is sensitive when it contains one of
//! [`crate::schema::SENSITIVE_FIELDS`] as a substring, ignoring ASCII case
//! and reading `-` as `_` ([`is_sensitive_name`]). So `user_password`,
//! `X-Api-Key`, `Set-Cookie`, `Proxy-Authorization` and `refresh_token` are
//! sensitive, and so are names that merely contain a listed word (`author`
//! contains `auth`, `tokens_used` contains `token`): a false alarm costs a
//! hidden value, a miss leaks a secret. The value of a sensitive name is
//! replaced whole by `[REDACTED]`. The list lives in the schema only.
//!
//! # Value detectors
//!
//! [`redact`] replaces what looks like a secret in free text by a typed
//! placeholder. Every detector is a hand-written scanner over bytes; each
//! match starts and ends at a character boundary, whatever the text.
//!
//! | detector | matches | becomes |
//! |---|---|---|
//! | e-mail | `local@domain`: a local part of letters (any script), digits and `. _ % + - '`; a domain of at least two dot-separated labels of letters, digits and `-`, the last one two letters or more (or `xn--` punycode) | `[EMAIL]` |
//! | card number | 13 to 19 digits, the first 2–9, Luhn-valid; either one run or groups split by single spaces or single dashes (one kind per number), every group but the last of 4 digits or more | `[CARD]` |
//! | US SSN | `ddd-dd-dddd` with a valid area (not 000, 666 or 9xx), group (not 00) and serial (not 0000) | `[SSN]` |
//! | phone (E.164) | `+`, a digit 1–9, 8 to 15 digits in all, in groups split by a single space, `-` or `.`, a group possibly in parentheses: `+14155552671`, `+1 (415) 555-2671`, `+44 20 7946 0958` | `[PHONE]` |
//! | phone (North American) | `(415) 555-2671`, `(415)555-2671`, `415-555-2671`, `415.555.2671`, optionally after `1-`, `1.` or `1 `; area code and exchange start with 2–9 | `[PHONE]` |
//! | JWT | `eyJ…` base64url, `.`, base64url, `.`, optional signature (and the further segments of a JWE) | `[JWT]` |
//! | `Bearer` credentials | `bearer` (any case), spaces, a token68 of 8 characters or more that looks random (a digit, a symbol or mixed case), so prose such as "bearer tokens" stays | `Bearer [TOKEN]` |
//! | `Basic` credentials | `basic` (any case), spaces, base64 that decodes to text containing `:` (`user:password`) | `Basic [TOKEN]` |
//! | AWS access key id | `AKIA` or `ASIA` and 16 uppercase letters or digits, as a whole word | `[AWS_KEY]` |
//! | URL credentials | the user info of `scheme://user:password@host` (the authority ends at `/`, `?`, `#`, whitespace or a quote) | `scheme://[CREDENTIALS]@host` |
//! | sensitive parameters | `name=value` where `name` is sensitive: query parameters (`?access_token=…&page=2`), logfmt pairs and cookies; the value ends at whitespace, `&`, `#`, `;`, a quote, `<` or `>` (a quoted value at its closing quote) | `name=[REDACTED]` |
//! | sensitive members | `"name": "value"` or `"name": 123` (JSON) and `name: "value"`, `name: Some("value")` (Rust `Debug`) where `name` is sensitive | `"name": "[REDACTED]"` |
//!
//! Numbers (cards, SSNs, phones) must stand alone: the character before a
//! match is not a letter, digit or `_`, nor `.`, `-` or `:` right after a
//! digit, and the character after it is not a letter, digit or `_`, nor
//! `.` or `:` before a digit, nor `-` before a letter or digit. So
//! digit runs longer than a card, decimals, version strings (`1.2.3`), IPv4
//! addresses, dates (`2026-11-23`), times, UUIDs and dashed ids do not match,
//! and a bare run of digits is never a phone number (an order id
//! `4155552671` is not one). Leading `0` or `1` is no card, which keeps
//! epoch-millisecond and nanosecond timestamps out.
//!
//! Overlapping matches are merged into one replaced range named after the
//! earliest, longest match (`Bearer eyJ…` gives `Bearer [TOKEN]`). A
//! placeholder is not matched again (`token=[REDACTED]` stays as it is), so
//! redacting redacted text changes nothing more.
//!
//! # Speed
//!
//! One pass over the bytes first looks for what any detector needs: `@`,
//! `=`, `:` before a quote, `://`, `eyJ`, `AKIA`/`ASIA`, `bearer`/`basic`,
//! and at least 8 digits in all. Text without any of them is returned
//! borrowed at once; text where no detector matches is returned borrowed
//! too. Nothing is allocated unless something is replaced.
//!
//! # Limits
//!
//! A secret with no telling shape or name (a bare password in prose, an
//! opaque API key) can't be told from other words: record it in a field
//! whose name is sensitive. SSNs without dashes, phone numbers outside North
//! America written without `+`, space-separated national numbers
//! (`415 555 2671`) and IBANs in free text are not detected.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::fmt::Write as _;

const REDACTED: &str = "[REDACTED]";
const EMAIL: &str = "[EMAIL]";
const CARD: &str = "[CARD]";
const SSN: &str = "[SSN]";
const PHONE: &str = "[PHONE]";
const JWT: &str = "[JWT]";
const TOKEN: &str = "[TOKEN]";
const AWS_KEY: &str = "[AWS_KEY]";
const CREDENTIALS: &str = "[CREDENTIALS]";
const BINARY: &str = "[BINARY]";

/// What `redact` writes; a value that already is one is left alone.
const PLACEHOLDERS: [&str; 9] = [
    REDACTED,
    EMAIL,
    CARD,
    SSN,
    PHONE,
    JWT,
    TOKEN,
    AWS_KEY,
    CREDENTIALS,
];

/// Fewer digits than this can't form a card, SSN or phone number.
const MIN_NUMBER_DIGITS: usize = 8;
const MIN_CARD_DIGITS: usize = 13;
const MAX_CARD_DIGITS: usize = 19;
const MIN_E164_DIGITS: usize = 8;
const MAX_E164_DIGITS: usize = 15;
/// Longer "names" before `=` are data (base64 padding), not keys; the cap
/// also bounds the work per `=`.
const MAX_KEY_LEN: usize = 64;
/// Basic credentials longer than this are checked on their first bytes.
const MAX_BASIC_DECODED: usize = 192;

/// Whether `name` marks its value as a secret or personal data: the schema's
/// rule (see the [module docs](self)).
///
/// ```
/// use obs_runtime::redact::is_sensitive_name;
///
/// assert!(is_sensitive_name("X-Api-Key"));
/// assert!(is_sensitive_name("refresh_token"));
/// assert!(!is_sensitive_name("order_id"));
/// ```
#[must_use]
pub const fn is_sensitive_name(name: &str) -> bool {
    // Most names hold no pair of bytes that starts a sensitive word; only
    // the others take the schema's complete (and slower) scan.
    let b = name.as_bytes();
    let mut i = 1;
    while i < b.len() {
        if LEADING_PAIRS[pair_class(b[i - 1])] & (1 << pair_class(b[i])) != 0 {
            return crate::schema::check_recorded_field(name).is_some();
        }
        i += 1;
    }
    false
}

/// The class of a byte in a name, as the schema compares them: ASCII case
/// and `-` against `_` do not matter.
const fn pair_class(c: u8) -> usize {
    match c.to_ascii_lowercase() {
        c @ b'a'..=b'z' => (c - b'a') as usize,
        b'_' | b'-' => 26,
        _ => 27,
    }
}

/// For each byte class, the classes that follow it at the start of a
/// sensitive word: computed from the schema's list, not a copy of it.
const LEADING_PAIRS: [u32; 28] = {
    let words = crate::schema::SENSITIVE_FIELDS;
    let mut table = [0u32; 28];
    let mut k = 0;
    while k < words.len() {
        let word = words[k].as_bytes();
        assert!(
            word.len() >= 2,
            "the pair filter needs sensitive words of two bytes or more"
        );
        table[pair_class(word[0])] |= 1 << pair_class(word[1]);
        k += 1;
    }
    table
};

/// Replaces e-mail addresses, card numbers, SSNs, phone numbers, JWTs,
/// `Bearer`/`Basic` credentials, AWS key ids, URL credentials and the values
/// of sensitive parameters in `text` by placeholders (see the
/// [module docs](self) for each rule).
///
/// Borrows `text` unchanged, without allocating, when nothing matched.
///
/// ```
/// use std::borrow::Cow;
/// use obs_runtime::redact::redact;
///
/// assert_eq!(redact("mail ada@example.com"), "mail [EMAIL]");
/// assert_eq!(redact("card 4111 1111 1111 1111 declined"), "card [CARD] declined");
/// assert_eq!(redact("GET /cb?code=7&access_token=abc123"), "GET /cb?code=7&access_token=[REDACTED]");
/// assert_eq!(redact("Authorization: Bearer 9f8e7d6c5b4a"), "Authorization: Bearer [TOKEN]");
/// assert!(matches!(redact("v1.2.3 took 15ms"), Cow::Borrowed(_)));
/// ```
#[must_use]
pub fn redact(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let found = triggers(b);
    if found == 0 {
        return Cow::Borrowed(text);
    }
    let mut hits = Vec::new();
    if found & AT != 0 {
        // First, so that `user:password@host` is not read as an address.
        if found & URL != 0 {
            url_credentials(b, &mut hits);
        }
        let credentials = hits.len();
        emails(text, &mut hits, credentials);
    }
    if found & KEY_VALUE != 0 {
        key_values(text, &mut hits);
    }
    if found & NUMBER != 0 {
        numbers(b, &mut hits);
    }
    if found & JWT_START != 0 {
        jwts(b, &mut hits);
    }
    if found & AWS != 0 {
        aws_keys(b, &mut hits);
    }
    if found & AUTH_SCHEME != 0 {
        auth_schemes(b, &mut hits);
    }
    if hits.is_empty() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(replace(text, hits))
    }
}

/// A field's value as it may be logged: `"[REDACTED]"` when `name` is
/// sensitive ([`is_sensitive_name`]), otherwise `value` through [`redact`].
///
/// ```
/// use obs_runtime::redact::redact_field;
///
/// assert_eq!(redact_field("user_password", "hunter2"), "[REDACTED]");
/// assert_eq!(redact_field("note", "call +1 415 555 2671"), "call [PHONE]");
/// assert_eq!(redact_field("order", "1234567"), "1234567");
/// ```
#[must_use]
pub fn redact_field<'a>(name: &str, value: &'a str) -> Cow<'a, str> {
    if is_sensitive_name(name) {
        Cow::Borrowed(REDACTED)
    } else {
        redact(value)
    }
}

/// Escapes what could break or forge a console line: C0 controls (`\n`,
/// `\r`, `\t`, ESC, …), DEL, C1 controls, the line and paragraph separators
/// U+2028 and U+2029, and the bidirectional controls (U+061C, U+200E,
/// U+200F, U+202A–U+202E, U+2066–U+2069) that can reorder what a terminal
/// shows. `\n`, `\r` and `\t` become those two-character escapes, the others
/// `\u{..}` as in Rust (`\u{1b}`). A backslash is left as it is: it can't
/// start a line or a terminal sequence.
///
/// Borrows `text` when nothing needs escaping.
///
/// ```
/// use obs_runtime::redact::escape_console;
///
/// assert_eq!(escape_console("a\n{\"level\":\"error\"}"), "a\\n{\"level\":\"error\"}");
/// assert_eq!(escape_console("\x1b[31mred"), "\\u{1b}[31mred");
/// assert_eq!(escape_console("plain é"), "plain é");
/// ```
#[must_use]
pub fn escape_console(text: &str) -> Cow<'_, str> {
    // Printable ASCII is by far the common case: check it without decoding.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Cow::Borrowed(text);
    }
    let Some(first) = text
        .char_indices()
        .find(|&(_, c)| needs_escape(c))
        .map(|(i, _)| i)
    else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    // `is_control` is Unicode's Cc: C0, DEL and C1.
    // The others: line and paragraph separators, then bidi controls.
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{61c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Headers as they may be logged, one `(name, value)` pair per value in the
/// map's iteration order (a name with several values appears several
/// times). The value of a sensitive name ([`is_sensitive_name`]: `cookie`,
/// `authorization`, `x-api-key`, …) or of a value marked
/// [`http::HeaderValue::set_sensitive`] is `"[REDACTED]"`; other values go
/// through [`redact`]; a value that is not UTF-8 is `"[BINARY]"`.
///
/// ```
/// use http::{HeaderMap, HeaderValue};
/// use obs_runtime::redact::sanitize_headers;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("authorization", HeaderValue::from_static("Bearer abc.def.ghi"));
/// headers.insert("referer", HeaderValue::from_static("https://example.com/?token=abc123&page=2"));
/// headers.insert("x-blob", HeaderValue::from_bytes(b"\xff\xfe").unwrap());
/// headers.insert("accept", HeaderValue::from_static("text/html"));
/// let shown = sanitize_headers(&headers);
/// let get = |name: &str| shown.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
/// assert_eq!(get("authorization"), Some("[REDACTED]"));
/// assert_eq!(get("referer"), Some("https://example.com/?token=[REDACTED]&page=2"));
/// assert_eq!(get("x-blob"), Some("[BINARY]"));
/// assert_eq!(get("accept"), Some("text/html"));
/// ```
#[must_use]
pub fn sanitize_headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str();
            let shown = if value.is_sensitive() || is_sensitive_name(name) {
                REDACTED.to_owned()
            } else {
                // Header values may carry UTF-8 (obs-text) that `to_str` rejects.
                match std::str::from_utf8(value.as_bytes()) {
                    Ok(text) => redact(text).into_owned(),
                    Err(_) => BINARY.to_owned(),
                }
            };
            (name.to_owned(), shown)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Pre-scan

const AT: u8 = 1;
const KEY_VALUE: u8 = 1 << 1;
const URL: u8 = 1 << 2;
const NUMBER: u8 = 1 << 3;
const JWT_START: u8 = 1 << 4;
const AWS: u8 = 1 << 5;
const AUTH_SCHEME: u8 = 1 << 6;

/// The bytes the pre-scan looks at; it skips the others at once.
const MAY_START: [bool; 256] = {
    let mut table = [false; 256];
    let bytes = b"0123456789@=:eAbB";
    let mut k = 0;
    while k < bytes.len() {
        table[bytes[k] as usize] = true;
        k += 1;
    }
    table
};

/// The detectors that could match somewhere in `b`, from one pass.
fn triggers(b: &[u8]) -> u8 {
    let mut found = 0;
    let mut digits = 0usize;
    for (i, &c) in b.iter().enumerate() {
        if !MAY_START[c as usize] {
            continue;
        }
        match c {
            b'0'..=b'9' => digits += 1,
            b'@' => found |= AT,
            b'=' => found |= KEY_VALUE,
            b':' => found |= colon_triggers(b, i),
            b'e' if b[i + 1..].starts_with(b"yJ") => found |= JWT_START,
            b'A' if b[i + 1..].starts_with(b"KIA") || b[i + 1..].starts_with(b"SIA") => {
                found |= AWS;
            }
            b'b' | b'B'
                if starts_with_ignore_case(&b[i + 1..], b"earer")
                    || starts_with_ignore_case(&b[i + 1..], b"asic") =>
            {
                found |= AUTH_SCHEME;
            }
            _ => {}
        }
    }
    if digits >= MIN_NUMBER_DIGITS {
        found |= NUMBER;
    }
    found
}

/// `://` starts URL credentials; `"key":` and `key: "` may start a member.
fn colon_triggers(b: &[u8], i: usize) -> u8 {
    let rest = &b[i + 1..];
    let mut found = 0;
    if rest.starts_with(b"//") {
        found |= URL;
    }
    let value = rest.strip_prefix(b" ").unwrap_or(rest);
    if (i > 0 && b[i - 1] == b'"') || value.starts_with(b"\"") || value.starts_with(b"Some(\"") {
        found |= KEY_VALUE;
    }
    found
}

fn starts_with_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.get(..needle.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(needle))
}

// ---------------------------------------------------------------------------
// Replacement

/// A range of the text to replace by `with`.
#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    with: &'static str,
}

impl Hit {
    fn new(start: usize, end: usize, with: &'static str) -> Self {
        Self { start, end, with }
    }
}

/// Among matches of the same range, the lowest rank names it: a bearer token
/// that is also a JWT reads `Bearer [TOKEN]`, and `email=ada@example.com`
/// reads `email=[EMAIL]`, more telling than `[REDACTED]`.
fn rank(with: &str) -> u8 {
    match with {
        TOKEN => 0,
        REDACTED => 2,
        _ => 1,
    }
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn replace(text: &str, mut hits: Vec<Hit>) -> String {
    // The detectors only cut at character boundaries; widening keeps a slip
    // from panicking, and widening can only hide more.
    for hit in &mut hits {
        hit.start = floor_boundary(text, hit.start);
        hit.end = ceil_boundary(text, hit.end);
    }
    hits.sort_unstable_by_key(|h| (h.start, Reverse(h.end), rank(h.with)));
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut pending: Option<Hit> = None;
    for hit in hits.into_iter().filter(|h| h.start < h.end) {
        match &mut pending {
            // A partial overlap is merged, not cut: either part may hold
            // the secret.
            Some(p) if hit.start < p.end => p.end = p.end.max(hit.end),
            _ => {
                if let Some(p) = pending.replace(hit) {
                    out.push_str(&text[copied..p.start]);
                    out.push_str(p.with);
                    copied = p.end;
                }
            }
        }
    }
    if let Some(p) = pending {
        out.push_str(&text[copied..p.start]);
        out.push_str(p.with);
        copied = p.end;
    }
    out.push_str(&text[copied..]);
    out
}

fn is_placeholder(value: &[u8]) -> bool {
    PLACEHOLDERS.iter().any(|p| p.as_bytes() == value)
}

// ---------------------------------------------------------------------------
// E-mail addresses

/// `credentials`: how many of the first `hits` are URL credentials, in
/// order; the `@` that ends one is no address.
fn emails(text: &str, hits: &mut Vec<Hit>, credentials: usize) {
    let mut k = 0;
    for (at, _) in text.match_indices('@') {
        while k < credentials && hits[k].end < at {
            k += 1;
        }
        if k < credentials && hits[k].end == at {
            continue;
        }
        let start = local_part_start(text, at);
        if start == at {
            continue;
        }
        if let Some(end) = domain_end(text, at + 1) {
            hits.push(Hit::new(start, end, EMAIL));
        }
    }
}

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'')
}

fn local_part_start(text: &str, at: usize) -> usize {
    let mut start = at;
    for (i, c) in text[..at].char_indices().rev() {
        if !is_local_char(c) {
            break;
        }
        start = i;
    }
    // An ellipsis or an opening quote before the address is not part of it.
    let b = text.as_bytes();
    while start < at && matches!(b[start], b'.' | b'\'') {
        start += 1;
    }
    start
}

fn is_label_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-'
}

/// The end of the longest valid domain at `from`: two labels or more, the
/// last one a plausible top-level domain.
fn domain_end(text: &str, from: usize) -> Option<usize> {
    let mut pos = from;
    let mut labels = 0;
    let mut found = None;
    loop {
        let end = text[pos..]
            .char_indices()
            .find(|&(_, c)| !is_label_char(c))
            .map_or(text.len(), |(i, _)| pos + i);
        if end == pos {
            return found;
        }
        labels += 1;
        if labels >= 2 && is_top_level(&text[pos..end]) {
            found = Some(end);
        }
        let continues = text[end..]
            .strip_prefix('.')
            .and_then(|r| r.chars().next())
            .is_some_and(is_label_char);
        if !continues {
            return found;
        }
        pos = end + 1;
    }
}

fn is_top_level(label: &str) -> bool {
    let b = label.as_bytes();
    (label.chars().nth(1).is_some() && label.chars().all(char::is_alphabetic))
        || (b.len() > 4 && b[..4].eq_ignore_ascii_case(b"xn--"))
}

// ---------------------------------------------------------------------------
// Numbers: phones, SSNs, cards

fn numbers(b: &[u8], hits: &mut Vec<Hit>) {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            let mut run_end = i + 1;
            while b.get(run_end).is_some_and(u8::is_ascii_digit) {
                run_end += 1;
            }
            // A number starts with a card-long run, or with a group before
            // a separator: most digit runs ("200", "15ms") are neither.
            let may_start = run_end - i >= MIN_CARD_DIGITS
                || matches!(b.get(run_end), Some(b'-' | b'.' | b' '));
            if let Some((end, with)) = (may_start && starts_clean(b, i))
                .then(|| number_at(b, i))
                .flatten()
            {
                hits.push(Hit::new(i, end, with));
                i = end;
            } else {
                // A number never starts inside a digit run.
                i = run_end;
            }
        } else if (c == b'+' || c == b'(')
            && starts_clean(b, i)
            && let Some((end, with)) = number_at(b, i)
        {
            hits.push(Hit::new(i, end, with));
            i = end;
        } else {
            i += 1;
        }
    }
}

fn number_at(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    match b[i] {
        b'+' => e164(b, i).map(|end| (end, PHONE)),
        b'(' => nanp(b, i).map(|end| (end, PHONE)),
        _ => nanp(b, i)
            .map(|end| (end, PHONE))
            .or_else(|| ssn(b, i).map(|end| (end, SSN)))
            .or_else(|| card(b, i).map(|end| (end, CARD))),
    }
}

/// Whether a number may start at `i`: not glued to a word, and not the
/// continuation of a decimal, version, date, time or dashed id.
fn starts_clean(b: &[u8], i: usize) -> bool {
    let Some(&prev) = i.checked_sub(1).and_then(|p| b.get(p)) else {
        return true;
    };
    if prev.is_ascii_alphanumeric() || prev == b'_' {
        return false;
    }
    !(matches!(prev, b'.' | b'-' | b':') && i >= 2 && b[i - 2].is_ascii_digit())
}

/// Whether a number may end at `end`: the mirror of [`starts_clean`].
fn ends_clean(b: &[u8], end: usize) -> bool {
    let Some(&next) = b.get(end) else {
        return true;
    };
    let after = b.get(end + 1);
    match next {
        c if c == b'_' || c.is_ascii_alphanumeric() => false,
        b'.' | b':' => !after.is_some_and(u8::is_ascii_digit),
        b'-' => !after.is_some_and(u8::is_ascii_alphanumeric),
        _ => true,
    }
}

/// The end of exactly `n` digits at `at`, not followed by another digit.
fn digits_exactly(b: &[u8], at: usize, n: usize) -> Option<usize> {
    let run = b.get(at..at + n)?;
    (run.iter().all(u8::is_ascii_digit) && !b.get(at + n).is_some_and(u8::is_ascii_digit))
        .then_some(at + n)
}

fn value_of(digits: &[u8]) -> u32 {
    digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'))
}

/// `+` and 8–15 digits in groups; the longest prefix that ends cleanly.
fn e164(b: &[u8], plus: usize) -> Option<usize> {
    if !b.get(plus + 1).is_some_and(|d| matches!(d, b'1'..=b'9')) {
        return None;
    }
    let mut j = plus + 1;
    let mut count = 0;
    let mut found = None;
    loop {
        let paren = b.get(j) == Some(&b'(');
        if paren {
            j += 1;
        }
        let group = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        count += j - group;
        if j == group || count > MAX_E164_DIGITS {
            return found;
        }
        if paren {
            if b.get(j) != Some(&b')') {
                return found;
            }
            j += 1;
        }
        if count >= MIN_E164_DIGITS && ends_clean(b, j) {
            found = Some(j);
        }
        let group_at = |k: usize| b.get(k).is_some_and(|&c| c.is_ascii_digit() || c == b'(');
        match b.get(j) {
            Some(b' ' | b'-' | b'.') if group_at(j + 1) => j += 1,
            // `+44(0)20…`, `+1 (415)555…`: a parenthesized group needs no separator.
            Some(b'(') if !paren => {}
            Some(d) if paren && d.is_ascii_digit() => {}
            _ => return found,
        }
    }
}

/// A North American number, optionally after a `1` trunk prefix.
fn nanp(b: &[u8], i: usize) -> Option<usize> {
    if b[i] == b'1'
        && matches!(b.get(i + 1), Some(b'-' | b'.' | b' '))
        && let Some(end) = nanp_body(b, i + 2)
    {
        return Some(end);
    }
    nanp_body(b, i)
}

fn nanp_body(b: &[u8], i: usize) -> Option<usize> {
    let (area, exchange, line) = if b.get(i) == Some(&b'(') {
        let area_end = digits_exactly(b, i + 1, 3)?;
        if b.get(area_end) != Some(&b')') {
            return None;
        }
        let mut exchange = area_end + 1;
        if b.get(exchange) == Some(&b' ') {
            exchange += 1;
        }
        let exchange_end = digits_exactly(b, exchange, 3)?;
        let line = if matches!(b.get(exchange_end), Some(b'-' | b'.' | b' ')) {
            exchange_end + 1
        } else {
            exchange_end
        };
        (i + 1, exchange, line)
    } else {
        let area_end = digits_exactly(b, i, 3)?;
        let sep = *b.get(area_end).filter(|s| matches!(s, b'-' | b'.'))?;
        let exchange_end = digits_exactly(b, area_end + 1, 3)?;
        if b.get(exchange_end) != Some(&sep) {
            return None;
        }
        (i, area_end + 1, exchange_end + 1)
    };
    let end = digits_exactly(b, line, 4)?;
    // NANP area codes and exchanges never start with 0 or 1.
    let valid = matches!(b[area], b'2'..=b'9') && matches!(b[exchange], b'2'..=b'9');
    (valid && ends_clean(b, end)).then_some(end)
}

fn ssn(b: &[u8], i: usize) -> Option<usize> {
    let area_end = digits_exactly(b, i, 3)?;
    if b.get(area_end) != Some(&b'-') {
        return None;
    }
    let group_end = digits_exactly(b, area_end + 1, 2)?;
    if b.get(group_end) != Some(&b'-') {
        return None;
    }
    let end = digits_exactly(b, group_end + 1, 4)?;
    let area = value_of(&b[i..area_end]);
    let valid = area != 0
        && area != 666
        && area < 900
        && value_of(&b[area_end + 1..group_end]) != 0
        && value_of(&b[group_end + 1..end]) != 0;
    (valid && ends_clean(b, end)).then_some(end)
}

/// The longest Luhn-valid card number at `i`, cut at a group boundary.
fn card(b: &[u8], i: usize) -> Option<usize> {
    if !matches!(b[i], b'2'..=b'9') {
        return None;
    }
    let mut digits = [0u8; MAX_CARD_DIGITS];
    let mut count = 0;
    let mut sep = None;
    let mut j = i;
    let mut found = None;
    loop {
        let group = j;
        while let Some(&d) = b.get(j).filter(|d| d.is_ascii_digit()) {
            if count == MAX_CARD_DIGITS {
                // Too long for a card: no cut inside this group either.
                return found;
            }
            digits[count] = d - b'0';
            count += 1;
            j += 1;
        }
        if count >= MIN_CARD_DIGITS && ends_clean(b, j) && luhn(&digits[..count]) {
            found = Some(j);
        }
        // Dates (`2026-11-23`) and the like have short groups; cards don't,
        // except for the last one.
        if j - group < 4 {
            return found;
        }
        match b.get(j) {
            Some(&s @ (b' ' | b'-'))
                if sep.is_none_or(|p| p == s) && b.get(j + 1).is_some_and(u8::is_ascii_digit) =>
            {
                sep = Some(s);
                j += 1;
            }
            _ => return found,
        }
    }
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(k, &d)| {
            let d = u32::from(d);
            if k % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

// ---------------------------------------------------------------------------
// Tokens and keys

fn is_base64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

fn skip_base64url(b: &[u8], mut i: usize) -> usize {
    while b.get(i).copied().is_some_and(is_base64url) {
        i += 1;
    }
    i
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn jwts(b: &[u8], hits: &mut Vec<Hit>) {
    let mut from = 0;
    while let Some(start) = find(b, from, b"eyJ") {
        let header_end = skip_base64url(b, start);
        from = header_end;
        // Only the start of a base64url run can start a token; this also
        // keeps the scan linear.
        if start > 0 && is_base64url(b[start - 1]) {
            continue;
        }
        if header_end - start < 10 || b.get(header_end) != Some(&b'.') {
            continue;
        }
        let payload_end = skip_base64url(b, header_end + 1);
        if payload_end - header_end < 3 || b.get(payload_end) != Some(&b'.') {
            continue;
        }
        // The signature may be empty (`alg: none`); a JWE has five segments.
        let mut end = skip_base64url(b, payload_end + 1);
        while b.get(end) == Some(&b'.') && b.get(end + 1).copied().is_some_and(is_base64url) {
            end = skip_base64url(b, end + 1);
        }
        hits.push(Hit::new(start, end, JWT));
        from = end;
    }
}

fn aws_keys(b: &[u8], hits: &mut Vec<Hit>) {
    let mut from = 0;
    while let Some(start) = find(b, from, b"A") {
        from = start + 1;
        let Some(key) = b.get(start..start + 20) else {
            return;
        };
        let whole_word = (start == 0 || !b[start - 1].is_ascii_alphanumeric())
            && !b.get(start + 20).is_some_and(u8::is_ascii_alphanumeric);
        if (key.starts_with(b"AKIA") || key.starts_with(b"ASIA"))
            && key[4..]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && whole_word
        {
            hits.push(Hit::new(start, start + 20, AWS_KEY));
            from = start + 20;
        }
    }
}

fn is_token68(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

fn is_base64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_')
}

fn auth_schemes(b: &[u8], hits: &mut Vec<Hit>) {
    let mut i = 0;
    while i < b.len() {
        if !matches!(b[i], b'b' | b'B') || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let rest = &b[i..];
        let (keyword, basic) = if starts_with_ignore_case(rest, b"bearer") {
            (6, false)
        } else if starts_with_ignore_case(rest, b"basic") {
            (5, true)
        } else {
            i += 1;
            continue;
        };
        let mut start = i + keyword;
        while b.get(start) == Some(&b' ') {
            start += 1;
        }
        let mut end = start;
        // A Basic credential is base64, so a `.` after it ends a sentence.
        let in_token = if basic { is_base64 } else { is_token68 };
        while b.get(end).copied().is_some_and(in_token) {
            end += 1;
        }
        while b.get(end) == Some(&b'=') {
            end += 1;
        }
        let token = &b[start..end];
        let spaced = start > i + keyword;
        if spaced
            && if basic {
                is_basic_credentials(token)
            } else {
                looks_random(token)
            }
        {
            hits.push(Hit::new(start, end, TOKEN));
            i = end;
        } else {
            i += keyword;
        }
    }
}

/// Whether a bearer token is one, rather than an English word.
fn looks_random(token: &[u8]) -> bool {
    token.len() >= 8
        && (token.iter().any(|c| !c.is_ascii_alphabetic())
            || (token[1..].iter().any(u8::is_ascii_uppercase)
                && token.iter().any(u8::is_ascii_lowercase)))
}

/// Whether `token` is base64 of `user:password` in UTF-8 text.
fn is_basic_credentials(token: &[u8]) -> bool {
    let data = token
        .strip_suffix(b"==")
        .or_else(|| token.strip_suffix(b"="))
        .unwrap_or(token);
    if data.len() < 4 || data.len() % 4 == 1 {
        return false;
    }
    let mut decoded = [0u8; MAX_BASIC_DECODED];
    let mut len = 0;
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in data {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return false,
        };
        acc = ((acc << 6) | u32::from(v)) & 0xffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if len == MAX_BASIC_DECODED {
                break;
            }
            decoded[len] = (acc >> bits).to_le_bytes()[0];
            len += 1;
        }
    }
    let text = match std::str::from_utf8(&decoded[..len]) {
        Ok(text) => text,
        // Cut at the buffer's end, inside a character: judge what came before.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&decoded[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    text.contains(':') && !text.chars().any(char::is_control)
}

// ---------------------------------------------------------------------------
// URL credentials

fn url_credentials(b: &[u8], hits: &mut Vec<Hit>) {
    let mut from = 0;
    while let Some(colon) = find(b, from, b"://") {
        let start = colon + 3;
        let mut end = start;
        let mut at = None;
        while let Some(&c) = b.get(end) {
            if matches!(
                c,
                b'/' | b'?' | b'#' | b'"' | b'\'' | b'<' | b'>' | b'`' | b'\\'
            ) || c.is_ascii_whitespace()
            {
                break;
            }
            if c == b'@' {
                at = Some(end);
            }
            end += 1;
        }
        from = end.max(start);
        let has_scheme = colon > 0 && b[colon - 1].is_ascii_alphanumeric();
        if let Some(at) =
            at.filter(|&at| has_scheme && at > start && !is_placeholder(&b[start..at]))
        {
            hits.push(Hit::new(start, at, CREDENTIALS));
        }
    }
}

// ---------------------------------------------------------------------------
// Sensitive parameters and members

fn is_key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'[' | b']')
}

/// The start of the key that ends at `end`, if there is one.
fn key_start(b: &[u8], end: usize) -> Option<usize> {
    let mut start = end;
    while start > 0 && is_key_char(b[start - 1]) {
        start -= 1;
        if end - start > MAX_KEY_LEN {
            return None;
        }
    }
    // A placeholder is not a key: `Bearer [TOKEN][x=1` stays as it is.
    let key = &b[start..end];
    let placeholder = key.contains(&b'[')
        && PLACEHOLDERS
            .iter()
            .any(|p| key.windows(p.len()).any(|w| w == p.as_bytes()));
    (start < end && !placeholder).then_some(start)
}

fn key_values(text: &str, hits: &mut Vec<Hit>) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let value = match b[i] {
            b'=' => assignment(text, i),
            b':' => member(text, i),
            _ => None,
        };
        let Some((start, end)) = value else {
            i += 1;
            continue;
        };
        if start < end && !is_placeholder(&b[start..end]) {
            hits.push(Hit::new(start, end, REDACTED));
        }
        // What a value holds is hidden with it; not rescanning it also keeps
        // `token=token=token=…` linear.
        i = end.max(i + 1);
    }
}

/// `key=value` with a sensitive key: the value's range.
fn assignment(text: &str, eq: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let start = key_start(b, eq)?;
    if !is_sensitive_name(&text[start..eq]) {
        return None;
    }
    match b.get(eq + 1) {
        Some(&q @ (b'"' | b'\'')) => Some((eq + 2, closing_quote(b, eq + 2, q))),
        Some(_) => Some((eq + 1, bare_value_end(b, eq + 1, false))),
        None => None,
    }
}

/// `"key": value` (JSON) or `key: "value"` (`Debug`) with a sensitive key.
fn member(text: &str, colon: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let quoted_key = colon > 0 && b[colon - 1] == b'"';
    let key_end = if quoted_key { colon - 1 } else { colon };
    let start = key_start(b, key_end)?;
    if quoted_key && (start == 0 || b[start - 1] != b'"') {
        return None;
    }
    if !is_sensitive_name(&text[start..key_end]) {
        return None;
    }
    let mut v = colon + 1;
    if b.get(v) == Some(&b' ') {
        v += 1;
    }
    if b[v..].starts_with(b"Some(\"") {
        v += "Some(".len();
    }
    match b.get(v) {
        Some(b'"') => Some((v + 1, closing_quote(b, v + 1, b'"'))),
        Some(b'{' | b'[') | None => None,
        // Unquoted values after `key:` are prose ("auth: failed"), except in JSON.
        Some(_) if quoted_key => {
            let end = bare_value_end(b, v, true);
            let literal = matches!(&b[v..end], b"null" | b"true" | b"false");
            (!literal).then_some((v, end))
        }
        Some(_) => None,
    }
}

fn closing_quote(b: &[u8], from: usize, quote: u8) -> usize {
    let mut i = from;
    while let Some(&c) = b.get(i) {
        if c == quote {
            return i;
        }
        // An escaped quote does not close; skipping a byte can't hide an
        // ASCII quote inside a multi-byte character, which has none.
        i += if c == b'\\' { 2 } else { 1 };
    }
    b.len()
}

fn bare_value_end(b: &[u8], from: usize, json: bool) -> usize {
    let mut end = from;
    while let Some(&c) = b.get(end) {
        let stop = c.is_ascii_whitespace()
            || matches!(c, b'&' | b'#' | b';' | b'"' | b'\'' | b'<' | b'>' | b'`')
            || (json && matches!(c, b',' | b'}' | b']'));
        if stop {
            break;
        }
        end += 1;
    }
    // A value that starts with a placeholder was redacted before.
    if let Some(p) = PLACEHOLDERS
        .iter()
        .find(|p| b[from..end].starts_with(p.as_bytes()))
    {
        return from + p.len();
    }
    // Sentence punctuation after the value is not part of it.
    while end > from && matches!(b[end - 1], b'.' | b',' | b')' | b']' | b'}') {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(text: &str) {
        let out = redact(text);
        assert!(
            matches!(out, Cow::Borrowed(_)),
            "changed {text:?} into {out:?}"
        );
    }

    #[test]
    fn clean_text_is_borrowed() {
        for text in [
            "",
            "service started",
            "v1.2.3 released",
            "order 1234567 shipped in 3 parcels",
            "took 1534ms; retry in 2m30s",
            "request 550e8400-e29b-41d4-a716-446655440000 done",
            "at 2026-11-23T15:41:32.123456Z",
            "listening on localhost:8080",
            "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "GET /api/v1/users/12345/orders?page=2&limit=50 200",
            "a basic plan; bearer of news",
            "ts=1795448492123 count=42",
        ] {
            same(text);
        }
    }

    #[test]
    fn emails() {
        assert_eq!(redact("from ada@example.com."), "from [EMAIL].");
        assert_eq!(redact("<first.last+tag@mail.example.co.uk>"), "<[EMAIL]>");
        assert_eq!(
            redact("mailto:o'brien_9@sub-domain.example.org"),
            "mailto:[EMAIL]"
        );
        assert_eq!(redact("jörg.müller@exämple.de→ok"), "[EMAIL]→ok");
        assert_eq!(redact("'ada@example.com'"), "'[EMAIL]'");
        assert_eq!(redact("…ada@example.com"), "…[EMAIL]");
        assert_eq!(redact("ada@xn--bcher-kva.example"), "[EMAIL]");
        for text in [
            "user@localhost",
            "serde@1.0.1",
            "@mention",
            "a@b.c",
            "a @ b.com",
            "x@",
            "@",
        ] {
            same(text);
        }
    }

    #[test]
    fn cards() {
        assert_eq!(redact("card 4111111111111111"), "card [CARD]");
        assert_eq!(
            redact("card 4111-1111-1111-1111, exp 12/26"),
            "card [CARD], exp 12/26"
        );
        assert_eq!(redact("amex 3782 822463 10005."), "amex [CARD].");
        assert_eq!(redact("visa13 4222222222222"), "visa13 [CARD]");
        assert_eq!(redact("qty 3 4111 1111 1111 1111"), "qty 3 [CARD]");
        assert_eq!(redact("(4111111111111111)"), "([CARD])");
        for text in [
            "4111111111111112",                     // Luhn-invalid
            "14111111111111111",                    // longer run
            "41111111111111110000",                 // 20 digits
            "1795448492123",                        // epoch ms: leading 1
            "id x4111111111111111",                 // glued to a word
            "4111111111111111abc",                  // glued to a word
            "4111-1111-1111-1111-2222",             // dashed id
            "2026-11-23 4111",                      // date, then digits
            "0.4111111111111111",                   // decimal
            "4111111111111111.5",                   // decimal
            "4111 1111 1111 11 11",                 // short inner group
            "4111 1111-1111 1111",                  // mixed separators
            "12345678-1234-1234-1234-123456789012", // digit-only UUID
        ] {
            same(text);
        }
    }

    #[test]
    fn ssns() {
        assert_eq!(redact("ssn 123-45-6789"), "ssn [SSN]");
        for text in [
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "123-00-4567",
            "123-45-0000",
            "1123-45-6789",
            "123-45-67890",
        ] {
            same(text);
        }
    }

    #[test]
    fn phones() {
        for text in [
            "+14155552671",
            "+1 415 555 2671",
            "+1-415-555-2671",
            "+1.415.555.2671",
            "+1 (415) 555-2671",
            "+44 20 7946 0958",
            "+44 (0)20 7946 0958",
            "+33 1 23 45 67 89",
            "+81 3-1234-5678",
            "(415) 555-2671",
            "(415)555-2671",
            "415-555-2671",
            "415.555.2671",
            "1-800-555-0199",
            "1 (800) 555 0199",
        ] {
            assert_eq!(redact(&format!("call {text}.")), "call [PHONE].", "{text}");
        }
        for text in [
            "2026-11-23",
            "15:41:32",
            "10.0.0.1",
            "1.2.3",
            "1234567",
            "4155552671",
            "order 415 555 2671",
            "123-456-7890", // area code starting with 1
            "415-155-2671", // exchange starting with 1
            "415-555-26710",
            "+1234567",          // 7 digits
            "+1234567890123456", // 16 digits
            "utc+01:00",
            "2026-11-23T15:41:32+01:00",
            "x+14155552671",
            "415-555-2671-9",
            "1.415.555.2671.0",
        ] {
            same(text);
        }
    }

    #[test]
    fn jwts() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(redact(&format!("jwt={jwt}; ok")), "jwt=[JWT]; ok");
        assert_eq!(redact(&format!("id_token: {jwt}.")), "id_token: [JWT].");
        assert_eq!(redact("t eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."), "t [JWT]");
        same("eyJhbGciOiJIUzI1NiJ9 alone");
        same("keyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc");
    }

    #[test]
    fn auth_schemes() {
        assert_eq!(
            redact("Authorization: Bearer abc123DEF456ghi"),
            "Authorization: Bearer [TOKEN]"
        );
        assert_eq!(
            redact("bearer  eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"),
            "bearer  [TOKEN]"
        );
        assert_eq!(redact("Basic dXNlcjpwYXNzd29yZA=="), "Basic [TOKEN]");
        assert_eq!(redact("BASIC YWRhOmh1bnRlcjI="), "BASIC [TOKEN]");
        for text in [
            "the bearer tokens expired",
            "Bearer Authentication",
            "basic plan",
            "Basic information",
            "HTTP basic auth",
            "Bearer [TOKEN]",
        ] {
            same(text);
        }
    }

    #[test]
    fn aws_keys() {
        assert_eq!(
            redact("key AKIAIOSFODNN7EXAMPLE used"),
            "key [AWS_KEY] used"
        );
        assert_eq!(redact("ASIAY34FZKBOKMUTVV7A"), "[AWS_KEY]");
        for text in [
            "AKIAIOSFODNN7EXAMPL",
            "AKIAIOSFODNN7EXAMPLEX",
            "XAKIAIOSFODNN7EXAMPLE",
            "AKIAiosfodnn7example",
        ] {
            same(text);
        }
    }

    #[test]
    fn url_credentials() {
        assert_eq!(
            redact("postgres://app:s3cr3t@db.internal:5432/app"),
            "postgres://[CREDENTIALS]@db.internal:5432/app"
        );
        assert_eq!(
            redact("redis://:pw@cache:6379"),
            "redis://[CREDENTIALS]@cache:6379"
        );
        assert_eq!(
            redact("https://u:p@ss@host/x"),
            "https://[CREDENTIALS]@host/x"
        );
        same("https://example.com/a@b");
        same("https://example.com/?to=x@y");
        same("https://[CREDENTIALS]@host");
    }

    #[test]
    fn sensitive_parameters() {
        assert_eq!(
            redact("GET https://api.example.com/cb?code=7&access_token=abc123&state=x#frag"),
            "GET https://api.example.com/cb?code=7&access_token=[REDACTED]&state=x#frag"
        );
        assert_eq!(
            redact("/login?user=ada&password=hunter2"),
            "/login?user=ada&password=[REDACTED]"
        );
        assert_eq!(
            redact("login user=ada password=hunter2, retry"),
            "login user=ada password=[REDACTED], retry"
        );
        assert_eq!(
            redact(r#"api_key="a b c" next"#),
            r#"api_key="[REDACTED]" next"#
        );
        assert_eq!(
            redact("Cookie: session=abc; theme=dark"),
            "Cookie: session=[REDACTED]; theme=dark"
        );
        assert_eq!(redact("email=ada@example.com"), "email=[EMAIL]");
        same("page=2&limit=50&sort=name");
        same("password=");
        same("token=[REDACTED]");
        same("a == b");
    }

    #[test]
    fn sensitive_members() {
        assert_eq!(
            redact(r#"{"user":"ada","password":"hun\"ter2","n":1}"#),
            r#"{"user":"ada","password":"[REDACTED]","n":1}"#
        );
        assert_eq!(
            redact(r#"{"cvv": 123, "x": 1}"#),
            r#"{"cvv": [REDACTED], "x": 1}"#
        );
        assert_eq!(
            redact(r#"Login { user: "ada", password: "hunter2" }"#),
            r#"Login { user: "ada", password: "[REDACTED]" }"#
        );
        assert_eq!(
            redact(r#"Cfg { api_key: Some("k-123") }"#),
            r#"Cfg { api_key: Some("[REDACTED]") }"#
        );
        same(r#"{"token": null, "auth": true}"#);
        same("auth: failed for 3 users");
        same(r#"{"user":"ada"}"#);
    }

    #[test]
    fn overlapping_matches_merge() {
        assert_eq!(
            redact("?token=Bearer abc123def456"),
            "?token=[REDACTED] [TOKEN]"
        );
        assert_eq!(redact("ada.4111111111111111@example.com"), "[EMAIL]");
    }

    #[test]
    fn idempotent() {
        let text = "ada@example.com 4111111111111111 123-45-6789 +14155552671 Bearer abc123def456 \
                    AKIAIOSFODNN7EXAMPLE https://u:p@h/?token=x password=\"y\"";
        let once = redact(text).into_owned();
        assert_eq!(redact(&once), once.as_str());
        assert!(matches!(redact(&once), Cow::Borrowed(_)));
    }

    #[test]
    fn multibyte_neighbours_never_panic() {
        let pieces = [
            "é",
            "日本",
            "🙂",
            "\u{301}",
            "ada@example.com",
            "4111111111111111",
            "@",
            "=",
            ":\"",
            "eyJ",
            "AKIA",
            "://",
            "Bearer ",
            "+1 ",
            "-",
            ".",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..5_000 {
            let mut s = String::new();
            for _ in 0..8 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push_str(pieces[usize::try_from(seed).unwrap_or(0) % pieces.len()]);
            }
            let _ = redact(&s);
            let _ = escape_console(&s);
        }
    }

    #[test]
    fn fields() {
        assert_eq!(redact_field("Set-Cookie", "a=b"), "[REDACTED]");
        assert_eq!(redact_field("note", "ssn 123-45-6789"), "ssn [SSN]");
        assert!(is_sensitive_name("proxy-authorization"));
        assert!(!is_sensitive_name("message"));
    }

    #[test]
    fn console_escapes() {
        assert_eq!(escape_console("a\r\nb\tc"), "a\\r\\nb\\tc");
        assert_eq!(
            escape_console("\u{7f}\u{85}\u{9b}"),
            "\\u{7f}\\u{85}\\u{9b}"
        );
        assert_eq!(escape_console("x\u{2028}y\u{2029}"), "x\\u{2028}y\\u{2029}");
        assert_eq!(escape_console("\u{202e}evil"), "\\u{202e}evil");
        assert_eq!(escape_console("\0"), "\\u{0}");
        assert!(matches!(escape_console("ünïcödé ok"), Cow::Borrowed(_)));
        assert!(!escape_console("a\nb\u{1b}[2J").contains(['\n', '\u{1b}']));
    }

    #[test]
    fn headers() {
        let mut headers = http::HeaderMap::new();
        headers.insert("cookie", http::HeaderValue::from_static("session=abc"));
        headers.insert("x-api-key", http::HeaderValue::from_static("k"));
        headers.append(
            "x-note",
            http::HeaderValue::from_static("mail ada@example.com"),
        );
        headers.append("x-note", http::HeaderValue::from_static("plain"));
        let mut secret = http::HeaderValue::from_static("opaque");
        secret.set_sensitive(true);
        headers.insert("x-custom", secret);
        headers.insert(
            "x-utf8",
            http::HeaderValue::from_bytes("café".as_bytes()).unwrap(),
        );
        let shown = sanitize_headers(&headers);
        let expect = [
            ("cookie", "[REDACTED]"),
            ("x-api-key", "[REDACTED]"),
            ("x-note", "mail [EMAIL]"),
            ("x-note", "plain"),
            ("x-custom", "[REDACTED]"),
            ("x-utf8", "café"),
        ];
        for (name, value) in expect {
            assert!(
                shown.iter().any(|(n, v)| n == name && v == value),
                "{name}: {value} in {shown:?}"
            );
        }
        assert_eq!(shown.len(), expect.len());
    }
}
