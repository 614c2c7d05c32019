//! The driver: a pre-scan picks the detectors that could match, they
//! report hits, and overlapping hits merge into one replacement.

use std::borrow::Cow;
use std::cmp::Reverse;

use super::email::emails;
use super::iban::ibans;
use super::keys::{self, api_keys, private_keys};
use super::numbers::numbers;
use super::pairs::key_values;
use super::tokens::{auth_schemes, authorization_headers, aws_keys, jwts};
use super::urls::url_credentials;
use super::{Hit, REDACTED, TOKEN, starts_with_ignore_case};

/// Fewer digits than this can't form a card, SSN or phone number.
const MIN_NUMBER_DIGITS: usize = 8;

/// Most passes of [`redact`] over its own output. After the numbers
/// detector learnt to see other matches, two passes settled 25 million
/// random inputs of the idempotence search; the third is margin.
const MAX_PASSES: usize = 3;

/// [`super::redact`]: passes over the text until one changes nothing.
///
/// The detectors judge a match by its neighbours (a number stands alone, an
/// e-mail's domain ends where letters end), and a replacement changes the
/// neighbours of what is left: in `ada@example.coméAKIA…` the domain's last
/// label runs into the key id, so it is no e-mail address until the key id
/// is `[AWS_KEY]`. The numbers detector sees the other matches (a number
/// next to one stands alone), which settles chains such as
/// `+12345678+12345678…` in one pass; running again on the output until it
/// is stable settles the rest, and can only hide more. Text with nothing
/// to replace still costs one pass and no allocation; text with something
/// costs one more pass over the (redacted) output.
pub(super) fn redact(text: &str) -> Cow<'_, str> {
    let Cow::Owned(mut out) = pass(text) else {
        return Cow::Borrowed(text);
    };
    for _ in 1..MAX_PASSES {
        match pass(&out) {
            Cow::Borrowed(_) => break,
            Cow::Owned(next) => out = next,
        }
    }
    Cow::Owned(out)
}

/// Whether the pre-scan finds anything a detector needs: `false` settles
/// that `text` is clean.
pub(super) fn may_hide_something(text: &[u8]) -> bool {
    triggers(text) != 0
}

/// One pass: runs the detectors the pre-scan picked, then merges their hits
/// into the output.
fn pass(text: &str) -> Cow<'_, str> {
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
    // `Authorization: …` needs a colon, `authorization=…` an equals sign.
    if found & (COLON | KEY_VALUE) != 0 {
        authorization_headers(b, &mut hits);
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
    if found & KEYS != 0 {
        api_keys(b, &mut hits);
        private_keys(b, &mut hits);
    }
    if found & IBAN_START != 0 {
        ibans(b, &mut hits);
    }
    // Last: a number next to another match stands alone once that match is
    // a placeholder.
    if found & NUMBER != 0 {
        numbers(b, &mut hits);
    }
    if hits.is_empty() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(replace(text, hits))
    }
}

// ---------------------------------------------------------------------------
// Pre-scan

const AT: u16 = 1;
const KEY_VALUE: u16 = 1 << 1;
const URL: u16 = 1 << 2;
const NUMBER: u16 = 1 << 3;
const JWT_START: u16 = 1 << 4;
const AWS: u16 = 1 << 5;
const AUTH_SCHEME: u16 = 1 << 6;
const KEYS: u16 = 1 << 7;
const IBAN_START: u16 = 1 << 8;
const COLON: u16 = 1 << 9;

/// The bytes the pre-scan looks at; it skips the others at once.
const MAY_START: [bool; 256] = {
    let mut table = [false; 256];
    let bytes = b"0123456789@=:eAbB_-.";
    let mut k = 0;
    while k < bytes.len() {
        #[allow(
            clippy::indexing_slicing,
            reason = "evaluated at compile time, where an index out of bounds fails the build"
        )]
        {
            table[bytes[k] as usize] = true;
        }
        k += 1;
    }
    table
};

/// The detectors that could match somewhere in `b`, from one pass.
fn triggers(b: &[u8]) -> u16 {
    let mut found = 0;
    let mut digits = 0usize;
    for (i, &c) in b.iter().enumerate() {
        if !MAY_START.get(usize::from(c)).copied().unwrap_or(false) {
            continue;
        }
        let rest = b.get(i + 1..).unwrap_or_default();
        match c {
            b'0'..=b'9' => {
                digits += 1;
                // Two capitals, then this digit: an IBAN's country code.
                if found & IBAN_START == 0
                    && i >= 2
                    && b.get(i - 2..i)
                        .is_some_and(|cc| cc.iter().all(u8::is_ascii_uppercase))
                {
                    found |= IBAN_START;
                }
            }
            b'@' => found |= AT,
            b'=' => found |= KEY_VALUE,
            b':' => found |= colon_triggers(b, i),
            b'e' if rest.starts_with(b"yJ") => found |= JWT_START,
            b'A' if rest.starts_with(b"KIA") || rest.starts_with(b"SIA") => {
                found |= AWS;
            }
            b'b' | b'B'
                if starts_with_ignore_case(rest, b"earer")
                    || starts_with_ignore_case(rest, b"asic") =>
            {
                found |= AUTH_SCHEME;
            }
            b'-' if rest.starts_with(b"-") => {
                // `--token x`, and maybe a PEM header.
                found |= KEY_VALUE;
                if keys::may_start(b, i) {
                    found |= KEYS;
                }
            }
            b'A' | b'_' | b'-' | b'.' if keys::may_start(b, i) => found |= KEYS,
            _ => {}
        }
    }
    if digits >= MIN_NUMBER_DIGITS {
        found |= NUMBER;
    }
    found
}

/// `://` starts URL credentials; any other colon may end a member's key
/// (`"key":`, `key: value`) or an `Authorization` header's name.
fn colon_triggers(b: &[u8], i: usize) -> u16 {
    let rest = b.get(i + 1..).unwrap_or_default();
    if rest.starts_with(b"//") {
        URL
    } else {
        KEY_VALUE | COLON
    }
}

// ---------------------------------------------------------------------------
// Replacement

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
                    out.push_str(text.get(copied..p.start).unwrap_or_default());
                    out.push_str(p.with);
                    copied = p.end;
                }
            }
        }
    }
    if let Some(p) = pending {
        out.push_str(text.get(copied..p.start).unwrap_or_default());
        out.push_str(p.with);
        copied = p.end;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}
