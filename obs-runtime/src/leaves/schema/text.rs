//! Byte-string comparisons usable in `const fn`, shared by the rules.

pub(super) const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Compares a user's label name with a rule's name: ASCII case-insensitive,
/// `-` equal to `_`.
pub(super) const fn loosely_eq(user: &[u8], rule: &[u8]) -> bool {
    if user.len() != rule.len() {
        return false;
    }
    let mut i = 0;
    while i < user.len() {
        let mut c = user[i].to_ascii_lowercase();
        if c == b'-' {
            c = b'_';
        }
        if c != rule[i] {
            return false;
        }
        i += 1;
    }
    true
}

pub(super) const fn ends_with(s: &[u8], suffix: &[u8]) -> bool {
    if s.len() < suffix.len() {
        return false;
    }
    let start = s.len() - suffix.len();
    let mut i = 0;
    while i < suffix.len() {
        if s[start + i] != suffix[i] {
            return false;
        }
        i += 1;
    }
    true
}

pub(super) const fn find_reason(
    name: &[u8],
    table: &[(&str, &'static str)],
) -> Option<&'static str> {
    let mut i = 0;
    while i < table.len() {
        if loosely_eq(name, table[i].0.as_bytes()) {
            return Some(table[i].1);
        }
        i += 1;
    }
    None
}
