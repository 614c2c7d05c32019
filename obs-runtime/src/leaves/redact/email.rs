//! E-mail addresses.

use super::{EMAIL, Hit};

/// `credentials`: how many of the first `hits` are URL credentials, in
/// order; the `@` that ends one is no address.
pub(super) fn emails(text: &str, hits: &mut Vec<Hit>, credentials: usize) {
    let ends: Vec<usize> = hits.iter().take(credentials).map(|h| h.end).collect();
    let mut k = 0;
    for (at, _) in text.match_indices('@') {
        while ends.get(k).is_some_and(|&end| end < at) {
            k += 1;
        }
        if ends.get(k) == Some(&at) {
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
    for (i, c) in text.get(..at).unwrap_or_default().char_indices().rev() {
        if !is_local_char(c) {
            break;
        }
        start = i;
    }
    // An ellipsis or an opening quote before the address is not part of it.
    let b = text.as_bytes();
    while start < at && matches!(b.get(start), Some(b'.' | b'\'')) {
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
        let Some(rest) = text.get(pos..) else {
            return found;
        };
        let end = rest
            .char_indices()
            .find(|&(_, c)| !is_label_char(c))
            .map_or(text.len(), |(i, _)| pos + i);
        if end == pos {
            return found;
        }
        labels += 1;
        if labels >= 2 && is_top_level(text.get(pos..end).unwrap_or_default()) {
            found = Some(end);
        }
        let continues = text
            .get(end..)
            .and_then(|r| r.strip_prefix('.'))
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
        || (b.len() > 4 && b.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"xn--")))
}
