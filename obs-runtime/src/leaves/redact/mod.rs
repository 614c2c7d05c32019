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
//! and reading `-` as `_`, or one of the short words of
//! [`crate::schema::SENSITIVE_NAME_WORDS`] (`pass`, `pwd`, `otp`, `totp`,
//! `hotp`) as a whole word, the words of a name being split at
//! punctuation, at case changes (`dbPass`, `XPass`) and between letters and
//! digits ([`is_sensitive_name`]). So `user_password`, `X-Api-Key`,
//! `Set-Cookie`, `Proxy-Authorization`, `refresh_token`, `X-Pass`, `x-otp`,
//! `X-CSRF-Token`, `x-xsrf-token` and `PHPSESSID` are sensitive, and so are
//! names that merely contain a listed substring (`author` contains `auth`,
//! `tokens_used` contains `token`): a false alarm costs a hidden value, a
//! miss leaks a secret. The words keep ordinary names out: `bypass`,
//! `compass`, `passenger`, `passed` and `footprint` are not sensitive, and
//! neither is any of 83 standard HTTP header names that carry no credential
//! (`content-type`, `x-forwarded-for`, `traceparent`, …; the unit tests
//! list them), but `pass_count` is, and so is `PWD`, the working directory.
//! The value of a sensitive name is replaced whole by `[REDACTED]`. The
//! lists live in the schema only.
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
//! | vendor API key | a documented prefix and shape, as a word: GitHub `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and 36 letters or digits, `github_pat_` and 22 or more; Slack `xoxa-`, `xoxb-`, `xoxp-`, `xoxr-`, `xoxs-`; Stripe `sk_live_`, `sk_test_`, `rk_live_`, `rk_test_`; Google `AIza` and 35; OpenAI and Anthropic `sk-` (`sk-proj-`, `sk-ant-`) and 20 or more with a digit; GitLab `glpat-` and 20 or more; npm `npm_` and 36; SendGrid `SG.` id `.` secret | `[API_KEY]` |
//! | PEM private key | `-----BEGIN … PRIVATE KEY-----` to the end of the next `-----END …-----` line, or to the end of the text if it was cut | `[PRIVATE_KEY]` |
//! | URL credentials | the user info of `scheme://user:password@host` (the authority ends at `/`, `?`, `#`, whitespace or a quote) | `scheme://[CREDENTIALS]@host` |
//! | `Authorization` schemes | `Authorization:` or `Proxy-Authorization:` (any case), then `Token`, `Digest`, `Negotiate`, `NTLM`, `ApiKey`, `SSWS`, `HOBA`, `Mutual` or `AWS4-HMAC-SHA256`, then the credentials whole: a token68 (`Token 9944b0…`) or a list of auth-params (`Digest username="ada", realm="x", nonce="…", response="…"`) | `Authorization: Digest [TOKEN]` |
//! | IBAN | a country code of the IBAN registry, two check digits (02 to 98), the BBAN (digits only where the country's are), the country's length in all, upper case, either one run or groups of 4 split by single spaces, as a whole word, valid by the ISO 13616 mod-97 check | `[IBAN]` |
//! | sensitive parameters | `name=value` where `name` is sensitive: query parameters (`?access_token=…&page=2`), logfmt pairs, cookies, `.env` lines (`PASSWORD=x`) and `--password=x`; the value ends at whitespace, `&`, `#`, `;`, a quote, `<` or `>` (a quoted value at its closing quote). With blanks around the `=` (`password = x`, INI and TOML) only at the start of a line, after a compound name (`client_secret = …`) or before a quoted value | `name=[REDACTED]` |
//! | sensitive members | `"name": value` (JSON, with or without blanks around the colon), `'name': 'value'` (Python), `name: "value"`, `name: 'value'`, `name: Some("value")` (Rust `Debug`, YAML), where `name` is sensitive; an unquoted `name: value` when `name` starts a line (after indentation or a YAML `- `) and the value is the line's only word (a ` # comment` may follow), or anywhere when `name` is compound (holds `-`, `_`, `.` or a capital after a lower-case letter: `X-Api-Key: …`, `db_password: …`), or anywhere before a value that looks random (8 bytes or more with a digit, a symbol or mixed case). So `auth: failed for 3 users` and `token: expired` stay; JSON, YAML and Python constants (`true`, `null`, `~`, `None`, …) are no secrets; a value of pairs (`Cookie: a=b; c=d`) is left to the pairs' rule, the scheme after `…Authorization:` to the credentials' rules, and `…-Authenticate:` challenges alone | `"name": "[REDACTED]"` |
//! | command-line options | `--name value` or `--name "value"` where `name` is sensitive, does not start `no-`, and its last word is `password`, `passwd`, `pass`, `pwd`, `passphrase`, `secret`, `token`, `key`, `apikey`, `otp` or `cookie` (`--client-secret x`, `--token x`, `--api-key x`; not `--token-ttl 60`, `--password-stdin`); a value starting with `-` is the next option | `--name [REDACTED]` |
//!
//! Numbers (cards, SSNs, phones) must stand alone: the character before a
//! match is not a letter, digit or `_`, nor `.`, `-` or `:` right after a
//! digit, and the character after it is not a letter, digit or `_`, nor
//! `.` or `:` before a digit, nor `-` before a letter or digit. So
//! digit runs longer than a card, decimals, version strings (`1.2.3`), IPv4
//! addresses, dates (`2026-11-23`), times, UUIDs and dashed ids do not match,
//! and a bare run of digits is never a phone number (an order id
//! `4155552671` is not one). Leading `0` or `1` is no card, which keeps
//! epoch-millisecond and nanosecond timestamps out. A number right next to
//! another match stands alone, as it will once that match is a placeholder.
//!
//! Overlapping matches are merged into one replaced range named after the
//! earliest, longest match (`Bearer eyJ…` gives `Bearer [TOKEN]`). A
//! placeholder is not matched again (`token=[REDACTED]` stays as it is).
//! A replacement can change how a detector reads its neighbours (an e-mail
//! domain that ran into a key id ends at `[AWS_KEY]`), so `redact` passes
//! over its own output until nothing changes (at most three passes; two
//! settled every input a search of millions found): redacting redacted
//! text changes nothing more.
//!
//! # Speed
//!
//! One pass over the bytes first looks for what any detector needs: `@`,
//! `=`, `:`, `--`, `://`, `eyJ`, `AKIA`/`ASIA`, `bearer`/`basic`, a vendor
//! key prefix, `-----BEGIN `, a digit after two capitals, and at least 8
//! digits in all. Text
//! without any of them is returned borrowed at once; text where no detector
//! matches is returned borrowed too. Nothing is allocated unless something
//! is replaced.
//!
//! Time is linear in the length of the text, whatever the text: every
//! detector tests its cheap preconditions (the space after `bearer`, the
//! prefix of a key) before reading further, and after a miss resumes past
//! what it read, so no byte is read more than a fixed number of times: a
//! key is read back at most 64 bytes from its `=` or `:`, an IBAN forward
//! at most 34 characters and their spaces before the scan skips the word it
//! started, and a value, once read, is not read again.
//! `tests/redaction_dos.rs` holds a megabyte of near-misses per detector to
//! milliseconds.
//!
//! # Limits
//!
//! A secret with no telling shape or name (a bare password in prose, an
//! API key without a vendor prefix) can't be told from other words: record it in a field
//! whose name is sensitive. SSNs without dashes, phone numbers outside North
//! America written without `+`, space-separated national numbers
//! (`415 555 2671`), lower-case IBANs and IBANs split other than by fours
//! are not detected. A random id of exactly an IBAN's shape passes mod-97
//! one time in 97 and is then hidden. A plain word before a colon in the
//! middle of a sentence is a key only when the value looks random, so
//! `password: hunter` (letters only) in prose is kept.

// The detector docs name vendors (OpenAI, SendGrid, GitLab): words, not code.
#![allow(clippy::doc_markdown)]
// `redact` runs on untrusted text inside the host's logging: it must not
// panic, whatever the text (DESIGN decision 4).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod email;
mod iban;
mod keys;
pub(crate) mod memo;
mod names;
mod numbers;
mod pairs;
mod scanner;
mod tokens;
mod urls;

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests index their own tables and fail by panicking"
)]
mod tests;

use std::borrow::Cow;
use std::fmt::Write as _;

pub use names::is_sensitive_name;

const REDACTED: &str = "[REDACTED]";
const EMAIL: &str = "[EMAIL]";
const CARD: &str = "[CARD]";
const SSN: &str = "[SSN]";
const PHONE: &str = "[PHONE]";
const JWT: &str = "[JWT]";
const TOKEN: &str = "[TOKEN]";
const AWS_KEY: &str = "[AWS_KEY]";
const CREDENTIALS: &str = "[CREDENTIALS]";
const API_KEY: &str = "[API_KEY]";
const PRIVATE_KEY: &str = "[PRIVATE_KEY]";
const IBAN: &str = "[IBAN]";
const BINARY: &str = "[BINARY]";

/// What `redact` writes; a value that already is one is left alone.
const PLACEHOLDERS: [&str; 12] = [
    REDACTED,
    EMAIL,
    CARD,
    SSN,
    PHONE,
    JWT,
    TOKEN,
    AWS_KEY,
    CREDENTIALS,
    API_KEY,
    PRIVATE_KEY,
    IBAN,
];

/// Replaces e-mail addresses, card numbers, SSNs, phone numbers, IBANs,
/// JWTs, `Authorization` credentials, AWS and vendor API keys, PEM private
/// keys, URL credentials and the values of sensitive parameters, members
/// and command-line options in `text` by placeholders (see the
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
/// assert_eq!(redact("db:\n  password: hunter2"), "db:\n  password: [REDACTED]");
/// assert_eq!(redact("deploy --client-secret s3cr3t"), "deploy --client-secret [REDACTED]");
/// assert_eq!(redact("Authorization: Token 9944b09199c6"), "Authorization: Token [TOKEN]");
/// assert_eq!(redact("pay DE89 3704 0044 0532 0130 00"), "pay [IBAN]");
/// assert!(matches!(redact("v1.2.3 took 15ms"), Cow::Borrowed(_)));
/// assert!(matches!(redact("auth: failed for 3 users"), Cow::Borrowed(_)));
/// ```
#[must_use]
pub fn redact(text: &str) -> Cow<'_, str> {
    scanner::redact(text)
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
    // Field names repeat line after line, and many values too (a route, a
    // header line, a message): their verdicts are remembered.
    if memo::is_sensitive_name(name) {
        Cow::Borrowed(REDACTED)
    } else {
        memo::redact(value)
    }
}

/// [`redact_field`] for a field name that lives for the whole program (a
/// `tracing` callsite's), whose verdict is remembered by its address.
pub(crate) fn redact_static_field<'a>(name: &'static str, value: &'a str) -> Cow<'a, str> {
    if memo::is_sensitive_static_name(name) {
        Cow::Borrowed(REDACTED)
    } else {
        memo::redact(value)
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
    let (clean, rest) = text.split_at_checked(first).unwrap_or((text, ""));
    out.push_str(clean);
    for c in rest.chars() {
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
            (
                name.to_owned(),
                header_value_shown(name, value).into_owned(),
            )
        })
        .collect()
}

/// What [`sanitize_headers`] shows of one header's value, borrowed when
/// the value is clean: `[REDACTED]` for a sensitive header, `[BINARY]` for
/// bytes that are not UTF-8, else the value through [`redact`].
pub(crate) fn header_value_shown<'a>(name: &str, value: &'a http::HeaderValue) -> Cow<'a, str> {
    // Names and values repeat from request to request: remembered.
    if value.is_sensitive() || memo::is_sensitive_name(name) {
        Cow::Borrowed(REDACTED)
    } else {
        // Header values may carry UTF-8 (obs-text) that `to_str` rejects.
        match std::str::from_utf8(value.as_bytes()) {
            Ok(text) => memo::redact(text),
            Err(_) => Cow::Borrowed(BINARY),
        }
    }
}

// ---------------------------------------------------------------------------
// What the detectors share

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

fn is_placeholder(value: &[u8]) -> bool {
    PLACEHOLDERS.iter().any(|p| p.as_bytes() == value)
}

/// Whether a token is one, rather than an English word: 8 bytes or more,
/// holding a byte that is not a letter, or mixed case past the first.
fn looks_random(token: &[u8]) -> bool {
    token.len() >= 8
        && (token.iter().any(|c| !c.is_ascii_alphabetic())
            || (token.iter().skip(1).any(u8::is_ascii_uppercase)
                && token.iter().any(u8::is_ascii_lowercase)))
}

fn starts_with_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.get(..needle.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(needle))
}

/// The position of the `quote` that closes a quoted value starting at
/// `from`, or the end of `b` when none does.
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

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}
