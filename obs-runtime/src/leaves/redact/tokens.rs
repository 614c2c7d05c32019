//! Tokens and keys: JWTs, AWS access key ids, `Bearer` and `Basic`
//! credentials, and the credentials of other `Authorization` schemes.

use super::{AWS_KEY, Hit, JWT, TOKEN, closing_quote, find, looks_random, starts_with_ignore_case};

/// Basic credentials longer than this are checked on their first bytes.
const MAX_BASIC_DECODED: usize = 192;

fn is_base64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// The byte before `i`, if any.
fn before(b: &[u8], i: usize) -> Option<u8> {
    i.checked_sub(1).and_then(|p| b.get(p)).copied()
}

fn skip_base64url(b: &[u8], mut i: usize) -> usize {
    while b.get(i).copied().is_some_and(is_base64url) {
        i += 1;
    }
    i
}

pub(super) fn jwts(b: &[u8], hits: &mut Vec<Hit>) {
    let mut from = 0;
    while let Some(start) = find(b, from, b"eyJ") {
        let header_end = skip_base64url(b, start);
        from = header_end;
        // Only the start of a base64url run can start a token; this also
        // keeps the scan linear.
        if before(b, start).is_some_and(is_base64url) {
            continue;
        }
        if header_end - start < 10 || b.get(header_end) != Some(&b'.') {
            continue;
        }
        let payload_end = skip_base64url(b, header_end + 1);
        if payload_end - header_end < 3 || b.get(payload_end) != Some(&b'.') {
            // A token starting inside the payload would need the same dot
            // after it: none can, so the payload is not read again.
            from = payload_end;
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

pub(super) fn aws_keys(b: &[u8], hits: &mut Vec<Hit>) {
    let mut from = 0;
    while let Some(start) = find(b, from, b"A") {
        from = start + 1;
        // The prefix first: most `A`s start no key, and testing all 20
        // bytes at each of them costs 20 reads a byte on `AAAA…`.
        let rest = b.get(start..).unwrap_or_default();
        if !(rest.starts_with(b"AKIA") || rest.starts_with(b"ASIA")) {
            continue;
        }
        let Some(key) = b.get(start..start + 20) else {
            return;
        };
        let whole_word = !before(b, start).is_some_and(|c| c.is_ascii_alphanumeric())
            && !b.get(start + 20).is_some_and(u8::is_ascii_alphanumeric);
        if whole_word
            && key
                .iter()
                .skip(4)
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
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

/// `bearer` is the longer of the two scheme keywords.
const LONGEST_KEYWORD: usize = "bearer".len();

pub(super) fn auth_schemes(b: &[u8], hits: &mut Vec<Hit>) {
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if !matches!(c, b'b' | b'B') || before(b, i).is_some_and(|p| p.is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let rest = b.get(i..).unwrap_or_default();
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
        // The cheap test first: without a space after the keyword there is
        // no credential, whatever follows. Reading the token before this
        // test made `bearer-bearer-…` quadratic: each keyword read the
        // whole run to the end of the text.
        if start == i + keyword {
            i = start;
            continue;
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
        let token = b.get(start..end).unwrap_or_default();
        let credentials = if basic {
            is_basic_credentials(token)
        } else {
            looks_random(token)
        };
        if credentials {
            hits.push(Hit::new(start, end, TOKEN));
            i = end;
        } else {
            // Inside the token a keyword is followed by a token character,
            // not a space, so it can't start credentials; only one that ends
            // the token can (`basic x/Bearer 9f8e…`). Resuming there, not
            // after the keyword, reads each token once.
            i = end.saturating_sub(LONGEST_KEYWORD).max(start);
        }
    }
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
            let [low, ..] = (acc >> bits).to_le_bytes();
            if let Some(slot) = decoded.get_mut(len) {
                *slot = low;
            }
            len += 1;
        }
    }
    let decoded = decoded.get(..len).unwrap_or_default();
    let text = match std::str::from_utf8(decoded) {
        Ok(text) => text,
        // Cut at the buffer's end, inside a character: judge what came before.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(decoded.get(..e.valid_up_to()).unwrap_or_default())
                .unwrap_or_default()
        }
        Err(_) => return false,
    };
    text.contains(':') && !text.chars().any(char::is_control)
}

/// The schemes whose credentials follow `Authorization:` and are hidden
/// whole; `Bearer` and `Basic` have their own rules, which also hold
/// outside a header.
const SCHEMES: &[&[u8]] = &[
    b"token",
    b"digest",
    b"negotiate",
    b"ntlm",
    b"apikey",
    b"ssws",
    b"hoba",
    b"mutual",
    b"aws4-hmac-sha256",
];

const AUTHORIZATION: &[u8] = b"authorization";

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while b.get(i).copied().is_some_and(is_blank) {
        i += 1;
    }
    i
}

/// `Authorization:` or `authorization=` (also `Proxy-…`) and a scheme of
/// [`SCHEMES`]: the credentials after the scheme, a token68
/// (`Token 9944b0…`) or a list of auth-params (`Digest username="ada",
/// realm="x", response="6629fa…"`), whole.
pub(super) fn authorization_headers(b: &[u8], hits: &mut Vec<Hit>) {
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let word_start = !before(b, i).is_some_and(|p| p.is_ascii_alphanumeric());
        let keyword = matches!(c, b'a' | b'A')
            && word_start
            && starts_with_ignore_case(b.get(i..).unwrap_or_default(), AUTHORIZATION);
        if !keyword {
            i += 1;
            continue;
        }
        i += AUTHORIZATION.len();
        // `Authorization: Token …` as a header, `authorization=Token …`
        // as a logfmt or query field.
        let colon = skip_blanks(b, i);
        if !matches!(b.get(colon), Some(b':' | b'=')) {
            continue;
        }
        let scheme = skip_blanks(b, colon + 1);
        let mut scheme_end = scheme;
        while b
            .get(scheme_end)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-')
        {
            scheme_end += 1;
        }
        let name = b.get(scheme..scheme_end).unwrap_or_default();
        if !SCHEMES.iter().any(|s| name.eq_ignore_ascii_case(s)) {
            // The word read may itself start a header (`authorization:
            // authorization: Token …`): read it again, once.
            i = scheme.max(i);
            continue;
        }
        i = scheme_end;
        let start = skip_blanks(b, scheme_end);
        if start == scheme_end {
            continue;
        }
        let end = credentials_end(b, start);
        if end > start {
            hits.push(Hit::new(start, end, TOKEN));
            i = end;
        }
    }
}

/// The end of a token68 or of a list of auth-params starting at `start`.
fn credentials_end(b: &[u8], start: usize) -> usize {
    let mut end = start;
    let mut p = start;
    loop {
        let mut name_end = p;
        while b.get(name_end).copied().is_some_and(is_token68) {
            name_end += 1;
        }
        if name_end == p {
            return end;
        }
        let mut q = name_end;
        while b.get(q) == Some(&b'=') {
            q += 1;
        }
        let param = q == name_end + 1;
        match b.get(q) {
            Some(b'"') if param => q = (closing_quote(b, q + 1, b'"') + 1).min(b.len()),
            Some(&c) if param && !c.is_ascii_whitespace() && c != b',' => {
                while b
                    .get(q)
                    .is_some_and(|c| !c.is_ascii_whitespace() && !matches!(c, b',' | b'"' | b'\''))
                {
                    q += 1;
                }
            }
            // A token68, maybe with its padding: the credentials end here.
            _ => return q,
        }
        end = q;
        let separator = skip_blanks(b, q);
        if b.get(separator) != Some(&b',') {
            return end;
        }
        p = skip_blanks(b, separator + 1);
    }
}
