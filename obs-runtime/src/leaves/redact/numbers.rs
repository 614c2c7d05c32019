//! Numbers: phones, SSNs, cards.

use super::{CARD, Hit, PHONE, SSN};

const MIN_CARD_DIGITS: usize = 13;
const MAX_CARD_DIGITS: usize = 19;
const MIN_E164_DIGITS: usize = 8;
const MAX_E164_DIGITS: usize = 15;

/// Where the other detectors' matches start and end, and where this
/// detector's last match ended. A match becomes a placeholder, `[…]`, so
/// next to one a number stands alone: judged by the bytes it replaces,
/// `415-555-2671-AKIA…` or `+12345678+12345678` would keep a number that a
/// second `redact` (seeing `-[AWS_KEY]`, `[PHONE]+`) replaces.
struct Edges {
    starts: Vec<usize>,
    ends: Vec<usize>,
    own_end: Option<usize>,
}

impl Edges {
    fn of(hits: &[Hit]) -> Self {
        let mut starts: Vec<usize> = hits.iter().map(|h| h.start).collect();
        let mut ends: Vec<usize> = hits.iter().map(|h| h.end).collect();
        starts.sort_unstable();
        ends.sort_unstable();
        Self {
            starts,
            ends,
            own_end: None,
        }
    }

    /// A placeholder will end right before `i`.
    fn ends_at(&self, i: usize) -> bool {
        self.own_end == Some(i) || self.ends.binary_search(&i).is_ok()
    }

    /// A placeholder will start at `i`.
    fn starts_at(&self, i: usize) -> bool {
        self.starts.binary_search(&i).is_ok()
    }
}

/// Runs after the other detectors, so it sees where their matches are.
pub(super) fn numbers(b: &[u8], hits: &mut Vec<Hit>) {
    let mut edges = Edges::of(hits);
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c.is_ascii_digit() {
            let mut run_end = i + 1;
            while b.get(run_end).is_some_and(u8::is_ascii_digit) {
                run_end += 1;
            }
            // A number starts with a card-long run, or with a group before
            // a separator: most digit runs ("200", "15ms") are neither.
            let may_start = run_end - i >= MIN_CARD_DIGITS
                || matches!(b.get(run_end), Some(b'-' | b'.' | b' '));
            if let Some((end, with)) = (may_start && starts_clean(b, i, &edges))
                .then(|| number_at(b, i, &edges))
                .flatten()
            {
                hits.push(Hit::new(i, end, with));
                edges.own_end = Some(end);
                i = end;
            } else {
                // A number never starts inside a digit run.
                i = run_end;
            }
        } else if (c == b'+' || c == b'(')
            && starts_clean(b, i, &edges)
            && let Some((end, with)) = number_at(b, i, &edges)
        {
            hits.push(Hit::new(i, end, with));
            edges.own_end = Some(end);
            i = end;
        } else {
            i += 1;
        }
    }
}

fn number_at(b: &[u8], i: usize, edges: &Edges) -> Option<(usize, &'static str)> {
    match b.get(i) {
        Some(b'+') => e164(b, i, edges).map(|end| (end, PHONE)),
        Some(b'(') => nanp(b, i, edges).map(|end| (end, PHONE)),
        _ => nanp(b, i, edges)
            .map(|end| (end, PHONE))
            .or_else(|| ssn(b, i, edges).map(|end| (end, SSN)))
            .or_else(|| card(b, i, edges).map(|end| (end, CARD))),
    }
}

/// Whether a number may start at `i`: not glued to a word, and not the
/// continuation of a decimal, version, date, time or dashed id.
fn starts_clean(b: &[u8], i: usize, edges: &Edges) -> bool {
    if edges.ends_at(i) {
        return true;
    }
    let Some(&prev) = i.checked_sub(1).and_then(|p| b.get(p)) else {
        return true;
    };
    if prev.is_ascii_alphanumeric() || prev == b'_' {
        return false;
    }
    !(matches!(prev, b'.' | b'-' | b':')
        && i >= 2
        && b.get(i - 2).is_some_and(u8::is_ascii_digit)
        && !edges.ends_at(i - 1))
}

/// Whether a number may end at `end`: the mirror of [`starts_clean`].
fn ends_clean(b: &[u8], end: usize, edges: &Edges) -> bool {
    if edges.starts_at(end) {
        return true;
    }
    let Some(&next) = b.get(end) else {
        return true;
    };
    let after = b.get(end + 1);
    match next {
        c if c == b'_' || c.is_ascii_alphanumeric() => false,
        b'.' | b':' => !after.is_some_and(u8::is_ascii_digit) || edges.starts_at(end + 1),
        b'-' => !after.is_some_and(u8::is_ascii_alphanumeric) || edges.starts_at(end + 1),
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
fn e164(b: &[u8], plus: usize, edges: &Edges) -> Option<usize> {
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
        if count >= MIN_E164_DIGITS && ends_clean(b, j, edges) {
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
fn nanp(b: &[u8], i: usize, edges: &Edges) -> Option<usize> {
    if b.get(i) == Some(&b'1')
        && matches!(b.get(i + 1), Some(b'-' | b'.' | b' '))
        && let Some(end) = nanp_body(b, i + 2, edges)
    {
        return Some(end);
    }
    nanp_body(b, i, edges)
}

fn nanp_body(b: &[u8], i: usize, edges: &Edges) -> Option<usize> {
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
    let valid =
        matches!(b.get(area), Some(b'2'..=b'9')) && matches!(b.get(exchange), Some(b'2'..=b'9'));
    (valid && ends_clean(b, end, edges)).then_some(end)
}

fn ssn(b: &[u8], i: usize, edges: &Edges) -> Option<usize> {
    let area_end = digits_exactly(b, i, 3)?;
    if b.get(area_end) != Some(&b'-') {
        return None;
    }
    let group_end = digits_exactly(b, area_end + 1, 2)?;
    if b.get(group_end) != Some(&b'-') {
        return None;
    }
    let end = digits_exactly(b, group_end + 1, 4)?;
    let group = |from: usize, to: usize| value_of(b.get(from..to).unwrap_or_default());
    let area = group(i, area_end);
    let valid = area != 0
        && area != 666
        && area < 900
        && group(area_end + 1, group_end) != 0
        && group(group_end + 1, end) != 0;
    (valid && ends_clean(b, end, edges)).then_some(end)
}

/// The longest Luhn-valid card number at `i`, cut at a group boundary.
fn card(b: &[u8], i: usize, edges: &Edges) -> Option<usize> {
    if !matches!(b.get(i), Some(b'2'..=b'9')) {
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
            let Some(slot) = digits.get_mut(count) else {
                // Too long for a card: no cut inside this group either.
                return found;
            };
            *slot = d - b'0';
            count += 1;
            j += 1;
        }
        if count >= MIN_CARD_DIGITS
            && ends_clean(b, j, edges)
            && luhn(digits.get(..count).unwrap_or_default())
        {
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
