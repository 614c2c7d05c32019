//! Bounds on text that leaves the process.

use std::borrow::Cow;

/// The longest value, in bytes, a log field (or the message) keeps; longer
/// ones are cut at a character boundary and end in
/// `…[truncated N bytes]`. One request can then never write a line of
/// hundreds of kilobytes (a 300 KB header, a 1 MB path).
pub const MAX_VALUE_LEN: usize = 4 * 1024;

/// `value` cut to at most [`MAX_VALUE_LEN`] bytes, with the count of what
/// was cut.
pub(crate) fn cap(value: &str) -> Cow<'_, str> {
    cap_at(value, MAX_VALUE_LEN)
}

pub(crate) fn cap_at(value: &str, max: usize) -> Cow<'_, str> {
    if value.len() <= max {
        return Cow::Borrowed(value);
    }
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!(
        "{}…[truncated {} bytes]",
        &value[..end],
        value.len() - end
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_on_a_boundary_and_say_by_how_much() {
        assert_eq!(cap_at("short", 8), "short");
        assert_eq!(cap_at("abcdefghij", 4), "abcd…[truncated 6 bytes]");
        // 'é' is two bytes: the cut moves back to the boundary before it.
        assert_eq!(cap_at("abcé", 4), "abc…[truncated 2 bytes]");
        let huge = "x".repeat(1 << 20);
        assert!(cap(&huge).len() < MAX_VALUE_LEN + 40);
    }
}
