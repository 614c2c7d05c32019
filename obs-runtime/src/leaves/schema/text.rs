//! Byte-string comparisons usable in `const fn`, shared by the rules.

pub(super) const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    // Slice patterns rather than indexes: `const fn` has no `==` on slices
    // and no `get`, and a pattern can't be out of bounds.
    let (mut a, mut b) = (a, b);
    loop {
        match (a, b) {
            ([x, a_rest @ ..], [y, b_rest @ ..]) if *x == *y => (a, b) = (a_rest, b_rest),
            ([], []) => return true,
            _ => return false,
        }
    }
}

/// Compares a user's label name with a rule's name: ASCII case-insensitive,
/// `-` equal to `_`.
pub(super) const fn loosely_eq(user: &[u8], rule: &[u8]) -> bool {
    let (mut user, mut rule) = (user, rule);
    loop {
        match (user, rule) {
            ([u, user_rest @ ..], [r, rule_rest @ ..]) => {
                let mut c = u.to_ascii_lowercase();
                if c == b'-' {
                    c = b'_';
                }
                if c != *r {
                    return false;
                }
                (user, rule) = (user_rest, rule_rest);
            }
            ([], []) => return true,
            _ => return false,
        }
    }
}

pub(super) const fn ends_with(s: &[u8], suffix: &[u8]) -> bool {
    strip_suffix(s, suffix).is_some()
}

/// `s` without `suffix`, if it ends with it.
pub(super) const fn strip_suffix<'a>(s: &'a [u8], suffix: &[u8]) -> Option<&'a [u8]> {
    let Some(start) = s.len().checked_sub(suffix.len()) else {
        return None;
    };
    let Some((head, tail)) = s.split_at_checked(start) else {
        return None;
    };
    if bytes_eq(tail, suffix) {
        Some(head)
    } else {
        None
    }
}

pub(super) const fn find_reason(
    name: &[u8],
    table: &[(&str, &'static str)],
) -> Option<&'static str> {
    let mut rest = table;
    while let [(rule, reason), tail @ ..] = rest {
        if loosely_eq(name, rule.as_bytes()) {
            return Some(*reason);
        }
        rest = tail;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_at_the_edges() {
        assert!(bytes_eq(b"", b""));
        assert!(!bytes_eq(b"ab", b"a"));
        assert!(!bytes_eq(b"a", b"ab"));
        assert!(loosely_eq(b"User-ID", b"user_id"));
        assert!(!loosely_eq(b"user_i", b"user_id"));
        assert!(!loosely_eq(b"user_idx", b"user_id"));
        assert_eq!(strip_suffix(b"size_bytes", b"_bytes"), Some(&b"size"[..]));
        assert_eq!(strip_suffix(b"bytes", b"bytes"), Some(&b""[..]));
        assert_eq!(strip_suffix(b"ytes", b"bytes"), None);
        assert!(ends_with(b"x", b""));
        assert!(!ends_with(b"x_totals", b"_total"));
    }
}
