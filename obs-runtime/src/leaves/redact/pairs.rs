//! Sensitive parameters (`name=value`) and members (JSON, `Debug`).

use super::{Hit, PLACEHOLDERS, REDACTED, is_placeholder, is_sensitive_name};

/// Longer "names" before `=` are data (base64 padding), not keys; the cap
/// also bounds the work per `=`.
const MAX_KEY_LEN: usize = 64;

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

pub(super) fn key_values(text: &str, hits: &mut Vec<Hit>) {
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
    // A value that starts with a placeholder was redacted before. Tested
    // before reading the value: `token=[REDACTED],token=[REDACTED],…` has
    // no stop byte, and reading to it from each `=` was quadratic.
    if let Some(p) = PLACEHOLDERS
        .iter()
        .find(|p| b[from..].starts_with(p.as_bytes()))
    {
        return from + p.len();
    }
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
    // Sentence punctuation after the value is not part of it.
    while end > from && matches!(b[end - 1], b'.' | b',' | b')' | b']' | b'}') {
        end -= 1;
    }
    end
}
