//! E-mail addresses.

use super::{EMAIL, Hit, starts_with_placeholder};

/// `credentials`: how many of the first `hits` are URL credentials, in
/// order; the `@` that ends one is no address.
pub(super) fn emails(text: &str, hits: &mut Vec<Hit>, credentials: usize) {
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
        // A label that runs into a placeholder was longer before it was
        // redacted (`example.com-----BEGIN …` is no address).
        if labels >= 2
            && is_top_level(&text[pos..end])
            && !starts_with_placeholder(&text.as_bytes()[end..])
        {
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
