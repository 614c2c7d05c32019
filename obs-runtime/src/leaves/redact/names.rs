//! Sensitive names: the schema's rule, behind a filter on byte pairs.

/// Whether `name` marks its value as a secret or personal data: the schema's
/// rule (see the [module docs](crate::redact)).
///
/// ```
/// use obs_runtime::redact::is_sensitive_name;
///
/// assert!(is_sensitive_name("X-Api-Key"));
/// assert!(is_sensitive_name("refresh_token"));
/// assert!(is_sensitive_name("X-Pass"));
/// assert!(!is_sensitive_name("order_id"));
/// assert!(!is_sensitive_name("bypass"));
/// ```
#[must_use]
pub const fn is_sensitive_name(name: &str) -> bool {
    // Most names hold no pair of bytes that starts a sensitive word; only
    // the others take the schema's complete (and slower) scan.
    may_be_sensitive(name) && crate::leaves::schema::is_sensitive_field(name)
}

/// The filter: whether `name` holds a pair of bytes that starts a
/// sensitive word, which every sensitive name does.
pub(super) const fn may_be_sensitive(name: &str) -> bool {
    let mut rest = name.as_bytes();
    let Some((&first, tail)) = rest.split_first() else {
        return false;
    };
    let mut previous = first;
    rest = tail;
    while let Some((&c, tail)) = rest.split_first() {
        if leading_pairs(pair_class(previous)) & (1 << pair_class(c)) != 0 {
            return true;
        }
        previous = c;
        rest = tail;
    }
    false
}

/// The class of a byte in a name, as the schema compares them: ASCII case
/// and `-` against `_` do not matter.
const fn pair_class(c: u8) -> usize {
    match c.to_ascii_lowercase() {
        c @ b'a'..=b'z' => (c - b'a') as usize,
        b'_' | b'-' => 26,
        _ => 27,
    }
}

const CLASSES: usize = 28;

/// The classes that may follow `class` at the start of a sensitive word.
const fn leading_pairs(class: usize) -> u32 {
    match LEADING_PAIRS.split_at_checked(class) {
        Some((_, [row, ..])) => *row,
        _ => 0,
    }
}

/// For each byte class, the classes that follow it at the start of a
/// sensitive word: computed from the schema's lists, not a copy of them.
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time, where an index out of bounds fails the build"
)]
const LEADING_PAIRS: [u32; CLASSES] = {
    let mut table = [0u32; CLASSES];
    let lists = [
        crate::leaves::schema::SENSITIVE_FIELDS,
        crate::leaves::schema::SENSITIVE_NAME_WORDS,
    ];
    let mut l = 0;
    while l < lists.len() {
        let words = lists[l];
        let mut k = 0;
        while k < words.len() {
            let word = words[k].as_bytes();
            assert!(
                word.len() >= 2,
                "the pair filter needs sensitive words of two bytes or more"
            );
            table[pair_class(word[0])] |= 1 << pair_class(word[1]);
            k += 1;
        }
        l += 1;
    }
    table
};
