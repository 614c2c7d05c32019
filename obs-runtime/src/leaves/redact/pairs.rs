//! Sensitive parameters (`name=value`), members (JSON, Python, `Debug`,
//! YAML, header lines) and command-line options (`--token x`).

use super::{
    Hit, PLACEHOLDERS, REDACTED, closing_quote, is_placeholder, is_sensitive_name, looks_random,
};

/// Longer "names" before `=` are data (base64 padding), not keys; the cap
/// also bounds the work per `=`.
const MAX_KEY_LEN: usize = 64;

/// At most this many spaces between a key and its `=` or `:`, or before a
/// key at the start of a line (its indentation).
const MAX_PADDING: usize = 64;

fn is_key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'[' | b']')
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn byte(b: &[u8], i: usize) -> Option<u8> {
    b.get(i).copied()
}

/// The bytes of `b` in `from..to`, or none if out of range.
fn span(b: &[u8], from: usize, to: usize) -> &[u8] {
    b.get(from..to).unwrap_or_default()
}

/// The start of the blanks that end at `end` (at most [`MAX_PADDING`]).
fn blanks_before(b: &[u8], end: usize) -> usize {
    let mut start = end;
    while start > 0 && end - start < MAX_PADDING && byte(b, start - 1).is_some_and(is_blank) {
        start -= 1;
    }
    start
}

/// The end of the blanks that start at `from`.
fn blanks_after(b: &[u8], from: usize) -> usize {
    let mut end = from;
    while byte(b, end).is_some_and(is_blank) {
        end += 1;
    }
    end
}

/// The start of the key that ends at `end`, if there is one.
fn key_start(b: &[u8], end: usize) -> Option<usize> {
    let mut start = end;
    while start > 0 && byte(b, start - 1).is_some_and(is_key_char) {
        start -= 1;
        if end - start > MAX_KEY_LEN {
            return None;
        }
    }
    // A placeholder is not a key: `Bearer [TOKEN][x=1` stays as it is.
    let key = span(b, start, end);
    let placeholder = key.contains(&b'[')
        && PLACEHOLDERS
            .iter()
            .any(|p| key.windows(p.len()).any(|w| w == p.as_bytes()));
    (start < end && !placeholder).then_some(start)
}

/// Whether the key starting at `start` starts a line: only indentation,
/// and a YAML list's `- `, stand between it and the line's start.
fn starts_line(b: &[u8], start: usize) -> bool {
    let mut i = blanks_before(b, start);
    if i < start && i >= 1 && byte(b, i - 1) == Some(b'-') {
        i = blanks_before(b, i - 1);
    }
    i == 0 || matches!(byte(b, i - 1), Some(b'\n' | b'\r'))
}

/// Whether a key is an identifier rather than an English word: it holds
/// `-`, `_` or `.`, or a capital after a lower-case letter (`clientSecret`).
fn is_compound(key: &[u8]) -> bool {
    key.iter().any(|c| matches!(c, b'-' | b'_' | b'.'))
        || key
            .windows(2)
            .any(|w| matches!(w, [l, u] if l.is_ascii_lowercase() && u.is_ascii_uppercase()))
}

/// JSON, YAML and Python constants: a flag or an absent value is no
/// secret (`auth_enabled: true`, `"token": null`, `'api_key': None`).
fn is_literal(value: &[u8]) -> bool {
    const LITERALS: &[&[u8]] = &[
        b"null", b"~", b"true", b"false", b"yes", b"no", b"on", b"off", b"none",
    ];
    LITERALS.iter().any(|l| value.eq_ignore_ascii_case(l))
}

fn ends_with_ignore_case(key: &[u8], suffix: &[u8]) -> bool {
    key.len() >= suffix.len()
        && key
            .get(key.len() - suffix.len()..)
            .is_some_and(|k| k.eq_ignore_ascii_case(suffix))
}

fn text_of(text: &str, from: usize, to: usize) -> &str {
    text.get(from..to).unwrap_or_default()
}

pub(super) fn key_values(text: &str, hits: &mut Vec<Hit>) {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(c) = byte(b, i) {
        let value = match c {
            b'=' => assignment(text, i),
            b':' => member(text, i),
            b'-' if byte(b, i + 1) == Some(b'-') => match option(text, i) {
                Ok(value) => Some(value),
                Err(skip) => {
                    // The option's name was read: not again.
                    i = skip.max(i + 1);
                    continue;
                }
            },
            _ => None,
        };
        let Some((start, end)) = value else {
            i += 1;
            continue;
        };
        if start < end && !is_placeholder(span(b, start, end)) {
            hits.push(Hit::new(start, end, REDACTED));
        }
        // What a value holds is hidden with it; not rescanning it also keeps
        // `token=token=token=…` linear.
        i = end.max(i + 1);
    }
}

/// `key=value` with a sensitive key: the value's range. Blanks may stand
/// around the `=` at the start of a line (INI, TOML), after a compound key
/// or before a quoted value.
fn assignment(text: &str, eq: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let after = byte(b, eq + 1);
    let key_end = blanks_before(b, eq);
    let spaced = key_end < eq || after.is_some_and(is_blank);
    if spaced && matches!(after, Some(b'=')) {
        return None;
    }
    let start = key_start(b, key_end)?;
    let v = if spaced {
        blanks_after(b, eq + 1)
    } else {
        eq + 1
    };
    // `key = value` is an assignment at the start of a line, after an
    // identifier (`client_secret = …`) or before a quoted value; elsewhere
    // it is prose or code (`total = a + b`).
    let key = span(b, start, key_end);
    if spaced
        && !((starts_line(b, start) && v > eq + 1)
            || is_compound(key)
            || matches!(byte(b, v), Some(b'"' | b'\'')))
    {
        return None;
    }
    if !is_sensitive_name(text_of(text, start, key_end)) {
        return None;
    }
    match byte(b, v) {
        Some(q @ (b'"' | b'\'')) => Some((v + 1, closing_quote(b, v + 1, q))),
        Some(b'\n' | b'\r') | None => None,
        Some(_) => {
            let end = if spaced {
                word_end(b, v)
            } else {
                bare_value_end(b, v, false)
            };
            (!is_literal(span(b, v, end))).then_some((v, end))
        }
    }
}

/// `"key": value` (JSON), `'key': value` (Python), `key: "value"`
/// (`Debug`, YAML), `key: value` at the start of a line (YAML, header
/// lines) or with a compound key (`X-Api-Key: …`, `db_password: …`), where
/// the key is sensitive.
fn member(text: &str, colon: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let before = blanks_before(b, colon);
    let quote = before
        .checked_sub(1)
        .and_then(|q| byte(b, q))
        .filter(|q| matches!(q, b'"' | b'\''));
    let key_end = match quote {
        Some(_) => before - 1,
        // Only a quoted key may stand apart from its colon.
        None if before < colon => return None,
        None => colon,
    };
    let start = key_start(b, key_end)?;
    if let Some(q) = quote
        && start.checked_sub(1).and_then(|s| byte(b, s)) != Some(q)
    {
        return None;
    }
    let key = span(b, start, key_end);
    if !is_sensitive_name(text_of(text, start, key_end)) {
        return None;
    }
    let mut v = blanks_after(b, colon + 1);
    if span(b, v, b.len()).starts_with(b"Some(\"") {
        v += "Some(".len();
    }
    match byte(b, v) {
        Some(q @ (b'"' | b'\'')) => Some((v + 1, closing_quote(b, v + 1, q))),
        Some(b'{' | b'[' | b'\n' | b'\r') | None => None,
        Some(_) if quote.is_some() => {
            let end = bare_value_end(b, v, true);
            (!is_literal(span(b, v, end))).then_some((v, end))
        }
        Some(_) => {
            // `key: value` at the start of a line is YAML or a header when
            // the value is the line's only word.
            if v > colon + 1 && starts_line(b, start) {
                let end = word_end(b, v);
                let rest = blanks_after(b, end);
                let alone = matches!(byte(b, rest), None | Some(b'\n' | b'\r'))
                    || (rest > end && byte(b, rest) == Some(b'#'));
                if alone {
                    // A full stop or comma after the value ends a sentence.
                    let mut value_end = end;
                    while value_end > v + 1 && matches!(byte(b, value_end - 1), Some(b'.' | b',')) {
                        value_end -= 1;
                    }
                    return (!is_literal(span(b, v, value_end))).then_some((v, value_end));
                }
            }
            // Elsewhere an identifier is a key (`X-Api-Key: abc123`), and a
            // word is one before a value that looks like a secret: "auth:
            // failed" and "token: expired" in a sentence are prose. A value
            // of pairs (`Cookie: session=…; theme=dark`) is left to the
            // pairs' own rule, a scheme (`Proxy-Authorization: NTLM …`) to
            // the credentials' rules; a challenge (`WWW-Authenticate:
            // Negotiate`) holds no secret.
            // The value is judged by its part up to the next colon, so each
            // colon reads only to the next one (`password:password:…` stays
            // linear); a value judged a secret is then read whole
            // (`abc:def`, `user:pass`) and not read again.
            let part_end = value_end(b, v, false, true);
            let value = span(b, v, part_end);
            // A value holding a placeholder was judged by an earlier pass,
            // whose other rules redacted part of it (`auth://user:pw@host`
            // became `auth://[CREDENTIALS]@host`): judging the rest again
            // would change redacted text.
            if placeholder_in(value).is_some() {
                return None;
            }
            let colon_next = byte(b, part_end) == Some(b':');
            // `token: secret: x`: the value is the next key.
            let next_key =
                colon_next && byte(b, part_end + 1).is_none_or(|c| c.is_ascii_whitespace());
            let pairs = value
                .iter()
                .zip(value.iter().skip(1))
                .any(|(&c, &next)| c == b'=' && next != b'=');
            let scheme = ends_with_ignore_case(key, b"authenticate")
                || (ends_with_ignore_case(key, b"authorization")
                    && byte(b, part_end).is_some_and(|c| is_blank(c) || c == b',')
                    && byte(b, blanks_after(b, part_end))
                        .is_some_and(|c| !c.is_ascii_whitespace()));
            let secret = (is_compound(key) || looks_random(value))
                && !next_key
                && !pairs
                && !scheme
                && !is_literal(value);
            if !secret {
                return None;
            }
            let end = if colon_next {
                bare_value_end(b, v, false)
            } else {
                part_end
            };
            Some((v, end))
        }
    }
}

/// Where the first placeholder in `value` starts.
fn placeholder_in(value: &[u8]) -> Option<usize> {
    value.iter().enumerate().find_map(|(i, &c)| {
        (c == b'['
            && PLACEHOLDERS
                .iter()
                .any(|p| span(value, i, value.len()).starts_with(p.as_bytes())))
        .then_some(i)
    })
}

/// The words that end the name of an option carrying a secret.
const SECRET_OPTION_WORDS: &[&[u8]] = &[
    b"password",
    b"passwd",
    b"pass",
    b"pwd",
    b"passphrase",
    b"secret",
    b"token",
    b"key",
    b"apikey",
    b"otp",
    b"cookie",
];

/// `--name value` or `--name "value"` on a command line, where the name is
/// sensitive and its last word is one of [`SECRET_OPTION_WORDS`]
/// (`--client-secret`, `--token`, `--api-key`, but not `--token-ttl`,
/// `--password-stdin` nor `--no-password`); `--name=value` is an
/// [`assignment`]. `Err` carries where the option's name ends.
fn option(text: &str, dashes: usize) -> Result<(usize, usize), usize> {
    let b = text.as_bytes();
    let name = dashes + 2;
    let starts_word = dashes == 0
        || byte(b, dashes - 1)
            .is_some_and(|c| c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'('));
    let mut end = name;
    while byte(b, end).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_')) {
        end += 1;
        if end - name > MAX_KEY_LEN {
            return Err(end);
        }
    }
    let flag = span(b, name, end);
    let last_word = flag
        .rsplit(|&c| c == b'-' || c == b'_')
        .next()
        .unwrap_or_default();
    let secret = starts_word
        && !flag.starts_with(b"no-")
        && SECRET_OPTION_WORDS
            .iter()
            .any(|w| last_word.eq_ignore_ascii_case(w))
        && is_sensitive_name(text_of(text, name, end));
    let v = blanks_after(b, end);
    if !secret || v == end {
        return Err(end);
    }
    match byte(b, v) {
        Some(q @ (b'"' | b'\'')) => Ok((v + 1, closing_quote(b, v + 1, q))),
        Some(b'-' | b'\n' | b'\r' | b'<' | b'>' | b'|') | None => Err(end),
        Some(_) => Ok((v, word_end(b, v))),
    }
}

/// The end of the word at `from`: the next whitespace or quote.
fn word_end(b: &[u8], from: usize) -> usize {
    let mut end = from;
    while byte(b, end)
        .is_some_and(|c| !c.is_ascii_whitespace() && !matches!(c, b'"' | b'\'' | b'`'))
    {
        end += 1;
    }
    end
}

fn bare_value_end(b: &[u8], from: usize, json: bool) -> usize {
    value_end(b, from, json, false)
}

/// The end of an unquoted value at `from`; with `colon`, a `:` ends it too
/// (untrimmed then, so that the caller sees the colon).
fn value_end(b: &[u8], from: usize, json: bool, colon: bool) -> usize {
    // A value that starts with a placeholder was redacted before. Tested
    // before reading the value: `token=[REDACTED],token=[REDACTED],…` has
    // no stop byte, and reading to it from each `=` was quadratic.
    let rest = span(b, from, b.len());
    if let Some(p) = PLACEHOLDERS.iter().find(|p| rest.starts_with(p.as_bytes())) {
        return from + p.len();
    }
    let mut end = from;
    while let Some(c) = byte(b, end) {
        let stop = c.is_ascii_whitespace()
            || matches!(c, b'&' | b'#' | b';' | b'"' | b'\'' | b'<' | b'>' | b'`')
            || (json && matches!(c, b',' | b'}' | b']'));
        if stop {
            break;
        }
        if colon && c == b':' {
            return end;
        }
        end += 1;
    }
    // Sentence punctuation after the value is not part of it.
    while end > from
        && byte(b, end - 1).is_some_and(|c| matches!(c, b'.' | b',' | b')' | b']' | b'}'))
    {
        end -= 1;
    }
    end
}
