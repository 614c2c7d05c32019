//! Sensitive names: the schema's list, behind a filter on byte pairs.

/// Whether `name` marks its value as a secret or personal data: the schema's
/// rule (see the [module docs](crate::redact)).
///
/// ```
/// use obs_runtime::redact::is_sensitive_name;
///
/// assert!(is_sensitive_name("X-Api-Key"));
/// assert!(is_sensitive_name("refresh_token"));
/// assert!(!is_sensitive_name("order_id"));
/// ```
#[must_use]
pub const fn is_sensitive_name(name: &str) -> bool {
    // Most names hold no pair of bytes that starts a sensitive word; only
    // the others take the schema's complete (and slower) scan.
    let b = name.as_bytes();
    let mut i = 1;
    while i < b.len() {
        if LEADING_PAIRS[pair_class(b[i - 1])] & (1 << pair_class(b[i])) != 0 {
            return crate::leaves::schema::check_recorded_field(name).is_some();
        }
        i += 1;
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

/// For each byte class, the classes that follow it at the start of a
/// sensitive word: computed from the schema's list, not a copy of it.
const LEADING_PAIRS: [u32; 28] = {
    let words = crate::leaves::schema::SENSITIVE_FIELDS;
    let mut table = [0u32; 28];
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
    table
};
